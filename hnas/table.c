/* hnas/table.c: metric tables and ground-truth columns of the NB201 space (hnas/table.h). */
#include "hnas/table.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"

hnas_table *hnas_table_new(void) {
    hnas_table *t = callocCheck(1, sizeof *t);
    t->v = mallocCheck(sizeof(double) * HNAS_NUM_ARCHS * HNAS_MAX_COLS);
    for (size_t i = 0; i < (size_t)HNAS_NUM_ARCHS * HNAS_MAX_COLS; i++) t->v[i] = NAN;
    t->have = callocCheck(HNAS_NUM_ARCHS, 1);
    t->cell = callocCheck((size_t)HNAS_NUM_ARCHS * HNAS_MAX_COLS, 1);
    return t;
}

void hnas_table_free(hnas_table *t) {
    if (!t) return;
    free(t->v);
    free(t->have);
    free(t->cell);
    free(t);
}

int hnas_table_col(const hnas_table *t, const char *name) {
    for (int i = 0; i < t->ncols; i++)
        if (!strcmp(t->col[i], name)) return i;
    return -1;
}

int hnas_table_add_col(hnas_table *t, const char *name) {
    int c = hnas_table_col(t, name);
    if (c >= 0) return c;
    if (t->ncols == HNAS_MAX_COLS || strlen(name) >= sizeof t->col[0]) return -1;
    snprintf(t->col[t->ncols], sizeof t->col[0], "%s", name);
    return t->ncols++;
}

void hnas_table_set(hnas_table *t, int index, int col, double v) {
    FN_ASSERT(index >= 0 && index < HNAS_NUM_ARCHS && col >= 0 && col < t->ncols);
    t->v[(size_t)index * HNAS_MAX_COLS + col] = v;
    t->cell[(size_t)index * HNAS_MAX_COLS + col] = 1;
    if (!t->have[index]) t->nrows++;
    t->have[index] = 1;
}

const char *hnas_table_names(const hnas_table *t, char *buf, size_t len) {
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; i < t->ncols && n < len; i++)
        n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? ", " : "", t->col[i]);
    return buf;
}

/* One cell given by two files (a table split over processes, or extended later): the same
 * seed and settings computed on another CPU (OpenBLAS picks kernels, and so summation
 * orders, by CPU type) or by another commit of the engine agree to float32 rounding carried
 * through ~30 layers: up to 1.2e-3 relative measured (hnas_grasp, SkylakeX against Prescott
 * kernels; M and kappa up to 5e-4), and to 1e-4 absolute where a GraSP sum cancels to near
 * zero. Another seed or setting differs by far more. A condition number of 1e12 or more is
 * that of a network whose output ignores its input (lambda_min is rounding noise, the value
 * changes from CPU to CPU); two such agree when their signs do. The first file's value is
 * kept. */
#define HNAS_CELL_RTOL 1e-2
#define HNAS_CELL_ATOL 1e-3
static int cells_agree(double a, double b) {
    if (a == b) return 1;
    if (fabs(a) >= 1e12 && fabs(b) >= 1e12) return (a > 0) == (b > 0);
    return fabs(a - b) <= HNAS_CELL_ATOL + HNAS_CELL_RTOL * fmax(fabs(a), fabs(b));
}

/* splits line at tabs in place (the newline removed); returns the field count */
static int split_tabs(char *line, char **f, int max) {
    int n = 0;
    line[strcspn(line, "\r\n")] = '\0';
    for (char *p = line; n < max;) {
        f[n++] = p;
        char *tab = strchr(p, '\t');
        if (!tab) break;
        *tab = '\0';
        p = tab + 1;
    }
    return n;
}

static int parse_double(const char *s, double *v) {
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return *s && !*end && errno != ERANGE ? 0 : -1;
}

int hnas_table_load(hnas_table *t, const char *path, char *err, size_t errlen) {
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    char line[8192], *fld[HNAS_MAX_COLS + 2];
    int map[HNAS_MAX_COLS + 2], nf = 0, lineno = 0, rc = 0, comments = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (line[0] == '#') {
            if (t->nfiles == 0 && comments++ == 1 && !t->first_provenance[0]) {
                line[strcspn(line, "\r\n")] = '\0';
                snprintf(t->first_provenance, sizeof t->first_provenance, "%.500s", line + 1);
            }
            continue;
        }
        if (!nf) { /* header */
            nf = split_tabs(line, fld, HNAS_MAX_COLS + 2);
            if (strcmp(fld[0], "index") || nf < 2) {
                snprintf(err, errlen, "%s:%d: expected a header 'index<TAB>metric...'", path,
                         lineno);
                rc = -1;
                break;
            }
            for (int i = 1; i < nf; i++) {
                map[i] = !strcmp(fld[i], "arch") ? -2 : hnas_table_add_col(t, fld[i]);
                if (map[i] == -1) {
                    snprintf(err, errlen, "%s:%d: too many columns (at most %d)", path, lineno,
                             HNAS_MAX_COLS);
                    rc = -1;
                    break;
                }
            }
            if (rc) break;
            continue;
        }
        if (line[0] == '\n' || line[0] == '\0') continue;
        const int n = split_tabs(line, fld, HNAS_MAX_COLS + 2);
        double idx;
        if (n != nf || parse_double(fld[0], &idx) || idx != floor(idx) || idx < 0 ||
            idx >= HNAS_NUM_ARCHS) {
            snprintf(err, errlen, "%s:%d: expected %d tab-separated fields starting with an "
                     "index 0..%d", path, lineno, nf, HNAS_NUM_ARCHS - 1);
            rc = -1;
            break;
        }
        const int ix = (int)idx;
        for (int i = 1; i < n && !rc; i++) {
            if (map[i] < 0) continue;
            double v;
            if (parse_double(fld[i], &v)) {
                snprintf(err, errlen, "%s:%d: column %s: '%s' is not a number", path, lineno,
                         t->col[map[i]], fld[i]);
                rc = -1;
                break;
            }
            const double old = hnas_table_get(t, ix, map[i]);
            if (hnas_table_has(t, ix, map[i]) && !isnan(old) && !cells_agree(old, v)) {
                snprintf(err, errlen, "%s:%d: index %d, %s = %.9g disagrees with %.9g read "
                         "before (tables of different seeds or settings?)", path, lineno, ix,
                         t->col[map[i]], v, old);
                rc = -1;
                break;
            }
            hnas_table_set(t, ix, map[i], v);
        }
        if (rc) break;
        if (!t->have[ix]) { /* a row of an index only */
            t->have[ix] = 1;
            t->nrows++;
        }
    }
    if (!rc && !nf) {
        snprintf(err, errlen, "%s: no header line", path);
        rc = -1;
    }
    fclose(f);
    if (!rc) t->nfiles++;
    return rc;
}

int hnas_tsv_column(const char *path, const char *col, double *out, char *err, size_t errlen) {
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    for (int i = 0; i < HNAS_NUM_ARCHS; i++) out[i] = NAN;
    enum { MAXF = 64 };
    char line[8192], hdr[8192], *fld[MAXF];
    int ci = -1, nf = 0, lineno = 0, rc = 0;
    if (!fgets(hdr, sizeof hdr, f)) {
        snprintf(err, errlen, "%s: empty file", path);
        fclose(f);
        return -1;
    }
    lineno = 1;
    char names[4096];
    snprintf(names, sizeof names, "%.4000s", hdr);
    names[strcspn(names, "\r\n")] = '\0';
    nf = split_tabs(hdr, fld, MAXF);
    for (int i = 0; i < nf; i++)
        if (!strcmp(fld[i], col)) ci = i;
    if (strcmp(fld[0], "index") || ci < 0) {
        for (char *p = names; *p; p++)
            if (*p == '\t') *p = ' ';
        snprintf(err, errlen, "%s: no column '%s' (columns: %s)", path, col, names);
        fclose(f);
        return -1;
    }
    while (fgets(line, sizeof line, f)) {
        lineno++;
        const int n = split_tabs(line, fld, MAXF);
        double idx, v;
        if (n != nf || parse_double(fld[0], &idx) || idx < 0 || idx >= HNAS_NUM_ARCHS ||
            parse_double(fld[ci], &v)) {
            snprintf(err, errlen, "%s:%d: malformed row", path, lineno);
            rc = -1;
            break;
        }
        out[(int)idx] = v;
    }
    fclose(f);
    return rc;
}
