/* proxies/proxy_grad_norm.c: `grad_norm`, ZC's grad_norm (docs/METHOD.md §3.4): the mean
 * cross-entropy of the labelled batch, train-mode BN; for each conv/linear layer the
 * Frobenius norm of dL/dW; score = the sum of the per-layer norms (not one global norm). */
#include <math.h>
#include <stdio.h>

#include "proxies/proxy_impl.h"

int proxy_grad_norm(fn_proxy_job *j, double *out, char *err, size_t errlen) {
    const double L = proxy_ce_grad(j);
    const fn_exec *e = j->e;
    const fn_graph *g = j->g;
    double s = 0;
    for (int p = 0; p < g->np; p++) {
        if (!proxy_is_weight(&g->p[p])) continue;
        const void *dw = exec_dparam(e, p);
        double ss = 0;
        for (size_t i = 0; i < g->p[p].numel; i++) {
            const double v = exec_get(dw, e->dtype, i);
            ss += v * v;
        }
        s += sqrt(ss);
    }
    *out = s;
    if (!isfinite(L)) {
        snprintf(err, errlen, "grad_norm: loss = %g is not finite", L);
        return -1;
    }
    return 0;
}
