/* proxies/proxy_flops.c: `flops`, AD's FLOPs (xautodl/utils/flop_benchmark.py, the NB201 table's
 * and FD's logged figure): per image, one per multiply-accumulate of every conv and linear
 * layer, plus one per output element of a layer with a bias (here only the classifier);
 * pooling, BN, ReLU and sums are not counted. 125,747,850 for docs/METHOD.md §1.4's example,
 * logged as "125.75 M". Equal to nb201_net_flops (tests/test_nb201_net.c). */
#include "proxies/proxy_impl.h"

int proxy_flops(fn_proxy_job *j, double *out, char *err, size_t errlen) {
    (void)err;
    (void)errlen;
    const fn_graph *g = j->g;
    double bias_adds = 0;
    for (int i = 0; i < g->nn; i++)
        if (g->nodes[i].kind == FN_NODE_LINEAR && g->nodes[i].b >= 0)
            bias_adds += (double)g->t[g->nodes[i].out].c;
    *out = graph_macs(g) / g->t[g->input].n + bias_adds;
    return 0;
}
