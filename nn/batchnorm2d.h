/* nn/batchnorm2d.h: BatchNorm2d in train mode (docs/METHOD.md §3.11): per-channel statistics of
 * the current batch over (n, y, x), biased variance, eps (1e-5 in every network here);
 * affine when gamma/beta are given, else y = x_hat.
 * Forward saves mean[c] and invstd[c] for backward. Backward accumulates (+=) into din (or,
 * with acc = 0, writes every element of it: a first write needs no zeroing) and, when
 * non-NULL, into dgamma/dbeta. Running statistics are not used by train-mode search. */
#ifndef FN_BATCHNORM2D_H
#define FN_BATCHNORM2D_H

#define FN_BN_EPS 1e-5

#define FN_BATCHNORM2D_DECL(T, S)                                                          \
    /* out,in [n,c,hw]; gamma,beta [c] or NULL; mean,invstd [c] saved */                     \
    void batchnorm2d_forward_##S(T *out, T *mean, T *invstd, const T *in, const T *gamma,    \
                                 const T *beta, int n, int c, int hw, double eps);           \
    /* saved = the input x, or x_hat itself when saved_is_xhat (the output of a non-affine \
     * BN: lets the planner keep the output instead of the input) */                        \
    void batchnorm2d_backward_##S(T *din, T *dgamma, T *dbeta, const T *dout, const T *saved, \
                                  int saved_is_xhat, const T *mean, const T *invstd,         \
                                  const T *gamma, int n, int c, int hw, int acc);           \
    /* The backward of a non-affine BN folded into the mix that reads it                    \
     * (engine/graph_fold.h). grad_sums: st[q][2 ch], st[q][2 ch + 1] = sum dy and sum dy    \
     * xhat_q over channel ch, for k outputs xhat_q [n,c,hw] against one dy.                 \
     * backward_folded: din (+)= invstd (coef dy - coef S1 / m - xhat coef S2 / m), m = n hw, \
     * S1, S2 from st [2c]; acc = 0 writes every element. */                                 \
    void batchnorm2d_grad_sums_##S(double *const *st, const T *const *xhat, int k,          \
                                   const T *dy, int n, int c, int hw);                       \
    void batchnorm2d_backward_folded_##S(T *din, const T *dy, T coef, const T *xhat,         \
                                         const double *st, const T *invstd, int n, int c,    \
                                         int hw, int acc);                                   \
    /* Tangents along (tin, tgamma, tbeta) (nn/batchnorm2d_tangent.c): forward writes tout \
     * and the statistics' tangents tmean, tinvstd [c]; backward accumulates the tangents   \
     * of din, dgamma, dbeta given dout and its tangent tdout, saved (x, or x_hat) and its  \
     * tangent tsaved. tgamma, tbeta NULL: no direction on them (or no affine). */          \
    void batchnorm2d_forward_tangent_##S(T *tout, T *tmean, T *tinvstd, const T *tin,        \
                                         const T *in, const T *mean, const T *invstd,         \
                                         const T *gamma, const T *tgamma, const T *tbeta,     \
                                         int n, int c, int hw);                               \
    void batchnorm2d_backward_tangent_##S(T *tdin, T *tdgamma, T *tdbeta, const T *dout,     \
                                          const T *tdout, const T *saved, const T *tsaved,    \
                                          int saved_is_xhat, const T *mean, const T *invstd,  \
                                          const T *tmean, const T *tinvstd, const T *gamma,   \
                                          const T *tgamma, int n, int c, int hw);  \
    /* eval mode: y = (x - mean) * invstd * gamma + beta with given statistics (PyTorch's    \
     * eval-mode BN with invstd = 1/sqrt(running_var + eps)); out,in [n,c,hw] */              \
    void batchnorm2d_forward_stats_##S(T *out, const T *in, const T *mean, const T *invstd,  \
                                       const T *gamma, const T *beta, int n, int c, int hw);
FN_BATCHNORM2D_DECL(float, f32)
FN_BATCHNORM2D_DECL(double, f64)

#endif
