/* gpu/cuda_check.h: error-check macros for CUDA, cuDNN and cuBLAS calls.
 * A failure prints the call, its error name, file:line and rank@host (as mpiCheck does,
 * mpi/mpi_check.h; the rank comes from the launcher's environment, since the CUDA backend
 * does not call MPI), then exits: an error inside a running executor leaves the CUDA context
 * unusable, so no caller could go on. Recoverable failures (out of GPU memory while planning
 * an executor) are checked by hand and returned as messages (gpu/exec_cuda.cu). Include from
 * .cu files only. */
#ifndef FN_GPU_CUDA_CHECK_H
#define FN_GPU_CUDA_CHECK_H

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* "[CUDA ERROR] call at file:line (rank R@host): error", then exit(EXIT_FAILURE). R is -1
 * outside a launcher (mpirun, srun). */
[[noreturn]] static inline void gpu_check_fail(const char *lib, const char *what,
                                               const char *expr, const char *file, int line) {
    static const char *const vars[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK",
                                       "SLURM_PROCID"};
    const char *rank = "-1";
    for (const char *v : vars)
        if (getenv(v)) {
            rank = getenv(v);
            break;
        }
    char host[256] = "?";
    gethostname(host, sizeof host);
    fprintf(stderr, "[%s ERROR] %s at %s:%d (rank %s@%s): %s\n", lib, expr, file, line, rank,
            host, what);
    exit(EXIT_FAILURE);
}

#define cudaCheck(call)                                                                    \
    do {                                                                                   \
        cudaError_t e_ = (call);                                                           \
        if (e_ != cudaSuccess)                                                             \
            gpu_check_fail("CUDA", cudaGetErrorString(e_), #call, __FILE__, __LINE__);     \
    } while (0)

#define cudnnCheck(call)                                                                   \
    do {                                                                                   \
        cudnnStatus_t s_ = (call);                                                         \
        if (s_ != CUDNN_STATUS_SUCCESS)                                                    \
            gpu_check_fail("cuDNN", cudnnGetErrorString(s_), #call, __FILE__, __LINE__);   \
    } while (0)

#define cublasCheck(call)                                                                  \
    do {                                                                                   \
        cublasStatus_t s_ = (call);                                                        \
        if (s_ != CUBLAS_STATUS_SUCCESS)                                                   \
            gpu_check_fail("cuBLAS", cublasGetStatusString(s_), #call, __FILE__, __LINE__); \
    } while (0)

/* after every kernel launch */
#define cudaCheckLaunch() cudaCheck(cudaGetLastError())

#endif
