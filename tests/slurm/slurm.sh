#!/usr/bin/env bash
# tests/slurm/slurm.sh: the real sbatch scripts of slurm/ on a real one-node SLURM cluster
# started for this test (tests/slurm/cluster.sh; every daemon it starts is stopped by PID).
#   1. slurm/freenas_sweep.sbatch (srun --mpi=pmix, 2 ranks) under `sbatch --wait`: exit 0,
#      every job ok on both ranks;
#   2. slurm/freenas_sweep_mpirun.sbatch: the same records (less timings, ranks, hosts);
#   3. preemption: USR1 to the batch shell (what --signal=B:USR1@N does) of a running sweep,
#      and after the requeue SIGTERM to the batch shell: the job requeues itself twice
#      (Restarts=2), resumes, and
#      ends with exactly one ok record per job;
#   4. slurm/submit_array.sh: 3 shards as a job array plus the merge job: the same records
#      and byte-identical ensembles as the single job.
#   bash tests/slurm/slurm.sh BIN_DIR SHARED_DIR WORK_DIR
set -euo pipefail
BIN=$(cd "$1" && pwd) SHARED=$(cd "$2" && pwd) WORK=$3
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root to start slurmctld, slurmd and munged"; exit 77; }
rm -rf "$WORK"
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
source "$HERE/cluster.sh"
cluster_install
trap cluster_stop EXIT
cluster_start "$WORK/cluster"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1   # CI runs as root
export FREENAS_HOME=$REPO FREENAS_BIN=$BIN
cd "$WORK"
fail() { echo "FAIL: $*" >&2; for f in "$WORK"/*.out; do echo "== $f"; cat "$f"; done; exit 1; }
stable_records() { jq -S -c 'del(.run)' "$1" | sort; }
job_state() { scontrol show job "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | cut -d= -f2; }
# Waits are wall-clock deadlines (bash SECONDS), generous because a loaded machine starts
# jobs and steps slowly; a healthy run meets each in a few seconds.
# wait_state JOB STATE SECONDS
wait_state() {
  local end=$((SECONDS + $3))
  while [ "$SECONDS" -lt "$end" ]; do [ "$(job_state "$1")" = "$2" ] && return 0; sleep 0.2; done
  fail "job $1 is $(job_state "$1"), not $2, after $3 s"
}
wait_records() { # DIR N: until DIR/results.jsonl holds N records (90 s at most)
  local end=$((SECONDS + 90))
  while [ "$SECONDS" -lt "$end" ]; do
    [ -s "$1/results.jsonl" ] && [ "$(wc -l < "$1/results.jsonl")" -ge "$2" ] && return 0
    sleep 0.1
  done
  fail "fewer than $2 records in $1 after 90 s"
}
# start_now JOB: skip a requeued job's hold, but not within the second of the requeue: slurmd
# revokes the old run's credential at one-second resolution and refuses a relaunch in the
# same second ("Job credential revoked", the job FAILS; seen here on a loaded machine)
start_now() {
  sleep 2
  scontrol update JobId="$1" StartTime=now
}
ok_once() { # DIR N: N jobs, each with exactly one ok record
  local n
  n=$(jq -r 'select(.status == "ok") | .job_id' "$1/results.jsonl" | sort | uniq -c | awk '$1 == 1' | wc -l)
  [ "$n" -eq "$2" ] && [ "$(jq -r 'select(.status == "ok") | .job_id' "$1/results.jsonl" | wc -l)" -eq "$2" ] \
    || fail "$1: expected $2 jobs with one ok record each, got $n"
}
SMALL=(--ntasks=2 --ntasks-per-node=2 --cpus-per-task=1)   # the node has 2 cores

cat > tiny.yaml <<YAML
name: slurm_tiny
output: $WORK/srun
data: $SHARED/data
benchmark: $SHARED/data/nb201/nb201_accuracy.tsv
grid:
  space: nb201
  metric: [synflow, snip]
  batch: 4
  seed: "0:2"
ensembles:
  - {name: seeds, over: [seed], norm: zscore}
YAML

echo "== 1. srun --mpi=pmix, sbatch --wait"
sbatch --wait "${SMALL[@]}" --output=srun.out "$REPO/slurm/freenas_sweep.sbatch" tiny.yaml --quiet \
  || fail "sbatch freenas_sweep.sbatch exited $?"
ok_once srun 6
[ "$(jq -r .run.rank srun/results.jsonl | sort -u | tr '\n' ' ')" = "0 1 " ] || fail "not 2 ranks"
grep -q "sweep exited with code 0" srun.out || fail "no exit line in srun.out"

echo "== 2. mpirun inside the allocation"
sbatch --wait "${SMALL[@]}" --output=mpirun.out "$REPO/slurm/freenas_sweep_mpirun.sbatch" tiny.yaml \
  --output "$WORK/mpirun" --quiet || fail "sbatch freenas_sweep_mpirun.sbatch exited $?"
ok_once mpirun 6
diff <(stable_records srun/results.jsonl) <(stable_records mpirun/results.jsonl) \
  || fail "srun and mpirun records differ"
cmp srun/ensembles.jsonl mpirun/ensembles.jsonl || fail "srun and mpirun ensembles differ"

echo "== 3. preemption: USR1, requeue, SIGTERM, requeue, resume"
cat > preempt.yaml <<YAML
name: slurm_preempt
output: $WORK/preempt
kind: noop
noop_ms: 200
grid:
  seed: "0:39"
YAML
J=$(sbatch --parsable "${SMALL[@]}" --output=preempt.out "$REPO/slurm/freenas_sweep.sbatch" preempt.yaml --quiet)
wait_records preempt 4
scancel --signal=USR1 --batch "$J"          # what --signal=B:USR1@N sends before the time limit
wait_state "$J" PENDING 90
start_now "$J"
wait_state "$J" RUNNING 90
n1=$(wc -l < preempt/results.jsonl)
wait_records preempt $((n1 + 4))
# SIGTERM to the batch shell, as a site without user signals sends it (scancel --signal=TERM
# would cancel the whole job here instead: slurmctld treats TERM as a cancel request)
shell=$(pgrep -f "$WORK/cluster/spool/job0*$J/slurm_script" | head -1)
[ -n "$shell" ] || fail "batch shell of job $J not found"
kill -TERM "$shell"
wait_state "$J" PENDING 90
start_now "$J"
wait_state "$J" COMPLETED 120
cat preempt.out
scontrol show job "$J" > job.txt || fail "scontrol show job $J"  # grep -q in a pipe: SIGPIPE
grep -q "Restarts=2" job.txt || fail "expected Restarts=2"
grep -q "got SIGUSR1: sending USR1" preempt.out || fail "no USR1 in the log"
grep -q "got SIGTERM: sending USR1" preempt.out || fail "no TERM in the log"
[ "$(grep -c "requeueing job $J" preempt.out)" -eq 2 ] || fail "expected two requeues"
grep -q "restart 2\] sweep exited with code 0" preempt.out || fail "third run did not finish"
resumed=$(grep -o "# resume: [0-9]* done" preempt.out | awk '{print $3}' | tr '\n' ' ')
echo "resume points: $resumed"
[ "$(echo "$resumed" | awk '{print ($1 == 0 && $2 >= 4 && $3 > $2)}')" = 1 ] \
  || fail "runs did not resume from their records ($resumed)"
ok_once preempt 40

echo "== 4. job array of 3 shards + merge job"
FREENAS_SBATCH_OPTS="--ntasks=1 --cpus-per-task=1 --output=$WORK/array-%A_%a.out" \
  "$REPO/slurm/submit_array.sh" 3 tiny.yaml --output "$WORK/array" --quiet > submit.out
cat submit.out
M=$(awk '{print $NF}' submit.out)
wait_state "$M" COMPLETED 240
cat array-*.out
for i in 0 1 2; do [ -s "array/shard-$i-of-3/results.jsonl" ] || fail "shard $i wrote nothing"; done
grep -q "# merge: shard-2-of-3: 2 ok records merged" array-*.out || fail "merge step log"
ok_once array 6
diff <(stable_records srun/results.jsonl) <(stable_records array/results.jsonl) \
  || fail "array+merge records differ from the single job"
cmp srun/ensembles.jsonl array/ensembles.jsonl || fail "array+merge ensembles differ"
echo "PASS: srun and mpirun jobs agree; two requeues (USR1, TERM) resumed to 40 jobs with one ok record each; 3-shard array + merge equals the single job"
