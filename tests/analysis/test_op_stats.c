/* tests/analysis/test_op_stats.c: the §7.4 op-distribution statistics (analysis/op_stats.h)
 * against independent computations written here:
 *   - TV = 1/2 sum |p - q| against its other definition, max over op sets A of |P(A) - Q(A)|,
 *     by enumerating all 2^k sets, on random count vectors; 0 for equal shares, 1 for disjoint
 *   - the permutation p-value (Monte Carlo, 40000 draws) against the exact p-value from every
 *     one of the C(n, na) splits of a tiny pooled sample, within 4 Monte Carlo std errors
 *   - the bootstrap interval: identical genotypes against a huge reference sample collapse it
 *     to the observed TV; the same seed gives the same numbers, another seed others
 *   - clearly different distributions give p < 0.01 and TV above the null's 95 % quantile;
 *     one distribution split in two gives a large p
 *   ./test_op_stats */
#include <math.h>
#include <stdlib.h>

#include "analysis/op_stats.h"
#include "tests/test_util.h"

static double brute_tv(const long *a, const long *b, int k) {
    double na = 0, nb = 0, best = 0;
    for (int o = 0; o < k; o++) {
        na += a[o];
        nb += b[o];
    }
    for (unsigned s = 0; s < (1u << k); s++) {
        double pa = 0, pb = 0;
        for (int o = 0; o < k; o++)
            if (s >> o & 1) {
                pa += a[o] / na;
                pb += b[o] / nb;
            }
        best = fmax(best, fabs(pa - pb));
    }
    return best;
}

/* exact permutation p-value: every way to choose which na of the n pooled units are "a" */
static double exact_perm_p(const long *a, const long *b, int k) {
    int lab[32], n = 0, na = 0;
    for (int o = 0; o < k; o++) {
        for (long i = 0; i < a[o] + b[o]; i++) lab[n++] = o;
        na += (int)a[o];
    }
    const double tv = brute_tv(a, b, k);
    long splits = 0, ge = 0;
    for (unsigned m = 0; m < (1u << n); m++) {
        if (__builtin_popcount(m) != na) continue;
        long ca[8] = {0}, cb[8] = {0};
        for (int i = 0; i < n; i++) (m >> i & 1 ? ca : cb)[lab[i]]++;
        splits++;
        ge += brute_tv(ca, cb, k) >= tv - 1e-12;
    }
    return (double)ge / (double)splits;
}

int main(void) {
    unsigned st = 7;
    for (int t = 0; t < 200; t++) { /* TV against max over sets */
        long a[7], b[7];
        int any_a = 0, any_b = 0;
        for (int o = 0; o < 7; o++) {
            a[o] = (long)(fabs(test_rand(&st)) * 6);
            b[o] = (long)(fabs(test_rand(&st)) * 6);
            any_a += a[o] > 0;
            any_b += b[o] > 0;
        }
        if (!any_a || !any_b) continue;
        const double x = op_stats_tv(a, b, 7), y = brute_tv(a, b, 7);
        CHECKF(fabs(x - y) < 1e-12, "tv %g brute %g (case %d)", x, y, t);
    }
    {
        long a[4] = {1, 2, 3, 4}, b[4] = {2, 4, 6, 8}, c[4] = {0, 0, 5, 0}, d[4] = {3, 1, 0, 0};
        CHECK(fabs(op_stats_tv(a, b, 4)) < 1e-15);
        CHECK(fabs(op_stats_tv(c, d, 4) - 1) < 1e-15);
        long z[4] = {0};
        CHECK(isnan(op_stats_tv(a, z, 4)));
    }
    /* permutation p-value against the exact one: 5 + 4 units over 3 ops, C(9, 5) = 126 splits */
    const long pa[3][3] = {{3, 1, 1}, {2, 2, 1}, {4, 1, 0}}, pb[3][3] = {{0, 1, 3}, {1, 2, 1}, {0, 0, 4}};
    for (int c = 0; c < 3; c++) {
        const int draws = 40000;
        double q95;
        const double mc = op_stats_perm_p(pa[c], pb[c], 3, draws, 11, &q95);
        const double ex = exact_perm_p(pa[c], pb[c], 3);
        const double se = sqrt(fmax(ex * (1 - ex), 1e-4) / draws);
        CHECKF(fabs(mc - ex) < 4 * se + 1.0 / draws, "case %d: permutation p %.5f, exact %.5f", c,
               mc, ex);
        printf("permutation p case %d: Monte Carlo %.5f, exact %.5f (null q95 %.4f)\n", c, mc, ex, q95);
    }
    /* bootstrap collapses when there is nothing to resample */
    {
        long units[6 * 4];
        for (int u = 0; u < 6; u++) {
            long row[4] = {4, 2, 1, 1};
            for (int o = 0; o < 4; o++) units[u * 4 + o] = row[o];
        }
        long ref[4] = {250000, 250000, 250000, 250000};
        op_stats_result r;
        CHECK(op_stats_compare(units, 6, ref, 4, 500, 3, &r) == 0);
        CHECKF(fabs(r.tv - 0.25) < 1e-12 && fabs(r.boot_lo - 0.25) < 2e-3 &&
                   fabs(r.boot_hi - 0.25) < 2e-3,
               "tv %g interval [%g, %g]", r.tv, r.boot_lo, r.boot_hi);
        CHECK(r.n_a == 48 && r.n_b == 1000000);
    }
    /* different vs same distributions; determinism */
    {
        long units[20 * 3], ref_diff[3] = {2, 3, 35}, ref_same[3] = {20, 10, 10};
        for (int u = 0; u < 20; u++) { /* 8 ops each: 4, 2, 2 */
            units[u * 3] = 4;
            units[u * 3 + 1] = 2;
            units[u * 3 + 2] = 2;
        }
        op_stats_result d, s, s2, s3;
        CHECK(op_stats_compare(units, 20, ref_diff, 3, 4000, 5, &d) == 0);
        CHECK(op_stats_compare(units, 20, ref_same, 3, 4000, 5, &s) == 0);
        CHECK(op_stats_compare(units, 20, ref_same, 3, 4000, 5, &s2) == 0);
        CHECK(op_stats_compare(units, 20, ref_same, 3, 4000, 6, &s3) == 0);
        CHECKF(d.p_value < 0.01 && d.tv > d.null_q95 && d.boot_lo > d.null_q95,
               "different: tv %g p %g q95 %g lo %g", d.tv, d.p_value, d.null_q95, d.boot_lo);
        CHECKF(s.tv < 1e-12 && s.p_value > 0.5 && s.null_q95 > 0, "same: tv %g p %g", s.tv,
               s.p_value);
        CHECK(s.p_value == s2.p_value && s.boot_lo == s2.boot_lo && s.boot_hi == s2.boot_hi &&
              s.null_q95 == s2.null_q95);
        CHECK(s.null_q95 != s3.null_q95 || s.boot_hi != s3.boot_hi);
        long empty[3] = {0};
        CHECK(op_stats_compare(units, 20, empty, 3, 100, 5, &d) == -1 && isnan(d.tv));
    }
    return test_summary("test_op_stats");
}
