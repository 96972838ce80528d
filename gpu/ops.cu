/* gpu/ops.cu: the executor's own CUDA kernels (see gpu/ops.cuh), instantiated for float and
 * double. Elementwise kernels (ReLU, eval-mode BN, per-sample scale) use grid-stride loops;
 * per-channel and per-input reductions write one double partial per block and a second
 * kernel sums the partials in order. */
#include "gpu/cuda_check.h"
#include "gpu/ops.cuh"
#include "gpu/ops_util.cuh"

/* ------------------------------------------------------------------ elementwise ---------- */
template <typename T> __global__ void k_relu_fwd(T *y, const T *x, size_t n) {
    GRID_STRIDE(i, n) y[i] = x[i] > 0 ? x[i] : (T)0;
}
template <typename T> __global__ void k_relu_bwd(T *dx, const T *dy, const T *x, size_t n) {
    GRID_STRIDE(i, n) if (x[i] > 0) dx[i] += dy[i];
}
template <typename T>
__global__ void k_relu_mask_fwd(T *y, const T *x, unsigned char *m, size_t n, int record) {
    GRID_STRIDE(i, n) {
        if (record) m[i] = x[i] > 0;
        y[i] = m[i] ? x[i] : (T)0;
    }
}
template <typename T>
__global__ void k_relu_mask_bwd(T *dx, const T *dy, const unsigned char *m, size_t n) {
    GRID_STRIDE(i, n) if (m[i]) dx[i] += dy[i];
}
template <typename T> __global__ void k_add(T *d, const T *s, size_t n) {
    GRID_STRIDE(i, n) d[i] += s[i];
}
template <typename T>
__global__ void k_add_2d(T *d, size_t dp, const T *s, size_t sp, size_t width, size_t n) {
    GRID_STRIDE(i, n) {
        const size_t r = i / width, j = i - r * width;
        d[r * dp + j] += s[r * sp + j];
    }
}

template <typename T> void op_relu_fwd(cudaStream_t s, T *y, const T *x, size_t n) {
    k_relu_fwd<T><<<grid_for(n), NT, 0, s>>>(y, x, n);
    cudaCheckLaunch();
}
template <typename T> void op_relu_bwd(cudaStream_t s, T *dx, const T *dy, const T *x, size_t n) {
    k_relu_bwd<T><<<grid_for(n), NT, 0, s>>>(dx, dy, x, n);
    cudaCheckLaunch();
}
template <typename T>
void op_relu_mask_fwd(cudaStream_t s, T *y, const T *x, unsigned char *m, size_t n, int record) {
    k_relu_mask_fwd<T><<<grid_for(n), NT, 0, s>>>(y, x, m, n, record);
    cudaCheckLaunch();
}
template <typename T>
void op_relu_mask_bwd(cudaStream_t s, T *dx, const T *dy, const unsigned char *m, size_t n) {
    k_relu_mask_bwd<T><<<grid_for(n), NT, 0, s>>>(dx, dy, m, n);
    cudaCheckLaunch();
}
template <typename T> void op_add(cudaStream_t s, T *d, const T *src, size_t n) {
    k_add<T><<<grid_for(n), NT, 0, s>>>(d, src, n);
    cudaCheckLaunch();
}
template <typename T>
void op_add_2d(cudaStream_t s, T *d, size_t dp, const T *src, size_t sp, size_t width, int rows) {
    const size_t n = width * (size_t)rows;
    k_add_2d<T><<<grid_for(n), NT, 0, s>>>(d, dp, src, sp, width, n);
    cudaCheckLaunch();
}

/* ------------------------------------------------------------------ batch norm ----------- */
#define BN_MAX_SPLIT 64
static int bn_split(size_t m) {
    size_t sp = (m + 8191) / 8192;
    return sp < 1 ? 1 : sp > BN_MAX_SPLIT ? BN_MAX_SPLIT : (int)sp;
}
size_t op_bn_scratch(int c) { return (size_t)c * (2 * BN_MAX_SPLIT + 3); }

/* channel ch = blockIdx.y, split blockIdx.x of S: sums about `shift` (fwd: x - shift and its
 * square; bwd: dy and dy * x_hat) */
template <typename T>
__global__ void k_bn_stats(const T *x, const T *dy, const T *mean, const T *invstd, int xhat,
                           int n, int c, int hw, double *partial) {
    const int ch = blockIdx.y, sp = blockIdx.x, S = gridDim.x;
    const size_t m = (size_t)n * hw, chunk = (m + S - 1) / S, beg = sp * chunk;
    const size_t end = beg + chunk < m ? beg + chunk : m;
    double a = 0, b = 0;
    if (!dy) { /* forward */
        const double shift = x[(size_t)ch * hw];
        for (size_t i = beg + threadIdx.x; i < end; i += blockDim.x) {
            const size_t im = i / hw, j = i - im * hw;
            const double t = (double)x[(im * c + ch) * hw + j] - shift;
            a += t;
            b += t * t;
        }
    } else {
        const double mu = xhat ? 0.0 : (double)mean[ch];
        const double xs = xhat ? 1.0 : (double)invstd[ch];
        for (size_t i = beg + threadIdx.x; i < end; i += blockDim.x) {
            const size_t im = i / hw, j = i - im * hw, k = (im * c + ch) * hw + j;
            const double g = dy[k];
            a += g;
            b += g * (((double)x[k] - mu) * xs);
        }
    }
    a = block_sum(a);
    b = block_sum(b);
    if (threadIdx.x == 0) {
        partial[((size_t)ch * S + sp) * 2] = a;
        partial[((size_t)ch * S + sp) * 2 + 1] = b;
    }
}

template <typename T>
__global__ void k_bn_fin_fwd(const double *partial, int S, const T *x, int c, int hw, double m,
                             double eps, T *mean, T *invstd) {
    const int ch = blockIdx.x * blockDim.x + threadIdx.x;
    if (ch >= c) return;
    double s = 0, ss = 0;
    for (int k = 0; k < S; k++) {
        s += partial[((size_t)ch * S + k) * 2];
        ss += partial[((size_t)ch * S + k) * 2 + 1];
    }
    const double mu = (double)x[(size_t)ch * hw] + s / m;
    double v = ss / m - (s / m) * (s / m);
    if (v < 0) v = 0;
    mean[ch] = (T)mu;
    invstd[ch] = (T)(1.0 / sqrt(v + eps));
}

template <typename T>
__global__ void k_bn_apply(T *y, const T *x, const T *mean, const T *invstd, const T *gamma,
                           const T *beta, int c, int hw, size_t n) {
    GRID_STRIDE(i, n) {
        const int ch = (int)((i / hw) % c);
        const T g = gamma ? gamma[ch] : (T)1, b = beta ? beta[ch] : (T)0;
        const T sc = invstd[ch] * g, sh = b - mean[ch] * sc;
        y[i] = x[i] * sc + sh;
    }
}

/* coef[ch] = {g * is, mean(dy), mean(dy * x_hat)}; d gamma, d beta accumulated */
template <typename T>
__global__ void k_bn_fin_bwd(const double *partial, int S, int c, double m, const T *invstd,
                             const T *gamma, T *dgamma, T *dbeta, double *coef) {
    const int ch = blockIdx.x * blockDim.x + threadIdx.x;
    if (ch >= c) return;
    double sdy = 0, sdyx = 0;
    for (int k = 0; k < S; k++) {
        sdy += partial[((size_t)ch * S + k) * 2];
        sdyx += partial[((size_t)ch * S + k) * 2 + 1];
    }
    if (dgamma) dgamma[ch] += (T)sdyx;
    if (dbeta) dbeta[ch] += (T)sdy;
    const double g = gamma ? (double)gamma[ch] : 1.0;
    coef[ch * 3] = g * (double)invstd[ch];
    coef[ch * 3 + 1] = sdy / m;
    coef[ch * 3 + 2] = sdyx / m;
}

template <typename T>
__global__ void k_bn_apply_bwd(T *dx, const T *dy, const T *x, int xhat, const T *mean,
                               const T *invstd, const double *coef, int c, int hw, size_t n) {
    GRID_STRIDE(i, n) {
        const int ch = (int)((i / hw) % c);
        const T k = (T)coef[ch * 3], a = (T)coef[ch * 3 + 1], b = (T)coef[ch * 3 + 2];
        const T fmu = xhat ? (T)0 : mean[ch], fis = xhat ? (T)1 : invstd[ch];
        dx[i] += k * (dy[i] - a - (x[i] - fmu) * fis * b);
    }
}

template <typename T>
void op_bn_fwd(cudaStream_t s, T *y, T *mean, T *invstd, const T *x, const T *gamma,
               const T *beta, int n, int c, int hw, double eps, double *scratch) {
    const size_t m = (size_t)n * hw;
    const int S = bn_split(m);
    k_bn_stats<T><<<dim3(S, c), NT, 0, s>>>(x, NULL, NULL, NULL, 0, n, c, hw, scratch);
    cudaCheckLaunch();
    k_bn_fin_fwd<T><<<(c + 127) / 128, 128, 0, s>>>(scratch, S, x, c, hw, (double)m, eps, mean, invstd);
    cudaCheckLaunch();
    k_bn_apply<T><<<grid_for(m * c), NT, 0, s>>>(y, x, mean, invstd, gamma, beta, c, hw, m * c);
    cudaCheckLaunch();
}

template <typename T>
void op_bn_bwd(cudaStream_t s, T *dx, T *dgamma, T *dbeta, const T *dy, const T *x,
               int saved_is_xhat, const T *mean, const T *invstd, const T *gamma, int n, int c,
               int hw, double *scratch) {
    const size_t m = (size_t)n * hw;
    const int S = bn_split(m);
    double *coef = scratch + (size_t)c * 2 * BN_MAX_SPLIT;
    k_bn_stats<T><<<dim3(S, c), NT, 0, s>>>(x, dy, mean, invstd, saved_is_xhat, n, c, hw, scratch);
    cudaCheckLaunch();
    k_bn_fin_bwd<T><<<(c + 127) / 128, 128, 0, s>>>(scratch, S, c, (double)m, invstd, gamma,
                                                     dgamma, dbeta, coef);
    cudaCheckLaunch();
    if (!dx) return;
    k_bn_apply_bwd<T><<<grid_for(m * c), NT, 0, s>>>(dx, dy, x, saved_is_xhat, mean, invstd,
                                                      coef, c, hw, m * c);
    cudaCheckLaunch();
}

template <typename T>
void op_bn_eval_fwd(cudaStream_t s, T *y, const T *x, const T *mean, const T *invstd,
                    const T *gamma, const T *beta, int n, int c, int hw) {
    const size_t m = (size_t)n * hw * c;
    k_bn_apply<T><<<grid_for(m), NT, 0, s>>>(y, x, mean, invstd, gamma, beta, c, hw, m);
    cudaCheckLaunch();
}

/* ------------------------------------------------------------------ per-sample scale ----- */
template <typename T>
__global__ void k_scale_n(T *y, const T *x, const T *sc, size_t per, int acc, size_t n) {
    GRID_STRIDE(i, n) {
        const T v = x[i] * sc[i / per];
        if (acc) y[i] += v;
        else y[i] = v;
    }
}
template <typename T>
void op_scale_n_fwd(cudaStream_t s, T *y, const T *x, const T *sc, int n, size_t per) {
    const size_t m = (size_t)n * per;
    k_scale_n<T><<<grid_for(m), NT, 0, s>>>(y, x, sc, per, 0, m);
    cudaCheckLaunch();
}
template <typename T>
void op_scale_n_bwd(cudaStream_t s, T *dx, const T *dy, const T *sc, int n, size_t per) {
    const size_t m = (size_t)n * per;
    k_scale_n<T><<<grid_for(m), NT, 0, s>>>(dx, dy, sc, per, 1, m);
    cudaCheckLaunch();
}

/* ------------------------------------------------------------------ mixed op ------------- */
#define MIX_MAX_BLOCKS 256
size_t op_mix_scratch(int k, int models) {
    return (size_t)(k > 0 ? k : 1) * (size_t)(models > 0 ? models : 1) * MIX_MAX_BLOCKS;
}

template <typename T>
__global__ void k_mix_fwd(T *y, const op_mix_args a, const T *alpha, size_t n) {
    __shared__ T cs[FN_MAX_IN];
    for (int j = threadIdx.x; j < a.k; j += blockDim.x) cs[j] = a.aidx[j] >= 0 ? alpha[a.aidx[j]] : (T)1;
    __syncthreads();
    if (a.models > 1) { /* coefficients of each element's model (engine/graph_stack.h) */
        GRID_STRIDE(i, n) {
            T acc = mix_coef(a, alpha, 0, i) * ((const T *)a.in[0])[i];
            for (int j = 1; j < a.k; j++) acc += mix_coef(a, alpha, j, i) * ((const T *)a.in[j])[i];
            y[i] = acc;
        }
        return;
    }
    GRID_STRIDE(i, n) {
        T acc = cs[0] * ((const T *)a.in[0])[i];
        for (int j = 1; j < a.k; j++) acc += cs[j] * ((const T *)a.in[j])[i];
        y[i] = acc;
    }
}

/* input j = j0 + blockIdx.y, model m = blockIdx.z: din[j] += c dy and partial[m][j][blockIdx.x]
 * = this block's <dy, x_j> over model m's elements (all of them when models = 1): element q
 * of model m is sample q / seg, offset q % seg, at (sample * models + m) * seg + offset */
template <typename T>
__global__ void k_mix_bwd(const op_mix_args a, int j0, int da_on, const T *dy, const T *alpha,
                          size_t n, double *partial) {
    const int j = j0 + blockIdx.y, m = blockIdx.z;
    const T *x = (const T *)a.in[j];
    T *dx = (T *)a.din[j];
    const int da = da_on && a.aidx[j] >= 0;
    const T c = a.aidx[j] >= 0 ? alpha[(size_t)m * a.model_alpha + a.aidx[j]] : (T)1;
    double s = 0;
    for (size_t q = (size_t)blockIdx.x * blockDim.x + threadIdx.x; q < n; q += (size_t)gridDim.x * blockDim.x) {
        const size_t i = a.models > 1 ? (q / a.seg * a.models + m) * a.seg + q % a.seg : q;
        const T g = dy[i];
        if (da) s += (double)g * x[i];
        if (dx) dx[i] += c * g;
    }
    if (!da) return;
    s = block_sum(s);
    if (threadIdx.x == 0) partial[((size_t)m * a.k + j) * gridDim.x + blockIdx.x] = s;
}

/* model m = blockIdx.x: its d alpha from its partial sums */
template <typename T>
__global__ void k_mix_fin(const op_mix_args a, T *dalpha, int nb, const double *partial) {
    __shared__ double sums[FN_MAX_IN];
    const int j = threadIdx.x, m = blockIdx.x;
    if (j < a.k && a.aidx[j] >= 0) {
        double s = 0;
        for (int b = 0; b < nb; b++) s += partial[((size_t)m * a.k + j) * nb + b];
        sums[j] = s;
    }
    __syncthreads();
    T *da = dalpha + (size_t)m * a.model_alpha;
    if (j == 0) /* in input order, one thread: inputs sharing an alpha add up as on the CPU */
        for (int k = 0; k < a.k; k++)
            if (a.aidx[k] >= 0) da[a.aidx[k]] += (T)sums[k];
}

template <typename T>
void op_mix_fwd(cudaStream_t s, T *y, const op_mix_args *a, const T *alpha, size_t n) {
    if (a->k == 0) {
        cudaCheck(cudaMemsetAsync(y, 0, sizeof(T) * n, s));
        return;
    }
    k_mix_fwd<T><<<grid_for(n), NT, 0, s>>>(y, *a, alpha, n);
    cudaCheckLaunch();
}

template <typename T>
void op_mix_bwd(cudaStream_t s, const op_mix_args *a, T *dalpha, const T *dy, const T *alpha,
                size_t n, double *scratch) {
    if (a->k == 0) return;
    const unsigned models = a->models > 1 ? (unsigned)a->models : 1;
    n /= models; /* each model's elements */
    size_t nb = (n + 4 * NT - 1) / (4 * NT);
    if (nb > MIX_MAX_BLOCKS) nb = MIX_MAX_BLOCKS;
    if (nb < 1) nb = 1;
    /* inputs whose gradients alias (the same tensor twice) must not run concurrently */
    int dup = 0;
    for (int i = 0; i < a->k && !dup; i++)
        for (int j = i + 1; j < a->k; j++)
            if (a->din[i] && a->din[i] == a->din[j]) dup = 1;
    if (dup)
        for (int j = 0; j < a->k; j++) {
            k_mix_bwd<T><<<dim3((unsigned)nb, 1, models), NT, 0, s>>>(*a, j, dalpha != NULL, dy, alpha, n, scratch);
            cudaCheckLaunch();
        }
    else {
        k_mix_bwd<T><<<dim3((unsigned)nb, a->k, models), NT, 0, s>>>(*a, 0, dalpha != NULL, dy, alpha, n, scratch);
        cudaCheckLaunch();
    }
    if (!dalpha) return;
    k_mix_fin<T><<<models, FN_MAX_IN, 0, s>>>(*a, dalpha, (int)nb, scratch);
    cudaCheckLaunch();
}

/* ------------------------------------------------------------------ subsample, pooling --- */
template <typename T>
__global__ void k_subsample(T *y, const T *x, int bwd, int h, int w, int off, int st, int ho,
                            int wo, size_t n) {
    GRID_STRIDE(i, n) {
        const int ox = (int)(i % wo), oy = (int)((i / wo) % ho);
        const size_t p = i / ((size_t)wo * ho);
        const int iy = off + oy * st, ix = off + ox * st;
        const bool in = iy < h && ix < w;
        if (!bwd) y[i] = in ? x[(p * h + iy) * w + ix] : (T)0;
        else if (in) y[(p * h + iy) * w + ix] += x[i]; /* y = dx, x = dy */
    }
}
template <typename T>
void op_subsample_fwd(cudaStream_t s, T *y, const T *x, int planes, int h, int w, int off, int st,
                      int ho, int wo) {
    const size_t n = (size_t)planes * ho * wo;
    k_subsample<T><<<grid_for(n), NT, 0, s>>>(y, x, 0, h, w, off, st, ho, wo, n);
    cudaCheckLaunch();
}
template <typename T>
void op_subsample_bwd(cudaStream_t s, T *dx, const T *dy, int planes, int h, int w, int off,
                      int st, int ho, int wo) {
    const size_t n = (size_t)planes * ho * wo;
    k_subsample<T><<<grid_for(n), NT, 0, s>>>(dx, dy, 1, h, w, off, st, ho, wo, n);
    cudaCheckLaunch();
}

/* one warp per plane */
template <typename T> __global__ void k_gap_fwd(T *y, const T *x, int planes, int hw) {
    const int p = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32, lane = threadIdx.x & 31;
    if (p >= planes) return;
    double s = 0;
    for (int j = lane; j < hw; j += 32) s += x[(size_t)p * hw + j];
    for (int o = 16; o > 0; o >>= 1) s += __shfl_down_sync(0xffffffffu, s, o);
    if (lane == 0) y[p] = (T)(s / hw);
}
template <typename T> __global__ void k_gap_bwd(T *dx, const T *dy, int hw, size_t n) {
    GRID_STRIDE(i, n) dx[i] += dy[i / hw] / (T)hw;
}
template <typename T> void op_gap_fwd(cudaStream_t s, T *y, const T *x, int planes, int hw) {
    k_gap_fwd<T><<<(planes + NT / 32 - 1) / (NT / 32), NT, 0, s>>>(y, x, planes, hw);
    cudaCheckLaunch();
}
template <typename T> void op_gap_bwd(cudaStream_t s, T *dx, const T *dy, int planes, int hw) {
    const size_t n = (size_t)planes * hw;
    k_gap_bwd<T><<<grid_for(n), NT, 0, s>>>(dx, dy, hw, n);
    cudaCheckLaunch();
}

template <typename T>
__global__ void k_maxpool_bwd(T *dx, const T *dy, const T *x, int h, int w, int k, int st,
                              int pad, int ho, int wo, size_t n) {
    GRID_STRIDE(i, n) {
        const int ix = (int)(i % w), iy = (int)((i / w) % h);
        const size_t p = i / ((size_t)w * h);
        const T *src = x + p * h * w;
        const int me = iy * w + ix;
        const int ty = iy + pad - (k - 1), tx = ix + pad - (k - 1);
        const int oy0 = ty <= 0 ? 0 : (ty + st - 1) / st, ox0 = tx <= 0 ? 0 : (tx + st - 1) / st;
        int oy1 = (iy + pad) / st, ox1 = (ix + pad) / st;
        if (oy1 > ho - 1) oy1 = ho - 1;
        if (ox1 > wo - 1) ox1 = wo - 1;
        T acc = dx[i]; /* added in output order, as the CPU scatter does */
        for (int oy = oy0; oy <= oy1; oy++)
            for (int ox = ox0; ox <= ox1; ox++) {
                int y0 = oy * st - pad, x0 = ox * st - pad, y1 = y0 + k, x1 = x0 + k;
                if (y0 < 0) y0 = 0;
                if (x0 < 0) x0 = 0;
                if (y1 > h) y1 = h;
                if (x1 > w) x1 = w;
                int best = y0 * w + x0;
                for (int yy = y0; yy < y1; yy++)
                    for (int xx = x0; xx < x1; xx++)
                        if (src[yy * w + xx] > src[best]) best = yy * w + xx;
                if (best == me) acc += dy[(p * ho + oy) * wo + ox];
            }
        dx[i] = acc;
    }
}
template <typename T>
void op_maxpool_bwd(cudaStream_t s, T *dx, const T *dy, const T *x, int planes, int h, int w,
                    int k, int st, int pad, int ho, int wo) {
    const size_t n = (size_t)planes * h * w;
    k_maxpool_bwd<T><<<grid_for(n), NT, 0, s>>>(dx, dy, x, h, w, k, st, pad, ho, wo, n);
    cudaCheckLaunch();
}

/* ------------------------------------------------------------------ linear helpers ------- */
template <typename T> __global__ void k_bias_fill(T *y, const T *b, int f, size_t n) {
    GRID_STRIDE(i, n) y[i] = b ? b[i % f] : (T)0;
}
template <typename T> __global__ void k_bias_grad(T *db, const T *dy, int n, int f) {
    const int o = blockIdx.x * blockDim.x + threadIdx.x;
    if (o >= f) return;
    T acc = db[o];
    for (int i = 0; i < n; i++) acc += dy[(size_t)i * f + o];
    db[o] = acc;
}
template <typename T> void op_bias_fill(cudaStream_t s, T *y, const T *b, int n, int f) {
    const size_t m = (size_t)n * f;
    k_bias_fill<T><<<grid_for(m), NT, 0, s>>>(y, b, f, m);
    cudaCheckLaunch();
}
template <typename T> void op_bias_grad(cudaStream_t s, T *db, const T *dy, int n, int f) {
    k_bias_grad<T><<<(f + NT - 1) / NT, NT, 0, s>>>(db, dy, n, f);
    cudaCheckLaunch();
}

/* ------------------------------------------------------------------ instantiations ------- */
#define INSTANTIATE(T)                                                                          \
    template void op_relu_fwd<T>(cudaStream_t, T *, const T *, size_t);                        \
    template void op_relu_bwd<T>(cudaStream_t, T *, const T *, const T *, size_t);             \
    template void op_relu_mask_fwd<T>(cudaStream_t, T *, const T *, unsigned char *, size_t, int); \
    template void op_relu_mask_bwd<T>(cudaStream_t, T *, const T *, const unsigned char *, size_t); \
    template void op_add<T>(cudaStream_t, T *, const T *, size_t);                             \
    template void op_add_2d<T>(cudaStream_t, T *, size_t, const T *, size_t, size_t, int);     \
    template void op_bn_fwd<T>(cudaStream_t, T *, T *, T *, const T *, const T *, const T *, int, \
                               int, int, double, double *);                                    \
    template void op_bn_bwd<T>(cudaStream_t, T *, T *, T *, const T *, const T *, int, const T *, \
                               const T *, const T *, int, int, int, double *);                 \
    template void op_bn_eval_fwd<T>(cudaStream_t, T *, const T *, const T *, const T *,       \
                                    const T *, const T *, int, int, int);                      \
    template void op_scale_n_fwd<T>(cudaStream_t, T *, const T *, const T *, int, size_t);     \
    template void op_scale_n_bwd<T>(cudaStream_t, T *, const T *, const T *, int, size_t);     \
    template void op_mix_fwd<T>(cudaStream_t, T *, const op_mix_args *, const T *, size_t);    \
    template void op_mix_bwd<T>(cudaStream_t, const op_mix_args *, T *, const T *, const T *,  \
                                size_t, double *);                                             \
    template void op_subsample_fwd<T>(cudaStream_t, T *, const T *, int, int, int, int, int, int, \
                                      int);                                                    \
    template void op_subsample_bwd<T>(cudaStream_t, T *, const T *, int, int, int, int, int, int, \
                                      int);                                                    \
    template void op_gap_fwd<T>(cudaStream_t, T *, const T *, int, int);                       \
    template void op_gap_bwd<T>(cudaStream_t, T *, const T *, int, int);                       \
    template void op_maxpool_bwd<T>(cudaStream_t, T *, const T *, const T *, int, int, int, int, \
                                    int, int, int, int);                                       \
    template void op_bias_fill<T>(cudaStream_t, T *, const T *, int, int);                     \
    template void op_bias_grad<T>(cudaStream_t, T *, const T *, int, int);
INSTANTIATE(float)
INSTANTIATE(double)
