/* tests/test_stacked.c: K searches stacked into one executor pass (search_run_stacked,
 * engine/graph_stack.h) give each search the result of the same search run alone.
 *
 * A. Every space and metric, float32 and float64 (the bundle tests' cases), 3 seeds with
 *    different alpha scales, stacked: each search's architecture equals its single search's,
 *    and its scores and value are within a stated tolerance of them: float64 1e-10 of max |S|,
 *    float32 1e-3. Each stacked conv runs the single search's kernel on the same data, so
 *    with BN off (SynFlow's default form on DARTS and NB-1shot1) the scores are the same bits;
 *    elsewhere a single search folds BN gradient sums into its mixes (engine/graph_fold.h,
 *    which a stacked graph does not), and at batch > 1 a mix's dot products sum per segment
 *    and oneDNN picks kernels by batch: rounding-level differences. A search flagged
 *    degenerate alone (FD's DARTS SynFlow: its scores are rounding noise) must be flagged so
 *    stacked; its architecture is not compared. The table says how many matched bit for bit.
 * B. Failure isolation: a search whose alpha overflows R (non-finite) fails alone with a
 *    nan_score; one with a missing data file fails alone with a data_error; one with another
 *    batch is refused with a config_error; the others equal their single searches.
 * C. Composition: for every case, a search stacked with two others and, in second place, with
 *    one other gives the same bits: a stacked result depends on its own config and seed only
 *    (what a sweep needs to hand out stacks of any make-up and stay reproducible), not on its
 *    stack mates, their number or its place. A stack of 1 (a plain graph) is the single
 *    search bit for bit; CUDA searches in a program without the
 *    CUDA backend fail, every one, with the device's message (tests/test_gpu_stacked.c runs
 *    stacks on a GPU).
 * Under the sanitizers (FREENAS_TEST_QUICK=1) A and C take three cases, one per code path.
 *   ./build/bin/test_stacked ../shared/data */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "search/search.h"
#include "tests/test_search_case.h"
#include "tests/test_util.h"


/* Under the sanitizers (FREENAS_TEST_QUICK=1, scripts/test_sanitize.sh: every search runs
 * about 50 times slower) parity and composition take one case per stacked code path: the
 * labelled float32 pass with its per-model cross-entropy (SNIP), the tangent passes (GraSP),
 * and the concats and float64 of DARTS SynFlow. */
static const test_search_case quick_cases[] = {
    {"nb201", "snip", -1, 8, 0, 0, 0, 0},
    {"nb201", "grasp", -1, 4, 8, 0, 0, 0},
    {"darts", "synflow", -1, 0, 8, 5, 0, 0},
};
static const test_search_case *cases = test_bundle_cases;
static int ncases;

static void isolation(const char *data) {
    fn_search_config cfg[4];
    fn_search_result ref, res[4];
    /* SynFlow: alpha 1e200 overflows R in the second search only */
    const test_search_case sf = {"nb201", "synflow", -1, 0, 0, 0, 0, 0};
    for (int i = 0; i < 3; i++) test_search_case_config(&sf, data, (uint64_t)(20 + i), &cfg[i]);
    cfg[1].alpha_scale = 1e200;
    search_run_stacked(cfg, 3, res);
    CHECKF(res[1].status == FN_ERR_NAN && strstr(res[1].msg, "not finite"),
           "overflowing search: status %s, '%s'", fn_status_name(res[1].status), res[1].msg);
    for (int i = 0; i < 3; i += 2) {
        search_run(&cfg[i], &ref);
        CHECKF(res[i].status == FN_OK && !strcmp(res[i].arch, ref.arch) && test_score_diff(&ref, &res[i]) <= 1e-10,
               "search %d beside an overflowing one: %s, %s vs %s", i, res[i].msg, res[i].arch, ref.arch);
    }
    /* SNIP: a missing data file and another batch fail alone */
    const test_search_case sn = {"nb201", "snip", -1, 8, 0, 0, 0, 0};
    for (int i = 0; i < 4; i++) test_search_case_config(&sn, data, (uint64_t)(30 + i), &cfg[i]);
    cfg[1].data_path = "no-such-directory";
    cfg[2].batch = 4;
    search_run_stacked(cfg, 4, res);
    CHECKF(res[1].status == FN_ERR_DATA && strstr(res[1].msg, "no-such-directory"),
           "missing data: status %s, '%s'", fn_status_name(res[1].status), res[1].msg);
    CHECKF(res[2].status == FN_ERR_CONFIG && strstr(res[2].msg, "not stackable"),
           "another batch: status %s, '%s'", fn_status_name(res[2].status), res[2].msg);
    for (int i = 0; i < 4; i += 3) {
        search_run(&cfg[i], &ref);
        CHECKF(res[i].status == FN_OK && !strcmp(res[i].arch, ref.arch) && test_score_diff(&ref, &res[i]) <= 1e-3,
               "search %d beside failing ones: %s, %s vs %s", i, res[i].msg, res[i].arch, ref.arch);
    }
    printf("isolation: %s, %s and %s fail alone; the others equal their single searches\n",
           fn_status_name(FN_ERR_NAN), fn_status_name(res[1].status), fn_status_name(res[2].status));

    /* a search's stacked result does not depend on its stack mates, their number or its place */
    for (int c = 0; c < ncases; c++) {
        const test_search_case *tc = &cases[c];
        fn_search_config two[2];
        fn_search_result r2[2];
        for (int i = 0; i < 3; i++) test_search_case_config(tc, data, (uint64_t)(7 + 3 * i), &cfg[i]);
        two[0] = cfg[2], two[1] = cfg[0];
        search_run_stacked(cfg, 3, res);
        search_run_stacked(two, 2, r2);
        CHECKF(test_search_same(&res[0], &r2[1]) && test_search_same(&res[2], &r2[0]),
               "%s/%s: a search's stacked result changed with its stack mates (3 vs 2, "
               "first vs second place)", tc->space, tc->metric);
    }
    printf("composition: the stacked results of %d cases are the same bits in a stack of 3 and, "
           "reordered, of 2\n", ncases);
    /* a stack of one is the single search, bit for bit */
    test_search_case_config(&sn, data, 5, &cfg[0]);
    search_run(&cfg[0], &ref);
    search_run_stacked(cfg, 1, res);
    CHECKF(test_search_same(&ref, &res[0]), "a stack of one differs from its single search");
    /* CUDA without a CUDA backend in this program: every search fails with the message */
    for (int i = 0; i < 2; i++) test_search_case_config(&sf, data, (uint64_t)i, &cfg[i]), cfg[i].device = FN_DEV_CUDA;
    search_run_stacked(cfg, 2, res);
    for (int i = 0; i < 2; i++)
        CHECKF(res[i].status == FN_ERR_DEVICE && strlen(res[i].msg) > 0,
               "stacked CUDA search %d: status %s, '%s'", i, fn_status_name(res[i].status), res[i].msg);
    printf("stack of one = single search; stacked CUDA: %s ('%.70s')\n",
           fn_status_name(res[0].status), res[0].msg);
}

int main(int argc, char **argv) {
    const char *data = argc > 1 ? argv[1] : "../shared/data";
    omp_set_num_threads(2);
    ncases = test_bundle_ncases;
    const char *quick = getenv("FREENAS_TEST_QUICK");
    if (quick && atoi(quick) > 0) {
        cases = quick_cases;
        ncases = (int)(sizeof quick_cases / sizeof quick_cases[0]);
        printf("FREENAS_TEST_QUICK: %d of the %d cases\n", ncases, test_bundle_ncases);
    }
    test_stacked_parity(cases, ncases, data, FN_DEV_CPU);
    isolation(data);
    return test_summary("test_stacked");
}
