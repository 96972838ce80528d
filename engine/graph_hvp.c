/* engine/graph_hvp.c: the CPU backend's exact Hessian-vector product passes (engine/exec.h,
 * exec_forward_tangent / exec_backward_tangent), compiled for float32 and float64.
 *
 * Forward-over-reverse (Pearlmutter's R-op): every activation x gets a tangent tx = (dx/dtheta) v
 * for the direction v = (talpha, tparams), every gradient dx a tangent tdx; the tangent of
 * d alpha (d params) is then H v, H the Hessian of the loss whose d logits and their tangent
 * seed backward. Each node runs its primal op (engine/graph_exec.c) and then its tangent
 * rule, so the tangents live in arenas planned exactly as the activations and gradients
 * (e->tact at plan.act_off, e->tgrad at plan.grad_off): what backward reads of an
 * activation it reads of its tangent, and it is kept just as long.
 * Rules: linear ops (avg/global pool, concat, subsample, zero) apply themselves to the
 * tangents; conv and linear are bilinear in (x, W); ReLU uses the mask of its input's sign
 * and max pool its argmax, held fixed, as autograd's double backward does (ReLU'' = 0);
 * BN in train mode differentiates the batch statistics exactly (nn/batchnorm2d_tangent.c);
 * mix is bilinear in (alpha, x) (nn/tensor_ops.h). A ReLU in FROZEN mode replays its recorded
 * mask in both. The backward hook is not called. */
#include <string.h>

#include "engine/exec_cpu.h"
#include "nn/batchnorm2d.h"
#include "base/common.h"
#include "nn/conv2d.h"
#include "nn/linear.h"
#include "nn/pool2d.h"
#include "nn/real.h"
#include "nn/tensor_ops.h"

#include "engine/exec_cpu_nodes.h" /* T, G, P, DP, NUMEL, conv_dims, pool_dims, bn_active */
#define TT(id) ((real *)e->tact + e->plan.act_off[(id)])
#define TG(id) ((real *)e->tgrad + e->plan.grad_off[(id)])
#define TP(id) ((id) >= 0 && e->tangent_params ? (real *)e->tparams + g->p[(id)].off : NULL)
#define TDP(id) ((id) >= 0 && e->tdparams ? (real *)e->tdparams + g->p[(id)].off : NULL)

/* ReLU node i: is element k of its input x on? */
static int relu_on(const fn_exec *e, int i, const real *x, size_t k) {
    return e->relu_mode == FN_RELU_NORMAL ? x[k] > 0 : e->relu_mask[e->relu_mask_off[i] + k];
}

static void add_into(real *y, const real *s, size_t n) {
    for (size_t k = 0; k < n; k++) y[k] += s[k];
}

static void tangent_forward_node(fn_exec *e, int i) {
    const fn_graph *g = e->g;
    const fn_node *nd = &g->nodes[i];
    const int x = nd->in[0], y = nd->out;
    const fn_tensor *ti = &g->t[x];
    real *scr = (real *)e->tws; /* one tensor: the weight-direction term of conv / linear */
    switch (nd->kind) {
    case FN_NODE_CONV: {
        conv_models_forward(g, nd, TT(y), TT(x), P(nd->w), (real *)e->ws);
        if (TP(nd->w)) {
            conv_models_forward(g, nd, scr, T(x), TP(nd->w), (real *)e->ws);
            add_into(TT(y), scr, NUMEL(y));
        }
        break;
    }
    case FN_NODE_BN: {
        if (bn_active(e, nd)) {
            const real *sv = (const real *)e->saved + nd->saved;
            real *tsv = (real *)e->tsaved + nd->saved;
            FN(batchnorm2d_forward_tangent)(TT(y), tsv, tsv + ti->c, TT(x), T(x), sv, sv + ti->c,
                                            P(nd->w), TP(nd->w), TP(nd->b), ti->n, ti->c,
                                            ti->h * ti->w);
        } else {
            memcpy(TT(y), TT(x), sizeof(real) * NUMEL(x));
        }
        break;
    }
    case FN_NODE_RELU: {
        const real *in = T(x), *tin = TT(x);
        real *tout = TT(y);
        const size_t n = NUMEL(x);
        for (size_t k = 0; k < n; k++) tout[k] = relu_on(e, i, in, k) ? tin[k] : (real)0;
        break;
    }
    case FN_NODE_AVGPOOL: {
        pool2d_dims d = pool_dims(g, nd);
        FN(avgpool2d_forward)(TT(y), TT(x), &d);
        break;
    }
    case FN_NODE_MAXPOOL: {
        pool2d_dims d = pool_dims(g, nd);
        FN(maxpool2d_forward_tangent)(TT(y), TT(x), T(x), &d);
        break;
    }
    case FN_NODE_GAP: FN(gap_forward)(TT(y), TT(x), ti->n, ti->c, ti->h * ti->w); break;
    case FN_NODE_LINEAR: {
        const int nb = node_blocks(nd);
        const int in_f = ti->c * ti->h * ti->w / nb, out_f = g->t[y].c / nb;
        FN(linear_blocks_forward)(TT(y), TT(x), P(nd->w), NULL, ti->n, in_f, out_f, nb);
        if (TP(nd->w)) {
            FN(linear_blocks_forward)(scr, T(x), TP(nd->w), TP(nd->b), ti->n, in_f, out_f, nb);
            add_into(TT(y), scr, NUMEL(y));
        }
        break;
    }
    case FN_NODE_MIX: {
        real *in[FN_MAX_IN], *tin[FN_MAX_IN];
        size_t len;
        const size_t segs = mix_segs(g, nd, &len);
        for (size_t s = 0; s < segs; s++) {
            for (int j = 0; j < nd->nin; j++) {
                in[j] = T(nd->in[j]) + s * len;
                tin[j] = TT(nd->in[j]) + s * len;
            }
            const size_t ao = mix_seg_alpha(g, nd, s);
            FN(mix_forward_tangent)(TT(y) + s * len, tin, in, nd->aidx,
                                    (const real *)e->alpha + ao, (const real *)e->talpha + ao,
                                    nd->nin, len);
        }
        break;
    }
    case FN_NODE_CONCAT: {
        real *tin[FN_MAX_IN];
        int cin[FN_MAX_IN];
        const int nb = node_blocks(nd);
        for (int j = 0; j < nd->nin; j++) { tin[j] = TT(nd->in[j]); cin[j] = g->t[nd->in[j]].c / nb; }
        FN(concat_forward)(TT(y), tin, cin, nd->nin, ti->n * nb, ti->h * ti->w);
        break;
    }
    case FN_NODE_SUBSAMPLE:
        FN(subsample_forward)(TT(y), TT(x), ti->n, ti->c, ti->h, ti->w, nd->off, nd->stride,
                              nd->ho, nd->wo);
        break;
    case FN_NODE_ZERO: memset(TT(y), 0, sizeof(real) * NUMEL(y)); break;
    case FN_NODE_SCALE_N: /* drop-path masks: constants, never a direction */
        FN(scale_n_forward)(TT(y), TT(x), (const real *)e->alpha + nd->off, ti->n,
                            NUMEL(x) / ti->n);
        break;
    }
}

static void tangent_backward_node(fn_exec *e, int i) {
    const fn_graph *g = e->g;
    const fn_node *nd = &g->nodes[i];
    const int x = nd->in[0], y = nd->out;
    for (int j = 0; j < nd->nin; j++) /* first written here: start from zero */
        if (e->needs_grad[nd->in[j]] && e->plan.grad_first[nd->in[j]] == i)
            memset(TG(nd->in[j]), 0, sizeof(real) * NUMEL(nd->in[j]));
    const fn_tensor *ti = &g->t[x];
    real *tdx = e->needs_grad[x] ? TG(x) : NULL;
    switch (nd->kind) {
    case FN_NODE_CONV: {
        real *tdw = TDP(nd->w), *ws = (real *)e->ws;
        /* d x = W^T dy, d W = x * dy: tangents W^T tdy + tW^T dy and x * tdy + tx * dy */
        if (tdx || tdw) conv_models_backward(g, nd, tdx, tdw, TG(y), T(x), P(nd->w), ws, 1);
        if (TP(nd->w) && (tdx || tdw)) /* both second terms */
            conv_models_backward(g, nd, tdx, tdw, G(y), TT(x), TP(nd->w), ws, 1);
        else if (tdw) /* tx * dy only (tW = 0) */
            conv_models_backward(g, nd, NULL, tdw, G(y), TT(x), P(nd->w), ws, 1);
        break;
    }
    case FN_NODE_BN: {
        if (bn_active(e, nd)) {
            const real *sv = (const real *)e->saved + nd->saved;
            const real *tsv = (const real *)e->tsaved + nd->saved;
            const int affine = nd->w >= 0; /* non-affine: x_hat = y and its tangent are kept */
            FN(batchnorm2d_backward_tangent)(tdx, TDP(nd->w), TDP(nd->b), G(y), TG(y),
                                             affine ? T(x) : T(y), affine ? TT(x) : TT(y),
                                             !affine, sv, sv + ti->c, tsv, tsv + ti->c,
                                             P(nd->w), TP(nd->w), ti->n, ti->c, ti->h * ti->w);
        } else if (tdx) {
            add_into(tdx, TG(y), NUMEL(x));
        }
        break;
    }
    case FN_NODE_RELU:
        if (tdx) {
            const real *in = T(x), *tdy = TG(y);
            const size_t n = NUMEL(x);
            for (size_t k = 0; k < n; k++)
                if (relu_on(e, i, in, k)) tdx[k] += tdy[k];
        }
        break;
    case FN_NODE_AVGPOOL: {
        pool2d_dims d = pool_dims(g, nd);
        if (tdx) FN(avgpool2d_backward)(tdx, TG(y), &d);
        break;
    }
    case FN_NODE_MAXPOOL: {
        pool2d_dims d = pool_dims(g, nd);
        if (tdx) FN(maxpool2d_backward)(tdx, TG(y), T(x), &d);
        break;
    }
    case FN_NODE_GAP:
        if (tdx) FN(gap_backward)(tdx, TG(y), ti->n, ti->c, ti->h * ti->w);
        break;
    case FN_NODE_LINEAR: {
        const int nb = node_blocks(nd);
        const int in_f = ti->c * ti->h * ti->w / nb, out_f = g->t[y].c / nb;
        FN(linear_blocks_backward)(tdx, TDP(nd->w), TDP(nd->b), TG(y), T(x), P(nd->w), ti->n,
                                   in_f, out_f, nb);
        if (TP(nd->w))
            FN(linear_blocks_backward)(tdx, TDP(nd->w), NULL, G(y), TT(x), TP(nd->w), ti->n,
                                       in_f, out_f, nb);
        else if (TDP(nd->w))
            FN(linear_blocks_backward)(NULL, TDP(nd->w), NULL, G(y), TT(x), P(nd->w), ti->n,
                                       in_f, out_f, nb);
        break;
    }
    case FN_NODE_MIX: {
        real *in[FN_MAX_IN], *tin[FN_MAX_IN], *tdin[FN_MAX_IN];
        size_t len;
        const size_t segs = mix_segs(g, nd, &len);
        for (size_t s = 0; s < segs; s++) {
            for (int j = 0; j < nd->nin; j++) {
                in[j] = T(nd->in[j]) + s * len;
                tin[j] = TT(nd->in[j]) + s * len;
                tdin[j] = e->needs_grad[nd->in[j]] ? TG(nd->in[j]) + s * len : NULL;
            }
            const size_t ao = mix_seg_alpha(g, nd, s);
            FN(mix_backward_tangent)(tdin, (real *)e->tdalpha + ao, G(y) + s * len,
                                     TG(y) + s * len, in, tin, nd->aidx,
                                     (const real *)e->alpha + ao, (const real *)e->talpha + ao,
                                     nd->nin, len);
        }
        break;
    }
    case FN_NODE_CONCAT: {
        real *tdin[FN_MAX_IN];
        int cin[FN_MAX_IN];
        const int nb = node_blocks(nd);
        for (int j = 0; j < nd->nin; j++) {
            tdin[j] = e->needs_grad[nd->in[j]] ? TG(nd->in[j]) : NULL;
            cin[j] = g->t[nd->in[j]].c / nb;
        }
        FN(concat_backward)(tdin, TG(y), cin, nd->nin, ti->n * nb, ti->h * ti->w);
        break;
    }
    case FN_NODE_SUBSAMPLE:
        if (tdx)
            FN(subsample_backward)(tdx, TG(y), ti->n, ti->c, ti->h, ti->w, nd->off, nd->stride,
                                   nd->ho, nd->wo);
        break;
    case FN_NODE_ZERO: break;
    case FN_NODE_SCALE_N:
        if (tdx)
            FN(scale_n_backward)(tdx, TG(y), (const real *)e->alpha + nd->off, ti->n,
                                 NUMEL(x) / ti->n);
        break;
    }
}

void FN(graph_forward_tangent)(fn_exec *e) {
    const fn_graph *g = e->g;
    e->alias_on = 0; /* the tangents are planned as the plain layout (graph_alias.h) */
    exec_use_layout(e, FN_LAYOUT_PLAIN);
    memset(TT(g->input), 0, sizeof(real) * NUMEL(g->input)); /* the input does not move */
    for (int i = 0; i < e->g->nn; i++) {
        FN(graph_forward_node)(e, i);
        tangent_forward_node(e, i);
    }
}

void FN(graph_backward_tangent)(fn_exec *e, const void *dlogits, const void *tdlogits) {
    fn_fold *fold = e->fold; /* the tangents read every d y: no folding (graph_fold.h) */
    e->fold = NULL;
    FN(graph_backward_start)(e, e->grad, e->dalpha, e->dparams, dlogits);
    FN(graph_backward_start)(e, e->tgrad, e->tdalpha, e->tdparams, tdlogits);
    e->fold = fold;
    fn_backward_hook hook = e->bwd_hook;
    e->bwd_hook = NULL;
    for (int i = e->g->nn - 1; i >= 0; i--) {
        if (!FN(graph_backward_runs)(e, i)) continue;
        /* both read dy and its tangent, complete here; each writes only its own arenas */
        tangent_backward_node(e, i);
        FN(graph_backward_node)(e, i);
        if (e->tbwd_hook) e->tbwd_hook(e->tbwd_hook_user, e, i);
    }
    e->bwd_hook = hook;
}
