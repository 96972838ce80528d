/* bo/acq.h: the acquisition functions of bayes_opt 1.2's UtilityFunction (HNAS, docs/METHOD.md
 * §4.3), on the GP's posterior mean and sd in the units of y (bayes_opt passes the raw best
 * target y_max and sklearn returns de-normalised mean and std):
 *   EI:  a = mean - y_max - xi, z = a / sd, EI = a Phi(z) + sd phi(z)
 *   UCB: mean + kappa sd
 * At sd = 0 (a point the GP knows exactly) EI is max(a, 0): numpy's a / 0 gives z = +-inf and
 * so a or 0 (and NaN for a = 0, here 0). */
#ifndef BO_ACQ_H
#define BO_ACQ_H

typedef enum { BO_ACQ_EI, BO_ACQ_UCB } bo_acq_kind;
typedef struct { bo_acq_kind kind; double xi, kappa; } bo_acq;

double bo_acq_value(const bo_acq *a, double mean, double sd, double y_max);
/* The value and its partial derivatives in mean and sd (EI: Phi(z) and phi(z); UCB: 1 and
 * kappa), for the chain rule through bo_gp_predict_grad. */
double bo_acq_value_grad(const bo_acq *a, double mean, double sd, double y_max, double *d_mean,
                         double *d_sd);

#endif
