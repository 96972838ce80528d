/* tests/test_nb201.c: NB201 supernet structure (docs/METHOD.md §1.4, §7.5): parameter counts,
 * FLOPs, edge/op layout, arch strings and the pruning rule.
 *   ./build/bin/test_nb201 */
#include <math.h>
#include <string.h>

#include "engine/graph.h"
#include "spaces/nb201.h"
#include "tests/test_util.h"

static size_t count_params(int classes, int h, double *macs) {
    fn_graph g;
    graph_init(&g);
    nb201_config c = {16, 5, classes, h, h, 1, 0};
    nb201_build(&g, &c);
    size_t n = graph_num_params(&g);
    if (macs) *macs = graph_macs(&g);
    graph_free(&g);
    return n;
}

int main(void) {
    double macs;
    /* docs/METHOD.md §1.4: 1,686,106 / 1,691,956 / 1,693,256 parameters */
    CHECK(count_params(10, 32, &macs) == 1686106);
    CHECK(count_params(100, 32, NULL) == 1691956);
    CHECK(count_params(120, 16, NULL) == 1693256);
    /* FD log: "FLOP = 243.71 M" (multiply-adds of conv + linear, 1 x 3 x 32 x 32) */
    printf("supernet MACs at 32x32: %.2f M\n", macs / 1e6);
    CHECK(fabs(macs / 1e6 - 243.71) < 0.01);

    /* parameter breakdown: stem 464, reductions 14,464 + 57,600, head BN 128, classifier 650 */
    fn_graph g;
    graph_init(&g);
    nb201_config c = {16, 5, 10, 32, 32, 2, 0};
    nb201_build(&g, &c);
    size_t res1 = 0, cells = 0;
    for (int i = 0; i < g.np; i++) {
        if (!strncmp(g.p[i].name, "res1.", 5)) res1 += g.p[i].numel;
        if (!strncmp(g.p[i].name, "cell", 4)) cells += g.p[i].numel;
    }
    CHECK(res1 == 57600); /* res0 (16->32) has 14,464; res1 (32->64) 57,600 */
    CHECK(cells == 1612800);
    CHECK(g.nag == 1 && g.ag[0].rows == 6 && g.ag[0].cols == 5);
    CHECK(graph_param_find(&g, "cell14.edge5.nor_conv_3x3.weight") >= 0);
    CHECK(graph_param_find(&g, "cell15.edge0.nor_conv_3x3.weight") < 0);
    CHECK(graph_param_find(&g, "res1.down.conv.weight") >= 0);
    /* every alpha entry except `none` is used 15 times (once per cell), `none` never */
    int uses[30] = {0};
    for (int i = 0; i < g.nn; i++)
        for (int j = 0; j < g.nodes[i].nin; j++)
            if (g.nodes[i].aidx[j] >= 0) uses[g.nodes[i].aidx[j]]++;
    for (int a = 0; a < 30; a++) CHECK(uses[a] == (a % 5 == NB201_NONE ? 0 : 15));
    CHECK(g.t[g.output].c == 10 && g.t[g.output].n == 2);
    graph_free(&g);

    /* arch strings: round trip over the whole space, and the README examples */
    int ops[6], back[6], bad = 0;
    char s[256];
    for (int code = 0; code < 15625; code++) {
        int x = code;
        for (int e = 0; e < 6; e++) { ops[e] = x % 5; x /= 5; }
        nb201_arch_string(ops, s, sizeof s);
        if (nb201_arch_parse(s, back) || nb201_arch_code(back) != code) bad++;
    }
    CHECK(bad == 0);
    CHECK(nb201_arch_parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|"
                           "nor_conv_3x3~1|skip_connect~2|", ops) == 0);
    int expect1[6] = {3, 3, 4, 1, 3, 1};
    CHECK(memcmp(ops, expect1, sizeof ops) == 0);
    CHECK(nb201_arch_parse("|nor_conv_3x3~0|+|nor_conv_3x3~1|avg_pool_3x3~1|+|skip_connect~0|"
                           "nor_conv_3x3~1|skip_connect~2|", ops) == -1);
    CHECK(nb201_arch_parse("|nor_conv_3x3~0|", ops) == -1);

    /* unreachable ops against an independent rule: an op is live when one of the four
     * input->output paths (0-3, 0-1-3, 0-2-3, 0-1-2-3) runs through it with no none edge */
    static const int paths[4][5] = {{2, 0, 3}, {3, 0, 1, 3}, {3, 0, 2, 3}, {4, 0, 1, 2, 3}};
    int clean = 0;
    bad = 0;
    for (int code = 0; code < 15625; code++) {
        int x = code, live[6] = {0}, nonnone = 0;
        for (int e = 0; e < 6; e++) { ops[e] = x % 5; x /= 5; nonnone += ops[e] != NB201_NONE; }
        for (int p = 0; p < 4; p++) { /* paths[p] = {nodes, node, node, ...} */
            int ok = 1;
            for (int k = 1; k < paths[p][0]; k++)
                ok &= ops[nb201_edge_index(paths[p][k + 1], paths[p][k])] != NB201_NONE;
            for (int k = 1; ok && k < paths[p][0]; k++)
                live[nb201_edge_index(paths[p][k + 1], paths[p][k])] = 1;
        }
        int nlive = 0;
        for (int k = 0; k < 6; k++) nlive += live[k];
        int u = nb201_arch_unreachable_ops(ops);
        bad += u != nonnone - nlive;
        clean += u == 0;
    }
    CHECK(bad == 0);
    printf("  %d of 15625 NB201 cells have no unreachable op\n", clean);
    CHECK(nb201_arch_parse("|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|",
                           ops) == 0);
    CHECK(nb201_arch_unreachable_ops(ops) == 2);
    CHECK(nb201_arch_parse("|none~0|+|none~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|"
                           "nor_conv_3x3~2|", ops) == 0);
    CHECK(nb201_arch_unreachable_ops(ops) == 3); /* node 1 hears nothing: 2<-1, 3<-1, 3<-2 */
    CHECK(nb201_arch_parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|"
                           "nor_conv_3x3~1|skip_connect~2|", ops) == 0);
    CHECK(nb201_arch_unreachable_ops(ops) == 0);

    /* prune: argmax per edge, ties to the lower index, none can win, NaN is an error */
    double S[30] = {0};
    for (int e = 0; e < 6; e++) S[e * 5 + (e % 4) + 1] = 1.0 + e;
    S[1 * 5 + 3] = S[1 * 5 + 2]; /* tie on edge 1 between ops 2 and 3 -> 2 */
    S[5 * 5 + 1] = -1; S[5 * 5 + 2] = -2; S[5 * 5 + 3] = -3; S[5 * 5 + 4] = -4; /* none wins */
    int be = -1, bo = -1;
    CHECK(nb201_prune(S, ops, &be, &bo) == 0);
    int expect2[6] = {1, 2, 3, 4, 1, 0};
    CHECK(memcmp(ops, expect2, sizeof ops) == 0);
    S[3 * 5 + 2] = NAN;
    CHECK(nb201_prune(S, ops, &be, &bo) == -1 && be == 3 && bo == 2);
    S[3 * 5 + 2] = INFINITY;
    CHECK(nb201_prune(S, ops, &be, &bo) == -1);
    return test_summary("test_nb201");
}
