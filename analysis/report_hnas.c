/* analysis/report_hnas.c: the HNAS sections of freenas_report (records of kind hnas,
 * hnas/record.h; docs/METHOD.md §4.3):
 *   - hnas.csv and a table: per (metric M, strategy, budget, and the sweep keys metric_abs
 *     and kappa_raw where set) over seeds, mean +- std of the
 *     pick's 200-epoch test accuracy on C10 / C100 / IN16 (the `accuracy` of the record) and of
 *     the search cost (hnas.cost_s, the 12-epoch training seconds of the queries), beside the
 *     authors' HNAS row and the baselines of the same table (analysis/paper_ref.c). Strategy
 *     alone is "the training-free metric alone" (no BO, no query), random is random search
 *     with the same queries.
 *   - the convergence figure hnas_convergence.{dat,gp,png,svg}: the C10 test accuracy of the
 *     best-so-far pick (steps[t].best) against the iteration and against the cumulative cost,
 *     mean +- std over seeds as a band, one line per (strategy, M) of the bo and random
 *     strategies; against cost the best-so-far is a step function read on a common grid.
 *   - the proxy-against-proxy Spearman matrix hnas_proxy_corr.csv: over the architectures
 *     that score records (kind score, or freenas score --json) give every proxy of one
 *     (dataset, seed), the rank correlation of each pair: how far grad_norm, snip, grasp and
 *     the NTK trace are "one" metric as HNAS argues. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/paper_ref.h"
#include "analysis/report.h"
#include "base/common.h"

/* HNAS on NB201 (HNAS on DARTS records, hnas.space == "darts", have no NB201 accuracies: their
 * genotypes enter the DARTS operation statistics like any DARTS search's) */
static int is_hnas(const report_job *j, void *ctx) {
    (void)ctx;
    const json_t *sp = json_object_get(report_obj(j->rec->rec, "hnas"), "space");
    return !strcmp(j->rec->kind, "hnas") && !(json_is_string(sp) && !strcmp(json_string_value(sp), "darts"));
}

static const char *const skip_seed[] = {"seed", NULL};

/* M as the group's records take it: the metric, "abs(metric)" with metric_abs (no pipe: the
 * label goes into a markdown table), and " (κ raw)" with kappa_raw (sweep grid keys; records
 * from before them have neither) */
static const char *m_label(const json_t *p, char *buf, size_t len) {
    const char *m = report_str(p, "metric");
    const json_t *abs = json_object_get(p, "metric_abs"), *raw = json_object_get(p, "kappa_raw");
    snprintf(buf, len, "%s%s%s%s", json_is_true(abs) ? "abs(" : "", m ? m : "-",
             json_is_true(abs) ? ")" : "", json_is_true(raw) ? " (κ raw)" : "");
    return buf;
}

static void hnas_table(report_ctx *c, const report_groups *gs) {
    FILE *csv = report_open(c, "hnas.csv");
    if (csv) fprintf(csv, "metric,strategy,budget,jobs,ok,c10_test_mean,c10_test_std,"
                          "c100_test_mean,c100_test_std,in16_test_mean,in16_test_std,"
                          "cost_s_mean,cost_s_std,evaluations_mean,candidates,kappa_nonpos_queries,"
                          "metric_abs,kappa_raw\n");
    fprintf(c->md, "\n## HNAS on NAS-Bench-201 (docs/METHOD.md §4.3)\n\n"
                   "Test accuracy (%%, 200 epochs) of the pick, mean ± std over seeds; cost = "
                   "the 12-epoch training seconds of the queried architectures. Strategy "
                   "`ei`/`ucb`: HNAS (Bayesian optimisation of ν, log10 μ); `alone`: the "
                   "training-free metric alone (fixed ν = 0, log10 μ = −2, no query); "
                   "`random`: random search with the same 12-epoch queries.\n\n"
                   "`candidates` is the number of architectures the search could draw: the "
                   "rows of the metric table giving its M and κ (15,625 = the whole space; "
                   "fewer = a partial table, and not comparable with the paper). `κ ≤ 0` counts "
                   "the queried architectures whose κ is not positive, over all seeds: networks "
                   "whose output ignores the input have a rank-deficient Θ, κ ≈ ±1e15 by "
                   "rounding, and a negative κ wins the objective (hnas/README.md).\n\n"
                   "| method | M | strategy | T | seeds | candidates | C10 test | C100 test | "
                   "IN16 test | cost [s] | κ ≤ 0 |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
    static const char *const acc[3] = {"cifar10_test", "cifar100_test", "imagenet16_test"};
    for (size_t i = 0; i < gs->n; i++) {
        const report_group *g = &gs->g[i];
        const json_t *p = g->jobs[0]->rec->params;
        const char *m = report_str(p, "metric"), *st = report_str(p, "strategy");
        const double T = report_num(p, "budget");
        char ml[96];
        m_label(p, ml, sizeof ml);
        rank_stats_acc a[3] = {{0}}, cost = {0}, ev = {0};
        size_t ok = 0;
        double cand = NAN; /* the smallest over the seeds (equal unless tables changed) */
        size_t nonpos = 0;  /* queries with kappa <= 0 */
        for (size_t k = 0; k < g->n; k++) {
            if (!g->jobs[k]->ok) continue;
            ok++;
            const report_record *r = g->jobs[k]->rec;
            const json_t *ac = report_obj(r->rec, "accuracy"), *h = report_obj(r->rec, "hnas");
            for (int d = 0; d < 3; d++) rank_stats_acc_add(&a[d], report_num(ac, acc[d]));
            rank_stats_acc_add(&cost, report_num(h, "cost_s"));
            rank_stats_acc_add(&ev, report_num(h, "evaluations"));
            const json_t *steps = json_object_get(h, "steps");
            for (size_t t = 0; t < json_array_size(steps); t++) {
                const json_t *q = json_array_get(steps, t);
                const double kq = report_num(q, "kappa"), aq = report_num(q, "arch");
                if (aq >= 0 && kq <= 0) nonpos++;
            }
            const double cn = report_num(h, "candidates");
            if (!isnan(cn) && !(cn >= cand)) cand = cn;
        }
        char b[3][64], cb[64];
        for (int d = 0; d < 3; d++) report_fmt_ms(b[d], sizeof b[d], rank_stats_acc_get(&a[d]), 2);
        report_fmt_ms(cb, sizeof cb, rank_stats_acc_get(&cost), 0);
        fprintf(c->md, "| freenas %s | %s | %s | %.0f | %zu/%zu |",
                st && !strcmp(st, "random") ? "random search" : st && !strcmp(st, "alone")
                                                                    ? "metric alone" : "HNAS",
                ml, st ? st : "-", T, ok, g->n);
        report_md_num(c->md, cand, 0);
        fprintf(c->md, " %s | %s | %s | %s | %zu |\n", b[0], b[1], b[2], cb, nonpos);
        if (csv) {
            report_csv_text(csv, m ? m : "");
            fprintf(csv, ",");
            report_csv_text(csv, st ? st : "");
            fprintf(csv, ",%.0f,%zu,%zu", T, g->n, ok);
            for (int d = 0; d < 3; d++) {
                const rank_stats_mean_std s = rank_stats_acc_get(&a[d]);
                fprintf(csv, ",");
                report_csv_num(csv, s.mean, 4);
                fprintf(csv, ",");
                report_csv_num(csv, s.std, 4);
            }
            const rank_stats_mean_std s = rank_stats_acc_get(&cost);
            fprintf(csv, ",");
            report_csv_num(csv, s.mean, 1);
            fprintf(csv, ",");
            report_csv_num(csv, s.std, 1);
            fprintf(csv, ",");
            report_csv_num(csv, rank_stats_acc_get(&ev).mean, 2);
            fprintf(csv, ",");
            report_csv_num(csv, cand, 0);
            fprintf(csv, ",%zu,%d,%d\n", nonpos, json_is_true(json_object_get(p, "metric_abs")),
                    json_is_true(json_object_get(p, "kappa_raw")));
        }
    }
    for (int i = 0; i < paper_hnas_num_rows; i++) {
        const paper_hnas_row *r = &paper_hnas_rows[i];
        char b[3][64];
        for (int d = 0; d < 3; d++) {
            if (isnan(r->test_mean[d])) snprintf(b[d], sizeof b[d], "-");
            else if (isnan(r->test_std[d])) snprintf(b[d], sizeof b[d], "%.2f", r->test_mean[d]);
            else snprintf(b[d], sizeof b[d], "%.2f ± %.2f", r->test_mean[d], r->test_std[d]);
        }
        fprintf(c->md, "| %s (paper) | - | - | - | - | 15625 | %s | %s | %s |", r->method, b[0],
                b[1], b[2]);
        report_md_num(c->md, r->cost_s, 0);
        fprintf(c->md, " - |\n");
    }
    fprintf(c->md, "\nPaper rows: %s. The authors' cost is GPU-seconds of their own queries; "
                   "ours adds NB201's recorded `train-all-time` of each 12-epoch query (the "
                   "same quantity HNAS sums).\n", paper_hnas_rows[0].source);
    report_close(c, csv, "hnas.csv");
}

/* ---- convergence ---------------------------------------------------------------------- */
#define NGRID 60
typedef struct {
    char label[128];
    rank_stats_acc it[HNAS_REPORT_MAX_T], at[NGRID];
    int T;
} conv_line;

static void hnas_convergence(report_ctx *c, const report_groups *gs) {
    conv_line *lines = callocCheck(gs->n ? gs->n : 1, sizeof *lines);
    int nl = 0, Tmax = 0;
    double cmax = 0;
    for (size_t i = 0; i < gs->n; i++) /* the common cost axis: the largest final cost */
        for (size_t k = 0; k < gs->g[i].n; k++) {
            const json_t *h = report_obj(gs->g[i].jobs[k]->rec->rec, "hnas");
            const double v = report_num(h, "cost_s");
            if (gs->g[i].jobs[k]->ok && isfinite(v) && v > cmax) cmax = v;
        }
    for (size_t i = 0; i < gs->n; i++) {
        const report_group *g = &gs->g[i];
        const json_t *p = g->jobs[0]->rec->params;
        const char *st = report_str(p, "strategy");
        char m[96];
        m_label(p, m, sizeof m);
        if (!st || !strcmp(st, "alone")) continue;
        conv_line *L = &lines[nl];
        if (!strcmp(st, "random"))
            snprintf(L->label, sizeof L->label, "random search, T = %.0f", report_num(p, "budget"));
        else
            snprintf(L->label, sizeof L->label, "HNAS (%s, M = %s), T = %.0f", st, m,
                     report_num(p, "budget"));
        for (size_t k = 0; k < g->n; k++) {
            if (!g->jobs[k]->ok) continue;
            const json_t *steps = json_object_get(report_obj(g->jobs[k]->rec->rec, "hnas"), "steps");
            const size_t ns = json_array_size(steps);
            for (size_t t = 0; t < ns && t < HNAS_REPORT_MAX_T; t++) {
                const json_t *s = json_array_get(steps, t);
                rank_stats_acc_add(&L->it[t], report_num(report_obj(s, "best"), "cifar10_test"));
                if ((int)t + 1 > L->T) L->T = (int)t + 1;
            }
            for (int q = 0; q < NGRID; q++) { /* best-so-far at cost <= x: a step function */
                const double x = cmax * (q + 1) / NGRID;
                double best = NAN;
                for (size_t t = 0; t < ns; t++) {
                    const json_t *s = json_array_get(steps, t);
                    if (report_num(s, "cost_s") <= x)
                        best = report_num(report_obj(s, "best"), "cifar10_test");
                }
                rank_stats_acc_add(&L->at[q], best);
            }
        }
        if (L->T > Tmax) Tmax = L->T;
        if (L->T) nl++;
    }
    if (!nl) {
        free(lines);
        return;
    }
    FILE *dat = report_open(c, "hnas_convergence.dat");
    if (dat) {
        fprintf(dat, "# hnas_convergence.dat: per line two blocks (index 2l: x = iteration, "
                     "2l+1: x = cost [s]); columns x, mean, std, mean-std, mean+std, seeds of "
                     "the best-so-far pick's C10 test accuracy\n");
        for (int l = 0; l < nl; l++) {
            fprintf(dat, "# %s: by iteration\n", lines[l].label);
            for (int t = 0; t < lines[l].T; t++) {
                const rank_stats_mean_std s = rank_stats_acc_get(&lines[l].it[t]);
                fprintf(dat, "%d %.6f %.6f %.6f %.6f %zu\n", t + 1, s.mean, s.std, s.mean - s.std,
                        s.mean + s.std, s.n);
            }
            fprintf(dat, "\n\n# %s: by cost\n", lines[l].label);
            for (int q = 0; q < NGRID; q++) {
                const rank_stats_mean_std s = rank_stats_acc_get(&lines[l].at[q]);
                if (s.n == 0) continue;
                fprintf(dat, "%.3f %.6f %.6f %.6f %.6f %zu\n", cmax * (q + 1) / NGRID, s.mean,
                        s.std, s.mean - s.std, s.mean + s.std, s.n);
            }
            fprintf(dat, "\n\n");
        }
    }
    report_close(c, dat, "hnas_convergence.dat");
    FILE *gp = report_open(c, "hnas_convergence.gp");
    if (gp) {
        fprintf(gp, "# hnas_convergence.gp: HNAS beside random search (docs/METHOD.md §4.3), written "
                    "by freenas_report.\n# Redraw: gnuplot hnas_convergence.gp\n");
        for (int pass = 0; pass < 2; pass++) {
            if (!pass) fprintf(gp, "set terminal pngcairo size 1300,520 enhanced font 'DejaVu Sans,11'\n"
                                   "set output 'hnas_convergence.png'\n");
            else fprintf(gp, "set output\nset terminal svg size 1300,520 dynamic enhanced "
                             "font 'DejaVu Sans,11'\nset output 'hnas_convergence.svg'\n");
            fprintf(gp, "set multiplot layout 1,2\nset grid\nset key bottom right\n"
                        "set ylabel 'C10 test accuracy of the best-so-far pick (%%)'\n"
                        "set style fill transparent solid 0.2 noborder\nset yrange [*:*<100]\n");
            for (int panel = 0; panel < 2; panel++) {
                fprintf(gp, "set xlabel '%s'\nplot ", panel ? "search cost (12-epoch training "
                            "seconds of the queries)" : "BO iteration");
                for (int l = 0; l < nl; l++)
                    fprintf(gp, "%s'hnas_convergence.dat' index %d using 1:4:5 with filledcurves "
                                "lc %d notitle, '' index %d using 1:2 with linespoints lc %d pt 7 "
                                "ps 0.6 title '%s' noenhanced", l ? ", " : "", 2 * l + panel, l + 1,
                            2 * l + panel, l + 1, lines[l].label);
                fprintf(gp, "\n");
            }
            fprintf(gp, "unset multiplot\n");
        }
    }
    report_close(c, gp, "hnas_convergence.gp");
    const int made = gp ? report_gnuplot_run(c, "hnas_convergence.gp") : -1;
    fprintf(c->md, "\n### Convergence: HNAS beside random search\n\n");
    if (made == 0) {
        c->figures++;
        fprintf(c->md, "![best-so-far test accuracy against iteration and cost]"
                       "(hnas_convergence.png)\n\n");
    } else {
        c->skipped_figures++;
        fprintf(c->md, "(figure not drawn: %s)\n\n", made == 1 ? "gnuplot not found" : "gnuplot failed");
    }
    fprintf(c->md, "Mean ± std over seeds (band) of the best-so-far pick's CIFAR-10 test "
                   "accuracy; data: [hnas_convergence.dat](hnas_convergence.dat).\n");
    (void)Tmax;
    free(lines);
}

/* ---- proxy against proxy ------------------------------------------------------------ */
#define MAXP 24
static void proxy_matrix(report_ctx *c) {
    const report_data *d = c->d;
    /* the proxies named in score records (first seen first) and the values per index */
    const char *names[MAXP];
    int np = 0;
    double *v = NULL;
    const char *ds0 = NULL;
    double seed0 = NAN;
    for (size_t r = 0; r < d->nrecs; r++) {
        const report_record *x = &d->recs[r];
        const json_t *px = report_obj(x->rec, "proxies");
        if (!x->ok || !px) continue;
        const char *ds = report_str(x->params, "dataset");
        const double seed = report_num(x->params, "seed");
        if (!ds0) ds0 = ds, seed0 = seed;
        if (!ds || !ds0 || strcmp(ds, ds0) || seed != seed0) continue; /* one (dataset, seed) */
        const double idx = report_num(x->rec, "nb201_index");
        if (!(idx >= 0 && idx < 15625)) continue;
        if (!v) {
            v = mallocCheck(sizeof(double) * 15625 * MAXP);
            for (size_t i = 0; i < (size_t)15625 * MAXP; i++) v[i] = NAN;
        }
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)px, key, val) {
            int p = 0;
            while (p < np && strcmp(names[p], key)) p++;
            if (p == np) {
                if (np == MAXP) continue;
                names[np++] = key;
            }
            v[(size_t)idx * MAXP + p] = report_num(px, key);
        }
    }
    if (np < 2) {
        free(v);
        return;
    }
    double *a = mallocCheck(sizeof(double) * 15625 * 2);
    FILE *csv = report_open(c, "hnas_proxy_corr.csv");
    fprintf(c->md, "\n### Proxy against proxy (Spearman ρ, %s, seed %.0f)\n\nOver the "
                   "architectures whose score records give both proxies (n in "
                   "[hnas_proxy_corr.csv](hnas_proxy_corr.csv)).\n\n|", ds0, seed0);
    if (csv) fprintf(csv, "proxy_a,proxy_b,n,spearman\n");
    for (int p = 0; p < np; p++) fprintf(c->md, " | %s", names[p]);
    fprintf(c->md, " |\n|---");
    for (int p = 0; p < np; p++) fprintf(c->md, "|---");
    fprintf(c->md, "|\n");
    for (int p = 0; p < np; p++) {
        fprintf(c->md, "| %s", names[p]);
        for (int q = 0; q < np; q++) {
            size_t n = 0;
            for (int i = 0; i < 15625; i++) {
                const double x = v[(size_t)i * MAXP + p], y = v[(size_t)i * MAXP + q];
                if (isfinite(x) && isfinite(y)) a[n] = x, a[15625 + n] = y, n++;
            }
            const double rho = n >= 3 ? rank_stats_spearman(a, a + 15625, n) : NAN;
            if (isnan(rho)) fprintf(c->md, " | -");
            else fprintf(c->md, " | %.3f", rho);
            if (csv && q > p) {
                report_csv_text(csv, names[p]);
                fprintf(csv, ",");
                report_csv_text(csv, names[q]);
                fprintf(csv, ",%zu,", n);
                report_csv_num(csv, rho, 6);
                fprintf(csv, "\n");
            }
        }
        fprintf(c->md, " |\n");
    }
    report_close(c, csv, "hnas_proxy_corr.csv");
    free(a);
    free(v);
}

void report_hnas(report_ctx *c) {
    report_groups gs;
    report_group_jobs(&gs, c->d, is_hnas, NULL, skip_seed);
    if (gs.n) {
        hnas_table(c, &gs);
        hnas_convergence(c, &gs);
    }
    report_groups_free(&gs);
    proxy_matrix(c);
}
