#!/usr/bin/env bash
# scripts/test.sh: installs dependencies, builds, and runs every test with CTest.
# GPU tests skip (CTest skip code 77) where no GPU exists. Test data: ../shared next to the
# checkout (override with -DFREENAS_SHARED=DIR through FREENAS_CMAKE_ARGS).
#   bash scripts/test.sh            # all tests
#   bash scripts/test.sh -L unit    # extra arguments go to ctest
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release ${FREENAS_CMAKE_ARGS:-}
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure "$@"
