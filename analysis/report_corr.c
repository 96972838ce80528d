/* analysis/report_corr.c: rank correlation of zero-cost proxies with NB201 accuracy
 * (docs/METHOD.md §7.1), from per-architecture scoring records.
 *
 * Score record schema (the `score` job kind; one architecture per job):
 *   {"job_id": "...", "sweep": "...", "status": "ok",
 *    "params": {"kind": "score", "space": "nb201", "dataset": "cifar10", "batch": 64,
 *               "seed": 0, ...},
 *    "nb201_index": 1462,                      // official NB201 index 0..15624 (integer)
 *    "unreachable_ops": 0,                     // ops of the cell cut off by none edges
 *    "proxies": {"synflow": 1.2e5, "naswot": 1630.2, "snip": null, ...},
 *    "proxy_direction": {"synflow": 1, "ntk_cond": -1, ...},  // +1: larger is better
 *    "accuracy": {"cifar10_valid": ..., ...}}  // optional: ground truth without --benchmark
 * A proxy that is null, a string ("nan") or absent is NaN: excluded and counted; the strings
 * "-inf" / "inf" are infinities (naswot's singular K: -inf), ranked, all tied, below / above
 * every finite score. The
 * architecture index may also sit in params.nb201_index. Records group by their params less
 * seed, the architecture and the proxy's own settings (metric, batch, precision, augment,
 * device): one group per space and dataset; within a group each proxy is averaged over the
 * records of one architecture that carry it (several seeds). Ground truth: the --benchmark TSV by
 * index, else the record's `accuracy` object.
 * Each correlation is also taken over the subset of architectures without unreachable ops
 * (the record's `unreachable_ops` is 0: no op cut off from the cell input or output by none
 * edges), where dead branches cannot move a proxy. The report reads records only
 * (docs/ARCHITECTURE.md): freenas_sweep writes unreachable_ops and proxy_direction from the
 * space grammar and the proxy registry. Records written before it did (or by hand): an
 * architecture without unreachable_ops is left out of the subset, a proxy without a direction
 * is taken as larger is better; report.md says which, and rerunning the score jobs into a new
 * output directory (a resumed sweep keeps its done jobs) fills them in.
 *   correlations.csv: group, dataset, proxy, ground truth, archs used, NaN proxies, missing
 *   ground truth, Spearman rho (GSL), Kendall tau-b (Knight), the same three on the subset
 *   without unreachable ops, paper |rho| (docs/METHOD.md §7.1).
 *   ranking.csv: each proxy (and the zero-cost-nas vote) against the scoring dataset's own
 *   ground truth: pairwise order agreement and top-k overlaps (analysis/report_ranking.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/paper_ref.h"
#include "analysis/report.h"
#include "base/common.h"

/* freenas_sweep's score jobs carry one proxy each (params.metric) with its own batch,
 * precision and augmentation: the records of one dataset form one group */
static const char *const skip_arch[] = {"seed", "nb201_index", "arch", "metric", "batch",
                                        "precision", "augment", "device", NULL};
#define MAX_PROXIES 32

static int keep_score(const report_job *j, void *ctx) {
    (void)ctx;
    return j->ok && !strcmp(j->rec->kind, "score");
}

static long arch_index(const report_record *r) {
    json_t *v = json_object_get(r->rec, "nb201_index");
    if (!json_is_integer(v)) v = json_object_get(r->params, "nb201_index");
    return json_is_integer(v) && json_integer_value(v) >= 0 ? (long)json_integer_value(v) : -1;
}

/* 1: the record's cell has no unreachable op; 0: it has; -1: no `unreachable_ops` count */
static int arch_clean(const report_record *r) {
    json_t *v = json_object_get(r->rec, "unreachable_ops");
    if (!json_is_integer(v) || json_integer_value(v) < 0) return -1;
    return json_integer_value(v) == 0;
}

typedef struct {
    long index;
    const report_record *rec;
} arch_rec;

static int cmp_arch_rec(const void *a, const void *b) {
    const arch_rec *p = a, *q = b;
    return (p->index > q->index) - (p->index < q->index);
}

/* each proxy's direction from the first record that gives it as +1 or -1
 * (proxy_direction{name: sign}); 0 when none does */
static void proxy_directions(const arch_rec *ar, size_t n, const char *const *proxies, int np,
                             int *dir) {
    for (int p = 0; p < np; p++) dir[p] = 0;
    for (size_t k = 0; k < n; k++) {
        json_t *d = report_obj(ar[k].rec->rec, "proxy_direction");
        for (int p = 0; d && p < np; p++) {
            json_t *v = json_object_get(d, proxies[p]);
            if (!dir[p] && json_is_integer(v) && llabs(json_integer_value(v)) == 1)
                dir[p] = (int)json_integer_value(v);
        }
    }
}

/* ground truth of an architecture: the benchmark row, else the first record's accuracy */
static double ground_truth(const report_ctx *c, const arch_rec *recs, size_t n, int acc) {
    if (c->bench) {
        long i = recs[0].index;
        const nb201_record *r = i < NB201_NUM_ARCHS ? &c->bench->by_index[i] : NULL;
        if (!r || r->index < 0) return NAN;
        const double v[REPORT_NUM_ACC] = {r->cifar10_valid, r->cifar10_test, r->cifar100_test,
                                          r->imagenet16_test};
        return v[acc];
    }
    for (size_t k = 0; k < n; k++) {
        double v = report_record_acc(recs[k].rec, acc);
        if (!isnan(v)) return v;
    }
    return NAN;
}

static void group_correlations(report_ctx *c, const report_group *g, FILE *csv, FILE *ranking_csv) {
    char label[1024];
    const char *keys[] = {"space", "dataset", NULL};
    report_group_label(g, keys, NULL, label, sizeof label);
    const char *dataset = report_str(g->jobs[0]->rec->params, "dataset");
    int paper_ds = report_dataset_paper_index(dataset);

    arch_rec *ar = mallocCheck(g->n * sizeof *ar);
    size_t n = 0;
    long bad_index = 0;
    for (size_t j = 0; j < g->n; j++) {
        long idx = arch_index(g->jobs[j]->rec);
        if (idx < 0 || (c->bench && idx >= NB201_NUM_ARCHS)) {
            bad_index++;
            continue;
        }
        ar[n++] = (arch_rec){idx, g->jobs[j]->rec};
    }
    qsort(ar, n, sizeof *ar, cmp_arch_rec);
    /* proxies named in any record */
    const char *proxies[MAX_PROXIES];
    int np = 0;
    for (size_t k = 0; k < n; k++) {
        const char *name;
        json_t *v;
        json_object_foreach(report_obj(ar[k].rec->rec, "proxies"), name, v) {
            int p = 0;
            while (p < np && strcmp(proxies[p], name)) p++;
            if (p == np && np < MAX_PROXIES) proxies[np++] = name;
        }
    }
    int dir[MAX_PROXIES], nodir = 0;
    proxy_directions(ar, n, proxies, np, dir);
    /* per architecture: start of its records in ar, mean of each proxy, ground truth */
    size_t narch = 0;
    size_t *start = mallocCheck((n + 1) * sizeof *start);
    for (size_t k = 0; k < n; k++)
        if (k == 0 || ar[k].index != ar[k - 1].index) start[narch++] = k;
    start[narch] = n;
    double *px = mallocCheck((narch ? narch : 1) * (size_t)(np ? np : 1) * sizeof *px);
    double *gt = mallocCheck((narch ? narch : 1) * REPORT_NUM_ACC * sizeof *gt);
    int *clean = mallocCheck((narch ? narch : 1) * sizeof *clean); /* no unreachable op */
    int has_gt[REPORT_NUM_ACC] = {0};
    size_t unknown_clean = 0;
    for (size_t a = 0; a < narch; a++) {
        clean[a] = arch_clean(ar[start[a]].rec);
        unknown_clean += clean[a] < 0;
        for (int p = 0; p < np; p++) {
            rank_stats_acc m = {0};
            double inf = 0; /* an infinite score dominates the seed mean; +inf with -inf: NaN */
            for (size_t k = start[a]; k < start[a + 1]; k++) {
                double v = report_num(report_obj(ar[k].rec->rec, "proxies"), proxies[p]);
                if (isfinite(v)) rank_stats_acc_add(&m, v);
                else if (isinf(v)) inf = (inf == 0 || inf == v) ? v : NAN;
            }
            px[a * (size_t)np + (size_t)p] = inf != 0 ? inf : m.n ? m.mean : NAN;
        }
        for (int t = 0; t < REPORT_NUM_ACC; t++) {
            gt[a * REPORT_NUM_ACC + (size_t)t] =
                ground_truth(c, &ar[start[a]], start[a + 1] - start[a], t);
            has_gt[t] |= !isnan(gt[a * REPORT_NUM_ACC + (size_t)t]);
        }
    }

    fprintf(c->md, "\n### ");
    report_md_text(c->md, label);
    fprintf(c->md, " (%zu architectures, %zu records%s)\n\n", narch, n,
            n > narch ? "; the records of one architecture merged: one per proxy, seeds "
                        "averaged" : "");
    if (bad_index)
        fprintf(c->md, "%ld score records without a usable `nb201_index` left out.\n\n", bad_index);
    if (unknown_clean)
        fprintf(c->md, "%zu architectures without an `unreachable_ops` count in their records "
                       "(written before freenas_sweep recorded it): left out of the subset "
                       "without unreachable ops; rerun their score jobs into a new output "
                       "directory to include them.\n\n",
                unknown_clean);
    for (int p = 0; p < np; p++) {
        if (dir[p]) continue;
        fprintf(c->md, "%s", nodir++ ? ", " : "Proxies without a `proxy_direction` in their "
                                              "records (written before freenas_sweep recorded "
                                              "it), taken as larger is better: ");
        report_md_text(c->md, proxies[p]);
        dir[p] = 1;
    }
    if (nodir) fprintf(c->md, ".\n\n");
    fprintf(c->md, "| proxy | ground truth | archs | NaN proxy | no ground truth | Spearman ρ | "
                   "Kendall τ-b | archs, no unreachable op | Spearman ρ | Kendall τ-b | "
                   "paper abs(ρ) (§7.1) |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
    double *x = mallocCheck((narch ? narch : 1) * sizeof *x);
    double *y = mallocCheck((narch ? narch : 1) * sizeof *y);
    double *xs = mallocCheck((narch ? narch : 1) * sizeof *xs);
    double *ys = mallocCheck((narch ? narch : 1) * sizeof *ys);
    for (int p = 0; p < np; p++)
        for (int t = 0; t < REPORT_NUM_ACC; t++) {
            if (!has_gt[t]) continue;
            size_t m = 0, ms = 0;
            long nan_proxy = 0, no_gt = 0;
            for (size_t a = 0; a < narch; a++) {
                double xv = px[a * (size_t)np + (size_t)p], yv = gt[a * REPORT_NUM_ACC + (size_t)t];
                if (isnan(xv)) nan_proxy++;
                else if (isnan(yv)) no_gt++;
                else {
                    x[m] = xv;
                    y[m++] = yv;
                    if (clean[a] == 1) {
                        xs[ms] = xv;
                        ys[ms++] = yv;
                    }
                }
            }
            double rho = rank_stats_spearman(x, y, m), tau = rank_stats_kendall_tau_b(x, y, m);
            double rho_s = rank_stats_spearman(xs, ys, ms);
            double tau_s = rank_stats_kendall_tau_b(xs, ys, ms);
            /* §7.1 is per dataset: shown beside the ground truth of the scoring dataset */
            int gt_ds = t <= 1 ? PAPER_C10 : t == 2 ? PAPER_C100 : PAPER_IN16;
            double paper = gt_ds == paper_ds ? paper_corr_abs_rho(proxies[p], paper_ds) : NAN;
            fprintf(c->md, "| ");
            report_md_text(c->md, proxies[p]);
            fprintf(c->md, " | %s | %zu | %ld | %ld |", report_acc_keys[t], m, nan_proxy, no_gt);
            report_md_num(c->md, rho, 4);
            report_md_num(c->md, tau, 4);
            fprintf(c->md, " %zu |", ms);
            report_md_num(c->md, rho_s, 4);
            report_md_num(c->md, tau_s, 4);
            report_md_num(c->md, paper, 3);
            fputc('\n', c->md);
            if (csv) {
                report_csv_text(csv, label);
                fputc(',', csv);
                report_csv_text(csv, dataset ? dataset : "");
                fputc(',', csv);
                report_csv_text(csv, proxies[p]);
                fprintf(csv, ",%s,%zu,%ld,%ld,", report_acc_keys[t], m, nan_proxy, no_gt);
                report_csv_num(csv, rho, 6);
                fputc(',', csv);
                report_csv_num(csv, tau, 6);
                fprintf(csv, ",%zu,", ms);
                report_csv_num(csv, rho_s, 6);
                fputc(',', csv);
                report_csv_num(csv, tau_s, 6);
                fputc(',', csv);
                report_csv_num(csv, paper, 3);
                fputc('\n', csv);
            }
        }
    if (!np) fprintf(c->md, "| (no proxies in the records) | | | | | | | | | | |\n");
    report_ranking_table(c, label, dataset, proxies, dir, np, px, gt, narch, has_gt, ranking_csv);
    report_proxy_scatter(c, label, dataset, proxies, np, px, gt, narch);
    free(x);
    free(y);
    free(xs);
    free(ys);
    free(clean);
    free(px);
    free(gt);
    free(start);
    free(ar);
}

void report_correlations(report_ctx *c) {
    report_groups gs;
    report_group_jobs(&gs, c->d, keep_score, NULL, skip_arch);
    if (!gs.n) {
        report_groups_free(&gs);
        return;
    }
    FILE *csv = report_open(c, "correlations.csv");
    if (csv) fprintf(csv, "group,dataset,proxy,ground_truth,n,nan_proxy,missing_ground_truth,"
                          "spearman_rho,kendall_tau_b,n_no_unreachable,spearman_rho_no_unreachable,"
                          "kendall_tau_b_no_unreachable,paper_abs_rho\n");
    const char *table = c->bench_path ? strrchr(c->bench_path, '/') : NULL;
    table = table ? table + 1 : c->bench_path;
    fprintf(c->md, "\n## Rank correlations (docs/METHOD.md §7.1)\n\nProxy scores of single "
                   "architectures (`score` records) against NB201 ground truth (%s%s), over all "
                   "scored architectures and over those whose cell has no unreachable op (no op cut off "
                   "from the cell input or output by `none` edges; 9,445 of the 15,625) "
                   "([correlations.csv](correlations.csv)); NaN proxies are left out and counted. The paper column is |ρ| over all 15,625 architectures "
                   "(ZC notebook, batch 64), beside the ground truth of the scoring dataset.\n",
            c->bench ? "from the --benchmark table " : "from the records' accuracy",
            c->bench ? table : "");
    FILE *ranking = report_open(c, "ranking.csv");
    if (ranking) report_ranking_csv_header(ranking);
    for (size_t i = 0; i < gs.n; i++) group_correlations(c, &gs.g[i], csv, ranking);
    report_close(c, csv, "correlations.csv");
    report_close(c, ranking, "ranking.csv");
    report_groups_free(&gs);
}
