/* cli/cmd_hnas.c: `freenas hnas` (one HNAS search on NB201, or its baselines; hnas/search.h)
 * and `freenas hnas-table` (the per-architecture metric table it reads; hnas/table.h).
 *
 *   freenas hnas --space nb201 --seed 0
 *   freenas hnas --seeds 0:19 --metric hnas_grad_norm --acq ucb
 *   freenas hnas --seed 3 --mode random --json
 *   freenas hnas-table --range 0:200 --out hnas/data/nb201_cifar10_seed0.tsv
 *
 * Exit code: 0 done, 1 a search or an architecture failed, 2 usage or input error. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/common.h"
#include "cli/commands.h"
#include "gpu/device.h"
#include "hnas/record.h"
#include "hnas/search.h"
#include "hnas/table.h"
#include "datasets/data_dirs.h"
#include "nasbench/nb201_benchmark.h"
#include "nasbench/nb201_net.h"
#include "proxies/proxy.h"

#ifndef FREENAS_SOURCE_DIR
#define FREENAS_SOURCE_DIR "."
#endif
#define HNAS_DEFAULT_TABLE "hnas/data/nb201_cifar10_seed0.tsv"
#define HNAS_TABLE_PROXIES "hnas_ntk_trace,hnas_ntk_cond,hnas_grad_norm,hnas_snip,hnas_grasp"

static void hnas_usage(FILE *f) {
    fprintf(f,
"usage: freenas hnas [--space nb201] (--seed N | --seeds A:B) [options]\n"
"       freenas hnas --space darts --seed N [options]   (HNAS on DARTS: --space darts --help)\n"
"\n"
"HNAS (Shu et al., NeurIPS 2022; docs/METHOD.md §4.3) on NAS-Bench-201 over a precomputed table of\n"
"per-architecture metrics: T iterations of Bayesian optimisation over (nu, log10 mu) of\n"
"  score(A) = 10^c |M^2 - (s nu)^2| + kappa / (M + 1e-6),\n"
"each querying the argmin of a growing pool's scores for its training signal; the pick is the\n"
"queried architecture with the best signal, shown with its 200-epoch test accuracies.\n"
"\n"
"options:\n"
"  --table FILE[,FILE]  metric tables (freenas hnas-table), merged by column; default the\n"
"                       tables shipped with freenas (hnas/README.md): the whole-space table of\n"
"                       the four M variants and kappa, and a slice (every 64th row) of it\n"
"                       (else the checkout's %s). The candidates are the\n"
"                       rows giving the chosen M and kappa; fewer than 15,625: a warning\n"
"  --data DIR           NB201 tables under DIR/nb201 (default: the tables shipped with\n"
"                       freenas, found under the data roots; docs/DATA.md)\n"
"  --benchmark FILE     200-epoch table (default DIR/nb201/nb201_accuracy.tsv)\n"
"  --extra FILE         12-epoch table (default DIR/nb201/nb201_accuracy_extra.tsv)\n"
"  --metric COL         M: hnas_ntk_trace (default), hnas_grad_norm, hnas_snip, hnas_grasp, or\n"
"                       any column of the table (e.g. naswot, synflow from freenas hnas-table\n"
"                       --proxy)\n"
"  --kappa COL          kappa column (default hnas_ntk_cond)\n"
"  --mode bo|alone|random  HNAS (default); the metric alone at fixed --nu / --log-mu over a\n"
"                       pool of T x draws, no queries; random search with the same queries\n"
"  --acq ei|ucb         acquisition (default ei), --xi X (0), --ucb-kappa K (2.576)\n"
"  --metric-abs         M = |table value| (HNAS's code takes M as it is: a signed M such as\n"
"                       hnas_grasp, below 0 for 2,889 architectures, makes kappa / (M + 1e-6)\n"
"                       run to -inf as M nears 0 from below; every suggestion then picks there)\n"
"  --kappa-raw          score a kappa < 0 as it is (HNAS's code: a network whose output ignores\n"
"                       its input then wins every query); default: as +inf (hnas/README.md)\n"
"  --T N                iterations (default 20: 5 probes + 15 BO steps)\n"
"  --draws N            pool draws per evaluation (2000); --scale S (5e3)\n"
"  --nu V, --log-mu C   mode alone (default 0 and -2)\n"
"  --signal COL         training signal (default cifar10_valid_12ep of the 12-epoch table;\n"
"                       e.g. cifar100_valid_12ep, imagenet16_valid_12ep, or cifar10_valid of\n"
"                       the 200-epoch table)\n"
"  --cost COL           seconds per query (default cifar10_valid_12ep_train_s); --cost-scale F\n"
"                       multiplies it (e.g. 16.67 for 200-epoch training)\n"
"  --json               one JSON object per search (hnas/record.h)\n"
"  --landscape NU:C     instead of searches: the argmin of the score over every candidate at\n"
"                       each point of an NU x C grid over nu in [0, 1] and log10 mu in its\n"
"                       bounds (e.g. 101:41), with its accuracies, and the best and median\n"
"                       grid point: what any suggestion could reach at best (hnas/README.md)\n"
"  --quiet              no per-step lines\n", HNAS_DEFAULT_TABLE);
}

typedef struct { double s, ss; int n; } stat;
static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
static void stat_add(stat *st, double v) { if (isfinite(v)) { st->s += v; st->ss += v * v; st->n++; } }
static double stat_mean(const stat *st) { return st->n ? st->s / st->n : NAN; }
static double stat_std(const stat *st) {
    if (st->n < 2) return 0;
    const double m = stat_mean(st), v = (st->ss - st->n * m * m) / (st->n - 1);
    return v > 0 ? sqrt(v) : 0;
}

/* signal / cost column from the 12-epoch table, else the 200-epoch one */
static int load_column(const char *extra, const char *bench, const char *col, double *out,
                       char *err, size_t errlen) {
    char e1[FN_ERRLEN], e2[FN_ERRLEN];
    if (!hnas_tsv_column(extra, col, out, e1, sizeof e1)) return 0;
    if (!hnas_tsv_column(bench, col, out, e2, sizeof e2)) return 0;
    snprintf(err, errlen, "%.250s; %.250s", e1, e2);
    return -1;
}

/* --landscape: the whole-space argmin of the score at every (nu, c) of a grid
 * (hnas_landscape), one line each, and how good the best and the typical grid point are. */
static int print_landscape(const hnas_config *hc, const hnas_data *d, const hnas_names *nm,
                           const nb201_benchmark *bench, int nn, int nc, int json) {
    char err[FN_ERRLEN];
    int *idx = mallocCheck(sizeof(int) * (size_t)nn * nc);
    if (hnas_landscape(hc, d, nn, nc, idx, err, sizeof err)) {
        fprintf(stderr, "freenas hnas: %s\n", err);
        free(idx);
        return 2;
    }
    double *c10 = mallocCheck(sizeof(double) * ((size_t)nn * nc + HNAS_NUM_ARCHS));
    double *space = c10 + (size_t)nn * nc;
    int nspace = 0, best = -1;
    unsigned char *cand = mallocCheck(HNAS_NUM_ARCHS);
    const int ncand = hnas_candidates(d, cand);
    for (int a = 0; a < HNAS_NUM_ARCHS; a++) {
        double acc[4];
        hnas_test_accuracy(bench, a, acc);
        if (cand[a] && isfinite(acc[1])) space[nspace++] = acc[1];
    }
    if (!json)
        printf("# freenas hnas --landscape %d:%d: M %s%s, kappa %s (kappa < 0 %s), s %g, c in "
               "[%g, %g]; per grid point the argmin of the score over all %d candidates\n"
               "%8s %9s %6s %9s %8s %8s %8s %8s\n", nn, nc, nm->metric, hc->metric_abs ? " (|M|)" : "", nm->kappa,
               hc->kappa_raw ? "as computed" : "as +inf", hc->s, hc->c_lo, hc->c_hi,
               ncand, "nu", "log10_mu", "arch", "signal", "C10-val",
               "C10-test", "C100", "IN16");
    for (int g = 0; g < nn * nc; g++) {
        double nu, lm, acc[4] = {NAN, NAN, NAN, NAN};
        hnas_landscape_point(hc, nn, nc, g, &nu, &lm);
        if (idx[g] >= 0) hnas_test_accuracy(bench, idx[g], acc);
        c10[g] = acc[1];
        if (idx[g] >= 0 && (best < 0 || acc[1] > c10[best])) best = g;
        if (json)
            printf("{\"nu\":%.6g,\"log10_mu\":%.6g,\"arch\":%d,\"signal\":%.6g,"
                   "\"cifar10_valid\":%.6g,\"cifar10_test\":%.6g,\"cifar100_test\":%.6g,"
                   "\"imagenet16_test\":%.6g}\n", nu, lm, idx[g],
                   idx[g] >= 0 ? d->signal[idx[g]] : NAN, acc[0], acc[1], acc[2], acc[3]);
        else
            printf("%8.4f %9.4f %6d %9.3f %8.2f %8.2f %8.2f %8.2f\n", nu, lm, idx[g],
                   idx[g] >= 0 ? d->signal[idx[g]] : NAN, acc[0], acc[1], acc[2], acc[3]);
    }
    if (!json && best >= 0) {
        qsort(space, (size_t)nspace, sizeof(double), cmp_double);
        const double top1 = space[(size_t)(0.99 * (nspace - 1))];
        int ge = 0;
        for (int g = 0; g < nn * nc; g++) ge += c10[g] >= top1;
        double bnu, blm;
        hnas_landscape_point(hc, nn, nc, best, &bnu, &blm);
        qsort(c10, (size_t)nn * nc, sizeof(double), cmp_double);
        printf("# C10-test of the argmin: best %.2f (nu %.4f, log10_mu %.4f, arch %d), median "
               "over the grid %.2f; %.2f %% of the grid picks one of the candidates' top 1 %% "
               "(>= %.2f; the space's best %.2f)\n", c10[(size_t)nn * nc - 1], bnu, blm,
               idx[best], c10[(size_t)nn * nc / 2], 100.0 * ge / (nn * nc), top1,
               space[nspace - 1]);
    }
    free(cand);
    free(c10);
    free(idx);
    return 0;
}

int cmd_hnas(int argc, char **argv) {
    for (int i = 0; i + 1 < argc; i++) /* HNAS on DARTS: cli/cmd_hnas_darts.c */
        if (!strcmp(argv[i], "--space") && !strcmp(argv[i + 1], "darts"))
            return cmd_hnas_darts(argc, argv);
    hnas_config hc;
    hnas_config_default(&hc);
    const char *table = NULL, *dir = NULL, *bpath = NULL, *xpath = NULL;
    hnas_names nm = {"hnas_ntk_trace", "hnas_ntk_cond", "cifar10_valid_12ep"};
    const char *cost_col = "cifar10_valid_12ep_train_s";
    double cost_scale = 1;
    long lo = -1, hi = -1;
    int json = 0, quiet = 0, land_nu = 0, land_c = 0;
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        const int flag = !strcmp(o, "--json") || !strcmp(o, "--quiet") || !strcmp(o, "--help") ||
                         !strcmp(o, "-h") || !strcmp(o, "--kappa-raw") ||
                         !strcmp(o, "--metric-abs");
        if (!flag && !v) {
            fprintf(stderr, "freenas hnas: %s needs a value (see freenas hnas --help)\n", o);
            return 2;
        }
        long n;
        char *end;
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) { hnas_usage(stdout); return 0; }
        else if (!strcmp(o, "--json")) json = 1;
        else if (!strcmp(o, "--quiet")) quiet = 1;
        else if (!strcmp(o, "--kappa-raw")) hc.kappa_raw = 1;
        else if (!strcmp(o, "--metric-abs")) hc.metric_abs = 1;
        else if (!strcmp(o, "--space")) {
            if (strcmp(v, "nb201")) {
                fprintf(stderr, "freenas hnas: --space %s: nb201 (metric tables) or darts "
                        "(trains its evaluations) (hint: --space nb201)\n", v);
                return 2;
            }
        } else if (!strcmp(o, "--seed")) {
            if (cli_parse_long(o, v, 0, 2147483647L, &n)) return 2;
            lo = hi = n;
        } else if (!strcmp(o, "--seeds")) {
            lo = strtol(v, &end, 10);
            hi = *end == ':' ? strtol(end + 1, &end, 10) : -1;
            if (*end || lo < 0 || hi < lo) {
                fprintf(stderr, "freenas hnas: --seeds expects A:B with 0 <= A <= B, got '%s'\n", v);
                return 2;
            }
        } else if (!strcmp(o, "--landscape")) {
            land_nu = (int)strtol(v, &end, 10);
            land_c = *end == ':' ? (int)strtol(end + 1, &end, 10) : 0;
            if (*end || land_nu < 2 || land_c < 2 || land_nu > 10001 || land_c > 10001) {
                fprintf(stderr, "freenas hnas: --landscape expects NU:C grid points, each 2 to "
                        "10001 (e.g. 101:41), got '%s'\n", v);
                return 2;
            }
        } else if (!strcmp(o, "--table")) table = v;
        else if (!strcmp(o, "--data")) dir = v;
        else if (!strcmp(o, "--benchmark")) bpath = v;
        else if (!strcmp(o, "--extra")) xpath = v;
        else if (!strcmp(o, "--metric")) nm.metric = v;
        else if (!strcmp(o, "--kappa")) nm.kappa = v;
        else if (!strcmp(o, "--signal")) nm.signal = v;
        else if (!strcmp(o, "--cost")) cost_col = v;
        else if (!strcmp(o, "--mode")) {
            if (hnas_mode_parse(v, &hc.mode)) {
                fprintf(stderr, "freenas hnas: --mode %s: expected bo, alone or random\n", v);
                return 2;
            }
        } else if (!strcmp(o, "--acq")) {
            if (strcmp(v, "ei") && strcmp(v, "ucb")) {
                fprintf(stderr, "freenas hnas: --acq %s: expected ei or ucb\n", v);
                return 2;
            }
            hc.acq.kind = strcmp(v, "ei") ? BO_ACQ_UCB : BO_ACQ_EI;
        } else if (!strcmp(o, "--T") || !strcmp(o, "--draws")) {
            if (cli_parse_long(o, v, 1, !strcmp(o, "--T") ? HNAS_MAX_T : 1000000, &n)) return 2;
            if (!strcmp(o, "--T")) hc.T = (int)n;
            else hc.draws = (int)n;
        } else if (!strcmp(o, "--xi") || !strcmp(o, "--ucb-kappa") || !strcmp(o, "--scale") ||
                   !strcmp(o, "--nu") || !strcmp(o, "--log-mu") || !strcmp(o, "--cost-scale")) {
            const double d = strtod(v, &end);
            if (*end || !isfinite(d)) {
                fprintf(stderr, "freenas hnas: %s expects a number, got '%s'\n", o, v);
                return 2;
            }
            if (!strcmp(o, "--xi")) hc.acq.xi = d;
            else if (!strcmp(o, "--ucb-kappa")) hc.acq.kappa = d;
            else if (!strcmp(o, "--scale")) hc.s = d;
            else if (!strcmp(o, "--nu")) hc.alone_nu = d;
            else if (!strcmp(o, "--log-mu")) hc.alone_c = d;
            else cost_scale = d;
        } else {
            fprintf(stderr, "freenas hnas: unknown option '%s' (see freenas hnas --help)\n", o);
            return 2;
        }
        if (!flag) i++;
    }
    if (lo < 0 && !land_nu) {
        fprintf(stderr, "freenas hnas: give --seed N or --seeds A:B (or --landscape NU:C)\n");
        hnas_usage(stderr);
        return 2;
    }
    char bbuf[4096], xbuf[4096], tbuf[4096], err[FN_ERRLEN];
    if (dir) { /* --data DIR: the tables under it */
        if (!bpath) snprintf(bbuf, sizeof bbuf, "%s/nb201/nb201_accuracy.tsv", dir), bpath = bbuf;
        if (!xpath) snprintf(xbuf, sizeof xbuf, "%s/nb201/nb201_accuracy_extra.tsv", dir), xpath = xbuf;
    } else { /* the default data roots: the tables shipped with freenas (docs/DATA.md) */
        if (!bpath && data_find("nb201/nb201_accuracy.tsv", bbuf, sizeof bbuf, err, sizeof err) == 0)
            bpath = bbuf;
        if (!xpath && data_find("nb201/nb201_accuracy_extra.tsv", xbuf, sizeof xbuf, err,
                                sizeof err) == 0)
            xpath = xbuf;
        if (!bpath || !xpath) {
            fprintf(stderr, "freenas hnas: %s\n", err);
            return 2;
        }
    }
    /* the metric tables that ship with freenas, under the data roots (the build tree or an
     * installed prefix), else the checkout's slice */
    if (!table && (table = data_hnas_tables()) == NULL)
        snprintf(tbuf, sizeof tbuf, "%s/%s", FREENAS_SOURCE_DIR, HNAS_DEFAULT_TABLE), table = tbuf;
    nb201_benchmark *bench = NULL;
    if (nb201_benchmark_load(bpath, &bench, err, sizeof err)) {
        fprintf(stderr, "freenas hnas: %s (hint: --data DIR or --benchmark FILE)\n", err);
        return 2;
    }
    hnas_table *t = hnas_table_new();
    char files[4096];
    snprintf(files, sizeof files, "%s", table);
    int rc = 0;
    for (char *f = strtok(files, ","); f && !rc; f = strtok(NULL, ","))
        if (hnas_table_load(t, f, err, sizeof err)) {
            fprintf(stderr, "freenas hnas: %s\n", err);
            rc = 2;
        }
    double *signal = mallocCheck(sizeof(double) * HNAS_NUM_ARCHS * 2), *cost = signal + HNAS_NUM_ARCHS;
    if (!rc && (load_column(xpath, bpath, nm.signal, signal, err, sizeof err) ||
                load_column(xpath, bpath, cost_col, cost, err, sizeof err))) {
        fprintf(stderr, "freenas hnas: %s\n", err);
        rc = 2;
    }
    hnas_data d = {t, hnas_table_col(t, nm.metric), hnas_table_col(t, nm.kappa), signal, cost};
    if (!rc && hc.mode != HNAS_MODE_RANDOM && (d.m_col < 0 || d.k_col < 0)) {
        char names[1024];
        fprintf(stderr, "freenas hnas: the table has no column '%s' (columns: %s)\n",
                d.m_col < 0 ? nm.metric : nm.kappa, hnas_table_names(t, names, sizeof names));
        rc = 2;
    }
    for (int i = 0; i < HNAS_NUM_ARCHS; i++) cost[i] *= cost_scale;
    const int ncand = hnas_candidates(&d, NULL);
    if (!rc && ncand < HNAS_NUM_ARCHS)
        fprintf(stderr, "freenas hnas: warning: %s gives %s for %d of %d architectures: the "
                "candidate pool is restricted to them (the whole-space table: freenas "
                "hnas-table, hnas/README.md)\n", table, nm.metric, ncand, HNAS_NUM_ARCHS);
    if (!rc && land_nu) rc = print_landscape(&hc, &d, &nm, bench, land_nu, land_c, json);
    if (!rc && !json && !land_nu)
        printf("# freenas hnas: mode %s, M %s%s, kappa %s, signal %s, T %d, acq %s, seeds "
               "%ld..%ld, table %d archs\n", hnas_mode_name(hc.mode), nm.metric,
               hc.metric_abs ? " (|M|)" : "", nm.kappa,
               nm.signal, hc.T, hc.acq.kind == BO_ACQ_EI ? "ei" : "ucb", lo, hi, ncand);
    stat acc[4] = {{0}}, st_cost = {0}, st_time = {0};
    int failed = 0;
    for (long s = lo; s <= hi && !rc && !land_nu; s++) { /* --landscape: no searches */
        hc.seed = (uint64_t)s;
        static hnas_result r;
        if (hnas_run(&hc, &d, &r, err, sizeof err)) {
            fprintf(stderr, "freenas hnas: seed %ld: %s\n", s, err);
            failed++;
            continue;
        }
        double a[4];
        hnas_test_accuracy(bench, r.pick, a);
        for (int k = 0; k < 4; k++) stat_add(&acc[k], a[k]);
        stat_add(&st_cost, r.cost);
        stat_add(&st_time, r.seconds);
        if (json) {
            char *js = hnas_result_json(&hc, &nm, &r, bench);
            printf("{\"space\":\"nb201\",\"seed\":%ld,\"seconds\":%.6f,\"hnas\":%s}\n", s,
                   r.seconds, js);
            free(js);
            continue;
        }
        if (!quiet) {
            printf("# seed %ld\n%4s %7s %9s %6s %11s %11s %11s %8s %10s %6s\n", s, "t", "nu",
                   "log10_mu", "arch", "M", "kappa", "score", "val_acc", "cost_s", "pool");
            for (int k = 0; k < r.nsteps; k++) {
                const hnas_step *p = &r.step[k];
                if (p->cached)
                    printf("%4d %7.4f %9.4f %6s %11s %11s %11s %8.2f %10.1f %6d  (cached)\n",
                           p->t, p->nu, p->log10_mu, "-", "-", "-", "-", p->signal, p->cost,
                           p->pool);
                else
                    printf("%4d %7.4f %9.4f %6d %11.5g %11.5g %11.5g %8.2f %10.1f %6d\n", p->t,
                           p->nu, p->log10_mu, p->arch, p->M, p->kappa, p->score, p->signal,
                           p->cost, p->pool);
            }
        }
        char arch[256] = "-";
        int ops[NB201_EDGES];
        if (!nb201_net_ops_from_index(bench, r.pick, ops)) nb201_arch_string(ops, arch, sizeof arch);
        printf("%5s %6s  %-92s %8s %8s %8s %8s %8s %9s %8s\n", "seed", "index", "architecture",
               "signal", "C10-val", "C10-test", "C100", "IN16", "cost[s]", "time[ms]");
        printf("%5ld %6d  %-92s %8.2f %8.2f %8.2f %8.2f %8.2f %9.1f %8.1f\n", s, r.pick, arch,
               r.pick_signal, a[0], a[1], a[2], a[3], r.cost, 1e3 * r.seconds);
        fflush(stdout);
    }
    if (!rc && !json && acc[1].n > 1)
        printf("# mean +- std over %d searches: C10-valid %.2f +- %.2f  C10-test %.2f +- %.2f  "
               "C100-test %.2f +- %.2f  IN16-test %.2f +- %.2f  cost %.0f +- %.0f s  time %.1f ms\n",
               acc[1].n, stat_mean(&acc[0]), stat_std(&acc[0]), stat_mean(&acc[1]),
               stat_std(&acc[1]), stat_mean(&acc[2]), stat_std(&acc[2]), stat_mean(&acc[3]),
               stat_std(&acc[3]), stat_mean(&st_cost), stat_std(&st_cost), 1e3 * stat_mean(&st_time));
    free(signal);
    hnas_table_free(t);
    nb201_benchmark_free(bench);
    return rc ? rc : failed ? 1 : 0;
}

/* ------------------------------------------------------------- freenas hnas-table ------- */

static void table_usage(FILE *f) {
    fprintf(f,
"usage: freenas hnas-table --out FILE [--range A:B] [options]\n"
"\n"
"Computes per-architecture metrics of NB201 (default HNAS's M and kappa variants:\n"
"%s) for official indices A..B-1\n"
"(default all 15,625) and appends them to FILE (TSV, hnas/table.h); indices FILE already holds\n"
"are skipped, so a rerun resumes and ranges computed by separate processes merge (freenas hnas\n"
"--table a.tsv,b.tsv). The '#' lines record commit, command, seed, batch, dataset, machine\n"
"and time.\n"
"\n"
"options:\n"
"  --out FILE         the table (created with its provenance lines, else appended to)\n"
"  --range A:B        indices A..B-1 (default 0:15625); --stride K --offset R: only indices\n"
"                     i with i %% K == R (split over K processes)\n"
"  --proxy LIST       proxies (freenas score --help lists them; default the five above)\n"
"  --data DIR         images and the NB201 table under DIR/nb201 (default: the data roots,\n"
"                     docs/DATA.md)\n"
"  --benchmark FILE   200-epoch table, for index -> architecture\n"
"  --dataset D        cifar10 (default; HNAS computes all three datasets' metrics on it)\n"
"  --seed N           weights and batches (default 0)\n"
"  --batch N          batch size (default 64)\n"
"  --device D         cpu (default) | cuda\n"
"  --max-seconds S    start no architecture after S seconds (a rerun resumes)\n"
"  --progress S       a progress line on stderr every S seconds (default 60; 0: none): rows\n"
"                     done of those left, seconds per architecture, time left\n",
            HNAS_TABLE_PROXIES);
}

int cmd_hnas_table(int argc, char **argv) {
    fn_proxy_config pc;
    proxy_config_default(&pc);
    const char *out = NULL, *dir = NULL, *bpath = NULL;
    char proxies[1024] = HNAS_TABLE_PROXIES;
    long a = 0, b = HNAS_NUM_ARCHS, stride = 1, offset = 0, max_s = 0, progress_s = 60;
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) { table_usage(stdout); return 0; }
        if (!v) {
            fprintf(stderr, "freenas hnas-table: %s needs a value\n", o);
            return 2;
        }
        long n;
        char *end;
        if (!strcmp(o, "--out")) out = v;
        else if (!strcmp(o, "--data")) dir = v;
        else if (!strcmp(o, "--benchmark")) bpath = v;
        else if (!strcmp(o, "--dataset")) pc.dataset = v;
        else if (!strcmp(o, "--proxy")) snprintf(proxies, sizeof proxies, "%s", v);
        else if (!strcmp(o, "--range")) {
            a = strtol(v, &end, 10);
            b = *end == ':' ? strtol(end + 1, &end, 10) : -1;
            if (*end || a < 0 || b <= a || b > HNAS_NUM_ARCHS) {
                fprintf(stderr, "freenas hnas-table: --range expects A:B, 0 <= A < B <= %d\n",
                        HNAS_NUM_ARCHS);
                return 2;
            }
        } else if (!strcmp(o, "--stride") || !strcmp(o, "--offset") || !strcmp(o, "--seed") ||
                   !strcmp(o, "--batch") || !strcmp(o, "--max-seconds") ||
                   !strcmp(o, "--progress")) {
            if (cli_parse_long(o, v, !strcmp(o, "--offset") || !strcmp(o, "--seed") ||
                               !strcmp(o, "--progress") ? 0 : 1, 2147483647L, &n)) return 2;
            if (!strcmp(o, "--stride")) stride = n;
            else if (!strcmp(o, "--offset")) offset = n;
            else if (!strcmp(o, "--seed")) pc.seed = (uint64_t)n;
            else if (!strcmp(o, "--max-seconds")) max_s = n;
            else if (!strcmp(o, "--progress")) progress_s = n;
            else pc.batch = (int)n;
        } else if (!strcmp(o, "--device")) {
            int dv;
            if (cli_parse_device(v, &dv)) return 2;
            pc.device = (fn_device)dv;
        } else {
            fprintf(stderr, "freenas hnas-table: unknown option '%s' (see --help)\n", o);
            return 2;
        }
        i++;
    }
    if (!out || offset >= stride) {
        fprintf(stderr, "freenas hnas-table: give --out FILE (and --offset < --stride)\n");
        table_usage(stderr);
        return 2;
    }
    const char *names[HNAS_MAX_COLS];
    int np = 0;
    char pl[1024];
    snprintf(pl, sizeof pl, "%s", proxies);
    for (char *s = strtok(pl, ","); s; s = strtok(NULL, ",")) {
        if (!proxy_find(s) || np == HNAS_MAX_COLS) {
            fprintf(stderr, "freenas hnas-table: unknown proxy '%s' (known: %s)\n", s, proxy_names());
            return 2;
        }
        names[np++] = s;
    }
    char bbuf[4200], err[FN_ERRLEN];
    static char root[4096];
    if (dir) { /* --data DIR: the images and the NB201 table under it */
        if (!bpath) snprintf(bbuf, sizeof bbuf, "%s/nb201/nb201_accuracy.tsv", dir), bpath = bbuf;
    } else { /* the default data roots (docs/DATA.md) */
        int needs_images = 0;
        for (int i = 0; i < np; i++) needs_images |= proxy_find(names[i])->needs_data;
        if (data_find_images(pc.dataset ? pc.dataset : "cifar10", root, sizeof root, err,
                             sizeof err) == 0)
            dir = root;
        else if (needs_images) {
            fprintf(stderr, "freenas hnas-table: %s\n", err);
            return 2;
        }
        if (!bpath && data_find("nb201/nb201_accuracy.tsv", bbuf, sizeof bbuf, err, sizeof err)) {
            fprintf(stderr, "freenas hnas-table: %s\n", err);
            return 2;
        }
        if (!bpath) bpath = bbuf; /* the table shipped with freenas */
    }
    pc.data_path = dir;
    if (pc.batch == 0) pc.batch = 64;
    nb201_benchmark *bench = NULL;
    if (nb201_benchmark_load(bpath, &bench, err, sizeof err)) {
        fprintf(stderr, "freenas hnas-table: %s\n", err);
        return 2;
    }
    hnas_table *have = hnas_table_new();
    FILE *f = fopen(out, "r");
    int fresh = !f;
    if (f) {
        /* a run killed while writing a row leaves it torn (no newline): drop it, the rerun
         * computes that architecture again */
        long keep = -1, size = 0;
        for (int ch; (ch = fgetc(f)) != EOF; size++)
            if (ch == '\n') keep = size + 1;
        fclose(f);
        if (keep >= 0 && keep < size) {
            if (truncate(out, keep)) {
                fprintf(stderr, "freenas hnas-table: %s: cannot drop its torn last line: %s\n",
                        out, strerror(errno));
                return 2;
            }
            fprintf(stderr, "freenas hnas-table: %s: dropped a torn last line (%ld bytes, an "
                    "interrupted run)\n", out, size - keep);
        }
        if (hnas_table_load(have, out, err, sizeof err)) {
            fprintf(stderr, "freenas hnas-table: %s\n", err);
            return 2;
        }
        for (int p = 0; p < np || p < have->ncols; p++)
            if (p >= np || p >= have->ncols || hnas_table_col(have, names[p]) != p) {
                fprintf(stderr, "freenas hnas-table: %s has other columns than --proxy %s\n",
                        out, proxies);
                return 2;
            }
    }
    f = fopen(out, "a");
    if (!f) {
        fprintf(stderr, "freenas hnas-table: cannot write %s\n", out);
        return 2;
    }
    const time_t now = time(NULL);
    char when[64];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    if (!fresh) { /* a resumed run: the rows that follow come from this build */
        fprintf(f, "# resumed by freenas %s (%s), device %s, at %s\n", FREENAS_VERSION,
                fn_git_rev(), pc.device == FN_DEV_CUDA ? "cuda" : "cpu", when);
        fflush(f);
    } else {
        char host[256] = "?";
        gethostname(host, sizeof host);
        fprintf(f, "# freenas hnas-table: per-architecture metrics of NAS-Bench-201 (hnas/table.h)\n");
        fprintf(f, "# freenas %s (%s), seed %llu, batch %d, dataset %s, device %s, started %s\n",
                FREENAS_VERSION, fn_git_rev(), (unsigned long long)pc.seed, pc.batch,
                pc.dataset, pc.device == FN_DEV_CUDA ? "cuda" : "cpu", when);
        fprintf(f, "# machine %s, %ld cpus, OMP_NUM_THREADS=%s\n# command: freenas hnas-table",
                host, sysconf(_SC_NPROCESSORS_ONLN),
                getenv("OMP_NUM_THREADS") ? getenv("OMP_NUM_THREADS") : "unset");
        for (int i = 0; i < argc; i++) fprintf(f, " %s", argv[i]);
        fprintf(f, "\nindex");
        for (int p = 0; p < np; p++) fprintf(f, "\t%s", names[p]);
        fprintf(f, "\n");
        fflush(f);
    }
    fn_proxy_ctx *ctx;
    if (proxy_ctx_create(&pc, &ctx, err, sizeof err) != FN_OK) {
        fprintf(stderr, "freenas hnas-table: %s\n", err);
        return 2;
    }
    int done = 0, failed = 0, skipped = 0, todo = 0;
    for (long i = a; i < b; i++) todo += i % stride == offset && !have->have[i];
    double t0 = fn_now(), tsum[HNAS_MAX_COLS] = {0}, last = t0;
    for (long i = a; i < b; i++) {
        if (i % stride != offset) continue;
        if (have->have[i]) { skipped++; continue; }
        if (max_s > 0 && fn_now() - t0 > max_s) break; /* time-boxed: a rerun resumes */
        int ops[NB201_EDGES];
        if (nb201_net_ops_from_index(bench, (int)i, ops)) continue;
        fn_proxy_value v[HNAS_MAX_COLS];
        if (proxy_score_ops(ctx, ops, names, np, v, err, sizeof err) != FN_OK) {
            fprintf(stderr, "freenas hnas-table: index %ld: %s\n", i, err);
            failed++;
        }
        fprintf(f, "%ld", i);
        for (int p = 0; p < np; p++) {
            fprintf(f, "\t%.9g", v[p].status == FN_OK ? v[p].value : NAN);
            tsum[p] += v[p].seconds;
        }
        fprintf(f, "\n");
        fflush(f);
        done++;
        const double now_s = fn_now();
        if (progress_s > 0 && now_s - last >= progress_s) { /* a long table says where it is */
            last = now_s;
            const double each = (now_s - t0) / done, left = each * (todo - done);
            fprintf(stderr, "freenas hnas-table: %d of %d computed, %.3f s per architecture, "
                    "about %.1f %s left\n", done, todo, each,
                    left >= 3600 ? left / 3600 : left / 60, left >= 3600 ? "h" : "min");
        }
    }
    fclose(f);
    const double el = fn_now() - t0;
    fprintf(stderr, "freenas hnas-table: %d computed (%d already in %s, %d failed) in %.1f s: "
            "%.3f s per architecture;", done, skipped, out, failed, el, done ? el / done : 0);
    for (int p = 0; p < np; p++)
        fprintf(stderr, " %s %.3f s", names[p], done ? tsum[p] / done : 0);
    fprintf(stderr, "\n");
    proxy_ctx_free(ctx);
    hnas_table_free(have);
    nb201_benchmark_free(bench);
    return failed ? 1 : 0;
}
