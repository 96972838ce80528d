/* engine/graph_stack.c: K copies of one network as one graph (see engine/graph_stack.h). The
 * stacked graph is built by replaying src's nodes through the graph_* builders with K times the
 * channels, so parameter names, order, saved BN offsets and workspace sizes come from the same
 * code that sizes a plain graph. */
#include "engine/graph_stack.h"

#include <stdio.h>
#include <string.h>

#include "base/common.h"

/* "<prefix>" of a parameter named "<prefix>.weight" / "<prefix>.bias" */
static void param_prefix(const fn_graph *g, int p, char *out) {
    snprintf(out, FN_NAME_LEN, "%s", g->p[p].name);
    char *dot = strrchr(out, '.');
    FN_ASSERT(dot);
    *dot = 0;
}

int graph_stack(const fn_graph *src, int k, fn_graph *dst, char *err, size_t errlen) {
    graph_init(dst);
    if (k < 1 || src->models != 1) {
        snprintf(err, errlen, "graph_stack: %s", k < 1 ? "K must be >= 1" : "graph already stacked");
        return -1;
    }
    for (int i = 0; i < src->nn; i++)
        if (src->nodes[i].kind == FN_NODE_SCALE_N) {
            snprintf(err, errlen, "graph_stack: drop-path (scale_n) graphs are not stacked");
            return -1;
        }
    int *map = mallocCheck(sizeof(int) * (size_t)src->nt); /* src tensor -> dst tensor */
    for (int t = 0; t < src->nt; t++) map[t] = -1;
    for (int a = 0; a < src->nag; a++)
        graph_alpha_group(dst, src->ag[a].name, src->ag[a].rows, src->ag[a].cols);
    const fn_tensor *ti = &src->t[src->input];
    map[src->input] = graph_input(dst, ti->n, ti->c * k, ti->h, ti->w);
    char name[FN_NAME_LEN];
    for (int i = 0; i < src->nn; i++) {
        const fn_node *nd = &src->nodes[i];
        int xs[FN_MAX_IN];
        for (int j = 0; j < nd->nin; j++) {
            xs[j] = map[nd->in[j]];
            FN_ASSERT(xs[j] >= 0);
        }
        const int x = nd->nin ? xs[0] : map[nd->in[0]];
        const int cout = src->t[nd->out].c * k;
        int y = -1;
        switch (nd->kind) {
        case FN_NODE_CONV:
            param_prefix(src, nd->w, name);
            y = nd->b >= 0 ? graph_conv_bn_bias(dst, name, x, cout, nd->k, nd->stride, nd->pad,
                                                nd->dil, nd->groups * k)
                           : graph_conv(dst, name, x, cout, nd->k, nd->stride, nd->pad, nd->dil,
                                        nd->groups * k);
            break;
        case FN_NODE_BN:
            if (nd->w >= 0) param_prefix(src, nd->w, name);
            else snprintf(name, sizeof name, "bn%d", i);
            y = graph_bn(dst, name, x, nd->w >= 0);
            dst->nodes[dst->nn - 1].zc_keep_bn = nd->zc_keep_bn;
            break;
        case FN_NODE_RELU: y = graph_relu(dst, x); break;
        case FN_NODE_AVGPOOL: y = graph_avgpool(dst, x, nd->k, nd->stride, nd->pad); break;
        case FN_NODE_MAXPOOL: y = graph_maxpool(dst, x, nd->k, nd->stride, nd->pad); break;
        case FN_NODE_GAP: y = graph_gap(dst, x); break;
        case FN_NODE_LINEAR:
            if (src->t[nd->in[0]].h * src->t[nd->in[0]].w != 1) {
                snprintf(err, errlen, "graph_stack: a linear on %dx%d planes (only 1x1 stack)",
                         src->t[nd->in[0]].h, src->t[nd->in[0]].w);
                free(map);
                graph_free(dst);
                graph_init(dst);
                return -1;
            }
            param_prefix(src, nd->w, name);
            y = graph_linear_blocks(dst, name, x, src->t[nd->out].c, k);
            break;
        case FN_NODE_MIX:
            y = graph_mix(dst, xs, nd->aidx, nd->nin);
            dst->nodes[dst->nn - 1].groups = k;
            break;
        case FN_NODE_CONCAT:
            y = graph_concat(dst, xs, nd->nin);
            dst->nodes[dst->nn - 1].groups = k;
            break;
        case FN_NODE_SUBSAMPLE:
            y = graph_subsample(dst, x, nd->off, nd->stride, nd->ho, nd->wo);
            break;
        case FN_NODE_ZERO: y = graph_zero(dst, x); break;
        case FN_NODE_SCALE_N: break; /* refused above */
        }
        FN_ASSERT(y >= 0 && dst->t[y].c == cout);
        map[nd->out] = y;
    }
    dst->output = map[src->output];
    FN_ASSERT(dst->output >= 0);
    /* a stacked conv runs model by model on one sample (engine/exec_cpu_nodes.h): within the
     * plain graph's workspace, which is sized for the whole batch */
    if (src->ws_numel > dst->ws_numel) dst->ws_numel = src->ws_numel;
    dst->models = k;
    dst->model_alpha = src->alpha_numel;
    dst->alpha_numel = src->alpha_numel * (size_t)k;
    FN_ASSERT(dst->np == src->np && dst->param_numel == src->param_numel * (size_t)k);
    free(map);
    return 0;
}
