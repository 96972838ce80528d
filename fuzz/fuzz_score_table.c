/* fuzz/fuzz_score_table.c: libFuzzer harness for score tables (sweep/score_table.c:
 * sweep_score_table_load, the JSON lines of kind score records or `freenas score --json`
 * that a zc_search job looks its proxy values up in). The input is the file; a table that
 * loads is queried for a few (dataset, proxy, index) triples.
 *
 *   bash scripts/fuzz.sh score_table 600
 *   build/bin/replay_fuzz_score_table fuzz/corpus/score_table */
#include <stdlib.h>

#include "fuzz/fuzz_util.h"
#include "sweep/score_table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[1024], err[1024];
    fuzz_write("scores.jsonl", data, size, path, sizeof path);
    sweep_score_table *t;
    if (sweep_score_table_load(path, &t, err, sizeof err)) return 0;
    static const char *const datasets[] = {"cifar10", "cifar100", "imagenet16-120", "x"};
    static const char *const proxies[] = {"synflow", "snip", "naswot", "params", "nope"};
    static const int idx[] = {-1, 0, 1462, 15624, 15625};
    double v;
    for (int d = 0; d < 4; d++)
        for (int p = 0; p < 5; p++)
            for (int i = 0; i < 5; i++) sweep_score_table_get(t, datasets[d], proxies[p], idx[i], &v);
    if (sweep_score_table_count(t) <= 0) abort();
    sweep_score_table_free(t);
    return 0;
}
