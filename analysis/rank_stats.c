/* analysis/rank_stats.c: mean / std, Spearman rho and Kendall tau-b (see rank_stats.h). */
#include "analysis/rank_stats.h"

#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"

rank_stats_mean_std rank_stats_mean_std_of(const double *x, size_t n) {
    rank_stats_mean_std r = {NAN, NAN, 0};
    double *v = mallocCheck((n ? n : 1) * sizeof *v);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(x[i])) v[m++] = x[i];
    r.n = (long)m;
    if (m >= 1) r.mean = gsl_stats_mean(v, 1, m);
    if (m >= 2) r.std = gsl_stats_sd_m(v, 1, m, r.mean);
    free(v);
    return r;
}

void rank_stats_acc_add(rank_stats_acc *a, double v) {
    if (isnan(v)) return;
    a->n++;
    double d = v - a->mean;
    a->mean += d / (double)a->n;
    a->m2 += d * (v - a->mean);
}

rank_stats_mean_std rank_stats_acc_get(const rank_stats_acc *a) {
    rank_stats_mean_std r = {NAN, NAN, a->n};
    if (a->n >= 1) r.mean = a->mean;
    if (a->n >= 2) r.std = sqrt((a->m2 > 0 ? a->m2 : 0) / (double)(a->n - 1));
    return r;
}

double rank_stats_spearman(const double *x, const double *y, size_t n) {
    if (n < 2) return NAN;
    double *work = mallocCheck(2 * n * sizeof *work);
    double rho = gsl_stats_spearman(x, 1, y, 1, n, work);
    free(work);
    return isfinite(rho) ? rho : NAN;
}

/* ---- ranks ---------------------------------------------------------------------------- */
static const double *g_rank_keys; /* qsort has no context argument in C11 */

static int cmp_index_by_key(const void *a, const void *b) {
    double x = g_rank_keys[*(const size_t *)a], y = g_rank_keys[*(const size_t *)b];
    if (x < y) return -1;
    if (x > y) return 1;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    return (i > j) - (i < j);
}

void rank_stats_average_ranks(const double *x, size_t n, double *rank) {
    size_t *idx = mallocCheck((n ? n : 1) * sizeof *idx);
    for (size_t i = 0; i < n; i++) idx[i] = i;
    g_rank_keys = x;
    qsort(idx, n, sizeof *idx, cmp_index_by_key);
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && x[idx[j]] == x[idx[i]]) j++;
        double r = 0.5 * (double)(i + 1 + j); /* mean of ranks i+1 .. j */
        for (size_t k = i; k < j; k++) rank[idx[k]] = r;
        i = j;
    }
    free(idx);
}

/* ---- Kendall tau-b (Knight 1966) ------------------------------------------------------ */
typedef struct {
    double x, y;
} xy_pair;

static int cmp_xy(const void *a, const void *b) {
    const xy_pair *p = a, *q = b;
    if (p->x != q->x) return p->x < q->x ? -1 : 1;
    if (p->y != q->y) return p->y < q->y ? -1 : 1;
    return 0;
}

/* Stable merge sort of v[0..n) by y; returns the number of strict inversions (pairs i < j
 * with y_i > y_j), the discordant pairs once v is sorted by (x, y). */
static int64_t merge_count(xy_pair *v, xy_pair *tmp, size_t n) {
    int64_t swaps = 0;
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) {
                if (v[j].y < v[i].y) { /* v[j] jumps over every remaining left element */
                    swaps += (int64_t)(mid - i);
                    tmp[k++] = v[j++];
                } else {
                    tmp[k++] = v[i++];
                }
            }
            while (i < mid) tmp[k++] = v[i++];
            while (j < hi) tmp[k++] = v[j++];
        }
        memcpy(v, tmp, n * sizeof *v);
    }
    return swaps;
}

double rank_stats_kendall_tau_b(const double *x, const double *y, size_t n) {
    if (n < 2) return NAN;
    xy_pair *v = mallocCheck(n * sizeof *v), *tmp = mallocCheck(n * sizeof *tmp);
    for (size_t i = 0; i < n; i++) v[i] = (xy_pair){x[i], y[i]};
    qsort(v, n, sizeof *v, cmp_xy);
    int64_t n0 = (int64_t)n * (int64_t)(n - 1) / 2, n1 = 0, n3 = 0, n2 = 0;
    for (size_t i = 0; i < n;) { /* ties in x (n1), and in x and y together (n3) */
        size_t j = i + 1;
        while (j < n && v[j].x == v[i].x) j++;
        int64_t t = (int64_t)(j - i);
        n1 += t * (t - 1) / 2;
        for (size_t a = i; a < j;) {
            size_t b = a + 1;
            while (b < j && v[b].y == v[a].y) b++;
            int64_t u = (int64_t)(b - a);
            n3 += u * (u - 1) / 2;
            a = b;
        }
        i = j;
    }
    int64_t discordant = merge_count(v, tmp, n);
    for (size_t i = 0; i < n;) { /* v is now sorted by y: ties in y (n2) */
        size_t j = i + 1;
        while (j < n && v[j].y == v[i].y) j++;
        int64_t t = (int64_t)(j - i);
        n2 += t * (t - 1) / 2;
        i = j;
    }
    free(v);
    free(tmp);
    /* C - D = (n0 - n1 - n2 + n3) - 2 D: the pairs tied in neither x nor y are C + D */
    double num = (double)(n0 - n1 - n2 + n3) - 2.0 * (double)discordant;
    double den = sqrt((double)(n0 - n1)) * sqrt((double)(n0 - n2));
    if (!(den > 0)) return NAN;
    double tau = num / den;
    return tau > 1 ? 1 : tau < -1 ? -1 : tau;
}

/* ---- pairwise order agreement of a majority vote (zero-cost-nas "vote") ---------------- */
/* Row i against every j > i in branch-free passes the compiler vectorises: up[t] / down[t]
 * count the scores strictly greater at i / at j = i + 1 + t (a NaN compares false both ways),
 * then each pair adds 1 + s * (i_above - j_above) right orders of its 2, s = +1 when y[i] > y[j]
 * and -1 when y[i] < y[j]: (i, j) is right when the vote for i matches, (j, i) likewise. */
static void agreement_row(const double *const *x, int k, const double *y, size_t n, size_t i,
                          int *restrict up, int *restrict down, int64_t *right, int64_t *total) {
    const size_t b = i + 1, len = n - b;
    const double yi = y[i];
    for (size_t t = 0; t < len; t++) up[t] = down[t] = 0;
    for (int m = 0; m < k; m++) {
        const double xi = x[m][i];
        const double *restrict xm = x[m] + b;
        for (size_t t = 0; t < len; t++) {
            up[t] += xi > xm[t];
            down[t] += xm[t] > xi;
        }
    }
    const double *restrict yb = y + b;
    /* int sums over blocks of 2^20 pairs (at most 2^21 each), added up in 64 bits */
    for (size_t t0 = 0; t0 < len; t0 += (size_t)1 << 20) {
        size_t t1 = len - t0 > ((size_t)1 << 20) ? t0 + ((size_t)1 << 20) : len;
        int r = 0, c = 0;
        for (size_t t = t0; t < t1; t++) {
            int valid = (yb[t] == yb[t]) & (yb[t] != yi); /* not NaN, not tied */
            int s = (yi > yb[t]) - (yi < yb[t]);
            int ia = 2 * up[t] >= k, ja = 2 * down[t] >= k;
            r += valid * (1 + s * (ia - ja));
            c += 2 * valid;
        }
        *right += r;
        *total += c;
    }
}

double rank_stats_pair_agreement(const double *const *x, int k, const double *y, size_t n,
                                 int64_t *pairs) {
    int64_t right = 0, total = 0;
    const long nn = (long)n;
#pragma omp parallel reduction(+ : right, total)
    {
        int *up = mallocCheck((n ? n : 1) * sizeof *up), *down = mallocCheck((n ? n : 1) * sizeof *down);
#pragma omp for schedule(dynamic, 64)
        for (long i = 0; i < nn; i++)
            if (!isnan(y[i])) agreement_row(x, k, y, n, (size_t)i, up, down, &right, &total);
        free(up);
        free(down);
    }
    if (pairs) *pairs = total;
    return total ? (double)right / (double)total : NAN;
}

/* ---- top-k overlaps (Abdelfattah et al.: top-10%/top-10%, top-64/top-5%) ------------- */
void rank_stats_top_weights(const double *x, size_t n, size_t m, double *w) {
    size_t *idx = mallocCheck((n ? n : 1) * sizeof *idx);
    for (size_t i = 0; i < n; i++) idx[i] = i;
    g_rank_keys = x;
    qsort(idx, n, sizeof *idx, cmp_index_by_key); /* ascending: the top is at the end */
    size_t left = m < n ? m : n;                  /* places still free, from the top down */
    for (size_t hi = n; hi > 0;) {
        size_t lo = hi - 1;
        while (lo > 0 && x[idx[lo - 1]] == x[idx[hi - 1]]) lo--;
        size_t g = hi - lo, s = left < g ? left : g;
        for (size_t k = lo; k < hi; k++) w[idx[k]] = (double)s / (double)g;
        left -= s;
        hi = lo;
    }
    free(idx);
}

double rank_stats_top_overlap(const double *x, size_t mx, const double *y, size_t my, size_t n) {
    double *wx = mallocCheck((n ? n : 1) * sizeof *wx), *wy = mallocCheck((n ? n : 1) * sizeof *wy);
    rank_stats_top_weights(x, n, mx, wx);
    rank_stats_top_weights(y, n, my, wy);
    double o = 0;
    for (size_t i = 0; i < n; i++) o += wx[i] * wy[i];
    free(wx);
    free(wy);
    return o;
}
