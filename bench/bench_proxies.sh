#!/usr/bin/env bash
# bench/bench_proxies.sh: per-architecture zero-cost proxy throughput on this machine. Scores
# the same N sampled NB201 architectures (CIFAR-10 networks) with each proxy through
# `freenas score --json`, one proxy at a time, on 1 thread (the way a sweep runs one rank per
# core), and reports ms per architecture, architectures per second, the extrapolated time for
# all 15,625 architectures on this machine's cores (one rank each), and the FLOPs of the
# networks' forward passes per second of proxy time (a floor for the achieved rate: backward
# passes are not counted; NB201 "FLOPs" are multiply-accumulates). Prints a table and writes
# bench/results/proxies_cpu.json, or with DEVICE=cuda bench/results/proxies_cuda.json: the
# networks run on the GPU (one process; the host parts of naswot, fisher, jacob_cov and ntk
# use OMP_NUM_THREADS threads, default all cores), and the 15625 column is for one GPU.
#   bash bench/bench_proxies.sh [build/bin] [N]
#   DEVICE=cuda bash bench/bench_proxies.sh build/bin 100
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-build/bin}
N=${2:-12}
DATA=${FREENAS_DATA:-../shared/data}
TSV=$DATA/nb201/nb201_accuracy.tsv
DEVICE=${DEVICE:-cpu}
OUT=${BENCH_OUT:-bench/results/proxies_$DEVICE.json}
CORES=$(nproc)
if [ "$DEVICE" = cuda ]; then
  export OMP_NUM_THREADS=${OMP_NUM_THREADS:-$CORES}
  RANKS=1 # one process drives the GPU
  MACHINE="$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1) + $CORES-core host"
else
  export OMP_NUM_THREADS=1
  RANKS=$CORES
  MACHINE="$(lscpu | sed -n 's/^Model name: *//p' | head -1)"
fi
# N indices spread over the space (deterministic)
idx=()
for i in $(seq 0 $((N - 1))); do idx+=(--index $(( (i * 1303 + 17) % 15625 ))); done
proxies=(params flops synflow snip grad_norm naswot fisher jacob_cov ntk_trace grasp)
rows=()
printf "%-10s %10s %10s %14s %14s\n" proxy "ms/arch" "archs/s" "15625 archs" "fwd GMAC/s"
for p in "${proxies[@]}"; do
  "$BIN/freenas" score "${idx[@]}" --proxy "$p",flops --data "$DATA" --benchmark "$TSV" --json \
    --device "$DEVICE" > "/tmp/bench_proxy_$p.jsonl"
  # flops (batch 1) x the proxy's batch = forward FLOPs per call
  batch=$(case $p in params|flops) echo 0;; synflow) echo 1;; naswot) echo 128;; *) echo 64;; esac)
  read -r ms gf < <(jq -s -r --arg p "$p" --argjson b "$batch" '
      (map(.seconds[$p]) | add / length * 1000) as $ms |
      (map(.seconds[$p]) | add) as $s |
      (if $b == 0 or $s == 0 then 0 else (map(.proxies.flops * $b) | add) / $s / 1e9 end) as $gf |
      "\($ms) \($gf)"' "/tmp/bench_proxy_$p.jsonl")
  aps=$(awk -v m="$ms" 'BEGIN { if (m > 0) printf "%.1f", 1000 / m; else printf "null" }') # null: below the timer
  all=$(awk -v m="$ms" -v c="$RANKS" 'BEGIN { printf "%.0f", 15625 * m / 1000 / c }')
  printf "%-10s %10.2f %10s %12s s %14.2f\n" "$p" "$ms" "$aps" "$all" "$gf"
  rows+=("{\"proxy\":\"$p\",\"ms_per_arch\":$ms,\"archs_per_s\":$aps,\"all_15625_s\":$all,\"forward_gmacs_per_s\":$gf}")
  rm -f "/tmp/bench_proxy_$p.jsonl"
done
mkdir -p bench/results
{
  printf '{"machine":"%s","device":"%s","cores":%d,"processes_for_all":%d,"archs":%d,"omp_threads":%d,"results":[' \
    "$MACHINE" "$DEVICE" "$CORES" "$RANKS" "$N" "$OMP_NUM_THREADS"
  (IFS=,; printf '%s' "${rows[*]}")
  printf ']}\n'
} > "$OUT"
echo "wrote $OUT"
