/* fuzz/fuzz_manifest.c: libFuzzer harness for manifest.json as a sweep reads it at each start
 * (sweep/manifest.c: manifest_update reads the earlier manifest's plan fingerprint, job count
 * and run number, moves it into manifest.history.jsonl and writes the new one). The input is
 * the earlier OUTPUT/manifest.json; the plan is a fixed small config.
 *
 *   bash scripts/fuzz.sh manifest 600
 *   build/bin/replay_fuzz_manifest fuzz/corpus/manifest */
#include <stdlib.h>

#include "fuzz/fuzz_util.h"
#include "sweep/config.h"
#include "sweep/manifest.h"
#include "sweep/plan.h"

static const char fuzz_manifest_yaml[] =
    "output: unused\n"
    "grid:\n"
    "  metric: [synflow, snip]\n"
    "  seed: \"0:1\"\n";

static sweep_config fuzz_cfg;
static sweep_plan fuzz_plan;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int init;
    char err[SWEEP_ERRLEN];
    if (!init) {
        init = 1;
        if (sweep_config_parse("fuzz_manifest.yaml", fuzz_manifest_yaml,
                               sizeof fuzz_manifest_yaml - 1, &fuzz_cfg, err, sizeof err) ||
            sweep_plan_build(&fuzz_cfg, &fuzz_plan, err, sizeof err)) {
            fprintf(stderr, "fuzz_manifest: %s\n", err);
            exit(2);
        }
    }
    char path[1024], dir[1024], msg[2048];
    fuzz_write("manifest.json", data, size, path, sizeof path);
    unlink(fuzz_path("manifest.history.jsonl", path, sizeof path));
    snprintf(dir, sizeof dir, "%s", fuzz_dir());
    manifest_info mi = {.config_text = fuzz_manifest_yaml, .overrides = "", .ranks = 1,
                        .threads = 1, .hosts_json = "[{\"host\": \"h\", \"ranks\": 1}]",
                        .devices_json = "[\"cpu\"]", .mpi_version = "none"};
    int changed, runs;
    manifest_update(dir, &fuzz_cfg, &fuzz_plan, &mi, &changed, &runs, msg, sizeof msg, err,
                    sizeof err);
    return 0;
}
