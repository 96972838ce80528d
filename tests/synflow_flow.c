/* tests/synflow_flow.c: where SynFlow's signal goes on a supernet. Runs one SynFlow pass
 * (|params|, all-ones input, R = sum of logits) by hand and prints, for every cell output and
 * the head, the largest |activation|, the share of positive / negative / zero entries, and
 * the largest |d R / d activation|; then R, the classifier-bias part of R, max |S| and the
 * degeneracy flag. The evidence behind docs/FIDELITY.md's SynFlow section.
 *
 *   ./build/bin/synflow_flow darts 20 0 [fd|zc-signed|path]   (space, cells, seed, form)
 *   ./build/bin/synflow_flow nb1shot1 1 0 path                 (space, search space, seed, form)
 *
 * Forms: fd = FreeDARTS's literal form (BN train, signed alpha); zc-signed = BN removed, signed
 * alpha; path = BN removed, |alpha| (the DARTS / N1 default). Always float64, alpha 1e-3, C 16,
 * CIFAR size. Not a CTest: a diagnostic that prints. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"
#include "engine/exec.h"
#include "metrics/metric.h"
#include "spaces/darts.h"
#include "spaces/nb1shot1.h"

typedef struct {
    const fn_graph *g;
    unsigned char *watch; /* per node: print it */
    double *gmax;         /* per node: max |d R / d out| */
} flow_ctx;

static void hook(void *user, const fn_exec *e, int node) {
    flow_ctx *c = user;
    if (!c->watch[node]) return;
    const int t = c->g->nodes[node].out;
    const double *d = exec_tensor_grad(e, t);
    double m = 0;
    for (size_t i = 0; i < graph_tensor_numel(c->g, t); i++) m = fmax(m, fabs(d[i]));
    c->gmax[node] = m;
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: %s darts CELLS SEED fd|zc-signed|path | nb1shot1 SS SEED fd|zc-signed|path\n",
                argv[0]);
        return 2;
    }
    const int darts = !strcmp(argv[1], "darts");
    const int arg = atoi(argv[2]);
    const uint64_t seed = strtoull(argv[3], NULL, 10);
    const char *form = argv[4];
    const int abs_alpha = !strcmp(form, "path"), zc = abs_alpha || !strcmp(form, "zc-signed");
    if (!zc && strcmp(form, "fd")) {
        fprintf(stderr, "unknown form '%s' (fd, zc-signed, path)\n", form);
        return 2;
    }
    fn_graph g;
    graph_init(&g);
    char err[256];
    if (darts) {
        darts_config dc = {16, arg, 10, 32, 32, 0, 1};
        if (darts_build(&g, &dc, err, sizeof err)) {
            fprintf(stderr, "%s\n", err);
            return 2;
        }
    } else {
        nb1shot1_config nc = {arg, 16, 3, 10, 32, 32, 1};
        nb1shot1_build(&g, &nc);
    }
    unsigned char *keep = callocCheck(g.nt, 1);
    unsigned char *watch = callocCheck(g.nn, 1);
    int cellno = 0;
    for (int i = 0; i < g.nn; i++) {
        const fn_node *nd = &g.nodes[i];
        /* cell outputs: DARTS concat of the 4 nodes; N1 the 2-input mix of a concat */
        int is_cell = darts ? (nd->kind == FN_NODE_CONCAT && nd->nin == DARTS_STEPS)
                            : (nd->kind == FN_NODE_MIX && nd->nin == 2 && nd->aidx[1] == -1);
        if (is_cell && !darts) { /* N1: the second input is the concat of the scaled states */
            is_cell = 0;
            for (int j = 0; j < i; j++)
                if (g.nodes[j].out == nd->in[1]) is_cell = g.nodes[j].kind == FN_NODE_CONCAT;
        }
        if (is_cell || nd->kind == FN_NODE_GAP) {
            watch[i] = 1;
            keep[nd->out] = 1;
        }
    }
    const int head_in = metric_head_input(&g);
    if (head_in >= 0) keep[head_in] = 1;
    fn_exec e;
    fn_exec_opts eo = {0, 0, keep, NULL, FN_DEV_CPU, 0, 0};
    if (exec_init_opts(&e, &g, FN_F64, &eo)) FN_FATAL("exec_init: %s", exec_error());
    e.bn_mode = zc ? FN_BN_OFF : FN_BN_TRAIN;
    exec_init_params(&e, seed);
    exec_init_alpha(&e, seed, 1e-3);
    double *x = exec_tensor(&e, g.input);
    for (size_t i = 0; i < graph_tensor_numel(&g, g.input); i++) x[i] = 1.0;
    metric_abs_params(&e);
    double amax = 0;
    for (size_t i = 0; i < g.alpha_numel; i++) {
        double *a = (double *)e.alpha + i;
        if (abs_alpha) *a = fabs(*a);
        amax = fmax(amax, fabs(*a));
    }
    flow_ctx c = {&g, watch, callocCheck(g.nn, sizeof(double))};
    e.bwd_hook = hook;
    e.bwd_hook_user = &c;
    double *grad = mallocCheck(sizeof(double) * g.alpha_numel);
    const double R = metric_sum_grad(&e, grad);
    printf("# %s %d seed %llu form %s\n# what            max|x|     pos%%   neg%%  zero%%  "
           "max|dR/dx|\n", argv[1], arg, (unsigned long long)seed, form);
    for (int i = 0; i < g.nn; i++) {
        if (!watch[i]) continue;
        const int t = g.nodes[i].out;
        const double *v = exec_tensor(&e, t);
        const size_t n = graph_tensor_numel(&g, t);
        double m = 0;
        size_t pos = 0, neg = 0;
        for (size_t k = 0; k < n; k++) {
            m = fmax(m, fabs(v[k]));
            pos += v[k] > 0;
            neg += v[k] < 0;
        }
        char what[32];
        if (g.nodes[i].kind == FN_NODE_GAP) snprintf(what, sizeof what, "gap");
        else snprintf(what, sizeof what, "cell %d", cellno++);
        printf("%-12s %12.3e %6.1f %6.1f %6.1f %12.3e\n", what, m, 100.0 * pos / n,
               100.0 * neg / n, 100.0 * (n - pos - neg) / n, c.gmax[i]);
    }
    const int cls = graph_param_find(&g, "classifier.bias");
    double bsum = 0;
    if (cls >= 0)
        for (size_t k = 0; k < g.p[cls].numel; k++) bsum += ((double *)e.params)[g.p[cls].off + k];
    double smax = 0;
    for (size_t i = 0; i < g.alpha_numel; i++)
        smax = fmax(smax, fabs(((double *)e.alpha)[i] * grad[i]));
    printf("R = %.9g   sum |classifier bias| = %.9g   R - bias = %.3e\n", R, bsum, R - bsum);
    const double flow = metric_head_flow(&e);
    printf("max|S| = %.3e   max|alpha| = %.3e   flow into the head = %.3e\n", smax, amax, flow);
    printf("old flag (every |S| < 1e-4 |R| max|alpha| = %.3e): %s\n", 1e-4 * fabs(R) * amax,
           smax < 1e-4 * fabs(R) * amax ? "degenerate" : "ok");
    printf("new flag (every |S| <= 1e-4 flow max|alpha| = %.3e): %s\n", 1e-4 * flow * amax,
           !(smax > 1e-4 * flow * amax) ? "degenerate" : "ok");
    free(grad);
    free(c.gmax);
    free(keep);
    free(watch);
    exec_free(&e);
    graph_free(&g);
    return 0;
}
