/* gpu/exec_cuda_impl.cuh: what the files of the CUDA executor share (internal to the
 * libfreenas_cuda module; gpu/exec_cuda.h is its interface): the per-thread context, device
 * arenas, per-node cuDNN state, the executor's device state, and the functions each file
 * gives the others:
 *   gpu/exec_cuda_setup.cu  context, arenas, cuDNN descriptors and algorithms, graph keys
 *   gpu/exec_cuda_nodes.cu  one node's forward / backward kernels (the twin of graph_exec.c)
 *   gpu/exec_cuda.cu        executors: init / free, passes (CUDA graphs), downloads, table
 *   gpu/exec_cuda_hvp.cu    the exact Hessian-vector product's tangent passes */
#ifndef FN_GPU_EXEC_CUDA_IMPL_CUH
#define FN_GPU_EXEC_CUDA_IMPL_CUH

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "gpu/cuda_check.h"
#include "gpu/ops.cuh"

extern "C" {
#include "base/common.h"
#include "engine/backend.h"
#include "engine/exec.h"
#include "nn/batchnorm2d.h"
}

enum { R_ACT, R_GRAD, R_PARAMS, R_DPARAMS, R_SAVED, R_ALPHA, R_DALPHA, R_WS, R_SCRATCH, R_COUNT };
extern const char *const role_name[R_COUNT];
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

/* A host thread's CUDA state. Each thread that runs executors has its own (thread_local):
 * its stream, cuDNN and cuBLAS handles, shared arena set, algorithm and CUDA graph caches.
 * So the searches of a CUDA bundle (search/bundle.h), one per host thread, enqueue on their
 * own streams and the GPU runs them side by side; one thread's state is never touched by
 * another, and nothing here takes a lock. A thread's state lives as long as the thread (a
 * sweep's OpenMP pool threads: the process). */
typedef struct {
    int ready, device;
    cudnnHandle_t cudnn;
    cublasHandle_t cublas;
    cudaStream_t stream;
    arena_set shared;
    int shared_busy;
    conv_algo *algos;
    int nalgos, cap_algos;
    void *cublas_ws;
    char *host[2];            /* pinned host mirrors of the activation / gradient arenas, */
    size_t host_cap[2];       /* lent with the shared set (exec_tensor of other tensors) */
    graph_entry graphs[GRAPH_CACHE];
    int ngraphs, next_evict;
} cuda_ctx_t;
extern thread_local cuda_ctx_t cuda_ctx; /* this thread's (gpu/exec_cuda_setup.cu) */
extern int cuda_graphs_off; /* gpu_cuda_set_graphs(0), for the process: always run eagerly */

typedef struct {
    cudnnTensorDescriptor_t x, y;
    cudnnFilterDescriptor_t w;
    cudnnConvolutionDescriptor_t conv;
    cudnnPoolingDescriptor_t pool;
    conv_algo a;
} node_dev;

typedef struct {
    node_dev *nd;
    cuda_ctx_t *ctx; /* the context of the thread that made it: its shared set and mirrors */
    arena_set own;
    int uses_shared;
    char *act, *grad, *params, *dparams, *saved, *alpha, *dalpha;
    void *ws;
    size_t ws_bytes;
    double *scratch;
    unsigned uploaded_version;
    int uploaded;
    unsigned char *relu_mask; /* device: one byte per ReLU input (RECORD / FROZEN modes) */
    char *host[2];            /* host mirrors of act / grad (cuda_ctx.host when shared), or NULL */
    int host_own;
    uint64_t key; /* structure, precision, options and device pointers: names its CUDA graphs */
    void *hvp;    /* gpu_hvp (gpu/exec_cuda_hvp.cu), or NULL before exec_hvp_init */
} gpu_exec;


/* gpu/exec_cuda_setup.cu: this thread's context made (once) and its device current; 0, or
 * FN_EXEC_DEVICE / FN_EXEC_OOM with a message. ctx_enter: the same before a pass, for an
 * executor that may have been made on another thread (fatal if that fails: the device was
 * usable when the executor was made). */
int ctx_init(char *err, size_t len);
void ctx_enter(void);
void arena_release(arena_set *a);
int arena_take(arena_set *a, int r, size_t bytes);
int node_setup(const fn_exec *e, int i, node_dev *d, char *err, size_t len);
void node_teardown(node_dev *d);
uint64_t fnv(uint64_t h, const void *p, size_t n);
#define FNV(h, v) h = fnv(h, &(v), sizeof(v))
uint64_t exec_key(const fn_exec *e, const gpu_exec *gx);

/* gpu/exec_cuda_nodes.cu: cuBLAS GEMM with beta 1 (C += op(A) op(B)); node i's forward and
 * backward (backward: the gradients first written at i zeroed, then the hook called) */
void gemm(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, const float *A,
          int lda, const float *B, int ldb, float *C, int ldc);
void gemm(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, const double *A,
          int lda, const double *B, int ldb, double *C, int ldc);
/* `batch` GEMMs C_j += op(A_j) op(B_j), X_j = X + j * strideX (cuBLAS strided batched; one
 * plain gemm when batch is 1): a stacked graph's block-diagonal linear */
void gemm_blocks(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, const float *A,
                 int lda, long long sa, const float *B, int ldb, long long sb, float *C, int ldc,
                 long long sc, int batch);
void gemm_blocks(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, const double *A,
                 int lda, long long sa, const double *B, int ldb, long long sb, double *C, int ldc,
                 long long sc, int batch);
/* cuBLAS math of this thread's handle for executor e's pass: TF32 tensor cores when it asked
 * (fn_exec_opts.tf32), else the default (no TF32). Set at the start of every pass. */
static inline void ctx_math(const fn_exec *e) {
    cublasCheck(cublasSetMathMode(cuda_ctx.cublas, e->tf32 ? CUBLAS_TF32_TENSOR_OP_MATH
                                                           : CUBLAS_DEFAULT_MATH));
}
/* a node's model blocks: LINEAR, MIX and CONCAT of a stacked graph (engine/graph_stack.h) */
static inline int node_models(const fn_node *nd) { return nd->groups > 1 ? nd->groups : 1; }
/* a mix's stacking fields (op_mix_args) for node nd of g */
static inline void mix_models(op_mix_args *a, const fn_graph *g, const fn_node *nd) {
    a->models = node_models(nd);
    a->seg = graph_tensor_numel(g, nd->out) / ((size_t)g->t[nd->out].n * a->models);
    a->model_alpha = a->models > 1 ? g->model_alpha : 0;
}
template <typename T> void forward_node(fn_exec *e, int i);
template <typename T> void backward_node(fn_exec *e, int i);
/* 1 when node i runs in backward */
int backward_runs(const fn_exec *e, int i);
/* zeroes d alpha, d params (NULL: skipped) and the wanted gradients no node writes, in the
 * gradient arena `grad` (laid out as gx->grad) */
template <typename T> void backward_start(fn_exec *e, T *grad, T *dalpha, T *dparams);

/* gpu/exec_cuda.cu: before a forward pass, uploads the host BN statistics e->saved in eval
 * mode; after it, downloads the batch statistics into e->saved in the other modes */
void saved_upload(fn_exec *e);
void saved_download(fn_exec *e);

/* gpu/exec_cuda_hvp.cu: frees the HVP state (gpu_exec_free calls it) */
void gpu_hvp_free(gpu_exec *gx);
extern "C" {
int gpu_exec_hvp_init(fn_exec *e, char *err, size_t len);
void gpu_exec_forward_tangent(fn_exec *e);
void gpu_exec_backward_tangent(fn_exec *e, const void *dlogits, const void *tdlogits);
void *gpu_exec_tangent(const fn_exec *e, int t);
size_t gpu_mem_free(void); /* gpu/exec_cuda_setup.cu */
}

#define TD(id) ((T *)gx->act + e->plan.act_off[(id)])
#define GD(id) ((T *)gx->grad + e->plan.grad_off[(id)])
#define PD(id) ((id) >= 0 ? (T *)gx->params + g->p[(id)].off : (T *)NULL)
#define DPD(id) ((id) >= 0 && gx->dparams ? (T *)gx->dparams + g->p[(id)].off : (T *)NULL)
#define NUMEL(id) graph_tensor_numel(g, (id))

#endif
