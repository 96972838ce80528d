/* metrics/metric_grasp.c: FreeDARTS GraSP on alpha (docs/METHOD.md §3.11): S = |alpha * (H g)| (default) or alpha * (H g),
 * with g = dL/dalpha and H = d2L/dalpha2 on the same labelled batch, BN in train mode.
 * Keeping the argmax of +alpha*Hg is the same as GraSP's removal of large -alpha*Hg.
 *
 * H g is exact: the engine's forward-over-reverse product (metric_loss_hvp, engine/exec.h),
 * with ReLU masks and max-pool argmax held fixed and the BN batch statistics differentiated,
 * which is what autograd's double backward in FD's notebooks computes. It has no step, so
 * the pruned architecture cannot depend on one; it runs in float32 by default (the
 * precision of FD; tests/test_ref.c bounds it against PyTorch's H g in both precisions).
 * Option grasp_fd_eps > 0 (--grasp-fd E) brings back the earlier central finite difference
 * of gradients in float64,
 *   H g ~= [grad L(alpha + eps u) - grad L(alpha - eps u)] * ||g|| / (2 eps),  u = g/||g||,
 * eps = E ||alpha||: on full supernets with 64 images its ReLU kinks fall inside any step,
 * and the result changes with E (docs/FIDELITY.md); kept for comparison and for a backend
 * without the product.
 * Option grasp_adam reproduces the FD notebook quirk: one Adam step on alpha (lr, betas
 * (0.5, 0.999), weight decay 1e-3, eps 1e-8) before the HVP; S still uses alpha before it.
 * Option grasp_darts_form reproduces FD's DARTS notebook: Adam step with lr 3e-4, then the
 * gradient of <grad L, alpha> (= H alpha + g) at the stepped alpha, scored as
 * |alpha * (H alpha + g)| (docs/METHOD.md §3.11).
 * grasp_abs (the default) scores the magnitude |alpha * Hg|, as FD's DARTS notebook does with
 * its own HVP form: with the exact H g it reproduces the paper's Table 2 GraSP row better than
 * the signed score (docs/FIDELITY.md); grasp_abs = 0 (--grasp-signed) keeps alpha * Hg. */
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

/* H v at the current alpha: exact, or the finite difference when fd_eps > 0; g1 (or NULL)
 * gets dL/dalpha at the current alpha (the exact pass gives it; the difference computes it) */
static int hvp(fn_exec *e, const int *labels, const double *v, double fd_eps, double *Hv,
               double *g1, char *err, size_t errlen) {
    if (fd_eps > 0) {
        if (g1) metric_loss_grad(e, labels, g1);
        metric_grasp_hvp(e, labels, v, fd_eps, Hv);
        return 0;
    }
    char why[FN_ERRLEN];
    if (metric_loss_hvp(e, labels, v, Hv, g1, why, sizeof why)) {
        snprintf(err, errlen, "grasp: %s", why);
        return -1;
    }
    return 0;
}

int metric_grasp(fn_exec *e, const int *labels, const fn_metric_opts *o, double *S,
                 double *value, char *err, size_t errlen) {
    const size_t na = e->g->alpha_numel;
    double *g = mallocCheck(sizeof(double) * na), *Hg = mallocCheck(sizeof(double) * na);
    double *a0 = mallocCheck(sizeof(double) * na);
    if (o->abs_params > 0) metric_abs_params(e); /* FD's DARTS notebook */
    metric_loss_grad_models(e, labels, g, value);
    for (size_t i = 0; i < na; i++) a0[i] = exec_get(e->alpha, e->dtype, i);
    int rc = 0;
    if (o->grasp_darts_form) {
        /* FD's DARTS notebook: Adam step (lr 3e-4 unless --grasp-adam gives one), then
         * z = <grad L(alpha), alpha> at alpha_after, whose gradient is H alpha + g; score
         * |alpha_before * (H alpha + g)|. */
        adam_step(e, a0, g, na, o->grasp_adam ? o->grasp_adam_lr : 3e-4);
        double *v = mallocCheck(sizeof(double) * na), *g1 = mallocCheck(sizeof(double) * na);
        for (size_t i = 0; i < na; i++) v[i] = exec_get(e->alpha, e->dtype, i);
        rc = hvp(e, labels, v, o->grasp_fd_eps, Hg, g1, err, errlen);
        for (size_t i = 0; i < na; i++) S[i] = fabs(a0[i] * (Hg[i] + g1[i]));
        free(v);
        free(g1);
    } else {
        if (o->grasp_adam) adam_step(e, a0, g, na, o->grasp_adam_lr);
        rc = hvp(e, labels, g, o->grasp_fd_eps, Hg, NULL, err, errlen);
        for (size_t i = 0; i < na; i++) S[i] = o->grasp_abs ? fabs(a0[i] * Hg[i]) : a0[i] * Hg[i];
    }
    for (size_t i = 0; i < na; i++) exec_set(e->alpha, e->dtype, i, a0[i]);
    free(g);
    free(Hg);
    free(a0);
    if (rc) return -1;
    if (e->g->models == 1 && !isfinite(*value)) {
        snprintf(err, errlen, "grasp: loss = %g is not finite", *value);
        return -1;
    }
    return 0;
}
