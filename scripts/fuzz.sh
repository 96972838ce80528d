#!/usr/bin/env bash
# scripts/fuzz.sh: builds the libFuzzer harnesses of fuzz/ with clang (ASan + UBSan) in
# build-fuzz and runs one harness, or each in turn, for SECONDS each (default 60).
#
#   bash scripts/fuzz.sh                    # build only
#   bash scripts/fuzz.sh records 600        # fuzz_records for 10 minutes
#   bash scripts/fuzz.sh all 120            # every harness, 2 minutes each, one after another
#
# A run starts from the seed corpus fuzz/corpus/NAME and keeps what it finds in
# build-fuzz/corpus/NAME (not the repo's corpus: minimise and copy interesting inputs by
# hand); crash-*, leak-*, timeout-* and oom-* files land in build-fuzz/artifacts/NAME/ and its
# log in build-fuzz/logs/NAME.log. Replay one with build-fuzz/bin/fuzz_NAME FILE.
# Environment: CC (default clang), JOBS (build jobs, default 2), NICE (default 15),
# FUZZ_ARGS (extra libFuzzer flags, e.g. -max_len=65536).
set -euo pipefail
cd "$(dirname "$0")/.."
CC=${CC:-clang}
JOBS=${JOBS:-2}
NICE=${NICE:-15}
BUILD=build-fuzz
HARNESSES="config records manifest score_table nb201_benchmark nb201_arch darts_genotype
           dataset refbin report"

mkdir -p "$BUILD"
cmake -S . -B "$BUILD" -DCMAKE_C_COMPILER="$CC" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DFREENAS_WITH_CUDA=OFF -DFREENAS_FUZZ=ON > "$BUILD/configure.log" 2>&1 ||
    { cat "$BUILD/configure.log"; exit 1; }
nice -n "$NICE" cmake --build "$BUILD" -j "$JOBS" --target fuzz_all

which=${1:-}
secs=${2:-60}
[ -z "$which" ] && exit 0
[ "$which" = all ] && set -- $HARNESSES || set -- "$which"
for name in "$@"; do
    bin="$BUILD/bin/fuzz_$name"
    [ -x "$bin" ] || { echo "no harness fuzz_$name (one of: $HARNESSES)" >&2; exit 2; }
    mkdir -p "$BUILD/corpus/$name" "$BUILD/artifacts/$name" "$BUILD/logs"
    dict=()
    [ -f "fuzz/dict/$name.dict" ] && dict=(-dict="fuzz/dict/$name.dict")
    echo "fuzz_$name: ${secs} s, log $BUILD/logs/$name.log"
    # -close_fd_mask=3: the parsers' own messages are not kept; libFuzzer's and the sanitizers'
    # reports still go to the log
    set +e
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 nice -n "$NICE" "$bin" \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
        -close_fd_mask=3 -print_final_stats=1 -artifact_prefix="$BUILD/artifacts/$name/" \
        "${dict[@]}" ${FUZZ_ARGS:-} "$BUILD/corpus/$name" "fuzz/corpus/$name" \
        > "$BUILD/logs/$name.log" 2>&1
    rc=$?
    set -e
    { grep -E '^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE)' "$BUILD/logs/$name.log" || true; } | tail -1
    grep -E 'stat::number_of_executed_units|stat::peak_rss_mb' "$BUILD/logs/$name.log" || true
    [ "$rc" = 0 ] || { echo "fuzz_$name: exit $rc (see $BUILD/logs/$name.log)"; exit "$rc"; }
done
