/* tests/test_bo.c: the Bayesian-optimisation library bo/ (GP, acquisitions, optimiser).
 *   test_bo REF   (REF = tests/bo/sklearn_ref.txt)
 *
 * 1. Against scikit-learn 1.2.1 (tests/bo/sklearn_ref.py wrote REF; read its header). Tolerances:
 *    - at a fixed length scale (no fit) the GP is the same arithmetic in another order: lml,
 *      its gradient, mean and sd to rtol 1e-9 (atol 1e-9 x std(y) for sd, which is a difference
 *      1 - |L^-1 k|^2 of numbers near 1 at points near the data; K's condition number is < 1e7
 *      here, so round-off stays far below that);
 *    - the fitted length scale: both sides stop on their own gradient tests; sklearn's run with
 *      gtol 1e-12 ("tight") is the maximum to ~1e-9, ours to ~1e-8 (NLopt xtol_rel 1e-10 on log l):
 *      l to rtol 1e-6, lml (flat at the maximum) to rtol 1e-10; mean, sd, EI, UCB of the fitted
 *      GP then to rtol 1e-5 (they move with l, roughly linearly).
 *    - sklearn's own default fit (L-BFGS-B, gtol 1e-5) stops earlier: our lml must be at least
 *      its lml - 1e-9 (never worse).
 *    - one run from ls_init without restarts ends where sklearn's does (l rtol 1e-6);
 *    - the restarts: the share of 200 fits (seeds) that end in the white-noise fit at the lower
 *      bound matches sklearn's share over 200 random states within 3 sigma (30 of 200).
 * 2. LML gradient and the posterior's x-gradients (the acquisition polish uses them) against
 *    central differences; the Cholesky path against a brute-force long-double Gaussian
 *    elimination on a tiny case.
 * 3. Acquisition maximisation: a known two-peak surface (the narrow, higher peak must be found)
 *    and suggest() on fitted GPs against a dense grid.
 * 4. Determinism: the same seed gives identical bits with 1 and 2 OpenBLAS / OpenMP threads, a
 *    rebuilt optimiser (history + step) gives the same suggestion, another seed another one.
 * 5. The probe queue (FIFO, then GP), duplicate register / lookup, bad input.
 * 3-5 are in tests/test_bo_opt.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bo/acq.h"
#include "bo/gp.h"
#include "tests/test_bo.h"
#include "tests/test_util.h"

/* ---- the reference file ---------------------------------------------------------------- */

#define MAXN 32
#define MAXD 4
#define MAXQ 8
typedef struct {
    char name[64];
    int n, d, ard, nq;
    double ls_init;
    double X[MAXN * MAXD], y[MAXN], Q[MAXQ * MAXD];
    double fixed_lml, fq[MAXQ][2];
    double at_theta[3][MAXD], at_lml[3], at_grad[3][MAXD];
    double ls_default[MAXD], lml_default, ls_tight0[MAXD], lml_tight0, ls_tight[MAXD], lml_tight;
    double q[MAXQ][5]; /* mean sd ei(xi 0) ei(xi 0.01) ucb(2.576) */
    int wn, wn_of;     /* white-noise fits of sklearn (isotropic cases) */
} ref_case;

static int read_doubles(char *s, double *v, int max) {
    int k = 0;
    char *e;
    for (;;) {
        double t = strtod(s, &e);
        if (e == s) break;
        if (k < max) v[k] = t;
        k++;
        s = e;
    }
    return k;
}

static int read_ref(const char *path, ref_case *cases, int max) {
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return -1;
    }
    char line[4096];
    int nc = -1, xi = 0, qi = 0, fqi = 0, ai = 0, rqi = 0;
    while (fgets(line, sizeof line, f)) {
        char key[32];
        int off = 0;
        if (line[0] == '#' || sscanf(line, "%31s %n", key, &off) < 1) continue;
        char *rest = line + off;
        ref_case *c = nc >= 0 ? &cases[nc] : NULL;
        double v[2 * MAXD + 2];
        if (!strcmp(key, "case")) {
            if (++nc >= max) break;
            c = &cases[nc];
            memset(c, 0, sizeof *c);
            sscanf(rest, "%63s %d %d %d %d %lf", c->name, &c->n, &c->d, &c->ard, &c->nq, &c->ls_init);
            xi = qi = fqi = ai = rqi = 0;
        } else if (!c) {
            continue;
        } else if (!strcmp(key, "x")) {
            read_doubles(rest, c->X + (size_t)xi++ * c->d, c->d);
        } else if (!strcmp(key, "y")) {
            read_doubles(rest, c->y, MAXN);
        } else if (!strcmp(key, "query")) {
            read_doubles(rest, c->Q + (size_t)qi++ * c->d, c->d);
        } else if (!strcmp(key, "fixed")) {
            const int nls = c->ard ? c->d : 1;
            read_doubles(rest, v, nls + 1);
            c->fixed_lml = v[nls];
        } else if (!strcmp(key, "fq")) {
            read_doubles(rest, c->fq[fqi++], 2);
        } else if (!strcmp(key, "lml_at")) {
            const int nls = c->ard ? c->d : 1;
            read_doubles(rest, v, 2 * nls + 1);
            memcpy(c->at_theta[ai], v, sizeof(double) * nls);
            c->at_lml[ai] = v[nls];
            memcpy(c->at_grad[ai], v + nls + 1, sizeof(double) * nls);
            ai++;
        } else if (!strcmp(key, "default") || !strcmp(key, "tight0") || !strcmp(key, "tight")) {
            const int nls = c->ard ? c->d : 1;
            read_doubles(rest, v, nls + 1);
            double *ls = !strcmp(key, "default") ? c->ls_default
                         : !strcmp(key, "tight0") ? c->ls_tight0 : c->ls_tight;
            memcpy(ls, v, sizeof(double) * nls);
            *(!strcmp(key, "default") ? &c->lml_default
              : !strcmp(key, "tight0") ? &c->lml_tight0 : &c->lml_tight) = v[nls];
        } else if (!strcmp(key, "wn")) {
            sscanf(rest, "%d %d", &c->wn, &c->wn_of);
        } else if (!strcmp(key, "q")) {
            read_doubles(rest, c->q[rqi++], 5);
        }
    }
    fclose(f);
    return nc + 1;
}

static double y_std(const ref_case *c) {
    double m = 0, v = 0;
    for (int i = 0; i < c->n; i++) m += c->y[i] / c->n;
    for (int i = 0; i < c->n; i++) v += (c->y[i] - m) * (c->y[i] - m) / c->n;
    return sqrt(v);
}

static void test_sklearn_case(const ref_case *c) {
    char what[128], err[256];
    const int nls = c->ard ? c->d : 1;
    bo_gp_opts o = bo_gp_defaults();
    o.ard = c->ard;
    const double sdy = y_std(c);
    /* fixed length scale 0.7 */
    double ls07[MAXD] = {0.7, 0.7, 0.7, 0.7};
    bo_gp *gp = bo_gp_fit_at(c->X, c->y, c->n, c->d, &o, ls07, err, sizeof err);
    CHECKF(gp != NULL, "%s", err);
    if (!gp) return;
    double lml = bo_gp_lml(gp), m[MAXQ], s[MAXQ], rm[MAXQ], rs[MAXQ];
    snprintf(what, sizeof what, "%s fixed l=0.7 lml", c->name);
    check_close(what, &lml, &c->fixed_lml, 1, 0, 1e-9);
    for (int i = 0; i < c->nq; i++) {
        bo_gp_predict(gp, c->Q + (size_t)i * c->d, &m[i], &s[i]);
        rm[i] = c->fq[i][0];
        rs[i] = c->fq[i][1];
    }
    snprintf(what, sizeof what, "%s fixed l=0.7 mean", c->name);
    check_close(what, m, rm, c->nq, 0, 1e-9);
    snprintf(what, sizeof what, "%s fixed l=0.7 sd", c->name);
    check_close(what, s, rs, c->nq, 1e-9 * sdy, 1e-9);
    bo_gp_free(gp);
    /* lml and its gradient at three log length scales */
    for (int a = 0; a < 3; a++) {
        double g[MAXD];
        const double v = bo_gp_lml_at(c->X, c->y, c->n, c->d, &o, c->at_theta[a], g);
        snprintf(what, sizeof what, "%s lml at theta[%d]", c->name, a);
        check_close(what, &v, &c->at_lml[a], 1, 0, 1e-9);
        double gscale = 0;
        for (int p = 0; p < nls; p++) gscale = fmax(gscale, fabs(c->at_grad[a][p]));
        snprintf(what, sizeof what, "%s lml gradient at theta[%d]", c->name, a);
        check_close(what, g, c->at_grad[a], (size_t)nls, 1e-9 * fmax(gscale, 1.0), 1e-8);
    }
    /* the fit: defaults (5 restarts) */
    o.ls_init = c->ls_init;
    gp = bo_gp_fit(c->X, c->y, c->n, c->d, &o, 0, err, sizeof err);
    CHECKF(gp != NULL, "%s", err);
    if (!gp) return;
    lml = bo_gp_lml(gp);
    const double *ls = bo_gp_length_scale(gp);
    printf("     %s: l =", c->name);
    for (int p = 0; p < nls; p++) printf(" %.10g (sklearn tight %.10g, default %.10g)", ls[p],
                                         c->ls_tight[p], c->ls_default[p]);
    printf("; lml %.12g (sklearn tight %.12g)\n", lml, c->lml_tight);
    snprintf(what, sizeof what, "%s fitted length scale", c->name);
    check_close(what, ls, c->ls_tight, (size_t)nls, 0, 1e-6);
    snprintf(what, sizeof what, "%s fitted lml", c->name);
    check_close(what, &lml, &c->lml_tight, 1, 0, 1e-10);
    CHECKF(lml >= c->lml_default - 1e-9, "%s: lml %.12g below sklearn's default fit %.12g",
           c->name, lml, c->lml_default);
    double y_max = c->y[0];
    for (int i = 1; i < c->n; i++) y_max = fmax(y_max, c->y[i]);
    const bo_acq ei0 = {BO_ACQ_EI, 0.0, 0}, ei1 = {BO_ACQ_EI, 0.01, 0}, ucb = {BO_ACQ_UCB, 0, 2.576};
    double got[MAXQ * 5], ref[MAXQ * 5];
    for (int i = 0; i < c->nq; i++) {
        double mm, ss;
        bo_gp_predict(gp, c->Q + (size_t)i * c->d, &mm, &ss);
        got[i * 5 + 0] = mm;
        got[i * 5 + 1] = ss;
        got[i * 5 + 2] = bo_acq_value(&ei0, mm, ss, y_max);
        got[i * 5 + 3] = bo_acq_value(&ei1, mm, ss, y_max);
        got[i * 5 + 4] = bo_acq_value(&ucb, mm, ss, y_max);
        memcpy(ref + i * 5, c->q[i], sizeof(double) * 5);
    }
    snprintf(what, sizeof what, "%s fitted mean/sd/EI/EI.01/UCB", c->name);
    check_close(what, got, ref, (size_t)c->nq * 5, 1e-9 * sdy, 1e-5);
    bo_gp_free(gp);
    /* one run from ls_init, no restarts: the same end point as sklearn's (in the isotropic
     * cases the lower bound: both runs leave l = 1 for the white-noise fit) */
    o.restarts = 0;
    bo_gp *g0 = bo_gp_fit(c->X, c->y, c->n, c->d, &o, 0, err, sizeof err);
    CHECKF(g0 != NULL, "%s", err);
    if (g0) {
        snprintf(what, sizeof what, "%s one run from l=%g: l", c->name, c->ls_init);
        check_close(what, bo_gp_length_scale(g0), c->ls_tight0, (size_t)nls, 0, 1e-6);
        lml = bo_gp_lml(g0);
        snprintf(what, sizeof what, "%s one run from l=%g: lml", c->name, c->ls_init);
        check_close(what, &lml, &c->lml_tight0, 1, 0, 1e-10);
        bo_gp_free(g0);
    }
    o.restarts = 5;
    /* the restarts: how often 200 fits (seeds 0..199) end in the white-noise fit, against
     * sklearn's 200 random states. Two binomial counts of 200 differ by at most 3 sigma =
     * 3 sqrt(2 x 200 x 0.25) = 30 (p <= 0.5 here); restarts drawn uniformly in l instead of
     * log l, or none, move the count by far more */
    if (c->wn_of > 0) {
        int wn = 0;
        for (int sd = 0; sd < c->wn_of; sd++) {
            bo_gp *g = bo_gp_fit(c->X, c->y, c->n, c->d, &o, (uint64_t)sd, err, sizeof err);
            wn += g && bo_gp_length_scale(g)[0] < 1e-3;
            bo_gp_free(g);
        }
        CHECKF(abs(wn - c->wn) <= 30, "%s: %d of %d fits white noise, sklearn %d", c->name, wn,
               c->wn_of, c->wn);
        snprintf(what, sizeof what, "%s white-noise fits", c->name);
        printf("ok   %-40s %d of %d (sklearn %d)\n", what, wn, c->wn_of, c->wn);
    }
    /* at sklearn's tight length scale: EI and UCB to round-off */
    gp = bo_gp_fit_at(c->X, c->y, c->n, c->d, &o, c->ls_tight, err, sizeof err);
    for (int i = 0; i < c->nq && gp; i++) {
        double mm, ss;
        bo_gp_predict(gp, c->Q + (size_t)i * c->d, &mm, &ss);
        got[i * 5 + 0] = mm;
        got[i * 5 + 1] = ss;
        got[i * 5 + 2] = bo_acq_value(&ei0, mm, ss, y_max);
        got[i * 5 + 3] = bo_acq_value(&ei1, mm, ss, y_max);
        got[i * 5 + 4] = bo_acq_value(&ucb, mm, ss, y_max);
    }
    snprintf(what, sizeof what, "%s at sklearn's l: mean/sd/EI/UCB", c->name);
    check_close(what, got, ref, (size_t)c->nq * 5, 1e-9 * sdy, 1e-8);
    bo_gp_free(gp);
}

/* ---- gradients --------------------------------------------------------------------------- */

typedef struct {
    const double *X, *y;
    int n, d;
    bo_gp_opts o;
    double theta[MAXD];
} lml_ctx;

static double lml_f(void *ctx) {
    lml_ctx *c = ctx;
    return bo_gp_lml_at(c->X, c->y, c->n, c->d, &c->o, c->theta, NULL);
}

typedef struct {
    const bo_gp *gp;
    double x[MAXD];
    int which; /* 0 mean, 1 sd, 2 EI, 3 UCB */
    double y_max;
} pred_ctx;

static double pred_f(void *ctx) {
    pred_ctx *c = ctx;
    double m, s;
    bo_gp_predict(c->gp, c->x, &m, &s);
    const bo_acq ei = {BO_ACQ_EI, 0.01, 0}, ucb = {BO_ACQ_UCB, 0, 2.576};
    return c->which == 0 ? m : c->which == 1 ? s
           : c->which == 2 ? bo_acq_value(&ei, m, s, c->y_max) : bo_acq_value(&ucb, m, s, c->y_max);
}

static void test_gradients(const ref_case *c) {
    char what[128];
    for (int ard = 0; ard <= 1; ard++) {
        lml_ctx lc = {c->X, c->y, c->n, c->d, bo_gp_defaults(), {0}};
        lc.o.ard = ard;
        const int nls = ard ? c->d : 1;
        const double th[3][2] = {{-1.3, -0.4}, {0.2, -2.0}, {-2.5, 0.7}};
        for (int t = 0; t < 3; t++) {
            double g[MAXD];
            for (int p = 0; p < nls; p++) lc.theta[p] = th[t][p];
            bo_gp_lml_at(c->X, c->y, c->n, c->d, &lc.o, lc.theta, g);
            snprintf(what, sizeof what, "lml gradient vs FD (%s, ard %d, #%d)", c->name, ard, t);
            check_fd_grad(what, lml_f, &lc, lc.theta, g, (size_t)nls, 8, 1e-6);
        }
    }
    bo_gp_opts o = bo_gp_defaults();
    char err[256];
    bo_gp *gp = bo_gp_fit(c->X, c->y, c->n, c->d, &o, 0, err, sizeof err);
    CHECKF(gp != NULL, "%s", err);
    if (!gp) return;
    double y_max = c->y[0];
    for (int i = 1; i < c->n; i++) y_max = fmax(y_max, c->y[i]);
    for (int i = 0; i < c->nq; i++) {
        pred_ctx pc = {gp, {0}, 0, y_max};
        memcpy(pc.x, c->Q + (size_t)i * c->d, sizeof(double) * c->d);
        for (int p = 0; p < c->d; p++) pc.x[p] += 0.013 * (p + 1); /* off the data */
        double m, s, dm[MAXD], ds[MAXD], a[MAXD], b[MAXD];
        bo_gp_predict_grad(gp, pc.x, &m, &s, dm, ds);
        const bo_acq ei = {BO_ACQ_EI, 0.01, 0}, ucb = {BO_ACQ_UCB, 0, 2.576};
        double am, as, um, us;
        bo_acq_value_grad(&ei, m, s, y_max, &am, &as);
        bo_acq_value_grad(&ucb, m, s, y_max, &um, &us);
        for (int p = 0; p < c->d; p++) {
            a[p] = am * dm[p] + as * ds[p];
            b[p] = um * dm[p] + us * ds[p];
        }
        const double *an[4] = {dm, ds, a, b};
        const char *nm[4] = {"mean", "sd", "EI", "UCB"};
        for (int w = 0; w < 4; w++) {
            pc.which = w;
            snprintf(what, sizeof what, "d%s/dx vs FD (%s, query %d)", nm[w], c->name, i);
            check_fd_grad(what, pred_f, &pc, pc.x, an[w], (size_t)c->d, 8, 1e-6);
        }
    }
    bo_gp_free(gp);
}

/* ---- brute force: dense long-double elimination on a tiny case ------------------------------ */

static long double matern_ld(long double r) {
    const long double s5 = sqrtl(5.0L);
    return (1 + s5 * r + 5.0L / 3 * r * r) * expl(-s5 * r);
}

/* solves A x = b (n x n, row-major, destroyed) by Gaussian elimination with partial pivoting;
 * returns log |det A| */
static long double solve_ld(int n, long double *A, long double *b) {
    long double logdet = 0;
    for (int k = 0; k < n; k++) {
        int piv = k;
        for (int i = k + 1; i < n; i++)
            if (fabsl(A[i * n + k]) > fabsl(A[piv * n + k])) piv = i;
        for (int j = 0; j < n; j++) {
            long double t = A[k * n + j];
            A[k * n + j] = A[piv * n + j];
            A[piv * n + j] = t;
        }
        long double t = b[k];
        b[k] = b[piv];
        b[piv] = t;
        logdet += logl(fabsl(A[k * n + k]));
        for (int i = k + 1; i < n; i++) {
            const long double f = A[i * n + k] / A[k * n + k];
            for (int j = k; j < n; j++) A[i * n + j] -= f * A[k * n + j];
            b[i] -= f * b[k];
        }
    }
    for (int i = n - 1; i >= 0; i--) {
        long double s = b[i];
        for (int j = i + 1; j < n; j++) s -= A[i * n + j] * b[j];
        b[i] = s / A[i * n + i];
    }
    return logdet;
}

static void test_brute_force(void) {
    enum { N = 5, D = 2 };
    const double X[N * D] = {0.1, -3.0, 0.4, -2.2, 0.45, -2.0, 0.9, -0.5, 0.7, -3.5};
    const double y[N] = {83.1, 85.7, 86.0, 84.2, 82.9};
    const double ls[D] = {0.6, 1.7}, xq[D] = {0.5, -2.4};
    for (int ard = 0; ard <= 1; ard++) {
        bo_gp_opts o = bo_gp_defaults();
        o.ard = ard;
        char err[256];
        bo_gp *gp = bo_gp_fit_at(X, y, N, D, &o, ls, err, sizeof err);
        CHECKF(gp != NULL, "%s", err);
        if (!gp) return;
        long double m = 0, v = 0, yn[N], K[N * N], K2[N * N], k[N], a[N], w[N];
        for (int i = 0; i < N; i++) m += y[i];
        m /= N;
        for (int i = 0; i < N; i++) v += (y[i] - m) * (y[i] - m);
        const long double sd = sqrtl(v / N);
        for (int i = 0; i < N; i++) yn[i] = (y[i] - m) / sd;
        for (int i = 0; i < N; i++) {
            for (int j = 0; j < N; j++) {
                long double r2 = 0;
                for (int p = 0; p < D; p++) {
                    const long double t = (X[i * D + p] - X[j * D + p]) / ls[ard ? p : 0];
                    r2 += t * t;
                }
                K[i * N + j] = matern_ld(sqrtl(r2)) + (i == j ? 1e-6L : 0);
            }
            long double r2 = 0;
            for (int p = 0; p < D; p++) {
                const long double t = (xq[p] - X[i * D + p]) / ls[ard ? p : 0];
                r2 += t * t;
            }
            k[i] = matern_ld(sqrtl(r2));
        }
        memcpy(K2, K, sizeof K);
        memcpy(a, yn, sizeof a);
        const long double logdet = solve_ld(N, K, a);
        memcpy(w, k, sizeof w);
        solve_ld(N, K2, w);
        long double quad = 0, mean = 0, kw = 0;
        for (int i = 0; i < N; i++) {
            quad += yn[i] * a[i];
            mean += k[i] * a[i];
            kw += k[i] * w[i];
        }
        const double lml_ref = (double)(-0.5L * quad - 0.5L * logdet - 0.5L * N * logl(2 * 3.14159265358979323846264338327950288L));
        const double mean_ref = (double)(sd * mean + m), sd_ref = (double)(sd * sqrtl(1 - kw));
        double lml = bo_gp_lml(gp), mq, sq;
        bo_gp_predict(gp, xq, &mq, &sq);
        char what[96];
        snprintf(what, sizeof what, "brute force lml (ard %d)", ard);
        check_close(what, &lml, &lml_ref, 1, 0, 1e-12);
        snprintf(what, sizeof what, "brute force mean (ard %d)", ard);
        check_close(what, &mq, &mean_ref, 1, 0, 1e-12);
        snprintf(what, sizeof what, "brute force sd (ard %d)", ard);
        check_close(what, &sq, &sd_ref, 1, 0, 1e-9);
        bo_gp_free(gp);
    }
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: test_bo tests/bo/sklearn_ref.txt\n");
        return 2;
    }
    static ref_case cases[16];
    const int nc = read_ref(argv[1], cases, 16);
    CHECKF(nc >= 6, "read %d reference cases from %s", nc, argv[1]);
    for (int i = 0; i < nc; i++) test_sklearn_case(&cases[i]);
    if (nc >= 4) {
        test_gradients(&cases[0]);
        test_gradients(&cases[3]);
    }
    test_brute_force();
    test_bo_maximize();
    test_bo_determinism();
    test_bo_queue_and_cache();
    return test_summary("test_bo");
}
