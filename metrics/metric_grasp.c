/* metrics/metric_grasp.c: FreeDARTS GraSP on alpha (METHOD.md §3.11): S = alpha * (H g), signed,
 * with g = dL/dalpha and H = d2L/dalpha2 on the same labelled batch, BN in train mode.
 * Keeping the argmax of +alpha*Hg is the same as GraSP's removal of large -alpha*Hg.
 *
 * H g by a central finite difference of gradients (METHOD.md §3.11, remarks):
 *   H g ~= [grad L(alpha + eps u) - grad L(alpha - eps u)] * ||g|| / (2 eps),  u = g/||g||,
 * eps = eps_rel * ||alpha|| (eps_rel = 1e-6 by default). The loss is smooth only inside one
 * ReLU activation region: a larger step flips ReLUs near zero and the error becomes first
 * order in the step (at eps_rel = 1e-2 the tiny reference net's H g is off by 200 %). So the
 * step is tiny and the metric runs on a float64 executor (metric_dtype), where the gradient
 * difference keeps ~8 significant digits. tests/test_ref.c bounds the result against
 * PyTorch's exact second-order H g; tests/test_metrics.c checks the step is converged.
 * Option grasp_adam reproduces the FD notebook quirk: one Adam step on alpha (lr, betas
 * (0.5, 0.999), weight decay 1e-3, eps 1e-8) before the HVP; S still uses alpha before it.
 * Option grasp_darts_form reproduces FD's DARTS notebook: Adam step with lr 3e-4, then the
 * gradient of <grad L, alpha> (= H alpha + g) at the stepped alpha, scored as
 * |alpha * (H alpha + g)| (METHOD.md §3.11); the H alpha product uses the same FD HVP.
 * Option grasp_abs scores the magnitude |alpha * Hg| (as FD's DARTS notebook does with its
 * own HVP form); on NB201 it, not the signed score, reproduces the paper's Table 2 GraSP row
 * (see the README's fidelity table). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "metrics/metric.h"
#include "base/common.h"

static double norm2(const double *v, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += v[i] * v[i];
    return sqrt(s);
}

void metric_grasp_hvp(fn_exec *e, const int *labels, const double *g, double eps_rel,
                      double *Hg) {
    const size_t na = e->g->alpha_numel;
    double *a0 = mallocCheck(sizeof(double) * na), *gp = mallocCheck(sizeof(double) * na);
    for (size_t i = 0; i < na; i++) a0[i] = exec_get(e->alpha, e->dtype, i);
    const double gn = norm2(g, na), an = norm2(a0, na);
    if (gn == 0) {
        memset(Hg, 0, sizeof(double) * na);
        free(a0);
        free(gp);
        return;
    }
    const double eps = eps_rel * (an > 0 ? an : 1.0);
    for (size_t i = 0; i < na; i++) exec_set(e->alpha, e->dtype, i, a0[i] + eps * g[i] / gn);
    metric_loss_grad(e, labels, gp);
    for (size_t i = 0; i < na; i++) exec_set(e->alpha, e->dtype, i, a0[i] - eps * g[i] / gn);
    metric_loss_grad(e, labels, Hg);
    for (size_t i = 0; i < na; i++) {
        Hg[i] = (gp[i] - Hg[i]) * gn / (2 * eps);
        exec_set(e->alpha, e->dtype, i, a0[i]);
    }
    free(a0);
    free(gp);
}

/* One Adam step on alpha from a0 with gradient g (first step: bias-corrected m = g',
 * v = g'^2, g' = g + wd * alpha, so the step is lr * g' / (|g'| + eps)). */
static void adam_step(fn_exec *e, const double *a0, const double *g, size_t na, double lr) {
    for (size_t i = 0; i < na; i++) {
        double gw = g[i] + 1e-3 * a0[i];
        exec_set(e->alpha, e->dtype, i, a0[i] - lr * gw / (fabs(gw) + 1e-8));
    }
}

int metric_grasp(fn_exec *e, const int *labels, const fn_metric_opts *o, double *S,
                 double *value, char *err, size_t errlen) {
    const size_t na = e->g->alpha_numel;
    double *g = mallocCheck(sizeof(double) * na), *Hg = mallocCheck(sizeof(double) * na);
    double *a0 = mallocCheck(sizeof(double) * na);
    if (o->abs_params > 0) metric_abs_params(e); /* FD's DARTS notebook */
    *value = metric_loss_grad(e, labels, g);
    for (size_t i = 0; i < na; i++) a0[i] = exec_get(e->alpha, e->dtype, i);
    if (o->grasp_darts_form) {
        /* FD's DARTS notebook: Adam step (lr 3e-4 unless --grasp-adam gives one), then
         * z = <grad L(alpha), alpha> at alpha_after, whose gradient is H alpha + g; score
         * |alpha_before * (H alpha + g)|. */
        adam_step(e, a0, g, na, o->grasp_adam ? o->grasp_adam_lr : 3e-4);
        double *v = mallocCheck(sizeof(double) * na), *g1 = mallocCheck(sizeof(double) * na);
        for (size_t i = 0; i < na; i++) v[i] = exec_get(e->alpha, e->dtype, i);
        metric_loss_grad(e, labels, g1);
        metric_grasp_hvp(e, labels, v, o->grasp_fd_eps, Hg);
        for (size_t i = 0; i < na; i++) S[i] = fabs(a0[i] * (Hg[i] + g1[i]));
        free(v);
        free(g1);
    } else {
        if (o->grasp_adam) adam_step(e, a0, g, na, o->grasp_adam_lr);
        metric_grasp_hvp(e, labels, g, o->grasp_fd_eps, Hg);
        for (size_t i = 0; i < na; i++) S[i] = o->grasp_abs ? fabs(a0[i] * Hg[i]) : a0[i] * Hg[i];
    }
    for (size_t i = 0; i < na; i++) exec_set(e->alpha, e->dtype, i, a0[i]);
    free(g);
    free(Hg);
    free(a0);
    if (!isfinite(*value)) {
        snprintf(err, errlen, "grasp: loss = %g is not finite", *value);
        return -1;
    }
    return 0;
}
