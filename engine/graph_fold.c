/* engine/graph_fold.c: which BN outputs fold into their mix (see engine/graph_fold.h). */
#include "engine/graph_fold.h"

#include <stdlib.h>

#include "base/common.h"

int graph_fold_switch = -1;

int graph_fold_enabled(void) { return fn_env_switch(&graph_fold_switch, "FREENAS_FOLD_BN"); }

size_t graph_fold_find(const fn_graph *g, const unsigned char *needs_grad, fn_fold *fold) {
    int *uses = mallocCheck(sizeof(int) * (size_t)g->nt);
    int *producer = mallocCheck(sizeof(int) * (size_t)g->nt);
    graph_producers(g, producer, uses);
    for (int t = 0; t < g->nt; t++) fold[t] = (fn_fold){-1, -1, -1, 0};
    for (int i = 0; i < g->nn && g->models == 1; i++) { /* a stacked graph's mixes fold nothing */
        const fn_node *nd = &g->nodes[i];
        if (nd->kind != FN_NODE_MIX || !needs_grad[nd->out]) continue;
        for (int j = 0; j < nd->nin; j++) {
            const int t = nd->in[j];
            if (nd->aidx[j] < 0 || uses[t] != 1 || !needs_grad[t] || t == g->output) continue;
            const int p = producer[t];
            if (p < 0 || g->nodes[p].kind != FN_NODE_BN || g->nodes[p].w >= 0) continue;
            fold[t].bn = p;
            fold[t].mix = i;
            fold[t].pos = j;
        }
    }
    size_t n = 0;
    for (int t = 0; t < g->nt; t++)
        if (fold[t].bn >= 0) {
            fold[t].off = n;
            n += 2 * (size_t)g->t[t].c;
        }
    free(uses);
    free(producer);
    return n;
}
