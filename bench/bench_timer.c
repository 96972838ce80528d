/* bench/bench_timer.c: see bench/bench_timer.h. */
#include "bench_timer.h"

#include <stdlib.h>

#include "base/common.h"

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_median_per_call(void (*f)(void *ctx), void *ctx, int reps) {
    if (reps < 1) reps = 1;
    f(ctx);
    int iters = 1;
    for (;;) {
        double t0 = fn_now();
        for (int i = 0; i < iters; i++) f(ctx);
        double t = fn_now() - t0;
        if (t > 2e-3 || iters >= 1 << 20) break;
        iters *= t < 2e-4 ? 10 : 2;
    }
    double *t = mallocCheck(sizeof(double) * reps);
    for (int r = 0; r < reps; r++) {
        double t0 = fn_now();
        for (int i = 0; i < iters; i++) f(ctx);
        t[r] = (fn_now() - t0) / iters;
    }
    qsort(t, (size_t)reps, sizeof(double), cmp_double);
    double m = reps % 2 ? t[reps / 2] : 0.5 * (t[reps / 2 - 1] + t[reps / 2]);
    free(t);
    return m;
}
