/* datasets/dataset.h: labelled image batches for the label-dependent saliencies (SNIP, GraSP).
 *
 * Formats (see each ../shared/data/<name>/README.md; real users bring the full official files):
 *   cifar10         official binary layout, 3073-byte records: label, 3x32x32 planes
 *   cifar100        official binary layout, 3074-byte records: coarse, fine label, 3x32x32
 *   imagenet16-120  CIFAR-like 769-byte records: label (0..119), 3x16x16
 *   imagenet224     "IMGU8CHW" header + N x 3x224x224 uint8, labels in a uint16 file
 * A path may be the data file itself or a directory, searched for the usual names
 * (e.g. <dir>/cifar10/data_batch_1_head.bin, <dir>/data_batch_1.bin, ...).
 * Pixels are normalised with NB201's per-dataset mean/std (ImageNet-224: the standard
 * torchvision mean/std). Optional train augmentation as NB201: random crop with zero padding
 * (4 px at 32x32, 2 px at 16x16) and horizontal flip with p = 0.5; none at 224.
 * Sampling and augmentation draw from the counter-based RNG (nn/rng.h, stream FN_STREAM_DATA),
 * so a batch is a pure function of (file, batch size, seed). */
#ifndef FN_DATASET_H
#define FN_DATASET_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *name;        /* "cifar10", "cifar100", "imagenet16-120", "imagenet224" */
    int classes, c, h, w;
    int crop_pad;            /* random-crop padding of the train augmentation (0: none) */
    double mean[3], std[3];  /* applied to x/255 */
} fn_dataset_info;

typedef struct {
    int n, c, h, w, classes;
    float *x;   /* [n, c, h, w], normalised */
    int *y;     /* [n] labels in 0..classes-1 */
    int *index; /* [n] record index in the file each sample came from */
} fn_batch;

/* NULL for an unknown name. */
const fn_dataset_info *dataset_info(const char *name);
/* Comma-separated list of known names, for messages. */
const char *dataset_names(void);

/* Resolves `path` (file or directory) to the data file for `name`; writes it to out.
 * Returns 0, or -1 with a message in err naming what was tried. */
int dataset_resolve(const char *name, const char *path, char *out, size_t outlen, char *err,
                    size_t errlen);

/* Number of complete records in the resolved file (validated: size must be a whole number of
 * records, header and label file consistent). -1 with err on any problem. */
long dataset_count(const char *name, const char *file, char *err, size_t errlen);

/* Loads `n` distinct records drawn uniformly without replacement under `seed` (or the first n
 * if seed == UINT64_MAX), with train augmentation when augment != 0.
 * Returns 0, or -1 with a clear message (missing/truncated/mis-sized file, label out of
 * range, n larger than the file). On success free with batch_free. */
int dataset_load_batch(const char *name, const char *path, int n, uint64_t seed, int augment,
                       fn_batch *out, char *err, size_t errlen);
void batch_free(fn_batch *b);

#endif
