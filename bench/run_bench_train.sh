#!/usr/bin/env bash
# bench/run_bench_train.sh: training throughput of the HNAS DARTS evaluation recipe
# (bench/bench_train.c: C = 16, 5 layers, batch 576, float32) on this CPU; prints the table
# and writes its JSON line to bench/results/train_cpu.json.
#   bash bench/run_bench_train.sh [batch 576] [steps 3]
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/results
./build/bin/bench_train "${1:-576}" "${2:-3}" | tee /dev/stderr | tail -1 > bench/results/train_cpu.json
