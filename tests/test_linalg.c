/* tests/test_linalg.c: proxies/linalg (symmetric eigenvalues, log|det|) on matrices whose answer
 * is known in closed form, for whichever backend the build has (LAPACK from OpenBLAS, or the
 * written-out Jacobi and LU):
 *   eigvalsh  the second-difference matrix tridiag(-1, 2, -1), eigenvalues
 *             2 - 2 cos(k pi / (n + 1)); Q diag(d) Q^T with Q a Householder reflection
 *             (eigenvalues d, sorted)
 *   slogdet   P L U built from a unit lower L, an upper U with chosen signed diagonal and a
 *             permutation P of known parity: log|det| = sum log|u_kk|, sign = parity * signs;
 *             a zero column (singular: sign 0, -inf, as numpy); 1 x 1; non-finite input
 * Run: ctest -R test_linalg, or build/bin/test_linalg. */
#include <math.h>
#include <stdlib.h>

#include "proxies/linalg.h"
#include "test_util.h"

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void eig_second_difference(int n) {
    double *a = calloc((size_t)n * n, sizeof *a), *w = malloc(sizeof *w * n),
           *want = malloc(sizeof *want * n);
    for (int i = 0; i < n; i++) {
        a[(size_t)i * n + i] = 2;
        if (i + 1 < n) a[(size_t)i * n + i + 1] = a[(size_t)(i + 1) * n + i] = -1;
        want[i] = 2 - 2 * cos((i + 1) * acos(-1.0) / (n + 1)); /* ascending in i */
    }
    CHECK(linalg_eigvalsh(n, a, w) == 0);
    char what[64];
    snprintf(what, sizeof what, "eigvalsh tridiag(-1,2,-1) n=%d", n);
    check_close(what, w, want, (size_t)n, 1e-12, 1e-12);
    free(a), free(w), free(want);
}

/* a = (I - 2 v v^T / v^T v) diag(d) (I - 2 v v^T / v^T v): symmetric with eigenvalues d */
static void eig_householder(int n, unsigned seed) {
    double *v = malloc(sizeof *v * n), *d = malloc(sizeof *d * n), *w = malloc(sizeof *w * n);
    double *q = malloc(sizeof *q * n * n), *a = calloc((size_t)n * n, sizeof *a);
    double vv = 0;
    for (int i = 0; i < n; i++) {
        v[i] = test_rand(&seed);
        vv += v[i] * v[i];
        d[i] = 10 * test_rand(&seed); /* mixed signs, as an NTK never has but K - mean may */
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) q[(size_t)i * n + j] = (i == j) - 2 * v[i] * v[j] / vv;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int k = 0; k < n; k++) s += q[(size_t)i * n + k] * d[k] * q[(size_t)j * n + k];
            a[(size_t)i * n + j] = s;
        }
    CHECK(linalg_eigvalsh(n, a, w) == 0);
    qsort(d, (size_t)n, sizeof *d, cmp_double);
    check_close("eigvalsh Q diag(d) Q^T", w, d, (size_t)n, 1e-11, 1e-11);
    free(v), free(d), free(w), free(q), free(a);
}

/* a = P L U with P the row permutation perm (a row i is (L U) row perm[i]) */
static void slogdet_plu(int n, unsigned seed) {
    double *l = calloc((size_t)n * n, sizeof *l), *u = calloc((size_t)n * n, sizeof *u);
    double *a = malloc(sizeof *a * n * n);
    int *perm = malloc(sizeof *perm * n);
    double want_log = 0;
    int want_sign = 1;
    for (int i = 0; i < n; i++) {
        perm[i] = i;
        l[(size_t)i * n + i] = 1;
        for (int j = 0; j < i; j++) /* small enough that L stays well conditioned */
            l[(size_t)i * n + j] = test_rand(&seed) / sqrt((double)n);
        const double mag = 0.5 + 1.5 * (test_rand(&seed) + 1) / 2, sg = test_rand(&seed) < 0 ? -1 : 1;
        u[(size_t)i * n + i] = sg * mag;
        want_log += log(mag);
        want_sign *= (int)sg;
        for (int j = i + 1; j < n; j++) u[(size_t)i * n + j] = test_rand(&seed);
    }
    for (int i = n - 1; i > 0; i--) { /* Fisher-Yates; each real swap flips the parity */
        const int j = (int)((test_rand(&seed) + 1) / 2 * (i + 1)) % (i + 1);
        if (j != i) {
            int t = perm[i]; perm[i] = perm[j]; perm[j] = t;
            want_sign = -want_sign;
        }
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int k = 0; k < n; k++) s += l[(size_t)perm[i] * n + k] * u[(size_t)k * n + j];
            a[(size_t)i * n + j] = s;
        }
    double got = 0;
    int sign = 0;
    CHECK(linalg_slogdet(n, a, &got, &sign) == 0);
    CHECKF(sign == want_sign, "n=%d sign %d, want %d", n, sign, want_sign);
    CHECKF(fabs(got - want_log) <= 1e-10 * (1 + fabs(want_log)), "n=%d log|det| %.15g, want %.15g",
           n, got, want_log);
    free(l), free(u), free(a), free(perm);
}

static void slogdet_edges(void) {
    double got;
    int sign;
    /* a zero column: an exactly zero pivot, numpy's (0, -inf). (Two equal rows of arbitrary
     * reals need not leave an exact zero after rounding: numpy then gives a large negative
     * finite log, and so does this; NASWOT's integer kernels with equal rows do give -inf,
     * tests/test_proxies_persample.c.) */
    const int n = 6;
    double a[36];
    unsigned seed = 7;
    for (int i = 0; i < n * n; i++) a[i] = i % n == 3 ? 0 : test_rand(&seed);
    CHECK(linalg_slogdet(n, a, &got, &sign) == 0);
    CHECKF(sign == 0 && isinf(got) && got < 0, "zero column: sign %d, log|det| %g", sign, got);
    double one = -0.25;
    CHECK(linalg_slogdet(1, &one, &got, &sign) == 0);
    CHECKF(sign == -1 && fabs(got - log(0.25)) < 1e-15, "1x1: sign %d, log|det| %g", sign, got);
    double bad[4] = {1, 0, NAN, 1};
    CHECK(linalg_slogdet(2, bad, &got, &sign) == -1);
    CHECK(sign == 0 && isnan(got));
    double bad2[4] = {1, INFINITY, INFINITY, 1}, w[2];
    CHECK(linalg_eigvalsh(2, bad2, w) == -1);
    CHECK(isnan(w[0]) && isnan(w[1]));
}

int main(void) {
    printf("test_linalg: backend %s\n", linalg_backend());
    eig_second_difference(1);
    eig_second_difference(7);
    eig_second_difference(128);
    eig_householder(5, 11);
    eig_householder(64, 12);
    for (int n = 1; n <= 130; n += 43) slogdet_plu(n, 100u + (unsigned)n);
    slogdet_plu(128, 3); /* NASWOT's batch */
    slogdet_edges();
    return test_summary("test_linalg");
}
