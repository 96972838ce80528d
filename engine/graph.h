/* engine/graph.h: a static computation graph of nn ops: the representation every supernet is
 * built into and every metric runs on.
 *
 * Building (graph_* calls) records tensors with shapes, parameters with names and init rules,
 * architecture-parameter (alpha) groups and nodes in topological order; nothing is computed.
 * An executor (fn_exec) then plans memory once, one arena per role (activations, gradients,
 * parameters, parameter gradients, saved BN statistics, workspace, alpha, d alpha), and runs
 * forward / backward in float32 or float64 (engine/graph_exec.c is compiled for both).
 * Space code builds graphs; metric code runs executors; neither touches op internals. */
#ifndef FN_GRAPH_H
#define FN_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" { /* also included by the CUDA executor (gpu/exec_cuda.cu) */
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
} fn_node_kind;

typedef enum {
    FN_INIT_KAIMING_U, /* U(-1/sqrt(fan_in), 1/sqrt(fan_in)): PyTorch conv/linear default */
    FN_INIT_ONE,       /* BN gamma */
    FN_INIT_ZERO,      /* BN beta */
} fn_init;

typedef enum { FN_PARAM_CONV_W, FN_PARAM_LINEAR_W, FN_PARAM_LINEAR_B, FN_PARAM_BN_W, FN_PARAM_BN_B } fn_param_kind;

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
    int k, stride, pad, dil, groups, off, ho, wo;
    int zc_keep_bn;      /* BN kept even when the executor runs with BN off (ZC §3.0) */
    size_t saved;        /* BN: offset of mean[c], invstd[c] in the saved arena */
} fn_node;

typedef struct {
    fn_tensor *t;
    int nt, cap_t;
    fn_param *p;
    int np, cap_p;
    fn_node *nodes;
    int nn, cap_n;
    fn_alpha_group ag[FN_MAX_ALPHA_GROUPS];
    int nag;
    size_t act_numel; /* sum of all tensor sizes: activation memory without planning */
    size_t param_numel, saved_numel, ws_numel, alpha_numel;
    int input, output; /* tensor ids of the network input and logits */
} fn_graph;

void graph_init(fn_graph *g);
void graph_free(fn_graph *g);

int graph_input(fn_graph *g, int n, int c, int h, int w);
int graph_alpha_group(fn_graph *g, const char *name, int rows, int cols); /* returns offset */
/* Layers: each returns the output tensor id. `name` prefixes the parameter names
 * ("<name>.weight", "<name>.bias"). */
int graph_conv(fn_graph *g, const char *name, int x, int cout, int k, int stride, int pad,
               int dil, int groups);
int graph_bn(fn_graph *g, const char *name, int x, int affine);
int graph_relu(fn_graph *g, int x);
int graph_avgpool(fn_graph *g, int x, int k, int stride, int pad);
int graph_maxpool(fn_graph *g, int x, int k, int stride, int pad);
int graph_gap(fn_graph *g, int x);
int graph_linear(fn_graph *g, const char *name, int x, int out_f);
int graph_mix(fn_graph *g, const int *xs, const int *aidx, int k);
int graph_concat(fn_graph *g, const int *xs, int k);
int graph_subsample(fn_graph *g, int x, int off, int stride, int ho, int wo);
/* A tensor of zeros with the shape of x (x is not an input: nothing flows back to it). */
int graph_zero(fn_graph *g, int x);

int graph_param_find(const fn_graph *g, const char *name); /* -1 if absent */
size_t graph_tensor_numel(const fn_graph *g, int t);
/* Multiply-accumulate operations of one forward pass (conv + linear), batch included. */
double graph_macs(const fn_graph *g);
/* Sum of parameter counts (alpha excluded). */
size_t graph_num_params(const fn_graph *g);

/* ------------------------------------------------------------------ executor ---------- */
typedef enum { FN_F32 = 0, FN_F64 = 1 } fn_dtype;
/* Where an executor runs: the CPU reference ops (nn/), or their CUDA twins (gpu/exec_cuda.cu:
 * cuDNN, cuBLAS and own kernels) on the current device. */
typedef enum { FN_DEV_CPU = 0, FN_DEV_CUDA = 1 } fn_device;

/* Memory plan of an executor, made by graph_plan (engine/graph_plan.h). */
typedef struct {
    size_t *act_off;     /* [nt] element offset of each activation */
    size_t *grad_off;    /* [nt] element offset of each gradient (where needs_grad) */
    int *grad_first;     /* [nt] node whose backward first writes the gradient (zeroes it) */
    size_t act_numel, grad_numel;
} fn_plan;
typedef enum { FN_BN_TRAIN = 0, FN_BN_OFF = 1 } fn_bn_mode;

/* Activation and gradient arenas lent to executors one after another (a sweep over many
 * networks): exec_init_opts takes them, growing them when too small, and exec_free leaves
 * them here, so each network does not pay fresh pages (page faults and kernel zeroing: a
 * quarter of a batch-128 forward). Arenas are not zero on loan; no executor relies on it
 * (producers write every activation, backward zeroes each gradient at its first write). */
typedef struct {
    void *act, *grad;
    size_t act_bytes, grad_bytes;
} fn_arena_pool;
void arena_pool_free(fn_arena_pool *p);

/* Executor options beyond the defaults of exec_init (used by the per-architecture proxies,
 * proxies/proxy.h). */
typedef struct {
    int param_grads;            /* backward also accumulates d params */
    int input_grad;             /* backward also writes d input: exec_tensor_grad(e, g->input) */
    const unsigned char *keep;  /* [nt] or NULL: activations kept after forward (never reused) */
    fn_arena_pool *pool;        /* NULL, or arenas to borrow (one executor at a time) */
    fn_device device;           /* FN_DEV_CPU (0) or FN_DEV_CUDA */
    int eager;                  /* CUDA: never capture passes into CUDA graphs (networks seen
                                   once, as the per-architecture proxies' are) */
} fn_exec_opts;

/* ReLU pattern control (GraSP's Hessian-vector product, proxies/proxy_grasp.c): RECORD stores
 * which ReLU inputs are > 0 during forward; FROZEN replays that pattern in forward (out = in
 * where it was on, 0 elsewhere) and backward, which makes the network a smooth function of
 * its weights whose gradient and Hessian are the ones autograd gives (ReLU'' = 0). */
typedef enum { FN_RELU_NORMAL = 0, FN_RELU_RECORD = 1, FN_RELU_FROZEN = 2 } fn_relu_mode;

typedef struct fn_exec fn_exec;
/* Called by backward after node `node`'s backward: the gradient of its output
 * (exec_tensor_grad(e, out)) is complete and still valid, as are saved or kept activations. */
typedef void (*fn_backward_hook)(void *user, const fn_exec *e, int node);

struct fn_exec {
    const fn_graph *g;
    fn_dtype dtype;
    fn_bn_mode bn_mode;
    int param_grads;      /* 1: backward also accumulates d params */
    void *act, *grad, *params, *dparams, *saved, *ws, *alpha, *dalpha;
    unsigned char *needs_grad; /* per tensor */
    fn_plan plan;                /* arena offsets by liveness (engine/graph_plan.h) */
    size_t bytes;         /* total bytes allocated */
    fn_backward_hook bwd_hook; /* NULL, or called after each node's backward */
    void *bwd_hook_user;
    fn_relu_mode relu_mode;    /* set with exec_set_relu_mode */
    unsigned char *relu_mask;  /* one byte per ReLU input element, allocated on first use
                                  (on the GPU for a CUDA executor: NULL here) */
    size_t *relu_mask_off;     /* [nn] offset of each ReLU node's mask */
    fn_arena_pool *pool;       /* the arenas' lender, or NULL (they are the executor's own) */
    /* CUDA executors (device == FN_DEV_CUDA): activations, gradients and every arena live on
     * the GPU (dev: gpu/exec_cuda.h). params, dparams, alpha and dalpha above stay as host
     * mirrors: forward uploads alpha and the input (exec_tensor(e, g->input) is a host
     * buffer) every time and the parameters when params_version moved; it downloads the
     * logits (exec_tensor(e, g->output)); backward downloads d alpha (and d params).
     * exec_tensor / exec_tensor_grad of any other tensor download it into a host mirror at
     * the time of the call (a backward hook reads what its node completed); ReLU modes and
     * backward hooks run as on the CPU (a pass with a hook is never captured). */
    fn_device device;
    int eager;                 /* from fn_exec_opts */
    void *dev;
    void *host_in, *host_out;
    unsigned params_version;   /* bumped by exec_params_changed */
};

/* Plans and allocates. Returns 0, or FN_EXEC_OOM (-1) when memory (host, or GPU for a CUDA
 * executor) cannot be allocated, or FN_EXEC_DEVICE (-2) when a CUDA executor cannot be made
 * (no usable GPU, cuDNN refuses a shape); e is left empty and needs no exec_free, and
 * exec_error says why. */
enum { FN_EXEC_OOM = -1, FN_EXEC_DEVICE = -2 };
int exec_init(fn_exec *e, const fn_graph *g, fn_dtype dtype, int param_grads);
/* The same with options (input gradient, kept activations). */
int exec_init_opts(fn_exec *e, const fn_graph *g, fn_dtype dtype, const fn_exec_opts *o);
void exec_free(fn_exec *e);
/* Why the last exec_init / exec_init_opts of this thread failed ("" after success). */
const char *exec_error(void);
/* Call after writing host parameters (exec_param, e->params) so a CUDA executor uploads
 * them before its next forward; exec_init_params and metric_abs_params call it. */
void exec_params_changed(fn_exec *e);
/* PyTorch-default initialisation from the counter-based RNG (nn/rng.h): parameter p, element i
 * is draw i of stream p under `seed` (METHOD.md §6 item 10). */
void exec_init_params(fn_exec *e, uint64_t seed);
/* alpha = scale * N(0,1), group k from stream FN_STREAM_ALPHA + k. */
void exec_init_alpha(fn_exec *e, uint64_t seed, double scale);
/* Input tensor pointer (float* or double*). */
void *exec_tensor(const fn_exec *e, int t);
void *exec_tensor_grad(const fn_exec *e, int t);
void *exec_param(const fn_exec *e, int p);
void *exec_dparam(const fn_exec *e, int p);
/* Element access in double regardless of dtype. */
double exec_get(const void *base, fn_dtype dt, size_t i);
void exec_set(void *base, fn_dtype dt, size_t i, double v);

/* Switches the ReLU mode (see fn_relu_mode); FROZEN replays the last RECORD forward. */
void exec_set_relu_mode(fn_exec *e, fn_relu_mode m);

void exec_forward(fn_exec *e);
/* Zeroes gradients, seeds d output = dlogits (numel of the output tensor, in the exec dtype)
 * and runs backward; d alpha (and d params if enabled) are left in the arenas. */
void exec_backward(fn_exec *e, const void *dlogits);

#define FN_EXEC_DECL(S)                                     \
    void graph_forward_##S(fn_exec *e);                     \
    void graph_backward_##S(fn_exec *e, const void *dlogits);
FN_EXEC_DECL(f32)
FN_EXEC_DECL(f64)

#ifdef __cplusplus
}
#endif

#endif
