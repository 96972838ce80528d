#!/usr/bin/env bash
# tests/sweep/cluster.sh: the faults of a real cluster, each bounded in time (timeout 60) and
# checked on exit codes, messages and records; every sweep is resumed to exactly one ok
# record per job afterwards.
#  1. a worker rank (not mpirun) killed with kill -9: rank 0 names the lost rank, the world
#     ends (mpirun exits 137), no torn record; the rerun completes
#  2. a job that never returns (noop_hang_seed): recorded as `timeout` after job_timeout_s /
#     --job-timeout, the other jobs run, exit 4; on rank 0's own thread (1 rank) and on a
#     worker rank (mpirun); a worker frozen with SIGSTOP past the limit and thawed: its late
#     result is dropped and the sweep ends without MPI_Abort; reruns retry it
#  3. jobs that fail every time: max_attempts / --max-attempts; reruns skip them (no new
#     record), the summary lists them, exit 5
#  4. disk full (a small tmpfs), a file size limit (prlimit on the running rank 0: EFBIG),
#     an output directory that cannot be written (under a regular file, a read-only mount,
#     a file in its place): the file named, exit 3, whole records; the rerun completes
#   bash tests/sweep/cluster.sh BIN_DIR SHARED_DIR WORK_DIR
source "$(dirname "$0")/common.sh"
MOUNTS=()
cleanup() { for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null || true; done; }
trap cleanup EXIT
whole_records() { # file: every line a JSON record, and the file ends with a newline
  jq -e . "$1" > /dev/null || fail "$1: a line is not JSON (torn record)"
  [ "$(tail -c 1 "$1" | od -An -c | tr -d ' ')" = '\n' ] || fail "$1: does not end in a newline"
}
run_rc() { # log command...: runs it under timeout 60, sets rc; 124 = it hung
  local log=$1; shift
  set +e; timeout 60 "$@" > "$log" 2>&1; rc=$?; set -e
  [ "$rc" -ne 124 ] || { cat "$log"; fail "hung: still running after 60 s: $*"; }
}

echo "== 1. kill -9 of a worker rank"
noop_config lost 200 '"0:149"'
t0=$(date +%s.%N)
timeout 60 mpirun -n 3 "$SWEEP" "$WORK/lost.yaml" --quiet > "$WORK/lost1.log" 2>&1 &
pid=$!
wait_records "$WORK/lost" 10
for _ in $(seq 100); do # the pid of rank 1, from its first record
  sleep 0.1
  victim=$(jq -r 'select(.run.rank == 1) | .run.pid' "$WORK/lost/results.jsonl" 2>/dev/null | head -n 1 || true)
  [ -n "$victim" ] && break
done
[ -n "$victim" ] || fail "no record from rank 1"
tr '\0' '\n' < "/proc/$victim/environ" | grep -qx "OMPI_COMM_WORLD_RANK=1" \
  || fail "pid $victim is not rank 1"
kill -9 "$victim"
set +e; wait "$pid"; rc=$?; set -e
dt=$(echo "$(date +%s.%N) - $t0" | bc)
[ "$rc" -ne 124 ] || { cat "$WORK/lost1.log"; fail "the sweep hung after a rank was killed"; }
grep "is gone\|was lost\|exited on signal" "$WORK/lost1.log"
echo "mpirun exit code $rc after $dt s"
[ "$rc" -eq 137 ] || { cat "$WORK/lost1.log"; fail "mpirun exit code $rc, expected 137 (128 + SIGKILL)"; }
grep -q "freenas_sweep: rank 1 (pid $victim on .*) is gone (killed or crashed)" "$WORK/lost1.log" \
  || fail "rank 0 did not name the lost rank"
whole_records "$WORK/lost/results.jsonl"
before=$(wc -l < "$WORK/lost/results.jsonl")
[ "$before" -lt 150 ] || fail "the sweep finished before the kill; nothing was tested"
run_rc "$WORK/lost2.log" mpirun -n 3 "$SWEEP" "$WORK/lost.yaml" --quiet
[ "$rc" -eq 0 ] || { cat "$WORK/lost2.log"; fail "rerun after a lost rank: exit $rc"; }
! grep -q "torn" "$WORK/lost2.log" || fail "the rerun found a torn record"
grep "# resume:" "$WORK/lost2.log"
one_ok_each "$WORK/lost" 150
echo "rank 1 killed after $before of 150 records; rerun completed"

echo "== 2a. a job that never returns, on rank 0's own thread (1 rank), job_timeout_s"
noop_config hang 100 '"0:9"' "noop_hang_seed: 3
job_timeout_s: 2"
run_rc "$WORK/hang1.log" "$SWEEP" "$WORK/hang.yaml" --quiet
grep "timeout\|timed-out" "$WORK/hang1.log"
[ "$rc" -eq 4 ] || { cat "$WORK/hang1.log"; fail "exit code $rc after a timeout, expected 4"; }
[ "$(jq -r 'select(.params.seed == 3) | [.status, .attempt, .run.rank] | join(" ")' "$WORK/hang/results.jsonl")" = "timeout 1 0" ] \
  || fail "no timeout record (attempt 1, rank 0) for the hung job"
jq -r 'select(.status == "timeout") | .error' "$WORK/hang/results.jsonl" | grep -q "no result after [0-9.]* s (job_timeout_s 2) on rank 0" \
  || fail "timeout message"
grep -q "job .* (index 3) failed: no result after" "$WORK/hang1.log" || fail "timeout not reported on stderr"
whole_records "$WORK/hang/results.jsonl"
# a rerun retries it (it hangs again: attempt 2), then without the hang it completes
run_rc "$WORK/hang2.log" "$SWEEP" "$WORK/hang.yaml" --quiet
[ "$rc" -eq 4 ] || { cat "$WORK/hang2.log"; fail "second run: exit $rc, expected 4"; }
[ "$(jq -r 'select(.params.seed == 3) | .attempt' "$WORK/hang/results.jsonl" | tr '\n' ' ')" = "1 2 " ] \
  || fail "the rerun did not retry the timed-out job"
sed -i '/noop_hang_seed/d' "$WORK/hang.yaml"
run_rc "$WORK/hang3.log" "$SWEEP" "$WORK/hang.yaml" --quiet
[ "$rc" -eq 0 ] || { cat "$WORK/hang3.log"; fail "rerun without the hang: exit $rc"; }
one_ok_each "$WORK/hang" 10
[ "$(jq -r 'select(.params.seed == 3) | .status + " " + (.attempt | tostring)' "$WORK/hang/results.jsonl" | tr '\n' ';')" = "timeout 1;timeout 2;ok 3;" ] \
  || fail "records of the hung job"

echo "== 2b. a job that never returns on a worker rank (mpirun -n 3), --job-timeout"
noop_config hangmpi 100 '"0:11"' "noop_hang_seed: 0"
t0=$(date +%s.%N)
run_rc "$WORK/hangmpi1.log" mpirun -n 3 "$SWEEP" "$WORK/hangmpi.yaml" --quiet --job-timeout 2
dt=$(echo "$(date +%s.%N) - $t0" | bc)
grep "timeout\|timed-out\|MPI_ABORT" "$WORK/hangmpi1.log"
[ "$rc" -eq 4 ] || { cat "$WORK/hangmpi1.log"; fail "mpirun exit code $rc after a timeout, expected 4"; }
hung_rank=$(jq -r 'select(.status == "timeout") | .run.rank' "$WORK/hangmpi/results.jsonl")
[ -n "$hung_rank" ] || fail "no timeout record"
echo "the hung job was on rank $hung_rank; the sweep ended after $dt s"
[ "$(jq -r 'select(.status == "ok") | .job_id' "$WORK/hangmpi/results.jsonl" | wc -l)" -eq 11 ] \
  || fail "the other 11 jobs did not all run"
sleep 1
! pgrep -f "$SWEEP $WORK/hangmpi.yaml" > /dev/null || fail "a rank of the timed-out sweep is still running"
whole_records "$WORK/hangmpi/results.jsonl"
sed -i '/noop_hang_seed/d' "$WORK/hangmpi.yaml"
run_rc "$WORK/hangmpi2.log" mpirun -n 3 "$SWEEP" "$WORK/hangmpi.yaml" --quiet --job-timeout 2
[ "$rc" -eq 0 ] || { cat "$WORK/hangmpi2.log"; fail "rerun: exit $rc"; }
grep "# resume:" "$WORK/hangmpi2.log"
one_ok_each "$WORK/hangmpi" 12

echo "== 2c. a worker rank frozen (SIGSTOP) past --job-timeout, then thawed: its late result is dropped, the sweep ends normally"
noop_config frozen 200 '"0:89"'
timeout 60 mpirun -n 3 "$SWEEP" "$WORK/frozen.yaml" --quiet --job-timeout 1 > "$WORK/frozen1.log" 2>&1 &
pid=$!
victim=
for _ in $(seq 100); do
  sleep 0.1
  victim=$(jq -r 'select(.run.rank == 1) | .run.pid' "$WORK/frozen/results.jsonl" 2>/dev/null | head -n 1 || true)
  [ -n "$victim" ] && break
done
[ -n "$victim" ] || fail "no record from rank 1"
kill -STOP "$victim"; sleep 2.5; kill -CONT "$victim"
set +e; wait "$pid"; rc=$?; set -e
grep "freenas_sweep:" "$WORK/frozen1.log"
[ "$rc" -eq 4 ] || { cat "$WORK/frozen1.log"; fail "exit code $rc after a timeout, expected 4"; }
grep -q "rank 1 returned after its job's timeout; its result is not recorded" "$WORK/frozen1.log" \
  || fail "the late return is not reported"
! grep -q "MPI_ABORT" "$WORK/frozen1.log" || fail "the thawed rank should have ended normally, not by MPI_Abort"
[ "$(jq -r '.status' "$WORK/frozen/results.jsonl" | sort | uniq -c | awk '{print $1 $2}' | tr '\n' ' ')" = "89ok 1timeout " ] \
  || fail "records: expected 89 ok and 1 timeout"
run_rc "$WORK/frozen2.log" mpirun -n 3 "$SWEEP" "$WORK/frozen.yaml" --quiet --job-timeout 1
[ "$rc" -eq 0 ] || { cat "$WORK/frozen2.log"; fail "rerun: exit $rc"; }
one_ok_each "$WORK/frozen" 90
[ "$(jq -r 'select(.status == "ok" and .attempt == 2) | .job_id' "$WORK/frozen/results.jsonl")" = \
  "$(jq -r 'select(.status == "timeout") | .job_id' "$WORK/frozen/results.jsonl")" ] || fail "the rerun did not retry the timed-out job"

echo "== 3. jobs that fail every time: max_attempts"
cat > "$WORK/retry.yaml" <<YAML
output: $WORK/retry
max_attempts: 2
grid:
  alpha_scale: [1.0e-3, 1.0e+300]
  seed: "0:1"
YAML
run_rc "$WORK/retry1.log" "$SWEEP" "$WORK/retry.yaml" --quiet
[ "$rc" -eq 1 ] || { cat "$WORK/retry1.log"; fail "first run: exit $rc, expected 1"; }
run_rc "$WORK/retry2.log" "$SWEEP" "$WORK/retry.yaml" --quiet
grep -A2 "gave up" "$WORK/retry2.log"
[ "$rc" -eq 5 ] || { cat "$WORK/retry2.log"; fail "second run: exit $rc, expected 5 (gave up)"; }
grep -q "# 2 jobs gave up after 2 attempts" "$WORK/retry2.log" || fail "summary does not list the jobs that gave up"
for id in $(jq -r 'select(.status != "ok") | .job_id' "$WORK/retry/results.jsonl" | sort -u); do
  grep -q "^#   $id  index [0-9]*  alpha_scale=1e+300 seed=[01]$" "$WORK/retry2.log" || fail "job $id not listed"
done
n=$(wc -l < "$WORK/retry/results.jsonl")
run_rc "$WORK/retry3.log" "$SWEEP" "$WORK/retry.yaml" --quiet
grep "# resume:" "$WORK/retry3.log"
[ "$rc" -eq 5 ] || { cat "$WORK/retry3.log"; fail "third run: exit $rc, expected 5"; }
[ "$(wc -l < "$WORK/retry/results.jsonl")" -eq "$n" ] || fail "a job that gave up was run again"
grep -q "# resume: 2 done, 0 failed earlier (retried now), 0 to run; 2 gave up after 2 attempts (not run again)" \
  "$WORK/retry3.log" || fail "resume line"
run_rc "$WORK/retry4.log" "$SWEEP" "$WORK/retry.yaml" --quiet --max-attempts 3
[ "$rc" -eq 5 ] || { cat "$WORK/retry4.log"; fail "--max-attempts 3: exit $rc, expected 5"; }
[ "$(jq -r 'select(.status != "ok") | .attempt' "$WORK/retry/results.jsonl" | sort | uniq -c | awk '{print $1 "x" $2}' | tr '\n' ' ')" = "2x1 2x2 2x3 " ] \
  || fail "attempts of the failing jobs"
[ "$(jq -r 'select(.status == "nan_score") | .status' "$WORK/retry/results.jsonl" | wc -l)" -eq 6 ] || fail "statuses"
echo "2 failing jobs: attempts 1, 2, skipped, 3 with --max-attempts 3"

echo "== 4a. disk full while records are written (a 48 KiB tmpfs, mpirun -n 2)"
mkdir -p "$WORK/full"
if mount -t tmpfs -o size=48k tmpfs "$WORK/full" 2>/dev/null; then
  MOUNTS+=("$WORK/full")
  noop_config full 10 '"0:299"'
  sed -i "s#^output: .*#output: $WORK/full/out#" "$WORK/full.yaml"
  run_rc "$WORK/full1.log" mpirun -n 2 "$SWEEP" "$WORK/full.yaml" --quiet
  grep "freenas_sweep:.*results.jsonl\|# 300 jobs" "$WORK/full1.log"
  [ "$rc" -eq 3 ] || { cat "$WORK/full1.log"; fail "disk full: exit $rc, expected 3"; }
  grep -q "cannot append to $WORK/full/out/results.jsonl: No space left on device" "$WORK/full1.log" \
    || fail "disk full: the message does not name the file and the cause"
  whole_records "$WORK/full/out/results.jsonl"
  n=$(wc -l < "$WORK/full/out/results.jsonl")
  [ "$n" -gt 0 ] && [ "$n" -lt 300 ] || fail "disk full after $n records: nothing tested"
  grep -q "# 300 jobs: $n ok, 0 failed" "$WORK/full1.log" || fail "the summary counts records that were not written"
  # a rerun on the still full disk: stopped before any job, the file named, nothing written
  run_rc "$WORK/full1b.log" mpirun -n 2 "$SWEEP" "$WORK/full.yaml" --quiet
  grep "freenas_sweep:.*No space" "$WORK/full1b.log"
  [ "$rc" -eq 3 ] || { cat "$WORK/full1b.log"; fail "rerun on a full disk: exit $rc, expected 3"; }
  grep -q "cannot \(append to\|write\) $WORK/full/out/manifest.*: No space left on device" "$WORK/full1b.log" \
    || fail "rerun on a full disk: the message does not name the manifest"
  [ "$(wc -l < "$WORK/full/out/results.jsonl")" -eq "$n" ] || fail "rerun on a full disk wrote records"
  whole_records "$WORK/full/out/results.jsonl"
  mount -o remount,size=4m "$WORK/full"
  run_rc "$WORK/full2.log" mpirun -n 2 "$SWEEP" "$WORK/full.yaml" --quiet
  [ "$rc" -eq 0 ] || { cat "$WORK/full2.log"; fail "rerun with space: exit $rc"; }
  ! grep -q "torn" "$WORK/full2.log" || fail "the rerun found a torn record"
  grep -q "# resume: $n done, 0 failed earlier (retried now), $((300 - n)) to run" "$WORK/full2.log" || fail "resume"
  one_ok_each "$WORK/full/out" 300
  echo "disk full after $n of 300 records; rerun with space completed"
else
  echo "SKIP 4a: cannot mount a tmpfs here (needs root); 4b covers the write path"
fi

echo "== 4b. a file size limit reached while records are written (prlimit --fsize on rank 0)"
# (ulimit -f before the start would also limit Open MPI's own session files: MPI_Init fails)
noop_config fsize 10 '"0:399"'
"$SWEEP" "$WORK/fsize.yaml" --quiet > "$WORK/fsize1.log" 2>&1 &
pid=$!
wait_records "$WORK/fsize" 20
limit=$(( $(stat -c %s "$WORK/fsize/results.jsonl") + 10000 ))
prlimit --pid "$pid" --fsize="$limit"
set +e; timeout 60 tail --pid="$pid" -f /dev/null; wait "$pid"; rc=$?; set -e
grep "freenas_sweep:.*results.jsonl" "$WORK/fsize1.log"
[ "$rc" -eq 3 ] || { cat "$WORK/fsize1.log"; fail "file size limit: exit $rc, expected 3"; }
grep -q "cannot append to $WORK/fsize/results.jsonl: File too large" "$WORK/fsize1.log" \
  || fail "file size limit: the message does not name the file and the cause"
whole_records "$WORK/fsize/results.jsonl"
[ "$(stat -c %s "$WORK/fsize/results.jsonl")" -le "$limit" ] || fail "file over the limit"
n=$(wc -l < "$WORK/fsize/results.jsonl")
run_rc "$WORK/fsize2.log" "$SWEEP" "$WORK/fsize.yaml" --quiet
[ "$rc" -eq 0 ] || { cat "$WORK/fsize2.log"; fail "rerun without the limit: exit $rc"; }
! grep -q "torn" "$WORK/fsize2.log" || fail "the rerun found a torn record"
one_ok_each "$WORK/fsize" 400
echo "file size limit $limit bytes reached after $n of 400 records; rerun completed"

echo "== 4c. an output directory that cannot be written"
noop_config unw 0 '"0:3"'
: > "$WORK/regular_file"
run_rc "$WORK/unw1.log" mpirun -n 2 "$SWEEP" "$WORK/unw.yaml" --quiet --output "$WORK/regular_file/out"
cat "$WORK/unw1.log" | grep "freenas_sweep:"
[ "$rc" -eq 3 ] || { cat "$WORK/unw1.log"; fail "output under a regular file: exit $rc, expected 3"; }
grep -q "cannot create results directory $WORK/regular_file/out: Not a directory" "$WORK/unw1.log" || fail "message (under a file)"
run_rc "$WORK/unw2.log" "$SWEEP" "$WORK/unw.yaml" --quiet --output "$WORK/regular_file"
grep "freenas_sweep:" "$WORK/unw2.log"
[ "$rc" -eq 3 ] || { cat "$WORK/unw2.log"; fail "a file where the directory should be: exit $rc, expected 3"; }
grep -q "cannot open $WORK/regular_file/.lock: Not a directory" "$WORK/unw2.log" || fail "message (a file in its place)"
mkdir -p "$WORK/ro"
if mount -t tmpfs -o ro,size=64k tmpfs "$WORK/ro" 2>/dev/null; then
  MOUNTS+=("$WORK/ro")
  run_rc "$WORK/unw3.log" "$SWEEP" "$WORK/unw.yaml" --quiet --output "$WORK/ro/out"
  grep "freenas_sweep:" "$WORK/unw3.log"
  [ "$rc" -eq 3 ] || { cat "$WORK/unw3.log"; fail "read-only mount: exit $rc, expected 3"; }
  grep -q "cannot create results directory $WORK/ro/out: Read-only file system" "$WORK/unw3.log" || fail "message (read-only)"
else
  echo "SKIP read-only mount: cannot mount a tmpfs here (needs root)"
fi
echo "PASS"
