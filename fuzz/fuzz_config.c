/* fuzz/fuzz_config.c: libFuzzer harness for the sweep YAML config (sweep/config.c,
 * sweep/config_sections.c): sweep_config_parse on the input as the text of a config file;
 * a config that parses is printed as its resolved JSON (sweep_config_json, the manifest's
 * form) and, when its grid is small, expanded into a plan (sweep/plan.c).
 *
 *   bash scripts/fuzz.sh config 600           # build-fuzz/bin/fuzz_config, 10 minutes
 *   build/bin/replay_fuzz_config fuzz/corpus/config   # the corpus once (gcc build, CTest) */
#include <stdlib.h>

#include "fuzz/fuzz_util.h"
#include "sweep/config.h"
#include "sweep/manifest.h"
#include "sweep/plan.h"

/* grid points at most before the plan is built: bigger grids are valid configs whose
 * expansion only costs time (a million jobs plan in half a second) */
#define FUZZ_MAX_GRID 4096.0

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sweep_config c;
    char err[SWEEP_ERRLEN];
    if (sweep_config_parse("fuzz.yaml", (const char *)data, size, &c, err, sizeof err))
        return 0;
    char *json = sweep_config_json(&c, 2);
    free(json);
    double grid = c.nvariants > 0 ? c.nvariants : 1;
    for (int k = 0; k < SWEEP_NUM_KEYS; k++)
        if (c.axes[k].n > 0) grid *= c.axes[k].n;
    if (grid <= FUZZ_MAX_GRID) {
        sweep_plan p;
        if (!sweep_plan_build(&c, &p, err, sizeof err)) sweep_plan_free(&p);
    }
    sweep_config_free(&c);
    return 0;
}
