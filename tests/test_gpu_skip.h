/* tests/test_gpu_skip.h: the GPU tests' common start: registers the CUDA backend and says
 * whether this host and build can run CUDA executors. */
#ifndef FN_TEST_GPU_SKIP_H
#define FN_TEST_GPU_SKIP_H

/* Registers the CUDA backend (loaded by the first CUDA executor). Without a CUDA device or
 * without the CUDA executor in this build: prints "SKIP: <why>" and returns 77 (CTest's skip
 * code, which main returns); else prints "device: <name>" and returns 0. */
int test_gpu_start(void);

#endif
