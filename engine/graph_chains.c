/* engine/graph_chains.c: a batch-1 pass's parallel sections of independent chains (see
 * engine/graph_chains.h). */
#include "engine/graph_chains.h"

#include <stdlib.h>
#include <string.h>

#include "base/common.h"

int graph_chains_switch = -1;

int graph_chains_enabled(void) { return fn_env_switch(&graph_chains_switch, "FREENAS_CHAINS"); }

/* kinds that may go on a chain after its first node: one input, and a backward that writes
 * only that input's gradient and the node's own d params (no mix: d alpha is shared) */
static int continues(const fn_node *nd) {
    switch (nd->kind) {
    case FN_NODE_CONV:
    case FN_NODE_BN:
    case FN_NODE_RELU:
    case FN_NODE_AVGPOOL:
    case FN_NODE_MAXPOOL:
    case FN_NODE_SUBSAMPLE: return nd->nin == 1;
    default: return 0;
    }
}

/* a rough cost of node i's forward: its multiply-adds, and 16 per output element for the
 * memory-bound ones (about the ratio of the two rates on a CPU core) */
static double node_work(const fn_graph *g, int i) {
    const fn_node *nd = &g->nodes[i];
    return graph_node_macs(g, nd) + 16.0 * (double)graph_tensor_numel(g, nd->out);
}

int graph_chains_find(const fn_graph *g, fn_chains *c) {
    memset(c, 0, sizeof(*c));
    const int nn = g->nn, nt = g->nt;
    int *uses = mallocCheck(sizeof(int) * (size_t)nt), *producer = mallocCheck(sizeof(int) * (size_t)nt);
    graph_producers(g, producer, uses);
    int *puses = callocCheck((size_t)g->np + 1, sizeof(int));
    for (int i = 0; i < nn; i++) {
        if (g->nodes[i].w >= 0) puses[g->nodes[i].w]++;
        if (g->nodes[i].b >= 0) puses[g->nodes[i].b]++;
    }
    int shared = 0; /* a parameter two nodes read: their d params would race */
    for (int p = 0; p < g->np; p++) shared |= puses[p] > 1;
    int *chain = mallocCheck(sizeof(int) * (size_t)nn);     /* node -> chain (in its run) */
    int *tail = mallocCheck(sizeof(int) * (size_t)nn);      /* chain -> its last node */
    int *first = mallocCheck(sizeof(int) * (size_t)nn);     /* chain -> its first node */
    int *next = mallocCheck(sizeof(int) * (size_t)nn);      /* node -> next node on its chain */
    int *order = mallocCheck(sizeof(int) * (size_t)nn);
    double *w = mallocCheck(sizeof(double) * (size_t)nn);
    c->node_sec = mallocCheck(sizeof(int) * (size_t)(nn + 1));
    c->first = callocCheck((size_t)nn + 1, 1);
    c->sec_work = mallocCheck(sizeof(double) * (size_t)(nn + 1));
    c->sec_maxwork = mallocCheck(sizeof(double) * (size_t)(nn + 1));
    c->sec_lo = mallocCheck(sizeof(int) * (size_t)(nn + 1));
    c->sec_hi = mallocCheck(sizeof(int) * (size_t)(nn + 1));
    c->sec_chain = mallocCheck(sizeof(int) * (size_t)(nn + 2));
    c->chain_off = mallocCheck(sizeof(int) * (size_t)(nn + 2));
    c->chain_node = mallocCheck(sizeof(int) * (size_t)(nn + 1));
    for (int i = 0; i < nn; i++) c->node_sec[i] = -1;
    int lo = 0, nch = 0, nodes = 0;
    c->sec_chain[0] = 0;
    c->chain_off[0] = 0;
    for (int i = 0; !shared && i <= nn; i++) {
        int join = -2; /* -1: a new chain; k >= 0: goes on chain k; -2: ends the run */
        if (i < nn) {
            const fn_node *nd = &g->nodes[i];
            int before = 1;
            for (int j = 0; j < nd->nin; j++) before &= producer[nd->in[j]] < lo;
            if (before) join = -1;
            else if (continues(nd) && uses[nd->in[0]] == 1) {
                const int p = producer[nd->in[0]];
                if (tail[chain[p]] == p) join = chain[p];
            }
        }
        if (join == -1) {
            chain[i] = nch;
            first[nch] = tail[nch] = i;
            next[i] = -1;
            nch++;
            continue;
        }
        if (join >= 0) {
            chain[i] = join;
            next[tail[join]] = i;
            tail[join] = i;
            next[i] = -1;
            continue;
        }
        /* the run [lo, i) ends: a parallel section when it has two chains or more, its
         * chains heaviest first (a thread that is free takes the next) */
        if (nch >= 2) {
            const int s = c->nsec++;
            c->sec_lo[s] = lo;
            c->sec_hi[s] = i;
            c->sec_work[s] = c->sec_maxwork[s] = 0;
            for (int k = 0; k < nch; k++) {
                w[k] = 0;
                for (int v = first[k]; v >= 0; v = next[v]) w[k] += node_work(g, v);
                order[k] = k;
                c->sec_work[s] += w[k];
                if (w[k] > c->sec_maxwork[s]) c->sec_maxwork[s] = w[k];
            }
            for (int a = 1; a < nch; a++) /* insertion sort, stable */
                for (int b = a; b > 0 && w[order[b]] > w[order[b - 1]]; b--) {
                    const int t = order[b];
                    order[b] = order[b - 1];
                    order[b - 1] = t;
                }
            for (int q = 0; q < nch; q++) {
                const int k = order[q];
                c->first[first[k]] = 1;
                for (int v = first[k]; v >= 0; v = next[v]) {
                    c->chain_node[nodes++] = v;
                    c->node_sec[v] = s;
                }
                c->chain_off[++c->nchains] = nodes;
            }
            c->sec_chain[s + 1] = c->nchains;
        }
        if (i == nn) break;
        lo = i; /* node i starts the next run */
        chain[i] = 0;
        first[0] = tail[0] = i;
        next[i] = -1;
        nch = 1;
    }
    free(uses); free(producer); free(puses); free(chain); free(tail); free(first); free(next);
    free(order); free(w);
    if (!c->nsec) graph_chains_free(c);
    return c->nsec;
}

void graph_chains_free(fn_chains *c) {
    free(c->sec_lo); free(c->sec_hi); free(c->sec_chain); free(c->chain_off);
    free(c->chain_node); free(c->node_sec); free(c->first); free(c->sec_work);
    free(c->sec_maxwork);
    memset(c, 0, sizeof(*c));
}

int graph_chains_parallel(const fn_chains *c, int s, int threads) {
    return threads > 1 && c->sec_maxwork[s] <= 0.6 * c->sec_work[s];
}
