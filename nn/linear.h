/* nn/linear.h: fully connected layer out[n,o] = sum_i in[n,i] * w[o,i] + b[o] (OpenBLAS GEMM).
 * Backward accumulates into din, dw, db (each skipped when NULL).
 * The _blocks forms are block diagonal (a stacked graph's head, engine/graph_stack.h): in
 * [n][blocks][in_f], out [n][blocks][out_f], w [blocks][out_f][in_f], b [blocks][out_f]; block
 * j is the plain layer on its slices (one GEMM each, rows blocks * in_f apart). */
#ifndef FN_LINEAR_H
#define FN_LINEAR_H

#define FN_LINEAR_DECL(T, S)                                                               \
    void linear_forward_##S(T *out, const T *in, const T *w, const T *b, int n, int in_f,   \
                            int out_f);                                                     \
    void linear_backward_##S(T *din, T *dw, T *db, const T *dout, const T *in, const T *w,  \
                             int n, int in_f, int out_f);                                  \
    void linear_blocks_forward_##S(T *out, const T *in, const T *w, const T *b, int n,        \
                                   int in_f, int out_f, int blocks);                          \
    void linear_blocks_backward_##S(T *din, T *dw, T *db, const T *dout, const T *in,         \
                                    const T *w, int n, int in_f, int out_f, int blocks);
FN_LINEAR_DECL(float, f32)
FN_LINEAR_DECL(double, f64)

#endif
