/* metrics/metric_synflow.c: FreeDARTS SynFlow on alpha (METHOD.md §3.11).
 *   params <- |params| (every parameter: conv, linear, BN gamma/beta);
 *   alpha <- |alpha| when the space says so (NB201, where alpha is in the state_dict);
 *   input = all ones [1, 3, H, W] (set by the caller), BN in train mode, R = sum of logits;
 *   S = |alpha * dR/dalpha|.
 * The ZC form (opts.synflow_zc, §3.3) runs the same on a float64 executor with BN removed
 * except in the NB201 ResNet blocks; the caller picks the executor from metric_dtype/_bn_mode.
 * Parameters are modified in place: run it on a per-search executor. */
#include <math.h>
#include <stdio.h>

#include "metrics/metric.h"
#include "base/common.h"

int metric_synflow(fn_exec *e, const int *labels, const fn_metric_opts *o, double *S,
                   double *value, char *err, size_t errlen) {
    (void)labels;
    const fn_graph *g = e->g;
    metric_abs_params(e);
    if (o->synflow_abs_alpha > 0)
        for (size_t i = 0; i < g->alpha_numel; i++)
            exec_set(e->alpha, e->dtype, i, fabs(exec_get(e->alpha, e->dtype, i)));
    double *grad = mallocCheck(sizeof(double) * g->alpha_numel);
    *value = metric_sum_grad(e, grad);
    for (size_t i = 0; i < g->alpha_numel; i++)
        S[i] = fabs(exec_get(e->alpha, e->dtype, i) * grad[i]);
    free(grad);
    if (!isfinite(*value)) {
        snprintf(err, errlen, "synflow: R = %g is not finite (overflow; try a smaller "
                 "--alpha-scale or --synflow-zc)", *value);
        return -1;
    }
    return 0;
}
