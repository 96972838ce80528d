/* engine/graph_exec.c: forward and backward execution of a graph on the CPU reference ops,
 * compiled for float32 and float64 (nn/real.h): the CPU backend's passes (engine/exec_cpu.c),
 * one node at a time (the exact Hessian-vector product, engine/graph_hvp.c, interleaves each
 * node's tangent with it). */
#include <omp.h>
#include <string.h>

#include "engine/exec_cpu.h"
#include "nn/batchnorm2d.h"
#include "base/common.h"
#include "nn/conv2d.h"
#include "nn/cross_entropy.h"
#include "nn/linear.h"
#include "nn/pool2d.h"
#include "nn/real.h"
#include "nn/relu.h"
#include "nn/tensor_ops.h"

#include "engine/exec_cpu_nodes.h" /* T, G, P, DP, NUMEL, conv_dims, pool_dims, bn_active */

/* node i's forward with conv workspace ws (each thread its own in parallel sections) */
static void forward_node(fn_exec *e, int i, real *ws) {
    const fn_graph *g = e->g;
    {
        const fn_node *nd = &g->nodes[i];
        const int x = nd->in[0], y = nd->out;
        const fn_tensor *ti = &g->t[x];
        switch (nd->kind) {
        case FN_NODE_CONV: conv_models_forward(g, nd, T(y), T(x), P(nd->w), ws); break;
        case FN_NODE_BN: {
            real *sv = (real *)e->saved + nd->saved;
            if (e->bn_mode == FN_BN_EVAL)
                FN(batchnorm2d_forward_stats)(T(y), T(x), sv, sv + ti->c, P(nd->w), P(nd->b),
                                              ti->n, ti->c, ti->h * ti->w);
            else if (bn_active(e, nd))
                FN(batchnorm2d_forward)(T(y), sv, sv + ti->c, T(x), P(nd->w), P(nd->b), ti->n,
                                        ti->c, ti->h * ti->w, FN_BN_EPS);
            else if (!(e->alias_on && e->alias[y].src >= 0)) /* aliased: y is x's slot */
                memcpy(T(y), T(x), sizeof(real) * NUMEL(x));
            break;
        }
        case FN_NODE_RELU:
            if (e->relu_mode == FN_RELU_NORMAL) {
                FN(relu_forward)(T(y), T(x), NUMEL(x));
            } else {
                unsigned char *m = e->relu_mask + e->relu_mask_off[i];
                const real *in = T(x);
                real *out = T(y);
                const size_t n = NUMEL(x);
                if (e->relu_mode == FN_RELU_RECORD)
                    for (size_t k = 0; k < n; k++) m[k] = in[k] > 0;
                for (size_t k = 0; k < n; k++) out[k] = m[k] ? in[k] : (real)0;
            }
            break;
        case FN_NODE_AVGPOOL: {
            pool2d_dims d = pool_dims(g, nd);
            FN(avgpool2d_forward)(T(y), T(x), &d);
            break;
        }
        case FN_NODE_MAXPOOL: {
            pool2d_dims d = pool_dims(g, nd);
            FN(maxpool2d_forward)(T(y), T(x), &d);
            break;
        }
        case FN_NODE_GAP: FN(gap_forward)(T(y), T(x), ti->n, ti->c, ti->h * ti->w); break;
        case FN_NODE_LINEAR: {
            const int nb = node_blocks(nd);
            FN(linear_blocks_forward)(T(y), T(x), P(nd->w), P(nd->b), ti->n,
                                      ti->c * ti->h * ti->w / nb, g->t[y].c / nb, nb);
            break;
        }
        case FN_NODE_MIX: {
            real *in[FN_MAX_IN];
            size_t len;
            const size_t segs = mix_segs(g, nd, &len);
            for (size_t s = 0; s < segs; s++) {
                for (int j = 0; j < nd->nin; j++) in[j] = T(nd->in[j]) + s * len;
                FN(mix_forward)(T(y) + s * len, in, nd->aidx,
                                (const real *)e->alpha + mix_seg_alpha(g, nd, s), nd->nin, len);
            }
            break;
        }
        case FN_NODE_CONCAT: { /* a stacked concat is the plain one on n * blocks samples */
            real *in[FN_MAX_IN];
            int cin[FN_MAX_IN];
            const int nb = node_blocks(nd);
            for (int j = 0; j < nd->nin; j++) { in[j] = T(nd->in[j]); cin[j] = g->t[nd->in[j]].c / nb; }
            FN(concat_forward)(T(y), in, cin, nd->nin, ti->n * nb, ti->h * ti->w);
            break;
        }
        case FN_NODE_SUBSAMPLE:
            FN(subsample_forward)(T(y), T(x), ti->n, ti->c, ti->h, ti->w, nd->off, nd->stride,
                                  nd->ho, nd->wo);
            break;
        case FN_NODE_ZERO: memset(T(y), 0, sizeof(real) * NUMEL(y)); break;
        case FN_NODE_SCALE_N:
            FN(scale_n_forward)(T(y), T(x), (const real *)e->alpha + nd->off, ti->n,
                                NUMEL(x) / ti->n);
            break;
        }
    }
}

void FN(graph_forward_node)(fn_exec *e, int i) { forward_node(e, i, (real *)e->ws); }

/* thread tid's conv workspace in a parallel section */
static real *ws_of(const fn_exec *e, int tid) { return (real *)e->ws + (size_t)tid * e->ws_stride; }

/* the threads that run section s's chains side by side, or 0: one node after another */
static int section_threads(const fn_exec *e, int s) {
    if (!e->chains_on || s < 0) return 0;
    int th = omp_get_max_threads();
    if (th > e->ws_slots) th = e->ws_slots;
    return graph_chains_parallel(&e->chains, s, th) ? th : 0;
}

void FN(graph_forward)(fn_exec *e) {
    graph_forward_start(e);
    const fn_chains *c = &e->chains;
    for (int i = 0; i < e->g->nn;) {
        const int s = e->chains_on ? c->node_sec[i] : -1, th = section_threads(e, s);
        if (!th) {
            forward_node(e, i++, (real *)e->ws);
            continue;
        }
        /* each chain on one thread, in order; the kernels' own threading is inactive here */
#pragma omp parallel for schedule(dynamic, 1) num_threads(th)
        for (int k = c->sec_chain[s]; k < c->sec_chain[s + 1]; k++)
            for (int q = c->chain_off[k]; q < c->chain_off[k + 1]; q++)
                forward_node(e, c->chain_node[q], ws_of(e, omp_get_thread_num()));
        i = c->sec_hi[s];
    }
}

void FN(graph_backward_start)(fn_exec *e, void *grad, void *dalpha, void *dparams,
                              const void *dlogits) {
    const fn_graph *g = e->g;
    /* fold BN gradient sums into mixes this pass unless something may read the skipped
     * gradients (engine/graph_fold.h) */
    e->fold_on = e->fold && !e->alias_on && !e->bwd_hook && !e->tbwd_hook &&
                 e->bn_mode == FN_BN_TRAIN;
    e->chains_on = exec_chains_ok(e);
    /* an aliasing forward (graph_forward_start) is followed by an aliasing backward */
    exec_use_layout(e, e->fold_on    ? FN_LAYOUT_FOLD
                       : e->alias_on ? FN_LAYOUT_ALIAS
                                     : FN_LAYOUT_PLAIN);
    memset(dalpha, 0, sizeof(real) * g->alpha_numel);
    if (dparams) memset(dparams, 0, sizeof(real) * g->param_numel);
    for (int t = 0; t < g->nt; t++) /* wanted gradients no node writes (graph_plan.c) */
        if (e->needs_grad[t] && e->plan.grad_first[t] < 0 && t != g->output)
            memset((real *)grad + e->plan.grad_off[t], 0, sizeof(real) * NUMEL(t));
    memcpy((real *)grad + e->plan.grad_off[g->output], dlogits, sizeof(real) * NUMEL(g->output));
}

int FN(graph_backward_runs)(const fn_exec *e, int i) {
    const int y = e->g->nodes[i].out;
    return e->needs_grad[y] && (e->plan.grad_first[y] >= 0 || y == e->g->output);
}

static void backward_node(fn_exec *e, int i, real *ws);

void FN(graph_backward_node)(fn_exec *e, int i) { backward_node(e, i, (real *)e->ws); }

void FN(graph_backward)(fn_exec *e, const void *dlogits) {
    FN(graph_backward_start)(e, e->grad, e->dalpha, e->dparams, dlogits);
    const fn_chains *c = &e->chains;
    for (int i = e->g->nn - 1; i >= 0;) {
        const int s = e->chains_on ? c->node_sec[i] : -1, th = section_threads(e, s);
        if (!th) {
            if (FN(graph_backward_runs)(e, i)) backward_node(e, i, (real *)e->ws);
            i--;
            continue;
        }
        /* every chain but its first node, side by side: they write gradients inside their
         * chain only (engine/graph_chains.h) */
#pragma omp parallel for schedule(dynamic, 1) num_threads(th)
        for (int k = c->sec_chain[s]; k < c->sec_chain[s + 1]; k++)
            for (int q = c->chain_off[k + 1] - 1; q > c->chain_off[k]; q--)
                if (FN(graph_backward_runs)(e, c->chain_node[q]))
                    backward_node(e, c->chain_node[q], ws_of(e, omp_get_thread_num()));
        /* then the first nodes in reverse node order, as a sequential pass: the gradients
         * several chains share are summed in its order */
        for (int v = c->sec_hi[s] - 1; v >= c->sec_lo[s]; v--)
            if (c->first[v] && FN(graph_backward_runs)(e, v)) backward_node(e, v, (real *)e->ws);
        i = c->sec_lo[s] - 1;
    }
}

/* t's gradient is folded into its mix this pass: the mix computes the BN's sums instead
 * (a folded pass has every BN in train mode: graph_backward_start) */
static int folds(const fn_exec *e, int t) { return e->fold_on && e->fold[t].bn >= 0; }

static void backward_node(fn_exec *e, int i, real *ws) {
    const fn_graph *g = e->g;
    {
        const fn_node *nd = &g->nodes[i];
        const int x = nd->in[0], y = nd->out;
        if (e->alias_on && e->alias[y].grad) { /* d x is d y's slot, already complete */
            if (e->bwd_hook) e->bwd_hook(e->bwd_hook_user, e, i);
            return;
        }
        /* Gradients first written here (engine/graph_plan.h): the kernels that can write every
         * element (conv, train-mode BN, ReLU, mix) assign them (acc[j] = 0); the others add
         * into a zeroed buffer. A tensor given twice is assigned by its first occurrence. */
        unsigned char acc[FN_MAX_IN];
        const int assigns = nd->kind == FN_NODE_CONV || nd->kind == FN_NODE_MIX ||
                            (nd->kind == FN_NODE_BN && bn_active(e, nd)) ||
                            (nd->kind == FN_NODE_RELU && e->relu_mode != FN_RELU_FROZEN);
        for (int j = 0; j < nd->nin; j++) {
            const int t = nd->in[j];
            int first = e->needs_grad[t] && e->plan.grad_first[t] == i;
            for (int k = 0; k < j && first; k++) first = nd->in[k] != t;
            acc[j] = !first;
            if (first && !assigns) memset(G(t), 0, sizeof(real) * NUMEL(t));
        }
        const fn_tensor *ti = &g->t[x];
        real *dx = e->needs_grad[x] ? G(x) : NULL;
        switch (nd->kind) {
        case FN_NODE_CONV:
            conv_models_backward(g, nd, dx, DP(nd->w), G(y), T(x), P(nd->w), ws, acc[0]);
            break;
        case FN_NODE_BN: {
            if (folds(e, y)) { /* d y = alpha d (mix output), sums from the mix */
                const fn_fold *f = &e->fold[y];
                const fn_node *m = &g->nodes[f->mix];
                const real *sv = (const real *)e->saved + nd->saved;
                FN(batchnorm2d_backward_folded)(dx, G(m->out),
                                                ((const real *)e->alpha)[m->aidx[f->pos]], T(y),
                                                e->fold_sums + f->off, sv + ti->c, ti->n,
                                                ti->c, ti->h * ti->w, acc[0]);
            } else if (bn_active(e, nd)) {
                real *sv = (real *)e->saved + nd->saved;
                const int affine = nd->w >= 0; /* non-affine: the planner kept x_hat = y */
                FN(batchnorm2d_backward)(dx, DP(nd->w), DP(nd->b), G(y), affine ? T(x) : T(y),
                                         !affine, sv, sv + ti->c, P(nd->w), ti->n, ti->c,
                                         ti->h * ti->w, acc[0]);
            } else if (dx) {
                const real *dy = G(y);
                const size_t n = NUMEL(x);
                for (size_t j = 0; j < n; j++) dx[j] += dy[j];
            }
            break;
        }
        case FN_NODE_RELU:
            if (dx && e->relu_mode == FN_RELU_FROZEN) {
                const unsigned char *m = e->relu_mask + e->relu_mask_off[i];
                const real *dy = G(y);
                const size_t n = NUMEL(x);
                for (size_t k = 0; k < n; k++) dx[k] += m[k] ? dy[k] : (real)0;
            } else if (dx) {
                FN(relu_backward)(dx, G(y), T(x), NUMEL(x), acc[0]);
            }
            break;
        case FN_NODE_AVGPOOL: {
            pool2d_dims d = pool_dims(g, nd);
            if (dx) FN(avgpool2d_backward)(dx, G(y), &d);
            break;
        }
        case FN_NODE_MAXPOOL: {
            pool2d_dims d = pool_dims(g, nd);
            if (dx) FN(maxpool2d_backward)(dx, G(y), T(x), &d);
            break;
        }
        case FN_NODE_GAP:
            if (dx) FN(gap_backward)(dx, G(y), ti->n, ti->c, ti->h * ti->w);
            break;
        case FN_NODE_LINEAR: {
            const int nb = node_blocks(nd);
            FN(linear_blocks_backward)(dx, DP(nd->w), DP(nd->b), G(y), T(x), P(nd->w), ti->n,
                                       ti->c * ti->h * ti->w / nb, g->t[y].c / nb, nb);
            break;
        }
        case FN_NODE_MIX: {
            real *in[FN_MAX_IN], *din[FN_MAX_IN];
            int aidx[FN_MAX_IN], fpos[FN_MAX_IN], nf = 0;
            const real *fx[FN_MAX_IN];
            double *fst[FN_MAX_IN];
            for (int j = 0; j < nd->nin; j++) {
                in[j] = T(nd->in[j]);
                din[j] = e->needs_grad[nd->in[j]] ? G(nd->in[j]) : NULL;
                aidx[j] = nd->aidx[j];
                if (folds(e, nd->in[j])) { /* neither d input nor the dot product here */
                    fx[nf] = in[j];
                    fst[nf] = e->fold_sums + e->fold[nd->in[j]].off;
                    fpos[nf++] = j;
                    din[j] = NULL;
                    aidx[j] = -1;
                }
            }
            size_t len;
            const size_t segs = mix_segs(g, nd, &len);
            FN_ASSERT(segs == 1 || !nf); /* a stacked graph folds nothing (graph_fold.c) */
            for (size_t s = 0; s < segs; s++) {
                real *ins[FN_MAX_IN], *dins[FN_MAX_IN];
                for (int j = 0; j < nd->nin; j++) {
                    ins[j] = in[j] + s * len;
                    dins[j] = din[j] ? din[j] + s * len : NULL;
                }
                const size_t ao = mix_seg_alpha(g, nd, s);
                FN(mix_backward)(dins, (real *)e->dalpha + ao, G(y) + s * len, ins, aidx,
                                 (const real *)e->alpha + ao, nd->nin, len, acc);
            }
            if (nf) { /* the folded BNs' sums; d alpha = sum over channels of sum dout y */
                const fn_tensor *ty = &g->t[y];
                FN(batchnorm2d_grad_sums)(fst, fx, nf, G(y), ty->n, ty->c, ty->h * ty->w);
                for (int q = 0; q < nf; q++) {
                    double s = 0;
                    for (int ch = 0; ch < ty->c; ch++) s += fst[q][2 * ch + 1];
                    ((real *)e->dalpha)[nd->aidx[fpos[q]]] += (real)s;
                }
            }
            break;
        }
        case FN_NODE_CONCAT: {
            real *din[FN_MAX_IN];
            int cin[FN_MAX_IN];
            const int nb = node_blocks(nd);
            for (int j = 0; j < nd->nin; j++) {
                din[j] = e->needs_grad[nd->in[j]] ? G(nd->in[j]) : NULL;
                cin[j] = g->t[nd->in[j]].c / nb;
            }
            FN(concat_backward)(din, G(y), cin, nd->nin, ti->n * nb, ti->h * ti->w);
            break;
        }
        case FN_NODE_SUBSAMPLE:
            if (dx)
                FN(subsample_backward)(dx, G(y), ti->n, ti->c, ti->h, ti->w, nd->off, nd->stride,
                                       nd->ho, nd->wo);
            break;
        case FN_NODE_ZERO: break; /* no inputs */
        case FN_NODE_SCALE_N:
            if (dx)
                FN(scale_n_backward)(dx, G(y), (const real *)e->alpha + nd->off, ti->n,
                                     NUMEL(x) / ti->n);
            break;
        }
        if (e->bwd_hook) e->bwd_hook(e->bwd_hook_user, e, i);
    }
}
