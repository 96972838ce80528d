/* gpu/device.h: accelerator discovery. Built from gpu/device.cu when the CUDA toolkit is
 * present (even on machines without a GPU: it then reports 0 devices), else from
 * gpu/device_none.c. The CUDA twins of the nn ops arrive behind the same interface. */
#ifndef FN_GPU_DEVICE_H
#define FN_GPU_DEVICE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 1 if this build has the CUDA backend compiled in. */
int gpu_compiled(void);
/* Number of usable CUDA devices (0 without a GPU or driver). */
int gpu_device_count(void);
/* "NVIDIA H100 80GB HBM3, sm_90, 79.2 GiB" into buf; -1 if i is not a device. */
int gpu_describe(int i, char *buf, size_t len);
/* Peak arithmetic rate of device i in GFLOP/s from its SM count and clock, CUDA cores only
 * (no tensor cores: the executor runs FMA math): fp64 = 0 float32 (128 lanes per SM on
 * sm_80+), fp64 = 1 float64 (64 lanes per SM on sm_80/sm_90). 0 if unknown. */
double gpu_peak_gflops(int i, int fp64);
/* Makes device i current for this thread, and the device of every thread's CUDA executors
 * (backend_set_cuda_device, engine/backend.h: a bundle's threads run on the rank's GPU), and
 * writes its PCI bus id ("0000:3b:00.0"), which names it uniquely on a host even when
 * CUDA_VISIBLE_DEVICES renumbers devices. 0, or -1. */
int gpu_bind(int i, char *bus_id, size_t len);

#ifdef __cplusplus
}
#endif

#endif
