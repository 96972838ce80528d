#!/usr/bin/env bash
# scripts/quickstart.sh: the main job on a fresh Debian machine: installs dependencies, builds,
# and runs a small real FreeDARTS search on NAS-Bench-201: SynFlow on alpha for seeds 0..9
# and SNIP for seeds 0..2 on real CIFAR-10 images, with ground-truth accuracies; then
# SynFlow on the 8-cell DARTS supernet for seeds 0..4 (genotypes, op counts per cell type).
# Data: ../shared/data next to the checkout, or FREENAS_DATA=DIR.
#   bash scripts/quickstart.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
bash scripts/build.sh
DATA="${FREENAS_DATA:-../shared/data}"
BENCH=()
[ -f "$DATA/nb201/nb201_accuracy.tsv" ] && BENCH=(--benchmark "$DATA/nb201/nb201_accuracy.tsv")
./build/bin/freenas info
./build/bin/freenas search --space nb201 --metric synflow --seeds 0:9 "${BENCH[@]}"
if [ -d "$DATA/cifar10" ]; then
  ./build/bin/freenas search --space nb201 --metric snip --dataset cifar10 --data "$DATA" \
    --seeds 0:2 "${BENCH[@]}"
else
  echo "quickstart: no labelled data at $DATA (set FREENAS_DATA): skipping the SNIP search"
fi
# DARTS: the 8-cell supernet, SynFlow, genotypes and per-cell-type operation counts
./build/bin/freenas search --space darts --metric synflow --seeds 0:4
