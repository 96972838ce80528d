/* gpu/exec_cuda.cu: the CUDA executor (see gpu/exec_cuda.h): the twin of engine/graph_exec.c,
 * node for node, on one stream of the current device.
 *
 *   convolution      cuDNN forward / backward-data / backward-filter, grouped and dilated;
 *                    algorithms from cuDNN's heuristics (cudnnGet*_v7), restricted to
 *                    deterministic GEMM / direct ones (no FFT, no Winograd) and, in float32,
 *                    to FMA math (no TF32), so float32 results are as accurate as the CPU
 *                    reference's; cached per shape for the process
 *   average pooling  cuDNN, CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING (count_include_pad=False)
 *   max pooling      cuDNN forward; backward by gpu/ops.cu (the CPU's first-maximum rule)
 *   linear           cuBLAS GEMMs (default math: no TF32) and a bias kernel
 *   BN, ReLU, mixed op and d alpha, concat, subsample, global pooling, zero: gpu/ops.cu
 *
 * Memory: one device buffer per role (activations, gradients, parameters, d parameters, BN
 * statistics, alpha, d alpha, cuDNN workspace, reduction scratch), each sized by the plan of
 * engine/graph_plan.c. They are borrowed from a per-process set that only grows, so a sweep of
 * one supernet shape allocates once; a second executor alive at the same time gets its own.
 * Each pass (forward, backward) is captured into a CUDA graph the second time its key (graph
 * structure, precision, memory offsets and device buffers) is seen and replayed after that,
 * also by later executors of the same shape: a sweep's per-seed searches of one supernet
 * launch two graphs per search instead of thousands of kernels and cuDNN calls.
 * Not thread-safe: one thread of a process runs CUDA executors (a sweep rank's job loop). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "gpu/cuda_check.h"
#include "gpu/ops.cuh"

extern "C" {
#include "base/common.h"
#include "engine/exec.h"
#include "nn/batchnorm2d.h"
}
#include "gpu/exec_cuda.h"

enum { R_ACT, R_GRAD, R_PARAMS, R_DPARAMS, R_SAVED, R_ALPHA, R_DALPHA, R_WS, R_SCRATCH, R_COUNT };
static const char *role_name[R_COUNT] = {"activations", "gradients", "parameters", "d parameters",
                                         "BN statistics", "alpha", "d alpha", "cuDNN workspace",
                                         "reduction scratch"};
typedef struct {
    void *buf[R_COUNT];
    size_t cap[R_COUNT];
} arena_set;

#define WS_CAP ((size_t)1 << 30) /* largest cuDNN workspace one convolution may ask for */
#define GRAPH_CACHE 32           /* captured forward / backward passes kept per process */
#define CUBLAS_WS ((size_t)32 << 20)

/* cuDNN algorithms of one convolution shape */
typedef struct {
    int key[12];
    cudnnConvolutionFwdAlgo_t fwd;
    cudnnConvolutionBwdDataAlgo_t data;
    cudnnConvolutionBwdFilterAlgo_t filter;
    size_t ws; /* largest workspace of the three */
} conv_algo;

typedef struct {
    uint64_t key;
    int state; /* 1: seen once (ran eagerly), 2: captured, -1: capture failed */
    cudaGraphExec_t exec;
} graph_entry;

static struct {
    int ready, device;
    cudnnHandle_t cudnn;
    cublasHandle_t cublas;
    cudaStream_t stream;
    arena_set shared;
    int shared_busy;
    conv_algo *algos;
    int nalgos, cap_algos;
    void *cublas_ws;
    int graphs_off;           /* gpu_cuda_set_graphs(0): always run eagerly */
    char *host[2];            /* pinned host mirrors of the activation / gradient arenas, */
    size_t host_cap[2];       /* lent with the shared set (exec_tensor of other tensors) */
    graph_entry graphs[GRAPH_CACHE];
    int ngraphs, next_evict;
} ctx;

typedef struct {
    cudnnTensorDescriptor_t x, y;
    cudnnFilterDescriptor_t w;
    cudnnConvolutionDescriptor_t conv;
    cudnnPoolingDescriptor_t pool;
    conv_algo a;
} node_dev;

typedef struct {
    node_dev *nd;
    arena_set own;
    int uses_shared;
    char *act, *grad, *params, *dparams, *saved, *alpha, *dalpha;
    void *ws;
    size_t ws_bytes;
    double *scratch;
    unsigned uploaded_version;
    int uploaded;
    unsigned char *relu_mask; /* device: one byte per ReLU input (RECORD / FROZEN modes) */
    char *host[2];            /* host mirrors of act / grad (ctx.host when shared), or NULL */
    int host_own;
    uint64_t key; /* structure, precision, options and device pointers: names its CUDA graphs */
} gpu_exec;

static int ctx_init(char *err, size_t len) {
    if (ctx.ready) {
        cudaCheck(cudaSetDevice(ctx.device));
        return 0;
    }
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess || n == 0) {
        cudaGetLastError();
        snprintf(err, len, "device cuda: no usable CUDA device on this host (hint: device: cpu)");
        return FN_EXEC_DEVICE;
    }
    /* Each handle is made once: after a failure below (say the cuBLAS workspace does not
     * fit) a later job's retry keeps what was made instead of leaking it and making more. */
    if (!ctx.stream) {
        cudaCheck(cudaGetDevice(&ctx.device));
        cudaCheck(cudaStreamCreateWithFlags(&ctx.stream, cudaStreamNonBlocking));
    }
    cudaCheck(cudaSetDevice(ctx.device));
    if (!ctx.cudnn) {
        cudnnStatus_t st = cudnnCreate(&ctx.cudnn);
        if (st != CUDNN_STATUS_SUCCESS) {
            ctx.cudnn = NULL;
            snprintf(err, len, "device cuda: cudnnCreate failed: %s (is cuDNN 9 on the library "
                     "path?)", cudnnGetErrorString(st));
            return FN_EXEC_DEVICE;
        }
        cudnnCheck(cudnnSetStream(ctx.cudnn, ctx.stream));
    }
    if (!ctx.cublas) {
        cublasStatus_t bs = cublasCreate(&ctx.cublas);
        if (bs != CUBLAS_STATUS_SUCCESS) {
            ctx.cublas = NULL;
            snprintf(err, len, "device cuda: cublasCreate failed: %s", cublasGetStatusString(bs));
            return FN_EXEC_DEVICE;
        }
        cublasCheck(cublasSetStream(ctx.cublas, ctx.stream));
    }
    /* a fixed cuBLAS workspace: nothing is allocated while a pass is captured into a graph */
    if (cudaMalloc(&ctx.cublas_ws, CUBLAS_WS) != cudaSuccess) {
        cudaGetLastError();
        ctx.cublas_ws = NULL;
        snprintf(err, len, "out of GPU memory: cannot allocate the cuBLAS workspace");
        return FN_EXEC_OOM;
    }
    cublasCheck(cublasSetWorkspace(ctx.cublas, ctx.cublas_ws, CUBLAS_WS));
    ctx.ready = 1;
    return 0;
}

static void arena_release(arena_set *a) {
    for (int r = 0; r < R_COUNT; r++) {
        if (a->buf[r]) cudaCheck(cudaFree(a->buf[r]));
        a->buf[r] = NULL;
        a->cap[r] = 0;
    }
}

/* grows role r of a to at least `bytes`; -1 when the GPU is out of memory */
static int arena_take(arena_set *a, int r, size_t bytes) {
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

static int math_ok(fn_dtype dt, cudnnMathType_t m) {
    return dt == FN_F64 || m == CUDNN_FMA_MATH; /* float32: no tensor-core (TF32) math */
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
static Algo pick(const Perf *p, int got, fn_dtype dt, int (*exact)(Algo), Algo fallback) {
    for (int i = 0; i < got; i++)
        if (p[i].status == CUDNN_STATUS_SUCCESS && p[i].memory <= WS_CAP &&
            p[i].determinism == CUDNN_DETERMINISTIC && math_ok(dt, p[i].mathType) &&
            exact(p[i].algo))
            return p[i].algo;
    return fallback;
}

/* forward, backward-data and backward-filter algorithms and their largest workspace */
static void conv_pick(fn_dtype dt, node_dev *d) {
    enum { NALG = 16 };
    int got = 0;
    size_t b[3] = {0, 0, 0};
    cudnnConvolutionFwdAlgoPerf_t pf[NALG];
    cudnnCheck(cudnnGetConvolutionForwardAlgorithm_v7(ctx.cudnn, d->x, d->w, d->conv, d->y, NALG,
                                                      &got, pf));
    d->a.fwd = pick(pf, got, dt, exact_fwd, CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM);
    cudnnCheck(cudnnGetConvolutionForwardWorkspaceSize(ctx.cudnn, d->x, d->w, d->conv, d->y,
                                                       d->a.fwd, &b[0]));
    cudnnConvolutionBwdDataAlgoPerf_t pd[NALG];
    cudnnCheck(cudnnGetConvolutionBackwardDataAlgorithm_v7(ctx.cudnn, d->w, d->y, d->conv, d->x,
                                                           NALG, &got, pd));
    d->a.data = pick(pd, got, dt, exact_data, CUDNN_CONVOLUTION_BWD_DATA_ALGO_1);
    cudnnCheck(cudnnGetConvolutionBackwardDataWorkspaceSize(ctx.cudnn, d->w, d->y, d->conv, d->x,
                                                            d->a.data, &b[1]));
    cudnnConvolutionBwdFilterAlgoPerf_t pw[NALG];
    cudnnCheck(cudnnGetConvolutionBackwardFilterAlgorithm_v7(ctx.cudnn, d->x, d->y, d->conv, d->w,
                                                             NALG, &got, pw));
    d->a.filter = pick(pw, got, dt, exact_filter, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1);
    cudnnCheck(cudnnGetConvolutionBackwardFilterWorkspaceSize(ctx.cudnn, d->x, d->y, d->conv, d->w,
                                                              d->a.filter, &b[2]));
    d->a.ws = b[0] > b[1] ? b[0] : b[1];
    if (b[2] > d->a.ws) d->a.ws = b[2];
}

/* the cached algorithms of this shape, chosen on first sight */
static void conv_algos(fn_dtype dt, const fn_graph *g, const fn_node *nd, node_dev *d) {
    const fn_tensor *in = &g->t[nd->in[0]];
    /* all three algorithms are chosen, wanted or not: the cache then serves every executor */
    int key[12] = {(int)dt, in->n, in->c, in->h, in->w, g->t[nd->out].c, nd->k, nd->stride,
                   nd->pad, nd->dil, nd->groups, 0};
    for (int i = 0; i < ctx.nalgos; i++)
        if (!memcmp(ctx.algos[i].key, key, sizeof key)) {
            d->a = ctx.algos[i];
            return;
        }
    conv_pick(dt, d);
    memcpy(d->a.key, key, sizeof key);
    if (ctx.nalgos == ctx.cap_algos) {
        ctx.cap_algos = ctx.cap_algos ? 2 * ctx.cap_algos : 64;
        ctx.algos = (conv_algo *)realloc(ctx.algos, sizeof(conv_algo) * ctx.cap_algos);
        FN_ASSERT(ctx.algos);
    }
    ctx.algos[ctx.nalgos++] = d->a;
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
static int node_setup(const fn_exec *e, int i, node_dev *d, char *err, size_t len) {
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
        cudnnCheck(cudnnSetConvolutionMathType(
            d->conv, e->dtype == FN_F64 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH));
        cudnnCheck(cudnnGetConvolution2dForwardOutputDim(d->conv, d->x, d->w, &n, &c, &h, &w));
        if (same_shape(i, "convolution", n, c, h, w, out, err, len)) return -1;
        conv_algos(e->dtype, g, nd, d);
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

static void node_teardown(node_dev *d) {
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
static uint64_t fnv(uint64_t h, const void *p, size_t n) {
    const unsigned char *b = (const unsigned char *)p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ull;
    return h;
}
#define FNV(h, v) h = fnv(h, &(v), sizeof(v))

static uint64_t exec_key(const fn_exec *e, const gpu_exec *gx) {
    const fn_graph *g = e->g;
    uint64_t h = 1469598103934665603ull;
    FNV(h, e->dtype);
    FNV(h, e->param_grads);
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

extern "C" void gpu_cuda_set_graphs(int on) { ctx.graphs_off = !on; }

/* ------------------------------------------------------------------ init / free --------- */
extern "C" void gpu_exec_free(fn_exec *e) {
    gpu_exec *gx = (gpu_exec *)e->dev;
    if (!gx) return;
    if (gx->nd)
        for (int i = 0; i < e->g->nn; i++) node_teardown(&gx->nd[i]);
    free(gx->nd);
    if (gx->relu_mask) cudaCheck(cudaFree(gx->relu_mask));
    if (gx->host_own) {
        free(gx->host[0]);
        free(gx->host[1]);
    }
    if (gx->uses_shared) ctx.shared_busy = 0;
    else arena_release(&gx->own);
    free(gx);
    e->dev = NULL;
}

extern "C" int gpu_exec_init(fn_exec *e, char *err, size_t len) {
    const int rc = ctx_init(err, len);
    if (rc) return rc;
    const fn_graph *g = e->g;
    for (int i = 0; i < g->nn; i++)
        if (g->nodes[i].kind == FN_NODE_SCALE_N) {
            snprintf(err, len, "the CUDA backend has no drop-path (per-sample scale) node yet; "
                     "train on the CPU (--device cpu)");
            return FN_EXEC_DEVICE;
        }
    gpu_exec *gx = (gpu_exec *)calloc(1, sizeof(gpu_exec));
    FN_ASSERT(gx);
    e->dev = gx;
    gx->nd = (node_dev *)calloc((size_t)g->nn + 1, sizeof(node_dev));
    FN_ASSERT(gx->nd);
    size_t ws = 0, scratch = 1;
    for (int i = 0; i < g->nn; i++) {
        const fn_node *nd = &g->nodes[i];
        if (node_setup(e, i, &gx->nd[i], err, len)) {
            gpu_exec_free(e);
            return FN_EXEC_DEVICE;
        }
        if (nd->kind == FN_NODE_CONV && gx->nd[i].a.ws > ws) ws = gx->nd[i].a.ws;
        size_t sc = nd->kind == FN_NODE_BN    ? op_bn_scratch(g->t[nd->in[0]].c)
                    : nd->kind == FN_NODE_MIX ? op_mix_scratch(nd->nin)
                                              : 0;
        if (sc > scratch) scratch = sc;
    }
    const size_t es = e->dtype == FN_F64 ? sizeof(double) : sizeof(float);
    size_t need[R_COUNT] = {es * e->plan.act_numel, es * e->plan.grad_numel, es * g->param_numel,
                            e->param_grads ? es * g->param_numel : 0, es * g->saved_numel,
                            es * g->alpha_numel, es * g->alpha_numel, ws,
                            sizeof(double) * scratch};
    gx->uses_shared = !ctx.shared_busy;
    arena_set *a = gx->uses_shared ? &ctx.shared : &gx->own;
    if (gx->uses_shared) ctx.shared_busy = 1;
    int failed = -1;
    for (int attempt = 0; attempt < 2; attempt++) {
        failed = -1;
        for (int r = 0; r < R_COUNT && failed < 0; r++)
            if (arena_take(a, r, need[r])) failed = r;
        if (failed < 0) break;
        arena_release(a); /* fragmentation: free everything and ask again at once */
    }
    if (failed >= 0) {
        size_t free_b = 0, total_b = 0, sum = 0;
        cudaMemGetInfo(&free_b, &total_b);
        for (int r = 0; r < R_COUNT; r++) sum += need[r];
        snprintf(err, len, "out of GPU memory: the executor needs %.2f GiB (%s: %.2f GiB); the "
                 "device has %.2f of %.2f GiB free (hint: a smaller batch or resolution)",
                 (double)sum / (1u << 30), role_name[failed], (double)need[failed] / (1u << 30),
                 (double)free_b / (1u << 30), (double)total_b / (1u << 30));
        gpu_exec_free(e);
        return FN_EXEC_OOM;
    }
    gx->act = (char *)a->buf[R_ACT];
    gx->grad = (char *)a->buf[R_GRAD];
    gx->params = (char *)a->buf[R_PARAMS];
    gx->dparams = e->param_grads ? (char *)a->buf[R_DPARAMS] : NULL;
    gx->saved = (char *)a->buf[R_SAVED];
    gx->alpha = (char *)a->buf[R_ALPHA];
    gx->dalpha = (char *)a->buf[R_DALPHA];
    gx->ws = a->buf[R_WS];
    gx->ws_bytes = ws;
    gx->scratch = (double *)a->buf[R_SCRATCH];
    gx->key = exec_key(e, gx);
    return 0;
}

/* ------------------------------------------------------------------ execution ----------- */
static void gemm(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, const float *A,
                 int lda, const float *B, int ldb, float *C, int ldc) {
    const float one = 1;
    cublasCheck(cublasSgemm(ctx.cublas, ta, tb, m, n, k, &one, A, lda, B, ldb, &one, C, ldc));
}
static void gemm(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, const double *A,
                 int lda, const double *B, int ldb, double *C, int ldc) {
    const double one = 1;
    cublasCheck(cublasDgemm(ctx.cublas, ta, tb, m, n, k, &one, A, lda, B, ldb, &one, C, ldc));
}

#define TD(id) ((T *)gx->act + e->plan.act_off[(id)])
#define GD(id) ((T *)gx->grad + e->plan.grad_off[(id)])
#define PD(id) ((id) >= 0 ? (T *)gx->params + g->p[(id)].off : (T *)NULL)
#define DPD(id) ((id) >= 0 && gx->dparams ? (T *)gx->dparams + g->p[(id)].off : (T *)NULL)
#define NUMEL(id) graph_tensor_numel(g, (id))

/* the forward pass's kernels, enqueued on the stream (or captured into a graph) */
template <typename T> static void forward_nodes(fn_exec *e) {
    gpu_exec *gx = (gpu_exec *)e->dev;
    const fn_graph *g = e->g;
    cudaStream_t s = ctx.stream;
    const T one = 1, zero = 0;
    for (int i = 0; i < g->nn; i++) {
        const fn_node *nd = &g->nodes[i];
        const node_dev *d = &gx->nd[i];
        const int x = nd->in[0], y = nd->out;
        const fn_tensor *ti = &g->t[x];
        switch (nd->kind) {
        case FN_NODE_CONV:
            cudnnCheck(cudnnConvolutionForward(ctx.cudnn, &one, d->x, TD(x), d->w, PD(nd->w), d->conv,
                                               d->a.fwd, gx->ws, gx->ws_bytes, &zero, d->y, TD(y)));
            break;
        case FN_NODE_BN: {
            T *sv = (T *)gx->saved + nd->saved;
            if (e->bn_mode == FN_BN_TRAIN || nd->zc_keep_bn)
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
            cudnnCheck(cudnnPoolingForward(ctx.cudnn, d->pool, &one, d->x, TD(x), &zero, d->y, TD(y)));
            break;
        case FN_NODE_GAP: op_gap_fwd<T>(s, TD(y), TD(x), ti->n * ti->c, ti->h * ti->w); break;
        case FN_NODE_LINEAR: {
            const int in_f = ti->c * ti->h * ti->w, f = g->t[y].c;
            op_bias_fill<T>(s, TD(y), PD(nd->b), ti->n, f);
            /* row-major y[n, f] += x[n, in_f] w[f, in_f]^T, as column-major y^T = w x^T */
            gemm(CUBLAS_OP_T, CUBLAS_OP_N, f, ti->n, in_f, PD(nd->w), in_f, TD(x), in_f, TD(y), f);
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
            op_mix_fwd<T>(s, TD(y), &a, (const T *)gx->alpha, NUMEL(y));
            break;
        }
        case FN_NODE_CONCAT: {
            const size_t hw = (size_t)ti->h * ti->w, ctot = g->t[y].c;
            size_t c0 = 0;
            for (int j = 0; j < nd->nin; j++) {
                const size_t cj = g->t[nd->in[j]].c;
                cudaCheck(cudaMemcpy2DAsync(TD(y) + c0 * hw, sizeof(T) * ctot * hw, TD(nd->in[j]),
                                            sizeof(T) * cj * hw, sizeof(T) * cj * hw, ti->n,
                                            cudaMemcpyDeviceToDevice, s));
                c0 += cj;
            }
            break;
        }
        case FN_NODE_SUBSAMPLE:
            op_subsample_fwd<T>(s, TD(y), TD(x), ti->n * ti->c, ti->h, ti->w, nd->off, nd->stride,
                                nd->ho, nd->wo);
            break;
        case FN_NODE_ZERO: cudaCheck(cudaMemsetAsync(TD(y), 0, sizeof(T) * NUMEL(y), s)); break;
        case FN_NODE_SCALE_N: break; /* refused by gpu_exec_init */
        }
    }
}

/* Runs a pass: replays its CUDA graph when one with this key exists; else runs it eagerly the
 * first time a key is seen (cuDNN and cuBLAS finish their lazy set-up outside any capture)
 * and captures it the second time. A capture that fails leaves the key eager for good. */
static void run_pass(fn_exec *e, int backward, void (*nodes)(fn_exec *)) {
    gpu_exec *gx = (gpu_exec *)e->dev;
    /* eager: graphs off, an executor that asked for it, or a backward hook (host code
     * between the nodes cannot be captured) */
    FN_ASSERT(e->bn_mode != FN_BN_EVAL); /* eval-mode BN: CPU backend only (engine/exec.h) */
    if (ctx.graphs_off || e->eager || (backward && e->bwd_hook)) {
        nodes(e);
        return;
    }
    uint64_t key = gx->key;
    const int mode[3] = {e->bn_mode, backward, e->relu_mode};
    key = fnv(key, mode, sizeof mode);
    FNV(key, gx->relu_mask);
    graph_entry *ge = NULL;
    for (int i = 0; i < ctx.ngraphs; i++)
        if (ctx.graphs[i].key == key) ge = &ctx.graphs[i];
    if (ge && ge->state == 2) {
        cudaCheck(cudaGraphLaunch(ge->exec, ctx.stream));
        return;
    }
    if (!ge || ge->state < 0) {
        if (!ge) { /* remember the key (round-robin eviction when full) */
            if (ctx.ngraphs < GRAPH_CACHE) ge = &ctx.graphs[ctx.ngraphs++];
            else {
                ge = &ctx.graphs[ctx.next_evict];
                ctx.next_evict = (ctx.next_evict + 1) % GRAPH_CACHE;
                if (ge->state == 2) cudaCheck(cudaGraphExecDestroy(ge->exec));
            }
            ge->key = key;
            ge->state = 1;
        }
        nodes(e);
        return;
    }
    cudaGraph_t graph = NULL;
    cudaCheck(cudaStreamBeginCapture(ctx.stream, cudaStreamCaptureModeThreadLocal));
    nodes(e);
    cudaError_t err = cudaStreamEndCapture(ctx.stream, &graph);
    if (err == cudaSuccess) err = cudaGraphInstantiate(&ge->exec, graph, 0);
    if (graph) cudaCheck(cudaGraphDestroy(graph));
    if (err != cudaSuccess) {
        cudaGetLastError();
        ge->state = -1;
        nodes(e); /* nothing ran during the failed capture */
        return;
    }
    ge->state = 2;
    cudaCheck(cudaGraphLaunch(ge->exec, ctx.stream));
}

template <typename T> static void forward(fn_exec *e) {
    gpu_exec *gx = (gpu_exec *)e->dev;
    const fn_graph *g = e->g;
    cudaStream_t s = ctx.stream;
    cudaCheck(cudaSetDevice(ctx.device));
    if (!gx->uploaded || gx->uploaded_version != e->params_version) {
        cudaCheck(cudaMemcpyAsync(gx->params, e->params, sizeof(T) * g->param_numel,
                                  cudaMemcpyHostToDevice, s));
        gx->uploaded = 1;
        gx->uploaded_version = e->params_version;
    }
    cudaCheck(cudaMemcpyAsync(gx->alpha, e->alpha, sizeof(T) * g->alpha_numel,
                              cudaMemcpyHostToDevice, s));
    cudaCheck(cudaMemcpyAsync(TD(g->input), e->host_in, sizeof(T) * NUMEL(g->input),
                              cudaMemcpyHostToDevice, s));
    run_pass(e, 0, forward_nodes<T>);
    cudaCheck(cudaMemcpyAsync(e->host_out, TD(g->output), sizeof(T) * NUMEL(g->output),
                              cudaMemcpyDeviceToHost, s));
    cudaCheck(cudaStreamSynchronize(s));
}

template <typename T> static void backward_nodes(fn_exec *e) {
    gpu_exec *gx = (gpu_exec *)e->dev;
    const fn_graph *g = e->g;
    cudaStream_t s = ctx.stream;
    const T one = 1;
    cudaCheck(cudaMemsetAsync(gx->dalpha, 0, sizeof(T) * g->alpha_numel, s));
    if (gx->dparams) cudaCheck(cudaMemsetAsync(gx->dparams, 0, sizeof(T) * g->param_numel, s));
    for (int t = 0; t < g->nt; t++) /* wanted gradients no node writes (graph_plan.c) */
        if (e->needs_grad[t] && e->plan.grad_first[t] < 0 && t != g->output)
            cudaCheck(cudaMemsetAsync(GD(t), 0, sizeof(T) * NUMEL(t), s));
    for (int i = g->nn - 1; i >= 0; i--) {
        const fn_node *nd = &g->nodes[i];
        const node_dev *d = &gx->nd[i];
        const int x = nd->in[0], y = nd->out;
        if (!e->needs_grad[y] || (e->plan.grad_first[y] < 0 && y != g->output)) continue;
        for (int j = 0; j < nd->nin; j++) /* gradients first written here start from zero */
            if (e->needs_grad[nd->in[j]] && e->plan.grad_first[nd->in[j]] == i)
                cudaCheck(cudaMemsetAsync(GD(nd->in[j]), 0, sizeof(T) * NUMEL(nd->in[j]), s));
        const fn_tensor *ti = &g->t[x];
        T *dx = e->needs_grad[x] ? GD(x) : NULL;
        switch (nd->kind) {
        case FN_NODE_CONV:
            if (dx)
                cudnnCheck(cudnnConvolutionBackwardData(ctx.cudnn, &one, d->w, PD(nd->w), d->y, GD(y),
                                                        d->conv, d->a.data, gx->ws, gx->ws_bytes,
                                                        &one, d->x, dx));
            if (DPD(nd->w))
                cudnnCheck(cudnnConvolutionBackwardFilter(ctx.cudnn, &one, d->x, TD(x), d->y, GD(y),
                                                          d->conv, d->a.filter, gx->ws,
                                                          gx->ws_bytes, &one, d->w, DPD(nd->w)));
            break;
        case FN_NODE_BN:
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
                cudnnCheck(cudnnPoolingBackward(ctx.cudnn, d->pool, &one, d->y, TD(y), d->y, GD(y),
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
            const int in_f = ti->c * ti->h * ti->w, f = g->t[y].c;
            if (dx) /* dx[n, in_f] += dy[n, f] w[f, in_f] */
                gemm(CUBLAS_OP_N, CUBLAS_OP_N, in_f, ti->n, f, PD(nd->w), in_f, GD(y), f, dx, in_f);
            if (DPD(nd->w)) /* dw[f, in_f] += dy^T x */
                gemm(CUBLAS_OP_N, CUBLAS_OP_T, in_f, f, ti->n, TD(x), in_f, GD(y), f, DPD(nd->w), in_f);
            if (DPD(nd->b)) op_bias_grad<T>(s, DPD(nd->b), GD(y), ti->n, f);
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
            op_mix_bwd<T>(s, &a, (T *)gx->dalpha, GD(y), (const T *)gx->alpha, NUMEL(y), gx->scratch);
            break;
        }
        case FN_NODE_CONCAT: {
            const size_t hw = (size_t)ti->h * ti->w, ctot = g->t[y].c;
            size_t c0 = 0;
            for (int j = 0; j < nd->nin; j++) {
                const size_t cj = g->t[nd->in[j]].c;
                if (e->needs_grad[nd->in[j]])
                    op_add_2d<T>(s, GD(nd->in[j]), cj * hw, GD(y) + c0 * hw, ctot * hw, cj * hw, ti->n);
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
        case FN_NODE_SCALE_N: break; /* refused by gpu_exec_init */
        }
        if (e->bwd_hook) e->bwd_hook(e->bwd_hook_user, e, i); /* reads via exec_tensor*: syncs */
    }
}

template <typename T> static void backward(fn_exec *e, const void *dlogits) {
    gpu_exec *gx = (gpu_exec *)e->dev;
    const fn_graph *g = e->g;
    cudaStream_t s = ctx.stream;
    cudaCheck(cudaSetDevice(ctx.device));
    cudaCheck(cudaMemcpyAsync(GD(g->output), dlogits, sizeof(T) * NUMEL(g->output),
                              cudaMemcpyHostToDevice, s));
    run_pass(e, 1, backward_nodes<T>);
    cudaCheck(cudaMemcpyAsync(e->dalpha, gx->dalpha, sizeof(T) * g->alpha_numel,
                              cudaMemcpyDeviceToHost, s));
    if (gx->dparams)
        cudaCheck(cudaMemcpyAsync(e->dparams, gx->dparams, sizeof(T) * g->param_numel,
                                  cudaMemcpyDeviceToHost, s));
    cudaCheck(cudaStreamSynchronize(s));
}

extern "C" void gpu_exec_forward(fn_exec *e) {
    if (e->dtype == FN_F64) forward<double>(e);
    else forward<float>(e);
}

extern "C" void gpu_exec_backward(fn_exec *e, const void *dlogits) {
    if (e->dtype == FN_F64) backward<double>(e, dlogits);
    else backward<float>(e, dlogits);
}

extern "C" void gpu_exec_relu_mask(fn_exec *e, size_t bytes) {
    gpu_exec *gx = (gpu_exec *)e->dev;
    if (gx->relu_mask) return;
    cudaCheck(cudaSetDevice(ctx.device));
    cudaCheck(cudaMalloc(&gx->relu_mask, bytes > 0 ? bytes : 1));
}

/* A host copy of tensor t's activation (grad = 0) or gradient (grad = 1) as it is now, at
 * the tensor's offset in a host mirror of the arena: downloaded on every call, after the
 * work enqueued so far (a backward hook sees the gradient its node just completed). */
extern "C" void *gpu_exec_tensor(const fn_exec *e, int t, int grad) {
    gpu_exec *gx = (gpu_exec *)e->dev;
    const size_t es = e->dtype == FN_F64 ? sizeof(double) : sizeof(float);
    const size_t bytes = es * (grad ? e->plan.grad_numel : e->plan.act_numel);
    if (!gx->host[grad]) {
        if (gx->uses_shared) { /* pinned, grow-only, lent with the shared arenas */
            if (ctx.host_cap[grad] < bytes) {
                if (ctx.host[grad]) cudaCheck(cudaFreeHost(ctx.host[grad]));
                ctx.host[grad] = NULL;
                ctx.host_cap[grad] = 0;
                cudaCheck(cudaHostAlloc((void **)&ctx.host[grad], bytes + 1, cudaHostAllocDefault));
                ctx.host_cap[grad] = bytes;
            }
            gx->host[grad] = ctx.host[grad];
        } else {
            gx->host[grad] = (char *)mallocCheck(bytes + 1);
            gx->host_own = 1;
        }
    }
    const size_t off = es * (grad ? e->plan.grad_off[t] : e->plan.act_off[t]);
    const char *src = (grad ? gx->grad : gx->act) + off;
    cudaCheck(cudaMemcpyAsync(gx->host[grad] + off, src, es * graph_tensor_numel(e->g, t),
                              cudaMemcpyDeviceToHost, ctx.stream));
    cudaCheck(cudaStreamSynchronize(ctx.stream));
    return gx->host[grad] + off;
}

/* ------------------------------------------------------------------ backend table ------- */
/* host mirrors of the input and the logits (engine/exec.h) */
static int cuda_alloc(fn_exec *e) {
    const fn_graph *g = e->g;
    const size_t es = e->dtype == FN_F64 ? sizeof(double) : sizeof(float);
    e->host_in = calloc(graph_tensor_numel(g, g->input), es);
    e->host_out = calloc(graph_tensor_numel(g, g->output), es);
    return e->host_in && e->host_out ? 0 : -1;
}

static void cuda_free(fn_exec *e) {
    if (e->dev) gpu_exec_free(e);
    free(e->host_in);
    free(e->host_out);
}

static void *cuda_tensor(const fn_exec *e, int t, int grad) {
    if (!grad && t == e->g->input) return e->host_in;
    if (!grad && t == e->g->output) return e->host_out;
    return gpu_exec_tensor(e, t, grad);
}

extern "C" const fn_backend fn_backend_cuda = {
    "cuda",             /* name */
    0,                  /* host_arenas: every arena is on the device */
    cuda_alloc,         /* alloc */
    gpu_exec_init,      /* init */
    cuda_free,          /* free */
    gpu_exec_forward,   /* forward */
    gpu_exec_backward,  /* backward */
    cuda_tensor,        /* tensor */
    gpu_exec_relu_mask, /* relu_mask */
};
