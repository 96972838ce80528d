/* fuzz/fuzz_report.c: libFuzzer harness for freenas_report's record reader
 * (analysis/report_records.c: report_load of a results directory) and the report sections
 * that walk the records it keeps (search and paper tables, alpha-scale curve, DARTS operation
 * counts of arch_json genotypes, proxy correlations and rankings, ensembles), written into a
 * scratch directory with gnuplot off. The input is results.jsonl; after a 0x1e byte,
 * ensembles.jsonl; after a second one, manifest.json. A synthetic whole-space NB201 table
 * stands in for --benchmark.
 *
 *   bash scripts/fuzz.sh report 600
 *   build/bin/replay_fuzz_report fuzz/corpus/report */
#include <gsl/gsl_errno.h>
#include <stdlib.h>

#include "analysis/report.h"
#include "fuzz/fuzz_util.h"
#include "datasets/nb201_table.h"
#include "spaces/nb201.h"

/* A whole NB201 table (the loader requires all 15,625 architectures): architecture i has
 * ops[e] = (i / 5^e) % 5 and accuracies that are simple functions of i, in range. */
static char *fuzz_report_tsv(size_t *len) {
    const size_t cap = (size_t)NB201_NUM_ARCHS * 160 + 128;
    char *t = malloc(cap);
    if (!t) exit(2);
    size_t n = (size_t)snprintf(t, cap, "index\tarch\tcifar10_valid\tcifar10_test\t"
                                        "cifar100_test\timagenet16_test\n");
    for (int i = 0; i < NB201_NUM_ARCHS; i++) {
        int ops[NB201_EDGES], code = i;
        for (int e = 0; e < NB201_EDGES; e++, code /= NB201_OPS) ops[e] = code % NB201_OPS;
        char arch[256];
        nb201_arch_string(ops, arch, sizeof arch);
        n += (size_t)snprintf(t + n, cap - n, "%d\t%s\t%.4f\t%.4f\t%.4f\t%.4f\n", i, arch,
                              10.0 + i % 90, 10.0 + i % 89, 1.0 + i % 77, 1.0 + i % 53);
    }
    *len = n;
    return t;
}

static nb201_table *fuzz_bench;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[1024], dir[1024], out[1024], err[1024];
    if (!fuzz_bench) {
        gsl_set_error_handler_off(); /* as freenas_report */
        size_t tlen;
        char *tsv = fuzz_report_tsv(&tlen);
        fuzz_write("bench.tsv", (const uint8_t *)tsv, tlen, path, sizeof path);
        free(tsv);
        if (nb201_table_load(path, NULL, NULL, &fuzz_bench, err, sizeof err)) {
            fprintf(stderr, "fuzz_report: %s\n", err);
            exit(2);
        }
    }
    static const char *const files[3] = {"run/results.jsonl", "run/ensembles.jsonl",
                                          "run/manifest.json"};
    for (int k = 0; k < 3; k++) {
        const uint8_t *p;
        size_t n;
        if (fuzz_split(data, size, 0x1e, 0, &p, &n) > k) {
            fuzz_split(data, size, 0x1e, k, &p, &n);
            fuzz_write(files[k], p, n, path, sizeof path);
        } else {
            unlink(fuzz_path(files[k], path, sizeof path));
        }
    }
    fuzz_path("run", dir, sizeof dir);
    fuzz_path("out/", out, sizeof out);
    out[strlen(out) - 1] = '\0';
    report_data d;
    if (report_load(&d, dir)) return 0;
    report_ctx c = {.d = &d, .out_dir = out, .bench = fuzz_bench, .bench_path = "bench.tsv",
                    .quiet = 1, .warnings = d.warnings};
    c.gp.prog = "gnuplot";
    c.gp.found = 0;
    c.gp.warned = 1;
    c.md = report_open(&c, "report.md");
    if (c.md) {
        report_search_table(&c);
        report_paper_table(&c);
        report_alpha_scale(&c);
        report_darts_ops(&c);
        report_correlations(&c);
        report_ensembles_table(&c);
        report_close(&c, c.md, "report.md");
    }
    report_data_free(&d);
    return 0;
}
