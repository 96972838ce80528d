/* analysis/freenas_report.c: freenas_report, the analysis of a freenas_sweep results directory.
 * Reads only the records (results.jsonl; ensembles.jsonl and manifest.json when present) and
 * writes one Markdown report with CSV tables and gnuplot figures beside it:
 *
 *   ./build/bin/freenas_report results/nb201_table2                 # -> results/nb201_table2/report
 *   ./build/bin/freenas_report results/alpha_scale --out /tmp/report_alpha
 *   ./build/bin/freenas_report results/scores --benchmark ../shared/data/nb201/nb201_accuracy.tsv
 *
 * Sections: search table, paper Table 2 layout, alpha-scale curve (Figure 1), DARTS op
 * frequencies (§7.4), proxy rank correlations (§7.1), ensembles; each only where the records
 * hold what it needs. Exit codes: 0 report written; 1 written, but a file could not be
 * written or gnuplot failed; 2 usage error or unusable input (no results.jsonl, unreadable
 * --benchmark). */
#include <errno.h>
#include <gsl/gsl_errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/common.h"
#include "analysis/report.h"
#include "datasets/data_dirs.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: freenas_report RESULTS_DIR [--benchmark FILE] [--out DIR] [--quiet] [--help] [--version]\n"
            "\n"
            "Reads the records a freenas_sweep run wrote in RESULTS_DIR (results.jsonl;\n"
            "ensembles.jsonl and manifest.json if present) and writes report.md with CSV tables\n"
            "and figures (gnuplot: PNG, SVG, and the .gp/.dat files to redraw them).\n"
            "\n"
            "  --benchmark FILE  NB201 accuracy TSV (default: the table shipped with freenas,\n"
            "                    found under the data roots, docs/DATA.md): ground truth of\n"
            "                    `score` records by nb201_index (else their accuracy object), and\n"
            "                    the whole-space histograms the found architectures are drawn on\n"
            "  --out DIR         output directory (default RESULTS_DIR/report), created if missing\n"
            "  --quiet           no progress lines (warnings and errors still go to stderr)\n"
            "  --help            this text\n"
            "\n"
            "Environment: FREENAS_GNUPLOT names the gnuplot program (default: gnuplot in PATH).\n"
            "Without gnuplot the tables are written and the figures skipped (exit code 0).\n"
            "Exit codes: 0 report written; 1 report written but a file or figure failed;\n"
            "2 usage error or unusable input.\n");
}

/* mkdir -p */
static int make_dirs(const char *path) {
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char saved = *p;
            *p = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST) return -1;
            *p = saved;
            if (!saved) break;
        }
    }
    struct stat st;
    if (stat(path, &st) != 0) return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

static const char *base_name(const char *path) {
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static void write_header(report_ctx *c) {
    const report_data *d = c->d;
    const json_t *m = d->manifest, *cfg = report_obj(m, "config");
    const char *name = report_str(cfg, "name");
    if (!name && d->nrecs) name = report_str(d->recs[0].rec, "sweep");
    FILE *f = c->md;
    fprintf(f, "# freenas report: ");
    report_md_text(f, name ? name : base_name(d->dir));
    fprintf(f, "\n\nWritten by freenas_report (freenas %s) from the records in the results "
               "directory; every number below comes from `results.jsonl`%s.\n\n"
               "| | |\n|---|---|\n", fn_git_rev(),
            d->nens ? " and `ensembles.jsonl`" : "");
    if (name) {
        fprintf(f, "| sweep | ");
        report_md_text(f, name);
        fprintf(f, " |\n");
    }
    const char *s;
    if ((s = report_str(m, "config_file"))) {
        fprintf(f, "| config | `");
        report_md_text(f, s);
        fprintf(f, "` |\n");
    }
    if ((s = report_str(m, "git_rev"))) fprintf(f, "| git rev (sweep) | `%s` |\n", s);
    if ((s = report_str(m, "freenas"))) fprintf(f, "| freenas version | %s |\n", s);
    double run = report_num(m, "run");
    if (!isnan(run)) {
        fprintf(f, "| run | %.0f", run);
        if ((s = report_str(m, "started_at"))) fprintf(f, ", started %s", s);
        fprintf(f, " |\n");
    }
    if ((s = report_str(m, "overrides")) && *s) {
        fprintf(f, "| overrides | `");
        report_md_text(f, s);
        fprintf(f, "` |\n");
    }
    double ranks = report_num(m, "ranks"), tpr = report_num(m, "threads_per_rank");
    if (!isnan(ranks)) {
        fprintf(f, "| ranks | %.0f", ranks);
        if (!isnan(tpr)) fprintf(f, " x %.0f thread%s", tpr, tpr == 1 ? "" : "s");
        json_t *hosts = json_object_get(m, "hosts");
        if (json_is_array(hosts) && json_array_size(hosts)) {
            fprintf(f, " on %zu host%s (", json_array_size(hosts),
                    json_array_size(hosts) == 1 ? "" : "s");
            size_t i;
            json_t *h;
            json_array_foreach(hosts, i, h) {
                const char *hn = report_str(h, "host");
                double hr = report_num(h, "ranks");
                fprintf(f, "%s", i ? ", " : "");
                report_md_text(f, hn ? hn : "?");
                if (!isnan(hr)) fprintf(f, ": %.0f", hr);
            }
            fprintf(f, ")");
        }
        fprintf(f, " |\n");
    }
    json_t *dev = json_object_get(m, "devices");
    if (json_is_array(dev) && json_array_size(dev)) {
        fprintf(f, "| devices |");
        size_t i;
        json_t *v;
        json_array_foreach(dev, i, v) if (json_is_string(v) && i < 16)
            fprintf(f, "%s %s", i ? "," : "", json_string_value(v));
        if (json_array_size(dev) > 16) fprintf(f, ", ...");
        fprintf(f, " |\n");
    }
    fprintf(f, "| records | %zu in %ld lines of results.jsonl", d->nrecs, d->lines);
    if (d->malformed) fprintf(f, "; %ld malformed line%s skipped", d->malformed,
                              d->malformed == 1 ? "" : "s");
    if (d->torn) fprintf(f, "; torn last line ignored");
    fprintf(f, " |\n");
    long ok = 0;
    for (size_t j = 0; j < d->njobs; j++) ok += d->jobs[j].ok;
    fprintf(f, "| jobs | %zu: %ld ok, %ld failed", d->njobs, ok, (long)d->njobs - ok);
    double planned = report_num(report_obj(m, "plan"), "jobs");
    if (!isnan(planned)) {
        fprintf(f, " (plan: %.0f jobs", planned);
        if (planned > (double)d->njobs)
            fprintf(f, "; %.0f without a record yet", planned - (double)d->njobs);
        fprintf(f, ")");
    }
    fprintf(f, " |\n");
    if (d->nens || d->ens_malformed)
        fprintf(f, "| ensembles | %zu groups%s |\n", d->nens,
                d->ens_malformed ? " (malformed lines skipped)" : "");
    if (c->bench) fprintf(f, "| benchmark | %s |\n", base_name(c->bench_path));
    if (!d->manifest) fprintf(f, "| manifest | none (header from the records only) |\n");
    if (!ok)
        fprintf(f, "\n**No job finished ok**: there is nothing to average; the tables below "
                   "count the jobs and list the failures.\n");
}

int main(int argc, char **argv) {
    const char *dir = NULL, *out = NULL, *bench_path = NULL;
    int quiet = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--version")) {
            printf("freenas_report %s (%s)\n", FREENAS_VERSION, fn_git_rev());
            return 0;
        } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            quiet = 1;
        } else if (!strcmp(a, "--benchmark") || !strcmp(a, "--out")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "freenas_report: %s needs a value (hint: freenas_report "
                                "--help)\n", a);
                return 2;
            }
            *(a[2] == 'b' ? &bench_path : &out) = argv[++i];
        } else if (!strncmp(a, "--benchmark=", 12)) {
            bench_path = a + 12;
        } else if (!strncmp(a, "--out=", 6)) {
            out = a + 6;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "freenas_report: unknown option '%s' (hint: freenas_report --help)\n", a);
            return 2;
        } else if (!dir) {
            dir = a;
        } else {
            fprintf(stderr, "freenas_report: more than one RESULTS_DIR ('%s', '%s')\n", dir, a);
            return 2;
        }
    }
    if (!dir) {
        usage(stderr);
        return 2;
    }
    gsl_set_error_handler_off(); /* GSL reports through return values, never abort() */

    report_data d;
    int rc = report_load(&d, dir);
    if (rc) return rc;
    nb201_table *bench = NULL, *space = NULL;
    int nb201_found = 0; /* a record with NB201 accuracies: the landscape has something to draw */
    for (size_t j = 0; j < d.njobs && !nb201_found; j++)
        nb201_found = d.jobs[j].ok && json_is_object(json_object_get(d.jobs[j].rec->rec, "accuracy"));
    if (!bench_path && nb201_found) { /* the shipped table (docs/DATA.md): the landscape only */
        const char *shipped = data_nb201_table();
        char err[1024];
        if (shipped && nb201_table_load(shipped, NULL, NULL, &space, err, sizeof err) != 0)
            fprintf(stderr, "freenas_report: warning: %s (no landscape figure)\n", err);
    }
    if (bench_path) {
        char err[1024];
        if (nb201_table_load(bench_path, NULL, NULL, &bench, err, sizeof err) != 0) {
            fprintf(stderr, "freenas_report: %s\n", err);
            nb201_table_free(space);
            report_data_free(&d);
            return 2;
        }
    }
    char out_buf[4200];
    if (!out) {
        snprintf(out_buf, sizeof out_buf, "%s/report", d.dir);
        out = out_buf;
    }
    if (make_dirs(out) != 0) {
        fprintf(stderr, "freenas_report: cannot create output directory %s: %s\n", out,
                strerror(errno));
        nb201_table_free(bench);
        nb201_table_free(space);
        report_data_free(&d);
        return 2;
    }
    report_ctx c = {.d = &d, .out_dir = out, .bench = bench, .space = bench ? bench : space,
                    .bench_path = bench_path,
                    .quiet = quiet, .warnings = d.warnings};
    report_gnuplot_init(&c);
    report_note(&c, "%s: %zu records, %zu jobs%s", d.results_path, d.nrecs, d.njobs,
                d.malformed || d.torn ? " (some lines skipped, see above)" : "");
    c.md = report_open(&c, "report.md");
    if (!c.md) {
        nb201_table_free(bench);
        nb201_table_free(space);
        report_data_free(&d);
        return 2;
    }
    write_header(&c);
    report_search_table(&c);
    report_paper_table(&c);
    report_nb201_landscape(&c);
    report_alpha_scale(&c);
    report_darts_ops(&c);
    report_correlations(&c);
    report_hnas(&c);
    if (bench_path) {
        int scores = 0;
        for (size_t j = 0; j < d.njobs && !scores; j++)
            scores = !strcmp(d.jobs[j].rec->kind, "score");
        if (!scores)
            fprintf(c.md, "\n(--benchmark was given, but there are no `score` records to "
                          "correlate.)\n");
    }
    report_ensembles_table(&c);
    report_close(&c, c.md, "report.md");
    report_note(&c, "wrote %s/report.md (%ld figure%s%s)", out, c.figures,
                c.figures == 1 ? "" : "s",
                c.skipped_figures ? ", figures skipped: gnuplot not found" : "");
    if (c.errors)
        fprintf(stderr, "freenas_report: %ld error%s while writing the report (see above)\n",
                c.errors, c.errors == 1 ? "" : "s");
    nb201_table_free(bench);
    nb201_table_free(space);
    report_data_free(&d);
    return c.errors ? 1 : 0;
}
