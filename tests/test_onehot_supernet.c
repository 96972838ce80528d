/* tests/test_onehot_supernet.c: an NB201 architecture is the supernet with one-hot alpha.
 *
 * Issue 26's idea for per-architecture proxies in bundles: K architectures of NB201 share one
 * shape, the supernet, if each is its alpha (1 on its op of every edge, 0 elsewhere; `none`:
 * a zero row). Checked here, float64, before anything relies on it: for architectures of
 * every kind (all none, all skip, all convs, pools, mixed, random), the benchmark network
 * (nasbench/nb201_net.c, AD's cells: BN affine) and the supernet (spaces/nb201.c: BN
 * affine=False, ReLU and pool shared per node) given the same conv and linear weights and
 * batch, BN in train mode:
 *   - the logits are equal, bit for bit (x + 0 * y = x: the zero-alpha ops add exact zeros);
 *   - every conv and linear weight gradient of the network equals the supernet's to rounding
 *     (1e-13 of the largest: where several edges leave a node the supernet's shared ReLU and
 *     pool gather their consumers' gradients first, another order of the same terms), and
 *     the supernet's weights of unused ops get exactly zero gradient;
 * so the proxies that sum over conv and linear weight gradients (ZC's snip, grad_norm,
 * synflow; HNAS's M and the per-sample NTK) are the same on both. Not so for naswot, whose
 * codes come from every ReLU unit (the supernet's shared ReLUs also run on nodes the
 * architecture does not convolve), nor for proxies of BN's affine weights, which the
 * supernet lacks (at initialisation gamma = 1 and beta = 0 make the forward pass equal). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"
#include "engine/exec.h"
#include "engine/graph.h"
#include "nasbench/nb201_net.h"
#include "nn/rng.h"
#include "spaces/nb201.h"
#include "tests/test_util.h"

/* the network's parameter that supernet parameter `name` is, or -1 (none: BN affine) */
static int net_param(const fn_graph *net, const char *name) {
    if (strncmp(name, "cell", 4)) return graph_param_find(net, name);
    char n[2 * FN_NAME_LEN];
    const size_t len = strlen(name) - strlen(".weight"); /* cell convs: X.weight -> X.conv.weight */
    FN_ASSERT(len < FN_NAME_LEN && !strcmp(name + len, ".weight"));
    snprintf(n, sizeof n, "%.*s.conv.weight", (int)len, name);
    return graph_param_find(net, n);
}

static double max_err_rel; /* largest gradient difference, relative to the largest gradient */

static void check_arch(const int ops[NB201_EDGES], const char *what) {
    const nb201_config c = {4, 2, 10, 8, 8, 3, 0};
    fn_graph net, sup;
    graph_init(&net);
    graph_init(&sup);
    nb201_net_build(&net, &c, ops);
    nb201_build(&sup, &c);
    fn_exec en, es;
    CHECK(!exec_init(&en, &net, FN_F64, 1));
    CHECK(!exec_init(&es, &sup, FN_F64, 1));
    exec_init_params(&en, 7);
    exec_init_params(&es, 8); /* other values everywhere, then the network's where it has them */
    double *pn = en.params, *ps = es.params;
    int mapped = 0;
    for (int p = 0; p < sup.np; p++) {
        const int q = net_param(&net, sup.p[p].name);
        if (q < 0) continue;
        CHECK(net.p[q].numel == sup.p[p].numel);
        memcpy(ps + sup.p[p].off, pn + net.p[q].off, sizeof(double) * sup.p[p].numel);
        mapped++;
    }
    exec_params_changed(&es);
    /* every network parameter but the cells' BN affine weights has its supernet counterpart */
    int cell_bn_affine = 0;
    for (int q = 0; q < net.np; q++)
        cell_bn_affine += !strncmp(net.p[q].name, "cell", 4) &&
                          (net.p[q].kind == FN_PARAM_BN_W || net.p[q].kind == FN_PARAM_BN_B);
    CHECKF(mapped == net.np - cell_bn_affine, "%s: %d of the network's %d parameters mapped", what,
           mapped, net.np - cell_bn_affine);
    /* one-hot alpha, the same row for every cell (one shared group) */
    double *a = es.alpha;
    memset(a, 0, sizeof(double) * sup.alpha_numel);
    for (int e = 0; e < NB201_EDGES; e++)
        if (ops[e] != NB201_NONE) a[e * NB201_OPS + ops[e]] = 1;
    /* one batch for both */
    double *xn = exec_tensor(&en, net.input), *xs = exec_tensor(&es, sup.input);
    const size_t nx = graph_tensor_numel(&net, net.input);
    for (size_t i = 0; i < nx; i++) xn[i] = xs[i] = 2 * fn_rng_uniform(3, FN_STREAM_DATA, i) - 1;
    exec_forward(&en);
    exec_forward(&es);
    const size_t no = graph_tensor_numel(&net, net.output);
    const double *yn = exec_tensor(&en, net.output), *ys = exec_tensor(&es, sup.output);
    CHECKF(!memcmp(yn, ys, sizeof(double) * no), "%s: logits differ (first %.17g vs %.17g)", what,
           yn[0], ys[0]);
    double *dz = malloc(sizeof(double) * no);
    for (size_t i = 0; i < no; i++) dz[i] = fn_rng_uniform(4, FN_STREAM_DATA, i) - 0.5;
    exec_backward(&en, dz);
    exec_backward(&es, dz);
    const double *gn = en.dparams, *gs = es.dparams;
    int unused_zero = 1, nonzero = 0;
    double err = 0, scale = 0;
    for (int p = 0; p < sup.np; p++) {
        const fn_param *sp = &sup.p[p];
        if (sp->kind == FN_PARAM_BN_W || sp->kind == FN_PARAM_BN_B) continue;
        const int q = net_param(&net, sp->name);
        for (size_t i = 0; i < sp->numel; i++) {
            const double g = gs[sp->off + i];
            if (q >= 0) {
                err = fmax(err, fabs(g - gn[net.p[q].off + i]));
                scale = fmax(scale, fabs(gn[net.p[q].off + i]));
                nonzero |= g != 0;
            } else {
                unused_zero &= g == 0;
            }
        }
    }
    /* the same terms, summed in another order where several edges leave a node (the
     * supernet's shared ReLU and pool gather their consumers first): rounding only */
    CHECKF(nonzero && err <= 1e-13 * scale, "%s: conv/linear weight gradients differ from the "
           "network's by %.3g (largest %.3g)", what, err, scale);
    if (err > max_err_rel * scale) max_err_rel = err / scale;
    CHECKF(unused_zero, "%s: an unused op's weights got a nonzero gradient", what);
    free(dz);
    exec_free(&en);
    exec_free(&es);
    graph_free(&net);
    graph_free(&sup);
}

int main(void) {
    const int kinds[][NB201_EDGES] = {
        {0, 0, 0, 0, 0, 0}, /* all none: the output is the skeleton's alone */
        {1, 1, 1, 1, 1, 1}, /* all skip */
        {3, 3, 3, 3, 3, 3}, /* all conv 3x3 */
        {2, 2, 2, 2, 2, 2}, /* all conv 1x1 */
        {4, 4, 4, 4, 4, 4}, /* all avg pool */
        {3, 0, 1, 0, 0, 2}, /* node 2 gets no input (none, none): a zero node */
        {3, 1, 2, 4, 0, 3}, /* mixed */
    };
    char what[64];
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        snprintf(what, sizeof what, "architecture kind %zu", k);
        check_arch(kinds[k], what);
    }
    for (int r = 0; r < 8; r++) { /* random architectures */
        int ops[NB201_EDGES];
        for (int e = 0; e < NB201_EDGES; e++)
            ops[e] = (int)(fn_rng_uniform(11, FN_STREAM_DATA, (uint64_t)(r * NB201_EDGES + e)) * NB201_OPS);
        snprintf(what, sizeof what, "random architecture %d", r);
        check_arch(ops, what);
    }
    printf("conv/linear weight gradients: network and one-hot supernet within %.2g of the largest; "
           "logits and the unused ops' zero gradients exact\n", max_err_rel);
    return test_summary("test_onehot_supernet");
}
