/* tests/test_proxies_persample.c: the proxies built on per-sample quantities (proxies/proxy.h:
 * ntk_trace, ntk_cond, fisher, naswot, jacob_cov) against a hand-written network in plain
 * loops (conv3x3, BN, ReLU, conv1x1, BN, ReLU, GAP, linear; train-mode BN, batch 5) whose
 * conv/linear weights have a private copy per sample, in float64:
 *   NTK: the per-sample gradients are central differences of S = sum_n f_{y_n}(x_n) in one
 *   sample's copy; Theta = G G^T; the rows sum to dS/dW but are not a sample's own gradient
 *   (train-mode BN couples the samples); eigenvalues by the test's own Jacobi;
 *   fisher: from the same per-sample gradients of the loss (sum_hw a dL/da = W_k . g_k^(n));
 *   naswot: K by counting equal ReLU states unit by unit, det K by the permutation expansion;
 *   jacob_cov: the input Jacobian by central differences, corrcoef and Jacobi by hand.
 *   ./build/bin/test_proxies_persample */
#include <math.h>
#include <string.h>

#include "engine/exec.h"
#include "proxies/proxy.h"
#include "proxies/proxy_impl.h"
#include "nn/batchnorm2d.h"
#include "base/common.h"
#include "nn/cross_entropy.h"
#include "tests/test_util.h"

enum { HN = 5, CI = 2, HH = 4, HW = HH * HH, C1 = 3, K = 4, NW = C1 * CI * 9 + C1 * C1 + K * C1 + K };
/* per-sample weights: [0,54) conv1, [54,63) conv2, [63,75) fc weight, [75,79) fc bias */
typedef struct { double w[NW]; } sample_w;
static double bn_g1[C1], bn_b1[C1], bn_g2[C1], bn_b2[C1];

/* z [HN][K]; r1, r2 [HN][C1][HW]: the inputs of the two ReLUs (NULL to skip) */
static void hand_forward(const sample_w *P, const double *x, double *z, double *r1o, double *r2o) {
    double a1[HN * C1 * HW], r1[HN * C1 * HW], a2[HN * C1 * HW], r2[HN * C1 * HW];
    for (int n = 0; n < HN; n++)
        for (int o = 0; o < C1; o++)
            for (int yy = 0; yy < HH; yy++)
                for (int xx = 0; xx < HH; xx++) {
                    double s = 0;
                    for (int i = 0; i < CI; i++)
                        for (int ky = 0; ky < 3; ky++)
                            for (int kx = 0; kx < 3; kx++) {
                                const int iy = yy + ky - 1, ix = xx + kx - 1;
                                if (iy < 0 || iy >= HH || ix < 0 || ix >= HH) continue;
                                s += P[n].w[((o * CI + i) * 3 + ky) * 3 + kx] *
                                     x[((n * CI + i) * HH + iy) * HH + ix];
                            }
                    a1[(n * C1 + o) * HW + yy * HH + xx] = s;
                }
    test_bn_train(a1, HN, C1, HW, bn_g1, bn_b1, r1);
    for (int n = 0; n < HN; n++)
        for (int o = 0; o < C1; o++)
            for (int p = 0; p < HW; p++) {
                double s = 0;
                for (int i = 0; i < C1; i++)
                    s += P[n].w[54 + o * C1 + i] * fmax(r1[(n * C1 + i) * HW + p], 0);
                a2[(n * C1 + o) * HW + p] = s;
            }
    test_bn_train(a2, HN, C1, HW, bn_g2, bn_b2, r2);
    for (int n = 0; n < HN; n++) {
        double f[C1];
        for (int i = 0; i < C1; i++) {
            f[i] = 0;
            for (int p = 0; p < HW; p++) f[i] += fmax(r2[(n * C1 + i) * HW + p], 0) / HW;
        }
        for (int k = 0; k < K; k++) {
            double s = P[n].w[75 + k];
            for (int i = 0; i < C1; i++) s += P[n].w[63 + k * C1 + i] * f[i];
            z[n * K + k] = s;
        }
    }
    if (r1o) memcpy(r1o, r1, sizeof r1);
    if (r2o) memcpy(r2o, r2, sizeof r2);
}

static const int hy[HN] = {2, 0, 3, 3, 1};

static double hand_trueclass(const sample_w *P, const double *x) {
    double z[HN * K], s = 0;
    hand_forward(P, x, z, NULL, NULL);
    for (int n = 0; n < HN; n++) s += z[n * K + hy[n]];
    return s;
}

static double hand_ce(const sample_w *P, const double *x) {
    double z[HN * K];
    hand_forward(P, x, z, NULL, NULL);
    return cross_entropy_forward_f64(z, hy, HN, K);
}

/* G[n][e] = d f / d (sample n's copy of weight e) */
static void per_sample_fd(sample_w *P, const double *x, double (*f)(const sample_w *, const double *),
                          double G[HN][NW]) {
    const double h = 1e-6;
    for (int n = 0; n < HN; n++)
        for (int e = 0; e < NW; e++) {
            const double v = P[n].w[e];
            P[n].w[e] = v + h;
            const double a = f(P, x);
            P[n].w[e] = v - h;
            const double b = f(P, x);
            P[n].w[e] = v;
            G[n][e] = (a - b) / (2 * h);
        }
}

/* det by the permutation expansion (Heap's algorithm) */
static double det_perm(const double *a, int n) {
    int perm[8], cnt[8] = {0}, sign = 1;
    for (int i = 0; i < n; i++) perm[i] = i;
    double det = 0;
    for (;;) {
        double p = sign;
        for (int i = 0; i < n; i++) p *= a[i * n + perm[i]];
        det += p;
        int i = 1;
        while (i < n && cnt[i] >= i) cnt[i++] = 0;
        if (i >= n) break;
        const int s = i % 2 ? cnt[i] : 0, t = perm[s];
        perm[s] = perm[i];
        perm[i] = t;
        cnt[i]++;
        sign = -sign;
    }
    return det;
}

static void part_b(fn_proxy_scratch *scr) {
    fn_graph g;
    graph_init(&g);
    int t = graph_input(&g, HN, CI, HH, HH);
    t = graph_relu(&g, graph_bn(&g, "b1", graph_conv(&g, "c1", t, C1, 3, 1, 1, 1, 1), 1));
    t = graph_relu(&g, graph_bn(&g, "b2", graph_conv(&g, "c2", t, C1, 1, 1, 0, 1, 1), 1));
    g.output = graph_linear(&g, "fc", graph_gap(&g, t), K);
    unsigned s = 5;
    float xf[HN * CI * HW];
    double x[HN * CI * HW];
    for (int i = 0; i < HN * CI * HW; i++) x[i] = xf[i] = (float)test_rand(&s);
    for (int o = 0; o < C1; o++) {
        bn_g1[o] = 1 + 0.3 * test_rand(&s); bn_b1[o] = 0.2 * test_rand(&s);
        bn_g2[o] = 1 + 0.3 * test_rand(&s); bn_b2[o] = 0.2 * test_rand(&s);
    }
    unsigned char keep[64];
    fn_exec_opts eo = proxy_exec_opts(&g, FN_PX_INPUT_GRAD | FN_PX_KEEP_CONV_IN | FN_PX_KEEP_CONV_OUT, keep);
    fn_exec e;
    CHECK(exec_init_opts(&e, &g, FN_F64, &eo) == 0);
    exec_init_params(&e, 9);
    memcpy(exec_param(&e, graph_param_find(&g, "b1.weight")), bn_g1, sizeof bn_g1);
    memcpy(exec_param(&e, graph_param_find(&g, "b1.bias")), bn_b1, sizeof bn_b1);
    memcpy(exec_param(&e, graph_param_find(&g, "b2.weight")), bn_g2, sizeof bn_g2);
    memcpy(exec_param(&e, graph_param_find(&g, "b2.bias")), bn_b2, sizeof bn_b2);
    sample_w P[HN];
    const char *names[4] = {"c1.weight", "c2.weight", "fc.weight", "fc.bias"};
    for (int n = 0; n < HN; n++)
        for (int q = 0, off = 0; q < 4; q++) {
            const int p = graph_param_find(&g, names[q]);
            memcpy(P[n].w + off, exec_param(&e, p), sizeof(double) * g.p[p].numel);
            off += (int)g.p[p].numel;
        }
    fn_proxy_job j;
    proxy_job_init(&j, &g, &e, xf, hy, scr);
    /* the hand-written network is the graph's network */
    double z[HN * K], r1[HN * C1 * HW], r2[HN * C1 * HW];
    hand_forward(P, x, z, r1, r2);
    proxy_set_input(&j);
    exec_forward(&e);
    check_close("hand-written forward = executor logits", exec_tensor(&e, g.output), z, HN * K,
                1e-12, 1e-10);

    /* NTK: Theta = G G^T of per-sample-copy gradients of sum_n f_{y_n}(x_n) */
    static double G[HN][NW];
    per_sample_fd(P, x, hand_trueclass, G);
    double th_ref[HN * HN], th[HN * HN], w[HN], tr = 0;
    for (int a = 0; a < HN; a++)
        for (int b = 0; b < HN; b++) {
            double d = 0;
            for (int k = 0; k < NW; k++) d += G[a][k] * G[b][k];
            th_ref[a * HN + b] = d;
        }
    proxy_ntk_gram(&j, th);
    check_close("NTK Theta vs per-sample-copy FD G G^T", th, th_ref, HN * HN, 1e-9, 1e-6);
    for (int n = 0; n < HN; n++) tr += th_ref[n * HN + n];
    /* what the rows are: they sum to dS/dW of the shared weights, but with train-mode BN a
     * row is not sample n's own gradient d f_{y_n}(x_n) / dW (BN couples the samples) */
    double dS[NW] = {0}, own[NW], dsum = 0, drow = 0;
    for (int k = 0; k < NW; k++) {
        const double h = 1e-6, v0 = P[0].w[k];
        double zp[HN * K], zm[HN * K];
        for (int n = 0; n < HN; n++) P[n].w[k] = v0 + h;
        const double sp = hand_trueclass(P, x);
        hand_forward(P, x, zp, NULL, NULL);
        for (int n = 0; n < HN; n++) P[n].w[k] = v0 - h;
        const double sm = hand_trueclass(P, x);
        hand_forward(P, x, zm, NULL, NULL);
        for (int n = 0; n < HN; n++) P[n].w[k] = v0;
        dS[k] = (sp - sm) / (2 * h);
        own[k] = (zp[hy[0]] - zm[hy[0]]) / (2 * h); /* sample 0's own true-class logit */
        double rs = 0;
        for (int n = 0; n < HN; n++) rs += G[n][k];
        dsum = fmax(dsum, fabs(rs - dS[k]));
        drow += fabs(own[k] - G[0][k]);
    }
    CHECKF(dsum < 1e-8, "rows of G do not sum to dS/dW (max dev %g)", dsum);
    CHECKF(drow > 1e-3, "G[0] equals sample 0's own gradient (%g): BN coupling missing?", drow);
    double v, ref;
    char err[256];
    CHECK(proxy_ntk_trace(&j, &v, err, sizeof err) == 0);
    ref = sqrt(tr / HN);
    check_close("ntk_trace = sqrt(tr Theta / N)", &v, &ref, 1, 0, 1e-6);
    memcpy(th, th_ref, sizeof th);
    test_jacobi_eig(HN, th, w);
    CHECK(proxy_ntk_cond(&j, &v, err, sizeof err) == 0);
    ref = w[HN - 1] / w[0];
    printf("NTK eigenvalues %.4g .. %.4g, cond %.6g\n", w[0], w[HN - 1], v);
    check_close("ntk_cond = lambda_max / lambda_min (Jacobi)", &v, &ref, 1, 0, 1e-5);

    /* fisher: sum_l fan_in sum_k 1/2 mean_n (W_k . g_k^(n))^2, g^(n) per-sample-copy dL/dW */
    per_sample_fd(P, x, hand_ce, G);
    const int lay_off[3] = {0, 54, 63}, lay_fan[3] = {18, 3, 3};
    ref = 0;
    for (int l = 0; l < 3; l++)
        for (int k = 0; k < (l == 2 ? K : C1); k++) {
            double m = 0;
            for (int n = 0; n < HN; n++) {
                double sk = 0;
                for (int i = 0; i < lay_fan[l]; i++) {
                    const int idx = lay_off[l] + k * lay_fan[l] + i;
                    sk += P[n].w[idx] * G[n][idx];
                }
                if (l == 2) sk += P[n].w[75 + k] * G[n][75 + k]; /* the output includes the bias */
                m += sk * sk;
            }
            ref += lay_fan[l] * 0.5 * m / HN;
        }
    CHECK(proxy_fisher(&j, &v, err, sizeof err) == 0);
    check_close("fisher vs per-sample-copy FD", &v, &ref, 1, 0, 1e-6);

    /* naswot: K[a][b] = units where the ReLU inputs of a and b are both > 0 or both <= 0 */
    double Kp[HN * HN], Kr[HN * HN];
    proxy_set_input(&j);
    exec_forward(&e);
    proxy_naswot_kernel(&j, Kp);
    for (int a = 0; a < HN; a++)
        for (int b = 0; b < HN; b++) {
            int cnt = 0;
            for (int u = 0; u < C1 * HW; u++) {
                cnt += (r1[a * C1 * HW + u] > 0) == (r1[b * C1 * HW + u] > 0);
                cnt += (r2[a * C1 * HW + u] > 0) == (r2[b * C1 * HW + u] > 0);
            }
            Kr[a * HN + b] = cnt;
        }
    check_close("naswot K vs unit-by-unit count", Kp, Kr, HN * HN, 0, 0);
    CHECK(proxy_naswot(&j, &v, err, sizeof err) == 0);
    ref = log(fabs(det_perm(Kr, HN)));
    check_close("naswot = log|det K| (permutation expansion)", &v, &ref, 1, 1e-10, 1e-10);
    /* two identical samples: equal codes, K singular, the score -inf (NW's slogdet) and no
     * error; the registry accepts -inf as naswot's worst score */
    float saved[CI * HW];
    memcpy(saved, xf + CI * HW, sizeof saved);
    memcpy(xf + CI * HW, xf, sizeof saved);
    CHECK(proxy_naswot(&j, &v, err, sizeof err) == 0);
    CHECKF(v == -INFINITY, "naswot with a repeated sample: %g, want -inf", v);
    memcpy(xf + CI * HW, saved, sizeof saved);
    CHECK(proxy_naswot(&j, &v, err, sizeof err) == 0 && fabs(v - ref) < 1e-10);

    /* jacob_cov: J_n = d sum(logits) / d x_n by FD in the input */
    static double J[HN * CI * HW];
    for (int i = 0; i < HN * CI * HW; i++) {
        const double h = 1e-6, x0 = x[i];
        double za[HN * K], zb[HN * K], sa = 0, sb = 0;
        x[i] = x0 + h;
        hand_forward(P, x, za, NULL, NULL);
        x[i] = x0 - h;
        hand_forward(P, x, zb, NULL, NULL);
        x[i] = x0;
        for (int k = 0; k < HN * K; k++) { sa += za[k]; sb += zb[k]; }
        J[i] = (sa - sb) / (2 * h);
    }
    double cr[HN * HN], ev[HN];
    const int D = CI * HW;
    for (int a = 0; a < HN; a++)
        for (int b = 0; b < HN; b++) {
            double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
            for (int i = 0; i < D; i++) { ma += J[a * D + i] / D; mb += J[b * D + i] / D; }
            for (int i = 0; i < D; i++) {
                const double u = J[a * D + i] - ma, q = J[b * D + i] - mb;
                sab += u * q; saa += u * u; sbb += q * q;
            }
            cr[a * HN + b] = sab / sqrt(saa * sbb);
        }
    test_jacobi_eig(HN, cr, ev);
    ref = 0;
    for (int i = 0; i < HN; i++) ref -= log(ev[i] + 1e-5) + 1 / (ev[i] + 1e-5);
    CHECK(proxy_jacob_cov(&j, &v, err, sizeof err) == 0);
    printf("jacob_cov %.9g (correlation eigenvalues %.4g .. %.4g)\n", v, ev[0], ev[HN - 1]);
    check_close("jacob_cov vs FD Jacobian, corrcoef, Jacobi", &v, &ref, 1, 0, 1e-6);
    /* a constant Jacobian row is NaN, as ZC */
    double Jc[2 * 3] = {1, 1, 1, 1, 2, 3}, work[2 * 2 + 2 + 6];
    CHECK(isnan(proxy_jacob_score(Jc, 2, 3, work)));
    exec_free(&e);
    graph_free(&g);
}

int main(void) {
    fn_proxy_scratch scr = {0};
    part_b(&scr);
    proxy_scratch_free(&scr);
    return test_summary("test_proxies_persample");
}
