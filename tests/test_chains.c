/* tests/test_chains.c: batch-1 passes that run independent chains of nodes side by side
 * (engine/graph_chains.h), on a small NB201 supernet and a tiny DARTS supernet at batch 1:
 *   - the sections graph_chains_find reports are checked against the graph: consecutive
 *     node ranges split exactly into their chains; a chain's first node reads only tensors
 *     made before its section; every later node reads only its predecessor's output, which
 *     nothing else reads, and is a kind whose backward writes nothing shared;
 *   - every layout of an executor with sections passes the liveness check of
 *     tests/test_layout.h, sections widened;
 *   - on NaN-filled arenas, passes with chains side by side (2 threads) give the sequential
 *     executor's logits, d alpha, d params and d input bit for bit, in BN-off (aliased) and
 *     train (folded) mode, with and without d params, float64 and float32; so do they on 1
 *     thread, and with a backward hook (which makes the pass sequential, and unfolded: it
 *     is compared with a hooked sequential pass).
 *   ./build/bin/test_chains */
#include <math.h>
#include <omp.h>
#include <string.h>

#include "base/common.h"
#include "engine/exec.h"
#include "nn/cross_entropy.h"
#include "tests/test_layout.h"
#include "tests/test_search_case.h"
#include "tests/test_util.h"

static const int label = 3;

/* the sections against the graph; returns how many may run in parallel on 2 threads */
static int check_sections(const fn_graph *g, const fn_chains *c, const char *what) {
    const int nn = g->nn;
    if (!c->nsec) return 0;
    int *producer = mallocCheck(sizeof(int) * (size_t)g->nt), *uses = callocCheck((size_t)g->nt, sizeof(int));
    int *seen = callocCheck((size_t)nn, sizeof(int));
    for (int t = 0; t < g->nt; t++) producer[t] = -1;
    for (int i = 0; i < nn; i++) {
        producer[g->nodes[i].out] = i;
        for (int j = 0; j < g->nodes[i].nin; j++) uses[g->nodes[i].in[j]]++;
    }
    int par = 0, bad = 0;
    for (int s = 0; s < c->nsec; s++) {
        const int lo = c->sec_lo[s], hi = c->sec_hi[s];
        bad += lo >= hi || (s > 0 && lo < c->sec_hi[s - 1]);
        bad += c->sec_chain[s + 1] - c->sec_chain[s] < 2;
        par += graph_chains_parallel(c, s, 2);
        for (int k = c->sec_chain[s]; k < c->sec_chain[s + 1]; k++)
            for (int q = c->chain_off[k]; q < c->chain_off[k + 1]; q++) {
                const int v = c->chain_node[q];
                const fn_node *nd = &g->nodes[v];
                bad += v < lo || v >= hi || c->node_sec[v] != s;
                seen[v]++;
                bad += c->first[v] != (q == c->chain_off[k]);
                if (q == c->chain_off[k]) {
                    for (int j = 0; j < nd->nin; j++) bad += producer[nd->in[j]] >= lo;
                } else {
                    const int prev = c->chain_node[q - 1];
                    bad += prev >= v || nd->nin != 1 || nd->in[0] != g->nodes[prev].out ||
                           uses[nd->in[0]] != 1 || nd->kind == FN_NODE_MIX ||
                           nd->kind == FN_NODE_CONCAT || nd->kind == FN_NODE_LINEAR;
                }
            }
        for (int v = lo; v < hi; v++) bad += seen[v] != 1;
    }
    for (int v = 0; v < nn; v++) bad += (c->node_sec[v] >= 0) != (seen[v] == 1);
    CHECKF(bad == 0, "%s: %d violations in the sections", what, bad);
    free(producer);
    free(uses);
    free(seen);
    return par;
}

static void make(fn_exec *e, const fn_graph *g, fn_dtype dt, int chains, int param_grads) {
    graph_chains_switch = chains;
    CHECK(test_small_exec(e, g, dt, param_grads) == 0);
    graph_chains_switch = -1;
}

/* forward, backward in `mode` on poisoned arenas; out = [logits, d alpha, d params, d input] */
static size_t pass(fn_exec *e, fn_bn_mode mode, const double *x, double *out) {
    return test_small_pass(e, mode, x, &label, out);
}

static void hook(void *user, const fn_exec *e, int node) {
    (void)e; (void)node;
    ++*(int *)user;
}

static void check_net(int darts, fn_dtype dt, int param_grads) {
    fn_graph g;
    test_small_supernet(&g, darts, 1);
    char what[64];
    snprintf(what, sizeof what, "%s %s%s", darts ? "darts" : "nb201", dt == FN_F64 ? "f64" : "f32",
             param_grads ? " d params" : "");
    const size_t nx = graph_tensor_numel(&g, g.input);
    const size_t n = 16 + g.alpha_numel + g.param_numel + nx;
    double *x = test_small_input(&g, 41u);
    double *a = mallocCheck(sizeof(double) * n), *b = mallocCheck(sizeof(double) * n);
    double *c = mallocCheck(sizeof(double) * n);
    fn_exec ec, es;
    make(&ec, &g, dt, 1, param_grads); /* on 2 threads (main) */
    make(&es, &g, dt, 0, param_grads);
    CHECKF(ec.chains.nsec > 0 && es.chains.nsec == 0, "%s: %d sections (%d off)", what,
           ec.chains.nsec, es.chains.nsec);
    const int par = check_sections(&g, &ec.chains, what);
    if (darts) CHECKF(par > 0, "%s: no section runs in parallel on 2 threads", what);
    if (dt == FN_F64 && !param_grads)
        printf("%s: %d sections of %d chains, %d of them side by side on 2 threads\n", what,
               ec.chains.nsec, ec.chains.nchains, par);
    for (int k = 0; k < FN_LAYOUTS; k++)
        if (ec.layout[k].act_off) {
            const int bad = test_layout_conflicts(&ec, (fn_layout)k);
            CHECKF(bad == 0, "%s: layout %d: %d pairs of live tensors share memory", what, k, bad);
        }
    for (int mode = 0; mode < 2; mode++) {
        const fn_bn_mode bn = mode ? FN_BN_TRAIN : FN_BN_OFF;
        omp_set_num_threads(2);
        const size_t m = pass(&ec, bn, x, a);
        CHECKF(ec.chains_on, "%s: a 2-thread pass did not run its chains side by side", what);
        pass(&es, bn, x, b);
        CHECKF(!memcmp(a, b, sizeof(double) * m), "%s, BN %s: chains side by side != sequential",
               what, mode ? "train" : "off");
        int finite = 1;
        for (size_t i = 0; i < m; i++) finite &= isfinite(a[i]);
        CHECKF(finite, "%s: a NaN from the poisoned arenas reached the results", what);
        omp_set_num_threads(1);
        pass(&ec, bn, x, c);
        CHECKF(!ec.chains_on && !memcmp(c, b, sizeof(double) * m),
               "%s, BN %s: 1 thread != sequential", what, mode ? "train" : "off");
        omp_set_num_threads(2);
        int calls = 0; /* a hooked pass does not fold: compare it with a hooked one */
        ec.bwd_hook = es.bwd_hook = hook;
        ec.bwd_hook_user = es.bwd_hook_user = &calls;
        pass(&ec, bn, x, c);
        pass(&es, bn, x, b);
        ec.bwd_hook = es.bwd_hook = NULL;
        CHECKF(calls > 0 && !ec.chains_on && !memcmp(c, b, sizeof(double) * m),
               "%s, BN %s: a pass with a backward hook != sequential", what, mode ? "train" : "off");
    }
    exec_free(&ec);
    exec_free(&es);
    graph_free(&g);
    free(x); free(a); free(b); free(c);
}

int main(void) {
    omp_set_num_threads(2); /* sections are planned for executors made with 2 threads or more */
    for (int darts = 0; darts < 2; darts++)
        for (int pg = 0; pg < 2; pg++) {
            check_net(darts, FN_F64, pg);
            check_net(darts, FN_F32, pg);
        }
    return test_summary("test_chains");
}
