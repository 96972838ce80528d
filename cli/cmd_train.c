/* cli/cmd_train.c: `freenas train`, training a DARTS genotype's evaluation network or an
 * NB201 architecture's network on CIFAR (train/train.h), with per-epoch records, a progress
 * line with ETA and a checkpoint that a killed run resumes from.
 *
 *   freenas train --genotype "Genotype(normal=[...], ...)" --recipe hnas --data ../shared/data
 *   freenas train --space nb201 --arch '|nor_conv_3x3~0|+|...|' --epochs 5 --batch 64 --out run
 *   freenas train --genotype "..." --recipe darts --device cuda --data DIR --out run
 *
 * Exit code: 0 trained, 1 training failed (data, checkpoint of another run), 2 usage error. */
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"
#include "cli/commands.h"
#include "gpu/device.h"
#include "nasbench/nb201_net.h"
#include "train/checkpoint.h"
#include "train/train.h"

static void train_usage(FILE *f) {
    fprintf(f,
"usage: freenas train (--genotype G | --space nb201 --arch A) [options]\n"
"\n"
"Trains a network with PyTorch's SGD semantics (DARTS train.py / HNAS, docs/METHOD.md §4.3) on the\n"
"training file of a CIFAR dataset, split into train / validation records, and reports the\n"
"validation accuracy after every epoch, on the CPU or (--device cuda) the current GPU.\n"
"\n"
"network:\n"
"  --space S          darts (default) | nb201\n"
"  --genotype G       darts: a Genotype(normal=[...], normal_concat=..., reduce=[...], ...) string\n"
"  --C N              darts: initial channels (recipe hnas: 16, darts: 36)\n"
"  --layers N         darts: cells (hnas: 5, darts: 20)\n"
"  --arch A           nb201: arch string |op~0|+|op~0|op~1|+|op~0|op~1|op~2|\n"
"  --channels N       nb201: first stage width (16); --cells N cells per stage (5)\n"
"recipe (defaults from --recipe):\n"
"  --recipe R         hnas (default: 10 epochs, batch 576, lr 0.1 cosine to 5e-3 per epoch,\n"
"                     momentum 0.9, wd 3e-4, clip 5, drop-path 0.2, no aux, no augmentation)\n"
"                     | darts (600 epochs, batch 96, lr 0.025 to 0, aux 0.4, drop-path 0.2,\n"
"                     crop + flip, cutout 16)\n"
"  --epochs N  --batch N  --lr X  --lr-min X  --momentum X  --weight-decay X  --clip X\n"
"  --lr-per-step      cosine schedule stepped per step instead of per epoch\n"
"  --nesterov         Nesterov momentum\n"
"  --auxiliary X      auxiliary head with loss weight X (0: none)\n"
"  --drop-path P      drop-path probability, P * epoch / epochs (0: none)\n"
"  --augment / --no-augment   random crop (pad 4) and horizontal flip\n"
"  --cutout N         cutout length (0: none)\n"
"  --seed N           weights, shuffling, augmentation and drop-path masks (default 0)\n"
"  --fp32 / --fp64    executor precision (default float32)\n"
"  --device D         cpu (default) | cuda: forward and backward on the current GPU; weights,\n"
"                     SGD and running statistics stay in double on the host (checkpoints\n"
"                     resume on either device)\n"
"data:\n"
"  --dataset D        cifar10 (default) | cifar100 | imagenet16-120\n"
"  --data PATH        data file or directory (e.g. ../shared/data; the full official\n"
"                     training file when you have it)\n"
"  --limit N          use the first N records of the file\n"
"  --train-portion P  first P of the records train, the rest validate (default 0.5, HNAS)\n"
"run:\n"
"  --out DIR          checkpoint.bin and records.jsonl (one JSON object per epoch); a run\n"
"                     with a checkpoint there resumes after its last epoch\n"
"  --stop-after N     stop after epoch N (its checkpoint written), as a kill would\n"
"  --threads N        OpenMP threads (default: OMP_NUM_THREADS or all cores)\n"
"  --json             the result as one JSON object on stdout\n"
"  --quiet            no progress lines\n");
}

static int num(const char *opt, const char *s, double lo, double hi, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || end == s || !isfinite(v) || v < lo || v > hi) {
        fprintf(stderr, "freenas train: %s expects a number in [%g, %g], got '%s'\n", opt, lo, hi,
                s);
        return -1;
    }
    *out = v;
    return 0;
}

int cmd_train(int argc, char **argv) {
    const char *space = "darts", *genotype = NULL, *arch = NULL, *dataset = "cifar10";
    const char *data = NULL, *out = NULL, *recipe_name = "hnas";
    long C = -1, layers = -1, channels = 16, cells = 5, limit = 0, stop_after = 0, threads = 0;
    double portion = 0.5;
    int json = 0, quiet = 0;
    /* the recipe first, then overrides in the order given */
    for (int i = 0; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--recipe")) recipe_name = argv[i + 1];
    train_recipe r;
    if (!strcmp(recipe_name, "hnas")) r = train_recipe_hnas();
    else if (!strcmp(recipe_name, "darts")) r = train_recipe_darts();
    else {
        fprintf(stderr, "freenas train: --recipe expects hnas or darts, got '%s'\n", recipe_name);
        return 2;
    }
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        double d;
        long l;
#define VAL                                                                              \
    if (!v) {                                                                            \
        fprintf(stderr, "freenas train: %s needs a value (see freenas train --help)\n", o); \
        return 2;                                                                        \
    }                                                                                    \
    i++;
#define DBL(lo, hi) VAL if (num(o, v, lo, hi, &d)) return 2;
#define LNG(lo, hi) VAL if (cli_parse_long(o, v, lo, hi, &l)) return 2;
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) { train_usage(stdout); return 0; }
        else if (!strcmp(o, "--recipe")) { VAL }
        else if (!strcmp(o, "--space")) { VAL space = v; }
        else if (!strcmp(o, "--genotype")) { VAL genotype = v; }
        else if (!strcmp(o, "--arch")) { VAL arch = v; }
        else if (!strcmp(o, "--C")) { LNG(2, 4096) C = l; }
        else if (!strcmp(o, "--layers")) { LNG(1, 1000) layers = l; }
        else if (!strcmp(o, "--channels")) { LNG(1, 4096) channels = l; }
        else if (!strcmp(o, "--cells")) { LNG(1, 100) cells = l; }
        else if (!strcmp(o, "--epochs")) { LNG(1, 100000) r.epochs = (int)l; }
        else if (!strcmp(o, "--batch")) { LNG(1, 1 << 20) r.batch = (int)l; }
        else if (!strcmp(o, "--lr")) { DBL(0, 1e3) r.lr = d; }
        else if (!strcmp(o, "--lr-min")) { DBL(0, 1e3) r.lr_min = d; }
        else if (!strcmp(o, "--lr-per-step")) r.lr_per_step = 1;
        else if (!strcmp(o, "--momentum")) { DBL(0, 1) r.momentum = d; }
        else if (!strcmp(o, "--weight-decay")) { DBL(0, 1) r.weight_decay = d; }
        else if (!strcmp(o, "--clip")) { DBL(0, 1e9) r.clip = d; }
        else if (!strcmp(o, "--nesterov")) r.nesterov = 1;
        else if (!strcmp(o, "--auxiliary")) { DBL(0, 1e3) r.aux_weight = d; r.auxiliary = d > 0; }
        else if (!strcmp(o, "--drop-path")) { DBL(0, 0.99) r.drop_path = d; }
        else if (!strcmp(o, "--augment")) r.augment = 1;
        else if (!strcmp(o, "--no-augment")) { r.augment = 0; r.cutout = 0; }
        else if (!strcmp(o, "--cutout")) { LNG(0, 1024) r.cutout = (int)l; }
        else if (!strcmp(o, "--seed")) { LNG(0, INT32_MAX) r.seed = (uint64_t)l; }
        else if (!strcmp(o, "--fp32")) r.dtype = FN_F32;
        else if (!strcmp(o, "--fp64")) r.dtype = FN_F64;
        else if (!strcmp(o, "--device")) {
            VAL
            int dv;
            if (cli_parse_device(v, &dv)) return 2;
            r.device = (fn_device)dv;
        }
        else if (!strcmp(o, "--dataset")) { VAL dataset = v; }
        else if (!strcmp(o, "--data")) { VAL data = v; }
        else if (!strcmp(o, "--limit")) { LNG(2, INT32_MAX) limit = l; }
        else if (!strcmp(o, "--train-portion")) { DBL(0, 1) portion = d; }
        else if (!strcmp(o, "--out")) { VAL out = v; }
        else if (!strcmp(o, "--stop-after")) { LNG(1, 100000) stop_after = l; }
        else if (!strcmp(o, "--threads")) { LNG(1, 4096) threads = l; }
        else if (!strcmp(o, "--json")) json = 1;
        else if (!strcmp(o, "--quiet")) quiet = 1;
        else {
            fprintf(stderr, "freenas train: unknown option '%s' (see freenas train --help)\n", o);
            return 2;
        }
#undef VAL
#undef DBL
#undef LNG
    }
    const int darts = !strcmp(space, "darts");
    if (!darts && strcmp(space, "nb201")) {
        fprintf(stderr, "freenas train: --space expects darts or nb201, got '%s'\n", space);
        return 2;
    }
    if (darts ? !genotype : !arch) {
        fprintf(stderr, "freenas train: %s needed (see freenas train --help)\n",
                darts ? "--genotype" : "--arch");
        return 2;
    }
    if (!data) {
        fprintf(stderr, "freenas train: --data PATH needed (e.g. ../shared/data)\n");
        return 2;
    }
    if (r.device == FN_DEV_CUDA && gpu_device_count() <= 0) {
        fprintf(stderr,
                "freenas train: --device cuda: no usable CUDA device (hint: --device cpu)\n");
        return 2;
    }
    if (threads > 0) omp_set_num_threads((int)threads);
    char err[FN_ERRLEN];
    darts_genotype gt;
    int ops[6];
    if (darts && darts_genotype_parse(genotype, &gt, err, sizeof err)) {
        fprintf(stderr, "freenas train: --genotype: %s\n", err);
        return 2;
    }
    if (!darts && nb201_net_resolve(arch, NULL, ops, err, sizeof err)) {
        fprintf(stderr, "freenas train: --arch: %s\n", err);
        return 2;
    }
    const int hnas = !strcmp(recipe_name, "hnas");
    if (C < 0) C = hnas ? 16 : 36;
    if (layers < 0) layers = hnas ? 5 : 20;
    train_data d;
    if (train_data_load(&d, dataset, data, limit, err, sizeof err)) {
        fprintf(stderr, "freenas train: %s\n", err);
        return 1;
    }
    train_split sp = train_split_portion(d.n, portion);
    train_model m;
    int rc = darts ? train_model_darts(&m, &gt, (int)C, (int)layers, &r, &d, &sp, err, sizeof err)
                   : train_model_nb201(&m, ops, (int)channels, (int)cells, &r, &d, &sp, err,
                                       sizeof err);
    if (rc) {
        fprintf(stderr, "freenas train: %s\n", err);
        train_data_free(&d);
        return 1;
    }
    if (!quiet)
        fprintf(stderr, "freenas train: %s, %zu parameters, %.1f M MACs per image; %s: %d train / "
                "%d valid records; %d epochs, batch %d, %s on %s, %d threads\n",
                darts ? "darts evaluation net" : "nb201 network", graph_num_params(&m.net.g),
                graph_macs(&m.net.g) / r.batch / 1e6, d.name, sp.n_train, sp.n_valid, r.epochs,
                r.batch, r.dtype == FN_F64 ? "float64" : "float32",
                r.device == FN_DEV_CUDA ? "cuda" : "cpu", omp_get_max_threads());
    train_opts o = {out, !quiet, (int)stop_after, "train"};
    train_result res;
    rc = train_run(&m.core, &r, &d, &sp, &o, &res, err, sizeof err);
    if (rc) fprintf(stderr, "freenas train: %s\n", err);
    else if (json) {
        printf("{\"space\": \"%s\", \"params\": %zu, \"epochs_done\": %d, \"resumed_from\": %d, "
               "\"valid_acc\": %.6g, \"valid_loss\": %.8g, \"seconds\": %.3f, \"records\": [",
               space, graph_num_params(&m.net.g), res.epochs_done, res.resumed_from,
               res.valid_acc, res.valid_loss, res.seconds);
        for (int e = 0; e < res.epochs_done; e++) {
            char line[512];
            train_record_json(&res.rec[e], line, sizeof line);
            printf("%s%s", e ? ", " : "", line);
        }
        printf("]}\n");
    } else {
        printf("valid_acc %.4f valid_loss %.4f after %d epochs (%.1f s)\n", res.valid_acc,
               res.valid_loss, res.epochs_done, res.seconds);
    }
    train_result_free(&res);
    train_model_free(&m);
    train_data_free(&d);
    return rc ? 1 : 0;
}
