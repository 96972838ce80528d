#!/usr/bin/env bash
# bench/bench_grasp.sh: GraSP search time on NB201 (CIFAR-10, batch 64), the exact H g
# (default, float32) against the finite difference it replaced (--grasp-fd 1e-6, float64),
# as CPU seconds of one whole `freenas search` process (user + system, from /usr/bin/time) on
# OMP_NUM_THREADS threads (default 1), so the number holds on a machine shared with other
# work, and its wall seconds for reference. FLOPs: both run 3 x (forward + backward) of the
# supernet's conv + linear work (bench/bench_search.c counts them; nb201-grasp 184 GFLOP);
# the exact product does it in float32. Prints a table and writes
# bench/results/grasp_hvp_cpu.json, or with DEVICE=cuda bench/results/grasp_hvp_cuda.json.
#   bash bench/bench_grasp.sh [build/bin] [SEEDS]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-build/bin}
SEEDS=${2:-0:1}
DATA=${FREENAS_DATA:-../shared/data}
DEVICE=${DEVICE:-cpu}
OUT=${BENCH_OUT:-bench/results/grasp_hvp_$DEVICE.json}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
n=$(( ${SEEDS#*:} - ${SEEDS%:*} + 1 ))
rows=""
printf '%-26s %10s %10s %10s\n' form cpu_s/srch wall_s/srch score_ms
for form in exact fd; do
  extra=""
  [ "$form" = fd ] && extra="--grasp-fd 1e-6"
  t=$( { /usr/bin/time -f '%U %S %e' "$BIN/freenas" search --metric grasp --data "$DATA" \
        --seeds "$SEEDS" --device "$DEVICE" $extra --quiet > /tmp/bench_grasp_$$.out; } 2>&1 | tail -1)
  read -r u s w <<< "$t"
  # mean search time as the program reports it (the scoring, without start-up)
  ms=$(sed -n 's/.*search time \([0-9.]*\) +-.*/\1/p' /tmp/bench_grasp_$$.out)
  cpu=$(awk -v u="$u" -v s="$s" -v n="$n" 'BEGIN { printf "%.2f", (u + s) / n }')
  wall=$(awk -v w="$w" -v n="$n" 'BEGIN { printf "%.2f", w / n }')
  printf '%-26s %10s %10s %10s\n' "$form" "$cpu" "$wall" "$ms"
  rows="$rows${rows:+,}{\"form\":\"$form\",\"cpu_s_per_search\":$cpu,\"wall_s_per_search\":$wall,\"search_ms\":${ms:-null}}"
done
rm -f /tmp/bench_grasp_$$.out
mkdir -p "$(dirname "$OUT")"
echo "{\"device\":\"$DEVICE\",\"omp_threads\":$OMP_NUM_THREADS,\"searches\":$n,\"machine\":\"$(lscpu | sed -n 's/^Model name: *//p' | head -1)\",\"load_avg\":\"$(cut -d' ' -f1-3 /proc/loadavg)\",\"rows\":[$rows]}" > "$OUT"
echo "wrote $OUT"
