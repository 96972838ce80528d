#!/usr/bin/env bash
# bench/run_bench.sh: builds and runs the CPU search benchmark; prints the table and writes
# JSON (default bench/results/search_cpu.json).
#   bash bench/run_bench.sh [--reps N] [--json FILE]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh > /dev/null
mkdir -p bench/results
args=("$@")
[[ " ${args[*]} " == *" --json "* ]] || args+=(--json bench/results/search_cpu.json)
./build/bin/bench_search --data "${FREENAS_DATA:-../shared/data}" "${args[@]}"
