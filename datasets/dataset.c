/* datasets/dataset.c: readers for the labelled image files of datasets/dataset.h.
 *
 * Three record formats share one code path: CIFAR-10 (label + 3x32x32), CIFAR-100 (coarse,
 * fine label + 3x32x32) and ImageNet16-120 (label + 3x16x16) are headerless fixed-size
 * records; ImageNet-224 is a 32-byte "IMGU8CHW" header followed by N x 3x224x224 bytes, with
 * the labels as N uint16 LE in labels_u16.bin next to it. Only the records of a batch are
 * read (one seek each). Sampling: a partial Fisher-Yates shuffle whose i-th swap draws
 * fn_rng_uniform(seed, FN_STREAM_DATA, i). Augmentation (NB201 order: RandomHorizontalFlip,
 * then RandomCrop with zero padding, then normalise): sample b of the batch draws
 * dy, dx, flip from stream FN_STREAM_DATA + 1 at indices 3b, 3b + 1, 3b + 2; dy, dx are in
 * [0, 2*pad] (the crop's top-left corner in the padded image), flip when the draw < 0.5. */
#include "datasets/dataset.h"
#include "datasets/input_file.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "base/common.h"
#include "nn/rng.h"

#define IMG224_HEADER 32
#define IMG224_MAGIC "IMGU8CHW"
#define IMG224_LABELS "labels_u16.bin"
#define MAX_CANDIDATES 4

typedef struct {
    fn_dataset_info info;
    int label_offset;  /* byte of the (fine) label inside a record; -1: separate file */
    int pixel_offset;  /* first pixel byte inside a record */
    long record_bytes; /* label bytes + c*h*w */
    const char *candidates[MAX_CANDIDATES]; /* file names searched inside a directory */
} dataset_format;

static const dataset_format formats[] = {
    {{"cifar10", 10, 3, 32, 32, 4,
      {125.3 / 255, 123.0 / 255, 113.9 / 255}, {63.0 / 255, 62.1 / 255, 66.7 / 255}},
     0, 1, 1 + 3 * 32 * 32,
     {"data_batch_1.bin", "data_batch_1_head.bin", "cifar10/data_batch_1_head.bin",
      "cifar-10-batches-bin/data_batch_1.bin"}},
    {{"cifar100", 100, 3, 32, 32, 4,
      {129.3 / 255, 124.1 / 255, 112.4 / 255}, {68.2 / 255, 65.4 / 255, 70.4 / 255}},
     1, 2, 2 + 3 * 32 * 32,
     {"train.bin", "train_head.bin", "cifar100/train_head.bin", "cifar-100-binary/train.bin"}},
    {{"imagenet16-120", 120, 3, 16, 16, 2,
      {122.68 / 255, 116.66 / 255, 104.01 / 255}, {63.22 / 255, 61.26 / 255, 65.09 / 255}},
     0, 1, 1 + 3 * 16 * 16,
     {"imagenet16_120.bin", "imagenet16-120/imagenet16_120.bin", NULL, NULL}},
    {{"imagenet224", 1000, 3, 224, 224, 0, {0.485, 0.456, 0.406}, {0.229, 0.224, 0.225}},
     -1, 0, 3 * 224 * 224,
     {"images_u8_nchw.bin", "imagenet224/images_u8_nchw.bin", NULL, NULL}},
};
#define NUM_FORMATS ((int)(sizeof formats / sizeof formats[0]))

static const dataset_format *find_format(const char *name) {
    if (!name) return NULL;
    for (int i = 0; i < NUM_FORMATS; i++)
        if (strcmp(formats[i].info.name, name) == 0) return &formats[i];
    return NULL;
}

const fn_dataset_info *dataset_info(const char *name) {
    const dataset_format *f = find_format(name);
    return f ? &f->info : NULL;
}

const char *dataset_names(void) { return "cifar10, cifar100, imagenet16-120, imagenet224"; }

static const dataset_format *format_or_err(const char *name, char *err, size_t errlen) {
    const dataset_format *f = find_format(name);
    if (!f)
        snprintf(err, errlen, "unknown dataset '%s' (known: %s)", name ? name : "(null)",
                 dataset_names());
    return f;
}

static int is_file(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

int dataset_resolve(const char *name, const char *path, char *out, size_t outlen, char *err,
                    size_t errlen) {
    const dataset_format *f = format_or_err(name, err, errlen);
    if (!f) return -1;
    if (!path || !*path) {
        snprintf(err, errlen, "%s: no data path given", name);
        return -1;
    }
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "%s: data path '%s' not found: %s", name, path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        if (!S_ISREG(st.st_mode)) {
            snprintf(err, errlen, "%s: data path '%s' is not a regular file or directory", name,
                     path);
            return -1;
        }
        if ((size_t)snprintf(out, outlen, "%s", path) >= outlen) {
            snprintf(err, errlen, "%s: path '%s' too long", name, path);
            return -1;
        }
        return 0;
    }
    char tried[MAX_CANDIDATES * 4100] = "";
    size_t plen = strlen(path);
    const char *sep = (plen > 0 && path[plen - 1] == '/') ? "" : "/";
    for (int i = 0; i < MAX_CANDIDATES && f->candidates[i]; i++) {
        char cand[4096];
        snprintf(cand, sizeof cand, "%s%s%s", path, sep, f->candidates[i]);
        if (is_file(cand)) {
            if ((size_t)snprintf(out, outlen, "%s", cand) >= outlen) {
                snprintf(err, errlen, "%s: path '%s' too long", name, cand);
                return -1;
            }
            return 0;
        }
        size_t tl = strlen(tried);
        snprintf(tried + tl, sizeof tried - tl, "%s%s", tl ? ", " : "", cand);
    }
    snprintf(err, errlen, "%s: no data file found in directory '%s' (tried %s)", name, path,
             tried);
    return -1;
}

/* Size of an open file in bytes, -1 on error. */
static long long file_size(FILE *fp) {
    if (fseeko(fp, 0, SEEK_END) != 0) return -1;
    off_t s = ftello(fp);
    if (s < 0 || fseeko(fp, 0, SEEK_SET) != 0) return -1;
    return (long long)s;
}

static uint32_t rd_u32le(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* labels_u16.bin in the directory of `file`. */
static void labels_path(const char *file, char *out, size_t outlen) {
    const char *slash = strrchr(file, '/');
    if (!slash) {
        snprintf(out, outlen, "%s", IMG224_LABELS);
        return;
    }
    snprintf(out, outlen, "%.*s/%s", (int)(slash - file), file, IMG224_LABELS);
}

/* Validates an ImageNet-224 file (open as fp) and its labels file; returns N or -1. */
static long count_img224(const dataset_format *f, const char *file, FILE *fp, long long size,
                         char *err, size_t errlen) {
    unsigned char h[IMG224_HEADER];
    if (size == 0) {
        snprintf(err, errlen, "%s: empty file '%s' (expected a %d-byte %s header and images)",
                 f->info.name, file, IMG224_HEADER, IMG224_MAGIC);
        return -1;
    }
    if (size < IMG224_HEADER || fread(h, 1, IMG224_HEADER, fp) != IMG224_HEADER) {
        snprintf(err, errlen, "%s: '%s' is %lld bytes, too short for the %d-byte header",
                 f->info.name, file, size, IMG224_HEADER);
        return -1;
    }
    if (memcmp(h, IMG224_MAGIC, 8) != 0) {
        snprintf(err, errlen, "%s: '%s' has a bad magic (expected \"%s\" at offset 0)",
                 f->info.name, file, IMG224_MAGIC);
        return -1;
    }
    uint32_t n = rd_u32le(h + 8), c = rd_u32le(h + 12), hh = rd_u32le(h + 16),
             w = rd_u32le(h + 20);
    if (c != (uint32_t)f->info.c || hh != (uint32_t)f->info.h || w != (uint32_t)f->info.w) {
        snprintf(err, errlen, "%s: '%s' header has C=%u H=%u W=%u, expected C=%d H=%d W=%d",
                 f->info.name, file, c, hh, w, f->info.c, f->info.h, f->info.w);
        return -1;
    }
    long long want = IMG224_HEADER + (long long)n * f->record_bytes;
    if (n == 0 || want != size) {
        snprintf(err, errlen,
                 "%s: '%s' header says N=%u C=%u H=%u W=%u (%lld bytes) but the file has "
                 "%lld bytes",
                 f->info.name, file, n, c, hh, w, want, size);
        return -1;
    }
    char lp[4096];
    labels_path(file, lp, sizeof lp);
    char why[600];
    FILE *lf = input_file_open(lp, "rb", why, sizeof why);
    if (!lf) {
        snprintf(err, errlen, "%s: labels file for '%s': %s", f->info.name, file, why);
        return -1;
    }
    long long ls = file_size(lf);
    fclose(lf);
    if (ls != 2LL * n) {
        snprintf(err, errlen,
                 "%s: labels file '%s' has %lld bytes, expected %lld (N=%u uint16 labels)",
                 f->info.name, lp, ls, 2LL * n, n);
        return -1;
    }
    return (long)n;
}

static long count_open(const dataset_format *f, const char *file, FILE *fp, char *err,
                       size_t errlen) {
    long long size = file_size(fp);
    if (size < 0) {
        snprintf(err, errlen, "%s: cannot determine the size of '%s': %s", f->info.name, file,
                 strerror(errno));
        return -1;
    }
    if (f->label_offset < 0) return count_img224(f, file, fp, size, err, errlen);
    if (size == 0) {
        snprintf(err, errlen, "%s: empty file '%s' (expected %ld-byte records)", f->info.name,
                 file, f->record_bytes);
        return -1;
    }
    if (size % f->record_bytes != 0) {
        snprintf(err, errlen, "%s: '%s' truncated: %lld bytes is not a multiple of the %ld-byte "
                 "record", f->info.name, file, size, f->record_bytes);
        return -1;
    }
    return (long)(size / f->record_bytes);
}

long dataset_count(const char *name, const char *file, char *err, size_t errlen) {
    const dataset_format *f = format_or_err(name, err, errlen);
    if (!f) return -1;
    char why[600];
    FILE *fp = input_file_open(file, "rb", why, sizeof why);
    if (!fp) {
        snprintf(err, errlen, "%s: %s", name, why);
        return -1;
    }
    long n = count_open(f, file, fp, err, errlen);
    fclose(fp);
    return n;
}

/* Fills idx[0..n) with n distinct record indices of 0..count-1. */
static void sample_indices(long count, int n, uint64_t seed, int *idx) {
    if (seed == UINT64_MAX) {
        for (int i = 0; i < n; i++) idx[i] = i;
        return;
    }
    int *perm = mallocCheck((size_t)count * sizeof *perm);
    for (long i = 0; i < count; i++) perm[i] = (int)i;
    for (int i = 0; i < n; i++) {
        long left = count - i;
        long j = i + (long)(fn_rng_uniform(seed, FN_STREAM_DATA, (uint64_t)i) * (double)left);
        if (j >= count) j = count - 1;
        int t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
        idx[i] = perm[i];
    }
    free(perm);
}

/* Writes one normalised (optionally flipped and shifted) image from its pixel bytes. */
static void write_image(const fn_dataset_info *in, const unsigned char *px, int dy, int dx,
                        int flip, float *x) {
    int h = in->h, w = in->w, pad = in->crop_pad;
    for (int c = 0; c < in->c; c++) {
        double m = in->mean[c], s = in->std[c];
        float zero = (float)((0.0 - m) / s);
        const unsigned char *plane = px + (size_t)c * h * w;
        float *o = x + (size_t)c * h * w;
        for (int y = 0; y < h; y++) {
            int sy = y + dy - pad;
            for (int xx = 0; xx < w; xx++) {
                int fx = xx + dx - pad; /* column in the flipped image */
                if (sy < 0 || sy >= h || fx < 0 || fx >= w) {
                    o[y * w + xx] = zero;
                    continue;
                }
                int sx = flip ? w - 1 - fx : fx;
                o[y * w + xx] = (float)((plane[sy * w + sx] / 255.0 - m) / s);
            }
        }
    }
}

static int read_label224(FILE *lf, const char *lp, long r, int *label, char *err,
                         size_t errlen) {
    unsigned char b[2];
    if (fseeko(lf, (off_t)r * 2, SEEK_SET) != 0 || fread(b, 1, 2, lf) != 2) {
        snprintf(err, errlen, "imagenet224: cannot read label %ld from '%s'", r, lp);
        return -1;
    }
    *label = b[0] | b[1] << 8;
    return 0;
}

int dataset_load_batch(const char *name, const char *path, int n, uint64_t seed, int augment,
                       fn_batch *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    const dataset_format *f = format_or_err(name, err, errlen);
    if (!f) return -1;
    const fn_dataset_info *in = &f->info;
    char file[4096];
    if (dataset_resolve(name, path, file, sizeof file, err, errlen) != 0) return -1;
    if (n <= 0) {
        snprintf(err, errlen, "%s: batch size must be positive (got %d) for '%s'", name, n,
                 file);
        return -1;
    }
    char why[600];
    FILE *fp = input_file_open(file, "rb", why, sizeof why);
    if (!fp) {
        snprintf(err, errlen, "%s: %s", name, why);
        return -1;
    }
    long count = count_open(f, file, fp, err, errlen);
    if (count < 0) {
        fclose(fp);
        return -1;
    }
    if (n > count) {
        snprintf(err, errlen, "%s: requested %d records but '%s' holds only %ld", name, n, file,
                 count);
        fclose(fp);
        return -1;
    }
    char lp[4096] = "";
    FILE *lf = NULL;
    if (f->label_offset < 0) {
        labels_path(file, lp, sizeof lp);
        lf = input_file_open(lp, "rb", why, sizeof why);
        if (!lf) {
            snprintf(err, errlen, "%s: labels file: %s", name, why);
            fclose(fp);
            return -1;
        }
    }
    size_t img = (size_t)in->c * in->h * in->w;
    long long base = f->label_offset < 0 ? IMG224_HEADER : 0;
    fn_batch b = {n, in->c, in->h, in->w, in->classes, NULL, NULL, NULL};
    b.x = mallocCheck((size_t)n * img * sizeof *b.x);
    b.y = mallocCheck((size_t)n * sizeof *b.y);
    b.index = mallocCheck((size_t)n * sizeof *b.index);
    unsigned char *rec = mallocCheck((size_t)f->record_bytes);
    sample_indices(count, n, seed, b.index);
    int pad = augment ? in->crop_pad : 0, rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        long r = b.index[i];
        off_t off = (off_t)(base + (long long)r * f->record_bytes);
        if (fseeko(fp, off, SEEK_SET) != 0 ||
            fread(rec, 1, (size_t)f->record_bytes, fp) != (size_t)f->record_bytes) {
            snprintf(err, errlen, "%s: cannot read record %ld of '%s'", name, r, file);
            rc = -1;
            break;
        }
        int label;
        if (lf) {
            if (read_label224(lf, lp, r, &label, err, errlen) != 0) {
                rc = -1;
                break;
            }
        } else {
            label = rec[f->label_offset];
        }
        if (label < 0 || label >= in->classes) {
            snprintf(err, errlen, "%s: record %ld of '%s' has label %d, expected 0..%d", name, r,
                     lf ? lp : file, label, in->classes - 1);
            rc = -1;
            break;
        }
        b.y[i] = label;
        int dy = pad, dx = pad, flip = 0;
        if (pad > 0) {
            uint64_t k = 3 * (uint64_t)i;
            int span = 2 * pad + 1;
            dy = (int)(fn_rng_uniform(seed, FN_STREAM_DATA + 1, k) * span);
            dx = (int)(fn_rng_uniform(seed, FN_STREAM_DATA + 1, k + 1) * span);
            if (dy > 2 * pad) dy = 2 * pad;
            if (dx > 2 * pad) dx = 2 * pad;
            flip = fn_rng_uniform(seed, FN_STREAM_DATA + 1, k + 2) < 0.5;
        }
        /* with pad == 0, dy = dx = 0 and no flip: the identity */
        fn_dataset_info eff = *in;
        eff.crop_pad = pad;
        write_image(&eff, rec + f->pixel_offset, dy, dx, flip, b.x + (size_t)i * img);
    }
    free(rec);
    fclose(fp);
    if (lf) fclose(lf);
    if (rc != 0) {
        batch_free(&b);
        return -1;
    }
    *out = b;
    return 0;
}

void batch_free(fn_batch *b) {
    if (!b) return;
    free(b->x);
    free(b->y);
    free(b->index);
    memset(b, 0, sizeof *b);
}
