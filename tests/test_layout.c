/* tests/test_layout.c: layouts against the graph's liveness (see tests/test_layout.h). */
#include "tests/test_layout.h"

#include <stdlib.h>

#include "base/common.h"

/* the tensor whose slot t's activation is (aliases followed back) */
static int act_root(const fn_exec *e, fn_layout k, int t) {
    while (k == FN_LAYOUT_ALIAS && e->alias && e->alias[t].src >= 0) t = e->alias[t].src;
    return t;
}

/* 1 when d a and d b are one slot by aliases (a's chain of alias.grad reaches b, or back) */
static int grad_related(const fn_exec *e, fn_layout k, int a, int b) {
    if (k != FN_LAYOUT_ALIAS || !e->alias) return 0;
    for (int t = a; e->alias[t].grad; t = e->alias[t].src)
        if (e->alias[t].src == b) return 1;
    for (int t = b; e->alias[t].grad; t = e->alias[t].src)
        if (e->alias[t].src == a) return 1;
    return 0;
}

static int overlap(size_t a, size_t na, size_t b, size_t nb) { return a < b + nb && b < a + na; }

/* node i widened to its parallel section: its first (lo) or last (hi) node */
static int widen(const fn_exec *e, int i, int hi) {
    const fn_chains *c = &e->chains;
    if (i < 0 || !c->nsec || c->node_sec[i] < 0) return i;
    return hi ? c->sec_hi[c->node_sec[i]] - 1 : c->sec_lo[c->node_sec[i]];
}

int test_layout_conflicts(const fn_exec *e, fn_layout k) {
    const fn_graph *g = e->g;
    const fn_plan *l = &e->layout[k];
    const int nt = g->nt;
    int *p = malloc(sizeof(int) * (size_t)nt), *u = malloc(sizeof(int) * (size_t)nt);
    for (int t = 0; t < nt; t++) p[t] = u[t] = -1;
    for (int i = 0; i < g->nn; i++) {
        p[g->nodes[i].out] = u[g->nodes[i].out] = i;
        for (int j = 0; j < g->nodes[i].nin; j++) u[g->nodes[i].in[j]] = i;
    }
    int bad = 0;
    for (int a = 0; a < nt; a++) {
        const size_t sa = graph_tensor_numel(g, a);
        bad += l->act_off[a] + sa > e->plan.act_numel;
        if (e->needs_grad[a] && l->grad_first[a] >= 0) bad += l->grad_off[a] + sa > e->plan.grad_numel;
        for (int b = a + 1; b < nt; b++) {
            const size_t sb = graph_tensor_numel(g, b);
            /* forward: [producer, last use], widened to sections */
            if (act_root(e, k, a) != act_root(e, k, b) && widen(e, p[a], 0) <= widen(e, u[b], 1) &&
                widen(e, p[b], 0) <= widen(e, u[a], 1) && overlap(l->act_off[a], sa, l->act_off[b], sb))
                bad++;
            if (!e->needs_grad[a] || !e->needs_grad[b] || l->grad_first[a] < 0 ||
                l->grad_first[b] < 0 ||
                (k == FN_LAYOUT_FOLD && (e->fold[a].bn >= 0 || e->fold[b].bn >= 0)))
                continue;
            /* backward runs nodes from last to first: live on [producer, first writer] */
            const int lo_a = widen(e, p[a] < 0 ? 0 : p[a], 0), lo_b = widen(e, p[b] < 0 ? 0 : p[b], 0);
            const int hi_a = widen(e, l->grad_first[a], 1), hi_b = widen(e, l->grad_first[b], 1);
            if (!grad_related(e, k, a, b) && lo_a <= hi_b && lo_b <= hi_a &&
                overlap(l->grad_off[a], sa, l->grad_off[b], sb))
                bad++;
        }
    }
    free(p);
    free(u);
    return bad;
}
