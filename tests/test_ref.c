/* tests/test_ref.c: the whole FreeDARTS pipeline against PyTorch reference tensors
 * (../shared/ref/README.md), for both reference supernets:
 *   nb201  nb201_tiny.bin: C=4, one cell per stage, random affine BN parameters, one 6x5
 *          alpha; SynFlow takes |alpha| (NB201 alpha is in the state_dict);
 *   darts  darts_tiny.bin: C=4, 5 cells with reduction cells 1 and 3, CIFAR stem with random
 *          affine BN, alpha_normal / alpha_reduce 14x8; SynFlow keeps alpha signed;
 * both 10 classes, 3x8x8 input, batch 4, alpha scale 0.1. Loads the stored weights and alpha
 * groups by name instead of initialising, then checks logits, loss, dL/dalpha, SNIP, H g,
 * GraSP, SynFlow R and SynFlow with the tolerances of ../shared/ref/README.md:
 *   |a - b| <= 1e-5 + 1e-3 |b|; finite-difference H g: relative L2 error <= 1e-2 (and the
 *   float64 FD H g also within the exact tolerance); the exact H g (metric_loss_hvp) within
 *   the exact tolerance in float64, and in float32 with an absolute part of 1e-5 max|Hg|.
 *   ./build/bin/test_ref nb201 ../shared/ref/nb201_tiny.bin
 *   ./build/bin/test_ref darts ../shared/ref/darts_tiny.bin */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "datasets/refbin.h"
#include "engine/exec.h"
#include "metrics/metric.h"
#include "spaces/darts.h"
#include "spaces/nb201.h"
#include "nn/cross_entropy.h"
#include "tests/test_search_case.h"
#include "tests/test_util.h"

static fn_ref_file ref;

static const fn_ref_tensor *need(const char *name) {
    const fn_ref_tensor *t = refbin_get(&ref, name);
    if (!t) {
        fprintf(stderr, "FAIL: reference tensor '%s' missing\n", name);
        exit(1);
    }
    return t;
}

/* Loads every graph parameter, alpha and the input into e (any dtype). */
static void load_state(fn_exec *e, const char *input_name) {
    const fn_graph *g = e->g;
    for (int p = 0; p < g->np; p++) {
        const fn_ref_tensor *t = need(g->p[p].name);
        CHECK(t->numel == g->p[p].numel);
        for (size_t i = 0; i < t->numel; i++) exec_set(e->params, e->dtype, g->p[p].off + i, t->data[i]);
    }
    for (int k = 0; k < g->nag; k++) { /* alpha groups by name: alpha_normal, alpha_reduce */
        const fn_ref_tensor *a = need(g->ag[k].name);
        CHECK(a->numel == (size_t)g->ag[k].rows * g->ag[k].cols);
        for (size_t i = 0; i < a->numel; i++)
            exec_set(e->alpha, e->dtype, g->ag[k].off + i, a->data[i]);
    }
    void *x = exec_tensor(e, g->input);
    size_t nx = graph_tensor_numel(g, g->input);
    if (input_name) {
        const fn_ref_tensor *in = need(input_name);
        CHECK(in->numel == nx);
        for (size_t i = 0; i < nx; i++) exec_set(x, e->dtype, i, in->data[i]);
    } else {
        for (size_t i = 0; i < nx; i++) exec_set(x, e->dtype, i, 1.0);
    }
}

static int is_darts;

static void build(fn_graph *g, int batch) { test_small_supernet(g, is_darts, batch); }

/* Expected tensor of a metric for all alpha groups, concatenated in graph order. */
static double expected[224];
static const double *want(const fn_graph *g, const char *prefix) {
    size_t n = 0;
    for (int k = 0; k < g->nag; k++) {
        char name[128];
        snprintf(name, sizeof name, "%s.%s", prefix, g->ag[k].name);
        const fn_ref_tensor *t = need(name);
        CHECK(t->numel == (size_t)g->ag[k].rows * g->ag[k].cols);
        memcpy(expected + n, t->data, sizeof(double) * t->numel);
        n += t->numel;
    }
    return expected;
}

int main(int argc, char **argv) {
    if (argc < 3 || (strcmp(argv[1], "nb201") && strcmp(argv[1], "darts"))) {
        fprintf(stderr, "usage: test_ref nb201|darts REF.bin\n");
        return 2;
    }
    is_darts = !strcmp(argv[1], "darts");
    char err[512];
    if (refbin_load(argv[2], &ref, err, sizeof err)) {
        fprintf(stderr, "FAIL: %s\n", err);
        return 1;
    }
    const double atol = 1e-5, rtol = 1e-3;
    int labels[4];
    const fn_ref_tensor *lab = need("labels");
    for (int i = 0; i < 4; i++) labels[i] = (int)lab->data[i];

    /* every reference parameter is a graph parameter and vice versa */
    fn_graph g;
    build(&g, 4);
    int nparam_ref = 0;
    for (int i = 0; i < ref.count; i++)
        if (strstr(ref.t[i].name, ".weight") || strstr(ref.t[i].name, ".bias")) {
            nparam_ref++;
            if (graph_param_find(&g, ref.t[i].name) < 0)
                fprintf(stderr, "  graph lacks %s\n", ref.t[i].name);
        }
    CHECK(nparam_ref == g.np);

    for (int dt = 0; dt < 2; dt++) {
        const fn_dtype dtype = dt ? FN_F64 : FN_F32;
        const char *tag = dt ? "f64" : "f32";
        char what[64];
        fn_exec e;
        exec_init(&e, &g, dtype, 0);
        load_state(&e, "input");
        fn_metric_opts mo;
        metric_opts_default(&mo);
        mo.grasp_abs = 0; /* the reference's grasp tensors are signed */
        double S[224], value, grad[224];
        const size_t na = g.alpha_numel;
        CHECK(na == (is_darts ? 224u : 30u));

        /* logits and loss of the train-mode forward; dL/dalpha */
        double loss = metric_loss_grad(&e, labels, grad);
        double logits[40];
        for (int i = 0; i < 40; i++) logits[i] = exec_get(exec_tensor(&e, g.output), dtype, i);
        snprintf(what, sizeof what, "%s logits", tag);
        check_close(what, logits, need("logits")->data, 40, atol, rtol);
        snprintf(what, sizeof what, "%s loss", tag);
        check_close(what, &loss, need("loss")->data, 1, atol, rtol);
        snprintf(what, sizeof what, "%s dL/dalpha", tag);
        check_close(what, grad, want(&g, "dL_dalpha"), na, atol, rtol);

        /* SNIP */
        CHECK(metric_snip(&e, labels, &mo, S, &value, err, sizeof err) == 0);
        snprintf(what, sizeof what, "%s snip", tag);
        check_close(what, S, want(&g, "snip"), na, atol, rtol);

        /* exact H g (the engine's forward-over-reverse product) against PyTorch's double
         * backward (itself float32): float64 at the reference tolerance, element by element;
         * float32 with the absolute part scaled to the vector, 1e-5 max|Hg| + 1e-3 |Hg| (one
         * small DARTS entry, -0.58 of max 422, is 2.2e-3 off: float32 rounding of two
         * float32 programs), and relative L2 error <= 1e-4. The largest error and its ratio
         * to the float64 tolerance are printed. */
        {
            double Hx[224], g2[224];
            CHECK(metric_loss_hvp(&e, labels, grad, Hx, g2, err, sizeof err) == 0);
            const double *Hr = want(&g, "Hg");
            double emax = 0, rmax = 0, hmax = 0;
            for (size_t i = 0; i < na; i++) {
                const double d = fabs(Hx[i] - Hr[i]);
                emax = fmax(emax, d);
                rmax = fmax(rmax, d / (atol + rtol * fabs(Hr[i])));
                hmax = fmax(hmax, fabs(Hr[i]));
            }
            printf("%s %s exact Hg: max |error| %.3g (max |Hg| %.3g), max error / tolerance %.3g\n",
                   argv[1], tag, emax, hmax, rmax);
            snprintf(what, sizeof what, "%s Hg (exact)", tag);
            check_close(what, Hx, Hr, na, dt ? atol : 1e-5 * hmax, rtol);
            check_rel_l2(what, Hx, Hr, na, 1e-4);
            /* the HVP pass leaves BN sums unfolded (engine/graph_fold.h): its d alpha is
             * exec_backward's to rounding, 1e-13 max|g| + 1e-12 |g| (float32: 1e-6, 1e-5);
             * bit for bit with FREENAS_FOLD_BN=0 */
            double gmax = 0;
            for (size_t i = 0; i < na; i++) gmax = fmax(gmax, fabs(grad[i]));
            snprintf(what, sizeof what, "%s dL/dalpha (HVP pass)", tag);
            check_close(what, g2, grad, na, (dt ? 1e-13 : 1e-6) * gmax, dt ? 1e-12 : 1e-5);
        }

        /* GraSP = alpha * Hg with the exact product, in both precisions (float32 is the
         * default), at the tolerance of the exact H g above */
        {
            CHECK(metric_grasp(&e, labels, &mo, S, &value, err, sizeof err) == 0);
            const double *Sr = want(&g, "grasp");
            double smax = 0;
            for (size_t i = 0; i < na; i++) smax = fmax(smax, fabs(Sr[i]));
            snprintf(what, sizeof what, "%s grasp", tag);
            check_rel_l2(what, S, Sr, na, 1e-4);
            check_close(what, S, Sr, na, dt ? atol : 1e-5 * smax, rtol);
        }
        /* H g by the float64 finite difference (--grasp-fd 1e-6): on these small nets the
         * step stays inside one ReLU region, so it meets even the exact tolerance */
        if (dt) {
            double Hg[224];
            metric_grasp_hvp(&e, labels, grad, 1e-6, Hg);
            snprintf(what, sizeof what, "%s Hg (finite difference)", tag);
            check_rel_l2(what, Hg, want(&g, "Hg"), na, 1e-2);
            check_close(what, Hg, want(&g, "Hg"), na, atol, rtol);
        }
        exec_free(&e);

        /* SynFlow: batch of one all-ones image, |params|, BN train mode; |alpha| for NB201,
         * signed alpha for DARTS (its alphas are not in the state_dict, docs/METHOD.md §3.11) */
        mo.synflow_abs_alpha = !is_darts;
        fn_graph g1;
        build(&g1, 1);
        exec_init(&e, &g1, dtype, 0);
        load_state(&e, NULL);
        CHECK(metric_synflow(&e, NULL, &mo, S, &value, err, sizeof err) == 0);
        snprintf(what, sizeof what, "%s synflow R", tag);
        check_close(what, &value, need("synflow_R")->data, 1, atol, rtol);
        snprintf(what, sizeof what, "%s synflow", tag);
        check_close(what, S, want(&g, "synflow"), na, atol, rtol);
        exec_free(&e);
        graph_free(&g1);
    }
    graph_free(&g);
    refbin_free(&ref);
    return test_summary(is_darts ? "test_ref darts" : "test_ref nb201");
}
