/* metrics/metric_snip.c: FreeDARTS SNIP on alpha (docs/METHOD.md §3.11): S = |alpha * dL/dalpha|,
 * L = mean cross-entropy of one labelled batch (64 by default), BN in train mode, signed
 * alpha; signed weights (NB201 notebook) or |weights| with abs_params (FD's DARTS notebook).
 * With abs_params the parameters are modified in place: run it on a per-search executor. */
#include <math.h>
#include <stdio.h>

#include "metrics/metric.h"
#include "base/common.h"

int metric_snip(fn_exec *e, const int *labels, const fn_metric_opts *o, double *S,
                double *value, char *err, size_t errlen) {
    const fn_graph *g = e->g;
    if (o->abs_params > 0) metric_abs_params(e);
    double *grad = mallocCheck(sizeof(double) * g->alpha_numel);
    metric_loss_grad_models(e, labels, grad, value);
    for (size_t i = 0; i < g->alpha_numel; i++)
        S[i] = fabs(exec_get(e->alpha, e->dtype, i) * grad[i]);
    free(grad);
    if (e->g->models == 1 && !isfinite(*value)) {
        snprintf(err, errlen, "snip: loss = %g is not finite", *value);
        return -1;
    }
    return 0;
}
