#!/usr/bin/env bash
# bench/bench_hnas.sh: HNAS on this machine (docs/METHOD.md §4.3).
#  1. the metric table: `freenas hnas-table` on N architectures spread over the space (1 thread,
#     one process per core as a split whole-space run would use), seconds per architecture per
#     proxy, the projected time for all 15,625 on this machine's cores, and the NTK pair's
#     FLOPs and achieved rate. FLOP model of hnas_ntk_trace + hnas_ntk_cond per architecture at
#     batch B = 64 (MACs = the network's conv + linear multiply-adds at batch 1, P = its conv +
#     linear weights and biases): forward 2 B MACs, backward (input and activation gradients)
#     2 B MACs, per-sample weight gradients 2 B MACs, Gram matrix 2 B^2 P: 6 B MACs + 2 B^2 P
#     (about 35 GFLOP for an average architecture).
#  2. one search given the tables: `freenas hnas` over a synthetic whole-space table (15,625
#     rows: the pool is as large as on the real table), milliseconds per search, 1 thread.
# Times are CPU seconds (user + sys) of the process, the wall time beside them: on a shared
# machine the wall time measures the queue. Projections: CPU s x 15,625 / cores.
# Prints a table and writes bench/results/hnas_cpu.json.
#   bash bench/bench_hnas.sh [build/bin] [N]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-build/bin}
N=${2:-6}
DATA=${FREENAS_DATA:-../shared/data}
TSV=$DATA/nb201/nb201_accuracy.tsv
OUT=${BENCH_OUT:-bench/results/hnas_cpu.json}
CORES=$(nproc)
export OMP_NUM_THREADS=1
MACHINE="$(lscpu | sed -n 's/^Model name: *//p' | head -1)"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
STRIDE=$(( 15625 / N ))
# CPU seconds (user + sys) per architecture: on a shared machine wall time measures the queue,
# not the code; the wall figure is printed beside it
cpu_per_arch() { # proxies out
  /usr/bin/time -f "%U %S %e" -o "$TMP/time" "$BIN/freenas" hnas-table --range 0:$((STRIDE * N)) \
    --stride $STRIDE --offset 17 --proxy "$1" --data "$DATA" --benchmark "$TSV" --out "$TMP/$2" \
    2> "$TMP/log_$2"
  awk -v n="$N" '{ printf "%.4f %.4f\n", ($1 + $2) / n, $3 / n }' "$TMP/time"
}
read -r ntk ntk_wall < <(cpu_per_arch hnas_ntk_trace,hnas_ntk_cond ntk.tsv)
read -r per per_wall < <(cpu_per_arch hnas_ntk_trace,hnas_ntk_cond,hnas_grad_norm,hnas_snip,hnas_grasp t.tsv)
line=$(grep "s per architecture" "$TMP/log_t.tsv")
# FLOPs of the NTK pair from each network's MACs and parameters
idx=$(grep -E '^[0-9]' "$TMP/t.tsv" | cut -f1 | sed 's/^/--index /' | tr '\n' ' ')
"$BIN/freenas" score $idx --proxy flops,params --benchmark "$TSV" --json > "$TMP/f.jsonl"
gflop=$(jq -s '[.[] | 6 * 64 * .proxies.flops + 2 * 64 * 64 * .proxies.params] | add / length / 1e9' "$TMP/f.jsonl")
# one search on a whole-space synthetic table
awk 'BEGIN { srand(1); print "index\thnas_ntk_trace\thnas_ntk_cond";
             for (i = 0; i < 15625; i++) printf "%d\t%.6g\t%.6g\n", i, 5 + 40 * rand(), exp(3 + 6 * rand()) }' > "$TMP/full.tsv"
/usr/bin/time -f "%U %S %e" -o "$TMP/time" "$BIN/freenas" hnas --seeds 0:9 --table "$TMP/full.tsv" \
  --data "$DATA" --quiet > "$TMP/s.log"
ms=$(awk '{ printf "%.2f", ($1 + $2) * 100 }' "$TMP/time") # CPU ms per search, start included
inner=$(grep -o 'time [0-9.]* ms' "$TMP/s.log" | awk '{print $2}')
proj_h=$(echo "$per * 15625 / $CORES / 3600" | bc -l)
projntk_h=$(echo "$ntk * 15625 / $CORES / 3600" | bc -l)
rate=$(echo "$gflop / $ntk" | bc -l)
printf "%-44s %12s\n" "machine" "$MACHINE, $CORES cores"
printf "%-44s %12.3f\n" "table: CPU s per arch (all proxies)" "$per"
printf "%-44s %12.3f\n" "table: wall s per arch (all proxies)" "$per_wall"
printf "%-44s %12.3f\n" "table: CPU s per arch (M and kappa)" "$ntk"
printf "%-44s %12.3f\n" "table: wall s per arch (M and kappa)" "$ntk_wall"
printf "%-44s %12.1f\n" "table: whole space, h (all proxies)" "$proj_h"
printf "%-44s %12.2f\n" "table: whole space, h (M and kappa)" "$projntk_h"
printf "%-44s %12.1f\n" "NTK pair: GFLOP per architecture" "$gflop"
printf "%-44s %12.2f\n" "NTK pair: achieved GFLOP/s (1 thread)" "$rate"
printf "%-44s %12.1f\n" "search: wall ms per HNAS search (in process)" "$inner"
printf "%-44s %12.1f\n" "search: CPU ms per search incl. start" "$ms"
printf "%-44s %12s\n" "load average at the end" "$(cut -d' ' -f1-3 /proc/loadavg)"
jq -n --arg machine "$MACHINE" --argjson cores "$CORES" --argjson n "$N" --argjson per "$per" \
  --argjson ntk "$ntk" --argjson proj "$proj_h" --argjson projntk "$projntk_h" \
  --argjson gflop "$gflop" --argjson rate "$rate" --argjson inner "$inner" --argjson ms "$ms" \
  --arg log "$line" --argjson ntkw "$ntk_wall" --argjson perw "$per_wall" \
  --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" \
  '{machine: $machine, cores: $cores, archs: $n, load_average: $load,
    table_cpu_s_per_arch: $per, table_wall_s_per_arch: $perw,
    table_ntk_cpu_s_per_arch: $ntk, table_ntk_wall_s_per_arch: $ntkw,
    whole_space_h: $proj, whole_space_ntk_h: $projntk, ntk_gflop_per_arch: $gflop,
    ntk_gflops_achieved: $rate, search_wall_ms: $inner, search_cpu_ms_with_start: $ms,
    hnas_table_log: $log}' > "$OUT"
echo "wrote $OUT"
