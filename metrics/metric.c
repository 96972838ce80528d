/* metrics/metric.c: the metric registry and helpers shared by the metric implementations. */
#include "metrics/metric.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/common.h"
#include "nn/cross_entropy.h"

static const fn_metric metric_table[] = {
    {"synflow", "|alpha * dR/dalpha|, R = sum of logits of an all-ones input, |params|", 0, 1,
     metric_synflow},
    {"snip", "|alpha * dL/dalpha|, L = cross-entropy on one labelled batch", 1, 64, metric_snip},
    {"grasp", "|alpha * (H g)| (signed with --grasp-signed), H = d2L/dalpha2, g = dL/dalpha (exact HVP)", 1, 64,
     metric_grasp},
};
#define N_METRICS (int)(sizeof metric_table / sizeof metric_table[0])

void metric_opts_default(fn_metric_opts *o) {
    memset(o, 0, sizeof(*o));
    o->synflow_zc = -1;
    o->synflow_abs_alpha = 1;
    o->abs_params = -1;
    o->precision = -1;
    o->grasp_adam_lr = 0.03;
    o->grasp_abs = 1; /* the form that reproduces the paper's Table 2 (docs/FIDELITY.md) */
}

const fn_metric *metric_find(const char *name) {
    for (int i = 0; i < N_METRICS; i++)
        if (strcmp(metric_table[i].name, name) == 0) return &metric_table[i];
    return NULL;
}

const char *metric_names(void) { return "synflow, snip, grasp"; }

fn_dtype metric_dtype(const fn_metric *m, const fn_metric_opts *o) {
    /* GraSP's finite-difference HVP (--grasp-fd) needs a step small enough to stay inside
     * one ReLU activation region, which float32 gradients cannot resolve: float64. The exact
     * product has no step and follows the precision options (float32 by default). */
    if (m->score == metric_grasp && o->grasp_fd_eps > 0) return FN_F64;
    if (o->precision == 32 || o->precision == FN_PRECISION_TF32) return FN_F32;
    if (o->precision == 64) return FN_F64;
    /* SynFlow runs in float64 by default. On the DARTS supernet in FD's form d R / d alpha is
     * exactly zero (zero-mean BN outputs into the head; search/search.c flags it), so float32
     * scores are rounding noise that changes with the GEMM split: a median 49 % per score
     * between 1 and 2 threads, another genotype for 5 of 5 seeds. Float64 at least makes
     * every result identical on any thread count. FD ran float32 (docs/METHOD.md §3.11); --fp32
     * reproduces that. One image makes float64 cheap. SNIP is stable in float32. */
    if (m->score == metric_synflow) return FN_F64;
    return FN_F32;
}

fn_bn_mode metric_bn_mode(const fn_metric *m, const fn_metric_opts *o) {
    return (m->score == metric_synflow && o->synflow_zc > 0) ? FN_BN_OFF : FN_BN_TRAIN;
}

void metric_abs_params(fn_exec *e) {
    const size_t n = e->g->param_numel;
    if (e->dtype == FN_F64) {
        double *p = e->params;
        for (size_t i = 0; i < n; i++) p[i] = fabs(p[i]);
    } else {
        float *p = e->params;
        for (size_t i = 0; i < n; i++) p[i] = fabsf(p[i]);
    }
    exec_params_changed(e);
}

static void copy_dalpha(const fn_exec *e, double *g) {
    for (size_t i = 0; i < e->g->alpha_numel; i++) g[i] = exec_get(e->dalpha, e->dtype, i);
}

/* Mean cross-entropy of logits z [n, k] and its d z (and, with tz, the tangent tdz of d z
 * along tz) in the executor's dtype. A stacked graph's (engine/graph_stack.h) loss is the sum
 * of its models' losses: model m's logits are block m of each row, its labels labels[m n ..
 * (m + 1) n), and each block runs the plain form on its own, so each model gets exactly the
 * d logits (and tangent) of its own search. Returns the loss (the sum over models); per[m]
 * (or NULL) gets model m's. */
static double cross_entropy_models(const fn_exec *e, const void *z, const void *tz,
                                   const int *labels, void *dz, void *tdz, double *per) {
    const fn_graph *gr = e->g;
    const int K = gr->models, n = gr->t[gr->output].n, k = gr->t[gr->output].c / K;
    const size_t es = e->dtype == FN_F64 ? sizeof(double) : sizeof(float), row = es * (size_t)k;
    /* model m's block gathered into [n, k] (the plain graph's layout); K == 1 uses z itself */
    char *bz = K > 1 ? mallocCheck(row * n) : NULL, *btz = K > 1 && tz ? mallocCheck(row * n) : NULL;
    char *bdz = K > 1 ? mallocCheck(row * n) : NULL, *btdz = K > 1 && tz ? mallocCheck(row * n) : NULL;
    double total = 0;
    for (int m = 0; m < K; m++) {
        const char *zm = z, *tzm = tz;
        char *dzm = dz, *tdzm = tdz;
        if (K > 1) {
            for (int i = 0; i < n; i++) {
                memcpy(bz + i * row, (const char *)z + ((size_t)i * K + m) * row, row);
                if (tz) memcpy(btz + i * row, (const char *)tz + ((size_t)i * K + m) * row, row);
            }
            zm = bz, tzm = btz, dzm = bdz, tdzm = btdz;
        }
        const int *lm = labels + (size_t)m * n;
        double l;
        if (e->dtype == FN_F64) {
            l = cross_entropy_forward_f64((const double *)zm, lm, n, k);
            cross_entropy_backward_f64((double *)dzm, (const double *)zm, lm, n, k, 1.0);
            if (tz)
                cross_entropy_backward_tangent_f64((double *)tdzm, (const double *)zm,
                                                   (const double *)tzm, n, k, 1.0);
        } else {
            l = cross_entropy_forward_f32((const float *)zm, lm, n, k);
            cross_entropy_backward_f32((float *)dzm, (const float *)zm, lm, n, k, 1.0);
            if (tz)
                cross_entropy_backward_tangent_f32((float *)tdzm, (const float *)zm,
                                                   (const float *)tzm, n, k, 1.0);
        }
        if (K > 1)
            for (int i = 0; i < n; i++) {
                memcpy((char *)dz + ((size_t)i * K + m) * row, bdz + i * row, row);
                if (tz) memcpy((char *)tdz + ((size_t)i * K + m) * row, btdz + i * row, row);
            }
        if (per) per[m] = l;
        total += l;
    }
    free(bz), free(btz), free(bdz), free(btdz);
    return total;
}

double metric_loss_grad(fn_exec *e, const int *labels, double *g) {
    return metric_loss_grad_models(e, labels, g, NULL);
}

double metric_loss_grad_models(fn_exec *e, const int *labels, double *g, double *value) {
    const fn_graph *gr = e->g;
    const size_t es = e->dtype == FN_F64 ? sizeof(double) : sizeof(float);
    exec_forward(e);
    void *dz = mallocCheck(es * graph_tensor_numel(gr, gr->output));
    const double loss = cross_entropy_models(e, exec_tensor(e, gr->output), NULL, labels, dz,
                                             NULL, value);
    exec_backward(e, dz);
    free(dz);
    copy_dalpha(e, g);
    return loss;
}

int metric_loss_hvp(fn_exec *e, const int *labels, const double *v, double *Hv, double *g,
                    char *err, size_t errlen) {
    const fn_graph *gr = e->g;
    const size_t nz = graph_tensor_numel(gr, gr->output);
    if (exec_hvp_init(e)) {
        snprintf(err, errlen, "Hessian-vector product: %s", exec_error());
        return -1;
    }
    for (size_t i = 0; i < gr->alpha_numel; i++) exec_set(e->talpha, e->dtype, i, v[i]);
    exec_forward_tangent(e);
    const size_t es = e->dtype == FN_F64 ? sizeof(double) : sizeof(float);
    void *dz = mallocCheck(es * nz), *tdz = mallocCheck(es * nz);
    const double loss = cross_entropy_models(e, exec_tensor(e, gr->output),
                                             exec_tangent(e, gr->output), labels, dz, tdz, NULL);
    exec_backward_tangent(e, dz, tdz);
    free(dz);
    free(tdz);
    for (size_t i = 0; i < gr->alpha_numel; i++) Hv[i] = exec_get(e->tdalpha, e->dtype, i);
    if (g) copy_dalpha(e, g);
    if (!isfinite(loss)) {
        snprintf(err, errlen, "loss = %g is not finite", loss);
        return -1;
    }
    return 0;
}

double metric_sum_grad(fn_exec *e, double *g) { return metric_sum_grad_models(e, g, NULL); }

double metric_sum_grad_models(fn_exec *e, double *g, double *value) {
    const fn_graph *gr = e->g;
    const size_t n = graph_tensor_numel(gr, gr->output);
    const int K = gr->models;
    const size_t k = (size_t)gr->t[gr->output].c / (size_t)K; /* logits per model and row */
    exec_forward(e);
    double r = 0;
    if (value)
        for (int m = 0; m < K; m++) value[m] = 0;
    const size_t es = e->dtype == FN_F64 ? sizeof(double) : sizeof(float);
    void *ones = mallocCheck(es * n);
    const void *z = exec_tensor(e, gr->output);
    for (size_t i = 0; i < n; i++) {
        const double zi = exec_get(z, e->dtype, i);
        r += zi;
        if (value && K > 1) value[i / k % (size_t)K] += zi; /* each model's row by row */
        exec_set(ones, e->dtype, i, 1.0);
    }
    if (value && K == 1) value[0] = r;
    exec_backward(e, ones);
    free(ones);
    copy_dalpha(e, g);
    return r;
}
int metric_head_input(const fn_graph *g) {
    const fn_node *lin = NULL, *gap = NULL;
    for (int i = 0; i < g->nn; i++)
        if (g->nodes[i].out == g->output) lin = &g->nodes[i];
    if (!lin || lin->kind != FN_NODE_LINEAR) return -1;
    for (int i = 0; i < g->nn; i++)
        if (g->nodes[i].out == lin->in[0]) gap = &g->nodes[i];
    return gap && gap->kind == FN_NODE_GAP ? gap->in[0] : -1;
}

double metric_head_flow(const fn_exec *e) { return metric_head_flow_model(e, 0); }

double metric_head_flow_model(const fn_exec *e, int model) {
    const fn_graph *g = e->g;
    const int f = metric_head_input(g);
    if (f < 0) return NAN;
    const fn_node *lin = NULL;
    for (int i = 0; i < g->nn; i++)
        if (g->nodes[i].out == g->output) lin = &g->nodes[i];
    const fn_tensor *t = &g->t[f];
    const int K = g->models, C = t->c / K; /* model m: channels [m C, (m + 1) C) */
    const int k = g->t[g->output].c / K, hw = t->h * t->w;
    const void *x = exec_tensor(e, f);
    const void *w = exec_param(e, lin->w); /* model m's [k][C] at m k C */
    double flow = 0;
    for (int c = 0; c < C; c++) {
        double m = 0; /* sum over batch and positions of |f[c]| */
        const size_t ch = (size_t)model * C + c;
        for (int n = 0; n < t->n; n++)
            for (int p = 0; p < hw; p++)
                m += fabs(exec_get(x, e->dtype, ((size_t)n * t->c + ch) * hw + p));
        double wc = 0;
        for (int o = 0; o < k; o++)
            wc += fabs(exec_get(w, e->dtype, ((size_t)model * k + o) * C + c));
        flow += wc * m / hw;
    }
    return flow;
}
