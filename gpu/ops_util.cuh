/* gpu/ops_util.cuh: launch geometry and the block reduction shared by the executor's kernel
 * files (gpu/ops.cu, gpu/ops_tangent.cu); include from .cu files only. Each includer gets
 * its own static copies. */
#ifndef FN_GPU_OPS_UTIL_CUH
#define FN_GPU_OPS_UTIL_CUH

#include <cuda_runtime.h>
#include <stddef.h>

#define NT 256 /* threads per block */

static inline unsigned grid_for(size_t n) {
    size_t b = (n + NT - 1) / NT;
    if (b > 65536) b = 65536; /* grid-stride beyond */
    return b ? (unsigned)b : 1;
}

/* sum of v over the block, valid in thread 0; callable repeatedly */
__device__ static inline double block_sum(double v) {
    __shared__ double sh[32];
    for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
    const int lane = threadIdx.x & 31, wid = threadIdx.x >> 5;
    if (lane == 0) sh[wid] = v;
    __syncthreads();
    const int nw = (blockDim.x + 31) >> 5;
    v = (int)threadIdx.x < nw ? sh[threadIdx.x] : 0.0;
    if (wid == 0)
        for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
    __syncthreads();
    return v;
}

#define GRID_STRIDE(i, n) \
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (size_t)gridDim.x * blockDim.x)

#endif
