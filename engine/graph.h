/* engine/graph.h: a static computation graph of nn ops: the representation every supernet is
 * built into and every metric runs on.
 *
 * Building (graph_* calls) records tensors with shapes, parameters with names and init rules,
 * architecture-parameter (alpha) groups and nodes in topological order; nothing is computed.
 * An executor (engine/exec.h) then plans memory once and runs forward / backward on a backend
 * (engine/backend.h). Space code builds graphs; metric code runs executors; neither touches
 * op internals. */
#ifndef FN_GRAPH_H
#define FN_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" { /* also included by the CUDA backend (gpu/exec_cuda.cu) */
#endif

#define FN_MAX_IN 64
#define FN_NAME_LEN 64
#define FN_MAX_ALPHA_GROUPS 8

typedef enum {
    FN_NODE_CONV,
    FN_NODE_BN,
    FN_NODE_RELU,
    FN_NODE_AVGPOOL,
    FN_NODE_MAXPOOL,
    FN_NODE_GAP,
    FN_NODE_LINEAR,
    FN_NODE_MIX,
    FN_NODE_CONCAT,
    FN_NODE_SUBSAMPLE,
    FN_NODE_ZERO,      /* all-zero tensor shaped like in[0] (no inputs): an NB201 node whose
                          incoming edges are all `none` (nasbench/nb201_net.c) */
    FN_NODE_SCALE_N,   /* per-sample scale y[n] = s[n] * x[n], s = alpha[off .. off + n):
                          drop-path (train/); the scale is data, not trained (no d alpha) */
} fn_node_kind;

typedef enum {
    FN_INIT_KAIMING_U, /* U(-1/sqrt(fan_in), 1/sqrt(fan_in)): PyTorch conv/linear default */
    FN_INIT_ONE,       /* BN gamma */
    FN_INIT_ZERO,      /* BN beta */
} fn_init;

/* FN_PARAM_CONV_B: the bias of a graph_conv_bn_bias conv (see there): counted and drawn like
 * PyTorch's conv bias, never added by an executor. */
typedef enum { FN_PARAM_CONV_W, FN_PARAM_LINEAR_W, FN_PARAM_LINEAR_B, FN_PARAM_BN_W, FN_PARAM_BN_B,
               FN_PARAM_CONV_B } fn_param_kind;

typedef struct {
    int n, c, h, w; /* memory comes from the executor's plan (engine/graph_plan.h) */
} fn_tensor;

typedef struct {
    char name[FN_NAME_LEN];
    size_t off, numel;
    int fan_in;
    fn_init init;
    fn_param_kind kind;
} fn_param;

typedef struct {
    char name[FN_NAME_LEN];
    int rows, cols;
    size_t off; /* offset in the alpha arena */
} fn_alpha_group;

typedef struct {
    fn_node_kind kind;
    int out;
    int nin;
    int in[FN_MAX_IN];
    int aidx[FN_MAX_IN]; /* MIX: alpha index per input, -1 = coefficient 1 */
    int w, b;            /* parameter ids or -1 */
    int k, stride, pad, dil, groups, off, ho, wo; /* groups: CONV's; LINEAR, MIX and CONCAT
                                                      of a stacked graph: its models (below) */
    int zc_keep_bn;      /* BN kept even when the executor runs with BN off (ZC §3.0) */
    size_t saved;        /* BN: offset of mean[c], invstd[c] in the saved arena */
} fn_node;

typedef struct {
    fn_tensor *t;
    int nt, cap_t;
    fn_param *p;
    int np, cap_p;
    int *p_names, cap_names; /* open-addressing set of the parameter names (index + 1; 0
                                empty), so a builder's name check is O(1), not a scan */
    fn_node *nodes;
    int nn, cap_n;
    fn_alpha_group ag[FN_MAX_ALPHA_GROUPS];
    int nag;
    size_t act_numel; /* sum of all tensor sizes: activation memory without planning */
    size_t param_numel, saved_numel, ws_numel, alpha_numel;
    int input, output; /* tensor ids of the network input and logits */
    /* A stacked graph (engine/graph_stack.h) runs `models` copies of one network in one pass:
     * every tensor holds the models' channels side by side (model m's block of a tensor of c
     * channels is channels [m c / models, (m + 1) c / models)), a conv has `models` times the
     * groups, a linear is block diagonal, a concat joins the inputs' blocks model by model, and
     * a mix weighs model m's block with alpha + m * model_alpha. Each parameter holds the models'
     * tensors one after another. 1 for a plain graph. */
    int models;
    size_t model_alpha; /* alpha entries per model (alpha_numel of a plain graph) */
} fn_graph;

void graph_init(fn_graph *g);
void graph_free(fn_graph *g);

int graph_input(fn_graph *g, int n, int c, int h, int w);
int graph_alpha_group(fn_graph *g, const char *name, int rows, int cols); /* returns offset */
/* Layers: each returns the output tensor id. `name` prefixes the parameter names
 * ("<name>.weight", "<name>.bias"). */
int graph_conv(fn_graph *g, const char *name, int x, int cout, int k, int stride, int pad,
               int dil, int groups);
/* A conv with a bias (nd->b, kind FN_PARAM_CONV_B, PyTorch's U(+-1/sqrt(fan_in)) draw) whose
 * output feeds a train-mode BN directly (ZC's NAS201Model cell ReLUConvBN, docs/METHOD.md §4.2).
 * Train-mode BN subtracts the per-channel batch mean, so the bias changes no activation and the
 * batch gradient of S with respect to it is exactly zero: the executors do not add it (its
 * dparams stay 0, which is exact). It exists for the parameter count and for per-sample
 * gradients, which do see it (proxies/proxy_ntk.c: g_n(b) = sum over positions of delta_n).
 * Valid only with FN_BN_TRAIN and a graph_bn on the returned tensor. */
int graph_conv_bn_bias(fn_graph *g, const char *name, int x, int cout, int k, int stride,
                       int pad, int dil, int groups);
int graph_bn(fn_graph *g, const char *name, int x, int affine);
int graph_relu(fn_graph *g, int x);
int graph_avgpool(fn_graph *g, int x, int k, int stride, int pad);
int graph_maxpool(fn_graph *g, int x, int k, int stride, int pad);
int graph_gap(fn_graph *g, int x);
int graph_linear(fn_graph *g, const char *name, int x, int out_f);
/* A block-diagonal linear of `blocks` blocks (a stacked graph's head): x [n, blocks * in_f]
 * (1 x 1 planes), y [n, blocks * out_f], weight [blocks][out_f][in_f], bias [blocks][out_f];
 * fan_in is in_f. blocks 1 is graph_linear. */
int graph_linear_blocks(fn_graph *g, const char *name, int x, int out_f, int blocks);
int graph_mix(fn_graph *g, const int *xs, const int *aidx, int k);
int graph_concat(fn_graph *g, const int *xs, int k);
int graph_subsample(fn_graph *g, int x, int off, int stride, int ho, int wo);
/* A tensor of zeros with the shape of x (x is not an input: nothing flows back to it). */
int graph_zero(fn_graph *g, int x);
/* y[i] = alpha[alpha_off + i] * x[i] for each sample i of the batch: drop-path (DARTS
 * `drop_path`: the trainer writes mask / keep_prob, or 1, into the alpha arena before each
 * forward). Backward: dx += s * dy; no gradient flows to the scale. */
int graph_scale_n(fn_graph *g, int x, int alpha_off);

int graph_param_find(const fn_graph *g, const char *name); /* -1 if absent */
/* producer[nt]: the node that makes each tensor (-1: the input); uses[nt]: how many node
 * inputs read it (a node reading it twice counts twice). Either may be NULL. */
void graph_producers(const fn_graph *g, int *producer, int *uses);
size_t graph_tensor_numel(const fn_graph *g, int t);
/* Multiply-accumulate operations of one forward pass (conv + linear), batch included. */
double graph_macs(const fn_graph *g);
/* multiply-adds of one node's forward pass: conv and linear nodes, 0 for the others */
double graph_node_macs(const fn_graph *g, const fn_node *nd);
/* Sum of parameter counts (alpha excluded). */
size_t graph_num_params(const fn_graph *g);

#ifdef __cplusplus
}
#endif

#endif
