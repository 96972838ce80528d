/* proxies/proxy_ntk.c: `ntk_trace` and `ntk_cond`, HNAS's NTK metrics (HN ntk_trace.py,
 * condnum.py, tools/autograd_hacks.py; docs/METHOD.md §3.8). Both read one Gram matrix, computed
 * once per architecture and batch:
 *   one backward of S = sum_n f_{y_n}(x_n) (the true-class logits, train-mode BN);
 *   per-sample gradients of every conv and linear layer, weights and biases:
 *     linear  g_n = delta_n (x) x_n  and  delta_n,
 *     conv    g_n = sum over positions of delta_n (x) unfold(x_n)  (per group),
 *   where x_n is the layer's input for sample n and delta_n = dS/d(output_n) is read by a
 *   backward hook, exactly what HN's autograd_hacks.compute_grad1(loss_type='sum') forms
 *   from its forward (activations) and backward (backprops) hooks;
 *   Theta = G G^T (N x N, float64, accumulated layer by layer with dsyrk).
 * What "per-sample" means with train-mode BN: delta_n comes from the batch backward, so it
 * contains BN's cross-sample terms (d mean / d x and d var / d x of the other samples'
 * objectives). g_n is therefore dS/dW^(n), the gradient of the batch objective with respect
 * to a private copy of the layer's weights used by sample n alone (and only in that layer);
 * it is neither d f_{y_n}(x_n)/dW (that would carry other samples' inputs through BN) nor a
 * backward with frozen batch statistics. The rows sum to dS/dW. For the classifier (after the
 * last BN) delta_n is the one-hot row and g_n is the true per-sample gradient.
 * tests/test_proxies.c checks g_n against finite differences of S in a per-sample copy of W.
 *   ntk_trace = sqrt(tr Theta / N)   (HN sums the eigenvalues: the same value);
 *   ntk_cond  = lambda_max / lambda_min of Theta, NaN -> 1e5 (numpy nan_to_num: +-inf ->
 *               +-DBL_MAX), HN's condnum. Smaller is better for ntk_cond. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "proxies/linalg.h"
#include "proxies/proxy_impl.h"
#include "base/common.h"
#include "nn/conv2d.h"

typedef struct {
    fn_proxy_job *j;
    double *theta; /* [N*N], upper triangle accumulated */
} ntk_acc;

static void ntk_conv(ntk_acc *acc, const fn_exec *e, const fn_node *nd) {
    const fn_graph *g = e->g;
    const fn_tensor *ti = &g->t[nd->in[0]], *to = &g->t[nd->out];
    const int N = ti->n;
    conv2d_dims d = {1, ti->c, ti->h, ti->w, to->c, nd->k, nd->stride, nd->pad, nd->dil,
                     nd->groups, nd->ho, nd->wo};
    /* a row: dW of one image, then its bias gradient when the conv has one
     * (graph_conv_bn_bias: ZC's cell convs, sum over positions of delta_n per channel) */
    const size_t PW = g->p[nd->w].numel, P = PW + (nd->b >= 0 ? (size_t)to->c : 0);
    const size_t xin = (size_t)ti->c * ti->h * ti->w, hw = (size_t)to->h * to->w;
    const size_t xout = (size_t)to->c * to->h * to->w;
    /* the conv's own workspace rule (one column matrix per thread; depthwise shapes may need
     * the direct kernels' larger scratch): a bare column matrix overran it on the DARTS
     * nets' separable convs */
    const size_t col = conv2d_workspace(&d);
    double *G = proxy_scratch(acc->j, 2, (size_t)N * P);
    const void *x = exec_tensor(e, nd->in[0]), *dy = exec_tensor_grad(e, nd->out);
    const size_t es = e->dtype == FN_F64 ? sizeof(double) : sizeof(float);
#pragma omp parallel if ((double)N * P * nd->ho * nd->wo > 1e6)
    {
        double *xb = mallocCheck(sizeof(double) * (xin + xout + col + 64));
        double *db = xb + xin, *ws = db + xout;
#pragma omp for schedule(static)
        for (int n = 0; n < N; n++) {
            proxy_to_double(e, (const char *)x + es * xin * n, xin, xb);
            proxy_to_double(e, (const char *)dy + es * xout * n, xout, db);
            double *row = G + (size_t)n * P;
            memset(row, 0, sizeof(double) * P);
            conv2d_backward_f64(NULL, row, db, xb, NULL, &d, ws, 1); /* dW of one image */
            for (size_t c = 0; PW + c < P; c++) {
                double sb = 0;
                for (size_t q = 0; q < hw; q++) sb += db[c * hw + q];
                row[PW + c] = sb;
            }
        }
        free(xb);
    }
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, N, (int)P, 1.0, G, (int)P, 1.0,
                acc->theta, N);
}

static void ntk_linear(ntk_acc *acc, const fn_exec *e, const fn_node *nd) {
    const fn_graph *g = e->g;
    const int N = g->t[nd->in[0]].n, in_f = (int)(graph_tensor_numel(g, nd->in[0]) / N);
    const int out_f = g->t[nd->out].c;
    double *X = proxy_scratch(acc->j, 2, (size_t)N * (in_f + out_f)), *D = X + (size_t)N * in_f;
    proxy_to_double(e, exec_tensor(e, nd->in[0]), (size_t)N * in_f, X);
    proxy_to_double(e, exec_tensor_grad(e, nd->out), (size_t)N * out_f, D);
    /* <delta_n (x) x_n, delta_m (x) x_m> = (delta_n . delta_m)(x_n . x_m); bias: delta_n.delta_m */
    for (int a = 0; a < N; a++)
        for (int b = a; b < N; b++) {
            double dd = 0, xx = 0;
            for (int o = 0; o < out_f; o++) dd += D[(size_t)a * out_f + o] * D[(size_t)b * out_f + o];
            for (int i = 0; i < in_f; i++) xx += X[(size_t)a * in_f + i] * X[(size_t)b * in_f + i];
            acc->theta[(size_t)a * N + b] += dd * xx + (nd->b >= 0 ? dd : 0);
        }
}

static void ntk_hook(void *user, const fn_exec *e, int node) {
    const fn_node *nd = &e->g->nodes[node];
    if (nd->kind == FN_NODE_CONV) ntk_conv(user, e, nd);
    else if (nd->kind == FN_NODE_LINEAR) ntk_linear(user, e, nd);
}

void proxy_ntk_gram(fn_proxy_job *j, double *theta) {
    const int N = j->batch;
    memset(theta, 0, sizeof(double) * (size_t)N * N);
    ntk_acc acc = {j, theta};
    j->e->bwd_hook = ntk_hook;
    j->e->bwd_hook_user = &acc;
    proxy_pass(j, FN_PX_LOSS_TRUECLASS);
    j->e->bwd_hook = NULL;
    j->e->bwd_hook_user = NULL;
    for (int a = 0; a < N; a++)
        for (int b = 0; b < a; b++) theta[(size_t)a * N + b] = theta[(size_t)b * N + a];
}

static const double *gram(fn_proxy_job *j) {
    const size_t nn = (size_t)j->batch * j->batch;
    if (!j->theta_valid) {
        j->theta = proxy_scratch(j, FN_PX_SLOT_THETA, nn);
        proxy_ntk_gram(j, j->theta);
        j->theta_valid = 1;
    }
    return j->theta;
}

int proxy_ntk_trace(fn_proxy_job *j, double *out, char *err, size_t errlen) {
    const double *th = gram(j);
    double tr = 0;
    for (int n = 0; n < j->batch; n++) tr += th[(size_t)n * j->batch + n];
    *out = sqrt(tr / j->batch);
    if (!isfinite(*out)) {
        snprintf(err, errlen, "ntk_trace = %g is not finite", *out);
        return -1;
    }
    return 0;
}

int proxy_ntk_cond(fn_proxy_job *j, double *out, char *err, size_t errlen) {
    const int N = j->batch;
    const double *th = gram(j);
    double *a = proxy_scratch(j, 2, (size_t)N * N + N), *w = a + (size_t)N * N;
    memcpy(a, th, sizeof(double) * (size_t)N * N);
    linalg_eigvalsh(N, a, w); /* NaN on failure, mapped below as HN's nan_to_num */
    double c = w[N - 1] / w[0];
    if (isnan(c)) c = 1e5;
    else if (isinf(c)) c = c > 0 ? DBL_MAX : -DBL_MAX;
    *out = c;
    (void)err;
    (void)errlen;
    return 0;
}

fn_status proxy_ntk_graph(const fn_graph *g, fn_dtype dt, fn_bn_mode bn, uint64_t seed,
                          const float *x, const int *y, double *M, double *kappa, double *theta,
                          char *err, size_t errlen) {
    unsigned char *keep = mallocCheck((size_t)g->nt);
    fn_exec_opts eo = proxy_exec_opts(g, FN_PX_INPUT_GRAD | FN_PX_KEEP_CONV_IN, keep);
    eo.eager = 1;
    fn_exec e;
    if (exec_init_opts(&e, g, dt, &eo)) {
        snprintf(err, errlen, "%s", exec_error());
        free(keep);
        return FN_ERR_OOM;
    }
    e.bn_mode = bn;
    exec_init_params(&e, seed);
    fn_proxy_scratch scr = {0};
    fn_proxy_job j;
    proxy_job_init(&j, g, &e, x, y, &scr);
    fn_status st = FN_OK;
    if (proxy_ntk_trace(&j, M, err, errlen)) st = FN_ERR_NAN;
    proxy_ntk_cond(&j, kappa, err, errlen);
    if (theta) memcpy(theta, j.theta, sizeof(double) * (size_t)j.batch * j.batch);
    proxy_scratch_free(&scr);
    exec_free(&e);
    free(keep);
    return st;
}
