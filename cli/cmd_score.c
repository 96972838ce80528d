/* cli/cmd_score.c: `freenas score`, zero-cost proxies of NB201 benchmark networks
 * (proxies/proxy.h), one line per architecture and proxy.
 *
 *   freenas score --arch '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|' --proxy synflow,params
 *   freenas score --index 1462 --index 6818 --proxy naswot,snip --data ../shared/data \
 *                 --benchmark ../shared/data/nb201/nb201_accuracy.tsv
 *   freenas score --index 1462 --proxy synflow --json
 *   freenas score --range 0:15625 --proxy snip,grad_norm --device cuda --data ../shared/data \
 *                 --benchmark ../shared/data/nb201/nb201_accuracy.tsv --json > dir/results.jsonl
 *
 * --json lines are score records (analysis/report_corr.c), with each proxy's direction and the
 * cell's unreachable ops, which the report reads instead of the registries: `freenas_report
 * dir` reads a file of them like a sweep's results.jsonl, so one GPU without MPI can score the
 * whole space.
 * With --benchmark the NB201 ground truth of each architecture is printed beside its scores.
 * Exit code: 0 every score computed, 1 some failed (NaN, bad data), 2 usage error. The whole
 * space is scored across ranks with freenas_sweep (kind: score, configs/nb201_proxies.yaml). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "gpu/device.h"
#include "datasets/data_dirs.h"
#include "nasbench/nb201_benchmark.h"
#include "nasbench/nb201_net.h"
#include "proxies/proxy.h"

#define MAX_ARCHS 256
#define MAX_PROXIES 32

static void score_usage(FILE *f) {
    fprintf(f,
"usage: freenas score (--arch STRING | --index I | --range A:B)... --proxy P[,P...] [options]\n"
"\n"
"Scores NB201 benchmark networks (trained-cell form, docs/METHOD.md §1.3) with zero-cost\n"
"proxies in the zero-cost-nas conventions (§3.0): conv/linear weights only, train mode, one\n"
"batch.\n"
"\n"
"options:\n"
"  --space nb201      the only space with benchmark networks (default)\n"
"  --arch STRING      an NB201 arch string |op~0|+|op~0|op~1|+|op~0|op~1|op~2| (repeatable)\n"
"  --index I          an official NB201 index 0..15624 (repeatable; needs --benchmark)\n"
"  --range A:B        indices A..B-1 (after any --arch / --index; needs --benchmark)\n"
"  --proxy LIST       comma-separated: %s\n"
"  --dataset D        cifar10 (default) | cifar100 | imagenet16-120: input size, classes, batch\n"
"  --data PATH        image data (every proxy but params, flops, synflow); default: the first\n"
"                     data root that holds the dataset (docs/DATA.md)\n"
"  --benchmark FILE   NB201 ground truth: resolves --index, prints accuracies (default:\n"
"                     nb201/nb201_accuracy.tsv under the data roots, docs/DATA.md)\n"
"  --seed N           weights and batch (default 0)\n"
"  --batch N          batch size (default: the proxy's, 64; naswot 128; synflow 1)\n"
"  --fp32, --fp64     force the precision (default: the proxy's)\n"
"  --device D         cpu (default) | cuda: the networks run on the current GPU\n"
"  --json             one score record (JSON) per architecture on stdout; a file of them\n"
"                     is a results.jsonl that freenas_report reads\n",
            proxy_names());
}

static void json_str(const char *s) {
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') putchar('\\');
        putchar(*s);
    }
    putchar('"');
}

int cmd_score(int argc, char **argv) {
    fn_proxy_config pc;
    proxy_config_default(&pc);
    const char *archs[MAX_ARCHS], *names[MAX_PROXIES];
    int narch = 0, nprox = 0, json = 0;
    long range_a = 0, range_b = 0;
    char proxies[1024] = "";
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = strcmp(o, "--json") && strcmp(o, "--fp32") && strcmp(o, "--fp64") &&
                    strcmp(o, "--help") && strcmp(o, "-h");
        if (takes && !v) {
            fprintf(stderr, "freenas score: %s needs a value (see freenas score --help)\n", o);
            return 2;
        }
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) { score_usage(stdout); return 0; }
        else if (!strcmp(o, "--json")) json = 1;
        else if (!strcmp(o, "--fp32")) pc.precision = 32;
        else if (!strcmp(o, "--fp64")) pc.precision = 64;
        else if (!strcmp(o, "--arch") || !strcmp(o, "--index")) {
            if (narch == MAX_ARCHS) {
                fprintf(stderr, "freenas score: at most %d architectures (hint: freenas_sweep "
                        "with kind: score scores any number)\n", MAX_ARCHS);
                return 2;
            }
            if (!strcmp(o, "--index") && strchr(v, '|')) {
                fprintf(stderr, "freenas score: --index takes a number, got '%s' (hint: --arch)\n", v);
                return 2;
            }
            archs[narch++] = v;
        } else if (!strcmp(o, "--range")) {
            char *end;
            range_a = strtol(v, &end, 10);
            range_b = *end == ':' ? strtol(end + 1, &end, 10) : -1;
            if (*end || range_a < 0 || range_b <= range_a || range_b > NB201_NUM_ARCHS) {
                fprintf(stderr, "freenas score: --range expects A:B with 0 <= A < B <= %d, got "
                        "'%s'\n", NB201_NUM_ARCHS, v);
                return 2;
            }
        } else if (!strcmp(o, "--device")) {
            int d;
            if (cli_parse_device(v, &d)) return 2;
            pc.device = (fn_device)d;
        } else if (!strcmp(o, "--proxy")) snprintf(proxies, sizeof proxies, "%s", v);
        else if (!strcmp(o, "--space")) {
            if (strcmp(v, "nb201")) {
                fprintf(stderr, "freenas score: --space %s has no benchmark networks (hint: "
                        "--space nb201; FreeDARTS searches of other spaces: freenas search)\n", v);
                return 2;
            }
        } else if (!strcmp(o, "--dataset")) pc.dataset = v;
        else if (!strcmp(o, "--data")) pc.data_path = v;
        else if (!strcmp(o, "--benchmark")) pc.benchmark = v;
        else if (!strcmp(o, "--seed") || !strcmp(o, "--batch")) {
            const int seed = !strcmp(o, "--seed");
            long n;
            if (cli_parse_long(o, v, seed ? 0 : 1, 2147483647L, &n)) return 2;
            if (seed) pc.seed = (uint64_t)n;
            else pc.batch = (int)n;
        } else {
            fprintf(stderr, "freenas score: unknown option '%s' (see freenas score --help)\n", o);
            return 2;
        }
        if (takes) i++;
    }
    for (char *s = strtok(proxies, ","); s && nprox < MAX_PROXIES; s = strtok(NULL, ",")) {
        if (!proxy_find(s)) {
            fprintf(stderr, "freenas score: unknown proxy '%s' (known: %s)\n", s, proxy_names());
            return 2;
        }
        names[nprox++] = s;
    }
    if ((!narch && range_b <= range_a) || !nprox) {
        fprintf(stderr, "freenas score: give at least one --arch, --index or --range and "
                "--proxy\n");
        score_usage(stderr);
        return 2;
    }
    char err[1024];
    static char root[4096];
    if (!pc.benchmark) pc.benchmark = data_nb201_table(); /* datasets/data_dirs.h */
    if (!pc.data_path && data_find_images(pc.dataset ? pc.dataset : "cifar10", root, sizeof root,
                                          err, sizeof err) == 0)
        pc.data_path = root; /* a proxy that needs images and finds none says so */
    nb201_benchmark *bench = NULL;
    if (pc.benchmark && nb201_benchmark_load(pc.benchmark, &bench, err, sizeof err)) {
        fprintf(stderr, "freenas score: %s\n", err);
        return 2;
    }
    fn_proxy_ctx *ctx;
    if (proxy_ctx_create(&pc, &ctx, err, sizeof err) != FN_OK) {
        fprintf(stderr, "freenas score: %s\n", err);
        nb201_benchmark_free(bench);
        return 2;
    }
    if (range_b > range_a && !bench) {
        fprintf(stderr, "freenas score: --range needs --benchmark (indices resolve through it)\n");
        proxy_ctx_free(ctx);
        return 2;
    }
    if (pc.device == FN_DEV_CUDA && gpu_device_count() <= 0) {
        fprintf(stderr, "freenas score: --device cuda: no usable CUDA device (hint: --device cpu)\n");
        proxy_ctx_free(ctx);
        nb201_benchmark_free(bench);
        return 2;
    }
    int failed = 0, rc = 0;
    const int total = narch + (int)(range_b - range_a);
    if (!json) {
        printf("%5s  %-90s", "index", "architecture");
        for (int p = 0; p < nprox; p++) printf(" %14s", names[p]);
        if (bench) printf("  %8s %8s %8s", "C10-test", "C100", "IN16");
        printf("\n");
    }
    for (int a = 0; a < total && !rc; a++) {
        char ibuf[24]; /* an index of --range */
        if (a >= narch) snprintf(ibuf, sizeof ibuf, "%ld", range_a + (a - narch));
        const char *arch = a < narch ? archs[a] : ibuf;
        int ops[NB201_EDGES];
        if (nb201_net_resolve(arch, bench, ops, err, sizeof err)) {
            fprintf(stderr, "freenas score: %s\n", err);
            rc = 2;
            break;
        }
        fn_proxy_value v[MAX_PROXIES];
        if (proxy_score_ops(ctx, ops, names, nprox, v, err, sizeof err) != FN_OK) {
            fprintf(stderr, "freenas score: %s: %s\n", arch, err);
            failed++;
        }
        char s[256];
        nb201_arch_string(ops, s, sizeof s);
        const nb201_record *gt = bench ? nb201_benchmark_get(bench, ops) : NULL;
        if (json) { /* a score record (analysis/report_corr.c): failed proxies are null */
            const char *dev = pc.device == FN_DEV_CUDA ? "cuda" : "cpu";
            printf("{\"job_id\":\"score-%s-s%llu-", pc.dataset, (unsigned long long)pc.seed);
            if (gt) printf("%d\"", gt->index);
            else printf("c%d\"", nb201_arch_code(ops));
            printf(",\"status\":\"ok\",\"params\":{\"kind\":\"score\",\"space\":\"nb201\","
                   "\"dataset\":");
            json_str(pc.dataset);
            printf(",\"seed\":%llu,\"batch\":%d,\"precision\":%d,\"augment\":%d,\"device\":\"%s\"}",
                   (unsigned long long)pc.seed, pc.batch, pc.precision, pc.augment, dev);
            printf(",\"arch\":");
            json_str(s);
            printf(",\"unreachable_ops\":%d", nb201_arch_unreachable_ops(ops));
            if (gt) printf(",\"nb201_index\":%d", gt->index);
            printf(",\"dataset\":");
            json_str(pc.dataset);
            printf(",\"seed\":%llu,\"proxies\":{", (unsigned long long)pc.seed);
            for (int p = 0; p < nprox; p++) {
                printf("%s", p ? "," : "");
                json_str(names[p]);
                if (v[p].status == FN_OK && isinf(v[p].value)) /* JSON has no infinity */
                    printf(":\"%s\"", v[p].value < 0 ? "-inf" : "inf");
                else if (v[p].status == FN_OK) printf(":%.17g", v[p].value);
                else printf(":null");
            }
            printf("},\"proxy_direction\":{"); /* the registry's sign: what the report orders by */
            for (int p = 0; p < nprox; p++) {
                const fn_proxy *info = proxy_find(names[p]);
                printf("%s", p ? "," : "");
                json_str(names[p]);
                printf(":%d", info && info->sign < 0 ? -1 : 1);
            }
            printf("},\"errors\":{");
            for (int p = 0, k = 0; p < nprox; p++)
                if (v[p].status != FN_OK) {
                    printf("%s", k++ ? "," : "");
                    json_str(names[p]);
                    printf(":");
                    json_str(fn_status_name(v[p].status));
                }
            printf("},\"seconds\":{");
            for (int p = 0; p < nprox; p++) {
                printf("%s", p ? "," : "");
                json_str(names[p]);
                printf(":%.6f", v[p].seconds);
            }
            printf("}");
            if (gt)
                printf(",\"accuracy\":{\"cifar10_valid\":%.4f,\"cifar10_test\":%.4f,"
                       "\"cifar100_test\":%.4f,\"imagenet16_test\":%.4f}", gt->cifar10_valid,
                       gt->cifar10_test, gt->cifar100_test, gt->imagenet16_test);
            printf("}\n");
            fflush(stdout);
        } else {
            printf("%5d  %-90s", gt ? gt->index : -1, s);
            for (int p = 0; p < nprox; p++) {
                if (v[p].status == FN_OK) printf(" %14.6g", v[p].value);
                else printf(" %14s", fn_status_name(v[p].status));
            }
            if (gt) printf("  %8.2f %8.2f %8.2f", gt->cifar10_test, gt->cifar100_test,
                           gt->imagenet16_test);
            printf("\n");
        }
    }
    proxy_ctx_free(ctx);
    nb201_benchmark_free(bench);
    return rc ? rc : failed ? 1 : 0;
}
