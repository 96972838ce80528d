/* tests/test_conv_direct.c: the direct kernels of dense stride-1 convs (nn/conv2d_direct.h).
 *   - forward and data gradient, float64 and float32, equal bit for bit to a scalar
 *     fused-multiply-add chain over (ci, ky, kx) (over (co, ky, kx) of the flipped filter for
 *     the gradient), zero-padded taps included: the promise that the AVX-512, AVX2 and
 *     scalar builds give the same bits (CTest runs this program built all three ways:
 *     test_conv_direct, _avx2, _scalar);
 *   - the same against the straight-loop reference of tests/test_util.c (independent of the
 *     kernels' order), float64 to 1e-13 and float32 to 1e-5 of max|ref|;
 *   - acc = 1 adds into din (din + the written gradient, bit for bit);
 *   - 1, 2 and 3 threads, batch 1 or N (each image as its own batch-1 call; 1x1: each pair
 *     of images as a batch-2 call), and two calls
 *     at once from inside a parallel region (bundle slots) give the same bits;
 *   - conv2d_forward / conv2d_backward route the shapes here (float64), and the switch off
 *     gives im2col + GEMM within rounding;
 *   - shapes it must not take (1x1 at batch 1 or on planes under 64, stride 2, dilation,
 *     groups, pad >= k) are not taken.
 * Shapes: NB201's three 3x3 stages at batch 1, and odd ones (2x2, 5x5, 7x7 filters, no or
 * full padding, channel counts off the block of 4, rows longer than a tile, 1x1 planes), and
 * 1x1 filters on batches (planes whose last tile ends in a masked, partial vector).
 * The gradient against finite differences: tests/test_ops_grad.c (these shapes run here). */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"
#include "nn/conv2d.h"
#include "nn/conv2d_direct.h"
#include "tests/test_util.h"

static const char *expect_isa; /* argv[1]: the build this program should run, or NULL */

/* ------------------------------------------------------------ fma-chain references ------ */

/* x value at (n, c, iy, ix) of an [n][cn][h][w] tensor, 0 outside the plane */
#define AT(x, n, c, cn, h, w, iy, ix)                                                    \
    (((iy) < 0 || (iy) >= (h) || (ix) < 0 || (ix) >= (w))                                \
         ? 0                                                                             \
         : (x)[(((size_t)(n) * (cn) + (c)) * (h) + (iy)) * (w) + (ix)])

/* y[n][co][oy][ox] = chain over ci, ky, kx of fma(w, x, .), padded taps included */
#define CHAIN_FWD(T, FMA)                                                                \
    static void chain_fwd_##T(T *y, const T *x, const T *w, const conv2d_dims *d) {      \
        const int k = d->k;                                                              \
        for (int n = 0; n < d->n; n++)                                                   \
            for (int co = 0; co < d->cout; co++)                                         \
                for (int oy = 0; oy < d->ho; oy++)                                       \
                    for (int ox = 0; ox < d->wo; ox++) {                                 \
                        T a = 0;                                                         \
                        for (int ci = 0; ci < d->cin; ci++)                              \
                            for (int ky = 0; ky < k; ky++)                               \
                                for (int kx = 0; kx < k; kx++)                           \
                                    a = FMA(w[(((size_t)co * d->cin + ci) * k + ky) * k + kx], \
                                            AT(x, n, ci, d->cin, d->h, d->w, oy - d->pad + ky, \
                                               ox - d->pad + kx),                        \
                                            a);                                          \
                        y[(((size_t)n * d->cout + co) * d->ho + oy) * d->wo + ox] = a;   \
                    }                                                                    \
    }
/* dx[n][ci][iy][ix] (+)= chain over co, ty, tx of fma(w[co][ci][k-1-ty][k-1-tx],
 * dy at (iy - q + ty, ix - q + tx), .), q = k-1-pad: the transposed conv */
#define CHAIN_DX(T, FMA)                                                                 \
    static void chain_dx_##T(T *dx, const T *dy, const T *w, const conv2d_dims *d, int acc) { \
        const int k = d->k, q = k - 1 - d->pad;                                          \
        for (int n = 0; n < d->n; n++)                                                   \
            for (int ci = 0; ci < d->cin; ci++)                                          \
                for (int iy = 0; iy < d->h; iy++)                                        \
                    for (int ix = 0; ix < d->w; ix++) {                                  \
                        T a = 0;                                                         \
                        for (int co = 0; co < d->cout; co++)                             \
                            for (int ty = 0; ty < k; ty++)                               \
                                for (int tx = 0; tx < k; tx++)                           \
                                    a = FMA(w[(((size_t)co * d->cin + ci) * k + (k - 1 - ty)) * k + \
                                              (k - 1 - tx)],                             \
                                            AT(dy, n, co, d->cout, d->ho, d->wo, iy - q + ty, \
                                               ix - q + tx),                             \
                                            a);                                          \
                        T *o = dx + (((size_t)n * d->cin + ci) * d->h + iy) * d->w + ix; \
                        *o = acc ? *o + a : a;                                           \
                    }                                                                    \
    }
CHAIN_FWD(double, fma)
CHAIN_FWD(float, fmaf)
CHAIN_DX(double, fma)
CHAIN_DX(float, fmaf)

/* ------------------------------------------------------------ helpers ------------------- */

static double *drand_n(size_t n, unsigned *s) {
    double *p = mallocCheck(sizeof(double) * n);
    for (size_t i = 0; i < n; i++) p[i] = test_rand(s);
    return p;
}

/* a == b elementwise (0 == -0: the chain and the kernel may differ in the sign of a zero) */
static size_t mismatches(const double *a, const double *b, size_t n) {
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) bad += a[i] != b[i];
    return bad;
}

/* |a - ref| <= tol * max|ref| */
static void near_ref(const char *what, const double *a, const double *ref, size_t n, double tol) {
    double mx = 0, err = 0;
    for (size_t i = 0; i < n; i++) mx = fmax(mx, fabs(ref[i]));
    for (size_t i = 0; i < n; i++) err = fmax(err, fabs(a[i] - ref[i]));
    CHECKF(err <= tol * mx, "%s: max err %.3g, max|ref| %.3g (tol %.0e)", what, err, mx, tol);
}

/* workspace for this shape at up to 3 threads (the most this test uses) */
static size_t workspace_elems(const conv2d_dims *d) {
    const int saved = omp_get_max_threads();
    omp_set_num_threads(3);
    const size_t n = conv2d_direct_workspace(d);
    omp_set_num_threads(saved);
    return n;
}

/* ------------------------------------------------------------ one shape, one precision -- */

/* Forward and data gradient of shape d in precision T (suffix S), every check above. */
#define CHECK_SHAPE(T, S)                                                                   \
    static void check_shape_##S(const conv2d_dims *d, const char *tag, unsigned seed) {     \
        const size_t nx = (size_t)d->n * d->cin * d->h * d->w;                              \
        const size_t ny = (size_t)d->n * d->cout * d->ho * d->wo;                           \
        const size_t nw = (size_t)d->cout * d->cin * d->k * d->k;                           \
        double *xd = drand_n(nx, &seed), *wd = drand_n(nw, &seed), *dyd = drand_n(ny, &seed); \
        double *dx0d = drand_n(nx, &seed);                                                  \
        T *x = mallocCheck(sizeof(T) * nx), *w = mallocCheck(sizeof(T) * nw);               \
        T *dy = mallocCheck(sizeof(T) * ny), *dx0 = mallocCheck(sizeof(T) * nx);            \
        for (size_t i = 0; i < nx; i++) x[i] = (T)xd[i], dx0[i] = (T)dx0d[i];               \
        for (size_t i = 0; i < nw; i++) w[i] = (T)wd[i];                                    \
        for (size_t i = 0; i < ny; i++) dy[i] = (T)dyd[i];                                  \
        T *ws = mallocCheck(sizeof(T) * workspace_elems(d));                                \
        T *y = mallocCheck(sizeof(T) * ny), *dx = mallocCheck(sizeof(T) * nx);              \
        T *yc = mallocCheck(sizeof(T) * ny), *dxc = mallocCheck(sizeof(T) * nx);            \
        double *a = mallocCheck(sizeof(double) * (nx > ny ? nx : ny));                      \
        double *b = mallocCheck(sizeof(double) * (nx > ny ? nx : ny));                      \
        char what[160];                                                                     \
        /* against the fma chain, bit for bit */                                            \
        CHECKF(conv2d_direct_forward_##S(y, x, w, d, ws), "%s: forward not taken", tag);    \
        chain_fwd_##T(yc, x, w, d);                                                         \
        for (size_t i = 0; i < ny; i++) a[i] = y[i], b[i] = yc[i];                          \
        size_t bad = mismatches(a, b, ny);                                                  \
        CHECKF(!bad, "%s %s: forward: %zu of %zu differ from the fma chain", #S, tag, bad, ny); \
        CHECKF(conv2d_direct_backward_data_##S(dx, dy, w, d, ws, 0), "%s: bwd not taken", tag); \
        chain_dx_##T(dxc, dy, w, d, 0);                                                     \
        for (size_t i = 0; i < nx; i++) a[i] = dx[i], b[i] = dxc[i];                        \
        bad = mismatches(a, b, nx);                                                         \
        CHECKF(!bad, "%s %s: din: %zu of %zu differ from the fma chain", #S, tag, bad, nx); \
        /* against the straight loops (another summation order) */                          \
        double *ref = mallocCheck(sizeof(double) * (nx > ny ? nx : ny));                    \
        double *xr = mallocCheck(sizeof(double) * nx), *wr = mallocCheck(sizeof(double) * nw); \
        double *dyr = mallocCheck(sizeof(double) * ny);                                     \
        for (size_t i = 0; i < nx; i++) xr[i] = x[i];                                       \
        for (size_t i = 0; i < nw; i++) wr[i] = w[i];                                       \
        for (size_t i = 0; i < ny; i++) dyr[i] = dy[i];                                     \
        const double tol = sizeof(T) == 8 ? 1e-13 : 1e-5;                                   \
        test_conv_fwd(ref, xr, wr, d);                                                      \
        for (size_t i = 0; i < ny; i++) a[i] = y[i];                                        \
        snprintf(what, sizeof what, "%s %s forward vs loops", #S, tag);                     \
        near_ref(what, a, ref, ny, tol);                                                    \
        test_conv_dx(ref, dyr, wr, d);                                                      \
        for (size_t i = 0; i < nx; i++) a[i] = dx[i];                                       \
        snprintf(what, sizeof what, "%s %s din vs loops", #S, tag);                         \
        near_ref(what, a, ref, nx, tol);                                                    \
        /* acc = 1: din + the gradient */                                                   \
        memcpy(dxc, dx0, sizeof(T) * nx);                                                   \
        conv2d_direct_backward_data_##S(dxc, dy, w, d, ws, 1);                              \
        bad = 0;                                                                            \
        for (size_t i = 0; i < nx; i++) bad += dxc[i] != (T)(dx0[i] + dx[i]);               \
        CHECKF(!bad, "%s %s: acc: %zu of %zu differ from din + gradient", #S, tag, bad, nx); \
        /* threads, batch slices, bundle slots: the same bits */                            \
        const int saved = omp_get_max_threads();                                            \
        for (int t = 1; t <= 3; t++) {                                                      \
            omp_set_num_threads(t);                                                         \
            conv2d_direct_forward_##S(yc, x, w, d, ws);                                     \
            conv2d_direct_backward_data_##S(dxc, dy, w, d, ws, 0);                          \
            CHECKF(!memcmp(yc, y, sizeof(T) * ny) && !memcmp(dxc, dx, sizeof(T) * nx),     \
                   "%s %s: %d threads differ", #S, tag, t);                                 \
        }                                                                                   \
        omp_set_num_threads(saved);                                                         \
        /* slices of one image (1x1, taken for batches only: of two) */                     \
        const int sl = d->k == 1 ? 2 : 1;                                                   \
        if (d->n > sl && d->n % sl == 0) {                                                  \
            conv2d_dims one = *d;                                                           \
            one.n = sl;                                                                     \
            const size_t ix = nx / d->n * sl, iy = ny / d->n * sl;                          \
            int same = 1;                                                                   \
            for (int n = 0; n < d->n / sl; n++) {                                           \
                same &= conv2d_direct_forward_##S(yc, x + n * ix, w, &one, ws) &&           \
                        conv2d_direct_backward_data_##S(dxc, dy + n * iy, w, &one, ws, 0);  \
                same &= !memcmp(yc, y + n * iy, sizeof(T) * iy) &&                          \
                        !memcmp(dxc, dx + n * ix, sizeof(T) * ix);                          \
            }                                                                               \
            CHECKF(same, "%s %s: slices of %d images differ from the batch", #S, tag, sl);  \
        }                                                                                   \
        {                                                                                   \
            const size_t nws = workspace_elems(d);                                          \
            T *ws2 = mallocCheck(sizeof(T) * 2 * nws), *y2 = mallocCheck(sizeof(T) * 2 * ny); \
            _Pragma("omp parallel for num_threads(2)") for (int s = 0; s < 2; s++)          \
                conv2d_direct_forward_##S(y2 + s * ny, x, w, d, ws2 + s * nws);             \
            CHECKF(!memcmp(y2, y, sizeof(T) * ny) && !memcmp(y2 + ny, y, sizeof(T) * ny),   \
                   "%s %s: calls from a parallel region differ", #S, tag);                  \
            free(ws2); free(y2);                                                            \
        }                                                                                   \
        printf("ok   %-4s %-36s fwd and din exact (fma chain)\n", #S, tag);                 \
        free(xd); free(wd); free(dyd); free(dx0d); free(x); free(w); free(dy); free(dx0);   \
        free(ws); free(y); free(dx); free(yc); free(dxc); free(a); free(b); free(ref);      \
        free(xr); free(wr); free(dyr);                                                      \
    }
CHECK_SHAPE(double, f64)
CHECK_SHAPE(float, f32)

static void check_shape(int n, int cin, int h, int w, int cout, int k, int p) {
    conv2d_dims d = {n, cin, h, w, cout, k, 1, p, 1, 1, 0, 0};
    CHECK(conv2d_dims_init(&d) == 0);
    char tag[80];
    snprintf(tag, sizeof tag, "n%d c%d->%d %dx%d k%d p%d", n, cin, cout, h, w, k, p);
    CHECKF(conv2d_direct_takes(&d), "%s: not taken", tag);
    unsigned seed = 17u * cin + 31u * cout + 7u * h + w + 1000u * k + p;
    check_shape_f64(&d, tag, seed);
    check_shape_f32(&d, tag, seed);
}

/* conv2d_forward / conv2d_backward take the direct path for float64 (the switch off gives
 * im2col + GEMM, the same within rounding) */
static void check_routing(void) {
    conv2d_dims d = {2, 5, 9, 11, 6, 3, 1, 1, 1, 1, 0, 0};
    CHECK(conv2d_dims_init(&d) == 0);
    const size_t nx = (size_t)d.n * d.cin * d.h * d.w, ny = (size_t)d.n * d.cout * d.ho * d.wo;
    const size_t nw = (size_t)d.cout * d.cin * 9;
    unsigned s = 5;
    double *x = drand_n(nx, &s), *w = drand_n(nw, &s), *dy = drand_n(ny, &s);
    double *ws = mallocCheck(sizeof(double) * (conv2d_workspace(&d) + workspace_elems(&d)));
    double *y = mallocCheck(sizeof(double) * ny), *yd = mallocCheck(sizeof(double) * ny);
    double *dx = mallocCheck(sizeof(double) * nx), *dxd = mallocCheck(sizeof(double) * nx);
    conv2d_forward_f64(y, x, w, &d, ws);
    conv2d_backward_f64(dx, NULL, dy, x, w, &d, ws, 0);
    conv2d_direct_forward_f64(yd, x, w, &d, ws);
    conv2d_direct_backward_data_f64(dxd, dy, w, &d, ws, 0);
    CHECKF(!memcmp(y, yd, sizeof(double) * ny) && !memcmp(dx, dxd, sizeof(double) * nx),
           "conv2d_forward/backward_f64 did not take the direct path");
    conv2d_direct_enabled = 0;
    double *wg = mallocCheck(sizeof(double) * conv2d_workspace(&d));
    conv2d_forward_f64(y, x, w, &d, wg);
    conv2d_backward_f64(dx, NULL, dy, x, w, &d, wg, 0);
    conv2d_direct_enabled = 1;
    near_ref("f64 switch off: GEMM forward", y, yd, ny, 1e-13);
    near_ref("f64 switch off: GEMM din", dx, dxd, nx, 1e-13);
    printf("ok   conv2d_forward/backward_f64 route here; switched off, GEMM agrees\n");
    free(x); free(w); free(dy); free(ws); free(y); free(yd); free(dx); free(dxd); free(wg);
}

static void check_not_taken(void) {
    const int shapes[][10] = {
        {1, 4, 8, 8, 4, 1, 1, 0, 1, 1}, /* 1x1 at batch 1: OpenBLAS splits its one GEMM */
        {2, 4, 7, 7, 4, 1, 1, 0, 1, 1}, /* 1x1 on planes under 64 (7x7) */
        {1, 4, 8, 8, 4, 3, 2, 1, 1, 1}, /* stride 2 */
        {1, 4, 8, 8, 4, 3, 1, 2, 2, 1}, /* dilation */
        {1, 4, 8, 8, 4, 3, 1, 1, 1, 2}, /* groups */
        {1, 4, 8, 8, 4, 3, 1, 1, 1, 4}, /* depthwise */
        {1, 4, 8, 8, 4, 3, 1, 3, 1, 1}, /* pad >= k: the gradient's pad would be negative */
        {1, 4, 12, 12, 4, 9, 1, 4, 1, 1}, /* 9x9 */
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const int *v = shapes[i];
        conv2d_dims d = {v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], 0, 0};
        CHECK(conv2d_dims_init(&d) == 0);
        CHECKF(!conv2d_direct_takes(&d) && !conv2d_direct_workspace(&d) &&
                   !conv2d_direct_forward_f64(NULL, NULL, NULL, &d, NULL),
               "shape %zu taken", i);
    }
    printf("ok   batch-1 and 7x7 1x1, strided, dilated, grouped, over-padded and 9x9 convs not taken\n");
}

int main(int argc, char **argv) {
    expect_isa = argc > 1 ? argv[1] : NULL;
    conv2d_direct_enabled = 1;
    printf("direct conv kernels: %s (float64), %s (float32)\n", conv2d_direct_isa_f64(),
           conv2d_direct_isa_f32());
    if (expect_isa) /* the variant builds: the flags must have taken the vector code out */
        CHECKF(strcmp(conv2d_direct_isa_f64(), "avx512") &&
                   (strcmp(expect_isa, "scalar") || !strcmp(conv2d_direct_isa_f64(), "scalar")),
               "built for %s, runs %s", expect_isa, conv2d_direct_isa_f64());
    check_shape(1, 16, 32, 32, 16, 3, 1); /* NB201 stages at batch 1 (SynFlow) */
    check_shape(1, 32, 16, 16, 32, 3, 1);
    check_shape(1, 64, 8, 8, 64, 3, 1);
    check_shape(3, 3, 7, 9, 5, 3, 1);     /* odd sizes, channels off the block of 4 */
    check_shape(2, 4, 6, 5, 17, 3, 0);    /* no padding, 4 blocks + 1 */
    check_shape(2, 3, 5, 6, 2, 2, 1);     /* even filter */
    check_shape(1, 2, 9, 8, 3, 5, 2);
    check_shape(2, 3, 4, 4, 4, 5, 4);     /* full padding: output larger than the input */
    check_shape(1, 2, 10, 11, 3, 7, 3);
    check_shape(1, 5, 3, 41, 6, 3, 1);    /* rows longer than a tile */
    check_shape(2, 3, 1, 1, 5, 3, 1);     /* 1x1 planes: only the centre tap is inside */
    check_shape(1, 48, 8, 8, 20, 3, 1);
    /* 1x1 (batches): whole tiles, masked last vectors (81, 130, 784 outputs a plane) */
    check_shape(4, 16, 8, 8, 16, 1, 0);
    check_shape(4, 5, 9, 9, 7, 1, 0);
    check_shape(2, 3, 10, 13, 6, 1, 0);
    check_shape(2, 48, 28, 28, 20, 1, 0);
    check_routing();
    check_not_taken();
    return test_summary("test_conv_direct");
}
