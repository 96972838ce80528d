/* gpu/cuda_check.h: error-check macros for CUDA, cuDNN and cuBLAS calls (STYLE.md item 2).
 * A failure prints the call, its error name and file:line, then exits: an error inside a
 * running executor leaves the CUDA context unusable, so no caller could go on. Recoverable
 * failures (out of GPU memory while planning an executor) are checked by hand and returned
 * as messages (gpu/exec_cuda.cu). Include from .cu files only. */
#ifndef FN_GPU_CUDA_CHECK_H
#define FN_GPU_CUDA_CHECK_H

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

extern "C" {
#include "base/common.h"
}

#define cudaCheck(call)                                                                    \
    do {                                                                                   \
        cudaError_t e_ = (call);                                                           \
        if (e_ != cudaSuccess)                                                             \
            FN_FATAL("CUDA error %s (%s) in %s", cudaGetErrorName(e_), cudaGetErrorString(e_), \
                     #call);                                                               \
    } while (0)

#define cudnnCheck(call)                                                                   \
    do {                                                                                   \
        cudnnStatus_t s_ = (call);                                                         \
        if (s_ != CUDNN_STATUS_SUCCESS)                                                    \
            FN_FATAL("cuDNN error %s in %s", cudnnGetErrorString(s_), #call);              \
    } while (0)

#define cublasCheck(call)                                                                  \
    do {                                                                                   \
        cublasStatus_t s_ = (call);                                                        \
        if (s_ != CUBLAS_STATUS_SUCCESS)                                                   \
            FN_FATAL("cuBLAS error %s in %s", cublasGetStatusString(s_), #call);           \
    } while (0)

/* after every kernel launch */
#define cudaCheckLaunch() cudaCheck(cudaGetLastError())

#endif
