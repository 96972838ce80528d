/* tests/test_util.c: see tests/test_util.h. */
#include "tests/test_util.h"

#include <math.h>

int test_failures = 0, test_checks = 0;

int check_close(const char *what, const double *a, const double *b, size_t n, double atol,
                double rtol) {
    double maxerr = 0;
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        double err = fabs(a[i] - b[i]);
        if (!(err <= atol + rtol * fabs(b[i]))) {
            if (bad < 5)
                fprintf(stderr, "  %s[%zu]: got %.9g expected %.9g (err %.3g)\n", what, i, a[i],
                        b[i], err);
            bad++;
        }
        if (err > maxerr || isnan(err)) maxerr = err;
    }
    test_checks++;
    if (bad) {
        test_failures++;
        fprintf(stderr, "FAIL %s: %zu of %zu outside atol %.1e rtol %.1e (max err %.3g)\n", what,
                bad, n, atol, rtol, maxerr);
        return -1;
    }
    printf("ok   %-40s n=%-7zu max abs err %.3g\n", what, n, maxerr);
    return 0;
}

int check_rel_l2(const char *what, const double *a, const double *b, size_t n, double tol) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        num += (a[i] - b[i]) * (a[i] - b[i]);
        den += b[i] * b[i];
    }
    double rel = sqrt(num) / (sqrt(den) > 0 ? sqrt(den) : 1);
    test_checks++;
    if (!(rel <= tol)) {
        test_failures++;
        fprintf(stderr, "FAIL %s: relative L2 error %.3g > %.1e\n", what, rel, tol);
        return -1;
    }
    printf("ok   %-40s rel L2 err %.3g (tol %.1e)\n", what, rel, tol);
    return 0;
}

int test_summary(const char *name) {
    printf("%s: %d checks, %d failed\n", name, test_checks, test_failures);
    return test_failures ? 1 : 0;
}

double test_rand(unsigned *s) {
    *s = *s * 1664525u + 1013904223u;
    return ((*s >> 8) & 0xFFFFFF) / (double)0x800000 - 1.0;
}
