/* tests/test_util.c: see tests/test_util.h. */
#include "tests/test_util.h"
#include "nn/batchnorm2d.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int test_failures = 0, test_checks = 0;

int check_close(const char *what, const double *a, const double *b, size_t n, double atol,
                double rtol) {
    double maxerr = 0;
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        double err = fabs(a[i] - b[i]);
        if (!(err <= atol + rtol * fabs(b[i]))) {
            if (bad < 5)
                fprintf(stderr, "  %s[%zu]: got %.9g expected %.9g (err %.3g)\n", what, i, a[i],
                        b[i], err);
            bad++;
        }
        if (err > maxerr || isnan(err)) maxerr = err;
    }
    test_checks++;
    if (bad) {
        test_failures++;
        fprintf(stderr, "FAIL %s: %zu of %zu outside atol %.1e rtol %.1e (max err %.3g)\n", what,
                bad, n, atol, rtol, maxerr);
        return -1;
    }
    printf("ok   %-40s n=%-7zu max abs err %.3g\n", what, n, maxerr);
    return 0;
}

int check_rel_l2(const char *what, const double *a, const double *b, size_t n, double tol) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        num += (a[i] - b[i]) * (a[i] - b[i]);
        den += b[i] * b[i];
    }
    double rel = sqrt(num) / (sqrt(den) > 0 ? sqrt(den) : 1);
    test_checks++;
    if (!(rel <= tol)) {
        test_failures++;
        fprintf(stderr, "FAIL %s: relative L2 error %.3g > %.1e\n", what, rel, tol);
        return -1;
    }
    printf("ok   %-40s rel L2 err %.3g (tol %.1e)\n", what, rel, tol);
    return 0;
}

int check_fd_grad(const char *what, double (*f)(void *ctx), void *ctx, double *var,
                  const double *an, size_t n, size_t max_samples, double h) {
    size_t step = n > max_samples ? n / max_samples : 1, m = 0;
    double *fd = malloc(sizeof(double) * (n / step + 1));
    double *ref = malloc(sizeof(double) * (n / step + 1));
    if (!fd || !ref) {
        fprintf(stderr, "FAIL %s: out of memory\n", what);
        exit(1);
    }
    for (size_t i = 0; i < n; i += step, m++) {
        double v = var[i];
        var[i] = v + h;
        double p = f(ctx);
        var[i] = v - h;
        double q = f(ctx);
        var[i] = v;
        fd[m] = (p - q) / (2 * h);
        ref[m] = an[i];
    }
    int ok = check_close(what, ref, fd, m, 1e-8, 1e-5);
    free(fd);
    free(ref);
    return ok;
}

int test_summary(const char *name) {
    printf("%s: %d checks, %d failed\n", name, test_checks, test_failures);
    return test_failures ? 1 : 0;
}

double test_rand(unsigned *s) {
    *s = *s * 1664525u + 1013904223u;
    return ((*s >> 8) & 0xFFFFFF) / (double)0x800000 - 1.0;
}

void test_jacobi_eig(int n, double *a, double *w) {
    for (int sweep = 0; sweep < 60; sweep++)
        for (int p = 0; p < n; p++)
            for (int q = p + 1; q < n; q++) {
                const double apq = a[p * n + q];
                if (fabs(apq) < 1e-300) continue;
                const double th = (a[q * n + q] - a[p * n + p]) / (2 * apq);
                const double t = (th >= 0 ? 1 : -1) / (fabs(th) + sqrt(th * th + 1));
                const double cs = 1 / sqrt(t * t + 1), sn = t * cs;
                for (int k = 0; k < n; k++) {
                    const double u = a[p * n + k], v = a[q * n + k];
                    a[p * n + k] = cs * u - sn * v;
                    a[q * n + k] = sn * u + cs * v;
                }
                for (int k = 0; k < n; k++) {
                    const double u = a[k * n + p], v = a[k * n + q];
                    a[k * n + p] = cs * u - sn * v;
                    a[k * n + q] = sn * u + cs * v;
                }
            }
    for (int i = 0; i < n; i++) w[i] = a[i * n + i];
    for (int i = 1; i < n; i++)
        for (int k = i; k > 0 && w[k] < w[k - 1]; k--) {
            const double t = w[k]; w[k] = w[k - 1]; w[k - 1] = t;
        }
}

void test_bn_train(const double *a, int N, int C, int HW, const double *gamma, const double *beta,
                   double *out) {
    for (int o = 0; o < C; o++) {
        double m = 0, v = 0;
        for (int n = 0; n < N; n++)
            for (int p = 0; p < HW; p++) m += a[(n * C + o) * HW + p];
        m /= N * HW;
        for (int n = 0; n < N; n++)
            for (int p = 0; p < HW; p++) v += pow(a[(n * C + o) * HW + p] - m, 2);
        v /= N * HW;
        for (int n = 0; n < N; n++)
            for (int p = 0; p < HW; p++) {
                const double d = a[(n * C + o) * HW + p] - m;
                out[(n * C + o) * HW + p] = gamma ? gamma[o] * d / sqrt(v + FN_BN_EPS) + beta[o]
                                                  : d / sqrt(v + FN_BN_EPS);
            }
    }
}

/* every (output, tap) pair of the convolution in order: forward adds w * x into y, the
 * adjoint w * dy into dx */
static void conv_loops(double *x, double *y, const double *w, const conv2d_dims *d, int adjoint) {
    const int cg = d->cin / d->groups, og = d->cout / d->groups;
    const size_t nx = (size_t)d->n * d->cin * d->h * d->w;
    const size_t ny = (size_t)d->n * d->cout * d->ho * d->wo;
    memset(adjoint ? x : y, 0, sizeof(double) * (adjoint ? nx : ny));
    for (int n = 0; n < d->n; n++)
        for (int co = 0; co < d->cout; co++)
            for (int oy = 0; oy < d->ho; oy++)
                for (int ox = 0; ox < d->wo; ox++) {
                    double *yo = &y[((n * d->cout + co) * d->ho + oy) * d->wo + ox];
                    for (int ci = 0; ci < cg; ci++)
                        for (int ky = 0; ky < d->k; ky++)
                            for (int kx = 0; kx < d->k; kx++) {
                                int iy = oy * d->stride - d->pad + ky * d->dil;
                                int ix = ox * d->stride - d->pad + kx * d->dil;
                                if (iy < 0 || iy >= d->h || ix < 0 || ix >= d->w) continue;
                                double wv = w[((co * cg + ci) * d->k + ky) * d->k + kx];
                                double *xi =
                                    &x[((n * d->cin + co / og * cg + ci) * d->h + iy) * d->w + ix];
                                if (adjoint) *xi += wv * *yo;
                                else *yo += wv * *xi;
                            }
                }
}

void test_conv_fwd(double *y, const double *x, const double *w, const conv2d_dims *d) {
    conv_loops((double *)x, y, w, d, 0);
}

void test_conv_dx(double *dx, const double *dy, const double *w, const conv2d_dims *d) {
    conv_loops(dx, (double *)dy, w, d, 1);
}
