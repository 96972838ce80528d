/* gpu/exec_none.c: the CUDA executor's entry points for builds without CUDA, cuDNN or cuBLAS:
 * making a CUDA executor fails with a message (engine/graph.c asks only for FN_DEV_CUDA). */
#include <stdio.h>

#include "gpu/exec_cuda.h"

int gpu_exec_init(fn_exec *e, char *err, size_t errlen) {
    (void)e;
    snprintf(err, errlen, "device cuda: this build has no CUDA backend (rebuild where the CUDA "
             "toolkit, cuDNN and cuBLAS are found)");
    return FN_EXEC_DEVICE;
}
void gpu_exec_free(fn_exec *e) { (void)e; }
void gpu_exec_forward(fn_exec *e) { (void)e; }
void gpu_exec_backward(fn_exec *e, const void *dlogits) { (void)e; (void)dlogits; }
void gpu_set_graphs(int on) { (void)on; }
int gpu_exec_compiled(void) { return 0; }
void gpu_exec_relu_mask(fn_exec *e, size_t bytes) { (void)e; (void)bytes; }
void *gpu_exec_tensor(const fn_exec *e, int t, int grad) {
    (void)e; (void)t; (void)grad;
    return NULL; /* no CUDA executor can exist in this build */
}
