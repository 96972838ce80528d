/* nn/relu.c: ReLU forward/backward (see nn/relu.h).
 * Both loops are selects, not branches, so the compiler vectorises them: the signs of a
 * layer's inputs are random at initialisation, and a branch on them mispredicted half the
 * time (the backward was 8 % of a CPU snip pass as `if (in > 0) din += dout`). */
#include "nn/relu.h"

#include "nn/real.h"

void FN(relu_forward)(real *out, const real *in, size_t n) {
#pragma omp parallel for schedule(static) if (n > 8192)
    for (size_t i = 0; i < n; i++) out[i] = in[i] > 0 ? in[i] : (real)0;
}

void FN(relu_backward)(real *din, const real *dout, const real *in, size_t n, int acc) {
    if (!acc) {
#pragma omp parallel for schedule(static) if (n > 8192)
        for (size_t i = 0; i < n; i++) din[i] = in[i] > 0 ? dout[i] : (real)0;
        return;
    }
#pragma omp parallel for schedule(static) if (n > 8192)
    for (size_t i = 0; i < n; i++) din[i] += in[i] > 0 ? dout[i] : (real)0;
}
