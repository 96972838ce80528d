/* proxies/proxy_grasp.c: `grasp`, ZC's GraSP (docs/METHOD.md §3.2, §6 item 4):
 *   g = dL/dW over the conv/linear weights (mean cross-entropy, train-mode BN), held fixed
 *   (ZC's stop-gradient grad_w, computed on the same batch);
 *   H g = d/dW <g, dL/dW>, the Hessian of L in the conv/linear weights times g (BN weights
 *   and the classifier bias stay fixed: ZC reads only the weights' .grad);
 *   score = -sum W * (H g)  (ZC's sign: larger is better).
 * H g is exact: the engine's forward-over-reverse product (engine/exec.h) along the
 * direction g on the conv/linear weights, ReLU masks and max-pool argmax held fixed and the
 * BN batch statistics differentiated, as PyTorch's double backward does. One
 * forward/backward pass and one tangent pass of the batch. The score needs only W . H g:
 * on an executor that keeps its conv and linear outputs (the proxies' own) it is summed layer
 * by layer from dot products (grasp_whg below), so the tangent pass computes no weight
 * gradient; elsewhere (a device backend, an executor that keeps nothing) from H g itself.
 * proxy_grasp_hvp keeps the earlier central difference of gradients along u = g/|g| with the
 * ReLU pattern frozen (fn_relu_mode),
 *   H g ~= [dL/dW(W + eps u) - dL/dW(W - eps u)] |g| / (2 eps),  eps = eps_rel |W|,
 * as the independent check of the exact product (tests/test_proxies.c): the frozen network
 * is smooth in W, so the difference converges (full NB201 nets, batch 64, float64: steps
 * 1e-5 .. 1e-8 agree to 1e-4 .. 1e-8); through live ReLUs it does not converge at any step. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "proxies/proxy_impl.h"
#include "base/common.h"
#include "nn/cross_entropy.h"

static size_t weight_count(const fn_graph *g) {
    size_t n = 0;
    for (int p = 0; p < g->np; p++)
        if (proxy_is_weight(&g->p[p])) n += g->p[p].numel;
    return n;
}

/* dst[n_w] <- the conv/linear weights (from = params) or their gradients (from = dparams) */
static void gather(const fn_exec *e, const void *base, double *dst) {
    const fn_graph *g = e->g;
    size_t k = 0;
    for (int p = 0; p < g->np; p++) {
        if (!proxy_is_weight(&g->p[p])) continue;
        for (size_t i = 0; i < g->p[p].numel; i++)
            dst[k++] = exec_get(base, e->dtype, g->p[p].off + i);
    }
}

/* weights <- w0 + s * v */
static void set_weights(fn_exec *e, const double *w0, double s, const double *v) {
    const fn_graph *g = e->g;
    size_t k = 0;
    for (int p = 0; p < g->np; p++) {
        if (!proxy_is_weight(&g->p[p])) continue;
        for (size_t i = 0; i < g->p[p].numel; i++, k++)
            exec_set(e->params, e->dtype, g->p[p].off + i, v ? w0[k] + s * v[k] : w0[k]);
    }
    exec_params_changed(e);
}

void proxy_grasp_hvp(fn_proxy_job *j, const double *g, double eps_rel, double *Hg) {
    fn_exec *e = j->e;
    const size_t nw = weight_count(j->g);
    double *w0 = proxy_scratch(j, 2, nw), *gp = proxy_scratch(j, 3, nw);
    gather(e, e->params, w0);
    double gn = 0, wn = 0;
    for (size_t i = 0; i < nw; i++) {
        gn += g[i] * g[i];
        wn += w0[i] * w0[i];
    }
    gn = sqrt(gn);
    wn = sqrt(wn);
    if (gn == 0) {
        memset(Hg, 0, sizeof(double) * nw);
        return;
    }
    const double eps = eps_rel * (wn > 0 ? wn : 1.0), s = eps / gn;
    exec_set_relu_mode(e, FN_RELU_RECORD); /* the ReLU pattern at W (forward only) */
    proxy_set_input(j);
    exec_forward(e);
    exec_set_relu_mode(e, FN_RELU_FROZEN);
    set_weights(e, w0, s, g);
    proxy_pass(j, FN_PX_LOSS_CE);
    gather(e, e->dparams, gp);
    set_weights(e, w0, -s, g);
    proxy_pass(j, FN_PX_LOSS_CE);
    gather(e, e->dparams, Hg);
    exec_set_relu_mode(e, FN_RELU_NORMAL);
    for (size_t i = 0; i < nw; i++) Hg[i] = (gp[i] - Hg[i]) * gn / (2 * eps);
    set_weights(e, w0, 0, NULL); /* exactly the weights before */
    j->ce_valid = 0;             /* d params belong to W - eps u */
}

/* exec_hvp_init, and the tangent direction: g on the conv/linear weights, 0 elsewhere */
static int hvp_direction(fn_proxy_job *j, const double *g, char *err, size_t errlen) {
    fn_exec *e = j->e;
    const fn_graph *gr = j->g;
    if (exec_hvp_init(e)) {
        snprintf(err, errlen, "grasp: %s", exec_error());
        return -1;
    }
    size_t k = 0;
    for (int p = 0; p < gr->np; p++) {
        if (!proxy_is_weight(&gr->p[p])) continue;
        for (size_t i = 0; i < gr->p[p].numel; i++)
            exec_set(e->tparams, e->dtype, gr->p[p].off + i, g[k++]);
    }
    return 0;
}

/* The tangent passes: forward with tangents, the cross-entropy's d z and its tangent, backward
 * with tangents. */
static void hvp_passes(fn_proxy_job *j) {
    fn_exec *e = j->e;
    const fn_graph *gr = j->g;
    proxy_set_input(j);
    exec_forward_tangent(e);
    const int n = gr->t[gr->output].n, c = gr->t[gr->output].c;
    const size_t nz = (size_t)n * c;
    double *z = proxy_scratch(j, FN_PX_SLOT_TMP, 4 * nz), *tz = z + nz, *dz = tz + nz,
           *tdz = dz + nz;
    proxy_to_double(e, exec_tensor(e, gr->output), nz, z);
    proxy_to_double(e, exec_tangent(e, gr->output), nz, tz);
    cross_entropy_backward_f64(dz, z, j->y, n, c, 1.0);
    cross_entropy_backward_tangent_f64(tdz, z, tz, n, c, 1.0);
    if (e->dtype == FN_F64) {
        exec_backward_tangent(e, dz, tdz);
    } else { /* dz and tdz are contiguous */
        float *f = mallocCheck(sizeof(float) * 2 * nz);
        for (size_t i = 0; i < 2 * nz; i++) f[i] = (float)dz[i];
        exec_backward_tangent(e, f, f + nz);
        free(f);
    }
    j->ce_valid = 0;
}

int proxy_grasp_hvp_exact(fn_proxy_job *j, const double *g, double *Hg, char *err,
                          size_t errlen) {
    if (hvp_direction(j, g, err, errlen)) return -1;
    hvp_passes(j);
    gather(j->e, j->e->tdparams, Hg);
    return 0;
}

/* W . H g by layers, without H g itself. For a conv or linear node y = W * x (+ b), with the
 * weights' direction tW = g and every other direction 0 (so ty = W * tx + g * x), the tangent of
 * dL/dW = x (*) dy is tdW = x (*) tdy + tx (*) dy, and the adjoint identity <W, a (*) b> =
 * <b, W * a> gives
 *   <W, tdW> = <tdy, W * x> + <dy, W * tx> = <tdy, y - b> + <dy, ty> - <g, dL/dW>,
 * and dL/dW = g at the same weights and batch: the node adds <tdy, y - b> + <dy, ty> - |g|^2.
 * Every term is a dot product of tensors the passes hold, so the tangent pass computes no
 * weight gradient (neither dL/dW nor H g: their GEMMs and im2col are most of a GraSP call).
 * Needs the conv and linear outputs kept (fn_exec.conv_out_kept, FN_PX_KEEP_CONV_OUT) and host
 * arenas; checked against the exact H g in tests/test_proxies.c. */
static double dot_tensors(const fn_exec *e, const void *a, const void *b, size_t n) {
    double s = 0;
    if (e->dtype == FN_F64) {
        const double *x = a, *y = b;
        for (size_t i = 0; i < n; i++) s += x[i] * y[i];
    } else {
        const float *x = a, *y = b;
        for (size_t i = 0; i < n; i++) s += (double)x[i] * y[i];
    }
    return s;
}

static void whg_hook(void *user, const fn_exec *e, int i) {
    double *acc = user;
    const fn_graph *g = e->g;
    const fn_node *nd = &g->nodes[i];
    if (nd->kind != FN_NODE_CONV && nd->kind != FN_NODE_LINEAR) return;
    const int y = nd->out;
    const fn_tensor *t = &g->t[y];
    const size_t n = (size_t)t->n * t->c * t->h * t->w;
    const void *tdy = exec_tangent_grad(e, y);
    *acc += dot_tensors(e, tdy, exec_tensor(e, y), n) +
            dot_tensors(e, exec_tensor_grad(e, y), exec_tangent(e, y), n);
    if (nd->kind == FN_NODE_LINEAR && nd->b >= 0) { /* - <tdy, b>: y holds the bias */
        const int c = t->c * t->h * t->w;
        for (int s = 0; s < t->n; s++)
            for (int k = 0; k < c; k++)
                *acc -= exec_get(tdy, e->dtype, (size_t)s * c + k) *
                        exec_get(e->params, e->dtype, g->p[nd->b].off + (size_t)k);
    }
}

/* W . H g (the sum over conv/linear weights) by whg_hook; g = the weights' gradient. */
static int grasp_whg(fn_proxy_job *j, const double *g, size_t nw, double *whg, char *err,
                     size_t errlen) {
    fn_exec *e = j->e;
    if (hvp_direction(j, g, err, errlen)) return -1;
    double gg = 0;
    for (size_t i = 0; i < nw; i++) gg += g[i] * g[i];
    /* no weight gradient in these passes: d params and their tangents off */
    void *dparams = e->dparams, *tdparams = e->tdparams;
    e->dparams = e->tdparams = NULL;
    double acc = 0;
    e->tbwd_hook = whg_hook;
    e->tbwd_hook_user = &acc;
    hvp_passes(j);
    e->tbwd_hook = NULL;
    e->tbwd_hook_user = NULL;
    e->dparams = dparams;
    e->tdparams = tdparams;
    *whg = acc - gg;
    return 0;
}

int proxy_grasp(fn_proxy_job *j, double *out, char *err, size_t errlen) {
    fn_exec *e = j->e;
    if (!e->dparams) {
        snprintf(err, errlen, "grasp needs an executor with parameter gradients");
        return -1;
    }
    const size_t nw = weight_count(j->g);
    const double L = proxy_ce_grad(j);
    double *g = proxy_scratch(j, 4, nw), *Hg = proxy_scratch(j, 5, nw);
    double *w0 = proxy_scratch(j, 2, nw);
    gather(e, e->dparams, g);
    if (e->conv_out_kept && exec_tangent_grad_host(e)) { /* W . H g by layers (grasp_whg) */
        double whg;
        if (grasp_whg(j, g, nw, &whg, err, errlen)) return -1;
        *out = -whg;
    } else {
        gather(e, e->params, w0);
        if (proxy_grasp_hvp_exact(j, g, Hg, err, errlen)) return -1;
        double s = 0;
        for (size_t i = 0; i < nw; i++) s -= w0[i] * Hg[i];
        *out = s;
    }
    if (!isfinite(L)) {
        snprintf(err, errlen, "grasp: loss = %g is not finite", L);
        return -1;
    }
    return 0;
}
