/* tests/test_train.c: the training library (train/) beyond the PyTorch reference
 * (tests/test_train_ref.c):
 *   ops      the per-sample scale (drop-path) forward / backward and eval-mode BN against
 *            direct formulas;
 *   fd       float64 finite differences of the training loss (CE + 0.4 CE aux, drop-path
 *            masks, train-mode BN) over parameters of every kind, through the auxiliary head
 *            (ReLU, 5x5/3 average pool, 1x1 and 2x2 convs, BN, linear) and drop-path nodes;
 *   threads  two SGD steps (drop-path, aux head, clipping) on 1 and 2 OpenMP threads give
 *            memcmp-identical weights, momentum and running statistics;
 *   resume   a run stopped after epoch 1 of 2 (its checkpoint written, as a kill would leave
 *            it) and resumed gives memcmp-identical weights and equal records to a run that was
 *            never stopped; shuffling, crop / flip / cutout, drop-path and a tail batch on;
 *   data     the split, shuffles and augmentation are pure functions of (seed, epoch, index).
 *   ./build/bin/test_train ../shared/data */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/common.h"
#include "nn/rng.h"
#include "train/train.h"
#include "tests/test_util.h"
#include "tests/train_ref_case.h"

static void test_ops(void) {
    /* scale_n: out = s[i] * x, din += s[i] * dout */
    fn_graph g;
    graph_init(&g);
    int off = graph_alpha_group(&g, "s", 1, 3);
    int x = graph_input(&g, 3, 2, 2, 2);
    g.output = graph_scale_n(&g, x, off);
    fn_exec e;
    fn_exec_opts o = {0, 1, NULL, NULL, FN_DEV_CPU, 0, 0};
    CHECK(exec_init_opts(&e, &g, FN_F64, &o) == 0);
    double *in = exec_tensor(&e, g.input), *al = e.alpha, dy[24], s[3] = {1.25, 0, -2};
    unsigned st = 7;
    for (int i = 0; i < 24; i++) { in[i] = test_rand(&st); dy[i] = test_rand(&st); }
    memcpy(al + off, s, sizeof s);
    exec_forward(&e);
    double want[24], got[24], wantd[24];
    const double *y = exec_tensor(&e, g.output);
    for (int i = 0; i < 24; i++) { want[i] = s[i / 8] * in[i]; got[i] = y[i]; wantd[i] = s[i / 8] * dy[i]; }
    check_close("scale_n forward", got, want, 24, 0, 0);
    exec_backward(&e, dy);
    check_close("scale_n backward", exec_tensor_grad(&e, g.input), wantd, 24, 0, 0);
    exec_free(&e);
    graph_free(&g);
    /* eval BN: y = (x - m) / sqrt(v + eps) * w + b */
    graph_init(&g);
    x = graph_input(&g, 2, 3, 2, 2);
    g.output = graph_bn(&g, "bn", x, 1);
    CHECK(exec_init(&e, &g, FN_F64, 0) == 0);
    in = exec_tensor(&e, g.input);
    for (int i = 0; i < 24; i++) in[i] = test_rand(&st);
    double m[3] = {0.1, -0.2, 0.3}, v[3] = {0.5, 2.0, 1e-3}, w[3] = {1.5, -0.5, 2}, b[3] = {0.1, 0.2, 0.3};
    double *sv = e.saved, *pw = e.params;
    for (int c = 0; c < 3; c++) {
        sv[c] = m[c]; sv[3 + c] = 1 / sqrt(v[c] + 1e-5);
        pw[g.p[0].off + c] = w[c]; pw[g.p[1].off + c] = b[c];
    }
    e.bn_mode = FN_BN_EVAL;
    exec_forward(&e);
    y = exec_tensor(&e, g.output);
    for (int i = 0; i < 24; i++) {
        const int c = i / 4 % 3;
        want[i] = (in[i] - m[c]) / sqrt(v[c] + 1e-5) * w[c] + b[c];
        got[i] = y[i];
    }
    check_close("eval-mode BN", got, want, 24, 1e-15, 1e-13);
    exec_free(&e);
    graph_free(&g);
}

/* ---- finite differences of the training loss */
typedef struct {
    train_core *c;
    const int *labels;
    const unsigned char *keep;
    train_opt o;
} fd_ctx;

static double fd_loss(void *u) {
    fd_ctx *f = u;
    train_step_stats st;
    if (f->c->net[0]->drop_off) train_core_set_drop(f->c, 0, f->keep, 0.3);
    train_core_forward_backward(f->c, 0, f->labels, &f->o, &st);
    return st.loss;
}

static void tiny_input(train_core *c, unsigned seed) {
    fn_exec *e = &c->e[0];
    void *x = exec_tensor(e, e->g->input);
    const size_t n = graph_tensor_numel(e->g, e->g->input);
    for (size_t i = 0; i < n; i++) exec_set(x, e->dtype, i, test_rand(&seed));
}

static void test_fd(void) {
    darts_genotype gt;
    char err[FN_ERRLEN];
    CHECK(darts_genotype_parse(train_ref_genotype, &gt, err, sizeof err) == 0);
    train_darts_config dc = {2, 3, 5, 32, 32, 2, 1, 1}; /* aux head after cell 2 (8x8) */
    train_net net;
    CHECK(train_darts_net_build(&net, &gt, &dc, err, sizeof err) == 0);
    train_core c;
    CHECK(train_core_init(&c, &net, NULL, FN_F64, 3, err, sizeof err) == 0);
    for (size_t i = 0; i < c.np; i++) c.w[i] += 0.1 * fn_rng_normal(9, 1, i); /* BN params too */
    tiny_input(&c, 11);
    int labels[2] = {1, 4};
    unsigned char keep[5 * TRAIN_DROP_SLOTS * 2];
    for (size_t i = 0; i < sizeof keep; i++) keep[i] = fn_rng_uniform(5, 2, i) > 0.3;
    fd_ctx f = {&c, labels, keep, {0.9, 3e-4, 0, 0, 0.4}};
    fd_loss(&f);
    double *an = mallocCheck(sizeof(double) * c.np);
    memcpy(an, c.g, sizeof(double) * c.np);
    /* one or two tensors of every kind: stem, preprocess (ReLUConvBN, FactorizedReduce),
     * sep / dil convs and the strided skip behind drop-path nodes, the auxiliary head, the
     * classifier */
    const char *names[] = {"stem.0.weight", "stem.1.bias", "cells.0.preprocess0.op.1.weight",
                           "cells.0._ops.0.op.1.weight", "cells.0._ops.2.op.2.weight",
                           "cells.0._ops.7.op.7.weight", "cells.1._ops.1.conv_2.weight",
                           "cells.2.preprocess0.conv_1.weight", "cells.2.preprocess0.bn.weight",
                           "auxiliary_head.features.2.weight", "auxiliary_head.features.3.weight",
                           "auxiliary_head.features.5.weight", "auxiliary_head.features.6.bias",
                           "auxiliary_head.classifier.weight", "auxiliary_head.classifier.bias",
                           "classifier.weight", "classifier.bias"};
    const int nnames = (int)(sizeof names / sizeof *names);
    for (int q = 0; q < nnames; q++) {
        const int p = graph_param_find(&net.g, names[q]);
        CHECKF(p >= 0, "no parameter %s", names[q]);
        if (p < 0) continue;
        char what[128];
        snprintf(what, sizeof what, "fd d loss / d %s", names[q]);
        check_fd_grad(what, fd_loss, &f, c.w + net.g.p[p].off, an + net.g.p[p].off,
                      net.g.p[p].numel, 4, 1e-6);
    }
    free(an);
    train_core_free(&c);
    train_net_free(&net);
}

/* ---- thread counts */
static void two_steps(int threads, double **w, double **mom, double **run, size_t *np,
                      size_t *ns, fn_dtype dt) {
    omp_set_num_threads(threads);
    darts_genotype gt;
    char err[FN_ERRLEN];
    CHECK(darts_genotype_parse(train_ref_genotype, &gt, err, sizeof err) == 0);
    train_darts_config dc = {8, 5, 10, 32, 32, 16, 1, 1};
    train_net net;
    CHECK(train_darts_net_build(&net, &gt, &dc, err, sizeof err) == 0);
    train_core c;
    CHECK(train_core_init(&c, &net, NULL, dt, 4, err, sizeof err) == 0);
    train_opt o = {0.9, 3e-4, 1, 0.5, 0.4};
    int labels[16];
    unsigned char keep[5 * TRAIN_DROP_SLOTS * 16];
    for (int s = 0; s < 2; s++) {
        tiny_input(&c, 100 + s);
        for (int i = 0; i < 16; i++) labels[i] = (i * 7 + s) % 10;
        for (size_t i = 0; i < sizeof keep; i++) keep[i] = fn_rng_uniform(8, 3, s * 1000 + i) > 0.2;
        train_core_set_drop(&c, 0, keep, 0.2);
        train_step_stats st;
        train_core_forward_backward(&c, 0, labels, &o, &st);
        CHECK(train_core_clip(&c, &o) > 0.5); /* the clip is active */
        train_core_sgd(&c, 0.05, &o);
    }
    *np = c.np; *ns = c.ns;
    *w = mallocCheck(sizeof(double) * c.np); memcpy(*w, c.w, sizeof(double) * c.np);
    *mom = mallocCheck(sizeof(double) * c.np); memcpy(*mom, c.mom, sizeof(double) * c.np);
    *run = mallocCheck(sizeof(double) * c.ns); memcpy(*run, c.run, sizeof(double) * c.ns);
    train_core_free(&c);
    train_net_free(&net);
}

static void test_threads(void) {
    for (int k = 0; k < 2; k++) {
        const fn_dtype dt = k ? FN_F64 : FN_F32;
        double *w[2], *m[2], *r[2];
        size_t np, ns;
        two_steps(1, &w[0], &m[0], &r[0], &np, &ns, dt);
        two_steps(2, &w[1], &m[1], &r[1], &np, &ns, dt);
        CHECKF(!memcmp(w[0], w[1], sizeof(double) * np), "%s weights differ 1 vs 2 threads",
               k ? "f64" : "f32");
        CHECK(!memcmp(m[0], m[1], sizeof(double) * np));
        CHECK(!memcmp(r[0], r[1], sizeof(double) * ns));
        printf("ok   threads 1 vs 2 (%s): weights, momentum, running stats identical\n",
               k ? "float64" : "float32");
        for (int i = 0; i < 2; i++) { free(w[i]); free(m[i]); free(r[i]); }
    }
    omp_set_num_threads(2);
}

/* ---- kill / resume */
static int run_dir(const char *dir, int stop_after, const train_data *d, const train_split *sp,
                   train_model *keep_model, train_result *res) {
    darts_genotype gt;
    char err[FN_ERRLEN];
    CHECK(darts_genotype_parse(train_ref_genotype, &gt, err, sizeof err) == 0);
    train_recipe r = train_recipe_darts();
    r.epochs = 2; r.batch = 12; r.lr = 0.05; r.seed = 7; r.drop_path = 0.5;
    train_opts o = {dir, 0, stop_after, "test"};
    if (train_model_darts(keep_model, &gt, 4, 5, &r, d, sp, err, sizeof err)) {
        fprintf(stderr, "FAIL model: %s\n", err);
        return -1;
    }
    int rc = train_run(&keep_model->core, &r, d, sp, &o, res, err, sizeof err);
    if (rc) fprintf(stderr, "FAIL train_run: %s\n", err);
    return rc;
}

static void test_resume(const char *data) {
    train_data d;
    char err[FN_ERRLEN];
    if (train_data_load(&d, "cifar10", data, 64, err, sizeof err)) {
        fprintf(stderr, "FAIL data: %s\n", err);
        test_failures++;
        return;
    }
    train_split sp = train_split_portion(d.n, 0.5); /* 32 / 32: batches 12, 12, 8 */
    CHECK(sp.n_train == 32 && sp.valid0 == 32);
    char a[] = "/tmp/fn_train_resumeA_XXXXXX", b[] = "/tmp/fn_train_resumeB_XXXXXX";
    CHECK(mkdtemp(a) && mkdtemp(b));
    train_model ma, mb;
    train_result ra, rb;
    CHECK(run_dir(a, 0, &d, &sp, &ma, &ra) == 0);
    CHECK(ra.epochs_done == 2 && ra.resumed_from == 0);
    CHECK(run_dir(b, 1, &d, &sp, &mb, &rb) == 0); /* "killed" after epoch 1 */
    CHECK(rb.epochs_done == 1);
    const int differ_mid = !memcmp(ma.core.w, mb.core.w, sizeof(double) * ma.core.np);
    CHECKF(!differ_mid, "epoch 1 weights equal the epoch 2 weights: the test could not fail");
    train_model_free(&mb);
    train_result_free(&rb);
    CHECK(run_dir(b, 0, &d, &sp, &mb, &rb) == 0); /* resumed */
    CHECK(rb.resumed_from == 1 && rb.epochs_done == 2);
    CHECKF(!memcmp(ma.core.w, mb.core.w, sizeof(double) * ma.core.np),
           "resumed weights differ from the uninterrupted run");
    CHECK(!memcmp(ma.core.mom, mb.core.mom, sizeof(double) * ma.core.np));
    CHECK(!memcmp(ma.core.run, mb.core.run, sizeof(double) * ma.core.ns));
    for (int e = 0; e < 2; e++) {
        CHECK(ra.rec[e].valid_acc == rb.rec[e].valid_acc);
        CHECK(ra.rec[e].train_loss == rb.rec[e].train_loss);
        CHECK(ra.rec[e].lr == rb.rec[e].lr);
    }
    CHECK(ra.rec[1].lr < ra.rec[0].lr && ra.rec[0].lr == 0.05);
    printf("ok   kill after epoch 1 + resume == uninterrupted (weights memcmp, valid acc %.4f)\n",
           ra.valid_acc);
    /* a third run finds everything done and trains nothing */
    train_model mc;
    train_result rc;
    CHECK(run_dir(a, 0, &d, &sp, &mc, &rc) == 0);
    CHECK(rc.resumed_from == 2 && rc.epochs_done == 2);
    CHECK(!memcmp(ma.core.w, mc.core.w, sizeof(double) * ma.core.np));
    /* records file: two lines */
    char path[256], line[1024];
    snprintf(path, sizeof path, "%s/records.jsonl", b);
    FILE *fp = fopen(path, "r");
    int lines = 0;
    while (fp && fgets(line, sizeof line, fp)) lines += strstr(line, "\"valid_acc\"") != NULL;
    if (fp) fclose(fp);
    CHECK(lines == 2);
    train_model_free(&ma); train_model_free(&mb); train_model_free(&mc);
    train_result_free(&ra); train_result_free(&rb); train_result_free(&rc);
    const char *dirs[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/checkpoint.bin", dirs[i]); unlink(path);
        snprintf(path, sizeof path, "%s/records.jsonl", dirs[i]); unlink(path);
        rmdir(dirs[i]);
    }
    train_data_free(&d);
}

static void test_data(const char *data) {
    int p1[50], p2[50], p3[50];
    train_data_order(p1, 50, 3, 1, 1);
    train_data_order(p2, 50, 3, 1, 1);
    train_data_order(p3, 50, 3, 2, 1);
    CHECK(!memcmp(p1, p2, sizeof p1));
    CHECK(memcmp(p1, p3, sizeof p1) != 0);
    int seen[50] = {0};
    for (int i = 0; i < 50; i++) seen[p1[i]]++;
    int perm_ok = 1;
    for (int i = 0; i < 50; i++) perm_ok &= seen[i] == 1;
    CHECK(perm_ok);
    train_split s = train_split_portion(50000, 0.5);
    CHECK(s.train0 == 0 && s.n_train == 25000 && s.valid0 == 25000 && s.n_valid == 25000);
    train_data d;
    char err[FN_ERRLEN];
    if (train_data_load(&d, "cifar10", data, 8, err, sizeof err)) {
        fprintf(stderr, "FAIL data: %s\n", err);
        test_failures++;
        return;
    }
    float a[3072], b[3072];
    train_data_sample(&d, 3, a, 0, 1, 0, 0, 0, 0, 0);
    CHECK(!memcmp(a, d.x + 3 * 3072, sizeof a)); /* no augmentation: the image */
    train_data_sample(&d, 3, a, 0, 1, 0, 0, 0, 1, 0);
    int flipped = 0, same = 0;
    for (int i = 0; i < 3072; i++) {
        const int x = i % 32, base = i - x;
        flipped += a[i] == d.x[3 * 3072 + base + 31 - x];
        same += a[i] == d.x[3 * 3072 + i];
    }
    CHECK(flipped == 3072 || same == 3072);
    train_data_sample(&d, 3, a, 0, 1, 4, 9, 4, 1, 16);
    train_data_sample(&d, 3, b, 0, 1, 4, 9, 4, 1, 16);
    CHECK(!memcmp(a, b, sizeof a));
    int zeros = 0;
    for (int i = 0; i < 3072; i++) zeros += a[i] == 0;
    CHECKF(zeros >= 3 * 64 && zeros <= 3 * 256, "cutout zeroed %d values", zeros);
    train_data_free(&d);
}

int main(int argc, char **argv) {
    const char *data = argc > 1 ? argv[1] : "../shared/data";
    const char *part = argc > 2 ? argv[2] : "all";
    const int all = !strcmp(part, "all");
    if (all || !strcmp(part, "ops")) test_ops();
    if (all || !strcmp(part, "data")) test_data(data);
    if (all || !strcmp(part, "fd")) test_fd();
    if (all || !strcmp(part, "threads")) test_threads();
    if (all || !strcmp(part, "resume")) test_resume(data);
    return test_summary("test_train");
}
