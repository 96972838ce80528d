/* tests/test_gpu_bundle.c: CUDA bundles (search/bundle.h): K searches on K host threads, each
 * thread with its own CUDA context and stream (gpu/exec_cuda_impl.cuh), give each search the
 * result of the same CUDA search run alone, bit for bit.
 *
 * A. Every space and metric of the CPU bundle test (test_bundle_cases), float32 and
 *    float64, on the GPU: single CUDA searches of 4 seeds on the main thread, then bundles of the 4 on 4 threads (a slot
 *    each), on 2 threads (a slot runs two searches in turn: its arenas and CUDA graphs are
 *    reused across seeds) and on 1 thread; score matrix, value, max |S|, architecture and
 *    degeneracy flag compared bit for bit. The first search of a shape on a thread runs
 *    eagerly, the second is captured into a CUDA graph, later ones replay it: every path.
 * B. Concurrency: a bundle of 8 NB201 SynFlow searches on 8 threads, three times (eager,
 *    captured and replayed graphs of 8 threads at once), against single searches.
 * C. Sizing: fn_backend.mem_free reports the GPU's free memory; search_bundle_size of a
 *    CUDA search with cap 4 on 8 threads is 4 (a small search fits many times).
 * Returns 77 (CTest skip) without a CUDA device or without the CUDA executor in this build.
 *   ./build/bin/test_gpu_bundle ../shared/data */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/backend.h"
#include "search/bundle.h"
#include "tests/test_gpu_skip.h"
#include "tests/test_search_case.h"
#include "tests/test_util.h"

#define K 4
#define KSTRESS 8

static void cuda_config(const test_search_case *k, const char *data, uint64_t seed,
                        fn_search_config *c) {
    test_search_case_config(k, data, seed, c);
    c->device = FN_DEV_CUDA;
}

static void stress(const char *data, search_bundle *b) {
    const test_search_case k = {"nb201", "synflow", -1, 0, 0, 0, 0, 0};
    fn_search_config cfg[KSTRESS];
    fn_search_result *ref = mallocCheck(sizeof(fn_search_result) * KSTRESS),
                     *res = mallocCheck(sizeof(fn_search_result) * KSTRESS);
    omp_set_num_threads(2);
    for (int i = 0; i < KSTRESS; i++) {
        cuda_config(&k, data, (uint64_t)(100 + i), &cfg[i]);
        search_run(&cfg[i], &ref[i]);
        CHECKF(ref[i].status == FN_OK, "stress seed %d: %s", 100 + i, ref[i].msg);
    }
    int ok = 1;
    for (int round = 0; round < 3; round++) {
        memset(res, 0xff, sizeof(fn_search_result) * KSTRESS);
        search_bundle_run(b, cfg, KSTRESS, KSTRESS, res);
        for (int i = 0; i < KSTRESS; i++) {
            const int eq = test_search_same(&ref[i], &res[i]);
            CHECKF(eq, "stress round %d, search %d differs from its single search (%s)", round,
                   i, res[i].msg);
            ok &= eq;
        }
    }
    printf("stress: %d NB201 SynFlow searches on %d threads, 3 rounds: %s\n", KSTRESS, KSTRESS,
           ok ? "bit-identical" : "DIFFERENT");
    free(ref);
    free(res);
}

static void sizing(const char *data) {
    const test_search_case k = {"nb201", "synflow", -1, 0, 0, 0, 0, 0};
    fn_search_config c;
    cuda_config(&k, data, 1, &c);
    const size_t free_b = backend_mem_free(FN_DEV_CUDA);
    CHECKF(free_b > ((size_t)1 << 30), "the GPU's free memory: %zu bytes", free_b);
    CHECK(search_bundle_size(&c, 4, 8, 1, 0) == 4);
    CHECK(search_bundle_size(&c, 0, 8, 1, 0) == 1);
    printf("sizing: %.1f GiB free on the GPU; bundle of NB201 SynFlow with cap 4: %d\n",
           free_b / 1073741824.0, search_bundle_size(&c, 4, 8, 1, 0));
}

int main(int argc, char **argv) {
    const char *data = argc > 1 ? argv[1] : "../shared/data";
    const int skip = test_gpu_start();
    if (skip) return skip;
    search_bundle *b = search_bundle_new();
    static const int threads[] = {4, 2, 1};
    test_bundle_parity(test_bundle_cases, test_bundle_ncases, K, threads,
                       (int)(sizeof threads / sizeof threads[0]), FN_DEV_CUDA, data, b);
    stress(data, b);
    search_bundle_free(b);
    sizing(data);
    return test_summary("test_gpu_bundle");
}
