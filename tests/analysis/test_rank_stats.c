/* tests/analysis/test_rank_stats.c: the statistics of freenas_report (analysis/rank_stats.h)
 * against independent computations written here:
 *   - Kendall tau-b (Knight, O(n log n)) against a brute-force O(n^2) count of concordant,
 *     discordant and tied pairs, on random data with and without ties
 *   - Spearman rho (GSL) against the Pearson correlation of average ranks computed here
 *   - textbook values: perfect and reversed order, a tied example with tau-b = 0.8 and
 *     rho = 5/6 by hand, SciPy's documented kendalltau example (-0.47140452079103173)
 *   - mean and sample std (GSL and the streaming form) against two-pass sums; n = 15,625
 *     (all NB201 archs) in well under 2 s
 *   ./test_rank_stats */
#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "analysis/rank_stats.h"
#include "tests/test_util.h"

/* tau-b from all pairs: (C - D) / sqrt((n0 - n1)(n0 - n2)) */
static double brute_tau_b(const double *x, const double *y, size_t n) {
    double c = 0, d = 0, tx = 0, ty = 0, n0 = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            double dx = x[i] - x[j], dy = y[i] - y[j];
            n0++;
            if (dx == 0) tx++;
            if (dy == 0) ty++;
            if (dx != 0 && dy != 0) {
                if ((dx > 0) == (dy > 0)) c++;
                else d++;
            }
        }
    return (c - d) / sqrt((n0 - tx) * (n0 - ty));
}

/* average ranks by counting: rank = 1 + #less + (#equal - 1) / 2 */
static void brute_ranks(const double *x, size_t n, double *r) {
    for (size_t i = 0; i < n; i++) {
        double less = 0, equal = 0;
        for (size_t j = 0; j < n; j++) {
            less += x[j] < x[i];
            equal += x[j] == x[i];
        }
        r[i] = 1 + less + (equal - 1) / 2;
    }
}

static double pearson(const double *a, const double *b, size_t n) {
    double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < n; i++) {
        ma += a[i];
        mb += b[i];
    }
    ma /= (double)n;
    mb /= (double)n;
    for (size_t i = 0; i < n; i++) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
    }
    return sab / sqrt(saa * sbb);
}

static double brute_spearman(const double *x, const double *y, size_t n) {
    double *rx = malloc(n * sizeof *rx), *ry = malloc(n * sizeof *ry);
    brute_ranks(x, n, rx);
    brute_ranks(y, n, ry);
    double r = pearson(rx, ry, n);
    free(rx);
    free(ry);
    return r;
}

static void check_value(const char *what, double got, double want, double tol) {
    CHECKF(fabs(got - want) <= tol, "%s: got %.17g, want %.17g", what, got, want);
    if (fabs(got - want) <= tol) printf("ok   %-40s %.12f\n", what, got);
}

/* random data, ties drawn from `levels` values per variable when levels > 0, y correlated
 * with x by mixing (mix < 0: anti-correlated) */
static void random_case(const char *name, size_t n, int levels, double mix, unsigned seed) {
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    unsigned st = seed;
    for (size_t i = 0; i < n; i++) {
        double a = test_rand(&st), b = test_rand(&st);
        x[i] = a;
        y[i] = mix * a + (1 - fabs(mix)) * b;
        if (levels > 0) {
            x[i] = floor((x[i] + 1) * levels / 2);
            y[i] = floor((y[i] + 1) * levels / 2);
        }
    }
    char what[128];
    double tau = rank_stats_kendall_tau_b(x, y, n), want_tau = brute_tau_b(x, y, n);
    snprintf(what, sizeof what, "%s tau-b vs brute force", name);
    check_value(what, tau, want_tau, 1e-12);
    double rho = rank_stats_spearman(x, y, n), want_rho = brute_spearman(x, y, n);
    snprintf(what, sizeof what, "%s rho vs Pearson of ranks", name);
    check_value(what, rho, want_rho, 1e-12);
    free(x);
    free(y);
}

int main(void) {
    /* textbook values */
    const double up[6] = {1, 2, 3, 4, 5, 6}, down[6] = {60, 50, 40, 30, 20, 10};
    const double sq[6] = {1, 4, 9, 16, 25, 36};
    check_value("perfect order tau-b", rank_stats_kendall_tau_b(up, sq, 6), 1, 1e-15);
    check_value("perfect order rho", rank_stats_spearman(up, sq, 6), 1, 1e-15);
    check_value("reversed order tau-b", rank_stats_kendall_tau_b(up, down, 6), -1, 1e-15);
    check_value("reversed order rho", rank_stats_spearman(up, down, 6), -1, 1e-15);
    /* x = 1 2 2 3, y = 1 2 3 3: C = 4, D = 0, one pair tied in x, one in y:
     * tau-b = 4 / sqrt(5 * 5) = 0.8; ranks 1 2.5 2.5 4 and 1 2 3.5 3.5: rho = 3.75 / 4.5 */
    const double tx[4] = {1, 2, 2, 3}, ty[4] = {1, 2, 3, 3};
    check_value("tied example tau-b (hand)", rank_stats_kendall_tau_b(tx, ty, 4), 0.8, 1e-15);
    check_value("tied example rho (hand)", rank_stats_spearman(tx, ty, 4), 5.0 / 6.0, 1e-15);
    /* SciPy's kendalltau docstring: x1 = [12, 2, 1, 12, 2], x2 = [1, 4, 7, 1, 0] */
    const double sx[5] = {12, 2, 1, 12, 2}, sy[5] = {1, 4, 7, 1, 0};
    check_value("scipy example tau-b", rank_stats_kendall_tau_b(sx, sy, 5),
                -0.47140452079103173, 1e-15);
    check_value("scipy example brute tau-b", brute_tau_b(sx, sy, 5), -0.47140452079103173, 1e-15);
    /* undefined cases are NaN, not a crash */
    const double flat[4] = {3, 3, 3, 3};
    CHECK(isnan(rank_stats_kendall_tau_b(flat, ty, 4)));
    CHECK(isnan(rank_stats_spearman(flat, ty, 4)));
    CHECK(isnan(rank_stats_kendall_tau_b(up, sq, 1)));
    CHECK(isnan(rank_stats_spearman(up, sq, 0)));

    /* average ranks */
    double r[4];
    rank_stats_average_ranks(tx, 4, r);
    const double want_r[4] = {1, 2.5, 2.5, 4};
    check_close("average ranks with ties", r, want_r, 4, 0, 0);

    /* random data: no ties, few ties, many ties, and odd sizes for the merge sort */
    random_case("n=1000 continuous", 1000, 0, 0.6, 1);
    random_case("n=1001 10 levels", 1001, 10, 0.6, 2);
    random_case("n=777 3 levels", 777, 3, 0.6, 3);
    random_case("n=1000 anti-correlated", 1000, 0, -0.5, 4);
    random_case("n=999 anti, 7 levels", 999, 7, -0.3, 5);
    random_case("n=9 3 levels", 9, 3, 0.2, 7);
    random_case("n=3000 uncorrelated, 50 levels", 3000, 50, 0.0, 6);

    /* mean / sample std */
    double v[5] = {93.1, 93.5, NAN, 93.9, 94.3};
    rank_stats_mean_std m = rank_stats_mean_std_of(v, 5);
    CHECK(m.n == 4);
    check_value("mean (NaN skipped)", m.mean, 93.7, 1e-12);
    check_value("sample std", m.std, sqrt((0.36 + 0.04 + 0.04 + 0.36) / 3), 1e-12);
    rank_stats_acc acc = {0};
    for (int i = 0; i < 5; i++) rank_stats_acc_add(&acc, v[i]);
    rank_stats_mean_std ma = rank_stats_acc_get(&acc);
    CHECK(ma.n == 4);
    check_value("streaming mean", ma.mean, 93.7, 1e-12);
    check_value("streaming sample std", ma.std, m.std, 1e-12);
    rank_stats_mean_std one = rank_stats_mean_std_of(v, 1);
    CHECK(one.n == 1 && one.mean == 93.1 && isnan(one.std));

    /* all NB201 archs: Knight's algorithm and GSL are fast */
    size_t n = 15625;
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    unsigned st = 42;
    for (size_t i = 0; i < n; i++) {
        x[i] = floor(50 * test_rand(&st));
        y[i] = x[i] + 20 * test_rand(&st);
    }
    clock_t t0 = clock();
    double tau = rank_stats_kendall_tau_b(x, y, n), rho = rank_stats_spearman(x, y, n);
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    printf("     n=15625: tau-b %.6f rho %.6f in %.4f s\n", tau, rho, secs);
    CHECKF(secs < 2.0, "n=15625 took %.3f s", secs);
    check_value("n=15625 tau-b vs brute force", tau, brute_tau_b(x, y, n), 1e-12);
    free(x);
    free(y);
    return test_summary("test_rank_stats");
}
