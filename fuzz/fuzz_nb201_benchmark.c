/* fuzz/fuzz_nb201_benchmark.c: libFuzzer harness for the NAS-Bench-201 ground-truth TSV
 * (datasets/nb201_table.c read through nasbench/nb201_benchmark.c: nb201_benchmark_load;
 * header index, arch, cifar10_valid, cifar10_test, cifar100_test, imagenet16_test, in any
 * order). The input is the file; a table that loads is looked up by the code of every
 * architecture it holds.
 *
 *   bash scripts/fuzz.sh nb201_benchmark 600
 *   build/bin/replay_fuzz_nb201_benchmark fuzz/corpus/nb201_benchmark */
#include <stdlib.h>

#include "fuzz/fuzz_util.h"
#include "spaces/nb201.h"
#include "nasbench/nb201_benchmark.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[1024], err[1024];
    fuzz_write("nb201_accuracy.tsv", data, size, path, sizeof path);
    nb201_benchmark *b;
    if (nb201_benchmark_load(path, &b, err, sizeof err)) return 0;
    for (int i = 0; i < NB201_NUM_ARCHS; i++) {
        int code = b->by_index[i];
        if (code < 0) continue;
        int ops[NB201_EDGES];
        for (int e = 0, c = code; e < NB201_EDGES; e++, c /= NB201_OPS) ops[e] = c % NB201_OPS;
        const nb201_record *r = nb201_benchmark_get(b, ops);
        if (!r || r->index != i) {
            fprintf(stderr, "nb201 benchmark: index %d (code %d) does not look up\n", i, code);
            abort();
        }
    }
    nb201_benchmark_free(b);
    return 0;
}
