/* bench/hnas_ntk_ref.c: freenas's HNAS metrics on the very weights and batch PyTorch used
 * (hnas/README.md, "M and kappa against PyTorch"). Each FILE is an FNREF001 container written by
 * bench/pytorch/hnas_ntk_torch.py (mode `same`): the architecture's ops (`arch_ops`, freenas op
 * order), every parameter of ZC's NAS201Model that runs under freenas's graph names, `input`
 * [64,3,32,32], `labels`, PyTorch's `M`, `kappa`, `grad_norm`, `snip`, its Theta (`theta`) and
 * per-layer diagonals of Theta (`ntkdiag.<layer>` [64]: ||g_n||^2 of that layer's weight and bias).
 * The network is nasbench/nb201_net.c's with cell_conv_bias (the hnas_* proxies' network),
 * float32, train-mode BN; the values come from the proxies' own code (proxy_ntk_trace,
 * proxy_ntk_cond, proxy_grad_norm, proxy_snip). To locate a difference, a second true-class
 * pass recomputes each layer's per-sample ||g_n||^2 (conv2d_backward_f64 per sample, as
 * proxies/proxy_ntk.c) and compares it with PyTorch's. One JSON line per file:
 *   {"index", "arch", "freenas": {M, kappa, grad_norm, snip}, "pytorch": {...},
 *    "rel": {M, kappa, grad_norm, snip}, "theta_max_rel", "layers", "worst_layer", ...}
 * theta_max_rel = max |Theta_f - Theta_t| / max |Theta_t|; a layer's rel the max over samples
 * of |diag_f - diag_t| / max(diag_t). Exit 1 when some rel of M exceeds --tol (1e-4).
 * --f64 runs the executor in float64 on the same (exactly cast) weights and batch and compares
 * with PyTorch's float64 values (`M_f64`, ..., `theta_f64`, `ntkdiag64.<layer>`): agreement
 * there to ~1e-10 with a float32 difference larger than that is float32 rounding, amplified
 * by the network, not a difference in what is computed.
 *   ./build/bin/hnas_ntk_ref [--tol 1e-4] [--f64] FILE... */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"
#include "datasets/refbin.h"
#include "engine/exec.h"
#include "nasbench/nb201_net.h"
#include "nn/conv2d.h"
#include "proxies/proxy_impl.h"

static int use_f64; /* --f64: float64 executor, compared with the *_f64 values */

typedef struct {
    const fn_ref_file *ref;
    double worst;      /* max layer rel */
    char worst_name[FN_NAME_LEN + 16];
    int layers, missing;
} diag_acc;

/* ||g_n||^2 of one conv / linear layer (weight and bias) for every sample, in double. */
static void layer_diag(const fn_exec *e, const fn_node *nd, double *d) {
    const fn_graph *g = e->g;
    const fn_tensor *ti = &g->t[nd->in[0]], *to = &g->t[nd->out];
    const int N = ti->n;
    const size_t xin = graph_tensor_numel(g, nd->in[0]) / N, xout = graph_tensor_numel(g, nd->out) / N;
    const size_t es = e->dtype == FN_F64 ? sizeof(double) : sizeof(float);
    double *xb = mallocCheck(sizeof(double) * (xin + xout));
    double *db = xb + xin;
    for (int n = 0; n < N; n++) {
        proxy_to_double(e, (const char *)exec_tensor(e, nd->in[0]) + es * xin * n, xin, xb);
        proxy_to_double(e, (const char *)exec_tensor_grad(e, nd->out) + es * xout * n, xout, db);
        double s = 0;
        if (nd->kind == FN_NODE_LINEAR) { /* ||delta (x) x||^2 + ||delta||^2 */
            double dd = 0, xx = 0;
            for (size_t o = 0; o < xout; o++) dd += db[o] * db[o];
            for (size_t i = 0; i < xin; i++) xx += xb[i] * xb[i];
            s = dd * xx + (nd->b >= 0 ? dd : 0);
        } else {
            conv2d_dims c = {1, ti->c, ti->h, ti->w, to->c, nd->k, nd->stride, nd->pad, nd->dil,
                             nd->groups, nd->ho, nd->wo};
            const size_t PW = g->p[nd->w].numel, hw = (size_t)to->h * to->w;
            double *row = callocCheck(PW, sizeof(double));
            double *ws = mallocCheck(sizeof(double) * (conv2d_workspace(&c) + 64));
            conv2d_backward_f64(NULL, row, db, xb, NULL, &c, ws, 1);
            for (size_t i = 0; i < PW; i++) s += row[i] * row[i];
            for (int ch = 0; nd->b >= 0 && ch < to->c; ch++) {
                double sb = 0;
                for (size_t q = 0; q < hw; q++) sb += db[ch * hw + q];
                s += sb * sb;
            }
            free(row);
            free(ws);
        }
        d[n] = s;
    }
    free(xb);
}

static void diag_hook(void *user, const fn_exec *e, int node) {
    const fn_node *nd = &e->g->nodes[node];
    if (nd->kind != FN_NODE_CONV && nd->kind != FN_NODE_LINEAR) return;
    diag_acc *a = user;
    char name[FN_NAME_LEN + 16];
    snprintf(name, sizeof name, "%s.%s", use_f64 ? "ntkdiag64" : "ntkdiag", e->g->p[nd->w].name);
    name[strlen(name) - strlen(".weight")] = '\0';
    const fn_ref_tensor *t = refbin_get(a->ref, name);
    const int N = e->g->t[nd->in[0]].n;
    if (!t || (int)t->numel != N) {
        a->missing++;
        return;
    }
    double *d = mallocCheck(sizeof(double) * (size_t)N), mx = 0, err = 0;
    layer_diag(e, nd, d);
    for (int n = 0; n < N; n++) mx = fmax(mx, fabs(t->data[n]));
    for (int n = 0; n < N; n++) err = fmax(err, fabs(d[n] - t->data[n]));
    const double rel = mx > 0 ? err / mx : err;
    if (rel >= a->worst) {
        a->worst = rel;
        snprintf(a->worst_name, sizeof a->worst_name, "%s", strchr(name, '.') + 1);
    }
    a->layers++;
    free(d);
}

static double scalar(const fn_ref_file *r, const char *key) {
    char name[64];
    snprintf(name, sizeof name, "%s%s", key, use_f64 ? "_f64" : "");
    const fn_ref_tensor *t = refbin_get(r, name);
    return t && t->numel == 1 ? t->data[0] : NAN;
}

static double rel(double a, double b) { return fabs(a - b) / fmax(fabs(b), 1e-300); }

/* One file; 0, 1 (M out of tolerance) or 2 (bad file). */
static int score_file(const char *path, double tol) {
    fn_ref_file ref;
    char err[FN_ERRLEN];
    if (refbin_load(path, &ref, err, sizeof err)) {
        fprintf(stderr, "hnas_ntk_ref: %s: %s\n", path, err);
        return 2;
    }
    const fn_ref_tensor *ao = refbin_get(&ref, "arch_ops"), *in = refbin_get(&ref, "input"),
                        *lab = refbin_get(&ref, "labels");
    if (!ao || ao->numel != NB201_EDGES || !in || in->ndim != 4 || !lab ||
        lab->numel != (size_t)in->dims[0]) {
        fprintf(stderr, "hnas_ntk_ref: %s: needs arch_ops [6], input [N,3,32,32], labels [N]\n", path);
        refbin_free(&ref);
        return 2;
    }
    int ops[NB201_EDGES];
    for (int e = 0; e < NB201_EDGES; e++) ops[e] = (int)ao->data[e];
    const int N = in->dims[0];
    const nb201_config cfg = {16, 5, 10, 32, 32, N, 1}; /* ZC's NAS201Model: cell convs with bias */
    fn_graph g;
    graph_init(&g);
    nb201_net_build(&g, &cfg, ops);
    unsigned char *keep = mallocCheck((size_t)g.nt);
    fn_exec_opts eo = proxy_exec_opts(&g, FN_PX_INPUT_GRAD | FN_PX_KEEP_CONV_IN | FN_PX_PARAM_GRADS,
                                      keep);
    eo.eager = 1;
    fn_exec e;
    const fn_dtype dt = use_f64 ? FN_F64 : FN_F32;
    if (exec_init_opts(&e, &g, dt, &eo)) FN_FATAL("%s", exec_error());
    e.bn_mode = FN_BN_TRAIN;
    int rc = 0;
    for (int p = 0; p < g.np; p++) { /* every graph parameter from the file, by name */
        const fn_ref_tensor *t = refbin_get(&ref, g.p[p].name);
        if (!t || t->numel != g.p[p].numel) {
            fprintf(stderr, "hnas_ntk_ref: %s: parameter %s %s\n", path, g.p[p].name,
                    t ? "has the wrong size" : "missing");
            rc = 2;
            continue;
        }
        for (size_t i = 0; i < t->numel; i++) exec_set(e.params, dt, g.p[p].off + i, t->data[i]);
    }
    int nref = 0; /* and every stored parameter is one of the graph's */
    for (int i = 0; i < ref.count; i++)
        if (strncmp(ref.t[i].name, "ntkdiag", 7) &&
            (strstr(ref.t[i].name, ".weight") || strstr(ref.t[i].name, ".bias"))) {
            nref++;
            if (graph_param_find(&g, ref.t[i].name) < 0) {
                fprintf(stderr, "hnas_ntk_ref: %s: graph lacks %s\n", path, ref.t[i].name);
                rc = 2;
            }
        }
    if (rc) goto done;
    exec_params_changed(&e);
    float *x = mallocCheck(sizeof(float) * in->numel);
    int *y = mallocCheck(sizeof(int) * (size_t)N);
    for (size_t i = 0; i < in->numel; i++) x[i] = (float)in->data[i];
    for (int n = 0; n < N; n++) y[n] = (int)lab->data[n];
    fn_proxy_scratch scr = {0};
    fn_proxy_job j;
    proxy_job_init(&j, &g, &e, x, y, &scr);
    double f[4];
    int (*const fns[4])(fn_proxy_job *, double *, char *, size_t) = {
        proxy_ntk_trace, proxy_ntk_cond, proxy_grad_norm, proxy_snip};
    const char *key[4] = {"M", "kappa", "grad_norm", "snip"};
    for (int k = 0; k < 4; k++)
        if (fns[k](&j, &f[k], err, sizeof err)) fprintf(stderr, "hnas_ntk_ref: %s: %s\n", path, err);
    const fn_ref_tensor *th = refbin_get(&ref, use_f64 ? "theta_f64" : "theta");
    double tmax = 0, terr = 0;
    if (th && th->numel == (size_t)N * N) {
        for (size_t i = 0; i < th->numel; i++) tmax = fmax(tmax, fabs(th->data[i]));
        for (size_t i = 0; i < th->numel; i++) terr = fmax(terr, fabs(j.theta[i] - th->data[i]));
    }
    diag_acc da = {&ref, 0, "", 0, 0};
    e.bwd_hook = diag_hook;
    e.bwd_hook_user = &da;
    proxy_pass(&j, FN_PX_LOSS_TRUECLASS);
    e.bwd_hook = NULL;
    char arch[128];
    nb201_arch_string(ops, arch, sizeof arch);
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    int index = -1;
    sscanf(base, "arch%d", &index);
    printf("{\"index\": %d, \"arch\": \"%s\", \"params\": %d, \"freenas\": {", index, arch, nref);
    for (int k = 0; k < 4; k++) printf("%s\"%s\": %.9g", k ? ", " : "", key[k], f[k]);
    printf("}, \"pytorch\": {");
    for (int k = 0; k < 4; k++) printf("%s\"%s\": %.9g", k ? ", " : "", key[k], scalar(&ref, key[k]));
    const fn_ref_tensor *k32 = refbin_get(&ref, "kappa_f32gram"); /* HNAS's float32 Gram */
    printf(", \"kappa_f32gram\": %.9g}, \"precision\": %d, \"rel\": {",
           k32 && k32->numel == 1 ? k32->data[0] : NAN, use_f64 ? 64 : 32);
    for (int k = 0; k < 4; k++) printf("%s\"%s\": %.3g", k ? ", " : "", key[k], rel(f[k], scalar(&ref, key[k])));
    printf("}, \"theta_max_rel\": %.3g, \"layers\": %d, \"layers_missing\": %d, "
           "\"worst_layer\": \"%s\", \"worst_layer_rel\": %.3g}\n",
           tmax > 0 ? terr / tmax : terr, da.layers, da.missing, da.worst_name, da.worst);
    fflush(stdout);
    if (!(rel(f[0], scalar(&ref, "M")) <= tol)) rc = 1;
    proxy_scratch_free(&scr);
    free(x);
    free(y);
done:
    exec_free(&e);
    free(keep);
    graph_free(&g);
    refbin_free(&ref);
    return rc;
}

int main(int argc, char **argv) {
    double tol = 1e-4;
    int first = 1, rc = 0;
    for (; first < argc && argv[first][0] == '-' && argv[first][1] == '-'; first++) {
        if (!strcmp(argv[first], "--f64")) use_f64 = 1;
        else if (!strcmp(argv[first], "--tol") && first + 1 < argc) tol = atof(argv[++first]);
        else break;
    }
    if (first >= argc || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fprintf(stderr, "usage: hnas_ntk_ref [--tol 1e-4] [--f64] FILE...  (FNREF001 files of "
                "bench/pytorch/hnas_ntk_torch.py same)\n");
        return 2;
    }
    for (int i = first; i < argc; i++) {
        const int r = score_file(argv[i], tol);
        if (r > rc) rc = r;
    }
    return rc;
}
