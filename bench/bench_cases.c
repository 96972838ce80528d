/* bench/bench_cases.c: see bench_cases.h. */
#include "bench_cases.h"

const bench_case bench_cases[] = {
    {"nb201-synflow", "nb201", "cifar10", "synflow", 0, 1, 0},
    {"nb201-snip", "nb201", "cifar10", "snip", 0, 64, 0},
    {"nb201-grasp", "nb201", "cifar10", "grasp", 0, 64, 0},
    {"nb201-grasp-fd", "nb201", "cifar10", "grasp", 0, 64, 0}, /* --grasp-fd 1e-6 (before) */
    {"darts8-synflow", "darts", "cifar10", "synflow", 8, 1, 0},
    {"darts8-snip", "darts", "cifar10", "snip", 8, 64, 0},
    {"darts20-synflow", "darts", "cifar10", "synflow", 20, 1, 0},
    {"darts20-snip", "darts", "cifar10", "snip", 20, 64, 0},
    {"darts224-synflow", "darts", "imagenet224", "synflow", 14, 1, 0},
    {"darts224-snip", "darts", "imagenet224", "snip", 14, 16, 0},
    {"n1ss3-synflow", "nb1shot1", "cifar10", "synflow", 0, 1, 3},
    {"n1ss3-snip", "nb1shot1", "cifar10", "snip", 0, 64, 3},
};
const int bench_ncases = (int)(sizeof bench_cases / sizeof bench_cases[0]);

void bench_case_config(const bench_case *bc, const char *data, uint64_t seed, fn_search_config *c) {
    search_config_default(c);
    c->space = bc->space;
    c->dataset = bc->dataset;
    c->metric = bc->metric;
    c->cells = bc->cells;
    c->batch = bc->batch;
    if (bc->ss) c->ss = bc->ss;
    c->data_path = data;
    c->seed = seed;
}
