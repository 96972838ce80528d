/* tests/train_ref_case.c: the trainer (train/core.h) against ../shared/ref/darts_train_tiny.bin
 * on a given device (see tests/train_ref_case.h); used by tests/test_train_ref.c (CPU) and
 * tests/test_gpu.c (CUDA). */
#include "tests/train_ref_case.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"
#include "train/core.h"
#include "tests/test_util.h"

static const fn_ref_file *ref;

static const fn_ref_tensor *need(const char *name) {
    const fn_ref_tensor *t = refbin_get(ref, name);
    if (!t) {
        fprintf(stderr, "FAIL: reference tensor '%s' missing\n", name);
        exit(1);
    }
    return t;
}

static const double *get_ref(void *u, const char *name, size_t n) {
    const char *prefix = u;
    char full[160];
    snprintf(full, sizeof full, "%s%s", prefix, name);
    const fn_ref_tensor *t = refbin_get(ref, full);
    if (!t || t->numel != n) return NULL;
    return t->data;
}

const char *const train_ref_genotype =
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_5x5', 1), ('dil_conv_3x3', 0), "
    "('dil_conv_5x5', 2), ('avg_pool_3x3', 1), ('skip_connect', 0), ('max_pool_3x3', 3), "
    "('sep_conv_3x3', 4)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), "
    "('skip_connect', 1), ('avg_pool_3x3', 0), ('sep_conv_5x5', 2), ('dil_conv_3x3', 1), "
    "('skip_connect', 2), ('sep_conv_3x3', 0), ('dil_conv_5x5', 4)], reduce_concat=[2, 3, 4, 5])";

/* group-wise max error, and pass/fail against atol + rtol |b| */
typedef struct { const char *name; double maxerr, maxratio; size_t n; } group;

static void acc(group *gr, const double *a, const double *b, size_t n, double atol, double rtol) {
    for (size_t i = 0; i < n; i++) {
        const double err = fabs(a[i] - b[i]), r = err / (atol + rtol * fabs(b[i]));
        if (err > gr->maxerr || isnan(err)) gr->maxerr = err;
        if (r > gr->maxratio || isnan(r)) gr->maxratio = r;
    }
    gr->n += n;
}

static void report(const char *prec, group *gr) {
    CHECKF(gr->maxratio <= 1.0, "%s %s: max err %.3g is %.3g x the tolerance", prec, gr->name,
           gr->maxerr, gr->maxratio);
    printf("%-8s %-28s n=%-7zu max abs err %-10.3g err/tolerance %.3g\n", prec, gr->name, gr->n,
           gr->maxerr, gr->maxratio);
}

static void set_input(fn_exec *e, const char *name) {
    const fn_ref_tensor *t = need(name);
    void *x = exec_tensor(e, e->g->input);
    CHECK(t->numel == graph_tensor_numel(e->g, e->g->input));
    for (size_t i = 0; i < t->numel; i++) exec_set(x, e->dtype, i, t->data[i]);
}

double train_ref_case(const fn_ref_file *rf, fn_dtype dt, fn_device dev, int control) {
    ref = rf;
    const int f64 = dt == FN_F64;
    const char *prec = dev == FN_DEV_CUDA ? (f64 ? "cuda f64" : "cuda f32")
                                          : (f64 ? "float64" : "float32");
    const double a0 = f64 ? 1e-9 : 1e-4, r0 = f64 ? 1e-7 : 1e-3; /* step 0 */
    const double a3 = f64 ? 1e-9 : 1e-3, r3 = f64 ? 1e-7 : 1e-2; /* after three steps */
    darts_genotype gt;
    char err[FN_ERRLEN];
    CHECK(darts_genotype_parse(train_ref_genotype, &gt, err, sizeof err) == 0);
    train_darts_config dc = {4, 5, 10, 32, 32, 8, 1, 1};
    train_net net;
    CHECK(train_darts_net_build(&net, &gt, &dc, err, sizeof err) == 0);
    CHECKF(graph_num_params(&net.g) == 426880, "params %zu", graph_num_params(&net.g));
    train_core c;
    if (train_core_init_on(&c, &net, NULL, dt, dev, 1, err, sizeof err)) {
        CHECKF(0, "train_core_init_on: %s", err);
        train_net_free(&net);
        return INFINITY;
    }
    CHECKF(train_core_load(&c, get_ref, "") == 0, "reference weights missing");
    const fn_graph *g = &net.g;
    train_opt o = {0.9, 3e-4, 0, 1.0, 0.4};
    group gl = {"loss, grad norm (3 steps)", 0, 0, 0}, glog = {"logits, aux logits step 0", 0, 0, 0};
    group ggr = {"gradients step 0", 0, 0, 0}, gw = {"params after 3 steps", 0, 0, 0};
    group grs = {"BN running stats after 3", 0, 0, 0}, gev = {"eval logits", 0, 0, 0};
    for (int s = 0; s < 3; s++) {
        char nm[128];
        snprintf(nm, sizeof nm, "input.step%d", s);
        set_input(&c.e[0], nm);
        snprintf(nm, sizeof nm, "labels.step%d", s);
        const fn_ref_tensor *lt = need(nm);
        int labels[8];
        for (int i = 0; i < 8; i++) labels[i] = (int)lt->data[i];
        unsigned char keep[5 * TRAIN_DROP_SLOTS * 8];
        for (int cell = 0; cell < 5; cell++)
            for (int j = 0; j < 8; j++) {
                snprintf(nm, sizeof nm, "mask.step%d.cell%d.op%d", s, cell, j);
                /* stored for the ops that are not an identity, the ones with a node */
                const fn_ref_tensor *m = refbin_get(ref, nm);
                CHECK(!m == (net.drop_off[cell * TRAIN_DROP_SLOTS + j] < 0));
                for (int i = 0; i < 8; i++)
                    keep[(cell * TRAIN_DROP_SLOTS + j) * 8 + i] = !m || m->data[i] != 0;
            }
        train_core_set_drop(&c, 0, keep, control ? 0.25 : 0.2);
        train_step_stats st;
        train_core_forward_backward(&c, 0, labels, &o, &st);
        const double sa = s ? a3 : a0, sr = s ? r3 : r0;
        const char *sc[4] = {"loss", "loss_main", "loss_aux", "grad_norm"};
        const double got[4] = {st.loss, st.loss_main, st.loss_aux, st.grad_norm};
        for (int q = 0; q < 4; q++) {
            snprintf(nm, sizeof nm, "%s.step%d", sc[q], s);
            acc(&gl, &got[q], need(nm)->data, 1, sa, sr);
        }
        if (s == 0) {
            const void *out = exec_tensor(&c.e[0], g->output);
            double z[160];
            for (int i = 0; i < 8; i++)
                for (int j = 0; j < 20; j++) z[(j / 10) * 80 + i * 10 + j % 10] =
                    exec_get(out, dt, (size_t)i * 20 + j);
            acc(&glog, z, need("logits.step0")->data, 80, a0, r0);
            acc(&glog, z + 80, need("logits_aux.step0")->data, 80, a0, r0);
            for (int p = 0; p < g->np; p++) {
                snprintf(nm, sizeof nm, "grad0.%s", g->p[p].name);
                const fn_ref_tensor *t = need(nm);
                CHECK(t->numel == g->p[p].numel);
                acc(&ggr, c.g + g->p[p].off, t->data, t->numel, a0, r0);
            }
        }
        train_core_clip(&c, &o);
        snprintf(nm, sizeof nm, "lr.step%d", s);
        const double lr = need(nm)->data[0];
        /* cosine over T = 3 steps from 0.025 ... the reference's own values are used */
        train_core_sgd(&c, lr, &o);
    }
    for (int p = 0; p < g->np; p++) {
        char nm[128];
        snprintf(nm, sizeof nm, "final.%s", g->p[p].name);
        acc(&gw, c.w + g->p[p].off, need(nm)->data, g->p[p].numel, a3, r3);
        for (int var = 0; var < 2; var++) {
            const double *r = train_core_running(&c, p, var);
            if (!r) continue;
            char base[FN_NAME_LEN];
            snprintf(base, sizeof base, "%s", g->p[p].name);
            *strrchr(base, '.') = '\0';
            snprintf(nm, sizeof nm, "final.%s.%s", base, var ? "running_var" : "running_mean");
            const fn_ref_tensor *t = need(nm);
            acc(&grs, r, t->data, t->numel, a3, r3);
        }
    }
    set_input(&c.e[0], "eval_input");
    double ev[80];
    train_core_eval(&c, 0, ev);
    acc(&gev, ev, need("eval_logits")->data, 80, a3, r3);
    group *all[] = {&gl, &glog, &ggr, &gw, &grs, &gev};
    if (!control)
        for (int i = 0; i < 6; i++) report(prec, all[i]);
    train_core_free(&c);
    train_net_free(&net);
    return gl.maxratio;
}
