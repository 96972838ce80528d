/* engine/graph.c: graph construction and shape inference (see engine/graph.h). Executors are
 * in engine/exec.c, memory planning in engine/graph_plan.c. */
#include "engine/graph.h"

#include <stdint.h>
#include <string.h>

#include "base/common.h"
#include "nn/conv2d.h"
#include "nn/pool2d.h"

void graph_init(fn_graph *g) {
    memset(g, 0, sizeof(*g));
    g->input = g->output = -1;
    g->models = 1;
}

void graph_free(fn_graph *g) {
    free(g->t);
    free(g->p);
    free(g->p_names);
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

static uint64_t name_hash(const char *s) { /* FNV-1a */
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* The slot of `name` in the name set: where it is, or the empty slot where it would go. */
static int name_slot(const fn_graph *g, const char *name) {
    const unsigned mask = (unsigned)g->cap_names - 1;
    unsigned i = (unsigned)name_hash(name) & mask;
    while (g->p_names[i] && strcmp(g->p[g->p_names[i] - 1].name, name)) i = (i + 1) & mask;
    return (int)i;
}

/* Adds parameter `id` (its name written) to the set; fails on a name already there. */
static void name_add(fn_graph *g, int id) {
    if (2 * (g->np + 1) > g->cap_names) { /* keep it at most half full */
        free(g->p_names);
        g->cap_names = g->cap_names ? 2 * g->cap_names : 256;
        g->p_names = callocCheck((size_t)g->cap_names, sizeof(int));
        for (int k = 0; k < id; k++) g->p_names[name_slot(g, g->p[k].name)] = k + 1;
    }
    const int i = name_slot(g, g->p[id].name);
    if (g->p_names[i]) FN_FATAL("graph: parameter %s defined twice", g->p[id].name);
    g->p_names[i] = id + 1;
}

static int new_param(fn_graph *g, const char *prefix, const char *suffix, size_t numel,
                     int fan_in, fn_init init, fn_param_kind kind) {
    GROW(g->p, g->np, g->cap_p);
    fn_param *p = &g->p[g->np];
    int len = snprintf(p->name, FN_NAME_LEN, "%s.%s", prefix, suffix);
    FN_ASSERT(len < FN_NAME_LEN);
    name_add(g, g->np);
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

int graph_conv_bn_bias(fn_graph *g, const char *name, int x, int cout, int k, int stride,
                       int pad, int dil, int groups) {
    const int out = graph_conv(g, name, x, cout, k, stride, pad, dil, groups);
    fn_node *nd = &g->nodes[g->nn - 1];
    nd->b = new_param(g, name, "bias", (size_t)cout, g->p[nd->w].fan_in, FN_INIT_KAIMING_U,
                      FN_PARAM_CONV_B);
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
    return graph_linear_blocks(g, name, x, out_f, 1);
}

int graph_linear_blocks(fn_graph *g, const char *name, int x, int out_f, int blocks) {
    fn_tensor in = g->t[x];
    FN_ASSERT(blocks >= 1 && in.c % blocks == 0 && (blocks == 1 || in.h * in.w == 1));
    int in_f = in.c * in.h * in.w / blocks;
    int w = new_param(g, name, "weight", (size_t)blocks * out_f * in_f, in_f, FN_INIT_KAIMING_U,
                      FN_PARAM_LINEAR_W);
    int b = new_param(g, name, "bias", (size_t)blocks * out_f, in_f, FN_INIT_KAIMING_U,
                      FN_PARAM_LINEAR_B);
    int out = unary(g, FN_NODE_LINEAR, x, blocks * out_f, 1, 1);
    fn_node *nd = &g->nodes[g->nn - 1];
    nd->w = w;
    nd->b = b;
    nd->groups = blocks;
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

int graph_scale_n(fn_graph *g, int x, int alpha_off) {
    FN_ASSERT(alpha_off >= 0 && (size_t)alpha_off + (size_t)g->t[x].n <= g->alpha_numel);
    int out = unary(g, FN_NODE_SCALE_N, x, g->t[x].c, g->t[x].h, g->t[x].w);
    g->nodes[g->nn - 1].off = alpha_off;
    return out;
}

int graph_param_find(const fn_graph *g, const char *name) {
    if (!g->np) return -1;
    return g->p_names[name_slot(g, name)] - 1;
}

void graph_producers(const fn_graph *g, int *producer, int *uses) {
    for (int t = 0; t < g->nt; t++) {
        if (producer) producer[t] = -1;
        if (uses) uses[t] = 0;
    }
    for (int i = 0; i < g->nn; i++) {
        const fn_node *nd = &g->nodes[i];
        if (producer) producer[nd->out] = i;
        for (int j = 0; uses && j < nd->nin; j++) uses[nd->in[j]]++;
    }
}

size_t graph_tensor_numel(const fn_graph *g, int t) {
    return (size_t)g->t[t].n * g->t[t].c * g->t[t].h * g->t[t].w;
}

double graph_node_macs(const fn_graph *g, const fn_node *nd) {
    const fn_tensor *in = &g->t[nd->in[0]], *out = &g->t[nd->out];
    if (nd->kind == FN_NODE_CONV)
        return (double)out->n * out->c * out->h * out->w * (in->c / nd->groups) * nd->k * nd->k;
    if (nd->kind == FN_NODE_LINEAR)
        return (double)out->n * out->c * in->c * in->h * in->w / (nd->groups > 1 ? nd->groups : 1);
    return 0;
}

double graph_macs(const fn_graph *g) {
    double macs = 0;
    for (int i = 0; i < g->nn; i++) macs += graph_node_macs(g, &g->nodes[i]);
    return macs;
}

size_t graph_num_params(const fn_graph *g) { return g->param_numel; }
