/* nn/batchnorm2d.c: train-mode BatchNorm2d forward/backward (see nn/batchnorm2d.h).
 * Sums are accumulated in double for both precisions, each row of a plane in vector lanes
 * (omp simd reductions: a fixed order for a given build, so runs repeat bit for bit). As one
 * serial chain of double additions the statistics were 11 % of a CPU naswot pass. */
#include "nn/batchnorm2d.h"

#include <math.h>
#include <omp.h>
#include <stddef.h>

#include "base/common.h"
#include "nn/real.h"

/* Two sweeps over the tensor, one arithmetic. Planes of 16x16 and smaller in tensors of
 * 2^18 elements or more are swept in memory order, image by image, each thread through a
 * fixed block of channels: walking one channel through every image instead reads runs of
 * 256 to 1024 bytes a jump apart, which the prefetchers follow badly (forward, warm tensors,
 * 2 threads: 64 x 64 x 8x8 0.139 against 0.090 ms, 64 x 32 x 16x16 0.192 against 0.153).
 * Larger planes keep one channel at a time (64 x 16 x 32x32: 0.276 against 0.300; its
 * second pass rereads the channel from L2). Either way a channel's numbers are added in the
 * same order (its planes in image order, each plane's vector-lane sum added to the
 * channel's), so the sweep and the thread count change no bit. */
static int memory_order(int n, int c, int hw) {
    return hw <= 256 && (double)n * c * hw >= 262144;
}

/* this thread's channels [*c0, *c1): contiguous blocks, by the team's size */
static void channel_block(int c, int *c0, int *c1) {
    const int nt = omp_get_num_threads(), t = omp_get_thread_num();
    *c0 = (int)((long)c * t / nt);
    *c1 = (int)((long)c * (t + 1) / nt);
}

/* The per-plane steps both sweeps share; inlined, the same operations in the same order.
 * plane_stats: one plane's sum and sum of squares about shift, added to *s, *ss (one pass
 * in double, which keeps the variance exact to ~1e-16 relative unless |mean| >> std by
 * 1e8). */
static inline void plane_stats(const real *x, int hw, double shift, double *s, double *ss) {
    double a = *s, b = *ss;
#pragma omp simd reduction(+ : a, b)
    for (int j = 0; j < hw; j++) {
        double t = x[j] - shift;
        a += t;
        b += t * t;
    }
    *s = a;
    *ss = b;
}

/* channel ch's statistics from its sums over m elements: mean, invstd saved; *sc, *sh the
 * map y = x * sc + sh */
static inline void channel_stats(double shift, double s, double ss, double m, double eps,
                                 const real *gamma, const real *beta, int ch, real *mean,
                                 real *invstd, real *sc, real *sh) {
    const double mu = shift + s / m;
    double v = ss / m - (s / m) * (s / m);
    if (v < 0) v = 0;
    const double is = 1.0 / sqrt(v + eps);
    mean[ch] = (real)mu;
    invstd[ch] = (real)is;
    const real g = gamma ? gamma[ch] : (real)1, b = beta ? beta[ch] : (real)0;
    *sc = (real)is * g;
    *sh = b - (real)mu * *sc;
}

/* one plane's sum dy and sum dy * x_hat, x_hat = (x - mu) * xs, added to *sdy, *sdyx */
static inline void plane_grad_sums(const real *x, const real *dy, int hw, double mu, double xs,
                                   double *sdy, double *sdyx) {
    double a = *sdy, b = *sdyx;
#pragma omp simd reduction(+ : a, b)
    for (int j = 0; j < hw; j++) {
        a += dy[j];
        b += dy[j] * ((x[j] - mu) * xs);
    }
    *sdy = a;
    *sdyx = b;
}

/* one plane's dx = k * (dy - a - x_hat * b), written or (acc) added */
static inline void plane_dx(real *dx, const real *dy, const real *x, int hw, real k, real a,
                            real b, real fmu, real fis, int acc) {
    if (acc)
        for (int j = 0; j < hw; j++) dx[j] += k * (dy[j] - a - (x[j] - fmu) * fis * b);
    else
        for (int j = 0; j < hw; j++) dx[j] = k * (dy[j] - a - (x[j] - fmu) * fis * b);
}

/* batchnorm2d_forward in memory order (memory_order) */
static void forward_memory_order(real *out, real *mean, real *invstd, const real *in,
                                 const real *gamma, const real *beta, int n, int c, int hw,
                                 double eps) {
    const double m = (double)n * hw;
    double *st = mallocCheck(sizeof(double) * 3 * (size_t)c); /* shift, sum, sum of squares */
    real *map = mallocCheck(sizeof(real) * 2 * (size_t)c);     /* y = x * map[0] + map[1] */
#pragma omp parallel
    {
        int c0, c1;
        channel_block(c, &c0, &c1);
        for (int ch = c0; ch < c1; ch++) {
            st[3 * ch] = in[(size_t)ch * hw];
            st[3 * ch + 1] = st[3 * ch + 2] = 0;
        }
        for (int i = 0; i < n; i++)
            for (int ch = c0; ch < c1; ch++)
                plane_stats(in + ((size_t)i * c + ch) * hw, hw, st[3 * ch], &st[3 * ch + 1],
                            &st[3 * ch + 2]);
        for (int ch = c0; ch < c1; ch++)
            channel_stats(st[3 * ch], st[3 * ch + 1], st[3 * ch + 2], m, eps, gamma, beta, ch,
                          mean, invstd, &map[2 * ch], &map[2 * ch + 1]);
        for (int i = 0; i < n; i++)
            for (int ch = c0; ch < c1; ch++) {
                const real *x = in + ((size_t)i * c + ch) * hw;
                real *y = out + ((size_t)i * c + ch) * hw;
                const real sc = map[2 * ch], sh = map[2 * ch + 1];
                for (int j = 0; j < hw; j++) y[j] = x[j] * sc + sh;
            }
    }
    free(st);
    free(map);
}

/* batchnorm2d_backward in memory order (memory_order) */
static void backward_memory_order(real *din, real *dgamma, real *dbeta, const real *dout,
                                  const real *in, int saved_is_xhat, const real *mean,
                                  const real *invstd, const real *gamma, int n, int c, int hw,
                                  int acc) {
    const double m = (double)n * hw;
    double *st = mallocCheck(sizeof(double) * 2 * (size_t)c); /* sum dy, sum dy * x_hat */
#pragma omp parallel
    {
        int c0, c1;
        channel_block(c, &c0, &c1);
        for (int ch = c0; ch < c1; ch++) st[2 * ch] = st[2 * ch + 1] = 0;
        for (int i = 0; i < n; i++)
            for (int ch = c0; ch < c1; ch++) {
                /* x_hat = (x - mu) * is, or the saved value itself */
                const size_t p = ((size_t)i * c + ch) * hw;
                plane_grad_sums(in + p, dout + p, hw, saved_is_xhat ? 0.0 : mean[ch],
                                saved_is_xhat ? 1.0 : invstd[ch], &st[2 * ch], &st[2 * ch + 1]);
            }
        for (int ch = c0; ch < c1; ch++) {
            if (dgamma) dgamma[ch] += (real)st[2 * ch + 1];
            if (dbeta) dbeta[ch] += (real)st[2 * ch];
        }
        if (din)
            for (int i = 0; i < n; i++)
                for (int ch = c0; ch < c1; ch++) {
                    const double mu = saved_is_xhat ? 0.0 : mean[ch];
                    const double is = invstd[ch], xs = saved_is_xhat ? 1.0 : is;
                    const double g = gamma ? gamma[ch] : 1.0;
                    /* dx = g*is * (dy - mean(dy) - x_hat * mean(dy*x_hat)) */
                    const real k = (real)(g * is), a = (real)(st[2 * ch] / m);
                    const real b = (real)(st[2 * ch + 1] / m);
                    const size_t p = ((size_t)i * c + ch) * hw;
                    plane_dx(din + p, dout + p, in + p, hw, k, a, b, (real)mu, (real)xs, acc);
                }
    }
    free(st);
}

void FN(batchnorm2d_forward)(real *out, real *mean, real *invstd, const real *in,
                             const real *gamma, const real *beta, int n, int c, int hw,
                             double eps) {
    if (memory_order(n, c, hw)) {
        forward_memory_order(out, mean, invstd, in, gamma, beta, n, c, hw, eps);
        return;
    }
    const double m = (double)n * hw;
#pragma omp parallel for schedule(static) if (m * c > 8192)
    for (int ch = 0; ch < c; ch++) {
        /* the sums about a shift: the channel's first value */
        const double shift = in[(size_t)ch * hw];
        double s = 0, ss = 0;
        for (int i = 0; i < n; i++) plane_stats(in + ((size_t)i * c + ch) * hw, hw, shift, &s, &ss);
        real sc, sh;
        channel_stats(shift, s, ss, m, eps, gamma, beta, ch, mean, invstd, &sc, &sh);
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
    if (memory_order(n, c, hw)) {
        backward_memory_order(din, dgamma, dbeta, dout, in, saved_is_xhat, mean, invstd, gamma,
                              n, c, hw, acc);
        return;
    }
    const double m = (double)n * hw;
#pragma omp parallel for schedule(static) if (m * c > 8192)
    for (int ch = 0; ch < c; ch++) {
        /* x_hat = (x - mu) * is, or the saved value itself */
        const double mu = saved_is_xhat ? 0.0 : mean[ch];
        const double is = invstd[ch], xs = saved_is_xhat ? 1.0 : is;
        double sdy = 0, sdyx = 0; /* sum dy, sum dy * x_hat */
        for (int i = 0; i < n; i++) {
            const size_t p = ((size_t)i * c + ch) * hw;
            plane_grad_sums(in + p, dout + p, hw, mu, xs, &sdy, &sdyx);
        }
        if (dgamma) dgamma[ch] += (real)sdyx;
        if (dbeta) dbeta[ch] += (real)sdy;
        if (!din) continue;
        const double g = gamma ? gamma[ch] : 1.0;
        /* dx = g*is * (dy - mean(dy) - x_hat * mean(dy*x_hat)) */
        const real k = (real)(g * is), a = (real)(sdy / m), b = (real)(sdyx / m);
        for (int i = 0; i < n; i++) {
            const size_t p = ((size_t)i * c + ch) * hw;
            plane_dx(din + p, dout + p, in + p, hw, k, a, b, (real)mu, (real)xs, acc);
        }
    }
}

/* Folded backward (engine/graph_fold.h), part 1: st[q][2 ch] = sum dy and st[q][2 ch + 1] =
 * sum dy xhat_q over channel ch, for k saved outputs xhat_q read against one dy. The sweeps
 * and per-channel order of batchnorm2d_backward (each plane of dy read once, from cache for
 * q > 0), so any thread count gives the same bits. Planes of 16x16 and smaller take the
 * memory-order sweep at any tensor size: DARTS 224x224's 7x7 planes (16 x 192 x 49, under
 * memory_order's 2^18) one channel at a time took its mixes' backward 145 -> 168 ms, in
 * memory order 136-142. */
void FN(batchnorm2d_grad_sums)(double *const *st, const real *const *xhat, int k,
                               const real *dy, int n, int c, int hw) {
    if (hw <= 256) {
#pragma omp parallel if ((double)n * c * hw > 8192)
        {
            int c0, c1;
            channel_block(c, &c0, &c1);
            for (int q = 0; q < k; q++)
                for (int ch = c0; ch < c1; ch++) st[q][2 * ch] = st[q][2 * ch + 1] = 0;
            for (int i = 0; i < n; i++)
                for (int ch = c0; ch < c1; ch++) {
                    const size_t p = ((size_t)i * c + ch) * hw;
                    for (int q = 0; q < k; q++)
                        plane_grad_sums(xhat[q] + p, dy + p, hw, 0.0, 1.0, &st[q][2 * ch],
                                        &st[q][2 * ch + 1]);
                }
        }
        return;
    }
#pragma omp parallel for schedule(static) if ((double)n * hw * c > 8192)
    for (int ch = 0; ch < c; ch++) {
        for (int q = 0; q < k; q++) st[q][2 * ch] = st[q][2 * ch + 1] = 0;
        for (int i = 0; i < n; i++) {
            const size_t p = ((size_t)i * c + ch) * hw;
            for (int q = 0; q < k; q++)
                plane_grad_sums(xhat[q] + p, dy + p, hw, 0.0, 1.0, &st[q][2 * ch],
                                &st[q][2 * ch + 1]);
        }
    }
}

/* Part 2: din (+)= invstd (coef dy - coef S1 / m - xhat coef S2 / m), S1, S2 from st; the
 * same per-element arithmetic as batchnorm2d_backward's with d y = coef dy (non-affine,
 * x_hat saved). Elementwise: any split of the planes gives the same bits. */
void FN(batchnorm2d_backward_folded)(real *din, const real *dy, real coef, const real *xhat,
                                     const double *st, const real *invstd, int n, int c,
                                     int hw, int acc) {
    if (!din) return;
    const double m = (double)n * hw;
#pragma omp parallel for schedule(static) if (m * c > 8192)
    for (int pl = 0; pl < n * c; pl++) {
        const int ch = pl % c;
        const real k = invstd[ch], a = (real)(coef * st[2 * ch] / m);
        const real b = (real)(coef * st[2 * ch + 1] / m);
        const size_t p = (size_t)pl * hw;
        const real *restrict g = dy + p, *restrict x = xhat + p;
        real *restrict d = din + p;
        if (acc)
            for (int j = 0; j < hw; j++) d[j] += k * (coef * g[j] - a - x[j] * b);
        else
            for (int j = 0; j < hw; j++) d[j] = k * (coef * g[j] - a - x[j] * b);
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
