# slurm/common.sh: shared by the freenas sbatch scripts (sourced): finds the binaries and runs
# a launcher (srun or mpirun) so that a preemption signal checkpoints the sweep and requeues
# the job, which then resumes from its records.
#
# Signal flow: `#SBATCH --signal=B:USR1@N` sends USR1 to this batch shell N seconds before the
# time limit (sites without it send SIGTERM at the limit; a preemption sends SIGTERM too). The
# trap sends USR1 to the launcher whichever of the two arrived (srun kills its tasks on
# SIGTERM, but passes USR1 on), which forwards it to every rank; freenas_sweep
# finishes its running jobs, syncs their records and exits 75; then this shell runs
# `scontrol requeue`, and the same job id starts again later and resumes. A trap only runs
# while the shell waits, so the launcher runs in the background and the shell `wait`s.
#
# Environment:
#   FREENAS_HOME         the freenas checkout (default: the directory sbatch was run from)
#   FREENAS_BIN          directory of freenas_sweep (default: $FREENAS_HOME/build/bin)
#   FREENAS_MAX_REQUEUE  give up requeueing after this many restarts (default 20)

FREENAS_HOME=${FREENAS_HOME:-${SLURM_SUBMIT_DIR:-$PWD}}
FREENAS_BIN=${FREENAS_BIN:-$FREENAS_HOME/build/bin}
FREENAS_SWEEP=$FREENAS_BIN/freenas_sweep
if [ ! -x "$FREENAS_SWEEP" ]; then
  echo "freenas: $FREENAS_SWEEP not found (hint: build first with scripts/build.sh, or set FREENAS_HOME / FREENAS_BIN)" >&2
  exit 2
fi

freenas_log() { echo "[freenas $(date -u +%FT%TZ) job ${SLURM_JOB_ID:-?} restart ${SLURM_RESTART_COUNT:-0}] $*"; }

_freenas_child=
_freenas_signal=
_freenas_waiting=0
_freenas_forward() {
  _freenas_signal=$1
  freenas_log "got SIG$1: sending USR1 to the sweep (it finishes its running jobs, then the job requeues)"
  [ -n "$_freenas_child" ] && kill -s USR1 "$_freenas_child" 2>/dev/null
  _freenas_waiting=1
}

# freenas_run LAUNCHER ARGS...: runs the launcher; on exit 75 (stopped by a signal, records
# synced) requeues this job and exits 0, else exits with the launcher's exit code.
freenas_run() {
  freenas_log "start on ${SLURM_JOB_NODELIST:-$(hostname)}: $*"
  trap '_freenas_forward USR1' USR1
  trap '_freenas_forward TERM' TERM
  "$@" &
  _freenas_child=$!
  local rc
  while :; do
    _freenas_waiting=0
    wait "$_freenas_child"
    rc=$?
    [ "$_freenas_waiting" = 1 ] && continue   # a trap interrupted the wait: wait again
    break
  done
  trap '' USR1 TERM
  if [ "$rc" -eq 75 ]; then
    local max=${FREENAS_MAX_REQUEUE:-20}
    if [ -z "${SLURM_JOB_ID:-}" ]; then
      freenas_log "stopped (exit 75) outside SLURM: rerun the same command to resume"
      exit 75
    fi
    if [ "${SLURM_RESTART_COUNT:-0}" -ge "$max" ]; then
      freenas_log "stopped (exit 75) after $max restarts: not requeueing (FREENAS_MAX_REQUEUE); resubmit to resume"
      exit 75
    fi
    freenas_log "sweep checkpointed (exit 75${_freenas_signal:+ after SIG$_freenas_signal}): requeueing job $SLURM_JOB_ID"
    scontrol requeue "$SLURM_JOB_ID" || { freenas_log "scontrol requeue failed; resubmit to resume"; exit 75; }
    exit 0
  fi
  freenas_log "sweep exited with code $rc"
  exit "$rc"
}
