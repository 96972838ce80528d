/* nas/search.c: one FreeDARTS search end to end (see nas/search.h). */
#include "nas/search.h"

#include <math.h>
#include <string.h>

#include "datasets/dataset.h"
#include "nas/graph.h"
#include "nas/nb201.h"

const char *fn_status_name(fn_status s) {
    switch (s) {
    case FN_OK: return "ok";
    case FN_ERR_CONFIG: return "config_error";
    case FN_ERR_DATA: return "data_error";
    case FN_ERR_NAN: return "nan_score";
    case FN_ERR_OOM: return "out_of_memory";
    case FN_ERR_DEVICE: return "device_error";
    }
    return "unknown";
}

void search_config_default(fn_search_config *c) {
    memset(c, 0, sizeof(*c));
    c->space = "nb201";
    c->metric = "synflow";
    c->dataset = "cifar10";
    c->alpha_scale = 1e-3;
    c->augment = 1;
    c->nb201_C = 16;
    c->nb201_N = 5;
    metric_opts_default(&c->mopts);
}

static fn_status fail(fn_search_result *r, fn_status s, const char *msg) {
    r->status = s;
    snprintf(r->msg, sizeof r->msg, "%s", msg);
    return s;
}

fn_status search_run(const fn_search_config *cfg, fn_search_result *res) {
    memset(res, 0, sizeof(*res));
    char err[FN_ERRLEN] = "";
    const double t0 = fn_now();
    if (strcmp(cfg->space, "nb201") != 0) {
        snprintf(err, sizeof err, "unknown search space '%s' (known: nb201)", cfg->space);
        return fail(res, FN_ERR_CONFIG, err);
    }
    const fn_metric *m = metric_find(cfg->metric);
    if (!m) {
        snprintf(err, sizeof err, "unknown metric '%s' (known: %s)", cfg->metric, metric_names());
        return fail(res, FN_ERR_CONFIG, err);
    }
    const fn_dataset_info *ds = dataset_info(cfg->dataset);
    if (!ds || ds->h > 32) {
        snprintf(err, sizeof err, "dataset '%s' is not searchable in nb201 (known: cifar10, "
                 "cifar100, imagenet16-120)", cfg->dataset);
        return fail(res, FN_ERR_CONFIG, err);
    }
    if (!(cfg->alpha_scale > 0) || !isfinite(cfg->alpha_scale))
        return fail(res, FN_ERR_CONFIG, "alpha scale must be a positive finite number");
    const int batch = cfg->batch > 0 ? cfg->batch : m->default_batch;

    /* 1. labelled batch first: a bad data file costs no supernet build */
    fn_batch b = {0};
    double t = fn_now();
    if (m->needs_labels) {
        if (!cfg->data_path)
            return fail(res, FN_ERR_DATA, "this metric needs labelled data: give --data");
        if (dataset_load_batch(cfg->dataset, cfg->data_path, batch, cfg->seed, cfg->augment, &b,
                               err, sizeof err))
            return fail(res, FN_ERR_DATA, err);
    }
    res->t_data = fn_now() - t;

    /* 2. build */
    t = fn_now();
    fn_graph g;
    graph_init(&g);
    nb201_config nc = {cfg->nb201_C, cfg->nb201_N, ds->classes, ds->h, ds->w, batch};
    nb201_build(&g, &nc);
    fn_metric_opts mo = cfg->mopts;
    fn_exec e;
    if (exec_init(&e, &g, metric_dtype(m, &mo), 0)) {
        graph_free(&g);
        batch_free(&b);
        return fail(res, FN_ERR_OOM, "out of memory allocating the supernet's activations");
    }
    e.bn_mode = metric_bn_mode(m, &mo);
    res->t_build = fn_now() - t;
    res->params = graph_num_params(&g);
    res->macs = graph_macs(&g);
    res->bytes = e.bytes;
    res->batch = batch;
    res->in_h = ds->h;
    res->in_w = ds->w;
    res->classes = ds->classes;

    /* 3. init: weights and alpha from the seed; input */
    t = fn_now();
    exec_init_params(&e, cfg->seed);
    exec_init_alpha(&e, cfg->seed, cfg->alpha_scale);
    void *x = exec_tensor(&e, g.input);
    const size_t nx = graph_tensor_numel(&g, g.input);
    for (size_t i = 0; i < nx; i++) exec_set(x, e.dtype, i, m->needs_labels ? b.x[i] : 1.0);
    res->t_init = fn_now() - t;

    /* 4. score */
    t = fn_now();
    res->s_rows = g.ag[0].rows;
    res->s_cols = g.ag[0].cols;
    FN_ASSERT(g.alpha_numel <= FN_MAX_ALPHA);
    int rc = m->score(&e, b.y, &mo, res->S, &res->value, err, sizeof err);
    res->t_score = fn_now() - t;
    exec_free(&e);
    graph_free(&g);
    batch_free(&b);
    if (rc) return fail(res, FN_ERR_NAN, err);

    /* 5. prune */
    t = fn_now();
    int be, bo;
    if (nb201_prune(res->S, res->ops, &be, &bo)) {
        snprintf(err, sizeof err, "%s score S[edge %d, %s] = %g is not finite: refusing to "
                 "prune (a NaN is never read as `none`)", cfg->metric, be, nb201_op_names[bo],
                 res->S[be * NB201_OPS + bo]);
        return fail(res, FN_ERR_NAN, err);
    }
    nb201_arch_string(res->ops, res->arch, sizeof res->arch);
    res->arch_code = nb201_arch_code(res->ops);
    res->t_prune = fn_now() - t;
    res->t_total = fn_now() - t0;
    res->status = FN_OK;
    return FN_OK;
}
