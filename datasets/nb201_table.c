/* datasets/nb201_table.c: loads the NAS-Bench-201 ground-truth TSV (see datasets/nb201_table.h).
 *
 * Columns are found by their header names (any order, extra columns ignored); required:
 * index, arch, cifar10_valid, cifar10_test, cifar100_test, imagenet16_test. Values are parsed
 * with strtod, so `nan` is accepted; a number must be an accuracy in [0, 100] (%). Every
 * problem (missing column, wrong field count, bad or out-of-range number, index out of range,
 * duplicate index, and whatever the arch callback refuses) is reported as path:line: what was
 * wrong; a table that does not cover all 15,625 architectures (a truncated copy) is refused
 * with the first missing index. Only regular files are read (a FIFO or device is refused).
 * Rows are stored by official index. */
#include "datasets/nb201_table.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datasets/input_file.h"
#include "base/common.h"

enum { COL_INDEX, COL_ARCH, COL_C10_VALID, COL_C10_TEST, COL_C100_TEST, COL_IN16_TEST, NCOLS };
static const char *const col_names[NCOLS] = {"index",        "arch",          "cifar10_valid",
                                             "cifar10_test", "cifar100_test", "imagenet16_test"};

#define MAX_FIELDS 64

/* Strips a trailing "\n" / "\r\n". */
static void chomp(char *s) {
    size_t l = strlen(s);
    while (l > 0 && (s[l - 1] == '\n' || s[l - 1] == '\r')) s[--l] = '\0';
}

/* Splits s in place at tabs; returns the number of fields (at most max). */
static int split_tabs(char *s, char **fields, int max) {
    int n = 0;
    fields[n++] = s;
    for (char *p = s; *p; p++)
        if (*p == '\t') {
            *p = '\0';
            if (n == max) return max + 1;
            fields[n++] = p + 1;
        }
    return n;
}

static int parse_double(const char *s, double *v) {
    char *end;
    if (!*s) return -1;
    errno = 0;
    *v = strtod(s, &end);
    return (*end == '\0') ? 0 : -1;
}

/* Maps header fields to the required columns; returns 0 or -1 with err. */
static int parse_header(char *line, const char *path, int col_of[NCOLS], int *nfields,
                        char *err, size_t errlen) {
    char *fields[MAX_FIELDS];
    int nf = split_tabs(line, fields, MAX_FIELDS);
    if (nf > MAX_FIELDS) {
        snprintf(err, errlen, "%s:1: header has more than %d columns", path, MAX_FIELDS);
        return -1;
    }
    for (int c = 0; c < NCOLS; c++) col_of[c] = -1;
    for (int i = 0; i < nf; i++)
        for (int c = 0; c < NCOLS; c++)
            if (strcmp(fields[i], col_names[c]) == 0) {
                if (col_of[c] >= 0) {
                    snprintf(err, errlen, "%s:1: column '%s' appears twice in the header", path,
                             col_names[c]);
                    return -1;
                }
                col_of[c] = i;
            }
    for (int c = 0; c < NCOLS; c++)
        if (col_of[c] < 0) {
            snprintf(err, errlen,
                     "%s:1: header lacks the column '%s' (required: index, arch, "
                     "cifar10_valid, cifar10_test, cifar100_test, imagenet16_test)",
                     path, col_names[c]);
            return -1;
        }
    *nfields = nf;
    return 0;
}

/* Parses one data row into t; the arch column goes to arch_fn. */
static int parse_row(char *line, const char *path, long ln, const int col_of[NCOLS],
                     int nfields, nb201_table *t, nb201_table_arch_fn arch_fn, void *ctx,
                     char *err, size_t errlen) {
    char *fields[MAX_FIELDS];
    int nf = split_tabs(line, fields, MAX_FIELDS);
    if (nf != nfields) {
        snprintf(err, errlen, "%s:%ld: expected %d tab-separated fields (as the header), found %d",
                 path, ln, nfields, nf > MAX_FIELDS ? MAX_FIELDS + 1 : nf);
        return -1;
    }
    const char *s = fields[col_of[COL_INDEX]];
    char *end;
    errno = 0;
    long idx = strtol(s, &end, 10);
    if (!*s || *end != '\0' || errno != 0 || idx < 0 || idx >= NB201_NUM_ARCHS) {
        snprintf(err, errlen, "%s:%ld: index '%s' is not an integer in 0..%d", path, ln, s,
                 NB201_NUM_ARCHS - 1);
        return -1;
    }
    if (arch_fn && arch_fn(ctx, path, ln, (int)idx, fields[col_of[COL_ARCH]], err, errlen))
        return -1;
    if (t->by_index[idx].index >= 0) {
        snprintf(err, errlen, "%s:%ld: duplicate index %ld", path, ln, idx);
        return -1;
    }
    double v[4];
    for (int k = 0; k < 4; k++) {
        const char *f = fields[col_of[COL_C10_VALID + k]];
        if (parse_double(f, &v[k]) != 0) {
            snprintf(err, errlen, "%s:%ld: column %s: '%.40s' is not a number (or nan)", path,
                     ln, col_names[COL_C10_VALID + k], f);
            return -1;
        }
        if (!isnan(v[k]) && !(v[k] >= 0 && v[k] <= 100)) {
            snprintf(err, errlen, "%s:%ld: column %s: '%.40s' is not an accuracy in [0, 100] "
                     "(%%; nan for a missing one)", path, ln, col_names[COL_C10_VALID + k], f);
            return -1;
        }
    }
    nb201_record *r = &t->by_index[idx];
    r->index = (int)idx;
    r->cifar10_valid = v[0];
    r->cifar10_test = v[1];
    r->cifar100_test = v[2];
    r->imagenet16_test = v[3];
    t->count++;
    return 0;
}

int nb201_table_load(const char *path, nb201_table_arch_fn arch_fn, void *ctx,
                     nb201_table **out, char *err, size_t errlen) {
    *out = NULL;
    const char *kind = input_file_kind(path); /* a FIFO would block, a device never end */
    if (kind) {
        snprintf(err, errlen, "cannot read NB201 table '%s': not a regular file (%s)", path, kind);
        return -1;
    }
    FILE *fp = fopen(path, "r");
    if (!fp) {
        snprintf(err, errlen, "cannot open NB201 table '%s': %s", path, strerror(errno));
        return -1;
    }
    nb201_table *b = callocCheck(1, sizeof *b);
    for (int i = 0; i < NB201_NUM_ARCHS; i++) {
        b->by_index[i].index = -1;
        b->by_index[i].cifar10_valid = b->by_index[i].cifar10_test = NAN;
        b->by_index[i].cifar100_test = b->by_index[i].imagenet16_test = NAN;
    }
    char *line = NULL;
    size_t cap = 0;
    long ln = 0, blank = 0;
    int col_of[NCOLS], nfields = 0, rc = 0;
    while (getline(&line, &cap, fp) >= 0) {
        ln++;
        chomp(line);
        if (ln == 1) {
            if (parse_header(line, path, col_of, &nfields, err, errlen) != 0) {
                rc = -1;
                break;
            }
            continue;
        }
        if (!*line) { /* blank lines are tolerated only at the end of the file */
            if (!blank) blank = ln;
            continue;
        }
        if (blank) {
            snprintf(err, errlen, "%s:%ld: empty line inside the table", path, blank);
            rc = -1;
            break;
        }
        if (parse_row(line, path, ln, col_of, nfields, b, arch_fn, ctx, err, errlen) != 0) {
            rc = -1;
            break;
        }
    }
    if (rc == 0 && ferror(fp)) {
        snprintf(err, errlen, "%s: read error after line %ld", path, ln);
        rc = -1;
    }
    if (rc == 0 && ln == 0) {
        snprintf(err, errlen, "%s: empty file (expected a header line)", path);
        rc = -1;
    }
    if (rc == 0 && b->count == 0) {
        snprintf(err, errlen, "%s: no data rows after the header", path);
        rc = -1;
    }
    if (rc == 0 && b->count != NB201_NUM_ARCHS) {
        int missing = 0;
        while (b->by_index[missing].index >= 0) missing++;
        snprintf(err, errlen, "%s: %d of %d architectures, index %d is missing (hint: the table "
                 "covers the whole NB201 space; is the file truncated?)", path, b->count,
                 NB201_NUM_ARCHS, missing);
        rc = -1;
    }
    free(line);
    fclose(fp);
    if (rc != 0) {
        free(b);
        return -1;
    }
    *out = b;
    return 0;
}

void nb201_table_free(nb201_table *t) { free(t); }
