/* analysis/op_stats.c: total variation distance between two op distributions with a
 * bootstrap interval and a permutation test (see op_stats.h). */
#include "analysis/op_stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "base/common.h"

static long sum_of(const long *a, int k) {
    long s = 0;
    for (int o = 0; o < k; o++) s += a[o];
    return s;
}

double op_stats_tv(const long *a, const long *b, int k) {
    const long na = sum_of(a, k), nb = sum_of(b, k);
    if (na <= 0 || nb <= 0) return NAN;
    double d = 0;
    for (int o = 0; o < k; o++) d += fabs((double)a[o] / (double)na - (double)b[o] / (double)nb);
    return 0.5 * d;
}

/* TV values are differences of small rationals: equal up to rounding counts as equal */
#define TV_TIE 1e-12

double op_stats_perm_p(const long *a, const long *b, int k, int draws, uint64_t seed,
                       double *null_q95) {
    const long na = sum_of(a, k), nb = sum_of(b, k), n = na + nb;
    const double tv = op_stats_tv(a, b, k);
    if (isnan(tv) || draws < 1) {
        if (null_q95) *null_q95 = NAN;
        return NAN;
    }
    int *pool = mallocCheck(sizeof(int) * (size_t)n);
    long m = 0;
    for (int o = 0; o < k; o++)
        for (long i = 0; i < a[o] + b[o]; i++) pool[m++] = o;
    long *ca = callocCheck((size_t)k, sizeof(long)), *cb = callocCheck((size_t)k, sizeof(long));
    double *tvs = mallocCheck(sizeof(double) * (size_t)draws);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, (unsigned long)seed);
    long ge = 0;
    for (int d = 0; d < draws; d++) {
        gsl_ran_shuffle(rng, pool, (size_t)n, sizeof(int));
        memset(ca, 0, sizeof(long) * (size_t)k);
        memset(cb, 0, sizeof(long) * (size_t)k);
        for (long i = 0; i < n; i++) (i < na ? ca : cb)[pool[i]]++;
        tvs[d] = op_stats_tv(ca, cb, k);
        ge += tvs[d] >= tv - TV_TIE;
    }
    if (null_q95) {
        gsl_sort(tvs, 1, (size_t)draws);
        *null_q95 = gsl_stats_quantile_from_sorted_data(tvs, 1, (size_t)draws, 0.95);
    }
    gsl_rng_free(rng);
    free(tvs);
    free(ca);
    free(cb);
    free(pool);
    return (1.0 + (double)ge) / (1.0 + (double)draws);
}

int op_stats_compare(const long *a_units, int n_units, const long *b, int k, int draws,
                     uint64_t seed, op_stats_result *r) {
    long *a = callocCheck((size_t)k, sizeof(long));
    for (int u = 0; u < n_units; u++)
        for (int o = 0; o < k; o++) a[o] += a_units[(size_t)u * k + o];
    r->n_a = sum_of(a, k);
    r->n_b = sum_of(b, k);
    r->tv = op_stats_tv(a, b, k);
    r->boot_lo = r->boot_hi = r->null_q95 = r->p_value = NAN;
    if (isnan(r->tv) || draws < 1) {
        free(a);
        return -1;
    }
    r->p_value = op_stats_perm_p(a, b, k, draws, seed, &r->null_q95);
    /* bootstrap: whole genotypes with replacement; the reference multinomially */
    double *q = mallocCheck(sizeof(double) * (size_t)k), *tvs = mallocCheck(sizeof(double) * (size_t)draws);
    unsigned *bs = mallocCheck(sizeof(unsigned) * (size_t)k);
    long *ba = mallocCheck(sizeof(long) * (size_t)k), *bb = mallocCheck(sizeof(long) * (size_t)k);
    for (int o = 0; o < k; o++) q[o] = (double)b[o] / (double)r->n_b;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, (unsigned long)(seed + 1));
    for (int d = 0; d < draws; d++) {
        memset(ba, 0, sizeof(long) * (size_t)k);
        for (int u = 0; u < n_units; u++) {
            const long *row = a_units + (size_t)gsl_rng_uniform_int(rng, (unsigned long)n_units) * k;
            for (int o = 0; o < k; o++) ba[o] += row[o];
        }
        gsl_ran_multinomial(rng, (size_t)k, (unsigned)r->n_b, q, bs);
        for (int o = 0; o < k; o++) bb[o] = bs[o];
        tvs[d] = op_stats_tv(ba, bb, k);
    }
    gsl_sort(tvs, 1, (size_t)draws);
    r->boot_lo = gsl_stats_quantile_from_sorted_data(tvs, 1, (size_t)draws, 0.025);
    r->boot_hi = gsl_stats_quantile_from_sorted_data(tvs, 1, (size_t)draws, 0.975);
    gsl_rng_free(rng);
    free(q);
    free(tvs);
    free(bs);
    free(ba);
    free(bb);
    free(a);
    return 0;
}
