/* nn/linear.c: fully connected forward/backward (see nn/linear.h). */
#include "nn/linear.h"

#include <stddef.h>

#include "nn/real.h"

void FN(linear_forward)(real *out, const real *in, const real *w, const real *b, int n,
                        int in_f, int out_f) {
    for (int i = 0; i < n; i++)
        for (int o = 0; o < out_f; o++) out[(size_t)i * out_f + o] = b ? b[o] : (real)0;
    /* out[n, out_f] += in[n, in_f] * w[out_f, in_f]^T */
    cblas_gemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, out_f, in_f, 1, in, in_f, w, in_f, 1,
               out, out_f);
}

void FN(linear_backward)(real *din, real *dw, real *db, const real *dout, const real *in,
                         const real *w, int n, int in_f, int out_f) {
    if (din) /* din[n, in_f] += dout[n, out_f] * w[out_f, in_f] */
        cblas_gemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, in_f, out_f, 1, dout, out_f, w,
                   in_f, 1, din, in_f);
    if (dw) /* dw[out_f, in_f] += dout^T[out_f, n] * in[n, in_f] */
        cblas_gemm(CblasRowMajor, CblasTrans, CblasNoTrans, out_f, in_f, n, 1, dout, out_f, in,
                   in_f, 1, dw, in_f);
    if (db)
        for (int i = 0; i < n; i++)
            for (int o = 0; o < out_f; o++) db[o] += dout[(size_t)i * out_f + o];
}

void FN(linear_blocks_forward)(real *out, const real *in, const real *w, const real *b, int n,
                               int in_f, int out_f, int blocks) {
    if (blocks == 1) {
        FN(linear_forward)(out, in, w, b, n, in_f, out_f);
        return;
    }
    const int ldi = blocks * in_f, ldo = blocks * out_f;
    for (int j = 0; j < blocks; j++) {
        const real *bj = b ? b + (size_t)j * out_f : NULL;
        for (int i = 0; i < n; i++)
            for (int o = 0; o < out_f; o++) out[(size_t)i * ldo + j * out_f + o] = bj ? bj[o] : (real)0;
        cblas_gemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, out_f, in_f, 1, in + (size_t)j * in_f,
                   ldi, w + (size_t)j * out_f * in_f, in_f, 1, out + (size_t)j * out_f, ldo);
    }
}

void FN(linear_blocks_backward)(real *din, real *dw, real *db, const real *dout, const real *in,
                                const real *w, int n, int in_f, int out_f, int blocks) {
    if (blocks == 1) {
        FN(linear_backward)(din, dw, db, dout, in, w, n, in_f, out_f);
        return;
    }
    const int ldi = blocks * in_f, ldo = blocks * out_f;
    for (int j = 0; j < blocks; j++) {
        const real *dy = dout + (size_t)j * out_f;
        if (din)
            cblas_gemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, in_f, out_f, 1, dy, ldo,
                       w + (size_t)j * out_f * in_f, in_f, 1, din + (size_t)j * in_f, ldi);
        if (dw)
            cblas_gemm(CblasRowMajor, CblasTrans, CblasNoTrans, out_f, in_f, n, 1, dy, ldo,
                       in + (size_t)j * in_f, ldi, 1, dw + (size_t)j * out_f * in_f, in_f);
        if (db)
            for (int i = 0; i < n; i++)
                for (int o = 0; o < out_f; o++) db[(size_t)j * out_f + o] += dy[(size_t)i * ldo + o];
    }
}
