/* bench/bench_train.c: training throughput of the HNAS DARTS evaluation recipe (docs/METHOD.md §4.3:
 * C = 16, 5 layers, batch 576, no auxiliary head, drop-path on, float32) on this CPU or the
 * current GPU (cuda: train/core.h's data flow, weights and SGD on the host): a few SGD steps
 * on CIFAR-shaped random inputs (the first one untimed), images/s, multiply-adds per image
 * and the achieved rate (training = forward + backward ~ 3x the forward's MACs, 2 FLOPs per
 * MAC). Prints a table row and one JSON line with the same data.
 *   ./build/bin/bench_train [batch 576] [steps 3] [genotype string] [f32|f64] [cpu|cuda] */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"
#include "gpu/backend_cuda.h"
#include "nn/rng.h"
#include "train/core.h"

static const char *DARTS_V2 =
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), "
    "('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), "
    "('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), "
    "('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), "
    "('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])";

int main(int argc, char **argv) {
    const int batch = argc > 1 ? atoi(argv[1]) : 576, steps = argc > 2 ? atoi(argv[2]) : 3;
    const char *gs = argc > 3 && argv[3][0] ? argv[3] : DARTS_V2; /* "": the default */
    const fn_dtype dt = argc > 4 && !strcmp(argv[4], "f64") ? FN_F64 : FN_F32;
    const fn_device dev = argc > 5 && !strcmp(argv[5], "cuda") ? FN_DEV_CUDA : FN_DEV_CPU;
    gpu_backend_register(); /* the CUDA backend: loaded by the first CUDA executor */
    char err[FN_ERRLEN];
    darts_genotype gt;
    if (batch < 1 || steps < 2 || darts_genotype_parse(gs, &gt, err, sizeof err)) {
        fprintf(stderr, "usage: bench_train [batch] [steps >= 2] [genotype] [f32|f64] "
                "[cpu|cuda]\n");
        return 2;
    }
    train_darts_config dc = {16, 5, 10, 32, 32, batch, 0, 1};
    train_net net;
    train_core c;
    if (train_darts_net_build(&net, &gt, &dc, err, sizeof err) ||
        train_core_init_on(&c, &net, NULL, dt, dev, 0, err, sizeof err)) {
        fprintf(stderr, "bench_train: %s\n", err);
        return 1;
    }
    const double macs = graph_macs(&net.g) / batch;
    train_opt o = {0.9, 3e-4, 0, 5.0, 0.4};
    int *labels = mallocCheck(sizeof(int) * (size_t)batch);
    const size_t slots = (size_t)dc.layers * TRAIN_DROP_SLOTS;
    unsigned char *keep = mallocCheck(slots * batch);
    void *x = exec_tensor(&c.e[0], net.g.input);
    const size_t nx = graph_tensor_numel(&net.g, net.g.input);
    double t_timed = 0;
    for (int s = 0; s < steps; s++) {
        for (size_t i = 0; i < nx; i++) exec_set(x, dt, i, fn_rng_normal(1, 2, s * nx + i));
        for (int i = 0; i < batch; i++) labels[i] = (int)(fn_rng_uniform(1, 3, s * batch + i) * 10);
        for (size_t i = 0; i < slots * batch; i++) keep[i] = fn_rng_uniform(1, 4, i) >= 0.1;
        const double t0 = fn_now();
        train_core_set_drop(&c, 0, keep, 0.1);
        train_step_stats st;
        train_core_forward_backward(&c, 0, labels, &o, &st);
        train_core_clip(&c, &o);
        train_core_sgd(&c, 0.1, &o);
        if (s > 0) t_timed += fn_now() - t0;
    }
    const double ips = (double)(steps - 1) * batch / t_timed;
    const double gflops = ips * 3 * macs * 2 / 1e9;
    const double epoch_s = 25000 / ips;
    const char *dname = dev == FN_DEV_CUDA ? "cuda" : "cpu";
    printf("%-10s %6s %6s %6s %10s %12s %12s %14s %8s\n", "net", "device", "batch", "steps",
           "img/s", "MMAC/img", "GFLOP/s", "epoch(25k) s", "threads");
    printf("%-10s %6s %6d %6d %10.1f %12.2f %12.2f %14.1f %8d\n", "hnas-c16l5", dname, batch,
           steps - 1, ips, macs / 1e6, gflops, epoch_s, omp_get_max_threads());
    printf("{\"bench\": \"train\", \"net\": \"darts_eval C16 L5 (DARTS_V2)\", "
           "\"device\": \"%s\", \"dtype\": \"%s\", \"batch\": %d, \"timed_steps\": %d, "
           "\"images_per_s\": %.2f, \"macs_per_image\": %.0f, \"gflops\": %.3f, "
           "\"epoch_25k_s\": %.1f, \"threads\": %d, \"params\": %zu, \"peak_rss_mb\": %.0f}\n",
           dname, dt == FN_F64 ? "f64" : "f32", batch, steps - 1, ips, macs, gflops, epoch_s,
           omp_get_max_threads(), graph_num_params(&net.g), fn_peak_rss() / 1048576.0);
    free(labels); free(keep);
    train_core_free(&c);
    train_net_free(&net);
    return 0;
}
