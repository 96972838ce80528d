/* nn/conv2d_pad.h: the zero-padded plane copy that the stride-1 convolution kernels read, the
 * depthwise rows of nn/conv2d.c (dw1_*) and the dense tiles of nn/conv2d_direct.c. Private to
 * nn/; include after nn/real.h (real is the including file's precision).
 *
 * Layout of one plane [h, w] padded by pad: rows R = w + pad apart, the first pixel at
 * pad * R + pad. The pad zeros after one row are the pad zeros before the next, so a tap that
 * runs off a row's right end reads zeros, never the next row's data, and each output row is
 * one run of R-strided reads per tap. Above: pad rows of zeros; after the last row's right
 * pad: `slack` more zeros (bottom rows, and what the kernels' vector tails read). */
#ifndef FN_CONV2D_PAD_H
#define FN_CONV2D_PAD_H

#include <stddef.h>
#include <string.h>

/* elements from the start of a padded plane to the end of its last row's right pad */
static inline size_t conv_pad_rows_end(int h, int w, int pad) {
    return (size_t)(h + pad) * (w + pad) + pad;
}

/* dst [conv_pad_rows_end(h, w, pad) + slack] = src [h, w] zero-padded (layout above). Rows are
 * copied by a vector loop: one memcpy call per row of 8 to 32 elements cost more than the
 * copy (the depthwise kernels, bench_conv). */
static inline void conv_pad_plane(real *restrict dst, const real *restrict src, int h, int w,
                                  int pad, size_t slack) {
    const int R = w + pad;
    memset(dst, 0, sizeof(real) * ((size_t)pad * R + pad));
    for (int y = 0; y < h; y++) {
        real *restrict row = dst + (size_t)(y + pad) * R + pad;
        const real *restrict s = src + (size_t)y * w;
#pragma omp simd
        for (int x = 0; x < w; x++) row[x] = s[x];
        for (int x = w; x < R; x++) row[x] = 0; /* right pad = the next row's left pad */
    }
    memset(dst + conv_pad_rows_end(h, w, pad), 0, sizeof(real) * slack);
}

#endif
