/* gpu/ops.cuh: the own CUDA kernels of the executor (gpu/exec_cuda.cu), templated on float
 * and double. Each is the twin of a CPU op in nn/ with the same semantics: backward ops
 * accumulate (+=) into their gradients, reductions sum in double like the CPU ops, and
 * every reduction is two-stage in a fixed order (no atomics), so a result is bit-identical
 * from run to run. `scratch` is device memory of at least the *_scratch() doubles. */
#ifndef FN_GPU_OPS_CUH
#define FN_GPU_OPS_CUH

#include <cuda_runtime.h>
#include <stddef.h>

#include "engine/graph.h" /* FN_MAX_IN */

/* ReLU: y = max(x, 0); dx += dy where x > 0 (nn/relu.c). */
template <typename T> void op_relu_fwd(cudaStream_t s, T *y, const T *x, size_t n);
template <typename T> void op_relu_bwd(cudaStream_t s, T *dx, const T *dy, const T *x, size_t n);
/* ReLU with a recorded pattern (fn_relu_mode, engine/graph.h): record = 1 stores m = [x > 0];
 * forward y = m ? x : 0; backward dx += m ? dy : 0. */
template <typename T>
void op_relu_mask_fwd(cudaStream_t s, T *y, const T *x, unsigned char *m, size_t n, int record);
template <typename T>
void op_relu_mask_bwd(cudaStream_t s, T *dx, const T *dy, const unsigned char *m, size_t n);
/* dst += src */
template <typename T> void op_add(cudaStream_t s, T *dst, const T *src, size_t n);
/* dst[r * dpitch + j] += src[r * spitch + j], j < width, r < rows (concat backward) */
template <typename T>
void op_add_2d(cudaStream_t s, T *dst, size_t dpitch, const T *src, size_t spitch, size_t width,
               int rows);

/* Train-mode BatchNorm2d (nn/batchnorm2d.c): batch statistics about a shift (the channel's
 * first value) in double, biased variance, saved mean and 1/sqrt(var + eps). gamma / beta
 * NULL: non-affine. Backward from x (saved_is_xhat = 0) or from the normalised output. */
size_t op_bn_scratch(int c);
template <typename T>
void op_bn_fwd(cudaStream_t s, T *y, T *mean, T *invstd, const T *x, const T *gamma,
               const T *beta, int n, int c, int hw, double eps, double *scratch);
template <typename T>
void op_bn_bwd(cudaStream_t s, T *dx, T *dgamma, T *dbeta, const T *dy, const T *x,
               int saved_is_xhat, const T *mean, const T *invstd, const T *gamma, int n, int c,
               int hw, double *scratch);
/* Eval-mode BatchNorm2d (nn/batchnorm2d.c, batchnorm2d_forward_stats): y = x * sc + sh with
 * sc = invstd[ch] gamma[ch], sh = beta[ch] - mean[ch] sc from given statistics (running mean
 * and 1/sqrt(running var + eps)), in the executor's precision as the CPU op. */
template <typename T>
void op_bn_eval_fwd(cudaStream_t s, T *y, const T *x, const T *mean, const T *invstd,
                    const T *gamma, const T *beta, int n, int c, int hw);

/* Per-sample scale (nn/tensor_ops.c, scale_n_*; drop-path): y[i] = x[i] * sc[i] over the
 * `per` values of sample i; backward dx[i] += dy[i] * sc[i]. */
template <typename T>
void op_scale_n_fwd(cudaStream_t s, T *y, const T *x, const T *sc, int n, size_t per);
template <typename T>
void op_scale_n_bwd(cudaStream_t s, T *dx, const T *dy, const T *sc, int n, size_t per);

/* Mixed op (nn/tensor_ops.c): y = sum_i c_i x_i, c_i = alpha[aidx[i]] or 1 (aidx < 0), in
 * input order. Backward: din[i] += c_i dy (din[i] NULL: none), d alpha[aidx[i]] += <dy, x_i>
 * (a double dot product per input).
 * A stacked graph's mix (engine/graph_stack.h) has models > 1: element i lies in segment
 * i / seg (sample s, model m = segment % models) and model m's coefficients and d alpha are at
 * alpha + m * model_alpha; each model's dot products run over its own segments. models = 1
 * is the plain mix, with the same kernels and sums as before stacking (every caller sets the
 * three fields: mix_models, gpu/exec_cuda_impl.cuh). */
typedef struct {
    const void *in[FN_MAX_IN];
    void *din[FN_MAX_IN];
    int aidx[FN_MAX_IN];
    int k;
    int models;
    size_t seg, model_alpha;
} op_mix_args;
/* the coefficient of input j at element i: alpha[aidx[j]] of element i's model, or 1 */
template <typename T>
__device__ __forceinline__ T mix_coef(const op_mix_args &a, const T *alpha, int j, size_t i) {
    if (a.aidx[j] < 0) return (T)1;
    const size_t m = a.models > 1 ? i / a.seg % (size_t)a.models : 0;
    return alpha[m * a.model_alpha + a.aidx[j]];
}
/* doubles of scratch op_mix_bwd needs for k inputs of `models` models */
size_t op_mix_scratch(int k, int models);
template <typename T>
void op_mix_fwd(cudaStream_t s, T *y, const op_mix_args *a, const T *alpha, size_t n);
template <typename T>
void op_mix_bwd(cudaStream_t s, const op_mix_args *a, T *dalpha, const T *dy, const T *alpha,
                size_t n, double *scratch);

/* FactorizedReduce's strided view: y[p, y, x] = x[p, off + y*st, off + x*st] (0 outside). */
template <typename T>
void op_subsample_fwd(cudaStream_t s, T *y, const T *x, int planes, int h, int w, int off, int st,
                      int ho, int wo);
template <typename T>
void op_subsample_bwd(cudaStream_t s, T *dx, const T *dy, int planes, int h, int w, int off,
                      int st, int ho, int wo);

/* Global average pooling over each of `planes` planes of hw values (sum in double). */
template <typename T> void op_gap_fwd(cudaStream_t s, T *y, const T *x, int planes, int hw);
template <typename T> void op_gap_bwd(cudaStream_t s, T *dx, const T *dy, int planes, int hw);

/* Max pooling backward (nn/pool2d.c): each output's gradient goes to the first maximum of
 * its in-image window, recomputed from x; gathered per input element in output order. */
template <typename T>
void op_maxpool_bwd(cudaStream_t s, T *dx, const T *dy, const T *x, int planes, int h, int w,
                    int k, int st, int pad, int ho, int wo);

/* Linear helpers: y[i, o] = b[o] (before the GEMM adds x W^T); db[o] += sum_i dy[i, o]. */
template <typename T> void op_bias_fill(cudaStream_t s, T *y, const T *b, int n, int f);
template <typename T> void op_bias_grad(cudaStream_t s, T *db, const T *dy, int n, int f);

#endif
