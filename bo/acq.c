/* bo/acq.c: expected improvement and upper confidence bound (see bo/acq.h). */
#include "bo/acq.h"

#include <math.h>
#include <stddef.h>

#define INV_SQRT_2PI 0.39894228040143267793994605993438
#define SQRT2 1.41421356237309504880168872420970

double bo_acq_value_grad(const bo_acq *a, double mean, double sd, double y_max, double *d_mean,
                         double *d_sd) {
    double v, dm, ds;
    if (a->kind == BO_ACQ_UCB) {
        v = mean + a->kappa * sd;
        dm = 1.0;
        ds = a->kappa;
    } else {
        const double imp = mean - y_max - a->xi;
        if (sd > 0) {
            const double z = imp / sd;
            const double cdf = 0.5 * erfc(-z / SQRT2), pdf = INV_SQRT_2PI * exp(-0.5 * z * z);
            v = imp * cdf + sd * pdf;
            dm = cdf;
            ds = pdf;
        } else {
            v = imp > 0 ? imp : 0.0;
            dm = imp > 0 ? 1.0 : 0.0;
            ds = 0.0;
        }
    }
    if (d_mean) *d_mean = dm;
    if (d_sd) *d_sd = ds;
    return v;
}

double bo_acq_value(const bo_acq *a, double mean, double sd, double y_max) {
    return bo_acq_value_grad(a, mean, sd, y_max, NULL, NULL);
}
