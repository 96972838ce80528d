/* tests/test_hvp.c: the engine's exact Hessian-vector product (exec_forward_tangent /
 * exec_backward_tangent, engine/graph_hvp.c) on whole supernets, against a float64 central
 * difference of gradients with the ReLU pattern frozen (fn_relu_mode: the network is then
 * smooth, and its Hessian is the one autograd's double backward differentiates):
 *   H v ~= [grad L(theta + h v) - grad L(theta - h v)] / 2h,  h = 1e-6,
 * for directions v in alpha only (alpha-level GraSP), in the parameters only (the per-arch
 * GraSP proxy) and in both, on a small NB201 supernet (affine BN in stem / res blocks / head,
 * non-affine BN in cells, avg pool) and a tiny DARTS supernet (max pool, separable and
 * dilated convs, FactorizedReduce, concat, strided `none`). Tolerance: relative L2 error
 * <= 1e-6 and |fd - an| <= 1e-6 max|an| + 1e-5 |an|. Also: the HVP pass leaves d alpha and
 * d params equal to exec_backward's to rounding (it does not fold BN sums into mixes,
 * engine/graph_fold.h); float32 agrees with float64 (relative L2 <= 1e-4).
 *   ./build/bin/test_hvp */
#include <math.h>
#include <string.h>

#include "base/common.h"
#include "engine/exec.h"
#include "nn/cross_entropy.h"
#include "spaces/darts.h"
#include "spaces/nb201.h"
#include "tests/test_search_case.h"
#include "tests/test_util.h"

#define H 1e-6
enum { BATCH = 4 };
static const int labels[BATCH] = {3, 0, 7, 1};
static unsigned rng = 777u;

static void build(fn_graph *g, int darts) { test_small_supernet(g, darts, BATCH); }

/* the same state in any executor: params from seed 5, alpha 0.1 randn, random input */
static void setup(fn_exec *e, const double *x) {
    exec_init_params(e, 5);
    exec_init_alpha(e, 9, 0.1);
    const fn_graph *g = e->g;
    for (int p = 0; p < g->np; p++) /* BN weights away from 1, biases away from 0 */
        if (g->p[p].kind == FN_PARAM_BN_W || g->p[p].kind == FN_PARAM_BN_B)
            for (size_t i = 0; i < g->p[p].numel; i++)
                exec_set(e->params, e->dtype, g->p[p].off + i,
                         (g->p[p].kind == FN_PARAM_BN_W) + 0.3 * sin(1.0 + (double)i + p));
    exec_params_changed(e);
    const size_t nx = graph_tensor_numel(g, g->input);
    for (size_t i = 0; i < nx; i++) exec_set(exec_tensor(e, g->input), e->dtype, i, x[i]);
}

static void seeds(fn_exec *e, void *dz, void *tdz) {
    const fn_graph *g = e->g;
    const int n = g->t[g->output].n, k = g->t[g->output].c;
    if (e->dtype == FN_F64) {
        cross_entropy_backward_f64(dz, exec_tensor(e, g->output), labels, n, k, 1.0);
        if (tdz)
            cross_entropy_backward_tangent_f64(tdz, exec_tensor(e, g->output),
                                               exec_tangent(e, g->output), n, k, 1.0);
    } else {
        cross_entropy_backward_f32(dz, exec_tensor(e, g->output), labels, n, k, 1.0);
        if (tdz)
            cross_entropy_backward_tangent_f32(tdz, exec_tensor(e, g->output),
                                               exec_tangent(e, g->output), n, k, 1.0);
    }
}

/* exact H v: out = [H v in alpha, H v in params] */
static void hvp_exact(fn_exec *e, const double *va, const double *vp, double *out) {
    const fn_graph *g = e->g;
    const size_t na = g->alpha_numel, np = g->param_numel;
    CHECK(exec_hvp_init(e) == 0);
    for (size_t i = 0; i < na; i++) exec_set(e->talpha, e->dtype, i, va[i]);
    for (size_t i = 0; i < np; i++) exec_set(e->tparams, e->dtype, i, vp[i]);
    exec_forward_tangent(e);
    double dz[BATCH * 10], tdz[BATCH * 10];
    seeds(e, dz, tdz);
    exec_backward_tangent(e, dz, tdz);
    for (size_t i = 0; i < na; i++) out[i] = exec_get(e->tdalpha, e->dtype, i);
    for (size_t i = 0; i < np; i++) out[na + i] = exec_get(e->tdparams, e->dtype, i);
}

static void grad_at(fn_exec *e, const double *a0, const double *p0, const double *va,
                    const double *vp, double s, double *out) {
    const fn_graph *g = e->g;
    const size_t na = g->alpha_numel, np = g->param_numel;
    for (size_t i = 0; i < na; i++) exec_set(e->alpha, e->dtype, i, a0[i] + s * va[i]);
    for (size_t i = 0; i < np; i++) exec_set(e->params, e->dtype, i, p0[i] + s * vp[i]);
    exec_params_changed(e);
    exec_forward(e);
    double dz[BATCH * 10];
    seeds(e, dz, NULL);
    exec_backward(e, dz);
    for (size_t i = 0; i < na; i++) out[i] = exec_get(e->dalpha, e->dtype, i);
    for (size_t i = 0; i < np; i++) out[na + i] = exec_get(e->dparams, e->dtype, i);
}

/* frozen-pattern central difference of gradients (float64 executor) */
static void hvp_fd(fn_exec *e, const double *va, const double *vp, double *out) {
    const fn_graph *g = e->g;
    const size_t na = g->alpha_numel, np = g->param_numel, n = na + np;
    double *a0 = mallocCheck(sizeof(double) * na), *p0 = mallocCheck(sizeof(double) * np);
    double *gp = mallocCheck(sizeof(double) * n);
    for (size_t i = 0; i < na; i++) a0[i] = exec_get(e->alpha, e->dtype, i);
    for (size_t i = 0; i < np; i++) p0[i] = exec_get(e->params, e->dtype, i);
    exec_set_relu_mode(e, FN_RELU_RECORD);
    exec_forward(e);
    exec_set_relu_mode(e, FN_RELU_FROZEN);
    grad_at(e, a0, p0, va, vp, H, gp);
    grad_at(e, a0, p0, va, vp, -H, out);
    for (size_t i = 0; i < n; i++) out[i] = (gp[i] - out[i]) / (2 * H);
    exec_set_relu_mode(e, FN_RELU_NORMAL);
    grad_at(e, a0, p0, va, vp, 0, gp); /* back at theta */
    free(a0); free(p0); free(gp);
}

static void check_net(int darts) {
    const char *net = darts ? "darts" : "nb201";
    fn_graph g;
    build(&g, darts);
    const size_t na = g.alpha_numel, np = g.param_numel, n = na + np;
    const size_t nx = graph_tensor_numel(&g, g.input);
    double *x = mallocCheck(sizeof(double) * nx);
    for (size_t i = 0; i < nx; i++) x[i] = test_rand(&rng);
    double *va = callocCheck(na, sizeof(double)), *vp = callocCheck(np, sizeof(double));
    double *ex = mallocCheck(sizeof(double) * n), *fd = mallocCheck(sizeof(double) * n);
    double *ex32 = mallocCheck(sizeof(double) * n);
    fn_exec e, e32;
    CHECK(exec_init(&e, &g, FN_F64, 1) == 0);
    CHECK(exec_init(&e32, &g, FN_F32, 1) == 0);
    setup(&e, x);
    setup(&e32, x);
    const char *dirs[3] = {"alpha", "params", "alpha+params"};
    for (int d = 0; d < 3; d++) {
        for (size_t i = 0; i < na; i++) va[i] = d != 1 ? test_rand(&rng) : 0;
        for (size_t i = 0; i < np; i++) vp[i] = d != 0 ? 0.1 * test_rand(&rng) : 0;
        hvp_exact(&e, va, vp, ex);
        hvp_fd(&e, va, vp, fd);
        double m = 0;
        for (size_t i = 0; i < n; i++) m = fmax(m, fabs(ex[i]));
        char what[96];
        snprintf(what, sizeof what, "%s Hv (%s) vs frozen FD", net, dirs[d]);
        check_rel_l2(what, ex, fd, n, 1e-6);
        check_close(what, ex, fd, n, 1e-6 * m, 1e-5);
        CHECKF(m > 1e-3, "%s: H v is not trivially zero (max %g)", what, m);
        hvp_exact(&e32, va, vp, ex32);
        snprintf(what, sizeof what, "%s Hv (%s) f32 vs f64", net, dirs[d]);
        check_rel_l2(what, ex32, ex, n, 1e-4);
    }
    /* the HVP pass's gradients are exec_backward's, to rounding: the HVP pass leaves BN
     * sums unfolded (engine/graph_fold.h); bit for bit with FREENAS_FOLD_BN=0 */
    double *g1 = mallocCheck(sizeof(double) * n), *g2 = mallocCheck(sizeof(double) * n);
    hvp_exact(&e, va, vp, ex);
    for (size_t i = 0; i < na; i++) g1[i] = exec_get(e.dalpha, FN_F64, i);
    for (size_t i = 0; i < np; i++) g1[na + i] = exec_get(e.dparams, FN_F64, i);
    exec_forward(&e);
    double dz[BATCH * 10];
    seeds(&e, dz, NULL);
    exec_backward(&e, dz);
    for (size_t i = 0; i < na; i++) g2[i] = exec_get(e.dalpha, FN_F64, i);
    for (size_t i = 0; i < np; i++) g2[na + i] = exec_get(e.dparams, FN_F64, i);
    char what[96];
    snprintf(what, sizeof what, "%s gradients of the HVP pass = exec_backward", net);
    double gmax = 0;
    for (size_t i = 0; i < n; i++) gmax = fmax(gmax, fabs(g2[i]));
    check_close(what, g1, g2, n, 1e-13 * gmax, 1e-12);
    exec_free(&e);
    exec_free(&e32);
    graph_free(&g);
    free(x); free(va); free(vp); free(ex); free(fd); free(ex32); free(g1); free(g2);
}

int main(void) {
    check_net(0);
    check_net(1);
    return test_summary("test_hvp");
}
