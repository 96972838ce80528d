/* bo/gp.h: Gaussian-process regression as HNAS's BO runs it (scikit-learn's
 * GaussianProcessRegressor with kernel Matern(nu=2.5), alpha=1e-6, normalize_y=True,
 * n_restarts_optimizer=5; docs/METHOD.md §4.3).
 *
 * Kernel: k(x, z) = (1 + sqrt5 r + 5/3 r^2) exp(-sqrt5 r), r = |(x - z) / l| with one length
 * scale l (isotropic) or one per input dimension (ard). No amplitude, no noise kernel: the
 * signal variance is 1 on the normalised targets y' = (y - mean y) / std y (population std;
 * a std below 10 DBL_EPSILON counts as 1, as sklearn's _handle_zeros_in_scale). jitter is
 * added to the diagonal of K. Cholesky K = L L^T by LAPACK dpotrf, alpha = K^-1 y' by dpotrs.
 *
 * Fit: theta = log l maximises the log marginal likelihood
 *   lml(theta) = -1/2 y'^T K^-1 y' - sum_i log L_ii - n/2 log 2 pi
 * with gradient d lml / d theta_p = 1/2 tr((alpha alpha^T - K^-1) dK/dtheta_p),
 *   dK/dtheta_p = 5/3 (1 + sqrt5 r) exp(-sqrt5 r) (x_p - z_p)^2 / l_p^2  (summed over p if
 * isotropic), over theta in [log ls_lo, log ls_hi] by NLopt's bounded L-BFGS (LD_LBFGS) from
 * theta = log ls_init and from `restarts` more starts drawn uniformly in log space (Philox
 * stream FN_STREAM_BO + BO_STREAM_GP under `seed`, nn/rng.h); the best lml wins (first on
 * ties). A start whose K is not positive definite scores lml = -inf, as in sklearn.
 *
 * Prediction (sklearn's predict(return_std=True)), in the units of the original y:
 *   mean = std y * k^T alpha + mean y,  sd = std y * sqrt(max(0, 1 - |L^-1 k|^2)).
 * Everything is sequential double-precision code: results do not depend on thread counts. */
#ifndef BO_GP_H
#define BO_GP_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    double jitter;                 /* added to K's diagonal (sklearn alpha) */
    double ls_init, ls_lo, ls_hi;  /* initial length scale and its bounds */
    int restarts;                  /* extra optimiser starts, log-uniform in the bounds */
    int ard;                       /* 1: one length scale per input dimension */
    int normalize_y;               /* 1: subtract the mean and divide by the std of y */
    int optimize;                  /* 1 (default): fit l; 0: keep ls_init (sklearn optimizer=None) */
} bo_gp_opts;

/* jitter 1e-6, ls_init 1, bounds [1e-5, 1e5], 5 restarts, isotropic, normalize_y, optimize:
 * sklearn's GaussianProcessRegressor as bayes_opt 1.2 configures it (HNAS). */
bo_gp_opts bo_gp_defaults(void);

typedef struct bo_gp bo_gp;

/* Fits on X (n x d, row-major) and y (n). Returns NULL and a message in err on bad input
 * (n < 1, d < 1, a non-finite value, bounds that are not 0 < lo <= init <= hi) or when K is not
 * positive definite at every start. X and y are copied. */
bo_gp *bo_gp_fit(const double *X, const double *y, int n, int d, const bo_gp_opts *o,
                 uint64_t seed, char *err, size_t errlen);
/* The GP at given length scale(s) ls (1, or d with o->ard), no fit (o->optimize, ls_init and
 * the bounds are not used): a model rebuilt from a fitted one, or a reference. */
bo_gp *bo_gp_fit_at(const double *X, const double *y, int n, int d, const bo_gp_opts *o,
                    const double *ls, char *err, size_t errlen);
/* Posterior mean and standard deviation at one point x (d), in the units of y. */
void bo_gp_predict(const bo_gp *gp, const double *x, double *mean, double *sd);
/* The same with their gradients in x (dmean, dsd: d values each; dsd is 0 where sd is 0). */
void bo_gp_predict_grad(const bo_gp *gp, const double *x, double *mean, double *sd,
                        double *dmean, double *dsd);
double bo_gp_lml(const bo_gp *gp);                 /* at the fitted length scale(s) */
const double *bo_gp_length_scale(const bo_gp *gp); /* 1 or d values */
int bo_gp_n_length_scales(const bo_gp *gp);        /* 1, or d with ard */
void bo_gp_free(bo_gp *gp);

/* The log marginal likelihood of (X, y) at log length scale(s) theta (1, or d with o->ard),
 * with the normalisation and jitter of o, and its gradient in theta (grad may be NULL).
 * Returns -INFINITY (gradient 0) where K is not positive definite. No input checks: for
 * tests and callers that already validated X and y. */
double bo_gp_lml_at(const double *X, const double *y, int n, int d, const bo_gp_opts *o,
                    const double *theta, double *grad);

#endif
