/* analysis/report_plots.c: gnuplot for freenas_report, and the alpha-scale curve (paper
 * Figure 1, docs/METHOD.md §9): NB201 test accuracy of the search dataset against the alpha
 * initialisation scale a (alpha = a * randn), one line per metric (and variant), one panel per
 * dataset, mean ± std over seeds as a band. Written only when alpha_scale takes >= 2 values:
 *   alpha_scale.csv, alpha_scale.dat + alpha_scale.gp (kept: `gnuplot alpha_scale.gp` in the
 *   report directory redraws), alpha_scale.png, alpha_scale.svg
 * gnuplot is looked up at run time (FREENAS_GNUPLOT overrides the program); without it the
 * tables are still written and figures are skipped with a warning. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "analysis/paper_ref.h"
#include "analysis/report.h"
#include "base/common.h"

/* ---- gnuplot -------------------------------------------------------------------------- */
static int executable(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

void report_gnuplot_init(report_ctx *c) {
    static char resolved[2 * PATH_MAX + 2];
    const char *prog = getenv("FREENAS_GNUPLOT");
    c->gp.prog = prog && *prog ? prog : "gnuplot";
    c->gp.found = 0;
    if (strchr(c->gp.prog, '/')) { /* a path: made absolute, gnuplot runs in the out dir */
        char cwd[PATH_MAX];
        if (!executable(c->gp.prog)) return;
        if (c->gp.prog[0] != '/' && getcwd(cwd, sizeof cwd)) {
            snprintf(resolved, sizeof resolved, "%s/%s", cwd, c->gp.prog);
            c->gp.prog = resolved;
        }
        c->gp.found = 1;
        return;
    }
    const char *path = getenv("PATH");
    for (const char *p = path ? path : ""; *p;) {
        const char *e = strchr(p, ':');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        snprintf(resolved, sizeof resolved, "%.*s/%s", (int)n, n ? p : ".", c->gp.prog);
        if (executable(resolved)) {
            c->gp.found = 1;
            return;
        }
        p += n + (e != NULL);
    }
}

int report_gnuplot_run(report_ctx *c, const char *script) {
    if (!c->gp.found) {
        if (!c->gp.warned)
            fprintf(stderr, "freenas_report: warning: %s not found in PATH: figures skipped, "
                            "tables written (install gnuplot, e.g. apt-get install gnuplot-nox, "
                            "then run the .gp files in %s)\n", c->gp.prog, c->out_dir);
        c->gp.warned = 1;
        c->skipped_figures++;
        return 1;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "freenas_report: cannot run %s: %s\n", c->gp.prog, strerror(errno));
        c->errors++;
        return -1;
    }
    if (pid == 0) {
        if (chdir(c->out_dir) != 0) _exit(126);
        execlp(c->gp.prog, c->gp.prog, script, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) {
            status = -1;
            break;
        }
    if (status != 0) {
        if (status != -1 && WIFEXITED(status))
            fprintf(stderr, "freenas_report: error: %s failed on %s/%s (exit status %d); the "
                            "figure is missing, the .gp and .dat files are kept\n",
                    c->gp.prog, c->out_dir, script, WEXITSTATUS(status));
        else
            fprintf(stderr, "freenas_report: error: %s failed on %s/%s (killed by a signal)\n",
                    c->gp.prog, c->out_dir, script);
        c->errors++;
        return -1;
    }
    c->figures++;
    return 0;
}

void report_gp_quote(FILE *f, const char *s) {
    fputc('\'', f);
    for (; s && *s; s++) {
        if (*s == '\'') fputc('\'', f);
        if (*s != '\n') fputc(*s, f);
    }
    fputc('\'', f);
}

void report_gp_dquote(FILE *f, const char *s) {
    fputc('"', f);
    for (; s && *s; s++) {
        if (*s == '\n') fputs("\\n", f);
        else if (*s == '"' || *s == '\\') fprintf(f, "\\%c", *s);
        else if (*s == '@' || *s == '`') fputc(' ', f); /* no macro or command substitution */
        else fputc(*s, f);
    }
    fputc('"', f);
}

/* ---- alpha scale ---------------------------------------------------------------------- */
static const char *const skip_line[] = {"seed", "alpha_scale", NULL};
static const char *const by_keys[] = {"space", "dataset", "metric", NULL};
static const char *const by_line[] = {"dataset", "metric", NULL};
static const char *const palette[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                      "#E69F00", "#56B4E9", "#000000", "#999999"};
#define NPALETTE 8
#define MAX_PANELS 8

static int keep_alpha(const report_job *j, void *ctx) {
    (void)ctx;
    const char *ds = report_str(j->rec->params, "dataset");
    double a = report_num(j->rec->params, "alpha_scale");
    return j->ok && strcmp(j->rec->kind, "score") != 0 && a > 0 && isfinite(a) &&
           report_dataset_test_acc(ds) >= 0 &&
           !isnan(report_record_acc(j->rec, report_dataset_test_acc(ds)));
}

typedef struct {
    double alpha;
    rank_stats_mean_std m;
} alpha_point;

typedef struct {
    char label[512];
    const char *dataset;
    int panel, color;
    alpha_point *pts;
    size_t npts;
} alpha_line;

/* points of a line: per alpha value, mean ± std of the search dataset's test accuracy; the
 * jobs sorted once by (alpha, position), so 20,000 alpha values are not 20,000 scans */
typedef struct { double alpha; size_t j; } alpha_job;
static int cmp_alpha_job(const void *a, const void *b) {
    const alpha_job *p = a, *q = b;
    if (p->alpha != q->alpha) return p->alpha < q->alpha ? -1 : 1;
    return (p->j > q->j) - (p->j < q->j);
}

static void line_points(const report_group *g, alpha_line *l) {
    alpha_job *aj = mallocCheck((g->n ? g->n : 1) * sizeof *aj);
    size_t n = 0;
    for (size_t j = 0; j < g->n; j++) {
        double a = report_num(g->jobs[j]->rec->params, "alpha_scale");
        if (a == a) aj[n++] = (alpha_job){a, j}; /* a NaN alpha matches no point */
    }
    qsort(aj, n, sizeof *aj, cmp_alpha_job);
    l->pts = mallocCheck((g->n ? g->n : 1) * sizeof *l->pts);
    l->npts = 0;
    int acc = report_dataset_test_acc(l->dataset);
    for (size_t i = 0; i < n;) {
        size_t k = i;
        rank_stats_acc a = {0};
        for (; k < n && aj[k].alpha == aj[i].alpha; k++)
            rank_stats_acc_add(&a, report_record_acc(g->jobs[aj[k].j]->rec, acc));
        l->pts[l->npts++] = (alpha_point){aj[i].alpha, rank_stats_acc_get(&a)};
        i = k;
    }
    free(aj);
}

static const char *dataset_title(const char *ds) {
    switch (report_dataset_paper_index(ds)) {
    case PAPER_C10: return "CIFAR-10 (cifar10_test)";
    case PAPER_C100: return "CIFAR-100 (cifar100_test)";
    case PAPER_IN16: return "ImageNet16-120 (imagenet16_test)";
    default: return ds;
    }
}

static void write_alpha_body(FILE *f, const alpha_line *lines, size_t nl, const char **panels,
                             int np, double amin, double amax) {
    fprintf(f, "set logscale x 10\nset format x '10^{%%L}'\nset xrange [%g:%g]\n", amin / 2.5,
            amax * 2.5);
    fprintf(f, "set xlabel 'α initialisation scale a   (α = a · randn)'\n"
               "set ylabel 'test accuracy of the found architecture (%%)'\n"
               "set grid xtics ytics lc rgb '#e0e0e0'\nset border 3\nset tics nomirror\n"
               "set key outside below center horizontal reverse Left noenhanced spacing 1.3 width 2\n"
               "set offsets 0, 0, graph 0.04, graph 0.04\n"
               "set style fill transparent solid 0.18 noborder\n"
               "set object 1 rect from 1e-5, graph 0 to 1e-2, graph 1 behind "
               "fc rgb '#f3f3f3' fs solid 1.0 noborder\n"
               "set label 1 'paper: flat for a in [1e-5, 1e-2]' at 1e-5, graph 0.04 "
               "offset 0.6,0 font ',9' tc rgb '#808080' noenhanced\n");
    fprintf(f, "set multiplot layout 1,%d title 'FreeDARTS on NAS-Bench-201: accuracy vs alpha "
               "scale (mean ± std over seeds)' font ',13'\n", np);
    for (int p = 0; p < np; p++) {
        fprintf(f, "set title ");
        report_gp_quote(f, dataset_title(panels[p]));
        fprintf(f, " noenhanced\nplot ");
        int first = 1;
        for (size_t i = 0; i < nl; i++) {
            if (lines[i].panel != p) continue;
            const char *col = palette[lines[i].color % NPALETTE];
            fprintf(f, "%s'alpha_scale.dat' index %zu using 1:5:6 with filledcurves "
                       "lc rgb '%s' notitle, \\\n     '' index %zu using 1:2 with linespoints "
                       "lw 2 pt 7 ps 1.1 lc rgb '%s' title ", first ? "" : ", \\\n     ", i,
                    col, i, col);
            report_gp_quote(f, lines[i].label);
            first = 0;
        }
        fprintf(f, "\n");
    }
    fprintf(f, "unset multiplot\n");
}

void report_alpha_scale(report_ctx *c) {
    report_groups gs;
    report_group_jobs(&gs, c->d, keep_alpha, NULL, skip_line);
    /* distinct alpha values over all lines */
    size_t nj = 0;
    for (size_t i = 0; i < gs.n; i++) nj += gs.g[i].n;
    double *all = mallocCheck((nj ? nj : 1) * sizeof *all);
    size_t na = 0;
    for (size_t i = 0; i < gs.n; i++)
        for (size_t j = 0; j < gs.g[i].n; j++)
            all[na++] = report_num(gs.g[i].jobs[j]->rec->params, "alpha_scale");
    qsort(all, na, sizeof *all, report_cmp_double);
    size_t ndistinct = 0;
    for (size_t i = 0; i < na; i++) ndistinct += i == 0 || all[i] != all[i - 1];
    if (ndistinct < 2) {
        free(all);
        report_groups_free(&gs);
        return;
    }
    double amin = all[0], amax = all[na - 1];
    free(all);

    /* lines, labelled by the metric and the keys that tell lines of one dataset apart */
    const char *skip_label[] = {"seed", "alpha_scale", "dataset", NULL};
    const char **vary = report_varying_keys(&gs, skip_label);
    alpha_line *lines = callocCheck(gs.n, sizeof *lines);
    const char *panels[MAX_PANELS];
    int np = 0, ncolor[MAX_PANELS] = {0};
    for (size_t i = 0; i < gs.n; i++) {
        alpha_line *l = &lines[i];
        const json_t *params = gs.g[i].jobs[0]->rec->params;
        l->dataset = report_str(params, "dataset");
        int p = 0;
        while (p < np && strcmp(panels[p], l->dataset)) p++;
        if (p == np && np < MAX_PANELS) panels[np++] = l->dataset;
        l->panel = p < np ? p : np - 1;
        l->color = ncolor[l->panel]++;
        const char *metric = report_str(params, "metric");
        size_t used = (size_t)snprintf(l->label, sizeof l->label, "%s", paper_metric_name(metric));
        for (int v = 0; vary[v] && used < sizeof l->label; v++) {
            if (!strcmp(vary[v], "metric") || report_key_follows(&gs, vary[v], by_keys) ||
                !report_key_varies_within(&gs, i, vary[v], by_line))
                continue;
            char val[128];
            report_value_text(json_object_get(params, vary[v]), val, sizeof val);
            used += (size_t)snprintf(l->label + used, sizeof l->label - used, " %s=%s", vary[v], val);
        }
        line_points(&gs.g[i], l);
    }
    free(vary);

    FILE *csv = report_open(c, "alpha_scale.csv"), *dat = report_open(c, "alpha_scale.dat");
    if (csv) fprintf(csv, "line,dataset,accuracy,alpha_scale,n,mean,std\n");
    if (dat) fprintf(dat, "# alpha_scale.dat: one block per line of alpha_scale.gp (index 0, 1, ...)"
                          "\n# columns: alpha_scale mean std n mean-std mean+std\n");
    for (size_t i = 0; i < gs.n; i++) {
        alpha_line *l = &lines[i];
        int acc = report_dataset_test_acc(l->dataset);
        if (dat) fprintf(dat, "%s# %s, %s\n", i ? "\n\n" : "", l->label, l->dataset);
        for (size_t k = 0; k < l->npts; k++) {
            rank_stats_mean_std m = l->pts[k].m;
            double sd = isnan(m.std) ? 0 : m.std;
            if (dat) fprintf(dat, "%.15g %.6f %.6f %ld %.6f %.6f\n", l->pts[k].alpha, m.mean, sd,
                             m.n, m.mean - sd, m.mean + sd);
            if (csv) {
                report_csv_text(csv, l->label);
                fprintf(csv, ",%s,%s,%.15g,%ld,", l->dataset, report_acc_keys[acc], l->pts[k].alpha,
                        m.n);
                report_csv_num(csv, m.mean, 6);
                fputc(',', csv);
                report_csv_num(csv, m.std, 6);
                fputc('\n', csv);
            }
        }
    }
    report_close(c, csv, "alpha_scale.csv");
    report_close(c, dat, "alpha_scale.dat");

    FILE *gp = report_open(c, "alpha_scale.gp");
    int w = np > 1 ? 560 * np : 900;
    if (gp) {
        fprintf(gp, "# alpha_scale.gp: paper Figure 1 (docs/METHOD.md §9) from alpha_scale.dat, written "
                    "by freenas_report.\n# Redraw (e.g. after restyling): gnuplot alpha_scale.gp\n"
                    "set encoding utf8\n");
        fprintf(gp, "set terminal pngcairo size %d,600 enhanced font 'DejaVu Sans,11'\n"
                    "set output 'alpha_scale.png'\n", w);
        write_alpha_body(gp, lines, gs.n, panels, np, amin, amax);
        fprintf(gp, "set output\nset terminal svg size %d,600 dynamic enhanced "
                    "font 'DejaVu Sans,11' background rgb 'white'\n"
                    "set output 'alpha_scale.svg'\n", w);
        write_alpha_body(gp, lines, gs.n, panels, np, amin, amax);
        fprintf(gp, "set output\n");
    }
    report_close(c, gp, "alpha_scale.gp");

    fprintf(c->md, "\n## Alpha scale (paper Figure 1)\n\n");
    int made = gp ? report_gnuplot_run(c, "alpha_scale.gp") : -1;
    if (made == 0)
        fprintf(c->md, "![test accuracy against the alpha scale](alpha_scale.png)\n\n");
    else
        fprintf(c->md, "(figure not drawn: %s)\n\n", made == 1 ? "gnuplot not found"
                                                                 : "gnuplot failed");
    fprintf(c->md, "[alpha_scale.png](alpha_scale.png), [alpha_scale.svg](alpha_scale.svg), "
                   "[alpha_scale.csv](alpha_scale.csv); gnuplot script [alpha_scale.gp]"
                   "(alpha_scale.gp) with data [alpha_scale.dat](alpha_scale.dat). Test accuracy "
                   "(%%) on the search dataset, mean ± std over seeds; the paper reports the "
                   "curve flat and good for a in [1e-5, 1e-2].\n\n| alpha scale |");
    for (size_t i = 0; i < gs.n; i++) {
        fputc(' ', c->md);
        report_md_text(c->md, lines[i].label);
        if (np > 1) fprintf(c->md, " %s", lines[i].dataset);
        fputs(" |", c->md);
    }
    fprintf(c->md, "\n|---|");
    for (size_t i = 0; i < gs.n; i++) fprintf(c->md, "---|");
    fputc('\n', c->md);
    /* one row per distinct alpha over all lines */
    double prev = -1;
    for (;;) {
        double next = INFINITY;
        for (size_t i = 0; i < gs.n; i++)
            for (size_t k = 0; k < lines[i].npts; k++)
                if (lines[i].pts[k].alpha > prev && lines[i].pts[k].alpha < next)
                    next = lines[i].pts[k].alpha;
        if (isinf(next)) break;
        fprintf(c->md, "| %g |", next);
        for (size_t i = 0; i < gs.n; i++) {
            char buf[64] = "-";
            for (size_t k = 0; k < lines[i].npts; k++)
                if (lines[i].pts[k].alpha == next)
                    report_fmt_ms(buf, sizeof buf, lines[i].pts[k].m, 2);
            fprintf(c->md, " %s |", buf);
        }
        fputc('\n', c->md);
        prev = next;
    }
    for (size_t i = 0; i < gs.n; i++) free(lines[i].pts);
    free(lines);
    report_groups_free(&gs);
}
