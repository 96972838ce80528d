/* engine/backend.h: the executor backend table (ggml's backend interface).
 * exec_init_opts (engine/exec.h) looks up the backend of fn_exec_opts.device here and calls
 * it for everything that depends on where the executor runs; search, space, metric and proxy
 * code never see a backend. The CPU backend (engine/exec_cpu.c, the nn/ reference ops) is
 * built in. Other backends are registered by the programs at start-up, either as a table or
 * as a loader called the first time an executor asks for that device (gpu/backend_cuda.h
 * registers a loader that dlopens the CUDA backend, so a CPU-only run never maps cuDNN).
 *
 * A new backend: one file that fills a fn_backend (see fn_backend_cpu for the contract of
 * each entry), a device in fn_device, and a register call in the programs. */
#ifndef FN_BACKEND_H
#define FN_BACKEND_H

#include <stddef.h>

#include "engine/exec.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fn_backend {
    const char *name; /* "cpu", "cuda" */
    /* 1: activations and gradients are host arenas (e->act, e->grad) that an fn_arena_pool can
     * lend; 0: the backend ignores fn_exec_opts.pool. */
    int host_arenas;
    /* Host side, called by exec_init_opts once the graph is planned (e->plan, e->needs_grad,
     * e->pool): the activation and gradient arenas (host_arenas), or the host mirrors of
     * input and logits (e->host_in, e->host_out). 0, or -1 when out of host memory. */
    int (*alloc)(fn_exec *e);
    /* Device side, after every host arena exists; NULL for none. 0, or FN_EXEC_OOM /
     * FN_EXEC_DEVICE with a message in err. On failure exec_init_opts calls free. */
    int (*init)(fn_exec *e, char *err, size_t errlen);
    /* Frees what alloc and init made (also after a partial init); e->pool's arenas stay. */
    void (*free)(fn_exec *e);
    void (*forward)(fn_exec *e);
    void (*backward)(fn_exec *e, const void *dlogits);
    /* Host pointer to tensor t's activation (grad 0) or gradient (grad 1), as now. */
    void *(*tensor)(const fn_exec *e, int t, int grad);
    /* Allocates the ReLU mask of `bytes` (exec_set_relu_mode, first non-normal mode). */
    void (*relu_mask)(fn_exec *e, size_t bytes);
    /* Exact Hessian-vector products (engine/exec.h); NULL where the backend has none.
     * hvp_init allocates the tangent arenas once the host direction and result arenas
     * exist (0, or FN_EXEC_OOM / FN_EXEC_DEVICE with a message); free frees them too.
     * forward_tangent / backward_tangent run the passes (the primal ones included); tangent
     * is the host pointer to an activation's tangent, as `tensor`. */
    int (*hvp_init)(fn_exec *e, char *err, size_t errlen);
    void (*forward_tangent)(fn_exec *e);
    void (*backward_tangent)(fn_exec *e, const void *dlogits, const void *tdlogits);
    void *(*tangent)(const fn_exec *e, int t);
    /* Bytes free now on the device this thread's executors use; NULL where the backend
     * cannot say (the CPU: search/bundle.h reads /proc/meminfo and the cgroup). */
    size_t (*mem_free)(void);
} fn_backend;

/* Finds the backend of a device on first use: the table, or NULL with a message. */
typedef const fn_backend *(*fn_backend_loader)(char *err, size_t errlen);

/* Registers a backend table, or a loader (tried once; its message is kept). Either replaces
 * what the device had. FN_DEV_CPU is registered from the start. */
void backend_register(fn_device dev, const fn_backend *b);
void backend_register_loader(fn_device dev, fn_backend_loader load);
/* The backend of dev, loading it if needed; NULL with a message when there is none. */
const fn_backend *backend_get(fn_device dev, char *err, size_t errlen);
/* 1 when dev has a backend table already (never loads one). */
int backend_loaded(fn_device dev);

/* backend_get(dev)->mem_free(), or 0 when dev has no backend or the entry is NULL. */
size_t backend_mem_free(fn_device dev);

/* The CUDA device every thread of this process runs its executors on: gpu_bind
 * (gpu/device.h) sets it for a sweep rank, so the threads of a CUDA bundle (search/bundle.h)
 * use the rank's GPU and not device 0. -1 (the default): each thread's current device. */
void backend_set_cuda_device(int ordinal);
int backend_cuda_device(void);

extern const fn_backend fn_backend_cpu;

/* Sets this thread's exec_error message (engine/exec.c; for the executor's own files). */
void exec_error_set(const char *msg);

#ifdef __cplusplus
}
#endif

#endif
