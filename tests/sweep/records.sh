#!/usr/bin/env bash
# tests/sweep/records.sh: an edited results.jsonl is never trusted beyond what freenas_sweep
# could have written. Each case edits one ok record of a finished 4-job NB201 sweep, reruns
# it, and checks that the record is reported as FILE:LINE: message, that its job runs again,
# and that the ensembles and the summary equal those of the untouched sweep:
#   scores of rows x cols that overflow int (65536 x 65536: a heap overflow before), shapes
#   256 x 1 and 1 x 256 (each a 256-entry buffer, averaged into a wrong layout), an ok record
#   without scores, string scores, accuracies 1e308 and -5, and scores near 1e300 whose
#   z-score overflowed to NaN (valid: the ensemble is the same); the same through --merge;
#   and a results.jsonl that is a FIFO (exit 3, at once).
#   bash tests/sweep/records.sh BIN_DIR SHARED_DIR WORK_DIR
source "$(dirname "$0")/common.sh"
synflow_config clean 0:3 "name: rec"   # 4 seeds, output WORK/clean
"$SWEEP" "$WORK/clean.yaml" --threads 1 > "$WORK/clean.log" 2>&1 || { cat "$WORK/clean.log"; fail "clean sweep"; }
# the summary's job counts and accuracies (not its times: the rerun job took its own)
summary() {
  grep -q "^(all jobs)" "$1" || fail "$1: no summary row"
  grep "^(all jobs)" "$1" | awk '{NF -= 3; print}'
  grep "^# [0-9]* jobs:" "$1"
}

# case NAME JQ_FILTER MESSAGE: applies the filter to record 2 (line 2), reruns, checks
case_edit() {
  local name=$1 filter=$2 msg=$3 dir="$WORK/$1"
  cp -r "$WORK/clean" "$dir"
  rm -f "$dir/ensembles.jsonl"
  { sed -n 1p "$WORK/clean/results.jsonl"
    sed -n 2p "$WORK/clean/results.jsonl" | jq -c "$filter"
    sed -n '3,$p' "$WORK/clean/results.jsonl"; } > "$dir/results.jsonl"
  sed "s#output: .*#output: $dir#" "$WORK/clean.yaml" > "$WORK/$name.yaml"
  set +e
  timeout 60 "$SWEEP" "$WORK/$name.yaml" --threads 1 > "$WORK/$name.log" 2> "$WORK/$name.err"
  local rc=$?
  set -e
  cat "$WORK/$name.err"
  [ $rc -eq 0 ] || fail "$name: exit $rc (expected 0: the job is recomputed)"
  grep -qF "$dir/results.jsonl:2: invalid ok record of job" "$WORK/$name.err" \
    || fail "$name: no FILE:LINE report"
  grep -qF "$msg" "$WORK/$name.err" || fail "$name: message lacks '$msg'"
  grep -q "# resume: 3 done, 1 failed earlier (retried now), 1 to run" "$WORK/$name.log" \
    || fail "$name: the invalid record's job was not run again"
  cmp "$WORK/clean/ensembles.jsonl" "$dir/ensembles.jsonl" || fail "$name: ensembles differ"
  diff <(summary "$WORK/clean.log") <(summary "$WORK/$name.log") || fail "$name: summary differs"
  echo "ok: $name"
}
case_edit overflow_shape ".scores = {rows: 65536, cols: 65536, values: ([range(65536)] | map([1.0]))}" \
  "scores are 65536 x 65536, the nb201 layout is 6 x 5"
case_edit column_256 ".scores = {rows: 256, cols: 1, values: ([range(256)] | map([1.0]))}" \
  "scores are 256 x 1, the nb201 layout is 6 x 5"
case_edit row_256 ".scores = {rows: 1, cols: 256, values: [[range(256)] | map(1.5)]}" \
  "scores are 1 x 256, the nb201 layout is 6 x 5"
case_edit no_scores 'del(.scores)' 'an ok nb201 record without a "scores" matrix'
case_edit string_scores '.scores.values[0][1] = "0.5"' \
  'scores.values[0][1] is the string "0.5", not a finite number'
case_edit short_row '.scores.values[3] = [1, 2]' 'scores.values row 3 is not a list of 5 numbers'
case_edit acc_huge '.accuracy.cifar10_test = 1e308' 'accuracy.cifar10_test is 1e308, not a number in [0, 100]'
case_edit acc_negative '.accuracy.cifar100_test = -5' 'accuracy.cifar100_test is -5, not a number in [0, 100]'
case_edit time_negative '.run.time_s.search = -1' 'run.time_s is -1, not a number of seconds >= 0'

echo "== shapes 256 x 1 and 1 x 256 in two records of one group"
dir="$WORK/two_shapes"
cp -r "$WORK/clean" "$dir"
{ sed -n 1p "$WORK/clean/results.jsonl" | jq -c ".scores = {rows: 256, cols: 1, values: ([range(256)] | map([1.0]))}"
  sed -n 2p "$WORK/clean/results.jsonl" | jq -c ".scores = {rows: 1, cols: 256, values: [[range(256)] | map(2.5)]}"
  sed -n '3,$p' "$WORK/clean/results.jsonl"; } > "$dir/results.jsonl"
sed "s#output: .*#output: $dir#" "$WORK/clean.yaml" > "$WORK/two_shapes.yaml"
"$SWEEP" "$WORK/two_shapes.yaml" --threads 1 > "$WORK/two_shapes.log" 2> "$WORK/two_shapes.err" \
  || { cat "$WORK/two_shapes.err"; fail "two_shapes: exit $?"; }
[ "$(grep -c "invalid ok record" "$WORK/two_shapes.err")" -eq 2 ] || fail "two_shapes: not both reported"
grep -q "# resume: 2 done, 2 failed earlier (retried now), 2 to run" "$WORK/two_shapes.log" \
  || fail "two_shapes: resume state"
cmp "$WORK/clean/ensembles.jsonl" "$dir/ensembles.jsonl" || fail "two_shapes: ensembles differ"

echo "== scores near 1e300: valid, and the z-scores do not overflow to NaN"
dir="$WORK/huge_scores"
cp -r "$WORK/clean" "$dir"
{ sed -n 1p "$WORK/clean/results.jsonl"
  sed -n 2p "$WORK/clean/results.jsonl" | jq -c '.scores.values |= map(map(. * 1e300))'
  sed -n '3,$p' "$WORK/clean/results.jsonl"; } > "$dir/results.jsonl"
rm "$dir/ensembles.jsonl"
sed "s#output: .*#output: $dir#" "$WORK/clean.yaml" > "$WORK/huge_scores.yaml"
"$SWEEP" "$WORK/huge_scores.yaml" --threads 1 > "$WORK/huge_scores.log" 2>&1 \
  || { cat "$WORK/huge_scores.log"; fail "huge_scores: exit"; }
grep -q "# resume: 4 done, 0 failed earlier (retried now), 0 to run" "$WORK/huge_scores.log" \
  || fail "huge_scores: resume state"
[ "$(jq -r .arch "$dir/ensembles.jsonl")" = "$(jq -r .arch "$WORK/clean/ensembles.jsonl")" ] \
  || fail "huge_scores: the ensemble's architecture changed"
jq -e '[.mean_normalised_scores.values[][] | select(. != . or . == null)] | length == 0' \
  "$dir/ensembles.jsonl" > /dev/null || fail "huge_scores: NaN in the ensemble"

echo "== --merge: an invalid shard record is reported and not merged"
synflow_config m 0:3 "name: rec"
"$SWEEP" "$WORK/m.yaml" --shard 0/1 --threads 1 --quiet > /dev/null
sh="$WORK/m/shard-0-of-1/results.jsonl"
{ sed -n 1p "$sh" | jq -c ".scores = {rows: 65536, cols: 65536, values: ([range(65536)] | map([1.0]))}"
  sed -n '2,$p' "$sh"; } > "$sh.new" && mv "$sh.new" "$sh"
"$SWEEP" "$WORK/m.yaml" --merge --threads 1 > "$WORK/merge.log" 2> "$WORK/merge.err" \
  || { cat "$WORK/merge.err"; fail "merge: exit"; }
grep -qF "$sh:1: invalid ok record of job" "$WORK/merge.err" || fail "merge: no FILE:LINE report"
grep -q "# merge: shard-0-of-1: 3 ok records merged, 0 already here, 0 failed, 1 not in this plan or unreadable" \
  "$WORK/merge.log" || fail "merge: counts"
grep -q "# resume: 3 done, 0 failed earlier (retried now), 1 to run" "$WORK/merge.log" || fail "merge: resume"
cmp "$WORK/clean/ensembles.jsonl" "$WORK/m/ensembles.jsonl" || fail "merge: ensembles differ"

echo "== results.jsonl is a FIFO"
mkdir -p "$WORK/fifo"
mkfifo "$WORK/fifo/results.jsonl"
sed "s#output: .*#output: $WORK/fifo#" "$WORK/clean.yaml" > "$WORK/fifo.yaml"
set +e; timeout 20 "$SWEEP" "$WORK/fifo.yaml" > "$WORK/fifo.log" 2> "$WORK/fifo.err"; rc=$?; set -e
[ $rc -eq 3 ] || fail "fifo: exit $rc, expected 3"
grep -qF "$WORK/fifo/results.jsonl: not a regular file (a FIFO)" "$WORK/fifo.err" || fail "fifo: message"
echo "PASS"
