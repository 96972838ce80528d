/* spaces/nb201.c: NAS-Bench-201 supernet builder, arch strings and pruning (see spaces/nb201.h).
 * Shares ReLU(node j) and AvgPool(node j) between all edges leaving node j: the same values
 * as per-edge copies, computed once. */
#include "spaces/nb201.h"

#include <stdio.h>
#include <string.h>

#include "base/common.h"

const char *const nb201_op_names[NB201_OPS] = {"none", "skip_connect", "nor_conv_1x1",
                                               "nor_conv_3x3", "avg_pool_3x3"};

/* One search cell; returns node 3. `k` counts search cells over the whole network; ctx
 * points to the alpha group's offset. */
static int search_cell(fn_graph *g, int x, int C, int k, const void *ctx) {
    const int alpha_off = *(const int *)ctx;
    int node[4], relu[4], pool[4];
    node[0] = x;
    for (int i = 1; i < 4; i++) {
        int j = i - 1; /* node i-1 is complete: make its shared ReLU and pool */
        relu[j] = graph_relu(g, node[j]);
        pool[j] = graph_avgpool(g, node[j], 3, 1, 1);
        int xs[FN_MAX_IN], aidx[FN_MAX_IN], m = 0;
        for (j = 0; j < i; j++) {
            int e = nb201_edge_index(i, j);
            char name[FN_NAME_LEN];
            xs[m] = node[j];
            aidx[m++] = alpha_off + e * NB201_OPS + NB201_SKIP_CONNECT;
            snprintf(name, sizeof name, "cell%d.edge%d.nor_conv_1x1", k, e);
            xs[m] = graph_bn(g, name, graph_conv(g, name, relu[j], C, 1, 1, 0, 1, 1), 0);
            aidx[m++] = alpha_off + e * NB201_OPS + NB201_NOR_CONV_1X1;
            snprintf(name, sizeof name, "cell%d.edge%d.nor_conv_3x3", k, e);
            xs[m] = graph_bn(g, name, graph_conv(g, name, relu[j], C, 3, 1, 1, 1, 1), 0);
            aidx[m++] = alpha_off + e * NB201_OPS + NB201_NOR_CONV_3X3;
            xs[m] = pool[j];
            aidx[m++] = alpha_off + e * NB201_OPS + NB201_AVG_POOL_3X3;
            /* none (op 0) is 0 * x: contributes nothing, gradient 0 (docs/METHOD.md §3.11) */
        }
        node[i] = graph_mix(g, xs, aidx, m);
    }
    return node[3];
}

static void mark_zc_keep(fn_graph *g, int from_node) {
    for (int i = from_node; i < g->nn; i++)
        if (g->nodes[i].kind == FN_NODE_BN) g->nodes[i].zc_keep_bn = 1;
}

/* ResNet basic block, stride 2 (docs/METHOD.md §1.1). ZC keeps its BNs when removing BN. */
static int resnet_block(fn_graph *g, int x, int cout, int r) {
    int first = g->nn;
    char a[32], b[32], down[32];
    snprintf(a, sizeof a, "res%d.a", r);
    snprintf(b, sizeof b, "res%d.b", r);
    snprintf(down, sizeof down, "res%d.down.conv", r);
    char ac[40], ab[40], bc[40], bb[40];
    snprintf(ac, sizeof ac, "%s.conv", a);
    snprintf(ab, sizeof ab, "%s.bn", a);
    snprintf(bc, sizeof bc, "%s.conv", b);
    snprintf(bb, sizeof bb, "%s.bn", b);
    int h = graph_bn(g, ab, graph_conv(g, ac, graph_relu(g, x), cout, 3, 2, 1, 1, 1), 1);
    h = graph_bn(g, bb, graph_conv(g, bc, graph_relu(g, h), cout, 3, 1, 1, 1, 1), 1);
    int s = graph_conv(g, down, graph_avgpool(g, x, 2, 2, 0), cout, 1, 1, 0, 1, 1);
    int xs[2] = {s, h}, aidx[2] = {-1, -1};
    mark_zc_keep(g, first);
    return graph_mix(g, xs, aidx, 2);
}

void nb201_build_skeleton(fn_graph *g, const nb201_config *c, nb201_cell_fn cell,
                          const void *ctx) {
    FN_ASSERT(c->C > 0 && c->N > 0 && c->classes > 0 && c->batch > 0);
    int x = graph_input(g, c->batch, 3, c->h, c->w);
    x = graph_bn(g, "stem.bn", graph_conv(g, "stem.conv", x, c->C, 3, 1, 1, 1, 1), 1);
    int k = 0, C = c->C;
    for (int stage = 0; stage < 3; stage++) {
        if (stage > 0) {
            C *= 2;
            x = resnet_block(g, x, C, stage - 1); /* res0, res1 as in ../shared/ref */
        }
        for (int i = 0; i < c->N; i++) x = cell(g, x, C, k++, ctx);
    }
    x = graph_relu(g, graph_bn(g, "head.bn", x, 1));
    g->output = graph_linear(g, "classifier", graph_gap(g, x), c->classes);
}

void nb201_build(fn_graph *g, const nb201_config *c) {
    const int alpha = graph_alpha_group(g, "alpha", NB201_EDGES, NB201_OPS);
    nb201_build_skeleton(g, c, search_cell, &alpha);
}

int nb201_arch_string(const int ops[NB201_EDGES], char *buf, size_t len) {
    size_t n = 0;
    int e = 0;
    for (int i = 1; i < 4; i++) {
        if (i > 1) n += (size_t)snprintf(buf + (n < len ? n : len), n < len ? len - n : 0, "+");
        for (int j = 0; j < i; j++, e++) {
            FN_ASSERT(ops[e] >= 0 && ops[e] < NB201_OPS);
            n += (size_t)snprintf(buf + (n < len ? n : len), n < len ? len - n : 0, "|%s~%d",
                                  nb201_op_names[ops[e]], j);
        }
        n += (size_t)snprintf(buf + (n < len ? n : len), n < len ? len - n : 0, "|");
    }
    return (int)n;
}

int nb201_arch_parse(const char *s, int ops[NB201_EDGES]) {
    int e = 0;
    for (int i = 1; i < 4; i++) {
        if (i > 1 && *s++ != '+') return -1;
        for (int j = 0; j < i; j++, e++) {
            if (*s++ != '|') return -1;
            int found = -1;
            for (int o = 0; o < NB201_OPS; o++) {
                size_t l = strlen(nb201_op_names[o]);
                if (strncmp(s, nb201_op_names[o], l) == 0 && s[l] == '~') {
                    found = o;
                    s += l + 1;
                    break;
                }
            }
            if (found < 0 || *s != '0' + j) return -1;
            s++;
            ops[e] = found;
        }
        if (*s++ != '|') return -1;
    }
    return *s == '\0' ? 0 : -1;
}

int nb201_arch_code(const int ops[NB201_EDGES]) {
    int code = 0;
    for (int e = NB201_EDGES - 1; e >= 0; e--) code = code * NB201_OPS + ops[e];
    return code;
}

int nb201_arch_unreachable_ops(const int ops[NB201_EDGES]) {
    int from_in[4] = {1, 0, 0, 0}, to_out[4] = {0, 0, 0, 1};
    for (int i = 1; i < 4; i++) /* forward: node i hears node 0 */
        for (int j = 0; j < i; j++)
            if (from_in[j] && ops[nb201_edge_index(i, j)] != NB201_NONE) from_in[i] = 1;
    for (int j = 2; j >= 0; j--) /* backward: node j reaches node 3 */
        for (int i = j + 1; i < 4; i++)
            if (to_out[i] && ops[nb201_edge_index(i, j)] != NB201_NONE) to_out[j] = 1;
    int n = 0;
    for (int i = 1; i < 4; i++)
        for (int j = 0; j < i; j++)
            n += ops[nb201_edge_index(i, j)] != NB201_NONE && !(from_in[j] && to_out[i]);
    return n;
}

int nb201_prune(const double S[NB201_EDGES * NB201_OPS], int ops[NB201_EDGES], int *bad_e,
                int *bad_o) {
    long bad = fn_first_nonfinite(S, NB201_EDGES * NB201_OPS);
    if (bad >= 0) {
        if (bad_e) *bad_e = (int)bad / NB201_OPS;
        if (bad_o) *bad_o = (int)bad % NB201_OPS;
        return -1;
    }
    for (int e = 0; e < NB201_EDGES; e++) {
        int best = 0;
        for (int o = 1; o < NB201_OPS; o++)
            if (S[e * NB201_OPS + o] > S[e * NB201_OPS + best]) best = o;
        ops[e] = best;
    }
    return 0;
}
