/* tests/test_train_ref.c: the trainer (train/core.h) on the CPU against
 * ../shared/ref/darts_train_tiny.bin (README there), float64 and float32, plus a control that
 * must fail; the case and its tolerances are tests/train_ref_case.h (issue 25, must-show 1;
 * tests/test_gpu.c runs the same case on CUDA).
 *   ./build/bin/test_train_ref ../shared/ref/darts_train_tiny.bin */
#include <stdio.h>

#include "base/common.h"
#include "datasets/refbin.h"
#include "tests/train_ref_case.h"
#include "tests/test_util.h"

static fn_ref_file ref;

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: test_train_ref darts_train_tiny.bin\n");
        return 2;
    }
    char err[FN_ERRLEN];
    if (refbin_load(argv[1], &ref, err, sizeof err)) {
        fprintf(stderr, "SKIP: %s\n", err);
        return 77;
    }
    train_ref_case(&ref, FN_F64, FN_DEV_CPU, 0);
    train_ref_case(&ref, FN_F32, FN_DEV_CPU, 0);
    const double ctl = train_ref_case(&ref, FN_F64, FN_DEV_CPU, 1);
    CHECKF(ctl > 1, "a wrong drop-path scale still matched the reference (%.3g)", ctl);
    printf("control  drop-path 1/0.75: loss error %.3g x the tolerance (must be > 1)\n", ctl);
    refbin_free(&ref);
    return test_summary("test_train_ref");
}
