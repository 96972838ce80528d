/* nn/conv2d.h: 2-D convolution (NCHW, no bias) with stride, padding, dilation and groups.
 *
 * Forward: out[n,co,y,x] = sum_{ci in group, ky, kx} w[co, ci', ky, kx] *
 *          in[n, ci, y*s - p + ky*d, x*s - p + kx*d]   (zero outside the image).
 * CPU: per image and group, im2col then one OpenBLAS GEMM; images split over OpenMP threads.
 * Depthwise (groups == cin == cout, k <= 11): direct loops, planes split over the threads.
 * Dense stride-1 convs with 1 < k <= 7: direct kernels (nn/conv2d_direct.h), forward and
 * data gradient, where oneDNN does not take them.
 * Float32 3x3 (and larger) dense convs and depthwise convs on planes up to 16x16, channels
 * in multiples of 16: oneDNN when built with it (nn/conv2d_dnnl.h), forward and data
 * gradient.
 * Backward accumulates (+=) into din and, when dw != NULL, into dw.
 * Compiled for float (suffix _f32) and double (_f64); see nn/real.h. */
#ifndef FN_CONV2D_H
#define FN_CONV2D_H

#include <stddef.h>

typedef struct {
    int n, cin, h, w;          /* input  [n, cin, h, w] */
    int cout, k, stride, pad, dil, groups;
    int ho, wo;                /* output [n, cout, ho, wo] (set by conv2d_dims_init) */
} conv2d_dims;

/* Fills ho, wo. Returns 0, or -1 if the shape is impossible. */
int conv2d_dims_init(conv2d_dims *d);
/* Workspace elements (of the chosen precision) that forward/backward need. */
size_t conv2d_workspace(const conv2d_dims *d);
/* Multiply-adds of one forward pass. */
double conv2d_flops(const conv2d_dims *d);

#define FN_CONV2D_DECL(T, S)                                                              \
    /* out [n,cout,ho,wo]; in [n,cin,h,w]; w [cout, cin/groups, k, k]; ws workspace */       \
    void conv2d_forward_##S(T *out, const T *in, const T *w, const conv2d_dims *d, T *ws);  \
    /* din [n,cin,h,w] += (acc = 0: din =, every element written); dw [cout,cin/groups,k,k] \
     * += (skipped if NULL); din may be NULL */                                              \
    void conv2d_backward_##S(T *din, T *dw, const T *dout, const T *in, const T *w,         \
                             const conv2d_dims *d, T *ws, int acc);
FN_CONV2D_DECL(float, f32)
FN_CONV2D_DECL(double, f64)

#endif
