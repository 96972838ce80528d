/* nn/conv2d.c: CPU convolution by im2col + OpenBLAS GEMM (see nn/conv2d.h).
 *
 * Images are split over OpenMP threads, each with its own column buffer; OpenBLAS runs
 * single-threaded (nn/common.c). A single image (SynFlow's batch of one) instead splits the
 * GEMM's columns over the threads. */
#include "nn/conv2d.h"

#include <omp.h>
#include <string.h>

#include "nn/common.h"
#include "nn/real.h"


#if !FN_REAL_DOUBLE /* precision-independent helpers: defined once, in the f32 object */
int conv2d_dims_init(conv2d_dims *d) {
    if (d->n <= 0 || d->cin <= 0 || d->h <= 0 || d->w <= 0 || d->cout <= 0 || d->k <= 0 ||
        d->stride <= 0 || d->pad < 0 || d->dil <= 0 || d->groups <= 0)
        return -1;
    if (d->cin % d->groups || d->cout % d->groups) return -1;
    int ek = d->dil * (d->k - 1) + 1;
    d->ho = (d->h + 2 * d->pad - ek) / d->stride + 1;
    d->wo = (d->w + 2 * d->pad - ek) / d->stride + 1;
    return (d->ho > 0 && d->wo > 0) ? 0 : -1;
}

size_t conv2d_workspace(const conv2d_dims *d) {
    /* one column matrix [kk, ho*wo] per thread */
    size_t kk = (size_t)(d->cin / d->groups) * d->k * d->k;
    return (size_t)omp_get_max_threads() * kk * d->ho * d->wo;
}

double conv2d_flops(const conv2d_dims *d) {
    return 2.0 * d->n * d->cout * (double)d->ho * d->wo * (d->cin / d->groups) * d->k * d->k;
}
#endif

/* C[M, N] = op(A)[M, K] * B[K, N] + beta C with N split over the OpenMP threads. */
static void gemm_cols(CBLAS_TRANSPOSE ta, int M, int N, int K, const real *A, int lda,
                      const real *B, real beta, real *C) {
#pragma omp parallel if (N >= 256 && (double)M * N * K > 1e6)
    {
        const int nt = omp_get_num_threads(), t = omp_get_thread_num();
        int chunk = (N + nt - 1) / nt;
        chunk = (chunk + 15) / 16 * 16;
        const int n0 = t * chunk, n1 = n0 + chunk < N ? n0 + chunk : N;
        if (n1 > n0)
            cblas_gemm(CblasRowMajor, ta, CblasNoTrans, M, n1 - n0, K, 1, A, lda, B + n0, N, beta,
                       C + n0, N);
    }
}

/* col[(ci*k+ky)*k+kx][y*wo + x] = in[g*cg+ci, y*s-p+ky*d, x*s-p+kx*d] for one image */
static void im2col(real *col, const real *in, const conv2d_dims *d, int g) {
    const int cg = d->cin / d->groups, k = d->k, hw = d->ho * d->wo;
    for (int ci = 0; ci < cg; ci++) {
        const real *src = in + (size_t)(g * cg + ci) * d->h * d->w;
        for (int kk = 0; kk < k * k; kk++) {
            const int ky = kk / k, kx = kk % k;
            real *dst = col + ((size_t)ci * k * k + kk) * hw;
            for (int y = 0; y < d->ho; y++) {
                int iy = y * d->stride - d->pad + ky * d->dil;
                real *drow = dst + (size_t)y * d->wo;
                if (iy < 0 || iy >= d->h) {
                    memset(drow, 0, sizeof(real) * d->wo);
                    continue;
                }
                const real *srow = src + (size_t)iy * d->w;
                int ix = -d->pad + kx * d->dil;
                if (d->stride == 1) { /* interior as one copy, borders zero */
                    int x0 = ix < 0 ? -ix : 0, x1 = d->w - ix < d->wo ? d->w - ix : d->wo;
                    if (x1 < x0) x1 = x0;
                    for (int x = 0; x < x0; x++) drow[x] = 0;
                    memcpy(drow + x0, srow + ix + x0, sizeof(real) * (size_t)(x1 - x0));
                    for (int x = x1; x < d->wo; x++) drow[x] = 0;
                    continue;
                }
                for (int x = 0; x < d->wo; x++, ix += d->stride)
                    drow[x] = (ix >= 0 && ix < d->w) ? srow[ix] : (real)0;
            }
        }
    }
}

/* din[...] += col[...] for one image (adjoint of im2col) */
static void col2im(real *din, const real *col, const conv2d_dims *d, int g) {
    const int cg = d->cin / d->groups, k = d->k, hw = d->ho * d->wo;
    for (int ci = 0; ci < cg; ci++) {
        real *dst = din + (size_t)(g * cg + ci) * d->h * d->w;
        for (int kk = 0; kk < k * k; kk++) {
            const int ky = kk / k, kx = kk % k;
            const real *src = col + ((size_t)ci * k * k + kk) * hw;
            for (int y = 0; y < d->ho; y++) {
                int iy = y * d->stride - d->pad + ky * d->dil;
                if (iy < 0 || iy >= d->h) continue;
                real *drow = dst + (size_t)iy * d->w;
                const real *srow = src + (size_t)y * d->wo;
                int ix = -d->pad + kx * d->dil;
                if (d->stride == 1) {
                    int x0 = ix < 0 ? -ix : 0, x1 = d->w - ix < d->wo ? d->w - ix : d->wo;
                    for (int x = x0; x < x1; x++) drow[ix + x] += srow[x];
                    continue;
                }
                for (int x = 0; x < d->wo; x++, ix += d->stride)
                    if (ix >= 0 && ix < d->w) drow[ix] += srow[x];
            }
        }
    }
}

/* A 1x1, stride-1, unpadded conv needs no im2col: the image itself is the column matrix. */
static int is_pointwise(const conv2d_dims *d) {
    return d->k == 1 && d->stride == 1 && d->pad == 0;
}

/* The column matrix of group g of one image: the image itself for a pointwise conv. */
static const real *image_columns(real *col, const real *x, const conv2d_dims *d, int g) {
    if (is_pointwise(d)) return x + (size_t)g * (d->cin / d->groups) * d->h * d->w;
    im2col(col, x, d, g);
    return col;
}

/* One image, all groups: out[cout, hw] = w * columns(x). gemm_cols splits the columns over
 * the threads when called outside a parallel region (a batch of one); inside the per-image
 * loop below the nested region is inactive and it runs on the calling thread. */
static void forward_image(real *out, const real *x, const real *w, const conv2d_dims *d,
                          real *col) {
    const int og = d->cout / d->groups, hw = d->ho * d->wo, kk = d->cin / d->groups * d->k * d->k;
    for (int g = 0; g < d->groups; g++)
        gemm_cols(CblasNoTrans, og, hw, kk, w + (size_t)g * og * kk, kk,
                  image_columns(col, x, d, g), 0, out + (size_t)g * og * hw);
}

/* One image: dx += w^T * dy, through col2im unless the conv is pointwise. */
static void backward_data_image(real *dx, const real *dy, const real *w, const conv2d_dims *d,
                                real *col) {
    const int cg = d->cin / d->groups, og = d->cout / d->groups, hw = d->ho * d->wo;
    const int kk = cg * d->k * d->k;
    for (int g = 0; g < d->groups; g++) {
        const real *dyg = dy + (size_t)g * og * hw, *wg = w + (size_t)g * og * kk;
        if (is_pointwise(d)) {
            gemm_cols(CblasTrans, kk, hw, og, wg, kk, dyg, 1, dx + (size_t)g * cg * hw);
        } else {
            gemm_cols(CblasTrans, kk, hw, og, wg, kk, dyg, 0, col);
            col2im(dx, col, d, g);
        }
    }
}

/* Images are independent: each OpenMP thread takes whole images, with its own column buffer
 * (small enough to stay in cache), and OpenBLAS writes the output image directly. */
void FN(conv2d_forward)(real *out, const real *in, const real *w, const conv2d_dims *d,
                        real *ws) {
    const size_t col_numel = (size_t)(d->cin / d->groups) * d->k * d->k * d->ho * d->wo;
    if (d->n == 1) { /* outside any region, so gemm_cols can use every thread */
        forward_image(out, in, w, d, ws);
        return;
    }
#pragma omp parallel if (conv2d_flops(d) > 4e6)
    {
        real *col = ws + (size_t)omp_get_thread_num() * col_numel;
#pragma omp for schedule(static)
        for (int n = 0; n < d->n; n++)
            forward_image(out + (size_t)n * d->cout * d->ho * d->wo,
                          in + (size_t)n * d->cin * d->h * d->w, w, d, col);
    }
}

void FN(conv2d_backward)(real *din, real *dw, const real *dout, const real *in, const real *w,
                         const conv2d_dims *d, real *ws) {
    const int cg = d->cin / d->groups, og = d->cout / d->groups, hw = d->ho * d->wo;
    const int kk = cg * d->k * d->k;
    const size_t col_numel = (size_t)kk * hw;
    if (din && d->n == 1) {
        backward_data_image(din, dout, w, d, ws);
    } else if (din) {
#pragma omp parallel if (conv2d_flops(d) > 4e6)
        {
            real *col = ws + (size_t)omp_get_thread_num() * col_numel;
#pragma omp for schedule(static)
            for (int n = 0; n < d->n; n++)
                backward_data_image(din + (size_t)n * d->cin * d->h * d->w,
                                    dout + (size_t)n * d->cout * hw, w, d, col);
        }
    }
    if (dw) { /* serial over images: dw accumulates across the batch (tests, zero-cost proxies) */
        real *col = ws;
        for (int n = 0; n < d->n; n++) {
            const real *x = in + (size_t)n * d->cin * d->h * d->w;
            for (int g = 0; g < d->groups; g++) {
                const real *c = image_columns(col, x, d, g);
                /* dw_g[og, kk] += dy[og, hw] * col[kk, hw]^T */
                cblas_gemm(CblasRowMajor, CblasNoTrans, CblasTrans, og, kk, hw, 1,
                           dout + ((size_t)n * d->cout + (size_t)g * og) * hw, hw, c, hw, 1,
                           dw + (size_t)g * og * kk, kk);
            }
        }
    }
}
