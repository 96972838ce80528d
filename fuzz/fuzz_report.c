/* fuzz/fuzz_report.c: libFuzzer harness for freenas_report's record reader
 * (analysis/report_records.c: report_load of a results directory) and the report sections
 * that walk the records it keeps (search and paper tables, alpha-scale curve, DARTS operation
 * counts of arch_json genotypes, proxy correlations and rankings, ensembles), written into a
 * scratch directory with gnuplot off. The input is results.jsonl; after a 0x1e byte,
 * ensembles.jsonl; after a second one, manifest.json. A fixed 8-architecture NB201 table
 * stands in for --benchmark.
 *
 *   bash scripts/fuzz.sh report 600
 *   build/bin/replay_fuzz_report fuzz/corpus/report */
#include <gsl/gsl_errno.h>
#include <stdlib.h>

#include "analysis/report.h"
#include "fuzz/fuzz_util.h"
#include "nas/nb201_benchmark.h"

static const char fuzz_report_tsv[] =
    "index\tarch\tcifar10_valid\tcifar10_test\tcifar100_test\timagenet16_test\n"
    "0\t|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|\t81.98266666\t85.86333333\t52.91333329\t26.63333327\n"
    "1\t|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|\t90.76933332\t93.66\t70.29333327\t44.03333332\n"
    "2\t|avg_pool_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|avg_pool_3x3~0|avg_pool_3x3~1|avg_pool_3x3~2|\t81.91066666\t85.74\t54.86666663\t27.25555556\n"
    "3\t|avg_pool_3x3~0|+|skip_connect~0|none~1|+|none~0|none~1|skip_connect~2|\t84.37733332\t86.61666667\t58.30666662\t28.04444442\n"
    "4\t|skip_connect~0|+|skip_connect~0|nor_conv_1x1~1|+|skip_connect~0|skip_connect~1|nor_conv_1x1~2|\t85.12533334\t88.21666667\t60.13999998\t31.48888884\n"
    "5\t|nor_conv_1x1~0|+|skip_connect~0|nor_conv_1x1~1|+|nor_conv_3x3~0|none~1|avg_pool_3x3~2|\t87.812\t91.08666667\t66.30000002\t38.74444441\n"
    "6\t|nor_conv_3x3~0|+|none~0|none~1|+|avg_pool_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|\t88.80933334\t92.50666667\t68.36000001\t39.86666662\n"
    "7\t|none~0|+|skip_connect~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|\t89.15466667\t91.99\t67.51333333\t39.54444436\n"
    ;

static nb201_benchmark *fuzz_bench;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[1024], dir[1024], out[1024], err[1024];
    if (!fuzz_bench) {
        gsl_set_error_handler_off(); /* as freenas_report */
        fuzz_write("bench.tsv", (const uint8_t *)fuzz_report_tsv, sizeof fuzz_report_tsv - 1,
                   path, sizeof path);
        if (nb201_benchmark_load(path, &fuzz_bench, err, sizeof err)) {
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
