/* gpu/device_none.c: accelerator discovery for builds without the CUDA toolkit (no devices). */
#include "gpu/device.h"

int gpu_compiled(void) { return 0; }
int gpu_device_count(void) { return 0; }
int gpu_describe(int i, char *buf, size_t len) {
    (void)i; (void)buf; (void)len;
    return -1;
}

int gpu_bind(int i, char *bus_id, size_t len) {
    (void)i;
    if (len) bus_id[0] = '\0';
    return -1;
}

double gpu_peak_gflops(int i, int fp64) {
    (void)i; (void)fp64;
    return 0;
}
