/* fuzz/fuzz_refbin.c: libFuzzer harness for the reference-tensor container
 * (datasets/refbin.c: refbin_load; "FNREF001", uint32 count, records of char name[64],
 * uint32 dtype, ndim, dims[4] and row-major data). The input is the file.
 *
 *   bash scripts/fuzz.sh refbin 600
 *   build/bin/replay_fuzz_refbin fuzz/corpus/refbin */
#include <stdlib.h>

#include "datasets/refbin.h"
#include "fuzz/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[1024], err[1024];
    fuzz_write("ref.bin", data, size, path, sizeof path);
    fn_ref_file f;
    if (refbin_load(path, &f, err, sizeof err)) return 0;
    double sum = 0;
    for (int i = 0; i < f.count; i++) {
        if (refbin_get(&f, f.t[i].name) == NULL) abort();
        for (size_t k = 0; k < f.t[i].numel; k++) sum += f.t[i].data[k];
    }
    (void)sum;
    refbin_free(&f);
    return 0;
}
