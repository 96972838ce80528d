/* hnas/search.c: HNAS's outer loop on NB201 and its two baselines (hnas/search.h). */
#include "hnas/search.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/common.h"
#include "bo/optimizer.h"
#include "nn/rng.h"

void hnas_config_default(hnas_config *c) {
    memset(c, 0, sizeof *c);
    c->mode = HNAS_MODE_BO;
    c->T = 20;
    c->draws = 2000;
    c->s = 5e3;
    c->c_lo = -4;
    c->c_hi = 0;
    c->c_init = -2;
    c->acq = (bo_acq){BO_ACQ_EI, 0.0, 2.576};
    c->n_random = 10000;
    c->n_starts = 10;
    c->alone_nu = 0;
    c->alone_c = -2;
    c->kappa_raw = 0;
    c->metric_abs = 0;
}

/* M as the objective takes it: the table's value, or its magnitude with metric_abs */
static double metric_value(const hnas_config *c, double v) { return c->metric_abs ? fabs(v) : v; }

static const char *const mode_names[] = {"bo", "alone", "random"};
const char *hnas_mode_name(hnas_mode m) { return mode_names[m]; }
int hnas_mode_parse(const char *s, hnas_mode *m) {
    for (int i = 0; i < 3; i++)
        if (!strcmp(s, mode_names[i])) {
            *m = (hnas_mode)i;
            return 0;
        }
    return -1;
}

double hnas_score(double M, double kappa, double nu, double log10_mu, double s) {
    return pow(10.0, log10_mu) * fabs(M * M - (s * nu) * (s * nu)) + kappa / (M + 1e-6);
}

typedef struct {
    const hnas_config *c;
    const hnas_data *d;
    unsigned char *in_pool, *done;
    const unsigned char *cand; /* [15625] architectures the search may draw */
    int draws_made; /* evaluations that grew the pool */
} search_state;

/* The pool grows by c->draws uniform draws (with replacement) of evaluation k. */
static void pool_grow(search_state *st) {
    const uint64_t base = (uint64_t)st->draws_made++ * (uint64_t)st->c->draws;
    for (int i = 0; i < st->c->draws; i++) {
        int a = (int)(fn_rng_uniform(st->c->seed, HNAS_STREAM_POOL, base + (uint64_t)i) *
                      HNAS_NUM_ARCHS);
        if (a >= HNAS_NUM_ARCHS) a = HNAS_NUM_ARCHS - 1;
        if (st->cand[a]) st->in_pool[a] = 1;
    }
}

static int pool_size(const search_state *st) {
    int n = 0;
    for (int a = 0; a < HNAS_NUM_ARCHS; a++) n += st->in_pool[a] && !st->done[a];
    return n;
}

/* The argmin rule of every scan: a NaN score never wins, ties go to the first (smallest) index. */
static inline void keep_min(double v, int a, int *arg, double *best) {
    if (!isnan(v) && (*arg < 0 || v < *best)) {
        *best = v;
        *arg = a;
    }
}

/* argmin of the score over the pool less the queried; -1 if the pool is empty or all NaN */
static int pool_argmin(const search_state *st, double nu, double lm, double *best) {
    const hnas_table *t = st->d->table;
    int arg = -1;
    *best = INFINITY;
    for (int a = 0; a < HNAS_NUM_ARCHS; a++) {
        if (!st->in_pool[a] || st->done[a]) continue;
        const double v = hnas_score(metric_value(st->c, hnas_table_get(t, a, st->d->m_col)),
                                    hnas_kappa_effective(hnas_table_get(t, a, st->d->k_col),
                                                         st->c->kappa_raw),
                                    nu, lm, st->c->s);
        keep_min(v, a, &arg, best);
    }
    return arg;
}

/* queries a: fills the step's arch, metrics, signal, cost and the best so far */
static int query(search_state *st, hnas_result *r, hnas_step *s, int a, double score,
                 char *err, size_t errlen) {
    const hnas_data *d = st->d;
    s->arch = a;
    s->M = metric_value(st->c, hnas_table_get(d->table, a, d->m_col));
    s->kappa = hnas_table_get(d->table, a, d->k_col);
    s->score = score;
    s->signal = d->signal[a];
    if (!isfinite(s->signal) || !isfinite(d->cost[a])) {
        snprintf(err, errlen, "NB201 index %d has no training signal or cost in the ground "
                 "truth", a);
        return -1;
    }
    st->done[a] = 1;
    r->cost += d->cost[a];
    r->evaluations++;
    if (r->pick < 0 || s->signal > r->pick_signal) {
        r->pick = a;
        r->pick_signal = s->signal;
    }
    return 0;
}

static void step_close(const search_state *st, hnas_result *r, hnas_step *s) {
    s->cost = r->cost;
    s->best_arch = r->pick;
    s->best_signal = r->pick_signal;
    s->pool = pool_size(st);
    r->nsteps++;
}

int hnas_candidates(const hnas_data *d, unsigned char *cand) {
    int n = 0;
    for (int a = 0; a < HNAS_NUM_ARCHS; a++) {
        const int in = d->m_col >= 0 && d->k_col >= 0
                           ? hnas_table_has(d->table, a, d->m_col) &&
                                 hnas_table_has(d->table, a, d->k_col)
                           : d->table->have[a];
        if (cand) cand[a] = (unsigned char)in;
        n += in;
    }
    return n;
}

int hnas_run(const hnas_config *c, const hnas_data *d, hnas_result *r, char *err,
             size_t errlen) {
    memset(r, 0, sizeof *r);
    r->pick = -1;
    r->pick_signal = NAN;
    const double t0 = fn_now();
    if (c->T < 1 || c->T > HNAS_MAX_T || c->draws < 1 || !(c->s > 0) || !(c->c_lo < c->c_hi)) {
        snprintf(err, errlen, "bad HNAS configuration (1 <= T <= %d, draws >= 1, s > 0, "
                 "log10 mu bounds lo < hi)", HNAS_MAX_T);
        return -1;
    }
    if (c->mode != HNAS_MODE_RANDOM && (d->m_col < 0 || d->k_col < 0)) {
        snprintf(err, errlen, "the metric table lacks the M or kappa column");
        return -1;
    }
    unsigned char *cand = callocCheck(HNAS_NUM_ARCHS, 1);
    r->candidates = hnas_candidates(d, cand);
    if (r->candidates < HNAS_NUM_ARCHS)
        snprintf(r->warning, sizeof r->warning, "the metric table gives %s for %d of %d "
                 "architectures: candidates are drawn among those only",
                 d->m_col >= 0 && d->k_col >= 0 ? "M and kappa" : "rows", r->candidates,
                 HNAS_NUM_ARCHS);
    if (r->candidates == 0) {
        snprintf(err, errlen, "the metric table is empty");
        free(cand);
        return -1;
    }
    search_state st = {c, d, callocCheck(HNAS_NUM_ARCHS, 1), callocCheck(HNAS_NUM_ARCHS, 1), cand, 0};
    int rc = 0;
    if (c->mode == HNAS_MODE_ALONE) {
        for (int k = 0; k < c->T; k++) pool_grow(&st);
        hnas_step *s = &r->step[0];
        memset(s, 0, sizeof *s);
        s->nu = c->alone_nu;
        s->log10_mu = c->alone_c;
        double best;
        const int a = pool_argmin(&st, s->nu, s->log10_mu, &best);
        if (a < 0) {
            snprintf(err, errlen, "no candidate with a finite score");
            rc = -1;
        } else {
            rc = query(&st, r, s, a, best, err, errlen);
            r->cost = 0; /* no training: the signal is shown, not paid for */
            r->evaluations = 0;
            step_close(&st, r, s);
        }
    } else if (c->mode == HNAS_MODE_RANDOM) {
        uint64_t ctr = 0;
        for (int t = 0; t < c->T && !rc && r->evaluations < r->candidates; t++) {
            int a;
            do {
                a = (int)(fn_rng_uniform(c->seed, HNAS_STREAM_POOL + 1, ctr++) * HNAS_NUM_ARCHS);
                if (a >= HNAS_NUM_ARCHS) a = HNAS_NUM_ARCHS - 1;
            } while (!cand[a] || st.done[a]);
            hnas_step *s = &r->step[t];
            memset(s, 0, sizeof *s);
            s->t = t;
            s->nu = s->log10_mu = NAN;
            rc = query(&st, r, s, a, NAN, err, errlen);
            if (!rc) step_close(&st, r, s);
        }
    } else {
        const double lo[2] = {0, c->c_lo}, hi[2] = {1, c->c_hi};
        bo_max_opts mx = bo_max_defaults();
        mx.n_random = c->n_random;
        mx.n_starts = c->n_starts;
        bo_opt *o = bo_opt_new(2, lo, hi, c->acq, bo_gp_defaults(), mx, c->seed);
        if (!o) {
            snprintf(err, errlen, "bad Bayesian-optimisation settings");
            rc = -1;
        } else {
            const int init = c->T / 4 < 10 ? c->T / 4 : 10;
            for (int i = 0; i < init; i++) {
                const double x[2] = {init > 1 ? (double)i / (init - 1) : 0.0, c->c_init};
                bo_opt_probe(o, x);
            }
            for (int t = 0; t < c->T && !rc; t++) {
                double x[2], y;
                hnas_step *s = &r->step[t];
                memset(s, 0, sizeof *s);
                s->t = t;
                if (bo_opt_suggest(o, x, err, errlen)) {
                    rc = -1;
                    break;
                }
                s->nu = x[0];
                s->log10_mu = x[1];
                if (bo_opt_lookup(o, x, &y)) { /* bayes_opt's cache: the iteration counts */
                    s->cached = 1;
                    s->arch = -1;
                    s->signal = y;
                    s->M = s->kappa = s->score = NAN;
                    step_close(&st, r, s);
                    continue;
                }
                pool_grow(&st);
                double best;
                const int a = pool_argmin(&st, x[0], x[1], &best);
                if (a < 0) {
                    snprintf(err, errlen, "iteration %d: the candidate pool is empty (a table "
                             "of %d architectures, %d queried)", t, d->table->nrows,
                             r->evaluations);
                    rc = -1;
                    break;
                }
                rc = query(&st, r, s, a, best, err, errlen);
                if (!rc && bo_opt_register(o, x, s->signal)) {
                    snprintf(err, errlen, "iteration %d: could not register (%g, %g)", t, x[0],
                             x[1]);
                    rc = -1;
                }
                if (!rc) step_close(&st, r, s);
            }
            bo_opt_free(o);
        }
    }
    free(st.in_pool);
    free(st.done);
    free(cand);
    r->seconds = fn_now() - t0;
    if (rc) r->pick = -1;
    return rc;
}

int hnas_landscape(const hnas_config *c, const hnas_data *d, int nn, int nc, int *idx, char *err,
                   size_t errlen) {
    if (d->m_col < 0 || d->k_col < 0 || nn < 2 || nc < 2) {
        snprintf(err, errlen, "landscape: %s", nn < 2 || nc < 2 ? "the grid needs at least 2 x 2 points"
                                                                : "the table lacks the M or kappa column");
        return -1;
    }
    unsigned char *cand = mallocCheck(HNAS_NUM_ARCHS);
    hnas_candidates(d, cand);
    double *M = mallocCheck(sizeof(double) * HNAS_NUM_ARCHS * 2), *K = M + HNAS_NUM_ARCHS;
    for (int a = 0; a < HNAS_NUM_ARCHS; a++) {
        M[a] = cand[a] ? metric_value(c, hnas_table_get(d->table, a, d->m_col)) : NAN;
        K[a] = cand[a] ? hnas_kappa_effective(hnas_table_get(d->table, a, d->k_col), c->kappa_raw)
                       : NAN;
    }
#pragma omp parallel for schedule(static)
    for (int g = 0; g < nn * nc; g++) {
        double nu, lm, best = INFINITY;
        hnas_landscape_point(c, nn, nc, g, &nu, &lm);
        int arg = -1;
        for (int a = 0; a < HNAS_NUM_ARCHS; a++)
            if (cand[a]) keep_min(hnas_score(M[a], K[a], nu, lm, c->s), a, &arg, &best);
        idx[g] = arg;
    }
    free(M);
    free(cand);
    return 0;
}
