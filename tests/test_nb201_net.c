/* tests/test_nb201_net.c: NB201 benchmark networks (nasbench/nb201_net.h) against known values:
 *   73,306 parameters with every edge `none`, 886,426 and 125.75 M FLOPs (125,747,850 in AD's
 *   convention) for docs/METHOD.md §1.4's example, the per-edge formulas of §1.4, the closed forms
 *   equal to the built graphs for all 15,625 architectures, the structure (ReLU modules, BNs
 *   kept by the ZC BN-free copy, the zero node), and, with the shared data, the parameter
 *   counts of the NB201 table (params_m) and the index <-> architecture mapping.
 *   ./build/bin/test_nb201_net ../shared/data */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/exec.h"
#include "nasbench/nb201_benchmark.h"
#include "nasbench/nb201_net.h"
#include "tests/test_util.h"

static const char *EXAMPLE =
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_1x1~0|nor_conv_1x1~1|nor_conv_1x1~2|";

static nb201_config cifar(int classes, int hw, int batch) {
    nb201_config c = {16, 5, classes, hw, hw, batch, 0};
    return c;
}

/* params and AD-convention FLOPs of the built graph */
static void graph_size(const nb201_config *c, const int ops[6], size_t *params, double *flops) {
    fn_graph g;
    graph_init(&g);
    nb201_net_build(&g, c, ops);
    *params = graph_num_params(&g);
    *flops = graph_macs(&g) / c->batch + c->classes; /* + classifier bias additions */
    graph_free(&g);
}

static int count_kind(const fn_graph *g, fn_node_kind k) {
    int n = 0;
    for (int i = 0; i < g->nn; i++) n += g->nodes[i].kind == k;
    return n;
}

/* 1 when v is the parameter count of some CIFAR-10 arch: 73,306 + a 28,000 + b 243,040 with
 * a conv1x1 and b conv3x3 edges, a + b <= 6 */
static int possible_count(double v) {
    for (int a = 0; a <= 6; a++)
        for (int b = 0; a + b <= 6; b++)
            if (fabs(73306.0 + 28000.0 * a + 243040.0 * b - v) < 0.5) return 1;
    return 0;
}

/* params_m of nb201_accuracy_extra.tsv (A: NASWOT's pickle, CIFAR-10 nets) for every arch.
 * 204 rows of A hold values that no NB201 network has (fractions of an edge's parameters,
 * e.g. 119,973 = 73,306 + 46,667): those are the table's, not ours; every other row must
 * match exactly. */
static void check_table_params(const char *dir) {
    char path[1024];
    snprintf(path, sizeof path, "%s/nb201/nb201_accuracy_extra.tsv", dir);
    FILE *f = fopen(path, "r");
    if (!f) {
        printf("skip params_m check: %s not readable\n", path);
        return;
    }
    char line[4096];
    int col = -1, rows = 0, bad = 0, impossible = 0;
    const nb201_config c = cifar(10, 32, 1);
    while (fgets(line, sizeof line, f)) {
        char *fields[32];
        int nf = 0;
        line[strcspn(line, "\r\n")] = 0;
        for (char *p = line; nf < 32;) {
            fields[nf++] = p;
            char *t = strchr(p, '\t');
            if (!t) break;
            *t = 0;
            p = t + 1;
        }
        if (col < 0) {
            for (int i = 0; i < nf; i++)
                if (!strcmp(fields[i], "params_m")) col = i;
            CHECK(col >= 0);
            if (col < 0) break;
            continue;
        }
        int ops[6];
        if (nf <= col || nb201_arch_parse(fields[1], ops)) {
            bad++;
            continue;
        }
        const double want = atof(fields[col]) * 1e6;
        const double got = (double)nb201_net_params(&c, ops);
        if (fabs(got - want) > 0.5 && !possible_count(want)) {
            impossible++;
        } else if (fabs(got - want) > 0.5) {
            if (bad < 3) fprintf(stderr, "  %s: %g params, table %g\n", fields[1], got, want);
            bad++;
        }
        rows++;
    }
    fclose(f);
    CHECKF(rows == NB201_NUM_ARCHS && bad == 0 && impossible == 204,
           "%d rows, %d mismatches, %d impossible table values", rows, bad, impossible);
    printf("parameter counts = the table's params_m for %d of %d archs (the other %d table values "
           "are no NB201 network's count)\n", rows - impossible, rows, impossible);
}

static void check_index_mapping(const char *dir) {
    char path[1024], err[512];
    snprintf(path, sizeof path, "%s/nb201/nb201_accuracy.tsv", dir);
    nb201_benchmark *b;
    if (nb201_benchmark_load(path, &b, err, sizeof err)) {
        printf("skip index mapping: %s\n", err);
        return;
    }
    int ops[6], bad = 0;
    char s[256];
    /* README: index 1 is this string; docs/METHOD.md §1.5: the all-`none` cell is index 1651 */
    CHECK(nb201_net_ops_from_index(b, 1, ops) == 0);
    nb201_arch_string(ops, s, sizeof s);
    CHECK(!strcmp(s, "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|"
                     "nor_conv_3x3~1|skip_connect~2|"));
    const int none[6] = {0};
    CHECK(nb201_net_index(b, none) == 1651);
    for (int i = 0; i < NB201_NUM_ARCHS; i++) /* round trip index -> ops -> index */
        bad += nb201_net_ops_from_index(b, i, ops) != 0 || nb201_net_index(b, ops) != i;
    CHECKF(bad == 0, "%d indices do not round-trip", bad);
    CHECK(nb201_net_resolve("1651", b, ops, err, sizeof err) == 0 && nb201_arch_code(ops) == 0);
    CHECK(nb201_net_resolve("15625", b, ops, err, sizeof err) == -1);
    CHECK(nb201_net_resolve("1651", NULL, ops, err, sizeof err) == -1 && strstr(err, "index"));
    CHECK(nb201_net_resolve("|none~0|+", b, ops, err, sizeof err) == -1);
    nb201_benchmark_free(b);
    printf("ok   index <-> architecture mapping (%d indices)\n", NB201_NUM_ARCHS);
}

int main(int argc, char **argv) {
    int ops[6], none[6] = {0};
    size_t params;
    double flops;
    nb201_config c10 = cifar(10, 32, 1);

    /* docs/METHOD.md §1.4: all-none 73,306 */
    graph_size(&c10, none, &params, &flops);
    CHECKF(params == 73306 && nb201_net_params(&c10, none) == 73306, "%zu", params);
    /* §1.4 example: 886,426 parameters, "125.75 M" FLOPs */
    CHECK(nb201_arch_parse(EXAMPLE, ops) == 0);
    graph_size(&c10, ops, &params, &flops);
    printf("example arch: %zu params, %.0f FLOPs (%.2f M)\n", params, flops, flops / 1e6);
    CHECK(params == 886426 && nb201_net_params(&c10, ops) == 886426);
    CHECK(flops == 125747850.0 && nb201_net_flops(&c10, ops) == 125747850.0);
    CHECK(fabs(flops / 1e6 - 125.75) < 0.005);

    /* per-edge formulas: conv3x3 adds 5 sum_s (9 C_s^2 + 2 C_s), conv1x1 5 sum_s (C_s^2 + 2 C_s),
     * skip and pool nothing; additive over edges */
    for (int e = 0; e < 6; e++)
        for (int o = 1; o < 5; o++) {
            memset(ops, 0, sizeof ops);
            ops[e] = o;
            size_t want = 73306;
            for (int s = 0; s < 3; s++) {
                size_t C = 16u << s;
                if (o == NB201_NOR_CONV_3X3) want += 5 * (9 * C * C + 2 * C);
                if (o == NB201_NOR_CONV_1X1) want += 5 * (C * C + 2 * C);
            }
            graph_size(&c10, ops, &params, &flops);
            CHECKF(params == want, "edge %d op %d: %zu vs %zu", e, o, params, want);
        }
    /* closed forms = built graphs, all 15,625 archs, three datasets' shapes */
    const nb201_config shapes[3] = {cifar(10, 32, 1), cifar(100, 32, 2), cifar(120, 16, 1)};
    int bad = 0;
    for (int code = 0; code < NB201_NUM_ARCHS; code++) {
        nb201_arch_from_code(code, ops);
        CHECK(nb201_arch_code(ops) == code);
        const nb201_config *c = &shapes[code % 3];
        graph_size(c, ops, &params, &flops);
        bad += params != nb201_net_params(c, ops) || flops != nb201_net_flops(c, ops);
    }
    CHECKF(bad == 0, "%d archs where the closed forms differ from the graph", bad);
    printf("ok   closed-form params / FLOPs = graph for all %d archs\n", NB201_NUM_ARCHS);
    /* CIFAR-100 and ImageNet16-120 heads; ImageNet16 FLOPs are a quarter (plus the head) */
    nb201_arch_parse(EXAMPLE, ops);
    const nb201_config c100 = cifar(100, 32, 1), in16 = cifar(120, 16, 1);
    CHECK(nb201_net_params(&c100, ops) == 886426 + 90 * 65);
    CHECK(nb201_net_params(&in16, ops) == 886426 + 110 * 65);
    CHECK(nb201_net_flops(&in16, ops) == (125747850.0 - 650) / 4 + 120 * 65);

    /* structure of the example: one ReLU per conv edge (15 cells x 6) + 2 per ResNet block +
     * head; 4 BNs kept by the ZC BN-free copy; no zero node */
    fn_graph g;
    graph_init(&g);
    nb201_net_build(&g, &c10, ops);
    int keep = 0;
    for (int i = 0; i < g.nn; i++) keep += g.nodes[i].kind == FN_NODE_BN && g.nodes[i].zc_keep_bn;
    CHECK(count_kind(&g, FN_NODE_RELU) == 90 + 4 + 1 && keep == 4);
    CHECK(count_kind(&g, FN_NODE_ZERO) == 0 && count_kind(&g, FN_NODE_CONV) == 90 + 1 + 6);
    CHECK(graph_param_find(&g, "cell14.edge5.nor_conv_1x1.conv.weight") >= 0);
    graph_free(&g);
    /* all-none: each cell's nodes 1..3 are zeros; the logits are the classifier bias */
    graph_init(&g);
    nb201_config c2 = cifar(10, 32, 2);
    nb201_net_build(&g, &c2, none);
    CHECK(count_kind(&g, FN_NODE_ZERO) == 45 && count_kind(&g, FN_NODE_RELU) == 5);
    fn_exec e;
    CHECK(exec_init(&e, &g, FN_F64, 1) == 0);
    exec_init_params(&e, 7);
    double *x = exec_tensor(&e, g.input);
    for (size_t i = 0; i < graph_tensor_numel(&g, g.input); i++) x[i] = sin(0.1 * i);
    exec_forward(&e);
    const double *z = exec_tensor(&e, g.output), *bias = exec_param(&e, graph_param_find(&g, "classifier.bias"));
    double dev = 0;
    for (int n = 0; n < 2; n++)
        for (int k = 0; k < 10; k++) dev = fmax(dev, fabs(z[n * 10 + k] - bias[k]));
    CHECKF(dev == 0, "all-none logits differ from the bias by %g", dev);
    exec_free(&e);
    graph_free(&g);

    if (argc > 1) {
        check_table_params(argv[1]);
        check_index_mapping(argv[1]);
    } else {
        printf("skip table checks: no data directory given\n");
    }
    return test_summary("test_nb201_net");
}
