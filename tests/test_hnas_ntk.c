/* tests/test_hnas_ntk.c: HNAS's per-architecture M and kappa (the hnas_* proxies,
 * proxies/proxy.h; docs/METHOD.md §3.8, §4.2) against independent computations, in float64:
 *  A. a hand-written network in plain loops shaped like ZC's NAS201Model cells: conv3x3 WITH
 *     bias, BN (train mode, affine=False), ReLU, conv1x1 WITH bias, BN, ReLU, GAP, linear
 *     (batch 5), every conv/linear weight and bias with a private copy per sample. The
 *     per-sample gradients of S = sum_n f_{y_n}(x_n) are central differences in one sample's
 *     copy, each sample's by its own forward passes; Theta = G G^T; M = sqrt(tr Theta / N);
 *     kappa by the test's own Jacobi. The graph (graph_conv_bn_bias: the executor never adds
 *     the bias) gives the same logits, the same Theta, M and kappa, and the conv biases change
 *     Theta (they are not dropped).
 *  B. the driver on real CIFAR-10 images: parameter counts of ZC's NAS201Model (closed form =
 *     graph; the every-module count 1,692,826 summed by hand from nasbench2_ops); an
 *     architecture's hnas_* values do not depend on which architectures were scored before
 *     (fresh weights and batch from proxy_hnas_seed(seed, code)); they equal a plain job on
 *     exec_init_params / dataset_load_batch under that seed; hnas_grad_norm / hnas_snip equal
 *     grad_norm / snip computed on the same weights and batch (the biases change no weight
 *     gradient under train-mode BN).
 *   ./build/bin/test_hnas_ntk ../shared/data */
#include <math.h>
#include <string.h>

#include "datasets/dataset.h"
#include "engine/exec.h"
#include "nn/batchnorm2d.h"
#include "nasbench/nb201_net.h"
#include "proxies/proxy.h"
#include "proxies/proxy_impl.h"
#include "base/common.h"
#include "tests/test_util.h"

enum { HN = 5, CI = 2, HH = 4, HW = HH * HH, C1 = 3, K = 4 };
/* per-sample parameters: conv1 w [0,54) b [54,57); conv2 w [57,66) b [66,69); fc w [69,81)
 * b [81,85) */
enum { O_B1 = 54, O_W2 = 57, O_B2 = 66, O_FW = 69, O_FB = 81, NW = 85 };
typedef struct { double w[NW]; } sample_w;

static void hand_forward(const sample_w *P, const double *x, double *z) {
    double a1[HN * C1 * HW], r1[HN * C1 * HW], a2[HN * C1 * HW], r2[HN * C1 * HW];
    for (int n = 0; n < HN; n++)
        for (int o = 0; o < C1; o++)
            for (int yy = 0; yy < HH; yy++)
                for (int xx = 0; xx < HH; xx++) {
                    double s = P[n].w[O_B1 + o];
                    for (int i = 0; i < CI; i++)
                        for (int ky = 0; ky < 3; ky++)
                            for (int kx = 0; kx < 3; kx++) {
                                const int iy = yy + ky - 1, ix = xx + kx - 1;
                                if (iy < 0 || iy >= HH || ix < 0 || ix >= HH) continue;
                                s += P[n].w[((o * CI + i) * 3 + ky) * 3 + kx] *
                                     fmax(x[((n * CI + i) * HH + iy) * HH + ix], 0);
                            }
                    a1[(n * C1 + o) * HW + yy * HH + xx] = s;
                }
    test_bn_train(a1, HN, C1, HW, NULL, NULL, r1);
    for (int n = 0; n < HN; n++)
        for (int o = 0; o < C1; o++)
            for (int p = 0; p < HW; p++) {
                double s = P[n].w[O_B2 + o];
                for (int i = 0; i < C1; i++)
                    s += P[n].w[O_W2 + o * C1 + i] * fmax(r1[(n * C1 + i) * HW + p], 0);
                a2[(n * C1 + o) * HW + p] = s;
            }
    test_bn_train(a2, HN, C1, HW, NULL, NULL, r2);
    for (int n = 0; n < HN; n++) {
        double f[C1];
        for (int i = 0; i < C1; i++) {
            f[i] = 0;
            for (int p = 0; p < HW; p++) f[i] += fmax(r2[(n * C1 + i) * HW + p], 0) / HW;
        }
        for (int k = 0; k < K; k++) {
            double s = P[n].w[O_FB + k];
            for (int i = 0; i < C1; i++) s += P[n].w[O_FW + k * C1 + i] * f[i];
            z[n * K + k] = s;
        }
    }
}

static const int hy[HN] = {1, 3, 0, 3, 2};

static double hand_trueclass(const sample_w *P, const double *x) {
    double z[HN * K], s = 0;
    hand_forward(P, x, z);
    for (int n = 0; n < HN; n++) s += z[n * K + hy[n]];
    return s;
}

static void part_a(fn_proxy_scratch *scr) {
    fn_graph g;
    graph_init(&g);
    int t = graph_input(&g, HN, CI, HH, HH);
    t = graph_bn(&g, "b1", graph_conv_bn_bias(&g, "c1", graph_relu(&g, t), C1, 3, 1, 1, 1, 1), 0);
    t = graph_bn(&g, "b2", graph_conv_bn_bias(&g, "c2", graph_relu(&g, t), C1, 1, 1, 0, 1, 1), 0);
    g.output = graph_linear(&g, "fc", graph_gap(&g, graph_relu(&g, t)), K);
    CHECK(graph_num_params(&g) == NW);
    unsigned s = 7;
    float xf[HN * CI * HW];
    double x[HN * CI * HW];
    for (int i = 0; i < HN * CI * HW; i++) x[i] = xf[i] = (float)test_rand(&s);
    unsigned char keep[64];
    fn_exec_opts eo = proxy_exec_opts(&g, FN_PX_INPUT_GRAD | FN_PX_KEEP_CONV_IN, keep);
    fn_exec e;
    CHECK(exec_init_opts(&e, &g, FN_F64, &eo) == 0);
    e.bn_mode = FN_BN_TRAIN;
    exec_init_params(&e, 11);
    /* conv biases well away from zero, so that dropping them could not pass unnoticed */
    for (int q = 0; q < 2; q++) {
        double *b = exec_param(&e, graph_param_find(&g, q ? "c2.bias" : "c1.bias"));
        for (int o = 0; o < C1; o++) b[o] = 0.5 + 0.4 * test_rand(&s);
    }
    exec_params_changed(&e);
    sample_w P[HN];
    const char *names[6] = {"c1.weight", "c1.bias", "c2.weight", "c2.bias", "fc.weight", "fc.bias"};
    for (int n = 0; n < HN; n++)
        for (int q = 0, off = 0; q < 6; q++) {
            const int p = graph_param_find(&g, names[q]);
            CHECK(p >= 0);
            memcpy(P[n].w + off, exec_param(&e, p), sizeof(double) * g.p[p].numel);
            off += (int)g.p[p].numel;
        }
    fn_proxy_job j;
    proxy_job_init(&j, &g, &e, xf, hy, scr);
    double z[HN * K];
    hand_forward(P, x, z);
    proxy_set_input(&j);
    exec_forward(&e);
    check_close("ZC cell net: executor (bias not added) = hand forward (bias added)",
                exec_tensor(&e, g.output), z, HN * K, 1e-12, 1e-10);
    /* G[n][k] = dS / d(sample n's copy of parameter k), each by its own forward passes */
    static double G[HN][NW];
    for (int n = 0; n < HN; n++)
        for (int k = 0; k < NW; k++) {
            const double h = 1e-6, v = P[n].w[k];
            P[n].w[k] = v + h;
            const double a = hand_trueclass(P, x);
            P[n].w[k] = v - h;
            const double b = hand_trueclass(P, x);
            P[n].w[k] = v;
            G[n][k] = (a - b) / (2 * h);
        }
    double th_ref[HN * HN], th_nb[HN * HN], th[HN * HN], w[HN], tr = 0, dnb = 0;
    for (int a = 0; a < HN; a++)
        for (int b = 0; b < HN; b++) {
            double d = 0, dw = 0;
            for (int k = 0; k < NW; k++) {
                d += G[a][k] * G[b][k];
                const int is_cb = (k >= O_B1 && k < O_W2) || (k >= O_B2 && k < O_FW);
                dw += is_cb ? 0 : G[a][k] * G[b][k];
            }
            th_ref[a * HN + b] = d;
            th_nb[a * HN + b] = dw;
            dnb = fmax(dnb, fabs(d - dw) / fabs(d));
        }
    CHECKF(dnb > 1e-3, "the conv biases do not change Theta (max rel %g): test too weak", dnb);
    proxy_ntk_gram(&j, th);
    check_close("hnas Theta vs per-sample FD G G^T (conv biases included)", th, th_ref,
                HN * HN, 1e-9, 1e-6);
    for (int n = 0; n < HN; n++) tr += th_ref[n * HN + n];
    double v, ref;
    char err[256];
    CHECK(proxy_ntk_trace(&j, &v, err, sizeof err) == 0);
    ref = sqrt(tr / HN);
    check_close("M = sqrt(tr Theta / N)", &v, &ref, 1, 0, 1e-7);
    memcpy(th, th_ref, sizeof th);
    test_jacobi_eig(HN, th, w);
    CHECK(proxy_ntk_cond(&j, &v, err, sizeof err) == 0);
    ref = w[HN - 1] / w[0];
    printf("hnas NTK: M %.9g, eigenvalues %.4g .. %.4g, kappa %.9g\n", sqrt(tr / HN), w[0],
           w[HN - 1], v);
    check_close("kappa = lambda_max / lambda_min (Jacobi)", &v, &ref, 1, 0, 1e-5);
    (void)th_nb;
    exec_free(&e);
    graph_free(&g);
}

static const char *ARCH =
    "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|none~1|nor_conv_3x3~2|";
static const char *ARCH2 =
    "|nor_conv_1x1~0|+|nor_conv_3x3~0|skip_connect~1|+|nor_conv_3x3~0|nor_conv_1x1~1|none~2|";

static void part_b(const char *data) {
    /* parameter counts: ZC's NAS201Model for CIFAR-10 */
    const nb201_config z = {16, 5, 10, 32, 32, 1, 1};
    /* by hand from nasbench2_ops: stem 464; cells 5 x 6 x (10 C^2 + 2 C) at C = 16, 32, 64
     * = 77,760 + 309,120 + 1,232,640; reductions 14,464 + 57,600; top BN 128, linear 650 */
    CHECKF(nb201_net_params_zc_module(&z) == 1692826, "ZC NAS201Model parameters %zu",
           nb201_net_params_zc_module(&z));
    int ops[6];
    nb201_arch_parse(ARCH, ops);
    fn_graph g;
    graph_init(&g);
    nb201_net_build(&g, &z, ops);
    CHECKF(graph_num_params(&g) == nb201_net_params(&z, ops), "graph %zu, closed form %zu",
           graph_num_params(&g), nb201_net_params(&z, ops));
    const nb201_config ad = {16, 5, 10, 32, 32, 1, 0};
    /* per conv edge: + C conv bias, - 2 C BN affine; ARCH has 3 conv edges per cell */
    CHECK(nb201_net_params(&z, ops) + 3 * 5 * (16 + 32 + 64) == nb201_net_params(&ad, ops));
    graph_free(&g);
    if (!data) return;

    /* the driver: small net so that it runs fast; batch 16 */
    fn_proxy_config c;
    proxy_config_default(&c);
    c.data_path = data;
    c.channels = 4;
    c.cells = 1;
    c.batch = 16;
    c.seed = 3;
    const char *names[5] = {"hnas_ntk_trace", "hnas_ntk_cond", "hnas_grad_norm", "hnas_snip",
                            "hnas_grasp"};
    fn_proxy_value v1[5], v2[5], vb[5], v3[5];
    char err[FN_ERRLEN];
    fn_proxy_ctx *x1, *x2;
    CHECK(proxy_ctx_create(&c, &x1, err, sizeof err) == FN_OK);
    CHECK(proxy_ctx_create(&c, &x2, err, sizeof err) == FN_OK);
    CHECKF(proxy_score(x1, ARCH, names, 5, v1, err, sizeof err) == FN_OK, "%s", err);
    CHECKF(proxy_score(x2, ARCH2, names, 5, vb, err, sizeof err) == FN_OK, "%s", err);
    CHECKF(proxy_score(x2, ARCH, names, 5, v2, err, sizeof err) == FN_OK, "%s", err);
    CHECKF(proxy_score(x1, ARCH, names + 1, 1, v3, err, sizeof err) == FN_OK, "%s", err);
    for (int i = 0; i < 5; i++) {
        printf("  %-15s %.9g (other arch %.9g)\n", names[i], v1[i].value, vb[i].value);
        CHECKF(v1[i].value == v2[i].value, "%s depends on the archs scored before", names[i]);
        CHECK(isfinite(v1[i].value) && v1[i].value != vb[i].value);
    }
    CHECKF(v3[0].value == v1[1].value, "hnas_ntk_cond alone differs");
    { /* hnas_grasp runs in float32 as HNAS's code does; float64 gives it within float32 error */
        fn_proxy_config c64 = c;
        c64.precision = 64;
        fn_proxy_ctx *x64;
        fn_proxy_value g64;
        CHECK(proxy_ctx_create(&c64, &x64, err, sizeof err) == FN_OK);
        CHECKF(proxy_score(x64, ARCH, names + 4, 1, &g64, err, sizeof err) == FN_OK, "%s", err);
        const double rel = fabs(g64.value - v1[4].value) / fabs(g64.value);
        printf("  hnas_grasp float32 %.9g float64 %.9g (rel %.2e)\n", v1[4].value, g64.value, rel);
        CHECKF(rel < 1e-3 && g64.value != v1[4].value, "rel %.3g", rel);
        proxy_ctx_free(x64);
    }
    /* a plain job on exec_init_params / dataset_load_batch under proxy_hnas_seed */
    const uint64_t as = proxy_hnas_seed(c.seed, nb201_arch_code(ops));
    CHECK(as != proxy_hnas_seed(c.seed, nb201_arch_code(ops) + 1));
    CHECK(as != proxy_hnas_seed(c.seed + 1, nb201_arch_code(ops)));
    fn_batch b;
    CHECKF(dataset_load_batch("cifar10", data, 16, as, 1, &b, err, sizeof err) == 0, "%s", err);
    const nb201_config nc = {4, 1, 10, 32, 32, 16, 1};
    graph_init(&g);
    nb201_net_build(&g, &nc, ops);
    fn_proxy_scratch scr = {0};
    unsigned char keep[4096];
    CHECK(g.nt <= 4096);
    for (int pass = 0; pass < 2; pass++) {
        fn_exec_opts eo = proxy_exec_opts(&g, pass ? FN_PX_PARAM_GRADS
                                                   : FN_PX_INPUT_GRAD | FN_PX_KEEP_CONV_IN, keep);
        fn_exec e;
        CHECK(exec_init_opts(&e, &g, FN_F32, &eo) == 0);
        e.bn_mode = FN_BN_TRAIN;
        exec_init_params(&e, as);
        fn_proxy_job j;
        proxy_job_init(&j, &g, &e, b.x, b.y, &scr);
        double r[2];
        if (!pass) {
            CHECK(proxy_ntk_trace(&j, &r[0], err, sizeof err) == 0);
            CHECK(proxy_ntk_cond(&j, &r[1], err, sizeof err) == 0);
        } else {
            CHECK(proxy_grad_norm(&j, &r[0], err, sizeof err) == 0);
            CHECK(proxy_snip(&j, &r[1], err, sizeof err) == 0);
        }
        const double want[2] = {v1[2 * pass].value, v1[2 * pass + 1].value};
        check_close(pass ? "hnas grad_norm, snip = a plain job under proxy_hnas_seed"
                         : "hnas M, kappa = a plain job under proxy_hnas_seed",
                    r, want, 2, 0, 0);
        exec_free(&e);
    }
    /* the same weights without the biases (AD cells, BN affine at gamma 1, beta 0): the
     * biases change no weight gradient, so grad_norm and snip agree to rounding */
    {
        const nb201_config nad = {4, 1, 10, 32, 32, 16, 0};
        fn_graph g2;
        graph_init(&g2);
        nb201_net_build(&g2, &nad, ops);
        fn_exec_opts eo = proxy_exec_opts(&g2, FN_PX_PARAM_GRADS, keep);
        fn_exec e2, e1;
        CHECK(exec_init_opts(&e2, &g2, FN_F64, &eo) == 0);
        fn_exec_opts eo1 = proxy_exec_opts(&g, FN_PX_PARAM_GRADS, keep);
        CHECK(exec_init_opts(&e1, &g, FN_F64, &eo1) == 0);
        e1.bn_mode = e2.bn_mode = FN_BN_TRAIN;
        exec_init_params(&e1, as);
        exec_init_params(&e2, as);
        for (int p = 0; p < g2.np; p++) { /* copy by name; cell BN affine stays at 1, 0 */
            const int q = graph_param_find(&g, g2.p[p].name);
            CHECK(q >= 0 || g2.p[p].kind == FN_PARAM_BN_W || g2.p[p].kind == FN_PARAM_BN_B);
            if (q >= 0)
                memcpy(exec_param(&e2, p), exec_param(&e1, q), sizeof(double) * g2.p[p].numel);
        }
        exec_params_changed(&e2);
        fn_proxy_job j1, j2;
        proxy_job_init(&j1, &g, &e1, b.x, b.y, &scr);
        proxy_job_init(&j2, &g2, &e2, b.x, b.y, &scr);
        double r1[2], r2[2];
        CHECK(proxy_grad_norm(&j1, &r1[0], err, sizeof err) == 0);
        CHECK(proxy_snip(&j1, &r1[1], err, sizeof err) == 0);
        CHECK(proxy_grad_norm(&j2, &r2[0], err, sizeof err) == 0);
        CHECK(proxy_snip(&j2, &r2[1], err, sizeof err) == 0);
        check_close("grad_norm, snip: ZC cells (bias) = AD cells (no bias), float64", r1, r2, 2,
                    0, 1e-12);
        exec_free(&e1);
        exec_free(&e2);
        graph_free(&g2);
    }
    proxy_scratch_free(&scr);
    batch_free(&b);
    graph_free(&g);
    proxy_ctx_free(x1);
    proxy_ctx_free(x2);
}

int main(int argc, char **argv) {
    fn_proxy_scratch scr = {0};
    part_a(&scr);
    proxy_scratch_free(&scr);
    part_b(argc > 1 ? argv[1] : NULL);
    return test_summary("test_hnas_ntk");
}
