/* search/search.c: one FreeDARTS search end to end (see search/search.h). */
#include "search/search.h"

#include <math.h>
#include <string.h>

#include "datasets/dataset.h"
#include "engine/exec.h"
#include "search/search_impl.h"
#include "search/space.h"

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
    c->augment = 1;
    c->ss = 1;
    metric_opts_default(&c->mopts);
}

fn_status search_fail(fn_search_result *r, fn_status s, const char *msg) {
    r->status = s;
    snprintf(r->msg, sizeof r->msg, "%s", msg);
    return s;
}

/* The space, metric and dataset of cfg_in, and cfg_in with the space's defaults filled in.
 * 0, or -1 with a message (an unknown name, a value the space refuses). */
static int resolve(const fn_search_config *cfg_in, fn_search_config *cfg, const fn_space **sp,
                   const fn_metric **m, const fn_dataset_info **ds, char *err, size_t errlen) {
    if (!(*sp = space_find(cfg_in->space))) {
        snprintf(err, errlen, "unknown search space '%s' (known: %s)", cfg_in->space, space_names());
        return -1;
    }
    if (!(*m = metric_find(cfg_in->metric))) {
        snprintf(err, errlen, "unknown metric '%s' (known: %s)", cfg_in->metric, metric_names());
        return -1;
    }
    if (!(*ds = dataset_info(cfg_in->dataset))) {
        snprintf(err, errlen, "unknown dataset '%s' (known: %s)", cfg_in->dataset, dataset_names());
        return -1;
    }
    *cfg = *cfg_in;
    return (*sp)->resolve(cfg, *ds, err, errlen);
}

/* keep[] of the executor of a search on g (NULL: none): SynFlow keeps the head's input for
 * the degeneracy test (metric_head_flow). free() it. */
unsigned char *search_exec_keep(const fn_graph *g, const fn_metric *m) {
    const int head_in = m->score == metric_synflow ? metric_head_input(g) : -1;
    if (head_in < 0) return NULL;
    unsigned char *keep = callocCheck((size_t)g->nt, 1);
    keep[head_in] = 1;
    return keep;
}

size_t search_bytes(const fn_search_config *cfg_in, char *err, size_t errlen) {
    fn_search_config cfg;
    const fn_space *sp;
    const fn_metric *m;
    const fn_dataset_info *ds;
    if (resolve(cfg_in, &cfg, &sp, &m, &ds, err, errlen)) return 0;
    fn_graph g;
    graph_init(&g);
    if (sp->build(&g, &cfg, ds, cfg.batch > 0 ? cfg.batch : m->default_batch, err, errlen)) {
        graph_free(&g);
        return 0;
    }
    /* planned and mapped on the host, never touched: no page is paid for */
    unsigned char *keep = search_exec_keep(&g, m);
    fn_exec e;
    fn_exec_opts eo = {0, 0, keep, NULL, FN_DEV_CPU, 0, 0};
    const int rc = exec_init_opts(&e, &g, metric_dtype(m, &cfg.mopts), &eo);
    size_t bytes = e.bytes;
    if (rc == 0) exec_free(&e);
    free(keep);
    graph_free(&g);
    if (!bytes) {
        snprintf(err, errlen, "%s", exec_error());
        return 0;
    }
    /* GraSP's Hessian-vector product doubles the activation and gradient arenas */
    return m->score == metric_grasp ? 2 * bytes : bytes;
}

fn_status search_prepare(const fn_search_config *cfg_in, search_prep *p, fn_search_result *res) {
    memset(p, 0, sizeof(*p));
    char err[FN_ERRLEN] = "";
    if (resolve(cfg_in, &p->cfg, &p->sp, &p->m, &p->ds, err, sizeof err))
        return search_fail(res, FN_ERR_CONFIG, err);
    const fn_search_config *cfg = &p->cfg;
    if (!(cfg->alpha_scale > 0) || !isfinite(cfg->alpha_scale))
        return search_fail(res, FN_ERR_CONFIG, "alpha scale must be a positive finite number");
    fn_metric_opts *mo = &p->mo;
    *mo = cfg->mopts;
    if (mo->synflow_zc < 0) mo->synflow_zc = p->sp->synflow_zc_default;
    /* FD's literal form takes |alpha| only where alpha is a module parameter (NB201); with BN
     * removed SynFlow's premise holds only on a positive network, R = 1'(prod |theta|)1, so
     * alpha is taken |alpha| too: signed alpha makes about 3 of 4 node outputs of a DARTS
     * cell negative and the next ReLU drops them (docs/FIDELITY.md) */
    mo->synflow_abs_alpha = mo->synflow_zc > 0 ? !mo->synflow_signed_alpha : p->sp->synflow_abs_alpha;
    res->synflow_zc = mo->synflow_zc;
    res->synflow_abs_alpha = mo->synflow_abs_alpha;
    if (mo->abs_params < 0) mo->abs_params = p->sp->abs_params_default;
    p->batch = cfg->batch > 0 ? cfg->batch : p->m->default_batch;
    res->alpha_scale = cfg->alpha_scale;

    /* labelled batch first: a bad data file costs no supernet build */
    const double t = fn_now();
    if (p->m->needs_labels) {
        if (!cfg->data_path)
            return search_fail(res, FN_ERR_DATA, "this metric needs labelled data: give --data");
        if (dataset_load_batch(cfg->dataset, cfg->data_path, p->batch, cfg->seed, cfg->augment,
                               &p->b, err, sizeof err))
            return search_fail(res, FN_ERR_DATA, err);
    }
    res->t_data = fn_now() - t;
    return FN_OK;
}

void search_prep_free(search_prep *p) { batch_free(&p->b); }

void search_result_shape(const fn_graph *g, const search_prep *p, const fn_exec *e,
                         fn_search_result *res) {
    const int K = g->models;
    res->params = graph_num_params(g) / (size_t)K;
    res->macs = graph_macs(g) / K;
    res->bytes = e->bytes / (size_t)K;
    res->batch = p->batch;
    res->in_h = p->ds->h;
    res->in_w = p->ds->w;
    res->classes = p->ds->classes;
    const size_t na = K > 1 ? g->model_alpha : g->alpha_numel;
    res->s_cols = g->ag[0].cols;
    for (int k = 1; k < g->nag; k++)
        if (g->ag[k].cols != res->s_cols) res->s_cols = (int)na;
    res->s_rows = (int)na / res->s_cols;
}

int search_synflow_rescale(fn_exec *e, const search_prep *p, size_t base) {
    /* SynFlow path form: multiply the space's cut group by 2^k, k bringing its largest |alpha|
     * into [1, 2). Every path crosses the group once per cell, so the flow stays near its
     * size in the first cell instead of shrinking with alpha^cells (nb1shot1: 1e-18 to 6e-30
     * after 9 cells; float32 underflows near 13), and every score is multiplied by exactly
     * 2^(k * cells) (s_log2_scale): a power of two, so without underflow the scores are the
     * unscaled ones times that factor bit for bit and the architecture is the same
     * (tests/test_search.c checks both). */
    const fn_graph *g = e->g;
    const fn_metric_opts *mo = &p->mo;
    const fn_space *sp = p->sp;
    if (!(p->m->score == metric_synflow && mo->synflow_zc > 0 && mo->synflow_abs_alpha > 0 &&
          !mo->synflow_no_rescale && sp->synflow_cut_group >= 0 &&
          sp->synflow_cut_group < g->nag && sp->synflow_cells))
        return 0;
    const fn_alpha_group *ag = &g->ag[sp->synflow_cut_group];
    const size_t n = (size_t)ag->rows * ag->cols, off = base + ag->off;
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(exec_get(e->alpha, e->dtype, off + i)));
    if (!(m > 0 && isfinite(m))) return 0;
    const int k = -ilogb(m);
    for (size_t i = 0; i < n; i++)
        exec_set(e->alpha, e->dtype, off + i, ldexp(exec_get(e->alpha, e->dtype, off + i), k));
    return k * sp->synflow_cells(&p->cfg);
}

void search_degeneracy(const search_prep *p, double amax, double flow, fn_search_result *res) {
    const size_t na = (size_t)res->s_rows * res->s_cols;
    res->s_max = 0;
    for (size_t i = 0; i < na; i++) res->s_max = fmax(res->s_max, fabs(res->S[i]));
    /* A score vector at rounding level carries no signal. DARTS SynFlow in FD's form is the
     * case seen: every path into the head ends in an affine-free BN over one image, so every
     * channel entering global average pooling has zero mean, R = sum |classifier bias| and
     * d R / d alpha is exactly zero (max |S| 6e-18 in float64, 1e-9 in float32). SynFlow's
     * scale is the flow into the head without cancellation (metric_head_flow), not R: R
     * also holds the classifier bias, which no alpha reaches and which outweighs a real but
     * small flow (NB-1shot1: the flow shrinks about 1e3-fold per cell, 1e-20 after 9 cells).
     * The flow keeps the magnitude of the features that FD's BN makes zero-mean, so FD's
     * rounding noise stays flagged. SNIP and GraSP compare with |L|. */
    res->flow = p->m->score == metric_synflow ? flow : NAN;
    const double scale = isfinite(res->flow) ? res->flow : fabs(res->value);
    res->degenerate = isfinite(res->s_max) && !(res->s_max > 1e-4 * scale * amax); /* all 0 too */
}

fn_status search_decode(const search_prep *p, fn_search_result *res) {
    const double t = fn_now();
    char err[FN_ERRLEN] = "";
    if (p->sp->decode(&p->cfg, res, err, sizeof err)) return search_fail(res, FN_ERR_NAN, err);
    res->t_prune = fn_now() - t;
    res->status = FN_OK;
    return FN_OK;
}

fn_status search_run(const fn_search_config *cfg_in, fn_search_result *res) {
    memset(res, 0, sizeof(*res));
    char err[FN_ERRLEN] = "";
    const double t0 = fn_now();
    search_prep p;
    if (search_prepare(cfg_in, &p, res)) return res->status;
    const fn_search_config *cfg = &p.cfg;
    const fn_metric *m = p.m;

    /* build */
    double t = fn_now();
    fn_graph g;
    graph_init(&g);
    if (p.sp->build(&g, cfg, p.ds, p.batch, err, sizeof err)) {
        graph_free(&g);
        search_prep_free(&p);
        return search_fail(res, FN_ERR_CONFIG, err);
    }
    if (g.alpha_numel > FN_MAX_ALPHA) {
        graph_free(&g);
        search_prep_free(&p);
        return search_fail(res, FN_ERR_CONFIG, "too many architecture parameters for one result");
    }
    fn_exec e;
    unsigned char *keep = search_exec_keep(&g, m);
    fn_exec_opts eo = {0, 0, keep, cfg->pool, cfg->device, 0, p.mo.precision == FN_PRECISION_TF32};
    const int erc = exec_init_opts(&e, &g, metric_dtype(m, &p.mo), &eo);
    if (erc) {
        free(keep);
        graph_free(&g);
        search_prep_free(&p);
        return search_fail(res, erc == FN_EXEC_OOM ? FN_ERR_OOM : FN_ERR_DEVICE, exec_error());
    }
    e.bn_mode = metric_bn_mode(m, &p.mo);
    res->t_build = fn_now() - t;
    search_result_shape(&g, &p, &e, res);

    /* init: weights and alpha from the seed; input */
    t = fn_now();
    exec_init_params(&e, cfg->seed);
    exec_init_alpha(&e, cfg->seed, cfg->alpha_scale);
    void *x = exec_tensor(&e, g.input);
    const size_t nx = graph_tensor_numel(&g, g.input);
    for (size_t i = 0; i < nx; i++) exec_set(x, e.dtype, i, m->needs_labels ? p.b.x[i] : 1.0);
    res->t_init = fn_now() - t;

    /* score */
    t = fn_now();
    double amax = 0;
    for (size_t i = 0; i < g.alpha_numel; i++) amax = fmax(amax, fabs(exec_get(e.alpha, e.dtype, i)));
    res->s_log2_scale = search_synflow_rescale(&e, &p, 0);
    int rc = m->score(&e, p.b.y, &p.mo, res->S, &res->value, err, sizeof err);
    res->t_score = fn_now() - t;
    search_degeneracy(&p, amax, m->score == metric_synflow ? metric_head_flow(&e) : NAN, res);
    exec_free(&e);
    free(keep);
    graph_free(&g);
    search_prep_free(&p);
    if (rc) return search_fail(res, FN_ERR_NAN, err);

    /* prune */
    if (search_decode(&p, res)) return res->status;
    res->t_total = fn_now() - t0;
    return FN_OK;
}
