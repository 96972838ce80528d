/* bench/bench_conv_dense.c: CPU timing of dense 3x3 convs (NB201's cell convs, the DARTS
 * stem), the paths nn/conv2d.c can run them on, side by side:
 *   gemm   im2col + OpenBLAS (the direct kernels and oneDNN switched off),
 *   direct nn/conv2d_direct.c (oneDNN off),
 *   onednn nn/conv2d_dnnl.c (float32 shapes it takes; "-" elsewhere).
 * Float64 is SynFlow's precision (batch 1), float32 SNIP's (batch 64). Forward and data
 * gradient (the passes the scoring runs; weight gradients stay on im2col + GEMM): median of
 * --reps samples, each long enough (>= ~2 ms) to average out the clock. GF/s = 2 x
 * multiply-adds / time; err = max |path - gemm| / max |gemm| over both passes.
 *   ./build/bin/bench_conv_dense [--reps N] [--json FILE] */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"
#include "bench_timer.h"
#include "nn/conv2d.h"
#include "nn/conv2d_direct.h"
#include "nn/conv2d_dnnl.h"

enum { GEMM, DIRECT, ONEDNN, NPATH };
static const char *path_name[NPATH] = {"gemm", "direct", "onednn"};

typedef struct {
    conv2d_dims d;
    int f64;
    void *x, *w, *y, *dy, *dx, *ws;
} dense_case;

static void fwd(void *ctx) {
    dense_case *c = ctx;
    if (c->f64) conv2d_forward_f64(c->y, c->x, c->w, &c->d, c->ws);
    else conv2d_forward_f32(c->y, c->x, c->w, &c->d, c->ws);
}
static void bwd(void *ctx) {
    dense_case *c = ctx;
    if (c->f64) conv2d_backward_f64(c->dx, NULL, c->dy, c->x, c->w, &c->d, c->ws, 0);
    else conv2d_backward_f32(c->dx, NULL, c->dy, c->x, c->w, &c->d, c->ws, 0);
}

static double elem(const void *p, size_t i, int f64) {
    return f64 ? ((const double *)p)[i] : ((const float *)p)[i];
}

/* max |a - b| / max |b| */
static double rel_err(const void *a, const void *b, size_t n, int f64) {
    double e = 0, m = 0;
    for (size_t i = 0; i < n; i++) {
        e = fmax(e, fabs(elem(a, i, f64) - elem(b, i, f64)));
        m = fmax(m, fabs(elem(b, i, f64)));
    }
    return m > 0 ? e / m : e;
}

static void *rand_buf(size_t n, int f64, unsigned *s) {
    void *p = mallocCheck((f64 ? 8 : 4) * (n ? n : 1));
    for (size_t i = 0; i < n; i++) {
        *s = *s * 1664525u + 1013904223u;
        double v = (*s >> 8) * (1.0 / 16777216.0) * 2 - 1;
        if (f64) { /* all 53 bits: with 24-bit inputs every float64 sum here is exact */
            *s = *s * 1664525u + 1013904223u;
            v += (*s >> 8) * (1.0 / 16777216.0) * 0x1p-23;
        }
        if (f64) ((double *)p)[i] = v;
        else ((float *)p)[i] = (float)v;
    }
    return p;
}

/* switches for one path; returns 0 where the path cannot run the shape */
static int select_path(int path, const conv2d_dims *d, int f64) {
    conv2d_direct_enabled = path == DIRECT;
    conv2d_dnnl_enabled = path == ONEDNN;
    if (path == DIRECT) return conv2d_direct_takes(d);
    if (path == ONEDNN) return !f64 && conv2d_dnnl_takes(d);
    return 1;
}

typedef struct { int cin, cout, hw, batch, f64; const char *what; } dense_shape;
static const dense_shape shapes[] = {
    {16, 16, 32, 1, 1, "nb201 s1"},  {32, 32, 16, 1, 1, "nb201 s2"},
    {64, 64, 8, 1, 1, "nb201 s3"},   {3, 48, 32, 1, 1, "darts stem"},
    {16, 16, 32, 64, 0, "nb201 s1"}, {32, 32, 16, 64, 0, "nb201 s2"},
    {64, 64, 8, 64, 0, "nb201 s3"},  {3, 48, 32, 64, 0, "darts stem"},
};

int main(int argc, char **argv) {
    int reps = 5;
    const char *json = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--json") && i + 1 < argc) json = argv[++i];
        else {
            fprintf(stderr, "usage: bench_conv_dense [--reps N] [--json FILE]\n");
            return 2;
        }
    }
    if (reps < 1) reps = 1;
    FILE *jf = json ? fopenCheck(json, "w") : NULL;
    if (jf)
        fprintf(jf, "{\"threads\":%d,\"reps\":%d,\"direct_isa\":\"%s\",\"rows\":[",
                omp_get_max_threads(), reps, conv2d_direct_isa_f64());
    printf("# dense 3x3 convs, %d threads, direct kernels: %s; median of %d; ms per call "
           "(GF/s)\n", omp_get_max_threads(), conv2d_direct_isa_f64(), reps);
    printf("%-10s %-4s %-13s %5s %7s | %-17s %-17s | %-17s %-17s | %-17s %-17s | %8s\n", "shape",
           "prec", "channels", "batch", "MFLOP", "gemm fwd", "gemm din", "direct fwd",
           "direct din", "onednn fwd", "onednn din", "err");
    unsigned seed = 1;
    for (size_t si = 0; si < sizeof shapes / sizeof *shapes; si++) {
        const dense_shape *sh = &shapes[si];
        dense_case c = {{sh->batch, sh->cin, sh->hw, sh->hw, sh->cout, 3, 1, 1, 1, 1, 0, 0},
                        sh->f64, NULL, NULL, NULL, NULL, NULL, NULL};
        if (conv2d_dims_init(&c.d)) FN_FATAL("bad shape");
        const conv2d_dims *d = &c.d;
        const int f64 = sh->f64, es = f64 ? 8 : 4;
        const size_t nx = (size_t)d->n * d->cin * d->h * d->w, nw = (size_t)d->cout * d->cin * 9;
        const size_t ny = (size_t)d->n * d->cout * d->ho * d->wo;
        c.x = rand_buf(nx, f64, &seed); c.w = rand_buf(nw, f64, &seed);
        c.dy = rand_buf(ny, f64, &seed);
        size_t nws = 1;
        for (int p = 0; p < NPATH; p++) {
            select_path(p, d, f64);
            const size_t n = conv2d_workspace(d);
            if (n > nws) nws = n;
        }
        c.ws = mallocCheck((size_t)es * nws);
        void *ref_y = mallocCheck((size_t)es * ny), *ref_dx = mallocCheck((size_t)es * nx);
        c.y = mallocCheck((size_t)es * ny);
        c.dx = mallocCheck((size_t)es * nx);
        double t[NPATH][2], err = 0;
        int ran[NPATH];
        for (int p = 0; p < NPATH; p++) {
            ran[p] = select_path(p, d, f64);
            if (!ran[p]) continue;
            fwd(&c);
            bwd(&c);
            if (p == GEMM) {
                memcpy(ref_y, c.y, (size_t)es * ny);
                memcpy(ref_dx, c.dx, (size_t)es * nx);
            } else {
                err = fmax(err, fmax(rel_err(c.y, ref_y, ny, f64), rel_err(c.dx, ref_dx, nx, f64)));
            }
            t[p][0] = bench_median_per_call(fwd, &c, reps);
            t[p][1] = bench_median_per_call(bwd, &c, reps);
        }
        conv2d_direct_enabled = 1;
        conv2d_dnnl_enabled = 1;
        const double fl = conv2d_flops(d);
        char ch[32];
        snprintf(ch, sizeof ch, "%d->%d %dx%d", d->cin, d->cout, d->h, d->w);
        printf("%-10s %-4s %-13s %5d %7.2f", sh->what, f64 ? "f64" : "f32", ch, d->n, fl / 1e6);
        for (int p = 0; p < NPATH; p++) {
            printf(" |");
            for (int q = 0; q < 2; q++) {
                char cell[32] = "-";
                if (ran[p]) snprintf(cell, sizeof cell, "%.3f (%.0f)", 1e3 * t[p][q], fl / t[p][q] / 1e9);
                printf(" %-17s", cell);
            }
        }
        printf(" | %8.1e\n", err);
        if (jf) {
            fprintf(jf, "%s{\"shape\":\"%s\",\"dtype\":\"%s\",\"cin\":%d,\"cout\":%d,\"hw\":%d,"
                        "\"batch\":%d,\"flop\":%.0f,\"max_rel_err\":%.3e",
                    si ? "," : "", sh->what, f64 ? "float64" : "float32", d->cin, d->cout, d->h,
                    d->n, fl, err);
            for (int p = 0; p < NPATH; p++)
                if (ran[p])
                    fprintf(jf, ",\"%s_s\":[%.4e,%.4e]", path_name[p], t[p][0], t[p][1]);
            fprintf(jf, "}");
        }
        free(c.x); free(c.w); free(c.dy); free(c.y); free(c.dx); free(c.ws);
        free(ref_y); free(ref_dx);
    }
    if (jf) {
        fprintf(jf, "]}\n");
        fclose(jf);
        printf("# wrote %s\n", json);
    }
    return 0;
}
