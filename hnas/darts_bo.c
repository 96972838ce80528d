/* hnas/darts_bo.c: HNAS's outer loop on the DARTS space, parallel (kriging believer) and
 * sequential (see hnas/darts_bo.h). */
#include "hnas/darts_bo.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"
#include "bo/optimizer.h"

void hnas_dbo_config_default(hnas_dbo_config *c) {
    memset(c, 0, sizeof *c);
    c->T = 25;
    c->s = 1e2;
    c->c_lo = -4;
    c->c_hi = 1;
    c->c_init = -1.5;
    c->acq = (bo_acq){BO_ACQ_UCB, 0.0, 2.576};
    c->n_random = 10000;
    c->n_starts = 10;
}

double hnas_dbo_score(double M, double kappa, double nu, double log10_mu, double s) {
    return pow(10.0, log10_mu) * fabs(M * M - (s * nu) * (s * nu)) + kappa / (M + 1e-6);
}

uint64_t hnas_dbo_believer_seed(uint64_t seed, int step) {
    uint64_t z = seed ^ (0xB311E7E5ull + (uint64_t)step * 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int n_init(int T) { return T / 4 < 10 ? T / 4 : 10; }

static void probe_point(const hnas_dbo_config *c, int t, double x[2]) {
    const int init = n_init(c->T);
    x[0] = init > 1 ? (double)t / (init - 1) : 0.0;
    x[1] = c->c_init;
}

static bo_opt *new_opt(const hnas_dbo_config *c) {
    const double lo[2] = {0, c->c_lo}, hi[2] = {1, c->c_hi};
    bo_max_opts mx = bo_max_defaults();
    mx.n_random = c->n_random;
    mx.n_starts = c->n_starts;
    return bo_opt_new(2, lo, hi, c->acq, bo_gp_defaults(), mx, c->seed);
}

static int check(const hnas_dbo_config *c, const hnas_dpool *pool, char *err, size_t errlen) {
    if (c->T < 1 || c->T > HNAS_DBO_MAX_T || !(c->s > 0) || !(c->c_lo < c->c_hi)) {
        snprintf(err, errlen, "bad HNAS configuration (1 <= T <= %d, s > 0, log10 mu bounds "
                 "lo < hi)", HNAS_DBO_MAX_T);
        return -1;
    }
    if (pool->have < pool->n) {
        snprintf(err, errlen, "M and kappa are known for %ld of the pool's %ld genotypes",
                 pool->have, pool->n);
        return -1;
    }
    return 0;
}

/* argmin of the score over genotypes not in `used` (NaN never wins, ties: smallest index) */
static long argmin(const hnas_dbo_config *c, const hnas_dpool *p, const unsigned char *used,
                   double nu, double lm, double *best) {
    long a = -1;
    *best = NAN;
    for (long i = 0; i < p->n; i++) {
        if (used[i]) continue;
        const double s = hnas_dbo_score(p->M[i], p->kappa[i], nu, lm, c->s);
        if (isnan(s)) continue;
        if (a < 0 || s < *best) {
            a = i;
            *best = s;
        }
    }
    return a;
}

int hnas_dbo_init(hnas_dbo *b, const hnas_dbo_config *c, const hnas_dpool *pool, char *err,
                  size_t errlen) {
    memset(b, 0, sizeof *b);
    b->c = *c;
    b->pool = pool;
    return check(c, pool, err, errlen);
}

/* the registered points of the GP for the step being suggested: finished (real) ones in step
 * order, then those in flight with the believer's value */
static int build_opt(hnas_dbo *b, int step, bo_opt **out, char *err, size_t errlen) {
    bo_opt *o = new_opt(&b->c);
    if (!o) {
        snprintf(err, errlen, "bad Bayesian-optimisation settings");
        return -1;
    }
    int nreal = 0, npend = 0;
    for (int t = 0; t < b->c.T; t++) {
        const hnas_dbo_eval *e = &b->ev[t];
        if (b->state[t] == HNAS_DBO_DONE && e->arch >= 0) {
            bo_opt_register(o, (double[]){e->nu, e->log10_mu}, e->valid_acc);
            nreal++;
        } else if (b->state[t] == HNAS_DBO_PENDING && e->arch >= 0) npend++;
    }
    if (npend && nreal) {
        double *X = mallocCheck(sizeof(double) * 2 * (size_t)nreal), *y = mallocCheck(sizeof(double) * (size_t)nreal);
        for (int i = 0; i < nreal; i++) {
            const double *x = bo_opt_point(o, i, &y[i]);
            X[2 * i] = x[0];
            X[2 * i + 1] = x[1];
        }
        const bo_gp_opts go = bo_gp_defaults();
        bo_gp *gp = bo_gp_fit(X, y, nreal, 2, &go, hnas_dbo_believer_seed(b->c.seed, step), err,
                              errlen);
        free(X);
        free(y);
        if (!gp) {
            bo_opt_free(o);
            return -1;
        }
        for (int t = 0; t < b->c.T; t++) {
            const hnas_dbo_eval *e = &b->ev[t];
            if (b->state[t] != HNAS_DBO_PENDING || e->arch < 0) continue;
            const double x[2] = {e->nu, e->log10_mu};
            double m, sd;
            bo_gp_predict(gp, x, &m, &sd);
            bo_opt_register(o, x, m); /* -1 for a point already there: its value stands */
        }
        bo_gp_free(gp);
    }
    *out = o;
    return 0;
}

int hnas_dbo_next(hnas_dbo *b, hnas_dbo_eval *out, char *err, size_t errlen) {
    int step = -1;
    for (int t = 0; t < b->c.T && step < 0; t++)
        if (b->state[t] == HNAS_DBO_FREE) step = t;
    if (step < 0) return 0;
    hnas_dbo_eval e;
    memset(&e, 0, sizeof e);
    e.step = step;
    e.same_as = -1;
    e.rank = -1;
    e.order = -1;
    e.valid_acc = e.train_s = NAN;
    double x[2];
    if (step < n_init(b->c.T)) probe_point(&b->c, step, x);
    else {
        bo_opt *o;
        if (build_opt(b, step, &o, err, errlen)) return -1;
        bo_opt_set_step(o, (uint64_t)step);
        const int rc = bo_opt_suggest(o, x, err, errlen);
        bo_opt_free(o);
        if (rc) return -1;
    }
    e.nu = x[0];
    e.log10_mu = x[1];
    /* the cache: a point already asked (finished or in flight) is not trained again */
    for (int t = 0; t < b->c.T; t++)
        if (b->state[t] != HNAS_DBO_FREE && b->ev[t].arch >= 0 && b->ev[t].nu == x[0] &&
            b->ev[t].log10_mu == x[1]) {
            e.same_as = t;
            break;
        }
    e.arch = -1;
    e.M = e.kappa = e.score = NAN;
    if (e.same_as < 0) {
        unsigned char *used = callocCheck((size_t)b->pool->n, 1);
        for (int t = 0; t < b->c.T; t++)
            if (b->state[t] != HNAS_DBO_FREE && b->ev[t].arch >= 0) used[b->ev[t].arch] = 1;
        e.arch = argmin(&b->c, b->pool, used, x[0], x[1], &e.score);
        free(used);
        if (e.arch < 0) {
            snprintf(err, errlen, "no genotype left with a finite score (pool of %ld)",
                     b->pool->n);
            return -1;
        }
        e.M = b->pool->M[e.arch];
        e.kappa = b->pool->kappa[e.arch];
    }
    b->ev[step] = e;
    b->state[step] = HNAS_DBO_PENDING;
    *out = e;
    return 1;
}

int hnas_dbo_finish(hnas_dbo *b, const hnas_dbo_eval *e, char *err, size_t errlen) {
    const int t = e->step;
    if (t < 0 || t >= b->c.T || b->state[t] == HNAS_DBO_DONE) {
        snprintf(err, errlen, "step %d is out of range or already finished", t);
        return -1;
    }
    if (e->arch >= b->pool->n || (e->arch >= 0 && !isfinite(e->valid_acc))) {
        snprintf(err, errlen, "step %d: genotype %ld or validation accuracy %g is unusable",
                 t, e->arch, e->valid_acc);
        return -1;
    }
    if (b->state[t] == HNAS_DBO_FREE) b->ev[t] = *e; /* from the records */
    else {
        b->ev[t].valid_acc = e->valid_acc;
        b->ev[t].train_s = e->train_s;
        b->ev[t].rank = e->rank;
    }
    b->ev[t].order = b->finished++;
    b->state[t] = HNAS_DBO_DONE;
    return 0;
}

void hnas_dbo_release(hnas_dbo *b, int step) {
    if (step >= 0 && step < b->c.T && b->state[step] == HNAS_DBO_PENDING)
        b->state[step] = HNAS_DBO_FREE;
}

int hnas_dbo_pick(const hnas_dbo *b) {
    int best = -1;
    for (int t = 0; t < b->c.T; t++)
        if (b->state[t] == HNAS_DBO_DONE && b->ev[t].arch >= 0 &&
            (best < 0 || b->ev[t].valid_acc > b->ev[best].valid_acc))
            best = t;
    return best;
}

static void json_num(char *buf, size_t len, size_t *w, const char *key, double v) {
    if (*w >= len) return;
    if (isfinite(v)) *w += (size_t)snprintf(buf + *w, len - *w, ", \"%s\": %.17g", key, v);
    else *w += (size_t)snprintf(buf + *w, len - *w, ", \"%s\": null", key);
}

int hnas_dbo_eval_json(const hnas_dbo_eval *e, const hnas_dpool *pool, char *buf, size_t len) {
    char gs[1024] = "";
    if (e->arch >= 0) darts_genotype_string(&pool->gt[e->arch], gs, sizeof gs);
    size_t w = (size_t)snprintf(buf, len, "{\"step\": %d", e->step);
    json_num(buf, len, &w, "nu", e->nu);
    json_num(buf, len, &w, "log10_mu", e->log10_mu);
    if (w < len)
        w += (size_t)snprintf(buf + w, len - w, ", \"arch\": %ld, \"same_as\": %d, "
                              "\"genotype\": %s%s%s", e->arch, e->same_as, e->arch >= 0 ? "\"" : "",
                              e->arch >= 0 ? gs : "null", e->arch >= 0 ? "\"" : "");
    json_num(buf, len, &w, "M", e->M);
    json_num(buf, len, &w, "kappa", e->kappa);
    json_num(buf, len, &w, "score", e->score);
    json_num(buf, len, &w, "valid_acc", e->valid_acc);
    json_num(buf, len, &w, "train_s", e->train_s);
    if (w < len)
        w += (size_t)snprintf(buf + w, len - w, ", \"rank\": %d, \"order\": %d}", e->rank,
                              e->order);
    return w < len ? 0 : -1;
}

int hnas_dbo_run_sequential(const hnas_dbo_config *c, const hnas_dpool *pool,
                            hnas_dbo_evaluate f, void *user, hnas_dbo_eval *out, char *err,
                            size_t errlen) {
    if (check(c, pool, err, errlen)) return -1;
    bo_opt *o = new_opt(c);
    if (!o) {
        snprintf(err, errlen, "bad Bayesian-optimisation settings");
        return -1;
    }
    for (int i = 0; i < n_init(c->T); i++) {
        double x[2];
        probe_point(c, i, x);
        bo_opt_probe(o, x);
    }
    unsigned char *used = callocCheck((size_t)pool->n, 1);
    int rc = 0;
    for (int t = 0; t < c->T && !rc; t++) {
        hnas_dbo_eval *e = &out[t];
        memset(e, 0, sizeof *e);
        e->step = t;
        e->same_as = -1;
        e->rank = 0;
        e->order = t;
        e->M = e->kappa = e->score = e->valid_acc = e->train_s = NAN;
        double x[2], y;
        if (bo_opt_suggest(o, x, err, errlen)) {
            rc = -1;
            break;
        }
        e->nu = x[0];
        e->log10_mu = x[1];
        if (bo_opt_lookup(o, x, &y)) {
            e->arch = -1;
            for (int k = 0; k < t; k++)
                if (out[k].arch >= 0 && out[k].nu == x[0] && out[k].log10_mu == x[1]) {
                    e->same_as = k;
                    break;
                }
            continue;
        }
        e->arch = argmin(c, pool, used, x[0], x[1], &e->score);
        if (e->arch < 0) {
            snprintf(err, errlen, "no genotype left with a finite score (pool of %ld)", pool->n);
            rc = -1;
            break;
        }
        used[e->arch] = 1;
        e->M = pool->M[e->arch];
        e->kappa = pool->kappa[e->arch];
        e->valid_acc = f(e->arch, user, &e->train_s);
        if (!isfinite(e->valid_acc)) {
            snprintf(err, errlen, "step %d: the evaluation of genotype %ld failed", t, e->arch);
            rc = -1;
            break;
        }
        bo_opt_register(o, x, e->valid_acc);
    }
    free(used);
    bo_opt_free(o);
    return rc;
}
