/* nn/tensor_ops.h: the glue ops of a cell.
 *  mix:       out = sum_i c_i * in_i, with c_i = alpha[aidx_i] (a mixed-op term, docs/METHOD.md
 *             §3.11: raw alpha, no softmax) or 1 (aidx_i < 0: a plain sum, e.g. a residual).
 *             Backward: din_i += c_i * dout (din_i = c_i * dout where acc[i] == 0, or acc NULL
 *             for all: the executor's first write of a gradient, which then needs no
 *             zeroing); dalpha[aidx_i] += <dout, in_i> (the alpha gradient sums over batch,
 *             channels, positions, and over every cell sharing alpha).
 *  concat:    channel concatenation of k tensors of equal n, h, w.
 *  subsample: out = in[:, :, off::s, off::s] cropped to [ho, wo] (strided `none`, and the
 *             shifted branch of FactorizedReduce).
 *  scale_n:   out[i] = s[i] * in[i] per sample i (drop-path); backward din[i] += s[i] * dout[i].
 * The `none` op (0 * x) contributes nothing and is never materialised.
 * Backward accumulates into its inputs' gradients. */
#ifndef FN_TENSOR_OPS_H
#define FN_TENSOR_OPS_H

#include <stddef.h>

#define FN_TENSOR_OPS_DECL(T, S)                                                           \
    void mix_forward_##S(T *out, T *const *in, const int *aidx, const T *alpha, int k,      \
                         size_t numel);                                                     \
    void mix_backward_##S(T *const *din, T *dalpha, const T *dout, T *const *in,             \
                          const int *aidx, const T *alpha, int k, size_t numel,              \
                          const unsigned char *acc);                                         \
    void concat_forward_##S(T *out, T *const *in, const int *cin, int k, int n, int hw);     \
    void concat_backward_##S(T *const *din, const T *dout, const int *cin, int k, int n,     \
                             int hw);                                                        \
    void subsample_forward_##S(T *out, const T *in, int n, int c, int h, int w, int off,     \
                               int s, int ho, int wo);                                       \
    void subsample_backward_##S(T *din, const T *dout, int n, int c, int h, int w, int off,  \
                                int s, int ho, int wo);                                      \
    /* out,in [n, per]; s [n] */                                                             \
    void scale_n_forward_##S(T *out, const T *in, const T *s, int n, size_t per);           \
    void scale_n_backward_##S(T *din, const T *dout, const T *s, int n, size_t per);  \
    /* tangents: tout = sum c_i tin_i + t_i in_i; tdin_i += c_i tdout + t_i dout,         \
     * tdalpha[aidx_i] += <tdout, in_i> + <dout, tin_i> (t_i = talpha[aidx_i], 0 if < 0) */ \
    void mix_forward_tangent_##S(T *tout, T *const *tin, T *const *in, const int *aidx,      \
                                 const T *alpha, const T *talpha, int k, size_t numel);      \
    void mix_backward_tangent_##S(T *const *tdin, T *tdalpha, const T *dout, const T *tdout,  \
                                  T *const *in, T *const *tin, const int *aidx,               \
                                  const T *alpha, const T *talpha, int k, size_t numel);
FN_TENSOR_OPS_DECL(float, f32)
FN_TENSOR_OPS_DECL(double, f64)

#endif
