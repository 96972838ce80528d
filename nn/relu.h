/* nn/relu.h: ReLU. Forward out = max(in, 0); backward din += dout where in > 0, or with
 * acc = 0 din = that term (every element written: the executor's first write of a gradient,
 * which then needs no zeroing pass). (The subgradient at 0 is 0, as in PyTorch.) */
#ifndef FN_RELU_H
#define FN_RELU_H

#include <stddef.h>

#define FN_RELU_DECL(T, S)                                                        \
    void relu_forward_##S(T *out, const T *in, size_t n);                         \
    void relu_backward_##S(T *din, const T *dout, const T *in, size_t n, int acc);
FN_RELU_DECL(float, f32)
FN_RELU_DECL(double, f64)

#endif
