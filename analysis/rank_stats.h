/* analysis/rank_stats.h: the statistics freenas_report prints: mean and sample std, Spearman
 * rho (GSL) and Kendall tau-b with ties (Knight's O(n log n) algorithm).
 *
 * NaN handling is the caller's: every function here takes finite values only (the report
 * filters NaN proxies and missing ground truth first and counts them). Checked by
 * tests/analysis/test_rank_stats.c against brute-force computations:
 *   ctest --test-dir build -R rank_stats --output-on-failure */
#ifndef FN_RANK_STATS_H
#define FN_RANK_STATS_H

#include <stddef.h>

typedef struct {
    double mean; /* NaN when n == 0 */
    double std;  /* sample std (n - 1); NaN when n < 2 */
    long n;
} rank_stats_mean_std;

/* Mean and sample standard deviation of x[0..n) (GSL), skipping NaN entries. */
rank_stats_mean_std rank_stats_mean_std_of(const double *x, size_t n);

/* Streaming form for tables: add values one at a time (NaN ignored), then finish. Welford's
 * update, so 1e6 values of about 93 keep full precision. */
typedef struct {
    long n;
    double mean, m2;
} rank_stats_acc;
void rank_stats_acc_add(rank_stats_acc *a, double v);
rank_stats_mean_std rank_stats_acc_get(const rank_stats_acc *a);

/* Spearman rho of x and y (n pairs, all finite): the Pearson correlation of the average ranks
 * (ties share the mean of their ranks), computed by gsl_stats_spearman. NaN when n < 2 or
 * when x or y is constant. */
double rank_stats_spearman(const double *x, const double *y, size_t n);

/* Kendall tau-b of x and y (n pairs, all finite), ties in x, in y and in both counted as in
 * Kendall (1945): (C - D) / sqrt((n0 - n1)(n0 - n2)), n0 = n(n-1)/2, n1 / n2 the pairs tied in
 * x / y. Knight (1966): sort by (x, y), count ties in runs, then count the discordant pairs as
 * the exchanges of a merge sort by y. O(n log n). NaN when n < 2 or x or y is constant. */
double rank_stats_kendall_tau_b(const double *x, const double *y, size_t n);

/* Average ranks (1-based, ties share their mean rank) of x[0..n) into rank[0..n). */
void rank_stats_average_ranks(const double *x, size_t n, double *rank);

#endif
