/* nasbench/nb201_benchmark.h: NAS-Bench-201 ground truth (../shared/data/nb201/nb201_accuracy.tsv)
 * keyed by architecture.
 *
 * The TSV is read by datasets/nb201_table.c (rows by official index); this layer parses each
 * row's arch string with the space's grammar (spaces/nb201.h), refusing unparsable and
 * duplicate architectures, and keys the rows by the 6 op indices of docs/METHOD.md §1.2/§1.5 (op
 * order none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3):
 * code = sum_e op[e] * 5^e. Lookups are O(1). */
#ifndef FN_NB201_BENCHMARK_H
#define FN_NB201_BENCHMARK_H

#include <stddef.h>

#include "datasets/nb201_table.h"

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
