#!/usr/bin/env bash
# scripts/build.sh: configures and builds freenas into build/ (Release). CUDA, cuDNN and NCCL
# are used when found (e.g. under /usr/local/cuda) and reported in the feature summary.
#   bash scripts/build.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)"
