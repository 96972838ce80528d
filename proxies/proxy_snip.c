/* proxies/proxy_snip.c: `snip`, ZC's SNIP (docs/METHOD.md §3.1): the gradient of the mean
 * cross-entropy of the labelled batch (train-mode BN) with respect to an all-ones mask on
 * every conv/linear weight, i.e. W * dL/dW; score = sum |W * dL/dW|. Shares its backward with
 * grad_norm. */
#include <math.h>
#include <stdio.h>

#include "proxies/proxy_impl.h"

int proxy_snip(fn_proxy_job *j, double *out, char *err, size_t errlen) {
    const double L = proxy_ce_grad(j);
    *out = proxy_sum_abs_w_dw(j);
    if (!isfinite(L)) {
        snprintf(err, errlen, "snip: loss = %g is not finite", L);
        return -1;
    }
    return 0;
}
