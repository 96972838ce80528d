/* train/data.c: dataset loading, split, shuffling and augmentation (see train/data.h). */
#include "train/data.h"

#include <stdio.h>
#include <string.h>

#include "base/common.h"
#include "datasets/dataset.h"
#include "nn/rng.h"

int train_data_load(train_data *d, const char *name, const char *path, long limit, char *err,
                    size_t errlen) {
    memset(d, 0, sizeof(*d));
    const fn_dataset_info *info = dataset_info(name);
    if (!info) {
        snprintf(err, errlen, "unknown dataset '%s' (known: %s)", name, dataset_names());
        return -1;
    }
    char file[4096];
    if (dataset_resolve(name, path, file, sizeof file, err, errlen)) return -1;
    long n = dataset_count(name, file, err, errlen);
    if (n < 0) return -1;
    if (limit > 0 && limit < n) n = limit;
    if (n < 2) {
        snprintf(err, errlen, "%s: %ld records in '%s': too few to train", name, n, file);
        return -1;
    }
    fn_batch b;
    if (dataset_load_batch(name, file, (int)n, UINT64_MAX, 0, &b, err, errlen)) return -1;
    d->n = b.n; d->c = b.c; d->h = b.h; d->w = b.w; d->classes = b.classes;
    d->x = b.x;
    d->y = b.y;
    free(b.index);
    for (int ch = 0; ch < 3; ch++) d->pad_value[ch] = -info->mean[ch] / info->std[ch];
    snprintf(d->name, sizeof d->name, "%s", name);
    return 0;
}

void train_data_free(train_data *d) {
    free(d->x);
    free(d->y);
    memset(d, 0, sizeof(*d));
}

train_split train_split_portion(int n, double train_portion) {
    int nt = (int)(train_portion * n);
    if (nt < 1) nt = 1;
    if (nt > n - 1) nt = n - 1;
    train_split s = {0, nt, nt, n - nt};
    return s;
}

void train_data_order(int *perm, int n, uint64_t seed, int epoch, int shuffle) {
    for (int i = 0; i < n; i++) perm[i] = i;
    if (!shuffle) return;
    for (int i = n - 1; i > 0; i--) {
        const double u = fn_rng_uniform(seed, TRAIN_STREAM_SHUFFLE, (uint64_t)epoch * n + i);
        int j = (int)(u * (i + 1));
        if (j > i) j = i;
        const int t = perm[i]; perm[i] = perm[j]; perm[j] = t;
    }
}

void train_data_sample(const train_data *d, int rec, void *out, int out_f64, uint64_t seed,
                       int epoch, long position, int crop_pad, int flip, int cutout) {
    const int C = d->c, H = d->h, W = d->w;
    const float *src = d->x + (size_t)rec * C * H * W;
    /* 4 draws per sample: crop dy, dx, flip, cutout centre (y, x from one more pair) */
    const uint64_t base = ((uint64_t)epoch * (uint64_t)d->n + (uint64_t)position) * 8;
    int oy = 0, ox = 0, fl = 0;
    if (crop_pad > 0) {
        oy = (int)(fn_rng_uniform(seed, TRAIN_STREAM_AUG, base) * (2 * crop_pad + 1)) - crop_pad;
        ox = (int)(fn_rng_uniform(seed, TRAIN_STREAM_AUG, base + 1) * (2 * crop_pad + 1)) - crop_pad;
    }
    if (flip) fl = fn_rng_uniform(seed, TRAIN_STREAM_AUG, base + 2) < 0.5;
    int cy = -1000, cx = -1000;
    if (cutout > 0) {
        cy = (int)(fn_rng_uniform(seed, TRAIN_STREAM_AUG, base + 3) * H);
        cx = (int)(fn_rng_uniform(seed, TRAIN_STREAM_AUG, base + 4) * W);
    }
    for (int ch = 0; ch < C; ch++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                /* output (y, x) reads the padded image at (y + oy, x' + ox), x' flipped */
                const int xs = (fl ? W - 1 - x : x) + ox, ys = y + oy;
                double v = ys >= 0 && ys < H && xs >= 0 && xs < W
                               ? src[((size_t)ch * H + ys) * W + xs]
                               : d->pad_value[ch < 3 ? ch : 0];
                if (cutout > 0 && y >= cy - cutout / 2 && y < cy + cutout - cutout / 2 &&
                    x >= cx - cutout / 2 && x < cx + cutout - cutout / 2)
                    v = 0;
                const size_t o = ((size_t)ch * H + y) * W + x;
                if (out_f64) ((double *)out)[o] = v;
                else ((float *)out)[o] = (float)v;
            }
}
