/* metrics/metric.h: FreeDARTS operation saliencies on alpha (docs/METHOD.md §3.11) and their registry.
 * A metric is one file plus one row in metric_table (metrics/metric.c), as in zero-cost-nas.
 *
 * A metric runs on an executor whose input tensor the caller has filled (all ones for
 * SynFlow, a normalised labelled batch otherwise) and writes the score matrix S, one value per
 * alpha entry (all alpha groups, in graph order). Larger S = more important; S[none] = 0. */
#ifndef FN_METRIC_H
#define FN_METRIC_H

#include <stddef.h>

#include "engine/exec.h"

typedef struct {
    /* SynFlow */
    int synflow_zc;         /* -1: the space's default (search/space.h: darts, nb1shot1 1,
                               nb201 0); 0: FreeDARTS's literal form, BN in train mode;
                               1: BN removed except in ResNet blocks (ZC form, §3.3) */
    int synflow_signed_alpha; /* with synflow_zc: keep alpha signed (the sign-blocked form of
                               docs/FIDELITY.md, for comparison); default 0: |alpha| */
    int synflow_no_rescale; /* path form: skip the exact per-cell rescaling of the space's cut
                               group (search/space.h; nb1shot1), e.g. to check it */
    int synflow_abs_alpha;  /* |alpha| before scoring: set by search_run from the space and
                               the form (FD form: the space's rule; BN removed: 1 unless
                               synflow_signed_alpha) */
    int precision;          /* -1: the metric's default; 32 or 64 force float32 / float64;
                               FN_PRECISION_TF32 (19): float32 with TF32 tensor-core math on
                               CUDA (fn_exec_opts.tf32; plain float32 on the CPU) */
    /* SNIP / GraSP */
    int abs_params;         /* |params| before scoring (FD's DARTS notebooks); -1: space default */
    /* GraSP */
    double grasp_fd_eps;    /* 0 (default): exact H g; > 0: the float64 finite-difference H g
                               with this step relative to ||alpha|| (--grasp-fd; 1e-6 before) */
    int grasp_adam;         /* FD notebook quirk: one Adam step on alpha before the HVP */
    double grasp_adam_lr;   /* 0.03 (NB201 notebook) */
    int grasp_abs;          /* 1 (default): score |alpha * Hg|; 0: the signed alpha * Hg */
    int grasp_darts_form;   /* FD DARTS notebook: Adam lr 3e-4, |alpha * (H alpha + g)| */
} fn_metric_opts;

#define FN_PRECISION_TF32 19 /* TF32's bits: sign, 8 exponent, 10 mantissa */

void metric_opts_default(fn_metric_opts *o);

typedef struct {
    const char *name;
    const char *summary;
    int needs_labels;   /* uses the labelled batch (else the all-ones input) */
    int default_batch;  /* 1 for SynFlow, 64 for SNIP/GraSP */
    /* Scores into S[alpha_numel]; *value is the scalar the metric differentiates (R or L).
     * Returns 0, or -1 with a message in err (a metric-level failure, e.g. non-finite).
     * On a stacked graph (engine/graph_stack.h) value[m] is model m's, S holds the models'
     * scores one after another, and a non-finite value is left to the caller, model by model
     * (one model's NaN must not fail the others). */
    int (*score)(fn_exec *e, const int *labels, const fn_metric_opts *o, double *S,
                 double *value, char *err, size_t errlen);
} fn_metric;

const fn_metric *metric_find(const char *name);
/* "synflow, snip, grasp" */
const char *metric_names(void);
/* Precision and BN mode the metric's executor must use. */
fn_dtype metric_dtype(const fn_metric *m, const fn_metric_opts *o);
fn_bn_mode metric_bn_mode(const fn_metric *m, const fn_metric_opts *o);

/* Shared helpers for metric implementations. */
/* params <- |params| (SynFlow always; SNIP / GraSP with abs_params). */
void metric_abs_params(fn_exec *e);
/* forward, L = CE(labels), backward; d alpha copied to g (double). Returns L. On a stacked
 * graph (engine/graph_stack.h) L is the sum of the models' losses, model m on its block of the
 * logits with labels[m n .. (m + 1) n): each model's d logits and d alpha are its own search's.
 * So are metric_loss_hvp's and metric_sum_grad's (R of a stacked graph is the models' sum). */
double metric_loss_grad(fn_exec *e, const int *labels, double *g);
/* The same, with value[0 .. models) (or NULL) set from the same pass: each model's own L
 * (value[0] = L on a plain graph). */
double metric_loss_grad_models(fn_exec *e, const int *labels, double *g, double *value);
/* H v, H = d2L/dalpha2 of L = CE(labels) at the current alpha and parameters, exact
 * (the engine's forward-over-reverse product: ReLU masks and max-pool argmax held fixed,
 * train-mode BN differentiated with its batch statistics; engine/exec.h); v, Hv
 * [alpha_numel]; g (or NULL) gets dL/dalpha of the same pass. 0, or -1 with a message (the
 * backend has no HVP, out of memory, a non-finite loss). */
int metric_loss_hvp(fn_exec *e, const int *labels, const double *v, double *Hv, double *g,
                    char *err, size_t errlen);
/* forward, R = sum(logits), backward with d logits = 1; d alpha copied to g. Returns R. */
double metric_sum_grad(fn_exec *e, double *g);
/* The same, with value[0 .. models) (or NULL) set from the same pass: each model's own R, its
 * logits summed row by row (value[0] = R on a plain graph). */
double metric_sum_grad_models(fn_exec *e, double *g, double *value);
/* The head's input: the tensor f of a graph whose logits are linear(global_avg_pool(f)), or
 * -1 for any other head. Keep it (fn_exec_opts.keep) to call metric_head_flow. */
int metric_head_input(const fn_graph *g);
/* R's alpha-dependent part without cancellation, after a forward pass: sum over logits k and
 * channels c of |W[k,c]| * mean over batch and positions of |f[c]| (f = metric_head_input,
 * kept). The scale a SynFlow score is compared with to call it rounding noise: R itself also
 * holds the classifier bias, which no alpha reaches (search/search.c). NAN when the head is
 * not linear(gap(f)). */
double metric_head_flow(const fn_exec *e);
/* The same for model m of a stacked graph (model 0 of a plain graph: metric_head_flow). */
double metric_head_flow_model(const fn_exec *e, int m);

int metric_synflow(fn_exec *e, const int *labels, const fn_metric_opts *o, double *S,
                   double *value, char *err, size_t errlen);
int metric_snip(fn_exec *e, const int *labels, const fn_metric_opts *o, double *S,
                double *value, char *err, size_t errlen);
int metric_grasp(fn_exec *e, const int *labels, const fn_metric_opts *o, double *S,
                 double *value, char *err, size_t errlen);
/* H g in alpha by central finite differences (--grasp-fd; see metric_grasp.c); g at the
 * current alpha. */
void metric_grasp_hvp(fn_exec *e, const int *labels, const double *g, double eps_rel,
                      double *Hg);

#endif
