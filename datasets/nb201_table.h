/* datasets/nb201_table.h: the NAS-Bench-201 ground-truth table as data
 * (../shared/data/nb201/nb201_accuracy.tsv): one row of accuracies per official index.
 *
 * Reads the TSV (header: index arch cifar10_valid cifar10_test cifar100_test imagenet16_test;
 * `nan` allowed) into 15,625 rows by official index. The reader knows no architecture grammar:
 * the `arch` column is handed, row by row, to an optional callback (nasbench/nb201_benchmark.c
 * parses it into ops and keys the table by them); without one it is not looked at. This is
 * the layer analysis/ may read the table through (docs/ARCHITECTURE.md): data, no search
 * space, no proxy. */
#ifndef FN_NB201_TABLE_H
#define FN_NB201_TABLE_H

#include <stddef.h>

#define NB201_NUM_ARCHS 15625

typedef struct {
    int index; /* official NB201 index, -1 if absent */
    double cifar10_valid, cifar10_test, cifar100_test, imagenet16_test;
} nb201_record;

typedef struct {
    nb201_record by_index[NB201_NUM_ARCHS];
    int count;
} nb201_table;

/* Called for each data row, in file order, after its index is read and before its
 * accuracies are: 0, or -1 with the whole message ("PATH:LINE: ...") in err, which ends the
 * load with that message. */
typedef int (*nb201_table_arch_fn)(void *ctx, const char *path, long line, int index,
                                   const char *arch, char *err, size_t errlen);

/* Returns 0, or -1 with a message (file:line and what was wrong) in err. Every index
 * 0..15624 must appear once. Heap-allocates *out. arch_fn may be NULL. */
int nb201_table_load(const char *path, nb201_table_arch_fn arch_fn, void *ctx,
                     nb201_table **out, char *err, size_t errlen);
void nb201_table_free(nb201_table *t);

#endif
