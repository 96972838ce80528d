/* nn/batchnorm2d.c: train-mode BatchNorm2d forward/backward (see nn/batchnorm2d.h).
 * Sums are accumulated in double for both precisions, each row of a plane in vector lanes
 * (omp simd reductions: a fixed order for a given build, so runs repeat bit for bit). As one
 * serial chain of double additions the statistics were 11 % of a CPU naswot pass. */
#include "nn/batchnorm2d.h"

#include <math.h>
#include <stddef.h>

#include "nn/real.h"

void FN(batchnorm2d_forward)(real *out, real *mean, real *invstd, const real *in,
                             const real *gamma, const real *beta, int n, int c, int hw,
                             double eps) {
    const double m = (double)n * hw;
#pragma omp parallel for schedule(static) if (m * c > 8192)
    for (int ch = 0; ch < c; ch++) {
        /* one pass: sum and sum of squares about a shift (the first value) in double,
         * which keeps the variance exact to ~1e-16 relative unless |mean| >> std by 1e8 */
        const double shift = in[(size_t)ch * hw];
        double s = 0, ss = 0;
        for (int i = 0; i < n; i++) {
            const real *x = in + ((size_t)i * c + ch) * hw;
#pragma omp simd reduction(+ : s, ss)
            for (int j = 0; j < hw; j++) {
                double t = x[j] - shift;
                s += t;
                ss += t * t;
            }
        }
        const double mu = shift + s / m;
        double v = ss / m - (s / m) * (s / m);
        if (v < 0) v = 0;
        const double is = 1.0 / sqrt(v + eps);
        mean[ch] = (real)mu;
        invstd[ch] = (real)is;
        const real g = gamma ? gamma[ch] : (real)1, b = beta ? beta[ch] : (real)0;
        const real sc = (real)is * g, sh = b - (real)mu * sc;
        for (int i = 0; i < n; i++) {
            const real *x = in + ((size_t)i * c + ch) * hw;
            real *y = out + ((size_t)i * c + ch) * hw;
            for (int j = 0; j < hw; j++) y[j] = x[j] * sc + sh;
        }
    }
}

void FN(batchnorm2d_backward)(real *din, real *dgamma, real *dbeta, const real *dout,
                              const real *in, int saved_is_xhat, const real *mean,
                              const real *invstd, const real *gamma, int n, int c, int hw,
                              int acc) {
    const double m = (double)n * hw;
#pragma omp parallel for schedule(static) if (m * c > 8192)
    for (int ch = 0; ch < c; ch++) {
        /* x_hat = (x - mu) * is, or the saved value itself */
        const double mu = saved_is_xhat ? 0.0 : mean[ch];
        const double is = invstd[ch], xs = saved_is_xhat ? 1.0 : is;
        double sdy = 0, sdyx = 0; /* sum dy, sum dy * x_hat */
        for (int i = 0; i < n; i++) {
            const real *x = in + ((size_t)i * c + ch) * hw;
            const real *dy = dout + ((size_t)i * c + ch) * hw;
#pragma omp simd reduction(+ : sdy, sdyx)
            for (int j = 0; j < hw; j++) {
                sdy += dy[j];
                sdyx += dy[j] * ((x[j] - mu) * xs);
            }
        }
        if (dgamma) dgamma[ch] += (real)sdyx;
        if (dbeta) dbeta[ch] += (real)sdy;
        if (!din) continue;
        const double g = gamma ? gamma[ch] : 1.0;
        /* dx = g*is * (dy - mean(dy) - x_hat * mean(dy*x_hat)) */
        const real k = (real)(g * is), a = (real)(sdy / m), b = (real)(sdyx / m);
        const real fmu = (real)mu, fis = (real)xs;
        for (int i = 0; i < n; i++) {
            const real *x = in + ((size_t)i * c + ch) * hw;
            const real *dy = dout + ((size_t)i * c + ch) * hw;
            real *dx = din + ((size_t)i * c + ch) * hw;
            if (acc)
                for (int j = 0; j < hw; j++) dx[j] += k * (dy[j] - a - (x[j] - fmu) * fis * b);
            else
                for (int j = 0; j < hw; j++) dx[j] = k * (dy[j] - a - (x[j] - fmu) * fis * b);
        }
    }
}

void FN(batchnorm2d_forward_stats)(real *out, const real *in, const real *mean,
                                   const real *invstd, const real *gamma, const real *beta,
                                   int n, int c, int hw) {
#pragma omp parallel for schedule(static) if ((double)n * hw * c > 32768)
    for (int ch = 0; ch < c; ch++) {
        const real g = gamma ? gamma[ch] : (real)1, b = beta ? beta[ch] : (real)0;
        const real sc = invstd[ch] * g, sh = b - mean[ch] * sc;
        for (int i = 0; i < n; i++) {
            const real *x = in + ((size_t)i * c + ch) * hw;
            real *y = out + ((size_t)i * c + ch) * hw;
            for (int j = 0; j < hw; j++) y[j] = x[j] * sc + sh;
        }
    }
}
