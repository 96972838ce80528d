/* analysis/report_landscape.c: where the architectures a sweep found land among all 15,625
 * of NAS-Bench-201. For every NB201 record with accuracies (kinds search, zc_search, random,
 * hnas), grouped by method (the metric; kind and strategy when not a FreeDARTS search), and
 * for each 200-epoch test column (C10, C100, IN16): the histogram of the whole space from the
 * NB201 table (--benchmark, else the table found under the data roots) with one marker per
 * found architecture, a row per method above it. Written when the table is there:
 *   landscape.csv   method, dataset, n, mean accuracy, mean percentile in the space (the share
 *                   of the 15,625 architectures strictly worse), best and worst found
 *   landscape_hist.dat, landscape_found.dat, landscape.gp -> landscape.png, landscape.svg */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/paper_ref.h"
#include "analysis/report.h"
#include "base/common.h"

#define LS_MAX_METHODS 24
#define LS_BIN 0.5 /* histogram bin width, accuracy points */

static const int ls_acc[3] = {1, 2, 3}; /* cifar10_test, cifar100_test, imagenet16_test */
static const char *const ls_title[3] = {"CIFAR-10 test", "CIFAR-100 test", "ImageNet16-120 test"};

typedef struct {
    char label[96];
    double *acc[3]; /* found architectures' accuracies, per column */
    size_t n, cap;
} ls_method;

static double table_acc(const nb201_record *r, int col) {
    return col == 1 ? r->cifar10_test : col == 2 ? r->cifar100_test : r->imagenet16_test;
}

static void method_label(const json_t *params, const json_t *rec, char *buf, size_t len) {
    const char *kind = report_str(params, "kind"), *metric = report_str(params, "metric");
    const char *strategy = report_str(params, "strategy");
    (void)rec;
    if (!kind || !strcmp(kind, "search"))
        snprintf(buf, len, "%s", metric ? paper_metric_name(metric) : "search");
    else if (strategy)
        snprintf(buf, len, "%s %s %s", kind, strategy, metric ? metric : "");
    else
        snprintf(buf, len, "%s%s%s", kind, metric ? " " : "", metric ? metric : "");
}

/* share of the sorted space values strictly below v */
static double percentile(const double *sorted, size_t n, double v) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        const size_t mid = (lo + hi) / 2;
        if (sorted[mid] < v) lo = mid + 1;
        else hi = mid;
    }
    return 100.0 * (double)lo / (double)n;
}

static void write_body(FILE *gp, const ls_method *m, int nm, const double *lo, const double *hi,
                       const double *ymax) {
    fprintf(gp, "set multiplot layout 1,3\nset style fill solid 0.35 noborder\n"
                "set key top left font ',9'\nset xlabel 'test accuracy (%%)'\n"
                "set ylabel 'architectures per %.1f-point bin'\n", LS_BIN);
    for (int d = 0; d < 3; d++) {
        const double top = ymax[d] * (1.12 + 0.09 * nm);
        fprintf(gp, "set title '%s: %s found vs all 15,625'\n", ls_title[d],
                nm == 1 ? "architectures" : "methods");
        fprintf(gp, "set xrange [%g:%g]\nset yrange [0:%g]\n", lo[d], hi[d], top);
        fprintf(gp, "plot 'landscape_hist.dat' index %d using 1:2 with boxes lc rgb '#888888' "
                    "title 'NB201 space'", d);
        for (int k = 0; k < nm; k++) {
            fprintf(gp, ", 'landscape_found.dat' index %d using 1:($2*0+%g) with points pt 7 "
                        "ps 0.9 lc %d title ",
                    k * 3 + d, ymax[d] * (1.08 + 0.09 * k), k + 1);
            report_gp_quote(gp, m[k].label);
        }
        fprintf(gp, "\n");
    }
    fprintf(gp, "unset multiplot\n");
}

void report_nb201_landscape(report_ctx *c) {
    if (!c->space) return;
    ls_method *m = callocCheck(LS_MAX_METHODS, sizeof *m);
    int nm = 0;
    long dropped = 0;
    for (size_t j = 0; j < c->d->njobs; j++) {
        const report_job *job = &c->d->jobs[j];
        if (!job->ok) continue;
        const json_t *params = job->rec->params;
        const char *space = report_str(params, "space");
        if (space && strcmp(space, "nb201")) continue;
        if (!json_is_object(json_object_get(job->rec->rec, "accuracy"))) continue;
        char label[96];
        method_label(params, job->rec->rec, label, sizeof label);
        int k = 0;
        while (k < nm && strcmp(m[k].label, label)) k++;
        if (k == nm) {
            if (nm == LS_MAX_METHODS) { dropped++; continue; }
            snprintf(m[nm++].label, sizeof m[0].label, "%s", label);
        }
        ls_method *x = &m[k];
        if (x->n == x->cap) {
            x->cap = x->cap ? 2 * x->cap : 16;
            for (int d = 0; d < 3; d++) {
                double *a = realloc(x->acc[d], x->cap * sizeof(double));
                FN_ASSERT(a);
                x->acc[d] = a;
            }
        }
        for (int d = 0; d < 3; d++) x->acc[d][x->n] = report_record_acc(job->rec, ls_acc[d]);
        x->n++;
    }
    if (!nm) {
        free(m);
        return;
    }
    /* the whole space, per column, sorted (for the percentiles) and binned */
    double *space_acc[3], lo[3], hi[3], ymax[3] = {0, 0, 0};
    size_t ns[3] = {0, 0, 0};
    for (int d = 0; d < 3; d++) {
        space_acc[d] = mallocCheck(NB201_NUM_ARCHS * sizeof(double));
        for (int i = 0; i < NB201_NUM_ARCHS; i++) {
            const nb201_record *r = &c->space->by_index[i];
            const double v = table_acc(r, ls_acc[d]);
            if (r->index >= 0 && isfinite(v)) space_acc[d][ns[d]++] = v;
        }
        qsort(space_acc[d], ns[d], sizeof(double), report_cmp_double);
        /* the x range: from the 10th percentile of the space (the long tail of broken cells,
         * down to 10 %, would squeeze the rest), or lower to show every found architecture */
        double xmin = ns[d] ? space_acc[d][ns[d] / 10] : 0;
        for (int k = 0; k < nm; k++)
            for (size_t i = 0; i < m[k].n; i++)
                if (isfinite(m[k].acc[d][i]) && m[k].acc[d][i] < xmin) xmin = m[k].acc[d][i];
        lo[d] = floor(xmin / LS_BIN) * LS_BIN;
        hi[d] = ns[d] ? (floor(space_acc[d][ns[d] - 1] / LS_BIN) + 1) * LS_BIN : 100;
    }
    FILE *hist = report_open(c, "landscape_hist.dat"), *found = report_open(c, "landscape_found.dat");
    if (hist) fprintf(hist, "# landscape_hist.dat: one block per column (C10, C100, IN16 test): "
                            "bin centre, architectures in the %.1f-point bin\n", LS_BIN);
    for (int d = 0; d < 3; d++) {
        const int nb = (int)((hi[d] - lo[d]) / LS_BIN + 0.5);
        long *cnt = callocCheck((size_t)nb + 1, sizeof *cnt);
        for (size_t i = 0; i < ns[d]; i++) {
            const int b = (int)((space_acc[d][i] - lo[d]) / LS_BIN);
            if (space_acc[d][i] >= lo[d]) cnt[b >= nb ? nb - 1 : b]++; /* below: not drawn */
        }
        if (hist) fprintf(hist, "%s# %s\n", d ? "\n\n" : "", ls_title[d]);
        for (int b = 0; b < nb; b++) {
            if (cnt[b] > ymax[d]) ymax[d] = (double)cnt[b];
            if (hist) fprintf(hist, "%.3f %ld\n", lo[d] + (b + 0.5) * LS_BIN, cnt[b]);
        }
        free(cnt);
    }
    if (found) fprintf(found, "# landscape_found.dat: block 3 k + d: the accuracies of the "
                              "architectures method k found in column d\n");
    FILE *csv = report_open(c, "landscape.csv");
    if (csv) fprintf(csv, "method,accuracy,n,mean,mean_percentile,best,worst\n");
    fprintf(c->md, "\n## Found architectures in the NAS-Bench-201 space\n\n");
    fprintf(c->md, "Where the found architectures land among all %zu of the space "
                   "([landscape.csv](landscape.csv)): *percentile* is the share of the space "
                   "strictly worse than a found architecture, averaged over the method's "
                   "searches (100 = better than every architecture).\n\n"
                   "| method | n | C10 test | pct | C100 test | pct | IN16 test | pct |\n"
                   "|---|---|---|---|---|---|---|---|\n", ns[0]);
    for (int k = 0; k < nm; k++) {
        fprintf(c->md, "| ");
        report_md_text(c->md, m[k].label);
        fprintf(c->md, " | %zu |", m[k].n);
        for (int d = 0; d < 3; d++) {
            double sum = 0, pct = 0, best = -INFINITY, worst = INFINITY;
            size_t n = 0;
            for (size_t i = 0; i < m[k].n; i++) {
                const double v = m[k].acc[d][i];
                if (!isfinite(v)) continue;
                sum += v, n++;
                pct += percentile(space_acc[d], ns[d], v);
                if (v > best) best = v;
                if (v < worst) worst = v;
            }
            if (found) {
                fprintf(found, "%s# %s, %s\n", d || k ? "\n\n" : "", ls_title[d], m[k].label);
                for (size_t i = 0; i < m[k].n; i++)
                    if (isfinite(m[k].acc[d][i])) fprintf(found, "%.4f 0\n", m[k].acc[d][i]);
                if (!n) fprintf(found, "NaN 0\n"); /* keeps the block (gnuplot skips it) */
            }
            const double mean = n ? sum / (double)n : NAN, mpct = n ? pct / (double)n : NAN;
            report_md_num(c->md, mean, 2);
            report_md_num(c->md, mpct, 1);
            if (csv) {
                report_csv_text(csv, m[k].label);
                fprintf(csv, ",%s,%zu,", report_acc_keys[ls_acc[d]], n);
                report_csv_num(csv, mean, 4);
                fputc(',', csv);
                report_csv_num(csv, mpct, 2);
                fputc(',', csv);
                report_csv_num(csv, n ? best : NAN, 4);
                fputc(',', csv);
                report_csv_num(csv, n ? worst : NAN, 4);
                fputc('\n', csv);
            }
        }
        fprintf(c->md, "\n");
    }
    if (dropped)
        fprintf(c->md, "\n(%ld records of methods beyond the first %d left out.)\n", dropped,
                LS_MAX_METHODS);
    report_close(c, csv, "landscape.csv");
    report_close(c, hist, "landscape_hist.dat");
    report_close(c, found, "landscape_found.dat");

    FILE *gp = report_open(c, "landscape.gp");
    if (gp) {
        fprintf(gp, "# landscape.gp: found architectures against the NB201 accuracy distribution, "
                    "written by freenas_report.\n# Redraw: gnuplot landscape.gp\nset encoding utf8\n"
                    "set terminal pngcairo size 1800,560 enhanced font 'DejaVu Sans,11'\n"
                    "set output 'landscape.png'\n");
        write_body(gp, m, nm, lo, hi, ymax);
        fprintf(gp, "set output\nset terminal svg size 1800,560 dynamic enhanced "
                    "font 'DejaVu Sans,11' background rgb 'white'\nset output 'landscape.svg'\n");
        write_body(gp, m, nm, lo, hi, ymax);
        fprintf(gp, "set output\n");
    }
    report_close(c, gp, "landscape.gp");
    const int made = gp ? report_gnuplot_run(c, "landscape.gp") : -1;
    if (made == 0)
        fprintf(c->md, "\n![found architectures in the NB201 accuracy distribution](landscape.png)"
                       "\n\n[landscape.png](landscape.png), [landscape.svg](landscape.svg); "
                       "gnuplot script [landscape.gp](landscape.gp). Grey: histogram of the "
                       "space (its worst 10 %% below the axis are not drawn unless a found "
                       "architecture is there); one row of markers per method, one marker per "
                       "search.\n");
    else
        fprintf(c->md, "\n(figure not drawn: %s)\n", made == 1 ? "gnuplot not found"
                                                               : "gnuplot failed");
    for (int d = 0; d < 3; d++) free(space_acc[d]);
    for (int k = 0; k < nm; k++)
        for (int d = 0; d < 3; d++) free(m[k].acc[d]);
    free(m);
}
