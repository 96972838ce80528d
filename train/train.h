/* train/train.h: training a network end to end (issue 25): the recipe, the epoch loop with
 * per-epoch validation, JSON records, a progress line with ETA, and atomic checkpoints that
 * let a killed run resume bit-identically; and the one call a search makes:
 * train_darts(genotype, recipe, data, split) -> validation accuracy and per-epoch records.
 *
 * Epoch e (0-based) runs ceil(n_train / batch) steps over the epoch's shuffled order (the
 * last batch is the remainder, as PyTorch's DataLoader without drop_last; it runs on a second
 * executor of that batch size with the same weights), at learning rate
 * lr_min + (lr - lr_min) (1 + cos(pi t / T)) / 2 with t = e, T = epochs (DARTS / HNAS: the
 * cosine schedule stepped per epoch) or t = global step, T = all steps (lr_per_step), and
 * drop-path probability drop_path * e / epochs (DARTS train.py). Then the validation split is
 * evaluated in eval mode (running BN statistics, no drop-path, no augmentation).
 *
 * Output directory (optional): checkpoint.bin (weights, momentum, running statistics, epochs
 * done and the records so far; written to a temporary file, synced and renamed after every
 * epoch), records.jsonl (one JSON object per epoch: epoch, lr, drop_prob, train_loss,
 * train_acc, valid_loss, valid_acc, images_per_s, seconds; rewritten atomically from the
 * checkpoint). A run that finds a checkpoint of the same recipe and network resumes after
 * its last epoch; one of another recipe is an error. */
#ifndef FN_TRAIN_TRAIN_H
#define FN_TRAIN_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "engine/exec.h"
#include "spaces/darts.h"
#include "train/core.h"
#include "train/data.h"
#include "train/train_net.h"

typedef struct {
    int epochs, batch;
    double lr, lr_min;
    int lr_per_step;        /* 0: cosine stepped per epoch */
    double momentum, weight_decay;
    int nesterov;
    double clip;            /* global gradient norm, <= 0 off */
    int auxiliary;          /* DARTS nets: auxiliary head */
    double aux_weight;
    double drop_path;       /* maximum drop probability (reached only asymptotically) */
    int augment;            /* random crop (pad 4) and horizontal flip */
    int cutout;             /* cutout length, 0 off */
    int shuffle;
    uint64_t seed;          /* weights, shuffling, augmentation, drop-path masks */
    fn_dtype dtype;
    fn_device device;       /* FN_DEV_CPU (default) or FN_DEV_CUDA (train/core.h); not part
                               of a checkpoint's key: a run may resume on the other device */
} train_recipe;

/* HNAS's DARTS evaluation recipe (docs/METHOD.md §4.3): 10 epochs, batch 576, lr 0.1 cosine to
 * 5e-3 per epoch, momentum 0.9, wd 3e-4, clip 5, drop-path 0.2 (reaches 0.18), no auxiliary
 * head, no augmentation, float32, CPU. */
train_recipe train_recipe_hnas(void);
/* DARTS train.py: 600 epochs, batch 96, lr 0.025 cosine to 0, momentum 0.9, wd 3e-4, clip 5,
 * auxiliary 0.4, drop-path 0.2, crop + flip, cutout 16, float32, CPU. */
train_recipe train_recipe_darts(void);

typedef struct {
    int epoch;
    double lr, drop_prob, train_loss, train_acc, valid_loss, valid_acc, images_per_s, seconds;
} train_record;

typedef struct {
    const char *out_dir;    /* NULL: no checkpoint, no records file */
    int progress;           /* progress lines on stderr */
    int stop_after;         /* > 0: return after this many epochs in total (as if killed
                               once its checkpoint is written; tests) */
    const char *label;      /* progress prefix */
} train_opts;

typedef struct {
    int epochs_done;
    int resumed_from;       /* epochs found in the checkpoint */
    double valid_acc, valid_loss;  /* of the last epoch */
    train_record *rec;      /* [epochs_done] */
    double seconds;
} train_result;
void train_result_free(train_result *r);

/* Trains the core's weights (train_core_init) with the recipe on the split of d. Returns 0,
 * or -1 with a message (unusable output directory, a checkpoint of another run, ...). */
int train_run(train_core *c, const train_recipe *r, const train_data *d, const train_split *sp,
              const train_opts *o, train_result *res, char *err, size_t errlen);

/* The network + core for a recipe: a DARTS evaluation net of gt (C, layers) at the recipe's
 * batch, plus a tail-batch net when n_train % batch != 0. */
typedef struct {
    train_net net, tail;
    int has_tail;
    train_core core;
} train_model;
int train_model_darts(train_model *m, const darts_genotype *gt, int C, int layers,
                      const train_recipe *r, const train_data *d, const train_split *sp,
                      char *err, size_t errlen);
int train_model_nb201(train_model *m, const int ops[6], int C, int N, const train_recipe *r,
                      const train_data *d, const train_split *sp, char *err, size_t errlen);
void train_model_free(train_model *m);

/* One call for searches (HNAS on DARTS): builds, trains, returns the last epoch's validation
 * accuracy (and everything else in res). */
int train_darts(const darts_genotype *gt, int C, int layers, const train_recipe *r,
                const train_data *d, const train_split *sp, const train_opts *o,
                train_result *res, char *err, size_t errlen);

#endif
