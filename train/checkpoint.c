/* train/checkpoint.c: atomic checkpoint and records files (see train/checkpoint.h). */
#include "train/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/common.h"

#define MAGIC "FNTRCK01"

typedef struct { uint64_t h; } fnv;
static void fnv_add(fnv *f, const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) { f->h ^= b[i]; f->h *= 1099511628211ull; }
}

/* writes and hashes */
static int put(FILE *fp, fnv *f, const void *p, size_t n) {
    fnv_add(f, p, n);
    return fwrite(p, 1, n, fp) == n ? 0 : -1;
}
static int get(FILE *fp, fnv *f, void *p, size_t n) {
    if (fread(p, 1, n, fp) != n) return -1;
    fnv_add(f, p, n);
    return 0;
}

static void sync_dir(const char *dir) {
    int fd = open(dir, O_RDONLY);
    if (fd >= 0) { fsync(fd); close(fd); }
}

/* writes path.tmp with fn(fp, arg), syncs it and renames it over path */
static int atomic_write(const char *dir, const char *name, int (*fn)(FILE *, const void *),
                        const void *arg, char *err, size_t errlen) {
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *fp = fopen(tmp, "wb");
    if (!fp) {
        snprintf(err, errlen, "cannot write '%s': %s", tmp, strerror(errno));
        return -1;
    }
    int rc = fn(fp, arg);
    if (fflush(fp) != 0 || fsync(fileno(fp)) != 0) rc = -1;
    if (fclose(fp) != 0) rc = -1;
    if (rc || rename(tmp, path) != 0) {
        snprintf(err, errlen, "cannot write '%s': %s", path, strerror(errno ? errno : EIO));
        unlink(tmp);
        return -1;
    }
    sync_dir(dir);
    return 0;
}

typedef struct {
    const train_core *c;
    uint64_t key;
    int epochs_done;
    const train_record *rec;
} ckpt_arg;

static int put_record(FILE *fp, fnv *f, const train_record *r) {
    int32_t ep = r->epoch;
    double v[8] = {r->lr, r->drop_prob, r->train_loss, r->train_acc, r->valid_loss, r->valid_acc,
                   r->images_per_s, r->seconds};
    return put(fp, f, &ep, 4) || put(fp, f, v, sizeof v);
}

static int ckpt_body(FILE *fp, const void *arg) {
    const ckpt_arg *a = arg;
    const train_core *c = a->c;
    fnv f = {1469598103934665603ull};
    uint32_t ed = (uint32_t)a->epochs_done, mr = (uint32_t)c->mom_ready;
    uint64_t np = c->np, ns = c->ns;
    int rc = put(fp, &f, MAGIC, 8) || put(fp, &f, &a->key, 8) || put(fp, &f, &ed, 4) ||
             put(fp, &f, &mr, 4) || put(fp, &f, &np, 8) || put(fp, &f, &ns, 8) ||
             put(fp, &f, c->w, sizeof(double) * c->np) ||
             put(fp, &f, c->mom, sizeof(double) * c->np) ||
             put(fp, &f, c->run, sizeof(double) * c->ns) || put(fp, &f, &ed, 4);
    for (int i = 0; i < a->epochs_done && !rc; i++) rc = put_record(fp, &f, &a->rec[i]);
    uint64_t h = f.h;
    return rc || fwrite(&h, 8, 1, fp) != 1 ? -1 : 0;
}

int train_ckpt_write(const char *dir, const train_core *c, uint64_t key, int epochs_done,
                     const train_record *rec, char *err, size_t errlen) {
    ckpt_arg a = {c, key, epochs_done, rec};
    return atomic_write(dir, "checkpoint.bin", ckpt_body, &a, err, errlen);
}

int train_ckpt_read(const char *dir, train_core *c, uint64_t key, int max_epochs,
                    int *epochs_done, train_record *rec, char *err, size_t errlen) {
    char path[4096];
    snprintf(path, sizeof path, "%s/checkpoint.bin", dir);
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        if (errno == ENOENT) return 0;
        snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
        return -1;
    }
    fnv f = {1469598103934665603ull};
    char magic[8];
    uint64_t k, np, ns, h;
    uint32_t ed, mr, nr;
    double *w = mallocCheck(sizeof(double) * (c->np + 1)), *mom = mallocCheck(sizeof(double) * (c->np + 1));
    double *run = mallocCheck(sizeof(double) * (c->ns + 1));
    const char *why = NULL;
    if (get(fp, &f, magic, 8) || memcmp(magic, MAGIC, 8)) why = "not a freenas training checkpoint";
    else if (get(fp, &f, &k, 8) || get(fp, &f, &ed, 4) || get(fp, &f, &mr, 4) ||
             get(fp, &f, &np, 8) || get(fp, &f, &ns, 8)) why = "truncated header";
    else if (k != key || np != c->np || ns != c->ns)
        why = "written by a run of another recipe or network (remove it or use another "
              "output directory)";
    else if ((int)ed > max_epochs) why = "more epochs than the recipe has";
    else if (get(fp, &f, w, sizeof(double) * np) || get(fp, &f, mom, sizeof(double) * np) ||
             get(fp, &f, run, sizeof(double) * ns) || get(fp, &f, &nr, 4) || nr != ed)
        why = "truncated state";
    for (uint32_t i = 0; !why && i < nr; i++) {
        int32_t ep;
        double v[8];
        if (get(fp, &f, &ep, 4) || get(fp, &f, v, sizeof v)) { why = "truncated records"; break; }
        train_record r = {ep, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]};
        rec[i] = r;
    }
    if (!why && (fread(&h, 8, 1, fp) != 1 || h != f.h)) why = "checksum mismatch";
    fclose(fp);
    if (why) {
        snprintf(err, errlen, "checkpoint '%s': %s", path, why);
        free(w); free(mom); free(run);
        return -1;
    }
    memcpy(c->w, w, sizeof(double) * np);
    memcpy(c->mom, mom, sizeof(double) * np);
    memcpy(c->run, run, sizeof(double) * ns);
    c->mom_ready = (int)mr;
    *epochs_done = (int)ed;
    free(w); free(mom); free(run);
    return 1;
}

int train_record_json(const train_record *r, char *buf, size_t len) {
    return snprintf(buf, len,
                    "{\"epoch\": %d, \"lr\": %.10g, \"drop_prob\": %.6g, \"train_loss\": %.8g, "
                    "\"train_acc\": %.6g, \"valid_loss\": %.8g, \"valid_acc\": %.6g, "
                    "\"images_per_s\": %.1f, \"seconds\": %.3f}",
                    r->epoch, r->lr, r->drop_prob, r->train_loss, r->train_acc, r->valid_loss,
                    r->valid_acc, r->images_per_s, r->seconds);
}

typedef struct { const train_record *rec; int n; } rec_arg;
static int records_body(FILE *fp, const void *arg) {
    const rec_arg *a = arg;
    for (int i = 0; i < a->n; i++) {
        char line[512];
        train_record_json(&a->rec[i], line, sizeof line);
        if (fprintf(fp, "%s\n", line) < 0) return -1;
    }
    return 0;
}

int train_records_write(const char *dir, const train_record *rec, int n, char *err,
                        size_t errlen) {
    rec_arg a = {rec, n};
    return atomic_write(dir, "records.jsonl", records_body, &a, err, errlen);
}
