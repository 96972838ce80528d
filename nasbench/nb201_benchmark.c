/* nasbench/nb201_benchmark.c: the NAS-Bench-201 table keyed by architecture (see
 * nasbench/nb201_benchmark.h). datasets/nb201_table.c reads and checks the TSV; the arch
 * callback here parses each row's arch string (unparsable, out-of-range and duplicate
 * architectures are path:line errors, in file order with the table's own checks) and the
 * rows are then stored by arch code = nb201_arch_code(ops). */
#include "nasbench/nb201_benchmark.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "spaces/nb201.h"
#include "base/common.h"

typedef struct {
    int code_of[NB201_NUM_ARCHS]; /* official index -> code */
    long first_line[NB201_NUM_ARCHS]; /* code -> line it was seen at, 0: not yet */
} arch_keys;

static int key_arch(void *ctx, const char *path, long ln, int index, const char *arch,
                    char *err, size_t errlen) {
    arch_keys *k = ctx;
    int ops[NB201_EDGES];
    if (nb201_arch_parse(arch, ops) != 0) {
        snprintf(err, errlen,
                 "%s:%ld: bad architecture string '%s' (expected "
                 "|op~0|+|op~0|op~1|+|op~0|op~1|op~2|)",
                 path, ln, arch);
        return -1;
    }
    int code = nb201_arch_code(ops);
    if (code < 0 || code >= NB201_NUM_ARCHS) {
        snprintf(err, errlen, "%s:%ld: architecture '%s' encodes to %d, outside 0..%d", path, ln,
                 arch, code, NB201_NUM_ARCHS - 1);
        return -1;
    }
    if (k->first_line[code] > 0) {
        snprintf(err, errlen, "%s:%ld: duplicate arch '%s' (first seen at line %ld)", path, ln,
                 arch, k->first_line[code]);
        return -1;
    }
    k->first_line[code] = ln;
    k->code_of[index] = code;
    return 0;
}

int nb201_benchmark_load(const char *path, nb201_benchmark **out, char *err, size_t errlen) {
    *out = NULL;
    arch_keys *k = callocCheck(1, sizeof *k);
    nb201_table *t;
    if (nb201_table_load(path, key_arch, k, &t, err, errlen)) {
        free(k);
        return -1;
    }
    nb201_benchmark *b = callocCheck(1, sizeof *b);
    for (int c = 0; c < NB201_NUM_ARCHS; c++) b->by_code[c] = (nb201_record){-1, NAN, NAN, NAN, NAN};
    for (int i = 0; i < NB201_NUM_ARCHS; i++) { /* the table holds every index once */
        b->by_index[i] = k->code_of[i];
        b->by_code[k->code_of[i]] = t->by_index[i];
    }
    b->count = t->count;
    nb201_table_free(t);
    free(k);
    *out = b;
    return 0;
}

void nb201_benchmark_free(nb201_benchmark *b) { free(b); }

const nb201_record *nb201_benchmark_get(const nb201_benchmark *b, const int ops[6]) {
    if (!b || !ops) return NULL;
    for (int e = 0; e < NB201_EDGES; e++)
        if (ops[e] < 0 || ops[e] >= NB201_OPS) return NULL;
    int code = nb201_arch_code(ops);
    if (code < 0 || code >= NB201_NUM_ARCHS || b->by_code[code].index < 0) return NULL;
    return &b->by_code[code];
}
