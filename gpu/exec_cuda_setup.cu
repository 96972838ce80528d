/* gpu/exec_cuda_setup.cu: the CUDA executor's per-thread context (device, stream, cuDNN and
 * cuBLAS handles, the shared arena set, the CUDA graph cache), device arenas, per-node cuDNN
 * descriptors with their algorithms, and the keys that name captured passes
 * (gpu/exec_cuda_impl.cuh). */
#include "gpu/exec_cuda_impl.cuh"
#include "gpu/exec_cuda.h"

thread_local cuda_ctx_t cuda_ctx;
int cuda_graphs_off;
const char *const role_name[R_COUNT] = {"activations", "gradients", "parameters", "d parameters",
                                         "BN statistics", "alpha", "d alpha", "cuDNN workspace",
                                         "reduction scratch"};

int ctx_init(char *err, size_t len) {
    if (cuda_ctx.ready) {
        cudaCheck(cudaSetDevice(cuda_ctx.device));
        return 0;
    }
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess || n == 0) {
        cudaGetLastError();
        snprintf(err, len, "device cuda: no usable CUDA device on this host (hint: device: cpu)");
        return FN_EXEC_DEVICE;
    }
    /* Each handle is made once: after a failure below (say the cuBLAS workspace does not
     * fit) a later job's retry keeps what was made instead of leaking it and making more.
     * The device: the process's (gpu_bind: a rank's GPU, for every thread of a bundle), else
     * this thread's current one. */
    if (!cuda_ctx.stream) {
        cuda_ctx.device = backend_cuda_device();
        if (cuda_ctx.device < 0 || cuda_ctx.device >= n) cudaCheck(cudaGetDevice(&cuda_ctx.device));
        cudaCheck(cudaSetDevice(cuda_ctx.device));
        cudaCheck(cudaStreamCreateWithFlags(&cuda_ctx.stream, cudaStreamNonBlocking));
    }
    cudaCheck(cudaSetDevice(cuda_ctx.device));
    if (!cuda_ctx.cudnn) {
        cudnnStatus_t st = cudnnCreate(&cuda_ctx.cudnn);
        if (st != CUDNN_STATUS_SUCCESS) {
            cuda_ctx.cudnn = NULL;
            snprintf(err, len, "device cuda: cudnnCreate failed: %s (is cuDNN 9 on the library "
                     "path?)", cudnnGetErrorString(st));
            return FN_EXEC_DEVICE;
        }
        cudnnCheck(cudnnSetStream(cuda_ctx.cudnn, cuda_ctx.stream));
    }
    if (!cuda_ctx.cublas) {
        cublasStatus_t bs = cublasCreate(&cuda_ctx.cublas);
        if (bs != CUBLAS_STATUS_SUCCESS) {
            cuda_ctx.cublas = NULL;
            snprintf(err, len, "device cuda: cublasCreate failed: %s", cublasGetStatusString(bs));
            return FN_EXEC_DEVICE;
        }
        cublasCheck(cublasSetStream(cuda_ctx.cublas, cuda_ctx.stream));
    }
    /* a fixed cuBLAS workspace: nothing is allocated while a pass is captured into a graph */
    if (cudaMalloc(&cuda_ctx.cublas_ws, CUBLAS_WS) != cudaSuccess) {
        cudaGetLastError();
        cuda_ctx.cublas_ws = NULL;
        snprintf(err, len, "out of GPU memory: cannot allocate the cuBLAS workspace");
        return FN_EXEC_OOM;
    }
    cublasCheck(cublasSetWorkspace(cuda_ctx.cublas, cuda_ctx.cublas_ws, CUBLAS_WS));
    cuda_ctx.ready = 1;
    return 0;
}

void ctx_enter(void) {
    if (!cuda_ctx.ready) {
        char err[FN_ERRLEN];
        if (ctx_init(err, sizeof err)) FN_FATAL("a CUDA executor ran on a new thread: %s", err);
    }
    cudaCheck(cudaSetDevice(cuda_ctx.device));
}

/* free bytes on the device of this thread's executors (fn_backend.mem_free); 0 without one */
extern "C" size_t gpu_mem_free(void) {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess || n == 0) {
        cudaGetLastError();
        return 0;
    }
    int dev = cuda_ctx.ready ? cuda_ctx.device : backend_cuda_device();
    if (dev < 0 || dev >= n) cudaCheck(cudaGetDevice(&dev));
    size_t free_b = 0, total_b = 0;
    if (cudaSetDevice(dev) != cudaSuccess || cudaMemGetInfo(&free_b, &total_b) != cudaSuccess) {
        cudaGetLastError();
        return 0;
    }
    return free_b;
}

void arena_release(arena_set *a) {
    for (int r = 0; r < R_COUNT; r++) {
        if (a->buf[r]) cudaCheck(cudaFree(a->buf[r]));
        a->buf[r] = NULL;
        a->cap[r] = 0;
    }
}

/* grows role r of a to at least `bytes`; -1 when the GPU is out of memory */
int arena_take(arena_set *a, int r, size_t bytes) {
    if (bytes < 256) bytes = 256;
    if (a->buf[r] && a->cap[r] >= bytes) return 0;
    if (a->buf[r]) cudaCheck(cudaFree(a->buf[r]));
    a->buf[r] = NULL;
    a->cap[r] = 0;
    cudaError_t e = cudaMalloc(&a->buf[r], bytes);
    if (e != cudaSuccess) {
        if (e != cudaErrorMemoryAllocation) cudaCheck(e);
        cudaGetLastError(); /* out of memory is not sticky */
        a->buf[r] = NULL;
        return -1;
    }
    a->cap[r] = bytes;
    return 0;
}

/* ------------------------------------------------------------------ cuDNN descriptors --- */
static cudnnDataType_t cudnn_type(fn_dtype dt) {
    return dt == FN_F64 ? CUDNN_DATA_DOUBLE : CUDNN_DATA_FLOAT;
}

static int math_ok(fn_dtype dt, int tf32, cudnnMathType_t m) {
    /* float32: no tensor-core (TF32) math unless the executor asked for it (fn_exec_opts.tf32) */
    return dt == FN_F64 || tf32 || m == CUDNN_FMA_MATH;
}

/* GEMM and direct algorithms only: FFT and Winograd transforms trade accuracy for speed
 * (float32 errors of 1e-2 seen on NB-1shot1 gradients, against 1e-3 for the CPU's GEMM) */
static int exact_fwd(cudnnConvolutionFwdAlgo_t a) {
    return a == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM ||
           a == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM ||
           a == CUDNN_CONVOLUTION_FWD_ALGO_GEMM || a == CUDNN_CONVOLUTION_FWD_ALGO_DIRECT;
}
static int exact_data(cudnnConvolutionBwdDataAlgo_t a) {
    return a == CUDNN_CONVOLUTION_BWD_DATA_ALGO_0 || a == CUDNN_CONVOLUTION_BWD_DATA_ALGO_1;
}
static int exact_filter(cudnnConvolutionBwdFilterAlgo_t a) {
    return a == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0 || a == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1 ||
           a == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_3;
}

/* The first (fastest by heuristic) of cuDNN's candidates that succeeds, fits WS_CAP, is
 * deterministic, uses allowed math and is GEMM-type; else the fallback, which always runs. */
template <typename Perf, typename Algo>
static Algo pick(const Perf *p, int got, fn_dtype dt, int tf32, int (*exact)(Algo), Algo fallback) {
    for (int i = 0; i < got; i++)
        if (p[i].status == CUDNN_STATUS_SUCCESS && p[i].memory <= WS_CAP &&
            p[i].determinism == CUDNN_DETERMINISTIC && math_ok(dt, tf32, p[i].mathType) &&
            exact(p[i].algo))
            return p[i].algo;
    return fallback;
}

/* forward, backward-data and backward-filter algorithms and their largest workspace */
static void conv_pick(fn_dtype dt, int tf32, node_dev *d) {
    enum { NALG = 16 };
    int got = 0;
    size_t b[3] = {0, 0, 0};
    cudnnConvolutionFwdAlgoPerf_t pf[NALG];
    cudnnCheck(cudnnGetConvolutionForwardAlgorithm_v7(cuda_ctx.cudnn, d->x, d->w, d->conv, d->y, NALG,
                                                      &got, pf));
    d->a.fwd = pick(pf, got, dt, tf32, exact_fwd, CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM);
    cudnnCheck(cudnnGetConvolutionForwardWorkspaceSize(cuda_ctx.cudnn, d->x, d->w, d->conv, d->y,
                                                       d->a.fwd, &b[0]));
    cudnnConvolutionBwdDataAlgoPerf_t pd[NALG];
    cudnnCheck(cudnnGetConvolutionBackwardDataAlgorithm_v7(cuda_ctx.cudnn, d->w, d->y, d->conv, d->x,
                                                           NALG, &got, pd));
    d->a.data = pick(pd, got, dt, tf32, exact_data, CUDNN_CONVOLUTION_BWD_DATA_ALGO_1);
    cudnnCheck(cudnnGetConvolutionBackwardDataWorkspaceSize(cuda_ctx.cudnn, d->w, d->y, d->conv, d->x,
                                                            d->a.data, &b[1]));
    cudnnConvolutionBwdFilterAlgoPerf_t pw[NALG];
    cudnnCheck(cudnnGetConvolutionBackwardFilterAlgorithm_v7(cuda_ctx.cudnn, d->x, d->y, d->conv, d->w,
                                                             NALG, &got, pw));
    d->a.filter = pick(pw, got, dt, tf32, exact_filter, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1);
    cudnnCheck(cudnnGetConvolutionBackwardFilterWorkspaceSize(cuda_ctx.cudnn, d->x, d->y, d->conv, d->w,
                                                              d->a.filter, &b[2]));
    d->a.ws = b[0] > b[1] ? b[0] : b[1];
    if (b[2] > d->a.ws) d->a.ws = b[2];
}

/* the cached algorithms of this shape, chosen on first sight */
static void conv_algos(fn_dtype dt, int tf32, const fn_graph *g, const fn_node *nd, node_dev *d) {
    const fn_tensor *in = &g->t[nd->in[0]];
    /* all three algorithms are chosen, wanted or not: the cache then serves every executor */
    int key[12] = {(int)dt, in->n, in->c, in->h, in->w, g->t[nd->out].c, nd->k, nd->stride,
                   nd->pad, nd->dil, nd->groups, tf32};
    for (int i = 0; i < cuda_ctx.nalgos; i++)
        if (!memcmp(cuda_ctx.algos[i].key, key, sizeof key)) {
            d->a = cuda_ctx.algos[i];
            return;
        }
    conv_pick(dt, tf32, d);
    memcpy(d->a.key, key, sizeof key);
    if (cuda_ctx.nalgos == cuda_ctx.cap_algos) {
        cuda_ctx.cap_algos = cuda_ctx.cap_algos ? 2 * cuda_ctx.cap_algos : 64;
        cuda_ctx.algos = (conv_algo *)realloc(cuda_ctx.algos, sizeof(conv_algo) * cuda_ctx.cap_algos);
        FN_ASSERT(cuda_ctx.algos);
    }
    cuda_ctx.algos[cuda_ctx.nalgos++] = d->a;
}

static void tensor_desc(cudnnTensorDescriptor_t *t, fn_dtype dt, int n, int c, int h, int w) {
    cudnnCheck(cudnnCreateTensorDescriptor(t));
    cudnnCheck(cudnnSetTensor4dDescriptor(*t, CUDNN_TENSOR_NCHW, cudnn_type(dt), n, c, h, w));
}

/* 0 when cuDNN's output shape of node i is the graph's, else -1 with a message */
static int same_shape(int i, const char *what, int n, int c, int h, int w, const fn_tensor *out,
                      char *err, size_t len) {
    if (n == out->n && c == out->c && h == out->h && w == out->w) return 0;
    snprintf(err, len, "device cuda: cuDNN gives %s node %d the output %dx%dx%dx%d, the graph "
             "%dx%dx%dx%d", what, i, n, c, h, w, out->n, out->c, out->h, out->w);
    return -1;
}

/* descriptors of node i; -1 with a message when cuDNN's output shape is not the graph's */
int node_setup(const fn_exec *e, int i, node_dev *d, char *err, size_t len) {
    const fn_graph *g = e->g;
    const fn_node *nd = &g->nodes[i];
    const fn_tensor *in = &g->t[nd->in[0]], *out = &g->t[nd->out];
    int n, c, h, w;
    if (nd->kind == FN_NODE_CONV) {
        tensor_desc(&d->x, e->dtype, in->n, in->c, in->h, in->w);
        tensor_desc(&d->y, e->dtype, out->n, out->c, out->h, out->w);
        cudnnCheck(cudnnCreateFilterDescriptor(&d->w));
        cudnnCheck(cudnnSetFilter4dDescriptor(d->w, cudnn_type(e->dtype), CUDNN_TENSOR_NCHW, out->c,
                                              in->c / nd->groups, nd->k, nd->k));
        cudnnCheck(cudnnCreateConvolutionDescriptor(&d->conv));
        cudnnCheck(cudnnSetConvolution2dDescriptor(d->conv, nd->pad, nd->pad, nd->stride, nd->stride,
                                                   nd->dil, nd->dil, CUDNN_CROSS_CORRELATION,
                                                   cudnn_type(e->dtype)));
        cudnnCheck(cudnnSetConvolutionGroupCount(d->conv, nd->groups));
        cudnnCheck(cudnnSetConvolutionMathType(d->conv, e->dtype == FN_F64 ? CUDNN_DEFAULT_MATH
                                                        : e->tf32        ? CUDNN_TENSOR_OP_MATH
                                                                         : CUDNN_FMA_MATH));
        cudnnCheck(cudnnGetConvolution2dForwardOutputDim(d->conv, d->x, d->w, &n, &c, &h, &w));
        if (same_shape(i, "convolution", n, c, h, w, out, err, len)) return -1;
        conv_algos(e->dtype, e->tf32, g, nd, d);
    } else if (nd->kind == FN_NODE_AVGPOOL || nd->kind == FN_NODE_MAXPOOL) {
        tensor_desc(&d->x, e->dtype, in->n, in->c, in->h, in->w);
        tensor_desc(&d->y, e->dtype, out->n, out->c, out->h, out->w);
        cudnnCheck(cudnnCreatePoolingDescriptor(&d->pool));
        cudnnCheck(cudnnSetPooling2dDescriptor(
            d->pool,
            nd->kind == FN_NODE_AVGPOOL ? CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING
                                        : CUDNN_POOLING_MAX_DETERMINISTIC,
            CUDNN_NOT_PROPAGATE_NAN, nd->k, nd->k, nd->pad, nd->pad, nd->stride, nd->stride));
        cudnnCheck(cudnnGetPooling2dForwardOutputDim(d->pool, d->x, &n, &c, &h, &w));
        if (same_shape(i, "pooling", n, c, h, w, out, err, len)) return -1;
    }
    return 0;
}

void node_teardown(node_dev *d) {
    if (d->x) cudnnCheck(cudnnDestroyTensorDescriptor(d->x));
    if (d->y) cudnnCheck(cudnnDestroyTensorDescriptor(d->y));
    if (d->w) cudnnCheck(cudnnDestroyFilterDescriptor(d->w));
    if (d->conv) cudnnCheck(cudnnDestroyConvolutionDescriptor(d->conv));
    if (d->pool) cudnnCheck(cudnnDestroyPoolingDescriptor(d->pool));
}

/* ------------------------------------------------------------------ graph keys --------- */
/* FNV-1a over everything a captured pass bakes in: node parameters, shapes, memory offsets,
 * which gradients exist, precision and the device buffers. Two executors with the same key
 * enqueue the same kernels with the same arguments, so one's CUDA graph serves the other
 * (a sweep's searches of one supernet shape with new weights). */
uint64_t fnv(uint64_t h, const void *p, size_t n) {
    const unsigned char *b = (const unsigned char *)p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

uint64_t exec_key(const fn_exec *e, const gpu_exec *gx) {
    const fn_graph *g = e->g;
    uint64_t h = 1469598103934665603ull;
    FNV(h, e->dtype);
    FNV(h, e->param_grads);
    FNV(h, e->tf32);
    FNV(h, g->nn);
    FNV(h, g->nt);
    FNV(h, g->input);
    FNV(h, g->output);
    FNV(h, g->param_numel);
    FNV(h, g->alpha_numel);
    for (int i = 0; i < g->nn; i++) {
        const fn_node *nd = &g->nodes[i];
        const int f[15] = {nd->kind, nd->out, nd->nin, nd->w, nd->b, nd->k, nd->stride, nd->pad,
                           nd->dil, nd->groups, nd->off, nd->ho, nd->wo, nd->zc_keep_bn,
                           (int)nd->saved};
        h = fnv(h, f, sizeof f);
        h = fnv(h, nd->in, sizeof(int) * nd->nin);
        h = fnv(h, nd->aidx, sizeof(int) * nd->nin);
        h = fnv(h, &gx->nd[i].a, sizeof(conv_algo));
    }
    for (int t = 0; t < g->nt; t++) {
        FNV(h, g->t[t]);
        FNV(h, e->plan.act_off[t]);
        FNV(h, e->plan.grad_off[t]);
        FNV(h, e->plan.grad_first[t]);
        FNV(h, e->needs_grad[t]);
    }
    for (int p = 0; p < g->np; p++) FNV(h, g->p[p].off);
    const void *ptr[9] = {gx->act, gx->grad, gx->params, gx->dparams, gx->saved, gx->alpha,
                          gx->dalpha, gx->ws, gx->scratch};
    h = fnv(h, ptr, sizeof ptr);
    FNV(h, gx->ws_bytes);
    return h;
}

extern "C" void gpu_cuda_set_graphs(int on) { cuda_graphs_off = !on; }
