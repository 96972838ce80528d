/* engine/exec.h: the executor of a graph (engine/graph.h): plans memory once, one arena per
 * role (activations, gradients, parameters, parameter gradients, saved BN statistics,
 * workspace, alpha, d alpha), and runs forward / backward in float32 or float64 on the
 * backend named by fn_exec_opts.device (engine/backend.h). Metric and proxy code call these
 * functions only; which backend runs them is the registry's business. */
#ifndef FN_EXEC_H
#define FN_EXEC_H

#include <stddef.h>
#include <stdint.h>

#include "engine/graph.h"
#include "engine/graph_alias.h"
#include "engine/graph_chains.h"
#include "engine/graph_fold.h"
#include "engine/graph_plan.h"

#ifdef __cplusplus
extern "C" {
#endif

struct fn_backend;

typedef enum { FN_F32 = 0, FN_F64 = 1 } fn_dtype;
/* Where an executor runs: an index into the backend registry (engine/backend.h). CPU is the
 * built-in backend (the nn/ reference ops); CUDA is registered by the programs at start-up
 * (gpu/backend_cuda.h) and loaded the first time an executor asks for it. */
typedef enum { FN_DEV_CPU = 0, FN_DEV_CUDA = 1 } fn_device;

/* BN: TRAIN batch statistics; OFF identity (zero-cost proxies); EVAL the statistics the
 * caller wrote into the saved arena e->saved (mean[c], invstd[c] at each BN node's `saved`
 * offset: running mean and 1/sqrt(running var + eps), PyTorch eval mode; train/core.c).
 * After a TRAIN forward e->saved holds the batch mean and 1/sqrt(biased var + eps), on
 * either backend (a device backend downloads them). Backward in EVAL passes d y through
 * BN unchanged (nothing trains in eval mode). */
typedef enum { FN_BN_TRAIN = 0, FN_BN_OFF = 1, FN_BN_EVAL = 2 } fn_bn_mode;

/* Activation, gradient and parameter arenas lent to executors one after another (a sweep over
 * many networks): exec_init_opts takes them, growing them when too small, and exec_free
 * leaves them here, so each network does not pay fresh pages (page faults and kernel zeroing:
 * a quarter of a batch-128 forward; 15 % of a DARTS 224x224 SynFlow search, whose 25.5 M
 * float64 parameters are 204 MB). Arenas are not zero on loan; no executor relies on it
 * (producers write every activation, backward zeroes each gradient at its first write, and a
 * borrower writes every parameter: exec_init_params, or the proxies' initialisation). */
typedef struct {
    void *act, *grad, *params;
    size_t act_bytes, grad_bytes, params_bytes;
    void *tact, *tgrad; /* the exact Hessian-vector product's tangent arenas (exec_hvp_init) */
    size_t tact_bytes, tgrad_bytes;
} fn_arena_pool;
void arena_pool_free(fn_arena_pool *p);

/* Executor options beyond the defaults of exec_init (used by the per-architecture proxies,
 * proxies/proxy.h). */
typedef struct {
    int param_grads;            /* backward also accumulates d params */
    int input_grad;             /* backward also writes d input: exec_tensor_grad(e, g->input) */
    const unsigned char *keep;  /* [nt] or NULL: activations kept after forward (never reused) */
    fn_arena_pool *pool;        /* NULL, or arenas to borrow (one executor at a time); a
                                   backend whose arenas are not on the host (CUDA: its device
                                   arenas are reused already) ignores it */
    fn_device device;           /* FN_DEV_CPU (0) or FN_DEV_CUDA */
    int eager;                  /* CUDA: never capture passes into CUDA graphs (networks seen
                                   once, as the per-architecture proxies' are) */
    int tf32;                   /* CUDA, float32: let cuDNN and cuBLAS use TF32 tensor-core
                                   math (10-bit mantissa products; off by default: FMA math,
                                   as accurate as the CPU). No effect on the CPU or in float64 */
} fn_exec_opts;

/* ReLU pattern control (GraSP's Hessian-vector product, proxies/proxy_grasp.c): RECORD stores
 * which ReLU inputs are > 0 during forward; FROZEN replays that pattern in forward (out = in
 * where it was on, 0 elsewhere) and backward, which makes the network a smooth function of
 * its weights whose gradient and Hessian are the ones autograd gives (ReLU'' = 0). */
typedef enum { FN_RELU_NORMAL = 0, FN_RELU_RECORD = 1, FN_RELU_FROZEN = 2 } fn_relu_mode;

/* The memory layouts an executor may plan (fn_exec.layout): plain; backward with BN sums
 * folded into mixes (engine/graph_fold.h); BN-off passes with identity BNs aliased
 * (engine/graph_alias.h). Activation offsets of the fold layout are the plain ones. */
typedef enum {
    FN_LAYOUT_PLAIN = 0,
    FN_LAYOUT_FOLD = 1,
    FN_LAYOUT_ALIAS = 2,
    FN_LAYOUTS = 3
} fn_layout;

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
    fn_backward_hook tbwd_hook; /* NULL, or called in exec_backward_tangent after each node's
                                   backward and its tangent (the CPU backend) */
    void *tbwd_hook_user;
    int conv_out_kept;         /* 1: fn_exec_opts.keep held every conv and linear output, so
                                  their activations (and tangents) outlive forward */
    fn_relu_mode relu_mode;    /* set with exec_set_relu_mode */
    unsigned char *relu_mask;  /* one byte per ReLU input element, allocated on first use
                                  by the backend (NULL where it lives on a device) */
    size_t *relu_mask_off;     /* [nn] offset of each ReLU node's mask */
    fn_arena_pool *pool;       /* the arenas' lender, or NULL (they are the executor's own) */
    /* The backend that runs this executor and its state (engine/backend.h). The CPU backend
     * owns act, grad, saved and ws above. A device backend (CUDA, gpu/exec_cuda.h) keeps
     * activations, gradients and every arena in device memory (dev); params, dparams, alpha,
     * dalpha and saved above stay as host mirrors: forward uploads alpha and the input
     * (exec_tensor(e, g->input) is the host buffer host_in) every time, the parameters
     * when params_version moved and, in BN EVAL mode, saved; it downloads the logits
     * (host_out) and, in the other BN modes, saved (the batch statistics); backward
     * downloads d alpha (and d params). exec_tensor / exec_tensor_grad of any other tensor
     * download it into a host mirror at the time of the call (a backward hook reads what
     * its node completed); ReLU modes and backward hooks run as on the CPU. */
    const struct fn_backend *be;
    fn_device device;
    int eager;                 /* from fn_exec_opts */
    int tf32;                  /* from fn_exec_opts, float32 executors only */
    void *dev;                 /* backend state */
    void *host_in, *host_out;  /* device backends: host mirrors of the input and the logits */
    unsigned params_version;   /* bumped by exec_params_changed */
    /* Exact Hessian-vector products (exec_hvp_init): host arenas in the executor's dtype,
     * the direction (talpha [alpha_numel], tparams [param_numel], zero after init) and the
     * result (tdalpha, and tdparams when param_grads). The backend keeps the tangents of
     * activations and gradients (CPU: tact, tgrad, tsaved at the plan's offsets, tws one
     * tensor of scratch). */
    void *talpha, *tparams, *tdalpha, *tdparams;
    void *tact, *tgrad, *tsaved, *tws;
    int hvp_ready;             /* exec_hvp_init succeeded */
    /* Memory layouts of the CPU backend's passes (graph_plan), indexed by fn_layout; a
     * layout not made has act_off NULL. plan above is the current pass's: its offsets are
     * one layout's (exec_use_layout), its act_numel and grad_numel the arenas' sizes, the
     * largest of the layouts. A device backend uses the plain layout only. */
    fn_plan layout[FN_LAYOUTS];
    /* BN gradient sums folded into mixes (engine/graph_fold.h; CPU backend): fold[nt] or
     * NULL, their per-channel sums, and whether the current backward folds (the fold
     * layout). */
    fn_fold *fold;
    double *fold_sums;
    int fold_on;
    /* BN-off identity BNs sharing their input's memory (engine/graph_alias.h; CPU backend):
     * alias[nt] or NULL, and whether the current forward and backward alias (the alias
     * layout). */
    fn_alias *alias;
    int alias_on;
    /* Independent chains a batch-1 pass runs side by side (engine/graph_chains.h; CPU
     * backend): the sections (nsec 0: none) every layout is planned for, whether the current
     * pass runs them so, and the conv workspace: ws_slots of ws_stride elements, one per
     * thread (the threads at exec_init; a pass runs at most as many). */
    fn_chains chains;
    int chains_on;
    int ws_slots;
    size_t ws_stride;
    int tangent_params;        /* set by exec_forward_tangent: tparams is not all zero */
};

/* Plans and allocates. Returns 0, or FN_EXEC_OOM (-1) when memory (host, or device for a
 * device backend) cannot be allocated, or FN_EXEC_DEVICE (-2) when the backend cannot make
 * it (none registered or loadable, no usable GPU, cuDNN refuses a shape); e is left empty
 * and needs no exec_free, and exec_error says why. */
enum { FN_EXEC_OOM = -1, FN_EXEC_DEVICE = -2 };
int exec_init(fn_exec *e, const fn_graph *g, fn_dtype dtype, int param_grads);
/* The same with options (input gradient, kept activations). */
int exec_init_opts(fn_exec *e, const fn_graph *g, fn_dtype dtype, const fn_exec_opts *o);
void exec_free(fn_exec *e);
/* Why the last exec_init / exec_init_opts of this thread failed ("" after success). */
const char *exec_error(void);
/* Call after writing host parameters (exec_param, e->params) so a device backend uploads
 * them before its next forward; exec_init_params and metric_abs_params call it. */
void exec_params_changed(fn_exec *e);
/* PyTorch-default initialisation from the counter-based RNG (nn/rng.h): parameter p, element i
 * is draw i of stream p under `seed` (docs/METHOD.md §6 item 10). */
void exec_init_params(fn_exec *e, uint64_t seed);
/* alpha = scale * N(0,1), group k from stream FN_STREAM_ALPHA + k. */
void exec_init_alpha(fn_exec *e, uint64_t seed, double scale);
/* A stacked graph's (engine/graph_stack.h) forms: model m from seeds[m] (and scales[m]), each
 * model's block exactly what exec_init_params / exec_init_alpha give its own plain graph. A
 * plain graph is one model. */
void exec_init_params_models(fn_exec *e, const uint64_t *seeds);
void exec_init_alpha_models(fn_exec *e, const uint64_t *seeds, const double *scales);
/* Input tensor pointer (float* or double*). */
void *exec_tensor(const fn_exec *e, int t);
void *exec_tensor_grad(const fn_exec *e, int t);
void *exec_param(const fn_exec *e, int p);
void *exec_dparam(const fn_exec *e, int p);
/* Element access in double regardless of dtype. */
double exec_get(const void *base, fn_dtype dt, size_t i);
void exec_set(void *base, fn_dtype dt, size_t i, double v);

/* Points e->plan's offsets at layout k (made for this executor; the backends' passes call
 * it as they start). */
void exec_use_layout(fn_exec *e, fn_layout k);

/* Switches the ReLU mode (see fn_relu_mode); FROZEN replays the last RECORD forward. */
void exec_set_relu_mode(fn_exec *e, fn_relu_mode m);

void exec_forward(fn_exec *e);
/* Zeroes gradients, seeds d output = dlogits (numel of the output tensor, in the exec dtype)
 * and runs backward; d alpha (and d params if enabled) are left in the arenas. */
void exec_backward(fn_exec *e, const void *dlogits);

/* Exact Hessian-vector products, forward-over-reverse (engine/graph_hvp.c on the CPU):
 * H v with H the Hessian of a loss of the logits in (alpha, params) and v = (e->talpha,
 * e->tparams), ReLU masks and max-pool argmax held fixed (as autograd's double backward),
 * train-mode BN differentiated exactly, batch statistics included.
 *   exec_hvp_init(e)            once: allocates the tangent arenas (0, FN_EXEC_OOM, or
 *                               FN_EXEC_DEVICE when the backend has no HVP; exec_error says)
 *   write e->talpha, e->tparams (host, exec dtype; call exec_params_changed after tparams)
 *   exec_forward_tangent(e)     forward with tangents: exec_tensor / exec_tangent of the
 *                               output are the logits z and their tangent tz = (dz/dtheta) v
 *   exec_backward_tangent(e, dz, tdz)  backward seeded with dL/dz and its tangent along v
 *                               ((d2L/dz2) tz, e.g. cross_entropy_backward_tangent): d alpha,
 *                               d params as exec_backward; e->tdalpha, e->tdparams = H v.
 * The HVP costs about two forward/backward passes; memory doubles the activation and
 * gradient arenas. */
int exec_hvp_init(fn_exec *e);
void exec_forward_tangent(fn_exec *e);
void exec_backward_tangent(fn_exec *e, const void *dlogits, const void *tdlogits);
/* Host pointer to the tangent of tensor t's activation after exec_forward_tangent. */
void *exec_tangent(const fn_exec *e, int t);
/* Host pointer to the tangent of tensor t's gradient during or after exec_backward_tangent
 * (while t's gradient lives, e.g. in a tbwd_hook); NULL on a backend without host arenas. */
void *exec_tangent_grad(const fn_exec *e, int t);
/* 1: the backend's arenas are host memory (exec_tangent_grad, tbwd_hook work) */
int exec_tangent_grad_host(const fn_exec *e);

#ifdef __cplusplus
}
#endif

#endif
