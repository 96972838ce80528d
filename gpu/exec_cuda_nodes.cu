/* gpu/exec_cuda_nodes.cu: one graph node's forward and backward on the device, the twin of
 * engine/graph_exec.c node for node (gpu/exec_cuda.h lists what runs each op): the bodies of
 * the passes that gpu/exec_cuda.cu runs or captures, and that the HVP's tangent passes
 * (gpu/exec_cuda_hvp.cu) interleave with their own. */
#include "gpu/exec_cuda_impl.cuh"

void gemm(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, const float *A,
                 int lda, const float *B, int ldb, float *C, int ldc) {
    const float one = 1;
    cublasCheck(cublasSgemm(cuda_ctx.cublas, ta, tb, m, n, k, &one, A, lda, B, ldb, &one, C, ldc));
}
void gemm(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, const double *A,
                 int lda, const double *B, int ldb, double *C, int ldc) {
    const double one = 1;
    cublasCheck(cublasDgemm(cuda_ctx.cublas, ta, tb, m, n, k, &one, A, lda, B, ldb, &one, C, ldc));
}

void gemm_blocks(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, const float *A,
                 int lda, long long sa, const float *B, int ldb, long long sb, float *C, int ldc,
                 long long sc, int batch) {
    if (batch == 1) return gemm(ta, tb, m, n, k, A, lda, B, ldb, C, ldc);
    const float one = 1;
    cublasCheck(cublasSgemmStridedBatched(cuda_ctx.cublas, ta, tb, m, n, k, &one, A, lda, sa, B,
                                          ldb, sb, &one, C, ldc, sc, batch));
}
void gemm_blocks(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, const double *A,
                 int lda, long long sa, const double *B, int ldb, long long sb, double *C, int ldc,
                 long long sc, int batch) {
    if (batch == 1) return gemm(ta, tb, m, n, k, A, lda, B, ldb, C, ldc);
    const double one = 1;
    cublasCheck(cublasDgemmStridedBatched(cuda_ctx.cublas, ta, tb, m, n, k, &one, A, lda, sa, B,
                                          ldb, sb, &one, C, ldc, sc, batch));
}

/* node i's forward kernels, enqueued on the stream (or captured into a graph) */
template <typename T> void forward_node(fn_exec *e, int i) {
    gpu_exec *gx = (gpu_exec *)e->dev;
    const fn_graph *g = e->g;
    cudaStream_t s = cuda_ctx.stream;
    const T one = 1, zero = 0;
    {
        const fn_node *nd = &g->nodes[i];
        const node_dev *d = &gx->nd[i];
        const int x = nd->in[0], y = nd->out;
        const fn_tensor *ti = &g->t[x];
        switch (nd->kind) {
        case FN_NODE_CONV:
            cudnnCheck(cudnnConvolutionForward(cuda_ctx.cudnn, &one, d->x, TD(x), d->w, PD(nd->w), d->conv,
                                               d->a.fwd, gx->ws, gx->ws_bytes, &zero, d->y, TD(y)));
            break;
        case FN_NODE_BN: {
            T *sv = (T *)gx->saved + nd->saved;
            if (e->bn_mode == FN_BN_EVAL) /* the statistics forward uploaded (exec.h) */
                op_bn_eval_fwd<T>(s, TD(y), TD(x), sv, sv + ti->c, PD(nd->w), PD(nd->b), ti->n,
                                  ti->c, ti->h * ti->w);
            else if (e->bn_mode == FN_BN_TRAIN || nd->zc_keep_bn)
                op_bn_fwd<T>(s, TD(y), sv, sv + ti->c, TD(x), PD(nd->w), PD(nd->b), ti->n, ti->c,
                             ti->h * ti->w, FN_BN_EPS, gx->scratch);
            else
                cudaCheck(cudaMemcpyAsync(TD(y), TD(x), sizeof(T) * NUMEL(x),
                                          cudaMemcpyDeviceToDevice, s));
            break;
        }
        case FN_NODE_RELU:
            if (e->relu_mode == FN_RELU_NORMAL) op_relu_fwd<T>(s, TD(y), TD(x), NUMEL(x));
            else
                op_relu_mask_fwd<T>(s, TD(y), TD(x), gx->relu_mask + e->relu_mask_off[i], NUMEL(x),
                                    e->relu_mode == FN_RELU_RECORD);
            break;
        case FN_NODE_AVGPOOL:
        case FN_NODE_MAXPOOL:
            cudnnCheck(cudnnPoolingForward(cuda_ctx.cudnn, d->pool, &one, d->x, TD(x), &zero, d->y, TD(y)));
            break;
        case FN_NODE_GAP: op_gap_fwd<T>(s, TD(y), TD(x), ti->n * ti->c, ti->h * ti->w); break;
        case FN_NODE_LINEAR: { /* a stacked graph's: one GEMM per model block, batched */
            const int nb = node_models(nd), in_f = ti->c * ti->h * ti->w / nb, f = g->t[y].c / nb;
            op_bias_fill<T>(s, TD(y), PD(nd->b), ti->n, f * nb);
            /* row-major y[n, f] += x[n, in_f] w[f, in_f]^T, as column-major y^T = w x^T */
            gemm_blocks(CUBLAS_OP_T, CUBLAS_OP_N, f, ti->n, in_f, PD(nd->w), in_f,
                        (long long)f * in_f, TD(x), in_f * nb, in_f, TD(y), f * nb, f, nb);
            break;
        }
        case FN_NODE_MIX: {
            op_mix_args a;
            a.k = nd->nin;
            for (int j = 0; j < nd->nin; j++) {
                a.in[j] = TD(nd->in[j]);
                a.din[j] = NULL;
                a.aidx[j] = nd->aidx[j];
            }
            mix_models(&a, g, nd);
            op_mix_fwd<T>(s, TD(y), &a, (const T *)gx->alpha, NUMEL(y));
            break;
        }
        case FN_NODE_CONCAT: { /* a stacked concat is the plain one on n * models samples */
            const int nb = node_models(nd);
            const size_t hw = (size_t)ti->h * ti->w, ctot = g->t[y].c / nb;
            size_t c0 = 0;
            for (int j = 0; j < nd->nin; j++) {
                const size_t cj = g->t[nd->in[j]].c / nb;
                cudaCheck(cudaMemcpy2DAsync(TD(y) + c0 * hw, sizeof(T) * ctot * hw, TD(nd->in[j]),
                                            sizeof(T) * cj * hw, sizeof(T) * cj * hw,
                                            (size_t)ti->n * nb, cudaMemcpyDeviceToDevice, s));
                c0 += cj;
            }
            break;
        }
        case FN_NODE_SUBSAMPLE:
            op_subsample_fwd<T>(s, TD(y), TD(x), ti->n * ti->c, ti->h, ti->w, nd->off, nd->stride,
                                nd->ho, nd->wo);
            break;
        case FN_NODE_ZERO: cudaCheck(cudaMemsetAsync(TD(y), 0, sizeof(T) * NUMEL(y), s)); break;
        case FN_NODE_SCALE_N: /* the scales are alpha[off .. off + n) (drop-path) */
            op_scale_n_fwd<T>(s, TD(y), TD(x), (const T *)gx->alpha + nd->off, ti->n,
                              NUMEL(x) / ti->n);
            break;
        }
    }
}

int backward_runs(const fn_exec *e, int i) {
    const int y = e->g->nodes[i].out;
    return e->needs_grad[y] && (e->plan.grad_first[y] >= 0 || y == e->g->output);
}

template <typename T> void backward_start(fn_exec *e, T *grad, T *dalpha, T *dparams) {
    const fn_graph *g = e->g;
    cudaStream_t s = cuda_ctx.stream;
    cudaCheck(cudaMemsetAsync(dalpha, 0, sizeof(T) * g->alpha_numel, s));
    if (dparams) cudaCheck(cudaMemsetAsync(dparams, 0, sizeof(T) * g->param_numel, s));
    for (int t = 0; t < g->nt; t++) /* wanted gradients no node writes (graph_plan.c) */
        if (e->needs_grad[t] && e->plan.grad_first[t] < 0 && t != g->output)
            cudaCheck(cudaMemsetAsync(grad + e->plan.grad_off[t], 0, sizeof(T) * NUMEL(t), s));
}

/* node i's backward kernels (where backward_runs(e, i)) */
template <typename T> void backward_node(fn_exec *e, int i) {
    gpu_exec *gx = (gpu_exec *)e->dev;
    const fn_graph *g = e->g;
    cudaStream_t s = cuda_ctx.stream;
    const T one = 1;
    {
        const fn_node *nd = &g->nodes[i];
        const node_dev *d = &gx->nd[i];
        const int x = nd->in[0], y = nd->out;
        for (int j = 0; j < nd->nin; j++) /* gradients first written here start from zero */
            if (e->needs_grad[nd->in[j]] && e->plan.grad_first[nd->in[j]] == i)
                cudaCheck(cudaMemsetAsync(GD(nd->in[j]), 0, sizeof(T) * NUMEL(nd->in[j]), s));
        const fn_tensor *ti = &g->t[x];
        T *dx = e->needs_grad[x] ? GD(x) : NULL;
        switch (nd->kind) {
        case FN_NODE_CONV:
            if (dx)
                cudnnCheck(cudnnConvolutionBackwardData(cuda_ctx.cudnn, &one, d->w, PD(nd->w), d->y, GD(y),
                                                        d->conv, d->a.data, gx->ws, gx->ws_bytes,
                                                        &one, d->x, dx));
            if (DPD(nd->w))
                cudnnCheck(cudnnConvolutionBackwardFilter(cuda_ctx.cudnn, &one, d->x, TD(x), d->y, GD(y),
                                                          d->conv, d->a.filter, gx->ws,
                                                          gx->ws_bytes, &one, d->w, DPD(nd->w)));
            break;
        case FN_NODE_BN: /* as the CPU's: eval mode passes dy through (train/ never
                            runs backward in eval mode) */
            if (e->bn_mode == FN_BN_TRAIN || nd->zc_keep_bn) {
                T *sv = (T *)gx->saved + nd->saved;
                const int affine = nd->w >= 0; /* non-affine: the planner kept x_hat = y */
                op_bn_bwd<T>(s, dx, DPD(nd->w), DPD(nd->b), GD(y), affine ? TD(x) : TD(y), !affine,
                             sv, sv + ti->c, PD(nd->w), ti->n, ti->c, ti->h * ti->w, gx->scratch);
            } else if (dx) {
                op_add<T>(s, dx, GD(y), NUMEL(x));
            }
            break;
        case FN_NODE_RELU:
            if (dx && e->relu_mode == FN_RELU_FROZEN)
                op_relu_mask_bwd<T>(s, dx, GD(y), gx->relu_mask + e->relu_mask_off[i], NUMEL(x));
            else if (dx)
                op_relu_bwd<T>(s, dx, GD(y), TD(x), NUMEL(x));
            break;
        case FN_NODE_AVGPOOL: /* cuDNN's average backward reads only dy (x, y: shapes) */
            if (dx)
                cudnnCheck(cudnnPoolingBackward(cuda_ctx.cudnn, d->pool, &one, d->y, TD(y), d->y, GD(y),
                                                d->x, TD(x), &one, d->x, dx));
            break;
        case FN_NODE_MAXPOOL:
            if (dx)
                op_maxpool_bwd<T>(s, dx, GD(y), TD(x), ti->n * ti->c, ti->h, ti->w, nd->k,
                                  nd->stride, nd->pad, nd->ho, nd->wo);
            break;
        case FN_NODE_GAP:
            if (dx) op_gap_bwd<T>(s, dx, GD(y), ti->n * ti->c, ti->h * ti->w);
            break;
        case FN_NODE_LINEAR: {
            const int nb = node_models(nd), in_f = ti->c * ti->h * ti->w / nb, f = g->t[y].c / nb;
            const long long fw = (long long)f * in_f;
            if (dx) /* dx[n, in_f] += dy[n, f] w[f, in_f] */
                gemm_blocks(CUBLAS_OP_N, CUBLAS_OP_N, in_f, ti->n, f, PD(nd->w), in_f, fw, GD(y),
                            f * nb, f, dx, in_f * nb, in_f, nb);
            if (DPD(nd->w)) /* dw[f, in_f] += dy^T x */
                gemm_blocks(CUBLAS_OP_N, CUBLAS_OP_T, in_f, f, ti->n, TD(x), in_f * nb, in_f, GD(y),
                            f * nb, f, DPD(nd->w), in_f, fw, nb);
            if (DPD(nd->b)) op_bias_grad<T>(s, DPD(nd->b), GD(y), ti->n, f * nb);
            break;
        }
        case FN_NODE_MIX: {
            op_mix_args a;
            a.k = nd->nin;
            for (int j = 0; j < nd->nin; j++) {
                a.in[j] = TD(nd->in[j]);
                a.din[j] = e->needs_grad[nd->in[j]] ? GD(nd->in[j]) : NULL;
                a.aidx[j] = nd->aidx[j];
            }
            mix_models(&a, g, nd);
            op_mix_bwd<T>(s, &a, (T *)gx->dalpha, GD(y), (const T *)gx->alpha, NUMEL(y), gx->scratch);
            break;
        }
        case FN_NODE_CONCAT: {
            const int nb = node_models(nd);
            const size_t hw = (size_t)ti->h * ti->w, ctot = g->t[y].c / nb;
            size_t c0 = 0;
            for (int j = 0; j < nd->nin; j++) {
                const size_t cj = g->t[nd->in[j]].c / nb;
                if (e->needs_grad[nd->in[j]])
                    op_add_2d<T>(s, GD(nd->in[j]), cj * hw, GD(y) + c0 * hw, ctot * hw, cj * hw,
                                 ti->n * nb);
                c0 += cj;
            }
            break;
        }
        case FN_NODE_SUBSAMPLE:
            if (dx)
                op_subsample_bwd<T>(s, dx, GD(y), ti->n * ti->c, ti->h, ti->w, nd->off, nd->stride,
                                    nd->ho, nd->wo);
            break;
        case FN_NODE_ZERO: break;
        case FN_NODE_SCALE_N: /* constants: no d alpha */
            if (dx)
                op_scale_n_bwd<T>(s, dx, GD(y), (const T *)gx->alpha + nd->off, ti->n,
                                  NUMEL(x) / ti->n);
            break;
        }
        if (e->bwd_hook) e->bwd_hook(e->bwd_hook_user, e, i); /* reads via exec_tensor*: syncs */
    }
}

template void forward_node<float>(fn_exec *, int);
template void forward_node<double>(fn_exec *, int);
template void backward_node<float>(fn_exec *, int);
template void backward_node<double>(fn_exec *, int);
template void backward_start<float>(fn_exec *, float *, float *, float *);
template void backward_start<double>(fn_exec *, double *, double *, double *);
