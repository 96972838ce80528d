/* tests/test_gpu_stacked.c: stacked searches on the GPU (search_run_stacked, engine/graph_stack.h:
 * K models in one CUDA executor, grouped cuDNN convs, batched cuBLAS head, block-wise mix and
 * concat kernels) give each search the result of the same CUDA search run alone.
 *
 * A. Every space and metric of the bundle tests, float32 and float64: 3 seeds stacked against
 *    their single CUDA searches (test_stacked_parity: the same architecture, scores within
 *    1e-10 of max |S| in float64, 1e-3 in float32).
 * B. A stack of 8 NB201 SynFlow searches three times (the first pass of a shape runs eagerly,
 *    the second is captured into a CUDA graph, the third replays it): the three give the same
 *    bits, and each search its single search's architecture.
 * Returns 77 (CTest skip) without a CUDA device or without the CUDA executor in this build.
 *   ./build/bin/test_gpu_stacked ../shared/data */
#include <omp.h>
#include <stdio.h>
#include <string.h>

#include "search/search.h"
#include "tests/test_gpu_skip.h"
#include "tests/test_search_case.h"
#include "tests/test_util.h"

#define KSTACK 8

static void replays(const char *data) {
    const test_search_case k = {"nb201", "synflow", -1, 0, 0, 0, 0, 0};
    fn_search_config cfg[KSTACK];
    static fn_search_result ref[KSTACK], res[3][KSTACK];
    for (int i = 0; i < KSTACK; i++) {
        test_search_case_config(&k, data, (uint64_t)(40 + i), &cfg[i]);
        cfg[i].device = FN_DEV_CUDA;
        search_run(&cfg[i], &ref[i]);
        CHECKF(ref[i].status == FN_OK, "single CUDA search %d: %s", i, ref[i].msg);
    }
    for (int r = 0; r < 3; r++) search_run_stacked(cfg, KSTACK, res[r]);
    int ok = 1;
    for (int i = 0; i < KSTACK; i++) {
        const int same = test_search_same(&res[0][i], &res[1][i]) && test_search_same(&res[0][i], &res[2][i]);
        CHECKF(same, "stack of %d, search %d: eager, captured and replayed passes differ", KSTACK, i);
        CHECKF(res[0][i].status == FN_OK && !strcmp(res[0][i].arch, ref[i].arch) &&
                   test_score_diff(&ref[i], &res[0][i]) <= 1e-10,
               "stack of %d, search %d: %s, %s vs %s alone", KSTACK, i, res[0][i].msg,
               res[0][i].arch, ref[i].arch);
        ok &= same;
    }
    printf("cuda stack of %d NB201 SynFlow searches, eager / captured / replayed: %s\n", KSTACK,
           ok ? "the same bits, each its single search's architecture" : "DIFFERENT");
}

int main(int argc, char **argv) {
    const char *data = argc > 1 ? argv[1] : "../shared/data";
    const int skip = test_gpu_start();
    if (skip) return skip;
    omp_set_num_threads(2);
    test_stacked_parity(test_bundle_cases, test_bundle_ncases, data, FN_DEV_CUDA);
    replays(data);
    return test_summary("test_gpu_stacked");
}
