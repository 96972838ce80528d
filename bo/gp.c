/* bo/gp.c: Matérn-5/2 Gaussian-process regression with a maximum-likelihood length scale
 * (see bo/gp.h for the model, the formulas and what it mirrors in scikit-learn). */
#include "bo/gp.h"

#include <float.h>
#include <math.h>
#include <nlopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"
#include "bo/bo_rng.h"
#include "nn/rng.h"

/* LAPACK's Fortran interface (gfortran ABI: hidden string lengths last); OpenBLAS has it. */
extern void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info,
                    size_t uplo_len);
extern void dpotrs_(const char *uplo, const int *n, const int *nrhs, const double *a,
                    const int *lda, double *b, const int *ldb, int *info, size_t uplo_len);
extern void dtrtrs_(const char *uplo, const char *trans, const char *diag, const int *n,
                    const int *nrhs, const double *a, const int *lda, double *b, const int *ldb,
                    int *info, size_t uplo_len, size_t trans_len, size_t diag_len);

#define SQRT5 2.23606797749978969640917366873128
#define LOG_2PI 1.83787706640934548356065947281123

struct bo_gp {
    int n, d, nls;
    double *X;     /* n x d, row-major */
    double *L;     /* n x n, column-major, lower Cholesky factor of K + jitter I */
    double *alpha; /* n: K^-1 y' */
    double y_mean, y_std;
    double lml;    /* at ls */
    double ls[];   /* nls length scales */
};

bo_gp_opts bo_gp_defaults(void) {
    return (bo_gp_opts){.jitter = 1e-6, .ls_init = 1.0, .ls_lo = 1e-5, .ls_hi = 1e5,
                        .restarts = 5, .ard = 0, .normalize_y = 1, .optimize = 1};
}

static void set_err(char *err, size_t errlen, const char *fmt, ...) {
    if (!err || errlen == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Scaled distance r between x and z and, if g is not NULL, g_p = (x_p - z_p)^2 / l_p^2. */
static double scaled_dist(const double *x, const double *z, int d, const double *ls, int nls,
                          double *g) {
    double s = 0;
    for (int p = 0; p < d; p++) {
        const double t = (x[p] - z[p]) / ls[nls == 1 ? 0 : p], t2 = t * t;
        if (g) g[p] = t2;
        s += t2;
    }
    return sqrt(s);
}

static double matern52(double r) {
    return (1.0 + SQRT5 * r + 5.0 / 3.0 * r * r) * exp(-SQRT5 * r);
}

/* y' = (y - mean) / std (or y itself without normalize_y): sklearn's normalisation. */
static void normalise(const double *y, int n, int on, double *yn, double *mean, double *std) {
    double m = 0, v = 0;
    if (on) {
        for (int i = 0; i < n; i++) m += y[i];
        m /= n;
        for (int i = 0; i < n; i++) v += (y[i] - m) * (y[i] - m);
        v = sqrt(v / n);
        if (v < 10 * DBL_EPSILON) v = 1.0;
    } else {
        v = 1.0;
    }
    for (int i = 0; i < n; i++) yn[i] = (y[i] - m) / v;
    *mean = m;
    *std = v;
}

/* K + jitter I into L (column-major, full), its Cholesky factor in place, alpha = K^-1 yn.
 * Returns 0, or -1 where K is not positive definite. */
static int factor(const double *X, const double *yn, int n, int d, const double *ls, int nls,
                  double jitter, double *L, double *alpha) {
    for (int j = 0; j < n; j++)
        for (int i = j; i < n; i++) {
            double k = matern52(scaled_dist(X + (size_t)i * d, X + (size_t)j * d, d, ls, nls, NULL));
            if (i == j) k += jitter;
            L[i + (size_t)j * n] = k;
            L[j + (size_t)i * n] = k;
        }
    int info = 0, one = 1;
    dpotrf_("L", &n, L, &n, &info, 1);
    if (info != 0) return -1;
    for (int j = 0; j < n; j++) /* zero the strict upper triangle: L is lower triangular */
        for (int i = 0; i < j; i++) L[i + (size_t)j * n] = 0.0;
    memcpy(alpha, yn, sizeof(double) * (size_t)n);
    dpotrs_("L", &n, &one, L, &n, alpha, &n, &info, 1);
    return info == 0 ? 0 : -1;
}

/* lml of the normalised targets yn at theta; grad (nls, may be NULL). */
static double lml_norm(const double *X, const double *yn, int n, int d, double jitter,
                       const double *theta, int nls, double *grad) {
    double ls[nls > 0 ? nls : 1];
    for (int p = 0; p < nls; p++) ls[p] = exp(theta[p]);
    double *L = mallocCheck(sizeof(double) * (size_t)n * n * 2 + sizeof(double) * (size_t)n);
    double *Kinv = L + (size_t)n * n, *alpha = Kinv + (size_t)n * n;
    double lml = -INFINITY;
    if (grad)
        for (int p = 0; p < nls; p++) grad[p] = 0.0;
    if (factor(X, yn, n, d, ls, nls, jitter, L, alpha) == 0) {
        lml = -0.5 * n * LOG_2PI;
        for (int i = 0; i < n; i++) lml += -0.5 * yn[i] * alpha[i] - log(L[i + (size_t)i * n]);
        if (grad) { /* 1/2 sum_ij (alpha_i alpha_j - Kinv_ij) dK_ij/dtheta_p, Kinv by dpotrs */
            memset(Kinv, 0, sizeof(double) * (size_t)n * n);
            for (int i = 0; i < n; i++) Kinv[i + (size_t)i * n] = 1.0;
            int info = 0;
            dpotrs_("L", &n, &n, L, &n, Kinv, &n, &info, 1);
            double g[d > 0 ? d : 1];
            for (int j = 0; j < n; j++)
                for (int i = 0; i < n; i++) {
                    const double r = scaled_dist(X + (size_t)i * d, X + (size_t)j * d, d, ls,
                                                 nls, g);
                    const double c = 5.0 / 3.0 * (1.0 + SQRT5 * r) * exp(-SQRT5 * r);
                    const double w = 0.5 * (alpha[i] * alpha[j] - Kinv[i + (size_t)j * n]) * c;
                    if (nls == 1) {
                        grad[0] += w * r * r;
                    } else {
                        for (int p = 0; p < d; p++) grad[p] += w * g[p];
                    }
                }
        }
    }
    free(L);
    return lml;
}

double bo_gp_lml_at(const double *X, const double *y, int n, int d, const bo_gp_opts *o,
                    const double *theta, double *grad) {
    double *yn = mallocCheck(sizeof(double) * (size_t)n), m, s;
    normalise(y, n, o->normalize_y, yn, &m, &s);
    const double v = lml_norm(X, yn, n, d, o->jitter, theta, o->ard ? d : 1, grad);
    free(yn);
    return v;
}

typedef struct {
    const double *X, *yn;
    int n, d, nls;
    double jitter;
} fit_ctx;

/* NLopt objective: -lml (minimised); +inf where K is not positive definite. */
static double neg_lml(unsigned nt, const double *theta, double *grad, void *data) {
    const fit_ctx *c = data;
    double g[c->nls];
    const double v = lml_norm(c->X, c->yn, c->n, c->d, c->jitter, theta, c->nls, grad ? g : NULL);
    if (grad)
        for (unsigned p = 0; p < nt; p++) grad[p] = -g[p];
    return isfinite(v) ? -v : HUGE_VAL;
}

/* One bounded L-BFGS run from theta (updated in place); returns the lml at the end point. */
static double fit_from(const fit_ctx *c, double *theta, double lo, double hi) {
    if (!isfinite(neg_lml((unsigned)c->nls, theta, NULL, (void *)c))) return -INFINITY;
    nlopt_opt opt = nlopt_create(NLOPT_LD_LBFGS, (unsigned)c->nls);
    FN_ASSERT(opt);
    double lb[c->nls], ub[c->nls];
    for (int p = 0; p < c->nls; p++) {
        lb[p] = lo;
        ub[p] = hi;
    }
    nlopt_set_lower_bounds(opt, lb);
    nlopt_set_upper_bounds(opt, ub);
    nlopt_set_min_objective(opt, neg_lml, (void *)c);
    nlopt_set_ftol_rel(opt, 1e-13);
    nlopt_set_xtol_rel(opt, 1e-10);
    nlopt_set_maxeval(opt, 2000);
    double f = 0, t0[c->nls];
    memcpy(t0, theta, sizeof t0);
    nlopt_result rc = nlopt_optimize(opt, theta, &f);
    nlopt_destroy(opt);
    if (rc < 0 && rc != NLOPT_ROUNDOFF_LIMITED) memcpy(theta, t0, sizeof t0);
    for (int p = 0; p < c->nls; p++) theta[p] = theta[p] < lo ? lo : theta[p] > hi ? hi : theta[p];
    return lml_norm(c->X, c->yn, c->n, c->d, c->jitter, theta, c->nls, NULL);
}

static int check_input(const double *X, const double *y, int n, int d, const bo_gp_opts *o,
                       char *err, size_t errlen) {
    if (n < 1 || d < 1) {
        set_err(err, errlen, "bo_gp_fit: need n >= 1 points and d >= 1 dimensions (n=%d, d=%d)", n, d);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        for (int p = 0; p < d; p++)
            if (!isfinite(X[(size_t)i * d + p])) {
                set_err(err, errlen, "bo_gp_fit: X[%d][%d] is not finite", i, p);
                return -1;
            }
        if (!isfinite(y[i])) {
            set_err(err, errlen, "bo_gp_fit: y[%d] is not finite", i);
            return -1;
        }
    }
    if (!(o->ls_lo > 0 && o->ls_lo <= o->ls_init && o->ls_init <= o->ls_hi && isfinite(o->ls_hi))) {
        set_err(err, errlen, "bo_gp_fit: need 0 < ls_lo <= ls_init <= ls_hi < inf (%g, %g, %g)",
                o->ls_lo, o->ls_init, o->ls_hi);
        return -1;
    }
    if (!(o->jitter >= 0) || o->restarts < 0) {
        set_err(err, errlen, "bo_gp_fit: need jitter >= 0 and restarts >= 0 (%g, %d)", o->jitter,
                o->restarts);
        return -1;
    }
    return 0;
}

/* The GP at log length scale(s) theta, or NULL with a message. */
static bo_gp *build(const double *X, const double *y, int n, int d, const bo_gp_opts *o,
                    const double *theta, char *err, size_t errlen) {
    const int nls = o->ard ? d : 1;
    bo_gp *gp = callocCheck(1, sizeof(bo_gp) + sizeof(double) * (size_t)nls);
    gp->n = n;
    gp->d = d;
    gp->nls = nls;
    gp->X = mallocCheck(sizeof(double) * (size_t)n * d);
    gp->L = mallocCheck(sizeof(double) * (size_t)n * n);
    gp->alpha = mallocCheck(sizeof(double) * (size_t)n);
    memcpy(gp->X, X, sizeof(double) * (size_t)n * d);
    double *yn = mallocCheck(sizeof(double) * (size_t)n);
    normalise(y, n, o->normalize_y, yn, &gp->y_mean, &gp->y_std);
    for (int p = 0; p < nls; p++) gp->ls[p] = exp(theta[p]);
    if (factor(X, yn, n, d, gp->ls, nls, o->jitter, gp->L, gp->alpha) != 0) {
        set_err(err, errlen, "bo_gp_fit: the kernel matrix is not positive definite at length "
                "scale %g (n=%d; duplicate points need jitter > 0)", gp->ls[0], n);
        free(yn);
        bo_gp_free(gp);
        return NULL;
    }
    gp->lml = -0.5 * n * LOG_2PI;
    for (int i = 0; i < n; i++)
        gp->lml += -0.5 * yn[i] * gp->alpha[i] - log(gp->L[i + (size_t)i * n]);
    free(yn);
    return gp;
}

bo_gp *bo_gp_fit(const double *X, const double *y, int n, int d, const bo_gp_opts *o,
                 uint64_t seed, char *err, size_t errlen) {
    if (check_input(X, y, n, d, o, err, errlen)) return NULL;
    const int nls = o->ard ? d : 1;
    const double lo = log(o->ls_lo), hi = log(o->ls_hi);
    double best[nls], theta[nls], best_lml = -INFINITY;
    for (int p = 0; p < nls; p++) best[p] = log(o->ls_init);
    if (o->optimize) {
        double *yn = mallocCheck(sizeof(double) * (size_t)n), m, s;
        normalise(y, n, o->normalize_y, yn, &m, &s);
        const fit_ctx c = {X, yn, n, d, nls, o->jitter};
        for (int r = 0; r <= o->restarts; r++) {
            for (int p = 0; p < nls; p++)
                theta[p] = r == 0 ? log(o->ls_init)
                                  : lo + (hi - lo) * fn_rng_uniform(seed, BO_STREAM_GP,
                                                                    (uint64_t)(r - 1) * nls + p);
            const double v = fit_from(&c, theta, lo, hi);
            if (v > best_lml) { /* strict: the first of equal optima wins, as np.argmin */
                best_lml = v;
                memcpy(best, theta, sizeof best);
            }
        }
        free(yn);
    }
    return build(X, y, n, d, o, best, err, errlen);
}

bo_gp *bo_gp_fit_at(const double *X, const double *y, int n, int d, const bo_gp_opts *o,
                    const double *ls, char *err, size_t errlen) {
    bo_gp_opts o2 = *o;
    o2.ls_init = o2.ls_lo = o2.ls_hi = 1.0; /* bounds are not used here */
    if (check_input(X, y, n, d, &o2, err, errlen)) return NULL;
    const int nls = o->ard ? d : 1;
    double theta[nls];
    for (int p = 0; p < nls; p++) {
        if (!(ls[p] > 0 && isfinite(ls[p]))) {
            set_err(err, errlen, "bo_gp_fit_at: length scale %d is %g (need > 0)", p, ls[p]);
            return NULL;
        }
        theta[p] = log(ls[p]);
    }
    return build(X, y, n, d, o, theta, err, errlen);
}

/* k (n) at x and, if dk is not NULL, dk (n x d, row-major): d k_i / d x_p. */
static void kvec(const bo_gp *gp, const double *x, double *k, double *dk) {
    const int n = gp->n, d = gp->d;
    for (int i = 0; i < n; i++) {
        const double *z = gp->X + (size_t)i * d;
        const double r = scaled_dist(x, z, d, gp->ls, gp->nls, NULL), e = exp(-SQRT5 * r);
        k[i] = (1.0 + SQRT5 * r + 5.0 / 3.0 * r * r) * e;
        if (dk) {
            const double c = -5.0 / 3.0 * (1.0 + SQRT5 * r) * e;
            for (int p = 0; p < d; p++) {
                const double l = gp->ls[gp->nls == 1 ? 0 : p];
                dk[(size_t)i * d + p] = c * (x[p] - z[p]) / (l * l);
            }
        }
    }
}

void bo_gp_predict_grad(const bo_gp *gp, const double *x, double *mean, double *sd,
                        double *dmean, double *dsd) {
    const int n = gp->n, d = gp->d, one = 1;
    double *k = mallocCheck(sizeof(double) * (size_t)n * (3 + (size_t)d));
    double *v = k + n, *w = v + n, *dk = w + n;
    kvec(gp, x, k, dmean ? dk : NULL);
    double m = 0;
    for (int i = 0; i < n; i++) m += k[i] * gp->alpha[i];
    *mean = gp->y_std * m + gp->y_mean;
    memcpy(v, k, sizeof(double) * (size_t)n);
    int info = 0;
    dtrtrs_("L", "N", "N", &n, &one, gp->L, &n, v, &n, &info, 1, 1, 1); /* v = L^-1 k */
    FN_ASSERT(info == 0);
    double var = 1.0;
    for (int i = 0; i < n; i++) var -= v[i] * v[i];
    if (var < 0) var = 0.0;
    const double s = sqrt(var);
    *sd = gp->y_std * s;
    if (dmean) {
        memcpy(w, v, sizeof(double) * (size_t)n);
        dtrtrs_("L", "T", "N", &n, &one, gp->L, &n, w, &n, &info, 1, 1, 1); /* w = K^-1 k */
        FN_ASSERT(info == 0);
        for (int p = 0; p < d; p++) {
            double dm = 0, dv = 0;
            for (int i = 0; i < n; i++) {
                dm += gp->alpha[i] * dk[(size_t)i * d + p];
                dv += -2.0 * w[i] * dk[(size_t)i * d + p];
            }
            dmean[p] = gp->y_std * dm;
            dsd[p] = s > 0 ? gp->y_std * dv / (2.0 * s) : 0.0;
        }
    }
    free(k);
}

void bo_gp_predict(const bo_gp *gp, const double *x, double *mean, double *sd) {
    bo_gp_predict_grad(gp, x, mean, sd, NULL, NULL);
}

double bo_gp_lml(const bo_gp *gp) { return gp->lml; }

const double *bo_gp_length_scale(const bo_gp *gp) { return gp->ls; }
int bo_gp_n_length_scales(const bo_gp *gp) { return gp->nls; }

void bo_gp_free(bo_gp *gp) {
    if (!gp) return;
    free(gp->X);
    free(gp->L);
    free(gp->alpha);
    free(gp);
}
