/* nn/linear.h: fully connected layer out[n,o] = sum_i in[n,i] * w[o,i] + b[o] (OpenBLAS GEMM).
 * Backward accumulates into din, dw, db (each skipped when NULL). */
#ifndef FN_LINEAR_H
#define FN_LINEAR_H

#define FN_LINEAR_DECL(T, S)                                                               \
    void linear_forward_##S(T *out, const T *in, const T *w, const T *b, int n, int in_f,   \
                            int out_f);                                                     \
    void linear_backward_##S(T *din, T *dw, T *db, const T *dout, const T *in, const T *w,  \
                             int n, int in_f, int out_f);
FN_LINEAR_DECL(float, f32)
FN_LINEAR_DECL(double, f64)

#endif
