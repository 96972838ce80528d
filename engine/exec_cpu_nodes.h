/* engine/exec_cpu_nodes.h: what the CPU backend's node passes share (private to engine/):
 * a tensor's activation / gradient in the executor's arenas, a parameter and its gradient,
 * the conv and pool dimensions of a node, whether a BN node normalises with batch
 * statistics. Included by engine/graph_exec.c (forward, backward) and engine/graph_hvp.c
 * (tangent passes), both compiled once per precision (nn/real.h). */
#ifndef FN_EXEC_CPU_NODES_H
#define FN_EXEC_CPU_NODES_H

#include "engine/exec_cpu.h"
#include "nn/conv2d.h"
#include "nn/pool2d.h"
#include "nn/real.h"
#include "base/common.h"
#include "engine/graph_stack.h"

#define T(id) ((real *)e->act + e->plan.act_off[(id)])
#define G(id) ((real *)e->grad + e->plan.grad_off[(id)])
#define P(id) ((id) >= 0 ? (real *)e->params + g->p[(id)].off : NULL)
#define DP(id) ((id) >= 0 && e->dparams ? (real *)e->dparams + g->p[(id)].off : NULL)
#define NUMEL(id) graph_tensor_numel(g, (id))

static inline conv2d_dims conv_dims(const fn_graph *g, const fn_node *nd) {
    const fn_tensor *in = &g->t[nd->in[0]];
    conv2d_dims d = {in->n, in->c, in->h, in->w, g->t[nd->out].c, nd->k, nd->stride,
                     nd->pad, nd->dil, nd->groups, nd->ho, nd->wo};
    return d;
}

static inline pool2d_dims pool_dims(const fn_graph *g, const fn_node *nd) {
    const fn_tensor *in = &g->t[nd->in[0]];
    pool2d_dims d = {in->n, in->c, in->h, in->w, nd->k, nd->stride, nd->pad, nd->ho, nd->wo};
    return d;
}

/* A stacked graph (engine/graph_stack.h) runs each conv model block by model block, as the
 * plain graph's conv on one sample: the kernel a model's own search runs, on the same data
 * (stacked SynFlow searches give their single searches' bits). No weight gradient: stacked
 * executors have none (exec_init_opts). One model's conv on one sample, and the lengths of a
 * model's block of x, y and the weight: block b = s * models + m of sample s, model m. */
typedef struct {
    conv2d_dims d;
    size_t lx, ly, lw;
    int n, models;
} conv_models;

static inline conv_models conv_models_of(const fn_graph *g, const fn_node *nd) {
    conv_models c = {conv_dims(g, nd), graph_model_block(g, nd->in[0]),
                     graph_model_block(g, nd->out), g->p[nd->w].numel / (size_t)g->models,
                     g->t[nd->in[0]].n, g->models};
    c.d.n = 1, c.d.cin /= c.models, c.d.cout /= c.models, c.d.groups /= c.models;
    return c;
}

static inline void conv_models_forward(const fn_graph *g, const fn_node *nd, real *y,
                                       const real *x, const real *w, real *ws) {
    if (g->models == 1) {
        conv2d_dims d = conv_dims(g, nd);
        FN(conv2d_forward)(y, x, w, &d, ws);
        return;
    }
    const conv_models c = conv_models_of(g, nd);
    for (size_t b = 0; b < (size_t)c.n * c.models; b++)
        FN(conv2d_forward)(y + b * c.ly, x + b * c.lx, w + b % c.models * c.lw, &c.d, ws);
}

static inline void conv_models_backward(const fn_graph *g, const fn_node *nd, real *dx, real *dw,
                                        const real *dy, const real *x, const real *w, real *ws,
                                        int acc) {
    if (g->models == 1) {
        conv2d_dims d = conv_dims(g, nd);
        FN(conv2d_backward)(dx, dw, dy, x, w, &d, ws, acc);
        return;
    }
    FN_ASSERT(!dw);
    if (!dx) return;
    const conv_models c = conv_models_of(g, nd);
    for (size_t b = 0; b < (size_t)c.n * c.models; b++)
        FN(conv2d_backward)(dx + b * c.lx, NULL, dy + b * c.ly, x + b * c.lx,
                            w + b % c.models * c.lw, &c.d, ws, acc);
}

/* A node's model blocks (LINEAR, MIX, CONCAT of a stacked graph: nd->groups; 1 otherwise). */
static inline int node_blocks(const fn_node *nd) { return nd->groups > 1 ? nd->groups : 1; }

/* A mix runs segment by segment: one for a plain graph, else sample s, model m (segment
 * s * models + m) with model m's alpha. The segment's length and its alpha offset. */
static inline size_t mix_segs(const fn_graph *g, const fn_node *nd, size_t *len) {
    const size_t segs = node_blocks(nd) > 1 ? (size_t)g->t[nd->out].n * node_blocks(nd) : 1;
    *len = graph_tensor_numel(g, nd->out) / segs;
    return segs;
}
static inline size_t mix_seg_alpha(const fn_graph *g, const fn_node *nd, size_t s) {
    return node_blocks(nd) > 1 ? (s % (size_t)node_blocks(nd)) * g->model_alpha : 0;
}

static inline int bn_active(const fn_exec *e, const fn_node *nd) {
    return e->bn_mode == FN_BN_TRAIN || nd->zc_keep_bn;
}

#endif
