/* nn/pool2d.c: avg/max/global-average pooling forward and backward (see nn/pool2d.h). */
#include "nn/pool2d.h"

#include <math.h>

#include "base/common.h"
#include "nn/real.h"

#if !FN_REAL_DOUBLE
int pool2d_dims_init(pool2d_dims *d) {
    if (d->n <= 0 || d->c <= 0 || d->h <= 0 || d->w <= 0 || d->k <= 0 || d->stride <= 0 ||
        d->pad < 0 || 2 * d->pad > d->k)
        return -1;
    d->ho = (d->h + 2 * d->pad - d->k) / d->stride + 1;
    d->wo = (d->w + 2 * d->pad - d->k) / d->stride + 1;
    return (d->ho > 0 && d->wo > 0) ? 0 : -1;
}
#endif

#define WINDOW(y0, y1, x0, x1, y, x)                                                      \
    int y0 = (y) * d->stride - d->pad, x0 = (x) * d->stride - d->pad;                     \
    int y1 = y0 + d->k, x1 = x0 + d->k;                                                   \
    if (y0 < 0) y0 = 0;                                                                   \
    if (x0 < 0) x0 = 0;                                                                   \
    if (y1 > d->h) y1 = d->h;                                                             \
    if (x1 > d->w) x1 = d->w;

/* 3x3, stride 1, pad 1 (every NB201 cell and DARTS search edge): a separable box sum with
 * the in-image count 9, 6 or 4 folded into a per-position scale. out = box3(in * pre) * post
 * (forward: pre = 1, post = 1/count; backward: pre = 1/count, post = 1, accumulated). */
static void box3(real *out, const real *in, int h, int w, int backward, real *tmp) {
    /* inverse in-image tap counts along each axis: 1/2 at the borders, 1/3 inside */
    const real third = (real)1 / 3, half = (real)1 / 2;
#define INV(i, n) ((i) == 0 || (i) == (n) - 1 ? half : third)
    real *row = tmp + (size_t)h * w; /* backward: one pre-scaled input row */
    for (int y = 0; y < h; y++) { /* horizontal 3-sums (backward: of in / count) */
        const real *r = in + (size_t)y * w;
        if (backward) {
            const real iy = INV(y, h);
            for (int x = 0; x < w; x++) row[x] = r[x] * iy * INV(x, w);
            r = row;
        }
        real *t = tmp + (size_t)y * w;
        t[0] = r[0] + r[1];
        for (int x = 1; x < w - 1; x++) t[x] = r[x - 1] + r[x] + r[x + 1];
        t[w - 1] = r[w - 2] + r[w - 1];
    }
    for (int y = 0; y < h; y++) { /* vertical 3-sums */
        const real *t0 = tmp + (size_t)(y > 0 ? y - 1 : y) * w, *t1 = tmp + (size_t)y * w;
        const real *t2 = tmp + (size_t)(y < h - 1 ? y + 1 : y) * w;
        const real a = y > 0 ? (real)1 : (real)0, b = y < h - 1 ? (real)1 : (real)0;
        real *o = out + (size_t)y * w;
        if (backward) {
            for (int x = 0; x < w; x++) o[x] += a * t0[x] + t1[x] + b * t2[x];
        } else {
            const real iy = INV(y, h);
            o[0] = (a * t0[0] + t1[0] + b * t2[0]) * iy * half;
            for (int x = 1; x < w - 1; x++) o[x] = (a * t0[x] + t1[x] + b * t2[x]) * iy * third;
            o[w - 1] = (a * t0[w - 1] + t1[w - 1] + b * t2[w - 1]) * iy * half;
        }
    }
#undef INV
}

static int is_box3(const pool2d_dims *d) {
    return d->k == 3 && d->stride == 1 && d->pad == 1 && d->h > 1 && d->w > 1;
}

static void box3_planes(real *out, const real *in, const pool2d_dims *d, int backward) {
    const int planes = d->n * d->c;
    const size_t hw = (size_t)d->h * d->w;
#pragma omp parallel if ((size_t)planes * hw > 32768)
    {
        real *tmp = mallocCheck(sizeof(real) * (hw + (size_t)d->w));
#pragma omp for schedule(static)
        for (int p = 0; p < planes; p++) box3(out + p * hw, in + p * hw, d->h, d->w, backward, tmp);
        free(tmp);
    }
}

void FN(avgpool2d_forward)(real *out, const real *in, const pool2d_dims *d) {
    if (is_box3(d)) {
        box3_planes(out, in, d, 0);
        return;
    }
    const int planes = d->n * d->c;
#pragma omp parallel for schedule(static) if ((size_t)planes * d->h * d->w > 32768)
    for (int p = 0; p < planes; p++) {
        const real *src = in + (size_t)p * d->h * d->w;
        real *dst = out + (size_t)p * d->ho * d->wo;
        for (int y = 0; y < d->ho; y++)
            for (int x = 0; x < d->wo; x++) {
                WINDOW(y0, y1, x0, x1, y, x)
                real s = 0;
                for (int iy = y0; iy < y1; iy++)
                    for (int ix = x0; ix < x1; ix++) s += src[iy * d->w + ix];
                dst[y * d->wo + x] = s / (real)((y1 - y0) * (x1 - x0));
            }
    }
}

void FN(avgpool2d_backward)(real *din, const real *dout, const pool2d_dims *d) {
    if (is_box3(d)) {
        box3_planes(din, dout, d, 1);
        return;
    }
    const int planes = d->n * d->c;
#pragma omp parallel for schedule(static) if ((size_t)planes * d->h * d->w > 32768)
    for (int p = 0; p < planes; p++) {
        real *dsrc = din + (size_t)p * d->h * d->w;
        const real *ddst = dout + (size_t)p * d->ho * d->wo;
        for (int y = 0; y < d->ho; y++)
            for (int x = 0; x < d->wo; x++) {
                WINDOW(y0, y1, x0, x1, y, x)
                real g = ddst[y * d->wo + x] / (real)((y1 - y0) * (x1 - x0));
                for (int iy = y0; iy < y1; iy++)
                    for (int ix = x0; ix < x1; ix++) dsrc[iy * d->w + ix] += g;
            }
    }
}

/* index of the first maximum inside the window of output (y, x) */
static int argmax_window(const real *src, const pool2d_dims *d, int y, int x) {
    WINDOW(y0, y1, x0, x1, y, x)
    int best = y0 * d->w + x0;
    for (int iy = y0; iy < y1; iy++)
        for (int ix = x0; ix < x1; ix++)
            if (src[iy * d->w + ix] > src[best]) best = iy * d->w + ix;
    return best;
}

/* TAP: one window element at offset o from the window's corner, taken when strictly larger,
 * so the first maximum in row-major order wins, as in argmax_window. Selects, not branches:
 * the loops over outputs vectorise, and random data would mispredict the branches. */
#define TAP(o)                                                                             \
    {                                                                                      \
        const real v_ = r[o];                                                              \
        const int gt_ = isgreater(v_, best); /* quiet: lets the compiler vectorise */      \
        bo = gt_ ? (o) : bo;                                                               \
        best = gt_ ? v_ : best;                                                            \
    }

/* 3x3 windows at the compile-time stride S (DARTS's max_pool_3x3 at stride 1 or 2), outputs
 * xa to xb of one row: the loop over outputs vectorises; other windows take the loop below */
#define MAX3_RUN(S)                                                                        \
    _Pragma("omp simd")                                                                    \
    for (int x = xa; x < xb; x++) {                                                        \
        const int c = base + x * (S);                                                      \
        const real *r = src + c;                                                           \
        real best = r[0];                                                                  \
        int bo = 0;                                                                        \
        TAP(1) TAP(2) TAP(w) TAP(w + 1) TAP(w + 2) TAP(2 * w) TAP(2 * w + 1) TAP(2 * w + 2) \
        row[x] = c + bo;                                                                   \
    }

/* idx[y*wo + x] = argmax_window(src, d, y, x) for one plane. Windows inside the image (all
 * but a border of outputs) skip the clamping: the taps in row-major order at fixed offsets
 * from the window's corner, with the same strict comparison, so every index (ties
 * included) is argmax_window's. */
static void argmax_plane(int *restrict idx, const real *restrict src, const pool2d_dims *d) {
    const int w = d->w, k = d->k, s = d->stride, p = d->pad;
    /* outputs x in [xa, xb) (and rows y in [ya, yb)) have windows inside the image */
    const int xa = (p + s - 1) / s, ya = xa;
    int xb = w - k + p >= 0 ? (w - k + p) / s + 1 : 0; /* 0: even window 0 is clamped */
    int yb = d->h - k + p >= 0 ? (d->h - k + p) / s + 1 : 0;
    if (xb > d->wo) xb = d->wo;
    if (yb > d->ho) yb = d->ho;
    for (int y = 0; y < d->ho; y++) {
        int *row = idx + (size_t)y * d->wo;
        if (y < ya || y >= yb || xa >= xb) {
            for (int x = 0; x < d->wo; x++) row[x] = argmax_window(src, d, y, x);
            continue;
        }
        for (int x = 0; x < xa; x++) row[x] = argmax_window(src, d, y, x);
        const int base = (y * s - p) * w - p;
        if (k == 3 && s == 1) {
            MAX3_RUN(1)
        } else if (k == 3 && s == 2) {
            MAX3_RUN(2)
        } else {
            for (int x = xa; x < xb; x++) {
                const int c = base + x * s;
                const real *r = src + c;
                real best = r[0];
                int bo = 0;
                for (int ky = 0; ky < k; ky++)
                    for (int kx = 0; kx < k; kx++) TAP(ky * w + kx)
                row[x] = c + bo;
            }
        }
        for (int x = xb; x < d->wo; x++) row[x] = argmax_window(src, d, y, x);
    }
}
#undef MAX3_RUN
#undef TAP

/* The max-pool passes: planes over the threads, each thread with one plane of argmax
 * indices, which BODY reads in output order (forward and tangent gather; backward scatters,
 * so each input element receives its outputs' gradients in output order, as before). */
#define MAXPOOL_PLANES(BODY)                                                               \
    const int planes = d->n * d->c;                                                        \
    const size_t hw = (size_t)d->h * d->w, ohw = (size_t)d->ho * d->wo;                    \
    _Pragma("omp parallel if ((size_t)planes * hw > 32768)")                               \
    {                                                                                      \
        int *idx = mallocCheck(sizeof(int) * ohw);                                         \
        _Pragma("omp for schedule(static)")                                                \
        for (int p = 0; p < planes; p++) {                                                 \
            argmax_plane(idx, in + (size_t)p * hw, d);                                     \
            BODY                                                                           \
        }                                                                                  \
        free(idx);                                                                         \
    }

void FN(maxpool2d_forward)(real *out, const real *in, const pool2d_dims *d) {
    MAXPOOL_PLANES({
        const real *src = in + (size_t)p * hw;
        real *dst = out + (size_t)p * ohw;
        for (size_t j = 0; j < ohw; j++) dst[j] = src[idx[j]];
    })
}

void FN(maxpool2d_backward)(real *din, const real *dout, const real *in, const pool2d_dims *d) {
    MAXPOOL_PLANES({
        real *dsrc = din + (size_t)p * hw;
        const real *ddst = dout + (size_t)p * ohw;
        for (size_t j = 0; j < ohw; j++) dsrc[idx[j]] += ddst[j];
    })
}

/* Tangent of max pooling with the argmax held fixed (autograd's double backward): the
 * input tangent at each window's first maximum of `in`. */
void FN(maxpool2d_forward_tangent)(real *tout, const real *tin, const real *in,
                                   const pool2d_dims *d) {
    MAXPOOL_PLANES({
        const real *tsrc = tin + (size_t)p * hw;
        real *dst = tout + (size_t)p * ohw;
        for (size_t j = 0; j < ohw; j++) dst[j] = tsrc[idx[j]];
    })
}

void FN(gap_forward)(real *out, const real *in, int n, int c, int hw) {
    for (int p = 0; p < n * c; p++) {
        double s = 0;
        for (int j = 0; j < hw; j++) s += in[(size_t)p * hw + j];
        out[p] = (real)(s / hw);
    }
}

void FN(gap_backward)(real *din, const real *dout, int n, int c, int hw) {
    for (int p = 0; p < n * c; p++) {
        real g = dout[p] / (real)hw;
        for (int j = 0; j < hw; j++) din[(size_t)p * hw + j] += g;
    }
}
