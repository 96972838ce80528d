/* engine/exec_cpu.c: the built-in CPU backend (engine/backend.h): host arenas, lent by an
 * fn_arena_pool or the executor's own, and the reference passes of engine/graph_exec.c. */
#include "engine/backend.h"
#include "engine/exec_cpu.h"

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
    if (e->pool) return; /* borrowed arenas stay with their pool */
    const size_t es = esize(e->dtype);
    fn_arena_free(e->act, es * e->plan.act_numel);
    fn_arena_free(e->grad, es * e->plan.grad_numel);
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
};
