/* engine/graph_plan.c: liveness-based memory planning (see engine/graph_plan.h). A first-fit
 * allocator over a sorted free list with coalescing; blocks are aligned to 16 elements. */
#include "engine/graph_plan.h"

#include <string.h>

#include "base/common.h"

#define ALIGN 16
#define NEVER (1 << 30)

typedef struct { size_t off, size; } block;
typedef struct { block *free; int n, cap; size_t top; } arena;

static size_t align_up(size_t n) { return (n + ALIGN - 1) / ALIGN * ALIGN; }

static size_t arena_alloc(arena *a, size_t size) {
    size = align_up(size ? size : 1);
    for (int i = 0; i < a->n; i++)
        if (a->free[i].size >= size) {
            size_t off = a->free[i].off;
            a->free[i].off += size;
            a->free[i].size -= size;
            if (a->free[i].size == 0) {
                memmove(&a->free[i], &a->free[i + 1], sizeof(block) * (size_t)(a->n - i - 1));
                a->n--;
            }
            return off;
        }
    /* extend the top, merging a free block that ends there */
    if (a->n && a->free[a->n - 1].off + a->free[a->n - 1].size == a->top) {
        size_t off = a->free[a->n - 1].off;
        a->n--;
        a->top = off + size;
        return off;
    }
    size_t off = a->top;
    a->top += size;
    return off;
}

static void arena_release(arena *a, size_t off, size_t size) {
    size = align_up(size ? size : 1);
    if (a->n == a->cap) {
        a->cap = a->cap ? 2 * a->cap : 64;
        a->free = realloc(a->free, sizeof(block) * (size_t)a->cap);
        if (!a->free) FN_FATAL("out of memory in the memory planner");
    }
    int i = 0;
    while (i < a->n && a->free[i].off < off) i++;
    memmove(&a->free[i + 1], &a->free[i], sizeof(block) * (size_t)(a->n - i));
    a->free[i].off = off;
    a->free[i].size = size;
    a->n++;
    if (i + 1 < a->n && a->free[i].off + a->free[i].size == a->free[i + 1].off) {
        a->free[i].size += a->free[i + 1].size;
        memmove(&a->free[i + 1], &a->free[i + 2], sizeof(block) * (size_t)(a->n - i - 2));
        a->n--;
    }
    if (i > 0 && a->free[i - 1].off + a->free[i - 1].size == a->free[i].off) {
        a->free[i - 1].size += a->free[i].size;
        memmove(&a->free[i], &a->free[i + 1], sizeof(block) * (size_t)(a->n - i - 1));
        a->n--;
    }
}

/* Marks the tensors that backward reads (see the header). */
static void mark_saved(const fn_graph *g, int param_grads, unsigned char *saved) {
    saved[g->input] = saved[g->output] = 1;
    for (int i = 0; i < g->nn; i++) {
        const fn_node *nd = &g->nodes[i];
        switch (nd->kind) {
        case FN_NODE_CONV:
        case FN_NODE_LINEAR:
            if (param_grads) saved[nd->in[0]] = 1;
            break;
        case FN_NODE_BN: saved[nd->w >= 0 ? nd->in[0] : nd->out] = 1; break;
        case FN_NODE_RELU:
        case FN_NODE_MAXPOOL: saved[nd->in[0]] = 1; break;
        case FN_NODE_MIX:
            for (int j = 0; j < nd->nin; j++)
                if (nd->aidx[j] >= 0) saved[nd->in[j]] = 1;
            break;
        default: break;
        }
    }
}

void graph_plan(const fn_graph *g, const unsigned char *needs_grad, int param_grads,
                const unsigned char *keep, const fn_fold *fold, const fn_alias *alias,
                const fn_chains *chains, fn_plan *p) {
    const int nt = g->nt, nn = g->nn;
    memset(p, 0, sizeof(*p));
    p->act_off = callocCheck((size_t)nt, sizeof(size_t));
    p->grad_off = callocCheck((size_t)nt, sizeof(size_t));
    p->grad_first = mallocCheck(sizeof(int) * (size_t)nt);
    unsigned char *saved = callocCheck((size_t)nt, 1);
    int *last = mallocCheck(sizeof(int) * (size_t)nt), *producer = mallocCheck(sizeof(int) * (size_t)nt);
    mark_saved(g, param_grads, saved);
    if (keep)
        for (int t = 0; t < nt; t++) saved[t] |= keep[t];
    for (int t = 0; t < nt; t++) { last[t] = -1; producer[t] = -1; p->grad_first[t] = -1; }
    for (int i = 0; i < nn; i++) {
        const fn_node *nd = &g->nodes[i];
        producer[nd->out] = i;
        last[nd->out] = i > last[nd->out] ? i : last[nd->out];
        for (int j = 0; j < nd->nin; j++) {
            last[nd->in[j]] = i;
            /* only a node that runs backward (its output needs a gradient) writes one */
            if (needs_grad[nd->in[j]] && needs_grad[nd->out]) p->grad_first[nd->in[j]] = i;
        }
    }
    /* With alias (engine/graph_alias.h): an aliased tensor is its root's slot (the tensor it
     * copies, followed through chains of BNs), so the root lives as long as any of them and
     * is kept when any of them is. */
    int *root = mallocCheck(sizeof(int) * (size_t)nt);
    for (int t = 0; t < nt; t++) root[t] = t;
    for (int i = 0; alias && i < nn; i++) { /* node order: a source's root is known */
        const int y = g->nodes[i].out;
        if (alias[y].src < 0) continue;
        const int r = root[y] = root[alias[y].src];
        if (last[y] > last[r]) last[r] = last[y];
        saved[r] |= saved[y];
    }
    /* activations, forward time; a tensor is freed after the node of its last use */
    arena a = {0};
    int **frees = callocCheck((size_t)nn + 1, sizeof(int *));
    int *nfree = callocCheck((size_t)nn + 1, sizeof(int));
    for (int t = 0; t < nt; t++) {
        if (root[t] != t) continue; /* its root is freed */
        int d = saved[t] ? NEVER : last[t];
        if (chains && d != NEVER && d >= 0 && chains->node_sec[d] >= 0) /* at the section's end */
            d = chains->sec_hi[chains->node_sec[d]] - 1;
        if (d != NEVER && d >= 0) {
            frees[d] = realloc(frees[d], sizeof(int) * (size_t)(nfree[d] + 1));
            frees[d][nfree[d]++] = t;
        }
    }
    p->act_off[g->input] = arena_alloc(&a, graph_tensor_numel(g, g->input));
    for (int i = 0; i < nn; i++) {
        const int y = g->nodes[i].out;
        if (root[y] != y) p->act_off[y] = p->act_off[root[y]];
        else p->act_off[y] = arena_alloc(&a, graph_tensor_numel(g, y));
        for (int k = 0; k < nfree[i]; k++)
            arena_release(&a, p->act_off[frees[i][k]], graph_tensor_numel(g, frees[i][k]));
    }
    p->act_numel = a.top;
    free(a.free);
    /* gradients, backward time (reverse node order); a gradient is released after its
     * producer's backward. With fold (engine/graph_fold.h): a folded BN output gets no
     * gradient (a folded pass never writes it), and its mix's output gradient is released
     * after the last folded BN that reads it. With alias: where d x shares d y's slot, the
     * slot passes from y to x at the BN (no allocation, no release) and goes with x's
     * producer. With chains (engine/graph_chains.h): a release inside a parallel section
     * waits until the section's first node has run backward. */
    int *pend = mallocCheck(sizeof(int) * (size_t)nt), npend = 0;
    int *release = mallocCheck(sizeof(int) * (size_t)nt);
    for (int t = 0; t < nt; t++) release[t] = producer[t];
    for (int t = 0; fold && t < nt; t++)
        if (fold[t].bn >= 0) {
            const int y = g->nodes[fold[t].mix].out;
            if (fold[t].bn < release[y]) release[y] = fold[t].bn;
        }
    arena b = {0};
    p->grad_off[g->output] = arena_alloc(&b, graph_tensor_numel(g, g->output));
    for (int i = nn - 1; i >= 0; i--) {
        const fn_node *nd = &g->nodes[i];
        if (needs_grad[nd->out]) {
            const int galias = alias && alias[nd->out].grad; /* d in[0] is d out's slot */
            for (int j = 0; j < nd->nin; j++) {
                int x = nd->in[j];
                if (needs_grad[x] && p->grad_first[x] == i && !(fold && fold[x].bn >= 0)) {
                    int dup = 0; /* the same tensor twice among the inputs */
                    for (int k = 0; k < j; k++) dup |= nd->in[k] == x;
                    if (dup) continue;
                    if (galias) p->grad_off[x] = p->grad_off[nd->out];
                    else p->grad_off[x] = arena_alloc(&b, graph_tensor_numel(g, x));
                }
            }
            if (release[nd->out] == i && !(fold && fold[nd->out].bn >= 0) && !galias)
                pend[npend++] = nd->out;
            if (fold && fold[nd->out].bn == i) { /* a folded BN: the mix's output gradient */
                const int y = g->nodes[fold[nd->out].mix].out;
                if (release[y] == i) pend[npend++] = y;
            }
        }
        /* releases take effect after the node, or after a parallel section's first node */
        const int sec = chains ? chains->node_sec[i] : -1;
        if (sec >= 0 && i != chains->sec_lo[sec]) continue;
        for (int k = 0; k < npend; k++)
            arena_release(&b, p->grad_off[pend[k]], graph_tensor_numel(g, pend[k]));
        npend = 0;
    }
    /* a wanted gradient that no node writes (the input of a network whose cells are cut off
     * by `none` edges): a slot of its own, zeroed by backward, so it reads as exactly 0 */
    for (int t = 0; t < nt; t++)
        if (needs_grad[t] && p->grad_first[t] < 0 && t != g->output)
            p->grad_off[t] = arena_alloc(&b, graph_tensor_numel(g, t));
    p->grad_numel = b.top;
    free(b.free);
    for (int i = 0; i <= nn; i++) free(frees[i]);
    free(frees); free(nfree); free(saved); free(last); free(producer); free(release);
    free(root); free(pend);
}

void graph_plan_free(fn_plan *p) {
    free(p->act_off);
    free(p->grad_off);
    free(p->grad_first);
    memset(p, 0, sizeof(*p));
}
