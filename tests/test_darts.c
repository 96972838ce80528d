/* tests/test_darts.c: DARTS search space structure (docs/METHOD.md §2, §7.5): supernet parameter
 * counts and shapes, per-mixed-op parameter formula, alpha sharing, the genotype derivation
 * rule with its tie rules (§2.4), the Genotype string / JSON / parser, and the evaluation
 * network of a known genotype (DARTS V2: 3,349,342 parameters at C=36, 20 cells, CIFAR-10, as
 * DARTS's train.py logs it).
 *   ./build/bin/test_darts */
#include <math.h>
#include <string.h>

#include "spaces/darts.h"
#include "engine/graph.h"
#include "tests/test_util.h"

static size_t build_count(int C, int layers, int classes, int h, int imagenet, double *macs,
                          fn_graph *keep) {
    fn_graph g;
    graph_init(&g);
    darts_config c = {C, layers, classes, h, h, imagenet, 1};
    char err[256];
    CHECK(darts_build(&g, &c, err, sizeof err) == 0);
    size_t n = graph_num_params(&g);
    if (macs) *macs = graph_macs(&g);
    if (keep)
        *keep = g;
    else
        graph_free(&g);
    return n;
}

static const char *DARTS_V2 =
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), "
    "('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), "
    "('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), "
    "('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), "
    "('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])";

int main(void) {
    char err[256];
    double macs;

    /* §2.3 / §7.5: supernet parameter counts (alpha excluded) */
    size_t p8 = build_count(16, 8, 10, 32, 0, &macs, NULL);
    printf("8-cell: %zu params, %.1f M MACs at 1x3x32x32\n", p8, macs / 1e6);
    CHECK(p8 == 1930618);
    CHECK(build_count(16, 20, 10, 32, 0, NULL, NULL) == 4548730);
    CHECK(build_count(36, 20, 10, 32, 0, NULL, NULL) == 19932310);
    fn_graph g;
    size_t p224 = build_count(48, 14, 1000, 224, 1, &macs, &g);
    printf("224x224: %zu params, %.1f M MACs at 1x3x224x224\n", p224, macs / 1e6);
    CHECK(p224 == 25512016);
    /* ImageNet net: s0 at 56x56 (stem0), s1 at 28x28 (stem1), cell 0 reduces s0 with a
     * FactorizedReduce; logits [1, 1000] */
    CHECK(graph_param_find(&g, "cell0.pre0.c1.weight") >= 0);
    CHECK(graph_param_find(&g, "stem1.conv.weight") >= 0);
    /* the name set (engine/graph.c) against a scan: every name finds its own parameter */
    int found = 0;
    for (int i = 0; i < g.np; i++) found += graph_param_find(&g, g.p[i].name) == i;
    CHECKF(found == g.np, "graph_param_find: %d of %d names found", found, g.np);
    CHECK(graph_param_find(&g, "cell0.pre0.c1.weigh") < 0 && graph_param_find(&g, "") < 0);
    CHECK(g.t[g.output].c == 1000);
    graph_free(&g);

    /* per mixed op at C channels (§7.5): 6C^2 + 102C at stride 1, 7C^2 + 102C at stride 2 */
    build_count(16, 8, 10, 32, 0, NULL, &g);
    size_t e0 = 0, e_red = 0;
    for (int i = 0; i < g.np; i++) {
        if (!strncmp(g.p[i].name, "cell0.edge3.", 12)) e0 += g.p[i].numel;
        if (!strncmp(g.p[i].name, "cell2.edge1.", 12)) e_red += g.p[i].numel; /* C = 32 */
    }
    CHECK(e0 == 6 * 16 * 16 + 102 * 16);
    CHECK(e_red == 7 * 32 * 32 + 102 * 32);
    /* preprocess: C_in * C (cell 3 follows reduction cell 2: FactorizedReduce 64 -> 32) */
    CHECK(g.p[graph_param_find(&g, "cell3.pre0.c1.weight")].numel == 16 * 64);
    CHECK(g.p[graph_param_find(&g, "cell3.pre1.conv.weight")].numel == 32 * 128);
    CHECK(graph_param_find(&g, "cell2.pre0.conv.weight") >= 0);
    CHECK(graph_param_find(&g, "cell1.edge0.skip_connect.c1.weight") < 0); /* normal cell */
    CHECK(graph_param_find(&g, "cell5.edge1.skip_connect.c2.weight") >= 0); /* reduce, j = 1 */
    CHECK(graph_param_find(&g, "cell5.edge4.skip_connect.c1.weight") < 0);  /* reduce, j = 2 */
    /* alpha: two 14x8 groups; non-`none` entries used once per cell of their type (6 normal,
     * 2 reduction cells), `none` never */
    CHECK(g.nag == 2 && g.ag[0].rows == 14 && g.ag[1].cols == 8 && g.alpha_numel == 224);
    CHECK(!strcmp(g.ag[0].name, "alpha_normal") && !strcmp(g.ag[1].name, "alpha_reduce"));
    int uses[224] = {0};
    for (int i = 0; i < g.nn; i++)
        for (int j = 0; j < g.nodes[i].nin; j++)
            if (g.nodes[i].aidx[j] >= 0) uses[g.nodes[i].aidx[j]]++;
    int bad = 0;
    for (int a = 0; a < 224; a++)
        bad += uses[a] != (a % 8 == DARTS_NONE ? 0 : a < 112 ? 6 : 2);
    CHECK(bad == 0);
    /* spatial sizes: the last cell's output is 4C*4 = 256 channels at 8x8 */
    const fn_node *gap = NULL;
    for (int i = 0; i < g.nn; i++)
        if (g.nodes[i].kind == FN_NODE_GAP) gap = &g.nodes[i];
    CHECK(gap && g.t[gap->in[0]].c == 256 && g.t[gap->in[0]].h == 8);
    graph_free(&g);

    /* an odd size at a FactorizedReduce is refused with a message, not an assert */
    graph_init(&g);
    darts_config odd = {16, 8, 10, 34, 34, 0, 1}; /* 34 -> 17 at cell 2 */
    CHECK(darts_build(&g, &odd, err, sizeof err) != 0 && strstr(err, "even"));
    graph_free(&g);

    /* derivation rule (§2.4) on a hand-made W */
    double W[2 * DARTS_EDGES * DARTS_OPS];
    for (int i = 0; i < 2 * DARTS_EDGES * DARTS_OPS; i++) W[i] = 0.01 * (i % 7);
    /* node 0 (edges 0,1): edge 1 stronger; `none` huge on edge 0 must be ignored */
    W[0 * 8 + DARTS_NONE] = 100;
    W[1 * 8 + DARTS_SEP_CONV_5X5] = 5;
    /* node 1 (edges 2,3,4 = j 0,1,2): tie between j=0 and j=2 at 3.0: both kept, j=0 first
     * unless something beats them */
    W[2 * 8 + DARTS_MAX_POOL_3X3] = 3;
    W[4 * 8 + DARTS_DIL_CONV_3X3] = 3;
    /* node 2 (edges 5..8): op tie within edge 7 (j=2): the lower op index wins */
    W[7 * 8 + DARTS_SKIP_CONNECT] = 4;
    W[7 * 8 + DARTS_DIL_CONV_5X5] = 4;
    W[5 * 8 + DARTS_AVG_POOL_3X3] = 2;
    /* node 3 (edges 9..13): all negative saliencies on edge 13, strongest elsewhere */
    for (int o = 0; o < 8; o++) W[13 * 8 + o] = -1;
    W[12 * 8 + DARTS_SEP_CONV_3X3] = 7;
    W[9 * 8 + DARTS_SEP_CONV_5X5] = 6;
    darts_genotype gt;
    int bc, be, bo;
    CHECK(darts_derive(W, &gt, &bc, &be, &bo) == 0);
    CHECK(gt.in[0][0] == 1 && gt.op[0][0] == DARTS_SEP_CONV_5X5);
    CHECK(gt.in[0][1] == 0);
    CHECK(gt.in[0][2] == 0 && gt.op[0][2] == DARTS_MAX_POOL_3X3);
    CHECK(gt.in[0][3] == 2 && gt.op[0][3] == DARTS_DIL_CONV_3X3);
    CHECK(gt.in[0][4] == 2 && gt.op[0][4] == DARTS_SKIP_CONNECT);
    CHECK(gt.in[0][5] == 0 && gt.op[0][5] == DARTS_AVG_POOL_3X3);
    CHECK(gt.in[0][6] == 3 && gt.op[0][6] == DARTS_SEP_CONV_3X3);
    CHECK(gt.in[0][7] == 0 && gt.op[0][7] == DARTS_SEP_CONV_5X5);
    /* all-equal W: inputs 0, 1 and the first non-none op everywhere */
    for (int i = 0; i < 2 * DARTS_EDGES * DARTS_OPS; i++) W[i] = 1.0;
    CHECK(darts_derive(W, &gt, &bc, &be, &bo) == 0);
    for (int p = 0; p < 8; p++)
        CHECK(gt.in[1][p] == p % 2 && gt.op[1][p] == DARTS_MAX_POOL_3X3);
    /* a NaN anywhere is refused, with its place */
    W[DARTS_EDGES * DARTS_OPS + 10 * 8 + 4] = NAN;
    CHECK(darts_derive(W, &gt, &bc, &be, &bo) == -1 && bc == 1 && be == 10 && bo == 4);

    /* text forms: the DARTS V2 string parses and prints back identically; JSON form */
    CHECK(darts_genotype_parse(DARTS_V2, &gt, err, sizeof err) == 0);
    char s[1024];
    darts_genotype_string(&gt, s, sizeof s);
    CHECK(strcmp(s, DARTS_V2) == 0);
    darts_genotype_json(&gt, s, sizeof s);
    CHECK(strncmp(s, "{\"normal\": [[\"sep_conv_3x3\", 0], [\"sep_conv_3x3\", 1]", 50) == 0);
    CHECK(strstr(s, "\"reduce_concat\": [2, 3, 4, 5]}") != NULL);
    int counts[2][DARTS_OPS];
    darts_genotype_op_counts(&gt, counts);
    CHECK(counts[0][DARTS_SEP_CONV_3X3] == 5 && counts[0][DARTS_SKIP_CONNECT] == 2);
    CHECK(counts[1][DARTS_MAX_POOL_3X3] == 5 && counts[1][DARTS_SKIP_CONNECT] == 3);
    darts_genotype g2;
    CHECK(darts_genotype_parse("Genotype(normal=[(\"sep_conv_3x3\", 0), ('sep_conv_3x3', 1), "
                               "('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), "
                               "('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], "
                               "normal_concat=range(2, 6), reduce=[('max_pool_3x3', 0), "
                               "('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), "
                               "('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), "
                               "('max_pool_3x3', 1)], reduce_concat=range(2, 6))",
                               &g2, err, sizeof err) == 0);
    CHECK(memcmp(&g2, &gt, sizeof gt) == 0);
    CHECK(darts_genotype_parse("Genotype(normal=[('sep_conv_7x7', 0)", &g2, err, sizeof err) ==
              -1 && strstr(err, "unknown operation"));
    CHECK(darts_genotype_parse("Genotype(normal=[('sep_conv_3x3', 2)", &g2, err, sizeof err) ==
              -1 && strstr(err, "only read inputs 0..1"));

    /* evaluation network of DARTS V2: 3,349,342 params at C=36, 20 cells (DARTS train.py
     * log, auxiliary head excluded); ImageNet (C=48, 14 cells): 4,718,752 (train_imagenet.py) */
    graph_init(&g);
    darts_eval_config ec = {36, 20, 10, 32, 32, 0, 1};
    CHECK(darts_eval_build(&g, &gt, &ec, err, sizeof err) == 0);
    printf("DARTS V2 eval net (C=36, 20 cells): %zu params, %.1f M MACs\n", graph_num_params(&g),
           graph_macs(&g) / 1e6);
    CHECK(graph_num_params(&g) == 3349342);
    graph_free(&g);
    graph_init(&g);
    darts_eval_config ei = {48, 14, 1000, 224, 224, 1, 1};
    CHECK(darts_eval_build(&g, &gt, &ei, err, sizeof err) == 0);
    printf("DARTS V2 eval net (ImageNet, C=48, 14 cells): %zu params, %.1f M MACs\n",
           graph_num_params(&g), graph_macs(&g) / 1e6);
    CHECK(graph_num_params(&g) == 4718752);
    graph_free(&g);

    return test_summary("test_darts");
}
