/* bo/optimizer.c: the BO loop state, acquisition maximisation and suggestions (see
 * bo/optimizer.h). */
#include "bo/optimizer.h"

#include <math.h>
#include <nlopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"
#include "bo/bo_rng.h"

struct bo_opt {
    int d;
    double *lo, *hi;
    bo_acq acq;
    bo_gp_opts gp;
    bo_max_opts mx;
    uint64_t seed, step;
    int n, cap;    /* registered points */
    double *X, *y; /* cap x d, cap */
    int qhead, qn, qcap;
    double *Q;     /* qcap x d: queued probes, qhead.. qn-1 pending */
};

bo_max_opts bo_max_defaults(void) { return (bo_max_opts){.n_random = 10000, .n_starts = 10, .polish_best = 0}; }

bo_opt *bo_opt_new(int d, const double *lo, const double *hi, bo_acq acq, bo_gp_opts gp,
                   bo_max_opts mx, uint64_t seed) {
    if (d < 1 || mx.n_random < 1 || mx.n_starts < 0) return NULL;
    for (int p = 0; p < d; p++)
        if (!isfinite(lo[p]) || !isfinite(hi[p]) || !(lo[p] < hi[p])) return NULL;
    bo_opt *o = callocCheck(1, sizeof(bo_opt));
    o->d = d;
    o->lo = mallocCheck(sizeof(double) * (size_t)d * 2);
    o->hi = o->lo + d;
    memcpy(o->lo, lo, sizeof(double) * (size_t)d);
    memcpy(o->hi, hi, sizeof(double) * (size_t)d);
    o->acq = acq;
    o->gp = gp;
    o->mx = mx;
    o->seed = seed;
    return o;
}

void bo_opt_free(bo_opt *o) {
    if (!o) return;
    free(o->lo);
    free(o->X);
    free(o->y);
    free(o->Q);
    free(o);
}

void bo_opt_probe(bo_opt *o, const double *x) {
    if (o->qn == o->qcap) {
        o->qcap = o->qcap ? 2 * o->qcap : 8;
        double *q = realloc(o->Q, sizeof(double) * (size_t)o->qcap * o->d);
        FN_ASSERT(q);
        o->Q = q;
    }
    memcpy(o->Q + (size_t)o->qn * o->d, x, sizeof(double) * (size_t)o->d);
    o->qn++;
}

static int find(const bo_opt *o, const double *x) {
    for (int i = 0; i < o->n; i++) {
        const double *z = o->X + (size_t)i * o->d;
        int eq = 1;
        for (int p = 0; p < o->d && eq; p++) eq = z[p] == x[p];
        if (eq) return i;
    }
    return -1;
}

int bo_opt_lookup(const bo_opt *o, const double *x, double *y) {
    const int i = find(o, x);
    if (i < 0) return 0;
    if (y) *y = o->y[i];
    return 1;
}

int bo_opt_register(bo_opt *o, const double *x, double y) {
    for (int p = 0; p < o->d; p++)
        if (!isfinite(x[p])) return -2;
    if (!isfinite(y)) return -2;
    if (find(o, x) >= 0) return -1;
    if (o->n == o->cap) {
        o->cap = o->cap ? 2 * o->cap : 16;
        double *X = realloc(o->X, sizeof(double) * (size_t)o->cap * o->d);
        FN_ASSERT(X);
        o->X = X;
        double *y2 = realloc(o->y, sizeof(double) * (size_t)o->cap);
        FN_ASSERT(y2);
        o->y = y2;
    }
    memcpy(o->X + (size_t)o->n * o->d, x, sizeof(double) * (size_t)o->d);
    o->y[o->n++] = y;
    return 0;
}

int bo_opt_count(const bo_opt *o) { return o->n; }
int bo_opt_queued(const bo_opt *o) { return o->qn - o->qhead; }
uint64_t bo_opt_step(const bo_opt *o) { return o->step; }
void bo_opt_set_step(bo_opt *o, uint64_t k) { o->step = k; }

const double *bo_opt_point(const bo_opt *o, int i, double *y) {
    if (i < 0 || i >= o->n) return NULL;
    if (y) *y = o->y[i];
    return o->X + (size_t)i * o->d;
}

int bo_opt_best(const bo_opt *o) {
    int b = -1;
    for (int i = 0; i < o->n; i++)
        if (b < 0 || o->y[i] > o->y[b]) b = i;
    return b;
}

/* ---- maximisation over the box --------------------------------------------------------- */

typedef struct {
    bo_objective f;
    void *ctx;
} nl_ctx;

static double nl_wrap(unsigned n, const double *x, double *grad, void *data) {
    const nl_ctx *c = data;
    const double v = c->f(x, grad, c->ctx);
    if (!isfinite(v)) { /* a NaN or inf never looks better to the line search */
        if (grad)
            for (unsigned p = 0; p < n; p++) grad[p] = 0.0;
        return -HUGE_VAL;
    }
    return v;
}

static uint64_t draw_index(uint64_t k, uint64_t i) { return k << 32 | (i & 0xffffffffu); }

double bo_maximize(int d, const double *lo, const double *hi, bo_objective f, void *ctx,
                   bo_max_opts mx, uint64_t seed, uint64_t k, double *x_out) {
    double x[d], best = -INFINITY;
    int found = 0;
    for (int s = 0; s < mx.n_random; s++) { /* numpy uniform: lo + (hi - lo) u */
        for (int p = 0; p < d; p++)
            x[p] = lo[p] + (hi[p] - lo[p]) * fn_rng_uniform(seed, BO_STREAM_WARMUP,
                                                            draw_index(k, (uint64_t)s * d + p));
        const double v = f(x, NULL, ctx);
        if (isfinite(v) && (!found || v > best)) { /* first of equal maxima, as argmax */
            best = v;
            memcpy(x_out, x, sizeof x);
            found = 1;
        }
    }
    if (!found) {
        for (int p = 0; p < d; p++) x_out[p] = lo[p];
        return -INFINITY;
    }
    const nl_ctx c = {f, ctx};
    for (int t = mx.polish_best ? -1 : 0; t < mx.n_starts; t++) {
        for (int p = 0; p < d; p++)
            x[p] = t < 0 ? x_out[p]
                         : lo[p] + (hi[p] - lo[p]) * fn_rng_uniform(seed, BO_STREAM_STARTS,
                                                                    draw_index(k, (uint64_t)t * d + p));
        nlopt_opt opt = nlopt_create(NLOPT_LD_LBFGS, (unsigned)d);
        FN_ASSERT(opt);
        nlopt_set_lower_bounds(opt, lo);
        nlopt_set_upper_bounds(opt, hi);
        nlopt_set_max_objective(opt, nl_wrap, (void *)&c);
        /* scipy's L-BFGS-B defaults: ftol 2.2e-9 (factr 1e7), 15,000 evaluations */
        nlopt_set_ftol_rel(opt, 2.220446049250313e-09);
        nlopt_set_xtol_rel(opt, 1e-10);
        nlopt_set_maxeval(opt, 15000);
        double v = 0;
        const nlopt_result rc = nlopt_optimize(opt, x, &v);
        nlopt_destroy(opt);
        if (rc < 0 && rc != NLOPT_ROUNDOFF_LIMITED) continue; /* bayes_opt: skip failures */
        for (int p = 0; p < d; p++) x[p] = x[p] < lo[p] ? lo[p] : x[p] > hi[p] ? hi[p] : x[p];
        v = f(x, NULL, ctx);
        if (isfinite(v) && v >= best) {
            best = v;
            memcpy(x_out, x, sizeof x);
        }
    }
    return best;
}

/* ---- suggestions -------------------------------------------------------------------------- */

typedef struct {
    const bo_gp *gp;
    const bo_acq *acq;
    double y_max;
    int d;
} acq_ctx;

static double acq_objective(const double *x, double *grad, void *ctx) {
    const acq_ctx *c = ctx;
    double mean, sd;
    if (!grad) {
        bo_gp_predict(c->gp, x, &mean, &sd);
        return bo_acq_value(c->acq, mean, sd, c->y_max);
    }
    double dmean[c->d], dsd[c->d], am, as;
    bo_gp_predict_grad(c->gp, x, &mean, &sd, dmean, dsd);
    const double v = bo_acq_value_grad(c->acq, mean, sd, c->y_max, &am, &as);
    for (int p = 0; p < c->d; p++) grad[p] = am * dmean[p] + as * dsd[p];
    return v;
}

int bo_opt_suggest(bo_opt *o, double *x_out, char *err, size_t errlen) {
    const int d = o->d;
    const uint64_t k = o->step;
    if (o->qhead < o->qn) {
        memcpy(x_out, o->Q + (size_t)o->qhead * d, sizeof(double) * (size_t)d);
        if (++o->qhead == o->qn) o->qhead = o->qn = 0;
        o->step++;
        return 0;
    }
    if (o->n == 0) {
        for (int p = 0; p < d; p++)
            x_out[p] = o->lo[p] + (o->hi[p] - o->lo[p]) *
                                      fn_rng_uniform(o->seed, BO_STREAM_INIT, draw_index(k, (uint64_t)p));
        o->step++;
        return 0;
    }
    const fn_philox_out key = fn_philox4x32(o->seed, (uint32_t)k, (uint32_t)(k >> 32),
                                            BO_STREAM_GP_KEY, 0u);
    const uint64_t gp_seed = (uint64_t)key.v[0] | (uint64_t)key.v[1] << 32;
    bo_gp *gp = bo_gp_fit(o->X, o->y, o->n, d, &o->gp, gp_seed, err, errlen);
    if (!gp) return -1;
    const acq_ctx c = {gp, &o->acq, o->y[bo_opt_best(o)], d};
    bo_maximize(d, o->lo, o->hi, acq_objective, (void *)&c, o->mx, o->seed, k, x_out);
    bo_gp_free(gp);
    o->step++;
    return 0;
}
