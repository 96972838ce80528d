/* tests/test_gpu.c: the CUDA executor (gpu/exec_cuda.cu) against the CPU reference.
 *
 *   ./build/bin/test_gpu ops                one graph per op shape, forward + backward
 *   ./build/bin/test_gpu supernets          NB201, DARTS (8 cells, 224x224 stem), NB-1shot1 1-3
 *   ./build/bin/test_gpu search DATA_DIR    whole searches, --device cuda against cpu
 *   ./build/bin/test_gpu hvp                the exact Hessian-vector product (exec_forward_tangent,
 *                                           exec_backward_tangent) on every op graph and the
 *                                           supernets: tangent of the logits, H v in alpha
 *                                           and in the parameters, directions in alpha only
 *                                           and in alpha and parameters, same tolerances
 *   ./build/bin/test_gpu train REF [DATA]   training support (issue 25): the drop-path node
 *                                           (per-sample scale) forward, backward and HVP;
 *                                           eval-mode BN and the batch statistics a train
 *                                           forward leaves in e->saved; the trainer against
 *                                           REF = ../shared/ref/darts_train_tiny.bin on CUDA
 *                                           (tests/train_ref_case.h, its tolerances); with
 *                                           DATA, one epoch of train_run on CUDA against CPU
 *
 * Every case draws weights, alpha and input on the host (the same for both devices), runs
 * forward and backward on a CPU and a CUDA executor and compares logits, d alpha and
 * d params (conv filters, BN gamma/beta, linear: so backward-data of every op is covered
 * through the parameters before it). Error = max |gpu - cpu| / max |cpu| per quantity:
 *   float64 on both:        < 1e-10 (summation order is the only difference)
 *   float32 GPU vs float64: < max(5e-4, 4 x the CPU float32's error): float32 rounding
 *                           through a deep supernet is the network's, not the backend's;
 *                           < 5e-2 for NB-1shot1, whose float32 gradients jump where
 *                           rounding flips a max-pool argmax (CPU float32: up to 6e-3 too)
 * plus a float64 central-difference check of d alpha on the GPU, and bit-identical results
 * from two runs (determinism). Returns 77 (CTest skip) without a CUDA device or without the
 * CUDA executor in this build. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datasets/dataset.h"
#include "gpu/backend_cuda.h"
#include "tests/test_gpu_skip.h"
#include "engine/exec.h"
#include "search/search.h"
#include "search/space.h"
#include "base/common.h"
#include "nn/rng.h"
#include "tests/test_util.h"
#include "tests/train_ref_case.h"
#include "train/train.h"

#define TOL64 1e-10
#define TOL32 5e-4
#define ILL32 5e-2 /* float32 bound where max-pool argmax flips decide (NB-1shot1) */

/* everything a case produces, in double */
typedef struct {
    double *logits, *dalpha, *dparams;
    size_t nl, na, np;
} outputs;

static void outputs_free(outputs *o) {
    free(o->logits);
    free(o->dalpha);
    free(o->dparams);
}

/* forward, backward with d logits = fixed pseudo-random r, on a fresh executor */
static int run_case(const fn_graph *g, fn_device dev, fn_dtype dt, int param_grads,
                    uint64_t seed, outputs *o) {
    fn_exec e;
    fn_exec_opts eo = {param_grads, 0, NULL, NULL, dev, 0, 0};
    if (exec_init_opts(&e, g, dt, &eo)) {
        fprintf(stderr, "exec_init: %s\n", exec_error());
        return -1;
    }
    exec_init_params(&e, seed);
    exec_init_alpha(&e, seed, 0.5);
    void *x = exec_tensor(&e, g->input);
    const size_t nx = graph_tensor_numel(g, g->input);
    for (size_t i = 0; i < nx; i++) exec_set(x, dt, i, fn_rng_normal(seed, 900, i));
    exec_forward(&e);
    o->nl = graph_tensor_numel(g, g->output);
    o->na = g->alpha_numel;
    o->np = param_grads ? g->param_numel : 0;
    o->logits = mallocCheck(sizeof(double) * (o->nl + 1));
    o->dalpha = mallocCheck(sizeof(double) * (o->na + 1));
    o->dparams = mallocCheck(sizeof(double) * (o->np + 1));
    const void *z = exec_tensor(&e, g->output);
    for (size_t i = 0; i < o->nl; i++) o->logits[i] = exec_get(z, dt, i);
    void *dz = mallocCheck((dt == FN_F64 ? 8 : 4) * o->nl);
    for (size_t i = 0; i < o->nl; i++) exec_set(dz, dt, i, fn_rng_normal(seed, 901, i));
    exec_backward(&e, dz);
    free(dz);
    for (size_t i = 0; i < o->na; i++) o->dalpha[i] = exec_get(e.dalpha, dt, i);
    for (size_t i = 0; i < o->np; i++) o->dparams[i] = exec_get(e.dparams, dt, i);
    exec_free(&e);
    return 0;
}

static double rel_err(const double *a, const double *b, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        num = fmax(num, fabs(a[i] - b[i]));
        den = fmax(den, fabs(b[i]));
    }
    return den > 0 ? num / den : num;
}

/* CPU float64 reference against GPU float64, GPU float32 and (for scale) CPU float32.
 * argmax_sensitive: NB-1shot1, whose float32 d alpha / d params sit 1e-4 to 2e-2 from float64
 * on either device (CPU and GPU by turns the closer) while float64 agrees to 1e-13: most
 * likely max-pool windows whose argmax float32 rounding flips; the float32 bound is ILL32. */
static void compare(const char *name, const fn_graph *g, int param_grads, int argmax_sensitive) {
    outputs ref = {0}, g64 = {0}, g32 = {0}, c32 = {0};
    if (run_case(g, FN_DEV_CPU, FN_F64, param_grads, 7, &ref) ||
        run_case(g, FN_DEV_CUDA, FN_F64, param_grads, 7, &g64) ||
        run_case(g, FN_DEV_CUDA, FN_F32, param_grads, 7, &g32) ||
        run_case(g, FN_DEV_CPU, FN_F32, param_grads, 7, &c32)) {
        CHECKF(0, "%s: executor could not be made", name);
        return;
    }
    const char *what[3] = {"logits", "d alpha", "d params"};
    const double *r[3] = {ref.logits, ref.dalpha, ref.dparams};
    const double *a[3] = {g64.logits, g64.dalpha, g64.dparams};
    const double *b[3] = {g32.logits, g32.dalpha, g32.dparams};
    const double *c[3] = {c32.logits, c32.dalpha, c32.dparams};
    const size_t n[3] = {ref.nl, ref.na, ref.np};
    printf("%-24s", name);
    for (int q = 0; q < 3; q++) {
        if (!n[q]) continue;
        const double e64 = rel_err(a[q], r[q], n[q]), e32 = rel_err(b[q], r[q], n[q]);
        const double c32e = rel_err(c[q], r[q], n[q]);
        printf("  %s %.0e | %.0e (cpu %.0e)", what[q], e64, e32, c32e);
        CHECKF(e64 < TOL64, "%s: %s float64 GPU error %.3g", name, what[q], e64);
        /* float32: as accurate as the CPU's float32, up to a factor for other summation
         * orders; the float64 comparison above is the check of the code */
        const double tol = argmax_sensitive ? ILL32 : fmax(TOL32, 4 * c32e);
        CHECKF(e32 < tol, "%s: %s float32 GPU error %.3g (CPU float32 %.3g)", name, what[q],
               e32, c32e);
    }
    printf("\n");
    outputs_free(&ref);
    outputs_free(&g64);
    outputs_free(&g32);
    outputs_free(&c32);
}

static void fd_check(const char *name, const fn_graph *g, fn_device dev);

/* ------------------------------------------------------------------ op graphs ----------- */
/* input [3, 6, 10, 10] -> conv 1x1 (its d W carries the op's backward-data) -> op -> mix with
 * alpha (d alpha) -> global pool -> linear 5 */
typedef int (*op_fn)(fn_graph *g, int x);

static int op_conv3(fn_graph *g, int x) { return graph_conv(g, "op", x, 8, 3, 1, 1, 1, 1); }
static int op_conv5s2(fn_graph *g, int x) { return graph_conv(g, "op", x, 4, 5, 2, 2, 1, 1); }
static int op_depthwise_s2(fn_graph *g, int x) { return graph_conv(g, "op", x, 6, 3, 2, 1, 1, 6); }
static int op_dil_grouped(fn_graph *g, int x) { return graph_conv(g, "op", x, 6, 3, 1, 2, 2, 2); }
static int op_dil5(fn_graph *g, int x) { return graph_conv(g, "op", x, 6, 5, 1, 4, 2, 6); }
static int op_bn_affine(fn_graph *g, int x) { return graph_bn(g, "op", x, 1); }
static int op_bn_plain(fn_graph *g, int x) { return graph_bn(g, "op", x, 0); }
static int op_relu(fn_graph *g, int x) { return graph_relu(g, x); }
static int op_avg_s1(fn_graph *g, int x) { return graph_avgpool(g, x, 3, 1, 1); }
static int op_avg_s2(fn_graph *g, int x) { return graph_avgpool(g, x, 3, 2, 1); }
static int op_max_s1(fn_graph *g, int x) { return graph_maxpool(g, x, 3, 1, 1); }
static int op_max_s2(fn_graph *g, int x) { return graph_maxpool(g, x, 3, 2, 1); }
/* max pooling after ReLU: windows of equal zeros, where the first-maximum rule decides */
static int op_relu_max(fn_graph *g, int x) { return graph_maxpool(g, graph_relu(g, x), 3, 2, 1); }
/* FactorizedReduce: ReLU, two stride-2 1x1 convs, the second on the (1,1)-shifted input,
 * concatenated, BN */
static int op_factorized_reduce(fn_graph *g, int x) {
    int r = graph_relu(g, x);
    int a = graph_conv(g, "fr1", r, 3, 1, 2, 0, 1, 1);
    int s = graph_subsample(g, r, 1, 1, g->t[r].h - 1, g->t[r].w - 1);
    int b = graph_conv(g, "fr2", s, 3, 1, 2, 0, 1, 1);
    int xs[2] = {a, b};
    return graph_bn(g, "fr", graph_concat(g, xs, 2), 1);
}
static int op_subsample_s2(fn_graph *g, int x) { return graph_subsample(g, x, 1, 2, 5, 5); }
/* a mixed op of several candidate ops, one alpha each, and a zero op */
static int op_mixed(fn_graph *g, int x) {
    int a = graph_conv(g, "m1", graph_relu(g, x), 6, 3, 1, 1, 1, 1);
    int b = graph_avgpool(g, x, 3, 1, 1);
    int c = graph_maxpool(g, x, 3, 1, 1);
    int z = graph_zero(g, x);
    int off = graph_alpha_group(g, "inner", 1, 5);
    int xs[5] = {x, a, b, c, z}, ai[5] = {off, off + 1, off + 2, off + 3, off + 4};
    return graph_mix(g, xs, ai, 5);
}

static void build_op_graph(fn_graph *g, op_fn op) {
    graph_init(g);
    int x = graph_input(g, 3, 6, 10, 10);
    int h = graph_conv(g, "pre", x, 6, 1, 1, 0, 1, 1);
    h = op(g, h);
    int off = graph_alpha_group(g, "outer", 1, 1);
    int ai[1] = {off};
    h = graph_mix(g, &h, ai, 1);
    h = graph_gap(g, h);
    g->output = graph_linear(g, "fc", h, 5);
}

static void test_ops(void) {
    struct { const char *name; op_fn fn; } ops[] = {
        {"conv 3x3", op_conv3}, {"conv 5x5 s2", op_conv5s2},
        {"depthwise 3x3 s2", op_depthwise_s2}, {"dilated grouped 3x3", op_dil_grouped},
        {"dilated depthwise 5x5", op_dil5}, {"bn affine", op_bn_affine},
        {"bn non-affine", op_bn_plain}, {"relu", op_relu}, {"avg pool s1", op_avg_s1},
        {"avg pool s2", op_avg_s2}, {"max pool s1", op_max_s1}, {"max pool s2", op_max_s2},
        {"relu + max pool (ties)", op_relu_max}, {"factorized reduce", op_factorized_reduce},
        {"subsample s2", op_subsample_s2}, {"mixed op + zero", op_mixed},
    };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        fn_graph g;
        build_op_graph(&g, ops[i].fn);
        compare(ops[i].name, &g, 1, 0);
        if (ops[i].fn == op_mixed || ops[i].fn == op_factorized_reduce)
            fd_check(ops[i].name, &g, FN_DEV_CUDA);
        graph_free(&g);
    }
}

/* ------------------------------------------------------------------ supernets ----------- */
static int build_space(fn_graph *g, const char *space, const char *dataset, int channels,
                       int cells, int ss, int batch) {
    fn_search_config c;
    search_config_default(&c);
    c.space = space;
    c.dataset = dataset;
    c.channels = channels;
    c.cells = cells;
    c.ss = ss;
    char err[FN_ERRLEN];
    const fn_space *sp = space_find(space);
    const fn_dataset_info *ds = dataset_info(dataset);
    graph_init(g);
    if (sp->resolve(&c, ds, err, sizeof err) || sp->build(g, &c, ds, batch, err, sizeof err)) {
        fprintf(stderr, "%s: %s\n", space, err);
        return -1;
    }
    return 0;
}

/* d alpha of R = <r, logits> in float64 against central differences (op graphs: few ReLU
 * inputs, none near a kink at this step; a whole supernet has enough of them that a step
 * of 1e-6 crosses one, on the CPU alike) */
static void fd_check(const char *name, const fn_graph *g, fn_device dev) {
    fn_exec e;
    fn_exec_opts eo = {0, 0, NULL, NULL, dev, 0, 0};
    if (exec_init_opts(&e, g, FN_F64, &eo)) {
        CHECKF(0, "%s: %s", name, exec_error());
        return;
    }
    exec_init_params(&e, 3);
    exec_init_alpha(&e, 3, 0.5);
    double *x = exec_tensor(&e, g->input);
    for (size_t i = 0; i < graph_tensor_numel(g, g->input); i++) x[i] = fn_rng_normal(3, 900, i);
    const size_t nl = graph_tensor_numel(g, g->output);
    double *r = mallocCheck(sizeof(double) * nl);
    for (size_t i = 0; i < nl; i++) r[i] = fn_rng_normal(3, 901, i);
    exec_forward(&e);
    exec_backward(&e, r);
    double *alpha = e.alpha, worst = 0, amax = 0;
    const size_t na = g->alpha_numel, step = na > 24 ? na / 24 : 1;
    double *an = mallocCheck(sizeof(double) * na);
    memcpy(an, e.dalpha, sizeof(double) * na);
    for (size_t k = 0; k < na; k++) amax = fmax(amax, fabs(an[k]));
    for (size_t k = 0; k < na; k += step) {
        const double a0 = alpha[k], h = 1e-6;
        double f[2];
        for (int s = 0; s < 2; s++) {
            alpha[k] = a0 + (s ? -h : h);
            exec_forward(&e);
            const double *z = exec_tensor(&e, g->output);
            f[s] = 0;
            for (size_t i = 0; i < nl; i++) f[s] += r[i] * z[i];
        }
        alpha[k] = a0;
        const double fd = (f[0] - f[1]) / (2 * h);
        worst = fmax(worst, fabs(fd - an[k]) / amax);
    }
    printf("%-24s  d alpha vs central differences (float64): max error / max |d alpha| %.1e\n",
           name, worst);
    CHECKF(worst < 1e-6, "%s: d alpha vs finite differences %.3g", name, worst);
    free(an);
    free(r);
    exec_free(&e);
}

static void test_supernets(void) {
    struct { const char *name, *space, *dataset; int channels, cells, ss, batch; } cs[] = {
        {"nb201 C8 N1 b4", "nb201", "cifar10", 8, 1, 1, 4},
        {"nb201 C8 N1 b1", "nb201", "cifar10", 8, 1, 1, 1},
        {"darts C4 8 cells b2", "darts", "cifar10", 4, 8, 1, 2},
        /* batch 2: over one image every channel into the head has zero mean, d alpha = 0 */
        {"darts 224 C4 5 cells b2", "darts", "imagenet224", 4, 5, 1, 2},
        {"nb1shot1 ss1 b2", "nb1shot1", "cifar10", 0, 0, 1, 2},
        {"nb1shot1 ss2 b2", "nb1shot1", "cifar10", 0, 0, 2, 2},
        {"nb1shot1 ss3 b2", "nb1shot1", "cifar10", 0, 0, 3, 2},
    };
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
        fn_graph g;
        if (build_space(&g, cs[i].space, cs[i].dataset, cs[i].channels, cs[i].cells, cs[i].ss,
                        cs[i].batch)) {
            CHECKF(0, "%s: build failed", cs[i].name);
            continue;
        }
        compare(cs[i].name, &g, 1, !strcmp(cs[i].space, "nb1shot1"));
        graph_free(&g);
    }
}

/* ------------------------------------------------------------------ whole searches ------ */
static void test_search(const char *data) {
    /* fd: SynFlow in FD's literal form (--synflow-fd) instead of the space's default */
    struct { const char *space, *metric, *dataset; int cells, batch; double tol; int fd; } cs[] = {
        {"nb201", "synflow", "cifar10", 0, 0, TOL64, 0},
        {"nb201", "snip", "cifar10", 0, 0, TOL32, 0},
        {"nb201", "grasp", "cifar10", 0, 16, TOL32, 0}, /* exact H g, float32 */
        {"darts", "snip", "cifar10", 8, 16, TOL32, 0},
        /* the DARTS / N1 default SynFlow (BN removed, |alpha|; N1 with alpha_output rescaled) */
        {"darts", "synflow", "cifar10", 8, 0, TOL64, 0},
        {"nb1shot1", "synflow", "cifar10", 0, 0, TOL64, 0},
        /* FD's literal form: degenerate (d R/d alpha = 0), so the flag only */
        {"darts", "synflow", "cifar10", 8, 0, -1, 1},
        {"nb1shot1", "snip", "cifar10", 0, 16, TOL32, 0},
        {"darts", "synflow", "imagenet224", 0, 0, TOL64, 0},
    };
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
        fn_search_config c;
        search_config_default(&c);
        c.space = cs[i].space;
        c.metric = cs[i].metric;
        c.dataset = cs[i].dataset;
        c.data_path = data;
        c.cells = cs[i].cells;
        c.batch = cs[i].batch;
        c.seed = 11;
        if (cs[i].fd) c.mopts.synflow_zc = 0;
        fn_search_result *r = mallocCheck(4 * sizeof *r);
        c.device = FN_DEV_CPU;
        search_run(&c, &r[0]);
        c.device = FN_DEV_CUDA;
        search_run(&c, &r[1]);
        search_run(&c, &r[2]); /* the second search of a shape replays CUDA graphs */
        /* float32 metrics: both devices against the CPU in float64 */
        const int f32 = metric_dtype(metric_find(c.metric), &c.mopts) == FN_F32;
        c.device = FN_DEV_CPU;
        c.mopts.precision = 64;
        if (f32) search_run(&c, &r[3]);
        printf("search %s %s %s: cpu %s %.3fs, cuda %s %.3fs, again %.3fs", cs[i].space,
               cs[i].metric, cs[i].dataset, fn_status_name(r[0].status), r[0].t_score,
               fn_status_name(r[1].status), r[1].t_score, r[2].t_score);
        CHECKF(r[0].status == FN_OK && r[1].status == FN_OK && r[2].status == FN_OK &&
               (!f32 || r[3].status == FN_OK), "%s %s: %s / %s", cs[i].space, cs[i].metric,
               r[0].msg, r[1].msg);
        if (r[0].status != FN_OK || r[1].status != FN_OK || r[2].status != FN_OK) {
            printf("\n");
            free(r);
            continue;
        }
        const size_t na = (size_t)r[0].s_rows * r[0].s_cols;
        const fn_search_result *ref = f32 ? &r[3] : &r[0];
        const double e = rel_err(r[1].S, ref->S, na), ecpu = f32 ? rel_err(r[0].S, ref->S, na) : 0;
        printf(", scores max rel error %.1e%s", e, f32 ? " vs cpu float64" : "");
        if (f32) printf(" (cpu float32 %.1e)", ecpu);
        printf(", same arch %s\n", strcmp(r[0].arch, r[1].arch) ? "no" : "yes");
        CHECKF(!memcmp(r[1].S, r[2].S, sizeof(double) * na), "%s %s: two GPU runs differ",
               cs[i].space, cs[i].metric);
        CHECKF(r[0].degenerate == r[1].degenerate, "%s %s: degenerate flag differs", cs[i].space,
               cs[i].metric);
        if (cs[i].tol > 0) {
            CHECKF(e < fmax(cs[i].tol, 4 * ecpu), "%s %s: GPU scores off by %.3g (CPU %.3g)",
                   cs[i].space, cs[i].metric, e, ecpu);
            CHECKF(!strcmp(ref->arch, r[1].arch), "%s %s: reference %s, cuda %s", cs[i].space,
                   cs[i].metric, ref->arch, r[1].arch);
        }
        free(r);
    }
    /* a device error is a per-search status with a message, never an abort */
    {
        fn_search_config c;
        search_config_default(&c);
        c.device = FN_DEV_CUDA;
        c.space = "nb201";
        c.batch = 50000; /* activations far beyond any GPU's memory (1.2 GB input on host) */
        fn_search_result r;
        search_run(&c, &r);
        printf("oversized supernet: %s: %s\n", fn_status_name(r.status), r.msg);
        CHECKF(r.status == FN_ERR_OOM && strstr(r.msg, "out of GPU memory"), "got %s: %s",
               fn_status_name(r.status), r.msg);
        c.batch = 0;
        search_run(&c, &r); /* and the next search still runs */
        CHECKF(r.status == FN_OK, "search after the out-of-memory one: %s", r.msg);
    }
}

/* ------------------------------------------------------------------ HVP ---------------- */
/* outputs = (tangent of the logits, H v in alpha, H v in params) with d logits = r and its
 * tangent = r2 (fixed pseudo-random seeds of backward: the engine's product does not care
 * which loss made them); v = (0.5 randn in alpha, 0.1 randn in params when with_params) */
static int hvp_case(const fn_graph *g, fn_device dev, fn_dtype dt, int with_params, outputs *o) {
    const uint64_t seed = 7;
    fn_exec e;
    fn_exec_opts eo = {1, 0, NULL, NULL, dev, 0, 0};
    if (exec_init_opts(&e, g, dt, &eo) || exec_hvp_init(&e)) {
        fprintf(stderr, "exec_init / exec_hvp_init: %s\n", exec_error());
        return -1;
    }
    exec_init_params(&e, seed);
    exec_init_alpha(&e, seed, 0.5);
    void *x = exec_tensor(&e, g->input);
    const size_t nx = graph_tensor_numel(g, g->input);
    for (size_t i = 0; i < nx; i++) exec_set(x, dt, i, fn_rng_normal(seed, 900, i));
    for (size_t i = 0; i < g->alpha_numel; i++)
        exec_set(e.talpha, dt, i, 0.5 * fn_rng_normal(seed, 902, i));
    for (size_t i = 0; i < g->param_numel; i++)
        exec_set(e.tparams, dt, i, with_params ? 0.1 * fn_rng_normal(seed, 903, i) : 0.0);
    exec_forward_tangent(&e);
    o->nl = graph_tensor_numel(g, g->output);
    o->na = g->alpha_numel;
    o->np = g->param_numel;
    o->logits = mallocCheck(sizeof(double) * (o->nl + 1));
    o->dalpha = mallocCheck(sizeof(double) * (o->na + 1));
    o->dparams = mallocCheck(sizeof(double) * (o->np + 1));
    const void *tz = exec_tangent(&e, g->output);
    for (size_t i = 0; i < o->nl; i++) o->logits[i] = exec_get(tz, dt, i);
    void *dz = mallocCheck((dt == FN_F64 ? 8 : 4) * 2 * o->nl);
    void *tdz = (char *)dz + (dt == FN_F64 ? 8 : 4) * o->nl;
    for (size_t i = 0; i < o->nl; i++) {
        exec_set(dz, dt, i, fn_rng_normal(seed, 901, i));
        exec_set(tdz, dt, i, fn_rng_normal(seed, 904, i));
    }
    exec_backward_tangent(&e, dz, tdz);
    free(dz);
    for (size_t i = 0; i < o->na; i++) o->dalpha[i] = exec_get(e.tdalpha, dt, i);
    for (size_t i = 0; i < o->np; i++) o->dparams[i] = exec_get(e.tdparams, dt, i);
    exec_free(&e);
    return 0;
}

static void compare_hvp(const char *name, const fn_graph *g, int argmax_sensitive) {
    for (int wp = 0; wp < 2; wp++) {
        outputs ref = {0}, g64 = {0}, g32 = {0}, c32 = {0};
        if (hvp_case(g, FN_DEV_CPU, FN_F64, wp, &ref) || hvp_case(g, FN_DEV_CUDA, FN_F64, wp, &g64) ||
            hvp_case(g, FN_DEV_CUDA, FN_F32, wp, &g32) || hvp_case(g, FN_DEV_CPU, FN_F32, wp, &c32)) {
            CHECKF(0, "%s: HVP executor could not be made", name);
            return;
        }
        const char *what[3] = {"t logits", "Hv alpha", "Hv params"};
        const double *r[3] = {ref.logits, ref.dalpha, ref.dparams};
        const double *a[3] = {g64.logits, g64.dalpha, g64.dparams};
        const double *b[3] = {g32.logits, g32.dalpha, g32.dparams};
        const double *c[3] = {c32.logits, c32.dalpha, c32.dparams};
        const size_t n[3] = {ref.nl, ref.na, ref.np};
        printf("hvp %-20s %s", name, wp ? "v=a+p" : "v=a  ");
        for (int q = 0; q < 3; q++) {
            if (!n[q]) continue;
            const double e64 = rel_err(a[q], r[q], n[q]), e32 = rel_err(b[q], r[q], n[q]);
            const double c32e = rel_err(c[q], r[q], n[q]);
            printf("  %s %.0e | %.0e (cpu %.0e)", what[q], e64, e32, c32e);
            CHECKF(e64 < TOL64, "%s: HVP %s float64 GPU error %.3g", name, what[q], e64);
            const double tol = argmax_sensitive ? ILL32 : fmax(TOL32, 4 * c32e);
            CHECKF(e32 < tol, "%s: HVP %s float32 GPU error %.3g (CPU float32 %.3g)", name,
                   what[q], e32, c32e);
        }
        printf("\n");
        outputs_free(&ref);
        outputs_free(&g64);
        outputs_free(&g32);
        outputs_free(&c32);
    }
}

static void test_hvp(void) {
    struct { const char *name; op_fn fn; } ops[] = {
        {"conv 3x3", op_conv3}, {"conv 5x5 s2", op_conv5s2},
        {"depthwise 3x3 s2", op_depthwise_s2}, {"dilated grouped 3x3", op_dil_grouped},
        {"bn affine", op_bn_affine}, {"bn non-affine", op_bn_plain}, {"relu", op_relu},
        {"avg pool s2", op_avg_s2}, {"max pool s2", op_max_s2},
        {"factorized reduce", op_factorized_reduce}, {"subsample s2", op_subsample_s2},
        {"mixed op + zero", op_mixed},
    };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        fn_graph g;
        build_op_graph(&g, ops[i].fn);
        compare_hvp(ops[i].name, &g, 0);
        graph_free(&g);
    }
    struct { const char *name, *space; int channels, cells, ss, batch; } cs[] = {
        {"nb201 C8 N1 b4", "nb201", 8, 1, 1, 4},
        {"darts C4 8 cells b2", "darts", 4, 8, 1, 2},
        {"nb1shot1 ss1 b2", "nb1shot1", 0, 0, 1, 2},
    };
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
        fn_graph g;
        if (build_space(&g, cs[i].space, "cifar10", cs[i].channels, cs[i].cells, cs[i].ss,
                        cs[i].batch)) {
            CHECKF(0, "%s: build failed", cs[i].name);
            continue;
        }
        compare_hvp(cs[i].name, &g, !strcmp(cs[i].space, "nb1shot1"));
        graph_free(&g);
    }
}

/* ------------------------------------------------------------------ training ----------- */
/* drop-path: y[i] = s[i] x[i] per sample, s = alpha[off .. off + 3) (random, from
 * exec_init_alpha; no d alpha: the scales are data). Its backward is checked through d W of
 * the conv before it, its tangents through compare_hvp. */
static int op_scale_n(fn_graph *g, int x) {
    const int off = graph_alpha_group(g, "drop", 1, g->t[x].n);
    return graph_scale_n(g, x, off);
}
/* drop-path after a BN (the DARTS eval net's order: op, then drop-path, then the sum) */
static int op_bn_scale_n(fn_graph *g, int x) { return op_scale_n(g, graph_bn(g, "op", x, 1)); }

/* Eval-mode BN on one executor: BN weights and biases moved off their 1 / 0 init; a TRAIN
 * forward, whose batch statistics (e->saved, downloaded by a device backend) are quantity 0;
 * then running statistics written into e->saved (mean 0.3 N(0,1), invstd 0.5 + U(0,1)), an
 * EVAL forward (quantity 1: logits) and backward (2: d alpha, 3: d params; BN passes dy
 * through in eval mode on both backends). */
static int bn_eval_case(const fn_graph *g, fn_device dev, fn_dtype dt, double *q[4], size_t n[4]) {
    const uint64_t seed = 11;
    fn_exec e;
    fn_exec_opts eo = {1, 0, NULL, NULL, dev, 0, 0};
    if (exec_init_opts(&e, g, dt, &eo)) {
        fprintf(stderr, "exec_init: %s\n", exec_error());
        return -1;
    }
    exec_init_params(&e, seed);
    for (int p = 0; p < g->np; p++)
        if (g->p[p].init != FN_INIT_KAIMING_U)
            for (size_t i = 0; i < g->p[p].numel; i++)
                exec_set(e.params, dt, g->p[p].off + i,
                         exec_get(e.params, dt, g->p[p].off + i) +
                             0.5 * fn_rng_normal(seed, 910 + (uint32_t)p, i));
    exec_params_changed(&e);
    exec_init_alpha(&e, seed, 0.5);
    void *x = exec_tensor(&e, g->input);
    for (size_t i = 0; i < graph_tensor_numel(g, g->input); i++)
        exec_set(x, dt, i, fn_rng_normal(seed, 900, i));
    n[0] = g->saved_numel;
    n[1] = graph_tensor_numel(g, g->output);
    n[2] = g->alpha_numel;
    n[3] = g->param_numel;
    for (int k = 0; k < 4; k++) q[k] = mallocCheck(sizeof(double) * (n[k] + 1));
    e.bn_mode = FN_BN_TRAIN;
    exec_forward(&e);
    for (size_t i = 0; i < n[0]; i++) q[0][i] = exec_get(e.saved, dt, i);
    for (int i = 0; i < g->nn; i++) {
        const fn_node *nd = &g->nodes[i];
        if (nd->kind != FN_NODE_BN) continue;
        const int c = g->t[nd->in[0]].c;
        for (int ch = 0; ch < c; ch++) {
            exec_set(e.saved, dt, nd->saved + ch, 0.3 * fn_rng_normal(seed, 920, nd->saved + ch));
            exec_set(e.saved, dt, nd->saved + c + ch,
                     0.5 + fn_rng_uniform(seed, 921, nd->saved + ch));
        }
    }
    e.bn_mode = FN_BN_EVAL;
    exec_forward(&e);
    const void *z = exec_tensor(&e, g->output);
    for (size_t i = 0; i < n[1]; i++) q[1][i] = exec_get(z, dt, i);
    void *dz = mallocCheck((dt == FN_F64 ? 8 : 4) * n[1]);
    for (size_t i = 0; i < n[1]; i++) exec_set(dz, dt, i, fn_rng_normal(seed, 901, i));
    exec_backward(&e, dz);
    free(dz);
    for (size_t i = 0; i < n[2]; i++) q[2][i] = exec_get(e.dalpha, dt, i);
    for (size_t i = 0; i < n[3]; i++) q[3][i] = exec_get(e.dparams, dt, i);
    exec_free(&e);
    return 0;
}

/* bn_eval_case on CPU float64 (reference), CUDA float64, CUDA float32, CPU float32; the
 * tolerances of compare() */
static void compare_bn_eval(const char *name, const fn_graph *g) {
    double *q[4][4] = {{0}};
    size_t n[4];
    const fn_device dv[4] = {FN_DEV_CPU, FN_DEV_CUDA, FN_DEV_CUDA, FN_DEV_CPU};
    const fn_dtype dt[4] = {FN_F64, FN_F64, FN_F32, FN_F32};
    int ok = 1;
    for (int r = 0; r < 4 && ok; r++) ok = bn_eval_case(g, dv[r], dt[r], q[r], n) == 0;
    if (!ok) {
        CHECKF(0, "%s: eval-mode executor could not be made", name);
    } else {
        const char *what[4] = {"batch stats", "eval logits", "d alpha", "d params"};
        printf("bn eval %-16s", name);
        for (int k = 0; k < 4; k++) {
            if (!n[k]) continue;
            const double e64 = rel_err(q[1][k], q[0][k], n[k]);
            const double e32 = rel_err(q[2][k], q[0][k], n[k]);
            const double c32e = rel_err(q[3][k], q[0][k], n[k]);
            printf("  %s %.0e | %.0e (cpu %.0e)", what[k], e64, e32, c32e);
            CHECKF(e64 < TOL64, "%s: %s float64 GPU error %.3g", name, what[k], e64);
            CHECKF(e32 < fmax(TOL32, 4 * c32e), "%s: %s float32 GPU error %.3g (CPU float32 %.3g)",
                   name, what[k], e32, c32e);
        }
        printf("\n");
    }
    for (int r = 0; r < 4; r++)
        for (int k = 0; k < 4; k++) free(q[r][k]);
}

/* One epoch of train_run (train/train.h) of the tiny DARTS eval net (C 4, 5 layers, aux head,
 * drop-path 0.5, crop / flip / cutout) on 64 records, 32 / 32: batches 12, 12 and a tail of 8
 * (a second CUDA executor), then the validation pass in eval mode; CUDA against CPU. float64:
 * weights, running statistics, train and valid loss within 1e-9 relative (max |a - b| /
 * max |b|); float32 CUDA against CPU float64: losses within 1e-3 + 1e-2 |b| (the trainer's
 * float32 tolerance after three steps, tests/train_ref_case.h). */
static int train_epoch(const train_data *d, const train_split *sp, fn_device dev, fn_dtype dt,
                       train_model *m, train_result *res) {
    static const char *G =
        "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_5x5', 1), ('dil_conv_3x3', 0), "
        "('dil_conv_5x5', 2), ('avg_pool_3x3', 1), ('skip_connect', 0), ('max_pool_3x3', 3), "
        "('sep_conv_3x3', 4)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), "
        "('skip_connect', 1), ('avg_pool_3x3', 0), ('sep_conv_5x5', 2), ('dil_conv_3x3', 1), "
        "('skip_connect', 2), ('sep_conv_3x3', 0), ('dil_conv_5x5', 4)], "
        "reduce_concat=[2, 3, 4, 5])";
    darts_genotype gt;
    char err[FN_ERRLEN];
    CHECK(darts_genotype_parse(G, &gt, err, sizeof err) == 0);
    train_recipe r = train_recipe_darts();
    r.epochs = 1; r.batch = 12; r.lr = 0.05; r.seed = 7; r.drop_path = 0.5;
    r.dtype = dt;
    r.device = dev;
    train_opts o = {NULL, 0, 0, "gpu"};
    if (train_model_darts(m, &gt, 4, 5, &r, d, sp, err, sizeof err)) {
        CHECKF(0, "train_model_darts: %s", err);
        return -1;
    }
    if (train_run(&m->core, &r, d, sp, &o, res, err, sizeof err)) {
        CHECKF(0, "train_run: %s", err);
        train_model_free(m);
        return -1;
    }
    return 0;
}

static void test_train_run(const char *data) {
    train_data d;
    char err[FN_ERRLEN];
    if (train_data_load(&d, "cifar10", data, 64, err, sizeof err)) {
        CHECKF(0, "data: %s", err);
        return;
    }
    train_split sp = train_split_portion(d.n, 0.5);
    train_model m[3];
    train_result res[3];
    const fn_device dv[3] = {FN_DEV_CPU, FN_DEV_CUDA, FN_DEV_CUDA};
    const fn_dtype dt[3] = {FN_F64, FN_F64, FN_F32};
    int ran = 0;
    for (; ran < 3; ran++)
        if (train_epoch(&d, &sp, dv[ran], dt[ran], &m[ran], &res[ran])) break;
    if (ran == 3) {
        const train_core *c = &m[0].core, *g = &m[1].core;
        const double ew = rel_err(g->w, c->w, c->np), er = rel_err(g->run, c->run, c->ns);
        const train_record *a = &res[0].rec[0], *b = &res[1].rec[0], *f = &res[2].rec[0];
        const double etl = fabs(b->train_loss - a->train_loss) / fabs(a->train_loss);
        const double evl = fabs(b->valid_loss - a->valid_loss) / fabs(a->valid_loss);
        printf("train_run 1 epoch cuda f64: weights %.0e, running stats %.0e, train loss %.0e, "
               "valid loss %.0e; cuda f32: train loss %.3g vs %.3g, valid loss %.3g vs %.3g\n",
               ew, er, etl, evl, f->train_loss, a->train_loss, f->valid_loss, a->valid_loss);
        CHECKF(ew < 1e-9 && er < 1e-9, "train_run float64 CUDA vs CPU: weights %.3g, running "
               "statistics %.3g", ew, er);
        CHECKF(etl < 1e-9 && evl < 1e-9, "train_run float64 CUDA vs CPU: train loss %.3g, valid "
               "loss %.3g", etl, evl);
        CHECKF(b->valid_acc == a->valid_acc, "valid acc %g vs %g", b->valid_acc, a->valid_acc);
        CHECKF(fabs(f->train_loss - a->train_loss) <= 1e-3 + 1e-2 * fabs(a->train_loss) &&
               fabs(f->valid_loss - a->valid_loss) <= 1e-3 + 1e-2 * fabs(a->valid_loss),
               "train_run float32 CUDA: losses %.6g / %.6g vs float64 %.6g / %.6g",
               f->train_loss, f->valid_loss, a->train_loss, a->valid_loss);
    }
    for (int k = 0; k < ran; k++) {
        train_result_free(&res[k]);
        train_model_free(&m[k]);
    }
    train_data_free(&d);
}

static void test_train(const char *ref_path, const char *data) {
    struct { const char *name; op_fn fn; } ops[] = {
        {"drop-path scale", op_scale_n}, {"bn + drop-path", op_bn_scale_n},
    };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        fn_graph g;
        build_op_graph(&g, ops[i].fn);
        compare(ops[i].name, &g, 1, 0);
        compare_hvp(ops[i].name, &g, 0);
        graph_free(&g);
    }
    struct { const char *name; op_fn fn; } bns[] = {
        {"bn affine", op_bn_affine}, {"bn non-affine", op_bn_plain},
        {"factorized reduce", op_factorized_reduce}, {"bn + drop-path", op_bn_scale_n},
    };
    for (size_t i = 0; i < sizeof bns / sizeof bns[0]; i++) {
        fn_graph g;
        build_op_graph(&g, bns[i].fn);
        compare_bn_eval(bns[i].name, &g);
        graph_free(&g);
    }
    fn_ref_file ref;
    char err[FN_ERRLEN];
    if (refbin_load(ref_path, &ref, err, sizeof err)) {
        CHECKF(0, "%s", err);
    } else {
        train_ref_case(&ref, FN_F64, FN_DEV_CUDA, 0);
        train_ref_case(&ref, FN_F32, FN_DEV_CUDA, 0);
        const double ctl = train_ref_case(&ref, FN_F64, FN_DEV_CUDA, 1);
        CHECKF(ctl > 1, "CUDA: a wrong drop-path scale still matched the reference (%.3g)", ctl);
        printf("control  cuda drop-path 1/0.75: loss error %.3g x the tolerance (must be > 1)\n",
               ctl);
        refbin_free(&ref);
    }
    if (data) test_train_run(data);
}

int main(int argc, char **argv) {
    gpu_backend_register(); /* the CUDA backend: loaded by the first CUDA executor */
    const char *part = argc > 1 ? argv[1] : "ops";
    if (!strcmp(part, "fdcpu")) { /* the same finite-difference check on the CPU executor */
        fn_graph g;
        build_op_graph(&g, op_mixed);
        fd_check("cpu mixed op", &g, FN_DEV_CPU);
        graph_free(&g);
        build_op_graph(&g, op_factorized_reduce);
        fd_check("cpu factorized reduce", &g, FN_DEV_CPU);
        graph_free(&g);
        return test_summary("test_gpu fdcpu");
    }
    const int skip = test_gpu_start();
    if (skip) return skip;
    if (!strcmp(part, "ops")) test_ops();
    else if (!strcmp(part, "supernets")) test_supernets();
    else if (!strcmp(part, "search") && argc > 2) test_search(argv[2]);
    else if (!strcmp(part, "hvp")) test_hvp();
    else if (!strcmp(part, "train") && argc > 2) test_train(argv[2], argc > 3 ? argv[3] : NULL);
    else {
        fprintf(stderr, "usage: test_gpu ops | supernets | hvp | search DATA_DIR | train REF "
                "[DATA_DIR]\n");
        return 2;
    }
    return test_summary("test_gpu");
}
