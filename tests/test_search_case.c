/* tests/test_search_case.c: see test_search_case.h. */
#include "tests/test_search_case.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"
#include "nn/cross_entropy.h"
#include "spaces/darts.h"
#include "spaces/nb201.h"
#include "tests/test_util.h"

void test_search_case_config(const test_search_case *k, const char *data, uint64_t seed,
                             fn_search_config *c) {
    search_config_default(c);
    c->space = k->space;
    c->metric = k->metric;
    c->data_path = data;
    c->seed = seed;
    c->batch = k->batch;
    c->channels = k->channels;
    c->cells = k->cells;
    if (k->ss) c->ss = k->ss;
    c->mopts.precision = k->precision;
    c->mopts.synflow_zc = k->synflow_zc == 0 ? -1 : k->synflow_zc > 0;
}

fn_status test_search_case_run(const test_search_case *k, const char *data, uint64_t seed,
                               fn_search_result *res) {
    fn_search_config c;
    test_search_case_config(k, data, seed, &c);
    return search_run(&c, res);
}

const test_search_case test_bundle_cases[] = {
    {"nb201", "synflow", -1, 0, 0, 0, 0, 0},
    {"nb201", "synflow", 32, 0, 0, 0, 0, 0},
    {"nb201", "snip", -1, 8, 0, 0, 0, 0},
    {"nb201", "grasp", -1, 4, 8, 0, 0, 0},
    {"nb1shot1", "synflow", -1, 0, 0, 0, 2, 0},
    {"nb1shot1", "snip", 64, 4, 0, 0, 3, 0},
    {"darts", "synflow", -1, 0, 8, 5, 0, 0},
    {"darts", "synflow", -1, 0, 8, 5, 0, -1},
    {"darts", "snip", -1, 4, 8, 5, 0, 0},
    {"darts", "grasp", -1, 2, 8, 5, 0, 0},
};
const int test_bundle_ncases = (int)(sizeof test_bundle_cases / sizeof test_bundle_cases[0]);

int test_search_same(const fn_search_result *a, const fn_search_result *b) {
    const int n = a->s_rows * a->s_cols;
    return a->status == b->status && n == b->s_rows * b->s_cols &&
           !memcmp(a->S, b->S, sizeof(double) * (size_t)n) &&
           !memcmp(&a->value, &b->value, sizeof(double)) &&
           !memcmp(&a->s_max, &b->s_max, sizeof(double)) && !strcmp(a->arch, b->arch) &&
           a->degenerate == b->degenerate;
}

void test_bundle_parity(const test_search_case *cases, int ncases, int k, const int *threads,
                        int nthreads, fn_device dev, const char *data, search_bundle *b) {
    fn_search_config *cfg = mallocCheck(sizeof(fn_search_config) * (size_t)k);
    fn_search_result *ref = mallocCheck(sizeof(fn_search_result) * (size_t)k),
                     *res = mallocCheck(sizeof(fn_search_result) * (size_t)k);
    char tlist[64] = "";
    for (int t = 0; t < nthreads; t++)
        snprintf(tlist + strlen(tlist), sizeof tlist - strlen(tlist), "%s%d", t ? "/" : "",
                 threads[t]);
    for (int c = 0; c < ncases; c++) {
        const test_search_case *tc = &cases[c];
        char name[96];
        snprintf(name, sizeof name, "%s%s/%s%s ss%d fp%d b%d", dev == FN_DEV_CUDA ? "cuda " : "",
                 tc->space, tc->metric, tc->synflow_zc < 0 ? "-fd" : "", tc->ss, tc->precision,
                 tc->batch);
        omp_set_num_threads(2);
        for (int i = 0; i < k; i++) {
            test_search_case_config(tc, data, (uint64_t)(7 + 3 * i), &cfg[i]);
            cfg[i].device = dev;
            search_run(&cfg[i], &ref[i]);
            CHECKF(ref[i].status == FN_OK, "%s seed %d: %s", name, 7 + 3 * i, ref[i].msg);
        }
        CHECKF(strcmp(ref[0].arch, ref[1].arch) || memcmp(ref[0].S, ref[1].S, sizeof(double)),
               "%s: two seeds gave the same scores (the test would not see a mix-up)", name);
        int ok = 1;
        for (int t = 0; t < nthreads; t++) {
            memset(res, 0xff, sizeof(fn_search_result) * (size_t)k);
            search_bundle_run(b, cfg, k, threads[t], res);
            for (int i = 0; i < k; i++) {
                const int eq = test_search_same(&ref[i], &res[i]);
                CHECKF(eq, "%s: bundle of %d on %d threads, search %d (seed %d) differs from "
                       "its single search (value %.17g vs %.17g; %s)", name, k, threads[t], i,
                       7 + 3 * i, res[i].value, ref[i].value, res[i].msg);
                ok &= eq;
            }
            CHECKF(omp_get_max_threads() == 2, "%s: the bundle changed the thread count", name);
        }
        printf("%-32s %3d scores x %d seeds: %s in bundles on %s threads\n", name,
               ref[0].s_rows * ref[0].s_cols, k, ok ? "bit-identical" : "DIFFERENT", tlist);
    }
    free(cfg);
    free(ref);
    free(res);
}

/* max |a - b| over the score matrix, relative to max |S| of a */
double test_score_diff(const fn_search_result *a, const fn_search_result *b) {
    double d = 0;
    for (int i = 0; i < a->s_rows * a->s_cols; i++) d = fmax(d, fabs(a->S[i] - b->S[i]));
    return a->s_max > 0 ? d / a->s_max : d;
}

void test_stacked_parity(const test_search_case *cases, int ncases, const char *data,
                         fn_device dev) {
    enum { K = 3 };
    fn_search_config cfg[K];
    fn_search_result ref[K], res[K];
    for (int c = 0; c < ncases; c++) {
        const test_search_case *tc = &cases[c];
        char name[96];
        snprintf(name, sizeof name, "%s%s/%s%s ss%d fp%d b%d", dev == FN_DEV_CUDA ? "cuda " : "",
                 tc->space, tc->metric,
                 tc->synflow_zc < 0 ? "-fd" : "", tc->ss, tc->precision, tc->batch);
        for (int i = 0; i < K; i++) {
            test_search_case_config(tc, data, (uint64_t)(7 + 3 * i), &cfg[i]);
            cfg[i].device = dev;
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
            const double d = test_score_diff(&ref[i], &res[i]);
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

void test_small_supernet(fn_graph *g, int darts, int batch) {
    graph_init(g);
    if (!darts) {
        nb201_config c = {4, 1, 10, 8, 8, batch, 0};
        nb201_build(g, &c);
        return;
    }
    darts_config c = {4, 5, 10, 8, 8, 0, batch};
    char err[256];
    if (darts_build(g, &c, err, sizeof err)) {
        fprintf(stderr, "FAIL: small DARTS supernet: %s\n", err);
        exit(1);
    }
}

int test_small_exec(fn_exec *e, const fn_graph *g, fn_dtype dt, int param_grads) {
    fn_exec_opts o = {0};
    o.param_grads = param_grads;
    o.input_grad = 1;
    o.device = FN_DEV_CPU;
    if (exec_init_opts(e, g, dt, &o)) {
        fprintf(stderr, "FAIL: executor of a small supernet: %s\n", exec_error());
        return -1;
    }
    exec_init_params(e, 5);
    exec_init_alpha(e, 9, 0.3);
    return 0;
}

void test_small_poison(fn_exec *e, const double *x) {
    const fn_graph *g = e->g;
    for (size_t i = 0; i < e->plan.act_numel; i++) exec_set(e->act, e->dtype, i, NAN);
    for (size_t i = 0; i < e->plan.grad_numel; i++) exec_set(e->grad, e->dtype, i, NAN);
    for (size_t i = 0; i < graph_tensor_numel(g, g->input); i++)
        exec_set(exec_tensor(e, g->input), e->dtype, i, x[i]);
}

size_t test_small_pass(fn_exec *e, fn_bn_mode mode, const double *x, const int *labels,
                       double *out) {
    const fn_graph *g = e->g;
    e->bn_mode = mode;
    test_small_poison(e, x);
    exec_forward(e);
    const int n = g->t[g->output].n, k = g->t[g->output].c;
    const void *z = exec_tensor(e, g->output);
    size_t m = 0;
    for (int i = 0; i < n * k; i++) out[m++] = exec_get(z, e->dtype, (size_t)i);
    void *dz = mallocCheck((e->dtype == FN_F64 ? sizeof(double) : sizeof(float)) * (size_t)(n * k));
    if (e->dtype == FN_F64) cross_entropy_backward_f64(dz, z, labels, n, k, 1.0);
    else cross_entropy_backward_f32(dz, z, labels, n, k, 1.0f);
    exec_backward(e, dz);
    free(dz);
    for (size_t i = 0; i < g->alpha_numel; i++) out[m++] = exec_get(e->dalpha, e->dtype, i);
    for (size_t i = 0; e->dparams && i < g->param_numel; i++)
        out[m++] = exec_get(e->dparams, e->dtype, i);
    for (size_t i = 0; i < graph_tensor_numel(g, g->input); i++)
        out[m++] = exec_get(exec_tensor_grad(e, g->input), e->dtype, i);
    return m;
}

double *test_small_input(const fn_graph *g, unsigned seed) {
    const size_t nx = graph_tensor_numel(g, g->input);
    double *x = mallocCheck(sizeof(double) * nx);
    for (size_t i = 0; i < nx; i++) x[i] = test_rand(&seed);
    return x;
}
