/* nn/conv2d.c: CPU convolution by im2col + OpenBLAS GEMM (see nn/conv2d.h).
 *
 * Images are processed in blocks of `nb` so that one GEMM per group covers nb*ho*wo columns
 * (large enough for OpenBLAS to use both cores), bounded by CONV_COL_BUDGET elements. */
#include "nn/conv2d.h"

#include <omp.h>
#include <string.h>

#include "nn/common.h"
#include "nn/real.h"

#define CONV_COL_BUDGET (1u << 22) /* elements of the column buffer per block */

static int block_of(const conv2d_dims *d) {
    size_t kk = (size_t)(d->cin / d->groups) * d->k * d->k;
    size_t per = kk * (size_t)d->ho * d->wo + (size_t)(d->cout / d->groups) * d->ho * d->wo;
    size_t nb = CONV_COL_BUDGET / (per ? per : 1);
    if (nb < 1) nb = 1;
    if (nb > (size_t)d->n) nb = (size_t)d->n;
    return (int)nb;
}

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
    size_t kk = (size_t)(d->cin / d->groups) * d->k * d->k;
    size_t nb = (size_t)block_of(d);
    /* column matrix [kk, nb*ho*wo] + output staging [cout/groups, nb*ho*wo] */
    return nb * (size_t)d->ho * d->wo * (kk + (size_t)(d->cout / d->groups));
}

double conv2d_flops(const conv2d_dims *d) {
    return 2.0 * d->n * d->cout * (double)d->ho * d->wo * (d->cin / d->groups) * d->k * d->k;
}
#endif

/* C[M, N] = op(A)[M, K] * B[K, N] + beta C, B not transposed, with N (the image columns)
 * split over the OpenMP threads: OpenBLAS runs single-threaded (nn/common.c) so its threads
 * never compete with ours. */
static void gemm_cols(CBLAS_TRANSPOSE ta, int M, int N, int K, const real *A, int lda,
                      const real *B, int ldb, real beta, real *C, int ldc) {
#pragma omp parallel if (N >= 512)
    {
        const int nt = omp_get_num_threads(), t = omp_get_thread_num();
        int chunk = (N + nt - 1) / nt;
        chunk = (chunk + 15) / 16 * 16;
        const int n0 = t * chunk, n1 = n0 + chunk < N ? n0 + chunk : N;
        if (n1 > n0)
            cblas_gemm(CblasRowMajor, ta, CblasNoTrans, M, n1 - n0, K, 1, A, lda, B + n0, ldb,
                       beta, C + n0, ldc);
    }
}

/* col[(ci*k+ky)*k+kx][b*ho*wo + y*wo + x] = in[n0+b, g*cg+ci, y*s-p+ky*d, x*s-p+kx*d] */
static void im2col(real *col, const real *in, const conv2d_dims *d, int n0, int nb, int g) {
    const int cg = d->cin / d->groups, k = d->k, hw = d->ho * d->wo;
    const size_t ncols = (size_t)nb * hw;
#pragma omp parallel for collapse(2) schedule(static) if (ncols * cg * k * k > 32768)
    for (int ci = 0; ci < cg; ci++) {
        for (int kk = 0; kk < k * k; kk++) {
            const int ky = kk / k, kx = kk % k;
            real *row = col + ((size_t)ci * k * k + kk) * ncols;
            for (int b = 0; b < nb; b++) {
                const real *src = in + ((size_t)(n0 + b) * d->cin + g * cg + ci) * d->h * d->w;
                real *dst = row + (size_t)b * hw;
                for (int y = 0; y < d->ho; y++) {
                    int iy = y * d->stride - d->pad + ky * d->dil;
                    real *drow = dst + (size_t)y * d->wo;
                    if (iy < 0 || iy >= d->h) {
                        memset(drow, 0, sizeof(real) * d->wo);
                        continue;
                    }
                    const real *srow = src + (size_t)iy * d->w;
                    int ix = -d->pad + kx * d->dil;
                    if (d->stride == 1 && ix >= 0 && ix + d->wo <= d->w) {
                        memcpy(drow, srow + ix, sizeof(real) * d->wo);
                        continue;
                    }
                    for (int x = 0; x < d->wo; x++, ix += d->stride)
                        drow[x] = (ix >= 0 && ix < d->w) ? srow[ix] : (real)0;
                }
            }
        }
    }
}

/* in[...] += col[...] (adjoint of im2col) */
static void col2im(real *din, const real *col, const conv2d_dims *d, int n0, int nb, int g) {
    const int cg = d->cin / d->groups, k = d->k, hw = d->ho * d->wo;
    const size_t ncols = (size_t)nb * hw;
#pragma omp parallel for collapse(2) schedule(static) if (ncols * cg * k * k > 32768)
    for (int b = 0; b < nb; b++) {
        for (int ci = 0; ci < cg; ci++) {
            real *dst = din + ((size_t)(n0 + b) * d->cin + g * cg + ci) * d->h * d->w;
            for (int kk = 0; kk < k * k; kk++) {
                const int ky = kk / k, kx = kk % k;
                const real *src = col + ((size_t)ci * k * k + kk) * ncols + (size_t)b * hw;
                for (int y = 0; y < d->ho; y++) {
                    int iy = y * d->stride - d->pad + ky * d->dil;
                    if (iy < 0 || iy >= d->h) continue;
                    real *drow = dst + (size_t)iy * d->w;
                    const real *srow = src + (size_t)y * d->wo;
                    int ix = -d->pad + kx * d->dil;
                    for (int x = 0; x < d->wo; x++, ix += d->stride)
                        if (ix >= 0 && ix < d->w) drow[ix] += srow[x];
                }
            }
        }
    }
}

/* A 1x1, stride-1, unpadded, ungrouped conv needs no im2col: the input block is the column
 * matrix once images are laid side by side; gather copies them (cheap, memory-bound). */
static int is_pointwise(const conv2d_dims *d) {
    return d->k == 1 && d->stride == 1 && d->pad == 0 && d->groups == 1;
}

void FN(conv2d_forward)(real *out, const real *in, const real *w, const conv2d_dims *d,
                        real *ws) {
    const int cg = d->cin / d->groups, og = d->cout / d->groups, hw = d->ho * d->wo;
    const int kk = cg * d->k * d->k;
    const int nb_max = block_of(d);
    for (int n0 = 0; n0 < d->n; n0 += nb_max) {
        const int nb = d->n - n0 < nb_max ? d->n - n0 : nb_max;
        const int ncols = nb * hw;
        for (int g = 0; g < d->groups; g++) {
            real *col = ws, *stage = ws + (size_t)kk * ncols;
            if (is_pointwise(d) && nb == 1) {
                col = (real *)in + (size_t)n0 * d->cin * hw;
            } else {
                im2col(col, in, d, n0, nb, g);
            }
            /* stage[og, ncols] = w_g[og, kk] * col[kk, ncols] */
            gemm_cols(CblasNoTrans, og, ncols, kk, w + (size_t)g * og * kk, kk, col, ncols, 0,
                      stage, ncols);
            for (int b = 0; b < nb; b++)
                for (int o = 0; o < og; o++)
                    memcpy(out + ((size_t)(n0 + b) * d->cout + g * og + o) * hw,
                           stage + (size_t)o * ncols + (size_t)b * hw, sizeof(real) * hw);
        }
    }
}

void FN(conv2d_backward)(real *din, real *dw, const real *dout, const real *in, const real *w,
                         const conv2d_dims *d, real *ws) {
    const int cg = d->cin / d->groups, og = d->cout / d->groups, hw = d->ho * d->wo;
    const int kk = cg * d->k * d->k;
    const int nb_max = block_of(d);
    for (int n0 = 0; n0 < d->n; n0 += nb_max) {
        const int nb = d->n - n0 < nb_max ? d->n - n0 : nb_max;
        const int ncols = nb * hw;
        for (int g = 0; g < d->groups; g++) {
            real *col = ws, *stage = ws + (size_t)kk * ncols;
            /* stage[og, ncols] = dout block of this group */
            for (int b = 0; b < nb; b++)
                for (int o = 0; o < og; o++)
                    memcpy(stage + (size_t)o * ncols + (size_t)b * hw,
                           dout + ((size_t)(n0 + b) * d->cout + g * og + o) * hw,
                           sizeof(real) * hw);
            if (dw) {
                im2col(col, in, d, n0, nb, g);
                /* dw_g[og, kk] += stage[og, ncols] * col[kk, ncols]^T */
                cblas_gemm(CblasRowMajor, CblasNoTrans, CblasTrans, og, kk, ncols, 1, stage,
                           ncols, col, ncols, 1, dw + (size_t)g * og * kk, kk);
            }
            if (din) {
                /* col[kk, ncols] = w_g^T[kk, og] * stage[og, ncols]; then din += col2im(col) */
                gemm_cols(CblasTrans, kk, ncols, og, w + (size_t)g * og * kk, kk, stage, ncols, 0,
                          col, ncols);
                col2im(din, col, d, n0, nb, g);
            }
        }
    }
}
