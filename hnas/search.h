/* hnas/search.h: HNAS on NAS-Bench-201 (docs/METHOD.md §4.2, §4.3), with the metric-alone and
 * random-search baselines, on precomputed per-architecture metrics (hnas/table.h).
 *
 * Objective (minimised over the candidate pool):
 *   score(A; nu, c) = 10^c * |M(A)^2 - (s nu)^2| + kappa(A) / (M(A) + 1e-6),
 * nu in [0, 1], c = log10 mu in [-4, 0], s = 5e3 (a NaN score never wins; ties go to the
 * smallest index, the pool being kept sorted as numpy's unique does).
 *
 * HNAS (mode bo): T iterations; the first init = min(floor(T/4), 10) are probes at
 * nu = linspace(0, 1, init), c = -2; then T - init Bayesian-optimisation suggestions (bo/,
 * Matern 5/2 GP, EI with xi = 0 by default) maximising the training signal. One evaluation
 * f(nu, c): the pool grows by `draws` (2,000) indices drawn uniformly with replacement (stream
 * HNAS_STREAM_POOL under the seed, counter = evaluation number), de-duplicated, evaluated
 * architectures removed; the argmin of the score is queried: its signal (12-epoch
 * cifar10-valid accuracy by default) is f, its training time is added to the cost. A (nu, c)
 * already registered is answered from the cache: the iteration counts, nothing is queried.
 * The pick is the queried architecture with the best signal (the first of equal ones).
 * Mode alone: one argmin at a fixed (nu, c) over a pool of T x draws, no query, cost 0.
 * Mode random: T architectures drawn uniformly without repeats among those the table holds,
 * each queried; the pick is the best signal.
 * With a partial table, draws of architectures it does not hold are dropped: the candidate
 * pool is restricted to the table (hnas_run says so in the result's warning). */
#ifndef FN_HNAS_SEARCH_H
#define FN_HNAS_SEARCH_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "bo/acq.h"
#include "hnas/table.h"

#define HNAS_MAX_T 256
#define HNAS_STREAM_POOL 0x70000000u /* nn/rng.h stream of the pool draws (random: + 1) */

typedef enum { HNAS_MODE_BO, HNAS_MODE_ALONE, HNAS_MODE_RANDOM } hnas_mode;

typedef struct {
    hnas_mode mode;
    uint64_t seed;
    int T;              /* iterations (20) */
    int draws;          /* pool draws per evaluation (2000) */
    double s;           /* scale of nu (5e3) */
    double c_lo, c_hi;  /* bounds of log10 mu (-4, 0) */
    double c_init;      /* c of the probes (-2) */
    bo_acq acq;         /* EI, xi = 0 */
    int n_random, n_starts; /* acquisition maximiser (10000, 10) */
    double alone_nu, alone_c; /* mode alone */
    int kappa_raw;      /* 1: kappa exactly as the table gives it, a negative one included
                           (HNAS's code); 0 (default): a kappa < 0 counts as +inf (below) */
    int metric_abs;     /* 1: M = |table value|; 0 (default, HNAS's code): M as it is. A
                           signed M (GraSP: 2,889 of the NB201 architectures below 0) makes
                           kappa / (M + 1e-6) run to -inf as M nears 0 from below, and the
                           argmin of every suggestion lands there (docs/REPRODUCE.md) */
} hnas_config;

void hnas_config_default(hnas_config *c);
const char *hnas_mode_name(hnas_mode m);
int hnas_mode_parse(const char *s, hnas_mode *m); /* 0 or -1 */

typedef struct {
    const hnas_table *table;
    int m_col, k_col;        /* columns of M and kappa */
    const double *signal;    /* [15625] the training signal a query returns */
    const double *cost;      /* [15625] seconds a query costs */
} hnas_data;

typedef struct {
    int t;              /* iteration, from 0 */
    int cached;         /* (nu, c) answered from the cache: nothing queried */
    double nu, log10_mu;
    int arch;           /* queried NB201 index (-1 when cached) */
    double M, kappa, score, signal;
    double cost;        /* cumulative seconds */
    int best_arch;      /* best signal so far and its architecture */
    double best_signal;
    int pool;           /* candidates in the pool after the step */
} hnas_step;

typedef struct {
    hnas_step step[HNAS_MAX_T];
    int nsteps;
    int pick;           /* NB201 index of the final pick, -1 on failure */
    double pick_signal, cost;
    int evaluations;    /* architectures queried */
    int candidates;     /* architectures the search could draw (the table's rows) */
    double seconds;     /* wall time of the search */
    char warning[256];  /* "" or why the pool was restricted */
} hnas_result;

double hnas_score(double M, double kappa, double nu, double log10_mu, double s);
/* The kappa a search scores with. Theta = G G^T is positive semi-definite: a negative
 * lambda_min is rounding of a zero eigenvalue (a network whose output ignores its input: only
 * the classifier bias enters G, Theta = Y Y^T), whose true condition number is infinite.
 * HNAS's code divides anyway, and a kappa of about -1e15 then wins the objective at every
 * (nu, c): on the whole NB201 space every query of every seed goes to such a network (10 %
 * accuracy). By default freenas scores it as +inf (it never wins); kappa_raw keeps the code's
 * literal value. */
static inline double hnas_kappa_effective(double kappa, int raw) {
    return !raw && kappa < 0 ? (double)INFINITY : kappa;
}

/* The architectures a search on d may draw: the rows that give its M and kappa columns (random
 * search draws from the same rows, so that it searches the space HNAS searches; with no metric
 * columns, every row). Writes cand[15625] (0/1) unless NULL; returns how many. */
int hnas_candidates(const hnas_data *d, unsigned char *cand);

/* Runs one search. 0, or -1 with a message (bad config, a column missing, the GP failed). */
int hnas_run(const hnas_config *c, const hnas_data *d, hnas_result *r, char *err, size_t errlen);
/* The objective's landscape: for each point of an nn x nc grid, nu = i / (nn - 1) in [0, 1] and
 * c = c_lo + j (c_hi - c_lo) / (nc - 1), the argmin of the score over every candidate of the
 * table (no pool draws, nothing excluded; the same NaN and tie rules as a search): the best any
 * suggestion (nu, c) could query when its pool holds the whole space. idx[i * nc + j] (-1 when
 * every score is NaN). nn, nc >= 2. 0, or -1 with a message (a column missing). */
int hnas_landscape(const hnas_config *c, const hnas_data *d, int nn, int nc, int *idx, char *err,
                   size_t errlen);
/* (nu, c) of grid point k = i * nc + j of hnas_landscape's grid */
static inline void hnas_landscape_point(const hnas_config *c, int nn, int nc, int k, double *nu,
                                        double *log10_mu) {
    *nu = (double)(k / nc) / (nn - 1);
    *log10_mu = c->c_lo + (c->c_hi - c->c_lo) * (double)(k % nc) / (nc - 1);
}

#endif
