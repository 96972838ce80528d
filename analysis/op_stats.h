/* analysis/op_stats.h: how far one distribution of chosen DARTS operations is from another
 * (freenas's genotypes against FreeDARTS's counts of docs/METHOD.md §7.4), as numbers:
 *   - total variation distance TV(p, q) = 1/2 sum_o |p_o - q_o| of the two op shares;
 *   - a bootstrap 95 % interval of TV: our genotypes resampled whole (the 8 ops of one
 *     search are not independent), the reference counts drawn multinomially from their shares
 *     (the reference gives counts only, not its genotypes);
 *   - a permutation test of "both are draws from one distribution": the pooled ops split at
 *     random into groups of the two sizes; the null's 95 % quantile of TV is the distance
 *     sampling alone produces at these sizes, and p = (1 + #{TV_perm >= TV}) / (1 + draws).
 * Both resamplings use GSL's MT19937 with a fixed seed: the same input gives the same numbers.
 * Checked by tests/analysis/test_op_stats.c (TV against max over op sets |P(A) - Q(A)|, the
 * permutation p-value against the exact enumeration of every split of a tiny case). */
#ifndef FN_OP_STATS_H
#define FN_OP_STATS_H

#include <stdint.h>

/* 1/2 sum |a_o / na - b_o / nb| over k categories (counts; na, nb their sums). NaN when a sum
 * is 0. */
double op_stats_tv(const long *a, const long *b, int k);

typedef struct {
    double tv;          /* observed distance */
    double boot_lo, boot_hi; /* bootstrap 2.5 % and 97.5 % quantiles of TV */
    double null_q95;    /* permutation null: 95 % quantile of TV */
    double p_value;     /* permutation p-value of TV */
    long n_a, n_b;      /* ops in each sample */
} op_stats_result;

/* a_units: n_units rows of k counts (one row per genotype of one cell type: the ops it chose),
 * b: k reference counts. draws: resamples of each kind (e.g. 10000); seed: the generator's
 * seed. Returns 0, or -1 when a sample is empty (r is then NaN). */
int op_stats_compare(const long *a_units, int n_units, const long *b, int k, int draws,
                     uint64_t seed, op_stats_result *r);

/* The permutation p-value alone (as in op_stats_compare), for tests. */
double op_stats_perm_p(const long *a, const long *b, int k, int draws, uint64_t seed,
                       double *null_q95);

#endif
