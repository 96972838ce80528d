/* tests/test_ops_grad.c: every nn op's backward against float64 central finite differences,
 * and every forward against an independent straight-loop computation or float32 twin.
 *
 * For an op y = f(x, w) and a random cotangent r, the scalar phi = <r, f(x, w)> has
 * d phi/dx = backward(dout = r). Each input and weight element is perturbed by +-h
 * (h = 1e-6) and the central difference compared with the analytic gradient:
 * |fd - an| <= 1e-7 + 1e-6 |an|. Shapes are odd on purpose (non-square, odd sizes, padding
 * larger than needed, stride 2 with odd input, groups, dilation).
 *   ./build/bin/test_ops_grad */
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nn/batchnorm2d.h"
#include "base/common.h"
#include "nn/conv2d.h"
#include "nn/cross_entropy.h"
#include "nn/linear.h"
#include "nn/pool2d.h"
#include "nn/relu.h"
#include "nn/tensor_ops.h"
#include "tests/test_util.h"

#define H 1e-6
#define ATOL 1e-7
#define RTOL 1e-6

static unsigned rng = 12345u;

static double *rnd(size_t n) {
    double *p = mallocCheck(sizeof(double) * (n ? n : 1));
    for (size_t i = 0; i < n; i++) p[i] = test_rand(&rng);
    return p;
}
static double *zeros(size_t n) { return callocCheck(n ? n : 1, sizeof(double)); }
static double dot(const double *a, const double *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

/* Generic FD check: phi() evaluates the scalar with the current contents of var. */
typedef double (*phi_fn)(void *ctx);
static void fd_check(const char *what, phi_fn phi, void *ctx, double *var, size_t n,
                     const double *an) {
    double *fd = zeros(n);
    for (size_t i = 0; i < n; i++) {
        double v = var[i];
        var[i] = v + H;
        double p = phi(ctx);
        var[i] = v - H;
        double m = phi(ctx);
        var[i] = v;
        fd[i] = (p - m) / (2 * H);
    }
    check_close(what, an, fd, n, ATOL, RTOL);
    free(fd);
}

/* ---------------------------------------------------------------- conv2d ---------- */
typedef struct { conv2d_dims d; double *x, *w, *r, *y, *ws; } conv_ctx;
static double conv_phi(void *c_) {
    conv_ctx *c = c_;
    conv2d_forward_f64(c->y, c->x, c->w, &c->d, c->ws);
    return dot(c->r, c->y, (size_t)c->d.n * c->d.cout * c->d.ho * c->d.wo);
}

/* nn/conv2d.c: 0 sends depthwise convs through im2col + GEMM instead of the direct kernels */
extern int conv2d_depthwise_direct;

static void to_f32(float *dst, const double *src, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = (float)src[i];
}
static double *to_f64(const float *src, size_t n) {
    double *p = zeros(n);
    for (size_t i = 0; i < n; i++) p[i] = src[i];
    return p;
}

/* Forward and data gradient against straight loops (test_conv_fwd, test_conv_dx), backward
 * against float64 central differences (fd) and the float32 twin against float64. Backward
 * starts from nonzero din and dw to check that it accumulates, and runs once more with
 * din = NULL. Depthwise shapes (groups == cin == cout)
 * take the direct kernels, so they are also checked against the im2col + GEMM path. */
static void test_conv_fd(int n, int cin, int h, int w, int cout, int k, int s, int p, int dil,
                         int groups, int fd) {
    conv_ctx c;
    conv2d_dims d = {n, cin, h, w, cout, k, s, p, dil, groups, 0, 0};
    CHECK(conv2d_dims_init(&d) == 0);
    c.d = d;
    size_t nx = (size_t)n * cin * h * w, nw = (size_t)cout * (cin / groups) * k * k;
    size_t ny = (size_t)n * cout * d.ho * d.wo;
    c.x = rnd(nx); c.w = rnd(nw); c.r = rnd(ny); c.y = zeros(ny);
    c.ws = zeros(conv2d_workspace(&d)); /* NaN: no kernel may read scratch it did not write */
    for (size_t i = 0; i < conv2d_workspace(&d); i++) c.ws[i] = NAN;
    char what[96], tag[64];
    snprintf(tag, sizeof tag, "conv n%d %dx%d k%d s%d p%d d%d g%d", n, h, w, k, s, p, dil, groups);
    double *yref = zeros(ny);
    test_conv_fwd(yref, c.x, c.w, &d);
    conv2d_forward_f64(c.y, c.x, c.w, &d, c.ws);
    snprintf(what, sizeof what, "%s fwd", tag);
    check_close(what, c.y, yref, ny, 1e-12, 1e-12);
    /* backward: din and dw accumulate on top of existing values */
    double *dx = zeros(nx), *dw = zeros(nw);
    for (size_t i = 0; i < nx; i++) dx[i] = 0.5;
    for (size_t i = 0; i < nw; i++) dw[i] = -0.25;
    conv2d_backward_f64(dx, dw, c.r, c.x, c.w, &d, c.ws, 1);
    for (size_t i = 0; i < nx; i++) dx[i] -= 0.5;
    for (size_t i = 0; i < nw; i++) dw[i] += 0.25;
    double *dxref = zeros(nx);
    test_conv_dx(dxref, c.r, c.w, &d);
    snprintf(what, sizeof what, "%s dx = loops", tag);
    check_close(what, dx, dxref, nx, 1e-12, 1e-12);
    free(dxref);
    /* din = NULL: weights only, the same dw */
    double *dw2 = zeros(nw);
    conv2d_backward_f64(NULL, dw2, c.r, c.x, c.w, &d, c.ws, 1);
    snprintf(what, sizeof what, "%s dw (din NULL)", tag);
    check_close(what, dw2, dw, nw, 1e-13, 1e-12);
    if (fd) {
        snprintf(what, sizeof what, "%s dx", tag);
        fd_check(what, conv_phi, &c, c.x, nx, dx);
        snprintf(what, sizeof what, "%s dw", tag);
        fd_check(what, conv_phi, &c, c.w, nw, dw);
    }
    if (groups == cin && cout == cin) { /* direct kernels vs im2col + GEMM, float64 */
        double *yg = zeros(ny), *dxg = zeros(nx), *dwg = zeros(nw);
        conv2d_forward_f64(c.y, c.x, c.w, &d, c.ws); /* fd_check left a perturbed output */
        conv2d_depthwise_direct = 0;
        conv2d_forward_f64(yg, c.x, c.w, &d, c.ws);
        conv2d_backward_f64(dxg, dwg, c.r, c.x, c.w, &d, c.ws, 1);
        conv2d_depthwise_direct = 1;
        snprintf(what, sizeof what, "%s fwd = gemm", tag);
        check_close(what, c.y, yg, ny, 1e-12, 1e-12);
        snprintf(what, sizeof what, "%s dx = gemm", tag);
        check_close(what, dx, dxg, nx, 1e-12, 1e-12);
        snprintf(what, sizeof what, "%s dw = gemm", tag);
        check_close(what, dw, dwg, nw, 1e-12, 1e-12);
        free(yg); free(dxg); free(dwg);
    }
    /* float32 twin against float64: forward and both gradients */
    float *xf = mallocCheck(4 * nx), *wf = mallocCheck(4 * nw), *yf = mallocCheck(4 * ny);
    float *rf = mallocCheck(4 * ny), *dxf = callocCheck(nx, 4), *dwf = callocCheck(nw, 4);
    float *wsf = mallocCheck(4 * (conv2d_workspace(&d) + 1));
    to_f32(xf, c.x, nx); to_f32(wf, c.w, nw); to_f32(rf, c.r, ny);
    conv2d_forward_f32(yf, xf, wf, &d, wsf);
    conv2d_backward_f32(dxf, dwf, rf, xf, wf, &d, wsf, 1);
    double *yfd = to_f64(yf, ny), *dxfd = to_f64(dxf, nx), *dwfd = to_f64(dwf, nw);
    snprintf(what, sizeof what, "%s f32 fwd", tag);
    check_close(what, yfd, yref, ny, 1e-5, 1e-4);
    snprintf(what, sizeof what, "%s f32 dx", tag);
    check_close(what, dxfd, dx, nx, 1e-5, 1e-4);
    snprintf(what, sizeof what, "%s f32 dw", tag);
    check_close(what, dwfd, dw, nw, 1e-4, 1e-4);
    free(c.x); free(c.w); free(c.r); free(c.y); free(c.ws); free(yref); free(dx); free(dw);
    free(dw2); free(xf); free(wf); free(yf); free(rf); free(dxf); free(dwf); free(wsf);
    free(yfd); free(dxfd); free(dwfd);
}

static void test_conv(int n, int cin, int h, int w, int cout, int k, int s, int p, int dil,
                      int groups) {
    test_conv_fd(n, cin, h, w, cout, k, s, p, dil, groups, 1);
}

/* Depthwise (groups = cin = cout = c) with finite differences. */
static void test_dwconv(int n, int c, int h, int w, int k, int s, int p, int dil) {
    test_conv_fd(n, c, h, w, c, k, s, p, dil, c, 1);
}

/* Depthwise convs far above the 2e4 flops from which the direct kernels use OpenMP, with
 * many planes per thread: forward against the straight loop, gradients against im2col +
 * GEMM (which the small shapes check by finite differences), float32 against float64. */
static void test_dwconv_big(int n, int c, int h, int w, int k, int s, int p, int dil) {
    conv2d_dims d = {n, c, h, w, c, k, s, p, dil, c, 0, 0};
    CHECK(conv2d_dims_init(&d) == 0);
    CHECKF(conv2d_flops(&d) > 2e5, "%.0f flops: too small for the threaded branch",
           conv2d_flops(&d));
    test_conv_fd(n, c, h, w, c, k, s, p, dil, c, 0);
}

/* Depthwise direct kernels, float32, bit for bit: every output is its taps' products added
 * one at a time in tap order from 0 (out-of-image taps skipped: adding a zero product changes
 * no sum), the order the CPU kernels use on every ISA, so this is what they must give exactly.
 * Forward, and the data gradient added into din (stride 1 gathers: the taps of the flipped
 * filter, reading dout at (iy + pad - ky*dil, ix + pad - kx*dil), again in order from 0). */
static void test_dwconv_bits(int n, int c, int h, int w, int k, int s, int p, int dil) {
    conv2d_dims d = {n, c, h, w, c, k, s, p, dil, c, 0, 0};
    CHECK(conv2d_dims_init(&d) == 0);
    const size_t nx = (size_t)n * c * h * w, ny = (size_t)n * c * d.ho * d.wo;
    const size_t nw = (size_t)c * k * k;
    float *x = mallocCheck(4 * nx), *wt = mallocCheck(4 * nw), *dy = mallocCheck(4 * ny);
    float *y = mallocCheck(4 * ny), *yr = mallocCheck(4 * ny);
    float *dx = mallocCheck(4 * nx), *dxr = mallocCheck(4 * nx);
    float *ws = mallocCheck(4 * (conv2d_workspace(&d) + 1));
    for (size_t i = 0; i < nx; i++) x[i] = (float)test_rand(&rng);
    for (size_t i = 0; i < nw; i++) wt[i] = (float)test_rand(&rng);
    for (size_t i = 0; i < ny; i++) dy[i] = (float)test_rand(&rng);
    for (size_t i = 0; i < nx; i++) dx[i] = dxr[i] = (float)test_rand(&rng);
    for (int pl = 0; pl < n * c; pl++) {
        const float *xp = x + (size_t)pl * h * w, *wp = wt + (size_t)(pl % c) * k * k;
        const float *dyp = dy + (size_t)pl * d.ho * d.wo;
        for (int oy = 0; oy < d.ho; oy++)
            for (int ox = 0; ox < d.wo; ox++) {
                float a = 0;
                for (int t = 0; t < k * k; t++) {
                    const int iy = oy * s - p + t / k * dil, ix = ox * s - p + t % k * dil;
                    if (iy >= 0 && iy < h && ix >= 0 && ix < w) a += wp[t] * xp[iy * w + ix];
                }
                yr[((size_t)pl * d.ho + oy) * d.wo + ox] = a;
            }
        if (s != 1 || p > (k - 1) * dil) continue; /* the scatter path: a different order */
        for (int iy = 0; iy < h; iy++)
            for (int ix = 0; ix < w; ix++) {
                float a = 0;
                for (int t = 0; t < k * k; t++) {
                    const int oy = iy + p - t / k * dil, ox = ix + p - t % k * dil;
                    if (oy >= 0 && oy < d.ho && ox >= 0 && ox < d.wo)
                        a += wp[t] * dyp[oy * d.wo + ox];
                }
                dxr[((size_t)pl * h + iy) * w + ix] += a;
            }
    }
    conv2d_forward_f32(y, x, wt, &d, ws);
    CHECKF(memcmp(y, yr, 4 * ny) == 0, "depthwise f32 %dx%d k%d s%d p%d d%d: forward is not the "
           "tap-order sum bit for bit", h, w, k, s, p, dil);
    if (s == 1 && p <= (k - 1) * dil) {
        conv2d_backward_f32(dx, NULL, dy, x, wt, &d, ws, 1);
        CHECKF(memcmp(dx, dxr, 4 * nx) == 0, "depthwise f32 %dx%d k%d p%d d%d: data gradient is "
               "not the flipped tap-order sum bit for bit", h, w, k, p, dil);
    }
    free(x); free(wt); free(dy); free(y); free(yr); free(dx); free(dxr); free(ws);
}

/* ---------------------------------------------------------------- batchnorm ------- */
/* BN on a tensor large enough for the memory-order sweep (nn/batchnorm2d.c: planes of 16x16
 * and smaller, 2^18 elements or more), float32: forward and backward against a float64
 * evaluation of the formulas, and the same bits on 1, 2 and 3 threads. */
/* The folded BN backward (engine/graph_fold.h) against the unfolded one, float32, on both
 * sweeps of batchnorm2d_grad_sums and of batchnorm2d_backward: the sums of two outputs against
 * one dy (grad_sums, k = 2) on 1, 2 and 3 threads are the same bits; with coef = 1 the
 * folded d x equals batchnorm2d_backward's bit for bit (the same sums, the same per-element
 * arithmetic), written (acc = 0) and added (acc = 1); with coef = 0.7 it equals the unfolded
 * backward of d y = 0.7 dy to float32 rounding; the sums match a double brute force. */
static void test_bn_folded(int n, int ch, int hw) {
    const size_t m = (size_t)n * ch * hw;
    float *x = mallocCheck(4 * m), *x2 = mallocCheck(4 * m), *dy = mallocCheck(4 * m);
    float *y = mallocCheck(4 * m), *y2 = mallocCheck(4 * m), *dys = mallocCheck(4 * m);
    float *a = mallocCheck(4 * m), *b = mallocCheck(4 * m), mean[256], istd[256], mean2[256];
    float istd2[256];
    double st[3][2][512], *stp[2];
    CHECK(ch <= 256);
    memset(st, 0, sizeof st);
    for (size_t i = 0; i < m; i++) {
        x[i] = (float)(2 + test_rand(&rng));
        x2[i] = (float)(test_rand(&rng) / 3);
        dy[i] = (float)(test_rand(&rng) / 3);
    }
    batchnorm2d_forward_f32(y, mean, istd, x, NULL, NULL, n, ch, hw, FN_BN_EPS);
    batchnorm2d_forward_f32(y2, mean2, istd2, x2, NULL, NULL, n, ch, hw, FN_BN_EPS);
    const float *xh[2] = {y, y2};
    const int saved = omp_get_max_threads();
    for (int t = 0; t < 3; t++) {
        omp_set_num_threads(t + 1);
        stp[0] = st[t][0];
        stp[1] = st[t][1];
        batchnorm2d_grad_sums_f32(stp, xh, 2, dy, n, ch, hw);
    }
    omp_set_num_threads(saved);
    CHECKF(!memcmp(st[0], st[1], sizeof st[0]) && !memcmp(st[0], st[2], sizeof st[0]),
           "bn grad sums %dx%dx%d: 1, 2 and 3 threads differ", n, ch, hw);
    double err = 0;
    for (int k = 0; k < ch; k++) {
        double s1 = 0, s2 = 0, s3 = 0, mag = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < hw; j++) {
                const size_t q = ((size_t)i * ch + k) * hw + j;
                s1 += dy[q];
                s2 += (double)dy[q] * y[q];
                s3 += (double)dy[q] * y2[q];
                mag += fabs(dy[q]) * (1 + fabs(y[q]) + fabs(y2[q]));
            }
        err = fmax(err, (fabs(st[0][0][2 * k] - s1) + fabs(st[0][0][2 * k + 1] - s2) +
                         fabs(st[0][1][2 * k + 1] - s3) + fabs(st[0][1][2 * k] - s1)) / mag);
    }
    CHECKF(err < 1e-13, "bn grad sums %dx%dx%d: %.3g from the brute force", n, ch, hw, err);
    for (int acc = 0; acc < 2; acc++) {
        for (size_t i = 0; i < m; i++) a[i] = b[i] = acc ? 0.25f * (float)(i % 5) : NAN;
        batchnorm2d_backward_folded_f32(a, dy, 1.0f, y, st[0][0], istd, n, ch, hw, acc);
        batchnorm2d_backward_f32(b, NULL, NULL, dy, y, 1, mean, istd, NULL, n, ch, hw, acc);
        CHECKF(!memcmp(a, b, 4 * m), "folded bn %dx%dx%d, coef 1, acc %d: not the unfolded bits",
               n, ch, hw, acc);
    }
    for (size_t i = 0; i < m; i++) dys[i] = 0.7f * dy[i];
    batchnorm2d_backward_folded_f32(a, dy, 0.7f, y, st[0][0], istd, n, ch, hw, 0);
    batchnorm2d_backward_f32(b, NULL, NULL, dys, y, 1, mean, istd, NULL, n, ch, hw, 0);
    double e = 0, mx = 0;
    for (size_t i = 0; i < m; i++) e = fmax(e, fabs(a[i] - b[i])), mx = fmax(mx, fabs(b[i]));
    CHECKF(e <= 2e-6 * mx && mx > 0, "folded bn %dx%dx%d, coef 0.7: %.3g off (max %.3g)", n, ch,
           hw, e, mx);
    free(x); free(x2); free(dy); free(y); free(y2); free(dys); free(a); free(b);
}

static void test_bn_big(int n, int ch, int hw, int affine) {
    const size_t m = (size_t)n * ch * hw;
    float *x = mallocCheck(4 * m), *dy = mallocCheck(4 * m), *g = NULL, *be = NULL;
    float *y[3], *dx[3], mean[256], istd[256];
    CHECK(ch <= 256);
    for (size_t i = 0; i < m; i++) x[i] = (float)(2 + test_rand(&rng)), dy[i] = (float)test_rand(&rng);
    if (affine) {
        g = mallocCheck(4 * ch); be = mallocCheck(4 * ch);
        for (int k = 0; k < ch; k++) g[k] = (float)test_rand(&rng), be[k] = (float)test_rand(&rng);
    }
    const int saved = omp_get_max_threads();
    for (int t = 0; t < 3; t++) {
        omp_set_num_threads(t + 1);
        y[t] = mallocCheck(4 * m); dx[t] = mallocCheck(4 * m);
        for (size_t i = 0; i < m; i++) dx[t][i] = 0.5f;
        batchnorm2d_forward_f32(y[t], mean, istd, x, g, be, n, ch, hw, FN_BN_EPS);
        batchnorm2d_backward_f32(dx[t], NULL, NULL, dy, affine ? x : y[t], !affine, mean, istd, g,
                                 n, ch, hw, 1);
    }
    omp_set_num_threads(saved);
    CHECKF(!memcmp(y[0], y[1], 4 * m) && !memcmp(y[0], y[2], 4 * m) &&
               !memcmp(dx[0], dx[1], 4 * m) && !memcmp(dx[0], dx[2], 4 * m),
           "bn %dx%dx%d affine %d: 1, 2 and 3 threads differ", n, ch, hw, affine);
    double ey = 0, edx = 0, my = 0, mdx = 0;
    for (int k = 0; k < ch; k++) {
        double s = 0, ss = 0, sdy = 0, sdyx = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < hw; j++) s += x[((size_t)i * ch + k) * hw + j];
        const double mu = s / ((double)n * hw);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < hw; j++) {
                const double d = x[((size_t)i * ch + k) * hw + j] - mu;
                ss += d * d;
            }
        const double is = 1 / sqrt(ss / ((double)n * hw) + FN_BN_EPS);
        const double gk = affine ? g[k] : 1, bk = affine ? be[k] : 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < hw; j++) {
                const size_t q = ((size_t)i * ch + k) * hw + j;
                sdy += dy[q];
                sdyx += dy[q] * (x[q] - mu) * is;
            }
        for (int i = 0; i < n; i++)
            for (int j = 0; j < hw; j++) {
                const size_t q = ((size_t)i * ch + k) * hw + j;
                const double xh = (x[q] - mu) * is, yr = xh * gk + bk;
                const double dxr = 0.5 + gk * is * (dy[q] - sdy / ((double)n * hw) -
                                                    xh * sdyx / ((double)n * hw));
                ey = fmax(ey, fabs(y[0][q] - yr)); my = fmax(my, fabs(yr));
                edx = fmax(edx, fabs(dx[0][q] - dxr)); mdx = fmax(mdx, fabs(dxr));
            }
    }
    CHECKF(ey <= 1e-5 * my && edx <= 1e-5 * mdx,
           "bn %dx%dx%d affine %d: y err %.2e of %.2e, dx err %.2e of %.2e", n, ch, hw, affine,
           ey, my, edx, mdx);
    printf("ok   bn f32 %dx%dx%d affine %d: vs float64 formulas (y %.1e, dx %.1e), threads same\n",
           n, ch, hw, affine, ey / my, edx / mdx);
    for (int t = 0; t < 3; t++) { free(y[t]); free(dx[t]); }
    free(x); free(dy); free(g); free(be);
}


typedef struct { int n, c, hw; double *x, *g, *b, *r, *y, *mean, *istd; } bn_ctx;
static double bn_phi(void *c_) {
    bn_ctx *c = c_;
    batchnorm2d_forward_f64(c->y, c->mean, c->istd, c->x, c->g, c->b, c->n, c->c, c->hw, FN_BN_EPS);
    return dot(c->r, c->y, (size_t)c->n * c->c * c->hw);
}

static void test_bn(int n, int ch, int hw, int affine) {
    bn_ctx c = {n, ch, hw, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
    size_t nx = (size_t)n * ch * hw;
    c.x = rnd(nx); c.r = rnd(nx); c.y = zeros(nx); c.mean = zeros(ch); c.istd = zeros(ch);
    if (affine) { c.g = rnd(ch); c.b = rnd(ch); }
    bn_phi(&c);
    /* forward against the definition: per channel mean 0, biased variance 1 (non-affine) */
    double maxm = 0, maxv = 0;
    if (!affine)
        for (int k = 0; k < ch; k++) {
            double s = 0, ss = 0;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < hw; j++) {
                    double v = c.y[((size_t)i * ch + k) * hw + j];
                    s += v; ss += v * v;
                }
            double m = s / (n * hw), var = ss / (n * hw) - m * m;
            /* with eps the variance is var_x / (var_x + eps) */
            double vx = 1.0 / (c.istd[k] * c.istd[k]) - FN_BN_EPS;
            maxm = fmax(maxm, fabs(m));
            maxv = fmax(maxv, fabs(var - vx / (vx + FN_BN_EPS)));
        }
    CHECK(maxm < 1e-12 && maxv < 1e-12);
    double *dx = zeros(nx), *dg = zeros(ch), *db = zeros(ch);
    batchnorm2d_backward_f64(dx, affine ? dg : NULL, affine ? db : NULL, c.r, c.x, 0, c.mean,
                             c.istd, c.g, n, ch, hw, 1);
    if (!affine) { /* the same gradient from the saved output x_hat */
        double *dx2 = zeros(nx);
        batchnorm2d_backward_f64(dx2, NULL, NULL, c.r, c.y, 1, c.mean, c.istd, NULL, n, ch, hw, 1);
        check_close("batchnorm dx from x_hat", dx2, dx, nx, 1e-12, 1e-9);
        free(dx2);
    }
    char what[64];
    snprintf(what, sizeof what, "batchnorm n%d hw%d affine%d dx", n, hw, affine);
    fd_check(what, bn_phi, &c, c.x, nx, dx);
    if (affine) {
        fd_check("batchnorm dgamma", bn_phi, &c, c.g, ch, dg);
        fd_check("batchnorm dbeta", bn_phi, &c, c.b, ch, db);
    }
    free(c.x); free(c.r); free(c.y); free(c.mean); free(c.istd); free(c.g); free(c.b);
    free(dx); free(dg); free(db);
}

/* ---------------------------------------------------------------- relu, pools ----- */
typedef struct { int kind; pool2d_dims d; size_t nx, ny; double *x, *r, *y; } un_ctx;
enum { U_RELU, U_AVG, U_MAX, U_GAP };
static void un_fwd(un_ctx *c) {
    if (c->kind == U_RELU) relu_forward_f64(c->y, c->x, c->nx);
    else if (c->kind == U_AVG) avgpool2d_forward_f64(c->y, c->x, &c->d);
    else if (c->kind == U_MAX) maxpool2d_forward_f64(c->y, c->x, &c->d);
    else gap_forward_f64(c->y, c->x, c->d.n, c->d.c, c->d.h * c->d.w);
}
static double un_phi(void *c_) {
    un_ctx *c = c_;
    un_fwd(c);
    return dot(c->r, c->y, c->ny);
}

static void test_unary(const char *what, int kind, int n, int ch, int h, int w, int k, int s,
                       int p) {
    un_ctx c = {kind, {n, ch, h, w, k, s, p, 0, 0}, 0, 0, NULL, NULL, NULL};
    if (kind == U_AVG || kind == U_MAX) CHECK(pool2d_dims_init(&c.d) == 0);
    c.nx = (size_t)n * ch * h * w;
    c.ny = kind == U_RELU ? c.nx : kind == U_GAP ? (size_t)n * ch : (size_t)n * ch * c.d.ho * c.d.wo;
    c.x = rnd(c.nx); c.r = rnd(c.ny); c.y = zeros(c.ny);
    un_fwd(&c);
    /* forward spot checks against the definition */
    if (kind == U_AVG) {
        /* corner output (0,0) with pad: mean of the in-image part of the window only */
        double s0 = 0;
        int cnt = 0;
        for (int y = 0; y < k - p && y < h; y++)
            for (int x = 0; x < k - p && x < w; x++) { s0 += c.x[y * w + x]; cnt++; }
        CHECK(fabs(c.y[0] - s0 / cnt) < 1e-14);
        /* every output against the definition (the 3x3/s1/p1 fast path included) */
        double *ref = zeros(c.ny);
        for (int pl = 0; pl < n * ch; pl++)
            for (int oy = 0; oy < c.d.ho; oy++)
                for (int ox = 0; ox < c.d.wo; ox++) {
                    double sum = 0;
                    int m = 0;
                    for (int ky = 0; ky < k; ky++)
                        for (int kx = 0; kx < k; kx++) {
                            int iy = oy * s - p + ky, ix = ox * s - p + kx;
                            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                            sum += c.x[((size_t)pl * h + iy) * w + ix];
                            m++;
                        }
                    ref[((size_t)pl * c.d.ho + oy) * c.d.wo + ox] = sum / m;
                }
        check_close("avgpool forward vs definition", c.y, ref, c.ny, 1e-14, 1e-13);
        free(ref);
    } else if (kind == U_MAX) {
        double m = -INFINITY;
        for (int y = 0; y < k - p && y < h; y++)
            for (int x = 0; x < k - p && x < w; x++) m = fmax(m, c.x[y * w + x]);
        CHECK(c.y[0] == m);
    } else if (kind == U_GAP) {
        double s0 = 0;
        for (int j = 0; j < h * w; j++) s0 += c.x[j];
        CHECK(fabs(c.y[0] - s0 / (h * w)) < 1e-14);
    }
    double *dx = zeros(c.nx);
    if (kind == U_RELU) relu_backward_f64(dx, c.r, c.x, c.nx, 1);
    else if (kind == U_AVG) avgpool2d_backward_f64(dx, c.r, &c.d);
    else if (kind == U_MAX) maxpool2d_backward_f64(dx, c.r, c.x, &c.d);
    else gap_backward_f64(dx, c.r, n, ch, h * w);
    fd_check(what, un_phi, &c, c.x, c.nx, dx);
    free(c.x); free(c.r); free(c.y); free(dx);
}

/* ---------------------------------------------------------------- linear, CE ------ */
typedef struct { int n, in, out; double *x, *w, *b, *r, *y; int *lab; } lin_ctx;
static double lin_phi(void *c_) {
    lin_ctx *c = c_;
    linear_forward_f64(c->y, c->x, c->w, c->b, c->n, c->in, c->out);
    return dot(c->r, c->y, (size_t)c->n * c->out);
}
static double ce_phi(void *c_) {
    lin_ctx *c = c_;
    return cross_entropy_forward_f64(c->x, c->lab, c->n, c->in);
}

static void test_linear_ce(void) {
    lin_ctx c = {5, 7, 3, NULL, NULL, NULL, NULL, NULL, NULL};
    c.x = rnd(35); c.w = rnd(21); c.b = rnd(3); c.r = rnd(15); c.y = zeros(15);
    lin_phi(&c);
    CHECK(fabs(c.y[1 * 3 + 2] - (dot(c.x + 7, c.w + 14, 7) + c.b[2])) < 1e-14);
    double *dx = zeros(35), *dw = zeros(21), *db = zeros(3);
    linear_backward_f64(dx, dw, db, c.r, c.x, c.w, 5, 7, 3);
    fd_check("linear dx", lin_phi, &c, c.x, 35, dx);
    fd_check("linear dw", lin_phi, &c, c.w, 21, dw);
    fd_check("linear db", lin_phi, &c, c.b, 3, db);
    /* cross-entropy: value against log-softmax by hand; gradient by FD */
    int lab[5] = {0, 6, 3, 3, 1};
    c.lab = lab;
    double l = 0;
    for (int i = 0; i < 5; i++) {
        double z = 0;
        for (int j = 0; j < 7; j++) z += exp(c.x[i * 7 + j]);
        l += log(z) - c.x[i * 7 + lab[i]];
    }
    CHECK(fabs(ce_phi(&c) - l / 5) < 1e-14);
    double *dz = zeros(35);
    cross_entropy_backward_f64(dz, c.x, lab, 5, 7, 1.0);
    fd_check("cross-entropy dlogits", ce_phi, &c, c.x, 35, dz);
    free(c.x); free(c.w); free(c.b); free(c.r); free(c.y); free(dx); free(dw); free(db); free(dz);
}

/* ---------------------------------------------------------------- mix, concat, subsample */
typedef struct { int kind; size_t n; double *in[3], *alpha, *r, *y; int aidx[3]; } mix_ctx;
static double mix_phi(void *c_) {
    mix_ctx *c = c_;
    if (c->kind == 0) mix_forward_f64(c->y, c->in, c->aidx, c->alpha, 3, c->n);
    else if (c->kind == 1) {
        int cin[3] = {2, 1, 3};
        concat_forward_f64(c->y, c->in, cin, 3, 2, 5);
    } else subsample_forward_f64(c->y, c->in[0], 2, 3, 5, 7, 1, 2, 3, 4);
    size_t ny = c->kind == 0 ? c->n : c->kind == 1 ? 2 * 6 * 5 : 2 * 3 * 3 * 4;
    return dot(c->r, c->y, ny);
}

static void test_glue(void) {
    /* mixed op: out = a0 x0 + a2 x1 + 1 * x2; d alpha and d inputs */
    mix_ctx c = {0, 30, {NULL}, NULL, NULL, NULL, {0, 2, -1}};
    for (int i = 0; i < 3; i++) c.in[i] = rnd(30);
    c.alpha = rnd(4); c.r = rnd(30); c.y = zeros(30);
    mix_phi(&c);
    CHECK(fabs(c.y[7] - (c.alpha[0] * c.in[0][7] + c.alpha[2] * c.in[1][7] + c.in[2][7])) < 1e-14);
    double *din[3] = {zeros(30), zeros(30), zeros(30)}, *da = zeros(4);
    mix_backward_f64(din, da, c.r, c.in, c.aidx, c.alpha, 3, 30, NULL);
    fd_check("mix dalpha", mix_phi, &c, c.alpha, 4, da);
    CHECK(da[1] == 0 && da[3] == 0);
    for (int i = 0; i < 3; i++) fd_check("mix dx", mix_phi, &c, c.in[i], 30, din[i]);
    for (int i = 0; i < 3; i++) { free(c.in[i]); free(din[i]); }
    free(c.r); free(c.y);
    /* concat of 2, 1, 3 channels at n = 2, hw = 5 */
    c.kind = 1;
    int cin[3] = {2, 1, 3};
    for (int i = 0; i < 3; i++) { c.in[i] = rnd(2 * cin[i] * 5); din[i] = zeros(2 * cin[i] * 5); }
    c.r = rnd(60); c.y = zeros(60);
    mix_phi(&c);
    CHECK(c.y[(1 * 6 + 3) * 5 + 4] == c.in[2][(1 * 3 + 0) * 5 + 4]);
    concat_backward_f64(din, c.r, cin, 3, 2, 5);
    for (int i = 0; i < 3; i++) fd_check("concat dx", mix_phi, &c, c.in[i], 2 * cin[i] * 5, din[i]);
    for (int i = 0; i < 3; i++) { free(c.in[i]); free(din[i]); }
    free(c.r); free(c.y);
    /* subsample x[:, :, 1::2, 1::2] of 5x7 into 3x4 (last column falls outside -> 0) */
    c.kind = 2;
    c.in[0] = rnd(2 * 3 * 35); din[0] = zeros(2 * 3 * 35);
    c.r = rnd(72); c.y = zeros(72);
    mix_phi(&c);
    CHECK(c.y[(4 * 3 + 1) * 4 + 2] == c.in[0][(4 * 5 + 3) * 7 + 5]);
    CHECK(c.y[(0 * 3 + 2) * 4 + 3] == 0.0); /* ix = 7 is outside: zero padding */
    subsample_backward_f64(din[0], c.r, 2, 3, 5, 7, 1, 2, 3, 4);
    fd_check("subsample dx", mix_phi, &c, c.in[0], 2 * 3 * 35, din[0]);
    free(c.in[0]); free(din[0]); free(c.r); free(c.y); free(c.alpha); free(da);
}

/* First writes (acc = 0, the executor's first write of a gradient): every element of the
 * gradient is written (a NaN-filled buffer comes out clean) with the values an accumulation
 * into zeros gives (== compares, so a -0 against +0 passes). */
static void same_as_zeroed(const char *what, const double *set, const double *acc, size_t n) {
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) bad += !(set[i] == acc[i]);
    CHECKF(bad == 0, "%s: %zu of %zu elements differ from accumulating into zeros", what, bad, n);
}
static double *nans(size_t n) {
    double *p = mallocCheck(sizeof(double) * (n ? n : 1));
    for (size_t i = 0; i < n; i++) p[i] = NAN;
    return p;
}
static void test_first_write(void) {
    const int convs[][10] = {{2, 3, 7, 6, 4, 3, 1, 1, 1, 1}, {1, 5, 6, 6, 3, 1, 1, 0, 1, 1},
                             {3, 5, 6, 6, 3, 1, 1, 0, 1, 1}, {2, 6, 8, 8, 6, 3, 1, 2, 2, 6},
                             {1, 4, 8, 8, 6, 3, 2, 1, 1, 2}, {2, 4, 9, 7, 6, 3, 2, 1, 1, 1},
                             {1, 4, 5, 18, 4, 3, 1, 1, 1, 4}, {2, 4, 9, 9, 4, 5, 2, 2, 1, 4}};
    for (size_t t = 0; t < sizeof convs / sizeof convs[0]; t++) {
        const int *v = convs[t];
        conv2d_dims d = {v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], 0, 0};
        CHECK(conv2d_dims_init(&d) == 0);
        const size_t nx = (size_t)d.n * d.cin * d.h * d.w, ny = (size_t)d.n * d.cout * d.ho * d.wo;
        const size_t nw = (size_t)d.cout * (d.cin / d.groups) * d.k * d.k;
        double *x = rnd(nx), *w = rnd(nw), *dy = rnd(ny), *ws = zeros(conv2d_workspace(&d));
        double *a = zeros(nx), *b = nans(nx);
        conv2d_backward_f64(a, NULL, dy, x, w, &d, ws, 1);
        conv2d_backward_f64(b, NULL, dy, x, w, &d, ws, 0);
        char what[64];
        snprintf(what, sizeof what, "conv first write (shape %zu)", t);
        same_as_zeroed(what, b, a, nx);
        free(x); free(w); free(dy); free(ws); free(a); free(b);
    }
    { /* BN (affine and x_hat-saved), ReLU */
        const int n = 3, ch = 4, hw = 10;
        const size_t m = (size_t)n * ch * hw;
        double *x = rnd(m), *y = zeros(m), *dy = rnd(m), *mean = zeros(ch), *istd = zeros(ch);
        double *g = rnd(ch), *be = rnd(ch);
        batchnorm2d_forward_f64(y, mean, istd, x, g, be, n, ch, hw, FN_BN_EPS);
        double *a = zeros(m), *b = nans(m);
        batchnorm2d_backward_f64(a, NULL, NULL, dy, x, 0, mean, istd, g, n, ch, hw, 1);
        batchnorm2d_backward_f64(b, NULL, NULL, dy, x, 0, mean, istd, g, n, ch, hw, 0);
        same_as_zeroed("bn first write", b, a, m);
        memset(a, 0, sizeof(double) * m);
        for (size_t i = 0; i < m; i++) b[i] = NAN;
        relu_backward_f64(a, dy, x, m, 1);
        relu_backward_f64(b, dy, x, m, 0);
        same_as_zeroed("relu first write", b, a, m);
        free(x); free(y); free(dy); free(mean); free(istd); free(g); free(be); free(a); free(b);
    }
    /* mix: inputs 0 and 2 first written, 1 accumulated, 3 without gradient; over the
     * threaded size too; d alpha unchanged by the flags */
    const size_t sizes[2] = {30, 200000};
    for (int t = 0; t < 2; t++) {
        const size_t n = sizes[t];
        double *in[4], *da = zeros(4), *db = zeros(4), *dout = rnd(n), alpha[4] = {0.3, -1.2, 0.7, 2};
        double *a[4], *b[4];
        const int aidx[4] = {0, -1, 2, 3};
        const unsigned char acc[4] = {0, 1, 0, 1};
        for (int i = 0; i < 4; i++) {
            in[i] = rnd(n);
            a[i] = i == 3 ? NULL : zeros(n);
            b[i] = i == 3 ? NULL : i == 1 ? zeros(n) : nans(n);
        }
        for (size_t j = 0; j < n; j++) a[1][j] = b[1][j] = 0.125 * (double)(j % 7);
        mix_backward_f64(a, da, dout, in, aidx, alpha, 4, n, NULL);
        mix_backward_f64(b, db, dout, in, aidx, alpha, 4, n, acc);
        for (int i = 0; i < 3; i++) same_as_zeroed("mix first write", b[i], a[i], n);
        CHECK(memcmp(da, db, sizeof(double) * 4) == 0 && da[0] != 0 && da[1] == 0);
        for (int i = 0; i < 4; i++) { free(in[i]); free(a[i]); free(b[i]); }
        free(da); free(db); free(dout);
    }
}

/* A mix wider than one fused group (20 ops > MIX_MAX_OPS): the same d alpha and d inputs, bit
 * for bit, as one op at a time, ops 3 and 3 + 16 sharing an input gradient (accumulated in op
 * order) and op 5 without an alpha. */
static void test_wide_mix(void) {
    enum { K = 20 };
    const size_t n = 100000;
    double *in[K], *a[K], *b[K], alpha[K], da[K] = {0}, db[K] = {0}, *dout = rnd(n);
    int aidx[K];
    for (int i = 0; i < K; i++) {
        in[i] = rnd(n);
        a[i] = i == 19 ? NULL : zeros(n); /* 19 shares op 3's gradient, below */
        b[i] = i == 19 ? NULL : zeros(n);
        alpha[i] = 0.1 * (i + 1) - 1;
        aidx[i] = i == 5 ? -1 : i;
    }
    a[19] = a[3];
    b[19] = b[3];
    mix_backward_f64(a, da, dout, in, aidx, alpha, K, n, NULL);
    for (int i = 0; i < K; i++)
        mix_backward_f64(&b[i], db, dout, &in[i], &aidx[i], alpha, 1, n, NULL);
    int same = !memcmp(da, db, sizeof da);
    for (int i = 0; i < K; i++) same &= !memcmp(a[i], b[i], sizeof(double) * n);
    CHECKF(same && da[0] != 0 && da[5] == 0, "a 20-op mix differs from op-by-op passes");
    for (int i = 0; i < K; i++) {
        free(in[i]);
        if (i != 19) { free(a[i]); free(b[i]); }
    }
    free(dout);
}

/* Mix backward against its stated order, computed here one element at a time, in float64 (where
 * any other order of the double sums shows in the last bits) and float32: d alpha of an op is
 * the sum over FN_SUM_BLOCKS = 64 blocks of ceil(n / 64) elements (block order) of each block's
 * 8 lane sums (element j of a block in lane j % 8, in index order, products in double) added
 * as ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7)); dx = c dout on a first write, dx + c
 * dout otherwise. 11 ops cover the grouped dot products (MIX_GROUP = 4 at a time: 4 + 4 + the
 * rest), an op without alpha, one without a gradient and two ops sharing one input gradient; n
 * leaves a short last block and a lane tail in every block. */
#define TEST_MIX_ORDER(T, SUF)                                                                  \
    static void test_mix_order_##SUF(void) {                                                    \
        enum { K = 11 };                                                                        \
        const size_t n = 300007, bs = (n + 63) / 64;                                            \
        T *in[K], *dx[K], *ref[K], alpha[K], dalpha[K] = {0}, *dout = malloc(sizeof(T) * n);    \
        int aidx[K];                                                                            \
        unsigned char acc[K];                                                                   \
        for (size_t j = 0; j < n; j++) dout[j] = (T)(test_rand(&rng) / 3); /* full mantissas */ \
        for (int i = 0; i < K; i++) {                                                           \
            in[i] = malloc(sizeof(T) * n);                                                      \
            for (size_t j = 0; j < n; j++) in[i][j] = (T)(2 * test_rand(&rng) / 3);             \
            aidx[i] = i == 6 ? -1 : i;                                                          \
            alpha[i] = (T)(0.37 * i - 1.1);                                                     \
            acc[i] = i % 3 == 1; /* every third op accumulates */                               \
            dx[i] = ref[i] = NULL;                                                              \
            if (i == 9 || i == 10) continue; /* 9: no gradient wanted; 10: op 1's, below */     \
            dx[i] = malloc(sizeof(T) * n);                                                      \
            ref[i] = malloc(sizeof(T) * n);                                                     \
            for (size_t j = 0; j < n; j++)                                                      \
                dx[i][j] = ref[i][j] = acc[i] ? (T)(j % 5) * (T)0.25 : (T)NAN;                  \
        }                                                                                       \
        dx[10] = dx[1]; /* op 10 adds into op 1's gradient, after it (acc[1] = acc[10] = 1) */  \
        ref[10] = ref[1];                                                                       \
        mix_backward_##SUF(dx, dalpha, dout, in, aidx, alpha, K, n, acc);                       \
        int bad_alpha = 0, bad_dx = 0;                                                          \
        for (int i = 0; i < K; i++) {                                                           \
            if (ref[i]) {                                                                       \
                const T c = aidx[i] >= 0 ? alpha[aidx[i]] : (T)1;                               \
                for (size_t j = 0; j < n; j++)                                                  \
                    ref[i][j] = acc[i] ? ref[i][j] + c * dout[j] : c * dout[j];                 \
            }                                                                                   \
            if (aidx[i] < 0) {                                                                  \
                bad_alpha += dalpha[i] != 0;                                                    \
                continue;                                                                       \
            }                                                                                   \
            double s = 0;                                                                       \
            for (size_t b = 0; b < 64; b++) {                                                   \
                const size_t j0 = b * bs < n ? b * bs : n, j1 = j0 + bs < n ? j0 + bs : n;      \
                double l[8] = {0};                                                              \
                for (size_t j = j0; j < j1; j++)                                                \
                    l[(j - j0) % 8] += (double)dout[j] * (double)in[i][j];                      \
                s += ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));         \
            }                                                                                   \
            const T want = (T)s;                                                                \
            bad_alpha += memcmp(&want, &dalpha[aidx[i]], sizeof want) != 0;                     \
        }                                                                                       \
        for (int i = 0; i < 10; i++)                                                            \
            if (dx[i]) bad_dx += memcmp(dx[i], ref[i], sizeof(T) * n) != 0;                     \
        CHECKF(bad_alpha == 0 && bad_dx == 0 && dalpha[0] != 0,                                 \
               #SUF " mix backward: %d d alpha and %d gradients differ from the stated order",  \
               bad_alpha, bad_dx);                                                              \
        for (int i = 0; i < K; i++) {                                                           \
            free(in[i]);                                                                        \
            if (i != 10) { free(dx[i]); free(ref[i]); }                                         \
        }                                                                                       \
        free(dout);                                                                             \
    }
TEST_MIX_ORDER(double, f64)
TEST_MIX_ORDER(float, f32)
#undef TEST_MIX_ORDER

/* Max pooling against its definition, computed here by brute force: each output is the
 * first maximum, in row-major order, of the in-image window positions; backward adds each
 * output's gradient there, outputs in order; the tangent takes that position's tangent.
 * Values from {0, 1, 2} make most windows tie, so the fast interior kernels' tie rule is
 * checked as much as their windows; bit for bit, float64 and float32, every size class
 * (windows all inside, all clamped, both), 3x3 at strides 1, 2, 3 and other k and pads. */
static void test_maxpool_exact(int n, int c, int h, int w, int k, int s, int p) {
    pool2d_dims d = {n, c, h, w, k, s, p, 0, 0};
    CHECK(pool2d_dims_init(&d) == 0);
    const size_t ni = (size_t)n * c * h * w, no = (size_t)n * c * d.ho * d.wo;
    /* the inputs end in a guard of huge values: a window read past the last plane wins */
    enum { GUARD = 64 };
    double *x = zeros(ni + GUARD), *tx = zeros(ni + GUARD), *y = zeros(no), *ty = zeros(no);
    double *dy = zeros(no), *dx = zeros(ni), *ry = zeros(no), *rty = zeros(no), *rdx = zeros(ni);
    float *xf = calloc(ni + GUARD, 4), *yf = calloc(no, 4), *dyf = calloc(no, 4), *dxf = calloc(ni, 4);
    for (size_t i = ni; i < ni + GUARD; i++) x[i] = 1e30, xf[i] = 1e30f;
    uint64_t st = 12345u + (uint64_t)(h * 31 + w * 7 + k * 3 + s);
    for (size_t i = 0; i < ni; i++) {
        st = st * 6364136223846793005ull + 1442695040888963407ull;
        x[i] = (double)((st >> 33) % 3);
        xf[i] = (float)x[i];
        tx[i] = (double)(i % 97) - 48;
    }
    for (size_t i = 0; i < no; i++) dy[i] = 0.25 * (double)(i % 13) + 1, dyf[i] = (float)dy[i];
    for (int pl = 0; pl < n * c; pl++)
        for (int oy = 0; oy < d.ho; oy++)
            for (int ox = 0; ox < d.wo; ox++) {
                long best = -1;
                for (int iy = oy * s - p; iy < oy * s - p + k; iy++)
                    for (int ix = ox * s - p; ix < ox * s - p + k; ix++) {
                        if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                        const long j = ((long)pl * h + iy) * w + ix;
                        if (best < 0 || x[j] > x[best]) best = j;
                    }
                const size_t o = ((size_t)pl * d.ho + oy) * d.wo + ox;
                ry[o] = x[best];
                rty[o] = tx[best];
                rdx[best] += dy[o];
            }
    maxpool2d_forward_f64(y, x, &d);
    maxpool2d_forward_tangent_f64(ty, tx, x, &d);
    maxpool2d_backward_f64(dx, dy, x, &d);
    maxpool2d_forward_f32(yf, xf, &d);
    maxpool2d_backward_f32(dxf, dyf, xf, &d);
    int same = !memcmp(y, ry, 8 * no) && !memcmp(ty, rty, 8 * no) && !memcmp(dx, rdx, 8 * ni);
    for (size_t i = 0; i < no; i++) same &= yf[i] == (float)ry[i];
    for (size_t i = 0; i < ni; i++) same &= dxf[i] == (float)rdx[i];
    CHECKF(same, "max pool %dx%d stride %d pad %d on %dx%d differs from the brute-force argmax",
           k, k, s, p, h, w);
    free(x); free(tx); free(y); free(ty); free(dy); free(dx); free(ry); free(rty); free(rdx);
    free(xf); free(yf); free(dyf); free(dxf);
}

int main(void) {
    test_first_write();
    test_wide_mix();
    test_mix_order_f64();
    test_mix_order_f32();
    test_conv(2, 3, 7, 6, 4, 3, 1, 1, 1, 1);  /* 3x3 same */
    test_conv(1, 3, 7, 6, 5, 3, 1, 1, 1, 1);  /* 3x3 same, batch 1 (direct kernels, split) */
    test_conv(2, 2, 6, 5, 3, 5, 1, 2, 1, 1);  /* 5x5 same (direct kernels) */
    test_conv(1, 3, 5, 6, 2, 2, 1, 0, 1, 1);  /* 2x2 unpadded (direct kernels) */
    test_conv(2, 4, 9, 7, 6, 3, 2, 1, 1, 1);  /* stride 2, odd sizes */
    test_conv(1, 5, 6, 6, 3, 1, 1, 0, 1, 1);  /* pointwise fast path, batch 1 */
    test_conv(3, 5, 6, 6, 3, 1, 1, 0, 1, 1);  /* pointwise, batch > 1 */
    test_conv(2, 6, 8, 8, 6, 3, 1, 2, 2, 6);  /* depthwise dilated 3x3 (DARTS dil_conv_3x3) */
    test_conv(2, 4, 8, 8, 4, 5, 2, 2, 1, 4);  /* depthwise 5x5 stride 2 (sep_conv_5x5) */
    test_conv(2, 4, 7, 7, 4, 5, 1, 4, 2, 4);  /* depthwise dilated 5x5 (dil_conv_5x5) */
    test_conv(2, 6, 5, 5, 4, 3, 1, 1, 1, 2);  /* groups 2 */
    test_conv(1, 2, 8, 8, 4, 1, 2, 0, 1, 1);  /* 1x1 stride 2 (FactorizedReduce branch) */
    test_conv(2, 3, 7, 6, 6, 3, 1, 1, 1, 3);  /* groups = cin, multiplier 2: GEMM path */
    /* depthwise, direct kernels: DARTS sep_conv (k3 p1, k5 p2) and dil_conv (d2, p2 / p4) at
     * stride 1 and 2, odd and non-square sizes, batch 1 and 3 */
    test_dwconv(3, 3, 7, 7, 3, 1, 1, 1);
    test_dwconv(1, 2, 9, 9, 5, 1, 2, 1);
    test_dwconv(3, 2, 9, 9, 3, 2, 1, 1);
    test_dwconv(1, 3, 7, 7, 5, 2, 2, 1);
    test_dwconv(3, 2, 9, 7, 3, 1, 2, 2);
    test_dwconv(1, 2, 9, 9, 5, 1, 4, 2);
    test_dwconv(3, 2, 7, 9, 3, 2, 2, 2);
    test_dwconv(1, 3, 9, 9, 5, 2, 4, 2);
    test_dwconv(1, 2, 8, 5, 3, 1, 3, 1);      /* pad > (k-1)*dil: the scatter data gradient */
    test_dwconv(2, 2, 6, 7, 3, 1, 0, 1);      /* no padding */
    test_dwconv(1, 2, 10, 11, 3, 3, 1, 1);    /* stride 3 */
    test_dwconv(1, 2, 9, 8, 7, 2, 3, 1);      /* 7x7: the generic filter-row loops */
    test_dwconv(2, 3, 5, 5, 1, 1, 0, 1);      /* 1x1 depthwise: a per-channel scale */
    /* planes at least 16 wide: one vector loop per output row (and its remainder) */
    test_dwconv(1, 2, 5, 19, 3, 1, 1, 1);
    test_dwconv(2, 2, 6, 21, 5, 1, 4, 2);
    test_dwconv(1, 2, 4, 17, 3, 1, 3, 1);     /* pad > (k-1)*dil on the row path */
    /* the f32 kernels bit for bit: flat planes, rows, a remainder, dilated, strided */
    test_dwconv_bits(2, 3, 9, 9, 3, 1, 1, 1);
    test_dwconv_bits(1, 2, 14, 14, 5, 1, 4, 2);
    test_dwconv_bits(2, 3, 32, 32, 3, 1, 1, 1);
    test_dwconv_bits(1, 2, 28, 28, 5, 1, 2, 1);
    test_dwconv_bits(1, 2, 19, 23, 3, 1, 2, 2);
    test_dwconv_bits(1, 2, 17, 17, 5, 2, 2, 1);
    test_dwconv_big(3, 8, 15, 13, 5, 1, 2, 1); /* threaded: planes over images and channels */
    test_dwconv_big(1, 32, 16, 16, 5, 1, 4, 2); /* batch 1: channels over the threads */
    test_dwconv_big(2, 16, 23, 23, 5, 2, 2, 1); /* threaded, stride 2 */
    test_dwconv_big(4, 32, 27, 27, 3, 2, 2, 2); /* threaded, stride 2, dilated */
    test_bn(3, 4, 10, 0);
    test_bn_big(64, 64, 64, 0); /* memory-order sweep: 8x8 planes */
    test_bn_folded(3, 5, 30);   /* memory order, one thread (a small tensor) */
    test_bn_folded(16, 24, 49); /* memory order on threads: 7x7 planes, under 2^18 elements */
    test_bn_folded(64, 64, 64); /* memory order, and BN's own memory-order sweep */
    test_bn_folded(4, 6, 300);  /* one channel at a time (planes over 16x16) */
    test_bn_big(16, 100, 196, 1);
    test_bn_big(64, 8, 256, 0);     /* below 2^18: one channel at a time */
    test_bn(2, 3, 9, 1);
    test_bn(1, 2, 16, 0); /* batch 1 (SynFlow) */
    test_unary("relu dx", U_RELU, 2, 3, 4, 5, 0, 1, 0);
    test_unary("avgpool 3x3 s1 p1 (excl pad) dx", U_AVG, 2, 3, 5, 6, 3, 1, 1);
    test_unary("avgpool 3x3 s2 p1 (excl pad) dx", U_AVG, 1, 2, 7, 7, 3, 2, 1);
    test_unary("avgpool 2x2 s2 p0 dx", U_AVG, 2, 2, 6, 8, 2, 2, 0);
    test_unary("maxpool 3x3 s1 p1 dx", U_MAX, 2, 3, 5, 6, 3, 1, 1);
    test_unary("maxpool 3x3 s2 p1 dx", U_MAX, 1, 2, 7, 8, 3, 2, 1);
    test_maxpool_exact(2, 3, 32, 32, 3, 1, 1); /* DARTS normal cells (threaded) */
    test_maxpool_exact(2, 3, 32, 32, 3, 2, 1); /* reduction cells */
    test_maxpool_exact(1, 2, 7, 9, 3, 2, 1);   /* odd sizes */
    test_maxpool_exact(1, 2, 9, 8, 3, 3, 1);   /* 3x3 at a stride with no fast loop */
    test_maxpool_exact(1, 2, 3, 3, 3, 1, 1);   /* one interior output */
    test_maxpool_exact(1, 2, 2, 2, 3, 1, 1);   /* every window clamped */
    test_maxpool_exact(1, 1, 1, 5, 3, 1, 1);   /* one row */
    test_maxpool_exact(2, 2, 8, 8, 2, 2, 0);   /* 2x2 stride 2, no padding */
    test_maxpool_exact(1, 2, 11, 10, 5, 1, 2); /* 5x5: the generic interior loop */
    test_maxpool_exact(1, 2, 6, 6, 3, 1, 0);   /* no padding: all windows inside */
    test_maxpool_exact(1, 1, 2, 2, 3, 2, 0);   /* a window wider than the image (wo = 1) */
    test_unary("global avg pool dx", U_GAP, 2, 3, 4, 5, 0, 1, 0);
    test_linear_ce();
    test_glue();
    return test_summary("test_ops_grad");
}
