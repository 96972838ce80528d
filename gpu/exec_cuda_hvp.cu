/* gpu/exec_cuda_hvp.cu: the CUDA backend's exact Hessian-vector product (engine/exec.h,
 * engine/backend.h's hvp_init, forward_tangent, backward_tangent, tangent), the twin of
 * engine/graph_hvp.c: each node's primal kernels (gpu/exec_cuda_nodes.cu), then its tangent
 * rule, on tangent arenas laid out as the activations, gradients and BN statistics. Conv
 * tangents are cuDNN calls accumulating with beta = 1, linear ones cuBLAS GEMMs, BN, ReLU,
 * max pool and mix have kernels in gpu/ops_tangent.cu; the rest reuse the primal kernels on
 * tangents. The passes run eagerly (never captured into CUDA graphs). */
#include "gpu/exec_cuda_impl.cuh"
#include "gpu/exec_cuda.h"
#include "gpu/ops_tangent.cuh"

typedef struct {
    char *tact, *tgrad, *tsaved, *talpha, *tdalpha, *tparams, *tdparams;
    double *scratch;
    char *host_tact; /* host mirror of the activation tangents (exec_tangent) */
} gpu_hvp;

#define HV(gx) ((gpu_hvp *)(gx)->hvp)
#define TT(id) ((T *)h->tact + e->plan.act_off[(id)])
#define TG(id) ((T *)h->tgrad + e->plan.grad_off[(id)])
#define TP(id) ((id) >= 0 && e->tangent_params ? (T *)h->tparams + g->p[(id)].off : (T *)NULL)
#define TDP(id) ((id) >= 0 && h->tdparams ? (T *)h->tdparams + g->p[(id)].off : (T *)NULL)

static void dfree(void *p) {
    if (p) cudaCheck(cudaFree(p));
}

void gpu_hvp_free(gpu_exec *gx) {
    gpu_hvp *h = HV(gx);
    if (!h) return;
    dfree(h->tact); dfree(h->tgrad); dfree(h->tsaved); dfree(h->talpha); dfree(h->tdalpha);
    dfree(h->tparams); dfree(h->tdparams); dfree(h->scratch);
    free(h->host_tact);
    free(h);
    gx->hvp = NULL;
}

static int dalloc(char **p, size_t bytes) {
    if (cudaMalloc((void **)p, bytes < 256 ? 256 : bytes) != cudaSuccess) {
        cudaGetLastError();
        *p = NULL;
        return -1;
    }
    return 0;
}

static int gpu_hvp_init(fn_exec *e, char *err, size_t len) {
    gpu_exec *gx = (gpu_exec *)e->dev;
    const fn_graph *g = e->g;
    ctx_enter();
    gpu_hvp *h = (gpu_hvp *)calloc(1, sizeof(gpu_hvp));
    FN_ASSERT(h);
    gx->hvp = h;
    const size_t es = e->dtype == FN_F64 ? sizeof(double) : sizeof(float);
    size_t scratch = 1;
    for (int i = 0; i < g->nn; i++) {
        const fn_node *nd = &g->nodes[i];
        const size_t sc = nd->kind == FN_NODE_BN    ? op_bn_tangent_scratch(g->t[nd->in[0]].c)
                          : nd->kind == FN_NODE_MIX ? op_mix_scratch(nd->nin, node_models(nd))
                                                    : 0;
        if (sc > scratch) scratch = sc;
    }
    const size_t total = es * (e->plan.act_numel + e->plan.grad_numel + g->saved_numel +
                               2 * g->alpha_numel + 2 * g->param_numel) + 8 * scratch;
    if (dalloc(&h->tact, es * e->plan.act_numel) || dalloc(&h->tgrad, es * e->plan.grad_numel) ||
        dalloc(&h->tsaved, es * g->saved_numel) || dalloc(&h->talpha, es * g->alpha_numel) ||
        dalloc(&h->tdalpha, es * g->alpha_numel) || dalloc(&h->tparams, es * g->param_numel) ||
        (e->param_grads && dalloc(&h->tdparams, es * g->param_numel)) ||
        dalloc((char **)&h->scratch, sizeof(double) * scratch)) {
        gpu_hvp_free(gx);
        snprintf(err, len, "out of GPU memory: the Hessian-vector product needs %.2f GiB more",
                 (double)total / (1u << 30));
        return FN_EXEC_OOM;
    }
    h->host_tact = (char *)malloc(es * e->plan.act_numel + 1);
    if (!h->host_tact) {
        gpu_hvp_free(gx);
        snprintf(err, len, "out of memory: host mirror of the activation tangents");
        return FN_EXEC_OOM;
    }
    return 0;
}

template <typename T> static void tangent_fwd_node(fn_exec *e, int i) {
    gpu_exec *gx = (gpu_exec *)e->dev;
    gpu_hvp *h = HV(gx);
    const fn_graph *g = e->g;
    cudaStream_t s = cuda_ctx.stream;
    const T one = 1, zero = 0;
    const fn_node *nd = &g->nodes[i];
    const node_dev *d = &gx->nd[i];
    const int x = nd->in[0], y = nd->out;
    const fn_tensor *ti = &g->t[x];
    switch (nd->kind) {
    case FN_NODE_CONV:
        cudnnCheck(cudnnConvolutionForward(cuda_ctx.cudnn, &one, d->x, TT(x), d->w, PD(nd->w),
                                           d->conv, d->a.fwd, gx->ws, gx->ws_bytes, &zero, d->y,
                                           TT(y)));
        if (TP(nd->w))
            cudnnCheck(cudnnConvolutionForward(cuda_ctx.cudnn, &one, d->x, TD(x), d->w, TP(nd->w),
                                               d->conv, d->a.fwd, gx->ws, gx->ws_bytes, &one,
                                               d->y, TT(y)));
        break;
    case FN_NODE_BN:
        if (e->bn_mode == FN_BN_TRAIN || nd->zc_keep_bn) {
            const T *sv = (const T *)gx->saved + nd->saved;
            T *tsv = (T *)h->tsaved + nd->saved;
            op_bn_fwd_tangent<T>(s, TT(y), tsv, tsv + ti->c, TT(x), TD(x), sv, sv + ti->c,
                                 PD(nd->w), TP(nd->w), TP(nd->b), ti->n, ti->c, ti->h * ti->w,
                                 h->scratch);
        } else {
            cudaCheck(cudaMemcpyAsync(TT(y), TT(x), sizeof(T) * NUMEL(x),
                                      cudaMemcpyDeviceToDevice, s));
        }
        break;
    case FN_NODE_RELU:
        if (e->relu_mode == FN_RELU_NORMAL) op_relu_fwd_tangent<T>(s, TT(y), TT(x), TD(x), NUMEL(x));
        else op_relu_mask_fwd<T>(s, TT(y), TT(x), gx->relu_mask + e->relu_mask_off[i], NUMEL(x), 0);
        break;
    case FN_NODE_AVGPOOL:
        cudnnCheck(cudnnPoolingForward(cuda_ctx.cudnn, d->pool, &one, d->x, TT(x), &zero, d->y,
                                       TT(y)));
        break;
    case FN_NODE_MAXPOOL:
        op_maxpool_fwd_tangent<T>(s, TT(y), TT(x), TD(x), ti->n * ti->c, ti->h, ti->w, nd->k,
                                  nd->stride, nd->pad, nd->ho, nd->wo);
        break;
    case FN_NODE_GAP: op_gap_fwd<T>(s, TT(y), TT(x), ti->n * ti->c, ti->h * ti->w); break;
    case FN_NODE_LINEAR: {
        const int nb = node_models(nd), in_f = ti->c * ti->h * ti->w / nb, f = g->t[y].c / nb;
        const long long fw = (long long)f * in_f;
        op_bias_fill<T>(s, TT(y), TP(nd->b), ti->n, f * nb);
        gemm_blocks(CUBLAS_OP_T, CUBLAS_OP_N, f, ti->n, in_f, PD(nd->w), in_f, fw, TT(x), in_f * nb,
                    in_f, TT(y), f * nb, f, nb);
        if (TP(nd->w))
            gemm_blocks(CUBLAS_OP_T, CUBLAS_OP_N, f, ti->n, in_f, TP(nd->w), in_f, fw, TD(x),
                        in_f * nb, in_f, TT(y), f * nb, f, nb);
        break;
    }
    case FN_NODE_MIX: {
        op_mix_args a, b;
        a.k = b.k = nd->nin;
        for (int j = 0; j < nd->nin; j++) {
            a.in[j] = TT(nd->in[j]);
            b.in[j] = TD(nd->in[j]);
            a.din[j] = b.din[j] = NULL;
            a.aidx[j] = b.aidx[j] = nd->aidx[j];
        }
        mix_models(&a, g, nd);
        mix_models(&b, g, nd);
        op_mix_fwd<T>(s, TT(y), &a, (const T *)gx->alpha, NUMEL(y));
        op_mix_add_tangent<T>(s, TT(y), &b, (const T *)h->talpha, NUMEL(y));
        break;
    }
    case FN_NODE_CONCAT: {
        const int nb = node_models(nd);
        const size_t hw = (size_t)ti->h * ti->w, ctot = g->t[y].c / nb;
        size_t c0 = 0;
        for (int j = 0; j < nd->nin; j++) {
            const size_t cj = g->t[nd->in[j]].c / nb;
            cudaCheck(cudaMemcpy2DAsync(TT(y) + c0 * hw, sizeof(T) * ctot * hw, TT(nd->in[j]),
                                        sizeof(T) * cj * hw, sizeof(T) * cj * hw,
                                        (size_t)ti->n * nb, cudaMemcpyDeviceToDevice, s));
            c0 += cj;
        }
        break;
    }
    case FN_NODE_SUBSAMPLE:
        op_subsample_fwd<T>(s, TT(y), TT(x), ti->n * ti->c, ti->h, ti->w, nd->off, nd->stride,
                            nd->ho, nd->wo);
        break;
    case FN_NODE_ZERO: cudaCheck(cudaMemsetAsync(TT(y), 0, sizeof(T) * NUMEL(y), s)); break;
    case FN_NODE_SCALE_N: /* drop-path masks: constants, never a direction */
        op_scale_n_fwd<T>(s, TT(y), TT(x), (const T *)gx->alpha + nd->off, ti->n,
                          NUMEL(x) / ti->n);
        break;
    }
}

template <typename T> static void tangent_bwd_node(fn_exec *e, int i) {
    gpu_exec *gx = (gpu_exec *)e->dev;
    gpu_hvp *h = HV(gx);
    const fn_graph *g = e->g;
    cudaStream_t s = cuda_ctx.stream;
    const T one = 1;
    const fn_node *nd = &g->nodes[i];
    const node_dev *d = &gx->nd[i];
    const int x = nd->in[0], y = nd->out;
    for (int j = 0; j < nd->nin; j++) /* first written here: start from zero */
        if (e->needs_grad[nd->in[j]] && e->plan.grad_first[nd->in[j]] == i)
            cudaCheck(cudaMemsetAsync(TG(nd->in[j]), 0, sizeof(T) * NUMEL(nd->in[j]), s));
    const fn_tensor *ti = &g->t[x];
    T *tdx = e->needs_grad[x] ? TG(x) : NULL;
    switch (nd->kind) {
    case FN_NODE_CONV: {
        T *tdw = TDP(nd->w);
        if (tdx) {
            cudnnCheck(cudnnConvolutionBackwardData(cuda_ctx.cudnn, &one, d->w, PD(nd->w), d->y,
                                                    TG(y), d->conv, d->a.data, gx->ws,
                                                    gx->ws_bytes, &one, d->x, tdx));
            if (TP(nd->w))
                cudnnCheck(cudnnConvolutionBackwardData(cuda_ctx.cudnn, &one, d->w, TP(nd->w),
                                                        d->y, GD(y), d->conv, d->a.data, gx->ws,
                                                        gx->ws_bytes, &one, d->x, tdx));
        }
        if (tdw) {
            cudnnCheck(cudnnConvolutionBackwardFilter(cuda_ctx.cudnn, &one, d->x, TD(x), d->y,
                                                      TG(y), d->conv, d->a.filter, gx->ws,
                                                      gx->ws_bytes, &one, d->w, tdw));
            cudnnCheck(cudnnConvolutionBackwardFilter(cuda_ctx.cudnn, &one, d->x, TT(x), d->y,
                                                      GD(y), d->conv, d->a.filter, gx->ws,
                                                      gx->ws_bytes, &one, d->w, tdw));
        }
        break;
    }
    case FN_NODE_BN:
        if (e->bn_mode == FN_BN_TRAIN || nd->zc_keep_bn) {
            const T *sv = (const T *)gx->saved + nd->saved;
            const T *tsv = (const T *)h->tsaved + nd->saved;
            const int affine = nd->w >= 0; /* non-affine: x_hat = y and its tangent are kept */
            op_bn_bwd_tangent<T>(s, tdx, TDP(nd->w), TDP(nd->b), GD(y), TG(y),
                                 affine ? TD(x) : TD(y), affine ? TT(x) : TT(y), !affine, sv,
                                 sv + ti->c, tsv, tsv + ti->c, PD(nd->w), TP(nd->w), ti->n,
                                 ti->c, ti->h * ti->w, h->scratch);
        } else if (tdx) {
            op_add<T>(s, tdx, TG(y), NUMEL(x));
        }
        break;
    case FN_NODE_RELU:
        if (tdx && e->relu_mode == FN_RELU_FROZEN)
            op_relu_mask_bwd<T>(s, tdx, TG(y), gx->relu_mask + e->relu_mask_off[i], NUMEL(x));
        else if (tdx)
            op_relu_bwd<T>(s, tdx, TG(y), TD(x), NUMEL(x));
        break;
    case FN_NODE_AVGPOOL: /* cuDNN's average backward reads only dy (x, y: shapes) */
        if (tdx)
            cudnnCheck(cudnnPoolingBackward(cuda_ctx.cudnn, d->pool, &one, d->y, TD(y), d->y,
                                            TG(y), d->x, TD(x), &one, d->x, tdx));
        break;
    case FN_NODE_MAXPOOL:
        if (tdx)
            op_maxpool_bwd<T>(s, tdx, TG(y), TD(x), ti->n * ti->c, ti->h, ti->w, nd->k,
                              nd->stride, nd->pad, nd->ho, nd->wo);
        break;
    case FN_NODE_GAP:
        if (tdx) op_gap_bwd<T>(s, tdx, TG(y), ti->n * ti->c, ti->h * ti->w);
        break;
    case FN_NODE_LINEAR: {
        const int nb = node_models(nd), in_f = ti->c * ti->h * ti->w / nb, f = g->t[y].c / nb;
        const long long fw = (long long)f * in_f;
        T *tdw = TDP(nd->w);
        if (tdx) {
            gemm_blocks(CUBLAS_OP_N, CUBLAS_OP_N, in_f, ti->n, f, PD(nd->w), in_f, fw, TG(y),
                        f * nb, f, tdx, in_f * nb, in_f, nb);
            if (TP(nd->w))
                gemm_blocks(CUBLAS_OP_N, CUBLAS_OP_N, in_f, ti->n, f, TP(nd->w), in_f, fw, GD(y),
                            f * nb, f, tdx, in_f * nb, in_f, nb);
        }
        if (tdw) {
            gemm_blocks(CUBLAS_OP_N, CUBLAS_OP_T, in_f, f, ti->n, TD(x), in_f * nb, in_f, TG(y),
                        f * nb, f, tdw, in_f, fw, nb);
            gemm_blocks(CUBLAS_OP_N, CUBLAS_OP_T, in_f, f, ti->n, TT(x), in_f * nb, in_f, GD(y),
                        f * nb, f, tdw, in_f, fw, nb);
        }
        if (TDP(nd->b)) op_bias_grad<T>(s, TDP(nd->b), TG(y), ti->n, f * nb);
        break;
    }
    case FN_NODE_MIX: {
        /* c_j tdy and <tdy, x_j>; then t_j dy and <dy, tx_j> over the alpha terms only */
        op_mix_args a, b;
        a.k = nd->nin;
        b.k = 0;
        for (int j = 0; j < nd->nin; j++) {
            T *tdin = e->needs_grad[nd->in[j]] ? TG(nd->in[j]) : NULL;
            a.in[j] = TD(nd->in[j]);
            a.din[j] = tdin;
            a.aidx[j] = nd->aidx[j];
            if (nd->aidx[j] >= 0) {
                b.in[b.k] = TT(nd->in[j]);
                b.din[b.k] = tdin;
                b.aidx[b.k++] = nd->aidx[j];
            }
        }
        mix_models(&a, g, nd);
        mix_models(&b, g, nd);
        op_mix_bwd<T>(s, &a, (T *)h->tdalpha, TG(y), (const T *)gx->alpha, NUMEL(y), h->scratch);
        op_mix_bwd<T>(s, &b, (T *)h->tdalpha, GD(y), (const T *)h->talpha, NUMEL(y), h->scratch);
        break;
    }
    case FN_NODE_CONCAT: {
        const int nb = node_models(nd);
        const size_t hw = (size_t)ti->h * ti->w, ctot = g->t[y].c / nb;
        size_t c0 = 0;
        for (int j = 0; j < nd->nin; j++) {
            const size_t cj = g->t[nd->in[j]].c / nb;
            if (e->needs_grad[nd->in[j]])
                op_add_2d<T>(s, TG(nd->in[j]), cj * hw, TG(y) + c0 * hw, ctot * hw, cj * hw,
                             ti->n * nb);
            c0 += cj;
        }
        break;
    }
    case FN_NODE_SUBSAMPLE:
        if (tdx)
            op_subsample_bwd<T>(s, tdx, TG(y), ti->n * ti->c, ti->h, ti->w, nd->off, nd->stride,
                                nd->ho, nd->wo);
        break;
    case FN_NODE_ZERO: break;
    case FN_NODE_SCALE_N:
        if (tdx)
            op_scale_n_bwd<T>(s, tdx, TG(y), (const T *)gx->alpha + nd->off, ti->n,
                              NUMEL(x) / ti->n);
        break;
    }
}

template <typename T> static void forward_tangent(fn_exec *e) {
    gpu_exec *gx = (gpu_exec *)e->dev;
    gpu_hvp *h = HV(gx);
    const fn_graph *g = e->g;
    ctx_enter();
    ctx_math(e);
    cudaStream_t s = cuda_ctx.stream;
    if (!gx->uploaded || gx->uploaded_version != e->params_version) {
        cudaCheck(cudaMemcpyAsync(gx->params, e->params, sizeof(T) * g->param_numel,
                                  cudaMemcpyHostToDevice, s));
        gx->uploaded = 1;
        gx->uploaded_version = e->params_version;
    }
    cudaCheck(cudaMemcpyAsync(gx->alpha, e->alpha, sizeof(T) * g->alpha_numel,
                              cudaMemcpyHostToDevice, s));
    cudaCheck(cudaMemcpyAsync(h->talpha, e->talpha, sizeof(T) * g->alpha_numel,
                              cudaMemcpyHostToDevice, s));
    if (e->tangent_params)
        cudaCheck(cudaMemcpyAsync(h->tparams, e->tparams, sizeof(T) * g->param_numel,
                                  cudaMemcpyHostToDevice, s));
    cudaCheck(cudaMemcpyAsync(TD(g->input), e->host_in, sizeof(T) * NUMEL(g->input),
                              cudaMemcpyHostToDevice, s));
    cudaCheck(cudaMemsetAsync(TT(g->input), 0, sizeof(T) * NUMEL(g->input), s));
    saved_upload(e);
    for (int i = 0; i < g->nn; i++) {
        forward_node<T>(e, i);
        tangent_fwd_node<T>(e, i);
    }
    saved_download(e);
    cudaCheck(cudaMemcpyAsync(e->host_out, TD(g->output), sizeof(T) * NUMEL(g->output),
                              cudaMemcpyDeviceToHost, s));
    cudaCheck(cudaStreamSynchronize(s));
}

template <typename T> static void backward_tangent(fn_exec *e, const void *dl, const void *tdl) {
    gpu_exec *gx = (gpu_exec *)e->dev;
    gpu_hvp *h = HV(gx);
    const fn_graph *g = e->g;
    ctx_enter();
    ctx_math(e);
    cudaStream_t s = cuda_ctx.stream;
    backward_start<T>(e, (T *)gx->grad, (T *)gx->dalpha, (T *)gx->dparams);
    backward_start<T>(e, (T *)h->tgrad, (T *)h->tdalpha, (T *)h->tdparams);
    cudaCheck(cudaMemcpyAsync(GD(g->output), dl, sizeof(T) * NUMEL(g->output),
                              cudaMemcpyHostToDevice, s));
    cudaCheck(cudaMemcpyAsync(TG(g->output), tdl, sizeof(T) * NUMEL(g->output),
                              cudaMemcpyHostToDevice, s));
    fn_backward_hook hook = e->bwd_hook;
    e->bwd_hook = NULL;
    for (int i = g->nn - 1; i >= 0; i--) {
        if (!backward_runs(e, i)) continue;
        tangent_bwd_node<T>(e, i);
        backward_node<T>(e, i);
    }
    e->bwd_hook = hook;
    cudaCheck(cudaMemcpyAsync(e->dalpha, gx->dalpha, sizeof(T) * g->alpha_numel,
                              cudaMemcpyDeviceToHost, s));
    cudaCheck(cudaMemcpyAsync(e->tdalpha, h->tdalpha, sizeof(T) * g->alpha_numel,
                              cudaMemcpyDeviceToHost, s));
    if (gx->dparams)
        cudaCheck(cudaMemcpyAsync(e->dparams, gx->dparams, sizeof(T) * g->param_numel,
                                  cudaMemcpyDeviceToHost, s));
    if (h->tdparams)
        cudaCheck(cudaMemcpyAsync(e->tdparams, h->tdparams, sizeof(T) * g->param_numel,
                                  cudaMemcpyDeviceToHost, s));
    cudaCheck(cudaStreamSynchronize(s));
}

extern "C" int gpu_exec_hvp_init(fn_exec *e, char *err, size_t len) {
    return gpu_hvp_init(e, err, len);
}

extern "C" void gpu_exec_forward_tangent(fn_exec *e) {
    if (e->dtype == FN_F64) forward_tangent<double>(e);
    else forward_tangent<float>(e);
}

extern "C" void gpu_exec_backward_tangent(fn_exec *e, const void *dl, const void *tdl) {
    if (e->dtype == FN_F64) backward_tangent<double>(e, dl, tdl);
    else backward_tangent<float>(e, dl, tdl);
}

extern "C" void *gpu_exec_tangent(const fn_exec *e, int t) {
    gpu_exec *gx = (gpu_exec *)e->dev;
    gpu_hvp *h = HV(gx);
    const size_t es = e->dtype == FN_F64 ? sizeof(double) : sizeof(float);
    const size_t off = es * e->plan.act_off[t];
    ctx_enter();
    cudaCheck(cudaMemcpyAsync(h->host_tact + off, h->tact + off, es * graph_tensor_numel(e->g, t),
                              cudaMemcpyDeviceToHost, cuda_ctx.stream));
    cudaCheck(cudaStreamSynchronize(cuda_ctx.stream));
    return h->host_tact + off;
}
