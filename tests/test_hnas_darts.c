/* tests/test_hnas_darts.c: HNAS on the DARTS space (hnas/darts_pool.h, hnas/darts_bo.h):
 *  A. the pool: genotype i is a pure function of (seed, width, i) (a pool of 50 is the first 50
 *     of a pool of 400), width 7 never draws dil_conv_5x5 and width 8 does, the derivation
 *     equals darts_derive of the test's own softmax of the same draws; the cache is written
 *     once and reused (built = 0, same genotypes), and a short file or one changed byte is
 *     rebuilt; the metric cache keeps whole lines, cuts a torn last line, names a bad line.
 *  B. M and kappa of a tiny DARTS evaluation net (C = 4, 2 cells, batch 3, 8 x 8, float64)
 *     against an independent computation: with BN as identity the samples are independent,
 *     and each per-sample gradient d f_{y_n}(x_n) / dW of every conv and linear weight and
 *     bias is a central difference of the network's own forward; Theta = G G^T, M and kappa
 *     (own Jacobi) match proxy_ntk_graph's. In train mode (batch statistics, what HNAS uses)
 *     the sum of all entries of Theta is ||dS/dW||^2 for S = sum_n f_{y_n}(x_n), checked by
 *     central differences of S; hnas_darts_ntk gives proxy_ntk_graph's values.
 *  C. the search: driven one evaluation at a time, the state machine gives exactly the
 *     sequential algorithm's steps (points, genotypes, values: bit for bit); each argmin is a
 *     brute-force one; with two evaluations in flight the same finishing order gives the same
 *     steps, no genotype is trained twice, and a run resumed from its first finished records
 *     continues exactly as the uninterrupted one.
 *   ./build/bin/test_hnas_darts */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/common.h"
#include "engine/exec.h"
#include "hnas/darts_bo.h"
#include "hnas/darts_pool.h"
#include "nn/rng.h"
#include "proxies/proxy.h"
#include "tests/test_util.h"
#include "train/train_net.h"

static int geq(const darts_genotype *a, const darts_genotype *b) {
    return !memcmp(a, b, sizeof *a);
}

static void test_pool(const char *dir) {
    hnas_dpool a, b;
    int built;
    char err[512];
    CHECK(!hnas_dpool_open(&a, NULL, 7, 400, 8, &built, err, sizeof err) && built);
    CHECK(!hnas_dpool_open(&b, NULL, 7, 50, 8, &built, err, sizeof err));
    int same = 1;
    for (int i = 0; i < 50; i++) same &= geq(&a.gt[i], &b.gt[i]);
    CHECKF(same, "a pool of 50 is not the prefix of a pool of 400");
    hnas_dpool_free(&b);
    /* the test's own derivation of genotype 3 */
    {
        double S[2 * DARTS_EDGES * DARTS_OPS];
        for (int r = 0; r < 2 * DARTS_EDGES; r++) {
            double v[8], s = 0;
            for (int o = 0; o < 8; o++) s += (v[o] = exp(fn_rng_normal(7, HNAS_DPOOL_STREAM, 3 * 224 + r * 8 + o)));
            for (int o = 0; o < 8; o++) S[r * 8 + o] = v[o] / s;
        }
        darts_genotype g;
        int bc, be, bo;
        CHECK(!darts_derive(S, &g, &bc, &be, &bo));
        CHECKF(geq(&g, &a.gt[3]), "genotype 3 differs from the test's own derivation");
    }
    int d5[2] = {0, 0}, none = 0;
    hnas_dpool q;
    CHECK(!hnas_dpool_open(&q, NULL, 7, 400, 7, &built, err, sizeof err));
    for (int i = 0; i < 400; i++)
        for (int c = 0; c < 2; c++)
            for (int k = 0; k < 8; k++) {
                d5[0] += a.gt[i].op[c][k] == DARTS_DIL_CONV_5X5;
                d5[1] += q.gt[i].op[c][k] == DARTS_DIL_CONV_5X5;
                none += a.gt[i].op[c][k] == DARTS_NONE || q.gt[i].op[c][k] == DARTS_NONE;
            }
    CHECKF(d5[0] > 200 && d5[1] == 0 && none == 0,
           "dil_conv_5x5 drawn %d times at width 8, %d at width 7 (none %d)", d5[0], d5[1], none);
    hnas_dpool_free(&q);
    /* cache */
    hnas_dpool c1, c2;
    CHECK(!hnas_dpool_open(&c1, dir, 7, 400, 8, &built, err, sizeof err) && built);
    CHECK(!hnas_dpool_open(&c2, dir, 7, 400, 8, &built, err, sizeof err));
    CHECKF(!built, "the cached pool was rebuilt");
    same = 1;
    for (int i = 0; i < 400; i++) same &= geq(&c1.gt[i], &a.gt[i]) && geq(&c2.gt[i], &a.gt[i]);
    CHECK(same);
    hnas_dpool_free(&c2);
    char path[1024];
    snprintf(path, sizeof path, "%s/pool_s7_n400_w8.bin", dir);
    CHECK(!truncate(path, 24 + 400 * 32 + 3)); /* torn */
    CHECK(!hnas_dpool_open(&c2, dir, 7, 400, 8, &built, err, sizeof err));
    CHECKF(built, "a torn cache was not rebuilt");
    hnas_dpool_free(&c2);
    FILE *f = fopen(path, "r+b");
    fseek(f, 24 + 32 * 17 + 5, SEEK_SET);
    const int ob = fgetc(f);
    fseek(f, 24 + 32 * 17 + 5, SEEK_SET);
    fputc(ob == 3 ? 4 : 3, f); /* another valid op index, so only the checksum tells */
    fclose(f);
    CHECK(!hnas_dpool_open(&c2, dir, 7, 400, 8, &built, err, sizeof err));
    CHECKF(built, "a changed byte was not detected");
    same = 1;
    for (int i = 0; i < 400; i++) same &= geq(&c2.gt[i], &a.gt[i]);
    CHECK(same);
    hnas_dpool_free(&c2);
    /* metric cache */
    char mp[1024];
    hnas_dpool_metrics_path(&c1, dir, 16, 5, 64, 1102, mp, sizeof mp);
    f = fopen(mp, "w");
    hnas_dpool_metrics_write(f, 5, 1.25, 3e4);
    hnas_dpool_metrics_write(f, 0, 2.5, 1e5);
    hnas_dpool_metrics_write(f, 399, 0.1, -7);
    fputs("12\t3.5\t4", f); /* torn */
    fclose(f);
    CHECK(!hnas_dpool_metrics_load(&c1, mp, err, sizeof err));
    CHECKF(c1.have == 3 && c1.M[5] == 1.25 && c1.kappa[399] == -7 && isnan(c1.M[12]),
           "metric cache: have %ld", c1.have);
    f = fopen(mp, "r");
    fseek(f, 0, SEEK_END);
    const long sz = ftell(f);
    fclose(f);
    f = fopen(mp, "a");
    fputs("7\tx\t1\n", f);
    fclose(f);
    CHECKF(sz > 0 && sz < 80, "the torn line was not cut (%ld bytes)", sz);
    hnas_dpool c3;
    CHECK(!hnas_dpool_open(&c3, dir, 7, 400, 8, &built, err, sizeof err));
    CHECKF(hnas_dpool_metrics_load(&c3, mp, err, sizeof err) && strstr(err, ":4:"),
           "bad line: %s", err);
    hnas_dpool_free(&c3);
    hnas_dpool_free(&c1);
    hnas_dpool_free(&a);
}

/* ---- B. M and kappa --------------------------------------------------------------------- */
enum { NB = 3, HW = 8 };

/* the true-class logits of the batch (BN mode of e) */
static void logits_true(fn_exec *e, const fn_graph *g, const float *x, const int *y, double *z) {
    double *in = exec_tensor(e, g->input);
    for (size_t i = 0; i < (size_t)NB * 3 * HW * HW; i++) in[i] = x[i];
    exec_forward(e);
    const double *o = exec_tensor(e, g->output);
    const int K = g->t[g->output].c;
    for (int n = 0; n < NB; n++) z[n] = o[n * K + y[n]];
}

/* G[n * P + col]: per-sample central differences (h = 1e-6) of the true-class logits in every
 * conv and linear weight and bias, in node order (BN mode of e); P columns in all */
static void fd_columns(fn_exec *e, const fn_graph *g, const float *x, const int *y, double *G,
                       size_t P) {
    const double h = 1e-6;
    size_t col = 0;
    for (int i = 0; i < g->nn; i++) {
        const fn_node *nd = &g->nodes[i];
        if (nd->kind != FN_NODE_CONV && nd->kind != FN_NODE_LINEAR) continue;
        for (int which = 0; which < 2; which++) {
            const int pi = which ? nd->b : nd->w;
            if (pi < 0) continue;
            double *w = exec_param(e, pi);
            for (size_t k = 0; k < g->p[pi].numel; k++, col++) {
                const double w0 = w[k];
                double zp[NB], zm[NB];
                w[k] = w0 + h;
                exec_params_changed(e);
                logits_true(e, g, x, y, zp);
                w[k] = w0 - h;
                exec_params_changed(e);
                logits_true(e, g, x, y, zm);
                w[k] = w0;
                for (int n = 0; n < NB; n++) G[(size_t)n * P + col] = (zp[n] - zm[n]) / (2 * h);
            }
        }
    }
    exec_params_changed(e);
}

static void test_ntk(void) {
    darts_genotype gt;
    hnas_dpool_genotype(11, 8, 5, &gt);
    /* a genotype with every kind of op */
    const int ops[8] = {DARTS_SEP_CONV_3X3, DARTS_DIL_CONV_5X5, DARTS_MAX_POOL_3X3,
                        DARTS_SKIP_CONNECT, DARTS_AVG_POOL_3X3, DARTS_SEP_CONV_5X5,
                        DARTS_DIL_CONV_3X3, DARTS_SKIP_CONNECT};
    for (int k = 0; k < 8; k++) gt.op[0][k] = gt.op[1][7 - k] = ops[k];
    char err[512];
    train_net net;
    const train_darts_config tc = {4, 2, 10, HW, HW, NB, 0, 0};
    CHECKF(!train_darts_net_build(&net, &gt, &tc, err, sizeof err), "%s", err);
    const fn_graph *g = &net.g;
    float x[NB * 3 * HW * HW];
    int y[NB] = {3, 7, 3};
    unsigned st = 5;
    for (size_t i = 0; i < sizeof x / sizeof *x; i++) x[i] = (float)(2 * test_rand(&st) - 1);
    const uint64_t seed = 42;
    /* proxy_ntk_graph, BN as identity */
    double M, kappa, theta[NB * NB];
    CHECK(proxy_ntk_graph(g, FN_F64, FN_BN_OFF, seed, x, y, &M, &kappa, theta, err, sizeof err) == FN_OK);
    /* the independent one: per-sample central differences */
    fn_exec e;
    CHECK(!exec_init(&e, g, FN_F64, 0));
    e.bn_mode = FN_BN_OFF;
    exec_init_params(&e, seed);
    size_t P = 0;
    for (int i = 0; i < g->nn; i++) {
        const fn_node *nd = &g->nodes[i];
        if (nd->kind != FN_NODE_CONV && nd->kind != FN_NODE_LINEAR) continue;
        P += g->p[nd->w].numel + (nd->b >= 0 ? g->p[nd->b].numel : 0);
    }
    double *G = callocCheck((size_t)NB * P, sizeof(double));
    fd_columns(&e, g, x, y, G, P);
    double th[NB * NB], ev[NB];
    for (int a = 0; a < NB; a++)
        for (int b = 0; b < NB; b++) {
            double s = 0;
            for (size_t k = 0; k < P; k++) s += G[(size_t)a * P + k] * G[(size_t)b * P + k];
            th[a * NB + b] = s;
        }
    double tr = 0;
    for (int n = 0; n < NB; n++) tr += th[n * NB + n];
    const double M_fd = sqrt(tr / NB);
    double tmp[NB * NB];
    memcpy(tmp, th, sizeof th);
    test_jacobi_eig(NB, tmp, ev);
    double lo = ev[0], hi = ev[0];
    for (int n = 1; n < NB; n++) lo = fmin(lo, ev[n]), hi = fmax(hi, ev[n]);
    printf("tiny DARTS net: %zu conv/linear parameters, M %.10g (FD %.10g), kappa %.10g (FD %.10g)\n",
           P, M, M_fd, kappa, hi / lo);
    check_close("Theta (BN identity) vs per-sample central differences", theta, th, NB * NB,
                1e-7 * tr, 1e-6);
    check_close("M", &M, &M_fd, 1, 0, 1e-7);
    const double k_fd = hi / lo;
    check_close("kappa", &kappa, &k_fd, 1, 0, 1e-5);
    /* train mode: sum of Theta = ||dS/dW||^2 */
    double Mt, kt, tht[NB * NB];
    CHECK(proxy_ntk_graph(g, FN_F64, FN_BN_TRAIN, seed, x, y, &Mt, &kt, tht, err, sizeof err) == FN_OK);
    e.bn_mode = FN_BN_TRAIN;
    double sum_th = 0, sum_g2 = 0;
    for (int k = 0; k < NB * NB; k++) sum_th += tht[k];
    fd_columns(&e, g, x, y, G, P);
    for (size_t k = 0; k < P; k++) {
        double d = 0;
        for (int n = 0; n < NB; n++) d += G[(size_t)n * P + k];
        sum_g2 += d * d;
    }
    printf("train mode: sum Theta %.10g, ||dS/dW||^2 by central differences %.10g\n", sum_th, sum_g2);
    check_close("sum of Theta (train-mode BN) vs ||dS/dW||^2", &sum_th, &sum_g2, 1,
                1e-7 * fabs(sum_g2), 1e-6);
    /* the driver */
    double Md, kd;
    CHECKF(!hnas_darts_ntk(&gt, 4, 2, 10, HW, HW, x, y, NB, seed, FN_F64, &Md, &kd, NULL, err,
                           sizeof err), "%s", err);
    CHECKF(Md == Mt && kd == kt, "hnas_darts_ntk %.17g %.17g vs %.17g %.17g", Md, kd, Mt, kt);
    exec_free(&e);
    free(G);
    train_net_free(&net);
}

/* ---- C. the search -------------------------------------------------------------------------- */
static double fake_acc(long arch, void *u, double *train_s) {
    (void)u;
    *train_s = 1.0 + arch % 7;
    return 50 + 40 * sin(0.37 * (double)arch) * cos(0.011 * (double)arch);
}

static void synth_pool(hnas_dpool *p) {
    int built;
    char err[256];
    CHECK(!hnas_dpool_open(p, NULL, 3, 300, 8, &built, err, sizeof err));
    for (long i = 0; i < p->n; i++) {
        p->M[i] = 150 * fn_rng_uniform(9, 1, (uint64_t)i);
        p->kappa[i] = 1e3 * (1 + 50 * fn_rng_uniform(9, 2, (uint64_t)i));
    }
    p->have = p->n;
}

/* finishes steps in a scheduled order: with `inflight` evaluations at once, the oldest (fifo)
 * or the newest (lifo) in flight finishes first; stop_after: leave after that many finished */
static int drive(hnas_dbo *b, int inflight, int lifo, int stop_after) {
    hnas_dbo_eval fl[8];
    int nf = 0, fin = 0;
    char err[512];
    for (;;) {
        while (nf < inflight) {
            hnas_dbo_eval e;
            const int r = hnas_dbo_next(b, &e, err, sizeof err);
            if (r < 0) {
                printf("next: %s\n", err);
                return -1;
            }
            if (r == 0) break;
            fl[nf++] = e;
        }
        if (!nf || fin == stop_after) return 0;
        const int k = lifo ? nf - 1 : 0;
        hnas_dbo_eval e = fl[k];
        memmove(fl + k, fl + k + 1, sizeof *fl * (size_t)(nf - k - 1));
        nf--;
        if (e.arch >= 0) e.valid_acc = fake_acc(e.arch, NULL, &e.train_s);
        e.rank = k;
        if (hnas_dbo_finish(b, &e, err, sizeof err)) {
            printf("finish: %s\n", err);
            return -1;
        }
        fin++;
    }
}

static void test_search(void) {
    hnas_dpool p;
    synth_pool(&p);
    hnas_dbo_config c;
    hnas_dbo_config_default(&c);
    c.T = 14;
    c.n_random = 2000;
    c.seed = 5;
    hnas_dbo_eval seq[HNAS_DBO_MAX_T];
    char err[512];
    CHECKF(!hnas_dbo_run_sequential(&c, &p, fake_acc, NULL, seq, err, sizeof err), "%s", err);
    hnas_dbo b;
    CHECK(!hnas_dbo_init(&b, &c, &p, err, sizeof err));
    CHECK(!drive(&b, 1, 0, -1));
    int same = 1, brute = 1, cached = 0;
    for (int t = 0; t < c.T; t++) {
        const hnas_dbo_eval *s = &seq[t], *m = &b.ev[t];
        same &= s->nu == m->nu && s->log10_mu == m->log10_mu && s->arch == m->arch &&
                (s->arch < 0 || s->valid_acc == m->valid_acc) && s->same_as == m->same_as;
        cached += s->arch < 0;
        if (s->arch < 0) continue;
        /* brute force: the smallest score among genotypes not evaluated before */
        long best = -1;
        double bs = 0;
        for (long i = 0; i < p.n; i++) {
            int used = 0;
            for (int k = 0; k < t; k++) used |= seq[k].arch == i;
            const double sc = p.kappa[i] / (p.M[i] + 1e-6) +
                              pow(10, s->log10_mu) * fabs(p.M[i] * p.M[i] - 1e4 * s->nu * s->nu);
            if (!used && (best < 0 || sc < bs)) best = i, bs = sc;
        }
        brute &= best == s->arch && fabs(bs - s->score) <= 1e-9 * fabs(bs);
    }
    printf("sequential: %d steps, %d cached, pick step %d\n", c.T, cached, hnas_dbo_pick(&b));
    CHECKF(same, "one evaluation in flight differs from the sequential algorithm");
    CHECKF(brute, "an argmin differs from the brute-force one");
    CHECK(seq[0].nu == 0 && seq[2].nu == 1 && seq[1].log10_mu == -1.5);
    /* two in flight: deterministic given the finishing order, no genotype twice */
    hnas_dbo b2, b3;
    CHECK(!hnas_dbo_init(&b2, &c, &p, err, sizeof err));
    CHECK(!hnas_dbo_init(&b3, &c, &p, err, sizeof err));
    CHECK(!drive(&b2, 2, 1, -1));
    CHECK(!drive(&b3, 2, 1, -1));
    int same23 = 1, dup = 0, differs = 0;
    for (int t = 0; t < c.T; t++) {
        same23 &= !memcmp(&b2.ev[t], &b3.ev[t], sizeof b2.ev[t]) && b2.state[t] == HNAS_DBO_DONE;
        differs |= b2.ev[t].nu != b.ev[t].nu;
        for (int k = 0; k < t; k++) dup += b2.ev[t].arch >= 0 && b2.ev[t].arch == b2.ev[k].arch;
    }
    CHECKF(same23 && !dup, "2 in flight: same %d, duplicates %d", same23, dup);
    printf("2 in flight (newest finishes first): %s the sequential steps\n",
           differs ? "differs from" : "equals");
    /* resume: the first 7 finished steps as records, then on */
    hnas_dbo b4, b5;
    CHECK(!hnas_dbo_init(&b4, &c, &p, err, sizeof err));
    CHECK(!drive(&b4, 2, 1, 7));
    CHECK(!hnas_dbo_init(&b5, &c, &p, err, sizeof err));
    for (int o = 0; o < 7; o++)
        for (int t = 0; t < c.T; t++)
            if (b4.state[t] == HNAS_DBO_DONE && b4.ev[t].order == o)
                CHECK(!hnas_dbo_finish(&b5, &b4.ev[t], err, sizeof err));
    /* the killed run had two in flight; the resumed one suggests them again */
    CHECK(!drive(&b5, 1, 0, -1));
    hnas_dbo b6; /* the same history, not killed, then one at a time */
    CHECK(!hnas_dbo_init(&b6, &c, &p, err, sizeof err));
    CHECK(!drive(&b6, 2, 1, 7));
    for (int t = 0; t < c.T; t++) hnas_dbo_release(&b6, t);
    CHECK(!drive(&b6, 1, 0, -1));
    int same56 = 1;
    for (int t = 0; t < c.T; t++)
        same56 &= b5.ev[t].nu == b6.ev[t].nu && b5.ev[t].arch == b6.ev[t].arch &&
                  b5.state[t] == HNAS_DBO_DONE;
    CHECKF(same56, "a resumed search differs from the uninterrupted one");
    char js[2048];
    CHECK(!hnas_dbo_eval_json(&b.ev[hnas_dbo_pick(&b)], &p, js, sizeof js) &&
          strstr(js, "Genotype(normal=") && strstr(js, "\"valid_acc\": "));
    hnas_dpool_free(&p);
}

int main(int argc, char **argv) {
    (void)argc;
    (void)argv;
    char dir[] = "/tmp/test_hnas_darts_XXXXXX";
    if (!mkdtemp(dir)) FN_FATAL("mkdtemp");
    test_pool(dir);
    test_ntk();
    test_search();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", dir);
    return test_summary("test_hnas_darts");
}
