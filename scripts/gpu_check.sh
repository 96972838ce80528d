#!/usr/bin/env bash
# scripts/gpu_check.sh: the checks and benchmarks that need a GPU and that CI (no GPU) cannot
# run, in one go, for a short session on a GPU host. Each step has its own time limit and
# writes under OUT (default results/gpu_check); a failing step does not stop the others.
#   1. nvidia-smi, the build's feature summary
#   2. ctest -L gpu: the CUDA executor against the CPU reference, CUDA bundles and stacks
#      against single CUDA searches (tests/test_gpu_bundle.c, tests/test_gpu_stacked.c),
#      proxies and training on CUDA
#   3. bench_search --device cuda: time per search against the issue's targets (JSON)
#   4. bench_bundle --device cuda: searches per second against bundle size K (K host
#      threads, a CUDA stream each), every bundle checked bit for bit (JSON)
#   5. bench_bundle --device cuda --stacked: the same curve with K searches stacked into one
#      CUDA executor (grouped convs, one launch per node for K models), each architecture
#      checked against its single search (JSON)
#   6. a CUDA sweep with bundles and an ensemble through freenas_sweep, its ensemble scores
#      reduced by NCCL (FREENAS_REDUCE=nccl: on one rank too); the log must say "(nccl)"
# Needs build/ made with CUDA, cuDNN and cuBLAS (bash scripts/build.sh on that host) and the
# data under DATA (default ../shared/data).
#   bash scripts/gpu_check.sh            # about 7 minutes on an H100 (at most 11 if every step
#                                        # ran to its limit)
#   OUT=/tmp/gpu bash scripts/gpu_check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-results/gpu_check}
DATA=${DATA:-../shared/data}
BIN=build/bin
mkdir -p "$OUT"
status=0
step() { # step NAME SECONDS CMD...: runs CMD with a time limit, its output in OUT/NAME.log
    local name=$1 limit=$2
    shift 2
    local t0=$SECONDS
    timeout "$limit" "$@" > "$OUT/$name.log" 2>&1
    local rc=$?
    printf '%-14s rc=%-3d %4ds  %s\n' "$name" "$rc" $((SECONDS - t0)) "$OUT/$name.log" | tee -a "$OUT/steps.txt"
    [ "$rc" -eq 0 ] || status=1
    tail -n 25 "$OUT/$name.log"
}

if [ ! -x "$BIN/test_gpu" ] || [ ! -f "$BIN/libfreenas_cuda.so" ]; then
    echo "gpu_check: build/ has no CUDA executor (bash scripts/build.sh on a host with CUDA, cuDNN and cuBLAS)" >&2
    exit 2
fi
: > "$OUT/steps.txt"
step nvidia-smi 30 nvidia-smi
step ctest-gpu 200 ctest --test-dir build -L gpu --output-on-failure
step search-cuda 120 "$BIN/bench_search" --device cuda --warm --reps 5 --data "$DATA" \
    --cases nb201-synflow,nb201-snip,darts8-synflow,darts8-snip,darts20-synflow,darts224-synflow,n1ss3-synflow \
    --json "$OUT/search_cuda.json"
step bundle-cuda 150 "$BIN/bench_bundle" --device cuda --threads "$(nproc)" --sizes 1,4,16 \
    --min-seconds 1 --reps 2 --data "$DATA" \
    --cases nb201-synflow,nb201-snip,darts8-snip,darts20-synflow,darts224-synflow \
    --json "$OUT/bundle_cuda.json"
step stacked-cuda 120 "$BIN/bench_bundle" --device cuda --stacked --threads "$(nproc)" \
    --sizes 1,4,16,32 --min-seconds 1 --reps 2 --data "$DATA" \
    --cases nb201-synflow,nb201-snip,darts8-snip,darts20-synflow \
    --json "$OUT/stacked_cuda.json"
cat > "$OUT/sweep.yaml" <<EOF
name: gpu_check
output: $OUT/sweep
data: $DATA
bundle: 8
grid:
  space: nb201
  dataset: cifar10
  metric: [synflow, snip]
  seed: "0:15"
  device: cuda
ensembles:
  - {name: seeds, over: [seed], norm: zscore}
EOF
rm -rf "$OUT/sweep"
step sweep-cuda 90 env FREENAS_REDUCE=nccl "$BIN/freenas_sweep" "$OUT/sweep.yaml"
grep -q "reduced over 1 rank (nccl)" "$OUT/sweep-cuda.log" || { echo "gpu_check: the ensemble did not take the NCCL path"; status=1; }
echo "gpu_check: steps in $OUT/steps.txt"
exit $status
