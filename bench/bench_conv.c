/* bench/bench_conv.c: CPU timing of depthwise convs (DARTS sep_conv / dil_conv shapes), the
 * direct kernels of nn/conv2d.c against the im2col + GEMM path they replace (both with oneDNN
 * switched off) and against oneDNN (nn/conv2d_dnnl.c: forward and din, on the shapes it
 * takes; "-" elsewhere).
 *
 * For each shape (CIFAR cells 32x32 C16, 16x16 C32, 8x8 C64; ImageNet 28x28 C48, 14x14 C96,
 * 7x7 C192), each op (k3/k5, stride 1/2, dilation 1/2) and each batch, float32 forward,
 * backward-data (din) and backward-weights (dw) are timed on each path: median of --reps
 * samples, each sample long enough (>= ~2 ms) to average out the clock. GFLOP/s counts
 * 2 x multiply-adds (conv2d_flops); the three passes cost the same. The err column is the
 * largest |new - old| / max|old| over out, din and dw of the direct path against GEMM: the
 * correctness check beside the timing.
 *   ./build/bin/bench_conv [--reps N] [--batch 1,64] [--ops sep3_s1,dil5_s2] [--json FILE] */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"
#include "bench_timer.h"
#include "nn/conv2d.h"
#include "nn/conv2d_dnnl.h"

/* nn/conv2d.c: 0 sends depthwise convs through im2col + GEMM (the old path) */
extern int conv2d_depthwise_direct;

typedef struct { const char *name; int k, stride, pad, dil; } dw_op;
static const dw_op ops[] = {
    {"sep3_s1", 3, 1, 1, 1}, {"sep5_s1", 5, 1, 2, 1}, {"sep3_s2", 3, 2, 1, 1},
    {"sep5_s2", 5, 2, 2, 1}, {"dil3_s1", 3, 1, 2, 2}, {"dil5_s1", 5, 1, 4, 2},
    {"dil3_s2", 3, 2, 2, 2}, {"dil5_s2", 5, 2, 4, 2},
};
typedef struct { int c, hw; } dw_shape;
static const dw_shape shapes[] = {{16, 32}, {32, 16}, {64, 8}, {48, 28}, {96, 14}, {192, 7}};

enum { P_FWD, P_BWD, P_DW, NPASS };

typedef struct {
    conv2d_dims d;
    float *x, *w, *y, *dy, *dx, *dwt, *ws;
} bench_case;

static void run_pass(bench_case *b, int pass) {
    if (pass == P_FWD) conv2d_forward_f32(b->y, b->x, b->w, &b->d, b->ws);
    else if (pass == P_BWD) conv2d_backward_f32(b->dx, NULL, b->dy, b->x, b->w, &b->d, b->ws, 1);
    else conv2d_backward_f32(NULL, b->dwt, b->dy, b->x, b->w, &b->d, b->ws, 1);
}

typedef struct { bench_case *b; int pass; } pass_call;
static void call_pass(void *ctx) {
    pass_call *p = ctx;
    run_pass(p->b, p->pass);
}

/* median seconds per call (bench/bench_timer.h) */
static double time_pass(bench_case *b, int pass, int reps) {
    pass_call p = {b, pass};
    return bench_median_per_call(call_pass, &p, reps);
}

/* max |a - b| / max |b| */
static double rel_err(const float *a, const float *b, size_t n) {
    double e = 0, m = 0;
    for (size_t i = 0; i < n; i++) {
        e = fmax(e, fabs((double)a[i] - b[i]));
        m = fmax(m, fabs((double)b[i]));
    }
    return m > 0 ? e / m : e;
}

static float *rand_buf(size_t n, unsigned *s) {
    float *p = mallocCheck(sizeof(float) * (n ? n : 1));
    for (size_t i = 0; i < n; i++) {
        *s = *s * 1664525u + 1013904223u;
        p[i] = (float)((*s >> 8) * (1.0 / 16777216.0) * 2 - 1);
    }
    return p;
}

int main(int argc, char **argv) {
    int reps = 5, batches[8] = {1, 64}, nb = 2;
    const char *json = NULL, *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--json") && i + 1 < argc) json = argv[++i];
        else if (!strcmp(argv[i], "--ops") && i + 1 < argc) only = argv[++i];
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc) {
            nb = 0;
            for (char *t = strtok(argv[++i], ","); t && nb < 8; t = strtok(NULL, ","))
                if (atoi(t) > 0) batches[nb++] = atoi(t);
        } else {
            fprintf(stderr, "usage: bench_conv [--reps N] [--batch 1,64] [--ops a,b] [--json FILE]\n");
            return 2;
        }
    }
    if (reps < 1) reps = 1;
    if (nb < 1) return 2;
    FILE *jf = json ? fopenCheck(json, "w") : NULL;
    if (jf)
        fprintf(jf, "{\"threads\":%d,\"reps\":%d,\"onednn_s\":\"forward, din; -1: not taken\","
                    "\"rows\":[", omp_get_max_threads(), reps);
    printf("# depthwise conv float32, %d threads, median of %d; times in ms per call; "
           "GF/s = 2*MACs/time of the direct path\n", omp_get_max_threads(), reps);
    printf("%-8s %-10s %5s %7s | %8s %8s %8s | %8s %8s %8s | %6s %6s %6s | %7s %7s %7s | %8s %8s"
           " | %7s\n",
           "op", "shape", "batch", "MFLOP", "gemm fwd", "gemm bwd", "gemm dw", "dir fwd",
           "dir bwd", "dir dw", "GF/s f", "GF/s b", "GF/s w", "x fwd", "x bwd", "x dw",
           "dnnl fwd", "dnnl bwd", "err");
    double sum[2][NPASS] = {{0}};
    int nrow = 0;
    unsigned seed = 1;
    for (int bi = 0; bi < nb; bi++)
        for (size_t si = 0; si < sizeof shapes / sizeof *shapes; si++)
            for (size_t oi = 0; oi < sizeof ops / sizeof *ops; oi++) {
                const dw_op *o = &ops[oi];
                if (only && !strstr(only, o->name)) continue;
                const dw_shape *sh = &shapes[si];
                bench_case b;
                conv2d_dims d = {batches[bi], sh->c, sh->hw, sh->hw, sh->c, o->k, o->stride,
                                 o->pad, o->dil, sh->c, 0, 0};
                if (conv2d_dims_init(&d)) FN_FATAL("bad shape");
                b.d = d;
                const size_t nx = (size_t)d.n * d.cin * d.h * d.w, nw = (size_t)d.cout * d.k * d.k;
                const size_t ny = (size_t)d.n * d.cout * d.ho * d.wo;
                b.x = rand_buf(nx, &seed); b.w = rand_buf(nw, &seed); b.dy = rand_buf(ny, &seed);
                b.y = mallocCheck(sizeof(float) * ny);
                b.ws = mallocCheck(sizeof(float) * (conv2d_workspace(&d) + 1));
                /* results of both paths, from zeroed accumulators, for the err column */
                float *res[2][3];
                double t[2][NPASS];
                conv2d_dnnl_enabled = 0;
                for (int path = 0; path < 2; path++) {
                    conv2d_depthwise_direct = path;
                    b.dx = callocCheck(nx, sizeof(float));
                    b.dwt = callocCheck(nw, sizeof(float));
                    conv2d_forward_f32(b.y, b.x, b.w, &d, b.ws);
                    conv2d_backward_f32(b.dx, b.dwt, b.dy, b.x, b.w, &d, b.ws, 1);
                    res[path][0] = mallocCheck(sizeof(float) * ny);
                    memcpy(res[path][0], b.y, sizeof(float) * ny);
                    res[path][1] = b.dx;
                    res[path][2] = b.dwt;
                    /* timing accumulates into scratch gradients, not the kept results */
                    b.dx = callocCheck(nx, sizeof(float));
                    b.dwt = callocCheck(nw, sizeof(float));
                    for (int p = 0; p < NPASS; p++) t[path][p] = time_pass(&b, p, reps);
                    free(b.dx);
                    free(b.dwt);
                }
                conv2d_depthwise_direct = 1;
                conv2d_dnnl_enabled = 1; /* oneDNN's forward and din, where it takes the shape */
                double td[2] = {-1, -1};
                if (conv2d_dnnl_built && conv2d_dnnl_takes(&d)) {
                    b.dx = callocCheck(nx, sizeof(float));
                    td[0] = time_pass(&b, P_FWD, reps);
                    td[1] = time_pass(&b, P_BWD, reps);
                    free(b.dx);
                }
                char dn[2][16];
                for (int p = 0; p < 2; p++)
                    if (td[p] < 0) snprintf(dn[p], sizeof dn[p], "-");
                    else snprintf(dn[p], sizeof dn[p], "%.3f", 1e3 * td[p]);
                double err = fmax(rel_err(res[1][0], res[0][0], ny),
                                  fmax(rel_err(res[1][1], res[0][1], nx),
                                       rel_err(res[1][2], res[0][2], nw)));
                const double fl = conv2d_flops(&d);
                char shape[32];
                snprintf(shape, sizeof shape, "%dx%d C%d", d.h, d.w, d.cin);
                printf("%-8s %-10s %5d %7.2f | %8.3f %8.3f %8.3f | %8.3f %8.3f %8.3f | %6.1f "
                       "%6.1f %6.1f | %7.1f %7.1f %7.1f | %8s %8s | %7.1e\n",
                       o->name, shape, d.n, fl / 1e6, 1e3 * t[0][P_FWD], 1e3 * t[0][P_BWD],
                       1e3 * t[0][P_DW], 1e3 * t[1][P_FWD], 1e3 * t[1][P_BWD], 1e3 * t[1][P_DW],
                       fl / t[1][P_FWD] / 1e9, fl / t[1][P_BWD] / 1e9, fl / t[1][P_DW] / 1e9,
                       t[0][P_FWD] / t[1][P_FWD], t[0][P_BWD] / t[1][P_BWD],
                       t[0][P_DW] / t[1][P_DW], dn[0], dn[1], err);
                if (jf)
                    fprintf(jf, "%s{\"op\":\"%s\",\"c\":%d,\"hw\":%d,\"batch\":%d,\"k\":%d,"
                                "\"stride\":%d,\"pad\":%d,\"dil\":%d,\"flop\":%.0f,"
                                "\"gemm_s\":[%.4e,%.4e,%.4e],\"direct_s\":[%.4e,%.4e,%.4e],"
                                "\"onednn_s\":[%.4e,%.4e],\"max_rel_err\":%.3e}",
                            nrow ? "," : "", o->name, d.cin, d.h, d.n, d.k, d.stride, d.pad,
                            d.dil, fl, t[0][0], t[0][1], t[0][2], t[1][0], t[1][1], t[1][2],
                            td[0], td[1], err);
                for (int path = 0; path < 2; path++)
                    for (int p = 0; p < NPASS; p++) sum[path][p] += t[path][p];
                nrow++;
                for (int path = 0; path < 2; path++)
                    for (int r = 0; r < 3; r++) free(res[path][r]);
                free(b.x); free(b.w); free(b.dy); free(b.y); free(b.ws);
            }
    printf("# all rows: gemm fwd %.1f ms, bwd %.1f ms, dw %.1f ms; direct fwd %.1f ms, bwd %.1f ms,"
           " dw %.1f ms (fwd+bwd %.1fx faster)\n", 1e3 * sum[0][0], 1e3 * sum[0][1],
           1e3 * sum[0][2], 1e3 * sum[1][0], 1e3 * sum[1][1], 1e3 * sum[1][2],
           (sum[0][0] + sum[0][1]) / (sum[1][0] + sum[1][1]));
    if (jf) {
        fprintf(jf, "]}\n");
        fclose(jf);
        printf("# wrote %s\n", json);
    }
    return 0;
}
