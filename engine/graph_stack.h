/* engine/graph_stack.h: K copies of one network as one graph (fn_graph.models, engine/graph.h),
 * so K searches of one supernet shape run in one executor pass: one set of nodes (one kernel
 * launch per node on a device) for K models, each with its own weights, batch-norm statistics,
 * alpha, input, loss and d alpha.
 *
 * Model m's block of every tensor is its channels [m c / K, (m + 1) c / K); a conv of g groups
 * becomes one of K g groups, a linear block diagonal, a mix weighs block m with model m's alpha,
 * a concat joins the inputs' blocks model by model. Parameters keep their names and order; each
 * holds the K models' tensors one after another, so model m's parameter p is draw stream p of its
 * own seed (exec_init_params_models). Nothing couples two models: the loss of a stacked graph is
 * the sum of the models' losses, and its gradient in model m's alpha and weights is model m's
 * alone. Drop-path (scale_n) graphs are not stacked. */
#ifndef FN_GRAPH_STACK_H
#define FN_GRAPH_STACK_H

#include <stddef.h>

#include "engine/graph.h"

#ifdef __cplusplus
extern "C" {
#endif

/* dst <- K copies of the plain graph src (dst is initialised here). 0, or -1 with a message
 * (K < 1, src already stacked, a node that cannot be stacked); dst is then empty. */
int graph_stack(const fn_graph *src, int k, fn_graph *dst, char *err, size_t errlen);

/* Model m's block of tensor t of a stacked graph g: sample s covers elements
 * [(s * models + m) * len, + len) with len = c h w / models. */
static inline size_t graph_model_block(const fn_graph *g, int t) {
    return (size_t)g->t[t].c / (size_t)g->models * g->t[t].h * g->t[t].w;
}

#ifdef __cplusplus
}
#endif

#endif
