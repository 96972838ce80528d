/* cli/freenas.c: the `freenas` command.
 *
 *   freenas search --space nb201 --metric synflow --seed 0 --benchmark FILE
 *   freenas search --metric snip --dataset cifar10 --data ../shared/data --seeds 0:19 --json
 *   freenas search --space darts --cells 20 --seeds 0:9
 *   freenas search --space darts --resolution 224 --metric snip --data ../shared/data
 *   freenas score --index 1462 --proxy synflow,naswot --data ../shared/data --benchmark FILE
 *   freenas train --genotype "Genotype(...)" --recipe hnas --data ../shared/data --out run
 *   freenas info
 *
 * `search` runs one FreeDARTS search per seed (search/search.h) and prints the architecture,
 * its score matrix, timings and, with --benchmark, NB201 ground-truth accuracies; several
 * seeds end with mean +- std (NB201) or operation counts per cell type (DARTS). Exit code: 0 all searches ok, 1 some failed, 2 usage error. */
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"
#include "cli/commands.h"
#include "datasets/dataset.h"
#include "gpu/device.h"
#include "gpu/backend_cuda.h"
#include "metrics/metric.h"
#include "spaces/nb201.h"
#include "datasets/data_dirs.h"
#include "nasbench/nb201_benchmark.h"
#include "search/bundle.h"
#include "search/search.h"
#include "search/space.h"

#ifndef FREENAS_VERSION
#define FREENAS_VERSION "dev"
#endif

static void usage(FILE *f) {
    fprintf(f,
"usage: freenas <command> [options]\n"
"\n"
"commands:\n"
"  search     FreeDARTS search: score every operation of the supernet at initialisation\n"
"             with a saliency on alpha and prune one-shot (docs/METHOD.md §3.11, §5)\n"
"  score      zero-cost proxies of NB201 benchmark networks (freenas score --help)\n"
"  hnas       HNAS on NB201: Bayesian optimisation of an M / kappa objective over 12-epoch\n"
"             queries (freenas hnas --help); hnas-table computes its metric table,\n"
"             hnas-corr the rank correlations of its columns and the accuracies;\n"
"             --space darts: HNAS on DARTS, training each evaluation (--space darts --help)\n"
"  train      train a DARTS genotype or an NB201 architecture (freenas train --help)\n"
"  info       build features and accelerators\n"
"  --version  print the version\n"
"\n"
"search options:\n"
"  --space S          nb201 (default) | darts | nb1shot1\n"
"  --metric M         synflow (default) | snip | grasp\n"
"  --seed N           seed of weights, alpha and batch (default 0)\n"
"  --seeds A:B        run seeds A..B inclusive and summarise\n"
"  --alpha-scale A    alpha = A * randn (default 1e-3; darts at 224x224: 5e-4)\n"
"  --dataset D        cifar10 (default) | cifar100 | imagenet16-120 | imagenet224 (darts):\n"
"                     input size and classes of the supernet, and the labelled batch\n"
"  --resolution R     32 (CIFAR) or 224 (= --dataset imagenet224: ImageNet stems, 1000\n"
"                     classes; darts only)\n"
"  --data PATH        data file or directory (snip, grasp); default: the first data root\n"
"                     that holds the dataset (FREENAS_DATA, ~/.local/share/freenas/data,\n"
"                     the install prefix, ../shared/data; docs/DATA.md)\n"
"  --batch N          labelled batch size (default: 64; synflow always uses 1 all-ones input)\n"
"  --no-augment       no random crop / flip of the labelled batch\n"
"  --cells N          nb201: cells per stage (5); darts: cells (8; 14 at 224; 20 = no depth gap)\n"
"  --channels C       first cell width (16; darts at 224: 48)\n"
"  --ss N             nb1shot1 search space 1 (default), 2 or 3\n"
"  --benchmark FILE   NB201 ground truth (nb201_accuracy.tsv): print accuracies; default:\n"
"                     nb201/nb201_accuracy.tsv under the data roots (shipped with freenas)\n"
"  --no-benchmark     do not look accuracies up\n"
"  --synflow-zc       SynFlow with BN removed and |alpha| (float64): R = 1'(prod |theta|)1,\n"
"                     SynFlow's path sum; the default in darts and nb1shot1\n"
"  --synflow-fd       FreeDARTS's literal SynFlow: BN in train mode over the one all-ones\n"
"                     image, alpha signed except in nb201 (default in nb201); in darts and\n"
"                     nb1shot1 d R / d alpha is exactly 0 there: noise, flagged degenerate\n"
"  --synflow-signed-alpha  with BN removed keep alpha signed: the next ReLU drops the\n"
"                     negative node outputs (the form --synflow-zc had before; comparison)\n"
"  --synflow-no-rescale  nb1shot1 path form: no exact 2^k rescaling of alpha_output (the\n"
"                     scores are then 2^-s_log2_scale times smaller, the architecture the same)\n"
"  --device D         cpu (default) | cuda: run the supernet on the current GPU (cuDNN,\n"
"                     cuBLAS); weights come from the same host RNG, so scores match the CPU\n"
"  --fp32, --fp64     force the executor precision (default: synflow float64, snip and grasp\n"
"                     float32; grasp --grasp-fd always float64); FD ran float32,\n"
"                     noise-dominated in DARTS SynFlow\n"
"  --tf32             float32 with TF32 tensor-core math on CUDA (cuDNN, cuBLAS; off by\n"
"                     default); plain float32 on the CPU\n"
"  --abs-params       take |params| before SNIP/GraSP (default in darts, as FD's notebooks)\n"
"  --signed-params    keep signed params for SNIP/GraSP (default in nb201)\n"
"  --grasp-fd E       GraSP's H g by the earlier float64 central finite difference of\n"
"                     gradients, step E * ||alpha|| (1e-6 before), instead of the exact product\n"
"  --grasp-adam LR    FD notebook quirk: one Adam step (lr LR) on alpha before the HVP\n"
"  --grasp-abs        score |alpha * Hg| (default: reproduces the paper, docs/FIDELITY.md)\n"
"  --grasp-signed     score the signed alpha * Hg (docs/METHOD.md's stated definition)\n"
"  --grasp-darts-form FD's DARTS notebook: Adam lr 3e-4, score |alpha * (H alpha + g)|\n"
"  --json             one JSON object per search on stdout instead of the table\n"
"  --quiet            no per-seed lines, only the summary\n"
"  --bundle K         with --seeds: up to K searches side by side, one per thread, each with\n"
"                     its own arenas (search/bundle.h; same results bit for bit); default 0 =\n"
"                     as many as threads and memory allow, 1 = one search at a time; with\n"
"                     --device cuda each search gets a thread and CUDA stream (0 = off)\n");
}

typedef struct {
    fn_search_config sc;
    long seed_lo, seed_hi;
    const char *benchmark;
    int no_benchmark; /* --no-benchmark: do not look the table up under the data roots */
    int json, quiet;
    long bundle; /* --bundle: 0 auto, 1 off */
} cli_args;

int cli_parse_long(const char *opt, const char *s, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < lo || v > hi) {
        fprintf(stderr, "freenas: %s expects an integer in [%ld, %ld], got '%s'\n", opt, lo, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_parse_device(const char *s, int *out) {
    if (!strcmp(s, "cpu")) *out = FN_DEV_CPU;
    else if (!strcmp(s, "cuda")) *out = FN_DEV_CUDA;
    else {
        fprintf(stderr, "freenas: --device expects cpu or cuda, got '%s'\n", s);
        return -1;
    }
    return 0;
}

static int parse_double(const char *opt, const char *s, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || end == s || !isfinite(v) || v <= 0) {
        fprintf(stderr, "freenas: %s expects a positive number, got '%s'\n", opt, s);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_search_args(int argc, char **argv, cli_args *a) {
    search_config_default(&a->sc);
    a->seed_lo = a->seed_hi = 0;
    long resolution = 0;
    int dataset_given = 0, ss_given = 0;
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED_VALUE                                                              \
    if (!v) {                                                                   \
        fprintf(stderr, "freenas: %s needs a value (see freenas --help)\n", o); \
        return -1;                                                              \
    }                                                                           \
    i++;
        long l;
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) { usage(stdout); exit(0); }
        else if (!strcmp(o, "--space")) { NEED_VALUE a->sc.space = v; }
        else if (!strcmp(o, "--metric")) { NEED_VALUE a->sc.metric = v; }
        else if (!strcmp(o, "--dataset")) { NEED_VALUE a->sc.dataset = v; dataset_given = 1; }
        else if (!strcmp(o, "--data")) { NEED_VALUE a->sc.data_path = v; }
        else if (!strcmp(o, "--benchmark")) { NEED_VALUE a->benchmark = v; }
        else if (!strcmp(o, "--no-benchmark")) { a->no_benchmark = 1; }
        else if (!strcmp(o, "--bundle")) {
            NEED_VALUE if (cli_parse_long(o, v, 0, 256, &a->bundle)) return -1;
        } else if (!strcmp(o, "--seed")) {
            NEED_VALUE if (cli_parse_long(o, v, 0, INT32_MAX, &l)) return -1;
            a->seed_lo = a->seed_hi = l;
        } else if (!strcmp(o, "--seeds")) {
            NEED_VALUE const char *colon = strchr(v, ':');
            char lo[32];
            if (!colon || colon - v >= (long)sizeof lo) {
                fprintf(stderr, "freenas: --seeds expects A:B, got '%s'\n", v);
                return -1;
            }
            memcpy(lo, v, (size_t)(colon - v));
            lo[colon - v] = '\0';
            if (cli_parse_long(o, lo, 0, INT32_MAX, &a->seed_lo) ||
                cli_parse_long(o, colon + 1, a->seed_lo, INT32_MAX, &a->seed_hi))
                return -1;
        } else if (!strcmp(o, "--alpha-scale")) {
            NEED_VALUE if (parse_double(o, v, &a->sc.alpha_scale)) return -1;
        } else if (!strcmp(o, "--batch")) {
            NEED_VALUE if (cli_parse_long(o, v, 1, 4096, &l)) return -1;
            a->sc.batch = (int)l;
        } else if (!strcmp(o, "--cells")) {
            NEED_VALUE if (cli_parse_long(o, v, 1, 64, &l)) return -1;
            a->sc.cells = (int)l;
        } else if (!strcmp(o, "--channels")) {
            NEED_VALUE if (cli_parse_long(o, v, 2, 1024, &l)) return -1;
            a->sc.channels = (int)l;
        } else if (!strcmp(o, "--ss")) {
            NEED_VALUE if (cli_parse_long(o, v, 1, 3, &l)) return -1;
            a->sc.ss = (int)l;
            ss_given = 1;
        } else if (!strcmp(o, "--resolution")) {
            NEED_VALUE if (cli_parse_long(o, v, 8, 1024, &resolution)) return -1;
        } else if (!strcmp(o, "--grasp-fd")) {
            NEED_VALUE if (parse_double(o, v, &a->sc.mopts.grasp_fd_eps)) return -1;
        } else if (!strcmp(o, "--grasp-adam")) {
            NEED_VALUE if (parse_double(o, v, &a->sc.mopts.grasp_adam_lr)) return -1;
            a->sc.mopts.grasp_adam = 1;
        } else if (!strcmp(o, "--no-augment")) a->sc.augment = 0;
        else if (!strcmp(o, "--synflow-zc")) a->sc.mopts.synflow_zc = 1;
        else if (!strcmp(o, "--synflow-fd")) a->sc.mopts.synflow_zc = 0;
        else if (!strcmp(o, "--synflow-signed-alpha")) a->sc.mopts.synflow_signed_alpha = 1;
        else if (!strcmp(o, "--synflow-no-rescale")) a->sc.mopts.synflow_no_rescale = 1;
        else if (!strcmp(o, "--grasp-abs")) a->sc.mopts.grasp_abs = 1;
        else if (!strcmp(o, "--grasp-signed")) a->sc.mopts.grasp_abs = 0;
        else if (!strcmp(o, "--grasp-darts-form")) a->sc.mopts.grasp_darts_form = 1;
        else if (!strcmp(o, "--device")) {
            NEED_VALUE
            int d;
            if (cli_parse_device(v, &d)) return -1;
            a->sc.device = (fn_device)d;
        }
        else if (!strcmp(o, "--fp32")) a->sc.mopts.precision = 32;
        else if (!strcmp(o, "--fp64")) a->sc.mopts.precision = 64;
        else if (!strcmp(o, "--tf32")) a->sc.mopts.precision = FN_PRECISION_TF32;
        else if (!strcmp(o, "--abs-params")) a->sc.mopts.abs_params = 1;
        else if (!strcmp(o, "--signed-params")) a->sc.mopts.abs_params = 0;
        else if (!strcmp(o, "--json")) a->json = 1;
        else if (!strcmp(o, "--quiet")) a->quiet = 1;
        else {
            fprintf(stderr, "freenas: unknown option '%s' (see freenas --help)\n", o);
            return -1;
        }
#undef NEED_VALUE
    }
    if (!metric_find(a->sc.metric)) {
        fprintf(stderr, "freenas: unknown metric '%s' (known: %s)\n", a->sc.metric, metric_names());
        return -1;
    }
    if (!space_find(a->sc.space)) {
        fprintf(stderr, "freenas: unknown search space '%s' (known: %s)\n", a->sc.space,
                space_names());
        return -1;
    }
    if (ss_given && strcmp(a->sc.space, "nb1shot1")) { /* as the sweep config: never ignored */
        fprintf(stderr, "freenas: --ss: only nb1shot1 has search spaces 1-3, this search is "
                "--space %s (hint: remove --ss, or write --space nb1shot1 --ss %d)\n",
                a->sc.space, a->sc.ss);
        return -1;
    }
    if (resolution == 224 && !dataset_given) a->sc.dataset = "imagenet224";
    const fn_dataset_info *ds = dataset_info(a->sc.dataset);
    if (!ds) {
        fprintf(stderr, "freenas: unknown dataset '%s' (known: %s)\n", a->sc.dataset,
                dataset_names());
        return -1;
    }
    if (resolution && resolution != ds->h) {
        fprintf(stderr, "freenas: --resolution %ld does not match dataset %s (%dx%d); "
                "--resolution 224 selects imagenet224, CIFAR data is 32x32\n", resolution,
                ds->name, ds->h, ds->w);
        return -1;
    }
    fn_search_config resolved = a->sc; /* the space's own checks (sizes, --ss), up front */
    char err[FN_ERRLEN];
    if (space_find(a->sc.space)->resolve(&resolved, ds, err, sizeof err)) {
        fprintf(stderr, "freenas: %s\n", err);
        return -1;
    }
    if (a->benchmark && strcmp(a->sc.space, "nb201") != 0) {
        fprintf(stderr, "freenas: --benchmark is NB201 ground truth; %s architectures cannot be "
                "looked up there\n", a->sc.space);
        return -1;
    }
    if (metric_find(a->sc.metric)->needs_labels && !a->sc.data_path) {
        static char root[4096]; /* the default data roots (datasets/data_dirs.h) */
        if (data_find_images(a->sc.dataset, root, sizeof root, err, sizeof err)) {
            fprintf(stderr, "freenas: --metric %s needs labelled data and no --data was given: "
                    "%s\n", a->sc.metric, err);
            return -1;
        }
        a->sc.data_path = root;
    }
    if (!a->benchmark && !strcmp(a->sc.space, "nb201") && !a->no_benchmark)
        a->benchmark = data_nb201_table(); /* NULL: accuracies print as "-" */
    return 0;
}

static void json_string(const char *s) {
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20) printf("\\u%04x", *s);
        else putchar(*s);
    }
    putchar('"');
}

static void print_json(const cli_args *a, const fn_search_result *r, const nb201_record *gt) {
    printf("{\"space\":\"%s\",\"metric\":\"%s\",\"dataset\":\"%s\",\"seed\":%llu,"
           "\"device\":\"%s\",\"alpha_scale\":%.6g,\"batch\":%d,\"status\":\"%s\",",
           a->sc.space, a->sc.metric, a->sc.dataset, (unsigned long long)a->sc.seed,
           a->sc.device == FN_DEV_CUDA ? "cuda" : "cpu", r->alpha_scale, r->batch,
           fn_status_name(r->status));
    if (r->status != FN_OK) {
        printf("\"error\":");
        json_string(r->msg);
        printf("}\n");
        return;
    }
    printf("\"arch\":");
    json_string(r->arch);
    printf(",\"arch_json\":%s,\"value\":%.9g,", r->arch_json, r->value);
    if (!strcmp(a->sc.metric, "synflow"))
        printf("\"synflow_zc\":%s,\"synflow_abs_alpha\":%s,\"flow\":%.9g,\"s_log2_scale\":%d,",
               r->synflow_zc ? "true" : "false", r->synflow_abs_alpha ? "true" : "false", r->flow,
               r->s_log2_scale);
    printf("\"scores\":[");
    for (int e = 0; e < r->s_rows; e++) {
        printf("%s[", e ? "," : "");
        for (int o = 0; o < r->s_cols; o++)
            printf("%s%.9g", o ? "," : "", r->S[e * r->s_cols + o]);
        printf("]");
    }
    printf("],\"degenerate\":%s,\"params\":%zu,\"macs\":%.0f,\"bytes\":%zu,\"time_s\":{\"data\":%.6f,"
           "\"build\":%.6f,\"init\":%.6f,\"score\":%.6f,\"prune\":%.6f,\"total\":%.6f}",
           r->degenerate ? "true" : "false", r->params, r->macs, r->bytes, r->t_data, r->t_build, r->t_init, r->t_score,
           r->t_prune, r->t_total);
    if (!strcmp(a->sc.space, "darts"))
        printf(",\"eval_net\":{\"cifar10_c36_20cells\":{\"params\":%zu,\"macs\":%.0f},"
               "\"imagenet_c48_14cells\":{\"params\":%zu,\"macs\":%.0f}}",
               r->eval_params[0], r->eval_macs[0], r->eval_params[1], r->eval_macs[1]);
    if (gt)
        printf(",\"nb201_index\":%d,\"accuracy\":{\"cifar10_valid\":%.4f,\"cifar10_test\":%.4f,"
               "\"cifar100_test\":%.4f,\"imagenet16_test\":%.4f}",
               gt->index, gt->cifar10_valid, gt->cifar10_test, gt->cifar100_test,
               gt->imagenet16_test);
    printf("}\n");
}

/* DARTS: operation counts per cell type over all searches, largest first (docs/METHOD.md §7.4). */
static void print_op_counts(const int counts[2][DARTS_OPS], int n) {
    static const char *const cell_name[2] = {"normal", "reduce"};
    for (int t = 0; t < 2; t++) {
        int order[DARTS_OPS], m = 0;
        for (int o = 1; o < DARTS_OPS; o++) order[m++] = o;
        for (int i = 1; i < m; i++) /* stable: equal counts keep the primitive order */
            for (int k = i; k > 0 && counts[t][order[k]] > counts[t][order[k - 1]]; k--) {
                int x = order[k];
                order[k] = order[k - 1];
                order[k - 1] = x;
            }
        printf("# %s cell op counts (of %d):", cell_name[t], 8 * n);
        for (int i = 0; i < m; i++)
            printf("%s %s %d", i ? "," : "", darts_op_names[order[i]], counts[t][order[i]]);
        printf("\n");
    }
}

typedef struct { double s, ss; int n; } stat;
static void stat_add(stat *st, double v) { st->s += v; st->ss += v * v; st->n++; }
static double stat_mean(const stat *st) { return st->n ? st->s / st->n : NAN; }
/* sample standard deviation (n - 1), as the paper's mean +- std over seeds */
static double stat_std(const stat *st) {
    if (st->n < 2) return 0;
    double m = stat_mean(st), v = (st->ss - st->n * m * m) / (st->n - 1);
    return v > 0 ? sqrt(v) : 0;
}

static int cmd_search(int argc, char **argv) {
    cli_args a = {0};
    if (parse_search_args(argc, argv, &a)) return 2;
    nb201_benchmark *bench = NULL;
    char err[FN_ERRLEN];
    if (a.benchmark && nb201_benchmark_load(a.benchmark, &bench, err, sizeof err)) {
        fprintf(stderr, "freenas: %s\n", err);
        return 2;
    }
    const int is_nb201 = !strcmp(a.sc.space, "nb201"), is_darts = !strcmp(a.sc.space, "darts");
    if (!a.json) {
        printf("# freenas search: space %s, metric %s, dataset %s, alpha scale ", a.sc.space,
               a.sc.metric, a.sc.dataset);
        if (a.sc.alpha_scale > 0) printf("%g", a.sc.alpha_scale);
        else printf("default");
        printf(", seeds %ld..%ld\n", a.seed_lo, a.seed_hi);
    }
    if (!a.json && !a.quiet) {
        if (is_nb201)
            printf("%5s  %-92s %8s %8s %8s %8s %9s\n", "seed", "architecture", "C10-val",
                   "C10-test", "C100", "IN16", "time[ms]");
        else if (is_darts)
            printf("# eval net: DARTS CIFAR-10 network of the genotype, C=36, 20 cells, "
                   "auxiliary head excluded; MACs at 1x3x32x32\n%5s %9s %11s %11s  %s\n", "seed",
                   "time[ms]", "params[M]", "MACs[M]", "genotype");
        else
            printf("%5s %9s  %s\n", "seed", "time[ms]", "architecture");
    }
    stat acc[4] = {{0}}, tsearch = {0};
    int failed = 0, counts[2][DARTS_OPS] = {{0}};
    /* seeds in bundles side by side (search/bundle.h), reported in seed order */
    const long total_seeds = a.seed_hi - a.seed_lo + 1;
    int kb = total_seeds > 1 ? search_bundle_size(&a.sc, (int)a.bundle, omp_get_max_threads(), 1, 0) : 1;
    if (kb > total_seeds) kb = (int)total_seeds;
    search_bundle *bundle = search_bundle_new();
    fn_search_config *bcfg = mallocCheck(sizeof *bcfg * (size_t)kb);
    fn_search_result *bres = mallocCheck(sizeof *bres * (size_t)kb);
    for (long s = a.seed_lo, s0 = a.seed_lo; s <= a.seed_hi; s++) {
        if (s == s0) { /* the next bundle */
            const int k = (int)(a.seed_hi - s0 + 1 < kb ? a.seed_hi - s0 + 1 : kb);
            for (int i = 0; i < k; i++) bcfg[i] = a.sc, bcfg[i].seed = (uint64_t)(s0 + i);
            search_bundle_run(bundle, bcfg, k, 0, bres);
            s0 += k;
        }
        const fn_search_result r = bres[(s - a.seed_lo) % kb];
        a.sc.seed = (uint64_t)s; /* what the lines print */
        const nb201_record *gt = (r.status == FN_OK && bench) ? nb201_benchmark_get(bench, r.ops) : NULL;
        if (r.status != FN_OK) failed++;
        else {
            stat_add(&tsearch, r.t_total);
            if (gt) {
                stat_add(&acc[0], gt->cifar10_valid);
                stat_add(&acc[1], gt->cifar10_test);
                stat_add(&acc[2], gt->cifar100_test);
                stat_add(&acc[3], gt->imagenet16_test);
            }
            if (is_darts) {
                int c[2][DARTS_OPS];
                darts_genotype_op_counts(&r.genotype, c);
                for (int t = 0; t < 2; t++)
                    for (int o = 0; o < DARTS_OPS; o++) counts[t][o] += c[t][o];
            }
        }
        if (r.status == FN_OK && r.degenerate)
            fprintf(stderr, "freenas: warning: seed %ld: every score is at rounding level (max |S| "
                    "= %.3g): d %s / d alpha is numerically zero for this supernet, so the "
                    "architecture is decided by rounding noise%s\n", s, r.s_max,
                    strcmp(a.sc.metric, "synflow") ? "L" : "R",
                    !is_nb201 && !strcmp(a.sc.metric, "synflow") && !r.synflow_zc
                        ? " (FD's literal SynFlow: every path into the head ends in an "
                          "affine-free BN over one image, so the logits do not depend on alpha; "
                          "the default --synflow-zc scores without BN)" : "");
        if (a.json) {
            print_json(&a, &r, gt);
        } else if (r.status != FN_OK) {
            fprintf(stderr, "freenas: seed %ld failed (%s): %s\n", s, fn_status_name(r.status), r.msg);
        } else if (!a.quiet) {
            if (is_darts)
                printf("%5ld %9.1f %11.3f %11.1f  %s\n", s, 1e3 * r.t_total,
                       r.eval_params[0] / 1e6, r.eval_macs[0] / 1e6, r.arch);
            else if (!is_nb201)
                printf("%5ld %9.1f  %s\n", s, 1e3 * r.t_total, r.arch);
            else if (gt)
                printf("%5ld  %-92s %8.2f %8.2f %8.2f %8.2f %9.1f\n", s, r.arch, gt->cifar10_valid,
                       gt->cifar10_test, gt->cifar100_test, gt->imagenet16_test, 1e3 * r.t_total);
            else
                printf("%5ld  %-92s %8s %8s %8s %8s %9.1f\n", s, r.arch, "-", "-", "-", "-",
                       1e3 * r.t_total);
        }
        fflush(stdout);
    }
    free(bcfg);
    free(bres);
    search_bundle_free(bundle);
    long total = a.seed_hi - a.seed_lo + 1;
    if (!a.json) {
        if (acc[1].n)
            printf("# mean +- std over %d searches: C10-valid %.2f +- %.2f  C10-test %.2f +- %.2f  "
                   "C100-test %.2f +- %.2f  IN16-test %.2f +- %.2f\n", acc[1].n,
                   stat_mean(&acc[0]), stat_std(&acc[0]), stat_mean(&acc[1]), stat_std(&acc[1]),
                   stat_mean(&acc[2]), stat_std(&acc[2]), stat_mean(&acc[3]), stat_std(&acc[3]));
        if (is_darts && tsearch.n) print_op_counts(counts, tsearch.n);
        printf("# %ld searches: %ld ok, %d failed", total, total - failed, failed);
        if (tsearch.n)
            printf("; search time %.1f +- %.1f ms", 1e3 * stat_mean(&tsearch), 1e3 * stat_std(&tsearch));
        printf("\n");
    }
    nb201_benchmark_free(bench);
    return failed ? 1 : 0;
}

static int cmd_info(void) {
    printf("freenas %s (%s)\n", FREENAS_VERSION, fn_git_rev());
    printf("  spaces   : %s\n  metrics  : %s\n  datasets : %s\n", space_names(), metric_names(),
           dataset_names());
    printf("  backends : cpu%s\n", gpu_exec_compiled() ? ", cuda (module libfreenas_cuda.so, "
                                     "loaded on first use)" : " (CUDA backend not built)");
#ifdef FREENAS_FEATURES
    printf("  built    : %s\n", FREENAS_FEATURES);
#endif
    printf("  CUDA     : %s\n", gpu_compiled() ? "compiled" : "not compiled");
    const char *roots[16];
    const int nr = data_roots(roots, 16);
    printf("  data     : ");
    for (int i = 0; i < nr; i++) printf("%s%s", i ? "\n             " : "", roots[i]);
    const char *table = data_nb201_table();
    printf("\n  NB201    : %s\n", table ? table : "no nb201/nb201_accuracy.tsv under the data roots");
    int n = gpu_device_count();
    printf("  GPUs     : %d\n", n);
    for (int i = 0; i < n; i++) {
        char buf[256];
        if (gpu_describe(i, buf, sizeof buf) == 0) printf("    [%d] %s\n", i, buf);
    }
    return 0;
}

int main(int argc, char **argv) {
    gpu_backend_register(); /* the CUDA backend: loaded by the first CUDA executor */
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("freenas %s (%s)\n", FREENAS_VERSION, fn_git_rev());
        return 0;
    }
    if (!strcmp(argv[1], "search")) return cmd_search(argc - 2, argv + 2);
    if (!strcmp(argv[1], "info")) return cmd_info();
    if (!strcmp(argv[1], "score")) return cmd_score(argc - 2, argv + 2);
    if (!strcmp(argv[1], "hnas")) return cmd_hnas(argc - 2, argv + 2);
    if (!strcmp(argv[1], "hnas-table")) return cmd_hnas_table(argc - 2, argv + 2);
    if (!strcmp(argv[1], "hnas-corr")) return cmd_hnas_corr(argc - 2, argv + 2);
    if (!strcmp(argv[1], "train")) return cmd_train(argc - 2, argv + 2);
    fprintf(stderr, "freenas: unknown command '%s' (commands: search, score, hnas, hnas-table, hnas-corr, "
            "train, info; see --help)\n", argv[1]);
    return 2;
}
