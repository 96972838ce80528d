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
    if (o->precision == 32) return FN_F32;
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

double metric_loss_grad(fn_exec *e, const int *labels, double *g) {
    const fn_graph *gr = e->g;
    const fn_tensor *o = &gr->t[gr->output];
    const int n = o->n, k = o->c;
    exec_forward(e);
    double loss;
    if (e->dtype == FN_F64) {
        const double *z = exec_tensor(e, gr->output);
        double *dz = mallocCheck(sizeof(double) * n * k);
        loss = cross_entropy_forward_f64(z, labels, n, k);
        cross_entropy_backward_f64(dz, z, labels, n, k, 1.0);
        exec_backward(e, dz);
        free(dz);
    } else {
        const float *z = exec_tensor(e, gr->output);
        float *dz = mallocCheck(sizeof(float) * n * k);
        loss = cross_entropy_forward_f32(z, labels, n, k);
        cross_entropy_backward_f32(dz, z, labels, n, k, 1.0);
        exec_backward(e, dz);
        free(dz);
    }
    copy_dalpha(e, g);
    return loss;
}

int metric_loss_hvp(fn_exec *e, const int *labels, const double *v, double *Hv, double *g,
                    char *err, size_t errlen) {
    const fn_graph *gr = e->g;
    const fn_tensor *o = &gr->t[gr->output];
    const int n = o->n, k = o->c;
    if (exec_hvp_init(e)) {
        snprintf(err, errlen, "Hessian-vector product: %s", exec_error());
        return -1;
    }
    for (size_t i = 0; i < gr->alpha_numel; i++) exec_set(e->talpha, e->dtype, i, v[i]);
    exec_forward_tangent(e);
    const size_t es = e->dtype == FN_F64 ? sizeof(double) : sizeof(float);
    void *dz = mallocCheck(es * (size_t)n * k), *tdz = mallocCheck(es * (size_t)n * k);
    double loss;
    if (e->dtype == FN_F64) {
        const double *z = exec_tensor(e, gr->output), *tz = exec_tangent(e, gr->output);
        loss = cross_entropy_forward_f64(z, labels, n, k);
        cross_entropy_backward_f64(dz, z, labels, n, k, 1.0);
        cross_entropy_backward_tangent_f64(tdz, z, tz, n, k, 1.0);
    } else {
        const float *z = exec_tensor(e, gr->output), *tz = exec_tangent(e, gr->output);
        loss = cross_entropy_forward_f32(z, labels, n, k);
        cross_entropy_backward_f32(dz, z, labels, n, k, 1.0);
        cross_entropy_backward_tangent_f32(tdz, z, tz, n, k, 1.0);
    }
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

double metric_sum_grad(fn_exec *e, double *g) {
    const fn_graph *gr = e->g;
    const size_t n = graph_tensor_numel(gr, gr->output);
    exec_forward(e);
    double r = 0;
    const size_t es = e->dtype == FN_F64 ? sizeof(double) : sizeof(float);
    void *ones = mallocCheck(es * n);
    const void *z = exec_tensor(e, gr->output);
    for (size_t i = 0; i < n; i++) {
        r += exec_get(z, e->dtype, i);
        exec_set(ones, e->dtype, i, 1.0);
    }
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

double metric_head_flow(const fn_exec *e) {
    const fn_graph *g = e->g;
    const int f = metric_head_input(g);
    if (f < 0) return NAN;
    const fn_node *lin = NULL;
    for (int i = 0; i < g->nn; i++)
        if (g->nodes[i].out == g->output) lin = &g->nodes[i];
    const fn_tensor *t = &g->t[f];
    const int k = g->t[g->output].c, hw = t->h * t->w;
    const void *x = exec_tensor(e, f);
    const void *w = exec_param(e, lin->w);
    double flow = 0;
    for (int c = 0; c < t->c; c++) {
        double m = 0; /* sum over batch and positions of |f[c]| */
        for (int n = 0; n < t->n; n++)
            for (int p = 0; p < hw; p++)
                m += fabs(exec_get(x, e->dtype, ((size_t)n * t->c + c) * hw + p));
        double wc = 0;
        for (int o = 0; o < k; o++) wc += fabs(exec_get(w, e->dtype, (size_t)o * t->c + c));
        flow += wc * m / hw;
    }
    return flow;
}
