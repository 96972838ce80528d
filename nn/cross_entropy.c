/* nn/cross_entropy.c: softmax cross-entropy forward/backward (see nn/cross_entropy.h). */
#include "nn/cross_entropy.h"

#include <math.h>
#include <stddef.h>

#include "nn/real.h"

static double lse_row(const real *z, int k) {
    double m = z[0];
    for (int j = 1; j < k; j++)
        if (z[j] > m) m = z[j];
    double s = 0;
    for (int j = 0; j < k; j++) s += exp((double)z[j] - m);
    return m + log(s);
}

double FN(cross_entropy_forward)(const real *logits, const int *labels, int n, int k) {
    double loss = 0;
    for (int i = 0; i < n; i++) {
        const real *z = logits + (size_t)i * k;
        loss += lse_row(z, k) - z[labels[i]];
    }
    return loss / n;
}

void FN(cross_entropy_backward)(real *dlogits, const real *logits, const int *labels, int n,
                                int k, double dloss) {
    for (int i = 0; i < n; i++) {
        const real *z = logits + (size_t)i * k;
        real *dz = dlogits + (size_t)i * k;
        double l = lse_row(z, k);
        for (int j = 0; j < k; j++) {
            double p = exp((double)z[j] - l) - (j == labels[i] ? 1.0 : 0.0);
            dz[j] = (real)(dloss * p / n);
        }
    }
}

void FN(cross_entropy_backward_tangent)(real *tdlogits, const real *logits,
                                        const real *tlogits, int n, int k, double dloss) {
    for (int i = 0; i < n; i++) {
        const real *z = logits + (size_t)i * k, *tz = tlogits + (size_t)i * k;
        real *tdz = tdlogits + (size_t)i * k;
        const double l = lse_row(z, k);
        double pt = 0; /* <softmax(z), tz> */
        for (int j = 0; j < k; j++) pt += exp((double)z[j] - l) * tz[j];
        for (int j = 0; j < k; j++)
            tdz[j] = (real)(dloss * exp((double)z[j] - l) * ((double)tz[j] - pt) / n);
    }
}
