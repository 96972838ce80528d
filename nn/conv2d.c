/* nn/conv2d.c: CPU convolution by im2col + OpenBLAS GEMM, and direct depthwise kernels
 * (see nn/conv2d.h).
 *
 * Images are split over OpenMP threads, each with its own column buffer; OpenBLAS runs
 * single-threaded (base/common.c). A single image (SynFlow's batch of one) instead splits the
 * GEMM's columns, in fixed chunks, over the threads, or its rows in two fixed halves when
 * the image is too small for two column chunks. Depthwise convs (groups == cin == cout:
 * DARTS sep_conv and dil_conv) would be one GEMM with a single output row per channel and
 * image, so they skip im2col and GEMM: vectorised direct loops over zero-padded copies of
 * each plane, the (image, channel) planes split over the threads; bench/bench_conv.c times
 * the two paths. Float32 dense convs larger than 1x1 and depthwise convs on planes of 16x16
 * or smaller, channels in multiples of 16 (NB201's 3x3, DARTS's sep_conv on small planes),
 * go to oneDNN where the build has it (nn/conv2d_dnnl.h): forward and data gradient. Dense
 * stride-1 convs larger than 1x1 that oneDNN does not take (every float64 one: SynFlow's
 * NB201 3x3; the DARTS stem), and 1x1 convs on batches of planes of 64 or more, run on the
 * direct kernels of nn/conv2d_direct.h, forward and data gradient
 * (bench/bench_conv_dense.c times all three paths). */
#include "nn/conv2d.h"

#include <omp.h>
#include <string.h>

#include "base/common.h"
#include "nn/conv2d_direct.h"
#include "nn/conv2d_dnnl.h"
#include "nn/real.h"
#include "nn/conv2d_pad.h" /* after nn/real.h */

/* Benchmark switch (bench/bench_conv.c declares it): 0 sends depthwise convs through the
 * im2col + GEMM path as well, to time the two against each other. Not part of the API. */
extern int conv2d_depthwise_direct;

/* ---------------------------------------------------------------- depthwise geometry ---- */

#define DW_MAX_K 11 /* larger depthwise kernels go through im2col + GEMM */

/* Depthwise with multiplier 1: one k x k filter per channel, a GEMM with one output row. */
static int is_depthwise_shape(const conv2d_dims *d) {
    return d->groups == d->cin && d->cout == d->cin && d->k <= DW_MAX_K;
}

/* The direct kernels never test bounds. Each input plane is copied, zero-padded, into a
 * scratch buffer split into s*s phase planes (phase (py, px) holds padded pixels
 * (r*s + py, c*s + px)), each hh x wh. Tap (ky, kx) of output (y, x) then reads phase
 * ((ky*dil) % s, (kx*dil) % s) at (y + ky*dil/s, x + kx*dil/s): for every tap one fixed
 * offset from the flat index y*wh + x. A whole plane is thus one contiguous loop over ho*wh
 * flat outputs (the columns x >= wo are computed and dropped), vectorised across rows, so
 * 7x7 and 8x8 planes still fill the vectors. */
typedef struct {
    int wh, plane;  /* phase row length, phase plane size */
    int nflat;      /* ho*wh: flat outputs per plane */
    size_t buf;     /* phase buffer, with slack for the reads past the last phase */
    size_t scratch; /* per thread: phase buffer + one flat output plane */
} dw_geom;

static size_t round16(size_t n) { return (n + 15) / 16 * 16; }

static dw_geom dw_geometry(const conv2d_dims *d) {
    dw_geom g;
    const int s = d->stride, hh = (d->h + 2 * d->pad + s - 1) / s;
    g.wh = (d->w + 2 * d->pad + s - 1) / s;
    g.plane = hh * g.wh;
    g.nflat = d->ho * g.wh;
    /* the last flat output reads (k-1)*dil/s past its phase plane: slack after the last */
    g.buf = round16((size_t)s * s * g.plane + (size_t)(d->k - 1) * d->dil / s);
    g.scratch = g.buf + round16((size_t)g.nflat);
    return g;
}

/* Stride 1 with pad <= (k-1)*dil (every DARTS stride-1 op): the data gradient is itself a
 * depthwise conv of dout, padded by (k-1)*dil - pad, with the flipped filter, giving h x w.
 * Fills *t with that conv's dims and returns 1; 0 where it does not apply. */
static int dw_transposed(const conv2d_dims *d, conv2d_dims *t) {
    const int q = (d->k - 1) * d->dil - d->pad;
    if (d->stride != 1 || q < 0) return 0;
    *t = *d;
    t->h = d->ho; t->w = d->wo; t->pad = q; t->ho = d->h; t->wo = d->w;
    return 1;
}

/* Stride-1 planes (dw1_plane below) take the row path: every DARTS normal-cell op, the
 * second conv of each sep_conv, and every stride-1 data gradient (dw_transposed). */
static int dw1_applies(const conv2d_dims *d) { return d->stride == 1; }

/* Their padded copy (nn/conv2d_pad.h), (h + 2 pad) rows R = w + pad apart: after the last
 * row's right pad, the bottom rows and (k-1)*dil of slack that only dropped flat outputs
 * read; then the flat plane [ho, R] of dw1_plane's planes narrower than a vector */
static size_t dw1_slack(const conv2d_dims *d) {
    return (size_t)d->pad * (d->w + d->pad) + (size_t)(d->k - 1) * d->dil;
}

static size_t dw1_buf(const conv2d_dims *d) {
    return round16(conv_pad_rows_end(d->h, d->w, d->pad) + dw1_slack(d));
}

static size_t dw1_scratch(const conv2d_dims *d) {
    return dw1_buf(d) + round16((size_t)d->ho * (d->w + d->pad));
}

/* per-thread scratch elements of the direct kernels */
static size_t dw_scratch(const conv2d_dims *d) {
    size_t s = dw_geometry(d).scratch; /* forward (strided), the weight gradient */
    if (dw1_applies(d) && dw1_scratch(d) > s) s = dw1_scratch(d);
    conv2d_dims t;
    if (dw_transposed(d, &t) && dw1_scratch(&t) > s) s = dw1_scratch(&t);
    return s;
}

#if !FN_REAL_DOUBLE /* precision-independent helpers: defined once, in the f32 object */
int conv2d_depthwise_direct = 1;

int conv2d_dims_init(conv2d_dims *d) {
    if (d->n <= 0 || d->cin <= 0 || d->h <= 0 || d->w <= 0 || d->cout <= 0 || d->k <= 0 ||
        d->stride <= 0 || d->pad < 0 || d->dil <= 0 || d->groups <= 0)
        return -1;
    if (d->cin % d->groups || d->cout % d->groups) return -1;
    int ek = d->dil * (d->k - 1) + 1;
    d->ho = (d->h + 2 * d->pad - ek) / d->stride + 1;
    d->wo = (d->w + 2 * d->pad - ek) / d->stride + 1;
    return (d->ho > 0 && d->wo > 0) ? 0 : -1;
}

size_t conv2d_workspace(const conv2d_dims *d) {
    /* one column matrix [kk, ho*wo] per thread; depthwise: the larger of that and the direct
     * kernels' scratch, so conv2d_depthwise_direct can switch paths on the same workspace */
    size_t kk = (size_t)(d->cin / d->groups) * d->k * d->k;
    size_t need = kk * d->ho * d->wo;
    if (is_depthwise_shape(d) && dw_scratch(d) > need) need = dw_scratch(d);
    need *= (size_t)omp_get_max_threads();
    /* float32 shapes oneDNN takes: its blocked tensors and scratchpad (not used at once
     * with the column buffers) */
    const size_t dnnl = conv2d_dnnl_workspace(d), direct = conv2d_direct_workspace(d);
    if (direct > need) need = direct;
    return dnnl > need ? dnnl : need;
}

double conv2d_flops(const conv2d_dims *d) {
    return 2.0 * d->n * d->cout * (double)d->ho * d->wo * (d->cin / d->groups) * d->k * d->k;
}
#endif

/* ---------------------------------------------------------------- depthwise, direct ----- */

/* Below this many flops a depthwise conv stays on one thread. The direct loops are fast
 * enough that fork and join (~1-2 us) matter: on 2 cores, 2e4 flops was the measured
 * break-even (3.7e4 flops: 6 us on one thread, 4 us on two; bench/bench_conv.c). */
#define DW_PAR_FLOPS 2e4

static int is_depthwise(const conv2d_dims *d) {
    return conv2d_depthwise_direct && is_depthwise_shape(d);
}

/* off[ky*k + kx]: where tap (ky, kx) of flat output 0 reads in the phase buffer; flipped:
 * the taps in reverse order (the filter rotated by 180 degrees, for dw_transposed). */
static void dw_offsets(int *off, const conv2d_dims *d, const dw_geom *g, int flipped) {
    const int s = d->stride, kk = d->k * d->k;
    for (int ky = 0; ky < d->k; ky++)
        for (int kx = 0; kx < d->k; kx++) {
            const int ty = ky * d->dil, tx = kx * d->dil, t = ky * d->k + kx;
            off[flipped ? kk - 1 - t : t] =
                ((ty % s) * s + tx % s) * g->plane + ty / s * g->wh + tx / s;
        }
}

/* buf [s*s phases, hh, wh] = in [h, w] zero-padded by d->pad and split into phases */
static void dw_split(real *restrict buf, const real *restrict in, const conv2d_dims *d,
                     const dw_geom *g) {
    const int s = d->stride, p = d->pad, W = d->w;
    memset(buf, 0, sizeof(real) * g->buf);
    for (int iy = 0; iy < d->h; iy++) {
        const int r = iy + p;
        const real *src = in + (size_t)iy * W;
        real *dst = buf + (size_t)(r % s) * s * g->plane + (size_t)(r / s) * g->wh;
        if (s == 1) {
            memcpy(dst + p, src, sizeof(real) * W);
            continue;
        }
        if (s == 2) { /* even and odd columns: a constant stride the compiler vectorises */
            real *restrict q0 = dst + (p & 1) * g->plane + p / 2;
            real *restrict q1 = dst + ((p + 1) & 1) * g->plane + (p + 1) / 2;
            for (int m = 0; m < W / 2; m++) {
                q0[m] = src[2 * m];
                q1[m] = src[2 * m + 1];
            }
            if (W & 1) q0[W / 2] = src[W - 1];
            continue;
        }
        for (int px = 0; px < s; px++) { /* columns ix with (ix + p) % s == px */
            const int ix0 = ((px - p) % s + s) % s;
            real *dp = dst + (size_t)px * g->plane + (ix0 + p) / s;
            for (int ix = ix0, j = 0; ix < W; ix += s, j++) dp[j] = src[ix];
        }
    }
}

/* din [h, w] += the interior of the phase buffer (adjoint of dw_split) */
static void dw_split_adjoint(real *restrict din, const real *restrict buf, const conv2d_dims *d,
                             const dw_geom *g) {
    const int s = d->stride, p = d->pad, W = d->w;
    for (int iy = 0; iy < d->h; iy++) {
        const int r = iy + p;
        real *dst = din + (size_t)iy * W;
        const real *src = buf + (size_t)(r % s) * s * g->plane + (size_t)(r / s) * g->wh;
        if (s == 1) {
#pragma omp simd
            for (int ix = 0; ix < W; ix++) dst[ix] += src[p + ix];
            continue;
        }
        if (s == 2) {
            const real *restrict q0 = src + (p & 1) * g->plane + p / 2;
            const real *restrict q1 = src + ((p + 1) & 1) * g->plane + (p + 1) / 2;
            for (int m = 0; m < W / 2; m++) {
                dst[2 * m] += q0[m];
                dst[2 * m + 1] += q1[m];
            }
            if (W & 1) dst[W - 1] += q0[W / 2];
            continue;
        }
        for (int px = 0; px < s; px++) {
            const int ix0 = ((px - p) % s + s) % s;
            const real *sp = src + (size_t)px * g->plane + (ix0 + p) / s;
            for (int ix = ix0, j = 0; ix < W; ix += s, j++) dst[ix] += sp[j];
        }
    }
}

/* flat [ho, wh] = dout [ho, wo] with zero columns x >= wo */
static void dw_flat_grad(real *restrict flat, const real *restrict dout, const conv2d_dims *d,
                         const dw_geom *g) {
    for (int y = 0; y < d->ho; y++) {
        real *dst = flat + (size_t)y * g->wh;
        memcpy(dst, dout + (size_t)y * d->wo, sizeof(real) * d->wo);
        memset(dst + d->wo, 0, sizeof(real) * (g->wh - d->wo));
    }
}

/* acc[i] (+)= sum over taps t < nt of w[t] buf[off[t] + i], i < n; first: = instead of +=.
 * Inlined with nt a constant the taps unroll and a vector of outputs stays in a register
 * across them: one store per nt multiply-adds. */
static inline __attribute__((always_inline)) void dw_taps_k(real *restrict acc,
                                                            const real *restrict buf,
                                                            const int *off, const real *w,
                                                            const int nt, const int n,
                                                            const int first) {
#pragma omp simd
    for (int i = 0; i < n; i++) {
        real a = first ? 0 : acc[i];
#pragma GCC unroll 16
        for (int t = 0; t < nt; t++) a += w[t] * buf[off[t] + i];
        acc[i] = a;
    }
}

/* acc[i] = sum_t w[t] buf[off[t] + i] over all k*k taps (in order: the float64 sums match
 * a straight loop exactly). 3x3 in one pass; larger filters one pass per filter row, which
 * keeps the row's weights in registers. */
static void dw_taps(real *acc, const real *buf, const int *off, const real *w, int k, int n) {
    if (k == 3) {
        dw_taps_k(acc, buf, off, w, 9, n, 1);
    } else if (k == 5) {
        for (int ky = 0; ky < 5; ky++) dw_taps_k(acc, buf, off + ky * 5, w + ky * 5, 5, n, !ky);
    } else {
        for (int ky = 0; ky < k; ky++) dw_taps_k(acc, buf, off + ky * k, w + ky * k, k, n, !ky);
    }
}

/* r[t] += sum_i flat[i] buf[off[t] + i] for nt <= 5 taps at once: flat is loaded once for
 * all of them. Inlined with nt a constant. */
static inline __attribute__((always_inline)) void dw_dots_k(real *r, const real *restrict flat,
                                                            const real *restrict buf,
                                                            const int *off, const int nt,
                                                            const int n) {
    real r0 = 0, r1 = 0, r2 = 0, r3 = 0, r4 = 0;
    const real *b0 = buf + off[0], *b1 = buf + off[nt > 1 ? 1 : 0],
               *b2 = buf + off[nt > 2 ? 2 : 0], *b3 = buf + off[nt > 3 ? 3 : 0],
               *b4 = buf + off[nt > 4 ? 4 : 0];
#pragma omp simd reduction(+ : r0, r1, r2, r3, r4)
    for (int i = 0; i < n; i++) {
        const real g = flat[i];
        r0 += g * b0[i];
        if (nt > 1) r1 += g * b1[i];
        if (nt > 2) r2 += g * b2[i];
        if (nt > 3) r3 += g * b3[i];
        if (nt > 4) r4 += g * b4[i];
    }
    r[0] += r0;
    if (nt > 1) r[1] += r1;
    if (nt > 2) r[2] += r2;
    if (nt > 3) r[3] += r3;
    if (nt > 4) r[4] += r4;
}

/* r[t] += sum_i flat[i] buf[off[t] + i] for all k*k taps, a filter row at a time */
static void dw_dots(real *r, const real *flat, const real *buf, const int *off, int k, int n) {
    for (int ky = 0; ky < k; ky++) {
        const int *o = off + ky * k;
        real *rr = r + ky * k;
        if (k == 3) dw_dots_k(rr, flat, buf, o, 3, n);
        else if (k == 5) dw_dots_k(rr, flat, buf, o, 5, n);
        else
            for (int kx = 0; kx < k; kx += 5)
                dw_dots_k(rr + kx, flat, buf, o + kx, k - kx < 5 ? k - kx : 5, n);
    }
}

/* One plane: out [ho, wo] = conv of in [h, w] with w [k, k]. */
static void dw_forward_plane(real *restrict out, const real *in, const real *w,
                             const conv2d_dims *d, const dw_geom *g, const int *off,
                             real *scratch) {
    real *buf = scratch, *flat = scratch + g->buf;
    dw_split(buf, in, d, g);
    dw_taps(flat, buf, off, w, d->k, g->nflat);
    for (int y = 0; y < d->ho; y++)
        memcpy(out + (size_t)y * d->wo, flat + (size_t)y * g->wh, sizeof(real) * d->wo);
}

/* One plane: din [h, w] += data gradient of dout [ho, wo], the adjoint of forward's taps
 * (strided convs; stride 1 gathers instead: dw_transposed, dw1_plane): every tap scatters
 * w[t] * dout into a phase buffer that then folds back into din. */
static void dw_backward_data_plane(real *restrict din, const real *dout, const real *w,
                                   const conv2d_dims *d, const dw_geom *g, const int *off,
                                   real *scratch) {
    real *restrict buf = scratch, *restrict flat = scratch + g->buf;
    dw_flat_grad(flat, dout, d, g);
    memset(buf, 0, sizeof(real) * g->buf);
    for (int tp = 0; tp < d->k * d->k; tp++) {
        const real wv = w[tp];
        real *restrict b = buf + off[tp];
#pragma omp simd
        for (int i = 0; i < g->nflat; i++) b[i] += wv * flat[i];
    }
    dw_split_adjoint(din, buf, d, g);
}

/* One plane: dw[t] += sum over outputs of dout * the input pixel tap t read. */
static void dw_backward_weight_plane(real *dw, const real *dout, const real *in,
                                     const conv2d_dims *d, const dw_geom *g, const int *off,
                                     real *scratch) {
    real *buf = scratch, *flat = scratch + g->buf;
    dw_split(buf, in, d, g);
    dw_flat_grad(flat, dout, d, g);
    dw_dots(dw, flat, buf, off, d->k, g->nflat);
}

/* ---------------------------------------------------------------- depthwise, stride 1 -- */

/* Stride 1 (every DARTS normal-cell op, the second conv of each sep_conv, and the data
 * gradient of every stride-1 op, itself a stride-1 conv: dw_transposed) skips the phase
 * split and the flat output plane. The plane is copied once, zero-padded, with rows
 * R = w + pad apart: the pad zeros after one row are the pad zeros before the next, so the
 * right-hand taps of a row's last outputs read zeros, never the next row's data. Each output
 * row is then one vector loop over its wo outputs, reading the copy at one fixed offset per
 * tap and writing (or adding into) the output row itself: no dropped columns, no copy out.
 * Each output sums its taps in order from 0, one multiply and one add per tap, as dw_taps
 * does: the two paths give the same bits. */

/* buf [dw1_buf(d)] = in [h, w] zero-padded, with the bottom rows and the slack */
static void dw1_pad(real *restrict buf, const real *restrict in, const conv2d_dims *d) {
    conv_pad_plane(buf, in, d->h, d->w, d->pad, dw1_slack(d));
}

/* out [ho, wo] (+)= sum over the nt taps of w[t] buf[y R + off[t] + x]; nt a constant once
 * inlined, so the weights stay in registers across the rows */
static inline __attribute__((always_inline)) void dw1_rows_k(real *restrict out,
                                                             const real *restrict buf,
                                                             const int *off, const real *w,
                                                             const int nt, int ho, int wo,
                                                             int R, int acc) {
    real wt[DW_MAX_K * DW_MAX_K];
    int ot[DW_MAX_K * DW_MAX_K];
    for (int t = 0; t < nt; t++) {
        wt[t] = w[t];
        ot[t] = off[t];
    }
    for (int y = 0; y < ho; y++) {
        const real *restrict src = buf + (size_t)y * R;
        real *restrict o = out + (size_t)y * wo;
        if (acc) {
#pragma omp simd
            for (int x = 0; x < wo; x++) {
                real a = 0;
#pragma GCC unroll 25
                for (int t = 0; t < nt; t++) a += wt[t] * src[ot[t] + x];
                o[x] += a;
            }
        } else {
#pragma omp simd
            for (int x = 0; x < wo; x++) {
                real a = 0;
#pragma GCC unroll 25
                for (int t = 0; t < nt; t++) a += wt[t] * src[ot[t] + x];
                o[x] = a;
            }
        }
    }
}

/* dw1_rows_k with the tap count a constant for 3x3 and 5x5 */
static void dw1_rows(real *out, const real *buf, const int *off, const real *w, int kk, int ho,
                     int wo, int R, int acc) {
    if (kk == 9) dw1_rows_k(out, buf, off, w, 9, ho, wo, R, acc);
    else if (kk == 25) dw1_rows_k(out, buf, off, w, 25, ho, wo, R, acc);
    else dw1_rows_k(out, buf, off, w, kk, ho, wo, R, acc);
}

/* Rows at least this wide run one vector loop each (bench/bench_conv.c: 28x28 and 32x32
 * planes a quarter faster than one flat loop). Narrower planes (the 14x14 and 7x7 stages)
 * would leave each row's loop to its scalar remainder (14x14 dil5 took twice as long): they
 * run one flat loop over the ho*R outputs of the copy's rows into scratch, a single "row" of
 * dw1_rows (the last pad columns of each row computed and dropped; they read the copy's zeros
 * and slack), then copy (or add) the rows out. */
#define DW1_ROW_MIN 16

/* One plane of a stride-1 depthwise conv: out [ho, wo] (+)= in [h, w] conv w, the taps at
 * offsets off (dw1_offsets) in the copy; scratch holds dw1_scratch(d) elements */
static void dw1_plane(real *out, const real *in, const real *w, const conv2d_dims *d,
                      const int *off, real *scratch, int acc) {
    real *buf = scratch, *flat = scratch + dw1_buf(d);
    dw1_pad(buf, in, d);
    const int R = d->w + d->pad, kk = d->k * d->k, ho = d->ho, wo = d->wo;
    if (wo >= DW1_ROW_MIN || wo > R) { /* wo > R: pad > (k-1)*dil, rows longer than R */
        dw1_rows(out, buf, off, w, kk, ho, wo, R, acc);
        return;
    }
    dw1_rows(flat, buf, off, w, kk, 1, ho * R, R, 0);
    for (int y = 0; y < ho; y++) {
        real *restrict o = out + (size_t)y * wo;
        const real *restrict f = flat + (size_t)y * R;
        if (acc)
            for (int x = 0; x < wo; x++) o[x] += f[x];
        else
            for (int x = 0; x < wo; x++) o[x] = f[x];
    }
}

/* off[ky*k + kx] = where tap (ky, kx) of output (0, 0) reads in dw1_pad's copy; flipped:
 * the taps in reverse order (the filter rotated by 180 degrees, for dw_transposed) */
static void dw1_offsets(int *off, const conv2d_dims *d, int flipped) {
    const int kk = d->k * d->k, R = d->w + d->pad;
    for (int ky = 0; ky < d->k; ky++)
        for (int kx = 0; kx < d->k; kx++) {
            const int t = ky * d->k + kx;
            off[flipped ? kk - 1 - t : t] = ky * d->dil * R + kx * d->dil;
        }
}

/* Planes (image, channel) are independent: one flat loop over n*c of them, so a batch of one
 * still spreads its channels over every thread. */
static void dw_forward(real *out, const real *in, const real *w, const conv2d_dims *d,
                       real *ws) {
    const dw_geom g = dw_geometry(d);
    const size_t scr = dw_scratch(d); /* >= dw1_buf(d): the same plane, narrower rows */
    const int s1 = dw1_applies(d);
    int off[DW_MAX_K * DW_MAX_K];
    if (s1) dw1_offsets(off, d, 0);
    else dw_offsets(off, d, &g, 0);
    const int C = d->cin, np = d->n * C, kk = d->k * d->k;
    const size_t ip = (size_t)d->h * d->w, op = (size_t)d->ho * d->wo;
#pragma omp parallel if (conv2d_flops(d) > DW_PAR_FLOPS)
    {
        real *scratch = ws + (size_t)omp_get_thread_num() * scr;
#pragma omp for schedule(static)
        for (int pl = 0; pl < np; pl++) {
            const real *wp = w + (size_t)(pl % C) * kk;
            if (s1) dw1_plane(out + pl * op, in + pl * ip, wp, d, off, scratch, 0);
            else dw_forward_plane(out + pl * op, in + pl * ip, wp, d, &g, off, scratch);
        }
    }
}

/* din planes are independent as in forward; dw[c] sums over the batch, so its loop runs over
 * channels with the images inside: one writer per channel, no reduction between threads. */
static void dw_backward(real *din, real *dw, const real *dout, const real *in, const real *w,
                        const conv2d_dims *d, real *ws, int acc) {
    const dw_geom g = dw_geometry(d);
    const size_t scr = dw_scratch(d);
    int off[DW_MAX_K * DW_MAX_K], toff[DW_MAX_K * DW_MAX_K];
    dw_offsets(off, d, &g, 0);
    conv2d_dims t;
    const int gather = dw_transposed(d, &t);
    /* the gather is a stride-1 conv: dw1's rows, which write din (acc 0) or add into it */
    if (gather) dw1_offsets(toff, &t, 1);
    const int C = d->cin, np = d->n * C, kk = d->k * d->k;
    const size_t ip = (size_t)d->h * d->w, op = (size_t)d->ho * d->wo;
    if (din && !acc && !gather) memset(din, 0, sizeof(real) * np * ip);
#pragma omp parallel if (conv2d_flops(d) > DW_PAR_FLOPS)
    {
        real *scratch = ws + (size_t)omp_get_thread_num() * scr;
        if (din) {
#pragma omp for schedule(static) nowait
            for (int pl = 0; pl < np; pl++) {
                const real *wp = w + (size_t)(pl % C) * kk;
                if (gather) dw1_plane(din + pl * ip, dout + pl * op, wp, &t, toff, scratch, acc);
                else dw_backward_data_plane(din + pl * ip, dout + pl * op, wp, d, &g, off,
                                            scratch);
            }
        }
        if (dw) {
#pragma omp for schedule(static) nowait
            for (int c = 0; c < C; c++)
                for (int n = 0; n < d->n; n++)
                    dw_backward_weight_plane(dw + (size_t)c * kk, dout + ((size_t)n * C + c) * op,
                                             in + ((size_t)n * C + c) * ip, d, &g, off, scratch);
        }
    }
}

/* ---------------------------------------------------------------- im2col + GEMM --------- */

/* C[M, N] = op(A)[M, K] * B[K, N] + beta C. A large product is cut into fixed column chunks of
 * GEMM_COL_CHUNK, whose bounds depend on the shape alone, and the chunks are spread over the
 * OpenMP threads: every thread count makes the same OpenBLAS calls on the same sub-matrices,
 * so C is bit-identical for 1 or N threads. Splitting N by the thread count
 * instead changes the sub-matrix widths, and OpenBLAS picks its kernels (and their summation
 * order) by shape: on AVX-512 CPUs that changed the last bits of SynFlow scores. */
#define GEMM_COL_CHUNK 256
/* A batch-1 product of more multiply-adds than this is cut in two fixed halves when it is
 * too narrow for column chunks: 2e5 takes in DARTS's batch-1 1x1 convs (16 x 1024 x 16,
 * 32 x 256 x 32, 64 x 64 x 64: 262,144 each), whose two halves on 2 threads ran a SynFlow
 * pass's 1x1 convs in 15.9 ms against 19.7 unsplit (bench_profile darts8-synflow). */
#define GEMM_HALVES_MACS 2e5
/* one_image: the conv runs a batch of one (a shape property, never the thread count): a
 * product too narrow for two column chunks (NB201's 16x16 and 8x8 stages at batch 1) is cut
 * into two fixed row halves instead, or, with rows too few to halve (DARTS's 16-channel
 * 1x1 convs), two fixed column halves, so SynFlow's batch-1 pass uses a second thread there
 * too. Inside a parallel region (bundle slots) the halves run in turn, the same calls. */
static void gemm_cols(CBLAS_TRANSPOSE ta, int M, int N, int K, const real *A, int lda,
                      const real *B, real beta, real *C, int one_image) {
    const double macs = (double)M * N * K;
    const int big = macs > 1e6, halves = one_image && macs > GEMM_HALVES_MACS;
    int chunks = N >= 2 * GEMM_COL_CHUNK && big ? (N + GEMM_COL_CHUNK - 1) / GEMM_COL_CHUNK : 1;
    const int rows = chunks == 1 && halves && M >= 32 && M % 16 == 0 ? 2 : 1;
    int width = chunks > 1 ? GEMM_COL_CHUNK : N;
    if (chunks == 1 && rows == 1 && halves && N >= 256 && N % 32 == 0) chunks = 2, width = N / 2;
    const int height = M / rows;
#pragma omp parallel for schedule(static) if (chunks * rows > 1)
    for (int ch = 0; ch < chunks * rows; ch++) {
        const int n0 = ch / rows * width, n1 = n0 + width < N ? n0 + width : N;
        const int m0 = ch % rows * height;
        const real *a = ta == CblasNoTrans ? A + (size_t)m0 * lda : A + m0;
        cblas_gemm(CblasRowMajor, ta, CblasNoTrans, height, n1 - n0, K, 1, a, lda, B + n0, N,
                   beta, C + (size_t)m0 * N + n0, N);
    }
}

/* Column elements from which im2col and col2im of one image split their channels over the
 * threads (a batch of one only). */
#define IM2COL_PAR 16384

/* col[(ci*k+ky)*k+kx][y*wo + x] = in[g*cg+ci, y*s-p+ky*d, x*s-p+kx*d] for one image */
static void im2col(real *col, const real *in, const conv2d_dims *d, int g) {
    const int cg = d->cin / d->groups, k = d->k, hw = d->ho * d->wo;
    /* channels over the threads for a batch of one (called outside any parallel region);
     * inside the per-image loops the nested region is inactive. Pure copies: exact. */
#pragma omp parallel for schedule(static) if (d->n == 1 && (size_t)cg * k * k * hw > IM2COL_PAR)
    for (int ci = 0; ci < cg; ci++) {
        const real *src = in + (size_t)(g * cg + ci) * d->h * d->w;
        for (int kk = 0; kk < k * k; kk++) {
            const int ky = kk / k, kx = kk % k;
            real *dst = col + ((size_t)ci * k * k + kk) * hw;
            for (int y = 0; y < d->ho; y++) {
                int iy = y * d->stride - d->pad + ky * d->dil;
                real *drow = dst + (size_t)y * d->wo;
                if (iy < 0 || iy >= d->h) {
                    memset(drow, 0, sizeof(real) * d->wo);
                    continue;
                }
                const real *srow = src + (size_t)iy * d->w;
                int ix = -d->pad + kx * d->dil;
                if (d->stride == 1) { /* interior as one copy, borders zero */
                    int x0 = ix < 0 ? -ix : 0, x1 = d->w - ix < d->wo ? d->w - ix : d->wo;
                    if (x1 < x0) x1 = x0;
                    for (int x = 0; x < x0; x++) drow[x] = 0;
                    memcpy(drow + x0, srow + ix + x0, sizeof(real) * (size_t)(x1 - x0));
                    for (int x = x1; x < d->wo; x++) drow[x] = 0;
                    continue;
                }
                for (int x = 0; x < d->wo; x++, ix += d->stride)
                    drow[x] = (ix >= 0 && ix < d->w) ? srow[ix] : (real)0;
            }
        }
    }
}

/* din[...] += col[...] for one image (adjoint of im2col) */
static void col2im(real *din, const real *col, const conv2d_dims *d, int g) {
    const int cg = d->cin / d->groups, k = d->k, hw = d->ho * d->wo;
    /* as im2col: each channel's plane has one writer, its taps added in the same order */
#pragma omp parallel for schedule(static) if (d->n == 1 && (size_t)cg * k * k * hw > IM2COL_PAR)
    for (int ci = 0; ci < cg; ci++) {
        real *dst = din + (size_t)(g * cg + ci) * d->h * d->w;
        for (int kk = 0; kk < k * k; kk++) {
            const int ky = kk / k, kx = kk % k;
            const real *src = col + ((size_t)ci * k * k + kk) * hw;
            for (int y = 0; y < d->ho; y++) {
                int iy = y * d->stride - d->pad + ky * d->dil;
                if (iy < 0 || iy >= d->h) continue;
                real *drow = dst + (size_t)iy * d->w;
                const real *srow = src + (size_t)y * d->wo;
                int ix = -d->pad + kx * d->dil;
                if (d->stride == 1) {
                    int x0 = ix < 0 ? -ix : 0, x1 = d->w - ix < d->wo ? d->w - ix : d->wo;
                    for (int x = x0; x < x1; x++) drow[ix + x] += srow[x];
                    continue;
                }
                for (int x = 0; x < d->wo; x++, ix += d->stride)
                    if (ix >= 0 && ix < d->w) drow[ix] += srow[x];
            }
        }
    }
}

/* A 1x1, stride-1, unpadded conv needs no im2col: the image itself is the column matrix. */
static int is_pointwise(const conv2d_dims *d) {
    return d->k == 1 && d->stride == 1 && d->pad == 0;
}

/* The column matrix of group g of one image: the image itself for a pointwise conv. */
static const real *image_columns(real *col, const real *x, const conv2d_dims *d, int g) {
    if (is_pointwise(d)) return x + (size_t)g * (d->cin / d->groups) * d->h * d->w;
    im2col(col, x, d, g);
    return col;
}

/* One image, all groups: out[cout, hw] = w * columns(x). gemm_cols splits the columns over
 * the threads when called outside a parallel region (a batch of one); inside the per-image
 * loop below the nested region is inactive and it runs on the calling thread. */
static void forward_image(real *out, const real *x, const real *w, const conv2d_dims *d,
                          real *col) {
    const int og = d->cout / d->groups, hw = d->ho * d->wo, kk = d->cin / d->groups * d->k * d->k;
    for (int g = 0; g < d->groups; g++)
        gemm_cols(CblasNoTrans, og, hw, kk, w + (size_t)g * og * kk, kk,
                  image_columns(col, x, d, g), 0, out + (size_t)g * og * hw, d->n == 1);
}

/* One image: dx += w^T * dy (acc = 0: dx =), through col2im unless the conv is pointwise; a
 * first write zeroes the image just before col2im adds into it, while it is in cache. */
static void backward_data_image(real *dx, const real *dy, const real *w, const conv2d_dims *d,
                                real *col, int acc) {
    const int cg = d->cin / d->groups, og = d->cout / d->groups, hw = d->ho * d->wo;
    const int kk = cg * d->k * d->k;
    if (!acc && !is_pointwise(d)) memset(dx, 0, sizeof(real) * d->cin * d->h * d->w);
    for (int g = 0; g < d->groups; g++) {
        const real *dyg = dy + (size_t)g * og * hw, *wg = w + (size_t)g * og * kk;
        if (is_pointwise(d)) {
            gemm_cols(CblasTrans, kk, hw, og, wg, kk, dyg, acc ? 1 : 0, dx + (size_t)g * cg * hw,
                      d->n == 1);
        } else {
            gemm_cols(CblasTrans, kk, hw, og, wg, kk, dyg, 0, col, d->n == 1);
            col2im(dx, col, d, g);
        }
    }
}

/* Images are independent: each OpenMP thread takes whole images, with its own column buffer
 * (small enough to stay in cache), and OpenBLAS writes the output image directly. */
void FN(conv2d_forward)(real *out, const real *in, const real *w, const conv2d_dims *d,
                        real *ws) {
    const size_t col_numel = (size_t)(d->cin / d->groups) * d->k * d->k * d->ho * d->wo;
#if !FN_REAL_DOUBLE
    if (conv2d_dnnl_forward(out, in, w, d, ws)) return;
#endif
    if (FN(conv2d_direct_forward)(out, in, w, d, ws)) return;
    if (is_depthwise(d)) {
        dw_forward(out, in, w, d, ws);
        return;
    }
    if (d->n == 1) { /* outside any region, so gemm_cols can use every thread */
        forward_image(out, in, w, d, ws);
        return;
    }
#pragma omp parallel if (conv2d_flops(d) > 4e6)
    {
        real *col = ws + (size_t)omp_get_thread_num() * col_numel;
#pragma omp for schedule(static)
        for (int n = 0; n < d->n; n++)
            forward_image(out + (size_t)n * d->cout * d->ho * d->wo,
                          in + (size_t)n * d->cin * d->h * d->w, w, d, col);
    }
}

void FN(conv2d_backward)(real *din, real *dw, const real *dout, const real *in, const real *w,
                         const conv2d_dims *d, real *ws, int acc) {
    const int cg = d->cin / d->groups, og = d->cout / d->groups, hw = d->ho * d->wo;
    const int kk = cg * d->k * d->k;
    const size_t col_numel = (size_t)kk * hw;
#if !FN_REAL_DOUBLE
    if (din && conv2d_dnnl_backward_data(din, dout, w, d, ws, acc))
        din = NULL; /* done; the weights below, if asked */
#endif
    if (din && FN(conv2d_direct_backward_data)(din, dout, w, d, ws, acc)) din = NULL;
    if (!din && !dw) return;
    if (is_depthwise(d)) {
        dw_backward(din, dw, dout, in, w, d, ws, acc);
        return;
    }
    if (din && d->n == 1) {
        backward_data_image(din, dout, w, d, ws, acc);
    } else if (din) {
#pragma omp parallel if (conv2d_flops(d) > 4e6)
        {
            real *col = ws + (size_t)omp_get_thread_num() * col_numel;
#pragma omp for schedule(static)
            for (int n = 0; n < d->n; n++)
                backward_data_image(din + (size_t)n * d->cin * d->h * d->w,
                                    dout + (size_t)n * d->cout * hw, w, d, col, acc);
        }
    }
    if (dw) { /* serial over images: dw accumulates across the batch (tests, zero-cost proxies) */
        real *col = ws;
        for (int n = 0; n < d->n; n++) {
            const real *x = in + (size_t)n * d->cin * d->h * d->w;
            for (int g = 0; g < d->groups; g++) {
                const real *c = image_columns(col, x, d, g);
                /* dw_g[og, kk] += dy[og, hw] * col[kk, hw]^T */
                cblas_gemm(CblasRowMajor, CblasNoTrans, CblasTrans, og, kk, hw, 1,
                           dout + ((size_t)n * d->cout + (size_t)g * og) * hw, hw, c, hw, 1,
                           dw + (size_t)g * og * kk, kk);
            }
        }
    }
}
