/* bench/bench_bundle.c: FreeDARTS searches per second against bundle size (search/bundle.h)
 * on this CPU or (--device cuda) on the first GPU, per case, with the same threads for every
 * row.
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
 * --device cuda: every search on the GPU; bundle size K runs K searches on K host threads
 * (at most T), each thread with its own CUDA context and stream, so the GPU runs the K
 * searches' kernels side by side; K = 1 is one CUDA search at a time (its CUDA graphs
 * replayed from the second search of a shape on). The proxies case stays on the CPU.
 * --stacked: bundle size K runs K searches stacked into one executor pass instead
 * (search_run_stacked, engine/graph_stack.h: one graph of K models, every thread on it); the
 * parity column then checks each search's architecture against its single search (scores
 * match within rounding: tests/test_stacked.c, tests/test_gpu_stacked.c). With --device cuda
 * a stack is one CUDA executor: grouped cuDNN convs, a batched head, block-wise mix kernels.
 * Case nb201-proxies: the per-architecture proxies snip, grad_norm, naswot and jacob_cov of
 * NB201 networks at batch 64 (proxies/proxy.h), architectures per second with K architectures
 * side by side, each slot with its own proxy context (as a sweep's kinds score and zc_search
 * run them); values compared bit for bit with one context on all threads.
 *   ./build/bin/bench_bundle [--threads T] [--sizes 1,2,4] [--cases a,b] [--reps N]
 *                            [--min-seconds S] [--data DIR] [--json FILE] [--device cpu|cuda]
 *                            [--stacked]
 *   cases (default): nb201-synflow nb201-snip darts8-synflow darts8-snip darts20-synflow
 *          darts224-synflow n1ss3-synflow n1ss3-snip nb201-proxies; any case of
 *          bench/bench_cases.c by name with --cases */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"
#include "bench_cases.h"
#include "gpu/backend_cuda.h"
#include "gpu/device.h"
#include "proxies/proxy.h"
#include "search/bundle.h"
#include "search/search.h"

/* the cases bench_bundle runs by default (bench/bench_cases.c has them all) */
static const char *const default_cases =
    "nb201-synflow,nb201-snip,darts8-synflow,darts8-snip,darts20-synflow,darts224-synflow,"
    "n1ss3-synflow,n1ss3-snip,nb201-proxies";

/* `name` is one of the comma-separated names of list */
static int case_listed(const char *list, const char *name) {
    const size_t n = strlen(name);
    for (const char *p = list; (p = strstr(p, name)) != NULL; p += n)
        if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0')) return 1;
    return 0;
}

static int same_result(const fn_search_result *a, const fn_search_result *b) {
    return a->status == b->status && a->s_rows == b->s_rows && a->s_cols == b->s_cols &&
           !memcmp(a->S, b->S, sizeof(double) * (size_t)(a->s_rows * a->s_cols)) &&
           !strcmp(a->arch, b->arch);
}

#define NPROXY 4
static const char *const bench_proxies[NPROXY] = {"snip", "grad_norm", "naswot", "jacob_cov"};

/* architecture i of the proxy case: official index 97 * i mod 15625, spread over the space */
static void proxy_arch(int i, char *buf, size_t len) {
    snprintf(buf, len, "%d", (97 * i + 13) % 15625);
}

/* nb201-proxies: k architectures side by side on `threads` threads, `arch0` the first */
static void proxy_round(fn_proxy_ctx **ctx, int k, int threads, int arch0, fn_proxy_value *v) {
    const int slots = search_bundle_slots(k, threads, FN_DEV_CPU);
    if (slots == 1) { /* no region: the proxies' own parallel loops use every thread */
        for (int i = 0; i < k; i++) {
            char arch[32], err[FN_ERRLEN];
            proxy_arch(arch0 + i, arch, sizeof arch);
            proxy_score(ctx[0], arch, bench_proxies, NPROXY, v + (size_t)i * NPROXY, err, sizeof err);
        }
        return;
    }
    omp_set_max_active_levels(1);
#pragma omp parallel num_threads(slots)
    {
        const int s = omp_get_thread_num();
        for (int i = s; i < k; i += slots) {
            char arch[32], err[FN_ERRLEN];
            proxy_arch(arch0 + i, arch, sizeof arch);
            proxy_score(ctx[s], arch, bench_proxies, NPROXY, v + (size_t)i * NPROXY, err, sizeof err);
        }
    }
    omp_set_max_active_levels(1);
    omp_set_num_threads(threads);
}

static int proxies_case(const char *data, const char *bench_tsv, const int *sizes, int nsizes,
                        int threads, int reps, double min_s, FILE *jf, int *first_row) {
    int maxk = 1, bad = 0;
    for (int s = 0; s < nsizes; s++) maxk = sizes[s] > maxk ? sizes[s] : maxk;
    fn_proxy_ctx **ctx = callocCheck((size_t)maxk, sizeof *ctx);
    char err[FN_ERRLEN];
    for (int s = 0; s < maxk; s++) {
        fn_proxy_config c;
        proxy_config_default(&c);
        c.data_path = data;
        c.benchmark = bench_tsv;
        if (proxy_ctx_create(&c, &ctx[s], err, sizeof err) != FN_OK) {
            printf("nb201-proxies     failed: %s\n", err);
            return 1;
        }
    }
    /* the reference: one context, all threads, one architecture at a time */
    fn_proxy_value *ref = mallocCheck(sizeof(fn_proxy_value) * NPROXY * (size_t)maxk),
                   *v = mallocCheck(sizeof(fn_proxy_value) * NPROXY * (size_t)maxk);
    omp_set_num_threads(threads);
    for (int i = 0; i < maxk; i++) proxy_round(ctx, 1, threads, i, ref + (size_t)i * NPROXY);
    double rate1 = 0;
    for (int s = 0; s < nsizes; s++) {
        const int k = sizes[s];
        proxy_round(ctx, k, threads, 0, v); /* warm-up */
        int parity = 1, nb = 0;
        const double t0 = fn_now();
        while (nb < reps || fn_now() - t0 < min_s) {
            proxy_round(ctx, k, threads, 0, v);
            for (int i = 0; i < k * NPROXY; i++)
                parity &= !memcmp(&v[i].value, &ref[i].value, sizeof(double));
            nb++;
        }
        const double el = fn_now() - t0, rate = nb * k / el;
        if (k == 1) rate1 = rate;
        printf("%-16s %2d  %11.2f  %9.1f  %12s  %7s  %6.2f  %s\n", "nb201-proxies", k, rate,
               1e3 / rate, "-", "-", rate1 > 0 ? rate / rate1 : 0,
               parity ? "bit-identical" : "MISMATCH");
        fflush(stdout);
        bad |= !parity;
        if (jf)
            fprintf(jf, "%s{\"case\":\"nb201-proxies\",\"proxies\":\"snip,grad_norm,naswot,"
                    "jacob_cov\",\"batch\":64,\"bundle\":%d,\"threads\":%d,\"rounds\":%d,"
                    "\"seconds\":%.6f,\"archs_per_s\":%.4f,\"speedup_vs_1\":%.3f,"
                    "\"bit_identical\":%s}", *first_row ? "" : ",", k, threads, nb, el, rate,
                    rate1 > 0 ? rate / rate1 : 0, parity ? "true" : "false");
        *first_row = 0;
    }
    for (int s = 0; s < maxk; s++) proxy_ctx_free(ctx[s]);
    free(ctx);
    free(ref);
    free(v);
    return bad;
}

/* K searches: a bundle on `threads` threads, or stacked into one executor on all of them */
static void run_k(search_bundle *b, const fn_search_config *cfg, int k, int threads, int stacked,
                  fn_search_result *res) {
    if (!stacked) {
        search_bundle_run(b, cfg, k, threads, res);
        return;
    }
    static fn_arena_pool pool; /* the stack's arenas kept between stacks, as a bundle's are */
    fn_search_config *c = mallocCheck(sizeof(fn_search_config) * (size_t)k);
    for (int i = 0; i < k; i++) c[i] = cfg[i], c[i].pool = &pool;
    search_run_stacked(c, k, res);
    free(c);
}

/* a bundle's search must be its single search bit for bit; a stacked one must pick its
 * architecture (scores agree within rounding: tests/test_stacked.c) */
static int check_result(const fn_search_result *r, const fn_search_result *ref, int stacked) {
    if (!stacked) return same_result(r, ref);
    return r->status == FN_OK && (!strcmp(r->arch, ref->arch) || (r->degenerate && ref->degenerate));
}

int main(int argc, char **argv) {
    const char *data = "../shared/data", *json = NULL, *only = NULL;
    int threads = omp_get_max_threads(), reps = 3, sizes[16] = {1, 2, 4}, nsizes = 3;
    double min_s = 3.0;
    fn_device dev = FN_DEV_CPU;
    int stacked = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--threads") && v) threads = atoi(v), i++;
        else if (!strcmp(a, "--reps") && v) reps = atoi(v), i++;
        else if (!strcmp(a, "--min-seconds") && v) min_s = atof(v), i++;
        else if (!strcmp(a, "--data") && v) data = v, i++;
        else if (!strcmp(a, "--json") && v) json = v, i++;
        else if (!strcmp(a, "--cases") && v) only = v, i++;
        else if (!strcmp(a, "--stacked")) stacked = 1;
        else if (!strcmp(a, "--device") && v && (!strcmp(v, "cpu") || !strcmp(v, "cuda")))
            dev = strcmp(v, "cuda") ? FN_DEV_CPU : FN_DEV_CUDA, i++;
        else if (!strcmp(a, "--sizes") && v) {
            nsizes = 0;
            char buf[256];
            snprintf(buf, sizeof buf, "%s", v);
            for (char *s = NULL, *t = strtok_r(buf, ",", &s); t && nsizes < 16; t = strtok_r(NULL, ",", &s))
                sizes[nsizes++] = atoi(t);
            i++;
        } else {
            fprintf(stderr, "usage: bench_bundle [--threads T] [--sizes 1,2,4] [--cases a,b] "
                    "[--reps N] [--min-seconds S] [--data DIR] [--json FILE] "
                    "[--device cpu|cuda] [--stacked]\n");
            return 2;
        }
    }
    if (threads < 1 || reps < 1) return 2;
    for (int s = 0; s < nsizes; s++)
        if (sizes[s] < 1 || sizes[s] > 256) {
            fprintf(stderr, "bench_bundle: bundle sizes are 1..256\n");
            return 2;
        }
    char where[160] = "this CPU";
    if (dev == FN_DEV_CUDA) {
        gpu_backend_register(); /* the CUDA backend: loaded by the first CUDA executor */
        if (gpu_device_count() == 0 || !gpu_exec_compiled()) {
            fprintf(stderr, "bench_bundle: --device cuda needs a CUDA device and a build with "
                    "the CUDA executor\n");
            return 1;
        }
        gpu_describe(0, where, sizeof where);
    }
    FILE *jf = json ? fopen(json, "w") : NULL;
    if (json && !jf) {
        fprintf(stderr, "bench_bundle: cannot write %s\n", json);
        return 1;
    }
    printf("# FreeDARTS searches per second against bundle size on %s, %d threads (%s)\n"
           "case              K   searches/s  ms/search  GFLOP/search  GFLOP/s  vs K=1  parity\n",
           where, threads, stacked ? "stacked: K models in one executor, search_run_stacked"
                                   : "search/bundle.h");
    if (jf)
        fprintf(jf, "{\"device\":\"%s\",\"where\":\"%s\",\"threads\":%d,\"mode\":\"%s\",\"rows\":[",
                dev == FN_DEV_CUDA ? "cuda" : "cpu", where, threads, stacked ? "stacked" : "bundle");
    int first_row = 1, bad = 0;
    search_bundle *b = search_bundle_new();
    if (!only) only = default_cases;
    for (int ci = 0; ci < bench_ncases; ci++) {
        const bench_case *bc = &bench_cases[ci];
        if (!case_listed(only, bc->name)) continue;
        int maxk = 1;
        for (int s = 0; s < nsizes; s++) maxk = sizes[s] > maxk ? sizes[s] : maxk;
        /* the reference: single searches, all threads, seeds 0..maxk-1 */
        fn_search_config *cfg = mallocCheck(sizeof(fn_search_config) * (size_t)maxk);
        fn_search_result *ref = mallocCheck(sizeof(fn_search_result) * (size_t)maxk);
        fn_search_result *res = mallocCheck(sizeof(fn_search_result) * (size_t)maxk);
        for (int i = 0; i < maxk; i++) {
            bench_case_config(bc, data, (uint64_t)i, &cfg[i]);
            cfg[i].device = dev;
        }
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
            run_k(b, cfg, k, threads, stacked, res); /* warm-up */
            int parity = 1;
            for (int i = 0; i < k; i++) parity &= check_result(&res[i], &ref[i], stacked);
            int nb = 0;
            const double t0 = fn_now();
            while (nb < reps || fn_now() - t0 < min_s) {
                run_k(b, cfg, k, threads, stacked, res);
                for (int i = 0; i < k; i++) parity &= check_result(&res[i], &ref[i], stacked);
                nb++;
            }
            const double el = fn_now() - t0, rate = nb * k / el;
            if (k == 1) rate1 = rate;
            printf("%-16s %2d  %11.2f  %9.1f  %12.3f  %7.1f  %6.2f  %s\n", bc->name, k, rate,
                   1e3 / rate, gflop, rate * gflop, rate1 > 0 ? rate / rate1 : 0,
                   !parity ? "MISMATCH" : stacked ? "same-arch" : "bit-identical");
            fflush(stdout);
            bad |= !parity;
            if (jf)
                fprintf(jf, "%s{\"case\":\"%s\",\"bundle\":%d,\"threads\":%d,\"bundles\":%d,"
                        "\"seconds\":%.6f,\"searches_per_s\":%.4f,\"gflop_per_search\":%.4f,"
                        "\"gflop_per_s\":%.3f,\"speedup_vs_1\":%.3f,\"%s\":%s}",
                        first_row ? "" : ",", bc->name, k, threads, nb, el, rate, gflop,
                        rate * gflop, rate1 > 0 ? rate / rate1 : 0,
                        stacked ? "same_arch" : "bit_identical", parity ? "true" : "false");
            first_row = 0;
        }
    next:
        free(cfg);
        free(ref);
        free(res);
    }
    search_bundle_free(b);
    if (!stacked && case_listed(only, "nb201-proxies")) {
        char tsv[4096];
        snprintf(tsv, sizeof tsv, "%s/nb201/nb201_accuracy.tsv", data);
        bad |= proxies_case(data, tsv, sizes, nsizes, threads, reps, min_s, jf, &first_row);
    }
    if (jf) {
        fprintf(jf, "]}\n");
        fclose(jf);
    }
    return bad;
}
