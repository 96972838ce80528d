/* hnas/darts_bo.h: HNAS's outer loop on the DARTS space (docs/METHOD.md §4.2, §4.3) as a
 * state machine that hands out evaluations one at a time, so that R ranks can train R
 * genotypes at once (parallel Bayesian optimisation with the kriging believer), and the
 * sequential algorithm it reduces to with one evaluation in flight.
 *
 * Objective over the pool (hnas/darts_pool.h, M and kappa of every genotype known):
 *   score(A; nu, c) = 10^c |M(A)^2 - (s nu)^2| + kappa(A) / (M(A) + 1e-6),  s = 1e2,
 * nu in [0, 1], c in [-4, 1]; the argmin over the genotypes not yet evaluated nor being
 * evaluated is trained (a NaN score never wins; ties go to the smallest pool index), and its
 * validation accuracy is the target BO maximises (UCB, kappa 2.576). T steps (25): steps
 * t < init = min(floor(T/4), 10) are the probes nu = linspace(0, 1, init), c = -1.5; step t >= init
 * is suggestion t of bo/optimizer.h (its random streams keyed by (seed, t)) from a GP fitted to
 *   - every finished step with a real evaluation, registered in step order, and
 *   - every step still in flight, registered (after them, in step order) with the posterior mean
 *     at its point of a GP fitted to the finished ones (the kriging believer; seed of that fit:
 *     hnas_dbo_believer_seed(seed, t)).
 * A suggestion equal to a point already registered (real or believed) is a cached step: nothing
 * is trained, the step still counts (bayes_opt's cache, as in HNAS). The pick is the evaluated
 * genotype with the best validation accuracy (the first of equal ones in step order).
 *
 * Determinism: a step's suggestion depends only on the seed, the step number and which steps
 * had finished (with their values) and which were in flight when it was made. With one
 * evaluation in flight at a time (one rank) there is never a believed point, and the steps
 * are exactly hnas_dbo_run_sequential's (tests/test_hnas_darts.c). With R ranks the result is
 * a deterministic function of the order in which evaluations finish, which the timing decides:
 * two runs on R > 1 ranks agree only when their evaluations finish in the same order. */
#ifndef FN_HNAS_DARTS_BO_H
#define FN_HNAS_DARTS_BO_H

#include <stddef.h>
#include <stdint.h>

#include "bo/acq.h"
#include "hnas/darts_pool.h"

#define HNAS_DBO_MAX_T 256

typedef struct {
    uint64_t seed;
    int T;                  /* steps (25) */
    double s;               /* scale of nu (1e2) */
    double c_lo, c_hi;      /* bounds of log10 mu (-4, 1) */
    double c_init;          /* c of the probes (-1.5) */
    bo_acq acq;             /* UCB, kappa 2.576 */
    int n_random, n_starts; /* acquisition maximiser (10000, 10) */
} hnas_dbo_config;
void hnas_dbo_config_default(hnas_dbo_config *c);

enum { HNAS_DBO_FREE = 0, HNAS_DBO_PENDING = 1, HNAS_DBO_DONE = 2 };

/* One step: what was asked (nu, log10_mu, the genotype and its M, kappa, score) and what came
 * back (valid_acc, train_s, rank). arch = -1 for a cached step (same_as: the step whose point it
 * repeats). */
typedef struct {
    int step;
    double nu, log10_mu;
    long arch;
    int same_as;
    double M, kappa, score;
    double valid_acc, train_s;
    int rank;
    int order;              /* finish order (0, 1, ...) */
} hnas_dbo_eval;

typedef struct {
    hnas_dbo_config c;
    const hnas_dpool *pool;
    int state[HNAS_DBO_MAX_T];
    hnas_dbo_eval ev[HNAS_DBO_MAX_T];
    int finished;
} hnas_dbo;

/* 0, or -1 with a message (T out of range, a pool without every M and kappa). */
int hnas_dbo_init(hnas_dbo *b, const hnas_dbo_config *c, const hnas_dpool *pool, char *err,
                  size_t errlen);
/* The next step (the smallest free one) with its point and genotype; the step is then in
 * flight. Returns 1 with *out filled, 0 when every step is handed out, -1 with a message (the
 * GP fit failed). */
int hnas_dbo_next(hnas_dbo *b, hnas_dbo_eval *out, char *err, size_t errlen);
/* A step's result: valid_acc, train_s, rank of e (a step in flight, or one read back from the
 * records of a killed run, whose point and genotype are taken as recorded). 0, or -1 with a
 * message (a step already finished, a value that is not finite). */
int hnas_dbo_finish(hnas_dbo *b, const hnas_dbo_eval *e, char *err, size_t errlen);
/* Returns a step in flight to the free steps (its evaluation failed; it is suggested again). */
void hnas_dbo_release(hnas_dbo *b, int step);
/* The step of the pick (best validation accuracy among finished evaluations), or -1. */
int hnas_dbo_pick(const hnas_dbo *b);

uint64_t hnas_dbo_believer_seed(uint64_t seed, int step);
double hnas_dbo_score(double M, double kappa, double nu, double log10_mu, double s);

/* One record line (JSON, no newline) of a finished step: step, nu, log10_mu, arch (pool index
 * or -1), same_as, genotype (DARTS's Genotype(...) string), M, kappa, score, valid_acc,
 * train_s, rank, order. */
int hnas_dbo_eval_json(const hnas_dbo_eval *e, const hnas_dpool *pool, char *buf, size_t len);

/* The sequential algorithm (one evaluation at a time, bo_opt with its probe queue, as
 * hnas/search.h's HNAS loop): f(arch, user, &train_s) returns the validation accuracy of pool
 * genotype arch. out[T]. 0, or -1 with a message. */
typedef double (*hnas_dbo_evaluate)(long arch, void *user, double *train_s);
int hnas_dbo_run_sequential(const hnas_dbo_config *c, const hnas_dpool *pool,
                            hnas_dbo_evaluate f, void *user, hnas_dbo_eval *out, char *err,
                            size_t errlen);

#endif
