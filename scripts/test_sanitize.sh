#!/usr/bin/env bash
# scripts/test_sanitize.sh: builds freenas with AddressSanitizer + UndefinedBehaviorSanitizer
# (-DFREENAS_SANITIZE=ON, CUDA off, in build-asan/) and runs CTest under it. Any report (memory
# error, undefined behaviour, leak outside tests/sanitize/lsan.supp's third-party list) ends
# the process with an error, so the run is green only with zero reports.
#   bash scripts/test_sanitize.sh                # every CPU test
#   bash scripts/test_sanitize.sh -L fast_asan   # the subset .ci/run uses (extra args: ctest)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFREENAS_SANITIZE=ON \
      ${FREENAS_CMAKE_ARGS:-} > build-asan.configure.log || { cat build-asan.configure.log; exit 1; }
cmake --build build-asan -j"$(nproc)"
# halt on the first report; full stacks for leaks so suppressions match the library frames
# allocator_may_return_null: the out-of-memory tests ask for 300 GiB and expect NULL back
export ASAN_OPTIONS="detect_leaks=1:fast_unwind_on_malloc=0:detect_stack_use_after_return=1:allocator_may_return_null=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$PWD/tests/sanitize/lsan.supp:print_suppressions=0"
export FREENAS_TIMEOUT_SCALE=5 # scripts with their own per-command limits (tests/bad_input.sh)
export FREENAS_TEST_QUICK=1    # tests with a long case list take one case per code path (test_stacked)
# idle OpenMP threads sleep instead of spinning: with -j2 and tests that run up to 8 threads
# (test_bundle), spinning threads under ASan starved the others (test_bundle beside
# test_stacked: 310 s, passive 90 s); no result depends on it
export OMP_WAIT_POLICY=passive
ctest --test-dir build-asan --output-on-failure -LE gpu "$@"
