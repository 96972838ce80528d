/* cli/cmd_hnas_darts.c: `freenas hnas --space darts`: one HNAS search on the DARTS space in this
 * process, the sequential algorithm (hnas/darts_bo.h hnas_dbo_run_sequential): the pool and
 * its M / kappa (hnas/darts_pool.h, cached in --out and shared with a sweep's
 * OUTPUT/darts_hnas), then T steps, each training its genotype. With the settings of a
 * `kind: hnas, space: darts` sweep job it gives that job's steps on one rank, bit for bit
 * (tests/sweep/hnas_darts.sh).
 *   freenas hnas --space darts --seed 0 --out results/darts_hnas_cli
 *   freenas hnas --space darts --seed 0 --pool 200 --epochs 1 --images 1102 --json */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/common.h"
#include "cli/commands.h"
#include "datasets/data_dirs.h"
#include "hnas/darts_bo.h"
#include "hnas/darts_pool.h"
#include "train/train.h"

static void usage(FILE *f) {
    fprintf(f,
"usage: freenas hnas --space darts --seed N [options]\n"
"HNAS on the DARTS space (docs/METHOD.md §4.3): a pool of random genotypes, M and kappa of each\n"
"(the NTK of its evaluation net on one fixed batch), then T steps of Bayesian optimisation over\n"
"(nu, log10 mu), each training the argmin of the objective; the pick is the best validation\n"
"accuracy. One process, the sequential algorithm; freenas_sweep (kind hnas, space darts) runs\n"
"the same search over MPI ranks.\n"
"  --seed N           search seed (pool, weights, batch, BO)\n"
"  --out DIR          caches: pool and M / kappa (default darts_hnas_cache; a sweep's\n"
"                     OUTPUT/darts_hnas holds the same files)\n"
"  --data PATH        images (default: the data roots, freenas info)\n"
"  --dataset D        cifar10 (default) | cifar100\n"
"  --pool N           candidate genotypes (60000)\n"
"  --pool-width W     8 (every primitive, default) or 7 (HNAS's quirk: no dil_conv_5x5)\n"
"  --budget T         steps (25)\n"
"  --acq ucb|ei       acquisition (ucb, kappa 2.576)\n"
"  --epochs E         training epochs per evaluation (10)\n"
"  --batch B          training batch (576)\n"
"  --images N         records of the training file used (0 = all); train / valid = halves\n"
"  --ntk-batch B      the M / kappa batch (64)\n"
"  --channels C       evaluation net width (16)\n"
"  --layers L         evaluation net cells (5)\n"
"  --json             one JSON line per step, then the pick\n"
"  --quiet            no progress lines\n");
}

typedef struct {
    const hnas_dpool *pool;
    const train_data *d;
    train_split sp;
    train_recipe r;
    uint64_t seed;
    int C, layers, json, quiet;
    int step;
} eval_ctx;

static double evaluate(long arch, void *user, double *train_s) {
    eval_ctx *x = user;
    train_recipe r = x->r;
    r.seed = hnas_dpool_train_seed(x->seed, arch);
    train_opts o = {NULL, 0, 0, NULL};
    train_result res;
    char err[512];
    const double t0 = fn_now();
    const int rc = train_darts(&x->pool->gt[arch], x->C, x->layers, &r, x->d, &x->sp, &o, &res,
                               err, sizeof err);
    *train_s = fn_now() - t0;
    const double acc = rc ? NAN : 100.0 * res.valid_acc;
    train_result_free(&res);
    if (rc) fprintf(stderr, "freenas hnas: genotype %ld: %s\n", arch, err);
    else if (!x->quiet)
        fprintf(stderr, "[hnas darts] evaluation %d: genotype %ld, valid %.2f %%, %.1f s\n",
                x->step, arch, acc, *train_s);
    x->step++;
    return acc;
}

int cmd_hnas_darts(int argc, char **argv) {
    hnas_dbo_config bc;
    hnas_dbo_config_default(&bc);
    const char *out = "darts_hnas_cache", *data = NULL, *dataset = "cifar10";
    long seed = -1, pool = 60000, width = 8, epochs = 10, batch = 576, images = 0, ntk = 64,
         C = 16, layers = 5, T = 25;
    int json = 0, quiet = 0;
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) { usage(stdout); return 0; }
        if (!strcmp(o, "--json")) { json = 1; continue; }
        if (!strcmp(o, "--quiet")) { quiet = 1; continue; }
        if (!v) {
            fprintf(stderr, "freenas hnas: %s needs a value (see freenas hnas --space darts --help)\n", o);
            return 2;
        }
        i++;
        long *dst = !strcmp(o, "--seed") ? &seed : !strcmp(o, "--pool") ? &pool
                  : !strcmp(o, "--pool-width") ? &width : !strcmp(o, "--epochs") ? &epochs
                  : !strcmp(o, "--batch") ? &batch : !strcmp(o, "--images") ? &images
                  : !strcmp(o, "--ntk-batch") ? &ntk : !strcmp(o, "--channels") ? &C
                  : !strcmp(o, "--layers") ? &layers : !strcmp(o, "--budget") ? &T : NULL;
        if (dst) {
            const long hi = dst == &seed ? 2147483647L : dst == &pool ? HNAS_DPOOL_MAX
                          : dst == &width ? 8 : dst == &T ? HNAS_DBO_MAX_T : 1L << 30;
            const long lo = dst == &width ? 7 : dst == &images || dst == &seed ? 0 : 1;
            if (cli_parse_long(o, v, lo, hi, dst)) return 2;
        } else if (!strcmp(o, "--space")) {
            if (strcmp(v, "darts")) {
                fprintf(stderr, "freenas hnas: --space %s here (hint: --space darts)\n", v);
                return 2;
            }
        } else if (!strcmp(o, "--out")) out = v;
        else if (!strcmp(o, "--data")) data = v;
        else if (!strcmp(o, "--dataset")) dataset = v;
        else if (!strcmp(o, "--acq")) {
            if (!strcmp(v, "ei")) bc.acq = (bo_acq){BO_ACQ_EI, 0.0, 0};
            else if (strcmp(v, "ucb")) {
                fprintf(stderr, "freenas hnas: --acq %s: expected ucb or ei\n", v);
                return 2;
            }
        } else {
            fprintf(stderr, "freenas hnas: unknown option '%s' (see freenas hnas --space darts "
                    "--help)\n", o);
            return 2;
        }
    }
    if (seed < 0) {
        fprintf(stderr, "freenas hnas: give --seed N\n");
        usage(stderr);
        return 2;
    }
    char err[4096], root[4096];
    if (!data) {
        if (data_find_images(dataset, root, sizeof root, err, sizeof err)) {
            fprintf(stderr, "freenas hnas: %s (hint: --data DIR)\n", err);
            return 1;
        }
        data = root;
    }
    if (mkdir(out, 0755) && errno != EEXIST) {
        fprintf(stderr, "freenas hnas: cannot create %s: %s\n", out, strerror(errno));
        return 1;
    }
    train_data d;
    if (train_data_load(&d, dataset, data, images, err, sizeof err)) {
        fprintf(stderr, "freenas hnas: %s\n", err);
        return 1;
    }
    int rc = 1, built;
    hnas_dpool p;
    float *bx = NULL;
    int *by = NULL;
    const train_split sp = train_split_portion(d.n, 0.5);
    const double t0 = fn_now();
    if (hnas_dpool_batch(&d, sp.train0, sp.n_train, (int)ntk, (uint64_t)seed, &bx, &by, err, sizeof err) ||
        hnas_dpool_open(&p, out, (uint64_t)seed, pool, (int)width, &built, err, sizeof err)) {
        fprintf(stderr, "freenas hnas: %s\n", err);
        free(bx);
        free(by);
        train_data_free(&d);
        return 1;
    }
    char mpath[8192];
    hnas_dpool_metrics_path(&p, out, (int)C, (int)layers, (int)ntk, d.n, mpath, sizeof mpath);
    FILE *mf = NULL;
    if (hnas_dpool_metrics_load(&p, mpath, err, sizeof err) || !(mf = fopen(mpath, "a"))) {
        fprintf(stderr, "freenas hnas: %s\n", mf ? err : mpath);
        goto done;
    }
    if (!quiet)
        fprintf(stderr, "[hnas darts] pool of %ld (%s %s), M / kappa of %ld to compute\n", pool,
                built ? "built into" : "read from", out, pool - p.have);
    for (long i = 0; i < p.n; i++) {
        if (!isnan(p.M[i]) || !isnan(p.kappa[i])) continue;
        double M = NAN, k = NAN;
        hnas_darts_ntk(&p.gt[i], (int)C, (int)layers, d.classes, d.h, d.w, bx, by, (int)ntk,
                       hnas_dpool_weight_seed((uint64_t)seed, i), FN_F32, &M, &k, NULL, err,
                       sizeof err);
        p.M[i] = M;
        p.kappa[i] = k;
        p.have++;
        hnas_dpool_metrics_write(mf, i, M, k);
        fflush(mf);
    }
    fclose(mf);
    const double t_pool = fn_now() - t0;
    bc.seed = (uint64_t)seed;
    bc.T = (int)T;
    eval_ctx x = {&p, &d, sp, train_recipe_hnas(), (uint64_t)seed, (int)C, (int)layers, json,
                  quiet, 0};
    x.r.epochs = (int)epochs;
    x.r.batch = (int)batch;
    hnas_dbo_eval *ev = mallocCheck(sizeof *ev * HNAS_DBO_MAX_T);
    if (hnas_dbo_run_sequential(&bc, &p, evaluate, &x, ev, err, sizeof err)) {
        fprintf(stderr, "freenas hnas: %s\n", err);
        free(ev);
        goto done;
    }
    int pick = -1;
    for (int t = 0; t < bc.T; t++) {
        if (ev[t].arch >= 0 && (pick < 0 || ev[t].valid_acc > ev[pick].valid_acc)) pick = t;
        if (json) {
            char line[4096];
            hnas_dbo_eval_json(&ev[t], &p, line, sizeof line);
            printf("%s\n", line);
        }
    }
    char gs[1024];
    darts_genotype_string(&p.gt[ev[pick].arch], gs, sizeof gs);
    if (json)
        printf("{\"pick\": {\"step\": %d, \"arch\": %ld, \"valid_acc\": %.17g, \"genotype\": \"%s\"}, "
               "\"pool_s\": %.3f, \"seconds\": %.3f}\n", pick, ev[pick].arch, ev[pick].valid_acc,
               gs, t_pool, fn_now() - t0);
    else
        printf("pick: step %d, genotype %ld, valid %.2f %% (%d steps, %.1f s, M / kappa %.1f s)\n%s\n",
               pick, ev[pick].arch, ev[pick].valid_acc, bc.T, fn_now() - t0, t_pool, gs);
    free(ev);
    rc = 0;
done:
    free(bx);
    free(by);
    hnas_dpool_free(&p);
    train_data_free(&d);
    return rc;
}
