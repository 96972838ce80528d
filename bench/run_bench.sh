#!/usr/bin/env bash
# bench/run_bench.sh: builds and runs the search benchmark; prints the table and writes JSON
# (default bench/results/search_cpu.json, with --device cuda bench/results/search_cuda.json).
#   bash bench/run_bench.sh [--reps N] [--json FILE] [--device cuda] [--no-graphs]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh > /dev/null
mkdir -p bench/results
args=("$@")
dev=cpu
[[ " ${args[*]} " == *" --device cuda "* ]] && dev=cuda
[[ " ${args[*]} " == *" --json "* ]] || args+=(--json bench/results/search_${dev}.json)
./build/bin/bench_search --data "${FREENAS_DATA:-../shared/data}" "${args[@]}"
