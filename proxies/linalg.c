/* proxies/linalg.c: symmetric eigenvalues and log-determinants (see proxies/linalg.h). */
#include "proxies/linalg.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"

static int all_finite(const double *a, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(a[i])) return 0;
    return 1;
}

static void fill_nan(double *w, int n) {
    for (int i = 0; i < n; i++) w[i] = NAN;
}

/* Each backend: eigen() and lu_slogdet() on finite input, n >= 1 (the public functions at
 * the end check). eigen returns 0, or -1 (w is then filled with NaN by the caller). */
#if FREENAS_HAVE_LAPACK
/* LAPACK's Fortran interface (gfortran ABI: hidden string lengths last). */
extern void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda,
                    double *w, double *work, const int *lwork, int *iwork, const int *liwork,
                    int *info, size_t jobz_len, size_t uplo_len);

extern void dgetrf_(const int *m, const int *n, double *a, const int *lda, int *ipiv, int *info);

static int eigen(int n, double *a, double *w) {
    /* row-major symmetric = column-major symmetric: 'L' reads the row-major upper triangle */
    int info = 0, lwork = -1, liwork = -1, iwq = 0;
    double wq = 0;
    dsyevd_("N", "L", &n, a, &n, w, &wq, &lwork, &iwq, &liwork, &info, 1, 1);
    if (info != 0) return -1;
    lwork = (int)wq;
    liwork = iwq > 1 ? iwq : 1;
    double *work = mallocCheck(sizeof(double) * (size_t)(lwork > 1 ? lwork : 1));
    int *iwork = mallocCheck(sizeof(int) * (size_t)liwork);
    dsyevd_("N", "L", &n, a, &n, w, work, &lwork, iwork, &liwork, &info, 1, 1);
    free(work);
    free(iwork);
    return info != 0 ? -1 : 0;
}

/* LU with partial pivoting by LAPACK dgetrf, as numpy.linalg.slogdet. The row-major a read
 * column-major is a^T, whose determinant is a's. */
static void lu_slogdet(int n, double *a, double *logabsdet, int *sign) {
    int info = 0, *ipiv = mallocCheck(sizeof(int) * (size_t)n);
    dgetrf_(&n, &n, a, &n, ipiv, &info);
    if (info < 0) FN_FATAL("dgetrf: argument %d is illegal", -info);
    if (info > 0) { /* U(info, info) is exactly 0: singular */
        *logabsdet = -INFINITY;
        *sign = 0;
    } else {
        for (int k = 0; k < n; k++) {
            const double u = a[(size_t)k * n + k];
            if ((u < 0) != (ipiv[k] != k + 1)) *sign = -*sign; /* a negative pivot or a swap */
            *logabsdet += log(fabs(u));
        }
    }
    free(ipiv);
}

const char *linalg_backend(void) { return "LAPACK dsyevd, dgetrf (OpenBLAS)"; }
#else
/* Cyclic Jacobi: rotate away every off-diagonal entry until they are negligible. */
static int eigen(int n, double *a, double *w) {
    for (int sweep = 0; sweep < 100; sweep++) {
        double off = 0, diag = 0;
        for (int i = 0; i < n; i++) {
            diag += a[(size_t)i * n + i] * a[(size_t)i * n + i];
            for (int j = i + 1; j < n; j++) off += a[(size_t)i * n + j] * a[(size_t)i * n + j];
        }
        if (off <= 1e-30 * diag || off == 0) {
            for (int i = 0; i < n; i++) w[i] = a[(size_t)i * n + i];
            for (int i = 1; i < n; i++) /* insertion sort, ascending */
                for (int j = i; j > 0 && w[j] < w[j - 1]; j--) {
                    double t = w[j]; w[j] = w[j - 1]; w[j - 1] = t;
                }
            return 0;
        }
        for (int p = 0; p < n; p++)
            for (int q = p + 1; q < n; q++) {
                const double apq = a[(size_t)p * n + q];
                if (apq == 0) continue;
                const double th = (a[(size_t)q * n + q] - a[(size_t)p * n + p]) / (2 * apq);
                const double t = (th >= 0 ? 1 : -1) / (fabs(th) + sqrt(th * th + 1));
                const double cs = 1 / sqrt(t * t + 1), sn = t * cs;
                for (int k = 0; k < n; k++) { /* rows p, q */
                    double x = a[(size_t)p * n + k], y = a[(size_t)q * n + k];
                    a[(size_t)p * n + k] = cs * x - sn * y;
                    a[(size_t)q * n + k] = sn * x + cs * y;
                }
                for (int k = 0; k < n; k++) { /* columns p, q */
                    double x = a[(size_t)k * n + p], y = a[(size_t)k * n + q];
                    a[(size_t)k * n + p] = cs * x - sn * y;
                    a[(size_t)k * n + q] = sn * x + cs * y;
                }
            }
    }
    return -1;
}

/* LU with partial pivoting, as numpy.linalg.slogdet (LAPACK getrf's algorithm, unblocked). */
static void lu_slogdet(int n, double *a, double *logabsdet, int *sign) {
    for (int k = 0; k < n; k++) {
        int piv = k;
        for (int i = k + 1; i < n; i++)
            if (fabs(a[(size_t)i * n + k]) > fabs(a[(size_t)piv * n + k])) piv = i;
        const double pv = a[(size_t)piv * n + k];
        if (pv == 0) {
            *logabsdet = -INFINITY;
            *sign = 0;
            return;
        }
        if (piv != k) {
            for (int j = 0; j < n; j++) {
                double t = a[(size_t)k * n + j];
                a[(size_t)k * n + j] = a[(size_t)piv * n + j];
                a[(size_t)piv * n + j] = t;
            }
            *sign = -*sign;
        }
        if (pv < 0) *sign = -*sign;
        *logabsdet += log(fabs(pv));
        for (int i = k + 1; i < n; i++) {
            const double f = a[(size_t)i * n + k] / pv;
            if (f == 0) continue;
            double *ri = a + (size_t)i * n;
            const double *rk = a + (size_t)k * n;
            for (int j = k + 1; j < n; j++) ri[j] -= f * rk[j];
        }
    }
}

const char *linalg_backend(void) { return "Jacobi, LU (no LAPACK found)"; }
#endif

int linalg_eigvalsh(int n, double *a, double *w) {
    if (n <= 0) return 0;
    if (!all_finite(a, (size_t)n * n) || eigen(n, a, w)) {
        fill_nan(w, n);
        return -1;
    }
    return 0;
}

int linalg_slogdet(int n, double *a, double *logabsdet, int *sign) {
    *logabsdet = 0;
    *sign = 1;
    if (n <= 0) return 0;
    if (!all_finite(a, (size_t)n * n)) {
        *logabsdet = NAN;
        *sign = 0;
        return -1;
    }
    lu_slogdet(n, a, logabsdet, sign);
    return 0;
}
