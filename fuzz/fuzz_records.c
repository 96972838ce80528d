/* fuzz/fuzz_records.c: libFuzzer harness for results.jsonl as a sweep reads it on resume
 * (sweep/records.c): records_open (torn-last-line repair), records_scan of every record into
 * the job states of a fixed plan, the scores of ok records summed into its ensembles
 * (sweep/ensemble.c: sweep_ens_acc_add, then sweep_ens_finish prunes and writes ensembles.jsonl), and
 * records_merge of a shard's results.jsonl (`--merge`). The input is the sweep's
 * results.jsonl; after a 0x1e byte, the shard's.
 *
 * The plan is the config below (nb201 and darts, seeds 0..2, two ensembles); the seed corpus
 * holds records with its job ids, so mutations reach the per-job code.
 *
 *   bash scripts/fuzz.sh records 600
 *   build/bin/replay_fuzz_records fuzz/corpus/records */
#include <stdlib.h>

#include "fuzz/fuzz_util.h"
#include "sweep/config.h"
#include "sweep/ensemble.h"
#include "sweep/plan.h"
#include "sweep/records.h"

static const char fuzz_records_yaml[] =
    "output: unused\n"
    "grid:\n"
    "  space: [nb201, darts]\n"
    "  dataset: cifar10\n"
    "  metric: synflow\n"
    "  seed: \"0:2\"\n"
    "ensembles:\n"
    "  - {name: seeds, over: [seed], norm: zscore}\n"
    "  - {name: rank, over: [seed], norm: rank}\n";

static sweep_config fuzz_cfg;
static sweep_plan fuzz_plan;

static void fuzz_records_init(void) {
    static int done;
    if (done) return;
    done = 1;
    char err[SWEEP_ERRLEN];
    if (sweep_config_parse("fuzz_records.yaml", fuzz_records_yaml, sizeof fuzz_records_yaml - 1,
                           &fuzz_cfg, err, sizeof err) ||
        sweep_plan_build(&fuzz_cfg, &fuzz_plan, err, sizeof err)) {
        fprintf(stderr, "fuzz_records: %s\n", err);
        exit(2);
    }
    if (!freopen("/dev/null", "w", stdout)) exit(2); /* sweep_ens_finish's table */
}

typedef struct { sweep_ens_acc *a; } fuzz_ctx;
static void fuzz_on_scores(long j, const double *S, int rows, int cols, void *vx) {
    fuzz_ctx *x = vx;
    sweep_ens_acc_add(x->a, &fuzz_cfg, &fuzz_plan, j, S, rows, cols);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_records_init();
    const uint8_t *res, *shard;
    size_t nres, nshard;
    int parts = fuzz_split(data, size, 0x1e, 0, &res, &nres);
    fuzz_split(data, size, 0x1e, 1, &shard, &nshard);
    char path[1024], dir[1024], sdir[1024], err[1024];
    fuzz_write("run/results.jsonl", res, nres, path, sizeof path);
    fuzz_path("run", dir, sizeof dir);
    if (parts > 1) fuzz_write("shard/results.jsonl", shard, nshard, path, sizeof path);
    fuzz_path("shard", sdir, sizeof sdir);

    sweep_records r;
    sweep_job_state *st = calloc((size_t)fuzz_plan.njobs, sizeof *st);
    sweep_ens_acc acc;
    sweep_ens_acc_init(&acc, &fuzz_cfg, &fuzz_plan);
    fuzz_ctx x = {&acc};
    if (!records_open(&r, dir, 0, err, sizeof err) &&
        !records_scan(&r, &fuzz_cfg, &fuzz_plan, st, fuzz_on_scores, &x, err, sizeof err)) {
        long counts[4] = {0, 0, 0, 0};
        if (parts > 1)
            records_merge(&r, sdir, &fuzz_cfg, &fuzz_plan, st, fuzz_on_scores, &x, 0, counts, err,
                          sizeof err);
        sweep_ens_finish(&acc, &fuzz_cfg, &fuzz_plan, NULL, dir, err, sizeof err);
    }
    records_close(&r);
    sweep_ens_acc_free(&acc);
    free(st);
    return 0;
}
