/* tests/test_ops_tangent.c: every tangent rule of the exact Hessian-vector product
 * (engine/graph_hvp.c) against float64 central finite differences of the op it differentiates:
 * for an op F (a forward, or a backward as a function of its inputs and dout) and a random
 * direction v of all its inputs, tangent(F) = (F(theta + h v) - F(theta - h v)) / 2h,
 * h = 1e-6, |fd - an| <= 1e-7 + 1e-6 |an|.
 *   batch norm (train mode), forward: output and the batch statistics' tangents;
 *   batch norm, backward: d input, d gamma, d beta, from a saved input (affine) and from a
 *     saved x_hat (non-affine: the planner keeps the output);
 *   max pool forward (argmax fixed: random inputs have no ties within h);
 *   mix forward and backward (d input and d alpha) in (alpha, inputs, dout);
 *   cross-entropy backward in the logits.
 * Conv, linear, ReLU, the pools' backward, concat and subsample are linear in what their
 * tangents vary, or bilinear and then built from their checked forward / backward
 * (tests/test_ops_grad.c), and are covered by the whole-graph checks of tests/test_hvp.c.
 *   ./build/bin/test_ops_tangent */
#include <math.h>
#include <string.h>

#include "base/common.h"
#include "nn/batchnorm2d.h"
#include "nn/cross_entropy.h"
#include "nn/pool2d.h"
#include "nn/tensor_ops.h"
#include "tests/test_util.h"

#define H 1e-6
#define ATOL 1e-7
#define RTOL 1e-6

static unsigned rng = 4242u;

static double *rnd(size_t n) {
    double *p = mallocCheck(sizeof(double) * (n ? n : 1));
    for (size_t i = 0; i < n; i++) p[i] = test_rand(&rng);
    return p;
}
static double *zeros(size_t n) { return callocCheck(n ? n : 1, sizeof(double)); }

/* x +- h v into out */
static void step(double *out, const double *x, const double *v, double s, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = x[i] + s * v[i];
}
/* (p - m) / 2h */
static void cdiff(double *fd, const double *p, const double *m, size_t n) {
    for (size_t i = 0; i < n; i++) fd[i] = (p[i] - m[i]) / (2 * H);
}

/* ---------------------------------------------------------------- batch norm ---------- */
enum { BN_N = 3, BN_C = 4, BN_HW = 5 };
#define BN_SZ ((size_t)BN_N * BN_C * BN_HW)

typedef struct {
    double x[BN_SZ], g[BN_C], b[BN_C], dy[BN_SZ];
} bn_point;

static void bn_move(bn_point *o, const bn_point *p, const bn_point *v, double s) {
    step(o->x, p->x, v->x, s, BN_SZ);
    step(o->g, p->g, v->g, s, BN_C);
    step(o->b, p->b, v->b, s, BN_C);
    step(o->dy, p->dy, v->dy, s, BN_SZ);
}

/* forward (y, mean, invstd) and backward (dx, dgamma, dbeta) at a point, concatenated */
#define BN_OUT (BN_SZ + 2 * BN_C + BN_SZ + 2 * BN_C)
static void bn_eval(const bn_point *p, int affine, double *out) {
    double *y = out, *mean = y + BN_SZ, *is = mean + BN_C, *dx = is + BN_C, *dg = dx + BN_SZ,
           *db = dg + BN_C;
    memset(dx, 0, sizeof(double) * (BN_SZ + 2 * BN_C));
    batchnorm2d_forward_f64(y, mean, is, p->x, affine ? p->g : NULL, affine ? p->b : NULL,
                            BN_N, BN_C, BN_HW, FN_BN_EPS);
    batchnorm2d_backward_f64(dx, affine ? dg : NULL, affine ? db : NULL, p->dy,
                             affine ? p->x : y, !affine, mean, is, affine ? p->g : NULL, BN_N,
                             BN_C, BN_HW, 1);
}

static void check_bn(int affine) {
    bn_point p, v, q;
    double *r = rnd(2 * BN_SZ + 2 * BN_C);
    memcpy(p.x, r, sizeof p.x);
    memcpy(p.dy, r + BN_SZ, sizeof p.dy);
    for (int c = 0; c < BN_C; c++) {
        p.g[c] = 1 + 0.5 * r[2 * BN_SZ + c];
        p.b[c] = r[2 * BN_SZ + BN_C + c];
        p.x[c] += c; /* channels with their own means */
    }
    free(r);
    r = rnd(2 * BN_SZ + 2 * BN_C);
    memcpy(v.x, r, sizeof v.x);
    memcpy(v.dy, r + BN_SZ, sizeof v.dy);
    memcpy(v.g, r + 2 * BN_SZ, sizeof v.g);
    memcpy(v.b, r + 2 * BN_SZ + BN_C, sizeof v.b);
    free(r);
    if (!affine) memset(v.g, 0, sizeof v.g), memset(v.b, 0, sizeof v.b);
    double *fp = zeros(BN_OUT), *fm = zeros(BN_OUT), *fd = zeros(BN_OUT), *at = zeros(BN_OUT);
    bn_move(&q, &p, &v, H);
    bn_eval(&q, affine, fp);
    bn_move(&q, &p, &v, -H);
    bn_eval(&q, affine, fm);
    cdiff(fd, fp, fm, BN_OUT);
    /* analytic: the primal at p, then the tangents */
    bn_eval(&p, affine, at + 0); /* fills mean, invstd (and y) at p */
    double *y = at, *mean = y + BN_SZ, *is = mean + BN_C;
    double ty[BN_SZ], tmean[BN_C], tis[BN_C], tdx[BN_SZ] = {0}, tdg[BN_C] = {0}, tdb[BN_C] = {0};
    batchnorm2d_forward_tangent_f64(ty, tmean, tis, v.x, p.x, mean, is, affine ? p.g : NULL,
                                    affine ? v.g : NULL, affine ? v.b : NULL, BN_N, BN_C, BN_HW);
    batchnorm2d_backward_tangent_f64(tdx, affine ? tdg : NULL, affine ? tdb : NULL, p.dy, v.dy,
                                     affine ? p.x : y, affine ? v.x : ty, !affine, mean, is,
                                     tmean, tis, affine ? p.g : NULL, affine ? v.g : NULL, BN_N,
                                     BN_C, BN_HW);
    const char *tag = affine ? "affine" : "x_hat saved";
    char what[96];
    snprintf(what, sizeof what, "bn forward tangent (%s)", tag);
    check_close(what, ty, fd, BN_SZ, ATOL, RTOL);
    snprintf(what, sizeof what, "bn mean tangent (%s)", tag);
    check_close(what, tmean, fd + BN_SZ, BN_C, ATOL, RTOL);
    snprintf(what, sizeof what, "bn invstd tangent (%s)", tag);
    check_close(what, tis, fd + BN_SZ + BN_C, BN_C, ATOL, RTOL);
    snprintf(what, sizeof what, "bn backward tangent dx (%s)", tag);
    check_close(what, tdx, fd + BN_SZ + 2 * BN_C, BN_SZ, ATOL, RTOL);
    if (affine) {
        check_close("bn backward tangent dgamma", tdg, fd + 2 * BN_SZ + 2 * BN_C, BN_C, ATOL, RTOL);
        check_close("bn backward tangent dbeta", tdb, fd + 2 * BN_SZ + 3 * BN_C, BN_C, ATOL, RTOL);
    }
    free(fp); free(fm); free(fd); free(at);
}

/* ---------------------------------------------------------------- max pool ------------ */
static void check_maxpool(void) {
    pool2d_dims d = {2, 3, 7, 6, 3, 2, 1, 0, 0};
    CHECK(pool2d_dims_init(&d) == 0);
    const size_t ni = (size_t)d.n * d.c * d.h * d.w, no = (size_t)d.n * d.c * d.ho * d.wo;
    double *x = rnd(ni), *v = rnd(ni), *q = zeros(ni), *yp = zeros(no), *ym = zeros(no),
           *fd = zeros(no), *t = zeros(no);
    step(q, x, v, H, ni);
    maxpool2d_forward_f64(yp, q, &d);
    step(q, x, v, -H, ni);
    maxpool2d_forward_f64(ym, q, &d);
    cdiff(fd, yp, ym, no);
    maxpool2d_forward_tangent_f64(t, v, x, &d);
    check_close("maxpool forward tangent", t, fd, no, ATOL, RTOL);
    free(x); free(v); free(q); free(yp); free(ym); free(fd); free(t);
}

/* ---------------------------------------------------------------- mix ------------------ */
enum { MX_K = 4, MX_N = 37 };
static void mix_eval(double *const *in, const double *alpha, const double *dout,
                     const int *aidx, double *out) {
    /* out = [y, dx_0..dx_k-1, dalpha[3]] */
    double *y = out, *dx[MX_K], *da = out + (MX_K + 1) * MX_N;
    memset(out, 0, sizeof(double) * ((MX_K + 1) * MX_N + 3));
    for (int j = 0; j < MX_K; j++) dx[j] = out + (j + 1) * MX_N;
    mix_forward_f64(y, in, aidx, alpha, MX_K, MX_N);
    mix_backward_f64(dx, da, dout, in, aidx, alpha, MX_K, MX_N, NULL);
}

static void check_mix(void) {
    const int aidx[MX_K] = {0, -1, 2, 1}; /* a plain term (coefficient 1) among mixed ones */
    const size_t nout = (MX_K + 1) * MX_N + 3;
    double *x[MX_K], *tx[MX_K], *q[MX_K];
    for (int j = 0; j < MX_K; j++) { x[j] = rnd(MX_N); tx[j] = rnd(MX_N); q[j] = zeros(MX_N); }
    double *a = rnd(3), *ta = rnd(3), *qa = zeros(3), *dy = rnd(MX_N), *tdy = rnd(MX_N),
           *qdy = zeros(MX_N);
    double *fp = zeros(nout), *fm = zeros(nout), *fd = zeros(nout), *an = zeros(nout);
    for (int s = -1; s <= 1; s += 2) {
        for (int j = 0; j < MX_K; j++) step(q[j], x[j], tx[j], s * H, MX_N);
        step(qa, a, ta, s * H, 3);
        step(qdy, dy, tdy, s * H, MX_N);
        mix_eval(q, qa, qdy, aidx, s > 0 ? fp : fm);
    }
    cdiff(fd, fp, fm, nout);
    double *tdx[MX_K];
    for (int j = 0; j < MX_K; j++) tdx[j] = an + (j + 1) * MX_N;
    mix_forward_tangent_f64(an, tx, x, aidx, a, ta, MX_K, MX_N);
    mix_backward_tangent_f64(tdx, an + (MX_K + 1) * MX_N, dy, tdy, x, tx, aidx, a, ta, MX_K,
                             MX_N);
    check_close("mix forward tangent", an, fd, MX_N, ATOL, RTOL);
    check_close("mix backward tangent d inputs", an + MX_N, fd + MX_N, MX_K * MX_N, ATOL, RTOL);
    check_close("mix backward tangent d alpha", an + (MX_K + 1) * MX_N,
                fd + (MX_K + 1) * MX_N, 3, ATOL, RTOL);
    for (int j = 0; j < MX_K; j++) { free(x[j]); free(tx[j]); free(q[j]); }
    free(a); free(ta); free(qa); free(dy); free(tdy); free(qdy);
    free(fp); free(fm); free(fd); free(an);
}

/* ---------------------------------------------------------------- cross-entropy -------- */
static void check_xent(void) {
    enum { N = 5, K = 7 };
    const int labels[N] = {0, 3, 6, 2, 2};
    double *z = rnd(N * K), *tz = rnd(N * K), *q = zeros(N * K), *dp = zeros(N * K),
           *dm = zeros(N * K), *fd = zeros(N * K), *t = zeros(N * K);
    for (int i = 0; i < N * K; i++) z[i] *= 3;
    step(q, z, tz, H, N * K);
    cross_entropy_backward_f64(dp, q, labels, N, K, 1.0);
    step(q, z, tz, -H, N * K);
    cross_entropy_backward_f64(dm, q, labels, N, K, 1.0);
    cdiff(fd, dp, dm, N * K);
    cross_entropy_backward_tangent_f64(t, z, tz, N, K, 1.0);
    check_close("cross-entropy backward tangent", t, fd, N * K, ATOL, RTOL);
    /* a non-degenerate check: the tangent is not all zero */
    double s = 0;
    for (int i = 0; i < N * K; i++) s += fabs(t[i]);
    CHECK(s > 1e-3);
    free(z); free(tz); free(q); free(dp); free(dm); free(fd); free(t);
}

int main(void) {
    check_bn(1);
    check_bn(0);
    check_maxpool();
    check_mix();
    check_xent();
    return test_summary("test_ops_tangent");
}
