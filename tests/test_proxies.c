/* tests/test_proxies.c: the per-architecture proxies (proxies/proxy.h) against independent
 * computations, in float64 (the per-sample ones, ntk / fisher / naswot / jacob_cov, are in
 * tests/test_proxies_persample.c):
 *  A. a tiny NB201 benchmark network (C = 2, one cell per stage, 8x8, batch 6), once with an
 *     arch using every op and once with nodes that reach no logit (their convs must get zero
 *     gradients, their ReLUs still count), on arenas pre-filled with garbage; derivatives by
 *     central differences of forward passes only: snip = sum |W dL/dW|, grad_norm =
 *     sum_l ||dL/dW_l||, synflow (BN-free copy, |W|, ones) = sum |W dR/dW|, grasp = -W^T H g
 *     from a mixed second difference of the loss along W and g (losses only); naswot's K
 *     counted per ReLU module; GraSP's H g converged in its step, also on a 16x16 batch-16 net
 *     where live ReLU kinks would break it;
 *  C. the driver (proxy_score) on real CIFAR-10 images: all proxies in one call equal one
 *     call each and a plain job on exec_init_params, bit for bit; params / flops equal the
 *     closed forms; float32 close to float64; failures reported per proxy.
 *   ./build/bin/test_proxies ../shared/data */
#include <math.h>
#include <string.h>

#include "datasets/dataset.h"
#include "engine/exec.h"
#include "nasbench/nb201_net.h"
#include "proxies/proxy.h"
#include "proxies/proxy_impl.h"
#include "base/common.h"
#include "nn/cross_entropy.h"
#include "tests/test_util.h"

static const char *ARCH =
    "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|none~1|nor_conv_3x3~2|";
/* nodes 1 and 2 reach no logit (only `none` edges leave them): their convs get zero gradients
 * (PyTorch: x.mul(0)), their ReLUs still count for NASWOT */
static const char *DEAD =
    "|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|skip_connect~0|none~1|none~2|";

/* arenas full of garbage, lent to the executors below: nothing may rely on zeroed memory */
static fn_arena_pool dirty_pool(void) {
    fn_arena_pool p = {0};
    p.act_bytes = p.grad_bytes = (size_t)64 << 20;
    p.act = fn_arena_alloc(p.act_bytes);
    p.grad = fn_arena_alloc(p.grad_bytes);
    memset(p.act, 0x7f, p.act_bytes); /* ~3.4e38 as float, ~1.4e306 as double */
    memset(p.grad, 0x7f, p.grad_bytes);
    return p;
}

static double ce_at(fn_exec *e, const int *y) {
    exec_forward(e);
    const fn_graph *g = e->g;
    return cross_entropy_forward_f64(exec_tensor(e, g->output), y, g->t[g->output].n,
                                     g->t[g->output].c);
}

static double sum_at(fn_exec *e) {
    exec_forward(e);
    const double *z = exec_tensor(e, e->g->output);
    double s = 0;
    for (size_t i = 0; i < graph_tensor_numel(e->g, e->g->output); i++) s += z[i];
    return s;
}

/* fd[k] = d f / d w_k over the conv/linear weights in parameter order (forward passes only) */
static size_t fd_weights(fn_exec *e, double (*f)(fn_exec *, const int *), const int *y,
                         double h, double *fd) {
    const fn_graph *g = e->g;
    size_t k = 0;
    for (int p = 0; p < g->np; p++) {
        if (!proxy_is_weight(&g->p[p])) continue;
        double *w = exec_param(e, p);
        for (size_t i = 0; i < g->p[p].numel; i++, k++) {
            const double v = w[i];
            w[i] = v + h;
            const double a = f(e, y);
            w[i] = v - h;
            const double b = f(e, y);
            w[i] = v;
            fd[k] = (a - b) / (2 * h);
        }
    }
    return k;
}

static double sum_of(fn_exec *e, const int *y) {
    (void)y;
    return sum_at(e);
}

/* weights <- w0 + s a + t b (conv/linear weights only) */
static void shift_weights(fn_exec *e, const double *w0, double s, const double *a, double t,
                          const double *b) {
    const fn_graph *g = e->g;
    size_t k = 0;
    for (int p = 0; p < g->np; p++) {
        if (!proxy_is_weight(&g->p[p])) continue;
        double *w = exec_param(e, p);
        for (size_t i = 0; i < g->p[p].numel; i++, k++) w[i] = w0[k] + s * a[k] + t * b[k];
    }
}

static void part_a(fn_proxy_scratch *scr, const char *arch) {
    enum { N = 6 };
    int y[N] = {3, 1, 4, 1, 5, 9}, ops[6];
    float x[N * 3 * 64];
    unsigned seed = 11;
    printf("-- %s\n", arch);
    for (int i = 0; i < N * 3 * 64; i++) x[i] = (float)test_rand(&seed);
    CHECK(nb201_arch_parse(arch, ops) == 0);
    fn_graph g;
    graph_init(&g);
    nb201_config c = {2, 1, 10, 8, 8, N, 0};
    nb201_net_build(&g, &c, ops);
    fn_exec e;
    fn_arena_pool pool = dirty_pool();
    fn_exec_opts eo = {1, 0, NULL, &pool, FN_DEV_CPU, 0, 0};
    CHECK(exec_init_opts(&e, &g, FN_F64, &eo) == 0);
    exec_init_params(&e, 3);
    fn_proxy_job j;
    proxy_job_init(&j, &g, &e, x, y, scr);
    double v_snip, v_gn, v_grasp;
    char err[256];
    CHECK(proxy_snip(&j, &v_snip, err, sizeof err) == 0);
    CHECK(proxy_grad_norm(&j, &v_gn, err, sizeof err) == 0);
    proxy_set_input(&j);
    size_t nw = 0;
    for (int p = 0; p < g.np; p++) nw += proxy_is_weight(&g.p[p]) ? g.p[p].numel : 0;
    double *fd = mallocCheck(sizeof(double) * nw), *w0 = mallocCheck(sizeof(double) * nw);
    CHECK(fd_weights(&e, ce_at, y, 1e-6, fd) == nw);
    double r_snip = 0, r_gn = 0, wn = 0, gn = 0;
    size_t k = 0;
    for (int p = 0; p < g.np; p++) {
        if (!proxy_is_weight(&g.p[p])) continue;
        const double *w = exec_param(&e, p);
        double ss = 0;
        for (size_t i = 0; i < g.p[p].numel; i++, k++) {
            r_snip += fabs(w[i] * fd[k]);
            ss += fd[k] * fd[k];
            w0[k] = w[i];
            wn += w[i] * w[i];
            gn += fd[k] * fd[k];
        }
        r_gn += sqrt(ss);
    }
    printf("tiny NB201 net: %zu conv/linear weights, snip %.9g, grad_norm %.9g\n", nw, v_snip,
           v_gn);
    check_close("snip vs sum |W FD dL/dW|", &v_snip, &r_snip, 1, 0, 1e-6);
    check_close("grad_norm vs sum_l ||FD dL/dW_l||", &v_gn, &r_gn, 1, 0, 1e-6);

    /* GraSP: -W^T H g = -|W||g| d2/ds dt L(W + s W/|W| + t g/|g|), losses only */
    CHECK(proxy_grasp(&j, &v_grasp, err, sizeof err) == 0);
    wn = sqrt(wn);
    gn = sqrt(gn);
    double *wd = mallocCheck(sizeof(double) * nw), *gd = mallocCheck(sizeof(double) * nw);
    for (size_t i = 0; i < nw; i++) {
        wd[i] = w0[i] / wn;
        gd[i] = fd[i] / gn;
    }
    /* the loss is smooth only between ReLU kinks: h >= 3e-4 crosses them here (the difference
     * is off by 10-50x); h = 3e-5 agrees to 2e-6, below 1e-5 rounding takes over */
    const double h = 3e-5;
    double f4[4];
    const int sg[4][2] = {{1, 1}, {1, -1}, {-1, 1}, {-1, -1}};
    for (int q = 0; q < 4; q++) {
        shift_weights(&e, w0, sg[q][0] * h, wd, sg[q][1] * h, gd);
        f4[q] = ce_at(&e, y);
    }
    shift_weights(&e, w0, 0, wd, 0, gd);
    const double r_grasp = -wn * gn * (f4[0] - f4[1] - f4[2] + f4[3]) / (4 * h * h);
    printf("grasp %.9g, mixed second difference of L %.9g\n", v_grasp, r_grasp);
    check_close("grasp vs -W^T H g from losses", &v_grasp, &r_grasp, 1, 0, 1e-4);
    double *Hg1 = mallocCheck(sizeof(double) * nw), *Hg2 = mallocCheck(sizeof(double) * nw);
    proxy_grasp_hvp(&j, fd, 1e-6, Hg1);
    proxy_grasp_hvp(&j, fd, 1e-7, Hg2);
    check_rel_l2("grasp H g step-converged (1e-6 vs 1e-7)", Hg1, Hg2, nw, 1e-5);
    { /* the exact product (what proxy_grasp uses) against the frozen-pattern difference */
        double *Hx = mallocCheck(sizeof(double) * nw);
        CHECK(proxy_grasp_hvp_exact(&j, fd, Hx, err, sizeof err) == 0);
        check_rel_l2("grasp exact H g vs frozen-pattern difference", Hx, Hg2, nw, 1e-6);
        /* W . H g by layers (conv and linear outputs kept: the proxies' executors) against
         * v_grasp above, -W . (exact H g) on this executor, which keeps nothing (both along the
         * exact gradient; fd above is a finite difference, so -W . Hx only agrees to ~1e-8) */
        double s_fd = 0;
        for (size_t i = 0; i < nw; i++) s_fd -= w0[i] * Hx[i];
        unsigned char *keep = mallocCheck((size_t)g.nt);
        fn_exec_opts ko = proxy_exec_opts(&g, FN_PX_PARAM_GRADS | FN_PX_KEEP_CONV_OUT, keep);
        fn_exec e2;
        CHECK(exec_init_opts(&e2, &g, FN_F64, &ko) == 0);
        CHECK(e2.conv_out_kept && !e.conv_out_kept);
        exec_init_params(&e2, 3);
        fn_proxy_job j2;
        proxy_job_init(&j2, &g, &e2, x, y, scr);
        double v_layers;
        CHECK(proxy_grasp(&j2, &v_layers, err, sizeof err) == 0);
        printf("grasp by layers %.15g, -W . exact H g %.15g (along the FD gradient %.15g)\n",
               v_layers, v_grasp, s_fd);
        check_close("grasp W.Hg by layers vs -W . exact H g", &v_layers, &v_grasp, 1, 0, 1e-12);
        check_close("grasp -W . exact H g along the FD gradient", &s_fd, &v_grasp, 1, 0, 1e-7);
        exec_free(&e2);
        free(keep);
        free(Hx);
    }
    k = 0; /* the weights are restored exactly */
    int moved = 0;
    for (int p = 0; p < g.np; p++)
        if (proxy_is_weight(&g.p[p]))
            for (size_t i = 0; i < g.p[p].numel; i++, k++)
                moved += ((double *)exec_param(&e, p))[i] != w0[k];
    CHECK(moved == 0);
    /* NASWOT on the NB201 net: one count per ReLU node (module), several of which read the
     * same cell node here; units per sample not a multiple of 64 */
    double Kp[N * N], Kr[N * N] = {0};
    proxy_set_input(&j);
    exec_forward(&e);
    proxy_naswot_kernel(&j, Kp);
    int relus = 0;
    for (int i = 0; i < g.nn; i++) {
        if (g.nodes[i].kind != FN_NODE_RELU) continue;
        relus++;
        const double *r = exec_tensor(&e, g.nodes[i].in[0]);
        const size_t U = graph_tensor_numel(&g, g.nodes[i].in[0]) / N;
        for (int a = 0; a < N; a++)
            for (int b = 0; b < N; b++)
                for (size_t u = 0; u < U; u++) Kr[a * N + b] += (r[a * U + u] > 0) == (r[b * U + u] > 0);
    }
    CHECK(relus == 3 * 3 + 4 + 1); /* 3 conv edges x 3 cells, 2 per ResNet block, head */
    if (arch == DEAD) { /* dead convs: zero gradient, as PyTorch */
        int nz = 0;
        proxy_pass(&j, FN_PX_LOSS_CE);
        for (int p = 0; p < g.np; p++)
            if (strstr(g.p[p].name, "edge2.nor_conv_3x3.conv") || strstr(g.p[p].name, "edge1."))
                for (size_t i = 0; i < g.p[p].numel; i++) nz += ((double *)exec_dparam(&e, p))[i] != 0;
        CHECKF(nz == 0, "%d nonzero gradients of convs that reach no logit", nz);
    }
    check_close("naswot K on NB201 (per ReLU module)", Kp, Kr, N * N, 0, 0);
    exec_free(&e);
    graph_free(&g);

    /* SynFlow: ZC's BN-free copy, batch 1, all ones, |params|: FD of R at |W| */
    graph_init(&g);
    c.batch = 1;
    nb201_net_build(&g, &c, ops);
    CHECK(exec_init_opts(&e, &g, FN_F64, &eo) == 0);
    exec_init_params(&e, 4);
    e.bn_mode = FN_BN_OFF;
    proxy_job_init(&j, &g, &e, NULL, NULL, scr);
    double v_syn;
    CHECK(proxy_synflow(&j, &v_syn, err, sizeof err) == 0);
    int neg = 0;
    for (size_t i = 0; i < g.param_numel; i++) neg += ((double *)e.params)[i] < 0;
    CHECK(neg == 0);
    proxy_set_input(&j);
    fd_weights(&e, sum_of, NULL, 1e-6, fd);
    double r_syn = 0;
    k = 0;
    for (int p = 0; p < g.np; p++)
        if (proxy_is_weight(&g.p[p]))
            for (size_t i = 0; i < g.p[p].numel; i++, k++)
                r_syn += fabs(((double *)exec_param(&e, p))[i] * fd[k]);
    check_close("synflow vs sum |W FD dR/dW| (BN-free)", &v_syn, &r_syn, 1, 0, 1e-6);
    /* the BN-free copy differs from train-mode BN (the ResNet BNs stay either way) */
    e.bn_mode = FN_BN_TRAIN;
    const double r_train = sum_at(&e);
    e.bn_mode = FN_BN_OFF;
    CHECK(fabs(r_train - sum_at(&e)) > 1e-6 * fabs(r_train));
    exec_free(&e);
    graph_free(&g);
    free(fd); free(w0); free(wd); free(gd); free(Hg1); free(Hg2);
    arena_pool_free(&pool);
}

/* GraSP's H g on a mid-size net (C = 4, 16x16, batch 16, ~22,000 ReLU inputs): with the ReLU
 * pattern frozen the central difference converges (steps 1e-5 .. 1e-8); through live ReLUs
 * it does not (kinks crossed at every step size), and the frozen forward at W is the normal
 * one. */
static void part_a_kinks(fn_proxy_scratch *scr) {
    enum { N = 16 };
    int y[N], ops[6];
    static float x[N * 3 * 256];
    unsigned seed = 21;
    for (int i = 0; i < N * 3 * 256; i++) x[i] = (float)test_rand(&seed);
    for (int i = 0; i < N; i++) y[i] = i % 10;
    nb201_arch_parse(ARCH, ops);
    fn_graph g;
    graph_init(&g);
    nb201_config c = {4, 1, 10, 16, 16, N, 0};
    nb201_net_build(&g, &c, ops);
    fn_exec e;
    fn_exec_opts eo = {1, 0, NULL, NULL, FN_DEV_CPU, 0, 0};
    CHECK(exec_init_opts(&e, &g, FN_F64, &eo) == 0);
    exec_init_params(&e, 8);
    fn_proxy_job j;
    proxy_job_init(&j, &g, &e, x, y, scr);
    proxy_ce_grad(&j);
    size_t nw = 0;
    for (int p = 0; p < g.np; p++) nw += proxy_is_weight(&g.p[p]) ? g.p[p].numel : 0;
    double *gr = mallocCheck(sizeof(double) * nw), *H[4];
    for (int p = 0, k = 0; p < g.np; p++)
        if (proxy_is_weight(&g.p[p]))
            for (size_t i = 0; i < g.p[p].numel; i++) gr[k++] = ((double *)exec_dparam(&e, p))[i];
    const double eps[4] = {1e-5, 1e-6, 1e-7, 1e-8};
    for (int q = 0; q < 4; q++) {
        H[q] = mallocCheck(sizeof(double) * nw);
        proxy_grasp_hvp(&j, gr, eps[q], H[q]);
    }
    check_rel_l2("grasp H g, 16x16 net: steps 1e-5 vs 1e-6", H[0], H[1], nw, 1e-3);
    check_rel_l2("grasp H g, 16x16 net: steps 1e-6 vs 1e-7", H[1], H[2], nw, 1e-5);
    check_rel_l2("grasp H g, 16x16 net: steps 1e-7 vs 1e-8", H[2], H[3], nw, 1e-5);
    {
        double *Hx = mallocCheck(sizeof(double) * nw);
        char err[256];
        CHECK(proxy_grasp_hvp_exact(&j, gr, Hx, err, sizeof err) == 0);
        check_rel_l2("grasp exact H g vs frozen difference, 16x16 net", Hx, H[2], nw, 1e-6);
        free(Hx);
    }
    /* frozen at the recorded pattern = normal forward at the same weights */
    proxy_set_input(&j);
    exec_set_relu_mode(&e, FN_RELU_RECORD);
    exec_forward(&e);
    const size_t nz = graph_tensor_numel(&g, g.output);
    double *z0 = mallocCheck(sizeof(double) * nz);
    memcpy(z0, exec_tensor(&e, g.output), sizeof(double) * nz);
    exec_set_relu_mode(&e, FN_RELU_FROZEN);
    exec_forward(&e);
    check_close("frozen ReLU pattern = normal forward at W", exec_tensor(&e, g.output), z0, nz, 0, 0);
    exec_set_relu_mode(&e, FN_RELU_NORMAL);
    for (int q = 0; q < 4; q++) free(H[q]);
    free(gr);
    free(z0);
    exec_free(&e);
    graph_free(&g);
}

/* ---------------------------------------------------------------- C: the driver -------- */
static void part_c(const char *data) {
    fn_proxy_config c;
    proxy_config_default(&c);
    c.data_path = data;
    c.channels = 4;
    c.cells = 1;
    c.batch = 16;
    c.seed = 2;
    fn_proxy_ctx *ctx;
    char err[FN_ERRLEN];
    CHECK(proxy_ctx_create(&c, &ctx, err, sizeof err) == FN_OK);
    const int n = proxy_count();
    const char *names[32];
    for (int i = 0; i < n; i++) names[i] = proxy_at(i)->name;
    fn_proxy_value all[32], one;
    fn_status st = proxy_score(ctx, ARCH, names, n, all, err, sizeof err);
    CHECKF(st == FN_OK, "%s", err);
    int same = 1;
    for (int i = 0; i < n; i++) {
        printf("  %-10s %-14.8g %.3f s\n", names[i], all[i].value, all[i].seconds);
        CHECK(all[i].status == FN_OK && isfinite(all[i].value));
        CHECK(proxy_score(ctx, ARCH, &names[i], 1, &one, err, sizeof err) == FN_OK);
        if (one.value != all[i].value) {
            fprintf(stderr, "  %s: %.17g alone, %.17g with the others\n", names[i], one.value,
                    all[i].value);
            same = 0;
        }
    }
    CHECKF(same, "scores depend on which proxies share the call");
    int ops[6];
    nb201_arch_parse(ARCH, ops);
    /* the driver (cached draws, shared passes) = a job on exec_init_params, bit for bit:
     * synflow (float64, BN-free, batch 1) and snip (float32, the driver's batch) */
    {
        fn_proxy_scratch scr = {0};
        fn_graph g;
        fn_exec e;
        fn_proxy_job j;
        fn_exec_opts eo = {1, 0, NULL, NULL, FN_DEV_CPU, 0, 0};
        double v;
        for (int q = 0; q < 2; q++) {
            fn_batch b = {0};
            nb201_config nb = {4, 1, 10, 32, 32, q ? 16 : 1, 0};
            if (q) CHECK(dataset_load_batch("cifar10", data, 16, 2, 1, &b, err, sizeof err) == 0);
            graph_init(&g);
            nb201_net_build(&g, &nb, ops);
            CHECK(exec_init_opts(&e, &g, q ? FN_F32 : FN_F64, &eo) == 0);
            e.bn_mode = q ? FN_BN_TRAIN : FN_BN_OFF;
            exec_init_params(&e, 2);
            proxy_job_init(&j, &g, &e, b.x, b.y, &scr);
            CHECK((q ? proxy_snip : proxy_synflow)(&j, &v, err, sizeof err) == 0);
            CHECKF(v == all[q ? 3 : 2].value, "%s: job %.17g, driver %.17g", names[q ? 3 : 2], v,
                   all[q ? 3 : 2].value);
            exec_free(&e);
            graph_free(&g);
            batch_free(&b);
        }
        proxy_scratch_free(&scr);
    }
    const nb201_config nc = {4, 1, 10, 32, 32, 1, 0};
    CHECK(all[0].value == (double)nb201_net_params(&nc, ops));
    CHECK(all[1].value == nb201_net_flops(&nc, ops));
    /* float64 everywhere: SNIP within float32 rounding of the float32 default */
    fn_proxy_ctx *c64;
    fn_proxy_config c2 = c;
    c2.precision = 64;
    CHECK(proxy_ctx_create(&c2, &c64, err, sizeof err) == FN_OK);
    const char *snip = "snip";
    CHECK(proxy_score(c64, ARCH, &snip, 1, &one, err, sizeof err) == FN_OK);
    CHECKF(fabs(one.value - all[3].value) < 1e-4 * fabs(one.value), "%g vs %g", one.value,
           all[3].value);
    proxy_ctx_free(c64);
    /* a cell whose output node is cut off by `none` edges: the logits do not depend on the
     * input, the input Jacobian is exactly 0 (not whatever the borrowed gradient arena held
     * from the last network) and jacob_cov is NaN, as ZC's corrcoef of zero rows */
    {
        const char *cut = "|nor_conv_3x3~0|+|skip_connect~0|avg_pool_3x3~1|+|none~0|none~1|none~2|";
        const char *jc = "jacob_cov";
        CHECK(proxy_score(ctx, ARCH, &jc, 1, &one, err, sizeof err) == FN_OK); /* dirty arenas */
        CHECKF(proxy_score(ctx, cut, &jc, 1, &one, err, sizeof err) == FN_ERR_NAN &&
               one.status == FN_ERR_NAN && strstr(err, "constant input Jacobian"),
               "jacob_cov of a cut-off cell: %g (%s)", one.value, err);
        fn_graph g;
        fn_exec e;
        int cops[6];
        nb201_arch_parse(cut, cops);
        const nb201_config nb = {4, 1, 10, 32, 32, 2, 0};
        graph_init(&g);
        nb201_net_build(&g, &nb, cops);
        fn_exec_opts eo = {0, 1, NULL, NULL, FN_DEV_CPU, 0, 0};
        CHECK(exec_init_opts(&e, &g, FN_F64, &eo) == 0);
        exec_init_params(&e, 1);
        const size_t nin = graph_tensor_numel(&g, g.input), nout = graph_tensor_numel(&g, g.output);
        for (size_t i = 0; i < nin; i++) ((double *)exec_tensor(&e, g.input))[i] = 1.0 + (double)i;
        double *gin = exec_tensor_grad(&e, g.input), *dl = calloc(nout, sizeof(double));
        for (size_t i = 0; i < nin; i++) gin[i] = 7.0; /* stale values backward must clear */
        for (size_t i = 0; i < nout; i++) dl[i] = 1.0;
        exec_forward(&e);
        exec_backward(&e, dl);
        int zero = exec_tensor_grad(&e, g.input) == (void *)gin;
        for (size_t i = 0; i < nin; i++) zero &= gin[i] == 0;
        CHECKF(zero, "the input gradient of a cut-off network is not exactly zero");
        free(dl);
        exec_free(&e);
        graph_free(&g);
    }
    /* errors: an unknown proxy fails alone; an index needs the table; data proxies need data */
    const char *mixed[2] = {"synflo", "synflow"};
    st = proxy_score(ctx, ARCH, mixed, 2, all, err, sizeof err);
    CHECK(st == FN_ERR_CONFIG && all[0].status == FN_ERR_CONFIG && strstr(err, "synflo"));
    CHECK(all[1].status == FN_OK && isfinite(all[1].value));
    CHECK(proxy_score(ctx, "1651", mixed + 1, 1, all, err, sizeof err) == FN_ERR_CONFIG);
    proxy_ctx_free(ctx);
    c.data_path = NULL;
    CHECK(proxy_ctx_create(&c, &ctx, err, sizeof err) == FN_OK);
    const char *two[2] = {"snip", "synflow"};
    CHECK(proxy_score(ctx, ARCH, two, 2, all, err, sizeof err) == FN_ERR_DATA);
    CHECK(all[0].status == FN_ERR_DATA && all[1].status == FN_OK);
    proxy_ctx_free(ctx);
    c.dataset = "imagenet224";
    CHECK(proxy_ctx_create(&c, &ctx, err, sizeof err) == FN_ERR_CONFIG && ctx == NULL);
    /* the one-shot call is the context's */
    c.dataset = "cifar10";
    c.data_path = data;
    double v;
    CHECK(fn_proxy_score("grad_norm", ARCH, &c, &v, err, sizeof err) == FN_OK);
    CHECK(proxy_ctx_create(&c, &ctx, err, sizeof err) == FN_OK);
    const char *gn = "grad_norm";
    CHECK(proxy_score(ctx, ARCH, &gn, 1, &one, err, sizeof err) == FN_OK && one.value == v);
    proxy_ctx_free(ctx);
}

int main(int argc, char **argv) {
    CHECK(proxy_count() == 16 && proxy_find("synflow") && !proxy_find("synflo"));
    CHECK(proxy_find("ntk_cond")->sign == -1 && proxy_find("naswot")->default_batch == 128);
    CHECK(proxy_find("synflow")->bn_mode == FN_BN_OFF && proxy_find("snip")->needs_labels);
    fn_proxy_scratch scr = {0};
    part_a(&scr, ARCH);
    part_a(&scr, DEAD);
    part_a_kinks(&scr);
    proxy_scratch_free(&scr);
    if (argc > 1) part_c(argv[1]);
    else printf("skip the driver checks: no data directory given\n");
    return test_summary("test_proxies");
}
