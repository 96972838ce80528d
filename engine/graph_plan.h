/* engine/graph_plan.h: memory planning for an executor (plan, then allocate
 * once). Activations and gradients get arena offsets by liveness, so buffers whose lifetimes
 * do not overlap share memory.
 *
 * What backward needs kept ("saved") follows the op rules of engine/graph_exec.c:
 *   conv, linear: input only when parameter gradients are wanted (dx needs only the weights);
 *   BN: input when affine, else its output (x_hat); ReLU and max pool: input;
 *   mix: the inputs that carry an alpha (d alpha = <dout, input>); avg/global pool, concat,
 *   subsample: nothing. The graph input and output are always kept.
 * Everything else lives from its producer to its last forward consumer.
 * A gradient lives from its last consumer's backward (where it is zeroed) to its
 * producer's backward. */
#ifndef FN_GRAPH_PLAN_H
#define FN_GRAPH_PLAN_H

#include <stddef.h>

#include "engine/graph.h"
#include "engine/graph_alias.h"
#include "engine/graph_chains.h"
#include "engine/graph_fold.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Memory plan of an executor, made by graph_plan. */
typedef struct {
    size_t *act_off;     /* [nt] element offset of each activation */
    size_t *grad_off;    /* [nt] element offset of each gradient (where needs_grad) */
    int *grad_first;     /* [nt] node whose backward first writes the gradient (zeroes it) */
    size_t act_numel, grad_numel;
} fn_plan;

/* needs_grad[nt] as computed by exec_init; keep[nt] (or NULL) marks activations that must
 * outlive forward (fn_exec_opts.keep). fold[nt] (or NULL) plans the passes that fold BN sums
 * into mixes (engine/graph_fold.h): the folded BN outputs get no gradient slot (grad_off 0,
 * never used), and each such mix's output gradient lives until the last of its folded BNs'
 * backward. alias[nt] (or NULL) plans BN-off passes (engine/graph_alias.h): an aliased
 * tensor gets its source's slot (kept until the last use of either) and, where alias.grad,
 * the source's gradient gets the tensor's gradient slot. At most one of fold, alias.
 * chains (or NULL) plans for passes that run parallel sections' chains side by side
 * (engine/graph_chains.h): nothing a section frees, forward or backward, is reused before
 * the section ends, so its chains never share memory (valid for sequential passes too). The
 * graph input is at offset 0 in every layout. */
void graph_plan(const fn_graph *g, const unsigned char *needs_grad, int param_grads,
                const unsigned char *keep, const fn_fold *fold, const fn_alias *alias,
                const fn_chains *chains, fn_plan *p);
void graph_plan_free(fn_plan *p);

#ifdef __cplusplus
}
#endif

#endif
