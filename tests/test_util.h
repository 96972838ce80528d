/* tests/test_util.h: tiny assertion helpers for the C tests. A test counts failures with
 * CHECK(...) / check_close(...) and returns test_summary() from main: 0 = pass, 1 = fail,
 * 77 = skipped (CTest SKIP_RETURN_CODE). */
#ifndef FN_TEST_UTIL_H
#define FN_TEST_UTIL_H

#include <stddef.h>
#include <stdio.h>

#include "nn/conv2d.h"

extern int test_failures, test_checks;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        test_checks++;                                                                \
        if (!(cond)) {                                                                \
            test_failures++;                                                          \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);           \
        }                                                                             \
    } while (0)

/* CHECK with a printf-style explanation of what was being checked */
#define CHECKF(cond, ...)                                                             \
    do {                                                                              \
        test_checks++;                                                                \
        if (!(cond)) {                                                                \
            test_failures++;                                                          \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);           \
            fprintf(stderr, __VA_ARGS__);                                             \
            fprintf(stderr, "\n");                                                    \
        }                                                                             \
    } while (0)

/* |a - b| <= atol + rtol |b| elementwise; prints max error and first mismatches. */
int check_close(const char *what, const double *a, const double *b, size_t n, double atol,
                double rtol);
/* relative L2 error ||a - b|| / ||b|| <= tol */
int check_rel_l2(const char *what, const double *a, const double *b, size_t n, double tol);
/* Central differences (f(v + h) - f(v - h)) / 2h of the objective f(ctx) over entries of var
 * (all of them up to max_samples, else an evenly strided sample of about max_samples),
 * compared with the analytic gradient an by |fd - an| <= 1e-8 + 1e-5 |an|. */
int check_fd_grad(const char *what, double (*f)(void *ctx), void *ctx, double *var,
                  const double *an, size_t n, size_t max_samples, double h);
int test_summary(const char *name);
/* deterministic pseudo-random doubles in [-1, 1) */
double test_rand(unsigned *state);
/* eigenvalues w[n] of the symmetric a[n*n] (destroyed), ascending: cyclic Jacobi, independent
 * of LAPACK and proxies/linalg, for checking them */
void test_jacobi_eig(int n, double *a, double *w);
/* train-mode batch norm in plain loops, for hand-written reference networks: a and out
 * [N][C][HW], batch statistics (biased variance, eps FN_BN_EPS); gamma and beta [C], or both
 * NULL for affine=False */
void test_bn_train(const double *a, int N, int C, int HW, const double *gamma, const double *beta,
                   double *out);
/* convolution in straight loops (any stride, padding, dilation, groups), the independent
 * reference for nn/conv2d.c and oneDNN: y = conv(x, w), and its data gradient dx = conv^T(dy,
 * w) (dx overwritten) */
void test_conv_fwd(double *y, const double *x, const double *w, const conv2d_dims *d);
void test_conv_dx(double *dx, const double *dy, const double *w, const conv2d_dims *d);

#endif
