#!/usr/bin/env bash
# bench/run_bench_train.sh: training throughput of the HNAS DARTS evaluation recipe
# (bench/bench_train.c) at batch 576 for several thread counts; rows and JSON lines go to
# bench/results/train_<host>.txt / .jsonl.
#   bash bench/run_bench_train.sh [build dir] [steps] [threads...]
set -euo pipefail
build=${1:-build}; steps=${2:-3}; shift $(( $# > 2 ? 2 : $# )) || true
threads=("$@"); [ ${#threads[@]} -gt 0 ] || threads=("$(nproc)")
out=bench/results; mkdir -p "$out"; host=$(hostname -s)
for t in "${threads[@]}"; do
  OMP_NUM_THREADS=$t OPENBLAS_NUM_THREADS=1 "$build/bin/bench_train" 576 "$steps" | tee /tmp/bench_train.$$
  head -2 /tmp/bench_train.$$ >> "$out/train_$host.txt"
  tail -1 /tmp/bench_train.$$ >> "$out/train_$host.jsonl"
done
rm -f /tmp/bench_train.$$
