/* bench/bench_cases.h: the FreeDARTS search cases the CPU/GPU benchmarks time (bench_search,
 * bench_bundle): space, dataset, metric, depth, batch, NB-1shot1 space per name. */
#ifndef FN_BENCH_CASES_H
#define FN_BENCH_CASES_H

#include <stdint.h>

#include "search/search.h"

typedef struct {
    const char *name, *space, *dataset, *metric;
    int cells, batch, ss;
} bench_case;

extern const bench_case bench_cases[];
extern const int bench_ncases;

/* The search config of a case: its fields, `data` for labelled metrics, `seed`. */
void bench_case_config(const bench_case *bc, const char *data, uint64_t seed, fn_search_config *c);

#endif
