/* fuzz/fuzz_darts_genotype.c: libFuzzer harness for DARTS genotype strings (spaces/darts.c:
 * darts_genotype_parse, "Genotype(normal=[('sep_conv_3x3', 0), ...], normal_concat=[2, 3, 4,
 * 5], reduce=[...], reduce_concat=range(2, 6))"). A genotype that parses must print back to
 * a string that parses to the same genotype (darts_genotype_string), and its JSON form
 * (darts_genotype_json, a record's arch_json) must be JSON with 8 [op, input] pairs per
 * cell type. The JSON form is read back only by freenas_report (analysis/report_darts.c),
 * which fuzz_report covers.
 *
 *   bash scripts/fuzz.sh darts_genotype 600
 *   build/bin/replay_fuzz_darts_genotype fuzz/corpus/darts_genotype */
#include <jansson.h>
#include <stdlib.h>

#include "fuzz/fuzz_util.h"
#include "spaces/darts.h"

static void fuzz_genotype_fail(const char *what, const char *s, const char *out) {
    fprintf(stderr, "genotype '%s': %s ('%s')\n", s, what, out);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *s = fuzz_cstr(data, size);
    darts_genotype gt, again;
    char err[512];
    memset(&gt, 0, sizeof gt);
    if (!darts_genotype_parse(s, &gt, err, sizeof err)) {
        char buf[2048];
        int n = darts_genotype_string(&gt, buf, sizeof buf);
        memset(&again, 0, sizeof again);
        if (n <= 0 || (size_t)n >= sizeof buf || darts_genotype_parse(buf, &again, err, sizeof err))
            fuzz_genotype_fail("its string form does not parse", s, buf);
        if (memcmp(gt.op, again.op, sizeof gt.op) || memcmp(gt.in, again.in, sizeof gt.in))
            fuzz_genotype_fail("its string form parses to another genotype", s, buf);
        n = darts_genotype_json(&gt, buf, sizeof buf);
        json_error_t je;
        json_t *j = n > 0 && (size_t)n < sizeof buf ? json_loads(buf, 0, &je) : NULL;
        const char *cells[2] = {"normal", "reduce"};
        for (int t = 0; t < 2; t++) {
            json_t *a = json_object_get(j, cells[t]);
            if (json_array_size(a) != 2 * DARTS_STEPS)
                fuzz_genotype_fail("its JSON form lacks 8 pairs", s, buf);
            for (size_t p = 0; p < json_array_size(a); p++) {
                json_t *e = json_array_get(a, p);
                if (!json_is_string(json_array_get(e, 0)) ||
                    json_integer_value(json_array_get(e, 1)) != gt.in[t][p])
                    fuzz_genotype_fail("its JSON form has a bad pair", s, buf);
            }
        }
        json_decref(j);
        int counts[2][DARTS_OPS];
        darts_genotype_op_counts(&gt, counts);
    }
    free(s);
    return 0;
}
