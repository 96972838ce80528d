/* engine/exec_cpu.c: the built-in CPU backend (engine/backend.h): host arenas, lent by an
 * fn_arena_pool or the executor's own, and the reference passes of engine/graph_exec.c and
 * engine/graph_hvp.c (exact Hessian-vector products). */
#include "engine/backend.h"
#include "engine/exec_cpu.h"

#include <omp.h>
#include <stdio.h>

#include "base/common.h"

static size_t esize(fn_dtype dt) { return dt == FN_F64 ? sizeof(double) : sizeof(float); }

/* *buf with at least `bytes`, from the pool (grown when too small) */
static void *pool_take(void **buf, size_t *cap, size_t bytes) {
    if (*cap < bytes || !*buf) {
        fn_arena_free(*buf, *cap);
        *buf = fn_arena_alloc(bytes);
        *cap = *buf ? bytes : 0;
    }
    return *buf;
}


static int cpu_alloc(fn_exec *e) {
    const size_t es = esize(e->dtype);
    if (e->pool) {
        e->act = pool_take(&e->pool->act, &e->pool->act_bytes, es * e->plan.act_numel);
        e->grad = pool_take(&e->pool->grad, &e->pool->grad_bytes, es * e->plan.grad_numel);
    } else {
        e->act = fn_arena_alloc(es * e->plan.act_numel);
        e->grad = fn_arena_alloc(es * e->plan.grad_numel);
    }
    return e->act && e->grad ? 0 : -1;
}

static void cpu_free(fn_exec *e) {
    const size_t es = esize(e->dtype);
    if (e->tact) { /* the HVP's tangent arenas (cpu_hvp_init); borrowed ones stay in the pool */
        if (!e->pool) {
            fn_arena_free(e->tact, es * e->plan.act_numel);
            fn_arena_free(e->tgrad, es * e->plan.grad_numel);
        }
        free(e->tsaved);
        free(e->tws);
        e->tact = e->tgrad = e->tsaved = e->tws = NULL;
    }
    if (e->pool) return; /* borrowed arenas stay with their pool */
    fn_arena_free(e->act, es * e->plan.act_numel);
    fn_arena_free(e->grad, es * e->plan.grad_numel);
}

int exec_chains_ok(const fn_exec *e) {
    return e->chains.nsec && !e->bwd_hook && !e->tbwd_hook && e->relu_mode == FN_RELU_NORMAL &&
           !omp_in_parallel() && omp_get_max_threads() > 1;
}

void graph_forward_start(fn_exec *e) {
    e->chains_on = exec_chains_ok(e);
    e->alias_on = e->alias && e->bn_mode == FN_BN_OFF;
    exec_use_layout(e, e->alias_on ? FN_LAYOUT_ALIAS : FN_LAYOUT_PLAIN);
}

static void cpu_forward(fn_exec *e) {
    if (e->dtype == FN_F64) graph_forward_f64(e);
    else graph_forward_f32(e);
}

static void cpu_backward(fn_exec *e, const void *dlogits) {
    if (e->dtype == FN_F64) graph_backward_f64(e, dlogits);
    else graph_backward_f32(e, dlogits);
}

static void *cpu_tensor(const fn_exec *e, int t, int grad) {
    if (grad) return (char *)e->grad + esize(e->dtype) * e->plan.grad_off[t];
    return (char *)e->act + esize(e->dtype) * e->plan.act_off[t];
}

static void cpu_relu_mask(fn_exec *e, size_t bytes) { e->relu_mask = callocCheck(bytes, 1); }

/* Tangent arenas laid out as the activation, gradient and saved arenas (engine/graph_hvp.c),
 * and one tensor of scratch. */
static int cpu_hvp_init(fn_exec *e, char *err, size_t errlen) {
    const fn_graph *g = e->g;
    const size_t es = esize(e->dtype);
    size_t big = 1;
    for (int t = 0; t < g->nt; t++) {
        const size_t n = graph_tensor_numel(g, t);
        if (n > big) big = n;
    }
    if (e->pool) { /* a GraSP table's networks one after another: no fresh pages each */
        e->tact = pool_take(&e->pool->tact, &e->pool->tact_bytes, es * e->plan.act_numel);
        e->tgrad = pool_take(&e->pool->tgrad, &e->pool->tgrad_bytes, es * e->plan.grad_numel);
    } else {
        e->tact = fn_arena_alloc(es * e->plan.act_numel);
        e->tgrad = fn_arena_alloc(es * e->plan.grad_numel);
    }
    e->tsaved = calloc(g->saved_numel + 1, es);
    e->tws = calloc(big, es);
    if (!e->tact || !e->tgrad || !e->tsaved || !e->tws) {
        snprintf(err, errlen, "out of memory: the Hessian-vector product needs %.2f GiB more",
                 (double)es * (e->plan.act_numel + e->plan.grad_numel + g->saved_numel + big) /
                     (1u << 30));
        return FN_EXEC_OOM;
    }
    return 0;
}

static void cpu_forward_tangent(fn_exec *e) {
    if (e->dtype == FN_F64) graph_forward_tangent_f64(e);
    else graph_forward_tangent_f32(e);
}

static void cpu_backward_tangent(fn_exec *e, const void *dlogits, const void *tdlogits) {
    if (e->dtype == FN_F64) graph_backward_tangent_f64(e, dlogits, tdlogits);
    else graph_backward_tangent_f32(e, dlogits, tdlogits);
}

static void *cpu_tangent(const fn_exec *e, int t) {
    return (char *)e->tact + esize(e->dtype) * e->plan.act_off[t];
}

const fn_backend fn_backend_cpu = {
    .name = "cpu",
    .host_arenas = 1,
    .alloc = cpu_alloc,
    .init = NULL,
    .free = cpu_free,
    .forward = cpu_forward,
    .backward = cpu_backward,
    .tensor = cpu_tensor,
    .relu_mask = cpu_relu_mask,
    .hvp_init = cpu_hvp_init,
    .forward_tangent = cpu_forward_tangent,
    .backward_tangent = cpu_backward_tangent,
    .tangent = cpu_tangent,
    .mem_free = NULL,
};
