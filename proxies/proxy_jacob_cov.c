/* proxies/proxy_jacob_cov.c: `jacob_cov`, ZC's jacob_cov (docs/METHOD.md §3.6, §6 item 5): with the
 * input requiring gradients, y = logits, backward with d y = 1, so J_n = d(sum_{m,c}
 * y_mc)/d x_n (train-mode BN couples the samples, as in ZC); the N x N correlation matrix of
 * the flattened J_n (numpy.corrcoef: rows centred, normalised, clipped to [-1, 1]); its
 * eigenvalues v; score = -sum_i [log(v_i + k) + 1/(v_i + k)], k = 1e-5.
 * ZC takes the eigenvalues with numpy's general eig; the matrix is symmetric, so the
 * symmetric solver (proxies/linalg.h) gives the same real values. Any numerical failure is NaN,
 * as ZC: a constant J_n (corrcoef divides by zero) or an eigenvalue <= -k (log of a
 * non-positive number) returns status NaN with a message. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cblas.h>

#include "proxies/linalg.h"
#include "proxies/proxy_impl.h"

double proxy_jacob_score(const double *J, int n, size_t d, double *work) {
    double *c = work, *v = work + (size_t)n * n, *xc = work + (size_t)n * n + n;
    for (int i = 0; i < n; i++) { /* centred rows */
        double m = 0;
        for (size_t k = 0; k < d; k++) m += J[(size_t)i * d + k];
        m /= (double)d;
        for (size_t k = 0; k < d; k++) xc[(size_t)i * d + k] = J[(size_t)i * d + k] - m;
    }
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, n, (int)d, 1.0, xc, (int)d, 0.0, c, n);
    for (int i = 0; i < n; i++)
        for (int jj = i + 1; jj < n; jj++) c[(size_t)jj * n + i] = c[(size_t)i * n + jj];
    double *sd = v; /* borrow v for the standard deviations */
    for (int i = 0; i < n; i++) sd[i] = sqrt(c[(size_t)i * n + i]);
    for (int i = 0; i < n; i++)
        for (int jj = 0; jj < n; jj++) {
            double r = c[(size_t)i * n + jj] / sd[i] / sd[jj];
            c[(size_t)i * n + jj] = r > 1 ? 1 : r < -1 ? -1 : r; /* NaN stays NaN */
        }
    if (linalg_eigvalsh(n, c, v)) return NAN;
    const double k = 1e-5;
    double s = 0;
    for (int i = 0; i < n; i++) {
        if (!(v[i] + k > 0)) return NAN;
        s -= log(v[i] + k) + 1.0 / (v[i] + k);
    }
    return s;
}

int proxy_jacob_cov(fn_proxy_job *j, double *out, char *err, size_t errlen) {
    const fn_graph *g = j->g;
    const int n = j->batch;
    const size_t d = graph_tensor_numel(g, g->input) / (size_t)n;
    proxy_pass(j, FN_PX_LOSS_SUM);
    double *J = proxy_scratch(j, 2, (size_t)n * d);
    proxy_to_double(j->e, exec_tensor_grad(j->e, g->input), (size_t)n * d, J);
    double *work = proxy_scratch(j, 3, (size_t)n * n + n + (size_t)n * d);
    *out = proxy_jacob_score(J, n, d, work);
    if (!isfinite(*out)) {
        snprintf(err, errlen, "jacob_cov is NaN: a constant input Jacobian or an eigenvalue "
                 "<= -1e-5 of the correlation matrix (ZC returns NaN too)");
        return -1;
    }
    return 0;
}
