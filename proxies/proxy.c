/* proxies/proxy.c: the proxy registry and the per-architecture driver (see proxies/proxy.h).
 *
 * proxy_score_ops groups the requested proxies by (batch, precision, BN mode); per group it
 * builds the benchmark network once, makes one executor with the union of what its proxies
 * need, draws the weights from the seed, and runs the proxies in the order given. A proxy
 * that changes the parameters (synflow takes |W|) makes the next one start from freshly drawn
 * weights. Counting proxies (params, flops) read any group's graph. */
#include "proxies/proxy.h"

#include <math.h>
#include <string.h>

#include "datasets/dataset.h"
#include "nasbench/nb201_benchmark.h"
#include "nasbench/nb201_net.h"
#include "proxies/proxy_impl.h"
#include "base/common.h"
#include "nn/rng.h"

#define GRAD FN_PX_PARAM_GRADS
#define IN_GRAD FN_PX_INPUT_GRAD
/* The NTK pairs read every conv and linear layer's output gradient through the backward hook,
 * so the backward must visit every layer that reaches the output, not only those that depend
 * on the input: a layer fed by a `none`-only node (graph_zero reads nothing) still gets an
 * output gradient in PyTorch, whose autograd keeps x.mul(0) in the graph, and its bias enters
 * G (behind train-mode BN of a constant input, amplified by 1/sqrt(eps)); the classifier bias
 * of a network whose output ignores the input gives M = 1. Asking for parameter gradients
 * makes the executor visit them (the values of every other network are unchanged). */
#define NTK_VISIT FN_PX_PARAM_GRADS
static const fn_proxy proxy_table[] = {
    {"params", "parameters of the network (all, as AD counts them)", 0, 0, 0, 0, FN_BN_TRAIN, 0,
     +1, 0, proxy_params, 0},
    {"flops", "conv + linear multiply-adds (+ bias additions) at batch 1, AD's FLOPs", 0, 0, 0,
     0, FN_BN_TRAIN, 0, +1, 0, proxy_flops, 0},
    {"synflow", "sum |W * dR/dW|, R = sum of logits, |params|, all-ones input, BN removed", 0, 0,
     1, 64, FN_BN_OFF, 0, +1, GRAD | FN_PX_MODIFIES_PARAMS, proxy_synflow, 0},
    {"snip", "sum |W * dL/dW|, L = cross-entropy", 1, 1, 64, 32, FN_BN_TRAIN, 1, +1, GRAD,
     proxy_snip, 0},
    {"grad_norm", "sum over layers of ||dL/dW||_F", 1, 1, 64, 32, FN_BN_TRAIN, 1, +1, GRAD,
     proxy_grad_norm, 0},
    {"naswot", "log|det K|, K[i,j] = ReLU units with equal on/off state in samples i, j", 1, 0,
     128, 32, FN_BN_TRAIN, 0, +1, 0, proxy_naswot, 0},
    {"grasp", "-sum W * (H g), g = dL/dW held fixed (H g: exact Hessian-vector product, ReLU "
     "masks fixed as in autograd)", 1, 1, 64, 64, FN_BN_TRAIN, 1, +1, GRAD | FN_PX_KEEP_CONV_OUT,
     proxy_grasp, 0},
    {"fisher", "sum fan_in * 1/2 mean_n (sum_hw a * dL/da)^2 per conv/linear output channel", 1,
     1, 64, 32, FN_BN_TRAIN, 1, +1, IN_GRAD | FN_PX_KEEP_CONV_OUT, proxy_fisher, 0},
    {"jacob_cov", "-sum log(v + 1e-5) + 1/(v + 1e-5), v = eigenvalues of corrcoef(dy/dx)", 1, 0,
     64, 32, FN_BN_TRAIN, 1, +1, IN_GRAD, proxy_jacob_cov, 0},
    {"ntk_trace", "sqrt(tr Theta / N), Theta = G G^T, G = per-sample d f_y / d(W, b)", 1, 1, 64,
     32, FN_BN_TRAIN, 1, +1, IN_GRAD | NTK_VISIT | FN_PX_KEEP_CONV_IN, proxy_ntk_trace, 0},
    {"ntk_cond", "lambda_max / lambda_min of Theta (NaN -> 1e5)", 1, 1, 64, 32, FN_BN_TRAIN, 1,
     -1, IN_GRAD | NTK_VISIT | FN_PX_KEEP_CONV_IN, proxy_ntk_cond, 0},
    /* HNAS's setting (docs/METHOD.md §4.2): ZC's NAS201Model, fresh weights and batch per arch */
    {"hnas_ntk_trace", "HNAS's M: ntk_trace on ZC's NAS201Model (cell conv biases in G), fresh "
     "weights and batch per arch", 1, 1, 64, 32, FN_BN_TRAIN, 1, +1,
     IN_GRAD | NTK_VISIT | FN_PX_KEEP_CONV_IN, proxy_ntk_trace, 1},
    {"hnas_ntk_cond", "HNAS's kappa: ntk_cond on ZC's NAS201Model, fresh weights and batch per "
     "arch", 1, 1, 64, 32, FN_BN_TRAIN, 1, -1, IN_GRAD | NTK_VISIT | FN_PX_KEEP_CONV_IN, proxy_ntk_cond, 1},
    {"hnas_grad_norm", "grad_norm on ZC's NAS201Model, fresh weights and batch per arch", 1, 1,
     64, 32, FN_BN_TRAIN, 1, +1, GRAD, proxy_grad_norm, 1},
    {"hnas_snip", "snip on ZC's NAS201Model, fresh weights and batch per arch", 1, 1, 64, 32,
     FN_BN_TRAIN, 1, +1, GRAD, proxy_snip, 1},
    {"hnas_grasp", "grasp on ZC's NAS201Model, fresh weights and batch per arch", 1, 1, 64, 32,
     FN_BN_TRAIN, 1, +1, GRAD | FN_PX_KEEP_CONV_OUT, proxy_grasp, 1},
};
#define N_PROXIES (int)(sizeof proxy_table / sizeof proxy_table[0])

const fn_proxy *proxy_find(const char *name) {
    for (int i = 0; i < N_PROXIES; i++)
        if (strcmp(proxy_table[i].name, name) == 0) return &proxy_table[i];
    return NULL;
}

int proxy_count(void) { return N_PROXIES; }
const fn_proxy *proxy_at(int i) { return i >= 0 && i < N_PROXIES ? &proxy_table[i] : NULL; }

uint64_t proxy_hnas_seed(uint64_t seed, int code) {
    uint64_t z = seed + 0x9e3779b97f4a7c15ull * (uint64_t)(code + 1);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

const char *proxy_names(void) {
    static char buf[512];
    if (!buf[0])
        for (int i = 0; i < N_PROXIES; i++) {
            strcat(buf, proxy_table[i].name);
            if (i + 1 < N_PROXIES) strcat(buf, ", ");
        }
    return buf;
}

void proxy_config_default(fn_proxy_config *c) {
    memset(c, 0, sizeof(*c));
    c->dataset = "cifar10";
    c->augment = -1;
    c->channels = 16;
    c->cells = 5;
    c->grasp_eps = 1e-7;
}

/* ------------------------------------------------------------------ context ---------- */

#define MAX_BATCHES 4
#define UCACHE_BYTES ((size_t)96 << 20) /* the draws of every NB201 layer slot: <= 88 MiB */

/* The uniform draws u(seed, p, i) of parameter slot p (nn/rng.h), kept across architectures:
 * the weights of slot p are bound_p (2u - 1) whatever the architecture, so a sweep draws each
 * value once instead of once per architecture (Philox is ~15 % of a SynFlow call). */
typedef struct {
    double *u;
    size_t n;
} ucache;

struct fn_proxy_ctx {
    fn_proxy_config c;
    const fn_dataset_info *ds;
    fn_batch batches[MAX_BATCHES]; /* cached by (n, augment) */
    int batch_aug[MAX_BATCHES], nbatches;
    nb201_benchmark *bench;
    fn_proxy_scratch scr;
    unsigned char *keep;
    int keep_cap;
    ucache *uc;
    int nuc;
    size_t uc_bytes;
    fn_arena_pool pool; /* activation / gradient arenas reused across networks */
    fn_batch arch_batch; /* the hnas_* proxies' batch of the current architecture */
    uint64_t arch_seed;
    int arch_aug;
};

/* exec_init_params(e, seed), bit for bit, from the cached draws; with own_seed (the hnas_*
 * proxies' per-architecture seed) straight from the generator */
static void ctx_init_params(fn_proxy_ctx *x, fn_exec *e, int own, uint64_t seed) {
    if (own) {
        exec_init_params(e, seed);
        return;
    }
    const fn_graph *g = e->g;
    if (g->np > x->nuc) {
        x->uc = realloc(x->uc, sizeof(ucache) * (size_t)g->np);
        if (!x->uc) FN_FATAL("out of memory (uniform cache)");
        memset(x->uc + x->nuc, 0, sizeof(ucache) * (size_t)(g->np - x->nuc));
        x->nuc = g->np;
    }
    for (int p = 0; p < g->np; p++) {
        const fn_param *pp = &g->p[p];
        ucache *c = &x->uc[p];
        if (pp->init == FN_INIT_KAIMING_U && c->n < pp->numel &&
            x->uc_bytes + sizeof(double) * (pp->numel - c->n) <= UCACHE_BYTES) {
            double *u = realloc(c->u, sizeof(double) * pp->numel);
            if (!u) FN_FATAL("out of memory (uniform cache)");
            fn_rng_uniform_fill(x->c.seed, (uint32_t)p, c->n, pp->numel - c->n, u + c->n);
            x->uc_bytes += sizeof(double) * (pp->numel - c->n);
            c->u = u;
            c->n = pp->numel;
        }
        const double bound = pp->fan_in > 0 ? 1.0 / sqrt((double)pp->fan_in) : 0;
        for (size_t i = 0; i < pp->numel; i++) {
            const double v = pp->init == FN_INIT_ONE    ? 1.0
                             : pp->init == FN_INIT_ZERO ? 0.0
                             : bound * (2.0 * (i < c->n ? c->u[i]
                                                        : fn_rng_uniform(x->c.seed, (uint32_t)p, i)) -
                                        1.0);
            if (e->dtype == FN_F64) ((double *)e->params)[pp->off + i] = v;
            else ((float *)e->params)[pp->off + i] = (float)v;
        }
    }
    exec_params_changed(e);
}

fn_status proxy_ctx_create(const fn_proxy_config *c, fn_proxy_ctx **out, char *err,
                           size_t errlen) {
    *out = NULL;
    const fn_dataset_info *ds = dataset_info(c->dataset ? c->dataset : "cifar10");
    if (!ds || ds->h > 32) {
        snprintf(err, errlen, "dataset '%s' has no NB201 benchmark network (known: cifar10, "
                 "cifar100, imagenet16-120)", c->dataset ? c->dataset : "(null)");
        return FN_ERR_CONFIG;
    }
    if (c->batch < 0 || c->channels <= 0 || c->cells <= 0 ||
        (c->precision && c->precision != 32 && c->precision != 64) || !(c->grasp_eps > 0)) {
        snprintf(err, errlen, "bad proxy configuration (batch >= 0, channels and cells > 0, "
                 "precision 0/32/64, grasp step > 0)");
        return FN_ERR_CONFIG;
    }
    fn_proxy_ctx *x = callocCheck(1, sizeof *x);
    x->c = *c;
    x->c.dataset = ds->name;
    x->ds = ds;
    *out = x;
    return FN_OK;
}

void proxy_ctx_free(fn_proxy_ctx *x) {
    if (!x) return;
    for (int i = 0; i < x->nbatches; i++) batch_free(&x->batches[i]);
    batch_free(&x->arch_batch);
    nb201_benchmark_free(x->bench);
    proxy_scratch_free(&x->scr);
    free(x->keep);
    for (int i = 0; i < x->nuc; i++) free(x->uc[i].u);
    free(x->uc);
    arena_pool_free(&x->pool);
    free(x);
}

/* The cached batch of n images (augmented or not); NULL with err on a data problem. */
static const fn_batch *ctx_batch(fn_proxy_ctx *x, int n, int augment, char *err, size_t errlen) {
    for (int i = 0; i < x->nbatches; i++)
        if (x->batches[i].n == n && x->batch_aug[i] == augment) return &x->batches[i];
    if (!x->c.data_path) {
        snprintf(err, errlen, "this proxy needs images: give the data path (--data)");
        return NULL;
    }
    if (x->nbatches == MAX_BATCHES) { /* evict the oldest */
        batch_free(&x->batches[0]);
        memmove(&x->batches[0], &x->batches[1], sizeof(fn_batch) * (MAX_BATCHES - 1));
        memmove(&x->batch_aug[0], &x->batch_aug[1], sizeof(int) * (MAX_BATCHES - 1));
        x->nbatches--;
    }
    fn_batch *b = &x->batches[x->nbatches];
    memset(b, 0, sizeof(*b));
    if (dataset_load_batch(x->c.dataset, x->c.data_path, n, x->c.seed, augment, b, err, errlen))
        return NULL;
    x->batch_aug[x->nbatches++] = augment;
    return b;
}

/* The hnas_* proxies' batch: n records drawn under the architecture's own seed (reloaded when
 * the seed, size or augmentation changes). */
static const fn_batch *arch_batch(fn_proxy_ctx *x, int n, int augment, uint64_t seed, char *err,
                                  size_t errlen) {
    if (x->arch_batch.x && x->arch_batch.n == n && x->arch_seed == seed &&
        x->arch_aug == augment)
        return &x->arch_batch;
    batch_free(&x->arch_batch);
    memset(&x->arch_batch, 0, sizeof x->arch_batch);
    if (!x->c.data_path) {
        snprintf(err, errlen, "this proxy needs images: give the data path (--data)");
        return NULL;
    }
    if (dataset_load_batch(x->c.dataset, x->c.data_path, n, seed, augment, &x->arch_batch, err,
                           errlen))
        return NULL;
    x->arch_seed = seed;
    x->arch_aug = augment;
    return &x->arch_batch;
}

/* ------------------------------------------------------------------ driver ----------- */

typedef struct {
    const fn_proxy *p;
    int batch, precision, augment, group;
} plan_item;

static void fail_item(fn_proxy_value *v, fn_status s, double t, fn_status *first, char *err,
                      size_t errlen, const char *msg) {
    v->value = NAN;
    v->status = s;
    v->seconds = t;
    if (*first == FN_OK) {
        *first = s;
        snprintf(err, errlen, "%s", msg);
    }
}

fn_status proxy_score_ops(fn_proxy_ctx *x, const int ops[NB201_EDGES], const char *const *names,
                          int n, fn_proxy_value *out, char *err, size_t errlen) {
    fn_status first = FN_OK;
    char msg[FN_ERRLEN];
    plan_item *it = callocCheck((size_t)(n > 0 ? n : 1), sizeof *it);
    for (int i = 0; i < n; i++) {
        out[i].value = NAN;
        out[i].status = FN_OK;
        out[i].seconds = 0;
        it[i].group = -1;
        it[i].p = proxy_find(names[i]);
        if (!it[i].p) {
            snprintf(msg, sizeof msg, "unknown proxy '%s' (known: %s)", names[i], proxy_names());
            fail_item(&out[i], FN_ERR_CONFIG, 0, &first, err, errlen, msg);
            continue;
        }
        const fn_proxy *p = it[i].p;
        it[i].batch = p->default_batch <= 1 ? p->default_batch
                      : x->c.batch          ? x->c.batch
                                            : p->default_batch;
        it[i].precision = p->score == proxy_grasp && !p->hnas ? 64
                          : x->c.precision       ? x->c.precision
                                                 : p->precision;
        it[i].augment = x->c.augment >= 0 ? x->c.augment : p->augment;
        it[i].group = i; /* the first item with the same executor key leads the group */
        for (int k = 0; k < i; k++)
            if (it[k].p && it[k].batch == it[i].batch && it[k].precision == it[i].precision &&
                it[k].p->bn_mode == p->bn_mode && it[k].p->hnas == p->hnas &&
                it[k].group == k) {
                it[i].group = k;
                break;
            }
    }
    const nb201_config base = {x->c.channels, x->c.cells, x->ds->classes, x->ds->h, x->ds->w, 1, 0};
    for (int lead = 0; lead < n; lead++) {
        if (!it[lead].p || it[lead].group != lead) continue;
        const double t0 = fn_now();
        fn_graph g;
        graph_init(&g);
        nb201_config cfg = base;
        cfg.batch = it[lead].batch > 0 ? it[lead].batch : 1;
        const int hnas = it[lead].p->hnas; /* per-arch weights and batch, ZC's cells */
        const uint64_t aseed = proxy_hnas_seed(x->c.seed, nb201_arch_code(ops));
        cfg.cell_conv_bias = hnas;
        nb201_net_build(&g, &cfg, ops);
        unsigned needs = 0;
        for (int i = lead; i < n; i++)
            if (it[i].group == lead) needs |= it[i].p->needs;
        fn_exec e;
        int have_exec = 0;
        fn_status gs = FN_OK;
        if (it[lead].batch > 0) { /* counting proxies alone need no executor */
            if (x->keep_cap < g.nt) {
                free(x->keep);
                x->keep = mallocCheck((size_t)g.nt);
                x->keep_cap = g.nt;
            }
            fn_exec_opts eo = proxy_exec_opts(&g, needs, x->keep);
            eo.device = x->c.device;
            eo.pool = &x->pool; /* host arenas only: a device backend ignores it */
            eo.eager = 1; /* each network runs a pass or two: capturing would not pay */
            const int erc = exec_init_opts(&e, &g, it[lead].precision == 64 ? FN_F64 : FN_F32, &eo);
            if (erc) {
                gs = erc == FN_EXEC_OOM ? FN_ERR_OOM : FN_ERR_DEVICE;
                snprintf(msg, sizeof msg, "%s", exec_error());
            } else {
                have_exec = 1;
                e.bn_mode = it[lead].p->bn_mode;
                ctx_init_params(x, &e, hnas, aseed);
            }
        }
        fn_proxy_job j;
        proxy_job_init(&j, &g, have_exec ? &e : NULL, NULL, NULL, &x->scr);
        j.grasp_eps = x->c.grasp_eps;
        int dirty = 0, cur_aug = -1;
        double t_shared = fn_now() - t0; /* build: charged to the group's first proxy */
        for (int i = lead; i < n; i++) {
            if (it[i].group != lead) continue;
            const double t1 = fn_now();
            const fn_proxy *p = it[i].p;
            if (gs != FN_OK && p->default_batch > 0) {
                fail_item(&out[i], gs, 0, &first, err, errlen, msg);
                continue;
            }
            if (p->needs_data) {
                const fn_batch *b = hnas ? arch_batch(x, it[i].batch, it[i].augment, aseed, msg,
                                                      sizeof msg)
                                         : ctx_batch(x, it[i].batch, it[i].augment, msg, sizeof msg);
                if (!b) {
                    fail_item(&out[i], FN_ERR_DATA, fn_now() - t1, &first, err, errlen, msg);
                    continue;
                }
                if (it[i].augment != cur_aug || j.x != b->x) j.ce_valid = j.theta_valid = 0;
                j.x = b->x;
                j.y = b->y;
                cur_aug = it[i].augment;
            } else {
                j.x = NULL; /* synflow: all ones */
                j.y = NULL;
                j.ce_valid = 0;
            }
            if (dirty && have_exec) { /* a previous proxy changed the weights */
                ctx_init_params(x, &e, hnas, aseed);
                j.ce_valid = j.theta_valid = 0;
                dirty = 0;
            }
            double v = NAN;
            char perr[FN_ERRLEN] = "";
            int rc = p->score(&j, &v, perr, sizeof perr);
            out[i].seconds = fn_now() - t1 + t_shared;
            t_shared = 0;
            if (p->needs & FN_PX_MODIFIES_PARAMS) dirty = 1;
            /* the proxy's worst infinity (-inf for a larger-is-better score) ranks last and
             * is a score; NaN and the best infinity are errors */
            if (rc || isnan(v) || v == p->sign * INFINITY) {
                if (!perr[0]) snprintf(perr, sizeof perr, "%s = %g is not finite", p->name, v);
                fail_item(&out[i], FN_ERR_NAN, out[i].seconds, &first, err, errlen, perr);
                out[i].value = v;
                continue;
            }
            out[i].value = v;
        }
        if (have_exec) exec_free(&e);
        graph_free(&g);
    }
    free(it);
    return first;
}

fn_status proxy_score(fn_proxy_ctx *x, const char *arch, const char *const *names, int n,
                      fn_proxy_value *out, char *err, size_t errlen) {
    int ops[NB201_EDGES];
    int is_index = arch[0] != '|';
    if (is_index && x->c.benchmark && !x->bench &&
        nb201_benchmark_load(x->c.benchmark, &x->bench, err, errlen)) {
        for (int i = 0; i < n; i++) out[i] = (fn_proxy_value){NAN, FN_ERR_DATA, 0};
        return FN_ERR_DATA;
    }
    if (nb201_net_resolve(arch, x->bench, ops, err, errlen)) {
        for (int i = 0; i < n; i++) out[i] = (fn_proxy_value){NAN, FN_ERR_CONFIG, 0};
        return FN_ERR_CONFIG;
    }
    return proxy_score_ops(x, ops, names, n, out, err, errlen);
}

fn_status fn_proxy_score(const char *proxy, const char *arch, const fn_proxy_config *c,
                         double *out, char *err, size_t errlen) {
    fn_proxy_ctx *x;
    fn_status s = proxy_ctx_create(c, &x, err, errlen);
    *out = NAN;
    if (s != FN_OK) return s;
    fn_proxy_value v;
    s = proxy_score(x, arch, &proxy, 1, &v, err, errlen);
    *out = v.value;
    proxy_ctx_free(x);
    return s;
}
