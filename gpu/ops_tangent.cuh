/* gpu/ops_tangent.cuh: the CUDA kernels of the exact Hessian-vector product's tangent rules
 * (gpu/exec_cuda_hvp.cu), twins of nn/batchnorm2d_tangent.c, nn/pool2d.c's and
 * nn/tensor_ops.c's tangents, templated on float and double; reductions sum in double, two
 * stages in a fixed order (no atomics). Conv, linear, average and global pooling, concat and
 * subsample need no kernels of their own (their primal ones apply to tangents). */
#ifndef FN_GPU_OPS_TANGENT_CUH
#define FN_GPU_OPS_TANGENT_CUH

#include <cuda_runtime.h>
#include <stddef.h>

#include "gpu/ops.cuh"

/* doubles of scratch the BN tangents need for c channels */
size_t op_bn_tangent_scratch(int c);
/* Train-mode BN tangents (nn/batchnorm2d.h): forward writes ty and the statistics' tangents
 * tmean, tinvstd [c] from x and tx (gamma, tgamma, tbeta NULL: none); backward accumulates
 * tdx, tdgamma, tdbeta (each NULL: skipped) from dy, tdy, the saved x (or x_hat) and its
 * tangent. */
template <typename T>
void op_bn_fwd_tangent(cudaStream_t s, T *ty, T *tmean, T *tinvstd, const T *tx, const T *x,
                       const T *mean, const T *invstd, const T *gamma, const T *tgamma,
                       const T *tbeta, int n, int c, int hw, double *scratch);
template <typename T>
void op_bn_bwd_tangent(cudaStream_t s, T *tdx, T *tdgamma, T *tdbeta, const T *dy, const T *tdy,
                       const T *x, const T *tx, int saved_is_xhat, const T *mean,
                       const T *invstd, const T *tmean, const T *tinvstd, const T *gamma,
                       const T *tgamma, int n, int c, int hw, double *scratch);
/* ReLU tangent with the sign of x held fixed: ty = x > 0 ? tx : 0 */
template <typename T> void op_relu_fwd_tangent(cudaStream_t s, T *ty, const T *tx, const T *x, size_t n);
/* max pooling tangent: ty = tx at each window's first maximum of x (argmax held fixed) */
template <typename T>
void op_maxpool_fwd_tangent(cudaStream_t s, T *ty, const T *tx, const T *x, int planes, int h,
                            int w, int k, int st, int pad, int ho, int wo);
/* mix: y += sum_j t_j x_j over the inputs with aidx_j >= 0, t_j = talpha[aidx_j] */
template <typename T>
void op_mix_add_tangent(cudaStream_t s, T *y, const op_mix_args *a, const T *talpha, size_t n);

#endif
