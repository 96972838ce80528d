#!/usr/bin/env bash
# bench/bench_sweep.sh: scale benchmark of freenas_sweep on this machine. Prints a table and
# writes bench/results/sweep_cpu.json.
#   - planning: a 1,000,000-job grid expanded and hashed (--dry-run), target < 2 s
#   - coordinator overhead: 20,000 noop jobs (no computation) on 1, 4 and 16 ranks; wall time
#     per job = dispatch + record append + group-commit fdatasync, target < 1 ms at 16 ranks
#   - resume: rerun of the finished 20,000-job sweep (scan of results.jsonl, nothing to run)
#   - a real sweep: NB201 SynFlow searches per second, 1 rank x 2 threads and 2 ranks x 1
#   bash bench/bench_sweep.sh [build/bin]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-build/bin}
OUT=bench/results/sweep_cpu.json
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
now() { date +%s.%N; }

cat > "$TMP/plan.yaml" <<YAML
output: $TMP/plan
kind: noop
grid:
  metric: [synflow, snip]
  alpha_scale: [1.0e-4, 1.0e-3]
  seed: "0:249999"
ensembles:
  - {name: seeds, over: [seed]}
YAML
plan_s=$("$BIN/freenas_sweep" "$TMP/plan.yaml" --dry-run | sed -n 's/.*jobs (.*planned in \([0-9.]*\) s/\1/p')
t0=$(now); "$BIN/freenas_sweep" "$TMP/plan.yaml" --dry-run > /dev/null; t1=$(now)
plan_wall=$(echo "$t1 - $t0" | bc -l)

declare -A noop_s
for n in 1 4 16; do
  rm -rf "$TMP/noop$n"
  line=$(mpirun -n $n "$BIN/freenas_sweep" configs/bench_noop.yaml --output "$TMP/noop$n" --quiet | grep "# this run")
  noop_s[$n]=$(echo "$line" | sed -n 's/.*jobs in \([0-9.]*\) s.*/\1/p')
  [ "$(wc -l < "$TMP/noop$n/results.jsonl")" -eq 20000 ] || { echo "noop $n: wrong record count"; exit 1; }
done
t0=$(now); "$BIN/freenas_sweep" configs/bench_noop.yaml --output "$TMP/noop16" --quiet > "$TMP/resume.log"; t1=$(now)
grep -q "# resume: 20000 done" "$TMP/resume.log" || { echo "resume did not find 20000 jobs"; exit 1; }
resume_s=$(echo "$t1 - $t0" | bc -l)

cat > "$TMP/syn.yaml" <<YAML
output: $TMP/syn
grid:
  metric: synflow
  seed: "0:63"
YAML
rm -rf "$TMP/syn"; l1=$("$BIN/freenas_sweep" "$TMP/syn.yaml" --threads 2 --quiet | grep "# this run")
rm -rf "$TMP/syn"; l2=$(mpirun -n 2 "$BIN/freenas_sweep" "$TMP/syn.yaml" --threads 1 --quiet | grep "# this run")
syn1=$(echo "$l1" | sed -n 's/.*(\([0-9.]*\) jobs\/s).*/\1/p')
syn2=$(echo "$l2" | sed -n 's/.*(\([0-9.]*\) jobs\/s).*/\1/p')

cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
cores=$(nproc)
printf "\n# freenas_sweep scale benchmark on %s (%s cores)\n" "$cpu" "$cores"
printf "%-52s %12s %14s\n" "case" "value" "target"
printf "%-52s %10.3f s %14s\n" "plan 1,000,000 jobs (expand + resolve + hash)" "$plan_s" "< 2 s"
printf "%-52s %10.3f s %14s\n" "  whole --dry-run process (parse, plan, print)" "$plan_wall" ""
for n in 1 4 16; do
  us=$(echo "${noop_s[$n]} * 1000000 / 20000" | bc -l)
  printf "%-52s %8.1f us/job %12s\n" "coordinator: 20,000 noop jobs, $n rank(s)" "$us" "$([ $n = 16 ] && echo '< 1000 us')"
done
printf "%-52s %10.3f s %14s\n" "resume: scan 20,000 records, nothing to run" "$resume_s" ""
printf "%-52s %8.2f jobs/s %11s\n" "NB201 SynFlow sweep, 1 rank x 2 threads" "$syn1" ""
printf "%-52s %8.2f jobs/s %11s\n" "NB201 SynFlow sweep, 2 ranks x 1 thread" "$syn2" ""
mkdir -p bench/results
cat > "$OUT" <<JSON
{
  "machine": {"cpu": "$cpu", "cores": $cores},
  "plan_1m_jobs_s": $plan_s,
  "plan_1m_process_s": $(printf %.3f "$plan_wall"),
  "noop_20k_s": {"ranks_1": ${noop_s[1]}, "ranks_4": ${noop_s[4]}, "ranks_16": ${noop_s[16]}},
  "noop_us_per_job": {"ranks_1": $(printf %.1f "$(echo "${noop_s[1]} * 50" | bc -l)"), "ranks_4": $(printf %.1f "$(echo "${noop_s[4]} * 50" | bc -l)"), "ranks_16": $(printf %.1f "$(echo "${noop_s[16]} * 50" | bc -l)")},
  "resume_scan_20k_s": $(printf %.3f "$resume_s"),
  "nb201_synflow_jobs_per_s": {"ranks_1_threads_2": $syn1, "ranks_2_threads_1": $syn2}
}
JSON
echo "wrote $OUT"
