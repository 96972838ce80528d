/* engine/exec_hvp.c: the executor's exact Hessian-vector product entries (engine/exec.h):
 * host direction and result arenas, then the backend's tangent passes (engine/backend.h;
 * the CPU's are engine/graph_hvp.c). */
#include <stdio.h>
#include <string.h>

#include "base/common.h"
#include "engine/backend.h"
#include "engine/exec.h"

static size_t esize(fn_dtype dt) { return dt == FN_F64 ? sizeof(double) : sizeof(float); }

int exec_hvp_init(fn_exec *e) {
    if (e->hvp_ready) return 0;
    char err[FN_ERRLEN] = "";
    if (!e->be->hvp_init) {
        snprintf(err, sizeof err, "the %s backend has no Hessian-vector product", e->be->name);
        exec_error_set(err);
        return FN_EXEC_DEVICE;
    }
    const fn_graph *g = e->g;
    const size_t es = esize(e->dtype);
    e->talpha = calloc(g->alpha_numel + 1, es);
    e->tdalpha = calloc(g->alpha_numel + 1, es);
    e->tparams = calloc(g->param_numel + 1, es);
    e->tdparams = e->param_grads ? calloc(g->param_numel + 1, es) : NULL;
    if (!e->talpha || !e->tdalpha || !e->tparams || (e->param_grads && !e->tdparams)) {
        exec_error_set("out of memory: Hessian-vector product arenas");
        return FN_EXEC_OOM;
    }
    const int rc = e->be->hvp_init(e, err, sizeof err);
    if (rc) {
        exec_error_set(err);
        return rc;
    }
    e->hvp_ready = 1;
    /* what fn_exec.bytes reports: the tangents of activations, gradients, BN statistics,
     * direction and result */
    e->bytes += es * (e->plan.act_numel + e->plan.grad_numel + g->saved_numel +
                      2 * g->alpha_numel + (e->param_grads ? 2 : 1) * g->param_numel);
    return 0;
}

void exec_forward_tangent(fn_exec *e) {
    if (!e->hvp_ready) FN_FATAL("exec_forward_tangent before exec_hvp_init");
    const size_t n = e->g->param_numel;
    int any = 0;
    if (e->dtype == FN_F64) {
        const double *t = e->tparams;
        for (size_t i = 0; i < n && !any; i++) any = t[i] != 0;
    } else {
        const float *t = e->tparams;
        for (size_t i = 0; i < n && !any; i++) any = t[i] != 0;
    }
    e->tangent_params = any;
    e->be->forward_tangent(e);
}

void exec_backward_tangent(fn_exec *e, const void *dlogits, const void *tdlogits) {
    if (!e->hvp_ready) FN_FATAL("exec_backward_tangent before exec_hvp_init");
    e->be->backward_tangent(e, dlogits, tdlogits);
}

void *exec_tangent(const fn_exec *e, int t) { return e->be->tangent(e, t); }

int exec_tangent_grad_host(const fn_exec *e) { return e->be->host_arenas; }

void *exec_tangent_grad(const fn_exec *e, int t) {
    if (!e->be->host_arenas || !e->tgrad) return NULL;
    const size_t es = e->dtype == FN_F64 ? sizeof(double) : sizeof(float);
    return (char *)e->tgrad + es * e->plan.grad_off[t];
}
