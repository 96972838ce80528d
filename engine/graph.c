/* engine/graph.c: graph construction, shape inference, memory planning and initialisation
 * (see engine/graph.h). Execution is in engine/graph_exec.c. */
#include "engine/graph.h"

#include "engine/graph_plan.h"
#include "gpu/exec_cuda.h"

#include <math.h>
#include <string.h>

#include "base/common.h"
#include "nn/conv2d.h"
#include "nn/pool2d.h"
#include "nn/rng.h"

void graph_init(fn_graph *g) { memset(g, 0, sizeof(*g)); g->input = g->output = -1; }

void graph_free(fn_graph *g) {
    free(g->t);
    free(g->p);
    free(g->nodes);
    memset(g, 0, sizeof(*g));
}

#define GROW(arr, n, cap)                                                            \
    do {                                                                             \
        if ((n) == (cap)) {                                                          \
            (cap) = (cap) ? 2 * (cap) : 64;                                          \
            (arr) = realloc((arr), sizeof(*(arr)) * (size_t)(cap));                  \
            if (!(arr)) FN_FATAL("out of memory growing graph");                     \
        }                                                                            \
    } while (0)

static int new_tensor(fn_graph *g, int n, int c, int h, int w) {
    FN_ASSERT(n > 0 && c > 0 && h > 0 && w > 0);
    GROW(g->t, g->nt, g->cap_t);
    fn_tensor *t = &g->t[g->nt];
    t->n = n; t->c = c; t->h = h; t->w = w;
    g->act_numel += (size_t)n * c * h * w;
    return g->nt++;
}

static int new_param(fn_graph *g, const char *prefix, const char *suffix, size_t numel,
                     int fan_in, fn_init init, fn_param_kind kind) {
    GROW(g->p, g->np, g->cap_p);
    fn_param *p = &g->p[g->np];
    int len = snprintf(p->name, FN_NAME_LEN, "%s.%s", prefix, suffix);
    FN_ASSERT(len < FN_NAME_LEN);
    FN_ASSERT(graph_param_find(g, p->name) < 0);
    p->off = g->param_numel;
    p->numel = numel;
    p->fan_in = fan_in;
    p->init = init;
    p->kind = kind;
    g->param_numel += numel;
    return g->np++;
}

static fn_node *new_node(fn_graph *g, fn_node_kind kind, int x) {
    GROW(g->nodes, g->nn, g->cap_n);
    fn_node *nd = &g->nodes[g->nn++];
    memset(nd, 0, sizeof(*nd));
    nd->kind = kind;
    nd->w = nd->b = -1;
    nd->nin = 1;
    nd->in[0] = x;
    nd->aidx[0] = -1;
    return nd;
}

int graph_input(fn_graph *g, int n, int c, int h, int w) {
    g->input = new_tensor(g, n, c, h, w);
    return g->input;
}

int graph_alpha_group(fn_graph *g, const char *name, int rows, int cols) {
    FN_ASSERT(g->nag < FN_MAX_ALPHA_GROUPS);
    fn_alpha_group *a = &g->ag[g->nag++];
    snprintf(a->name, FN_NAME_LEN, "%s", name);
    a->rows = rows;
    a->cols = cols;
    a->off = g->alpha_numel;
    g->alpha_numel += (size_t)rows * cols;
    return (int)a->off;
}

static void need_ws(fn_graph *g, size_t n) {
    if (n > g->ws_numel) g->ws_numel = n;
}

int graph_conv(fn_graph *g, const char *name, int x, int cout, int k, int stride, int pad,
               int dil, int groups) {
    fn_tensor in = g->t[x];
    conv2d_dims d = {in.n, in.c, in.h, in.w, cout, k, stride, pad, dil, groups, 0, 0};
    if (conv2d_dims_init(&d)) FN_FATAL("bad conv shape for %s", name);
    int w = new_param(g, name, "weight", (size_t)cout * (in.c / groups) * k * k,
                      (in.c / groups) * k * k, FN_INIT_KAIMING_U, FN_PARAM_CONV_W);
    int out = new_tensor(g, in.n, cout, d.ho, d.wo);
    fn_node *nd = new_node(g, FN_NODE_CONV, x);
    nd->out = out; nd->w = w; nd->k = k; nd->stride = stride; nd->pad = pad; nd->dil = dil;
    nd->groups = groups; nd->ho = d.ho; nd->wo = d.wo;
    need_ws(g, conv2d_workspace(&d));
    return out;
}

int graph_bn(fn_graph *g, const char *name, int x, int affine) {
    fn_tensor in = g->t[x];
    int out = new_tensor(g, in.n, in.c, in.h, in.w);
    fn_node *nd = new_node(g, FN_NODE_BN, x);
    nd->out = out;
    if (affine) {
        nd->w = new_param(g, name, "weight", in.c, 0, FN_INIT_ONE, FN_PARAM_BN_W);
        nd->b = new_param(g, name, "bias", in.c, 0, FN_INIT_ZERO, FN_PARAM_BN_B);
    }
    nd->saved = g->saved_numel;
    g->saved_numel += 2 * (size_t)in.c;
    return out;
}

static int unary(fn_graph *g, fn_node_kind kind, int x, int c, int h, int w) {
    int out = new_tensor(g, g->t[x].n, c, h, w);
    fn_node *nd = new_node(g, kind, x);
    nd->out = out;
    return out;
}

int graph_relu(fn_graph *g, int x) {
    fn_tensor in = g->t[x];
    return unary(g, FN_NODE_RELU, x, in.c, in.h, in.w);
}

static int pool(fn_graph *g, fn_node_kind kind, int x, int k, int stride, int pad) {
    fn_tensor in = g->t[x];
    pool2d_dims d = {in.n, in.c, in.h, in.w, k, stride, pad, 0, 0};
    if (pool2d_dims_init(&d)) FN_FATAL("bad pool shape");
    int out = unary(g, kind, x, in.c, d.ho, d.wo);
    fn_node *nd = &g->nodes[g->nn - 1];
    nd->k = k; nd->stride = stride; nd->pad = pad; nd->ho = d.ho; nd->wo = d.wo;
    return out;
}

int graph_avgpool(fn_graph *g, int x, int k, int stride, int pad) {
    return pool(g, FN_NODE_AVGPOOL, x, k, stride, pad);
}

int graph_maxpool(fn_graph *g, int x, int k, int stride, int pad) {
    return pool(g, FN_NODE_MAXPOOL, x, k, stride, pad);
}

int graph_gap(fn_graph *g, int x) { return unary(g, FN_NODE_GAP, x, g->t[x].c, 1, 1); }

int graph_linear(fn_graph *g, const char *name, int x, int out_f) {
    fn_tensor in = g->t[x];
    int in_f = in.c * in.h * in.w;
    int w = new_param(g, name, "weight", (size_t)out_f * in_f, in_f, FN_INIT_KAIMING_U,
                      FN_PARAM_LINEAR_W);
    int b = new_param(g, name, "bias", out_f, in_f, FN_INIT_KAIMING_U, FN_PARAM_LINEAR_B);
    int out = unary(g, FN_NODE_LINEAR, x, out_f, 1, 1);
    fn_node *nd = &g->nodes[g->nn - 1];
    nd->w = w;
    nd->b = b;
    return out;
}

int graph_mix(fn_graph *g, const int *xs, const int *aidx, int k) {
    FN_ASSERT(k >= 1 && k <= FN_MAX_IN);
    fn_tensor t0 = g->t[xs[0]];
    for (int i = 1; i < k; i++) {
        fn_tensor ti = g->t[xs[i]];
        FN_ASSERT(ti.n == t0.n && ti.c == t0.c && ti.h == t0.h && ti.w == t0.w);
    }
    for (int i = 0; i < k; i++) FN_ASSERT(aidx[i] < (int)g->alpha_numel);
    int out = unary(g, FN_NODE_MIX, xs[0], t0.c, t0.h, t0.w);
    fn_node *nd = &g->nodes[g->nn - 1];
    nd->nin = k;
    memcpy(nd->in, xs, sizeof(int) * k);
    memcpy(nd->aidx, aidx, sizeof(int) * k);
    return out;
}

int graph_concat(fn_graph *g, const int *xs, int k) {
    FN_ASSERT(k >= 1 && k <= FN_MAX_IN);
    int c = 0;
    for (int i = 0; i < k; i++) {
        FN_ASSERT(g->t[xs[i]].h == g->t[xs[0]].h && g->t[xs[i]].w == g->t[xs[0]].w);
        c += g->t[xs[i]].c;
    }
    int out = unary(g, FN_NODE_CONCAT, xs[0], c, g->t[xs[0]].h, g->t[xs[0]].w);
    fn_node *nd = &g->nodes[g->nn - 1];
    nd->nin = k;
    for (int i = 0; i < k; i++) { nd->in[i] = xs[i]; nd->aidx[i] = -1; }
    return out;
}

int graph_subsample(fn_graph *g, int x, int off, int stride, int ho, int wo) {
    int out = unary(g, FN_NODE_SUBSAMPLE, x, g->t[x].c, ho, wo);
    fn_node *nd = &g->nodes[g->nn - 1];
    nd->off = off; nd->stride = stride; nd->ho = ho; nd->wo = wo;
    return out;
}

int graph_zero(fn_graph *g, int x) {
    int out = unary(g, FN_NODE_ZERO, x, g->t[x].c, g->t[x].h, g->t[x].w);
    g->nodes[g->nn - 1].nin = 0; /* in[0] only gives the shape; nothing is read */
    return out;
}

int graph_param_find(const fn_graph *g, const char *name) {
    for (int i = 0; i < g->np; i++)
        if (strcmp(g->p[i].name, name) == 0) return i;
    return -1;
}

size_t graph_tensor_numel(const fn_graph *g, int t) {
    return (size_t)g->t[t].n * g->t[t].c * g->t[t].h * g->t[t].w;
}

double graph_macs(const fn_graph *g) {
    double macs = 0;
    for (int i = 0; i < g->nn; i++) {
        const fn_node *nd = &g->nodes[i];
        const fn_tensor *in = &g->t[nd->in[0]], *out = &g->t[nd->out];
        if (nd->kind == FN_NODE_CONV)
            macs += (double)out->n * out->c * out->h * out->w * (in->c / nd->groups) * nd->k * nd->k;
        else if (nd->kind == FN_NODE_LINEAR)
            macs += (double)out->n * out->c * in->c * in->h * in->w;
    }
    return macs;
}

size_t graph_num_params(const fn_graph *g) { return g->param_numel; }

/* ------------------------------------------------------------------ executor ---------- */

static size_t esize(fn_dtype dt) { return dt == FN_F64 ? sizeof(double) : sizeof(float); }

void arena_pool_free(fn_arena_pool *p) {
    fn_arena_free(p->act, p->act_bytes);
    fn_arena_free(p->grad, p->grad_bytes);
    memset(p, 0, sizeof(*p));
}

/* *buf with at least `bytes`, from the pool (grown when too small) */
static void *pool_take(void **buf, size_t *cap, size_t bytes) {
    if (*cap < bytes || !*buf) {
        fn_arena_free(*buf, *cap);
        *buf = fn_arena_alloc(bytes);
        *cap = *buf ? bytes : 0;
    }
    return *buf;
}

int exec_init(fn_exec *e, const fn_graph *g, fn_dtype dtype, int param_grads) {
    fn_exec_opts o = {param_grads, 0, NULL, NULL, FN_DEV_CPU, 0};
    return exec_init_opts(e, g, dtype, &o);
}

static _Thread_local char exec_err[FN_ERRLEN];
const char *exec_error(void) { return exec_err; }

void exec_params_changed(fn_exec *e) { e->params_version++; }

int exec_init_opts(fn_exec *e, const fn_graph *g, fn_dtype dtype, const fn_exec_opts *o) {
    const int param_grads = o->param_grads;
    const int on_gpu = o->device == FN_DEV_CUDA; /* activations, BN statistics, workspace there */
    memset(e, 0, sizeof(*e));
    exec_err[0] = '\0';
    e->device = o->device;
    if (on_gpu && o->pool) {
        snprintf(exec_err, sizeof exec_err, "the CUDA executor takes no host arena pool (its "
                 "device arenas are reused already)");
        return FN_EXEC_DEVICE;
    }
    e->eager = o->eager;
    e->g = g;
    e->dtype = dtype;
    e->param_grads = param_grads;
    e->bn_mode = FN_BN_TRAIN;
    e->needs_grad = callocCheck((size_t)g->nt, 1);
    if (o->input_grad) e->needs_grad[g->input] = 1;
    /* A tensor needs a gradient when it depends on alpha, on the input when its gradient is
     * wanted, or on a parameter whose gradient is wanted. Nodes are in topological order, so
     * one pass suffices. */
    for (int i = 0; i < g->nn; i++) {
        const fn_node *nd = &g->nodes[i];
        int need = param_grads && (nd->w >= 0 || nd->b >= 0);
        for (int j = 0; j < nd->nin; j++) need |= e->needs_grad[nd->in[j]] || nd->aidx[j] >= 0;
        e->needs_grad[nd->out] = (unsigned char)need;
    }
    /* ... and reaches the output: a tensor nothing consumes (an NB201 node left only through
     * `none` edges, nasbench/nb201_net.c) and everything feeding only it get no gradient, as
     * PyTorch's zero gradient through x.mul(0); their parameters keep d params = 0 */
    unsigned char *live = callocCheck((size_t)g->nt, 1);
    live[g->output] = 1;
    for (int i = g->nn - 1; i >= 0; i--) {
        const fn_node *nd = &g->nodes[i];
        if (live[nd->out])
            for (int j = 0; j < nd->nin; j++) live[nd->in[j]] = 1;
    }
    for (int t = 0; t < g->nt; t++) e->needs_grad[t] &= live[t];
    if (o->input_grad) e->needs_grad[g->input] = 1; /* asked for: exactly 0 when not live */
    free(live);
    graph_plan(g, e->needs_grad, param_grads, o->keep, &e->plan);
    const fn_plan p = e->plan;
    const size_t es = esize(dtype);
    /* One allocation per role (STYLE.md item 9). Any failure returns -1 with e->bytes set to
     * what was asked for: a job too large for this machine is an out-of-memory result, never
     * an abort of the process (a sweep rank runs many jobs). */
    const size_t bytes = es * (p.act_numel + p.grad_numel + (param_grads ? 2 : 1) * g->param_numel +
                               g->saved_numel + g->ws_numel + 2 * g->alpha_numel);
    e->pool = o->pool;
    if (on_gpu) { /* host mirrors of the input and the logits */
        e->host_in = calloc(graph_tensor_numel(g, g->input), es);
        e->host_out = calloc(graph_tensor_numel(g, g->output), es);
    } else if (o->pool) {
        e->act = pool_take(&o->pool->act, &o->pool->act_bytes, es * p.act_numel);
        e->grad = pool_take(&o->pool->grad, &o->pool->grad_bytes, es * p.grad_numel);
    } else {
        e->act = fn_arena_alloc(es * p.act_numel);
        e->grad = fn_arena_alloc(es * p.grad_numel);
    }
    e->params = calloc(g->param_numel + 1, es);
    e->dparams = param_grads ? calloc(g->param_numel + 1, es) : NULL;
    e->saved = calloc(on_gpu ? 1 : g->saved_numel + 1, es);
    e->ws = calloc(on_gpu ? 1 : g->ws_numel + 1, es);
    e->alpha = calloc(g->alpha_numel + 1, es);
    e->dalpha = calloc(g->alpha_numel + 1, es);
    const int host_ok = on_gpu ? e->host_in && e->host_out : e->act && e->grad;
    if (!host_ok || !e->params || (param_grads && !e->dparams) || !e->saved || !e->ws ||
        !e->alpha || !e->dalpha) {
        exec_free(e);
        e->bytes = bytes;
        snprintf(exec_err, sizeof exec_err, "out of memory: the executor needs %.2f GiB "
                 "(activations, gradients, parameters)", (double)bytes / (1u << 30));
        return FN_EXEC_OOM;
    }
    e->bytes = bytes;
    const int rc = on_gpu ? gpu_exec_init(e, exec_err, sizeof exec_err) : 0;
    if (rc) {
        exec_free(e);
        e->bytes = bytes;
        return rc;
    }
    return 0;
}

void exec_free(fn_exec *e) {
    const size_t es = esize(e->dtype);
    if (e->dev) gpu_exec_free(e);
    free(e->host_in);
    free(e->host_out);
    if (!e->pool) { /* borrowed arenas stay with their pool */
        fn_arena_free(e->act, es * e->plan.act_numel);
        fn_arena_free(e->grad, es * e->plan.grad_numel);
    }
    free(e->params); free(e->dparams); free(e->saved);
    free(e->ws); free(e->alpha); free(e->dalpha); free(e->needs_grad);
    free(e->relu_mask); free(e->relu_mask_off);
    graph_plan_free(&e->plan);
    memset(e, 0, sizeof(*e));
}

double exec_get(const void *base, fn_dtype dt, size_t i) {
    return dt == FN_F64 ? ((const double *)base)[i] : (double)((const float *)base)[i];
}

void exec_set(void *base, fn_dtype dt, size_t i, double v) {
    if (dt == FN_F64) ((double *)base)[i] = v;
    else ((float *)base)[i] = (float)v;
}

void *exec_tensor(const fn_exec *e, int t) {
    if (e->device == FN_DEV_CUDA) {
        if (t == e->g->input) return e->host_in;
        if (t == e->g->output) return e->host_out;
        return gpu_exec_tensor(e, t, 0);
    }
    return (char *)e->act + esize(e->dtype) * e->plan.act_off[t];
}
void *exec_tensor_grad(const fn_exec *e, int t) {
    if (e->device == FN_DEV_CUDA) return gpu_exec_tensor(e, t, 1);
    return (char *)e->grad + esize(e->dtype) * e->plan.grad_off[t];
}
void *exec_param(const fn_exec *e, int p) {
    return (char *)e->params + esize(e->dtype) * e->g->p[p].off;
}
void *exec_dparam(const fn_exec *e, int p) {
    return e->dparams ? (char *)e->dparams + esize(e->dtype) * e->g->p[p].off : NULL;
}

void exec_init_params(fn_exec *e, uint64_t seed) {
    const fn_graph *g = e->g;
    for (int p = 0; p < g->np; p++) {
        const fn_param *pp = &g->p[p];
        const double bound = pp->fan_in > 0 ? 1.0 / sqrt((double)pp->fan_in) : 0;
        /* counter-based: any split of the elements over threads gives the same values */
#pragma omp parallel for schedule(static) if (pp->numel > 16384)
        for (size_t i = 0; i < pp->numel; i++) {
            double v = pp->init == FN_INIT_ONE    ? 1.0
                       : pp->init == FN_INIT_ZERO ? 0.0
                       : bound * (2.0 * fn_rng_uniform(seed, (uint32_t)p, i) - 1.0);
            exec_set(e->params, e->dtype, pp->off + i, v);
        }
    }
    exec_params_changed(e);
}

void exec_init_alpha(fn_exec *e, uint64_t seed, double scale) {
    for (int k = 0; k < e->g->nag; k++) {
        const fn_alpha_group *a = &e->g->ag[k];
        for (size_t i = 0; i < (size_t)a->rows * a->cols; i++)
            exec_set(e->alpha, e->dtype, a->off + i,
                     scale * fn_rng_normal(seed, FN_STREAM_ALPHA + (uint32_t)k, i));
    }
}

void exec_set_relu_mode(fn_exec *e, fn_relu_mode m) {
    const fn_graph *g = e->g;
    if (m != FN_RELU_NORMAL && !e->relu_mask_off) {
        e->relu_mask_off = callocCheck((size_t)g->nn, sizeof(size_t));
        size_t n = 0;
        for (int i = 0; i < g->nn; i++)
            if (g->nodes[i].kind == FN_NODE_RELU) {
                e->relu_mask_off[i] = n;
                n += graph_tensor_numel(g, g->nodes[i].in[0]);
            }
        if (e->device == FN_DEV_CUDA) gpu_exec_relu_mask(e, n + 1); /* the mask lives there */
        else e->relu_mask = callocCheck(n + 1, 1);
    }
    e->relu_mode = m;
}

void exec_forward(fn_exec *e) {
    if (e->device == FN_DEV_CUDA) gpu_exec_forward(e);
    else if (e->dtype == FN_F64) graph_forward_f64(e);
    else graph_forward_f32(e);
}

void exec_backward(fn_exec *e, const void *dlogits) {
    if (e->device == FN_DEV_CUDA) gpu_exec_backward(e, dlogits);
    else if (e->dtype == FN_F64) graph_backward_f64(e, dlogits);
    else graph_backward_f32(e, dlogits);
}
