/* cli/cmd_hnas_corr.c: freenas hnas-corr, the proxy-against-proxy rank correlations of HNAS
 * metric tables (hnas/table.h) over the NB201 space, with the benchmark's accuracies beside
 * them: how far grad_norm, snip, grasp and the NTK trace are one metric, as HNAS argues
 * (docs/METHOD.md §4.2), and how each ranks the architectures' accuracy.
 *
 * Each pair is taken over the architectures whose tables give both values (finite), so a
 * whole-space column and a slice column meet on the slice; n is printed beside each matrix.
 * Spearman ρ (average ranks) and Kendall τ-b (analysis/rank_stats.h) as Markdown tables, and
 * one CSV row per pair with --csv. kappa < 0 ranks as +inf unless --kappa-raw. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/rank_stats.h"
#include "base/common.h"
#include "cli/commands.h"
#include "datasets/data_dirs.h"
#include "hnas/search.h"
#include "hnas/table.h"

static void usage(FILE *f) {
    fprintf(f,
"usage: freenas hnas-corr [--table FILE[,FILE...]] [--benchmark FILE] [--csv FILE]\n"
"\n"
"Rank correlations, every column against every other, of HNAS metric tables over the NB201\n"
"architectures (freenas hnas-table; default: the tables shipped with freenas), with the\n"
"200-epoch test accuracies of the benchmark (C10, C100, IN16) as three more columns. Each pair\n"
"uses the architectures whose tables give both values; n is printed. Prints Spearman rho and\n"
"Kendall tau-b as Markdown tables.\n"
"\n"
"options:\n"
"  --table LIST     metric tables, FILE or FILE,FILE,... merged by column (hnas/README.md)\n"
"  --benchmark FILE NB201 200-epoch table (default: the one shipped with freenas)\n"
"  --csv FILE       also write column_a,column_b,n,spearman,kendall_tau_b\n"
"  --kappa-raw      kappa columns (*ntk_cond*) as computed; default: kappa < 0 ranks as +inf,\n"
"                   as freenas hnas scores it (a rounded zero eigenvalue)\n");
}

#define ACC_COLS 3
static const char *const acc_col[ACC_COLS] = {"cifar10_test", "cifar100_test", "imagenet16_test"};
static const char *const acc_name[ACC_COLS] = {"acc C10", "acc C100", "acc IN16"};

/* a table cell, NaN where no file gave it; kappa < 0 (a rounded zero eigenvalue: the true
 * kappa is infinite) as the largest double, the rank the search gives it (hnas/search.h) */
static double cell(const hnas_table *t, int i, int c, int kappa) {
    if (!hnas_table_has(t, i, c)) return NAN;
    const double v = hnas_table_get(t, i, c);
    return kappa && isinf(hnas_kappa_effective(v, 0)) ? DBL_MAX : v;
}

int cmd_hnas_corr(int argc, char **argv) {
    const char *table = NULL, *bpath = NULL, *csvp = NULL;
    int raw = 0;
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(o, "--kappa-raw")) {
            raw = 1;
            continue;
        }
        if (!v || (strcmp(o, "--table") && strcmp(o, "--benchmark") && strcmp(o, "--csv"))) {
            fprintf(stderr, "freenas hnas-corr: %s '%s' (see freenas hnas-corr --help)\n",
                    v ? "unknown option" : "missing value for", o);
            return 2;
        }
        *(!strcmp(o, "--table") ? &table : !strcmp(o, "--benchmark") ? &bpath : &csvp) = v;
        i++;
    }
    char bbuf[4096], err[FN_ERRLEN];
    if (!bpath) {
        if (data_find("nb201/nb201_accuracy.tsv", bbuf, sizeof bbuf, err, sizeof err)) {
            fprintf(stderr, "freenas hnas-corr: %s (hint: --benchmark FILE)\n", err);
            return 2;
        }
        bpath = bbuf;
    }
    if (!table && !(table = data_hnas_tables())) {
        fprintf(stderr, "freenas hnas-corr: no metric table found under the data roots (hint: "
                "--table FILE)\n");
        return 2;
    }
    hnas_table *t = hnas_table_new();
    char files[16384];
    snprintf(files, sizeof files, "%s", table);
    int rc = 0;
    for (char *s = NULL, *f = strtok_r(files, ",", &s); f && !rc; f = strtok_r(NULL, ",", &s))
        if (hnas_table_load(t, f, err, sizeof err)) fprintf(stderr, "freenas hnas-corr: %s\n", err), rc = 2;
    const int nm = t->ncols, nc = nm + ACC_COLS;
    double *acc = mallocCheck(sizeof(double) * HNAS_NUM_ARCHS * ACC_COLS);
    for (int a = 0; a < ACC_COLS && !rc; a++)
        if (hnas_tsv_column(bpath, acc_col[a], acc + (size_t)a * HNAS_NUM_ARCHS, err, sizeof err))
            fprintf(stderr, "freenas hnas-corr: %s\n", err), rc = 2;
    FILE *csv = NULL;
    if (!rc && csvp && !(csv = fopen(csvp, "w"))) {
        fprintf(stderr, "freenas hnas-corr: cannot write %s\n", csvp);
        rc = 2;
    }
    if (rc) {
        free(acc);
        hnas_table_free(t);
        return rc;
    }
    /* value of column c for architecture i: a table cell it gave, or an accuracy */
#define VAL(c, i) ((c) < nm ? cell(t, (i), (c), kcol[c]) : acc[(size_t)((c) - nm) * HNAS_NUM_ARCHS + (i)])
    int kcol[HNAS_MAX_COLS] = {0};
    for (int c = 0; c < nm; c++) kcol[c] = !raw && strstr(t->col[c], "ntk_cond") != NULL;
    const char **name = mallocCheck(sizeof(char *) * (size_t)nc);
    for (int c = 0; c < nm; c++) name[c] = t->col[c];
    for (int a = 0; a < ACC_COLS; a++) name[nm + a] = acc_name[a];
    double *rho = mallocCheck(sizeof(double) * (size_t)(nc * nc)),
           *tau = mallocCheck(sizeof(double) * (size_t)(nc * nc)),
           *x = mallocCheck(sizeof(double) * HNAS_NUM_ARCHS * 2), *y = x + HNAS_NUM_ARCHS;
    size_t *n = mallocCheck(sizeof(size_t) * (size_t)(nc * nc));
    if (csv) fprintf(csv, "column_a,column_b,n,spearman,kendall_tau_b\n");
    for (int p = 0; p < nc; p++)
        for (int q = p; q < nc; q++) {
            size_t k = 0;
            for (int i = 0; i < HNAS_NUM_ARCHS; i++) {
                const double a = VAL(p, i), b = VAL(q, i);
                if (isfinite(a) && isfinite(b)) x[k] = a, y[k] = b, k++;
            }
            const double r = k >= 3 ? rank_stats_spearman(x, y, k) : NAN,
                         tb = k >= 3 ? rank_stats_kendall_tau_b(x, y, k) : NAN;
            rho[p * nc + q] = rho[q * nc + p] = r;
            tau[p * nc + q] = tau[q * nc + p] = tb;
            n[p * nc + q] = n[q * nc + p] = k;
            if (csv && q > p) fprintf(csv, "%s,%s,%zu,%.6f,%.6f\n", name[p], name[q], k, r, tb);
        }
#undef VAL
    printf("# freenas hnas-corr: %d metric columns of %d architectures (%s)\n", nm, t->nrows, table);
    for (int m = 0; m < 3; m++) {
        const char *title = m == 0 ? "Spearman rho" : m == 1 ? "Kendall tau-b" : "n (architectures)";
        printf("\n%s\n\n| |", title);
        for (int q = 0; q < nc; q++) printf(" %s |", name[q]);
        printf("\n|---|");
        for (int q = 0; q < nc; q++) printf("---|");
        printf("\n");
        for (int p = 0; p < nc; p++) {
            printf("| %s |", name[p]);
            for (int q = 0; q < nc; q++) {
                const double v = m == 0 ? rho[p * nc + q] : tau[p * nc + q];
                if (m == 2) printf(" %zu |", n[p * nc + q]);
                else if (isnan(v)) printf(" - |");
                else printf(" %.3f |", v);
            }
            printf("\n");
        }
    }
    if (csv) fclose(csv);
    free(name);
    free(rho);
    free(tau);
    free(x);
    free(n);
    free(acc);
    hnas_table_free(t);
    return 0;
}
