#!/usr/bin/env bash
# tests/hnas/hnas_landscape.sh: `freenas hnas --landscape` against argmins worked out by hand on a
# three-row table (s = 5e3; score = 10^c |M^2 - (s nu)^2| + kappa / (M + 1e-6)), 2 x 2 grid
# nu in {0, 1}, c in {-4, 0}:
#   index 0: M = 100,  kappa = 10     (nu 0, c -4: 1 + 0.1 = 1.1; c 0: 1e4)
#   index 1: M = 5000, kappa = 10     (nu 1: 0.002 at both c)
#   index 2: M = 2500, kappa = -1e9   (default: +inf, never; --kappa-raw: 625 - 4e5 at nu 0,
#                                      c -4, 1875 - 4e5 at nu 1, c -4; 5.85e6 and 1.835e7 at c 0)
# expected (nu, c) -> index: default (0,-4) 0, (0,0) 0, (1,-4) 1, (1,0) 1;
#                            raw     (0,-4) 2, (0,0) 0, (1,-4) 2, (1,0) 1.
# and the summary line's best (index 1 or 2 by accuracy), a bad grid refused.
#   bash tests/hnas/hnas_landscape.sh BIN_DIR SHARED_DIR WORK_DIR
set -uo pipefail
BIN=$(cd "$1" && pwd) SHARED=$(cd "$2" && pwd) WORK=$3
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
printf '# test table\nindex\thnas_ntk_trace\thnas_ntk_cond\n0\t100\t10\n1\t5000\t10\n2\t2500\t-1e9\n' > t.tsv
run() { "$BIN/freenas" hnas --landscape 2:2 --table t.tsv --data "$SHARED/data" "$@" 2> err.log; }
picks() { awk '!/^#/ && $1 != "nu" {printf "%s,%s:%s ", $1 + 0, $2 + 0, $3}' "$1"; }
run > def.txt 2>&1 || fail "landscape: $(cat err.log def.txt)"
[ "$(picks def.txt)" = "0,-4:0 0,0:0 1,-4:1 1,0:1 " ] || fail "default: $(picks def.txt)"
run --kappa-raw > raw.txt || fail "--kappa-raw: $(cat err.log)"
[ "$(picks raw.txt)" = "0,-4:2 0,0:0 1,-4:2 1,0:1 " ] || fail "--kappa-raw: $(picks raw.txt)"
# the summary names the most accurate pick of the grid, read back from the benchmark table
B=$SHARED/data/nb201/nb201_accuracy.tsv
a0=$(awk -F'\t' '$1 == 0 {print $4}' "$B") a1=$(awk -F'\t' '$1 == 1 {print $4}' "$B")
want=$(awk -v x="$a0" -v y="$a1" 'BEGIN {printf "%.2f", (x > y ? x : y)}')
grep -q "^# C10-test of the argmin: best $want " def.txt || fail "summary: $(tail -1 def.txt), want best $want"
run --json > j.txt || fail "--json"
[ "$(grep -c '"arch":' j.txt)" -eq 4 ] || fail "--json lines: $(cat j.txt)"
"$BIN/freenas" hnas --landscape 1:5 --table t.tsv --data "$SHARED/data" > /dev/null 2> bad.log \
  && fail "a 1 x 5 grid was accepted"
grep -q "landscape" bad.log || fail "the error does not say what: $(cat bad.log)"
echo "PASS: hnas --landscape: hand-worked argmins with kappa < 0 as +inf and raw, summary, JSON, a bad grid"
