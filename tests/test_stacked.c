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
 * C. A stack of 1 is the single search bit for bit; CUDA searches are refused (the CUDA
 *    backend does not run stacked graphs yet) with the device's message, every one.
 *   ./build/bin/test_stacked ../shared/data */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "search/search.h"
#include "tests/test_search_case.h"
#include "tests/test_util.h"

#define K 3

/* max |a - b| over the score matrix, relative to max |S| of a */
static double score_diff(const fn_search_result *a, const fn_search_result *b) {
    double d = 0;
    for (int i = 0; i < a->s_rows * a->s_cols; i++) d = fmax(d, fabs(a->S[i] - b->S[i]));
    return a->s_max > 0 ? d / a->s_max : d;
}

static void parity(const char *data) {
    fn_search_config cfg[K];
    fn_search_result ref[K], res[K];
    for (int c = 0; c < test_bundle_ncases; c++) {
        const test_search_case *tc = &test_bundle_cases[c];
        char name[96];
        snprintf(name, sizeof name, "%s/%s%s ss%d fp%d b%d", tc->space, tc->metric,
                 tc->synflow_zc < 0 ? "-fd" : "", tc->ss, tc->precision, tc->batch);
        for (int i = 0; i < K; i++) {
            test_search_case_config(tc, data, (uint64_t)(7 + 3 * i), &cfg[i]);
            if (i == 2) cfg[i].alpha_scale = 2e-3; /* scales may differ within a stack */
            search_run(&cfg[i], &ref[i]);
            CHECKF(ref[i].status == FN_OK, "%s seed %d: %s", name, 7 + 3 * i, ref[i].msg);
        }
        CHECKF(strcmp(ref[0].arch, ref[1].arch) || memcmp(ref[0].S, ref[1].S, sizeof(double)),
               "%s: two seeds gave the same scores (the test would not see a mix-up)", name);
        memset(res, 0xff, sizeof res);
        search_run_stacked(cfg, K, res);
        const int fp64 = tc->precision == 64 || (tc->precision < 0 && !strcmp(tc->metric, "synflow"));
        const double tol = fp64 ? 1e-10 : 1e-3;
        int same = 0;
        double worst = 0;
        for (int i = 0; i < K; i++) {
            CHECKF(res[i].status == FN_OK, "%s: stacked search %d: %s", name, i, res[i].msg);
            if (res[i].status != FN_OK) continue;
            if (tc->synflow_zc < 0 && ref[i].degenerate) { /* FD's DARTS SynFlow: noise */
                CHECKF(res[i].degenerate, "%s: stacked search %d is not flagged degenerate as its "
                       "single search is", name, i);
                same += test_search_same(&ref[i], &res[i]);
                continue;
            }
            const double d = score_diff(&ref[i], &res[i]);
            const double dv = fabs(res[i].value - ref[i].value) / fmax(fabs(ref[i].value), 1e-300);
            worst = fmax(worst, fmax(d, dv));
            same += test_search_same(&ref[i], &res[i]);
            CHECKF(!strcmp(res[i].arch, ref[i].arch), "%s: stacked search %d (seed %d) picked %s, "
                   "alone %s", name, i, 7 + 3 * i, res[i].arch, ref[i].arch);
            CHECKF(d <= tol && dv <= tol, "%s: stacked search %d: scores differ by %.3g of max |S|, "
                   "value by %.3g (tolerance %.0e)", name, i, d, dv, tol);
            CHECKF(res[i].degenerate == ref[i].degenerate && res[i].s_log2_scale == ref[i].s_log2_scale &&
                   res[i].params == ref[i].params && res[i].batch == ref[i].batch,
                   "%s: stacked search %d: flags or sizes differ", name, i);
        }
        printf("%-30s %3d scores x %d: stacked = single, %d of %d bit for bit, max diff %.2g "
               "(tol %.0e)%s\n", name, ref[0].s_rows * ref[0].s_cols, K, same, K, worst, tol,
               tc->synflow_zc < 0 && ref[0].degenerate ? "; degenerate, as alone (noise decides)" : "");
    }
}

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
        CHECKF(res[i].status == FN_OK && !strcmp(res[i].arch, ref.arch) && score_diff(&ref, &res[i]) <= 1e-10,
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
        CHECKF(res[i].status == FN_OK && !strcmp(res[i].arch, ref.arch) && score_diff(&ref, &res[i]) <= 1e-3,
               "search %d beside failing ones: %s, %s vs %s", i, res[i].msg, res[i].arch, ref.arch);
    }
    printf("isolation: %s, %s and %s fail alone; the others equal their single searches\n",
           fn_status_name(FN_ERR_NAN), fn_status_name(res[1].status), fn_status_name(res[2].status));

    /* a stack of one is the single search, bit for bit */
    test_search_case_config(&sn, data, 5, &cfg[0]);
    search_run(&cfg[0], &ref);
    search_run_stacked(cfg, 1, res);
    CHECKF(test_search_same(&ref, &res[0]), "a stack of one differs from its single search");
    /* CUDA: refused, every search, with the device's message */
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
    parity(data);
    isolation(data);
    return test_summary("test_stacked");
}
