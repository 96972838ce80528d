/* bo/optimizer.h: bayes_opt 1.2's BayesianOptimization over a box, as HNAS drives it
 * (docs/METHOD.md §4.3): points queued with probe() come out of suggest() first (FIFO); after
 * that suggest() fits the GP (bo/gp.h) to every registered (x, y) and returns the maximiser
 * of the acquisition (bo/acq.h) with y_max the best registered target: the best of
 * mx.n_random uniform samples, then a bounded quasi-Newton polish (NLopt LD_LBFGS, analytic
 * gradient) from mx.n_starts uniform starts, whose end point replaces the best when its value
 * is >= it; the result is clipped to the box. With nothing registered and nothing queued,
 * suggest() returns a uniform sample (bayes_opt's random_sample).
 *
 * Determinism and resuming: suggestion k (the k-th call of suggest(), from 0, queued or not)
 * draws from Philox streams keyed by (seed, k) (bo/bo_rng.h) and depends on nothing else but
 * the registered points, bit for bit, whatever the thread count. A killed search resumes with
 * bo_opt_new, bo_opt_register of its history, the probes it had not yet used, and
 * bo_opt_set_step(o, number of suggestions made).
 *
 * Repeats: bayes_opt answers an x it has already registered from its cache (the evaluation
 * still counts as an iteration). register() refuses such an x (-1); bo_opt_lookup() gives the
 * cached y. Points are equal when every coordinate is equal as a double (bayes_opt hashes the
 * tuple of floats). */
#ifndef BO_OPTIMIZER_H
#define BO_OPTIMIZER_H

#include <stddef.h>
#include <stdint.h>

#include "bo/acq.h"
#include "bo/gp.h"

/* n_random uniform samples, n_starts polishes from uniform starts (10000, 10: bayes_opt 1.2).
 * polish_best = 1 also polishes from the best sample first (bayes_opt 1.2 does not, so a
 * maximum whose basin no start hits is only as good as the sampling; default 0). */
typedef struct { int n_random; int n_starts; int polish_best; } bo_max_opts;
bo_max_opts bo_max_defaults(void);                                  /* 10000, 10, 0 */

typedef struct bo_opt bo_opt;

/* A box lo[p] < hi[p] (d values each, copied). NULL on bad input (d < 1, a bound that is not
 * finite, lo >= hi, n_random < 1 or n_starts < 0). */
bo_opt *bo_opt_new(int d, const double *lo, const double *hi, bo_acq acq, bo_gp_opts gp,
                   bo_max_opts mx, uint64_t seed);
void bo_opt_probe(bo_opt *o, const double *x);      /* queue an initial point */
/* 0; -1 if x is already registered; -2 if x or y is not finite. */
int  bo_opt_register(bo_opt *o, const double *x, double y);
int  bo_opt_lookup(const bo_opt *o, const double *x, double *y); /* 1 if registered (y set) */
/* The next point into x_out (d): queue first, else GP. 0, or -1 with a message in err (the GP
 * fit failed); the step counter advances only on success. */
int  bo_opt_suggest(bo_opt *o, double *x_out, char *err, size_t errlen);
int  bo_opt_count(const bo_opt *o);                 /* registered points */
int  bo_opt_queued(const bo_opt *o);                /* probes not yet suggested */
uint64_t bo_opt_step(const bo_opt *o);              /* suggestions made so far */
void bo_opt_set_step(bo_opt *o, uint64_t k);        /* for a resumed search */
/* Registered point i (0 <= i < count) in order of registration: x (d values), *y. */
const double *bo_opt_point(const bo_opt *o, int i, double *y);
/* The length scale(s) and log marginal likelihood of the GP of the last GP suggestion (for
 * records and diagnostics; l = ls_lo means a white-noise fit and a flat EI). NULL / NAN before
 * the first one. */
const double *bo_opt_last_length_scale(const bo_opt *o);
double bo_opt_last_lml(const bo_opt *o);
/* Index of the best registered target (the first of equal ones), -1 when none. */
int  bo_opt_best(const bo_opt *o);
void bo_opt_free(bo_opt *o);

/* The maximiser of f over the box, as suggest() maximises the acquisition: mx.n_random uniform
 * samples and mx.n_starts L-BFGS polishes (and one from the best sample with polish_best), draws from streams keyed by (seed, k). f returns
 * the value at x and, if grad is not NULL, its gradient. Non-finite values never win. Returns
 * the value at x_out (clipped to the box), or -INFINITY if no sample was finite. */
typedef double (*bo_objective)(const double *x, double *grad, void *ctx);
double bo_maximize(int d, const double *lo, const double *hi, bo_objective f, void *ctx,
                   bo_max_opts mx, uint64_t seed, uint64_t k, double *x_out);

#endif
