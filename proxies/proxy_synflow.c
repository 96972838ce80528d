/* proxies/proxy_synflow.c: `synflow`, ZC's per-architecture SynFlow (docs/METHOD.md §3.3):
 *   on ZC's BN-free copy (executor bn_mode FN_BN_OFF: every BN is the identity except in the
 *   two ResNet blocks, which ZC builds with BN; docs/METHOD.md §3.0), in float64;
 *   every parameter <- |parameter| (conv/linear weights, the classifier bias, BN weights);
 *   input all ones [1, 3, H, W]; R = sum of the logits; backward;
 *   score = sum over conv/linear weights of |W * dR/dW|.
 * No data, no labels. The parameters are left as |W|: the driver redraws them afterwards.
 * Values reach 1e40 and beyond, hence float64 (docs/METHOD.md §6 item 1). */
#include <math.h>
#include <stdio.h>

#include "metrics/metric.h"
#include "proxies/proxy_impl.h"

int proxy_synflow(fn_proxy_job *j, double *out, char *err, size_t errlen) {
    metric_abs_params(j->e);
    const void *x = j->x;
    j->x = NULL; /* all ones */
    const double R = proxy_pass(j, FN_PX_LOSS_SUM);
    j->x = x;
    *out = proxy_sum_abs_w_dw(j);
    if (!isfinite(R) || !isfinite(*out)) {
        snprintf(err, errlen, "synflow: R = %g, score = %g: not finite (overflow; float64 "
                 "needed)", R, *out);
        return -1;
    }
    return 0;
}
