/* spaces/nb1shot1.c: NAS-Bench-1Shot1 one-shot model, alpha layout and decoding (see
 * spaces/nb1shot1.h). Run the checks with ./build/bin/test_nb1shot1.
 *
 * Matched files of automl/nasbench-1shot1 (N1): optimizers/darts/model_search.py,
 * nasbench1shot1/optimizers/darts/operations.py, optimizers/darts/genotypes.py,
 * nasbench_analysis/search_spaces/search_space{,_1,_2,_3}.py, nasbench_analysis/utils.py,
 * nasbench_analysis/eval_darts_one_shot_model_in_nasbench.py.
 *
 * Where N1's code differs from its description (the code is followed; docs/METHOD.md §5.1):
 *  - "SS1 and SS2 add a fixed conv1x1 node before the output": N1 appends conv1x1-bn-relu to
 *    the op list at vertex 5, but upscale_to_nasbench_format inserts an all-zero row and
 *    column there, so that vertex has no edges and ModelSpec prunes it. It is a dummy vertex
 *    that pads the 6-vertex SS1/SS2 cell to NAS-Bench-101's 7, not a node before the output.
 *  - The decoded matrix keeps only the ancestors of the output (_create_adjacency_matrix
 *    walks back from the output), not every chosen edge ("with loose ends").
 *  - The output's top-k uses k = num_inputs[-1] in N1, which for SS1 is node 4's count (2),
 *    not the output's; both are 2, so the result is the same. We use the output's count.
 *  - N1 ranks softmax(alpha) with np.argpartition (tie order unspecified); ops by argmax of
 *    softmax (first maximum). We rank the raw scores (same order, softmax is monotone) and
 *    break ties towards the lower index.
 *  - The choice-block convs are ConvBnRelu with an affine BN (OPS ignores affine = False);
 *    only the postprocess BN is affine = False (docs/METHOD.md §5.1).
 *  - The search-space sizes 6,240 / 29,160 / 363,648 (quoted from the paper) are not
 *    reproduced by any count over N1's decoder: the raw decoder outputs number 14,580 /
 *    29,160 / 1,312,200 (only SS2 agrees), and N1's generate_search_space_without_loose_ends
 *    recursion yields 2,487 / 3,609 / 24,066 (counted with a transcription of it).
 *  - N1 also carries a second one-shot model (nasbench1shot1/optimizers/darts/
 *    model_search.py) whose cell output is concat_{j=0..steps}(alpha_output[j] * state_j),
 *    state_0 = a C-channel projection of the input, C_in = C_prev * (steps + 1). We build the
 *    optimizers/darts/model_search.py version, which docs/METHOD.md §5.1 describes. */
#include "spaces/nb1shot1.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/common.h"

const char *const nb1shot1_op_names[NB1SHOT1_OPS] = {"maxpool3x3", "conv3x3-bn-relu",
                                                     "conv1x1-bn-relu"};

static const int num_parents[3][NB1SHOT1_MAX_STEPS + 2] = {
    {0, 1, 2, 2, 2, 2, 0}, /* SS1: nodes 1..4, output 5 */
    {0, 1, 1, 2, 2, 3, 0}, /* SS2 */
    {0, 1, 1, 1, 2, 2, 2}, /* SS3: nodes 1..5, output 6 */
};

static void check_ss(int ss) {
    if (ss < 1 || ss > 3) FN_FATAL("nb1shot1: unknown search space %d (1, 2 or 3)", ss);
}

int nb1shot1_steps(int ss) {
    check_ss(ss);
    return ss == 3 ? 5 : 4;
}

int nb1shot1_num_parents(int ss, int v) {
    FN_ASSERT(v >= 1 && v <= nb1shot1_steps(ss) + 1);
    return num_parents[ss - 1][v];
}

int nb1shot1_first_input_node(int ss) {
    check_ss(ss);
    return ss == 1 ? 3 : 2;
}

/* Layout: alpha_mixed [steps x 3], alpha_output [steps + 1], alpha_inputs_v [v] for
 * v = first..steps. */
int nb1shot1_alpha_mixed_off(int ss, int block, int op) {
    FN_ASSERT(block >= 0 && block < nb1shot1_steps(ss) && op >= 0 && op < NB1SHOT1_OPS);
    return block * NB1SHOT1_OPS + op;
}

int nb1shot1_alpha_output_off(int ss, int j) {
    int steps = nb1shot1_steps(ss);
    FN_ASSERT(j >= 0 && j <= steps);
    return steps * NB1SHOT1_OPS + j;
}

int nb1shot1_alpha_inputs_off(int ss, int v, int j) {
    int steps = nb1shot1_steps(ss), first = nb1shot1_first_input_node(ss);
    FN_ASSERT(v >= 1 && v <= steps && j >= 0 && j < v);
    if (v < first) return -1;
    int off = steps * NB1SHOT1_OPS + steps + 1;
    for (int u = first; u < v; u++) off += u;
    return off + j;
}

int nb1shot1_alpha_numel(int ss) {
    int steps = nb1shot1_steps(ss);
    return nb1shot1_alpha_inputs_off(ss, steps, 0) + steps;
}

/* ------------------------------------------------------------------ one-shot model ------ */

/* ConvBnRelu (N1 operations.py): conv (no bias), BN affine, ReLU. */
static int conv_bn_relu(fn_graph *g, const char *prefix, int x, int cout, int k, int pad) {
    char cn[FN_NAME_LEN + 8], bn[FN_NAME_LEN + 8]; /* graph_conv/graph_bn check the length */
    snprintf(cn, sizeof cn, "%s.conv", prefix);
    snprintf(bn, sizeof bn, "%s.bn", prefix);
    return graph_relu(g, graph_bn(g, bn, graph_conv(g, cn, x, cout, k, 1, pad, 1, 1), 1));
}

/* One cell (N1 Cell.forward); k = cell index, Cc = its channels, s0 = cell input. */
static int cell(fn_graph *g, int ss, int k, int s0, int Cc, int a_mixed, int a_out) {
    int steps = nb1shot1_steps(ss);
    int state[NB1SHOT1_MAX_STEPS];
    char name[FN_NAME_LEN];
    for (int i = 0; i < steps; i++) {
        int v = i + 1; /* NAS-Bench node of choice block i */
        snprintf(name, sizeof name, "cell%d.proj%d", k, i);
        int xs[NB1SHOT1_MAX_STEPS + 1], aidx[NB1SHOT1_MAX_STEPS + 1];
        xs[0] = conv_bn_relu(g, name, s0, Cc, 1, 0);
        for (int j = 1; j < v; j++) xs[j] = state[j - 1];
        for (int j = 0; j < v; j++) {
            int off = nb1shot1_alpha_inputs_off(ss, v, j);
            aidx[j] = off; /* -1: coefficient 1; alpha arena layout = S layout */
        }
        /* a single input with coefficient 1 (block 0) is used directly */
        int x = (v == 1) ? xs[0] : graph_mix(g, xs, aidx, v);
        int ops[NB1SHOT1_OPS], oa[NB1SHOT1_OPS];
        ops[NB1SHOT1_MAXPOOL3X3] = graph_maxpool(g, x, 3, 1, 1);
        snprintf(name, sizeof name, "cell%d.block%d.conv3x3", k, i);
        ops[NB1SHOT1_CONV3X3] = conv_bn_relu(g, name, x, Cc, 3, 1);
        snprintf(name, sizeof name, "cell%d.block%d.conv1x1", k, i);
        ops[NB1SHOT1_CONV1X1] = conv_bn_relu(g, name, x, Cc, 1, 0);
        for (int o = 0; o < NB1SHOT1_OPS; o++) oa[o] = a_mixed + i * NB1SHOT1_OPS + o;
        state[i] = graph_mix(g, ops, oa, NB1SHOT1_OPS);
    }
    snprintf(name, sizeof name, "cell%d.proj%d", k, steps);
    int in_out = conv_bn_relu(g, name, s0, Cc * steps, 1, 0);
    int scaled[NB1SHOT1_MAX_STEPS];
    for (int i = 0; i < steps; i++) {
        int ai = a_out + 1 + i;
        scaled[i] = graph_mix(g, &state[i], &ai, 1);
    }
    int xs[2] = {in_out, graph_concat(g, scaled, steps)};
    int aidx[2] = {a_out, -1};
    return graph_mix(g, xs, aidx, 2);
}

void nb1shot1_build(fn_graph *g, const nb1shot1_config *c) {
    FN_ASSERT(c->C > 0 && c->cells_per_stack > 0 && c->classes > 0 && c->batch > 0);
    FN_ASSERT(g->nag == 0 && g->alpha_numel == 0);
    int ss = c->ss, steps = nb1shot1_steps(ss);
    int a_mixed = graph_alpha_group(g, "alpha_mixed", steps, NB1SHOT1_OPS);
    int a_out = graph_alpha_group(g, "alpha_output", 1, steps + 1);
    for (int v = nb1shot1_first_input_node(ss); v <= steps; v++) {
        char name[FN_NAME_LEN];
        snprintf(name, sizeof name, "alpha_inputs_%d", v);
        graph_alpha_group(g, name, 1, v);
    }
    FN_ASSERT((int)g->alpha_numel == nb1shot1_alpha_numel(ss));
    FN_ASSERT(a_out == nb1shot1_alpha_output_off(ss, 0));

    int x = graph_input(g, c->batch, 3, c->h, c->w);
    x = conv_bn_relu(g, "stem", x, c->C, 3, 1);
    int layers = 3 * c->cells_per_stack, Cc = c->C;
    for (int k = 0; k < layers; k++) {
        if (k == layers / 3 || k == 2 * layers / 3) {
            x = graph_maxpool(g, x, 2, 2, 1); /* N1: nn.MaxPool2d(2, stride 2, padding 1) */
            Cc *= 2;
        }
        x = cell(g, ss, k, x, Cc, a_mixed, a_out);
    }
    /* postprocess: ReLUConvBN(Cc * steps -> Cc, 1x1, affine = False) */
    x = graph_conv(g, "postprocess.conv", graph_relu(g, x), Cc, 1, 1, 0, 1, 1);
    x = graph_bn(g, "postprocess.bn", x, 0);
    g->output = graph_linear(g, "classifier", graph_gap(g, x), c->classes);
}

/* ------------------------------------------------------------------ decoding ------------ */

/* k highest of s[0..n-1] into out (ascending); ties to the lower index. */
static void top_k(const double *s, int n, int k, int *out) {
    unsigned char used[NB1SHOT1_MAX_STEPS + 1] = {0};
    FN_ASSERT(k >= 1 && k <= n && n <= NB1SHOT1_MAX_STEPS + 1);
    for (int t = 0; t < k; t++) {
        int best = -1;
        for (int j = 0; j < n; j++)
            if (!used[j] && (best < 0 || s[j] > s[best])) best = j;
        used[best] = 1;
    }
    for (int j = 0, t = 0; j < n; j++)
        if (used[j]) out[t++] = j;
}

int nb1shot1_decode(int ss, const double *S, nb1shot1_arch *a, int *bad_index) {
    int steps = nb1shot1_steps(ss), n = nb1shot1_alpha_numel(ss);
    long bad = fn_first_nonfinite(S, (size_t)n);
    if (bad >= 0) {
        if (bad_index) *bad_index = (int)bad;
        return -1;
    }
    memset(a, 0, sizeof *a);
    a->ss = ss;
    for (int i = 0; i < steps; i++) {
        const double *row = S + nb1shot1_alpha_mixed_off(ss, i, 0);
        int best = 0;
        for (int o = 1; o < NB1SHOT1_OPS; o++)
            if (row[o] > row[best]) best = o;
        a->op[i] = best;
    }
    int first = nb1shot1_first_input_node(ss), out = steps + 1;
    a->nparents[1] = 1; /* node 1 <- input */
    a->parents[1][0] = 0;
    if (ss == 1) { /* SS1 node 2 <- {input, node 1} */
        a->nparents[2] = 2;
        a->parents[2][0] = 0;
        a->parents[2][1] = 1;
    }
    for (int v = first; v <= steps; v++) {
        a->nparents[v] = nb1shot1_num_parents(ss, v);
        top_k(S + nb1shot1_alpha_inputs_off(ss, v, 0), v, a->nparents[v], a->parents[v]);
    }
    a->nparents[out] = nb1shot1_num_parents(ss, out);
    top_k(S + nb1shot1_alpha_output_off(ss, 0), steps + 1, a->nparents[out], a->parents[out]);

    /* N1 _create_adjacency_matrix: walk back from the output, adding each visited node's
     * parent edges. Node indices of the 6-node SS1/SS2 cell map to 7 vertices by inserting the
     * dummy vertex 5 (upscale_to_nasbench_format): output 5 -> 6. */
    int visited[NB1SHOT1_MAX_STEPS + 2] = {0}, stack[NB1SHOT1_MAX_STEPS + 2], sp = 0;
    stack[sp++] = out;
    while (sp) {
        int v = stack[--sp];
        if (visited[v]) continue;
        visited[v] = 1;
        for (int t = 0; t < a->nparents[v]; t++) {
            int p = a->parents[v][t];
            a->adj[p][v == out ? NB1SHOT1_V - 1 : v] = 1;
            if (p != 0 && !visited[p]) stack[sp++] = p;
        }
    }
    a->ops[0] = "input";
    for (int i = 0; i < steps; i++) a->ops[1 + i] = nb1shot1_op_names[a->op[i]];
    if (steps == 4) a->ops[5] = "conv1x1-bn-relu"; /* N1's dummy vertex (no edges) */
    a->ops[NB1SHOT1_V - 1] = "output";

    /* ModelSpec._prune: keep the vertices reachable from the input and reaching the output */
    int from_in[NB1SHOT1_V] = {1}, to_out[NB1SHOT1_V] = {0};
    for (int v = 1; v < NB1SHOT1_V; v++)
        for (int u = 0; u < v; u++)
            if (a->adj[u][v] && from_in[u]) from_in[v] = 1;
    to_out[NB1SHOT1_V - 1] = 1;
    for (int u = NB1SHOT1_V - 2; u >= 0; u--)
        for (int v = u + 1; v < NB1SHOT1_V; v++)
            if (a->adj[u][v] && to_out[v]) to_out[u] = 1;
    int keep[NB1SHOT1_V], nk = 0;
    for (int v = 0; v < NB1SHOT1_V; v++)
        if (from_in[v] && to_out[v]) keep[nk++] = v;
    /* the output always descends from the input (every parent index is lower) */
    FN_ASSERT(nk >= 2 && keep[0] == 0 && keep[nk - 1] == NB1SHOT1_V - 1);
    a->n_nodes = nk;
    for (int i = 0; i < nk; i++) {
        a->pruned_ops[i] = a->ops[keep[i]];
        for (int j = 0; j < nk; j++) a->pruned_adj[i][j] = a->adj[keep[i]][keep[j]];
    }
    return 0;
}

/* snprintf at offset *n of buf[len], advancing *n by the full length even when truncated */
static void append(char *buf, size_t len, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void append(char *buf, size_t len, size_t *n, const char *fmt, ...) {
    char dummy[1];
    va_list ap;
    va_start(ap, fmt);
    int w = *n < len ? vsnprintf(buf + *n, len - *n, fmt, ap) : vsnprintf(dummy, 0, fmt, ap);
    va_end(ap);
    FN_ASSERT(w >= 0);
    *n += (size_t)w;
}

#define APPEND(...) append(buf, len, &n, __VA_ARGS__)

int nb1shot1_spec_json(const nb1shot1_arch *a, int pruned, char *buf, size_t len) {
    size_t n = 0;
    int V = pruned ? a->n_nodes : NB1SHOT1_V;
    APPEND("{\"matrix\": [");
    for (int i = 0; i < V; i++) {
        APPEND("%s[", i ? ", " : "");
        for (int j = 0; j < V; j++)
            APPEND("%s%d", j ? ", " : "", pruned ? a->pruned_adj[i][j] : a->adj[i][j]);
        APPEND("]");
    }
    APPEND("], \"ops\": [");
    for (int i = 0; i < V; i++)
        APPEND("%s\"%s\"", i ? ", " : "", pruned ? a->pruned_ops[i] : a->ops[i]);
    APPEND("]}");
    return (int)n;
}

static long binom(int n, int k) {
    long r = 1;
    for (int i = 1; i <= k; i++) r = r * (n - k + i) / i;
    return r;
}

long nb1shot1_num_configs(int ss) {
    int steps = nb1shot1_steps(ss);
    long n = 1;
    for (int v = nb1shot1_first_input_node(ss); v <= steps + 1; v++)
        n *= binom(v, nb1shot1_num_parents(ss, v));
    for (int i = 0; i < steps; i++) n *= NB1SHOT1_OPS;
    return n;
}
