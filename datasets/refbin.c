/* datasets/refbin.c: reference-tensor container reader (see datasets/refbin.h). */
#include "datasets/refbin.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"

int refbin_load(const char *path, fn_ref_file *out, char *err, size_t errlen) {
    memset(out, 0, sizeof(*out));
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open reference file", path);
        return -1;
    }
    char magic[8];
    uint32_t count;
    if (fread(magic, 1, 8, f) != 8 || memcmp(magic, "FNREF001", 8) != 0 ||
        fread(&count, 4, 1, f) != 1) {
        snprintf(err, errlen, "%s: not a FNREF001 file", path);
        fclose(f);
        return -1;
    }
    /* sizes come from the file: each is checked against the bytes left before allocating */
    long long left = -1;
    if (fseek(f, 0, SEEK_END) == 0) {
        long end = ftell(f);
        if (end >= 12 && fseek(f, 12, SEEK_SET) == 0) left = end - 12;
    }
    if (left < 0 || count > left / 88) { /* a record header is 64 + 6 * 4 bytes */
        snprintf(err, errlen, "%s: %u records cannot fit in the file", path, count);
        fclose(f);
        return -1;
    }
    out->t = callocCheck(count, sizeof(fn_ref_tensor));
    for (uint32_t i = 0; i < count; i++) {
        fn_ref_tensor *t = &out->t[i];
        uint32_t hdr[6];
        if (fread(t->name, 1, 64, f) != 64 || fread(hdr, 4, 6, f) != 6) {
            snprintf(err, errlen, "%s: truncated header of record %u", path, i);
            goto fail;
        }
        t->name[63] = '\0';
        t->dtype = (int)hdr[0];
        t->ndim = (int)hdr[1];
        left -= 88;
        t->numel = 1;
        int too_big = 0;
        for (int d = 0; d < 4; d++) {
            t->dims[d] = (int)hdr[2 + d];
            if (hdr[2 + d] > INT32_MAX || (hdr[2 + d] && t->numel > (size_t)left / hdr[2 + d]))
                too_big = 1;
            else t->numel *= hdr[2 + d];
        }
        if (t->dtype < 0 || t->dtype > 2) {
            snprintf(err, errlen, "%s: record '%s' has unknown dtype %d", path, t->name, t->dtype);
            goto fail;
        }
        size_t es = t->dtype == 1 ? 8 : 4;
        if (too_big || t->numel > (size_t)left / es) {
            snprintf(err, errlen, "%s: truncated data of record '%s' (dims %u x %u x %u x %u)",
                     path, t->name, hdr[2], hdr[3], hdr[4], hdr[5]);
            goto fail;
        }
        left -= (long long)(es * t->numel);
        t->data = mallocCheck(sizeof(double) * t->numel);
        out->count = (int)i + 1;
        unsigned char *buf = mallocCheck(es * t->numel);
        if (fread(buf, es, t->numel, f) != t->numel) {
            free(buf);
            snprintf(err, errlen, "%s: truncated data of record '%s'", path, t->name);
            goto fail;
        }
        for (size_t j = 0; j < t->numel; j++) {
            if (t->dtype == 0) { float v; memcpy(&v, buf + 4 * j, 4); t->data[j] = v; }
            else if (t->dtype == 1) { double v; memcpy(&v, buf + 8 * j, 8); t->data[j] = v; }
            else { int32_t v; memcpy(&v, buf + 4 * j, 4); t->data[j] = v; }
        }
        free(buf);
    }
    fclose(f);
    return 0;
fail:
    fclose(f);
    refbin_free(out);
    return -1;
}

void refbin_free(fn_ref_file *f) {
    for (int i = 0; i < f->count; i++) free(f->t[i].data);
    free(f->t);
    memset(f, 0, sizeof(*f));
}

const fn_ref_tensor *refbin_get(const fn_ref_file *f, const char *name) {
    for (int i = 0; i < f->count; i++)
        if (strcmp(f->t[i].name, name) == 0) return &f->t[i];
    return NULL;
}
