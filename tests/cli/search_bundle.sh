#!/usr/bin/env bash
# tests/cli/search_bundle.sh: `freenas search --seeds` runs its seeds in bundles side by side
# (search/bundle.h) and prints the same searches as one at a time: the JSON lines less
# time_s, in seed order, for SynFlow (5 seeds: bundles of 2, 2, 1 on 2 threads) and SNIP
# with one seed's data missing on the same machine (a failed search prints its failure, the
# others their results).
#   bash tests/cli/search_bundle.sh FREENAS_BIN SHARED_DIR
set -uo pipefail
BIN=$1 SHARED=$2
fail() { echo "FAIL: $*"; exit 1; }
export OMP_NUM_THREADS=2
strip() { jq -c 'del(.time_s)'; }
for m in synflow snip; do
  "$BIN" search --metric $m --seeds 3:7 --batch 8 --data "$SHARED/data" --json --bundle 2 | strip > b.$m || fail "$m bundled"
  "$BIN" search --metric $m --seeds 3:7 --batch 8 --data "$SHARED/data" --json --bundle 1 | strip > s.$m || fail "$m single"
  [ "$(wc -l < b.$m)" -eq 5 ] || fail "$m: $(wc -l < b.$m) lines, expected 5"
  [ "$(jq -r .seed b.$m | tr '\n' ' ')" = "3 4 5 6 7 " ] || fail "$m: seeds out of order"
  [ "$(jq -r .status b.$m | sort -u)" = ok ] || fail "$m: a search failed"
  cmp b.$m s.$m || fail "$m: bundled and one-at-a-time searches differ"
done
"$BIN" search --metric snip --seeds 0:2 --data /nonexistent --bundle 2 > /dev/null 2> err.log
[ $? -eq 1 ] || fail "missing data: exit code"
[ "$(grep -c 'failed (data_error)' err.log)" -eq 3 ] || fail "missing data: $(cat err.log)"
echo "PASS: 5 SynFlow and 5 SNIP searches identical in bundles of 2 and one at a time"
