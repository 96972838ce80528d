/* gpu/ops_tangent.cu: the tangent kernels of the exact Hessian-vector product (see
 * gpu/ops_tangent.cuh), instantiated for float and double. The BN rules are those of
 * nn/batchnorm2d_tangent.c: per channel, partial sums per block in double, summed in order by
 * a second kernel, then an elementwise kernel. */
#include "gpu/cuda_check.h"
#include "gpu/ops_tangent.cuh"
#include "gpu/ops_util.cuh"

#define BN_MAX_SPLIT 64
#define NSUM 4
static int bn_split(size_t m) {
    size_t sp = (m + 8191) / 8192;
    return sp < 1 ? 1 : sp > BN_MAX_SPLIT ? BN_MAX_SPLIT : (int)sp;
}
size_t op_bn_tangent_scratch(int c) { return (size_t)c * (NSUM * BN_MAX_SPLIT + 8); }

/* x_hat and its tangent at element k of channel ch */
template <typename T>
__device__ static inline void bn_xh(const T *x, const T *tx, int xhat, double mu, double is,
                                    double tmu, double tis, size_t k, double *xh, double *txh) {
    if (xhat) {
        *xh = x[k];
        *txh = tx ? (double)tx[k] : 0.0;
    } else {
        *xh = ((double)x[k] - mu) * is;
        *txh = tx ? ((double)tx[k] - tmu) * is + ((double)x[k] - mu) * tis : 0.0;
    }
}

/* channel ch = blockIdx.y, split blockIdx.x of S. Forward (dy NULL): sums tx, x_hat tx.
 * Backward: dy, dy x_hat, tdy, tdy x_hat + dy tx_hat. */
template <typename T>
__global__ void k_bn_tstats(const T *x, const T *tx, int xhat, const T *dy, const T *tdy,
                            const T *mean, const T *invstd, const T *tmean, const T *tinvstd,
                            int n, int c, int hw, double *partial) {
    const int ch = blockIdx.y, sp = blockIdx.x, S = gridDim.x;
    const size_t m = (size_t)n * hw, chunk = (m + S - 1) / S, beg = sp * chunk;
    const size_t end = beg + chunk < m ? beg + chunk : m;
    const double mu = xhat ? 0.0 : (double)mean[ch], is = xhat ? 1.0 : (double)invstd[ch];
    const double tmu = xhat || !tmean ? 0.0 : (double)tmean[ch];
    const double tis = xhat || !tinvstd ? 0.0 : (double)tinvstd[ch];
    double s[NSUM] = {0, 0, 0, 0};
    for (size_t i = beg + threadIdx.x; i < end; i += blockDim.x) {
        const size_t im = i / hw, j = i - im * hw, k = (im * c + ch) * hw + j;
        double xh, txh;
        if (!dy) { /* forward: the tangent tx itself, x_hat from x */
            bn_xh<T>(x, NULL, xhat, mu, is, 0, 0, k, &xh, &txh);
            s[0] += (double)tx[k];
            s[1] += xh * (double)tx[k];
        } else {
            bn_xh<T>(x, tx, xhat, mu, is, tmu, tis, k, &xh, &txh);
            const double g = dy[k], tg = tdy[k];
            s[0] += g;
            s[1] += g * xh;
            s[2] += tg;
            s[3] += tg * xh + g * txh;
        }
    }
    for (int q = 0; q < NSUM; q++) {
        const double v = block_sum(s[q]);
        if (threadIdx.x == 0) partial[((size_t)ch * S + sp) * NSUM + q] = v;
    }
}

/* coef[ch * NSUM + q] = sum q / m; forward also the statistics' tangents, backward d gamma
 * and d beta tangents */
template <typename T>
__global__ void k_bn_tfin(const double *partial, int S, int c, double m, int fwd,
                          const T *invstd, T *tmean, T *tinvstd, T *tdgamma, T *tdbeta,
                          double *coef) {
    const int ch = blockIdx.x * blockDim.x + threadIdx.x;
    if (ch >= c) return;
    double t[NSUM] = {0, 0, 0, 0};
    for (int k = 0; k < S; k++)
        for (int q = 0; q < NSUM; q++) t[q] += partial[((size_t)ch * S + k) * NSUM + q];
    for (int q = 0; q < NSUM; q++) coef[ch * NSUM + q] = t[q] / m;
    if (fwd) {
        const double is = invstd[ch];
        tmean[ch] = (T)(t[0] / m);
        tinvstd[ch] = (T)(-is * is * (t[1] / m));
    } else {
        if (tdgamma) tdgamma[ch] += (T)t[3];
        if (tdbeta) tdbeta[ch] += (T)t[2];
    }
}

template <typename T>
__global__ void k_bn_tapply_fwd(T *ty, const T *tx, const T *x, const T *mean, const T *invstd,
                                const T *gamma, const T *tgamma, const T *tbeta,
                                const double *coef, int c, int hw, size_t n) {
    GRID_STRIDE(i, n) {
        const int ch = (int)((i / hw) % c);
        const double is = invstd[ch], xh = ((double)x[i] - (double)mean[ch]) * is;
        const double g = gamma ? (double)gamma[ch] : 1.0, tg = tgamma ? (double)tgamma[ch] : 0.0;
        const double tb = tbeta ? (double)tbeta[ch] : 0.0;
        const double a = coef[ch * NSUM], b = coef[ch * NSUM + 1];
        ty[i] = (T)(tg * xh + g * is * ((double)tx[i] - a - xh * b) + tb);
    }
}

template <typename T>
__global__ void k_bn_tapply_bwd(T *tdx, const T *dy, const T *tdy, const T *x, const T *tx,
                                int xhat, const T *mean, const T *invstd, const T *tmean,
                                const T *tinvstd, const T *gamma, const T *tgamma,
                                const double *coef, int c, int hw, size_t n) {
    GRID_STRIDE(i, n) {
        const int ch = (int)((i / hw) % c);
        const double is = invstd[ch], tis = tinvstd[ch];
        const double mu = xhat ? 0.0 : (double)mean[ch], tmu = xhat ? 0.0 : (double)tmean[ch];
        double xh, txh;
        bn_xh<T>(x, tx, xhat, mu, xhat ? 1.0 : is, tmu, xhat ? 0.0 : tis, i, &xh, &txh);
        const double g = gamma ? (double)gamma[ch] : 1.0, tg = tgamma ? (double)tgamma[ch] : 0.0;
        const double k = g * is, tk = tg * is + g * tis;
        const double a = coef[ch * NSUM], b = coef[ch * NSUM + 1];
        const double ta = coef[ch * NSUM + 2], tb = coef[ch * NSUM + 3];
        tdx[i] += (T)(tk * ((double)dy[i] - a - xh * b) +
                      k * ((double)tdy[i] - ta - txh * b - xh * tb));
    }
}

template <typename T>
void op_bn_fwd_tangent(cudaStream_t s, T *ty, T *tmean, T *tinvstd, const T *tx, const T *x,
                       const T *mean, const T *invstd, const T *gamma, const T *tgamma,
                       const T *tbeta, int n, int c, int hw, double *scratch) {
    const size_t m = (size_t)n * hw;
    const int S = bn_split(m);
    double *coef = scratch + (size_t)c * NSUM * BN_MAX_SPLIT;
    k_bn_tstats<T><<<dim3(S, c), NT, 0, s>>>(x, tx, 0, NULL, NULL, mean, invstd, NULL, NULL, n,
                                             c, hw, scratch);
    cudaCheckLaunch();
    k_bn_tfin<T><<<(c + 127) / 128, 128, 0, s>>>(scratch, S, c, (double)m, 1, invstd, tmean,
                                                  tinvstd, NULL, NULL, coef);
    cudaCheckLaunch();
    k_bn_tapply_fwd<T><<<grid_for(m * c), NT, 0, s>>>(ty, tx, x, mean, invstd, gamma, tgamma,
                                                      tbeta, coef, c, hw, m * c);
    cudaCheckLaunch();
}

template <typename T>
void op_bn_bwd_tangent(cudaStream_t s, T *tdx, T *tdgamma, T *tdbeta, const T *dy, const T *tdy,
                       const T *x, const T *tx, int saved_is_xhat, const T *mean,
                       const T *invstd, const T *tmean, const T *tinvstd, const T *gamma,
                       const T *tgamma, int n, int c, int hw, double *scratch) {
    const size_t m = (size_t)n * hw;
    const int S = bn_split(m);
    double *coef = scratch + (size_t)c * NSUM * BN_MAX_SPLIT;
    k_bn_tstats<T><<<dim3(S, c), NT, 0, s>>>(x, tx, saved_is_xhat, dy, tdy, mean, invstd, tmean,
                                             tinvstd, n, c, hw, scratch);
    cudaCheckLaunch();
    k_bn_tfin<T><<<(c + 127) / 128, 128, 0, s>>>(scratch, S, c, (double)m, 0, invstd, NULL, NULL,
                                                  tdgamma, tdbeta, coef);
    cudaCheckLaunch();
    if (!tdx) return;
    k_bn_tapply_bwd<T><<<grid_for(m * c), NT, 0, s>>>(tdx, dy, tdy, x, tx, saved_is_xhat, mean,
                                                      invstd, tmean, tinvstd, gamma, tgamma,
                                                      coef, c, hw, m * c);
    cudaCheckLaunch();
}

template <typename T> __global__ void k_relu_tfwd(T *ty, const T *tx, const T *x, size_t n) {
    GRID_STRIDE(i, n) ty[i] = x[i] > 0 ? tx[i] : (T)0;
}
template <typename T> void op_relu_fwd_tangent(cudaStream_t s, T *ty, const T *tx, const T *x, size_t n) {
    k_relu_tfwd<T><<<grid_for(n), NT, 0, s>>>(ty, tx, x, n);
    cudaCheckLaunch();
}

/* one output per thread: the first maximum of its in-image window (nn/pool2d.c's rule) */
template <typename T>
__global__ void k_maxpool_tfwd(T *ty, const T *tx, const T *x, int h, int w, int k, int st,
                               int pad, int ho, int wo, size_t n) {
    GRID_STRIDE(i, n) {
        const int ox = (int)(i % wo), oy = (int)((i / wo) % ho);
        const size_t p = i / ((size_t)wo * ho);
        const T *src = x + p * h * w;
        int y0 = oy * st - pad, x0 = ox * st - pad, y1 = y0 + k, x1 = x0 + k;
        if (y0 < 0) y0 = 0;
        if (x0 < 0) x0 = 0;
        if (y1 > h) y1 = h;
        if (x1 > w) x1 = w;
        int best = y0 * w + x0;
        for (int yy = y0; yy < y1; yy++)
            for (int xx = x0; xx < x1; xx++)
                if (src[yy * w + xx] > src[best]) best = yy * w + xx;
        ty[i] = tx[p * h * w + best];
    }
}
template <typename T>
void op_maxpool_fwd_tangent(cudaStream_t s, T *ty, const T *tx, const T *x, int planes, int h,
                            int w, int k, int st, int pad, int ho, int wo) {
    const size_t n = (size_t)planes * ho * wo;
    k_maxpool_tfwd<T><<<grid_for(n), NT, 0, s>>>(ty, tx, x, h, w, k, st, pad, ho, wo, n);
    cudaCheckLaunch();
}

template <typename T>
__global__ void k_mix_tadd(T *y, const op_mix_args a, const T *talpha, size_t n) {
    GRID_STRIDE(i, n) {
        T acc = y[i];
        for (int j = 0; j < a.k; j++)
            if (a.aidx[j] >= 0) acc += mix_coef(a, talpha, j, i) * ((const T *)a.in[j])[i];
        y[i] = acc;
    }
}
template <typename T>
void op_mix_add_tangent(cudaStream_t s, T *y, const op_mix_args *a, const T *talpha, size_t n) {
    if (a->k == 0) return;
    k_mix_tadd<T><<<grid_for(n), NT, 0, s>>>(y, *a, talpha, n);
    cudaCheckLaunch();
}

#define INSTANTIATE(T)                                                                          \
    template void op_bn_fwd_tangent<T>(cudaStream_t, T *, T *, T *, const T *, const T *,       \
                                       const T *, const T *, const T *, const T *, const T *,   \
                                       int, int, int, double *);                                \
    template void op_bn_bwd_tangent<T>(cudaStream_t, T *, T *, T *, const T *, const T *,       \
                                       const T *, const T *, int, const T *, const T *,         \
                                       const T *, const T *, const T *, const T *, int, int,    \
                                       int, double *);                                          \
    template void op_relu_fwd_tangent<T>(cudaStream_t, T *, const T *, const T *, size_t);      \
    template void op_maxpool_fwd_tangent<T>(cudaStream_t, T *, const T *, const T *, int, int,  \
                                            int, int, int, int, int, int);                      \
    template void op_mix_add_tangent<T>(cudaStream_t, T *, const op_mix_args *, const T *, size_t);
INSTANTIATE(float)
INSTANTIATE(double)
