/* proxies/proxy.h: per-architecture zero-cost proxies on the NAS-Bench-201 benchmark networks
 * (nasbench/nb201_net.h), the "Zero-cost (per-arch)" baselines of docs/METHOD.md §9, and their registry.
 * A proxy is one file proxies/proxy_<name>.c plus one row in proxy_table (proxies/proxy.c).
 *
 * Conventions (ZC, docs/METHOD.md §3.0): a fresh network per architecture, weights drawn with
 * PyTorch's default rule from `seed` (nn/rng.h), train mode (batch statistics); scores sum over
 * conv and linear WEIGHTS only (no biases, no BN parameters); one batch, the first `batch`
 * images drawn under `seed` from the training file, with ZC's train augmentation unless
 * stated. Every architecture sees the same batch and the same weight streams.
 *
 *   name       data    batch  prec  BN          score                               METHOD
 *   params     -       -      -     -           parameters (all, as AD counts)      §1.4
 *   flops      -       -      -     -           conv+linear MACs (+ bias adds), b=1 §1.4
 *   synflow    -       1      64    ZC-removed  sum |W * dR/dW|, R = sum logits     §3.3
 *   snip       labels  64     32    train       sum |W * dL/dW|                     §3.1
 *   grad_norm  labels  64     32    train       sum over layers ||dL/dW||_F         §3.4
 *   naswot     images  128    32    train       log|det K|, K from ReLU codes       §3.7
 *   grasp      labels  64     64    train       -sum W * (H g), g stop-grad         §3.2
 *   fisher     labels  64     32    train       sum fan_in * 1/2 mean_n (a.g)^2     §3.5
 *   jacob_cov  images  64     32    train       -sum log(v+k) + 1/(v+k), v=eig corr §3.6
 *   ntk_trace  labels  64     32    train       sqrt(tr Theta / N)                  §3.8
 *   ntk_cond   labels  64     32    train       lambda_max / lambda_min (NaN->1e5)  §3.8
 * HNAS's setting (fn_proxy.hnas; §4.2): ZC's NAS201Model, whose cell convs carry biases (they
 * enter the NTK's G), and weights and augmented batch drawn afresh per architecture:
 *   hnas_ntk_trace, hnas_ntk_cond   as ntk_trace / ntk_cond                  §3.8, §4.1
 *   hnas_grad_norm, hnas_snip       as grad_norm / snip (raw: HNAS's M)      §4.2
 *   hnas_grasp                      as grasp (float64; raw, may be negative) §4.2
 * CPU time on one core (bench/bench_hnas.sh): the NTK pair 0.6 to 0.9 s per architecture, all
 * five 4.5 to 5 s (grasp about 3.5 s).
 * Each proxy file's header says exactly what it computes and how it maps to the reference.
 * Per call on this 2-core CPU (1 thread, batch defaults, average arch): synflow 17 ms (all
 * 15,625 CIFAR-10 archs in 145 s as two 1-thread processes), naswot 0.5 s, snip 0.5 s
 * (grad_norm then ~1 ms), fisher 0.5 s, jacob_cov 0.45 s, ntk_trace 0.6 s (ntk_cond then
 * ~0.2 ms), grasp 2.3 s (float64). One thread per process is fastest at batch 1.
 * With config.device = FN_DEV_CUDA the networks run on the current GPU (engine/exec.h: the
 * executor downloads what a proxy reads) and everything else stays here; on an H100 snip
 * takes 28 ms, grasp 103 ms, ntk_trace 264 ms per architecture (tests/test_gpu_proxies.c).
 *
 * Use: create a context once (it caches the batches, the NB201 table and scratch buffers),
 * then one proxy_score call per architecture with the list of proxies wanted: proxies that
 * share (batch, precision, BN mode) share one network build and one executor, and passes
 * are shared where they coincide (snip and grad_norm use one backward; ntk_trace and ntk_cond
 * one Gram matrix). A context is not thread-safe: one per thread or rank.
 *
 *   fn_proxy_config c; proxy_config_default(&c); c.data_path = "../shared/data";
 *   fn_proxy_ctx *ctx; proxy_ctx_create(&c, &ctx, err, sizeof err);
 *   const char *names[] = {"synflow", "snip"}; fn_proxy_value v[2];
 *   proxy_score(ctx, "|nor_conv_3x3~0|+|...", names, 2, v, err, sizeof err);
 *   proxy_ctx_free(ctx);
 * Tests: ./build/bin/test_proxies (independent computations on tiny networks). */
#ifndef FN_PROXY_H
#define FN_PROXY_H

#include <stddef.h>
#include <stdint.h>

#include "engine/exec.h"
#include "spaces/nb201.h"
#include "search/search.h" /* fn_status */

typedef struct {
    const char *dataset;   /* "cifar10" (default), "cifar100", "imagenet16-120" */
    const char *data_path; /* image file or directory (datasets/dataset.h); data proxies only */
    const char *benchmark; /* NB201 TSV: only to resolve architectures given as an index */
    uint64_t seed;         /* weights and batch (default 0) */
    int batch;             /* 0: each proxy's default (table above); synflow always uses 1 */
    int augment;           /* -1: each proxy's default (ZC: train augmentation; naswot: none) */
    int precision;         /* 0: each proxy's default; 32 or 64 force it (grasp stays 64;
                              hnas_grasp defaults to 32, as HNAS's float32 code) */
    int channels, cells;   /* 16 and 5 (NB201) */
    double grasp_eps;      /* relative step of the frozen-pattern difference of GraSP's H g
                              (proxy_grasp_hvp, the tests' check of the exact product that
                              the score uses; 1e-7) */
    fn_device device;      /* FN_DEV_CPU (default) or FN_DEV_CUDA: networks run on the current
                              GPU (engine/exec.h); scores and linear algebra stay on the host */
} fn_proxy_config;

void proxy_config_default(fn_proxy_config *c);

/* What a proxy needs from its executor (unions are taken over a group). */
enum {
    FN_PX_PARAM_GRADS = 1,     /* d params */
    FN_PX_INPUT_GRAD = 2,      /* d input (also makes every activation gradient flow) */
    FN_PX_KEEP_CONV_IN = 4,    /* conv / linear inputs kept (per-sample gradients) */
    FN_PX_KEEP_CONV_OUT = 8,   /* conv / linear outputs kept (fisher) */
    FN_PX_MODIFIES_PARAMS = 16 /* changes the parameters: re-initialised after it */
};

typedef struct fn_proxy_job fn_proxy_job; /* proxies/proxy_impl.h */

typedef struct {
    const char *name;
    const char *summary;
    int needs_data;     /* reads the image batch */
    int needs_labels;   /* reads its labels */
    int default_batch;  /* 0: no network run (counts only); 1: one all-ones image */
    int precision;      /* default 32 or 64 (0: counts only) */
    fn_bn_mode bn_mode; /* FN_BN_TRAIN, or FN_BN_OFF = ZC's copy with BN removed except in
                           the ResNet blocks (docs/METHOD.md §3.0) */
    int augment;        /* default train augmentation of its batch */
    int sign;           /* +1: larger is better, -1: smaller is better (as computed) */
    unsigned needs;     /* FN_PX_* */
    /* Writes the score; 0, or -1 with a message (e.g. a non-finite value). */
    int (*score)(fn_proxy_job *j, double *out, char *err, size_t errlen);
    int hnas;           /* HNAS's setting (docs/METHOD.md §4.2): ZC's NAS201Model (cell convs with
                           biases, nb201_config.cell_conv_bias) and, per architecture, freshly
                           drawn weights and a fresh augmented batch, both under
                           proxy_hnas_seed(seed, arch code): any subset or order of archs gives
                           the same values */
} fn_proxy;

/* The per-architecture seed of the hnas_* proxies: a SplitMix64 mix of (seed, code), code =
 * nb201_arch_code (0..15624, the same for every table). */
uint64_t proxy_hnas_seed(uint64_t seed, int code);

const fn_proxy *proxy_find(const char *name);
int proxy_count(void);
const fn_proxy *proxy_at(int i);
/* "params, flops, synflow, ..." */
const char *proxy_names(void);

typedef struct fn_proxy_ctx fn_proxy_ctx;

/* Checks the config (dataset, values); the batch and table are loaded on first use.
 * FN_OK, or FN_ERR_CONFIG with a message (then *out is NULL). */
fn_status proxy_ctx_create(const fn_proxy_config *c, fn_proxy_ctx **out, char *err,
                           size_t errlen);
void proxy_ctx_free(fn_proxy_ctx *ctx);

typedef struct {
    double value;     /* the score; NaN when status != FN_OK. It may be the proxy's worst
                         infinity, -sign * inf (naswot's singular K: -inf), which ranks last */
    fn_status status; /* FN_OK, FN_ERR_CONFIG (unknown proxy), FN_ERR_DATA, FN_ERR_OOM, or
                         FN_ERR_NAN (non-finite score, e.g. jacob_cov's documented NaN) */
    double seconds;   /* wall time, network build and shared passes charged to the first user */
} fn_proxy_value;

/* Scores one architecture (an arch string, or an NB201 index when the config names the
 * table) with names[0..n): out[i] for names[i]. Returns FN_OK when all succeeded, else the
 * first failure's status, with its message in err; the other values are still filled. */
fn_status proxy_score(fn_proxy_ctx *ctx, const char *arch, const char *const *names, int n,
                      fn_proxy_value *out, char *err, size_t errlen);
fn_status proxy_score_ops(fn_proxy_ctx *ctx, const int ops[NB201_EDGES],
                          const char *const *names, int n, fn_proxy_value *out, char *err,
                          size_t errlen);

/* HNAS's M and kappa of any network graph g with one input and logits as output (the DARTS
 * evaluation nets of HNAS on DARTS, hnas/darts_pool.h): weights exec_init_params(seed), BN
 * mode bn (HNAS: FN_BN_TRAIN), precision dt, the batch x [n, c, h, w] (n = g's batch, float32
 * normalised images) with labels y: one Gram matrix Theta = G G^T of the per-sample gradients
 * of every conv and linear weight and bias (proxy_ntk_gram, as ntk_trace / ntk_cond),
 * M = sqrt(tr Theta / n), kappa = lambda_max / lambda_min (NaN -> 1e5, +-inf -> +-DBL_MAX).
 * theta (n * n doubles) receives Theta when not NULL. FN_OK; FN_ERR_OOM or FN_ERR_NAN (M not
 * finite) with a message. */
fn_status proxy_ntk_graph(const fn_graph *g, fn_dtype dt, fn_bn_mode bn, uint64_t seed,
                          const float *x, const int *y, double *M, double *kappa, double *theta,
                          char *err, size_t errlen);

/* One proxy, one architecture, a context of its own (convenient, slower in loops). */
fn_status fn_proxy_score(const char *proxy, const char *arch, const fn_proxy_config *c,
                         double *out, char *err, size_t errlen);

#endif
