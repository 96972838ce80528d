/* search/search_stacked.c: K FreeDARTS searches of one supernet shape in one executor pass
 * (search/search.h, search_run_stacked): the supernet is built once, stacked K times
 * (engine/graph_stack.h), each model's weights and alpha drawn from its own seed into its
 * block, its input (all ones, or its own labelled batch) into its channels; one metric pass
 * scores all K, and each model's scores are then checked and pruned as search_run does. */
#include <math.h>
#include <string.h>

#include "engine/graph_stack.h"
#include "search/search_impl.h"

/* p may stack with q: one supernet shape and pass (search_bundle_compatible) and the same
 * metric options once resolved */
static int stackable(const search_prep *p, const search_prep *q) {
    const fn_search_config *a = &p->cfg, *b = &q->cfg;
    return p->sp == q->sp && p->m == q->m && p->ds == q->ds && p->batch == q->batch &&
           a->channels == b->channels && a->cells == b->cells && a->ss == b->ss &&
           a->device == b->device && memcmp(&p->mo, &q->mo, sizeof p->mo) == 0;
}

void search_run_stacked(const fn_search_config *cfg, int k, fn_search_result *res) {
    const double t0 = fn_now();
    search_prep *p = callocCheck((size_t)k, sizeof(search_prep));
    int *idx = mallocCheck(sizeof(int) * (size_t)k), K = 0; /* the models stacked */
    for (int i = 0; i < k; i++) {
        memset(&res[i], 0, sizeof res[i]);
        if (search_prepare(&cfg[i], &p[i], &res[i])) continue;
        if (K && !stackable(&p[idx[0]], &p[i])) {
            search_fail(&res[i], FN_ERR_CONFIG, "not stackable with the first search of its stack "
                     "(another supernet shape, pass or metric option)");
            continue;
        }
        if (p[i].m->score == metric_grasp && p[i].mo.grasp_fd_eps > 0) {
            search_fail(&res[i], FN_ERR_CONFIG, "GraSP's finite-difference form (--grasp-fd) takes "
                     "norms over all alpha: it is not stacked; run it alone");
            continue;
        }
        idx[K++] = i;
    }
    char err[FN_ERRLEN] = "";
    fn_graph g1, g;
    graph_init(&g1);
    graph_init(&g);
    fn_exec e;
    memset(&e, 0, sizeof e);
    unsigned char *keep = NULL;
    double *S = NULL, *value = NULL, *amax = NULL;
    int *labels = NULL, *log2s = NULL;
    fn_status st = FN_OK;
    if (!K) goto done;
    const search_prep *p0 = &p[idx[0]];
    const fn_metric *m = p0->m;

    /* build once, stack K times */
    double t = fn_now();
    if (p0->sp->build(&g1, &p0->cfg, p0->ds, p0->batch, err, sizeof err)) {
        st = FN_ERR_CONFIG;
        goto done;
    }
    if (g1.alpha_numel > FN_MAX_ALPHA) {
        snprintf(err, sizeof err, "too many architecture parameters for one result");
        st = FN_ERR_CONFIG;
        goto done;
    }
    if (graph_stack(&g1, K, &g, err, sizeof err)) {
        st = FN_ERR_CONFIG;
        goto done;
    }
    keep = search_exec_keep(&g, m);
    fn_exec_opts eo = {0, 0, keep, p0->cfg.pool, p0->cfg.device, 0,
                       p0->mo.precision == FN_PRECISION_TF32};
    const int erc = exec_init_opts(&e, &g, metric_dtype(m, &p0->mo), &eo);
    if (erc) {
        snprintf(err, sizeof err, "%s", exec_error());
        st = erc == FN_EXEC_OOM ? FN_ERR_OOM : FN_ERR_DEVICE;
        goto done;
    }
    e.bn_mode = metric_bn_mode(m, &p0->mo);
    const double t_build = fn_now() - t;

    /* init: model j's weights, alpha and input from its own seed and batch */
    t = fn_now();
    uint64_t *seeds = mallocCheck(sizeof(uint64_t) * (size_t)K);
    double *scales = mallocCheck(sizeof(double) * (size_t)K);
    for (int j = 0; j < K; j++) seeds[j] = p[idx[j]].cfg.seed, scales[j] = p[idx[j]].cfg.alpha_scale;
    exec_init_params_models(&e, seeds);
    exec_init_alpha_models(&e, seeds, scales);
    free(seeds);
    free(scales);
    void *x = exec_tensor(&e, g.input);
    const int n = g.t[g.input].n;
    const size_t chw = graph_model_block(&g, g.input); /* one image of one model */
    for (int s = 0; s < n; s++)
        for (int j = 0; j < K; j++) {
            const float *src = m->needs_labels ? p[idx[j]].b.x + (size_t)s * chw : NULL;
            const size_t at = ((size_t)s * K + j) * chw;
            for (size_t i = 0; i < chw; i++) exec_set(x, e.dtype, at + i, src ? src[i] : 1.0);
        }
    if (m->needs_labels) {
        labels = mallocCheck(sizeof(int) * (size_t)K * n);
        for (int j = 0; j < K; j++) memcpy(labels + (size_t)j * n, p[idx[j]].b.y, sizeof(int) * n);
    }
    const double t_init = fn_now() - t;

    /* score: one pass for the K models */
    t = fn_now();
    const size_t na = g.model_alpha;
    amax = callocCheck((size_t)K, sizeof(double));
    log2s = callocCheck((size_t)K, sizeof(int));
    for (int j = 0; j < K; j++) {
        for (size_t i = 0; i < na; i++)
            amax[j] = fmax(amax[j], fabs(exec_get(e.alpha, e.dtype, j * na + i)));
        log2s[j] = search_synflow_rescale(&e, &p[idx[j]], j * na);
    }
    S = mallocCheck(sizeof(double) * g.alpha_numel);
    value = mallocCheck(sizeof(double) * (size_t)K);
    const int rc = m->score(&e, labels, &p0->mo, S, value, err, sizeof err);
    const double t_score = fn_now() - t;
    if (rc) {
        st = FN_ERR_NAN;
        goto done;
    }
    for (int j = 0; j < K; j++) { /* each model as search_run ends */
        fn_search_result *r = &res[idx[j]];
        search_result_shape(&g, &p[idx[j]], &e, r);
        r->t_build = t_build / K, r->t_init = t_init / K, r->t_score = t_score / K;
        memcpy(r->S, S + j * na, sizeof(double) * na);
        r->value = value[j];
        r->s_log2_scale = log2s[j];
        const int synflow = m->score == metric_synflow;
        search_degeneracy(&p[idx[j]], amax[j], synflow ? metric_head_flow_model(&e, j) : NAN, r);
        if (!isfinite(r->value)) {
            snprintf(err, sizeof err, "%s: %s = %g is not finite%s", m->name,
                     synflow ? "R" : "loss", r->value,
                     synflow ? " (overflow; try a smaller --alpha-scale)" : "");
            search_fail(r, FN_ERR_NAN, err);
            continue;
        }
        if (search_decode(&p[idx[j]], r)) continue;
        r->t_total = fn_now() - t0; /* the stack's wall time: its searches end together */
    }
done:
    if (st != FN_OK)
        for (int j = 0; j < K; j++) search_fail(&res[idx[j]], st, err);
    if (e.g) exec_free(&e);
    free(keep);
    graph_free(&g);
    graph_free(&g1);
    for (int i = 0; i < k; i++) search_prep_free(&p[i]);
    free(p);
    free(idx);
    free(S);
    free(value);
    free(amax);
    free(labels);
    free(log2s);
}
