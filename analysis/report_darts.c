/* analysis/report_darts.c: DARTS operation frequencies (docs/METHOD.md §7.4). For the ok jobs whose
 * arch_json is a DARTS genotype ({"normal": [["op", input], ...], "reduce": [...]}), counts
 * each operation per cell type per group (jobs equal in every param but the seed), beside FD's
 * counts where §7.4 has a matching search (SynFlow 8 cells, 20 cells, ImageNet; GraSP and SNIP
 * 8 cells). The paper counts are of 40 = 5 seeds x 8 ops, ours of N x 8: compare fractions.
 * With a §7.4 match, the total variation distance of the two op distributions with a
 * bootstrap interval and a permutation test (analysis/op_stats.h), as a table.
 *   darts_ops.csv                         one row per group, cell type and op
 *   darts_opstats.csv                     one row per group and cell type: TV, interval, p
 *   darts_ops_<group>.{png,svg,gp,dat}    grouped bars: normal | reduce, ours vs paper */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/op_stats.h"
#include "analysis/paper_ref.h"
#include "analysis/report.h"
#include "base/common.h"

static const char *const skip_seed[] = {"seed", NULL};
static const char *const by_keys[] = {"space", "dataset", "metric", NULL};
static const char *const cell_types[2] = {"normal", "reduce"};
#define MAX_OPS 16 /* the 7 paper ops, none, and names no DARTS space has */

static int genotype_cells(const json_t *rec) {
    json_t *a = json_object_get(rec, "arch_json");
    return json_is_object(a) && json_is_array(json_object_get(a, "normal")) &&
           json_is_array(json_object_get(a, "reduce"));
}

static int keep_darts(const report_job *j, void *ctx) {
    (void)ctx;
    return j->ok && genotype_cells(j->rec->rec);
}

typedef struct {
    const char *ops[MAX_OPS];
    int nops;
    long count[2][MAX_OPS], total[2], bad, degenerate;
    long *units; /* [n][2][MAX_OPS]: each genotype's own counts (the bootstrap's units) */
} op_counts;

static int op_slot(op_counts *oc, const char *op) {
    for (int i = 0; i < oc->nops; i++)
        if (!strcmp(oc->ops[i], op)) return i;
    if (oc->nops == MAX_OPS) return -1;
    oc->ops[oc->nops] = op;
    return oc->nops++;
}

static void count_group(const report_group *g, op_counts *oc) {
    memset(oc, 0, sizeof *oc);
    oc->units = callocCheck(g->n * 2 * MAX_OPS, sizeof(long));
    for (int i = 0; i < PAPER_DARTS_NUM_OPS; i++) op_slot(oc, paper_darts_ops[i]);
    for (size_t j = 0; j < g->n; j++) {
        const json_t *rec = g->jobs[j]->rec->rec;
        if (json_is_true(json_object_get(rec, "degenerate"))) oc->degenerate++;
        json_t *arch = json_object_get(rec, "arch_json");
        for (int t = 0; t < 2; t++) {
            size_t k;
            json_t *e;
            json_array_foreach(json_object_get(arch, cell_types[t]), k, e) {
                json_t *op = json_is_array(e) ? json_array_get(e, 0) : NULL;
                int s = json_is_string(op) ? op_slot(oc, json_string_value(op)) : -1;
                if (s < 0) {
                    oc->bad++;
                    continue;
                }
                oc->count[t][s]++;
                oc->total[t]++;
                oc->units[(j * 2 + t) * MAX_OPS + s]++;
            }
        }
    }
}

/* file name part of a group: values of space / dataset / metric, "8cells", key-value else */
static void group_slug(const report_group *g, const char *const *keys, char *buf, size_t len) {
    char text[1024], v[256];
    size_t used = 0;
    text[0] = '\0';
    for (int i = 0; keys[i] && used < sizeof text; i++) {
        json_t *val = json_object_get(g->jobs[0]->rec->params, keys[i]);
        if (!val) continue;
        report_value_text(val, v, sizeof v);
        int w = report_str_in(keys[i], by_keys) ? snprintf(text + used, sizeof text - used, " %s", v)
                : !strcmp(keys[i], "cells") ? snprintf(text + used, sizeof text - used, " %scells", v)
                : snprintf(text + used, sizeof text - used, " %s=%s", keys[i], v);
        if (w < 0) break;
        used += (size_t)w;
    }
    report_slug(text, buf, len);
}

static double pct(long n, long total) { return total > 0 ? 100.0 * (double)n / (double)total : NAN; }

static void write_chart_body(FILE *f, const char *dat, const char *label, size_t n,
                             long degenerate, const paper_darts_row *ref, double ymax) {
    fprintf(f, "set style data histograms\nset style histogram clustered gap 1\n"
               "set style fill solid 0.85 border rgb '#404040'\nset boxwidth 0.9\n"
               "set termoption noenhanced\nset xtics rotate by 35 right nomirror scale 0\n"
               "set ytics nomirror\nset border 3\nset grid ytics lc rgb '#e0e0e0'\n"
               "set yrange [0:%g]\nset ylabel 'share of the chosen operations (%%)'\n"
               "set key outside below center horizontal\n", ymax);
    fprintf(f, "set multiplot layout 1,2 title ");
    char title[768];
    int w = snprintf(title, sizeof title, "DARTS operation frequencies: %s (%zu genotypes)",
                     label, n);
    if (degenerate && w > 0 && (size_t)w < sizeof title)
        snprintf(title + w, sizeof title - (size_t)w, "\n%ld of %zu scores are degenerate "
                 "(rounding noise)", degenerate, n);
    report_gp_dquote(f, title);
    fprintf(f, " font ',12'\n");
    for (int t = 0; t < 2; t++) {
        fprintf(f, "set title '%s cell'\n", t ? "reduction" : "normal");
        fprintf(f, "plot '%s' using %d:xtic(1) title 'ours (%zu x 8)' lc rgb '#0072B2'", dat,
                2 + 2 * t, n);
        if (ref) fprintf(f, ", '' using %d title 'paper, %s (5 x 8)' lc rgb '#D55E00'", 3 + 2 * t,
                         ref->label);
        fprintf(f, "\n");
    }
    fprintf(f, "unset multiplot\n");
}

/* ---- distances to §7.4 (analysis/op_stats.h) ------------------------------------------ */

#define OPSTAT_DRAWS 10000
#define OPSTAT_SEED 74 /* fixed: the report is a function of the records */

typedef struct {
    char label[1024];
    int cell;
    size_t n;
    long degenerate;
    const paper_darts_row *ref;
    op_stats_result r;
} opstat_row;

/* our genotypes (units) against the paper's counts, over every op slot (paper ops first) */
static int opstat_compute(const op_counts *oc, size_t n, const paper_darts_row *ref, int t,
                          op_stats_result *r) {
    const int k = oc->nops;
    long *units = mallocCheck(sizeof(long) * (n ? n : 1) * (size_t)k), b[MAX_OPS];
    for (size_t j = 0; j < n; j++)
        for (int s = 0; s < k; s++) units[j * k + s] = oc->units[(j * 2 + t) * MAX_OPS + s];
    for (int s = 0; s < k; s++) {
        int p = paper_darts_op_index(oc->ops[s]);
        b[s] = p >= 0 ? (t ? ref->reduce[p] : ref->normal[p]) : 0;
    }
    int rc = op_stats_compare(units, (int)n, b, k, OPSTAT_DRAWS, OPSTAT_SEED, r);
    free(units);
    return rc;
}

static void report_opstats_table(report_ctx *c, const opstat_row *st, int nst) {
    if (!nst) return;
    FILE *csv = report_open(c, "darts_opstats.csv");
    if (csv) fprintf(csv, "group,cell,genotypes,degenerate,paper_search,ops,paper_ops,tv,"
                          "boot_lo,boot_hi,null_q95,p_value,verdict\n");
    fprintf(c->md, "\n### Distance to FreeDARTS's op distributions (docs/METHOD.md §7.4)\n\n"
                   "Total variation distance TV = 1/2 sum |p - q| between our op shares and "
                   "FD's ([darts_opstats.csv](darts_opstats.csv)): 0 = the same shares, 1 = no op "
                   "in common. *95 %% interval*: bootstrap over our genotypes (resampled whole) "
                   "and FD's 40 ops (multinomial from its shares), %d draws. *null q95*: the TV "
                   "that sampling alone gives at these sizes when both come from one "
                   "distribution (permutation of the pooled ops, %d draws), and *p* the "
                   "permutation p-value of the observed TV. *different*: p < 0.05; *consistent*: "
                   "no evidence of a difference at these sample sizes (FD has 5 seeds). Fixed "
                   "seed: the same records give the same numbers.\n\n"
                   "| search | cell | genotypes | TV | 95 %% interval | null q95 | p | verdict |\n"
                   "|---|---|---|---|---|---|---|---|\n", OPSTAT_DRAWS, OPSTAT_DRAWS);
    for (int i = 0; i < nst; i++) {
        const opstat_row *s = &st[i];
        const char *verdict = s->r.p_value < 0.05 ? "different" : "consistent";
        fprintf(c->md, "| ");
        report_md_text(c->md, s->label);
        fprintf(c->md, " | %s | %zu%s | %.3f | [%.3f, %.3f] | %.3f | %.4f | %s |\n",
                cell_types[s->cell], s->n, s->degenerate ? " (degenerate: some)" : "", s->r.tv,
                s->r.boot_lo, s->r.boot_hi, s->r.null_q95, s->r.p_value, verdict);
        if (csv) {
            report_csv_text(csv, s->label);
            fprintf(csv, ",%s,%zu,%ld,", cell_types[s->cell], s->n, s->degenerate);
            report_csv_text(csv, s->ref->label);
            fprintf(csv, ",%ld,%ld,%.6f,%.6f,%.6f,%.6f,%.6f,%s\n", s->r.n_a, s->r.n_b, s->r.tv,
                    s->r.boot_lo, s->r.boot_hi, s->r.null_q95, s->r.p_value, verdict);
        }
    }
    report_close(c, csv, "darts_opstats.csv");
}

void report_darts_ops(report_ctx *c) {
    report_groups gs;
    report_group_jobs(&gs, c->d, keep_darts, NULL, skip_seed);
    if (!gs.n) {
        report_groups_free(&gs);
        return;
    }
    const char **vary = report_varying_keys(&gs, skip_seed);
    const char *keys[64] = {"space", "cells", "dataset", "metric"};
    int nk = 4;
    for (int v = 0; vary[v] && nk < 63; v++)
        if (!report_str_in(vary[v], keys) && !report_key_follows(&gs, vary[v], by_keys))
            keys[nk++] = vary[v];
    keys[nk] = NULL;
    const char *bare[] = {"space", NULL};

    FILE *csv = report_open(c, "darts_ops.csv");
    if (csv) fprintf(csv, "group,cell,op,count,total,fraction,paper_search,paper_count,"
                          "paper_total,paper_fraction\n");
    fprintf(c->md, "\n## DARTS operation frequencies (docs/METHOD.md §7.4)\n\nOperations of the found "
                   "genotypes per cell type ([darts_ops.csv](darts_ops.csv)), over the first ok "
                   "record of each seed. The paper's counts (FD genotypes.py) are of 40 = 5 "
                   "seeds x 8 ops per cell type, ours of N x 8: compare the fractions.\n");
    char label[1024], slug[200], name[256], dat[300];
    static opstat_row st[64];
    int nst = 0;
    for (size_t i = 0; i < gs.n; i++) {
        const report_group *g = &gs.g[i];
        const json_t *params = g->jobs[0]->rec->params;
        report_group_label(g, keys, bare, label, sizeof label);
        op_counts oc;
        count_group(g, &oc);
        double cells = report_num(params, "cells");
        const paper_darts_row *ref = paper_darts_find(report_str(params, "metric"),
                                                      isnan(cells) ? -1 : (int)cells,
                                                      report_str(params, "dataset"));
        group_slug(g, keys, slug, sizeof slug);
        snprintf(name, sizeof name, "darts_ops_%s", slug);
        for (size_t o = 0; o < i; o++) { /* two groups with one slug: number the second */
            char oslug[200];
            group_slug(&gs.g[o], keys, oslug, sizeof oslug);
            if (!strcmp(oslug, slug)) snprintf(name, sizeof name, "darts_ops_%s_%zu", slug, i);
        }
        double ymax = 0; /* one y range for both panels, ours and paper */
        for (int t = 0; t < 2; t++)
            for (int s = 0; s < oc.nops; s++) {
                int p = paper_darts_op_index(oc.ops[s]);
                double v = pct(oc.count[t][s], oc.total[t]);
                if (v > ymax) ymax = v;
                if (ref && p >= 0)
                    v = pct(t ? ref->reduce[p] : ref->normal[p], ref->total);
                if (v > ymax) ymax = v;
            }
        ymax = 10 * ceil(ymax / 10 + 0.05);

        fprintf(c->md, "\n### ");
        report_md_text(c->md, label);
        fprintf(c->md, " (%zu genotype%s)\n\n", g->n, g->n == 1 ? "" : "s");
        if (oc.degenerate)
            fprintf(c->md, "%ld of %zu records are flagged `degenerate`: their largest score "
                           "is at the rounding level of the metric's scalar, so those genotypes "
                           "may be decided by rounding noise (FD's SynFlow form has no signal on "
                           "the DARTS supernet at all; docs/FIDELITY.md). Read these counts with "
                           "care.\n\n",
                    oc.degenerate, g->n);
        if (oc.bad) fprintf(c->md, "%ld genotype entries were not [\"op\", input] pairs and are "
                                   "not counted.\n\n", oc.bad);
        /* chart */
        snprintf(dat, sizeof dat, "%s.dat", name);
        FILE *df = report_open(c, dat);
        if (df) {
            fprintf(df, "# %s: %s\n# op ours_normal_%% paper_normal_%% ours_reduce_%% "
                        "paper_reduce_%%\n", dat, label);
            for (int s = 0; s < oc.nops; s++) {
                int p = paper_darts_op_index(oc.ops[s]);
                if (!oc.count[0][s] && !oc.count[1][s] && p < 0) continue; /* none, unused */
                fprintf(df, "%s", oc.ops[s]);
                for (int t = 0; t < 2; t++) {
                    double pp = ref && p >= 0 ? pct(t ? ref->reduce[p] : ref->normal[p], ref->total)
                                              : (ref ? 0.0 : NAN);
                    fprintf(df, " %.4f", oc.total[t] ? pct(oc.count[t][s], oc.total[t]) : 0.0);
                    if (isnan(pp)) fprintf(df, " NaN");
                    else fprintf(df, " %.4f", pp);
                }
                fputc('\n', df);
            }
        }
        report_close(c, df, dat);
        char gpname[300];
        snprintf(gpname, sizeof gpname, "%s.gp", name);
        FILE *gp = report_open(c, gpname);
        if (gp) {
            fprintf(gp, "# %s: DARTS op frequencies (docs/METHOD.md §7.4), written by freenas_report."
                        "\n# Redraw: gnuplot %s\nset encoding utf8\n", gpname, gpname);
            fprintf(gp, "set terminal pngcairo size 1100,520 font 'DejaVu Sans,10'\n"
                        "set output '%s.png'\n", name);
            write_chart_body(gp, dat, label, g->n, oc.degenerate, ref, ymax);
            fprintf(gp, "set output\nset terminal svg size 1100,520 dynamic font 'DejaVu Sans,10'"
                        " background rgb 'white'\nset output '%s.svg'\n", name);
            write_chart_body(gp, dat, label, g->n, oc.degenerate, ref, ymax);
            fprintf(gp, "set output\n");
        }
        report_close(c, gp, gpname);
        int made = gp ? report_gnuplot_run(c, gpname) : -1;
        if (made == 0) fprintf(c->md, "![op frequencies](%s.png)\n\n", name);
        fprintf(c->md, "Figure: [PNG](%s.png), [SVG](%s.svg); gnuplot [script](%s), [data](%s)%s"
                       "\n\n", name, name, gpname, dat,
                made == 0 ? "" : made == 1 ? " (figure not drawn: gnuplot not found)"
                                           : " (figure not drawn: gnuplot failed)");
        /* table */
        fprintf(c->md, "| op | normal | %% | paper normal | %% | reduce | %% | paper reduce | %% |\n"
                       "|---|---|---|---|---|---|---|---|---|\n");
        for (int s = 0; s < oc.nops; s++) {
            int p = paper_darts_op_index(oc.ops[s]);
            if (!oc.count[0][s] && !oc.count[1][s] && p < 0) continue;
            fprintf(c->md, "| ");
            report_md_text(c->md, oc.ops[s]);
            fprintf(c->md, " |");
            for (int t = 0; t < 2; t++) {
                fprintf(c->md, " %ld | %.1f |", oc.count[t][s], pct(oc.count[t][s], oc.total[t]));
                if (ref) {
                    int pc = p >= 0 ? (t ? ref->reduce[p] : ref->normal[p]) : 0;
                    fprintf(c->md, " %d | %.1f |", pc, pct(pc, ref->total));
                } else {
                    fprintf(c->md, " - | - |");
                }
                if (csv) {
                    report_csv_text(csv, label);
                    fprintf(csv, ",%s,", cell_types[t]);
                    report_csv_text(csv, oc.ops[s]);
                    fprintf(csv, ",%ld,%ld,", oc.count[t][s], oc.total[t]);
                    report_csv_num(csv, oc.total[t] ? (double)oc.count[t][s] / oc.total[t] : NAN, 6);
                    fputc(',', csv);
                    if (ref) {
                        int pc = p >= 0 ? (t ? ref->reduce[p] : ref->normal[p]) : 0;
                        report_csv_text(csv, ref->label);
                        fprintf(csv, ",%d,%d,%.6f", pc, ref->total, (double)pc / ref->total);
                    } else {
                        fprintf(csv, ",,");
                    }
                    fputc('\n', csv);
                }
            }
            fputc('\n', c->md);
        }
        fprintf(c->md, "| total | %ld | | %s | | %ld | | %s | |\n", oc.total[0],
                ref ? "40" : "-", oc.total[1], ref ? "40" : "-");
        if (ref) fprintf(c->md, "\nPaper: %s (docs/METHOD.md §7.4).\n", ref->label);
        if (ref && nst + 2 <= (int)(sizeof st / sizeof st[0])) {
            for (int t = 0; t < 2; t++) {
                opstat_row *row = &st[nst];
                snprintf(row->label, sizeof row->label, "%s", label);
                row->cell = t;
                row->n = g->n;
                row->degenerate = oc.degenerate;
                row->ref = ref;
                if (opstat_compute(&oc, g->n, ref, t, &row->r) == 0) nst++;
            }
        }
        free(oc.units);
    }
    report_opstats_table(c, st, nst);
    report_close(c, csv, "darts_ops.csv");
    free(vary);
    report_groups_free(&gs);
}
