#!/usr/bin/env bash
# tests/sweep/ranks.sh: the same sweep on 1 rank (no mpirun: a singleton) and on 3 ranks under
# a real mpirun gives identical records (less timings, rank, host) and bit-identical ensembles;
# FREENAS_REDUCE=mpi gives them on one rank through MPI, an unknown value is refused.
#   bash tests/sweep/ranks.sh BIN_DIR SHARED_DIR WORK_DIR
source "$(dirname "$0")/common.sh"
cat > "$WORK/sweep.yaml" <<YAML
name: ranks
output: $WORK/one
data: $SHARED/data
benchmark: $SHARED/data/nb201/nb201_accuracy.tsv
grid:
  space: [nb201, {name: nb1shot1, ss: 2}]
  metric: [synflow, snip]
  batch: 16
  seed: "0:5"
exclude:
  - {space: nb1shot1, metric: snip}
ensembles:
  - {name: seeds, over: [seed], norm: zscore}
  - {name: metrics, over: [seed, metric], norm: rank}
YAML
"$SWEEP" "$WORK/sweep.yaml" --quiet > "$WORK/one.log"
mpirun -n 3 "$SWEEP" "$WORK/sweep.yaml" --output "$WORK/three" --quiet > "$WORK/three.log"
cat "$WORK/three.log"
n1=$(wc -l < "$WORK/one/results.jsonl"); n3=$(wc -l < "$WORK/three/results.jsonl")
[ "$n1" -eq 18 ] && [ "$n3" -eq 18 ] || fail "expected 18 records, got $n1 and $n3"
[ "$(jq -r .status "$WORK/one/results.jsonl" | sort -u)" = "ok" ] || fail "a job failed"
ranks=$(jq -r .run.rank "$WORK/three/results.jsonl" | sort -u | tr '\n' ' ')
[ "$ranks" = "0 1 2 " ] || fail "3-rank run did not use every rank (ranks: $ranks)"
diff <(stable_records "$WORK/one/results.jsonl") <(stable_records "$WORK/three/results.jsonl") \
  || fail "records differ between 1 and 3 ranks"
cmp "$WORK/one/ensembles.jsonl" "$WORK/three/ensembles.jsonl" || fail "ensembles differ"
[ "$(wc -l < "$WORK/one/ensembles.jsonl")" -eq 5 ] || fail "expected 5 ensemble groups"
grep -q "ensemble scores reduced over 3 ranks (mpi)" "$WORK/three.log" || fail "no MPI reduction"
# FREENAS_REDUCE=mpi takes the MPI path on one rank too, to the same ensembles; an unknown
# value is refused before any job runs
FREENAS_REDUCE=mpi "$SWEEP" "$WORK/sweep.yaml" --output "$WORK/one_mpi" --quiet > "$WORK/one_mpi.log"
grep -q "ensemble scores reduced over 1 rank (mpi)" "$WORK/one_mpi.log" \
  || { cat "$WORK/one_mpi.log"; fail "FREENAS_REDUCE=mpi: no MPI reduction on one rank"; }
cmp "$WORK/one/ensembles.jsonl" "$WORK/one_mpi/ensembles.jsonl" || fail "FREENAS_REDUCE=mpi: ensembles differ"
rc=0
FREENAS_REDUCE=bogus "$SWEEP" "$WORK/sweep.yaml" --output "$WORK/bogus" > "$WORK/bogus.log" 2>&1 || rc=$?
[ "$rc" = 2 ] && grep -q "FREENAS_REDUCE=bogus: unknown reduction (hint: auto, nccl or mpi)" "$WORK/bogus.log" \
  && [ ! -e "$WORK/bogus/results.jsonl" ] || { cat "$WORK/bogus.log"; fail "FREENAS_REDUCE=bogus: exit $rc"; }
jq -e '.ranks == 3 and (.hosts | length) >= 1 and (.libraries.mpi | length) > 0' \
  "$WORK/three/manifest.json" > /dev/null || fail "manifest incomplete"
# bundles (search/bundle.h): the same jobs in bundles side by side on 2 threads (a cap of 3,
# held to the 2 threads), and with bundles off on 2 threads, give the same records and ensembles
"$SWEEP" "$WORK/sweep.yaml" --output "$WORK/bundled" --threads 2 --bundle 3 > "$WORK/bundled.log"
"$SWEEP" "$WORK/sweep.yaml" --output "$WORK/unbundled" --threads 2 --bundle 1 --quiet > /dev/null
grep -q "^\[sweep\] 18 jobs in 9 bundles of up to 2" "$WORK/bundled.log" \
  || { cat "$WORK/bundled.log"; fail "bundle plan (3 shapes x 6 seeds in pairs)"; }
grep -q "^# this run: 18 jobs in" "$WORK/bundled.log" \
  || { tail -3 "$WORK/bundled.log"; fail "the summary counts bundles, not jobs"; }
sizes=$(jq -r '.run.bundle.size // 1' "$WORK/bundled/results.jsonl" | sort | uniq -c | tr -s ' ' | tr '\n' ';')
[ "$(jq -r '.run.bundle.size // 1' "$WORK/bundled/results.jsonl" | grep -c '^2$')" -eq 18 ] \
  || fail "expected 18 jobs in bundles of 2, got: $sizes"
[ "$(jq -r '.run.bundle // empty' "$WORK/unbundled/results.jsonl" | wc -l)" -eq 0 ] \
  || fail "--bundle 1 still bundled jobs"
for d in bundled unbundled; do
  diff <(stable_records "$WORK/one/results.jsonl") <(stable_records "$WORK/$d/results.jsonl") \
    || fail "records differ between 1 rank and the $d run"
  cmp "$WORK/one/ensembles.jsonl" "$WORK/$d/ensembles.jsonl" || fail "ensembles differ ($d)"
done
echo "PASS: 18 records and 5 ensemble groups identical on 1 and 3 ranks, in bundles of 2 and with bundles off"
