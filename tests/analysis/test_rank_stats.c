/* tests/analysis/test_rank_stats.c: the statistics of freenas_report (analysis/rank_stats.h)
 * against independent computations written here:
 *   - Kendall tau-b (Knight, O(n log n)) against a brute-force O(n^2) count of concordant,
 *     discordant and tied pairs, on random data with and without ties
 *   - Spearman rho (GSL) against the Pearson correlation of average ranks computed here
 *   - textbook values: perfect and reversed order, a tied example with tau-b = 0.8 and
 *     rho = 5/6 by hand, SciPy's documented kendalltau example (-0.47140452079103173)
 *   - mean and sample std (GSL and the streaming form) against two-pass sums
 *   - the pairwise order agreement of a majority vote (zero-cost-nas "vote") against a line
 *     by line transcription of the notebook's loop over ordered pairs, with ties and NaN, for
 *     k = 1, 2, 3 scores; k = 1 without ties against (1 + tau) / 2; hand values
 *   - top-k overlaps with ties: the membership weights and the expected overlap against the
 *     average over every tie-breaking order (all permutations of 6 items, for x and y apart)
 *   - n = 15,625 (all NB201 archs): tau-b against brute force; the time is printed
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

/* the notebook's vote loop, transcribed: every ordered pair i != j with a different ground
 * truth; numpos counts the scores whose difference is > 0 (a NaN difference is not); sign +1
 * when numpos >= k / 2 (a real division, as in Python 3); right when sign * diff > 0 */
static double notebook_vote(const double *const *x, int k, const double *y, size_t n) {
    double right = 0, tot = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            if (i == j) continue;
            double diff = y[i] - y[j];
            if (diff == 0 || isnan(diff)) continue;
            int numpos = 0;
            for (int m = 0; m < k; m++) numpos += (x[m][i] - x[m][j]) > 0 ? 1 : 0;
            double sign = numpos >= k / 2.0 ? +1 : -1;
            right += sign * diff > 0 ? 1 : 0;
            tot += 1;
        }
    return right / tot;
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

/* random scores with ties (levels) and NaN, ground truth with ties: k = 1, 2, 3 against the
 * notebook's loop */
static void vote_case(const char *name, size_t n, int levels, double nan_frac, unsigned seed) {
    double *buf = malloc(4 * n * sizeof *buf), *y = buf + 3 * n;
    const double *x[3] = {buf, buf + n, buf + 2 * n};
    unsigned st = seed;
    for (size_t i = 0; i < n; i++) {
        y[i] = floor(20 * (test_rand(&st) + 1));
        for (int m = 0; m < 3; m++) {
            double v = 0.5 * y[i] + 10 * test_rand(&st);
            if (levels > 0) v = floor(v * levels / 30);
            if (0.5 * (test_rand(&st) + 1) < nan_frac) v = NAN;
            buf[(size_t)m * n + i] = v;
        }
    }
    if (n > 4) y[3] = NAN; /* a missing ground truth drops its pairs */
    char what[128];
    for (int k = 1; k <= 3; k++) {
        int64_t pairs = 0;
        double got = rank_stats_pair_agreement(x, k, y, n, &pairs);
        snprintf(what, sizeof what, "%s vote k=%d vs notebook loop", name, k);
        check_value(what, got, notebook_vote(x, k, y, n), 1e-14);
        int64_t want_pairs = 0;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++) want_pairs += i != j && y[i] != y[j] && !isnan(y[i]) &&
                                                         !isnan(y[j]);
        CHECKF(pairs == want_pairs, "%s pairs: got %lld, want %lld", what, (long long)pairs,
               (long long)want_pairs);
    }
    free(buf);
}

/* all permutations of 0..n-1, in order, into perms[n! * n] */
static size_t permutations(int n, int *perms) {
    int a[8];
    for (int i = 0; i < n; i++) a[i] = i;
    size_t count = 0;
    for (;;) {
        for (int i = 0; i < n; i++) perms[count * (size_t)n + (size_t)i] = a[i];
        count++;
        int i = n - 2; /* next permutation, lexicographic */
        while (i >= 0 && a[i] > a[i + 1]) i--;
        if (i < 0) return count;
        int j = n - 1;
        while (a[j] < a[i]) j--;
        int t = a[i]; a[i] = a[j]; a[j] = t;
        for (int l = i + 1, r = n - 1; l < r; l++, r--) { t = a[l]; a[l] = a[r]; a[r] = t; }
    }
}

/* the top m of v under one tie-breaking order (perm: a priority per item, lower first): item i
 * is in when fewer than m items beat it (larger value, or equal value and earlier priority) */
static void top_set(const double *v, const int *prio, int n, int m, int *in) {
    for (int i = 0; i < n; i++) {
        int beat = 0;
        for (int j = 0; j < n; j++)
            beat += v[j] > v[i] || (v[j] == v[i] && prio[j] < prio[i]);
        in[i] = beat < m;
    }
}

/* E|top mx by x  and  top my by y| over every pair of tie-breaking orders */
static double brute_top_overlap(const double *x, int mx, const double *y, int my, int n) {
    static int perms[720 * 6];
    size_t np = permutations(n, perms);
    double sum = 0;
    int ix[6], iy[6];
    for (size_t a = 0; a < np; a++) {
        top_set(x, perms + a * (size_t)n, n, mx, ix);
        for (size_t b = 0; b < np; b++) {
            top_set(y, perms + b * (size_t)n, n, my, iy);
            for (int i = 0; i < n; i++) sum += ix[i] && iy[i];
        }
    }
    return sum / ((double)np * (double)np);
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

    /* pairwise order agreement (the zero-cost-nas vote) */
    const double *one_up[1] = {up}, *one_down[1] = {down};
    check_value("agreement, perfect order", rank_stats_pair_agreement(one_up, 1, sq, 6, NULL), 1,
                0);
    check_value("agreement, reversed order", rank_stats_pair_agreement(one_down, 1, sq, 6, NULL),
                0, 0);
    /* hand example: 3 archs, y = 1 2 3; scores a = 1 2 3, b = 3 2 1, c = 1 1 2.
     * archs 0, 1: only a is greater at 1, only b at 0 (c ties): no majority either way, so the
     *   vote never ranks one above the other: order (0, 1) is right, (1, 0) wrong.
     * archs 0, 2 and 1, 2: a and c are greater at 2: both orders right. 5 of 6 */
    const double va[3] = {1, 2, 3}, vb[3] = {3, 2, 1}, vc[3] = {1, 1, 2}, vy[3] = {1, 2, 3};
    const double *abc[3] = {va, vb, vc};
    int64_t hand_pairs = 0;
    check_value("vote hand example", rank_stats_pair_agreement(abc, 3, vy, 3, &hand_pairs),
                5.0 / 6.0, 1e-15);
    CHECK(hand_pairs == 6);
    /* c alone: its tie at archs 0, 1 is right in one order of two, the other pairs in both */
    const double *c_only[1] = {vc};
    check_value("agreement with a tied pair", rank_stats_pair_agreement(c_only, 1, vy, 3, NULL),
                5.0 / 6.0, 1e-15);
    CHECK(isnan(rank_stats_pair_agreement(one_up, 1, flat, 4, NULL))); /* no pair differs */
    vote_case("n=300 continuous", 300, 0, 0.0, 11);
    vote_case("n=301 5 levels, 5% NaN", 301, 5, 0.05, 12);
    vote_case("n=200 2 levels, 20% NaN", 200, 2, 0.2, 13);
    /* one score, no ties: (1 + tau) / 2 */
    {
        size_t nv = 1000;
        double *xv = malloc(nv * sizeof *xv), *yv = malloc(nv * sizeof *yv);
        unsigned sv = 21;
        for (size_t i = 0; i < nv; i++) {
            xv[i] = test_rand(&sv);
            yv[i] = 0.4 * xv[i] + test_rand(&sv);
        }
        const double *xs1[1] = {xv};
        check_value("agreement = (1 + tau) / 2, no ties",
                    rank_stats_pair_agreement(xs1, 1, yv, nv, NULL),
                    0.5 * (1 + rank_stats_kendall_tau_b(xv, yv, nv)), 1e-12);
        free(xv);
        free(yv);
    }

    /* top-k overlaps: ties broken at random, against every tie-breaking order */
    {
        const double tx6[6] = {3, 1, 3, 2, 3, -INFINITY}, ty6[6] = {5, 5, 4, 5, 1, 0};
        double w[6];
        rank_stats_top_weights(tx6, 6, 2, w); /* three 3s share 2 places */
        const double want_w[6] = {2.0 / 3, 0, 2.0 / 3, 0, 2.0 / 3, 0};
        check_close("top-2 weights, three tied for 2 places", w, want_w, 6, 1e-15, 0);
        rank_stats_top_weights(tx6, 6, 5, w); /* 3 3 3 2 1 in, -inf out */
        const double want_w5[6] = {1, 1, 1, 1, 1, 0};
        check_close("top-5 weights", w, want_w5, 6, 0, 0);
        for (int mx = 1; mx <= 6; mx++)
            for (int my = 1; my <= 6; my += 2) {
                char what[96];
                snprintf(what, sizeof what, "top-%d x / top-%d y overlap vs all orders", mx, my);
                check_value(what, rank_stats_top_overlap(tx6, (size_t)mx, ty6, (size_t)my, 6),
                            brute_top_overlap(tx6, mx, ty6, my, 6), 1e-12);
            }
        /* no ties: the plain intersection of the two top sets */
        size_t nt = 500;
        double *xt = malloc(nt * sizeof *xt), *yt = malloc(nt * sizeof *yt);
        unsigned s5 = 5;
        for (size_t i = 0; i < nt; i++) {
            xt[i] = test_rand(&s5);
            yt[i] = xt[i] + test_rand(&s5);
        }
        int both = 0;
        for (size_t i = 0; i < nt; i++) {
            int bx = 0, by = 0;
            for (size_t j = 0; j < nt; j++) {
                bx += xt[j] > xt[i];
                by += yt[j] > yt[i];
            }
            both += bx < 50 && by < 25;
        }
        check_value("top-50 / top-25 overlap, no ties", rank_stats_top_overlap(xt, 50, yt, 25, nt),
                    both, 1e-12);
        free(xt);
        free(yt);
    }

    /* all NB201 archs: Knight's algorithm and GSL; the time is printed (speed lives in bench/) */
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
    check_value("n=15625 tau-b vs brute force", tau, brute_tau_b(x, y, n), 1e-12);
    const double *xs3[3] = {x, y, x};
    t0 = clock();
    double vote = rank_stats_pair_agreement(xs3, 3, y, n, NULL);
    printf("     n=15625: vote of 3 scores %.6f in %.3f s CPU\n", vote,
           (double)(clock() - t0) / CLOCKS_PER_SEC);
    /* x, y, x: the majority is x's order wherever x does not tie; x ties cost half a pair */
    check_value("n=15625 vote(x, y, x) = agreement(x)", vote,
                rank_stats_pair_agreement((const double *const[]){x}, 1, y, n, NULL), 1e-15);
    free(x);
    free(y);
    return test_summary("test_rank_stats");
}
