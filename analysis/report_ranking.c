/* analysis/report_ranking.c: how well each zero-cost proxy ranks the architectures it scored,
 * against the scoring dataset's own ground truth, beyond a rank correlation: the table under
 * each group of freenas_report's "Rank correlations" section and ranking.csv.
 *
 * Per predictor (each proxy, and the zero-cost-nas vote when synflow, jacob_cov and snip are
 * all there):
 *   - pairwise order agreement (rank_stats_pair_agreement): the fraction of ordered pairs of
 *     architectures with different ground truth that the predictor orders as the ground truth
 *     does. The vote is the majority of synflow, jacob_cov and snip, the last column of
 *     docs/METHOD.md §7.1 (its paper figure is shown). Every architecture with ground truth counts;
 *     a NaN score is "not greater" in both orders, as in the notebook.
 *   - Abdelfattah et al.'s top-architecture statistics, over the architectures whose score is
 *     not NaN: Spearman rho and Kendall tau-b among the top 10 % by ground truth (every
 *     architecture at or above the floor(n/10)-th best value), the share of the top 10 % by
 *     ground truth that is also in the top 10 % by the proxy ("top-10%/top-10%", in %), and
 *     how many of the proxy's top 64 are in the top 5 % by ground truth ("top-64/top-5%").
 *     Ties at a boundary are broken at random in expectation (rank_stats_top_overlap). No
 *     paper figure: docs/METHOD.md has none for NB201.
 * A proxy ranks in its own direction: one whose records' proxy_direction (the registry sign
 * freenas_sweep wrote, analysis/report_corr.c) says smaller is better (ntk_cond) is negated
 * first, so "top" is always the proxy's best and an agreement below 0.5 is worse than chance. The vote takes the three raw scores, as the notebook.
 * Own ground truth: CIFAR-10 valid accuracy on cifar10 (the notebook's, §6 item 9), the test
 * accuracy on cifar100 / imagenet16-120, else the first column present.
 *   ranking.csv: group, dataset, predictor, direction (+1 larger is better, -1 smaller),
 *   ground truth, archs with ground truth, NaN scores,
 *   ordered pairs, agreement, paper vote, archs in the top-10 % subset, rho and tau-b there,
 *   top-10%/top-10% (%), top-64/top-5%. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/paper_ref.h"
#include "analysis/report.h"
#include "base/common.h"

/* the notebook's vote: the majority of these three proxies (docs/METHOD.md §7.1) */
static const char *const vote_set[3] = {"synflow", "jacob_cov", "snip"};

static int own_ground_truth(const char *dataset, const int *has_gt) {
    int t = report_dataset_paper_index(dataset) == PAPER_C10 ? 0 : report_dataset_test_acc(dataset);
    if (t >= 0 && has_gt[t]) return t;
    for (t = 0; t < REPORT_NUM_ACC; t++)
        if (has_gt[t]) return t;
    return -1;
}

typedef struct {
    size_t n_top;            /* archs in the top-10 % subset by ground truth */
    double rho_top, tau_top; /* rank correlations there */
    double top10, top64;     /* top-10%/top-10% in %, top-64/top-5% */
} topk_stats;

static int cmp_desc(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

/* the top-architecture statistics of one proxy x against y (n archs, y never NaN, x NaN
 * dropped) */
static topk_stats top_stats(const double *x, const double *y, size_t n) {
    topk_stats s = {0, NAN, NAN, NAN, NAN};
    double *xs = mallocCheck((n ? n : 1) * sizeof *xs), *ys = mallocCheck((n ? n : 1) * sizeof *ys);
    size_t m = 0;
    for (size_t a = 0; a < n; a++)
        if (!isnan(x[a])) {
            xs[m] = x[a];
            ys[m++] = y[a];
        }
    size_t k10 = m / 10, k5 = m / 20;
    if (k10 >= 2) {
        double *sorted = mallocCheck(m * sizeof *sorted);
        memcpy(sorted, ys, m * sizeof *sorted);
        qsort(sorted, m, sizeof *sorted, cmp_desc);
        const double floor10 = sorted[k10 - 1];
        free(sorted);
        double *tx = mallocCheck(m * sizeof *tx), *ty = mallocCheck(m * sizeof *ty);
        for (size_t a = 0; a < m; a++)
            if (ys[a] >= floor10) {
                tx[s.n_top] = xs[a];
                ty[s.n_top++] = ys[a];
            }
        s.rho_top = rank_stats_spearman(tx, ty, s.n_top);
        s.tau_top = rank_stats_kendall_tau_b(tx, ty, s.n_top);
        free(tx);
        free(ty);
        s.top10 = 100.0 * rank_stats_top_overlap(xs, k10, ys, k10, m) / (double)k10;
    }
    if (k5 >= 1 && m >= 64) s.top64 = rank_stats_top_overlap(xs, 64, ys, k5, m);
    free(xs);
    free(ys);
    return s;
}

void report_ranking_csv_header(FILE *csv) {
    fprintf(csv, "group,dataset,predictor,direction,ground_truth,n,nan_scores,ordered_pairs,agreement,"
                 "paper_vote,n_top10,spearman_rho_top10,kendall_tau_b_top10,top10_in_top10_pct,"
                 "top64_in_top5\n");
}

void report_ranking_table(report_ctx *c, const char *label, const char *dataset,
                          const char *const *proxies, const int *dir, int np, const double *px,
                          const double *gt, size_t narch, const int *has_gt, FILE *csv) {
    int t = own_ground_truth(dataset, has_gt);
    if (t < 0 || !np || narch < 2) return;
    int vote_p[3], nvote = 0;
    for (int v = 0; v < 3; v++)
        for (int p = 0; p < np; p++)
            if (!strcmp(proxies[p], vote_set[v])) vote_p[nvote++] = p;
    /* column-major copies of the archs with ground truth: one array per proxy, oriented
     * (best = largest), and y; the raw scores of the vote's three */
    double *cols = mallocCheck(narch * (size_t)np * sizeof *cols);
    double *raw = mallocCheck(narch * 3 * sizeof *raw);
    double *y = mallocCheck(narch * sizeof *y);
    size_t n = 0;
    for (size_t a = 0; a < narch; a++) {
        double v = gt[a * REPORT_NUM_ACC + (size_t)t];
        if (isnan(v)) continue;
        for (int p = 0; p < np; p++)
            cols[(size_t)p * narch + n] = dir[p] * px[a * (size_t)np + (size_t)p];
        for (int w = 0; w < nvote; w++)
            raw[(size_t)w * narch + n] = px[a * (size_t)np + (size_t)vote_p[w]];
        y[n++] = v;
    }
    int paper_ds = report_dataset_paper_index(dataset);
    fprintf(c->md, "\nRanking against %s ([ranking.csv](ranking.csv)). *agreement*: the fraction "
                   "of ordered pairs of architectures with different ground truth that a predictor "
                   "orders as the ground truth does (0.5: chance), each proxy in its own direction "
                   "(a smaller-is-better one negated); "
                   "*vote* is the zero-cost-nas notebook's majority of synflow, jacob_cov and snip "
                   "(at least 2 of 3 greater; a tie or NaN score is not greater, as there). "
                   "Abdelfattah et al.'s statistics over the architectures without a NaN score: "
                   "rho and tau-b among the top 10 %% by ground truth, the %% of the top 10 %% by "
                   "ground truth that the proxy also puts in its top 10 %%, and how many of the "
                   "proxy's top 64 are in the top 5 %% (ties at a boundary broken at random, in "
                   "expectation).\n\n"
                   "| predictor | ground truth | archs | NaN scores | agreement | paper (§7.1) | "
                   "top 10 %% archs | ρ top 10 %% | τ-b top 10 %% | top-10%%/top-10%% | "
                   "top-64/top-5%% |\n|---|---|---|---|---|---|---|---|---|---|---|\n",
            report_acc_keys[t]);
    for (int p = 0; p <= np; p++) {
        if (p == np && nvote < 3) break;
        const double *xs[3];
        int k = 1;
        if (p < np) {
            xs[0] = cols + (size_t)p * narch;
        } else {
            k = 3;
            for (int v = 0; v < 3; v++) xs[v] = raw + (size_t)v * narch;
        }
        long nan_scores = 0;
        for (size_t a = 0; a < n; a++) {
            int bad = 0;
            for (int m = 0; m < k; m++) bad |= isnan(xs[m][a]);
            nan_scores += bad;
        }
        int64_t pairs = 0;
        double agree = rank_stats_pair_agreement(xs, k, y, n, &pairs);
        double paper = p == np ? paper_corr_abs_rho("vote", paper_ds) : NAN;
        topk_stats s = {0, NAN, NAN, NAN, NAN};
        if (p < np) s = top_stats(xs[0], y, n); /* the vote scores pairs, not architectures */
        fprintf(c->md, "| ");
        report_md_text(c->md, p < np ? proxies[p] : "vote (synflow, jacob_cov, snip)");
        if (p < np && dir[p] < 0) fprintf(c->md, " (smaller is better)");
        fprintf(c->md, " | %s | %zu | %ld |", report_acc_keys[t], n, nan_scores);
        report_md_num(c->md, agree, 4);
        report_md_num(c->md, paper, 3);
        if (s.n_top) fprintf(c->md, " %zu |", s.n_top);
        else fprintf(c->md, " - |");
        report_md_num(c->md, s.rho_top, 4);
        report_md_num(c->md, s.tau_top, 4);
        report_md_num(c->md, s.top10, 1);
        report_md_num(c->md, s.top64, 1);
        fputc('\n', c->md);
        if (csv) {
            report_csv_text(csv, label);
            fputc(',', csv);
            report_csv_text(csv, dataset ? dataset : "");
            fputc(',', csv);
            report_csv_text(csv, p < np ? proxies[p] : "vote");
            fprintf(csv, ",%d,%s,%zu,%ld,%lld,", p < np ? dir[p] : 1, report_acc_keys[t], n,
                    nan_scores, (long long)pairs);
            report_csv_num(csv, agree, 6);
            fputc(',', csv);
            report_csv_num(csv, paper, 3);
            if (s.n_top) fprintf(csv, ",%zu,", s.n_top);
            else fprintf(csv, ",,");
            report_csv_num(csv, s.rho_top, 6);
            fputc(',', csv);
            report_csv_num(csv, s.tau_top, 6);
            fputc(',', csv);
            report_csv_num(csv, s.top10, 4);
            fputc(',', csv);
            report_csv_num(csv, s.top64, 4);
            fputc('\n', csv);
        }
    }
    free(cols);
    free(raw);
    free(y);
}
