/* proxies/proxy_common.c: the job helpers the proxy files share (see proxies/proxy_impl.h): executor
 * options, scratch buffers, the input, the three kinds of forward/backward pass, sums over
 * conv/linear weights. */
#include <math.h>
#include <string.h>

#include "proxies/proxy_impl.h"
#include "base/common.h"
#include "nn/cross_entropy.h"

void proxy_job_init(fn_proxy_job *j, const fn_graph *g, fn_exec *e, const float *x,
                    const int *y, fn_proxy_scratch *scr) {
    memset(j, 0, sizeof(*j));
    j->g = g;
    j->e = e;
    j->batch = g->input >= 0 ? g->t[g->input].n : 0;
    j->x = x;
    j->y = y;
    j->grasp_eps = 1e-7;
    j->scr = scr;
}

fn_exec_opts proxy_exec_opts(const fn_graph *g, unsigned needs, unsigned char *keep) {
    fn_exec_opts o = {(needs & FN_PX_PARAM_GRADS) != 0, (needs & FN_PX_INPUT_GRAD) != 0, NULL,
                      NULL, FN_DEV_CPU, 0, 0};
    if (needs & (FN_PX_KEEP_CONV_IN | FN_PX_KEEP_CONV_OUT)) {
        memset(keep, 0, (size_t)g->nt);
        for (int i = 0; i < g->nn; i++) {
            const fn_node *nd = &g->nodes[i];
            if (nd->kind != FN_NODE_CONV && nd->kind != FN_NODE_LINEAR) continue;
            if (needs & FN_PX_KEEP_CONV_IN) keep[nd->in[0]] = 1;
            if (needs & FN_PX_KEEP_CONV_OUT) keep[nd->out] = 1;
        }
        o.keep = keep;
    }
    return o;
}

void proxy_scratch_free(fn_proxy_scratch *s) {
    for (int i = 0; i < FN_PX_SLOTS; i++) free(s->p[i]);
    memset(s, 0, sizeof(*s));
}

double *proxy_scratch(fn_proxy_job *j, int slot, size_t n) {
    FN_ASSERT(slot >= 0 && slot < FN_PX_SLOTS && j->scr);
    fn_proxy_scratch *s = j->scr;
    if (n > s->cap[slot]) {
        free(s->p[slot]);
        s->cap[slot] = n + n / 4;
        s->p[slot] = mallocCheck(sizeof(double) * s->cap[slot]);
    }
    return s->p[slot];
}

int proxy_is_weight(const fn_param *p) {
    return p->kind == FN_PARAM_CONV_W || p->kind == FN_PARAM_LINEAR_W;
}

void proxy_to_double(const fn_exec *e, const void *src, size_t n, double *dst) {
    if (e->dtype == FN_F64) {
        memcpy(dst, src, sizeof(double) * n);
    } else {
        const float *s = src;
        for (size_t i = 0; i < n; i++) dst[i] = s[i];
    }
}

void proxy_set_input(fn_proxy_job *j) {
    const fn_exec *e = j->e;
    void *in = exec_tensor(e, j->g->input);
    const size_t n = graph_tensor_numel(j->g, j->g->input);
    if (e->dtype == FN_F64) {
        double *d = in;
        for (size_t i = 0; i < n; i++) d[i] = j->x ? (double)j->x[i] : 1.0;
    } else {
        float *f = in;
        for (size_t i = 0; i < n; i++) f[i] = j->x ? j->x[i] : 1.0f;
    }
}

double proxy_pass(fn_proxy_job *j, fn_px_loss loss) {
    fn_exec *e = j->e;
    const fn_graph *g = j->g;
    const int n = g->t[g->output].n, k = g->t[g->output].c;
    FN_ASSERT(loss == FN_PX_LOSS_SUM || j->y);
    proxy_set_input(j);
    exec_forward(e);
    const void *z = exec_tensor(e, g->output);
    double *dz = proxy_scratch(j, FN_PX_SLOT_TMP, (size_t)n * k);
    double value = 0;
    if (loss == FN_PX_LOSS_CE) {
        double *zd = dz; /* logits in double, then overwritten by d logits */
        proxy_to_double(e, z, (size_t)n * k, zd);
        value = cross_entropy_forward_f64(zd, j->y, n, k);
        cross_entropy_backward_f64(dz, zd, j->y, n, k, 1.0); /* writes after reading each row */
    } else {
        for (int i = 0; i < n; i++)
            for (int c = 0; c < k; c++) {
                const double zv = exec_get(z, e->dtype, (size_t)i * k + c);
                const int on = loss == FN_PX_LOSS_SUM || c == j->y[i];
                value += on ? zv : 0;
                dz[(size_t)i * k + c] = on ? 1.0 : 0.0;
            }
    }
    if (e->dtype == FN_F64) {
        exec_backward(e, dz);
    } else {
        float *df = mallocCheck(sizeof(float) * (size_t)n * k);
        for (size_t i = 0; i < (size_t)n * k; i++) df[i] = (float)dz[i];
        exec_backward(e, df);
        free(df);
    }
    j->ce_valid = loss == FN_PX_LOSS_CE && e->dparams;
    j->ce_loss = value;
    return value;
}

double proxy_ce_grad(fn_proxy_job *j) {
    if (j->ce_valid) return j->ce_loss;
    return proxy_pass(j, FN_PX_LOSS_CE);
}

double proxy_sum_abs_w_dw(const fn_proxy_job *j) {
    const fn_exec *e = j->e;
    const fn_graph *g = j->g;
    double s = 0;
    for (int p = 0; p < g->np; p++) {
        const fn_param *pp = &g->p[p];
        if (!proxy_is_weight(pp)) continue;
        if (e->dtype == FN_F64) {
            const double *w = exec_param(e, p), *dw = exec_dparam(e, p);
            for (size_t i = 0; i < pp->numel; i++) s += fabs(w[i] * dw[i]);
        } else {
            const float *w = exec_param(e, p), *dw = exec_dparam(e, p);
            for (size_t i = 0; i < pp->numel; i++) s += fabs((double)w[i] * dw[i]);
        }
    }
    return s;
}
