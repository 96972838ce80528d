#!/usr/bin/env bash
# tests/sweep/fault.sh: failures lose nothing.
#  1. kill -9 of mpirun part way, then the same command again: exactly one ok record per job
#  2. a torn last line in results.jsonl is cut off on the next start
#  3. a job whose data file is truncated fails alone, with the file named in its record
#  4. SIGTERM: running jobs finish, exit code 75, a rerun completes the sweep; the same
#     request delivered twice (directly and through mpirun) still finishes them, a later second
#     signal abandons them
#  5. a grown grid resumes what it had and reports the changed config
#   bash tests/sweep/fault.sh BIN_DIR SHARED_DIR WORK_DIR
source "$(dirname "$0")/common.sh"

echo "== 1. kill -9 of mpirun part way"
synflow_config kill 0:79
mpirun -n 2 "$SWEEP" "$WORK/kill.yaml" > "$WORK/kill1.log" 2>&1 &
pid=$!
wait_records "$WORK/kill" 5
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
before=$(wc -l < "$WORK/kill/results.jsonl")
echo "killed after $before of 80 records"
[ "$before" -lt 80 ] || fail "the sweep finished before the kill; nothing was tested"
mpirun -n 2 "$SWEEP" "$WORK/kill.yaml" --lock-wait 60 > "$WORK/kill2.log" 2>&1 \
  || { cat "$WORK/kill2.log"; fail "rerun after kill -9 failed"; }
grep "# resume:" "$WORK/kill2.log"
one_ok_each "$WORK/kill" 80
grep -q "80 jobs: 80 ok, 0 failed" "$WORK/kill2.log" || fail "rerun summary"

echo "== 2. torn last line"
printf '{"job_id":"0123456789abcdef","status":"o' >> "$WORK/kill/results.jsonl"
"$SWEEP" "$WORK/kill.yaml" > "$WORK/torn.log" 2>&1 || { cat "$WORK/torn.log"; fail "rerun with a torn line"; }
grep -q "cut off a torn last record" "$WORK/torn.log" || fail "torn line not reported"
grep -q "# resume: 80 done, 0 failed earlier (retried now), 0 to run" "$WORK/torn.log" || fail "torn: resume state"
one_ok_each "$WORK/kill" 80
[ "$(tail -c 1 "$WORK/kill/results.jsonl" | od -An -c | tr -d ' ')" = '\n' ] || fail "file does not end in a newline"

echo "== 3. a truncated data file fails its jobs alone"
mkdir -p "$WORK/data/cifar100"
ln -s "$SHARED/data/cifar10" "$WORK/data/cifar10"
head -c 100000 "$SHARED/data/cifar100/train_head.bin" > "$WORK/data/cifar100/train_head.bin"
cat > "$WORK/trunc.yaml" <<YAML
output: $WORK/trunc
data: $WORK/data
grid:
  dataset: [cifar10, cifar100]
  metric: snip
  batch: 8
  seed: "0:1"
YAML
set +e
"$SWEEP" "$WORK/trunc.yaml" > "$WORK/trunc.log" 2> "$WORK/trunc.err"
rc=$?
set -e
cat "$WORK/trunc.err"
[ "$rc" -eq 1 ] || fail "exit code $rc with failed jobs, expected 1"
[ "$(jq -r 'select(.params.dataset == "cifar10") | .status' "$WORK/trunc/results.jsonl" | sort -u)" = ok ] \
  || fail "cifar10 jobs did not succeed"
[ "$(jq -r 'select(.params.dataset == "cifar100") | .status' "$WORK/trunc/results.jsonl" | sort -u)" = data_error ] \
  || fail "cifar100 jobs did not fail with data_error"
jq -r 'select(.status != "ok") | .error' "$WORK/trunc/results.jsonl" | grep -q "train_head.bin" \
  || fail "the error does not name the file"
grep -q "failed: .*train_head.bin" "$WORK/trunc.err" || fail "failure not reported on stderr"
# the rerun retries exactly the failed jobs, with attempt 2
set +e; "$SWEEP" "$WORK/trunc.yaml" > "$WORK/trunc2.log" 2>&1; set -e
grep -q "# resume: 2 done, 2 failed earlier (retried now), 2 to run" "$WORK/trunc2.log" || fail "retry plan"
[ "$(jq -r 'select(.attempt == 2) | .params.dataset' "$WORK/trunc/results.jsonl" | sort -u)" = cifar100 ] \
  || fail "attempt 2 records"

echo "== 3b. an out-of-memory job and a NaN job fail alone, the sweep goes on"
cat > "$WORK/oom.yaml" <<YAML
output: $WORK/oom
grid:
  space: [nb201, {name: darts, channels: 1024, cells: 64}]
  dataset: [cifar10, imagenet224]
  alpha_scale: [1.0e-3, 1.0e+300]
exclude:
  - {space: nb201, dataset: imagenet224}
  - {space: darts, dataset: cifar10}
  - {space: darts, alpha_scale: 1.0e+300}
YAML
set +e; "$SWEEP" "$WORK/oom.yaml" > "$WORK/oom.log" 2>&1; rc=$?; set -e
[ "$rc" -eq 1 ] || { cat "$WORK/oom.log"; fail "exit code $rc, expected 1"; }
st=$(jq -r '[.params.space, .params.alpha_scale, .status] | join(" ")' "$WORK/oom/results.jsonl" | sort | tr '\n' ';')
[ "$st" = "darts 0.001 out_of_memory;nb201 0.001 ok;nb201 1e+300 nan_score;" ] || fail "statuses: $st"
jq -r 'select(.status == "out_of_memory") | .error' "$WORK/oom/results.jsonl" | grep -q "GiB" \
  || fail "the out-of-memory message does not say how much"

echo "== 4. SIGTERM finishes the running job, exits 75, rerun completes"
synflow_config term 0:59
"$SWEEP" "$WORK/term.yaml" > "$WORK/term1.log" 2>&1 &
pid=$!
wait_records "$WORK/term" 1
kill -TERM "$pid"
set +e; wait "$pid"; rc=$?; set -e
[ "$rc" -eq 75 ] || { cat "$WORK/term1.log"; fail "exit code $rc after SIGTERM, expected 75"; }
grep -q "signal 15: no new jobs" "$WORK/term1.log" || fail "no signal message"
n=$(wc -l < "$WORK/term/results.jsonl")
[ "$n" -lt 60 ] || fail "SIGTERM came too late"
jq -e . "$WORK/term/results.jsonl" > /dev/null || fail "records not valid JSON after SIGTERM"
"$SWEEP" "$WORK/term.yaml" > "$WORK/term2.log" 2>&1 || fail "rerun after SIGTERM"
one_ok_each "$WORK/term" 60
echo "SIGTERM after $n of 60 jobs; rerun completed"

echo "== 4b. SIGUSR1 to mpirun (SLURM's preemption signal) reaches every rank: exit 75, resume"
noop_config usr1 50 '"0:199"'
mpirun -n 3 "$SWEEP" "$WORK/usr1.yaml" --quiet > "$WORK/usr1.log" 2>&1 &
pid=$!
wait_records "$WORK/usr1" 10
kill -USR1 "$pid"
set +e; wait "$pid"; rc=$?; set -e
[ "$rc" -eq 75 ] || { cat "$WORK/usr1.log"; fail "mpirun exit code $rc after SIGUSR1, expected 75"; }
grep -q "signal 10: no new jobs" "$WORK/usr1.log" || fail "rank 0 did not see SIGUSR1"
n=$(wc -l < "$WORK/usr1/results.jsonl")
mpirun -n 3 "$SWEEP" "$WORK/usr1.yaml" --quiet > "$WORK/usr1b.log" 2>&1 || fail "rerun after SIGUSR1"
one_ok_each "$WORK/usr1" 200
echo "SIGUSR1 after $n of 200 jobs; rerun completed"

echo "== 4c. one stop request delivered twice (pkill -USR1 -f: each rank, and again through mpirun) still finishes the running jobs"
noop_config dbl 3000 '"0:19"'
mpirun -n 2 "$SWEEP" "$WORK/dbl.yaml" --quiet > "$WORK/dbl.log" 2>&1 &
pid=$!
wait_records "$WORK/dbl" 1
before=$(wc -l < "$WORK/dbl/results.jsonl")
pkill -USR1 -f "$SWEEP $WORK/dbl.yaml" # mpirun forwards it: each rank gets two
set +e; wait "$pid"; rc=$?; set -e
after=$(wc -l < "$WORK/dbl/results.jsonl")
[ "$rc" -eq 75 ] || { cat "$WORK/dbl.log"; fail "exit code $rc after a repeated SIGUSR1, expected 75"; }
[ "$after" -gt "$before" ] || fail "the repeated SIGUSR1 abandoned the running jobs ($before records before, $after after)"
echo "repeated SIGUSR1: $before records before, $after after (running jobs finished)"
echo "== 4d. a second stop request after the first abandons the running job at once"
noop_config dbl2 10000 0
"$SWEEP" "$WORK/dbl2.yaml" --quiet > "$WORK/dbl2.log" 2>&1 &
pid=$!
wait_file "$WORK/dbl2/manifest.json"; sleep 1 # handlers installed, the one job (10 s) running
t0=$(date +%s.%N)
kill -TERM "$pid"; sleep 1.5; kill -TERM "$pid" 2>/dev/null || true
set +e; wait "$pid"; rc=$?; set -e
dt=$(echo "$(date +%s.%N) - $t0" | bc)
[ "$rc" -eq 75 ] || { cat "$WORK/dbl2.log"; fail "exit code $rc after two SIGTERMs, expected 75"; }
[ ! -s "$WORK/dbl2/results.jsonl" ] || fail "the second SIGTERM let the job finish"
[ "$(echo "$dt < 6" | bc)" -eq 1 ] || fail "exit took $dt s after the first SIGTERM: the second one did not abandon the job"
echo "second SIGTERM 1.5 s after the first: exited after $dt s, the running job abandoned"

echo "== 5. a grown grid resumes and reports the change"
synflow_config term 0:69
"$SWEEP" "$WORK/term.yaml" > "$WORK/grow.log" 2>&1 || fail "grown rerun"
grep -q "changed since its last run" "$WORK/grow.log" || fail "config change not reported"
grep -q "# resume: 60 done, 0 failed earlier (retried now), 10 to run" "$WORK/grow.log" || fail "grown resume"
one_ok_each "$WORK/term" 70
[ "$(wc -l < "$WORK/term/manifest.history.jsonl")" -eq 2 ] || fail "manifest history"
echo "PASS"
