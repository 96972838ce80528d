#!/usr/bin/env bash
# tests/hnas/hnas_corr.sh: `freenas hnas-corr` against rank correlations known by hand, on a
# six-row table built from the benchmark's own accuracies:
#   up = C10 test accuracy        -> rho = tau = 1 with acc C10
#   down = -C10 test accuracy     -> rho = tau = -1 with acc C10 and with up
#   hnas_ntk_cond = rank of the accuracy, except the most accurate row, -5 (a negative kappa):
#     scored as +inf it stays last, rho = 1; with --kappa-raw it ranks first,
#     rho = 1 - 6 * 30 / (6 * 35) = 0.143 (rank differences 1,1,1,1,1,-5)
# and a second file with one more column over three of the rows, so pairs use only the rows
# both give (n = 3 in the n matrix, 6 elsewhere).
#   bash tests/hnas/hnas_corr.sh BIN_DIR SHARED_DIR WORK_DIR
set -uo pipefail
BIN=$(cd "$1" && pwd) SHARED=$(cd "$2" && pwd) WORK=$3
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
B=$SHARED/data/nb201/nb201_accuracy.tsv
# the first six architectures above 20 % C10 test accuracy (column 4; no ties among them),
# sorted by it, then numbered 1..6
awk -F'\t' 'NR > 1 && $4 > 20 {print $1 "\t" $4}' "$B" | head -6 | sort -t$'\t' -k2,2g \
  | awk -F'\t' '{r = NR == 6 ? -5 : NR; print $1 "\t" $2 "\t" (-$2) "\t" r}' > rows.tsv
[ "$(wc -l < rows.tsv)" -eq 6 ] || fail "could not read six accuracies from $B"
{ echo "# test table"; printf 'index\tup\tdown\thnas_ntk_cond\n'; cat rows.tsv; } > a.tsv
{ echo "# test slice"; printf 'index\textra\n'; head -3 rows.tsv | cut -f1,2; } > b.tsv
"$BIN/freenas" hnas-corr --table a.tsv,b.tsv --benchmark "$B" --csv c.csv > out.md 2> err.log \
  || fail "hnas-corr: $(cat err.log)"
pair() { awk -F, -v a="$1" -v b="$2" '$1 == a && $2 == b {print $3, $4, $5}' c.csv; }
[ "$(pair up 'acc C10')" = "6 1.000000 1.000000" ] || fail "up vs C10: $(pair up 'acc C10')"
[ "$(pair up down)" = "6 -1.000000 -1.000000" ] || fail "up vs down: $(pair up down)"
[ "$(pair hnas_ntk_cond 'acc C10')" = "6 1.000000 1.000000" ] \
  || fail "kappa < 0 as +inf: $(pair hnas_ntk_cond 'acc C10')"
[ "$(pair up extra)" = "3 1.000000 1.000000" ] || fail "a slice column: $(pair up extra)"
grep -q "^| up | 1.000 | -1.000 |" out.md || fail "Markdown matrix: $(head -12 out.md)"
"$BIN/freenas" hnas-corr --table a.tsv --benchmark "$B" --csv raw.csv --kappa-raw > /dev/null \
  || fail "--kappa-raw"
r=$(awk -F, '$1 == "hnas_ntk_cond" && $2 == "acc C10" {print $4}' raw.csv)
[ "$r" = "0.142857" ] || fail "--kappa-raw: rho $r, expected 0.142857"
"$BIN/freenas" hnas-corr --table missing.tsv > /dev/null 2> bad.log && fail "a missing table was accepted"
grep -q "missing.tsv" bad.log || fail "the error does not name the file: $(cat bad.log)"
echo "PASS: hnas-corr: rho and tau-b of +1, -1, kappa < 0 both ways, slice columns, a missing file"
