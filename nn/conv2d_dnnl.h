/* nn/conv2d_dnnl.h: float32 dense and depthwise convolutions (forward and data gradient)
 * through oneDNN's JIT kernels, when the build found oneDNN (Debian libdnnl-dev;
 * FREENAS_HAVE_DNNL).
 *
 * nn/conv2d.c offers every float32 conv here. It is taken (conv2d_dnnl_takes) with channels
 * in multiples of 16 (oneDNN's nChw16c blocks without padding); either dense (no groups)
 * with a kernel larger than 1x1, or depthwise on planes of 16x16 or smaller; and oneDNN has
 * JIT kernels
 * for the CPU both ways (AVX2 or AVX-512; older CPUs get slow fallbacks and keep OpenBLAS
 * and the direct kernels; oneDNN 2.6 has no JIT data gradient for dilated depthwise). That
 * is NB201's 3x3 convs (2.1x faster in an NB201 SNIP pass) and DARTS's sep_conv on its small
 * planes (DARTS 8-cell SNIP 13 % faster per search). The tensors
 * stay NCHW for the rest of the engine: each call reorders the input (or the output
 * gradient) and the weights into oneDNN's blocked layout in the workspace, runs the
 * convolution there, and reorders the result back (the data gradient adds into din when
 * asked). Weight gradients stay on im2col + OpenBLAS and the direct depthwise kernels.
 *
 * Deterministic: every output element is one kernel's sum over (ci, ky, kx) in an order
 * fixed by the shape; no sum is split over threads, so 1 or N threads, and calls from
 * inside an OpenMP region (bundle slots, one thread each), give the same bits
 * (tests/test_conv_dnnl.c checks them). Primitives are made once per shape and kept, behind
 * a lock, until exit; each call brings its own workspace (blocked tensors and oneDNN's
 * scratchpad, user-managed), so concurrent calls share nothing writable.
 * FREENAS_ONEDNN=0 in the environment turns the path off (the im2col + GEMM path then runs
 * every conv, as in a build without oneDNN). */
#ifndef FN_CONV2D_DNNL_H
#define FN_CONV2D_DNNL_H

#include <stddef.h>

#include "nn/conv2d.h"

/* 1 where oneDNN was found at build time */
extern const int conv2d_dnnl_built;
/* Run-time switch, read once from FREENAS_ONEDNN (default on); tests and benchmarks set it
 * before they size workspaces (conv2d_workspace counts the path only while it is on). */
extern int conv2d_dnnl_enabled;

/* 1 if float32 convs of this shape go through oneDNN (built, enabled, the shape fits) */
int conv2d_dnnl_takes(const conv2d_dims *d);
/* oneDNN's name of the kernel for the forward (backward = 0) or data gradient (backward =
 * 1) of this shape ("jit:avx512_core", ...), taken or not; "" where the shape cannot be */
const char *conv2d_dnnl_impl(const conv2d_dims *d, int backward);
/* Frees the cached primitives (the next call makes them again); never during a call, and
 * workspaces sized before may be too small for the primitives made again (size them anew). */
void conv2d_dnnl_reset(void);
/* float elements of workspace a call needs (0 where the shape is not taken) */
size_t conv2d_dnnl_workspace(const conv2d_dims *d);
/* out = conv(in, w) where the shape is taken (one cache lookup); returns 1 if it ran, 0 if
 * not taken (nothing written) */
int conv2d_dnnl_forward(float *out, const float *in, const float *w, const conv2d_dims *d,
                        float *ws);
/* din (+)= conv^T(dout, w): acc = 0 writes din, 1 adds to it; returns as the forward */
int conv2d_dnnl_backward_data(float *din, const float *dout, const float *w,
                              const conv2d_dims *d, float *ws, int acc);

#endif
