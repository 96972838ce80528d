/* tests/test_alias_bn.c: identity BNs of BN-off passes sharing their input's memory
 * (engine/graph_alias.h) against the unaliased executor, on a small NB201 supernet (its
 * ResNet blocks' BNs are zc_keep_bn and stay BNs) and a tiny DARTS supernet (every search op
 * ends in a non-affine BN), float64 and float32, with d alpha, d params and d input:
 *   - something aliases (and with FREENAS_ALIAS_BN off, graph_alias_switch = 0, nothing);
 *   - the layouts are sound, checked apart from the planner: two activations live at one
 *     forward step, or two gradients at one backward step, never share memory unless one
 *     aliases the other; the alias layout needs no more activation memory than the plain
 *     one, nor more in all (its gradient arena may be larger by the planner's first fit);
 *   - the arenas filled with NaN before every pass, BN-off passes give the unaliased
 *     executor's logits and gradients bit for bit, with and without a backward hook (which
 *     sees the same output gradients at every node), on 1 and 2 threads;
 *   - one executor switching BN off -> train -> off gives each fresh executor's bits (a
 *     train pass does not alias, and folds as usual), and an exact Hessian-vector product
 *     in BN-off mode (never aliased) equals the unaliased one's.
 *   ./build/bin/test_alias_bn */
#include <math.h>
#include <omp.h>
#include <string.h>

#include "base/common.h"
#include "engine/exec.h"
#include "nn/cross_entropy.h"
#include "tests/test_layout.h"
#include "tests/test_search_case.h"
#include "tests/test_util.h"

enum { BATCH = 4 };
static const int labels[BATCH] = {3, 0, 7, 1};

static int make(fn_exec *e, const fn_graph *g, fn_dtype dt, int alias) {
    graph_alias_switch = alias;
    CHECK(test_small_exec(e, g, dt, 1) == 0);
    graph_alias_switch = -1;
    int n = 0;
    for (int t = 0; e->alias && t < g->nt; t++) n += e->alias[t].src >= 0;
    return n;
}

/* forward, backward in `mode` on poisoned arenas; out = [logits, d alpha, d params, d input] */
static size_t pass(fn_exec *e, fn_bn_mode mode, const double *x, double *out) {
    return test_small_pass(e, mode, x, labels, out);
}

/* per node, the sum of its output's gradient when its backward has run */
static void hook(void *user, const fn_exec *e, int node) {
    const int y = e->g->nodes[node].out;
    const void *d = exec_tensor_grad(e, y);
    double s = 0;
    for (size_t i = 0; i < graph_tensor_numel(e->g, y); i++) s += exec_get(d, e->dtype, i);
    ((double *)user)[node] = s;
}

static void check_net(int darts, fn_dtype dt) {
    fn_graph g;
    test_small_supernet(&g, darts, BATCH);
    char what[64];
    snprintf(what, sizeof what, "%s %s", darts ? "darts" : "nb201", dt == FN_F64 ? "f64" : "f32");
    const size_t nx = graph_tensor_numel(&g, g.input);
    const size_t n = (size_t)BATCH * 10 + g.alpha_numel + g.param_numel + nx;
    double *x = test_small_input(&g, 99u);
    double *a = mallocCheck(sizeof(double) * n), *b = mallocCheck(sizeof(double) * n);
    double *c = mallocCheck(sizeof(double) * n), *bt = mallocCheck(sizeof(double) * n);
    fn_exec ea, eb;
    const int aliased = make(&ea, &g, dt, 1), plain = make(&eb, &g, dt, 0);
    CHECKF(aliased > 0 && plain == 0 && !eb.alias, "%s: %d tensors alias (%d off)", what, aliased,
           plain);
    int grads = 0;
    for (int t = 0; t < g.nt; t++) grads += ea.alias[t].grad;
    printf("%s: %d BN outputs alias their input, %d of them their gradient too; arenas "
           "%zu + %zu elements aliased, %zu + %zu plain\n", what, aliased, grads,
           ea.layout[FN_LAYOUT_ALIAS].act_numel, ea.layout[FN_LAYOUT_ALIAS].grad_numel,
           ea.layout[FN_LAYOUT_PLAIN].act_numel, ea.layout[FN_LAYOUT_PLAIN].grad_numel);
    CHECKF(grads > 0, "%s: no gradient aliases", what);
    for (int k = 0; k < FN_LAYOUTS; k++)
        if (ea.layout[k].act_off) {
            const int bad = test_layout_conflicts(&ea, (fn_layout)k);
            CHECKF(bad == 0, "%s: layout %d: %d pairs of live tensors share memory", what, k, bad);
        }
    const fn_plan *la = &ea.layout[FN_LAYOUT_ALIAS], *lp = &ea.layout[FN_LAYOUT_PLAIN];
    CHECKF(la->act_numel <= lp->act_numel && la->act_numel + la->grad_numel <= lp->act_numel + lp->grad_numel,
           "%s: the alias layout needs more memory", what);

    /* BN off: aliased = plain, bit for bit, on 1 and 2 threads */
    const int threads = omp_get_max_threads();
    omp_set_num_threads(1);
    CHECK(pass(&ea, FN_BN_OFF, x, c) == n);
    CHECKF(ea.alias_on, "%s: a BN-off pass did not alias", what);
    omp_set_num_threads(2);
    pass(&ea, FN_BN_OFF, x, a);
    omp_set_num_threads(threads);
    pass(&eb, FN_BN_OFF, x, b);
    CHECKF(!memcmp(a, b, sizeof(double) * n), "%s: aliased BN-off pass != unaliased", what);
    CHECKF(!memcmp(a, c, sizeof(double) * n), "%s: aliased pass differs on 1 and 2 threads", what);
    int finite = 1;
    for (size_t i = 0; i < n; i++) finite &= isfinite(a[i]);
    CHECKF(finite, "%s: a NaN from the poisoned arenas reached the results", what);

    /* a backward hook sees the same output gradients at every node */
    double *ha = callocCheck((size_t)g.nn, sizeof(double)), *hb = callocCheck((size_t)g.nn, sizeof(double));
    ea.bwd_hook = eb.bwd_hook = hook;
    ea.bwd_hook_user = ha;
    eb.bwd_hook_user = hb;
    pass(&ea, FN_BN_OFF, x, c);
    pass(&eb, FN_BN_OFF, x, bt);
    ea.bwd_hook = eb.bwd_hook = NULL;
    CHECKF(!memcmp(c, b, sizeof(double) * n) && !memcmp(bt, b, sizeof(double) * n) &&
               !memcmp(ha, hb, sizeof(double) * (size_t)g.nn),
           "%s: with a backward hook, aliased != unaliased", what);

    /* one executor switching modes = fresh executors */
    fn_exec ft;
    make(&ft, &g, dt, 0);
    pass(&ft, FN_BN_TRAIN, x, bt);
    exec_free(&ft);
    pass(&ea, FN_BN_TRAIN, x, c);
    CHECKF(!ea.alias_on && !memcmp(c, bt, sizeof(double) * n),
           "%s: a train pass after BN-off passes is not a fresh executor's", what);
    pass(&ea, FN_BN_OFF, x, c);
    CHECKF(ea.alias_on && !memcmp(c, b, sizeof(double) * n),
           "%s: a BN-off pass after a train pass is not a fresh executor's", what);

    /* the exact HVP in BN-off mode runs the plain layout: the unaliased executor's result */
    if (dt == FN_F64) {
        fn_exec *es2[2] = {&ea, &eb};
        double *tv[2];
        for (int q = 0; q < 2; q++) {
            fn_exec *e = es2[q];
            CHECK(exec_hvp_init(e) == 0);
            unsigned rr = 7u;
            for (size_t i = 0; i < g.alpha_numel; i++) exec_set(e->talpha, e->dtype, i, test_rand(&rr));
            e->bn_mode = FN_BN_OFF;
            test_small_poison(e, x);
            exec_forward_tangent(e);
            const void *z = exec_tensor(e, g.output);
            double dz[BATCH * 10], tdz[BATCH * 10];
            cross_entropy_backward_f64(dz, z, labels, BATCH, 10, 1.0);
            cross_entropy_backward_tangent_f64(tdz, z, exec_tangent(e, g.output), BATCH, 10, 1.0);
            exec_backward_tangent(e, dz, tdz);
            tv[q] = mallocCheck(sizeof(double) * g.alpha_numel);
            for (size_t i = 0; i < g.alpha_numel; i++) tv[q][i] = exec_get(e->tdalpha, e->dtype, i);
        }
        CHECKF(!ea.alias_on && !memcmp(tv[0], tv[1], sizeof(double) * g.alpha_numel),
               "%s: BN-off Hessian-vector product differs from the unaliased one", what);
        free(tv[0]);
        free(tv[1]);
        pass(&ea, FN_BN_OFF, x, c);
        CHECKF(ea.alias_on && !memcmp(c, b, sizeof(double) * n),
               "%s: a BN-off pass after the HVP is not the unaliased one", what);
    }
    exec_free(&ea);
    exec_free(&eb);
    graph_free(&g);
    free(x); free(a); free(b); free(c); free(bt); free(ha); free(hb);
}

int main(void) {
    for (int darts = 0; darts < 2; darts++) {
        check_net(darts, FN_F64);
        check_net(darts, FN_F32);
    }
    return test_summary("test_alias_bn");
}
