/* tests/test_bo_opt.c: the optimiser half of test_bo (tests/test_bo.c says what and why):
 * acquisition maximisation on known surfaces and against a grid, the flat-surface rule,
 * determinism with 1 and 2 threads, resuming from a history, the probe queue, the cache and
 * bad input. */
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>

#include "bo/acq.h"
#include "bo/gp.h"
#include "bo/optimizer.h"
#include "tests/test_bo.h"
#include "tests/test_util.h"

/* ---- acquisition maximisation ------------------------------------------------------------- */

static const double bump_a[2] = {0.731, -1.234}, bump_b[2] = {0.25, -3.0};

/* two Gaussian peaks: heights ha at a (width wa) and hb at b (width wb) */
typedef struct { double ha, wa, hb, wb; } bumps_ctx;

static double bumps(const double *x, double *grad, void *ctx) {
    const bumps_ctx *c = ctx;
    double da[2] = {x[0] - bump_a[0], x[1] - bump_a[1]}, db[2] = {x[0] - bump_b[0], x[1] - bump_b[1]};
    const double ea = c->ha * exp(-(da[0] * da[0] + da[1] * da[1]) / (2 * c->wa * c->wa));
    const double eb = c->hb * exp(-(db[0] * db[0] + db[1] * db[1]) / (2 * c->wb * c->wb));
    if (grad)
        for (int p = 0; p < 2; p++)
            grad[p] = -ea * da[p] / (c->wa * c->wa) - eb * db[p] / (c->wb * c->wb);
    return ea + eb;
}

static double flat(const double *x, double *grad, void *ctx) {
    if (grad) grad[0] = grad[1] = 0.0;
    return 0.25;
}

static double hnas_like(const double *x) { /* a smooth surface over (nu, c) */
    return 84 + 4 * sin(3 * x[0]) - 0.4 * (x[1] + 2) * (x[1] + 2) + 0.5 * x[0] * x[1];
}

void test_bo_maximize(void) {
    const double lo[2] = {0, -4}, hi[2] = {1, 0};
    double x[2];
    /* a broad peak (height 1, width 0.4) beside a lower narrow one: the polish from random
     * starts reaches the broad maximum to its tolerance */
    const bumps_ctx broad = {1.0, 0.4, 0.6, 0.05};
    double v = bo_maximize(2, lo, hi, bumps, (void *)&broad, bo_max_defaults(), 7, 0, x);
    CHECKF(fabs(x[0] - bump_a[0]) < 1e-5 && fabs(x[1] - bump_a[1]) < 1e-5,
           "broad peak maximiser at (%.9f, %.9f), expected (%.3f, %.3f)", x[0], x[1], bump_a[0],
           bump_a[1]);
    CHECKF(fabs(v - 1.0) < 1e-10, "broad peak maximum %.12f, expected 1", v);
    printf("ok   broad peak: maximiser error (%.2g, %.2g)\n", x[0] - bump_a[0], x[1] - bump_a[1]);
    /* a narrow higher peak (width 0.03, height 1) beside a broad lower one (0.8): the polish
     * starts run to the broad one; as in bayes_opt 1.2 the best of the 10,000 samples is not
     * polished, so the narrow peak is found to the sampling resolution (about 0.01 x 0.04) */
    const bumps_ctx narrow = {1.0, 0.03, 0.8, 0.5};
    v = bo_maximize(2, lo, hi, bumps, (void *)&narrow, bo_max_defaults(), 7, 0, x);
    CHECKF(fabs(x[0] - bump_a[0]) < 0.02 && fabs(x[1] - bump_a[1]) < 0.02 && v > 0.9,
           "narrow peak: maximiser (%.9f, %.9f) value %.6f, expected near (%.3f, %.3f), 1",
           x[0], x[1], v, bump_a[0], bump_a[1]);
    printf("ok   narrow peak: maximiser error (%.2g, %.2g), value %.6f\n", x[0] - bump_a[0],
           x[1] - bump_a[1], v);
    /* a flat surface (EI of a white-noise fit): as in bayes_opt, every polish ends where it
     * starts with a value equal to the best, and the last start wins (>=); so the result does
     * not depend on the number of samples, and with no starts it is the first sample */
    bo_max_opts m1 = bo_max_defaults(), m2 = bo_max_defaults(), m3 = bo_max_defaults();
    m2.n_random = 1;
    m3.n_starts = 0;
    double xa[2], xb[2], xc[2];
    bo_maximize(2, lo, hi, flat, NULL, m1, 5, 3, xa);
    bo_maximize(2, lo, hi, flat, NULL, m2, 5, 3, xb);
    bo_maximize(2, lo, hi, flat, NULL, m3, 5, 3, xc);
    CHECKF(xa[0] == xb[0] && xa[1] == xb[1] && (xa[0] != xc[0] || xa[1] != xc[1]),
           "flat surface: (%g, %g), (%g, %g), (%g, %g)", xa[0], xa[1], xb[0], xb[1], xc[0], xc[1]);
    /* suggest() on a GP of 8 points of hnas_like at a fixed length scale 0.5 (so the test can
     * rebuild the same GP), against the maximum over a 401 x 401 grid (spacing 0.0025 x 0.01):
     * - polish_best = 1: the acquisition at the suggestion is at least the grid maximum and the
     *   suggestion lies within two grid steps of the grid's argmax;
     * - bayes_opt 1.2 (polish_best = 0): within 1e-3 of the grid maximum relative to the
     *   acquisition's range over the grid (here the 10 random starts miss the best basin of UCB
     *   and EI, which have a local maximum between each pair of points, and the best of the
     *   10,000 samples stands), and inside the same two grid steps */
    bo_gp_opts go = bo_gp_defaults();
    go.optimize = 0;
    go.ls_init = 0.5;
    const double pts[8][2] = {{0, -2}, {0.25, -2}, {0.5, -2}, {0.75, -2}, {1, -2},
                              {0.3, -3.5}, {0.8, -0.5}, {0.6, -2.8}};
    double Xr[16], yr[8], y_max = -INFINITY;
    for (int i = 0; i < 8; i++) {
        Xr[2 * i] = pts[i][0];
        Xr[2 * i + 1] = pts[i][1];
        yr[i] = hnas_like(pts[i]);
        y_max = fmax(y_max, yr[i]);
    }
    char err[256];
    bo_gp *gp = bo_gp_fit(Xr, yr, 8, 2, &go, 0, err, sizeof err);
    CHECKF(gp != NULL, "%s", err);
    if (!gp) return;
    const bo_acq acqs[3] = {{BO_ACQ_UCB, 0, 0.0}, {BO_ACQ_UCB, 0, 2.576}, {BO_ACQ_EI, 0.0, 0}};
    const char *names[3] = {"UCB kappa=0", "UCB kappa=2.576", "EI xi=0"};
    for (int run = 0; run < 6; run++) {
        const int kind = run % 3, pb = run / 3;
        const bo_acq acq = acqs[kind];
        bo_max_opts mx = bo_max_defaults();
        mx.polish_best = pb;
        bo_opt *o = bo_opt_new(2, lo, hi, acq, go, mx, 3);
        for (int i = 0; i < 8; i++) bo_opt_register(o, pts[i], yr[i]);
        double xs[2];
        CHECKF(bo_opt_suggest(o, xs, err, sizeof err) == 0, "%s", err);
        double best = -INFINITY, worst = INFINITY, bx[2] = {0, 0};
        for (int i = 0; i <= 400; i++)
            for (int j = 0; j <= 400; j++) {
                const double g[2] = {i / 400.0, -4 + 4 * j / 400.0};
                double m, s;
                bo_gp_predict(gp, g, &m, &s);
                const double a = bo_acq_value(&acq, m, s, y_max);
                worst = fmin(worst, a);
                if (a > best) {
                    best = a;
                    bx[0] = g[0];
                    bx[1] = g[1];
                }
            }
        double m, s;
        bo_gp_predict(gp, xs, &m, &s);
        const double at = bo_acq_value(&acq, m, s, y_max);
        const double tol = pb ? 1e-12 * fmax(1.0, fabs(best)) : 1e-3 * (best - worst);
        CHECKF(at >= best - tol,
               "%s, polish_best %d: acquisition %.12g at the suggestion (%.6f, %.6f) < grid max %.12g at (%.4f, %.4f)",
               names[kind], pb, at, xs[0], xs[1], best, bx[0], bx[1]);
        CHECKF(fabs(xs[0] - bx[0]) <= 0.005 && fabs(xs[1] - bx[1]) <= 0.02,
               "%s: suggestion (%.6f, %.6f) far from the grid argmax (%.4f, %.4f)", names[kind],
               xs[0], xs[1], bx[0], bx[1]);
        printf("ok   suggest %s, polish_best %d: (%.6f, %.6f) value %.9g, grid (%.4f, %.4f) %.9g\n",
               names[kind], pb, xs[0], xs[1], at, bx[0], bx[1], best);
        bo_opt_free(o);
    }
    bo_gp_free(gp);
}

/* ---- determinism and resuming -------------------------------------------------------------- */

/* 5 probes and 10 GP steps on hnas_like, repeats answered from the cache; the suggestions in xs */
static void run_bo(uint64_t seed, bo_acq acq, double *xs) {
    const double lo[2] = {0, -4}, hi[2] = {1, 0};
    bo_opt *o = bo_opt_new(2, lo, hi, acq, bo_gp_defaults(), bo_max_defaults(), seed);
    for (int i = 0; i < 5; i++) bo_opt_probe(o, (const double[2]){i / 4.0, -2.0});
    for (int t = 0; t < 15; t++) {
        char err[256];
        double y;
        CHECKF(bo_opt_suggest(o, xs + 2 * t, err, sizeof err) == 0, "%s", err);
        if (!bo_opt_lookup(o, xs + 2 * t, &y)) bo_opt_register(o, xs + 2 * t, hnas_like(xs + 2 * t));
    }
    bo_opt_free(o);
}

void test_bo_determinism(void) {
    const bo_acq ei = {BO_ACQ_EI, 0.0, 0}, ucb = {BO_ACQ_UCB, 0, 2.576};
    double a[30], b[30], c[30], e[30];
    openblas_set_num_threads(1);
    omp_set_num_threads(1);
    run_bo(11, ei, a);
    openblas_set_num_threads(2);
    omp_set_num_threads(2);
    run_bo(11, ei, b);
    run_bo(12, ei, c);
    run_bo(11, ucb, e);
    CHECKF(memcmp(a, b, sizeof a) == 0, "same seed, 1 and 2 threads: suggestions differ");
    CHECKF(memcmp(a + 10, c + 10, sizeof(double) * 20) != 0, "seeds 11 and 12 gave the same suggestions");
    CHECKF(memcmp(a + 10, e + 10, sizeof(double) * 20) != 0, "EI and UCB gave the same suggestions");
    for (int i = 0; i < 30; i++)
        CHECKF(a[i] >= (i % 2 ? -4 : 0) && a[i] <= (i % 2 ? 0 : 1), "suggestion %d outside the box", i / 2);
    printf("ok   determinism: 15 suggestions bit-identical with 1 and 2 threads; last (%.6f, %.6f)\n",
           a[28], a[29]);
    /* resume: a new optimiser with the history of the first 9 steps gives suggestion 9 */
    const double lo[2] = {0, -4}, hi[2] = {1, 0};
    bo_opt *o = bo_opt_new(2, lo, hi, ei, bo_gp_defaults(), bo_max_defaults(), 11);
    for (int t = 0; t < 9; t++) bo_opt_register(o, a + 2 * t, hnas_like(a + 2 * t)); /* -1 on repeats */
    bo_opt_set_step(o, 9);
    double x[2];
    char err[256];
    CHECKF(bo_opt_suggest(o, x, err, sizeof err) == 0, "%s", err);
    CHECKF(memcmp(x, a + 18, sizeof x) == 0, "resumed suggestion 9 (%.17g, %.17g) != (%.17g, %.17g)",
           x[0], x[1], a[18], a[19]);
    CHECK(bo_opt_step(o) == 10);
    bo_opt_free(o);
}

/* ---- queue, cache, bad input ---------------------------------------------------------------- */

void test_bo_queue_and_cache(void) {
    const double lo[2] = {0, -4}, hi[2] = {1, 0};
    const bo_acq ei = {BO_ACQ_EI, 0.0, 0};
    bo_opt *o = bo_opt_new(2, lo, hi, ei, bo_gp_defaults(), bo_max_defaults(), 5);
    double x[2], y;
    char err[256];
    /* nothing registered, nothing queued: a uniform sample in the box */
    CHECK(bo_opt_suggest(o, x, err, sizeof err) == 0);
    CHECK(x[0] >= 0 && x[0] <= 1 && x[1] >= -4 && x[1] <= 0);
    const double p[3][2] = {{0, -2}, {0.5, -2}, {1, -2}};
    for (int i = 0; i < 3; i++) bo_opt_probe(o, p[i]);
    CHECK(bo_opt_queued(o) == 3);
    for (int i = 0; i < 3; i++) {
        CHECK(bo_opt_suggest(o, x, err, sizeof err) == 0);
        CHECKF(x[0] == p[i][0] && x[1] == p[i][1], "queued point %d out of order", i);
        CHECK(bo_opt_register(o, x, 80.0 + i) == 0);
    }
    CHECK(bo_opt_queued(o) == 0 && bo_opt_count(o) == 3 && bo_opt_step(o) == 4);
    CHECK(bo_opt_register(o, p[1], 99.0) == -1); /* bayes_opt: "Data point ... is not unique" */
    CHECK(bo_opt_count(o) == 3);
    CHECK(bo_opt_lookup(o, p[1], &y) == 1 && y == 81.0);
    CHECK(bo_opt_lookup(o, (const double[2]){0.5, -2.0 + 1e-15}, &y) == 0);
    CHECK(bo_opt_register(o, (const double[2]){NAN, -1}, 1.0) == -2);
    CHECK(bo_opt_register(o, (const double[2]){0.2, -1}, INFINITY) == -2);
    CHECK(bo_opt_best(o) == 2);
    CHECK(bo_opt_point(o, 1, &y) != NULL && y == 81.0);
    /* queue after GP steps: a probe comes first again */
    CHECK(bo_opt_suggest(o, x, err, sizeof err) == 0); /* a GP step */
    bo_opt_probe(o, (const double[2]){0.123, -0.5});
    CHECK(bo_opt_suggest(o, x, err, sizeof err) == 0 && x[0] == 0.123 && x[1] == -0.5);
    bo_opt_free(o);
    /* bad input */
    CHECK(bo_opt_new(2, (const double[2]){0, 1}, (const double[2]){1, 1}, ei, bo_gp_defaults(),
                     bo_max_defaults(), 0) == NULL);
    CHECK(bo_opt_new(0, lo, hi, ei, bo_gp_defaults(), bo_max_defaults(), 0) == NULL);
    bo_gp_opts go = bo_gp_defaults();
    CHECK(bo_gp_fit(p[0], (const double[1]){NAN}, 1, 2, &go, 0, err, sizeof err) == NULL &&
          strstr(err, "not finite"));
    go.ls_lo = 0;
    CHECK(bo_gp_fit(p[0], (const double[1]){1}, 1, 2, &go, 0, err, sizeof err) == NULL &&
          strstr(err, "ls_lo"));
    /* one point and a constant y: std 0 counts as 1, the mean is y everywhere */
    go = bo_gp_defaults();
    double X3[6] = {0, 0, 0.5, 0.5, 1, 1}, y3[3] = {2.5, 2.5, 2.5};
    bo_gp *gp = bo_gp_fit(X3, y3, 3, 2, &go, 0, err, sizeof err);
    CHECKF(gp != NULL, "%s", err);
    if (gp) {
        double m, s;
        bo_gp_predict(gp, (const double[2]){0.3, 0.9}, &m, &s);
        CHECKF(m == 2.5, "constant y: mean %.17g", m);
        bo_gp_free(gp);
    }
    /* no jitter: duplicate points make K singular (a clear error); without duplicates the
     * starts at large l, where K is numerically singular, score -inf and the fit goes on */
    go = bo_gp_defaults();
    go.jitter = 0;
    double Xd[6] = {0.2, -1, 0.2, -1, 0.7, -3}, yd[3] = {1, 2, 3};
    CHECK(bo_gp_fit(Xd, yd, 3, 2, &go, 0, err, sizeof err) == NULL &&
          strstr(err, "not positive definite"));
    go.ls_init = 1e4; /* the first start itself is not positive definite */
    Xd[2] = 0.25;
    gp = bo_gp_fit(Xd, yd, 3, 2, &go, 1, err, sizeof err);
    CHECKF(gp != NULL && isfinite(bo_gp_lml(gp)) && bo_gp_length_scale(gp)[0] < 1e4,
           "jitter 0: %s", gp ? "a fit at the initial length scale" : err);
    bo_gp_free(gp);
    /* EI at sd = 0 */
    CHECK(bo_acq_value(&ei, 3.0, 0.0, 2.0) == 1.0 && bo_acq_value(&ei, 1.0, 0.0, 2.0) == 0.0);
}
