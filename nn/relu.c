/* nn/relu.c: ReLU forward/backward (see nn/relu.h). */
#include "nn/relu.h"

#include "nn/real.h"

void FN(relu_forward)(real *out, const real *in, size_t n) {
#pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) out[i] = in[i] > 0 ? in[i] : (real)0;
}

void FN(relu_backward)(real *din, const real *dout, const real *in, size_t n) {
#pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++)
        if (in[i] > 0) din[i] += dout[i];
}
