/* metrics/metric_synflow.c: FreeDARTS SynFlow on alpha (docs/METHOD.md §3.11).
 *   params <- |params| (every parameter: conv, linear, BN gamma/beta);
 *   alpha <- |alpha| when the space says so (NB201, where alpha is in the state_dict);
 *   input = all ones [1, 3, H, W] (set by the caller), BN in train mode, R = sum of logits;
 *   S = |alpha * dR/dalpha|.
 * With opts.synflow_zc (§3.3; the DARTS and NB-1shot1 default) the executor runs with BN
 * removed except in the NB201 ResNet blocks, and search_run sets synflow_abs_alpha unless
 * synflow_signed_alpha: the path form R = 1'(prod |theta|)1, a network whose activations are
 * all >= 0. The caller picks the executor from metric_dtype / metric_bn_mode. Why FD's form
 * and signed alpha degenerate on DARTS and N1: docs/FIDELITY.md, tests/synflow_flow.c.
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
    metric_sum_grad_models(e, grad, value);
    for (size_t i = 0; i < g->alpha_numel; i++)
        S[i] = fabs(exec_get(e->alpha, e->dtype, i) * grad[i]);
    free(grad);
    if (e->g->models == 1 && !isfinite(*value)) {
        snprintf(err, errlen, "synflow: R = %g is not finite (overflow; try a smaller "
                 "--alpha-scale)", *value);
        return -1;
    }
    return 0;
}
