/* gpu/exec_cuda.h: the CUDA backend of the executor (engine/backend.h), used when an executor
 * is made with fn_exec_opts.device = FN_DEV_CUDA. Built into its own shared module
 * (libfreenas_cuda.so, with cuDNN and cuBLAS) that gpu/backend_cuda.c loads the first time a
 * program asks for the device; nothing else calls these: space, supernet and metric code run
 * the same exec_forward / exec_backward on either backend. Includes engine/ headers only.
 *
 * gpu/exec_cuda.cu runs every graph node with cuDNN (convolution forward, backward-data and
 * backward-filter, grouped and dilated; average pooling, exclude-padding mode; max pooling
 * forward), cuBLAS (linear) and the kernels of gpu/ops.cu (BN in train and eval mode, ReLU,
 * mixed op and its d alpha reduction, concat, FactorizedReduce's subsample, global pooling,
 * zero op, max pooling backward, drop-path's per-sample scale), in float32 or float64, on
 * one stream; and the exact Hessian-vector product's tangent passes (gpu/exec_cuda_hvp.cu,
 * kernels in gpu/ops_tangent.cu). Device memory comes from one
 * per-process arena per role that grows to the largest supernet seen: a sweep of one shape
 * pays cudaMalloc once. Builds without CUDA, cuDNN or cuBLAS have no module; there
 * gpu/backend_cuda_none.c makes asking for the device fail with a message. */
#ifndef FN_GPU_EXEC_CUDA_H
#define FN_GPU_EXEC_CUDA_H

#include <stddef.h>

#include "engine/backend.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The table the module exports (looked up by name with dlsym). */
extern const fn_backend fn_backend_cuda;
/* 1 (default): replay forward / backward passes as CUDA graphs (captured on the second run
 * of a shape); 0: launch every kernel each time (benchmarks compare the two; programs call
 * gpu_set_graphs, gpu/backend_cuda.h). */
void gpu_cuda_set_graphs(int on);

/* The entries of fn_backend_cuda (engine/backend.h says what each does). */
/* Plans device memory and cuDNN descriptors for e (host side already made by exec_init_opts).
 * Returns 0, or with a message FN_EXEC_OOM (out of GPU memory) or FN_EXEC_DEVICE (no GPU,
 * cuDNN or cuBLAS cannot start, cuDNN refuses a shape). */
int gpu_exec_init(fn_exec *e, char *err, size_t errlen);
void gpu_exec_free(fn_exec *e);
/* Uploads the input, alpha and (when changed) the parameters; runs; downloads the logits. */
void gpu_exec_forward(fn_exec *e);
/* Uploads d logits; runs backward; downloads d alpha (and d params when enabled). */
void gpu_exec_backward(fn_exec *e, const void *dlogits);
/* device ReLU mask of `bytes` (exec_set_relu_mode) */
void gpu_exec_relu_mask(fn_exec *e, size_t bytes);
/* host copy of tensor t's activation (grad 0) or gradient (grad 1), downloaded now */
void *gpu_exec_tensor(const fn_exec *e, int t, int grad);

#ifdef __cplusplus
}
#endif

#endif
