/* bench/bench_search.c: CPU time and memory of whole FreeDARTS searches, per search space,
 * supernet and metric (issue targets on the 2-core CPU: NB201 SynFlow < 100 ms, NB201 SNIP
 * < 1.5 s; DARTS 8-cell SynFlow < 0.5 s; DARTS 224x224 SynFlow < 10 s in < 4 GB).
 *
 * Each case runs in a forked child, so its peak RSS (VmHWM) is the memory of that search
 * alone. A case runs one search (the `freenas search` path: data, build, init, score, prune);
 * when that took under 2 s, it runs --reps more with other seeds and reports the median, else
 * it reports that first, cold search (a fresh process: its page faults are in it, about 1 s
 * for NB201 SNIP). --warm always treats the first search as an untimed warm-up and reports
 * the median of --reps more (steady state, as bench/pytorch/search_torch.py measures).
 * Then forward and backward are timed alone on one float32 executor (skipped for slow cases).
 * FLOPs are 2 x multiply-adds of conv + linear layers; backward counts the data-gradient
 * GEMMs it really runs (FreeDARTS needs d alpha, not weight gradients). GraSP (exact H g) runs
 * a forward / backward pass and a tangent pass (primal and tangent of each node: the work of
 * two more) in float32; nb201-grasp-fd, the finite difference it replaced, 3 forward and
 * backward passes in float64: both count 3 x (forward + backward).
 *   ./build/bin/bench_search [--reps N] [--warm] [--json FILE] [--data DIR] [--cases a,b] [--device cuda]
 *   cases: nb201-synflow nb201-snip nb201-grasp nb201-grasp-fd darts8-synflow darts8-snip darts20-synflow
 *          darts20-snip darts224-synflow darts224-snip n1ss3-synflow n1ss3-snip
 * CPU peak: cores x clock x 2 FMA pipes x float32 lanes x 2 FLOP: 64 FLOP/cycle with AVX-512
 * (16 lanes; OpenBLAS's SkylakeX kernels reach 145 GFLOP/s on one 2.6 GHz core of this
 * project's Xeon, above a one-pipe 83), else 32 (AVX2, 8 lanes); one-pipe AVX-512 parts have
 * half. With
 * --device cuda every search and the forward / backward timing run on the GPU (--no-graphs:
 * every kernel launched each pass instead of replaying CUDA graphs); peak is
 * SMs x clock x 2 x 128 float32 lanes (CUDA cores; the executor uses FMA math, no TF32).
 * fwd%pk: the float32 forward's conv + linear FLOP rate against that peak.
 * bench/run_bench_search_torch.sh runs this with --warm beside PyTorch doing the same searches
 * (bench/pytorch/search_torch.py). */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "datasets/dataset.h"
#include "gpu/device.h"
#include "gpu/backend_cuda.h"
#include "engine/exec.h"
#include "search/search.h"
#include "search/space.h"
#include "base/common.h"
#include "bench_cases.h"


typedef struct {
    int ok, batch, reps;
    double search_s, score_s, fwd_s, bwd_s, fwd_gflop, bwd_gflop, score_gflop;
    size_t params, exec_bytes, peak_rss;
    char msg[FN_ERRLEN];
} row;

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
        if (e->needs_grad[nd->out] && e->needs_grad[nd->in[0]]) m += graph_node_macs(g, nd);
    }
    return m;
}

/* One case, in the child process. */
static void run_case(const bench_case *bc, const char *data, int reps, int warm, fn_device dev,
                     row *r) {
    memset(r, 0, sizeof *r);
    fn_search_config c;
    bench_case_config(bc, data, 0, &c);
    c.device = dev;
    if (!strcmp(bc->name, "nb201-grasp-fd")) c.mopts.grasp_fd_eps = 1e-6;
    fn_search_result res;
    fn_arena_pool pool = {0}; /* arenas kept from search to search, as a sweep worker keeps them */
    c.pool = dev == FN_DEV_CPU ? &pool : NULL;
    if (search_run(&c, &res) != FN_OK) {
        arena_pool_free(&pool);
        snprintf(r->msg, sizeof r->msg, "%s", res.msg);
        return;
    }
    double *t = mallocCheck(sizeof(double) * (reps + 1)), *ts = mallocCheck(sizeof(double) * (reps + 1));
    t[0] = res.t_total;
    ts[0] = res.t_score;
    int n = 1;
    if (warm || res.t_total < 2.0 || dev == FN_DEV_CUDA) { /* the first run was the warm-up (on
                                                      a GPU also CUDA, cuDNN and cuBLAS start-up) */
        n = 0;
        for (int k = 0; k < reps; k++, n++) {
            c.seed = (uint64_t)k + 1;
            search_run(&c, &res);
            t[n] = res.t_total;
            ts[n] = res.t_score;
        }
    }
    arena_pool_free(&pool);
    r->reps = n;
    r->search_s = median(t, n);
    r->score_s = median(ts, n);
    r->batch = res.batch;
    r->params = res.params;
    r->exec_bytes = res.bytes;
    free(t);
    free(ts);

    /* FLOPs of the scoring step, and forward / backward alone (fast cases) */
    const fn_space *sp = space_find(c.space);
    const fn_dataset_info *ds = dataset_info(c.dataset);
    char err[256];
    sp->resolve(&c, ds, err, sizeof err);
    fn_graph g;
    graph_init(&g);
    sp->build(&g, &c, ds, res.batch, err, sizeof err);
    fn_exec e;
    fn_exec_opts eo = {0, 0, NULL, NULL, dev, 0, 0};
    if (exec_init_opts(&e, &g, FN_F32, &eo) == 0) {
        r->fwd_gflop = 2 * graph_macs(&g) / 1e9;
        r->bwd_gflop = 2 * backward_macs(&e) / 1e9;
        r->score_gflop = (r->fwd_gflop + r->bwd_gflop) * (strcmp(c.metric, "grasp") ? 1 : 3);
        if (r->search_s < 2.0 || dev == FN_DEV_CUDA) {
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
            free(dz);
            free(tf);
            free(tb);
        }
        exec_free(&e);
    }
    graph_free(&g);
    r->ok = 1;
}

int main(int argc, char **argv) {
    gpu_backend_register(); /* the CUDA backend: loaded by the first CUDA executor */
    int reps = 5;
    fn_device dev = FN_DEV_CPU;
    int graphs = 1, warm = 0;
    const char *json = NULL, *data = "../shared/data", *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--json") && i + 1 < argc) json = argv[++i];
        else if (!strcmp(argv[i], "--data") && i + 1 < argc) data = argv[++i];
        else if (!strcmp(argv[i], "--cases") && i + 1 < argc) only = argv[++i];
        else if (!strcmp(argv[i], "--no-graphs")) graphs = 0;
        else if (!strcmp(argv[i], "--warm")) warm = 1;
        else if (!strcmp(argv[i], "--device") && i + 1 < argc) {
            i++;
            if (!strcmp(argv[i], "cuda")) dev = FN_DEV_CUDA;
            else if (strcmp(argv[i], "cpu")) {
                fprintf(stderr, "bench_search: --device cpu | cuda\n");
                return 2;
            }
        } else {
            fprintf(stderr, "usage: bench_search [--reps N] [--warm] [--json FILE] [--data DIR] "
                            "[--cases a,b] [--device cpu|cuda] [--no-graphs]\n");
            return 2;
        }
    }
    if (reps < 1) reps = 1;
    const int cores = omp_get_max_threads();
    const double mhz = cpu_mhz();
    const int avx512 = __builtin_cpu_supports("avx512f");
    double peak = cores * mhz * 1e6 * (avx512 ? 64 : 32) / 1e9, peak64 = peak / 2;
    char gpu[128] = "";
    if (dev == FN_DEV_CUDA) {
        /* in a child: the parent must not start CUDA before fork() */
        int fd[2];
        if (pipe(fd)) FN_FATAL("pipe failed");
        pid_t pid = fork();
        if (pid == 0) {
            double pk[2] = {gpu_peak_gflops(0, 0), gpu_peak_gflops(0, 1)};
            char d[128] = "no CUDA device";
            gpu_describe(0, d, sizeof d);
            if (write(fd[1], pk, sizeof pk) != sizeof pk || write(fd[1], d, sizeof d) != sizeof d)
                _exit(1);
            _exit(0);
        }
        close(fd[1]);
        double pk[2] = {0, 0};
        if (read(fd[0], pk, sizeof pk) != sizeof pk || read(fd[0], gpu, sizeof gpu) != sizeof gpu)
            snprintf(gpu, sizeof gpu, "?");
        close(fd[0]);
        waitpid(pid, NULL, 0);
        peak = pk[0];
        peak64 = pk[1];
        printf("# FreeDARTS searches on CUDA: %s, peak %.0f GFLOP/s fp32, %.0f fp64 (CUDA cores, "
               "FMA math: no TF32); median of %d searches after one warm-up; CUDA graphs %s\n",
               gpu, peak, peak64, reps, graphs ? "on" : "off");
    } else
        printf("# FreeDARTS searches on CPU: %d cores at %.0f MHz, fp32 peak ~%.0f GFLOP/s (%s, "
               "2 FMA pipes); median of %d searches%s\n", cores, mhz, peak,
               avx512 ? "AVX-512" : "AVX2", reps,
               warm ? " after one untimed warm-up (--warm)" : " (1 when a search takes > 2 s)");
    printf("%-17s %5s %10s %11s %10s %9s %9s %9s %9s %8s %10s %10s\n", "case", "batch", "params",
           "search[ms]", "score[ms]", "GFLOP", "GFLOP/s", "fwd[ms]", "bwd[ms]", "fwd%pk",
           "exec[MiB]", "peak[MiB]");
    row *rows = callocCheck((size_t)bench_ncases, sizeof *rows);
    int *used = callocCheck((size_t)bench_ncases, sizeof *used);
    for (int i = 0; i < bench_ncases; i++) {
        if (only) {
            const char *p = strstr(only, bench_cases[i].name);
            size_t l = strlen(bench_cases[i].name);
            if (!p || (p[l] && p[l] != ',')) continue;
        }
        int fd[2];
        if (pipe(fd)) FN_FATAL("pipe failed");
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            close(fd[0]);
            gpu_set_graphs(graphs);
            row r;
            run_case(&bench_cases[i], data, reps, warm, dev, &r);
            r.peak_rss = fn_peak_rss();
            if (write(fd[1], &r, sizeof r) != (ssize_t)sizeof r) _exit(1);
            _exit(0);
        }
        close(fd[1]);
        row *r = &rows[i];
        memset(r, 0, sizeof *r);
        ssize_t got = read(fd[0], r, sizeof *r);
        close(fd[0]);
        int st = 0;
        waitpid(pid, &st, 0);
        used[i] = 1;
        if (got != (ssize_t)sizeof *r || !r->ok) {
            printf("%-17s failed: %s\n", bench_cases[i].name, got == (ssize_t)sizeof *r ? r->msg
                                                                                 : "child died");
            continue;
        }
        printf("%-17s %5d %10zu %11.2f %10.2f %9.2f %9.1f %9.3f %9.3f %7.1f%% %10.1f %10.1f\n",
               bench_cases[i].name, r->batch, r->params, 1e3 * r->search_s, 1e3 * r->score_s,
               r->score_gflop, r->score_gflop / r->score_s, 1e3 * r->fwd_s, 1e3 * r->bwd_s,
               r->fwd_s > 0 ? 100 * r->fwd_gflop / r->fwd_s / peak : 0.0,
               r->exec_bytes / 1048576.0, r->peak_rss / 1048576.0);
    }
    if (json) {
        FILE *f = fopenCheck(json, "w");
        fprintf(f, "{\"machine\":{\"device\":\"%s\",\"gpu\":\"%s\",\"cores\":%d,\"mhz\":%.0f,"
                   "\"peak_gflops_fp32\":%.1f,\"peak_gflops_fp64\":%.1f},\"cuda_graphs\":%s,\"reps\":%d,"
                   "\"warm\":%s,\"rows\":[", dev == FN_DEV_CUDA ? "cuda" : "cpu", gpu, cores, mhz, peak,
                peak64, dev == FN_DEV_CUDA && graphs ? "true" : "false", reps, warm ? "true" : "false");
        int first = 1;
        for (int i = 0; i < bench_ncases; i++) {
            if (!used[i] || !rows[i].ok) continue;
            row *r = &rows[i];
            fprintf(f, "%s{\"case\":\"%s\",\"space\":\"%s\",\"metric\":\"%s\",\"dataset\":\"%s\","
                       "\"batch\":%d,\"params\":%zu,\"searches\":%d,\"search_s\":%.6f,"
                       "\"score_s\":%.6f,\"score_gflop\":%.4f,\"forward_s\":%.6f,"
                       "\"forward_gflop\":%.4f,\"backward_s\":%.6f,\"backward_gflop\":%.4f,"
                       "\"executor_bytes\":%zu,\"peak_rss_bytes\":%zu}",
                    first ? "" : ",", bench_cases[i].name, bench_cases[i].space, bench_cases[i].metric,
                    bench_cases[i].dataset, r->batch, r->params, r->reps, r->search_s, r->score_s,
                    r->score_gflop, r->fwd_s, r->fwd_gflop, r->bwd_s, r->bwd_gflop, r->exec_bytes,
                    r->peak_rss);
            first = 0;
        }
        fprintf(f, "]}\n");
        fclose(f);
        printf("# wrote %s\n", json);
    }
    free(rows);
    free(used);
    return 0;
}
