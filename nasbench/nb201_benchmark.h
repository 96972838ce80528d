/* nasbench/nb201_benchmark.h: NAS-Bench-201 ground truth (../shared/data/nb201/nb201_accuracy.tsv).
 *
 * Reads the TSV (header: index arch cifar10_valid cifar10_test cifar100_test imagenet16_test;
 * `nan` allowed) into a table of 15,625 rows keyed by architecture, encoded as the 6 op
 * indices of METHOD.md §1.2/§1.5 (op order none, skip_connect, nor_conv_1x1, nor_conv_3x3,
 * avg_pool_3x3): code = sum_e op[e] * 5^e. Lookups are O(1). */
#ifndef FN_NB201_BENCHMARK_H
#define FN_NB201_BENCHMARK_H

#include <stddef.h>

#define NB201_NUM_ARCHS 15625

typedef struct {
    int index; /* official NB201 index, -1 if this code was not in the file */
    double cifar10_valid, cifar10_test, cifar100_test, imagenet16_test;
} nb201_record;

typedef struct {
    nb201_record by_code[NB201_NUM_ARCHS];
    int by_index[NB201_NUM_ARCHS]; /* official index -> code */
    int count;
} nb201_benchmark;

/* Returns 0, or -1 with a message (file:line and what was wrong) in err. Heap-allocates *out. */
int nb201_benchmark_load(const char *path, nb201_benchmark **out, char *err, size_t errlen);
void nb201_benchmark_free(nb201_benchmark *b);
/* NULL if the code is absent. */
const nb201_record *nb201_benchmark_get(const nb201_benchmark *b, const int ops[6]);

#endif
