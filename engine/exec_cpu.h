/* engine/exec_cpu.h: the CPU backend's passes, compiled once per precision from
 * engine/graph_exec.c (nn/real.h); internal to engine/ (callers use engine/exec.h). */
#ifndef FN_EXEC_CPU_H
#define FN_EXEC_CPU_H

#include "engine/exec.h"

#define FN_EXEC_DECL(S)                                                                  \
    void graph_forward_##S(fn_exec *e);                                                  \
    void graph_backward_##S(fn_exec *e, const void *dlogits);                            \
    /* one node's forward / backward (the passes above loop over them) */                \
    void graph_forward_node_##S(fn_exec *e, int i);                                      \
    void graph_backward_node_##S(fn_exec *e, int i);                                     \
    /* 1 when node i runs in backward (its output's gradient is wanted and written) */   \
    int graph_backward_runs_##S(const fn_exec *e, int i);                                \
    /* zeroes d alpha, d params (when given) and the gradients no node writes in the      \
     * gradient arena `grad` (planned as e->grad), and seeds its output with dlogits */   \
    void graph_backward_start_##S(fn_exec *e, void *grad, void *dalpha, void *dparams,   \
                                  const void *dlogits);                                  \
    /* exact Hessian-vector product passes (engine/graph_hvp.c) */                       \
    void graph_forward_tangent_##S(fn_exec *e);                                          \
    void graph_backward_tangent_##S(fn_exec *e, const void *dlogits, const void *tdlogits);
FN_EXEC_DECL(f32)
FN_EXEC_DECL(f64)

/* Starts a forward pass (graph_forward calls it; so must a caller of graph_forward_node):
 * BN-off passes alias identity BNs when the executor planned it (engine/graph_alias.h), the
 * others run in the plain layout. */
void graph_forward_start(fn_exec *e);
/* 1 when a pass may run parallel sections' chains side by side (engine/graph_chains.h): the
 * executor has sections, no hook may read a node's gradient in the middle, ReLUs run
 * normally, the pass is not inside a parallel region (bundle slots) and has threads. The
 * exact Hessian-vector product's passes run one node after another. */
int exec_chains_ok(const fn_exec *e);

#endif
