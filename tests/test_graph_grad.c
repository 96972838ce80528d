/* tests/test_graph_grad.c: whole-graph backward against float64 central finite differences:
 * d loss / d alpha and d loss / d every parameter of a small NB201 supernet (train-mode BN,
 * and BN removed as in the ZC SynFlow form), and of DARTS-style blocks built from the same
 * ops (FactorizedReduce, separable and dilated depthwise convs, max/avg pool + BN, strided
 * `none` via subsample, concat), and of a whole tiny DARTS search supernet; and d alpha and
 * d input of stacked copies of three of them (engine/graph_stack.h). Tolerance |fd - an| <= 1e-8 + 1e-5 |an|, h = 1e-6.
 *   ./build/bin/test_graph_grad */
#include <math.h>
#include <string.h>

#include "spaces/darts.h"
#include "engine/exec.h"
#include "engine/graph_stack.h"
#include "spaces/nb201.h"
#include "base/common.h"
#include "nn/cross_entropy.h"
#include "tests/test_util.h"

#define H 1e-6

static int labels[4] = {3, 0, 7, 1};

/* objective: mean CE (labels) or sum of logits */
static double objective(fn_exec *e, int use_ce) {
    exec_forward(e);
    const fn_graph *g = e->g;
    const double *z = exec_tensor(e, g->output);
    int n = g->t[g->output].n, k = g->t[g->output].c;
    if (use_ce) return cross_entropy_forward_f64(z, labels, n, k);
    double s = 0;
    for (int i = 0; i < n * k; i++) s += z[i];
    return s;
}

static void analytic(fn_exec *e, int use_ce) {
    objective(e, use_ce);
    const fn_graph *g = e->g;
    int n = g->t[g->output].n, k = g->t[g->output].c;
    double *dz = mallocCheck(sizeof(double) * n * k);
    if (use_ce) cross_entropy_backward_f64(dz, exec_tensor(e, g->output), labels, n, k, 1.0);
    else for (int i = 0; i < n * k; i++) dz[i] = 1.0;
    exec_backward(e, dz);
    free(dz);
}

typedef struct {
    fn_exec *e;
    int use_ce;
} objective_ctx;
static double objective_of(void *ctx) {
    objective_ctx *c = ctx;
    return objective(c->e, c->use_ce);
}

/* FD over entries of `var` (all of them up to `most`, else an evenly strided sample of about
 * `most` that covers every parameter tensor), compared with `an` */
static void fd_most(const char *what, fn_exec *e, int use_ce, double *var, const double *an,
                    size_t n, size_t most) {
    objective_ctx c = {e, use_ce};
    check_fd_grad(what, objective_of, &c, var, an, n, most, H);
}
static void fd_vs(const char *what, fn_exec *e, int use_ce, double *var, const double *an, size_t n) {
    fd_most(what, e, use_ce, var, an, n, 500);
}

static void random_state(fn_exec *e, unsigned seed, double alpha_scale) {
    exec_init_params(e, seed);
    exec_init_alpha(e, seed, alpha_scale);
    unsigned s = seed * 7919u + 1;
    double *p = e->params;
    /* perturb BN affine parameters away from (1, 0) so their gradients are exercised */
    for (size_t i = 0; i < e->g->param_numel; i++) p[i] += 0.1 * test_rand(&s);
    double *x = exec_tensor(e, e->g->input);
    for (size_t i = 0; i < graph_tensor_numel(e->g, e->g->input); i++) x[i] = test_rand(&s);
}

static void check_graph(const char *name, fn_graph *g, int use_ce, fn_bn_mode bn) {
    fn_exec e;
    exec_init(&e, g, FN_F64, 1);
    e.bn_mode = bn;
    random_state(&e, 5, 0.5);
    analytic(&e, use_ce);
    double *da = mallocCheck(sizeof(double) * (g->alpha_numel + 1));
    double *dp = mallocCheck(sizeof(double) * (g->param_numel + 1));
    memcpy(da, e.dalpha, sizeof(double) * g->alpha_numel);
    memcpy(dp, e.dparams, sizeof(double) * g->param_numel);
    char what[96];
    snprintf(what, sizeof what, "%s d/dalpha", name);
    fd_vs(what, &e, use_ce, e.alpha, da, g->alpha_numel);
    snprintf(what, sizeof what, "%s d/dparams", name);
    fd_vs(what, &e, use_ce, e.params, dp, g->param_numel);
    /* alpha-only backward (the FreeDARTS path) gives the same d alpha */
    fn_exec e2;
    exec_init(&e2, g, FN_F64, 0);
    e2.bn_mode = bn;
    random_state(&e2, 5, 0.5);
    analytic(&e2, use_ce);
    snprintf(what, sizeof what, "%s d/dalpha without param grads", name);
    check_close(what, e2.dalpha, da, g->alpha_numel, 0, 1e-12);
    CHECK(e2.bytes < e.bytes);
    exec_free(&e2);
    exec_free(&e);
    free(da);
    free(dp);
}

/* g stacked twice (engine/graph_stack.h: grouped convs, block-wise mix, concat and head): d
 * alpha and (with_input) d input of the stacked graph against central differences on a
 * sample of about 120 entries each (the sanitizer run's budget), models drawn from seeds 5 and
 * 9, parameters perturbed, a random input (stacked executors have no d params) */
static void check_stacked(const char *name, const fn_graph *g, int use_ce, fn_bn_mode bn,
                          int with_input) {
    fn_graph gs;
    char err[256];
    CHECKF(graph_stack(g, 2, &gs, err, sizeof err) == 0, "%s: %s", name, err);
    fn_exec e;
    fn_exec_opts o = {0, 1, NULL, NULL, FN_DEV_CPU, 0, 0};
    CHECK(exec_init_opts(&e, &gs, FN_F64, &o) == 0);
    e.bn_mode = bn;
    const uint64_t seeds[2] = {5, 9};
    const double scales[2] = {0.5, 0.3};
    exec_init_params_models(&e, seeds);
    exec_init_alpha_models(&e, seeds, scales);
    unsigned r = 4242;
    double *p = e.params, *x = exec_tensor(&e, gs.input);
    for (size_t i = 0; i < gs.param_numel; i++) p[i] += 0.1 * test_rand(&r);
    const size_t nx = graph_tensor_numel(&gs, gs.input);
    for (size_t i = 0; i < nx; i++) x[i] = test_rand(&r);
    analytic(&e, use_ce);
    double *da = mallocCheck(sizeof(double) * gs.alpha_numel);
    double *dx = mallocCheck(sizeof(double) * nx);
    memcpy(da, e.dalpha, sizeof(double) * gs.alpha_numel);
    memcpy(dx, exec_tensor_grad(&e, gs.input), sizeof(double) * nx);
    char what[128];
    snprintf(what, sizeof what, "%s stacked x2 d/dalpha", name);
    fd_most(what, &e, use_ce, e.alpha, da, gs.alpha_numel, 120);
    snprintf(what, sizeof what, "%s stacked x2 d/dinput", name);
    if (with_input) fd_most(what, &e, use_ce, x, dx, nx, 120);
    exec_free(&e);
    graph_free(&gs);
    free(da);
    free(dx);
}

/* DARTS-style ops on one reduction edge and one normal edge, mixed with alpha. */
static void build_darts_blocks(fn_graph *g) {
    int a = graph_alpha_group(g, "alpha", 2, 8);
    int x = graph_input(g, 2, 4, 6, 6);
    x = graph_bn(g, "stem.bn", graph_conv(g, "stem.conv", x, 4, 3, 1, 1, 1, 1), 1);
    /* reduction edge, stride 2 */
    int r = graph_relu(g, x);
    int ops[8], ai[8], m = 0;
    /* FactorizedReduce: ReLU, two 1x1 stride-2 convs (x and x shifted by one pixel), concat, BN */
    int c1 = graph_conv(g, "fr.c1", r, 2, 1, 2, 0, 1, 1);
    int c2 = graph_conv(g, "fr.c2", graph_subsample(g, r, 1, 1, 5, 5), 2, 1, 2, 0, 1, 1);
    int cc[2] = {c1, c2};
    ops[m] = graph_bn(g, "fr.bn", graph_concat(g, cc, 2), 0); ai[m++] = a + 3;
    ops[m] = graph_bn(g, "mp.bn", graph_maxpool(g, x, 3, 2, 1), 0); ai[m++] = a + 1;
    ops[m] = graph_bn(g, "ap.bn", graph_avgpool(g, x, 3, 2, 1), 0); ai[m++] = a + 2;
    /* sep_conv_3x3 stride 2: [ReLU, dw 3x3 s2, pw 1x1, BN], [ReLU, dw 3x3, pw, BN] */
    int s = graph_conv(g, "sep.dw1", r, 4, 3, 2, 1, 1, 4);
    s = graph_bn(g, "sep.bn1", graph_conv(g, "sep.pw1", s, 4, 1, 1, 0, 1, 1), 0);
    s = graph_conv(g, "sep.dw2", graph_relu(g, s), 4, 3, 1, 1, 1, 4);
    ops[m] = graph_bn(g, "sep.bn2", graph_conv(g, "sep.pw2", s, 4, 1, 1, 0, 1, 1), 0); ai[m++] = a + 4;
    /* dil_conv_5x5 stride 2: ReLU, dw 5x5 dilation 2 pad 4, pw, BN */
    int d = graph_conv(g, "dil.dw", r, 4, 5, 2, 4, 2, 4);
    ops[m] = graph_bn(g, "dil.bn", graph_conv(g, "dil.pw", d, 4, 1, 1, 0, 1, 1), 0); ai[m++] = a + 7;
    int y = graph_mix(g, ops, ai, m); /* `none` (strided) contributes nothing */
    /* normal edge on the 3x3 result: skip, dil_conv_3x3, max pool + BN */
    m = 0;
    ops[m] = y; ai[m++] = a + 8 + 3;
    int d3 = graph_conv(g, "dil3.dw", graph_relu(g, y), 4, 3, 1, 2, 2, 4);
    ops[m] = graph_bn(g, "dil3.bn", graph_conv(g, "dil3.pw", d3, 4, 1, 1, 0, 1, 1), 0); ai[m++] = a + 8 + 6;
    ops[m] = graph_bn(g, "mp2.bn", graph_maxpool(g, y, 3, 1, 1), 0); ai[m++] = a + 8 + 1;
    int z = graph_mix(g, ops, ai, m);
    int cat[2] = {y, z};
    g->output = graph_linear(g, "classifier", graph_gap(g, graph_concat(g, cat, 2)), 10);
}

int main(void) {
    fn_graph g;
    graph_init(&g);
    nb201_config c = {3, 1, 10, 8, 8, 4, 0};
    nb201_build(&g, &c);
    check_graph("nb201 C3 N1 CE, train BN", &g, 1, FN_BN_TRAIN);
    check_graph("nb201 C3 N1 sum logits, BN off (ZC)", &g, 0, FN_BN_OFF);
    check_stacked("nb201 C3 N1 CE, train BN", &g, 1, FN_BN_TRAIN, 1);
    graph_free(&g);

    graph_init(&g);
    nb201_config c2 = {2, 2, 5, 16, 16, 1, 0}; /* batch 1: BN statistics over space only */
    nb201_build(&g, &c2);
    check_graph("nb201 C2 N2 batch 1 sum logits (SynFlow)", &g, 0, FN_BN_TRAIN);
    graph_free(&g);

    graph_init(&g);
    build_darts_blocks(&g);
    check_graph("darts-style blocks CE", &g, 1, FN_BN_TRAIN);
    check_stacked("darts-style blocks CE", &g, 1, FN_BN_TRAIN, 1);
    graph_free(&g);

    /* the whole DARTS search supernet: 4 cells (reductions 1, 2), both alpha groups shared
     * by their cells, FactorizedReduce preprocess after reduction cells */
    graph_init(&g);
    darts_config dc = {2, 4, 10, 8, 8, 0, 2};
    char err[256];
    CHECK(darts_build(&g, &dc, err, sizeof err) == 0);
    check_graph("darts supernet C2 4 cells CE", &g, 1, FN_BN_TRAIN);
    check_stacked("darts supernet C2 4 cells sum logits", &g, 0, FN_BN_TRAIN, 0);
    graph_free(&g);
    return test_summary("test_graph_grad");
}
