/* tests/test_layout.h: an executor's memory layouts checked against its graph, apart from
 * the planner (engine/graph_plan.c): tests/test_alias_bn.c, tests/test_chains.c. */
#ifndef FN_TEST_LAYOUT_H
#define FN_TEST_LAYOUT_H

#include "engine/exec.h"

/* Pairs of tensors that layout k gives overlapping memory while both live. Activation t
 * lives from its producer to its last forward use, gradient t from the backward of its last
 * consumer (which first writes it) to its producer's backward; a parallel section
 * (engine/graph_chains.h) runs its nodes in any order, so a life that starts or ends inside
 * one starts at its first node or ends at its last. Tensors one slot by an alias
 * (engine/graph_alias.h) do not count, nor folded gradients (never written). Also counts
 * tensors that run past their arena. */
int test_layout_conflicts(const fn_exec *e, fn_layout k);

#endif
