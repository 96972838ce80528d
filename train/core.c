/* train/core.c: one training step and eval-mode forwards, on the CPU or CUDA backend (see
 * train/core.h). */
#include "train/core.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/common.h"
#include "nn/batchnorm2d.h"
#include "nn/cross_entropy.h"

int train_core_init(train_core *c, train_net *net, train_net *tail, fn_dtype dt, uint64_t seed,
                    char *err, size_t errlen) {
    return train_core_init_on(c, net, tail, dt, FN_DEV_CPU, seed, err, errlen);
}

int train_core_init_on(train_core *c, train_net *net, train_net *tail, fn_dtype dt,
                       fn_device dev, uint64_t seed, char *err, size_t errlen) {
    memset(c, 0, sizeof(*c));
    c->dt = dt;
    c->net[0] = net;
    c->net[1] = tail;
    c->nexec = tail ? 2 : 1;
    c->np = net->g.param_numel;
    c->ns = net->g.saved_numel;
    if (tail && (tail->g.param_numel != c->np || tail->g.saved_numel != c->ns ||
                 tail->g.np != net->g.np)) {
        snprintf(err, errlen, "train: the tail-batch network has another parameter layout");
        return -1;
    }
    for (int k = 0; k < c->nexec; k++) {
        fn_exec_opts o = {1, 0, NULL, NULL, dev, 0, 0};
        if (exec_init_opts(&c->e[k], &c->net[k]->g, dt, &o)) {
            snprintf(err, errlen, "train: %s", exec_error());
            for (int j = 0; j < k; j++) exec_free(&c->e[j]);
            return -1;
        }
    }
    exec_init_params(&c->e[0], seed);
    c->w = mallocCheck(sizeof(double) * (c->np + 1));
    c->g = callocCheck(c->np + 1, sizeof(double));
    c->mom = callocCheck(c->np + 1, sizeof(double));
    c->run = callocCheck(c->ns + 1, sizeof(double));
    for (size_t i = 0; i < c->np; i++) c->w[i] = exec_get(c->e[0].params, dt, i);
    const fn_graph *g = &net->g;
    for (int i = 0; i < g->nn; i++)
        if (g->nodes[i].kind == FN_NODE_BN) {
            const int ch = g->t[g->nodes[i].in[0]].c;
            for (int j = 0; j < ch; j++) c->run[g->nodes[i].saved + (size_t)ch + j] = 1.0;
        }
    const size_t no = graph_tensor_numel(g, g->output);
    c->dlog = mallocCheck(sizeof(double) * no);
    c->dlog_dt = mallocCheck(sizeof(double) * no);
    return 0;
}

void train_core_free(train_core *c) {
    for (int k = 0; k < c->nexec; k++) exec_free(&c->e[k]);
    free(c->w); free(c->g); free(c->mom); free(c->run); free(c->dlog); free(c->dlog_dt);
    memset(c, 0, sizeof(*c));
}

fn_exec *train_core_exec(train_core *c, int n) {
    for (int k = 0; k < c->nexec; k++)
        if (c->net[k]->batch == n) return &c->e[k];
    return NULL;
}

void train_core_set_drop(train_core *c, int k, const unsigned char *keep, double p) {
    const train_net *net = c->net[k];
    fn_exec *e = &c->e[k];
    const double inv = 1.0 / (1.0 - p);
    for (int s = 0; s < net->cells * TRAIN_DROP_SLOTS; s++) {
        if (net->drop_off[s] < 0) continue;
        for (int i = 0; i < net->batch; i++) {
            /* DARTS: x.div_(keep_prob).mul_(mask); as one factor (within an ulp) */
            const double v = keep ? (keep[(size_t)s * net->batch + i] ? inv : 0.0) : 1.0;
            exec_set(e->alpha, c->dt, (size_t)net->drop_off[s] + i, v);
        }
    }
}

static void upload(train_core *c, fn_exec *e) {
    for (size_t i = 0; i < c->np; i++) exec_set(e->params, c->dt, i, c->w[i]);
    exec_params_changed(e);
}

/* mean CE of rows [n, ld] at column offset col (k classes); d rows += scale * dCE */
static double xent(const double *out, int n, int ld, int col, int k, const int *labels,
                   double scale, double *d, int *correct) {
    double loss = 0;
    for (int i = 0; i < n; i++) {
        const double *z = out + (size_t)i * ld + col;
        double mx = z[0];
        int am = 0;
        for (int j = 1; j < k; j++)
            if (z[j] > mx) { mx = z[j]; am = j; }
        double s = 0;
        for (int j = 0; j < k; j++) s += exp(z[j] - mx);
        loss += mx + log(s) - z[labels[i]];
        if (correct) *correct += am == labels[i];
        if (d)
            for (int j = 0; j < k; j++)
                d[(size_t)i * ld + col + j] +=
                    scale * (exp(z[j] - mx) / s - (j == labels[i] ? 1.0 : 0.0)) / n;
    }
    return loss / n;
}

static void running_update(train_core *c, const fn_exec *e) {
    const fn_graph *g = e->g;
    for (int i = 0; i < g->nn; i++) {
        const fn_node *nd = &g->nodes[i];
        if (nd->kind != FN_NODE_BN) continue;
        const fn_tensor *t = &g->t[nd->in[0]];
        const double m = (double)t->n * t->h * t->w;
        for (int ch = 0; ch < t->c; ch++) {
            const double mu = exec_get(e->saved, c->dt, nd->saved + ch);
            const double is = exec_get(e->saved, c->dt, nd->saved + t->c + ch);
            double v = 1.0 / (is * is) - FN_BN_EPS; /* the biased batch variance */
            if (v < 0) v = 0;
            const double vu = m > 1 ? v * m / (m - 1) : v;
            double *rm = c->run + nd->saved + ch, *rv = c->run + nd->saved + t->c + ch;
            *rm = 0.1 * mu + 0.9 * *rm;
            *rv = 0.1 * vu + 0.9 * *rv;
        }
    }
}

void train_core_forward_backward(train_core *c, int k, const int *labels, const train_opt *o,
                                 train_step_stats *st) {
    fn_exec *e = &c->e[k];
    const train_net *net = c->net[k];
    const fn_graph *g = e->g;
    const int n = net->batch, ld = g->t[g->output].c, K = net->classes;
    upload(c, e);
    e->bn_mode = FN_BN_TRAIN;
    exec_forward(e);
    const void *out = exec_tensor(e, g->output);
    const size_t no = (size_t)n * ld;
    double *z = mallocCheck(sizeof(double) * no);
    for (size_t i = 0; i < no; i++) z[i] = exec_get(out, c->dt, i);
    memset(c->dlog, 0, sizeof(double) * no);
    memset(st, 0, sizeof(*st));
    st->loss_main = xent(z, n, ld, 0, K, labels, 1.0, c->dlog, &st->correct);
    st->loss = st->loss_main;
    if (net->aux) {
        st->loss_aux = xent(z, n, ld, K, K, labels, o->aux_weight, c->dlog, NULL);
        st->loss = st->loss_main + o->aux_weight * st->loss_aux;
    }
    free(z);
    for (size_t i = 0; i < no; i++) exec_set(c->dlog_dt, c->dt, i, c->dlog[i]);
    running_update(c, e);
    exec_backward(e, c->dlog_dt);
    for (size_t i = 0; i < c->np; i++) c->g[i] = exec_get(e->dparams, c->dt, i);
    double ss = 0;
    for (size_t i = 0; i < c->np; i++) ss += c->g[i] * c->g[i];
    st->grad_norm = sqrt(ss);
}

double train_core_clip(train_core *c, const train_opt *o) {
    double ss = 0;
    for (size_t i = 0; i < c->np; i++) ss += c->g[i] * c->g[i];
    const double norm = sqrt(ss);
    if (o->clip > 0) {
        const double coef = o->clip / (norm + 1e-6);
        if (coef < 1)
            for (size_t i = 0; i < c->np; i++) c->g[i] *= coef;
    }
    return norm;
}

void train_core_sgd(train_core *c, double lr, const train_opt *o) {
    for (size_t i = 0; i < c->np; i++) {
        double d = c->g[i] + o->weight_decay * c->w[i];
        if (o->momentum != 0) {
            c->mom[i] = c->mom_ready ? o->momentum * c->mom[i] + d : d;
            d = o->nesterov ? d + o->momentum * c->mom[i] : c->mom[i];
        }
        c->w[i] -= lr * d;
    }
    c->mom_ready = 1;
}

void train_core_eval(train_core *c, int k, double *logits) {
    fn_exec *e = &c->e[k];
    const train_net *net = c->net[k];
    const fn_graph *g = e->g;
    upload(c, e);
    if (net->drop_off) train_core_set_drop(c, k, NULL, 0);
    for (int i = 0; i < g->nn; i++) {
        const fn_node *nd = &g->nodes[i];
        if (nd->kind != FN_NODE_BN) continue;
        const int ch = g->t[nd->in[0]].c;
        for (int j = 0; j < ch; j++) {
            exec_set(e->saved, c->dt, nd->saved + j, c->run[nd->saved + j]);
            exec_set(e->saved, c->dt, nd->saved + ch + j,
                     1.0 / sqrt(c->run[nd->saved + ch + j] + FN_BN_EPS));
        }
    }
    e->bn_mode = FN_BN_EVAL;
    exec_forward(e);
    e->bn_mode = FN_BN_TRAIN;
    const void *out = exec_tensor(e, g->output);
    const int ld = g->t[g->output].c;
    for (int i = 0; i < net->batch; i++)
        for (int j = 0; j < net->classes; j++)
            logits[(size_t)i * net->classes + j] = exec_get(out, c->dt, (size_t)i * ld + j);
}

/* the BN node whose weight is parameter p, or -1 */
static int bn_of_param(const fn_graph *g, int p) {
    for (int i = 0; i < g->nn; i++)
        if (g->nodes[i].kind == FN_NODE_BN && g->nodes[i].w == p) return i;
    return -1;
}

const double *train_core_running(const train_core *c, int p, int var) {
    const fn_graph *g = &c->net[0]->g;
    const int i = bn_of_param(g, p);
    if (i < 0) return NULL;
    return c->run + g->nodes[i].saved + (var ? (size_t)g->t[g->nodes[i].in[0]].c : 0);
}

int train_core_load(train_core *c, const double *(*get)(void *u, const char *name, size_t n),
                    void *u) {
    const fn_graph *g = &c->net[0]->g;
    int missing = 0;
    for (int p = 0; p < g->np; p++) {
        const double *v = get(u, g->p[p].name, g->p[p].numel);
        if (!v) { missing++; continue; }
        memcpy(c->w + g->p[p].off, v, sizeof(double) * g->p[p].numel);
        const int i = bn_of_param(g, p);
        if (i < 0) continue;
        char base[FN_NAME_LEN + 16], nm[FN_NAME_LEN + 32];
        snprintf(base, sizeof base, "%s", g->p[p].name);
        *strrchr(base, '.') = '\0';
        const size_t ch = (size_t)g->t[g->nodes[i].in[0]].c;
        for (int var = 0; var < 2; var++) {
            snprintf(nm, sizeof nm, "%s.%s", base, var ? "running_var" : "running_mean");
            const double *r = get(u, nm, ch);
            if (!r) { missing++; continue; }
            memcpy(c->run + g->nodes[i].saved + (var ? ch : 0), r, sizeof(double) * ch);
        }
    }
    return missing;
}
