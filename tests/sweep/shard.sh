#!/usr/bin/env bash
# tests/sweep/shard.sh: `--shard I/N` splits a plan deterministically and `--merge` joins the
# shards: shards 0 and 1 of 3 run (shard 1 under a real mpirun), shard 2 never runs, and the
# merge step runs shard 2's jobs itself. The merged records equal those of the unsharded sweep
# (less timings, rank, host), the ensembles are byte-identical, and a second merge adds nothing.
#   bash tests/sweep/shard.sh BIN_DIR SHARED_DIR WORK_DIR
source "$(dirname "$0")/common.sh"
cat > "$WORK/sweep.yaml" <<YAML
name: shard
output: $WORK/sharded
data: $SHARED/data
benchmark: $SHARED/data/nb201/nb201_accuracy.tsv
grid:
  space: nb201
  metric: [synflow, snip]
  batch: 8
  seed: "0:4"
ensembles:
  - {name: seeds, over: [seed], norm: zscore}
YAML
"$SWEEP" "$WORK/sweep.yaml" --output "$WORK/whole" --quiet > "$WORK/whole.log"
"$SWEEP" "$WORK/sweep.yaml" --shard 0/3 --quiet > "$WORK/s0.log"
mpirun -n 2 "$SWEEP" "$WORK/sweep.yaml" --shard 1/3 --quiet > "$WORK/s1.log"
cat "$WORK/s1.log"
# plan index % 3: shard 0 has indices 0,3,6,9 and shard 1 has 1,4,7
[ "$(jq -r .index "$WORK/sharded/shard-0-of-3/results.jsonl" | sort -n | tr '\n' ' ')" = "0 3 6 9 " ] \
  || fail "shard 0 ran the wrong jobs"
[ "$(jq -r .index "$WORK/sharded/shard-1-of-3/results.jsonl" | sort -n | tr '\n' ' ')" = "1 4 7 " ] \
  || fail "shard 1 ran the wrong jobs"
grep -q "# 3 jobs: 3 ok, 0 failed, 0 not run  -> OK" "$WORK/s1.log" || fail "shard 1 summary"
[ ! -e "$WORK/sharded/shard-0-of-3/ensembles.jsonl" ] || fail "a shard wrote partial ensembles"
"$SWEEP" "$WORK/sweep.yaml" --merge --quiet > "$WORK/merge.log"
cat "$WORK/merge.log"
grep -q "# merge: shard-0-of-3: 4 ok records merged" "$WORK/merge.log" || fail "merge of shard 0"
grep -q "# merge: shard-1-of-3: 3 ok records merged" "$WORK/merge.log" || fail "merge of shard 1"
grep -q "# resume: 7 done, 0 failed earlier (retried now), 3 to run" "$WORK/merge.log" \
  || fail "the merge step did not run the missing shard's jobs"
diff <(stable_records "$WORK/whole/results.jsonl") <(stable_records "$WORK/sharded/results.jsonl") \
  || fail "merged records differ from the unsharded sweep"
cmp "$WORK/whole/ensembles.jsonl" "$WORK/sharded/ensembles.jsonl" || fail "ensembles differ"
"$SWEEP" "$WORK/sweep.yaml" --merge --quiet > "$WORK/merge2.log"
grep -q "# merge: shard-0-of-3: 0 ok records merged, 4 already here" "$WORK/merge2.log" \
  || fail "second merge not idempotent"
[ "$(wc -l < "$WORK/sharded/results.jsonl")" -eq 10 ] || fail "second merge added records"
# bad --shard values are usage errors (exit 2) with a hint
for bad in 3/3 -1/2 1/0 x 1/2/3; do
  set +e; "$SWEEP" "$WORK/sweep.yaml" --shard "$bad" > /dev/null 2> "$WORK/bad.err"; rc=$?; set -e
  [ $rc -eq 2 ] && grep -q -- "--shard expects I/N" "$WORK/bad.err" || fail "--shard $bad: rc $rc"
done
set +e; "$SWEEP" "$WORK/sweep.yaml" --shard 0/2 --merge > /dev/null 2>&1; rc=$?; set -e
[ $rc -eq 2 ] || fail "--shard with --merge accepted"
echo "PASS: 3 shards (one never run) merge into the unsharded sweep's 10 records and ensembles"
