/* nas/metric_snip.c: FreeDARTS SNIP on alpha (METHOD.md §3.11): S = |alpha * dL/dalpha|,
 * L = mean cross-entropy of one labelled batch (64 by default), BN in train mode, signed
 * weights and alpha (NB201 notebook). */
#include <math.h>
#include <stdio.h>

#include "nas/metric.h"
#include "nn/common.h"

int metric_snip(fn_exec *e, const int *labels, const fn_metric_opts *o, double *S,
                double *value, char *err, size_t errlen) {
    (void)o;
    const fn_graph *g = e->g;
    double *grad = mallocCheck(sizeof(double) * g->alpha_numel);
    *value = metric_loss_grad(e, labels, grad);
    for (size_t i = 0; i < g->alpha_numel; i++)
        S[i] = fabs(exec_get(e->alpha, e->dtype, i) * grad[i]);
    free(grad);
    if (!isfinite(*value)) {
        snprintf(err, errlen, "snip: loss = %g is not finite", *value);
        return -1;
    }
    return 0;
}
