/* train/data.h: the training data pipeline (issue 25): a labelled image file loaded whole
 * (datasets/dataset.h: CIFAR-10/100 official binaries, ImageNet16-120; the shared prefixes or
 * the full files), a deterministic train / validation split (HNAS: first / last half of the
 * training file, docs/METHOD.md §4.3), seeded shuffling and augmentation (DARTS train.py: random
 * crop with 4 px padding, horizontal flip, cutout), all drawn from the counter-based RNG
 * (nn/rng.h) as pure functions of (seed, epoch, position): a resumed run sees the same
 * batches as an uninterrupted one.
 *
 * Augmentation follows torchvision's order: the crop pads the raw image with black (value 0
 * before normalisation, so -mean/std after it), flip with p = 0.5, then cutout sets a
 * length x length square (clipped at the border, centre uniform over the image) to 0 after
 * normalisation. */
#ifndef FN_TRAIN_DATA_H
#define FN_TRAIN_DATA_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int n, c, h, w, classes;
    float *x;           /* [n, c, h, w] normalised */
    int *y;             /* [n] */
    double pad_value[3]; /* a black pixel after normalisation, per channel */
    char name[32];
} train_data;

/* Stream ids of the trainer's random numbers (nn/rng.h; FN_STREAM_DATA is the searches'). */
enum {
    TRAIN_STREAM_SHUFFLE = 0x60000000u,
    TRAIN_STREAM_AUG = 0x60000001u,
    TRAIN_STREAM_DROP = 0x60000002u,
};

/* Loads the first `limit` records (all when limit <= 0) of dataset `name` from path (a file
 * or a directory, datasets/dataset.h). Returns 0, or -1 with a message. */
int train_data_load(train_data *d, const char *name, const char *path, long limit, char *err,
                    size_t errlen);
void train_data_free(train_data *d);

/* The split: train = records [0, n_train), validation = [n_train, n_train + n_valid). */
typedef struct {
    int train0, n_train, valid0, n_valid;
} train_split;
/* train_portion of the n records for training (HNAS: 0.5), the rest for validation. */
train_split train_split_portion(int n, double train_portion);

/* perm[0..n) = the training order of epoch `epoch`: a Fisher-Yates shuffle of 0..n-1 under
 * seed, or the identity when shuffle == 0. */
void train_data_order(int *perm, int n, uint64_t seed, int epoch, int shuffle);

/* Writes sample `rec` into out [c, h, w] (float32 or float64 per out_f64), augmented when
 * crop_pad > 0 / flip / cutout > 0 with draws keyed by (seed, epoch, position). */
void train_data_sample(const train_data *d, int rec, void *out, int out_f64, uint64_t seed,
                       int epoch, long position, int crop_pad, int flip, int cutout);

#endif
