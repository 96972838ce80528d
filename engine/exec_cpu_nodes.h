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

static inline int bn_active(const fn_exec *e, const fn_node *nd) {
    return e->bn_mode == FN_BN_TRAIN || nd->zc_keep_bn;
}

#endif
