/* fuzz/fuzz_nb201_arch.c: libFuzzer harness for NAS-Bench-201 architecture strings
 * (spaces/nb201.c: nb201_arch_parse, "|op~0|+|op~0|op~1|+|op~0|op~1|op~2|"), as read from the
 * benchmark TSV, score records and the command line. A string that parses must print back
 * (nb201_arch_string) to one that parses to the same ops, with a code in 0..15624.
 *
 *   bash scripts/fuzz.sh nb201_arch 600
 *   build/bin/replay_fuzz_nb201_arch fuzz/corpus/nb201_arch */
#include <stdlib.h>

#include "fuzz/fuzz_util.h"
#include "spaces/nb201.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *s = fuzz_cstr(data, size);
    int ops[NB201_EDGES];
    if (!nb201_arch_parse(s, ops)) {
        char buf[256];
        int n = nb201_arch_string(ops, buf, sizeof buf);
        int again[NB201_EDGES];
        int code = nb201_arch_code(ops);
        if (n <= 0 || (size_t)n >= sizeof buf || nb201_arch_parse(buf, again) ||
            memcmp(ops, again, sizeof ops) || code < 0 || code >= 15625) {
            fprintf(stderr, "nb201 arch string '%s' does not round-trip ('%s')\n", s, buf);
            abort();
        }
    }
    free(s);
    return 0;
}
