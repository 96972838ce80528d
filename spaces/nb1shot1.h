/* spaces/nb1shot1.h: the NAS-Bench-1Shot1 search spaces SS1, SS2, SS3 (docs/METHOD.md §5.1): the DARTS
 * one-shot model built as a graph, the alpha layout, and the decoding of a score vector into a
 * NAS-Bench-101 cell (adjacency matrix + op labels).
 *
 * Matched against automl/nasbench-1shot1 (N1): optimizers/darts/model_search.py (one-shot
 * model), nasbench1shot1/optimizers/darts/operations.py (ConvBnRelu, ReLUConvBN; the copy of
 * operations.py stored in N1), optimizers/darts/genotypes.py (PRIMITIVES),
 * nasbench_analysis/search_spaces/search_space{,_1,_2,_3}.py (parent counts, adjacency),
 * nasbench_analysis/utils.py (get_top_k, upscale_to_nasbench_format) and
 * nasbench_analysis/eval_darts_one_shot_model_in_nasbench.py (decoding); pruning of unused
 * vertices as google-research/nasbench nasbench/lib/model_spec.py (ModelSpec._prune).
 *
 * One-shot model (N1 Network, layers = 9 = 3 stacks x 3 cells, C = 16):
 *   stem ConvBnRelu 3x3 pad 1 (3 -> C, BN affine);
 *   before cells layers/3 and 2*layers/3: MaxPool 2x2 stride 2 pad 1 (32 -> 17 -> 9), and the
 *   cell channels Cc double;
 *   cell (steps choice blocks, C_in = C for cell 0, else Cc_prev * steps):
 *     proj_i = ConvBnRelu 1x1 (C_in -> Cc) for block i, proj_steps = ConvBnRelu 1x1
 *     (C_in -> Cc * steps) for the input -> output edge;
 *     block i input  x_i = sum_j a_in[i+1][j] * in_j, in = [proj_i(s0), state_0..state_{i-1}]
 *                    (coefficient 1 for nodes without an alpha_inputs group);
 *     block i output state_i = sum_o alpha_mixed[i][o] * op_o(x_i), ops in PRIMITIVES order
 *                    maxpool3x3 (stride 1 pad 1, no BN), conv3x3-bn-relu, conv1x1-bn-relu;
 *     cell output = alpha_output[0] * proj_steps(s0) + concat_i(alpha_output[1+i] * state_i);
 *   postprocess ReLU, Conv 1x1 (Cc * steps -> Cc), BN affine = False; GAP; Linear.
 * Every BN inside ConvBnRelu is affine = True (N1's OPS lambdas ignore their `affine` argument
 * for the NAS-Bench ops); all convs are bias-free; BN eps 1e-5, train mode (batch statistics).
 *
 * Alphas: FreeDARTS form, the raw weighted sums above with alpha = 1e-3 * randn, no softmax
 * anywhere (docs/METHOD.md §3.11). N1 instead passes every group through F.softmax(dim = -1) in
 * Network._preprocess_op (options: `discrete` = raw, `normalize` = divide by the sum).
 *
 * Run: tests/test_nb1shot1.c (./build/bin/test_nb1shot1). */
#ifndef FN_NB1SHOT1_H
#define FN_NB1SHOT1_H

#include <stddef.h>

#include "engine/graph.h"

#define NB1SHOT1_OPS 3       /* columns of alpha_mixed */
#define NB1SHOT1_MAX_STEPS 5 /* choice blocks (SS3) */
#define NB1SHOT1_V 7         /* NAS-Bench-101 vertices: input, 5 intermediate, output */

/* Columns of alpha_mixed: N1 genotypes.py PRIMITIVES order. */
enum { NB1SHOT1_MAXPOOL3X3 = 0, NB1SHOT1_CONV3X3 = 1, NB1SHOT1_CONV1X1 = 2 };

/* "maxpool3x3", "conv3x3-bn-relu", "conv1x1-bn-relu" (NAS-Bench-101 labels) */
extern const char *const nb1shot1_op_names[NB1SHOT1_OPS];

typedef struct {
    int ss;              /* search space 1, 2 or 3 */
    int C;               /* stem / first-stack channels (16) */
    int cells_per_stack; /* 3: N1 layers = 9 */
    int classes;         /* 10 */
    int h, w;            /* input resolution (32) */
    int batch;
} nb1shot1_config;

/* Choice blocks (intermediate nodes) of search space ss: 4, 4, 5. */
int nb1shot1_steps(int ss);
/* Required number of parents of node v (1..steps+1, steps+1 = output), N1
 * num_parents_per_node: SS1 {1,2,2,2,2}, SS2 {1,1,2,2,3}, SS3 {1,1,1,2,2,2}. */
int nb1shot1_num_parents(int ss, int v);
/* First node with an alpha_inputs group: 3 (SS1: nodes 1 and 2 have fixed inputs), else 2. */
int nb1shot1_first_input_node(int ss);
/* Total alpha entries (= length of the score vector S): SS1 24, SS2 26, SS3 35. */
int nb1shot1_alpha_numel(int ss);
/* Offset in S of alpha_mixed[block][op], alpha_output[j], alpha_inputs_<v>[j]. */
int nb1shot1_alpha_mixed_off(int ss, int block, int op);
int nb1shot1_alpha_output_off(int ss, int j);
int nb1shot1_alpha_inputs_off(int ss, int v, int j); /* -1 when node v has no group */

/* Builds the one-shot model into an empty graph. Alpha groups, in graph (and S) order, each
 * shared by all cells (N1 Network._arch_parameters order):
 *   "alpha_mixed"    [steps x 3]       row i = choice block i (node i+1)
 *   "alpha_output"   [1 x steps+1]     column 0 = cell input, column j = node j
 *   "alpha_inputs_v" [1 x v]           for v = first_input_node..steps; column 0 = cell input
 *                                      (through proj_{v-1}), column j = node j
 * Parameter names: "stem.conv.weight", "stem.bn.{weight,bias}", "cell{k}.proj{i}.{conv,bn}.*"
 * (i = 0..steps, i = steps the output projection; N1 cells.k._input_projections.i),
 * "cell{k}.block{i}.conv3x3.{conv,bn}.*", "cell{k}.block{i}.conv1x1.{conv,bn}.*"
 * (N1 cells.k._choice_blocks.i.mixed_op._ops.{1,2}), "postprocess.conv.weight",
 * "classifier.{weight,bias}". */
void nb1shot1_build(fn_graph *g, const nb1shot1_config *c);

/* A decoded cell. adj/ops is the 7-vertex spec N1 hands to nasbench api.ModelSpec (SS1/SS2:
 * vertex 5 is N1's dummy conv1x1-bn-relu vertex without edges, output = vertex 6; SS3:
 * vertices 1..5 are the choice blocks). Edges are those of the ancestors of the output only
 * (N1 _create_adjacency_matrix), so vertices whose result never reaches the output have no
 * edges. pruned_adj/pruned_ops/n_nodes is the same spec after ModelSpec._prune (vertices not on
 * an input -> output path removed): the graph NAS-Bench-101 actually evaluates. */
typedef struct {
    int ss;
    int parents[NB1SHOT1_MAX_STEPS + 2][3]; /* parents[v][0..nparents[v]-1], ascending */
    int nparents[NB1SHOT1_MAX_STEPS + 2];   /* node v = 1..steps+1 (steps+1 = output) */
    int op[NB1SHOT1_MAX_STEPS];             /* chosen column of alpha_mixed per block */
    int adj[NB1SHOT1_V][NB1SHOT1_V];
    const char *ops[NB1SHOT1_V];
    int n_nodes;
    int pruned_adj[NB1SHOT1_V][NB1SHOT1_V];
    const char *pruned_ops[NB1SHOT1_V];
} nb1shot1_arch;

/* Decodes a score vector S (layout above, nb1shot1_alpha_numel(ss) entries) as N1's
 * eval_one_shot_model does with alphas: per choice block the argmax op (ties: lowest column,
 * as numpy argmax); per node with an alpha_inputs group, and for the output, the k highest
 * scores with k = the required parent count (ties: the lower input index wins; N1's
 * np.argpartition leaves tie order unspecified). Fixed parents: node 1 <- {0}; SS1 node 2 <-
 * {0, 1}. Scores are used as given (N1 ranks softmax(alpha), the same order without ties).
 * Returns 0, or -1 when S holds a NaN/Inf (first offending index in *bad_index). */
int nb1shot1_decode(int ss, const double *S, nb1shot1_arch *a, int *bad_index);

/* {"matrix": [[0, 1, ...], ...], "ops": ["input", ..., "output"]} for the 7-vertex N1 spec
 * (pruned = 0) or the pruned spec (pruned = 1). snprintf semantics: returns the length the
 * full text needs; the text is truncated (and terminated) when len is too small. */
int nb1shot1_spec_json(const nb1shot1_arch *a, int pruned, char *buf, size_t len);

/* Number of distinct decoder outputs before pruning: (parent choices of every node with an
 * alpha_inputs group and of the output) x 3^steps. SS1 14,580, SS2 29,160, SS3 1,312,200. */
long nb1shot1_num_configs(int ss);

#endif
