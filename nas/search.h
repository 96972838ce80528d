/* nas/search.h: one FreeDARTS search, end to end: build the supernet, initialise weights and
 * alpha from the seed, prepare the input (all ones, or a labelled batch), score operations
 * with a metric, check the scores, prune to an architecture.
 *
 * Failures of one search (bad data file, unknown metric, NaN score) are returned as a status
 * with a message, never exit(): a sweep records them and goes on (STYLE.md item 8). */
#ifndef FN_SEARCH_H
#define FN_SEARCH_H

#include <stddef.h>
#include <stdint.h>

#include "nas/metric.h"
#include "nn/common.h"

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
    const char *space;       /* "nb201" */
    const char *metric;      /* "synflow", "snip", "grasp" */
    const char *dataset;     /* "cifar10", "cifar100", "imagenet16-120" */
    const char *data_path;   /* file or directory (label metrics only) */
    uint64_t seed;
    double alpha_scale;      /* alpha = scale * N(0,1); default 1e-3 */
    int batch;               /* 0: the metric's default (synflow 1, snip/grasp 64) */
    int augment;             /* train augmentation of the labelled batch (default 1) */
    int nb201_C, nb201_N;    /* supernet width and cells per stage (16, 5) */
    fn_metric_opts mopts;
} fn_search_config;

void search_config_default(fn_search_config *c);

typedef struct {
    fn_status status;
    char msg[FN_ERRLEN];
    int ops[8];
    char arch[256];
    int arch_code;             /* NB201: sum ops[e] 5^e */
    double S[FN_MAX_ALPHA];    /* score matrix, alpha layout */
    int s_rows, s_cols;
    double value;              /* R (synflow) or L (snip, grasp) */
    size_t params;             /* supernet parameters (alpha excluded) */
    double macs;               /* multiply-adds of one forward at the search batch */
    size_t bytes;              /* executor memory */
    int batch, in_h, in_w, classes;
    double t_build, t_init, t_data, t_score, t_prune, t_total; /* seconds */
} fn_search_result;

/* Returns res->status. */
fn_status search_run(const fn_search_config *cfg, fn_search_result *res);

#endif
