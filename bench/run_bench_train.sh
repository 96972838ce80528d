#!/usr/bin/env bash
# bench/run_bench_train.sh: training throughput of the HNAS DARTS evaluation recipe
# (bench/bench_train.c: C = 16, 5 layers, batch 576, float32) on this CPU or the current GPU;
# prints the table and writes its JSON line to bench/results/train_<device>.json.
#   bash bench/run_bench_train.sh [batch 576] [steps 3] [cpu|cuda]
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/results
dev="${3:-cpu}"
./build/bin/bench_train "${1:-576}" "${2:-3}" "" f32 "$dev" | tee /dev/stderr | tail -1 \
    > "bench/results/train_${dev}.json"
