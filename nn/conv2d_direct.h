/* nn/conv2d_direct.h: direct (no im2col) kernels for dense stride-1 convolutions: NB201's
 * 3x3 convs in the float64 SynFlow pass, float32 ones oneDNN does not take, and 1x1 convs
 * on batches.
 *
 * Taken (conv2d_direct_takes): groups 1, stride 1, dilation 1, k <= 7, pad <= k-1; a 1x1
 * only at batch > 1 on planes of at least 64 outputs (OpenBLAS stays faster at batch 1 and
 * on 7x7 planes). k > 1: the input is copied once, zero-padded, so every tap (ky, kx) of
 * flat output i = y*wp + x reads the padded plane at the fixed offset i + ky*wp + kx
 * (wp = w + pad: one gap of zeros pads both the right of a row and the left of the next;
 * the columns x >= wo are computed and dropped, as in the depthwise kernels of
 * nn/conv2d.c). A tile of 4 output channels x NV vectors of flat outputs lives in registers
 * across all input channels and taps: per tap, NV vector loads feed 4*NV fused
 * multiply-adds, the weights broadcast from a copy packed [co block][ci][tap][4]. The data
 * gradient is the same kernel on dout, padded by k-1-pad, with the filters transposed and
 * flipped. 1x1: the same tiles read the planes in place and write the output rows directly
 * (a plane's last vector masked), images over the threads; OpenBLAS packs both operands
 * of these small GEMMs on every call (bench_profile: the DARTS 8-cell SNIP pass's 1x1 convs 13 % faster).
 *
 * Exact and portable: every output element is one fused multiply-add chain over (ci, ky, kx)
 * in that order, its own vector lane. The AVX-512, AVX2 and scalar (fma()) builds therefore
 * give the same bits, as do 1 or N threads (the tiles are split over the threads, never a
 * sum), batch 1 or N, and calls from inside an OpenMP region (bundle slots).
 * bench/bench_conv_dense.c times it against im2col + GEMM and oneDNN.
 * Compiled for float (suffix _f32) and double (_f64); see nn/real.h. */
#ifndef FN_CONV2D_DIRECT_H
#define FN_CONV2D_DIRECT_H

#include <stddef.h>

#include "nn/conv2d.h"

/* Run-time switch, read once from FREENAS_CONV_DIRECT (default on; 0: every conv takes the
 * other paths); tests and benchmarks set it before they size workspaces. */
extern int conv2d_direct_enabled;

/* 1 if the direct kernels take this shape (enabled, and the shape fits) */
int conv2d_direct_takes(const conv2d_dims *d);
/* Workspace elements a forward or data-gradient call needs (0 where not taken); counted
 * for the wider vector of either precision, so one figure serves both. */
size_t conv2d_direct_workspace(const conv2d_dims *d);

#define FN_CONV2D_DIRECT_DECL(T, S)                                                         \
    /* the vector code this build runs: "avx512", "avx2" or "scalar" */                      \
    const char *conv2d_direct_isa_##S(void);                                                 \
    /* out = conv(in, w); returns 1 if taken (ran), 0 if not (nothing written) */            \
    int conv2d_direct_forward_##S(T *out, const T *in, const T *w, const conv2d_dims *d,     \
                                  T *ws);                                                    \
    /* din (+)= conv^T(dout, w): acc = 0 writes din, 1 adds; returns as the forward */       \
    int conv2d_direct_backward_data_##S(T *din, const T *dout, const T *w,                   \
                                        const conv2d_dims *d, T *ws, int acc);
FN_CONV2D_DIRECT_DECL(float, f32)
FN_CONV2D_DIRECT_DECL(double, f64)

#endif
