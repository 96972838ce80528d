/* tests/test_threads.c: a search gives bit-identical results on any OpenMP thread count.
 * Every space and metric, float32 and float64, run on 1, 2, 3 and 5 threads (more threads
 * than cores is fine: only the split of the work changes, never the order of a sum); the
 * score matrix, the differentiated scalar, max |S| and the architecture must be equal bit for
 * bit (memcmp, not a tolerance). Catches any reduction whose order follows the thread count
 * (an OpenMP `reduction` clause, a GEMM split by thread count). Small batches and widths keep
 * it to about a minute while still crossing the parallel thresholds (a 32x32 GEMM of 1,024
 * columns for the batch of one, 131,072-element alpha-gradient sums at batch 8). Part B does
 * the same for every per-architecture zero-cost proxy (proxies/proxy.h) on an NB201 cell.
 *   ./build/bin/test_threads ../shared/data */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "proxies/proxy.h"
#include "search/search.h"
#include "tests/test_search_case.h"
#include "tests/test_util.h"

typedef test_search_case det_case;

static const det_case cases[] = {
    {"nb201", "synflow", -1, 0, 0, 0, 0, 0},
    {"nb201", "synflow", 32, 0, 0, 0, 0, 0},
    {"nb201", "synflow", -1, 0, 0, 0, 0, 1},
    {"nb201", "snip", -1, 8, 0, 0, 0, 0},
    {"nb201", "snip", 64, 8, 0, 0, 0, 0},
    {"nb201", "grasp", -1, 8, 0, 0, 0, 0},
    {"nb201", "grasp", 64, 8, 0, 0, 0, 0},
    {"nb1shot1", "synflow", -1, 0, 0, 0, 1, 0},
    {"nb1shot1", "synflow", -1, 0, 0, 0, 2, 0},
    {"nb1shot1", "synflow", 32, 0, 0, 0, 3, 0},
    {"nb1shot1", "synflow", -1, 0, 0, 0, 1, -1},
    {"nb1shot1", "snip", -1, 8, 0, 0, 2, 0},
    {"nb1shot1", "grasp", -1, 4, 0, 0, 3, 0},
    {"darts", "synflow", -1, 0, 8, 5, 0, 0},
    {"darts", "synflow", -1, 0, 8, 5, 0, -1}, /* FD's literal form: noise, but reproducible */
    {"darts", "snip", -1, 4, 8, 5, 0, 0},
    {"darts", "grasp", -1, 2, 8, 5, 0, 0},
};

static const int thread_counts[] = {1, 2, 3, 5};

static int run(const det_case *k, const char *data, int threads, fn_search_result *r) {
    omp_set_num_threads(threads);
    return test_search_case_run(k, data, 3, r);
}

/* index of the first element where a and b differ bit-wise, or -1 */
static int first_diff(const double *a, const double *b, int n) {
    for (int i = 0; i < n; i++)
        if (memcmp(&a[i], &b[i], sizeof(double))) return i;
    return -1;
}

/* B: all proxies of two architectures, one context per thread count, bit for bit */
static void proxies(const char *data) {
    const char *archs[] = {
        "|nor_conv_1x1~0|+|skip_connect~0|none~1|+|nor_conv_3x3~0|avg_pool_3x3~1|nor_conv_1x1~2|"};
    const int np = proxy_count();
    const char *names[32];
    for (int i = 0; i < np && i < 32; i++) names[i] = proxy_at(i)->name;
    fn_proxy_value ref[32], v[32];
    char err[FN_ERRLEN];
    for (int a = 0; a < (int)(sizeof archs / sizeof archs[0]); a++) {
        int same = 1;
        for (int t = 0; t < (int)(sizeof thread_counts / sizeof thread_counts[0]); t++) {
            fn_proxy_config c;
            proxy_config_default(&c);
            c.data_path = data;
            c.batch = 8;
            c.seed = 5;
            fn_proxy_ctx *ctx;
            omp_set_num_threads(thread_counts[t]);
            CHECKF(proxy_ctx_create(&c, &ctx, err, sizeof err) == FN_OK, "%s", err);
            fn_proxy_value *out = t ? v : ref;
            /* jacob_cov may return its documented NaN status: compare values bit-wise anyway */
            proxy_score(ctx, archs[a], names, np, out, err, sizeof err);
            proxy_ctx_free(ctx);
            if (!t) continue;
            for (int i = 0; i < np; i++) {
                const int eq = !memcmp(&ref[i].value, &v[i].value, sizeof(double)) &&
                               ref[i].status == v[i].status;
                CHECKF(eq, "arch %d proxy %s: %.17g on 1 thread, %.17g on %d", a, names[i],
                       ref[i].value, v[i].value, thread_counts[t]);
                same &= eq;
            }
        }
        printf("proxies arch %d (%d proxies, %s %.17g ...): %s on 1/2/3/5 threads\n", a, np,
               names[0], ref[0].value, same ? "bit-identical" : "DIFFERENT");
    }
}

int main(int argc, char **argv) {
    const char *data = argc > 1 ? argv[1] : "../shared/data";
    fn_search_result *ref = mallocCheck(sizeof *ref), *r = mallocCheck(sizeof *r);
    const int nc = (int)(sizeof cases / sizeof cases[0]);
    const int nt = (int)(sizeof thread_counts / sizeof thread_counts[0]);
    for (int i = 0; i < nc; i++) {
        const det_case *k = &cases[i];
        char name[128];
        snprintf(name, sizeof name, "%s/%s%s ss%d fp%d b%d", k->space, k->metric,
                 k->synflow_zc > 0 ? "-zc" : k->synflow_zc < 0 ? "-fd" : "", k->ss, k->precision, k->batch);
        CHECKF(run(k, data, thread_counts[0], ref) == FN_OK, "%s: %s", name, ref->msg);
        if (ref->status != FN_OK) continue;
        const int n = ref->s_rows * ref->s_cols;
        int same = 1;
        for (int t = 1; t < nt; t++) {
            CHECKF(run(k, data, thread_counts[t], r) == FN_OK, "%s: %s", name, r->msg);
            if (r->status != FN_OK) continue;
            const int d = first_diff(ref->S, r->S, n);
            CHECKF(d < 0, "%s: S[%d] = %.17g on 1 thread, %.17g on %d", name, d,
                   d < 0 ? 0 : ref->S[d], d < 0 ? 0 : r->S[d], thread_counts[t]);
            CHECKF(!memcmp(&ref->value, &r->value, sizeof(double)),
                   "%s: value %.17g on 1 thread, %.17g on %d", name, ref->value, r->value,
                   thread_counts[t]);
            CHECKF(!strcmp(ref->arch, r->arch), "%s: architecture differs on %d threads", name,
                   thread_counts[t]);
            same &= d < 0 && !memcmp(&ref->value, &r->value, sizeof(double)) &&
                    !strcmp(ref->arch, r->arch);
        }
        printf("%-36s %2d scores, value %.17g: %s on 1/2/3/5 threads\n", name, n, ref->value,
               same ? "bit-identical" : "DIFFERENT");
    }
    free(ref);
    free(r);
    proxies(data);
    return test_summary("test_threads");
}
