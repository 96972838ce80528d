/* gpu/backend_cuda_none.c: gpu/backend_cuda.h for builds without CUDA, cuDNN or cuBLAS:
 * asking for the CUDA device fails with a message. */
#include "gpu/backend_cuda.h"

#include <stdio.h>

#include "engine/backend.h"

static const fn_backend *cuda_none(char *err, size_t errlen) {
    snprintf(err, errlen, "device cuda: this build has no CUDA backend (rebuild where the CUDA "
             "toolkit, cuDNN and cuBLAS are found)");
    return NULL;
}

void gpu_backend_register(void) { backend_register_loader(FN_DEV_CUDA, cuda_none); }
int gpu_exec_compiled(void) { return 0; }
void gpu_set_graphs(int on) { (void)on; }
