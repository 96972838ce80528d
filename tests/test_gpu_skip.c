/* tests/test_gpu_skip.c: the GPU tests' common start (see test_gpu_skip.h). */
#include "tests/test_gpu_skip.h"

#include <stdio.h>

#include "gpu/backend_cuda.h"
#include "gpu/device.h"

int test_gpu_start(void) {
    gpu_backend_register();
    if (gpu_device_count() <= 0) {
        printf("SKIP: no CUDA device (the CUDA executor is compiled%s; run on a GPU host)\n",
               gpu_compiled() ? "" : " out");
        return 77;
    }
    if (!gpu_exec_compiled()) {
        printf("SKIP: this build has no CUDA executor (cuDNN or cuBLAS not found)\n");
        return 77;
    }
    char desc[128];
    gpu_describe(0, desc, sizeof desc);
    printf("device: %s\n", desc);
    return 0;
}
