/* tests/test_gpu_proxies.c: every per-architecture zero-cost proxy (proxies/proxy.h) on the CUDA
 * executor against the CPU, on NB201 benchmark networks with real CIFAR-10 images.
 *
 *   ./build/bin/test_gpu_proxies ../shared/data
 *
 * What runs on the GPU per proxy: the forward / backward passes, and through the executor's
 * host mirrors the tensors the proxies read: kept conv outputs and their gradients in a
 * backward hook (fisher), kept conv inputs and output gradients (ntk_*), ReLU inputs
 * (naswot), the input gradient (jacob_cov), recorded / frozen ReLU patterns (grasp's H g).
 * Scores and linear algebra stay on the host, so any difference comes from the executor.
 * The hnas_* rows (ZC's NAS201Model: conv biases that only the per-sample gradients see,
 * fresh weights and batch per architecture) run the same way.
 * Architectures: the docs/METHOD.md §1.4 example, all 3x3 convs, one with `none` edges that cut
 * ops off (unreachable), pools and skips only, and two more drawn with a fixed seed.
 * Error = |gpu - cpu| / max(|cpu|, 1e-300) per proxy and architecture:
 *   forced float64 on both:      < 1e-9 (summation order; grasp keeps the 1e-6 its earlier
 *                                finite-difference H g needed: the exact product should
 *                                meet 1e-9, not yet measured on a GPU)
 *   each proxy's own precision:  |gpu - float64| < max(2e-2, 4 x |cpu - float64|): float32
 *                                rounding of a batch-64 network is the network's, not the
 *                                backend's (ntk_cond, a ratio of eigenvalues, moves 3 % on
 *                                either device; naswot's codes flip where an input is ~0)
 * Two GPU runs give bit-identical scores. Returns 77 (CTest skip) without a CUDA device or
 * the CUDA executor in this build. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "spaces/nb201.h"
#include "proxies/proxy.h"
#include "nn/rng.h"
#include "tests/test_gpu_skip.h"
#include "tests/test_util.h"

#define TOL64 1e-9
#define TOL64_GRASP 1e-6
#define TOL_OWN 2e-2
#define NARCH 6

static const char *const proxies[] = {"params", "flops", "synflow", "snip", "grad_norm",
                                      "grasp", "fisher", "jacob_cov", "naswot", "ntk_trace",
                                      "ntk_cond", "hnas_ntk_trace", "hnas_ntk_cond",
                                      "hnas_grad_norm", "hnas_snip", "hnas_grasp"};
#define NPROX ((int)(sizeof proxies / sizeof proxies[0]))

/* scores of every proxy for ops on one device and precision (0: each proxy's own) */
static void score_all(const char *data, const int ops[NB201_EDGES], fn_device dev, int precision,
                      fn_proxy_value *v) {
    fn_proxy_config c;
    proxy_config_default(&c);
    c.data_path = data;
    c.device = dev;
    c.precision = precision;
    fn_proxy_ctx *ctx;
    char err[512];
    CHECKF(proxy_ctx_create(&c, &ctx, err, sizeof err) == FN_OK, "%s", err);
    fn_status s = proxy_score_ops(ctx, ops, proxies, NPROX, v, err, sizeof err);
    for (int p = 0; p < NPROX; p++) /* jacob_cov may be NaN by design (ZC's too) */
        CHECKF(s == FN_OK || v[p].status == FN_OK || v[p].status == FN_ERR_NAN, "%s: %s",
               proxies[p], err);
    proxy_ctx_free(ctx);
}

static double rel(double gpu, double cpu) {
    if (gpu == cpu) return 0; /* also equal infinities */
    return fabs(gpu - cpu) / fmax(fabs(cpu), 1e-300);
}

int main(int argc, char **argv) {
    const int skip = test_gpu_start();
    if (skip) return skip;
    const char *data = argc > 1 ? argv[1] : "../shared/data";
    int archs[NARCH][NB201_EDGES];
    const char *named[4] = {
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|"
        "skip_connect~2|",
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|"
        "nor_conv_3x3~2|",
        "|nor_conv_1x1~0|+|none~0|nor_conv_3x3~1|+|none~0|none~1|nor_conv_3x3~2|",
        "|avg_pool_3x3~0|+|skip_connect~0|avg_pool_3x3~1|+|skip_connect~0|avg_pool_3x3~1|"
        "skip_connect~2|"};
    for (int a = 0; a < 4; a++) CHECK(nb201_arch_parse(named[a], archs[a]) == 0);
    for (int a = 4; a < NARCH; a++)
        for (int k = 0; k < NB201_EDGES; k++)
            archs[a][k] = (int)(fn_rng_uniform(11, (uint32_t)a, (uint64_t)k) * NB201_OPS);
    double worst64[NPROX] = {0}, worst_own[NPROX] = {0};
    for (int a = 0; a < NARCH; a++) {
        fn_proxy_value c64[NPROX], g64[NPROX], c32[NPROX], g32[NPROX], again[NPROX];
        score_all(data, archs[a], FN_DEV_CPU, 64, c64);
        score_all(data, archs[a], FN_DEV_CUDA, 64, g64);
        score_all(data, archs[a], FN_DEV_CPU, 0, c32);
        score_all(data, archs[a], FN_DEV_CUDA, 0, g32);
        score_all(data, archs[a], FN_DEV_CUDA, 0, again);
        char s[256];
        nb201_arch_string(archs[a], s, sizeof s);
        printf("%s\n", s);
        for (int p = 0; p < NPROX; p++) {
            CHECKF(c64[p].status == g64[p].status && c32[p].status == g32[p].status,
                   "%s: status cpu %d / gpu %d", proxies[p], c32[p].status, g32[p].status);
            CHECKF(memcmp(&g32[p].value, &again[p].value, sizeof(double)) == 0,
                   "%s: two GPU runs differ (%.17g, %.17g)", proxies[p], g32[p].value,
                   again[p].value);
            if (c64[p].status != FN_OK || c32[p].status != FN_OK) {
                printf("  %-10s NaN on both devices (as the CPU)\n", proxies[p]);
                continue;
            }
            const double e64 = rel(g64[p].value, c64[p].value);
            const double eown = rel(g32[p].value, c32[p].value);
            const double egpu = rel(g32[p].value, c64[p].value), ecpu = rel(c32[p].value, c64[p].value);
            const double tol64 = strstr(proxies[p], "grasp") ? TOL64_GRASP : TOL64;
            printf("  %-10s cpu %-14.8g gpu %-14.8g float64 err %.1e, own precision err %.1e\n",
                   proxies[p], c32[p].value, g32[p].value, e64, eown);
            CHECKF(e64 < tol64, "%s float64: cpu %.17g gpu %.17g (%.2e)", proxies[p],
                   c64[p].value, g64[p].value, e64);
            CHECKF(egpu < fmax(TOL_OWN, 4 * ecpu), "%s: cpu %.17g gpu %.17g float64 %.17g", proxies[p],
                   c32[p].value, g32[p].value, c64[p].value);
            worst64[p] = fmax(worst64[p], e64);
            worst_own[p] = fmax(worst_own[p], eown);
        }
    }
    printf("worst relative error over %d architectures (float64 / own precision):\n", NARCH);
    for (int p = 0; p < NPROX; p++)
        printf("  %-10s %.1e / %.1e\n", proxies[p], worst64[p], worst_own[p]);
    return test_summary("test_gpu_proxies");
}
