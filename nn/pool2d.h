/* nn/pool2d.h: average pooling (count_include_pad = False: the divisor counts only positions
 * inside the image), max pooling (padding acts as -inf; the gradient goes to the first
 * maximum in row-major window order), and global average pooling [n,c,h,w] -> [n,c].
 * Output size: ho = (h + 2p - k)/s + 1. Backward accumulates into din. */
#ifndef FN_POOL2D_H
#define FN_POOL2D_H

#include <stddef.h>

typedef struct {
    int n, c, h, w, k, stride, pad;
    int ho, wo; /* set by pool2d_dims_init */
} pool2d_dims;

int pool2d_dims_init(pool2d_dims *d);

#define FN_POOL2D_DECL(T, S)                                                               \
    void avgpool2d_forward_##S(T *out, const T *in, const pool2d_dims *d);                 \
    void avgpool2d_backward_##S(T *din, const T *dout, const pool2d_dims *d);              \
    void maxpool2d_forward_##S(T *out, const T *in, const pool2d_dims *d);                 \
    void maxpool2d_backward_##S(T *din, const T *dout, const T *in, const pool2d_dims *d); \
    /* tout = tin at the argmax of in (argmax held fixed, as autograd's double backward) */ \
    void maxpool2d_forward_tangent_##S(T *tout, const T *tin, const T *in,                 \
                                       const pool2d_dims *d);                               \
    void gap_forward_##S(T *out, const T *in, int n, int c, int hw);                       \
    void gap_backward_##S(T *din, const T *dout, int n, int c, int hw);
FN_POOL2D_DECL(float, f32)
FN_POOL2D_DECL(double, f64)

#endif
