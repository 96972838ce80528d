/* search/search.h: one FreeDARTS search, end to end: build the supernet, initialise weights and
 * alpha from the seed, prepare the input (all ones, or a labelled batch), score operations
 * with a metric, check the scores, prune to an architecture.
 *
 * Failures of one search (bad data file, unknown metric, NaN score) are returned as a status
 * with a message, never exit(): a sweep records them and goes on. */
#ifndef FN_SEARCH_H
#define FN_SEARCH_H

#include <stddef.h>
#include <stdint.h>

#include "spaces/darts.h"
#include "engine/exec.h"
#include "metrics/metric.h"
#include "base/common.h"

typedef enum {
    FN_OK = 0,
    FN_ERR_CONFIG,  /* unknown space / metric / dataset, impossible value */
    FN_ERR_DATA,    /* missing, truncated or mis-sized data file */
    FN_ERR_NAN,     /* non-finite score */
    FN_ERR_OOM,     /* out of memory */
    FN_ERR_DEVICE,  /* accelerator error */
} fn_status;

const char *fn_status_name(fn_status s);

#define FN_MAX_ALPHA 256

typedef struct {
    const char *space;       /* "nb201", "darts", "nb1shot1" (search/space.h) */
    const char *metric;      /* "synflow", "snip", "grasp" */
    const char *dataset;     /* "cifar10", "cifar100", "imagenet16-120", "imagenet224" */
    const char *data_path;   /* file or directory (label metrics only) */
    uint64_t seed;
    double alpha_scale;      /* alpha = scale * N(0,1); 0: space default (1e-3; DARTS at 224:
                                5e-4) */
    int batch;               /* 0: the metric's default (synflow 1, snip/grasp 64) */
    int augment;             /* train augmentation of the labelled batch (default 1) */
    int channels;            /* first cell width; 0: space default (16; DARTS at 224: 48) */
    int cells;               /* 0: space default (NB201: 5 per stage; DARTS: 8, at 224: 14) */
    int ss;                  /* NAS-Bench-1shot1 search space 1, 2 or 3 */
    fn_device device;        /* FN_DEV_CPU, or FN_DEV_CUDA: the supernet runs on the current
                                GPU (the CUDA backend, engine/backend.h); weights are drawn on the host from the
                                seed and copied, so both start from the same supernet */
    fn_metric_opts mopts;
    fn_arena_pool *pool;     /* NULL, or host arenas to borrow for the executor (kept from one
                                search to the next by search/bundle.h); never changes a result */
} fn_search_config;

void search_config_default(fn_search_config *c);

typedef struct {
    fn_status status;
    char msg[FN_ERRLEN];
    char arch[1024];           /* NB201 arch string, DARTS Genotype(...), N1 spec */
    char arch_json[2048];      /* the same architecture as a JSON value */
    /* NB201 */
    int ops[8];
    int arch_code;             /* sum ops[e] 5^e; -1 in other spaces */
    /* DARTS: genotype and its evaluation networks (auxiliary head excluded):
     * [0] CIFAR-10 C=36, 20 cells, 32x32; [1] ImageNet C=48, 14 cells, 224x224 */
    darts_genotype genotype;
    size_t eval_params[2];
    double eval_macs[2];
    double S[FN_MAX_ALPHA];    /* score matrix, alpha layout (all groups) */
    int s_rows, s_cols;        /* all groups stacked: rows of the same width (or 1 x numel) */
    double value;              /* R (synflow) or L (snip, grasp) */
    /* 1 when every |S| < 1e-4 scale max|alpha| (scale: flow for SynFlow, |value| else):
     * d value / d alpha is numerically zero and the architecture is decided by rounding
     * noise (FD's DARTS SynFlow: see README) */
    int degenerate;
    double s_max;              /* max |S| */
    double flow;               /* SynFlow: R without the classifier bias and without
                                  cancellation (metric_head_flow), the scale of the degeneracy
                                  test; NAN for the other metrics (they compare with |L|) */
    int synflow_zc;            /* SynFlow form used: 0 FD's literal (BN train), 1 BN removed */
    int synflow_abs_alpha;     /* SynFlow: alpha taken |alpha| before scoring */
    int s_log2_scale;          /* S, value and flow are of the network rescaled by 2^this (SynFlow
                                  path form on nb1shot1, exact; search/space.h); 0 otherwise */
    double alpha_scale;        /* the scale used */
    size_t params;             /* supernet parameters (alpha excluded) */
    double macs;               /* multiply-adds of one forward at the search batch */
    size_t bytes;              /* executor memory */
    int batch, in_h, in_w, classes;
    double t_build, t_init, t_data, t_score, t_prune, t_total; /* seconds */
} fn_search_result;

/* Returns res->status. */
fn_status search_run(const fn_search_config *cfg, fn_search_result *res);

/* K searches of one supernet shape in one executor pass (engine/graph_stack.h): res[i] is
 * cfg[i]'s result, as search_run gives it (the same architecture; SynFlow scores bit for bit,
 * the label metrics within float rounding: tests/test_stacked.c). The searches must stack:
 * the same space, metric, dataset, batch, width, cells, NB-1shot1 space, precision, device and
 * metric options (seeds, alpha scales, augmentation and data files may differ); one that does
 * not gets a config error, as does GraSP's finite-difference form. A failed search (bad data,
 * non-finite score) fails alone; a failure of the shared pass (out of memory, a device error)
 * fails every search of the stack. On CUDA a stacked conv is one grouped cuDNN call and the
 * head one batched GEMM for the K models (tests/test_gpu_stacked.c). Times: t_build,
 * t_init and t_score are the stack's divided by the searches stacked. */
void search_run_stacked(const fn_search_config *cfg, int k, fn_search_result *res);

/* Executor bytes of one search of cfg (its graph planned and mapped, nothing touched): what
 * search_run's executor reports as res->bytes, doubled for GraSP (its tangent arenas); 0
 * with search_run's message when the config is invalid. Sizes bundles (search/bundle.h). */
size_t search_bytes(const fn_search_config *cfg, char *err, size_t errlen);

#endif
