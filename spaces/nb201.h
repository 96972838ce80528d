/* spaces/nb201.h: the NAS-Bench-201 search space (docs/METHOD.md §1): supernet builder, architecture
 * strings, and the FreeDARTS one-shot pruning rule (docs/METHOD.md §5).
 *
 * Supernet: stem Conv3x3(3->C)+BN(affine); 3 stages of N search cells (C, 2C, 4C) separated
 * by ResNet basic blocks with stride 2; head BN(affine), ReLU, global average pool, Linear.
 * A search cell has nodes 0..3; node i = sum_{j<i} sum_o alpha[e(i,j), o] * op_o(node j)
 * (raw alpha, no softmax), edge e(i,j) = i(i-1)/2 + j, output = node 3. One 6x5 alpha is
 * shared by all cells. Cell BNs are affine = False, train mode. */
#ifndef FN_NB201_H
#define FN_NB201_H

#include <stddef.h>

#include "engine/graph.h"

#define NB201_EDGES 6
#define NB201_OPS 5

enum {
    NB201_NONE = 0,
    NB201_SKIP_CONNECT = 1,
    NB201_NOR_CONV_1X1 = 2,
    NB201_NOR_CONV_3X3 = 3,
    NB201_AVG_POOL_3X3 = 4,
};

extern const char *const nb201_op_names[NB201_OPS];

typedef struct {
    int C;        /* channels of the first stage (16) */
    int N;        /* search cells per stage (5) */
    int classes;  /* 10, 100, 120 */
    int h, w;     /* input resolution (32 or 16) */
    int batch;
    int cell_conv_bias; /* benchmark networks (nasbench/nb201_net.h) only: 0 = AD's trained
                           cells (Conv without bias, BN affine); 1 = ZC's NAS201Model cells, as
                           HNAS scores them (Conv WITH bias, BN affine=False; docs/METHOD.md §4.2) */
} nb201_config;

/* Builds the supernet into an empty graph. Parameter names follow ../shared/ref/README.md. */
void nb201_build(fn_graph *g, const nb201_config *cfg);

/* The macro skeleton shared by the supernet and the benchmark networks (nasbench/nb201_net.h),
 * docs/METHOD.md §1.1: input, stem Conv3x3 + BN, three stages of cfg->N cells (C, 2C, 4C) with a
 * stride-2 ResNet basic block before stages 2 and 3 (main path ReLU, Conv3x3/2, BN, ReLU,
 * Conv3x3, BN; shortcut AvgPool 2x2/2, Conv1x1; its BNs marked zc_keep_bn, §3.0; parameters
 * res<r>.*), head BN, ReLU, global average pool, classifier; sets g->output.
 * cell(g, x, C, k, ctx) builds cell k (0 .. 3N-1, over the whole network) of width C on x and
 * returns its output. */
typedef int (*nb201_cell_fn)(fn_graph *g, int x, int C, int k, const void *ctx);
void nb201_build_skeleton(fn_graph *g, const nb201_config *cfg, nb201_cell_fn cell,
                          const void *ctx);
/* Index of edge i <- j (j < i) in the sorted "i<-j" order of docs/METHOD.md §1.2. */
static inline int nb201_edge_index(int i, int j) { return i * (i - 1) / 2 + j; }

/* "|op~0|+|op~0|op~1|+|op~0|op~1|op~2|" for ops[6]; returns the string length. */
int nb201_arch_string(const int ops[NB201_EDGES], char *buf, size_t len);
/* Parses an arch string; returns 0 or -1 if malformed. */
int nb201_arch_parse(const char *s, int ops[NB201_EDGES]);
/* sum_e ops[e] * 5^e, in 0..15624. */
int nb201_arch_code(const int ops[NB201_EDGES]);

/* Ops of the cell that cannot affect its output: a non-none op on edge i <- j is unreachable
 * when node j gets nothing from the cell input (every path 0 -> j has a none edge) or node i
 * feeds nothing into node 3. 0 for the 'no unreachable ops' subset of the correlation tables
 * (docs/METHOD.md §7.1); the all-none cell has 0 as well (it has no op to lose). */
int nb201_arch_unreachable_ops(const int ops[NB201_EDGES]);

/* FreeDARTS NB201 prune (docs/METHOD.md §5): per edge, argmax of S[e, :] over all 5 ops
 * (none included), ties to the lower op index. Returns 0, or -1 when S holds a NaN/Inf
 * (never a silent `none`), with the first bad (edge, op) in *bad_e, *bad_o. */
int nb201_prune(const double S[NB201_EDGES * NB201_OPS], int ops[NB201_EDGES], int *bad_e,
                int *bad_o);

#endif
