/* nasbench/nb201_net.c: NAS-Bench-201 benchmark networks, their size in closed form, and the
 * mapping between architectures and official indices (see nasbench/nb201_net.h).
 *   tests: ./build/bin/test_nb201_net ../shared/data */
#include "nasbench/nb201_net.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"

typedef struct {
    const int *ops;
    int zc; /* ZC's NAS201Model cells: Conv with bias, BN affine=False */
} cell_ctx;

/* ReLU, Conv kxk, BN: AD's ReLUConvBN (no conv bias, BN affine), or ZC's with affine=False,
 * whose Conv has bias=not affine (graph_conv_bn_bias: exact under train-mode BN). */
static int relu_conv_bn(fn_graph *g, int x, int C, int k, int cell, int e, int zc) {
    char cn[FN_NAME_LEN], bn[FN_NAME_LEN];
    const char *op = nb201_op_names[k == 1 ? NB201_NOR_CONV_1X1 : NB201_NOR_CONV_3X3];
    snprintf(cn, sizeof cn, "cell%d.edge%d.%s.conv", cell, e, op);
    snprintf(bn, sizeof bn, "cell%d.edge%d.%s.bn", cell, e, op);
    const int r = graph_relu(g, x);
    const int c = zc ? graph_conv_bn_bias(g, cn, r, C, k, 1, k / 2, 1, 1)
                     : graph_conv(g, cn, r, C, k, 1, k / 2, 1, 1);
    return graph_bn(g, bn, c, !zc);
}

/* One trained cell (AD InferCell) of the ops in ctx; returns node 3. */
static int infer_cell(fn_graph *g, int x, int C, int cell, const void *ctx) {
    const cell_ctx *cc = ctx;
    const int *ops = cc->ops;
    int node[4];
    node[0] = x;
    for (int i = 1; i < 4; i++) {
        int xs[3], aidx[3] = {-1, -1, -1}, m = 0;
        for (int j = 0; j < i; j++) {
            const int e = nb201_edge_index(i, j);
            switch (ops[e]) {
            case NB201_NONE: break; /* 0 * node j: nothing */
            case NB201_SKIP_CONNECT: xs[m++] = node[j]; break;
            case NB201_NOR_CONV_1X1: xs[m++] = relu_conv_bn(g, node[j], C, 1, cell, e, cc->zc); break;
            case NB201_NOR_CONV_3X3: xs[m++] = relu_conv_bn(g, node[j], C, 3, cell, e, cc->zc); break;
            case NB201_AVG_POOL_3X3: xs[m++] = graph_avgpool(g, node[j], 3, 1, 1); break;
            default: FN_FATAL("bad NB201 op %d on edge %d", ops[e], e);
            }
        }
        node[i] = m == 0 ? graph_zero(g, x) : m == 1 ? xs[0] : graph_mix(g, xs, aidx, m);
    }
    return node[3];
}

void nb201_net_build(fn_graph *g, const nb201_config *c, const int ops[NB201_EDGES]) {
    FN_ASSERT(c->h > 0 && c->h % 4 == 0 && c->w > 0 && c->w % 4 == 0);
    const cell_ctx cc = {ops, c->cell_conv_bias};
    nb201_build_skeleton(g, c, infer_cell, &cc);
}

/* Closed forms: docs/METHOD.md §1.4. Per cell, a nor_conv_kxk edge has k^2 C^2 conv weights and
 * 2C BN weights (ZC cells: C conv biases, no BN weights); the stem 27C + 2C; ResNet block Cin -> Cout: 9 Cin Cout + 9 Cout^2 + 4 Cout
 * + Cin Cout; head BN 2 * 4C; classifier 4C * classes + classes. */
size_t nb201_net_params(const nb201_config *c, const int ops[NB201_EDGES]) {
    size_t n = 27 * (size_t)c->C + 2 * (size_t)c->C;
    for (int s = 0; s < 3; s++) {
        const size_t C = (size_t)c->C << s;
        if (s > 0) n += 9 * (C / 2) * C + 9 * C * C + 4 * C + (C / 2) * C;
        for (int e = 0; e < NB201_EDGES; e++) {
            const size_t extra = c->cell_conv_bias ? C : 2 * C;
            if (ops[e] == NB201_NOR_CONV_3X3) n += (size_t)c->N * (9 * C * C + extra);
            if (ops[e] == NB201_NOR_CONV_1X1) n += (size_t)c->N * (C * C + extra);
        }
    }
    const size_t Cl = (size_t)c->C << 2;
    return n + 2 * Cl + Cl * (size_t)c->classes + (size_t)c->classes;
}

/* ZC's SearchCell instantiates every op on every edge (keep_mask only selects which run), so
 * its model.parameters() holds, per edge and cell, both convs with biases (10 C^2 + 2 C);
 * everything outside the cells is as in the benchmark network. */
size_t nb201_net_params_zc_module(const nb201_config *c) {
    const int none[NB201_EDGES] = {0};
    nb201_config z = *c;
    z.cell_conv_bias = 1;
    size_t n = nb201_net_params(&z, none);
    for (int s = 0; s < 3; s++) {
        const size_t C = (size_t)c->C << s;
        n += (size_t)c->N * NB201_EDGES * (10 * C * C + 2 * C);
    }
    return n;
}

double nb201_net_flops(const nb201_config *c, const int ops[NB201_EDGES]) {
    double hw = (double)c->h * c->w, f = 27.0 * c->C * hw;
    for (int s = 0; s < 3; s++) {
        const double C = (double)c->C * (1 << s);
        if (s > 0) {
            hw /= 4; /* stride-2 conv_a (pad 1) and the 2x2 pool both halve even sizes */
            f += (9 * (C / 2) * C + 9 * C * C + (C / 2) * C) * hw;
        }
        for (int e = 0; e < NB201_EDGES; e++) {
            const double bias = c->cell_conv_bias ? C * hw : 0; /* one add per output */
            if (ops[e] == NB201_NOR_CONV_3X3) f += c->N * (9 * C * C * hw + bias);
            if (ops[e] == NB201_NOR_CONV_1X1) f += c->N * (C * C * hw + bias);
        }
    }
    return f + 4.0 * c->C * c->classes + c->classes; /* classifier MACs + bias additions */
}

void nb201_arch_from_code(int code, int ops[NB201_EDGES]) {
    FN_ASSERT(code >= 0 && code < NB201_NUM_ARCHS);
    for (int e = 0; e < NB201_EDGES; e++, code /= NB201_OPS) ops[e] = code % NB201_OPS;
}

int nb201_net_ops_from_index(const nb201_benchmark *b, int index, int ops[NB201_EDGES]) {
    if (!b || index < 0 || index >= NB201_NUM_ARCHS || b->by_index[index] < 0) return -1;
    nb201_arch_from_code(b->by_index[index], ops);
    return 0;
}

int nb201_net_index(const nb201_benchmark *b, const int ops[NB201_EDGES]) {
    const nb201_record *r = nb201_benchmark_get(b, ops);
    return r ? r->index : -1;
}

int nb201_net_resolve(const char *arch, const nb201_benchmark *b, int ops[NB201_EDGES], char *err,
                      size_t errlen) {
    if (nb201_arch_parse(arch, ops) == 0) return 0;
    char *end;
    errno = 0;
    long idx = strtol(arch, &end, 10);
    if (*arch && *end == '\0' && errno == 0) {
        if (!b) {
            snprintf(err, errlen, "architecture '%s' is an index: give the NB201 table to resolve "
                     "it (--benchmark)", arch);
            return -1;
        }
        if (nb201_net_ops_from_index(b, (int)(idx >= 0 && idx < NB201_NUM_ARCHS ? idx : -1), ops)) {
            snprintf(err, errlen, "NB201 index %ld is not in the table (0..%d)", idx,
                     NB201_NUM_ARCHS - 1);
            return -1;
        }
        return 0;
    }
    snprintf(err, errlen, "bad architecture '%s' (expected |op~0|+|op~0|op~1|+|op~0|op~1|op~2| "
             "with op in none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3, or an "
             "NB201 index)", arch);
    return -1;
}
