#!/usr/bin/env bash
# bench/run_bench_train.sh: training throughput of the HNAS DARTS evaluation recipe
# (bench/bench_train.c: C = 16, 5 layers, batch 576, float32) on this CPU or the current GPU;
# prints the table and writes its JSON line to bench/results/train_<device>.json.
#   bash bench/run_bench_train.sh [batch 576] [steps 3] [cpu|cuda]
# With --torch [PAIRS]: the same net, recipe, batch and thread count in PyTorch
# (bench/pytorch/train_darts_torch.py), run in turn with freenas PAIRS times (default 3; the
# machine's drift hits both alike), medians of each program's own images/s (first step
# untimed in both) and the ratio, to bench/results/train_cpu_vs_torch.json. PyTorch comes from
# $TORCH_PYTHON, else a virtual environment bench/.venv, made when asked
# (FREENAS_INSTALL_TORCH=1: python3 -m venv bench/.venv && pip install torch; a few GB; not a freenas
# dependency).
#   bash bench/run_bench_train.sh --torch [PAIRS] [batch 576] [threads 2]
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/results
if [ "${1:-}" != "--torch" ]; then
  dev="${3:-cpu}"
  ./build/bin/bench_train "${1:-576}" "${2:-3}" "" f32 "$dev" | tee /dev/stderr | tail -1 \
      > "bench/results/train_${dev}.json"
  exit 0
fi
PAIRS=${2:-3} BATCH=${3:-576} THREADS=${4:-2}
source bench/torch_python.sh # PY: $TORCH_PYTHON or bench/.venv
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for i in $(seq "$PAIRS"); do
  OMP_NUM_THREADS=$THREADS ./build/bin/bench_train "$BATCH" 3 | tail -1 >> "$out"
  "$PY" bench/pytorch/train_darts_torch.py --batch "$BATCH" --steps 3 --threads "$THREADS" >> "$out"
done
jq -s --arg machine "$(lscpu | sed -n 's/^Model name: *//p' | head -1)" '
  def med: sort | if length % 2 == 1 then .[length / 2 | floor]
                  else (.[length / 2 - 1] + .[length / 2]) / 2 end;
  (map(select(.bench == "train")) ) as $f | (map(select(.impl == "pytorch"))) as $t |
  {machine: $machine, net: $f[0].net, batch: $f[0].batch, threads: $f[0].threads,
   pairs: ($f | length), freenas_images_per_s: ($f | map(.images_per_s) | med),
   pytorch_images_per_s: ($t | map(.images_per_s) | med), torch: $t[0].torch,
   params_freenas: $f[0].params, params_pytorch: $t[0].params,
   freenas_runs: ($f | map(.images_per_s)), pytorch_runs: ($t | map(.images_per_s))}
  | .speedup = (.freenas_images_per_s / .pytorch_images_per_s)' "$out" |
  tee bench/results/train_cpu_vs_torch.json
