/* tests/test_bundle.c: a bundle of searches (search/bundle.h) gives each search the result of
 * the same search run alone, bit for bit.
 *
 * A. Every space and metric, float32 and float64 (the cases of test_threads.c, small), as
 *    bundles of 3 seeds on 2 threads (a slot runs two searches in turn, so arenas are reused
 *    across searches of different seeds), on 5 threads (3 slots, 2 threads idle), on 8
 *    threads (3 slots would leave 5 idle: one search at a time on all 8) and on 1 thread
 *    (one after another): score matrix, value,
 *    max |S|, architecture and degeneracy flag against search_run of each seed on 2 threads.
 * B. Failure isolation: a bundle whose middle search has a missing data file (data_error)
 *    and whose last has an unknown metric (config_error); the first still equals its single
 *    search, and the failures carry their messages.
 * C. Compatibility and sizing rules: seeds and alpha scales may differ within a bundle,
 *    metric, batch, width and device may not; search_bundle_size respects the cap, the thread
 *    count and the memory given (one search's bytes from search_bytes), for CUDA searches
 *    too (their own rule: cap 0 is 1, no half-idle rule, 96 MiB more per search). CUDA
 *    searches in a program with no CUDA backend fail one by one in their slots.
 *    tests/test_gpu_bundle.c runs CUDA bundles on a GPU.
 *   ./build/bin/test_bundle ../shared/data */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "search/bundle.h"
#include "tests/test_search_case.h"
#include "tests/test_util.h"

#define K 3

static void parity(const char *data, search_bundle *b) {
    static const int threads[] = {2, 5, 8, 1};
    test_bundle_parity(test_bundle_cases, test_bundle_ncases, K, threads,
                       (int)(sizeof threads / sizeof threads[0]), FN_DEV_CPU, data, b);
}

static void isolation(const char *data, search_bundle *b) {
    const test_search_case k = {"nb201", "snip", -1, 8, 0, 0, 0, 0};
    fn_search_config cfg[3];
    fn_search_result *ref = mallocCheck(sizeof *ref), *res = mallocCheck(sizeof(fn_search_result) * 3);
    for (int i = 0; i < 3; i++) test_search_case_config(&k, data, (uint64_t)i, &cfg[i]);
    cfg[1].data_path = "no-such-directory";
    cfg[2].metric = "no_such_metric";
    omp_set_num_threads(2);
    search_run(&cfg[0], ref);
    search_bundle_run(b, cfg, 3, 2, res);
    CHECKF(test_search_same(ref, &res[0]), "the good search of a failing bundle differs from its single run");
    CHECKF(res[1].status == FN_ERR_DATA && strstr(res[1].msg, "no-such-directory"),
           "missing data: status %s, message '%s'", fn_status_name(res[1].status), res[1].msg);
    CHECKF(res[2].status == FN_ERR_CONFIG && strstr(res[2].msg, "no_such_metric"),
           "unknown metric: status %s, message '%s'", fn_status_name(res[2].status), res[2].msg);
    printf("isolation: ok + %s ('%.60s...') + %s: the good search unchanged\n",
           fn_status_name(res[1].status), res[1].msg, fn_status_name(res[2].status));
    /* CUDA searches where this program has no CUDA backend: one slot each (3 threads), and
     * each fails alone with the device's message */
    for (int i = 0; i < 3; i++) test_search_case_config(&k, data, (uint64_t)i, &cfg[i]), cfg[i].device = FN_DEV_CUDA;
    search_bundle_run(b, cfg, 3, 3, res);
    for (int i = 0; i < 3; i++)
        CHECKF(res[i].status != FN_OK && strstr(res[i].msg, "cuda"),
               "CUDA search %d without a backend: status %s, message '%s'", i,
               fn_status_name(res[i].status), res[i].msg);
    CHECK(omp_get_max_threads() == 2);
    printf("isolation: 3 CUDA searches without a CUDA backend: %s ('%.60s')\n",
           fn_status_name(res[0].status), res[0].msg);
    free(ref);
    free(res);
}

static void rules(const char *data) {
    const test_search_case k = {"nb201", "snip", -1, 8, 0, 0, 0, 0};
    fn_search_config a, c;
    test_search_case_config(&k, data, 1, &a);
    c = a;
    c.seed = 9;
    c.alpha_scale = 0.5;
    c.augment = 0;
    CHECK(search_bundle_compatible(&a, &c));
    c = a, c.metric = "synflow";
    CHECK(!search_bundle_compatible(&a, &c));
    c = a, c.batch = 16;
    CHECK(!search_bundle_compatible(&a, &c));
    c = a, c.channels = 8;
    CHECK(!search_bundle_compatible(&a, &c));
    c = a, c.device = FN_DEV_CUDA;
    CHECK(!search_bundle_compatible(&a, &c));
    c = a, c.mopts.precision = 64;
    CHECK(!search_bundle_compatible(&a, &c));

    char err[FN_ERRLEN] = "";
    const size_t one = search_bytes(&a, err, sizeof err);
    CHECKF(one > (size_t)1 << 20, "search_bytes: %zu (%s)", one, err);
    /* the executor of a search reports the same bytes */
    fn_search_result *r = mallocCheck(sizeof *r);
    search_run(&a, r);
    CHECKF(r->bytes == one, "search_bytes %zu, the search's executor %zu", one, r->bytes);
    c = a, c.metric = "synflow"; /* its executor keeps the head's input too */
    const size_t sf = search_bytes(&c, err, sizeof err);
    search_run(&c, r);
    CHECKF(r->status == FN_OK && r->bytes == sf, "SynFlow: search_bytes %zu, the executor %zu",
           sf, r->bytes);
    free(r);
    CHECK(search_bundle_size(&a, 0, 8, 1, 100 * one) == 8);        /* threads bound */
    CHECK(search_bundle_size(&a, 5, 8, 1, 100 * one) == 5);        /* cap */
    CHECK(search_bundle_size(&a, 3, 8, 1, 100 * one) == 1);        /* cap, half idle */
    CHECK(search_bundle_size(&a, 0, 8, 1, (size_t)(5.6 * one)) == 5); /* memory: 5.04 fit */
    CHECK(search_bundle_size(&a, 0, 8, 1, (size_t)(4.5 * one)) == 1); /* 4 of 8: half idle */
    CHECK(search_bundle_size(&a, 3, 4, 1, 100 * one) == 3);
    CHECK(search_bundle_size(&a, 0, 8, 1, one / 2) == 1);          /* never below 1 */
    CHECK(search_bundle_size(&a, 0, 1, 1, 100 * one) == 1);
    c = a, c.metric = "no_such_metric";
    CHECK(search_bytes(&c, err, sizeof err) == 0 && strstr(err, "metric"));
    CHECK(search_bundle_size(&c, 0, 8, 1, 0) == 1);
    c = a, c.metric = "grasp";
    CHECKF(search_bytes(&c, err, sizeof err) > one, "GraSP counts its tangent arenas");
    CHECK(fn_mem_available() > 0);
    /* CUDA: a slot (thread, stream) per search up to the cap and the threads, no half-idle
     * rule, device memory at search_bytes + 96 MiB each; cap 0 keeps one search at a time */
    c = a, c.device = FN_DEV_CUDA;
    const size_t cu = one + ((size_t)96 << 20);
    CHECK(search_bundle_size(&c, 0, 8, 1, 100 * cu) == 1);
    CHECK(search_bundle_size(&c, 4, 8, 1, 100 * cu) == 4);
    CHECK(search_bundle_size(&c, 2, 8, 1, 100 * cu) == 2); /* the CPU's rule would say 1 */
    CHECK(search_bundle_size(&c, 16, 4, 1, 100 * cu) == 4);
    CHECK(search_bundle_size(&c, 8, 8, 1, (size_t)(3.5 * cu)) == 3); /* 3.15 fit */
    CHECK(search_bundle_size(&c, 8, 8, 1, cu / 2) == 1);
    CHECK(search_bundle_size(&c, 8, 1, 1, 100 * cu) == 1);
    /* no CUDA backend in this program: the free memory is unknown, the cap and threads rule */
    CHECK(search_bundle_size(&c, 4, 8, 2, 0) == 4);
    printf("rules: one NB201 SNIP b8 search %.1f MiB; bundle sizes as expected\n",
           one / 1048576.0);
}

int main(int argc, char **argv) {
    const char *data = argc > 1 ? argv[1] : "../shared/data";
    search_bundle *b = search_bundle_new();
    parity(data, b);
    isolation(data, b);
    search_bundle_free(b);
    rules(data);
    return test_summary("test_bundle");
}
