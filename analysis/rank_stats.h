/* analysis/rank_stats.h: the statistics freenas_report prints: mean and sample std, Spearman
 * rho (GSL), Kendall tau-b with ties (Knight's O(n log n) algorithm), the pairwise order
 * agreement of a majority vote of proxies (the zero-cost-nas "vote" figure, docs/METHOD.md §7.1) and
 * the top-k overlaps of Abdelfattah et al.'s tables (top-10%/top-10%, top-64/top-5%).
 *
 * NaN handling is the caller's: the functions here take non-NaN values only (the report
 * filters NaN proxies and missing ground truth first and counts them), except
 * rank_stats_pair_agreement, which follows the notebook's NaN rule. Checked by
 * tests/analysis/test_rank_stats.c against brute-force computations:
 *   ctest --test-dir build -R rank_stats --output-on-failure */
#ifndef FN_RANK_STATS_H
#define FN_RANK_STATS_H

#include <stddef.h>
#include <stdint.h>

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

/* Pairwise order agreement of a majority vote of k scores x[0..k) (each x[m] of length n) with
 * the ground truth y, as the zero-cost-nas NB201 notebook computes its "vote" figure (docs/METHOD.md
 * §7.1, §6 item 9): over the ordered pairs (i, j), i != j, with y[i] != y[j] (a NaN y[i] drops
 * its pairs), the vote ranks i above j when at least half of the scores are strictly greater at
 * i (2 * #{m : x[m][i] > x[m][j]} >= k), and the pair counts as right when that agrees with
 * y[i] > y[j]. A tie or a NaN in a score is "not greater" in both orders, so such a pair is right
 * in exactly one of its two orders. k = 1 gives one proxy's fraction of correctly ordered pairs,
 * (1 + tau) / 2 when nothing ties. The notebook's vote is k = 3 over synflow, jacob_cov and snip.
 * Brute force over the n(n-1)/2 pairs (both orders of a pair at once, branch-free), OpenMP
 * over i: for all 15,625 NB201 architectures 0.14 s (one score) and 0.29 s (three) on one
 * core. *pairs (when not NULL) gets the number of ordered pairs counted. NaN when there is
 * none. */
double rank_stats_pair_agreement(const double *const *x, int k, const double *y, size_t n,
                                 int64_t *pairs);

/* Membership weights of the top m of x[0..n) (largest first; -inf lowest, no NaN): 1 for a
 * value above the m-th largest, 0 below it, and s/g for each of the g values tied at the
 * boundary when s of the m places are left for them: the probability of being in the top m
 * when ties are broken at random. The weights sum to min(m, n). */
void rank_stats_top_weights(const double *x, size_t n, size_t m, double *w);

/* Expected number of items in both the top mx by x and the top my by y (sum of the products of
 * the two membership weights: ties broken at random and independently). "top-10%/top-10%" is
 * rank_stats_top_overlap(x, n / 10, y, n / 10, n) / (n / 10); "top-64/top-5%" is
 * rank_stats_top_overlap(x, 64, y, n / 20, n). */
double rank_stats_top_overlap(const double *x, size_t mx, const double *y, size_t my, size_t n);

/* Average ranks (1-based, ties share their mean rank) of x[0..n) into rank[0..n). */
void rank_stats_average_ranks(const double *x, size_t n, double *rank);

#endif
