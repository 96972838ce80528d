/* gpu/device.cu: CUDA device discovery (see gpu/device.h). Compiled by nvcc wherever the
 * toolkit exists; returns 0 devices when no GPU or driver is present. */
#include <cuda_runtime.h>
#include <stdio.h>

#include "gpu/device.h"

extern "C" {
#include "engine/backend.h"
}

extern "C" int gpu_compiled(void) { return 1; }

extern "C" int gpu_device_count(void) {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        cudaGetLastError(); /* clear the sticky "no device / no driver" error */
        return 0;
    }
    return n;
}

extern "C" int gpu_describe(int i, char *buf, size_t len) {
    cudaDeviceProp p;
    if (cudaGetDeviceProperties(&p, i) != cudaSuccess) {
        cudaGetLastError();
        return -1;
    }
    snprintf(buf, len, "%s, sm_%d%d, %.1f GiB", p.name, p.major, p.minor,
             (double)p.totalGlobalMem / (1024.0 * 1024.0 * 1024.0));
    return 0;
}

extern "C" int gpu_bind(int i, char *bus_id, size_t len) {
    if (cudaSetDevice(i) != cudaSuccess || cudaDeviceGetPCIBusId(bus_id, (int)len, i) != cudaSuccess) {
        cudaGetLastError();
        return -1;
    }
    backend_set_cuda_device(i); /* the device of every thread's executors, not only this one's */
    return 0;
}

extern "C" double gpu_peak_gflops(int i, int fp64) {
    int sms = 0, khz = 0, major = 0;
    if (cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, i) != cudaSuccess ||
        cudaDeviceGetAttribute(&khz, cudaDevAttrClockRate, i) != cudaSuccess ||
        cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, i) != cudaSuccess) {
        cudaGetLastError();
        return 0;
    }
    const int lanes = fp64 ? (major >= 8 ? 64 : 2) : (major >= 8 ? 128 : 64);
    return 2.0 * lanes * sms * (khz * 1e3) / 1e9;
}
