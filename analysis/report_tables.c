/* analysis/report_tables.c: the tables of freenas_report that need no figure:
 *   search_table.csv  one row per group of jobs equal in every param but the seed: jobs, ok,
 *                     failed, mean ± std over seeds of each NB201 accuracy, search time,
 *                     supernet and evaluation-net sizes (DARTS)
 *   failed_jobs.csv   the jobs that never finished ok, with their last error
 *   paper_table.csv   paper Table 2 layout (docs/METHOD.md §9): FreeDARTS <metric> rows, ours beside
 *                     the paper's
 *   ensembles.csv     ensembles.jsonl as a table */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/paper_ref.h"
#include "analysis/report.h"
#include "base/common.h"

static const char *const skip_seed[] = {"seed", NULL};
static const char *const always_keys[] = {"space", "dataset", "metric", NULL};
#define MAX_EVAL 8

static int keep_not_score(const report_job *j, void *ctx) {
    (void)ctx;
    return strcmp(j->rec->kind, "score") != 0;
}

/* search time of a record in ms: run.time_s.search, else run.time_s.job */
static double search_ms(const report_record *r) {
    json_t *t = report_obj(report_obj(r->rec, "run"), "time_s");
    double s = report_num(t, "search");
    if (isnan(s)) s = report_num(t, "job");
    return 1e3 * s;
}

typedef struct {
    long ok;
    rank_stats_acc acc[REPORT_NUM_ACC], time, supernet, eval[MAX_EVAL];
} row_stats;

/* the columns of the group table: keys in CSV (every key that varies) and in Markdown (less
 * those that follow from space / dataset / metric, e.g. batch follows from metric) */
typedef struct {
    const char *csv[64], *md[64], *hidden[64];
    int ncsv, nmd, nhidden;
} key_columns;

static void choose_columns(const report_groups *gs, key_columns *k) {
    memset(k, 0, sizeof *k);
    const char **vary = report_varying_keys(gs, skip_seed);
    for (int i = 0; always_keys[i]; i++) k->csv[k->ncsv++] = k->md[k->nmd++] = always_keys[i];
    for (int i = 0; vary[i] && k->ncsv < 63; i++) {
        if (report_str_in(vary[i], always_keys)) continue;
        k->csv[k->ncsv++] = vary[i];
        if (report_key_follows(gs, vary[i], always_keys)) k->hidden[k->nhidden++] = vary[i];
        else k->md[k->nmd++] = vary[i];
    }
    free(vary);
}

static void write_failures(report_ctx *c) {
    long nfailed = 0;
    for (size_t j = 0; j < c->d->njobs; j++) nfailed += !c->d->jobs[j].ok;
    if (!nfailed) return;
    FILE *csv = report_open(c, "failed_jobs.csv");
    if (csv) fprintf(csv, "job_id,attempts,status,error,line,params\n");
    fprintf(c->md, "\n### Failed jobs\n\n%ld job%s never finished ok ([failed_jobs.csv]"
                   "(failed_jobs.csv)); the last attempt of each:\n\n"
                   "| job | attempts | status | error |\n"
                   "|---|---|---|---|\n", nfailed, nfailed == 1 ? "" : "s");
    long shown = 0;
    for (size_t j = 0; j < c->d->njobs; j++) {
        const report_job *job = &c->d->jobs[j];
        if (job->ok) continue;
        const char *err = report_str(job->rec->rec, "error");
        char *params = report_params_key(job->rec->params, NULL);
        if (csv) {
            fprintf(csv, "%s,%ld,", job->rec->job_id, job->attempts);
            report_csv_text(csv, job->rec->status);
            fputc(',', csv);
            report_csv_text(csv, err ? err : "");
            fprintf(csv, ",%ld,", job->rec->line);
            report_csv_text(csv, params);
            fputc('\n', csv);
        }
        free(params);
        if (shown++ < 20) {
            fprintf(c->md, "| `%s` | %ld | ", job->rec->job_id, job->attempts);
            report_md_text(c->md, job->rec->status);
            fputs(" | ", c->md);
            report_md_text(c->md, err ? err : "-");
            fputs(" |\n", c->md);
        }
    }
    if (shown > 20) fprintf(c->md, "\n(%ld more in failed_jobs.csv)\n", shown - 20);
    report_close(c, csv, "failed_jobs.csv");
}

/* One table cell: "mean ± std" in Markdown; ",mean[,std][,n]" in the CSV (if any). */
enum { CSV_STD = 1, CSV_N = 2 };
static void put_ms(FILE *md, FILE *csv, rank_stats_mean_std m, int md_prec, int csv_prec, int what) {
    char buf[96];
    report_fmt_ms(buf, sizeof buf, m, md_prec);
    fprintf(md, " %s |", buf);
    if (!csv) return;
    fputc(',', csv);
    report_csv_num(csv, m.mean, csv_prec);
    if (what & CSV_STD) {
        fputc(',', csv);
        report_csv_num(csv, m.std, csv_prec);
    }
    if (what & CSV_N) fprintf(csv, ",%ld", m.n);
}

void report_search_table(report_ctx *c) {
    report_groups gs;
    report_group_jobs(&gs, c->d, keep_not_score, NULL, skip_seed);
    fprintf(c->md, "\n## Search results\n\n");
    if (!gs.n) {
        fprintf(c->md, "No search records.\n");
        report_groups_free(&gs);
        return;
    }
    key_columns k;
    choose_columns(&gs, &k);
    row_stats *rs = callocCheck(gs.n, sizeof *rs);
    int has_acc[REPORT_NUM_ACC] = {0}, has_supernet = 0, neval = 0;
    const char *eval_keys[MAX_EVAL];
    for (size_t i = 0; i < gs.n; i++)
        for (size_t j = 0; j < gs.g[i].n; j++) {
            const report_job *job = gs.g[i].jobs[j];
            if (!job->ok) continue;
            row_stats *r = &rs[i];
            r->ok++;
            for (int a = 0; a < REPORT_NUM_ACC; a++) {
                double v = report_record_acc(job->rec, a);
                rank_stats_acc_add(&r->acc[a], v);
                has_acc[a] |= !isnan(v);
            }
            rank_stats_acc_add(&r->time, search_ms(job->rec));
            double sp = report_num(report_obj(job->rec->rec, "supernet"), "params");
            rank_stats_acc_add(&r->supernet, sp / 1e6);
            has_supernet |= !isnan(sp);
            const char *ek;
            json_t *ev;
            json_object_foreach(report_obj(job->rec->rec, "eval_net"), ek, ev) {
                double p = report_num(ev, "params");
                if (isnan(p)) continue;
                int e = 0;
                while (e < neval && strcmp(eval_keys[e], ek)) e++;
                if (e == neval) {
                    if (neval == MAX_EVAL) continue;
                    eval_keys[neval++] = ek;
                }
                rank_stats_acc_add(&r->eval[e], p / 1e6);
            }
        }

    FILE *csv = report_open(c, "search_table.csv");
    if (csv) {
        for (int i = 0; i < k.ncsv; i++) fprintf(csv, "%s,", k.csv[i]);
        fprintf(csv, "jobs,ok,failed");
        for (int a = 0; a < REPORT_NUM_ACC; a++)
            if (has_acc[a])
                fprintf(csv, ",%s_mean,%s_std,%s_n", report_acc_keys[a], report_acc_keys[a],
                        report_acc_keys[a]);
        fprintf(csv, ",search_ms_mean,search_ms_std");
        if (has_supernet) fprintf(csv, ",supernet_params_m");
        for (int e = 0; e < neval; e++)
            fprintf(csv, ",eval_%s_params_m_mean,eval_%s_params_m_std", eval_keys[e],
                    eval_keys[e]);
        fputc('\n', csv);
    }
    fprintf(c->md, "One row per group of jobs whose params differ only in the seed "
                   "([search_table.csv](search_table.csv)): mean ± std (sample std) over the seeds' first ok records "
                   "of the NB201 ground-truth accuracy (%%) of the found architecture, and the "
                   "search time per job.\n\n|");
    for (int i = 0; i < k.nmd; i++) fprintf(c->md, " %s |", k.md[i]);
    fprintf(c->md, " jobs | ok | failed |");
    for (int a = 0; a < REPORT_NUM_ACC; a++)
        if (has_acc[a]) fprintf(c->md, " %s |", report_acc_labels[a]);
    fprintf(c->md, " time [ms] |");
    if (has_supernet) fprintf(c->md, " supernet params [M] |");
    for (int e = 0; e < neval; e++) fprintf(c->md, " eval-net %s params [M] |", eval_keys[e]);
    fprintf(c->md, "\n|");
    int ncols = k.nmd + 4 + has_supernet + neval;
    for (int a = 0; a < REPORT_NUM_ACC; a++) ncols += has_acc[a];
    for (int i = 0; i < ncols; i++) fprintf(c->md, "---|");
    fputc('\n', c->md);

    char buf[512];
    for (size_t i = 0; i < gs.n; i++) {
        const report_group *g = &gs.g[i];
        row_stats *r = &rs[i];
        long failed = (long)g->n - r->ok;
        fputc('|', c->md);
        for (int m = 0; m < k.nmd; m++) {
            report_value_text(json_object_get(g->jobs[0]->rec->params, k.md[m]), buf, sizeof buf);
            fputc(' ', c->md);
            report_md_text(c->md, buf);
            fputs(" |", c->md);
        }
        fprintf(c->md, " %zu | %ld | %ld |", g->n, r->ok, failed);
        if (csv) {
            for (int m = 0; m < k.ncsv; m++) {
                report_value_text(json_object_get(g->jobs[0]->rec->params, k.csv[m]), buf,
                                  sizeof buf);
                report_csv_text(csv, buf);
                fputc(',', csv);
            }
            fprintf(csv, "%zu,%ld,%ld", g->n, r->ok, failed);
        }
        for (int a = 0; a < REPORT_NUM_ACC; a++)
            if (has_acc[a]) put_ms(c->md, csv, rank_stats_acc_get(&r->acc[a]), 2, 6, CSV_STD | CSV_N);
        put_ms(c->md, csv, rank_stats_acc_get(&r->time), 1, 3, CSV_STD);
        if (has_supernet) {
            rank_stats_mean_std s = rank_stats_acc_get(&r->supernet);
            if (s.std == 0) s.std = NAN; /* one supernet per row: its size, no ± 0 */
            put_ms(c->md, csv, s, 3, 6, 0);
        }
        for (int e = 0; e < neval; e++) put_ms(c->md, csv, rank_stats_acc_get(&r->eval[e]), 3, 6, CSV_STD);
        fputc('\n', c->md);
        if (csv) fputc('\n', csv);
    }
    if (k.nhidden) {
        fprintf(c->md, "\nAlso varying, but fixed by space / dataset / metric (columns of the "
                       "CSV):");
        for (int i = 0; i < k.nhidden; i++) fprintf(c->md, "%s %s", i ? "," : "", k.hidden[i]);
        fprintf(c->md, ".\n");
    }
    report_close(c, csv, "search_table.csv");
    write_failures(c);
    free(rs);
    report_groups_free(&gs);
}

/* ---- paper Table 2 layout ------------------------------------------------------------- */
static const char *const skip_seed_dataset[] = {"seed", "dataset", NULL};
static const char *const by_metric[] = {"metric", NULL};

static int keep_nb201_gt(const report_job *j, void *ctx) {
    (void)ctx;
    return j->ok && strcmp(j->rec->kind, "score") != 0 &&
           report_dataset_paper_index(report_str(j->rec->params, "dataset")) >= 0 &&
           report_obj(j->rec->rec, "accuracy") != NULL;
}

static void md_paper(FILE *f, double mean, double std) {
    if (isnan(mean)) fprintf(f, " - |");
    else if (isnan(std)) fprintf(f, " %.2f |", mean);
    else fprintf(f, " %.2f ± %.2f |", mean, std);
}

static void csv_ms(FILE *f, rank_stats_mean_std m) {
    fputc(',', f);
    report_csv_num(f, m.mean, 6);
    fputc(',', f);
    report_csv_num(f, m.std, 6);
    fprintf(f, ",%ld", m.n);
}

static void csv_paper(FILE *f, double mean, double std) {
    fputc(',', f);
    report_csv_num(f, mean, 2);
    fputc(',', f);
    report_csv_num(f, std, 2);
}

/* the paper's name for what a group of ours ran; a zc_search that looked its candidates up
 * in a score table (params.scores) says so, since it used one batch for every seed */
static void method_label(char *buf, size_t len, const char *kind, const char *metric,
                         int looked_up) {
    const char *how = looked_up ? ", looked up in a score table" : "";
    if (!strcmp(kind, "random")) snprintf(buf, len, "Random");
    else if (!strcmp(kind, "zc_search") && metric && !strcmp(metric, "naswot"))
        snprintf(buf, len, "NASWOT%s", how);
    else if (!strcmp(kind, "zc_search"))
        snprintf(buf, len, "Zero-cost (per-arch) %s%s", paper_metric_name(metric), how);
    else snprintf(buf, len, "FreeDARTS %s", paper_metric_name(metric));
}

/* 1 when a group of ours reproduces paper row r (it is then shown beside that group) */
static int row_matched(const report_groups *gs, const paper_nb201_row *r) {
    for (size_t i = 0; i < gs->n; i++) {
        const report_record *rec = gs->g[i].jobs[0]->rec;
        if (paper_nb201_find(rec->kind, report_str(rec->params, "metric")) == r) return 1;
    }
    return 0;
}

void report_paper_table(report_ctx *c) {
    report_groups gs;
    report_group_jobs(&gs, c->d, keep_nb201_gt, NULL, skip_seed_dataset);
    if (!gs.n) {
        report_groups_free(&gs);
        return;
    }
    const char **vary = report_varying_keys(&gs, skip_seed_dataset);
    FILE *csv = report_open(c, "paper_table.csv");
    if (csv)
        fprintf(csv, "method,variant,c10_test_mean,c10_test_std,c10_test_n,paper_c10_test_mean,"
                     "paper_c10_test_std,c100_test_mean,c100_test_std,c100_test_n,"
                     "paper_c100_test_mean,paper_c100_test_std,in16_test_mean,in16_test_std,"
                     "in16_test_n,paper_in16_test_mean,paper_in16_test_std,c10_valid_mean,"
                     "c10_valid_std,c10_valid_n,paper_c10_valid_mean,paper_c10_valid_std,"
                     "paper_c100_valid_mean,paper_c100_valid_std,paper_in16_valid_mean,"
                     "paper_in16_valid_std,paper_source\n");
    fprintf(c->md,
            "\n## Paper Table 2 layout\n\nSearches on NB201 ([paper_table.csv](paper_table.csv)):"
            " FreeDARTS (kind search), zero-cost per-architecture search and NASWOT (kind "
            "zc_search), random search (kind random). Ours is the test accuracy (%%) on the search dataset (a CIFAR-100 search is read "
            "at cifar100_test), mean ± std over seeds, n in brackets; paper numbers from "
            "docs/METHOD.md §9 Table 2 (NASWOT and random: Table 1), and for FreeDARTS SynFlow the valid "
            "accuracies of Table 1 (NB201's "
            "table has no 200-epoch C100 / IN16 valid column, so ours is `-`). Table 1 gives "
            "the FreeDARTS SynFlow C100 test as 70.70 ± 0.08, Table 2 as 70.78 ± 0.08: "
            "Table 2 is shown.\n\n"
            "| method | C10 test | paper | C100 test | paper | IN16 test | paper | C10 valid "
            "| paper | C100 valid paper | IN16 valid paper |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|\n");
    char buf[512], variant[512];
    for (size_t i = 0; i < gs.n; i++) {
        const report_group *g = &gs.g[i];
        const char *metric = report_str(g->jobs[0]->rec->params, "metric");
        const char *kind = g->jobs[0]->rec->kind;
        /* the variant: keys that differ between groups of the same metric */
        const char *vkeys[64];
        int nv = 0;
        for (int v = 0; vary[v] && nv < 63; v++)
            if (strcmp(vary[v], "metric") && report_key_varies_within(&gs, i, vary[v], by_metric))
                vkeys[nv++] = vary[v];
        vkeys[nv] = NULL;
        report_group_label(g, vkeys, NULL, variant, sizeof variant);
        rank_stats_acc test[PAPER_NUM_DATASETS] = {{0}}, valid = {0};
        for (size_t j = 0; j < g->n; j++) {
            const report_record *r = g->jobs[j]->rec;
            const char *ds = report_str(r->params, "dataset");
            int p = report_dataset_paper_index(ds);
            rank_stats_acc_add(&test[p], report_record_acc(r, report_dataset_test_acc(ds)));
            if (report_dataset_valid_acc(ds) >= 0)
                rank_stats_acc_add(&valid, report_record_acc(r, report_dataset_valid_acc(ds)));
        }
        const paper_nb201_row *ref = paper_nb201_find(kind, metric);
        method_label(buf, sizeof buf, kind, metric,
                     report_str(g->jobs[0]->rec->params, "scores") != NULL);
        fprintf(c->md, "| %s", buf);
        if (*variant) {
            fputs(" (", c->md);
            report_md_text(c->md, variant);
            fputc(')', c->md);
        }
        fputs(" |", c->md);
        if (csv) {
            report_csv_text(csv, buf);
            fputc(',', csv);
            report_csv_text(csv, variant);
        }
        for (int p = 0; p < PAPER_NUM_DATASETS; p++) {
            rank_stats_mean_std m = rank_stats_acc_get(&test[p]);
            report_fmt_ms(buf, sizeof buf, m, 2);
            if (m.n) fprintf(c->md, " %s (%ld) |", buf, m.n);
            else fprintf(c->md, " - |");
            md_paper(c->md, ref ? ref->test_mean[p] : NAN, ref ? ref->test_std[p] : NAN);
            if (csv) {
                csv_ms(csv, m);
                csv_paper(csv, ref ? ref->test_mean[p] : NAN, ref ? ref->test_std[p] : NAN);
            }
        }
        rank_stats_mean_std m = rank_stats_acc_get(&valid);
        report_fmt_ms(buf, sizeof buf, m, 2);
        if (m.n) fprintf(c->md, " %s (%ld) |", buf, m.n);
        else fprintf(c->md, " - |");
        for (int p = 0; p < PAPER_NUM_DATASETS; p++)
            md_paper(c->md, ref ? ref->valid_mean[p] : NAN, ref ? ref->valid_std[p] : NAN);
        if (csv) {
            csv_ms(csv, m);
            for (int p = 0; p < PAPER_NUM_DATASETS; p++)
                csv_paper(csv, ref ? ref->valid_mean[p] : NAN, ref ? ref->valid_std[p] : NAN);
            fputc(',', csv);
            report_csv_text(csv, ref ? ref->source : "");
            fputc('\n', csv);
        }
        fputc('\n', c->md);
    }
    /* the paper's other rows, for scale */
    for (int i = 0; i < paper_nb201_num_rows; i++) {
        const paper_nb201_row *r = &paper_nb201_rows[i];
        if (row_matched(&gs, r)) continue;
        fprintf(c->md, "| %s (paper only) |", r->method);
        for (int p = 0; p < PAPER_NUM_DATASETS; p++) {
            fprintf(c->md, " |");
            md_paper(c->md, r->test_mean[p], r->test_std[p]);
        }
        fprintf(c->md, " | | | |\n");
        if (csv) {
            report_csv_text(csv, r->method);
            fprintf(csv, ",paper only");
            for (int p = 0; p < PAPER_NUM_DATASETS; p++) {
                fprintf(csv, ",,,");
                csv_paper(csv, r->test_mean[p], r->test_std[p]);
            }
            fprintf(csv, ",,,,,,,,,,");
            report_csv_text(csv, r->source);
            fputc('\n', csv);
        }
    }
    report_close(c, csv, "paper_table.csv");
    free(vary);
    report_groups_free(&gs);
}

/* ---- ensembles ------------------------------------------------------------------------ */
void report_ensembles_table(report_ctx *c) {
    const report_data *d = c->d;
    if (!d->nens) return;
    int has_acc = 0;
    for (size_t i = 0; i < d->nens; i++) has_acc |= report_obj(d->ens[i], "accuracy") != NULL;
    FILE *csv = report_open(c, "ensembles.csv");
    if (csv) {
        fprintf(csv, "ensemble,norm,over,group,jobs,arch,nb201_index");
        for (int a = 0; a < REPORT_NUM_ACC; a++) fprintf(csv, ",%s", report_acc_keys[a]);
        fputc('\n', csv);
    }
    fprintf(c->md, "\n## Ensembles\n\nFrom ensembles.jsonl ([ensembles.csv](ensembles.csv)): the "
                   "normalised operation scores of a group's jobs summed and pruned once.\n\n"
                   "| ensemble | norm | group | jobs | arch |");
    if (has_acc) {
        fprintf(c->md, " NB201 index |");
        for (int a = 0; a < REPORT_NUM_ACC; a++) fprintf(c->md, " %s |", report_acc_labels[a]);
    }
    fprintf(c->md, "\n|---|---|---|---|---|%s\n", has_acc ? "---|---|---|---|---|" : "");
    for (size_t i = 0; i < d->nens; i++) {
        const json_t *e = d->ens[i];
        const char *name = report_str(e, "ensemble"), *norm = report_str(e, "norm");
        const char *group = report_str(e, "group"), *arch = report_str(e, "arch");
        double jobs = report_num(e, "jobs"), idx = report_num(e, "nb201_index");
        char *over = NULL;
        json_t *ov = json_object_get(e, "over");
        if (json_is_array(ov)) {
            size_t k;
            json_t *v;
            size_t len = 1;
            json_array_foreach(ov, k, v) {
                if (json_is_string(v)) len += strlen(json_string_value(v)) + 1;
            }
            over = callocCheck(len, 1);
            json_array_foreach(ov, k, v) {
                if (!json_is_string(v)) continue;
                if (k) strcat(over, " ");
                strcat(over, json_string_value(v));
            }
        }
        fputs("| ", c->md);
        report_md_text(c->md, name ? name : "-");
        fputs(" | ", c->md);
        report_md_text(c->md, norm ? norm : "-");
        fputs(" | ", c->md);
        report_md_text(c->md, group ? group : "-");
        if (isnan(jobs)) fputs(" | - | ", c->md);
        else fprintf(c->md, " | %.0f | ", jobs);
        if (arch) {
            fputc('`', c->md);
            report_md_text(c->md, arch);
            fputc('`', c->md);
        } else {
            fputc('-', c->md);
        }
        fputs(" |", c->md);
        if (has_acc) {
            report_md_num(c->md, idx, 0);
            for (int a = 0; a < REPORT_NUM_ACC; a++) {
                double v = report_num(report_obj(e, "accuracy"), report_acc_keys[a]);
                report_md_num(c->md, v, 2);
            }
        }
        fputc('\n', c->md);
        if (csv) {
            report_csv_text(csv, name ? name : "");
            fputc(',', csv);
            report_csv_text(csv, norm ? norm : "");
            fputc(',', csv);
            report_csv_text(csv, over ? over : "");
            fputc(',', csv);
            report_csv_text(csv, group ? group : "");
            fputc(',', csv);
            report_csv_num(csv, jobs, 0);
            fputc(',', csv);
            report_csv_text(csv, arch ? arch : "");
            fputc(',', csv);
            report_csv_num(csv, idx, 0);
            for (int a = 0; a < REPORT_NUM_ACC; a++) {
                fputc(',', csv);
                report_csv_num(csv, report_num(report_obj(e, "accuracy"), report_acc_keys[a]), 6);
            }
            fputc('\n', csv);
        }
        free(over);
    }
    report_close(c, csv, "ensembles.csv");
}
