/* bench/bench_search.c: CPU timing of FreeDARTS searches on NB201 (issue targets: SynFlow
 * search < 100 ms at batch 1, SNIP search < 1.5 s at batch 64, on 2 cores).
 *
 * For each metric: whole searches (build + init + score + prune, the `freenas search` path)
 * over several seeds after a warm-up, then forward and backward passes timed alone on one
 * executor. FLOPs are 2 x multiply-adds of conv + linear layers; backward counts the
 * data-gradient GEMMs it really runs (no weight gradients: FreeDARTS needs d alpha only).
 * Prints a table and writes the same data as JSON.
 *   ./build/bin/bench_search [--reps N] [--json FILE] [--data DIR] [--metrics a,b]
 * Peak: cores x clock x 32 FLOP/cycle (AVX2: 2 FMA pipes x 8 float32 lanes). */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nas/graph.h"
#include "nas/nb201.h"
#include "nas/search.h"
#include "nn/common.h"

static double cpu_mhz(void) {
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[256];
    double mhz = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "cpu MHz : %lf", &mhz) == 1) break;
    if (f) fclose(f);
    return mhz;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* multiply-adds of the data-gradient GEMMs backward runs */
static double backward_macs(const fn_exec *e) {
    const fn_graph *g = e->g;
    double m = 0;
    for (int i = 0; i < g->nn; i++) {
        const fn_node *nd = &g->nodes[i];
        if ((nd->kind != FN_NODE_CONV && nd->kind != FN_NODE_LINEAR) || !e->needs_grad[nd->out] ||
            !e->needs_grad[nd->in[0]])
            continue;
        const fn_tensor *in = &g->t[nd->in[0]], *out = &g->t[nd->out];
        if (nd->kind == FN_NODE_CONV)
            m += (double)out->n * out->c * out->h * out->w * (in->c / nd->groups) * nd->k * nd->k;
        else
            m += (double)out->n * out->c * in->c * in->h * in->w;
    }
    return m;
}

typedef struct {
    const char *metric;
    int batch;
    double search_s, fwd_s, bwd_s, fwd_gflop, bwd_gflop;
    size_t bytes;
    char arch[256];
} row;

int main(int argc, char **argv) {
    int reps = 5;
    const char *json = NULL, *data = "../shared/data", *metrics = "synflow,snip,grasp";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--json") && i + 1 < argc) json = argv[++i];
        else if (!strcmp(argv[i], "--data") && i + 1 < argc) data = argv[++i];
        else if (!strcmp(argv[i], "--metrics") && i + 1 < argc) metrics = argv[++i];
        else {
            fprintf(stderr, "usage: bench_search [--reps N] [--json FILE] [--data DIR] [--metrics a,b]\n");
            return 2;
        }
    }
    if (reps < 1) reps = 1;
    const int cores = omp_get_max_threads();
    const double mhz = cpu_mhz(), peak = cores * mhz * 1e6 * 32 / 1e9;
    row rows[3];
    int nr = 0;
    const char *names[3] = {"synflow", "snip", "grasp"};
    for (int mi = 0; mi < 3; mi++) {
        if (!strstr(metrics, names[mi])) continue;
        row *r = &rows[nr++];
        memset(r, 0, sizeof *r);
        r->metric = names[mi];
        fn_search_config c;
        search_config_default(&c);
        c.metric = names[mi];
        c.data_path = data;
        fn_search_result res;
        double *t = mallocCheck(sizeof(double) * reps);
        search_run(&c, &res); /* warm-up */
        if (res.status != FN_OK) {
            fprintf(stderr, "bench: %s failed: %s\n", names[mi], res.msg);
            return 1;
        }
        for (int k = 0; k < reps; k++) {
            c.seed = (uint64_t)k + 1;
            search_run(&c, &res);
            t[k] = res.t_total;
        }
        r->search_s = median(t, reps);
        r->batch = res.batch;
        r->bytes = res.bytes;
        snprintf(r->arch, sizeof r->arch, "%s", res.arch);
        /* forward / backward alone, float32 executor at the search batch */
        fn_graph g;
        graph_init(&g);
        nb201_config nc = {16, 5, 10, 32, 32, res.batch};
        nb201_build(&g, &nc);
        fn_exec e;
        exec_init(&e, &g, FN_F32, 0);
        exec_init_params(&e, 1);
        exec_init_alpha(&e, 1, 1e-3);
        size_t nout = graph_tensor_numel(&g, g.output);
        float *dz = mallocCheck(sizeof(float) * nout);
        for (size_t i = 0; i < nout; i++) dz[i] = 1.0f / (float)nout;
        exec_forward(&e);
        exec_backward(&e, dz);
        double *tf = mallocCheck(sizeof(double) * reps), *tb = mallocCheck(sizeof(double) * reps);
        for (int k = 0; k < reps; k++) {
            double t0 = fn_now();
            exec_forward(&e);
            double t1 = fn_now();
            exec_backward(&e, dz);
            tb[k] = fn_now() - t1;
            tf[k] = t1 - t0;
        }
        r->fwd_s = median(tf, reps);
        r->bwd_s = median(tb, reps);
        r->fwd_gflop = 2 * graph_macs(&g) / 1e9;
        r->bwd_gflop = 2 * backward_macs(&e) / 1e9;
        exec_free(&e);
        graph_free(&g);
        free(dz); free(t); free(tf); free(tb);
    }
    printf("# NB201 FreeDARTS search on CPU: %d cores at %.0f MHz, fp32 peak ~%.0f GFLOP/s "
           "(AVX2 FMA); median of %d\n", cores, mhz, peak, reps);
    printf("%-8s %6s %11s %10s %10s %9s %10s %9s %9s %10s\n", "metric", "batch", "search[ms]",
           "fwd[ms]", "fwd GFLOP", "fwd GF/s", "bwd[ms]", "bwd GFLOP", "bwd GF/s", "mem[MiB]");
    for (int i = 0; i < nr; i++) {
        row *r = &rows[i];
        printf("%-8s %6d %11.1f %10.1f %10.2f %9.1f %10.1f %9.2f %9.1f %10.1f\n", r->metric,
               r->batch, 1e3 * r->search_s, 1e3 * r->fwd_s, r->fwd_gflop, r->fwd_gflop / r->fwd_s,
               1e3 * r->bwd_s, r->bwd_gflop, r->bwd_gflop / r->bwd_s, r->bytes / 1048576.0);
    }
    printf("# peak RSS of this process: %.1f MiB\n", fn_peak_rss() / 1048576.0);
    if (json) {
        FILE *f = fopenCheck(json, "w");
        fprintf(f, "{\"machine\":{\"cores\":%d,\"mhz\":%.0f,\"peak_gflops_fp32\":%.1f},\"reps\":%d,"
                   "\"peak_rss_bytes\":%zu,\"rows\":[", cores, mhz, peak, reps, fn_peak_rss());
        for (int i = 0; i < nr; i++) {
            row *r = &rows[i];
            fprintf(f, "%s{\"metric\":\"%s\",\"batch\":%d,\"search_s\":%.6f,\"forward_s\":%.6f,"
                       "\"forward_gflop\":%.4f,\"backward_s\":%.6f,\"backward_gflop\":%.4f,"
                       "\"executor_bytes\":%zu,\"arch\":\"%s\"}", i ? "," : "", r->metric, r->batch,
                    r->search_s, r->fwd_s, r->fwd_gflop, r->bwd_s, r->bwd_gflop, r->bytes, r->arch);
        }
        fprintf(f, "]}\n");
        fclose(f);
        printf("# wrote %s\n", json);
    }
    return 0;
}
