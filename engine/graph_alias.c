/* engine/graph_alias.c: which BN outputs share their input's memory in BN-off passes (see
 * engine/graph_alias.h). */
#include "engine/graph_alias.h"

#include <stdlib.h>

#include "base/common.h"

int graph_alias_switch = -1;

int graph_alias_enabled(void) { return fn_env_switch(&graph_alias_switch, "FREENAS_ALIAS_BN"); }

int graph_alias_find(const fn_graph *g, const unsigned char *needs_grad, fn_alias *alias) {
    int *uses = mallocCheck(sizeof(int) * (size_t)g->nt);
    graph_producers(g, NULL, uses);
    for (int t = 0; t < g->nt; t++) alias[t] = (fn_alias){-1, 0};
    int n = 0;
    for (int i = 0; i < g->nn; i++) {
        const fn_node *nd = &g->nodes[i];
        if (nd->kind != FN_NODE_BN || nd->zc_keep_bn) continue;
        const int x = nd->in[0], y = nd->out;
        alias[y].src = x;
        alias[y].grad = uses[x] == 1 && x != g->output && needs_grad[x] && needs_grad[y];
        n++;
    }
    free(uses);
    return n;
}
