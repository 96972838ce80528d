/* hnas/table.h: per-architecture metric tables of the NB201 space (the M and kappa columns
 * HNAS's objective reads, docs/METHOD.md §4.2), and the NB201 ground-truth columns its search
 * queries (12-epoch accuracies and training times, 200-epoch accuracies).
 *
 * Metric table file (what `freenas hnas-table` writes; hnas/README.md): plain TSV, '#' lines
 * first (provenance: commit, command, seed, batch, dataset, machine, time), then the header
 * `index<TAB>name...`, then one row per architecture: its official NB201 index and each
 * metric as %.9g ("nan" for a failed one). Rows may come in any order and several files
 * (ranges computed by different processes or ranks) merge into one table; a cell present in
 * two files must agree to float32 rounding (1e-2 relative + 1e-3; other CPUs and commits sum
 * in other orders: hnas/table.c), the first file's value is kept. A table need not hold all
 * 15,625 architectures: the search
 * then draws its candidates among those it holds (hnas/search.h).
 *
 *   hnas_table *t;
 *   if (hnas_table_load(t = hnas_table_new(), "a.tsv", err, len) || ...) ...
 *   int m = hnas_table_col(t, "hnas_ntk_trace");  double v = hnas_table_get(t, 1462, m); */
#ifndef FN_HNAS_TABLE_H
#define FN_HNAS_TABLE_H

#include <stddef.h>
#include <stdio.h>

#define HNAS_MAX_COLS 24
#define HNAS_NUM_ARCHS 15625

typedef struct {
    int ncols;
    char col[HNAS_MAX_COLS][48];
    double *v;           /* [HNAS_NUM_ARCHS * HNAS_MAX_COLS], NaN where absent or failed */
    unsigned char *have; /* [HNAS_NUM_ARCHS]: a row for this index was read */
    unsigned char *cell; /* [HNAS_NUM_ARCHS * HNAS_MAX_COLS]: this column of that row was
                            read (merged tables need not share columns: a whole-space M and
                            kappa table beside a slice with more variants) */
    int nrows;           /* indices with a row */
    int nfiles;
    char first_provenance[512]; /* the first '#' line after the title of the first file */
} hnas_table;

hnas_table *hnas_table_new(void);
void hnas_table_free(hnas_table *t);
/* Adds the rows of one file (columns are matched by name; new names are added). 0, or -1 with
 * "FILE:LINE: message" (unreadable, no header, a bad number, an index outside 0..15624, a cell
 * that disagrees with an earlier file beyond float32 rounding). */
int hnas_table_load(hnas_table *t, const char *path, char *err, size_t errlen);
/* Column of `name`, or -1. */
int hnas_table_col(const hnas_table *t, const char *name);
/* Adds column `name` if absent; its index, or -1 when the table is full. */
int hnas_table_add_col(hnas_table *t, const char *name);
static inline double hnas_table_get(const hnas_table *t, int index, int col) {
    return t->v[(size_t)index * HNAS_MAX_COLS + col];
}
void hnas_table_set(hnas_table *t, int index, int col, double v);
/* 1 when a file gave column `col` of row `index` (a failed metric, "nan", counts as given) */
static inline int hnas_table_has(const hnas_table *t, int index, int col) {
    return col >= 0 && t->cell[(size_t)index * HNAS_MAX_COLS + col];
}
/* "a, b, c" of the columns, for messages */
const char *hnas_table_names(const hnas_table *t, char *buf, size_t len);

/* One named numeric column of an NB201 TSV with an `index` column (nb201_accuracy.tsv,
 * nb201_accuracy_extra.tsv) into out[HNAS_NUM_ARCHS] (NaN for missing rows). 0, or -1 with a
 * message naming the file and the columns it has. */
int hnas_tsv_column(const char *path, const char *col, double *out, char *err, size_t errlen);

#endif
