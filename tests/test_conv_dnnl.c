/* tests/test_conv_dnnl.c: the oneDNN path of float32 dense and depthwise convs
 * (nn/conv2d_dnnl.h), through
 * conv2d_forward_f32 / conv2d_backward_f32 as the engine calls them.
 *   - forward and data gradient against float64 straight loops (independent of both oneDNN
 *     and OpenBLAS), |err| <= 1e-5 * max|ref|, on NB201's 3x3 shapes, on strided, dilated,
 *     5x5 and odd-sized ones, and on DARTS's depthwise ones (sep_conv; dil_conv where
 *     oneDNN takes it); the data gradient adds into din when asked (bit for bit
 *     din + the written gradient);
 *   - the same bits with 1 and 2 OpenMP threads, from primitives made at 1, 3 or 8 threads,
 *     and from inside a parallel region (bundle slots: one thread each, concurrent calls on
 *     one cached primitive);
 *   - FREENAS_ONEDNN's switch off gives the im2col + GEMM path, within float32 error;
 *   - shapes it must not take (1x1, groups, depthwise on 32x32 planes, channels not
 *     multiples of 16, a window that drops input rows) are not taken.
 * Skips (77) in a build without oneDNN, saying so. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"
#include "nn/conv2d.h"
#include "nn/conv2d_dnnl.h"
#include "tests/test_util.h"

static float *frand(size_t n, unsigned *s) {
    float *p = mallocCheck(sizeof(float) * n);
    for (size_t i = 0; i < n; i++) p[i] = (float)test_rand(s);
    return p;
}

/* |a - ref| <= tol * max|ref| over all elements */
static void close_to(const char *what, const float *a, const double *ref, size_t n, double tol) {
    double mx = 0, err = 0;
    for (size_t i = 0; i < n; i++) mx = fmax(mx, fabs(ref[i]));
    for (size_t i = 0; i < n; i++) err = fmax(err, fabs(a[i] - ref[i]));
    CHECKF(err <= tol * mx, "%s: max err %.3g, max|ref| %.3g (tol %.0e)", what, err, mx, tol);
    printf("ok   %-44s max err / max|ref| %.2e\n", what, mx > 0 ? err / mx : err);
}

static void same_bits(const char *what, const float *a, const float *b, size_t n) {
    CHECKF(memcmp(a, b, sizeof(float) * n) == 0, "%s: results differ", what);
}

/* fwd into y, bwd (acc = 0) into dx on the current thread count; ws of the shape's size */
static void run(const conv2d_dims *d, const float *x, const float *w, const float *dy, float *y,
                float *dx, float *ws) {
    conv2d_forward_f32(y, x, w, d, ws);
    conv2d_backward_f32(dx, NULL, dy, x, w, d, ws, 0);
}

static void check_shape(int n, int cin, int h, int wd, int cout, int k, int s, int p, int dil,
                        int groups) {
    conv2d_dims d = {n, cin, h, wd, cout, k, s, p, dil, groups, 0, 0};
    CHECK(conv2d_dims_init(&d) == 0);
    char tag[80];
    snprintf(tag, sizeof tag, "n%d c%d->%d %dx%d k%d s%d p%d d%d g%d", n, cin, cout, h, wd, k, s,
             p, dil, groups);
    CHECKF(conv2d_dnnl_takes(&d), "%s: not taken by oneDNN", tag);
    const size_t nx = (size_t)n * cin * h * wd, ny = (size_t)n * cout * d.ho * d.wo;
    const size_t nw = (size_t)cout * (cin / groups) * k * k, nws = conv2d_workspace(&d);
    unsigned seed = (unsigned)(nx + 7 * ny);
    float *x = frand(nx, &seed), *w = frand(nw, &seed), *dy = frand(ny, &seed);
    float *y = mallocCheck(sizeof(float) * ny), *dx = mallocCheck(sizeof(float) * nx);
    float *ws = mallocCheck(sizeof(float) * nws);
    double *xd = mallocCheck(sizeof(double) * nx), *wd64 = mallocCheck(sizeof(double) * nw);
    double *dyd = mallocCheck(sizeof(double) * ny), *yr = mallocCheck(sizeof(double) * ny);
    double *dxr = mallocCheck(sizeof(double) * nx);
    for (size_t i = 0; i < nx; i++) xd[i] = x[i];
    for (size_t i = 0; i < nw; i++) wd64[i] = w[i];
    for (size_t i = 0; i < ny; i++) dyd[i] = dy[i];
    test_conv_fwd(yr, xd, wd64, &d);
    test_conv_dx(dxr, dyd, wd64, &d);

    omp_set_num_threads(2);
    run(&d, x, w, dy, y, dx, ws);
    char what[128];
    snprintf(what, sizeof what, "%s fwd", tag);
    close_to(what, y, yr, ny, 1e-5);
    snprintf(what, sizeof what, "%s dx", tag);
    close_to(what, dx, dxr, nx, 1e-5);

    /* acc: din += the gradient, bit for bit din + (the written gradient) */
    float *base = frand(nx, &seed), *acc = mallocCheck(sizeof(float) * nx);
    memcpy(acc, base, sizeof(float) * nx);
    conv2d_backward_f32(acc, NULL, dy, x, w, &d, ws, 1);
    for (size_t i = 0; i < nx; i++) base[i] += dx[i];
    snprintf(what, sizeof what, "%s dx acc", tag);
    same_bits(what, acc, base, nx);

    /* one thread, and two concurrent calls from a parallel region: the same bits */
    float *y1 = mallocCheck(sizeof(float) * ny), *dx1 = mallocCheck(sizeof(float) * nx);
    omp_set_num_threads(1);
    run(&d, x, w, dy, y1, dx1, ws);
    snprintf(what, sizeof what, "%s 1 thread", tag);
    same_bits(what, y1, y, ny);
    same_bits(what, dx1, dx, nx);
    /* primitives made at 1, 3 and 8 threads (oneDNN may pick its blocking by the thread
     * count it sees when it makes them), run on those and on 2: the same bits. The
     * workspace is sized anew for each: the scratchpad may depend on the thread count. */
    const int made_at[3] = {1, 3, 8};
    for (int m = 0; m < 3; m++) {
        conv2d_dnnl_reset();
        omp_set_num_threads(made_at[m]);
        float *wsm = mallocCheck(sizeof(float) * conv2d_workspace(&d));
        run(&d, x, w, dy, y1, dx1, wsm);
        snprintf(what, sizeof what, "%s made and run at %d threads", tag, made_at[m]);
        same_bits(what, y1, y, ny);
        same_bits(what, dx1, dx, nx);
        omp_set_num_threads(2);
        run(&d, x, w, dy, y1, dx1, wsm);
        snprintf(what, sizeof what, "%s made at %d threads, run at 2", tag, made_at[m]);
        same_bits(what, y1, y, ny);
        same_bits(what, dx1, dx, nx);
        free(wsm);
    }
    conv2d_dnnl_reset(); /* made again below at 2 threads, its workspace sized then */
    printf("     %s: forward %s, data gradient %s\n", tag, conv2d_dnnl_impl(&d, 0),
           conv2d_dnnl_impl(&d, 1));
    omp_set_num_threads(2);
    const size_t nws2 = conv2d_workspace(&d);
    const int levels = omp_get_max_active_levels();
    omp_set_max_active_levels(1);
    float *yp[2], *dxp[2], *wsp[2];
#pragma omp parallel num_threads(2)
    {
        const int t = omp_get_thread_num();
        yp[t] = mallocCheck(sizeof(float) * ny);
        dxp[t] = mallocCheck(sizeof(float) * nx);
        wsp[t] = mallocCheck(sizeof(float) * nws2);
        for (int r = 0; r < 3; r++) run(&d, x, w, dy, yp[t], dxp[t], wsp[t]);
    }
    omp_set_max_active_levels(levels);
    for (int t = 0; t < 2; t++) {
        snprintf(what, sizeof what, "%s in a parallel region, thread %d", tag, t);
        same_bits(what, yp[t], y, ny);
        same_bits(what, dxp[t], dx, nx);
        free(yp[t]); free(dxp[t]); free(wsp[t]);
    }

    /* switched off: im2col + GEMM */
    conv2d_dnnl_enabled = 0;
    float *ws0 = mallocCheck(sizeof(float) * conv2d_workspace(&d));
    run(&d, x, w, dy, y1, dx1, ws0);
    conv2d_dnnl_enabled = 1;
    snprintf(what, sizeof what, "%s GEMM path fwd", tag);
    close_to(what, y1, yr, ny, 1e-5);
    snprintf(what, sizeof what, "%s GEMM path dx", tag);
    close_to(what, dx1, dxr, nx, 1e-5);
    free(ws0);
    free(x); free(w); free(dy); free(y); free(dx); free(ws); free(xd); free(wd64); free(dyd);
    free(yr); free(dxr); free(base); free(acc); free(y1); free(dx1);
}

static void not_taken(const char *what, int n, int cin, int h, int w, int cout, int k, int s,
                      int p, int dil, int groups) {
    conv2d_dims d = {n, cin, h, w, cout, k, s, p, dil, groups, 0, 0};
    CHECK(conv2d_dims_init(&d) == 0);
    CHECKF(!conv2d_dnnl_takes(&d), "%s: taken by oneDNN", what);
}

int main(void) {
    if (!conv2d_dnnl_built) {
        printf("SKIP: built without oneDNN (Debian libdnnl-dev); float32 dense convs use "
               "im2col + OpenBLAS, checked by test_ops_grad\n");
        return 77;
    }
    conv2d_dnnl_enabled = 1;
    conv2d_dims nb = {2, 16, 32, 32, 16, 3, 1, 1, 1, 1, 0, 0};
    CHECK(conv2d_dims_init(&nb) == 0);
    if (!conv2d_dnnl_takes(&nb)) {
        printf("SKIP: oneDNN has no AVX2 / AVX-512 JIT kernel on this CPU (forward %s, data "
               "gradient %s); float32 convs stay on im2col + OpenBLAS\n",
               conv2d_dnnl_impl(&nb, 0), conv2d_dnnl_impl(&nb, 1));
        return 77;
    }
    check_shape(2, 16, 32, 32, 16, 3, 1, 1, 1, 1); /* NB201 stage 1 */
    check_shape(3, 32, 16, 16, 32, 3, 1, 1, 1, 1); /* stage 2 */
    check_shape(2, 64, 8, 8, 64, 3, 1, 1, 1, 1);   /* stage 3 */
    check_shape(1, 16, 32, 32, 16, 3, 1, 1, 1, 1); /* a batch of one */
    check_shape(2, 16, 9, 7, 32, 3, 2, 1, 1, 1);   /* stride 2, odd sizes, cin != cout */
    check_shape(2, 32, 11, 10, 16, 3, 1, 2, 2, 1); /* dilated */
    check_shape(2, 16, 9, 9, 16, 5, 1, 2, 1, 1);   /* 5x5 */
    check_shape(2, 16, 8, 8, 16, 3, 1, 0, 1, 1);   /* no padding: 6x6 out */
    /* depthwise (DARTS sep_conv / dil_conv) on small planes */
    check_shape(2, 32, 16, 16, 32, 3, 1, 1, 1, 32);  /* sep_conv_3x3 */
    check_shape(2, 64, 8, 8, 64, 5, 1, 2, 1, 64);    /* sep_conv_5x5 */
    check_shape(2, 192, 7, 7, 192, 3, 1, 1, 1, 192); /* 224x224 net's last cells */
    check_shape(2, 96, 14, 14, 96, 5, 2, 2, 1, 96);  /* sep_conv_5x5, stride 2 */
    check_shape(1, 48, 9, 11, 48, 3, 2, 1, 1, 48);   /* odd sizes, stride 2, batch 1 */
    not_taken("1x1", 2, 16, 8, 8, 16, 1, 1, 0, 1, 1);
    not_taken("groups", 2, 32, 8, 8, 32, 3, 1, 1, 1, 2);
    not_taken("depthwise 32x32", 2, 16, 32, 32, 16, 3, 1, 1, 1, 16);
    not_taken("depthwise, multiplier 2", 2, 16, 8, 8, 32, 3, 1, 1, 1, 16);
    not_taken("cin 3", 2, 3, 8, 8, 16, 3, 1, 1, 1, 1);
    not_taken("cout 24", 2, 16, 8, 8, 24, 3, 1, 1, 1, 1);
    not_taken("a dropped input row", 2, 16, 8, 8, 16, 3, 2, 0, 1, 1);
    { /* dilated depthwise (dil_conv): taken only where oneDNN has JIT kernels both ways
       * (2.6 has none for the data gradient: it stays on the direct kernels) */
        conv2d_dims d = {2, 64, 8, 8, 64, 3, 1, 2, 2, 64, 0, 0};
        CHECK(conv2d_dims_init(&d) == 0);
        if (conv2d_dnnl_takes(&d)) check_shape(2, 64, 8, 8, 64, 3, 1, 2, 2, 64);
        else printf("     dilated depthwise not taken: forward %s, data gradient %s\n",
                    conv2d_dnnl_impl(&d, 0), conv2d_dnnl_impl(&d, 1));
    }
    conv2d_dnnl_enabled = 0;
    not_taken("switched off", 2, 16, 32, 32, 16, 3, 1, 1, 1, 1);
    not_taken("switched off, depthwise", 2, 32, 8, 8, 32, 3, 1, 1, 1, 32);
    return test_summary("test_conv_dnnl");
}
