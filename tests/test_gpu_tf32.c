/* tests/test_gpu_tf32.c: TF32 as an explicit option (precision 19, --tf32, fn_exec_opts.tf32):
 * cuDNN and cuBLAS may use TF32 tensor cores for float32 searches on CUDA, and only then.
 *
 * For NB201 SNIP, DARTS SNIP and NB201 SynFlow in float32 on the GPU: the TF32 search against
 * the FMA (default) search of the same seed: scores within 5e-2 of max |S| (TF32 keeps a 10-bit
 * mantissa in products: about 1e-3 per product), two TF32 runs the same bits (the algorithms
 * are deterministic), and the default search the same bits after a TF32 one (the math mode is
 * set per executor pass, the algorithm cache keyed on it). Prints each case's difference and
 * whether the architecture changed: the numbers docs/ARCHITECTURE.md asks for on a GPU.
 * Returns 77 (CTest skip) without a CUDA device or without the CUDA executor in this build.
 *   ./build/bin/test_gpu_tf32 ../shared/data */
#include <omp.h>
#include <stdio.h>
#include <string.h>

#include "metrics/metric.h"
#include "search/search.h"
#include "tests/test_gpu_skip.h"
#include "tests/test_search_case.h"
#include "tests/test_util.h"

int main(int argc, char **argv) {
    const char *data = argc > 1 ? argv[1] : "../shared/data";
    const int skip = test_gpu_start();
    if (skip) return skip;
    omp_set_num_threads(2);
    static const test_search_case cases[] = {
        {"nb201", "snip", 32, 64, 0, 0, 0, 0},
        {"darts", "snip", 32, 16, 16, 8, 0, 0},
        {"nb201", "synflow", 32, 0, 0, 0, 0, 0},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        fn_search_config cfg;
        fn_search_result fma, fma2, tf[2];
        test_search_case_config(&cases[c], data, 3, &cfg);
        cfg.device = FN_DEV_CUDA;
        search_run(&cfg, &fma);
        cfg.mopts.precision = FN_PRECISION_TF32;
        search_run(&cfg, &tf[0]);
        search_run(&cfg, &tf[1]);
        cfg.mopts.precision = 32;
        search_run(&cfg, &fma2);
        CHECKF(fma.status == FN_OK && tf[0].status == FN_OK, "%s/%s: %s %s", cases[c].space,
               cases[c].metric, fma.msg, tf[0].msg);
        const double d = test_score_diff(&fma, &tf[0]);
        CHECKF(d <= 5e-2, "%s/%s: TF32 scores differ by %.3g of max |S|", cases[c].space,
               cases[c].metric, d);
        CHECKF(test_search_same(&tf[0], &tf[1]), "%s/%s: two TF32 runs differ", cases[c].space,
               cases[c].metric);
        CHECKF(test_search_same(&fma, &fma2), "%s/%s: the default search changed after a TF32 one",
               cases[c].space, cases[c].metric);
        printf("%s/%s fp32: TF32 vs FMA scores differ by %.3g of max |S|, value %.6g vs %.6g, "
               "architecture %s\n", cases[c].space, cases[c].metric, d, tf[0].value, fma.value,
               strcmp(fma.arch, tf[0].arch) ? "CHANGED" : "the same");
    }
    return test_summary("test_gpu_tf32");
}
