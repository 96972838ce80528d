/* hnas/darts_pool.c: HNAS's DARTS candidate pool, its caches and the M / kappa of one genotype
 * (see hnas/darts_pool.h). */
#define _POSIX_C_SOURCE 200809L
#include "hnas/darts_pool.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/common.h"
#include "nn/rng.h"
#include "proxies/proxy.h"
#include "train/train_net.h"

#define ROWS (2 * DARTS_EDGES)
#define REC 32 /* bytes per genotype in the cache */
static const char MAGIC[8] = {'F', 'N', 'D', 'P', 'O', 'O', 'L', '1'};

void hnas_dpool_genotype(uint64_t seed, int width, long i, darts_genotype *gt) {
    FN_ASSERT(width == 7 || width == 8);
    double S[ROWS * DARTS_OPS];
    const uint64_t base = (uint64_t)i * ROWS * (uint64_t)width;
    for (int r = 0; r < ROWS; r++) {
        double v[DARTS_OPS], mx = -INFINITY, sum = 0;
        for (int o = 0; o < width; o++) {
            v[o] = fn_rng_normal(seed, HNAS_DPOOL_STREAM, base + (uint64_t)(r * width + o));
            if (v[o] > mx) mx = v[o];
        }
        for (int o = 0; o < width; o++) sum += (v[o] = exp(v[o] - mx));
        for (int o = 0; o < DARTS_OPS; o++)
            S[r * DARTS_OPS + o] = o < width ? v[o] / sum : -1.0; /* below any softmax value */
    }
    int bc, be, bo;
    if (darts_derive(S, gt, &bc, &be, &bo)) FN_FATAL("darts_derive refused a finite matrix");
}

static uint64_t fnv1a(const unsigned char *b, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

static void stem(const hnas_dpool *p, const char *dir, char *out, size_t len) {
    snprintf(out, len, "%s/pool_s%llu_n%ld_w%d", dir, (unsigned long long)p->seed, p->n,
             p->width);
}

static void alloc_pool(hnas_dpool *p, uint64_t seed, long n, int width) {
    p->seed = seed;
    p->n = n;
    p->width = width;
    p->gt = mallocCheck(sizeof(darts_genotype) * (size_t)n);
    p->M = mallocCheck(sizeof(double) * (size_t)n);
    p->kappa = mallocCheck(sizeof(double) * (size_t)n);
    for (long i = 0; i < n; i++) p->M[i] = p->kappa[i] = NAN;
    p->have = 0;
}

static void encode(const darts_genotype *g, unsigned char *b) {
    for (int c = 0; c < 2; c++)
        for (int k = 0; k < 2 * DARTS_STEPS; k++) {
            b[c * 16 + k] = (unsigned char)g->op[c][k];
            b[c * 16 + 8 + k] = (unsigned char)g->in[c][k];
        }
}

static int decode(const unsigned char *b, darts_genotype *g) {
    for (int c = 0; c < 2; c++)
        for (int k = 0; k < 2 * DARTS_STEPS; k++) {
            g->op[c][k] = b[c * 16 + k];
            g->in[c][k] = b[c * 16 + 8 + k];
            if (g->op[c][k] >= DARTS_OPS || g->in[c][k] > k / 2 + 1) return -1;
        }
    return 0;
}

/* 0 when the cache file holds exactly this pool */
static int read_cache(hnas_dpool *p, const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    const size_t body = 24 + (size_t)p->n * REC, total = body + 8;
    unsigned char *b = mallocCheck(total + 1);
    size_t got = fread(b, 1, total + 1, f);
    fclose(f);
    int ok = got == total && !memcmp(b, MAGIC, 8);
    uint64_t seed, sum;
    int32_t n, w;
    if (ok) {
        memcpy(&seed, b + 8, 8);
        memcpy(&n, b + 16, 4);
        memcpy(&w, b + 20, 4);
        memcpy(&sum, b + body, 8);
        ok = seed == p->seed && n == p->n && w == p->width && sum == fnv1a(b, body);
    }
    for (long i = 0; ok && i < p->n; i++) ok = !decode(b + 24 + (size_t)i * REC, &p->gt[i]);
    free(b);
    return ok ? 0 : -1;
}

static int write_cache(const hnas_dpool *p, const char *path, char *err, size_t errlen) {
    const size_t body = 24 + (size_t)p->n * REC;
    unsigned char *b = callocCheck(body + 8, 1);
    memcpy(b, MAGIC, 8);
    const int32_t n = (int32_t)p->n, w = p->width;
    memcpy(b + 8, &p->seed, 8);
    memcpy(b + 16, &n, 4);
    memcpy(b + 20, &w, 4);
    for (long i = 0; i < p->n; i++) encode(&p->gt[i], b + 24 + (size_t)i * REC);
    const uint64_t sum = fnv1a(b, body);
    memcpy(b + body, &sum, 8);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int rc = fd < 0 ? -1 : 0;
    for (size_t off = 0; !rc && off < body + 8;) {
        ssize_t k = write(fd, b + off, body + 8 - off);
        if (k <= 0) rc = -1;
        else off += (size_t)k;
    }
    if (!rc && fsync(fd)) rc = -1;
    if (fd >= 0 && close(fd)) rc = -1;
    if (!rc && rename(tmp, path)) rc = -1;
    if (rc) {
        snprintf(err, errlen, "cannot write the pool cache %s: %s", path, strerror(errno));
        unlink(tmp);
    }
    free(b);
    return rc;
}

int hnas_dpool_open(hnas_dpool *p, const char *dir, uint64_t seed, long n, int width,
                    int *built, char *err, size_t errlen) {
    memset(p, 0, sizeof *p);
    *built = 0;
    if (n < 1 || n > HNAS_DPOOL_MAX) {
        snprintf(err, errlen, "pool size %ld is out of range 1..%ld", n, HNAS_DPOOL_MAX);
        return -1;
    }
    if (width != 7 && width != 8) {
        snprintf(err, errlen, "pool width %d is neither 8 (all primitives) nor 7 (HNAS's "
                 "dil_conv_5x5 quirk)", width);
        return -1;
    }
    alloc_pool(p, seed, n, width);
    char path[4200];
    if (dir) {
        stem(p, dir, path, sizeof path - 8);
        strcat(path, ".bin");
        if (!read_cache(p, path)) return 0;
    }
    for (long i = 0; i < n; i++) hnas_dpool_genotype(seed, width, i, &p->gt[i]);
    *built = 1;
    if (dir && write_cache(p, path, err, errlen)) {
        hnas_dpool_free(p);
        return -1;
    }
    return 0;
}

void hnas_dpool_from(hnas_dpool *p, uint64_t seed, long n, int width, const darts_genotype *gt) {
    alloc_pool(p, seed, n, width);
    memcpy(p->gt, gt, sizeof(darts_genotype) * (size_t)n);
}

void hnas_dpool_free(hnas_dpool *p) {
    free(p->gt);
    free(p->M);
    free(p->kappa);
    memset(p, 0, sizeof *p);
}

void hnas_dpool_metrics_path(const hnas_dpool *p, const char *dir, int C, int layers, int batch,
                             int images, char *out, size_t len) {
    char s[4100];
    stem(p, dir, s, sizeof s);
    snprintf(out, len, "%s_C%d_L%d_b%d_m%d.tsv", s, C, layers, batch, images);
}

int hnas_dpool_metrics_load(hnas_dpool *p, const char *path, char *err, size_t errlen) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char line[256];
    long lineno = 0, good = 0; /* bytes up to the end of the last whole line */
    int rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t L = strlen(line);
        if (!L || line[L - 1] != '\n') break; /* torn last line */
        char *e1, *e2, *e3;
        long i = strtol(line, &e1, 10);
        double M = e1 != line && *e1 == '\t' ? strtod(e1 + 1, &e2) : NAN;
        double k = e1 != line && *e1 == '\t' && *e2 == '\t' ? strtod(e2 + 1, &e3) : NAN;
        if (e1 == line || *e1 != '\t' || *e2 != '\t' || *e3 != '\n' || i < 0) {
            snprintf(err, errlen, "%s:%ld: not an `index<TAB>M<TAB>kappa` line (delete the file "
                     "to recompute it)", path, lineno);
            rc = -1;
            break;
        }
        good += (long)L;
        if (i >= p->n || !isnan(p->M[i]) || !isnan(p->kappa[i])) continue;
        p->M[i] = M;
        p->kappa[i] = k;
        if (!isnan(M) || !isnan(k)) p->have++;
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    if (!rc && size > good && truncate(path, good)) {
        snprintf(err, errlen, "cannot cut the torn last line of %s: %s", path, strerror(errno));
        return -1;
    }
    return rc;
}

void hnas_dpool_metrics_write(FILE *f, long i, double M, double kappa) {
    fprintf(f, "%ld\t%.17g\t%.17g\n", i, M, kappa);
}

int hnas_dpool_batch(const train_data *d, int train0, int n_train, int batch, uint64_t seed,
                     float **x, int **y, char *err, size_t errlen) {
    if (batch < 1 || batch > n_train) {
        snprintf(err, errlen, "the M / kappa batch of %d images needs that many training "
                 "images (the split has %d)", batch, n_train);
        return -1;
    }
    int *perm = mallocCheck(sizeof(int) * (size_t)n_train);
    train_data_order(perm, n_train, seed ^ 0x4e544bull, 0, 1);
    const size_t img = (size_t)d->c * d->h * d->w;
    *x = mallocCheck(sizeof(float) * img * (size_t)batch);
    *y = mallocCheck(sizeof(int) * (size_t)batch);
    for (int b = 0; b < batch; b++) {
        const int rec = train0 + perm[b];
        train_data_sample(d, rec, *x + img * (size_t)b, 0, seed, 0, b, 0, 0, 0);
        (*y)[b] = d->y[rec];
    }
    free(perm);
    return 0;
}

int hnas_darts_ntk(const darts_genotype *gt, int C, int layers, int classes, int h, int w,
                   const float *x, const int *y, int n, uint64_t wseed, fn_dtype dt, double *M,
                   double *kappa, double *theta, char *err, size_t errlen) {
    train_net net;
    const train_darts_config tc = {C, layers, classes, h, w, n, 0, 0};
    if (train_darts_net_build(&net, gt, &tc, err, errlen)) return -1;
    fn_status st = proxy_ntk_graph(&net.g, dt, FN_BN_TRAIN, wseed, x, y, M, kappa, theta, err,
                                   errlen);
    train_net_free(&net);
    return st == FN_OK ? 0 : -1;
}

uint64_t hnas_dpool_weight_seed(uint64_t seed, long i) { return proxy_hnas_seed(seed, (int)i); }
uint64_t hnas_dpool_train_seed(uint64_t seed, long i) {
    return proxy_hnas_seed(seed ^ 0x7EA1ull, (int)i);
}
