/* proxies/proxy_fisher.c: `fisher`, ZC's Fisher in channel mode (docs/METHOD.md §3.5): mean
 * cross-entropy of the labelled batch, train-mode BN, one backward; for every conv/linear
 * layer with output a [N, C, (H, W)] and g = dL/da, per channel k
 *   F_k = 1/2 mean_n (sum_hw a[n,k] g[n,k])^2.
 * ZC then broadcasts F_k over the channel's weights (p_utils.reshape_elements, shape
 * weight.shape[1:]) before summing everything, so a layer contributes fan_in * sum_k F_k with
 * fan_in = C_in k k (conv) or in_features (linear). a and g are read by a backward hook at
 * each conv/linear node, as ZC's hook on an identity after the layer; a layer whose output
 * reaches no logit gets no hook call and contributes 0, as in ZC (fisher None -> zeros). */
#include <math.h>
#include <stdio.h>

#include "proxies/proxy_impl.h"

typedef struct {
    double sum;
} fisher_acc;

static void fisher_hook(void *user, const fn_exec *e, int node) {
    const fn_graph *g = e->g;
    const fn_node *nd = &g->nodes[node];
    if (nd->kind != FN_NODE_CONV && nd->kind != FN_NODE_LINEAR) return;
    const fn_tensor *t = &g->t[nd->out];
    const size_t hw = (size_t)t->h * t->w;
    const void *a = exec_tensor(e, nd->out), *da = exec_tensor_grad(e, nd->out);
    double f = 0;
    for (int k = 0; k < t->c; k++) {
        double m = 0;
        for (int n = 0; n < t->n; n++) {
            const size_t o = ((size_t)n * t->c + k) * hw;
            double s = 0;
            for (size_t i = 0; i < hw; i++)
                s += exec_get(a, e->dtype, o + i) * exec_get(da, e->dtype, o + i);
            m += s * s;
        }
        f += 0.5 * m / t->n;
    }
    const double fan_in = (double)g->p[nd->w].numel / t->c;
    ((fisher_acc *)user)->sum += fan_in * f;
}

int proxy_fisher(fn_proxy_job *j, double *out, char *err, size_t errlen) {
    fisher_acc acc = {0};
    j->e->bwd_hook = fisher_hook;
    j->e->bwd_hook_user = &acc;
    const double L = proxy_pass(j, FN_PX_LOSS_CE);
    j->e->bwd_hook = NULL;
    j->e->bwd_hook_user = NULL;
    *out = acc.sum;
    if (!isfinite(L)) {
        snprintf(err, errlen, "fisher: loss = %g is not finite", L);
        return -1;
    }
    return 0;
}
