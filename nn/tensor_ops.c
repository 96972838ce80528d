/* nn/tensor_ops.c: mixed op / sum, concat, subsample forward and backward
 * (see nn/tensor_ops.h). */
#include "nn/tensor_ops.h"

#include <string.h>

#include "nn/real.h"

#define PAR_MIN 65536

void FN(mix_forward)(real *out, real *const *in, const int *aidx, const real *alpha, int k,
                     size_t numel) {
    for (int i = 0; i < k; i++) {
        const real c = aidx[i] >= 0 ? alpha[aidx[i]] : (real)1;
        const real *x = in[i];
        if (i == 0) {
#pragma omp parallel for schedule(static) if (numel > PAR_MIN)
            for (size_t j = 0; j < numel; j++) out[j] = c * x[j];
        } else {
#pragma omp parallel for schedule(static) if (numel > PAR_MIN)
            for (size_t j = 0; j < numel; j++) out[j] += c * x[j];
        }
    }
    if (k == 0) memset(out, 0, sizeof(real) * numel);
}

void FN(mix_backward)(real *const *din, real *dalpha, const real *dout, real *const *in,
                      const int *aidx, const real *alpha, int k, size_t numel) {
    for (int i = 0; i < k; i++) {
        const real *x = in[i];
        const int da = aidx[i] >= 0 && dalpha;
        const real c = aidx[i] >= 0 ? alpha[aidx[i]] : (real)1;
        real *dx = din[i];
        double s = 0;
        if (da && dx) { /* one pass: d alpha and d input together */
#pragma omp parallel for schedule(static) reduction(+ : s) if (numel > PAR_MIN)
            for (size_t j = 0; j < numel; j++) {
                s += (double)dout[j] * x[j];
                dx[j] += c * dout[j];
            }
        } else if (da) {
#pragma omp parallel for schedule(static) reduction(+ : s) if (numel > PAR_MIN)
            for (size_t j = 0; j < numel; j++) s += (double)dout[j] * x[j];
        } else if (dx) {
#pragma omp parallel for schedule(static) if (numel > PAR_MIN)
            for (size_t j = 0; j < numel; j++) dx[j] += c * dout[j];
        }
        if (da) dalpha[aidx[i]] += (real)s;
    }
}

void FN(concat_forward)(real *out, real *const *in, const int *cin, int k, int n, int hw) {
    int ctot = 0;
    for (int i = 0; i < k; i++) ctot += cin[i];
    for (int b = 0; b < n; b++) {
        int c0 = 0;
        for (int i = 0; i < k; i++) {
            memcpy(out + ((size_t)b * ctot + c0) * hw, in[i] + (size_t)b * cin[i] * hw,
                   sizeof(real) * cin[i] * hw);
            c0 += cin[i];
        }
    }
}

void FN(concat_backward)(real *const *din, const real *dout, const int *cin, int k, int n,
                         int hw) {
    int ctot = 0;
    for (int i = 0; i < k; i++) ctot += cin[i];
    for (int b = 0; b < n; b++) {
        int c0 = 0;
        for (int i = 0; i < k; i++) {
            if (din[i]) {
                real *dx = din[i] + (size_t)b * cin[i] * hw;
                const real *dy = dout + ((size_t)b * ctot + c0) * hw;
                for (size_t j = 0; j < (size_t)cin[i] * hw; j++) dx[j] += dy[j];
            }
            c0 += cin[i];
        }
    }
}

void FN(subsample_forward)(real *out, const real *in, int n, int c, int h, int w, int off, int s,
                           int ho, int wo) {
    for (int p = 0; p < n * c; p++)
        for (int y = 0; y < ho; y++)
            for (int x = 0; x < wo; x++) {
                int iy = off + y * s, ix = off + x * s;
                out[((size_t)p * ho + y) * wo + x] =
                    (iy < h && ix < w) ? in[((size_t)p * h + iy) * w + ix] : (real)0;
            }
}

void FN(subsample_backward)(real *din, const real *dout, int n, int c, int h, int w, int off,
                            int s, int ho, int wo) {
    for (int p = 0; p < n * c; p++)
        for (int y = 0; y < ho; y++)
            for (int x = 0; x < wo; x++) {
                int iy = off + y * s, ix = off + x * s;
                if (iy < h && ix < w)
                    din[((size_t)p * h + iy) * w + ix] += dout[((size_t)p * ho + y) * wo + x];
            }
}
