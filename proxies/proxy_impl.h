/* proxies/proxy_impl.h: what the proxy implementations (proxies/proxy_<name>.c) share: the job they
 * score (one network, its executor and batch), the passes over it, and scratch buffers.
 * Internal to proxies/ and the tests; callers use proxies/proxy.h.
 *
 * A job can run on any graph with one input and logits as output (the tests use tiny
 * hand-built networks): the proxies read only node kinds and parameter kinds. */
#ifndef FN_PROXY_IMPL_H
#define FN_PROXY_IMPL_H

#include <stddef.h>

#include "engine/exec.h"
#include "proxies/proxy.h"

#define FN_PX_SLOTS 8

/* Grow-only float64 buffers, reused across architectures (owned by a context). */
typedef struct {
    double *p[FN_PX_SLOTS];
    size_t cap[FN_PX_SLOTS];
} fn_proxy_scratch;

struct fn_proxy_job {
    const fn_graph *g;
    fn_exec *e;          /* NULL for the counting proxies */
    int batch;           /* = input tensor n */
    const float *x;      /* [batch, c, h, w] normalised images, or NULL (all ones) */
    const int *y;        /* [batch] labels, or NULL */
    double grasp_eps;    /* relative FD step of GraSP's H g */
    /* pass caches, reset by the driver when parameters or the batch change */
    int ce_valid;        /* dparams hold dL/dW of a CE pass on this batch */
    double ce_loss;
    int theta_valid;     /* theta holds the NTK Gram matrix (proxies/proxy_ntk.c) */
    double *theta;       /* [batch * batch], in scratch slot FN_PX_SLOT_THETA */
    fn_proxy_scratch *scr;
};

/* scratch slots: the Gram matrix survives between proxies; the others are free for use
 * inside one proxy call */
enum { FN_PX_SLOT_THETA = 0, FN_PX_SLOT_TMP = 1 };

/* A job on an initialised executor (parameters set, bn_mode chosen). x / y may be NULL. */
void proxy_job_init(fn_proxy_job *j, const fn_graph *g, fn_exec *e, const float *x,
                    const int *y, fn_proxy_scratch *scr);
/* Executor options for `needs` (FN_PX_*); keep is a caller buffer of g->nt bytes. */
fn_exec_opts proxy_exec_opts(const fn_graph *g, unsigned needs, unsigned char *keep);
void proxy_scratch_free(fn_proxy_scratch *s);
/* Slot `slot` with room for n doubles (contents undefined). */
double *proxy_scratch(fn_proxy_job *j, int slot, size_t n);

/* conv and linear weights: the parameters every ZC score sums over (docs/METHOD.md §3.0) */
int proxy_is_weight(const fn_param *p);

/* The input tensor <- x (or ones when x is NULL). */
void proxy_set_input(fn_proxy_job *j);
typedef enum {
    FN_PX_LOSS_CE,        /* mean cross-entropy of the labels (PyTorch's default) */
    FN_PX_LOSS_SUM,       /* sum of all logits (d logits = 1) */
    FN_PX_LOSS_TRUECLASS, /* sum over samples of the true-class logit (d logits = one-hot) */
} fn_px_loss;
/* Input, forward, the loss, backward (hooks as set on e). Returns the loss. */
double proxy_pass(fn_proxy_job *j, fn_px_loss loss);
/* CE pass, reusing the last one when still valid (snip, grad_norm). Returns the loss. */
double proxy_ce_grad(fn_proxy_job *j);
/* sum over conv/linear weights of |w dw| (snip, synflow) */
double proxy_sum_abs_w_dw(const fn_proxy_job *j);

/* Copies n elements of an executor buffer (float or double) to double. */
void proxy_to_double(const fn_exec *e, const void *src, size_t n, double *dst);

/* The proxies (one file each). */
int proxy_params(fn_proxy_job *j, double *out, char *err, size_t errlen);
int proxy_flops(fn_proxy_job *j, double *out, char *err, size_t errlen);
int proxy_synflow(fn_proxy_job *j, double *out, char *err, size_t errlen);
int proxy_snip(fn_proxy_job *j, double *out, char *err, size_t errlen);
int proxy_grad_norm(fn_proxy_job *j, double *out, char *err, size_t errlen);
int proxy_naswot(fn_proxy_job *j, double *out, char *err, size_t errlen);
int proxy_grasp(fn_proxy_job *j, double *out, char *err, size_t errlen);
int proxy_fisher(fn_proxy_job *j, double *out, char *err, size_t errlen);
int proxy_jacob_cov(fn_proxy_job *j, double *out, char *err, size_t errlen);
int proxy_ntk_trace(fn_proxy_job *j, double *out, char *err, size_t errlen);
int proxy_ntk_cond(fn_proxy_job *j, double *out, char *err, size_t errlen);

/* Pieces exposed for the tests. */
/* GraSP's H g over the conv/linear weights (concatenated in parameter order, n_w values)
 * by a central difference of gradients along g; g is the gradient at the current weights. */
void proxy_grasp_hvp(fn_proxy_job *j, const double *g, double eps_rel, double *Hg);
/* The exact H g over the conv/linear weights (what proxy_grasp uses): 0, or -1 with a
 * message (the backend has no Hessian-vector product). */
int proxy_grasp_hvp_exact(fn_proxy_job *j, const double *g, double *Hg, char *err,
                          size_t errlen);
/* NTK Gram matrix theta[batch*batch] = G G^T of the per-sample gradients (proxies/proxy_ntk.c). */
void proxy_ntk_gram(fn_proxy_job *j, double *theta);
/* NASWOT's K[batch*batch] (proxies/proxy_naswot.c), after a forward pass. */
void proxy_naswot_kernel(const fn_proxy_job *j, double *K);
/* ZC's jacob_cov score of rows J[n, d] (corrcoef, eigenvalues, -sum log(v+k) + 1/(v+k)). */
double proxy_jacob_score(const double *J, int n, size_t d, double *work);

#endif
