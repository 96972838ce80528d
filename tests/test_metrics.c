/* tests/test_metrics.c: each FreeDARTS metric against an independent computation on a tiny
 * NB201 supernet (float64, random weights, alpha scale 0.2):
 *   snip     = |alpha * dL/dalpha| with dL/dalpha from central differences of the loss;
 *   synflow  = |alpha * dR/dalpha| with R recomputed on |params|, |alpha| by differences,
 *              in the FreeDARTS form (BN train) and the ZC form (BN off, float64);
 *   grasp    : the finite-difference H g (--grasp-fd) is converged in its step (1e-6 vs
 *              1e-7 relative) and the exact H g (metric_loss_hvp, what GraSP uses) agrees
 *              with it; the curvature along g, g.Hg/|g|^2, matches the second difference of
 *              the loss along g/|g|, computed from losses only;
 *   the Adam-step quirk moves the evaluation point and restores alpha afterwards.
 *   ./build/bin/test_metrics */
#include <math.h>
#include <string.h>

#include "engine/exec.h"
#include "metrics/metric.h"
#include "spaces/nb201.h"
#include "base/common.h"
#include "nn/cross_entropy.h"
#include "tests/test_util.h"

static int labels[6] = {1, 4, 4, 0, 9, 2};

static double loss_at(fn_exec *e) {
    exec_forward(e);
    const fn_graph *g = e->g;
    return cross_entropy_forward_f64(exec_tensor(e, g->output), labels, g->t[g->output].n,
                                     g->t[g->output].c);
}

static double sum_logits(fn_exec *e) {
    exec_forward(e);
    const double *z = exec_tensor(e, e->g->output);
    double s = 0;
    for (size_t i = 0; i < graph_tensor_numel(e->g, e->g->output); i++) s += z[i];
    return s;
}

static void setup(fn_exec *e, const fn_graph *g, unsigned seed, int ones_input) {
    exec_init(e, g, FN_F64, 0);
    exec_init_params(e, seed);
    exec_init_alpha(e, seed, 0.2);
    double *x = exec_tensor(e, g->input);
    unsigned s = seed + 17;
    for (size_t i = 0; i < graph_tensor_numel(g, g->input); i++) x[i] = ones_input ? 1.0 : test_rand(&s);
}

int main(void) {
    const double h = 1e-6;
    char err[256];
    double value;
    fn_metric_opts mo;
    metric_opts_default(&mo);
    CHECK(metric_find("synflow") && metric_find("snip") && metric_find("grasp"));
    CHECK(metric_find("synflo") == NULL);
    CHECK(metric_find("synflow")->default_batch == 1 && metric_find("snip")->default_batch == 64);
    {   /* precision: SynFlow float64, SNIP and GraSP float32 by default; --fp32/--fp64
         * force, except GraSP's finite-difference HVP (--grasp-fd), always float64 */
        fn_metric_opts po;
        metric_opts_default(&po);
        CHECK(metric_dtype(metric_find("synflow"), &po) == FN_F64);
        CHECK(metric_dtype(metric_find("snip"), &po) == FN_F32);
        CHECK(metric_dtype(metric_find("grasp"), &po) == FN_F32);
        po.precision = 64;
        CHECK(metric_dtype(metric_find("grasp"), &po) == FN_F64);
        po.precision = 32;
        CHECK(metric_dtype(metric_find("synflow"), &po) == FN_F32);
        CHECK(metric_dtype(metric_find("grasp"), &po) == FN_F32);
        po.grasp_fd_eps = 1e-6;
        CHECK(metric_dtype(metric_find("grasp"), &po) == FN_F64);
        po.precision = 64;
        CHECK(metric_dtype(metric_find("snip"), &po) == FN_F64);
    }

    fn_graph g;
    graph_init(&g);
    nb201_config c = {3, 2, 10, 8, 8, 6, 0};
    nb201_build(&g, &c);
    fn_exec e;
    double S[30], ref[30], a[30];

    /* ---- SNIP ---- */
    setup(&e, &g, 3, 0);
    CHECK(metric_snip(&e, labels, &mo, S, &value, err, sizeof err) == 0);
    CHECK(fabs(value - loss_at(&e)) < 1e-12);
    double *al = e.alpha;
    for (int i = 0; i < 30; i++) {
        double v = al[i];
        al[i] = v + h; double p = loss_at(&e);
        al[i] = v - h; double m = loss_at(&e);
        al[i] = v;
        ref[i] = fabs(v * (p - m) / (2 * h));
    }
    check_close("snip vs |alpha * FD dL/dalpha|", S, ref, 30, 1e-9, 1e-5);
    for (int e_ = 0; e_ < 6; e_++) CHECK(S[e_ * 5 + NB201_NONE] == 0.0);

    /* ---- GraSP ---- */
    double g0[30], Hg[30], Hg2[30];
    metric_loss_grad(&e, labels, g0);
    memcpy(a, e.alpha, sizeof a);
    metric_grasp_hvp(&e, labels, g0, 1e-6, Hg);
    CHECK(memcmp(a, e.alpha, sizeof a) == 0); /* alpha restored exactly */
    metric_grasp_hvp(&e, labels, g0, 1e-7, Hg2);
    check_rel_l2("grasp FD HVP step-converged (1e-6 vs 1e-7)", Hg, Hg2, 30, 1e-4);
    /* the exact product (what metric_grasp uses) agrees with the converged difference on
     * this small net and batch, where no ReLU kink falls inside the step */
    double Hx[30], gx[30];
    CHECK(metric_loss_hvp(&e, labels, g0, Hx, gx, err, sizeof err) == 0);
    CHECK(memcmp(a, e.alpha, sizeof a) == 0);
    /* equal to rounding: the HVP pass leaves BN sums unfolded (engine/graph_fold.h) */
    double gmax = 0;
    for (int i = 0; i < 30; i++) gmax = fmax(gmax, fabs(g0[i]));
    check_close("metric_loss_hvp's gradient = metric_loss_grad's", gx, g0, 30, 1e-13 * gmax,
                1e-12);
    check_rel_l2("grasp exact HVP vs FD HVP", Hx, Hg, 30, 1e-5);
    memcpy(Hg, Hx, sizeof Hg);
    double gn2 = 0, gHg = 0;
    for (int i = 0; i < 30; i++) { gn2 += g0[i] * g0[i]; gHg += g0[i] * Hg[i]; }
    /* step 1e-6: small enough to stay inside one ReLU region (a kink makes a second
     * difference blow up like jump/h), large enough for float64 rounding (~1e-3 absolute) */
    double curv = gHg / gn2, hs = 1e-6, l0 = loss_at(&e);
    for (int i = 0; i < 30; i++) al[i] = a[i] + hs * g0[i] / sqrt(gn2);
    double lp = loss_at(&e);
    for (int i = 0; i < 30; i++) al[i] = a[i] - hs * g0[i] / sqrt(gn2);
    double lm = loss_at(&e);
    memcpy(e.alpha, a, sizeof a);
    double curv_fd = (lp - 2 * l0 + lm) / (hs * hs);
    printf("curvature along g: HVP %.8g, second difference of L %.8g\n", curv, curv_fd);
    check_close("grasp g.Hg/|g|^2 vs d2L along g", &curv, &curv_fd, 1, 1e-2, 1e-3);
    CHECK(mo.grasp_abs == 1); /* the magnitude is the default (docs/FIDELITY.md) */
    mo.grasp_abs = 0;
    CHECK(metric_grasp(&e, labels, &mo, S, &value, err, sizeof err) == 0);
    for (int i = 0; i < 30; i++) ref[i] = a[i] * Hg[i];
    check_close("grasp = alpha * Hg (signed)", S, ref, 30, 1e-12, 1e-12);
    /* the magnitude option scores |alpha * Hg| */
    fn_metric_opts ab = mo;
    ab.grasp_abs = 1;
    double Sa[30];
    CHECK(metric_grasp(&e, labels, &ab, Sa, &value, err, sizeof err) == 0);
    for (int i = 0; i < 30; i++) ref[i] = fabs(S[i]);
    check_close("grasp --grasp-abs = |alpha * Hg|", Sa, ref, 30, 1e-12, 1e-9);
    /* the Adam quirk evaluates H g elsewhere, scores with alpha from before, restores alpha */
    fn_metric_opts q = mo;
    q.grasp_adam = 1;
    double Sq[30];
    CHECK(metric_grasp(&e, labels, &q, Sq, &value, err, sizeof err) == 0);
    CHECK(memcmp(a, e.alpha, sizeof a) == 0);
    double diff = 0;
    for (int i = 0; i < 30; i++) diff += fabs(Sq[i] - S[i]);
    CHECK(diff > 1e-6);
    exec_free(&e);
    graph_free(&g);

    /* ---- SynFlow, FreeDARTS form (batch 1, all ones, BN train) and ZC form (BN off) ---- */
    for (int zc = 0; zc < 2; zc++) {
        graph_init(&g);
        nb201_config c1 = {3, 2, 10, 8, 8, 1, 0};
        nb201_build(&g, &c1);
        setup(&e, &g, 4, 1);
        fn_metric_opts so = mo;
        so.synflow_zc = zc;
        e.bn_mode = metric_bn_mode(metric_find("synflow"), &so);
        CHECK(metric_dtype(metric_find("synflow"), &so) == FN_F64); /* default: float64 */
        CHECK(metric_synflow(&e, NULL, &so, S, &value, err, sizeof err) == 0);
        /* parameters and alpha are now |.|: R and its derivative by differences */
        const double *pp = e.params;
        int neg = 0;
        for (size_t i = 0; i < g.param_numel; i++) neg += pp[i] < 0;
        CHECK(neg == 0);
        CHECK(fabs(value - sum_logits(&e)) < 1e-9 * fabs(value));
        al = e.alpha;
        for (int i = 0; i < 30; i++) {
            double v = al[i];
            CHECK(v >= 0);
            al[i] = v + h; double p = sum_logits(&e);
            al[i] = v - h; double m = sum_logits(&e);
            al[i] = v;
            ref[i] = fabs(v * (p - m) / (2 * h));
        }
        check_close(zc ? "synflow ZC form vs FD" : "synflow FreeDARTS form vs FD", S, ref, 30,
                    1e-9, 1e-5);
        exec_free(&e);
        graph_free(&g);
    }
    return test_summary("test_metrics");
}
