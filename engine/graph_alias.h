/* engine/graph_alias.h: BN nodes that are the identity share their input's memory (CPU
 * backend).
 *
 * With bn_mode FN_BN_OFF (the zero-cost proxies' SynFlow: BN removed, DARTS and NB-1shot1
 * searches, proxies/proxy.h) a BN node not marked zc_keep_bn is y = x: unaliased, forward
 * copies x into y's slot and backward adds d y into d x. Aliased, y is x's slot (no copy) and,
 * where the BN is x's only use and both need gradients, d x is d y's slot (no add): every
 * value is the same bit for bit. The alias layout needs less activation memory (x lives as
 * long as y did, y has no slot); its gradient layout can come out a little larger than the
 * plain one by the planner's first fit (NB-1shot1 space 3 at batch 1: 315,120 against
 * 262,144 elements, with 1.9 M fewer activation elements), and the arenas are as large as
 * the largest layout needs (exec.h).
 *
 * Whether a pass aliases is decided per forward (graph_forward_start): passes in BN-off mode
 * do, in the layout exec.h keeps for them (FN_LAYOUT_ALIAS); the backward that follows uses
 * the same layout. The exact Hessian-vector product's passes (engine/graph_hvp.c) never
 * alias: their tangents are planned as the plain layout. FREENAS_ALIAS_BN=0 turns aliasing
 * off (A/B runs, tests). */
#ifndef FN_GRAPH_ALIAS_H
#define FN_GRAPH_ALIAS_H

#include "engine/graph.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Per tensor t. */
typedef struct {
    int src;  /* >= 0: t is made by a BN node that BN-off passes skip, from tensor src */
    int grad; /* 1: and d src shares d t's slot (the BN is src's one use) */
} fn_alias;

/* alias[nt] for graph g with the executor's needs_grad; returns how many tensors alias. */
int graph_alias_find(const fn_graph *g, const unsigned char *needs_grad, fn_alias *alias);

/* Run-time switch, read from FREENAS_ALIAS_BN (default on) when an executor is first made;
 * graph_alias_switch: -1 not yet read, 0 off, 1 on (tests and benchmarks may set it before
 * exec_init; each executor keeps what it found). */
extern int graph_alias_switch;
int graph_alias_enabled(void);

#ifdef __cplusplus
}
#endif

#endif
