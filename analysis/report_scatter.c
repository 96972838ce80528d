/* analysis/report_scatter.c: the proxy-against-accuracy scatter of a per-architecture group
 * (freenas_report's "Rank correlations" section): one panel per proxy, one point per
 * architecture (its proxy value, seeds averaged, against the scoring dataset's 200-epoch test
 * accuracy), Spearman rho in the panel title. A log x axis where a proxy's values are all
 * non-negative and span more than three decades (zeros then off the axis). Files: scatter_<group>.dat, .gp, .png, .svg. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/rank_stats.h"
#include "analysis/report.h"
#include "base/common.h"

#define SC_MAX_PANELS 12

static void write_body(FILE *gp, const char *dat, const char *const *proxies, int np,
                       const double *rho, const int *logx, const double *xlo, const double *xhi,
                       const char *ylabel) {
    const int cols = np < 4 ? np : 4, rows = (np + cols - 1) / cols;
    fprintf(gp, "set multiplot layout %d,%d\nunset key\nset ylabel ", rows, cols);
    report_gp_quote(gp, ylabel);
    fprintf(gp, "\n");
    for (int p = 0; p < np; p++) {
        if (!(xlo[p] <= xhi[p])) continue; /* no finite point: no panel */
        fprintf(gp, "%s\nset xrange [%.9g:%.9g]\nset xlabel ",
                logx[p] ? "set logscale x\nset format x '10^{%T}'"
                        : "unset logscale x\nset format x '%.0s%c'", xlo[p], xhi[p]);
        report_gp_quote(gp, proxies[p]);
        fprintf(gp, "\nset title sprintf('%%s: Spearman rho = %%.3f', ");
        report_gp_quote(gp, proxies[p]);
        fprintf(gp, ", %.6f)\nplot '%s' index %d using 1:2 with points pt 7 ps 0.35 "
                    "lc rgb '#1f5fa8'\n", isfinite(rho[p]) ? rho[p] : 0.0, dat, p);
    }
    fprintf(gp, "unset multiplot\n");
}

void report_proxy_scatter(report_ctx *c, const char *label, const char *dataset,
                          const char *const *proxies, int np, const double *px,
                          const double *gt, size_t narch) {
    const int t = report_dataset_test_acc(dataset);
    if (t < 0 || np <= 0 || narch < 3) return;
    if (np > SC_MAX_PANELS) np = SC_MAX_PANELS;
    char slug[200], dat[256], gpn[256], png[256], svg[256];
    report_slug(label, slug, sizeof slug);
    snprintf(dat, sizeof dat, "scatter_%s.dat", slug);
    snprintf(gpn, sizeof gpn, "scatter_%s.gp", slug);
    snprintf(png, sizeof png, "scatter_%s.png", slug);
    snprintf(svg, sizeof svg, "scatter_%s.svg", slug);
    double rho[SC_MAX_PANELS], xlo[SC_MAX_PANELS], xhi[SC_MAX_PANELS];
    int logx[SC_MAX_PANELS];
    double *x = mallocCheck(narch * sizeof *x), *y = mallocCheck(narch * sizeof *y);
    FILE *f = report_open(c, dat);
    if (f) fprintf(f, "# %s: one block per proxy: proxy value, %s\n", dat, report_acc_keys[t]);
    for (int p = 0; p < np; p++) {
        size_t m = 0;
        double lo = INFINITY, hi = -INFINITY, minpos = INFINITY;
        if (f) fprintf(f, "%s# %s\n", p ? "\n\n" : "", proxies[p]);
        for (size_t a = 0; a < narch; a++) {
            const double xv = px[a * (size_t)np + (size_t)p], yv = gt[a * REPORT_NUM_ACC + (size_t)t];
            if (!isfinite(xv) || !isfinite(yv)) continue;
            x[m] = xv, y[m++] = yv;
            if (xv < lo) lo = xv;
            if (xv > hi) hi = xv;
            if (xv > 0 && xv < minpos) minpos = xv;
            if (f) fprintf(f, "%.9g %.4f\n", xv, yv);
        }
        if (f && !m) fprintf(f, "NaN NaN\n");
        rho[p] = rank_stats_spearman(x, y, m);
        /* a log axis for a non-negative proxy over more than three decades (its zeros,
         * e.g. SynFlow of a cell cut off by `none`, are then not drawn: said in the text) */
        logx[p] = m && lo >= 0 && isfinite(minpos) && hi / minpos > 1e3;
        /* an explicit range: gnuplot refuses an empty one (a constant proxy) */
        if (!m) xlo[p] = 1, xhi[p] = 0;
        else if (logx[p]) xlo[p] = minpos / 1.5, xhi[p] = hi * 1.5;
        else {
            const double pad = hi > lo ? 0.05 * (hi - lo) : (lo != 0 ? 0.1 * fabs(lo) : 1);
            xlo[p] = lo - pad, xhi[p] = hi + pad;
        }
    }
    free(x);
    free(y);
    report_close(c, f, dat);
    FILE *gp = report_open(c, gpn);
    const int cols = np < 4 ? np : 4, rows = (np + cols - 1) / cols;
    char ylabel[64];
    snprintf(ylabel, sizeof ylabel, "%s (%%)", report_acc_labels[t]);
    if (gp) {
        fprintf(gp, "# %s: proxies against accuracy, written by freenas_report. Redraw: gnuplot "
                    "%s\nset encoding utf8\nset terminal pngcairo size %d,%d enhanced font "
                    "'DejaVu Sans,10'\nset output '%s'\n", gpn, gpn, 420 * cols, 360 * rows, png);
        write_body(gp, dat, proxies, np, rho, logx, xlo, xhi, ylabel);
        fprintf(gp, "set output\nset terminal svg size %d,%d dynamic enhanced font "
                    "'DejaVu Sans,10' background rgb 'white'\nset output '%s'\n",
                420 * cols, 360 * rows, svg);
        write_body(gp, dat, proxies, np, rho, logx, xlo, xhi, ylabel);
        fprintf(gp, "set output\n");
    }
    report_close(c, gp, gpn);
    const int made = gp ? report_gnuplot_run(c, gpn) : -1;
    if (made == 0)
        fprintf(c->md, "\n![proxies against %s](%s)\n\n[%s](%s), [%s](%s): one point per "
                       "architecture, Spearman ρ in each title (over all of them; a log axis leaves "
                       "zeros out of the picture only).\n",
                report_acc_labels[t], png, png, png, svg, svg);
    else
        fprintf(c->md, "\n(scatter not drawn: %s)\n", made == 1 ? "gnuplot not found"
                                                                : "gnuplot failed");
}
