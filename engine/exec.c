/* engine/exec.c: the executor (see engine/exec.h): gradient needs, memory plan, host
 * parameter and alpha arenas, initialisation and element access; everything that depends on
 * where the executor runs goes through its backend table (engine/backend.h). The backend
 * registry is engine/backend.c, the built-in CPU backend engine/exec_cpu.c. */
#include "engine/exec.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>

#include "base/common.h"
#include "engine/backend.h"
#include "nn/rng.h"

static size_t esize(fn_dtype dt) { return dt == FN_F64 ? sizeof(double) : sizeof(float); }

void arena_pool_free(fn_arena_pool *p) {
    fn_arena_free(p->act, p->act_bytes);
    fn_arena_free(p->grad, p->grad_bytes);
    fn_arena_free(p->tact, p->tact_bytes);
    fn_arena_free(p->tgrad, p->tgrad_bytes);
    fn_arena_free(p->params, p->params_bytes);
    memset(p, 0, sizeof(*p));
}

/* the pool's parameter arena with at least `bytes` (grown when too small) */
static void *pool_params(fn_arena_pool *p, size_t bytes) {
    if (p->params_bytes < bytes || !p->params) {
        fn_arena_free(p->params, p->params_bytes);
        p->params = fn_arena_alloc(bytes);
        p->params_bytes = p->params ? bytes : 0;
    }
    return p->params;
}

int exec_init(fn_exec *e, const fn_graph *g, fn_dtype dtype, int param_grads) {
    fn_exec_opts o = {param_grads, 0, NULL, NULL, FN_DEV_CPU, 0, 0};
    return exec_init_opts(e, g, dtype, &o);
}

static _Thread_local char exec_err[FN_ERRLEN];
const char *exec_error(void) { return exec_err; }
void exec_error_set(const char *msg) { snprintf(exec_err, sizeof exec_err, "%s", msg); }

void exec_params_changed(fn_exec *e) { e->params_version++; }

int exec_init_opts(fn_exec *e, const fn_graph *g, fn_dtype dtype, const fn_exec_opts *o) {
    const int param_grads = o->param_grads;
    memset(e, 0, sizeof(*e));
    exec_err[0] = '\0';
    if (g->models > 1 && param_grads) { /* conv_models_backward writes no d W */
        snprintf(exec_err, sizeof exec_err, "a stacked graph (%d models) runs without parameter "
                 "gradients", g->models);
        return FN_EXEC_DEVICE;
    }
    const fn_backend *be = backend_get(o->device, exec_err, sizeof exec_err);
    if (!be) return FN_EXEC_DEVICE;
    e->be = be;
    e->device = o->device;
    e->eager = o->eager;
    e->tf32 = o->tf32 && dtype == FN_F32;
    e->g = g;
    e->dtype = dtype;
    e->param_grads = param_grads;
    e->bn_mode = FN_BN_TRAIN;
    e->needs_grad = callocCheck((size_t)g->nt, 1);
    if (o->input_grad) e->needs_grad[g->input] = 1;
    /* A tensor needs a gradient when it depends on alpha, on the input when its gradient is
     * wanted, or on a parameter whose gradient is wanted. Nodes are in topological order, so
     * one pass suffices. */
    for (int i = 0; i < g->nn; i++) {
        const fn_node *nd = &g->nodes[i];
        int need = param_grads && (nd->w >= 0 || nd->b >= 0);
        for (int j = 0; j < nd->nin; j++) need |= e->needs_grad[nd->in[j]] || nd->aidx[j] >= 0;
        e->needs_grad[nd->out] = (unsigned char)need;
    }
    /* ... and reaches the output: a tensor nothing consumes (an NB201 node left only through
     * `none` edges, nasbench/nb201_net.c) and everything feeding only it get no gradient, as
     * PyTorch's zero gradient through x.mul(0); their parameters keep d params = 0 */
    unsigned char *live = callocCheck((size_t)g->nt, 1);
    live[g->output] = 1;
    for (int i = g->nn - 1; i >= 0; i--) {
        const fn_node *nd = &g->nodes[i];
        if (live[nd->out])
            for (int j = 0; j < nd->nin; j++) live[nd->in[j]] = 1;
    }
    for (int t = 0; t < g->nt; t++) e->needs_grad[t] &= live[t];
    if (o->input_grad) e->needs_grad[g->input] = 1; /* asked for: exactly 0 when not live */
    free(live);
    if (o->device == FN_DEV_CPU && graph_fold_enabled()) {
        e->fold = mallocCheck(sizeof(fn_fold) * (size_t)g->nt);
        const size_t sums = graph_fold_find(g, e->needs_grad, e->fold);
        if (sums) e->fold_sums = mallocCheck(sizeof(double) * sums);
        else { free(e->fold); e->fold = NULL; }
    }
    if (o->device == FN_DEV_CPU && graph_alias_enabled()) {
        e->alias = mallocCheck(sizeof(fn_alias) * (size_t)g->nt);
        if (!graph_alias_find(g, e->needs_grad, e->alias)) { free(e->alias); e->alias = NULL; }
    }
    /* batch 1 with threads: every layout planned for chains run side by side (the results
     * do not depend on the layout; on one thread, or in a bundle slot, which runs inside a
     * parallel region, its longer lives only cost cache) */
    e->ws_slots = 1;
    const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
    if (o->device == FN_DEV_CPU && g->t[g->input].n == 1 && threads > 1 &&
        graph_chains_enabled() && graph_chains_find(g, &e->chains))
        e->ws_slots = threads > FN_CHAIN_THREADS ? FN_CHAIN_THREADS : threads;
    e->ws_stride = (g->ws_numel + 1 + 15) / 16 * 16; /* a 64-byte multiple apart */
    const fn_chains *ch = e->chains.nsec ? &e->chains : NULL;
    /* the layouts share the arenas: each as large as the largest layout needs */
    const unsigned char *ng = e->needs_grad;
    graph_plan(g, ng, param_grads, o->keep, NULL, NULL, ch, &e->layout[FN_LAYOUT_PLAIN]);
    if (e->fold)
        graph_plan(g, ng, param_grads, o->keep, e->fold, NULL, ch, &e->layout[FN_LAYOUT_FOLD]);
    if (e->alias)
        graph_plan(g, ng, param_grads, o->keep, NULL, e->alias, ch, &e->layout[FN_LAYOUT_ALIAS]);
    for (int k = 0; k < FN_LAYOUTS; k++) {
        const fn_plan *l = &e->layout[k];
        if (!l->act_off) continue;
        FN_ASSERT(l->act_off[g->input] == 0); /* the caller writes the input before any pass */
        if (l->act_numel > e->plan.act_numel) e->plan.act_numel = l->act_numel;
        if (l->grad_numel > e->plan.grad_numel) e->plan.grad_numel = l->grad_numel;
    }
    exec_use_layout(e, FN_LAYOUT_PLAIN);
    e->conv_out_kept = o->keep != NULL;
    for (int i = 0; i < g->nn && e->conv_out_kept; i++)
        if (g->nodes[i].kind == FN_NODE_CONV || g->nodes[i].kind == FN_NODE_LINEAR)
            e->conv_out_kept = o->keep[g->nodes[i].out] != 0;
    const fn_plan p = e->plan;
    const size_t es = esize(dtype);
    /* One allocation per role. Any failure returns -1 with e->bytes set to
     * what was asked for: a job too large for this machine is an out-of-memory result, never
     * an abort of the process (a sweep rank runs many jobs). */
    const size_t ws = be->host_arenas ? (size_t)e->ws_slots * e->ws_stride : 1;
    const size_t bytes = es * (p.act_numel + p.grad_numel + (param_grads ? 2 : 1) * g->param_numel +
                               g->saved_numel + ws + 2 * g->alpha_numel);
    e->pool = be->host_arenas ? o->pool : NULL;
    const int arenas_ok = be->alloc(e) == 0; /* activations and gradients, or their mirrors */
    /* borrowed parameters are not zero: every borrower writes them all (exec_init_params, the
     * proxies' initialisation) before a pass */
    e->params = e->pool ? pool_params(e->pool, (g->param_numel + 1) * es) : calloc(g->param_numel + 1, es);
    e->dparams = param_grads ? calloc(g->param_numel + 1, es) : NULL;
    e->saved = calloc(g->saved_numel + 1, es); /* a device backend's host mirror */
    e->ws = calloc(ws, es);
    e->alpha = calloc(g->alpha_numel + 1, es);
    e->dalpha = calloc(g->alpha_numel + 1, es);
    if (!arenas_ok || !e->params || (param_grads && !e->dparams) || !e->saved || !e->ws ||
        !e->alpha || !e->dalpha) {
        exec_free(e);
        e->bytes = bytes;
        snprintf(exec_err, sizeof exec_err, "out of memory: the executor needs %.2f GiB "
                 "(activations, gradients, parameters)", (double)bytes / (1u << 30));
        return FN_EXEC_OOM;
    }
    e->bytes = bytes;
    const int rc = be->init ? be->init(e, exec_err, sizeof exec_err) : 0;
    if (rc) {
        exec_free(e);
        e->bytes = bytes;
        return rc;
    }
    return 0;
}

void exec_free(fn_exec *e) {
    if (e->be) e->be->free(e);
    if (!e->pool) free(e->params); /* a borrowed arena stays with its pool */
    free(e->dparams); free(e->saved);
    free(e->ws); free(e->alpha); free(e->dalpha); free(e->needs_grad);
    free(e->relu_mask); free(e->relu_mask_off);
    free(e->talpha); free(e->tparams); free(e->tdalpha); free(e->tdparams);
    free(e->fold); free(e->fold_sums); free(e->alias);
    for (int k = 0; k < FN_LAYOUTS; k++) graph_plan_free(&e->layout[k]); /* plan is a view */
    graph_chains_free(&e->chains);
    memset(e, 0, sizeof(*e));
}

double exec_get(const void *base, fn_dtype dt, size_t i) {
    return dt == FN_F64 ? ((const double *)base)[i] : (double)((const float *)base)[i];
}

void exec_set(void *base, fn_dtype dt, size_t i, double v) {
    if (dt == FN_F64) ((double *)base)[i] = v;
    else ((float *)base)[i] = (float)v;
}

void *exec_tensor(const fn_exec *e, int t) { return e->be->tensor(e, t, 0); }
void *exec_tensor_grad(const fn_exec *e, int t) { return e->be->tensor(e, t, 1); }
void *exec_param(const fn_exec *e, int p) {
    return (char *)e->params + esize(e->dtype) * e->g->p[p].off;
}
void *exec_dparam(const fn_exec *e, int p) {
    return e->dparams ? (char *)e->dparams + esize(e->dtype) * e->g->p[p].off : NULL;
}

void exec_init_params(fn_exec *e, uint64_t seed) {
    FN_ASSERT(e->g->models == 1);
    exec_init_params_models(e, &seed);
}

void exec_init_params_models(fn_exec *e, const uint64_t *seeds) {
    const fn_graph *g = e->g;
    const int K = g->models;
    enum { BLOCK = 2048 };
    /* One parallel loop over every (parameter, block of BLOCK elements) pair: a supernet has
     * hundreds of small tensors (NB201: 1.7 M weights in ~1,600 tensors, most under 16 K
     * elements), so a loop per tensor left one thread idle. Counter-based draws: any split
     * gives the same values, bit for bit. */
    /* a stacked graph's parameter p holds model m's tensor at m * numel / K: draw stream p of
     * seeds[m], exactly what model m's own search draws (engine/graph_stack.h) */
    long nblk = 0;
    for (int p = 0; p < g->np; p++)
        nblk += (long)K * (long)((g->p[p].numel / K + BLOCK - 1) / BLOCK);
    int *bp = mallocCheck(sizeof(int) * (size_t)(nblk + 1));  /* block -> parameter */
    int *bm = mallocCheck(sizeof(int) * (size_t)(nblk + 1));  /* block -> model */
    size_t *bi = mallocCheck(sizeof(size_t) * (size_t)(nblk + 1)); /* block -> first element */
    long k = 0;
    for (int p = 0; p < g->np; p++)
        for (int m = 0; m < K; m++)
            for (size_t i0 = 0; i0 < g->p[p].numel / K; i0 += BLOCK) bp[k] = p, bm[k] = m, bi[k++] = i0;
#pragma omp parallel for schedule(static) if (g->param_numel > 16384)
    for (long b = 0; b < nblk; b++) {
        const fn_param *pp = &g->p[bp[b]];
        const size_t numel = pp->numel / K, i0 = bi[b];
        const size_t n = numel - i0 < (size_t)BLOCK ? numel - i0 : (size_t)BLOCK;
        const size_t at = pp->off + (size_t)bm[b] * numel + i0;
        double buf[BLOCK];
        /* float64: drawn straight into the parameters (no copy of the whole set) */
        double *u = e->dtype == FN_F64 ? (double *)e->params + at : buf;
        if (pp->init == FN_INIT_ONE || pp->init == FN_INIT_ZERO) {
            for (size_t i = 0; i < n; i++) u[i] = pp->init == FN_INIT_ONE ? 1.0 : 0.0;
        } else {
            const double bound = pp->fan_in > 0 ? 1.0 / sqrt((double)pp->fan_in) : 0;
            fn_rng_uniform_fill(seeds[bm[b]], (uint32_t)bp[b], i0, n, u);
            for (size_t i = 0; i < n; i++) u[i] = bound * (2.0 * u[i] - 1.0);
        }
        if (e->dtype != FN_F64) {
            float *w = (float *)e->params + at;
            for (size_t i = 0; i < n; i++) w[i] = (float)u[i];
        }
    }
    free(bp);
    free(bm);
    free(bi);
    exec_params_changed(e);
}

void exec_init_alpha(fn_exec *e, uint64_t seed, double scale) {
    FN_ASSERT(e->g->models == 1);
    exec_init_alpha_models(e, &seed, &scale);
}

void exec_init_alpha_models(fn_exec *e, const uint64_t *seeds, const double *scales) {
    const fn_graph *g = e->g;
    const size_t per = g->models > 1 ? g->model_alpha : g->alpha_numel;
    for (int m = 0; m < g->models; m++)
        for (int k = 0; k < g->nag; k++) {
            const fn_alpha_group *a = &g->ag[k];
            for (size_t i = 0; i < (size_t)a->rows * a->cols; i++)
                exec_set(e->alpha, e->dtype, m * per + a->off + i,
                         scales[m] * fn_rng_normal(seeds[m], FN_STREAM_ALPHA + (uint32_t)k, i));
        }
}

void exec_set_relu_mode(fn_exec *e, fn_relu_mode m) {
    const fn_graph *g = e->g;
    if (m != FN_RELU_NORMAL && !e->relu_mask_off) {
        e->relu_mask_off = callocCheck((size_t)g->nn, sizeof(size_t));
        size_t n = 0;
        for (int i = 0; i < g->nn; i++)
            if (g->nodes[i].kind == FN_NODE_RELU) {
                e->relu_mask_off[i] = n;
                n += graph_tensor_numel(g, g->nodes[i].in[0]);
            }
        e->be->relu_mask(e, n + 1);
    }
    e->relu_mode = m;
}

void exec_use_layout(fn_exec *e, fn_layout k) {
    const fn_plan *l = &e->layout[k];
    FN_ASSERT(l->act_off);
    e->plan.act_off = l->act_off;
    e->plan.grad_off = l->grad_off;
    e->plan.grad_first = l->grad_first;
}

void exec_forward(fn_exec *e) { e->be->forward(e); }

void exec_backward(fn_exec *e, const void *dlogits) { e->be->backward(e, dlogits); }
