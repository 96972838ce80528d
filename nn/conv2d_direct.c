/* nn/conv2d_direct.c: direct kernels for dense stride-1 convolutions, 1x1 on batches
 * included (see nn/conv2d_direct.h). Vector code through AVX-512 or AVX2 intrinsics where
 * the build has them (-march=native), else scalar fma(): the same fused multiply-add chain
 * per element in all three. */
#include "nn/conv2d_direct.h"

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif
#include <math.h>
#include <omp.h>
#include <string.h>

#include "base/common.h"
#include "nn/real.h"
#include "nn/conv2d_pad.h" /* after nn/real.h */

#define CO_B 4      /* output channels per tile */
#define MAX_K 7     /* larger filters stay on im2col + GEMM */
#define MAX_LANES 16 /* widest vector of either precision: workspace slack */
#define MAX_NV 6     /* vectors per tile, widest build */

/* ---------------------------------------------------------------- vector layer ---------- */
#if FN_REAL_DOUBLE
#if defined(__AVX512F__)
typedef __m512d vec;
#define LANES 8
#define NV_MAX 6
#define ISA "avx512"
#define VZERO() _mm512_setzero_pd()
#define VLOAD(p) _mm512_loadu_pd(p)
#define VSTORE(p, v) _mm512_storeu_pd(p, v)
#define VFMA(w, x, a) _mm512_fmadd_pd(_mm512_set1_pd(w), x, a)
#define VADD(a, b) _mm512_add_pd(a, b)
#define VMASK(n) ((__mmask8)((1u << (n)) - 1))
#define VLOAD_N(p, n) _mm512_maskz_loadu_pd(VMASK(n), p)
#define VSTORE_N(p, v, n) _mm512_mask_storeu_pd(p, VMASK(n), v)
#elif defined(__AVX2__) && defined(__FMA__)
typedef __m256d vec;
#define LANES 4
#define NV_MAX 3
#define ISA "avx2"
#define VZERO() _mm256_setzero_pd()
#define VLOAD(p) _mm256_loadu_pd(p)
#define VSTORE(p, v) _mm256_storeu_pd(p, v)
#define VFMA(w, x, a) _mm256_fmadd_pd(_mm256_set1_pd(w), x, a)
#define VADD(a, b) _mm256_add_pd(a, b)
#define VMASK(n) _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3))
#define VLOAD_N(p, n) _mm256_maskload_pd(p, VMASK(n))
#define VSTORE_N(p, v, n) _mm256_maskstore_pd(p, VMASK(n), v)
#else
typedef double vec;
#define LANES 1
#define NV_MAX 3
#define ISA "scalar"
#define VZERO() 0.0
#define VLOAD(p) (*(p))
#define VSTORE(p, v) (*(p) = (v))
#define VFMA(w, x, a) fma(w, x, a)
#define VADD(a, b) ((a) + (b))
#define VLOAD_N(p, n) VLOAD(p) /* one lane: never partial */
#define VSTORE_N(p, v, n) VSTORE(p, v)
#endif
#else /* float32 */
#if defined(__AVX512F__)
typedef __m512 vec;
#define LANES 16
#define NV_MAX 6
#define ISA "avx512"
#define VZERO() _mm512_setzero_ps()
#define VLOAD(p) _mm512_loadu_ps(p)
#define VSTORE(p, v) _mm512_storeu_ps(p, v)
#define VFMA(w, x, a) _mm512_fmadd_ps(_mm512_set1_ps(w), x, a)
#define VADD(a, b) _mm512_add_ps(a, b)
#define VMASK(n) ((__mmask16)((1u << (n)) - 1))
#define VLOAD_N(p, n) _mm512_maskz_loadu_ps(VMASK(n), p)
#define VSTORE_N(p, v, n) _mm512_mask_storeu_ps(p, VMASK(n), v)
#elif defined(__AVX2__) && defined(__FMA__)
typedef __m256 vec;
#define LANES 8
#define NV_MAX 3
#define ISA "avx2"
#define VZERO() _mm256_setzero_ps()
#define VLOAD(p) _mm256_loadu_ps(p)
#define VSTORE(p, v) _mm256_storeu_ps(p, v)
#define VFMA(w, x, a) _mm256_fmadd_ps(_mm256_set1_ps(w), x, a)
#define VADD(a, b) _mm256_add_ps(a, b)
#define VMASK(n) _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
#define VLOAD_N(p, n) _mm256_maskload_ps(p, VMASK(n))
#define VSTORE_N(p, v, n) _mm256_maskstore_ps(p, VMASK(n), v)
#else
typedef float vec;
#define LANES 1
#define NV_MAX 3
#define ISA "scalar"
#define VZERO() 0.0f
#define VLOAD(p) (*(p))
#define VSTORE(p, v) (*(p) = (v))
#define VFMA(w, x, a) fmaf(w, x, a)
#define VADD(a, b) ((a) + (b))
#define VLOAD_N(p, n) VLOAD(p) /* one lane: never partial */
#define VSTORE_N(p, v, n) VSTORE(p, v)
#endif
#endif

/* ---------------------------------------------------------------- geometry -------------- */

/* One direct conv: cin planes h x w, padded by pad, to cout planes ho x wo. The data
 * gradient is one of these on dout (transposed_dims). */
typedef struct {
    int n, cin, cout, k, pad, h, w, ho, wo;
} direct_dims;

static size_t round16(size_t n) { return (n + 15) / 16 * 16; }

/* Rows of the padded copy are w + pad apart: one gap of pad zeros is the right padding of a
 * row and the left padding of the next (a tap past the right edge reads into it), so each
 * flat output row carries pad dropped columns instead of 2 pad (8x8 planes: 11 % of the work
 * instead of 20 %). */
static int wp_of(const direct_dims *g) { return g->w + g->pad; }
static size_t plane_of(const direct_dims *g) { return (size_t)(g->h + 2 * g->pad) * wp_of(g); }
/* per thread: a padded image, cin planes and the slack the last tile's reads run past them
 * (1x1 needs none: pw_run reads in place) */
static size_t image_of(const direct_dims *g) {
    if (g->k == 1) return 0;
    return round16((size_t)g->cin * plane_of(g) + (size_t)MAX_NV * MAX_LANES + g->k * (wp_of(g) + 1));
}
static size_t weights_of(const direct_dims *g) {
    return round16((size_t)(g->cout + CO_B - 1) / CO_B * CO_B * g->cin * g->k * g->k);
}

static direct_dims forward_dims(const conv2d_dims *d) {
    direct_dims g = {d->n, d->cin, d->cout, d->k, d->pad, d->h, d->w, d->ho, d->wo};
    return g;
}

/* The data gradient of a stride-1 conv: conv of dout (cout planes ho x wo), padded by
 * k-1-pad, with w transposed and flipped, giving cin planes h x w. */
static direct_dims transposed_dims(const conv2d_dims *d) {
    direct_dims g = {d->n, d->cout, d->cin, d->k, d->k - 1 - d->pad, d->ho, d->wo, d->h, d->w};
    return g;
}

#if !FN_REAL_DOUBLE /* precision-independent helpers: defined once, in the f32 object */
int conv2d_direct_enabled = -1; /* -1: not yet read from the environment */

static int enabled(void) { return fn_env_switch(&conv2d_direct_enabled, "FREENAS_CONV_DIRECT"); }

int conv2d_direct_takes(const conv2d_dims *d) {
    if (!enabled() || d->groups != 1 || d->stride != 1 || d->dil != 1 || d->k > MAX_K ||
        d->pad > d->k - 1)
        return 0;
    /* 1x1: batches (at batch 1, SynFlow's, OpenBLAS splits the one GEMM as fast) of planes
     * of at least 64 (7x7 planes fill 49 of 64 lanes: OpenBLAS was faster) */
    return d->k > 1 || (d->n > 1 && d->h * d->w >= 64);
}

static size_t call_workspace(const direct_dims *g) {
    const size_t images = (size_t)omp_get_max_threads();
    return weights_of(g) + images * image_of(g);
}

size_t conv2d_direct_workspace(const conv2d_dims *d) {
    if (!conv2d_direct_takes(d)) return 0;
    const direct_dims f = forward_dims(d), b = transposed_dims(d);
    const size_t wf = call_workspace(&f), wb = call_workspace(&b);
    return wf > wb ? wf : wb;
}
#endif

/* ---------------------------------------------------------------- packing --------------- */

/* wp[((cb*cin + ci)*kk + t)*CO_B + c] = filter (cb*CO_B + c, ci, tap t), zero past cout.
 * transposed: the data gradient's filters, w[co][ci][kk-1-t] as (ci, co). Blocks [b0, b1). */
static void pack_weights(real *restrict wp, const real *restrict w, const direct_dims *g,
                         int transposed, int b0, int b1) {
    const int kk = g->k * g->k;
    for (int cb = b0; cb < b1; cb++)
        for (int ci = 0; ci < g->cin; ci++)
            for (int t = 0; t < kk; t++)
                for (int c = 0; c < CO_B; c++) {
                    const int co = cb * CO_B + c;
                    real v = 0;
                    if (co < g->cout)
                        v = transposed ? w[((size_t)ci * g->cout + co) * kk + (kk - 1 - t)]
                                       : w[((size_t)co * g->cin + ci) * kk + t];
                    wp[(((size_t)cb * g->cin + ci) * kk + t) * CO_B + c] = v;
                }
}

/* Zero-padded copy of one image's channels (nn/conv2d_pad.h; planes plane_of(g) apart, the
 * bottom pad rows zeroed to the end of each), and the zeroed slack after the last. */
static void pad_image(real *restrict buf, const real *restrict x, const direct_dims *g) {
    const size_t plane = plane_of(g), rows = conv_pad_rows_end(g->h, g->w, g->pad);
    for (int c = 0; c < g->cin; c++)
        conv_pad_plane(buf + (size_t)c * plane, x + (size_t)c * g->h * g->w, g->h, g->w, g->pad,
                       plane - rows);
    const size_t used = (size_t)g->cin * plane;
    memset(buf + used, 0, sizeof(real) * (image_of(g) - used));
}

/* ---------------------------------------------------------------- the kernel ------------ */

/* tile[c][j] = sum over ci, taps t of wp[(ci*kk + t)*CO_B + c] * in[ci*plane + off[t] + j],
 * j < nv*LANES: one fused multiply-add chain per element, ci outer, taps in order. */
static inline __attribute__((always_inline)) void tile_k(real *restrict tile,
                                                         const real *restrict in,
                                                         const real *restrict wp,
                                                         const int *off, int cin, int kk,
                                                         size_t plane, const int nv) {
    vec acc[CO_B][NV_MAX];
#pragma GCC unroll 4
    for (int c = 0; c < CO_B; c++)
#pragma GCC unroll 6
        for (int v = 0; v < nv; v++) acc[c][v] = VZERO();
    for (int ci = 0; ci < cin; ci++) {
        const real *x = in + (size_t)ci * plane;
        const real *wc = wp + (size_t)ci * kk * CO_B;
        for (int t = 0; t < kk; t++) {
            const real *xt = x + off[t];
            const real *wt = wc + t * CO_B;
            vec xv[NV_MAX];
#pragma GCC unroll 6
            for (int v = 0; v < nv; v++) xv[v] = VLOAD(xt + v * LANES);
#pragma GCC unroll 4
            for (int c = 0; c < CO_B; c++)
#pragma GCC unroll 6
                for (int v = 0; v < nv; v++) acc[c][v] = VFMA(wt[c], xv[v], acc[c][v]);
        }
    }
#pragma GCC unroll 4
    for (int c = 0; c < CO_B; c++)
#pragma GCC unroll 6
        for (int v = 0; v < nv; v++) VSTORE(tile + (c * NV_MAX + v) * LANES, acc[c][v]);
}

static void tile_any(real *tile, const real *in, const real *wp, const int *off, int cin,
                     int kk, size_t plane, int nv) {
    switch (nv) {
    case 1: tile_k(tile, in, wp, off, cin, kk, plane, 1); break;
    case 2: tile_k(tile, in, wp, off, cin, kk, plane, 2); break;
#if NV_MAX >= 3
    case 3: tile_k(tile, in, wp, off, cin, kk, plane, 3); break;
#endif
#if NV_MAX >= 4
    case 4: tile_k(tile, in, wp, off, cin, kk, plane, 4); break;
    case 5: tile_k(tile, in, wp, off, cin, kk, plane, 5); break;
    case 6: tile_k(tile, in, wp, off, cin, kk, plane, 6); break;
#endif
    }
}

/* Vectors per tile. A plane of up to NV_MAX vectors is one tile; else the width whose
 * tiles cost least, a tile costing its vectors plus about half a vector of overhead (its
 * stores and copy-out). One vector per tile is never chosen: 4 accumulator chains cannot
 * cover the fused multiply-add's latency (a prime count of vectors picked it, at half speed). */
static int pick_nv(int nvec) {
    if (nvec <= NV_MAX) return nvec;
    int best = NV_MAX;
    double best_t = 1e300;
    for (int nv = NV_MAX; nv >= 2; nv--) {
        const double t = (double)((nvec + nv - 1) / nv) * (nv + 0.5);
        if (t < best_t) best = nv, best_t = t;
    }
    return best;
}

typedef struct {
    const direct_dims *g;
    int wp, kk, nv, tiles, nb; /* padded row, taps, vectors per tile, tiles, channel blocks */
    size_t plane;
    int off[MAX_K * MAX_K];
} direct_plan;

static void plan_of(direct_plan *pl, const direct_dims *g) {
    pl->g = g;
    pl->wp = wp_of(g);
    pl->kk = g->k * g->k;
    pl->plane = plane_of(g);
    const int nflat = g->ho * pl->wp, nvec = (nflat + LANES - 1) / LANES;
    pl->nv = pick_nv(nvec);
    pl->tiles = (nvec + pl->nv - 1) / pl->nv;
    pl->nb = (g->cout + CO_B - 1) / CO_B;
    for (int ky = 0; ky < g->k; ky++)
        for (int kx = 0; kx < g->k; kx++) pl->off[ky * g->k + kx] = ky * pl->wp + kx;
}

/* One work item: channel block cb, tile ti of one padded image buf, into out (acc: +=). */
static void run_item(real *out, const real *buf, const real *wpk, const direct_plan *pl,
                     int cb, int ti, int acc) {
    const direct_dims *g = pl->g;
    real tile[CO_B * NV_MAX * LANES];
    const int span = pl->nv * LANES, i0 = ti * span;
    tile_any(tile, buf + i0, wpk + (size_t)cb * g->cin * pl->kk * CO_B, pl->off, g->cin,
             pl->kk, pl->plane, pl->nv);
    const int nflat = g->ho * pl->wp, i1 = i0 + span < nflat ? i0 + span : nflat;
    for (int c = 0; c < CO_B; c++) {
        const int co = cb * CO_B + c;
        if (co >= g->cout) break;
        real *o = out + (size_t)co * g->ho * g->wo;
        const real *t = tile + c * NV_MAX * LANES - i0;
        for (int i = i0; i < i1;) { /* row segments of the tile's flat range */
            const int y = i / pl->wp, x = i % pl->wp;
            const int end = i - x + pl->wp < i1 ? i - x + pl->wp : i1;
            const int x1 = end - (i - x) < g->wo ? end - (i - x) : g->wo;
            real *orow = o + (size_t)y * g->wo;
            if (acc)
                for (int xx = x; xx < x1; xx++) orow[xx] += t[i - x + xx];
            else
                for (int xx = x; xx < x1; xx++) orow[xx] = t[i - x + xx];
            i = end;
        }
    }
}

/* Work items of one image are spread over the threads below this many flops (fork and
 * join cost ~2 us). */
#define PAR_FLOPS 2e5

static void run(real *out, const real *x, const real *w, const direct_dims *g, real *ws,
                int transposed, int acc) {
    direct_plan pl;
    plan_of(&pl, g);
    real *wpk = ws, *bufs = ws + weights_of(g);
    const size_t in_img = (size_t)g->cin * g->h * g->w, out_img = (size_t)g->cout * g->ho * g->wo;
    const double flops = 2.0 * g->cin * g->cout * pl.kk * (double)g->ho * g->wo;
    if (g->n == 1) {
        /* Outside any region: the image's tiles over the threads, by channel blocks where
         * there are enough (each thread packs the filters it uses), else by tiles. Every
         * thread pads its own copy of the image: one shared copy, written by both cores
         * and read by both, made 2 threads no faster than 1. */
#pragma omp parallel if (flops > PAR_FLOPS)
        {
            const int nt = omp_get_num_threads(), id = omp_get_thread_num();
            real *buf = bufs + (size_t)id * image_of(g);
            pad_image(buf, x, g);
            int b0 = 0, b1 = pl.nb, t0 = 0, t1 = pl.tiles;
            if (pl.nb >= nt) {
                b0 = pl.nb * id / nt, b1 = pl.nb * (id + 1) / nt;
                pack_weights(wpk, w, g, transposed, b0, b1);
            } else {
                t0 = pl.tiles * id / nt, t1 = pl.tiles * (id + 1) / nt;
                if (id == 0) pack_weights(wpk, w, g, transposed, 0, pl.nb);
#pragma omp barrier
            }
            for (int cb = b0; cb < b1; cb++)
                for (int ti = t0; ti < t1; ti++) run_item(out, buf, wpk, &pl, cb, ti, acc);
        }
        return;
    }
    pack_weights(wpk, w, g, transposed, 0, pl.nb);
#pragma omp parallel if (flops * g->n > 4e6)
    {
        real *buf = bufs + (size_t)omp_get_thread_num() * image_of(g);
#pragma omp for schedule(static)
        for (int n = 0; n < g->n; n++) {
            pad_image(buf, x + n * in_img, g);
            for (int cb = 0; cb < pl.nb; cb++)
                for (int ti = 0; ti < pl.tiles; ti++)
                    run_item(out + n * out_img, buf, wpk, &pl, cb, ti, acc);
        }
    }
}

/* ---------------------------------------------------------------- 1x1 ------------------- */

/* k = 1 (pad 0): out[co] = sum over ci of w[co][ci] x[ci], planes flat and contiguous, so
 * nothing is copied: a tile reads the input planes in place (x[ci*xs + j]) and writes (acc:
 * adds into) the output rows itself; the last vector of a plane's last tile loads and
 * stores only its nlast valid lanes (masked: no read or write past the plane). OpenBLAS
 * packs both operands of these small GEMMs (K = cin = 16 to 768) on every call. Per element
 * the same chain as the k > 1 tiles: fused multiply-adds over ci in order from zero, then
 * one add for acc. */
static inline __attribute__((always_inline)) void pw_tile_k(real *restrict out, size_t os,
                                                            int nco, const real *restrict x,
                                                            size_t xs, const real *restrict wp,
                                                            int cin, const int nv, int acc,
                                                            const int part, int nlast) {
    vec a[CO_B][NV_MAX];
#pragma GCC unroll 4
    for (int c = 0; c < CO_B; c++)
#pragma GCC unroll 6
        for (int v = 0; v < nv; v++) a[c][v] = VZERO();
    for (int ci = 0; ci < cin; ci++) {
        const real *xc = x + (size_t)ci * xs, *wc = wp + (size_t)ci * CO_B;
        vec xv[NV_MAX];
#pragma GCC unroll 6
        for (int v = 0; v < nv; v++)
            xv[v] = part && v == nv - 1 ? VLOAD_N(xc + v * LANES, nlast) : VLOAD(xc + v * LANES);
#pragma GCC unroll 4
        for (int c = 0; c < CO_B; c++)
#pragma GCC unroll 6
            for (int v = 0; v < nv; v++) a[c][v] = VFMA(wc[c], xv[v], a[c][v]);
    }
#pragma GCC unroll 4
    for (int c = 0; c < CO_B; c++) {
        if (c >= nco) break;
        real *o = out + (size_t)c * os;
#pragma GCC unroll 6
        for (int v = 0; v < nv; v++) {
            real *ov = o + v * LANES;
            if (part && v == nv - 1)
                VSTORE_N(ov, acc ? VADD(VLOAD_N(ov, nlast), a[c][v]) : a[c][v], nlast);
            else
                VSTORE(ov, acc ? VADD(VLOAD(ov), a[c][v]) : a[c][v]);
        }
    }
}

#define PW_CASE(NV)                                                                        \
    case NV:                                                                               \
        if (nlast == LANES) pw_tile_k(out, os, nco, x, xs, wp, cin, NV, acc, 0, LANES);    \
        else pw_tile_k(out, os, nco, x, xs, wp, cin, NV, acc, 1, nlast);                   \
        break;
static void pw_tile_any(real *out, size_t os, int nco, const real *x, size_t xs,
                        const real *wp, int cin, int nv, int acc, int nlast) {
    switch (nv) {
    PW_CASE(1)
    PW_CASE(2)
#if NV_MAX >= 3
    PW_CASE(3)
#endif
#if NV_MAX >= 4
    PW_CASE(4)
    PW_CASE(5)
    PW_CASE(6)
#endif
    }
}
#undef PW_CASE

/* Tile ti (nv vectors; the plane's last, partial tile fewer) of one image, every channel
 * block. */
static void pw_tile_blocks(real *out, const real *x, const real *wpk, const direct_dims *g,
                           int nv, int ti, int acc) {
    const int hw = g->h * g->w, p0 = ti * nv * LANES, nb = (g->cout + CO_B - 1) / CO_B;
    const int rem = hw - p0 < nv * LANES ? hw - p0 : nv * LANES;
    const int tv = (rem + LANES - 1) / LANES, nlast = rem - (tv - 1) * LANES;
    for (int cb = 0; cb < nb; cb++) {
        const int nco = g->cout - cb * CO_B < CO_B ? g->cout - cb * CO_B : CO_B;
        pw_tile_any(out + (size_t)cb * CO_B * hw + p0, (size_t)hw, nco, x + p0, (size_t)hw,
                    wpk + (size_t)cb * g->cin * CO_B, g->cin, tv, acc, nlast);
    }
}

static void pw_run(real *out, const real *x, const real *w, const direct_dims *g, real *ws,
                   int transposed, int acc) {
    const int hw = g->h * g->w, nvec = (hw + LANES - 1) / LANES;
    const int nv = pick_nv(nvec), tiles = (nvec + nv - 1) / nv, nb = (g->cout + CO_B - 1) / CO_B;
    const size_t in_img = (size_t)g->cin * hw, out_img = (size_t)g->cout * hw;
    const double flops = 2.0 * g->cin * g->cout * (double)hw;
    pack_weights(ws, w, g, transposed, 0, nb);
    /* batches only (conv2d_direct_takes): whole images over the threads */
#pragma omp parallel for schedule(static) if (flops * g->n > 4e6)
    for (int n = 0; n < g->n; n++)
        for (int ti = 0; ti < tiles; ti++) /* a tile's input stays in L1 over the blocks */
            pw_tile_blocks(out + n * out_img, x + n * in_img, ws, g, nv, ti, acc);
}

const char *FN(conv2d_direct_isa)(void) { return ISA; }

int FN(conv2d_direct_forward)(real *out, const real *in, const real *w, const conv2d_dims *d,
                              real *ws) {
    if (!conv2d_direct_takes(d)) return 0;
    const direct_dims g = forward_dims(d);
    if (d->k == 1) pw_run(out, in, w, &g, ws, 0, 0);
    else run(out, in, w, &g, ws, 0, 0);
    return 1;
}

int FN(conv2d_direct_backward_data)(real *din, const real *dout, const real *w,
                                    const conv2d_dims *d, real *ws, int acc) {
    if (!conv2d_direct_takes(d)) return 0;
    const direct_dims g = transposed_dims(d);
    if (d->k == 1) pw_run(din, dout, w, &g, ws, 1, acc);
    else run(din, dout, w, &g, ws, 1, acc);
    return 1;
}
