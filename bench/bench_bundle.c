/* bench/bench_bundle.c: FreeDARTS searches per second against bundle size (search/bundle.h)
 * on this CPU, per case, with the same threads for every row.
 *
 * Bundle size K runs K searches (seeds s, s+1, ...) through search_bundle_run on T threads;
 * K = 1 is today's one-search-at-a-time path with all T threads inside each search (its
 * arenas kept between searches, as a sweep rank's are). Each row: one untimed bundle (the
 * warm-up: first-touch pages, caches), then whole bundles until --min-seconds have passed
 * (at least --reps bundles); searches/s = searches / wall time of the timed bundles. FLOP/s
 * = searches/s x one search's conv + linear FLOPs (2 x multiply-adds, forward and the
 * backward GEMMs the metric runs: 2 x forward, the figure bench_search reports).
 * Every bundle's scores are compared with single searches of the same seeds, bit for bit
 * (the `parity` column; a mismatch is an error exit).
 *   ./build/bin/bench_bundle [--threads T] [--sizes 1,2,4] [--cases a,b] [--reps N]
 *                            [--min-seconds S] [--data DIR] [--json FILE]
 *   cases: nb201-synflow nb201-snip darts8-synflow darts8-snip darts20-synflow
 *          darts224-synflow n1ss3-synflow n1ss3-snip */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"
#include "search/bundle.h"
#include "search/search.h"

typedef struct {
    const char *name, *space, *dataset, *metric;
    int cells, batch, ss;
} bench_case;

static const bench_case cases[] = {
    {"nb201-synflow", "nb201", "cifar10", "synflow", 0, 1, 0},
    {"nb201-snip", "nb201", "cifar10", "snip", 0, 64, 0},
    {"darts8-synflow", "darts", "cifar10", "synflow", 8, 1, 0},
    {"darts8-snip", "darts", "cifar10", "snip", 8, 64, 0},
    {"darts20-synflow", "darts", "cifar10", "synflow", 20, 1, 0},
    {"darts224-synflow", "darts", "imagenet224", "synflow", 14, 1, 0},
    {"n1ss3-synflow", "nb1shot1", "cifar10", "synflow", 0, 1, 3},
    {"n1ss3-snip", "nb1shot1", "cifar10", "snip", 0, 64, 3},
};
#define N_CASES (int)(sizeof cases / sizeof cases[0])

static void config_of(const bench_case *bc, const char *data, uint64_t seed, fn_search_config *c) {
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

static int same_result(const fn_search_result *a, const fn_search_result *b) {
    return a->status == b->status && a->s_rows == b->s_rows && a->s_cols == b->s_cols &&
           !memcmp(a->S, b->S, sizeof(double) * (size_t)(a->s_rows * a->s_cols)) &&
           !strcmp(a->arch, b->arch);
}

int main(int argc, char **argv) {
    const char *data = "../shared/data", *json = NULL, *only = NULL;
    int threads = omp_get_max_threads(), reps = 3, sizes[16] = {1, 2, 4}, nsizes = 3;
    double min_s = 3.0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--threads") && v) threads = atoi(v), i++;
        else if (!strcmp(a, "--reps") && v) reps = atoi(v), i++;
        else if (!strcmp(a, "--min-seconds") && v) min_s = atof(v), i++;
        else if (!strcmp(a, "--data") && v) data = v, i++;
        else if (!strcmp(a, "--json") && v) json = v, i++;
        else if (!strcmp(a, "--cases") && v) only = v, i++;
        else if (!strcmp(a, "--sizes") && v) {
            nsizes = 0;
            char buf[256];
            snprintf(buf, sizeof buf, "%s", v);
            for (char *s = NULL, *t = strtok_r(buf, ",", &s); t && nsizes < 16; t = strtok_r(NULL, ",", &s))
                sizes[nsizes++] = atoi(t);
            i++;
        } else {
            fprintf(stderr, "usage: bench_bundle [--threads T] [--sizes 1,2,4] [--cases a,b] "
                    "[--reps N] [--min-seconds S] [--data DIR] [--json FILE]\n");
            return 2;
        }
    }
    if (threads < 1 || reps < 1) return 2;
    for (int s = 0; s < nsizes; s++)
        if (sizes[s] < 1 || sizes[s] > 256) {
            fprintf(stderr, "bench_bundle: bundle sizes are 1..256\n");
            return 2;
        }
    FILE *jf = json ? fopen(json, "w") : NULL;
    if (json && !jf) {
        fprintf(stderr, "bench_bundle: cannot write %s\n", json);
        return 1;
    }
    printf("# FreeDARTS searches per second against bundle size, %d threads (search/bundle.h)\n"
           "case              K   searches/s  ms/search  GFLOP/search  GFLOP/s  vs K=1  parity\n",
           threads);
    if (jf) fprintf(jf, "{\"threads\":%d,\"rows\":[", threads);
    int first_row = 1, bad = 0;
    search_bundle *b = search_bundle_new();
    for (int ci = 0; ci < N_CASES; ci++) {
        const bench_case *bc = &cases[ci];
        if (only && !strstr(only, bc->name)) continue;
        int maxk = 1;
        for (int s = 0; s < nsizes; s++) maxk = sizes[s] > maxk ? sizes[s] : maxk;
        /* the reference: single searches, all threads, seeds 0..maxk-1 */
        fn_search_config *cfg = mallocCheck(sizeof(fn_search_config) * (size_t)maxk);
        fn_search_result *ref = mallocCheck(sizeof(fn_search_result) * (size_t)maxk);
        fn_search_result *res = mallocCheck(sizeof(fn_search_result) * (size_t)maxk);
        for (int i = 0; i < maxk; i++) config_of(bc, data, (uint64_t)i, &cfg[i]);
        omp_set_num_threads(threads);
        for (int i = 0; i < maxk; i++) search_run(&cfg[i], &ref[i]);
        if (ref[0].status != FN_OK) {
            printf("%-16s  failed: %s\n", bc->name, ref[0].msg);
            bad = 1;
            goto next;
        }
        const double gflop = 2.0 * 2.0 * ref[0].macs / 1e9; /* forward + backward GEMMs */
        double rate1 = 0;
        for (int s = 0; s < nsizes; s++) {
            const int k = sizes[s];
            search_bundle_run(b, cfg, k, threads, res); /* warm-up */
            int parity = 1;
            for (int i = 0; i < k; i++) parity &= same_result(&res[i], &ref[i]);
            int nb = 0;
            const double t0 = fn_now();
            while (nb < reps || fn_now() - t0 < min_s) {
                search_bundle_run(b, cfg, k, threads, res);
                for (int i = 0; i < k; i++) parity &= same_result(&res[i], &ref[i]);
                nb++;
            }
            const double el = fn_now() - t0, rate = nb * k / el;
            if (k == 1) rate1 = rate;
            printf("%-16s %2d  %11.2f  %9.1f  %12.3f  %7.1f  %6.2f  %s\n", bc->name, k, rate,
                   1e3 / rate, gflop, rate * gflop, rate1 > 0 ? rate / rate1 : 0,
                   parity ? "bit-identical" : "MISMATCH");
            fflush(stdout);
            bad |= !parity;
            if (jf)
                fprintf(jf, "%s{\"case\":\"%s\",\"bundle\":%d,\"threads\":%d,\"bundles\":%d,"
                        "\"seconds\":%.6f,\"searches_per_s\":%.4f,\"gflop_per_search\":%.4f,"
                        "\"gflop_per_s\":%.3f,\"speedup_vs_1\":%.3f,\"bit_identical\":%s}",
                        first_row ? "" : ",", bc->name, k, threads, nb, el, rate, gflop,
                        rate * gflop, rate1 > 0 ? rate / rate1 : 0, parity ? "true" : "false");
            first_row = 0;
        }
    next:
        free(cfg);
        free(ref);
        free(res);
    }
    search_bundle_free(b);
    if (jf) {
        fprintf(jf, "]}\n");
        fclose(jf);
    }
    return bad;
}
