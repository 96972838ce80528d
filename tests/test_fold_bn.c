/* tests/test_fold_bn.c: BN gradient sums folded into mixes (engine/graph_fold.h) against the
 * unfolded backward, on a small NB201 supernet (affine BN in stem / res blocks / head,
 * non-affine BN ending each cell op) and a tiny DARTS supernet (every search op ends in a
 * non-affine BN, pools included), float64 and float32, with d alpha, d params and d input:
 *   - something folds (and FREENAS_FOLD_BN off, graph_fold_switch = 0, folds nothing);
 *   - folded = unfolded within 1e-13 max|g| + 1e-12 |g| (float64) and 1e-5 max|g| + 1e-4 |g|
 *     (float32): the same gradients to rounding;
 *   - folded passes are bit-identical on 1 and 2 threads;
 *   - a pass with a backward hook does not fold (the hook may read any d y): its gradients
 *     are the unfolded executor's bit for bit, and the pass after it folds again.
 *   ./build/bin/test_fold_bn */
#include <math.h>
#include <omp.h>
#include <string.h>

#include "base/common.h"
#include "engine/exec.h"
#include "nn/cross_entropy.h"
#include "spaces/darts.h"
#include "spaces/nb201.h"
#include "tests/test_search_case.h"
#include "tests/test_util.h"

enum { BATCH = 4 };
static const int labels[BATCH] = {3, 0, 7, 1};

static void build(fn_graph *g, int darts) { test_small_supernet(g, darts, BATCH); }

static int make(fn_exec *e, const fn_graph *g, fn_dtype dt, int fold, const double *x) {
    graph_fold_switch = fold;
    CHECK(test_small_exec(e, g, dt, 1) == 0);
    const size_t nx = graph_tensor_numel(g, g->input);
    for (size_t i = 0; i < nx; i++) exec_set(exec_tensor(e, g->input), dt, i, x[i]);
    int n = 0;
    for (int t = 0; e->fold && t < g->nt; t++) n += e->fold[t].bn >= 0;
    return n;
}

/* forward, backward; out = [d alpha, d params, d input] */
static void grads(fn_exec *e, double *out) {
    const fn_graph *g = e->g;
    exec_forward(e);
    double dz[BATCH * 10];
    const int n = g->t[g->output].n, k = g->t[g->output].c;
    if (e->dtype == FN_F64) {
        cross_entropy_backward_f64(dz, exec_tensor(e, g->output), labels, n, k, 1.0);
        exec_backward(e, dz);
    } else {
        float dzf[BATCH * 10];
        cross_entropy_backward_f32(dzf, exec_tensor(e, g->output), labels, n, k, 1.0f);
        exec_backward(e, dzf);
    }
    const size_t na = g->alpha_numel, np = g->param_numel, nx = graph_tensor_numel(g, g->input);
    for (size_t i = 0; i < na; i++) out[i] = exec_get(e->dalpha, e->dtype, i);
    for (size_t i = 0; i < np; i++) out[na + i] = exec_get(e->dparams, e->dtype, i);
    for (size_t i = 0; i < nx; i++)
        out[na + np + i] = exec_get(exec_tensor_grad(e, g->input), e->dtype, i);
}

static void hook(void *user, const fn_exec *e, int node) {
    (void)e; (void)node;
    ++*(int *)user;
}

static void check_net(int darts, fn_dtype dt) {
    fn_graph g;
    build(&g, darts);
    const char *what = darts ? (dt == FN_F64 ? "darts f64" : "darts f32")
                             : (dt == FN_F64 ? "nb201 f64" : "nb201 f32");
    const size_t nx = graph_tensor_numel(&g, g.input);
    const size_t n = g.alpha_numel + g.param_numel + nx;
    double *x = test_small_input(&g, 99u);
    double *a = mallocCheck(sizeof(double) * n), *b = mallocCheck(sizeof(double) * n);
    double *c = mallocCheck(sizeof(double) * n), *h = mallocCheck(sizeof(double) * n);
    fn_exec ea, eb;
    const int folded = make(&ea, &g, dt, 1, x);
    const int unfolded = make(&eb, &g, dt, 0, x);
    graph_fold_switch = -1;
    CHECKF(folded > 0 && unfolded == 0 && eb.fold == NULL, "%s: %d tensors fold (%d off)", what,
           folded, unfolded);
    printf("%s: %d BN outputs fold into their mixes\n", what, folded);
    const int threads = omp_get_max_threads();
    omp_set_num_threads(1);
    grads(&ea, c);
    omp_set_num_threads(2);
    grads(&ea, a);
    omp_set_num_threads(threads);
    grads(&eb, b);
    CHECKF(!memcmp(a, c, sizeof(double) * n), "%s: folded gradients differ on 1 and 2 threads",
           what);
    double gmax = 0;
    for (size_t i = 0; i < n; i++) gmax = fmax(gmax, fabs(b[i]));
    char label[96];
    snprintf(label, sizeof label, "%s folded = unfolded (d alpha, d params, d input)", what);
    if (dt == FN_F64) check_close(label, a, b, n, 1e-13 * gmax, 1e-12);
    else check_close(label, a, b, n, 1e-5 * gmax, 1e-4);
    CHECKF(memcmp(a, b, sizeof(double) * n) != 0, "%s: folding changed no bit: nothing folded?",
           what);
    int calls = 0;
    ea.bwd_hook = hook;
    ea.bwd_hook_user = &calls;
    grads(&ea, h);
    ea.bwd_hook = NULL;
    CHECKF(calls > 0 && !memcmp(h, b, sizeof(double) * n),
           "%s: a pass with a backward hook is not the unfolded one", what);
    grads(&ea, h);
    CHECKF(!memcmp(h, a, sizeof(double) * n), "%s: the pass after the hook does not fold", what);
    exec_free(&ea);
    exec_free(&eb);
    graph_free(&g);
    free(x); free(a); free(b); free(c); free(h);
}

int main(void) {
    for (int darts = 0; darts < 2; darts++) {
        check_net(darts, FN_F64);
        check_net(darts, FN_F32);
    }
    return test_summary("test_fold_bn");
}
