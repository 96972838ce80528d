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
 *   BN (train and eval mode), ReLU, mixed op and d alpha, concat, subsample, global
 *                    pooling, zero, per-sample scale (drop-path): gpu/ops.cu
 * One node's kernels are gpu/exec_cuda_nodes.cu, the context and cuDNN set-up
 * gpu/exec_cuda_setup.cu, the exact Hessian-vector product gpu/exec_cuda_hvp.cu.
 *
 * Memory: one device buffer per role (activations, gradients, parameters, d parameters, BN
 * statistics, alpha, d alpha, cuDNN workspace, reduction scratch), each sized by the plan of
 * engine/graph_plan.c. They are borrowed from the thread's set that only grows, so a sweep of
 * one supernet shape allocates once; a second executor alive at the same time gets its own.
 * Each pass (forward, backward) is captured into a CUDA graph the second time its key (graph
 * structure, precision, memory offsets and device buffers) is seen and replayed after that,
 * also by later executors of the same shape: a sweep's per-seed searches of one supernet
 * launch two graphs per search instead of thousands of kernels and cuDNN calls.
 * Threads: each host thread has its own context (stream, cuDNN and cuBLAS handles, arena
 * set, algorithm and graph caches; gpu/exec_cuda_impl.cuh), so threads run executors side by
 * side, each on its own stream: the searches of a CUDA bundle (search/bundle.h). One executor
 * is used by one thread at a time; it runs on the stream of the thread that calls it. */
#include "gpu/exec_cuda_impl.cuh"
#include "gpu/exec_cuda.h"

/* ------------------------------------------------------------------ init / free --------- */
extern "C" void gpu_exec_free(fn_exec *e) {
    gpu_exec *gx = (gpu_exec *)e->dev;
    if (!gx) return;
    cudaCheck(cudaSetDevice(gx->ctx->device)); /* maybe another thread: its device, no context */
    if (gx->nd)
        for (int i = 0; i < e->g->nn; i++) node_teardown(&gx->nd[i]);
    free(gx->nd);
    if (gx->relu_mask) cudaCheck(cudaFree(gx->relu_mask));
    gpu_hvp_free(gx);
    if (gx->host_own) {
        free(gx->host[0]);
        free(gx->host[1]);
    }
    if (gx->uses_shared) gx->ctx->shared_busy = 0;
    else arena_release(&gx->own);
    free(gx);
    e->dev = NULL;
}

extern "C" int gpu_exec_init(fn_exec *e, char *err, size_t len) {
    const int rc = ctx_init(err, len);
    if (rc) return rc;
    const fn_graph *g = e->g;
    gpu_exec *gx = (gpu_exec *)calloc(1, sizeof(gpu_exec));
    FN_ASSERT(gx);
    e->dev = gx;
    gx->ctx = &cuda_ctx;
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
                    : nd->kind == FN_NODE_MIX ? op_mix_scratch(nd->nin, node_models(nd))
                                              : 0;
        if (sc > scratch) scratch = sc;
    }
    const size_t es = e->dtype == FN_F64 ? sizeof(double) : sizeof(float);
    size_t need[R_COUNT] = {es * e->plan.act_numel, es * e->plan.grad_numel, es * g->param_numel,
                            e->param_grads ? es * g->param_numel : 0, es * g->saved_numel,
                            es * g->alpha_numel, es * g->alpha_numel, ws,
                            sizeof(double) * scratch};
    gx->uses_shared = !cuda_ctx.shared_busy;
    arena_set *a = gx->uses_shared ? &cuda_ctx.shared : &gx->own;
    if (gx->uses_shared) cuda_ctx.shared_busy = 1;
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

/* the passes' kernels, enqueued on the stream (or captured into a graph) */
template <typename T> static void forward_nodes(fn_exec *e) {
    for (int i = 0; i < e->g->nn; i++) forward_node<T>(e, i);
}

template <typename T> static void backward_nodes(fn_exec *e) {
    gpu_exec *gx = (gpu_exec *)e->dev;
    backward_start<T>(e, (T *)gx->grad, (T *)gx->dalpha, (T *)gx->dparams);
    for (int i = e->g->nn - 1; i >= 0; i--)
        if (backward_runs(e, i)) backward_node<T>(e, i);
}

/* Runs a pass: replays its CUDA graph when one with this key exists; else runs it eagerly the
 * first time a key is seen (cuDNN and cuBLAS finish their lazy set-up outside any capture)
 * and captures it the second time. A capture that fails leaves the key eager for good. */
static void run_pass(fn_exec *e, int backward, void (*nodes)(fn_exec *)) {
    gpu_exec *gx = (gpu_exec *)e->dev;
    /* eager: graphs off, an executor that asked for it, or a backward hook (host code
     * between the nodes cannot be captured) */
    if (cuda_graphs_off || e->eager || (backward && e->bwd_hook)) {
        nodes(e);
        return;
    }
    uint64_t key = gx->key;
    const int mode[3] = {e->bn_mode, backward, e->relu_mode};
    key = fnv(key, mode, sizeof mode);
    FNV(key, gx->relu_mask);
    graph_entry *ge = NULL;
    for (int i = 0; i < cuda_ctx.ngraphs; i++)
        if (cuda_ctx.graphs[i].key == key) ge = &cuda_ctx.graphs[i];
    if (ge && ge->state == 2) {
        cudaCheck(cudaGraphLaunch(ge->exec, cuda_ctx.stream));
        return;
    }
    if (!ge || ge->state < 0) {
        if (!ge) { /* remember the key (round-robin eviction when full) */
            if (cuda_ctx.ngraphs < GRAPH_CACHE) ge = &cuda_ctx.graphs[cuda_ctx.ngraphs++];
            else {
                ge = &cuda_ctx.graphs[cuda_ctx.next_evict];
                cuda_ctx.next_evict = (cuda_ctx.next_evict + 1) % GRAPH_CACHE;
                if (ge->state == 2) cudaCheck(cudaGraphExecDestroy(ge->exec));
            }
            ge->key = key;
            ge->state = 1;
        }
        nodes(e);
        return;
    }
    cudaGraph_t graph = NULL;
    cudaCheck(cudaStreamBeginCapture(cuda_ctx.stream, cudaStreamCaptureModeThreadLocal));
    nodes(e);
    cudaError_t err = cudaStreamEndCapture(cuda_ctx.stream, &graph);
    if (err == cudaSuccess) err = cudaGraphInstantiate(&ge->exec, graph, 0);
    if (graph) cudaCheck(cudaGraphDestroy(graph));
    if (err != cudaSuccess) {
        cudaGetLastError();
        ge->state = -1;
        nodes(e); /* nothing ran during the failed capture */
        return;
    }
    ge->state = 2;
    cudaCheck(cudaGraphLaunch(ge->exec, cuda_ctx.stream));
}

/* The BN statistics' host mirror e->saved (engine/exec.h): an eval-mode pass reads what the
 * caller wrote there (running mean, 1/sqrt(running var + eps)); any other pass leaves the
 * batch statistics it computed there (train/core.c updates its running statistics from
 * them). A few values per BN channel: the copies cost next to nothing. */
void saved_upload(fn_exec *e) {
    gpu_exec *gx = (gpu_exec *)e->dev;
    const size_t es = e->dtype == FN_F64 ? sizeof(double) : sizeof(float);
    if (e->bn_mode == FN_BN_EVAL && e->g->saved_numel)
        cudaCheck(cudaMemcpyAsync(gx->saved, e->saved, es * e->g->saved_numel,
                                  cudaMemcpyHostToDevice, cuda_ctx.stream));
}

void saved_download(fn_exec *e) {
    gpu_exec *gx = (gpu_exec *)e->dev;
    const size_t es = e->dtype == FN_F64 ? sizeof(double) : sizeof(float);
    if (e->bn_mode != FN_BN_EVAL && e->g->saved_numel)
        cudaCheck(cudaMemcpyAsync(e->saved, gx->saved, es * e->g->saved_numel,
                                  cudaMemcpyDeviceToHost, cuda_ctx.stream));
}

template <typename T> static void forward(fn_exec *e) {
    gpu_exec *gx = (gpu_exec *)e->dev;
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
    cudaCheck(cudaMemcpyAsync(TD(g->input), e->host_in, sizeof(T) * NUMEL(g->input),
                              cudaMemcpyHostToDevice, s));
    saved_upload(e);
    run_pass(e, 0, forward_nodes<T>);
    saved_download(e);
    cudaCheck(cudaMemcpyAsync(e->host_out, TD(g->output), sizeof(T) * NUMEL(g->output),
                              cudaMemcpyDeviceToHost, s));
    cudaCheck(cudaStreamSynchronize(s));
}

template <typename T> static void backward(fn_exec *e, const void *dlogits) {
    gpu_exec *gx = (gpu_exec *)e->dev;
    const fn_graph *g = e->g;
    ctx_enter();
    ctx_math(e);
    cudaStream_t s = cuda_ctx.stream;
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
    ctx_enter();
    cudaCheck(cudaMalloc(&gx->relu_mask, bytes > 0 ? bytes : 1));
}

/* A host copy of tensor t's activation (grad = 0) or gradient (grad = 1) as it is now, at
 * the tensor's offset in a host mirror of the arena: downloaded on every call, after the
 * work enqueued so far (a backward hook sees the gradient its node just completed). */
extern "C" void *gpu_exec_tensor(const fn_exec *e, int t, int grad) {
    gpu_exec *gx = (gpu_exec *)e->dev;
    const size_t es = e->dtype == FN_F64 ? sizeof(double) : sizeof(float);
    const size_t bytes = es * (grad ? e->plan.grad_numel : e->plan.act_numel);
    ctx_enter();
    if (!gx->host[grad]) {
        if (gx->uses_shared) { /* pinned, grow-only, lent with the shared arenas */
            cuda_ctx_t *c = gx->ctx;
            if (c->host_cap[grad] < bytes) {
                if (c->host[grad]) cudaCheck(cudaFreeHost(c->host[grad]));
                c->host[grad] = NULL;
                c->host_cap[grad] = 0;
                cudaCheck(cudaHostAlloc((void **)&c->host[grad], bytes + 1, cudaHostAllocDefault));
                c->host_cap[grad] = bytes;
            }
            gx->host[grad] = c->host[grad];
        } else {
            gx->host[grad] = (char *)mallocCheck(bytes + 1);
            gx->host_own = 1;
        }
    }
    const size_t off = es * (grad ? e->plan.grad_off[t] : e->plan.act_off[t]);
    const char *src = (grad ? gx->grad : gx->act) + off;
    cudaCheck(cudaMemcpyAsync(gx->host[grad] + off, src, es * graph_tensor_numel(e->g, t),
                              cudaMemcpyDeviceToHost, cuda_ctx.stream));
    cudaCheck(cudaStreamSynchronize(cuda_ctx.stream));
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
    gpu_exec_hvp_init,  /* hvp_init (gpu/exec_cuda_hvp.cu) */
    gpu_exec_forward_tangent,  /* forward_tangent */
    gpu_exec_backward_tangent, /* backward_tangent */
    gpu_exec_tangent,   /* tangent */
    gpu_mem_free,       /* mem_free (gpu/exec_cuda_setup.cu) */
};
