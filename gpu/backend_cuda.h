/* gpu/backend_cuda.h: what programs call to offer the CUDA backend (engine/backend.h).
 * gpu_backend_register at start-up registers a loader for FN_DEV_CUDA; the first executor
 * made with that device dlopens libfreenas_cuda.so (gpu/exec_cuda.cu with cuDNN and cuBLAS)
 * from the program's directory, so a CPU-only run never maps cuDNN or cuBLAS. Programs must
 * export their symbols (CMake ENABLE_EXPORTS) for the module to find engine/ and base/.
 * Built from gpu/backend_cuda.c where the CUDA executor is built, else from
 * gpu/backend_cuda_none.c (asking for the device then fails with a message). */
#ifndef FN_GPU_BACKEND_CUDA_H
#define FN_GPU_BACKEND_CUDA_H

#ifdef __cplusplus
extern "C" {
#endif

/* Registers the CUDA backend's loader (nothing is loaded yet). */
void gpu_backend_register(void);
/* 1 when this build has the CUDA executor (CUDA toolkit, cuDNN and cuBLAS were found). */
int gpu_exec_compiled(void);
/* 1 (default): replay forward / backward passes as CUDA graphs (captured on the second run
 * of a shape); 0: launch every kernel each time. Loads the backend when it is not yet. */
void gpu_set_graphs(int on);

#ifdef __cplusplus
}
#endif

#endif
