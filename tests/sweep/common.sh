# tests/sweep/common.sh: helpers for the freenas_sweep tests (sourced). Each test gets
# BIN (build/bin), SHARED (../shared) and WORK (a scratch directory under the build tree).
set -euo pipefail
BIN=$1 SHARED=$2 WORK=$3
rm -rf "$WORK"
mkdir -p "$WORK"
# Open MPI as root (CI runs as root) and more ranks than cores: HPC_NOTES.md
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
export OMP_NUM_THREADS=1
SWEEP="$BIN/freenas_sweep"

fail() { echo "FAIL: $*" >&2; exit 1; }
# records without the fields that depend on where and when a job ran, sorted
stable_records() {
  jq -S -c 'del(.run)' "$1" | sort
}
# waits (up to 10 s) until DIR/results.jsonl holds at least N records: a running sweep is
# part way
wait_records() {
  for _ in $(seq 100); do
    sleep 0.1
    [ -s "$1/results.jsonl" ] && [ "$(wc -l < "$1/results.jsonl")" -ge "$2" ] && return 0
  done
  return 0
}
# waits (up to 60 s) until FILE exists: e.g. DIR/manifest.json, written just before the sweep
# installs its stop-signal handlers (a signal before that would end it with the default action)
wait_file() {
  for _ in $(seq 600); do
    [ -e "$1" ] && return 0
    sleep 0.1
  done
  return 0
}
# synflow_config NAME SEEDS [LINES]: WORK/NAME.yaml, a SynFlow sweep on NB201 over the seed
# range SEEDS (written quoted: "0:3") with a seed ensemble, output WORK/NAME; LINES, if given,
# extra top-level lines (records.sh: name)
synflow_config() {
  cat > "$WORK/$1.yaml" <<YAML
${3:-}
output: $WORK/$1
benchmark: $SHARED/data/nb201/nb201_accuracy.tsv
grid:
  metric: synflow
  seed: "$2"
ensembles:
  - {name: seeds, over: [seed]}
YAML
}
# noop_config NAME NOOP_MS SEEDS [LINES]: WORK/NAME.yaml, jobs that only sleep NOOP_MS each
# (the signal and cluster tests), seed SEEDS as written (a YAML value: '"0:9"', 0), output
# WORK/NAME; LINES, if given, extra top-level lines (noop_hang_seed: 3)
noop_config() {
  cat > "$WORK/$1.yaml" <<YAML
output: $WORK/$1
kind: noop
noop_ms: $2
${4:-}
grid:
  seed: $3
YAML
}
# how many ok records each job has
count_ok_per_job() { jq -r 'select(.status == "ok") | .job_id' "$1" | sort | uniq -c; }
# exactly one ok record for each of njobs jobs in DIR/results.jsonl
one_ok_each() { # dir njobs
  local dups n
  dups=$(count_ok_per_job "$1/results.jsonl" | awk '$1 != 1' | wc -l)
  n=$(count_ok_per_job "$1/results.jsonl" | wc -l)
  [ "$dups" -eq 0 ] || fail "$1: $dups jobs with more than one ok record"
  [ "$n" -eq "$2" ] || fail "$1: $n jobs ok, expected $2"
}
