/* tests/test_dataset.c: checks datasets/dataset.c against the shared data files.
 *
 * Usage: test_dataset DATA_DIR (e.g. ../shared/data). Asserts on values: README labels,
 * normalised pixels recomputed here from the raw bytes, deterministic sampling, augmentation
 * reproducible from the raw bytes (some flip + shift), the ImageNet-224 header and labels,
 * and that broken files (truncated, empty, bad magic, mis-sized labels, label out of range,
 * missing) give -1 with a message naming the file. Returns 0 when every check passes. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "datasets/dataset.h"

#include "tests/test_util.h"

static const char *data_dir;
static char err[512];

static unsigned char *read_all(const char *path, long *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    *size = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *d = malloc((size_t)*size + 1);
    if (fread(d, 1, (size_t)*size, f) != (size_t)*size) *size = -1;
    fclose(f);
    return d;
}

static void data_path(char *out, size_t len, const char *rel) {
    snprintf(out, len, "%s/%s", data_dir, rel);
}

/* Normalised value of a raw byte, computed independently of dataset.c. */
static double norm(int byte, double mean255, double std255) {
    return (byte / 255.0 - mean255 / 255.0) / (std255 / 255.0);
}

static void test_info(void) {
    const fn_dataset_info *i = dataset_info("cifar10");
    CHECKF(i && i->classes == 10 && i->h == 32 && i->crop_pad == 4, "cifar10 info");
    i = dataset_info("cifar100");
    CHECKF(i && i->classes == 100 && i->crop_pad == 4, "cifar100 info");
    i = dataset_info("imagenet16-120");
    CHECKF(i && i->classes == 120 && i->h == 16 && i->w == 16 && i->crop_pad == 2, "in16 info");
    i = dataset_info("imagenet224");
    CHECKF(i && i->classes == 1000 && i->h == 224 && i->crop_pad == 0, "in224 info");
    CHECKF(i && fabs(i->mean[0] - 0.485) < 1e-12 && fabs(i->std[2] - 0.225) < 1e-12, "in224");
    CHECKF(dataset_info("mnist") == NULL, "unknown name");
    CHECKF(strstr(dataset_names(), "imagenet16-120") != NULL, "names: %s", dataset_names());
}

static void test_resolve_count(void) {
    char out[4096], p[4096];
    CHECKF(dataset_resolve("cifar10", data_dir, out, sizeof out, err, sizeof err) == 0, "%s", err);
    CHECKF(strstr(out, "cifar10/data_batch_1_head.bin") != NULL, "resolved %s", out);
    data_path(p, sizeof p, "cifar10");
    CHECKF(dataset_resolve("cifar10", p, out, sizeof out, err, sizeof err) == 0, "%s", err);
    CHECKF(strstr(out, "data_batch_1_head.bin") != NULL, "resolved %s", out);
    CHECKF(dataset_resolve("cifar100", data_dir, out, sizeof out, err, sizeof err) == 0, "%s", err);
    CHECKF(strstr(out, "cifar100/train_head.bin") != NULL, "resolved %s", out);
    CHECKF(dataset_resolve("imagenet224", data_dir, out, sizeof out, err, sizeof err) == 0, "%s",
          err);
    CHECKF(strstr(out, "imagenet224/images_u8_nchw.bin") != NULL, "resolved %s", out);
    struct { const char *name, *rel; long n; } cases[] = {
        {"cifar10", "cifar10/data_batch_1_head.bin", 1102},
        {"cifar10", "cifar10/test_batch_head.bin", 1017},
        {"cifar100", "cifar100/train_head.bin", 1117},
        {"cifar100", "cifar100/test_head.bin", 916},
        {"imagenet16-120", "imagenet16-120/imagenet16_120.bin", 120},
        {"imagenet224", "imagenet224/images_u8_nchw.bin", 256},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        data_path(p, sizeof p, cases[k].rel);
        long n = dataset_count(cases[k].name, p, err, sizeof err);
        CHECKF(n == cases[k].n, "%s: count %ld, expected %ld (%s)", cases[k].rel, n, cases[k].n,
              n < 0 ? err : "");
    }
}

/* First records in file order: README labels and pixels recomputed from raw bytes. */
static void test_first_records(void) {
    char p[4096];
    fn_batch b;
    long size;
    static const int test_labels[12] = {3, 8, 8, 0, 6, 6, 1, 6, 3, 1, 0, 9};
    static const int train_labels[10] = {6, 9, 9, 4, 1, 1, 2, 7, 8, 3}; /* official batch 1 */
    data_path(p, sizeof p, "cifar10/test_batch_head.bin");
    int rc = dataset_load_batch("cifar10", p, 12, UINT64_MAX, 0, &b, err, sizeof err);
    CHECKF(rc == 0, "%s", err);
    unsigned char *raw = read_all(p, &size);
    CHECKF(raw && size == 1017L * 3073, "raw read");
    if (rc == 0 && raw) {
        CHECKF(b.n == 12 && b.c == 3 && b.h == 32 && b.w == 32 && b.classes == 10, "shape");
        static const double m[3] = {125.3, 123.0, 113.9}, s[3] = {63.0, 62.1, 66.7};
        double maxerr = 0;
        for (int i = 0; i < 12; i++) {
            CHECKF(b.y[i] == test_labels[i], "test label %d: %d != %d", i, b.y[i], test_labels[i]);
            CHECKF(b.index[i] == i, "index %d = %d", i, b.index[i]);
            for (int c = 0; c < 3; c++)
                for (int q = 0; q < 1024; q++) {
                    double want = norm(raw[(long)i * 3073 + 1 + c * 1024 + q], m[c], s[c]);
                    double d = fabs(b.x[((size_t)i * 3 + c) * 1024 + q] - want);
                    if (d > maxerr) maxerr = d;
                }
        }
        CHECKF(maxerr < 1e-5, "max pixel error %g", maxerr);
        /* one pixel spelled out: record 0, red (0,0) is byte 158 -> (158/255-0.4914)/0.2471 */
        CHECKF(raw[1] == 158, "raw byte %d", raw[1]);
        CHECKF(fabs(b.x[0] - (158 / 255.0 - 125.3 / 255) / (63.0 / 255)) < 1e-6, "x0 %f", b.x[0]);
    }
    free(raw);
    batch_free(&b);

    rc = dataset_load_batch("cifar10", data_dir, 10, UINT64_MAX, 0, &b, err, sizeof err);
    CHECKF(rc == 0, "%s", err);
    for (int i = 0; rc == 0 && i < 10; i++)
        CHECKF(b.y[i] == train_labels[i], "train label %d: %d", i, b.y[i]);
    batch_free(&b);

    static const int c100_fine[10] = {49, 33, 72, 51, 71, 92, 15, 14, 23, 0};
    data_path(p, sizeof p, "cifar100/test_head.bin");
    rc = dataset_load_batch("cifar100", p, 10, UINT64_MAX, 0, &b, err, sizeof err);
    CHECKF(rc == 0, "%s", err);
    raw = read_all(p, &size);
    for (int i = 0; rc == 0 && raw && i < 10; i++) {
        CHECKF(b.y[i] == c100_fine[i], "cifar100 fine label %d: %d", i, b.y[i]);
        int byte = raw[(long)i * 3074 + 2 + 2 * 1024 + 5 * 32 + 7]; /* blue (5,7) */
        double want = norm(byte, 112.4, 70.4);
        CHECKF(fabs(b.x[((size_t)i * 3 + 2) * 1024 + 5 * 32 + 7] - want) < 1e-5, "c100 px %d", i);
    }
    free(raw);
    batch_free(&b);

    data_path(p, sizeof p, "imagenet16-120");
    rc = dataset_load_batch("imagenet16-120", p, 120, UINT64_MAX, 0, &b, err, sizeof err);
    CHECKF(rc == 0, "%s", err);
    for (int i = 0; rc == 0 && i < 120; i++) CHECKF(b.y[i] == i, "in16 label %d: %d", i, b.y[i]);
    data_path(p, sizeof p, "imagenet16-120/imagenet16_120.bin");
    raw = read_all(p, &size);
    if (rc == 0 && raw) {
        int byte = raw[77L * 769 + 1 + 1 * 256 + 9 * 16 + 3]; /* record 77, green (9,3) */
        double want = norm(byte, 116.66, 61.26);
        CHECKF(fabs(b.x[((size_t)77 * 3 + 1) * 256 + 9 * 16 + 3] - want) < 1e-5, "in16 px");
    }
    free(raw);
    batch_free(&b);
}

static void test_imagenet224(void) {
    char p[4096], lp[4096];
    data_path(p, sizeof p, "imagenet224/images_u8_nchw.bin");
    data_path(lp, sizeof lp, "imagenet224/labels_u16.bin");
    FILE *f = fopen(p, "rb");
    unsigned char h[32];
    CHECKF(f && fread(h, 1, 32, f) == 32, "header read");
    if (f) fclose(f);
    CHECKF(memcmp(h, "IMGU8CHW", 8) == 0, "magic");
    uint32_t hv[4];
    for (int k = 0; k < 4; k++)
        hv[k] = h[8 + 4 * k] | h[9 + 4 * k] << 8 | h[10 + 4 * k] << 16 | (uint32_t)h[11 + 4 * k] << 24;
    CHECKF(hv[0] == 256 && hv[1] == 3 && hv[2] == 224 && hv[3] == 224, "header %u %u %u %u",
          hv[0], hv[1], hv[2], hv[3]);
    long lsize;
    unsigned char *lab = read_all(lp, &lsize);
    CHECKF(lab && lsize == 512, "labels size");
    for (int r = 0; lab && r < 256; r++)
        CHECKF((lab[2 * r] | lab[2 * r + 1] << 8) == r * 1000 / 256, "label file record %d", r);
    free(lab);

    fn_batch b;
    int rc = dataset_load_batch("imagenet224", data_dir, 256, 11, 0, &b, err, sizeof err);
    CHECKF(rc == 0, "%s", err);
    if (rc == 0) {
        int seen[256] = {0};
        for (int i = 0; i < 256; i++) {
            CHECKF(b.index[i] >= 0 && b.index[i] < 256 && !seen[b.index[i]]++, "perm %d", i);
            CHECKF(b.y[i] == b.index[i] * 1000 / 256, "record %d label %d", b.index[i], b.y[i]);
        }
        /* pixels of sample 3 recomputed from the raw file */
        f = fopen(p, "rb");
        long r = b.index[3], off = 32 + r * 3L * 224 * 224;
        unsigned char *img = malloc(3 * 224 * 224);
        CHECKF(f && fseek(f, off, SEEK_SET) == 0 && fread(img, 1, 3 * 224 * 224, f) == 3 * 224 * 224,
              "raw image");
        if (f) fclose(f);
        static const double m[3] = {0.485, 0.456, 0.406}, s[3] = {0.229, 0.224, 0.225};
        double maxerr = 0;
        for (int c = 0; c < 3; c++)
            for (int q = 0; q < 224 * 224; q++) {
                double want = (img[c * 224 * 224 + q] / 255.0 - m[c]) / s[c];
                double d = fabs(b.x[((size_t)3 * 3 + c) * 224 * 224 + q] - want);
                if (d > maxerr) maxerr = d;
            }
        CHECKF(maxerr < 1e-5, "in224 max pixel error %g", maxerr);
        free(img);
    }
    batch_free(&b);
    /* no augmentation at 224: augment=1 gives the same batch */
    fn_batch a, c;
    int r1 = dataset_load_batch("imagenet224", data_dir, 3, 5, 0, &a, err, sizeof err);
    int r2 = dataset_load_batch("imagenet224", data_dir, 3, 5, 1, &c, err, sizeof err);
    CHECKF(r1 == 0 && r2 == 0 && memcmp(a.x, c.x, 3 * 3 * 224 * 224 * sizeof(float)) == 0,
          "in224 augment must be the identity");
    batch_free(&a);
    batch_free(&c);
}

static int same_batch(const fn_batch *a, const fn_batch *b) {
    size_t img = (size_t)a->c * a->h * a->w;
    return a->n == b->n && memcmp(a->x, b->x, a->n * img * sizeof(float)) == 0 &&
           memcmp(a->y, b->y, a->n * sizeof(int)) == 0 &&
           memcmp(a->index, b->index, a->n * sizeof(int)) == 0;
}

static void test_determinism(void) {
    fn_batch a, b, c;
    int r1 = dataset_load_batch("cifar10", data_dir, 64, 42, 0, &a, err, sizeof err);
    int r2 = dataset_load_batch("cifar10", data_dir, 64, 42, 0, &b, err, sizeof err);
    int r3 = dataset_load_batch("cifar10", data_dir, 64, 43, 0, &c, err, sizeof err);
    CHECKF(r1 == 0 && r2 == 0 && r3 == 0, "%s", err);
    if (r1 == 0 && r2 == 0 && r3 == 0) {
        CHECKF(same_batch(&a, &b), "same seed must give the same batch");
        CHECKF(memcmp(a.index, c.index, 64 * sizeof(int)) != 0, "seeds 42/43 give same indices");
        int seen[1102] = {0}, dup = 0, inorder = 1;
        for (int i = 0; i < 64; i++) {
            CHECKF(a.index[i] >= 0 && a.index[i] < 1102, "index %d", a.index[i]);
            if (a.index[i] >= 0 && a.index[i] < 1102 && seen[a.index[i]]++) dup = 1;
            if (a.index[i] != i) inorder = 0;
            CHECKF(a.y[i] >= 0 && a.y[i] < 10, "label %d", a.y[i]);
        }
        CHECKF(!dup, "indices must be distinct");
        CHECKF(!inorder, "seeded batch must be shuffled");
    }
    batch_free(&a);
    batch_free(&b);
    batch_free(&c);
    /* n = all records: a permutation */
    int rc = dataset_load_batch("cifar100", data_dir, 1117, 9, 0, &a, err, sizeof err);
    CHECKF(rc == 0, "%s", err);
    if (rc == 0) {
        static int seen[1117];
        int ok = 1;
        for (int i = 0; i < 1117; i++) {
            if (seen[a.index[i]]++) ok = 0;
            if (a.y[i] < 0 || a.y[i] >= 100) ok = 0;
        }
        CHECKF(ok, "full cifar100 draw is not a permutation with labels in 0..99");
    }
    batch_free(&a);
}

/* Augmented samples must equal flip-then-crop of the raw image for some (dy, dx, flip). */
static void check_augment(const char *name, const char *rel, int rec_bytes, int lab_bytes,
                          int hw, int pad, const double *m, const double *s, int n) {
    char p[4096];
    data_path(p, sizeof p, rel);
    fn_batch a, plain;
    int r1 = dataset_load_batch(name, p, n, 1234, 1, &a, err, sizeof err);
    int r2 = dataset_load_batch(name, p, n, 1234, 0, &plain, err, sizeof err);
    CHECKF(r1 == 0 && r2 == 0, "%s", err);
    long size;
    unsigned char *raw = read_all(p, &size);
    if (r1 == 0 && r2 == 0 && raw) {
        CHECKF(a.n == n && a.c == 3 && a.h == hw && a.w == hw, "%s augmented shape", name);
        CHECKF(memcmp(a.index, plain.index, n * sizeof(int)) == 0, "%s: same records", name);
        CHECKF(memcmp(a.y, plain.y, n * sizeof(int)) == 0, "%s: same labels", name);
        int flips = 0, shifted = 0, matched = 0;
        for (int i = 0; i < n; i++) {
            const unsigned char *px = raw + (long)a.index[i] * rec_bytes + lab_bytes;
            const float *x = a.x + (size_t)i * 3 * hw * hw;
            int found = 0;
            for (int flip = 0; flip < 2 && !found; flip++)
                for (int dy = 0; dy <= 2 * pad && !found; dy++)
                    for (int dx = 0; dx <= 2 * pad && !found; dx++) {
                        int ok = 1;
                        for (int c = 0; c < 3 && ok; c++)
                            for (int y = 0; y < hw && ok; y++)
                                for (int xx = 0; xx < hw && ok; xx++) {
                                    int sy = y + dy - pad, fx = xx + dx - pad;
                                    int v = 0; /* zero padding before normalisation */
                                    if (sy >= 0 && sy < hw && fx >= 0 && fx < hw)
                                        v = px[c * hw * hw + sy * hw + (flip ? hw - 1 - fx : fx)];
                                    double want = norm(v, m[c], s[c]);
                                    if (fabs(x[(c * hw + y) * hw + xx] - want) > 1e-5) ok = 0;
                                }
                        if (ok) {
                            found = 1;
                            flips += flip;
                            shifted += (dy != pad || dx != pad);
                        }
                    }
            matched += found;
            CHECKF(found, "%s sample %d (record %d) matches no flip/crop of the raw bytes", name,
                  i, a.index[i]);
        }
        CHECKF(matched == n && flips > 0 && flips < n, "%s: %d of %d flipped", name, flips, n);
        CHECKF(shifted > n / 2, "%s: only %d of %d shifted", name, shifted, n);
        fn_batch a2;
        if (dataset_load_batch(name, p, n, 1234, 1, &a2, err, sizeof err) == 0) {
            CHECKF(same_batch(&a, &a2), "%s: augmentation must be deterministic", name);
            batch_free(&a2);
        }
    }
    free(raw);
    batch_free(&a);
    batch_free(&plain);
}

static void test_augment(void) {
    static const double m10[3] = {125.3, 123.0, 113.9}, s10[3] = {63.0, 62.1, 66.7};
    static const double m16[3] = {122.68, 116.66, 104.01}, s16[3] = {63.22, 61.26, 65.09};
    check_augment("cifar10", "cifar10/data_batch_1_head.bin", 3073, 1, 32, 4, m10, s10, 32);
    check_augment("imagenet16-120", "imagenet16-120/imagenet16_120.bin", 769, 1, 16, 2, m16, s16,
                  40);
}

/* Writes `len` bytes to a new temporary file; returns its path in `path`. */
static int write_tmp(char *path, const void *data, size_t len) {
    strcpy(path, "/tmp/fn_dataset_test_XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0) return -1;
    int ok = len == 0 || write(fd, data, len) == (ssize_t)len;
    close(fd);
    return ok ? 0 : -1;
}

#define EXPECT_ERR(call, needle1, needle2)                                                     \
    do {                                                                                       \
        err[0] = '\0';                                                                         \
        long r_ = (long)(call);                                                                \
        CHECKF(r_ == -1, "expected -1 from %s, got %ld", #call, r_);                            \
        CHECKF(strstr(err, needle1) && strstr(err, needle2), "message '%s' lacks '%s'/'%s'", err, \
              needle1, needle2);                                                               \
        printf("  expected error: %s\n", err);                                                 \
    } while (0)

static void test_errors(void) {
    char p[64], p2[64], dir[64], img[128], lab[128];
    fn_batch b;
    unsigned char *buf = calloc(1, 3 * 224 * 224 + 64);
    /* truncated: 2 records + 5 bytes */
    write_tmp(p, buf, 2 * 3073 + 5);
    EXPECT_ERR(dataset_count("cifar10", p, err, sizeof err), p, "3073-byte record");
    EXPECT_ERR(dataset_load_batch("cifar10", p, 1, 0, 0, &b, err, sizeof err), p, "truncated");
    CHECKF(b.x == NULL && b.n == 0, "failed load leaves an empty batch");
    unlink(p);
    /* empty */
    write_tmp(p, buf, 0);
    EXPECT_ERR(dataset_load_batch("cifar100", p, 1, 0, 0, &b, err, sizeof err), p, "empty");
    EXPECT_ERR(dataset_count("imagenet224", p, err, sizeof err), p, "empty");
    unlink(p);
    /* label out of range: one CIFAR-10 record with label 10 */
    buf[0] = 10;
    write_tmp(p, buf, 3073);
    EXPECT_ERR(dataset_load_batch("cifar10", p, 1, UINT64_MAX, 0, &b, err, sizeof err), p,
               "label 10");
    buf[0] = 0;
    /* n larger than the file */
    EXPECT_ERR(dataset_load_batch("cifar10", p, 2, 0, 0, &b, err, sizeof err), p, "only 1");
    EXPECT_ERR(dataset_load_batch("cifar10", p, 0, 0, 0, &b, err, sizeof err), p, "positive");
    unlink(p);
    /* bad magic */
    memcpy(buf, "BADMAGIC", 8);
    buf[8] = 1, buf[12] = 3, buf[16] = 224, buf[20] = 224;
    write_tmp(p2, buf, 32 + 3 * 224 * 224);
    EXPECT_ERR(dataset_count("imagenet224", p2, err, sizeof err), p2, "magic");
    unlink(p2);
    /* header/size mismatch, labels file checks: a directory with both files */
    strcpy(dir, "/tmp/fn_dataset_dir_XXXXXX");
    CHECKF(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(img, sizeof img, "%s/images_u8_nchw.bin", dir);
    snprintf(lab, sizeof lab, "%s/labels_u16.bin", dir);
    EXPECT_ERR(dataset_load_batch("imagenet224", dir, 1, 0, 0, &b, err, sizeof err), dir,
               "images_u8_nchw.bin");
    memcpy(buf, "IMGU8CHW", 8);
    buf[8] = 2; /* N = 2 but only one image follows */
    FILE *f = fopen(img, "wb");
    fwrite(buf, 1, 32 + 3 * 224 * 224, f);
    fclose(f);
    EXPECT_ERR(dataset_count("imagenet224", img, err, sizeof err), img, "N=2");
    buf[8] = 1;
    f = fopen(img, "wb");
    fwrite(buf, 1, 32 + 3 * 224 * 224, f);
    fclose(f);
    EXPECT_ERR(dataset_count("imagenet224", img, err, sizeof err), "labels_u16.bin", "open");
    unsigned char l4[4] = {5, 0, 0, 0};
    f = fopen(lab, "wb");
    fwrite(l4, 1, 4, f);
    fclose(f);
    EXPECT_ERR(dataset_count("imagenet224", img, err, sizeof err), lab, "expected 2");
    unsigned char lbad[2] = {0xE8, 0x03}; /* 1000 */
    f = fopen(lab, "wb");
    fwrite(lbad, 1, 2, f);
    fclose(f);
    EXPECT_ERR(dataset_load_batch("imagenet224", dir, 1, 0, 0, &b, err, sizeof err), lab,
               "label 1000");
    f = fopen(lab, "wb");
    fwrite(l4, 1, 2, f);
    fclose(f);
    int rc = dataset_load_batch("imagenet224", dir, 1, 0, 1, &b, err, sizeof err);
    CHECKF(rc == 0 && b.y[0] == 5 && b.index[0] == 0, "tiny in224 file: %s", err);
    CHECKF(rc == 0 && fabs(b.x[0] - (0 - 0.485) / 0.229) < 1e-6, "zero pixel normalised");
    batch_free(&b);
    unlink(img);
    unlink(lab);
    rmdir(dir);
    /* missing file / directory without data / unknown dataset */
    EXPECT_ERR(dataset_load_batch("cifar10", "/tmp/fn_no_such_dir/x.bin", 1, 0, 0, &b, err,
                                  sizeof err),
               "/tmp/fn_no_such_dir/x.bin", "not found");
    strcpy(dir, "/tmp/fn_dataset_dir_XXXXXX");
    CHECKF(mkdtemp(dir) != NULL, "mkdtemp");
    EXPECT_ERR(dataset_resolve("cifar10", dir, img, sizeof img, err, sizeof err), dir,
               "cifar-10-batches-bin/data_batch_1.bin");
    rmdir(dir);
    EXPECT_ERR(dataset_load_batch("svhn", data_dir, 1, 0, 0, &b, err, sizeof err), "svhn",
               "cifar10");
    char big[4096];
    data_path(big, sizeof big, "cifar10/test_batch_head.bin");
    EXPECT_ERR(dataset_load_batch("cifar10", big, 2000, 1, 0, &b, err, sizeof err), big, "1017");
    free(buf);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s DATA_DIR (e.g. ../shared/data)\n", argv[0]);
        return 2;
    }
    data_dir = argv[1];
    test_info();
    test_resolve_count();
    test_first_records();
    test_imagenet224();
    test_determinism();
    test_augment();
    test_errors();
    return test_summary("test_dataset");
}
