/* bench/bench_profile.c: where a FreeDARTS search's scoring pass spends its time on the CPU,
 * by kind of node (the engine's own passes, timed node by node).
 *
 * For each case (bench/bench_cases.c) it builds the supernet as the search does, in the
 * metric's dtype and BN mode (SynFlow float64 with its BN mode, SNIP and GraSP float32), runs
 * one untimed forward and backward, then --reps passes in which every node's forward and
 * backward is timed alone (fn_now around each; about 50 ns against kernels of 5 us and
 * more) and summed by kind: dense convs by kernel size, depthwise convs, BN, ReLU, the
 * alpha-weighted mixes (sum of ops forward; op-output gradients and d alpha backward),
 * pools, concatenations, the head. Per kind: nodes, ms forward / backward (median over
 * passes of the kind's sum), share of the pass, GFLOP/s for convs and linears (2 x
 * multiply-adds; backward counts the data-gradient GEMM only, as a search runs it), and
 * GB/s of a lower bound on the memory traffic (every input, output and gradient tensor read
 * or written once). Times include the kernels' OpenMP fork and join, so the sum over kinds is
 * the pass's time (within the timer's cost), which bench_search also reports.
 *   ./build/bin/bench_profile [--cases a,b] [--reps N] [--data DIR] [--json FILE]
 * Runs on the executor's CPU backend with OMP_NUM_THREADS threads. A benchmark, not a test:
 * it uses the CPU backend's per-node entry points (engine/exec_cpu.h), as its passes do. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"
#include "datasets/dataset.h"
#include "engine/exec.h"
#include "engine/exec_cpu.h"
#include "metrics/metric.h"
#include "search/search.h"
#include "search/space.h"
#include "nn/rng.h"
#include "bench_cases.h"

enum { K_CONV1, K_CONV3, K_CONVK, K_DW, K_BN, K_RELU, K_MIX, K_AVG, K_MAX, K_CAT, K_HEAD, K_OTHER, NK };
static const char *kind_name[NK] = {"conv 1x1", "conv 3x3", "conv other", "conv depthwise",
                                    "batch norm", "relu", "mix (alpha)", "avg pool", "max pool",
                                    "concat/subsample", "gap+linear", "other"};

static int kind_of(const fn_node *nd) {
    switch (nd->kind) {
    case FN_NODE_CONV:
        if (nd->groups > 1) return K_DW;
        return nd->k == 1 ? K_CONV1 : nd->k == 3 ? K_CONV3 : K_CONVK;
    case FN_NODE_BN: return K_BN;
    case FN_NODE_RELU: return K_RELU;
    case FN_NODE_MIX: return K_MIX;
    case FN_NODE_AVGPOOL: return K_AVG;
    case FN_NODE_MAXPOOL: return K_MAX;
    case FN_NODE_CONCAT:
    case FN_NODE_SUBSAMPLE: return K_CAT;
    case FN_NODE_GAP:
    case FN_NODE_LINEAR: return K_HEAD;
    default: return K_OTHER;
    }
}

/* tensor elements a node reads and writes at least once (forward: inputs and output) */
static double node_elems(const fn_graph *g, const fn_node *nd) {
    double n = (double)graph_tensor_numel(g, nd->out);
    for (int j = 0; j < nd->nin; j++) n += (double)graph_tensor_numel(g, nd->in[j]);
    return n;
}

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct {
    int nodes;
    double fwd_ms, bwd_ms, fwd_gflop, bwd_gflop, fwd_gb, bwd_gb;
} kind_row;

/* Profiles one case; fills rows[NK], returns 0, or -1 with a message on stderr. */
static int profile_case(const bench_case *bc, const char *data, int reps, kind_row *rows,
                        double *pass_ms, const char **dtype_name) {
    fn_search_config c;
    bench_case_config(bc, data, 1, &c);
    const fn_space *sp = space_find(c.space);
    const fn_dataset_info *ds = dataset_info(c.dataset);
    const fn_metric *m = metric_find(c.metric);
    char err[FN_ERRLEN];
    if (!sp || !ds || !m || sp->resolve(&c, ds, err, sizeof err)) {
        fprintf(stderr, "bench_profile: %s: cannot resolve the case\n", bc->name);
        return -1;
    }
    fn_graph g;
    graph_init(&g);
    if (sp->build(&g, &c, ds, c.batch, err, sizeof err)) {
        fprintf(stderr, "bench_profile: %s: %s\n", bc->name, err);
        graph_free(&g);
        return -1;
    }
    /* the space's SynFlow form, as search_run picks it (DARTS, NB-1shot1: BN off) */
    if (c.mopts.synflow_zc < 0) c.mopts.synflow_zc = sp->synflow_zc_default;
    const fn_dtype dt = metric_dtype(m, &c.mopts);
    *dtype_name = dt == FN_F64 ? "float64" : "float32";
    fn_exec e;
    fn_exec_opts eo = {0, 0, NULL, NULL, FN_DEV_CPU, 0, 0};
    if (exec_init_opts(&e, &g, dt, &eo)) {
        fprintf(stderr, "bench_profile: %s: %s\n", bc->name, exec_error());
        graph_free(&g);
        return -1;
    }
    e.bn_mode = metric_bn_mode(m, &c.mopts);
    exec_init_params(&e, 1);
    exec_init_alpha(&e, 1, 1e-3);
    void *x = exec_tensor(&e, g.input);
    const size_t nx = graph_tensor_numel(&g, g.input);
    for (size_t i = 0; i < nx; i++) exec_set(x, dt, i, 2 * fn_rng_uniform(1, FN_STREAM_DATA, i) - 1);
    const size_t nout = graph_tensor_numel(&g, g.output);
    void *dz = mallocCheck((dt == FN_F64 ? 8 : 4) * nout);
    for (size_t i = 0; i < nout; i++) exec_set(dz, dt, i, 1.0 / (double)nout);

    const int es = dt == FN_F64 ? 8 : 4;
    double *tf = callocCheck((size_t)reps * NK, sizeof(double));
    double *tb = callocCheck((size_t)reps * NK, sizeof(double));
    double *tp = callocCheck((size_t)reps, sizeof(double));
    memset(rows, 0, sizeof(kind_row) * NK);
    for (int i = 0; i < g.nn; i++) {
        const fn_node *nd = &g.nodes[i];
        kind_row *r = &rows[kind_of(nd)];
        r->nodes++;
        r->fwd_gflop += 2 * graph_node_macs(&g, nd) / 1e9;
        r->fwd_gb += es * node_elems(&g, nd) / 1e9;
    }
    for (int k = -1; k < reps; k++) { /* pass -1: the untimed warm-up */
        double *f = k >= 0 ? tf + (size_t)k * NK : NULL, *b = k >= 0 ? tb + (size_t)k * NK : NULL;
        const double t0 = fn_now();
        graph_forward_start(&e); /* BN-off passes alias identity BNs (engine/graph_alias.h) */
        for (int i = 0; i < g.nn; i++) {
            const double t = fn_now();
            if (dt == FN_F64) graph_forward_node_f64(&e, i);
            else graph_forward_node_f32(&e, i);
            if (f) f[kind_of(&g.nodes[i])] += fn_now() - t;
        }
        if (dt == FN_F64) graph_backward_start_f64(&e, e.grad, e.dalpha, e.dparams, dz);
        else graph_backward_start_f32(&e, e.grad, e.dalpha, e.dparams, dz);
        for (int i = g.nn - 1; i >= 0; i--) {
            const int runs = dt == FN_F64 ? graph_backward_runs_f64(&e, i) : graph_backward_runs_f32(&e, i);
            if (!runs) continue;
            const double t = fn_now();
            if (dt == FN_F64) graph_backward_node_f64(&e, i);
            else graph_backward_node_f32(&e, i);
            if (b) b[kind_of(&g.nodes[i])] += fn_now() - t;
            if (k == -1) { /* count the backward work once */
                const fn_node *nd = &g.nodes[i];
                kind_row *r = &rows[kind_of(nd)];
                if (e.needs_grad[nd->in[0]]) r->bwd_gflop += 2 * graph_node_macs(&g, nd) / 1e9;
                /* the output's gradient and input read, the input's gradient written */
                r->bwd_gb += es * (node_elems(&g, nd) + (double)graph_tensor_numel(&g, nd->out)) / 1e9;
            }
        }
        if (k >= 0) tp[k] = fn_now() - t0;
    }
    double *col = mallocCheck(sizeof(double) * (size_t)reps);
    for (int j = 0; j < NK; j++) {
        for (int k = 0; k < reps; k++) col[k] = tf[(size_t)k * NK + j];
        qsort(col, (size_t)reps, sizeof(double), cmp_double);
        rows[j].fwd_ms = 1e3 * col[reps / 2];
        for (int k = 0; k < reps; k++) col[k] = tb[(size_t)k * NK + j];
        qsort(col, (size_t)reps, sizeof(double), cmp_double);
        rows[j].bwd_ms = 1e3 * col[reps / 2];
    }
    qsort(tp, (size_t)reps, sizeof(double), cmp_double);
    *pass_ms = 1e3 * tp[reps / 2];
    free(col);
    free(tf);
    free(tb);
    free(tp);
    free(dz);
    exec_free(&e);
    graph_free(&g);
    return 0;
}

int main(int argc, char **argv) {
    const char *cases = "nb201-synflow,nb201-snip,darts8-snip,darts224-snip", *data = "../shared/data",
               *json = NULL;
    int reps = 5;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--cases") && i + 1 < argc) cases = argv[++i];
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--data") && i + 1 < argc) data = argv[++i];
        else if (!strcmp(argv[i], "--json") && i + 1 < argc) json = argv[++i];
        else {
            fprintf(stderr, "usage: bench_profile [--cases a,b] [--reps N] [--data DIR] [--json FILE]\n"
                            "  time per kind of node of a search's scoring pass on the CPU "
                            "(default cases %s)\n", cases);
            return strcmp(argv[i], "--help") ? 2 : 0;
        }
    }
    if (reps < 1) reps = 1;
    FILE *jf = json ? fopen(json, "w") : NULL;
    if (json && !jf) {
        fprintf(stderr, "bench_profile: cannot write %s\n", json);
        return 1;
    }
    if (jf) fprintf(jf, "{\"threads\":%d,\"reps\":%d,\"cases\":[", omp_get_max_threads(), reps);
    char *list = strdup(cases);
    int first = 1, rc = 0;
    for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
        const bench_case *bc = NULL;
        for (int i = 0; i < bench_ncases; i++)
            if (!strcmp(bench_cases[i].name, tok)) bc = &bench_cases[i];
        if (!bc) {
            fprintf(stderr, "bench_profile: unknown case '%s'\n", tok);
            rc = 2;
            continue;
        }
        kind_row rows[NK];
        double pass_ms = 0, tot = 0;
        const char *dtn = "";
        if (profile_case(bc, data, reps, rows, &pass_ms, &dtn)) {
            rc = 1;
            continue;
        }
        for (int j = 0; j < NK; j++) tot += rows[j].fwd_ms + rows[j].bwd_ms;
        printf("# %s (batch %d, %s, %d threads): forward + backward %.2f ms (sum of nodes %.2f), "
               "median of %d passes\n", bc->name, bc->batch, dtn, omp_get_max_threads(), pass_ms,
               tot, reps);
        printf("%-17s %6s %9s %9s %7s %9s %9s %8s %8s\n", "kind", "nodes", "fwd[ms]", "bwd[ms]",
               "share", "fwdGF/s", "bwdGF/s", "fwdGB/s", "bwdGB/s");
        if (jf) fprintf(jf, "%s{\"case\":\"%s\",\"batch\":%d,\"dtype\":\"%s\",\"pass_ms\":%.4f,\"kinds\":[",
                        first ? "" : ",", bc->name, bc->batch, dtn, pass_ms);
        int jfirst = 1;
        for (int j = 0; j < NK; j++) {
            const kind_row *r = &rows[j];
            if (!r->nodes) continue;
            printf("%-17s %6d %9.3f %9.3f %6.1f%% %9.1f %9.1f %8.1f %8.1f\n", kind_name[j], r->nodes,
                   r->fwd_ms, r->bwd_ms, 100 * (r->fwd_ms + r->bwd_ms) / tot,
                   r->fwd_ms > 0 ? r->fwd_gflop / (r->fwd_ms / 1e3) : 0,
                   r->bwd_ms > 0 ? r->bwd_gflop / (r->bwd_ms / 1e3) : 0,
                   r->fwd_ms > 0 ? r->fwd_gb / (r->fwd_ms / 1e3) : 0,
                   r->bwd_ms > 0 ? r->bwd_gb / (r->bwd_ms / 1e3) : 0);
            if (jf)
                fprintf(jf, "%s{\"kind\":\"%s\",\"nodes\":%d,\"fwd_ms\":%.4f,\"bwd_ms\":%.4f,"
                        "\"fwd_gflop\":%.5f,\"bwd_gflop\":%.5f,\"fwd_gb\":%.5f,\"bwd_gb\":%.5f}",
                        jfirst ? "" : ",", kind_name[j], r->nodes, r->fwd_ms, r->bwd_ms,
                        r->fwd_gflop, r->bwd_gflop, r->fwd_gb, r->bwd_gb);
            jfirst = 0;
        }
        if (jf) fprintf(jf, "]}");
        first = 0;
        printf("\n");
    }
    free(list);
    if (jf) {
        fprintf(jf, "]}\n");
        fclose(jf);
    }
    return rc;
}
