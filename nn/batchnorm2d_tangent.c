/* nn/batchnorm2d_tangent.c: directional derivatives (tangents) of train-mode BatchNorm2d's
 * forward and backward (see nn/batchnorm2d.h), batch statistics differentiated exactly: the
 * ops of the forward-over-reverse Hessian-vector product (engine/graph_hvp.c).
 *
 * Per channel, m = n * hw, x_hat = (x - mu) * is, means over (n, y, x):
 *   forward:  a = mean(tx), b = mean(x_hat tx); tmu = a; tis = -is^2 b;
 *             tx_hat = is (tx - a - x_hat b);  ty = tgamma x_hat + gamma tx_hat + tbeta.
 *   backward: dx = k P(dy), k = gamma is, P(u) = u - mean(u) - x_hat mean(x_hat u);
 *             tdx = tk P(dy) + k (tdy - mean(tdy) - tx_hat mean(x_hat dy)
 *                                 - x_hat mean(tdy x_hat + dy tx_hat)),  tk = tgamma is + gamma tis;
 *             tdgamma = sum(tdy x_hat + dy tx_hat), tdbeta = sum(tdy).
 * Sums are accumulated in double in a fixed order (one channel per thread). */
#include "nn/batchnorm2d.h"

#include <stddef.h>

#include "nn/real.h"

void FN(batchnorm2d_forward_tangent)(real *tout, real *tmean, real *tinvstd, const real *tin,
                                     const real *in, const real *mean, const real *invstd,
                                     const real *gamma, const real *tgamma, const real *tbeta,
                                     int n, int c, int hw) {
    const double m = (double)n * hw;
#pragma omp parallel for schedule(static) if (m * c > 32768)
    for (int ch = 0; ch < c; ch++) {
        const double mu = mean[ch], is = invstd[ch];
        double sa = 0, sb = 0;
        for (int i = 0; i < n; i++) {
            const real *x = in + ((size_t)i * c + ch) * hw, *tx = tin + ((size_t)i * c + ch) * hw;
#pragma omp simd reduction(+ : sa, sb)
            for (int j = 0; j < hw; j++) {
                sa += tx[j];
                sb += ((x[j] - mu) * is) * tx[j];
            }
        }
        const double a = sa / m, b = sb / m;
        tmean[ch] = (real)a;
        tinvstd[ch] = (real)(-is * is * b);
        const double g = gamma ? gamma[ch] : 1.0, tg = tgamma ? tgamma[ch] : 0.0;
        const double tb = tbeta ? tbeta[ch] : 0.0;
        for (int i = 0; i < n; i++) {
            const real *x = in + ((size_t)i * c + ch) * hw, *tx = tin + ((size_t)i * c + ch) * hw;
            real *ty = tout + ((size_t)i * c + ch) * hw;
            for (int j = 0; j < hw; j++) {
                const double xh = (x[j] - mu) * is;
                ty[j] = (real)(tg * xh + g * is * (tx[j] - a - xh * b) + tb);
            }
        }
    }
}

void FN(batchnorm2d_backward_tangent)(real *tdin, real *tdgamma, real *tdbeta, const real *dout,
                                      const real *tdout, const real *saved, const real *tsaved,
                                      int saved_is_xhat, const real *mean, const real *invstd,
                                      const real *tmean, const real *tinvstd, const real *gamma,
                                      const real *tgamma, int n, int c, int hw) {
    const double m = (double)n * hw;
#pragma omp parallel for schedule(static) if (m * c > 32768)
    for (int ch = 0; ch < c; ch++) {
        const double is = invstd[ch], tis = tinvstd[ch];
        const double mu = saved_is_xhat ? 0.0 : mean[ch], tmu = saved_is_xhat ? 0.0 : tmean[ch];
        /* x_hat and its tangent from the saved input (or the saved x_hat and its tangent) */
#define XH(v) (saved_is_xhat ? (double)(v) : ((v) - mu) * is)
#define TXH(v, tv) (saved_is_xhat ? (double)(tv) : ((tv) - tmu) * is + ((v) - mu) * tis)
        double s1 = 0, s2 = 0, t1 = 0, t2 = 0;
        for (int i = 0; i < n; i++) {
            const size_t o = ((size_t)i * c + ch) * hw;
            const real *x = saved + o, *tx = tsaved + o, *dy = dout + o, *tdy = tdout + o;
#pragma omp simd reduction(+ : s1, s2, t1, t2)
            for (int j = 0; j < hw; j++) {
                const double xh = XH(x[j]), txh = TXH(x[j], tx[j]);
                s1 += dy[j];
                s2 += dy[j] * xh;
                t1 += tdy[j];
                t2 += tdy[j] * xh + dy[j] * txh;
            }
        }
        if (tdgamma) tdgamma[ch] += (real)t2;
        if (tdbeta) tdbeta[ch] += (real)t1;
        if (!tdin) continue;
        const double g = gamma ? gamma[ch] : 1.0, tg = tgamma ? tgamma[ch] : 0.0;
        const double k = g * is, tk = tg * is + g * tis;
        const double a = s1 / m, b = s2 / m, ta = t1 / m, tb = t2 / m;
        for (int i = 0; i < n; i++) {
            const size_t o = ((size_t)i * c + ch) * hw;
            const real *x = saved + o, *tx = tsaved + o, *dy = dout + o, *tdy = tdout + o;
            real *tdx = tdin + o;
            for (int j = 0; j < hw; j++) {
                const double xh = XH(x[j]), txh = TXH(x[j], tx[j]);
                tdx[j] += (real)(tk * (dy[j] - a - xh * b) + k * (tdy[j] - ta - txh * b - xh * tb));
            }
        }
#undef XH
#undef TXH
    }
}
