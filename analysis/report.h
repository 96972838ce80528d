/* analysis/report.h: what the sections of freenas_report share: the run context, output
 * files, Markdown / CSV / number formatting, and the NB201 accuracy columns.
 *
 * Sections (each writes its CSV / figures into the output directory and its part of
 * report.md):
 *   report_tables.c  search table, paper Table 2 layout, ensembles
 *   report_plots.c   gnuplot runner and the alpha-scale curve (paper Figure 1)
 *   report_darts.c   DARTS operation frequencies per cell type (docs/METHOD.md §7.4)
 *   report_corr.c    rank correlations of per-architecture proxy scores (docs/METHOD.md §7.1) */
#ifndef FN_REPORT_H
#define FN_REPORT_H

#include <stdio.h>

#include "analysis/rank_stats.h"
#include "analysis/report_records.h"
#include "datasets/nb201_table.h"

/* NB201 ground-truth accuracy columns of a record's `accuracy` object */
#define REPORT_NUM_ACC 4
extern const char *const report_acc_keys[REPORT_NUM_ACC];   /* cifar10_valid ... */
extern const char *const report_acc_labels[REPORT_NUM_ACC]; /* C10 valid ... */

typedef struct {
    const char *prog;  /* gnuplot program (FREENAS_GNUPLOT, else "gnuplot") */
    int found;         /* found in PATH / executable */
    int warned;        /* the "not found" warning was printed */
} report_gnuplot;

typedef struct {
    const report_data *d;
    const char *out_dir;
    FILE *md;                     /* report.md */
    const nb201_table *bench;     /* --benchmark, or NULL: ground truth of score records */
    const nb201_table *space;     /* --benchmark, else the shipped table: the landscape */
    const char *bench_path;
    report_gnuplot gp;
    int quiet;
    long errors;                  /* failed writes / gnuplot runs: exit code 1 */
    long warnings;
    long figures, skipped_figures;
} report_ctx;

/* Opens OUT_DIR/name for writing; NULL after printing the reason (counted as an error). */
FILE *report_open(report_ctx *c, const char *name);
/* Closes f; a write error is reported and counted. */
void report_close(report_ctx *c, FILE *f, const char *name);
/* progress line on stdout unless --quiet */
void report_note(const report_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Markdown cell text: '|' escaped, newlines as spaces */
void report_md_text(FILE *f, const char *s);
/* CSV field: quoted when it holds a comma, a quote or a newline */
void report_csv_text(FILE *f, const char *s);
/* "93.52 ± 0.11", "93.52" (n == 1), "-" (n == 0), with prec decimals */
void report_fmt_ms(char *buf, size_t len, rank_stats_mean_std m, int prec);
/* qsort comparator, ascending doubles */
int report_cmp_double(const void *a, const void *b);
/* CSV numbers: "%.*f" or empty for NaN */
void report_csv_num(FILE *f, double v, int prec);
/* Markdown cell of a number: " %.*f |", or " - |" for NaN */
void report_md_num(FILE *f, double v, int prec);
/* A file name part from a label: [A-Za-z0-9._-], '=' as '-', runs of others as one '_' */
void report_slug(const char *label, char *buf, size_t len);

/* The accuracy column and paper column of a search dataset: cifar10 -> cifar10_test
 * (valid: cifar10_valid), cifar100 -> cifar100_test, imagenet16-120 (also imagenet16,
 * ImageNet16-120, imagenet16_120) -> imagenet16_test. -1 / NULL for others (imagenet224). */
int report_dataset_paper_index(const char *dataset);
int report_dataset_test_acc(const char *dataset);  /* index into report_acc_keys, or -1 */
int report_dataset_valid_acc(const char *dataset); /* index into report_acc_keys, or -1 */
/* the record's accuracy[key] (NaN if absent) */
double report_record_acc(const report_record *r, int acc);

/* sections */
void report_search_table(report_ctx *c);
void report_paper_table(report_ctx *c);
void report_ensembles_table(report_ctx *c);
void report_alpha_scale(report_ctx *c);
/* found NB201 architectures against the whole space (analysis/report_landscape.c) */
void report_nb201_landscape(report_ctx *c);
void report_darts_ops(report_ctx *c);
void report_correlations(report_ctx *c);
/* HNAS: its table beside the authors' row, the convergence figure, the proxy-against-proxy
 * Spearman matrix (analysis/report_hnas.c) */
#define HNAS_REPORT_MAX_T 256
void report_hnas(report_ctx *c);
/* the ranking table of one correlation group (analysis/report_ranking.c): px[a * np + p] the
 * proxy values, dir[p] each proxy's direction (+1 larger is better, -1 smaller; the records'
 * proxy_direction) and gt[a * REPORT_NUM_ACC + t] the ground truth of narch archs */
void report_ranking_table(report_ctx *c, const char *label, const char *dataset,
                          const char *const *proxies, const int *dir, int np, const double *px,
                          const double *gt, size_t narch, const int *has_gt, FILE *csv);
void report_ranking_csv_header(FILE *csv);
/* the proxy-against-accuracy scatter of one correlation group (analysis/report_scatter.c) */
void report_proxy_scatter(report_ctx *c, const char *label, const char *dataset,
                          const char *const *proxies, int np, const double *px,
                          const double *gt, size_t narch);

/* gnuplot: finds the program once (report_gnuplot_init), then runs OUT_DIR/script in OUT_DIR.
 * Returns 0 when the figure was made, 1 when gnuplot is missing (warned once), -1 on failure
 * (reported, counted as an error). */
void report_gnuplot_init(report_ctx *c);
int report_gnuplot_run(report_ctx *c, const char *script);
/* writes s as a gnuplot single-quoted string (taken literally; newlines dropped) */
void report_gp_quote(FILE *f, const char *s);
/* writes s as a gnuplot double-quoted string: newlines kept as line breaks */
void report_gp_dquote(FILE *f, const char *s);

#endif
