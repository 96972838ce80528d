/* proxies/linalg.h: the two small dense factorisations the proxies need, in float64.
 *
 * Eigenvalues of a symmetric matrix: LAPACK dsyevd from OpenBLAS (its Fortran symbol; no
 * LAPACKE headers needed) when CMake found it (FREENAS_HAVE_LAPACK), else cyclic Jacobi
 * rotations (n <= a few hundred here: NTK and correlation matrices are batch x batch).
 * log|det|: LU with partial pivoting, like numpy.linalg.slogdet: LAPACK dgetrf from OpenBLAS,
 * else the same unblocked algorithm written out. tests/test_linalg.c checks both on matrices
 * with known spectra and determinants. */
#ifndef FN_LINALG_H
#define FN_LINALG_H

/* Eigenvalues of the symmetric a[n*n] (row-major; only symmetric input is meaningful) in
 * ascending order into w[n]; a is overwritten. Returns 0, or -1 on failure (non-finite input,
 * no convergence); then w is NaN. */
int linalg_eigvalsh(int n, double *a, double *w);
/* log|det a| and its sign (-1, 0, +1) of a[n*n]; a is overwritten by its LU factors. A
 * singular matrix gives sign 0 and -inf, as numpy. Returns 0, or -1 for non-finite input. */
int linalg_slogdet(int n, double *a, double *logabsdet, int *sign);
/* "LAPACK dsyevd, dgetrf (OpenBLAS)" or "Jacobi, LU (no LAPACK found)" */
const char *linalg_backend(void);

#endif
