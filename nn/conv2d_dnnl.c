/* nn/conv2d_dnnl.c: float32 dense and depthwise convolutions through oneDNN (see
 * nn/conv2d_dnnl.h).
 *
 * Per shape, one cache entry holds the forward and backward-data primitives (their src,
 * weights and dst in the layouts oneDNN picks, format "any": nChw16c / OIhw16i16o on
 * AVX-512 and AVX2) and the reorders between those and NCHW / OIHW; the backward's last
 * reorder has a sum post-op for din +=. A call lays its blocked tensors and the primitives'
 * scratchpads out in its workspace (user-managed scratchpad mode, also for the reorders),
 * wraps the pointers in memory objects and runs on a stream of its own. */
#include "nn/conv2d_dnnl.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"

int conv2d_dnnl_enabled = -1; /* -1: not yet read from the environment */

#if FREENAS_HAVE_DNNL
#include <dnnl.h>

const int conv2d_dnnl_built = 1;

static int enabled(void) { return fn_env_switch(&conv2d_dnnl_enabled, "FREENAS_ONEDNN"); }

/* padding after the last row (column) that makes oneDNN's output size ours (floor division
 * drops input rows that no window reaches: then it is negative) */
static int pad_after(const conv2d_dims *d, int in, int out) {
    return (out - 1) * d->stride + (d->k - 1) * d->dil + 1 - in - d->pad;
}

static int depthwise(const conv2d_dims *d) {
    return d->groups == d->cin && d->cout == d->cin;
}

/* Dense: not 1x1, which needs no im2col in nn/conv2d.c (one GEMM on the image itself) and
 * got 2x slower through the reorders in and out (bench_profile, NB201 and DARTS SNIP).
 * Depthwise: planes of 16x16 and smaller, where nn/conv2d.c's direct kernels spend as much
 * on copying each plane into its padded buffer as on the taps (batch 16, 3x3: 7x7 C192
 * 0.05 against 0.21 ms, 14x14 C96 0.11 against 0.19; 28x28 C48 is even, 32x32 C16 slower:
 * 0.14 against 0.08). */
static int shape_fits(const conv2d_dims *d) {
    if (d->cin % 16 || d->cout % 16 || pad_after(d, d->h, d->ho) < 0 ||
        pad_after(d, d->w, d->wo) < 0)
        return 0;
    if (depthwise(d)) return d->h * d->w <= 256;
    return d->groups == 1 && d->k > 1;
}

#define DNNL_CHECK(call)                                                                   \
    do {                                                                                   \
        dnnl_status_t st_ = (call);                                                        \
        if (st_ != dnnl_success) FN_FATAL("oneDNN: %s returned status %d", #call, (int)st_); \
    } while (0)

enum { R_SRC, R_W, R_DST, R_DDST, R_W_B, R_DSRC, R_DSRC_SUM, NR };
enum { T_SRC, T_W, T_DST, T_DDST, T_W_B, T_DSRC, NT }; /* blocked tensors in the workspace */

typedef struct conv_entry {
    conv2d_dims d;
    dnnl_primitive_t fwd, bwd, re[NR];
    dnnl_memory_desc_t user_x, user_w, user_y; /* NCHW input, OIHW weights, NCHW output */
    dnnl_memory_desc_t blk[NT];
    size_t off[NT], scratch_off, fwd_scratch, bwd_scratch, re_scratch[NR], bytes;
    dnnl_memory_desc_t scratch_md[2 + NR];
    char impl[2][48]; /* oneDNN's names of the forward and backward kernels */
    int fast;         /* both are JIT kernels for AVX2 or AVX-512 */
    struct conv_entry *next;
} conv_entry;

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static conv_entry *cache;
static dnnl_engine_t engine;

static void free_cache(void);

void conv2d_dnnl_reset(void) {
    pthread_mutex_lock(&cache_lock);
    free_cache();
    pthread_mutex_unlock(&cache_lock);
}

static void free_cache(void) {
    for (conv_entry *e = cache, *n; e; e = n) {
        n = e->next;
        dnnl_primitive_destroy(e->fwd);
        dnnl_primitive_destroy(e->bwd);
        for (int i = 0; i < NR; i++) dnnl_primitive_destroy(e->re[i]);
        free(e);
    }
    cache = NULL;
    if (engine) dnnl_engine_destroy(engine);
    engine = NULL;
}

static size_t align64(size_t n) { return (n + 63) / 64 * 64; }

static dnnl_primitive_attr_t user_scratchpad_attr(void) {
    dnnl_primitive_attr_t a;
    DNNL_CHECK(dnnl_primitive_attr_create(&a));
    DNNL_CHECK(dnnl_primitive_attr_set_scratchpad_mode(a, dnnl_scratchpad_mode_user));
    return a;
}

static size_t scratch_of(const_dnnl_primitive_desc_t pd, dnnl_memory_desc_t *md) {
    *md = *dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    return dnnl_memory_desc_get_size(md);
}

/* reorder from -> to (sum: to += from), its scratchpad size into *scratch */
static dnnl_primitive_t make_reorder(const dnnl_memory_desc_t *from, const dnnl_memory_desc_t *to,
                                     int sum, size_t *scratch, dnnl_memory_desc_t *scratch_md) {
    dnnl_primitive_attr_t a = user_scratchpad_attr();
    if (sum) {
        dnnl_post_ops_t po;
        DNNL_CHECK(dnnl_post_ops_create(&po));
        DNNL_CHECK(dnnl_post_ops_append_sum(po, 1.0f));
        DNNL_CHECK(dnnl_primitive_attr_set_post_ops(a, po));
        dnnl_post_ops_destroy(po);
    }
    dnnl_primitive_desc_t pd;
    DNNL_CHECK(dnnl_reorder_primitive_desc_create(&pd, from, engine, to, engine, a));
    *scratch = scratch_of(pd, scratch_md);
    dnnl_primitive_t p;
    DNNL_CHECK(dnnl_primitive_create(&p, pd));
    dnnl_primitive_desc_destroy(pd);
    dnnl_primitive_attr_destroy(a);
    return p;
}

/* oneDNN falls back to slower kernels on CPUs without AVX2 (jit:sse41, gemm:*, ref:any:
 * the reference one took minutes for a test's small convs); those shapes stay on OpenBLAS */
static int fast_kernel(const char *impl) {
    return !strncmp(impl, "jit:avx", 7) || !strncmp(impl, "jit_dw:avx", 10) ||
           !strncmp(impl, "brg", 3);
}

static conv_entry *make_entry(const conv2d_dims *d) {
    conv_entry *e = callocCheck(1, sizeof *e);
    e->d = *d;
    const dnnl_dims_t xd = {d->n, d->cin, d->h, d->w}, yd = {d->n, d->cout, d->ho, d->wo};
    /* weights: OIHW, or for depthwise GOIHW with one in and out channel per group: the
     * same [C][1][k][k] floats */
    const dnnl_dims_t wd = {d->cout, d->cin, d->k, d->k}, wg = {d->cin, 1, 1, d->k, d->k};
    const int dwc = depthwise(d), wn = dwc ? 5 : 4;
    const dnnl_dims_t st = {d->stride, d->stride};
    const dnnl_dims_t dil = {d->dil - 1, d->dil - 1}, pl = {d->pad, d->pad};
    const dnnl_dims_t pr = {pad_after(d, d->h, d->ho), pad_after(d, d->w, d->wo)};
    DNNL_CHECK(dnnl_memory_desc_init_by_tag(&e->user_x, 4, xd, dnnl_f32, dnnl_nchw));
    DNNL_CHECK(dnnl_memory_desc_init_by_tag(&e->user_y, 4, yd, dnnl_f32, dnnl_nchw));
    DNNL_CHECK(dnnl_memory_desc_init_by_tag(&e->user_w, wn, dwc ? wg : wd, dnnl_f32,
                                            dwc ? dnnl_goihw : dnnl_oihw));
    dnnl_memory_desc_t ax, ay, aw;
    DNNL_CHECK(dnnl_memory_desc_init_by_tag(&ax, 4, xd, dnnl_f32, dnnl_format_tag_any));
    DNNL_CHECK(dnnl_memory_desc_init_by_tag(&ay, 4, yd, dnnl_f32, dnnl_format_tag_any));
    DNNL_CHECK(dnnl_memory_desc_init_by_tag(&aw, wn, dwc ? wg : wd, dnnl_f32,
                                            dnnl_format_tag_any));

    dnnl_convolution_desc_t fd, bd;
    DNNL_CHECK(dnnl_dilated_convolution_forward_desc_init(&fd, dnnl_forward_training,
                                                          dnnl_convolution_direct, &ax, &aw,
                                                          NULL, &ay, st, dil, pl, pr));
    DNNL_CHECK(dnnl_dilated_convolution_backward_data_desc_init(&bd, dnnl_convolution_direct,
                                                                &ax, &aw, &ay, st, dil, pl, pr));
    dnnl_primitive_attr_t a = user_scratchpad_attr();
    dnnl_primitive_desc_t fpd, bpd;
    DNNL_CHECK(dnnl_primitive_desc_create(&fpd, &fd, a, engine, NULL));
    DNNL_CHECK(dnnl_primitive_desc_create(&bpd, &bd, a, engine, fpd));
    dnnl_primitive_attr_destroy(a);
    e->blk[T_SRC] = *dnnl_primitive_desc_query_md(fpd, dnnl_query_src_md, 0);
    e->blk[T_W] = *dnnl_primitive_desc_query_md(fpd, dnnl_query_weights_md, 0);
    e->blk[T_DST] = *dnnl_primitive_desc_query_md(fpd, dnnl_query_dst_md, 0);
    e->blk[T_DDST] = *dnnl_primitive_desc_query_md(bpd, dnnl_query_diff_dst_md, 0);
    e->blk[T_W_B] = *dnnl_primitive_desc_query_md(bpd, dnnl_query_weights_md, 0);
    e->blk[T_DSRC] = *dnnl_primitive_desc_query_md(bpd, dnnl_query_diff_src_md, 0);
    const char *name;
    DNNL_CHECK(dnnl_primitive_desc_query(fpd, dnnl_query_impl_info_str, 0, &name));
    snprintf(e->impl[0], sizeof e->impl[0], "%s", name);
    DNNL_CHECK(dnnl_primitive_desc_query(bpd, dnnl_query_impl_info_str, 0, &name));
    snprintf(e->impl[1], sizeof e->impl[1], "%s", name);
    e->fast = fast_kernel(e->impl[0]) && fast_kernel(e->impl[1]);
    e->fwd_scratch = scratch_of(fpd, &e->scratch_md[0]);
    e->bwd_scratch = scratch_of(bpd, &e->scratch_md[1]);
    DNNL_CHECK(dnnl_primitive_create(&e->fwd, fpd));
    DNNL_CHECK(dnnl_primitive_create(&e->bwd, bpd));
    dnnl_primitive_desc_destroy(fpd);
    dnnl_primitive_desc_destroy(bpd);

    /* the reorders between the caller's layouts and the primitives' */
    const struct { int r, sum; const dnnl_memory_desc_t *from, *to; } re[NR] = {
        {R_SRC, 0, &e->user_x, &e->blk[T_SRC]},   {R_W, 0, &e->user_w, &e->blk[T_W]},
        {R_DST, 0, &e->blk[T_DST], &e->user_y},   {R_DDST, 0, &e->user_y, &e->blk[T_DDST]},
        {R_W_B, 0, &e->user_w, &e->blk[T_W_B]},   {R_DSRC, 0, &e->blk[T_DSRC], &e->user_x},
        {R_DSRC_SUM, 1, &e->blk[T_DSRC], &e->user_x},
    };
    for (int i = 0; i < NR; i++)
        e->re[re[i].r] = make_reorder(re[i].from, re[i].to, re[i].sum, &e->re_scratch[re[i].r],
                                      &e->scratch_md[2 + re[i].r]);

    /* workspace: the forward's three blocked tensors, or the backward's over the same
     * bytes, then one scratchpad as large as the largest primitive's */
    size_t at[2] = {0, 0}, scratch = e->fwd_scratch > e->bwd_scratch ? e->fwd_scratch
                                                                     : e->bwd_scratch;
    for (int t = 0; t < NT; t++) {
        size_t *a = &at[t >= T_DDST];
        e->off[t] = *a;
        *a += align64(dnnl_memory_desc_get_size(&e->blk[t]));
    }
    for (int r = 0; r < NR; r++)
        if (e->re_scratch[r] > scratch) scratch = e->re_scratch[r];
    e->scratch_off = at[0] > at[1] ? at[0] : at[1];
    e->bytes = e->scratch_off + align64(scratch) + 64; /* + 64: the start is aligned here */
    return e;
}

static conv_entry *entry_of(const conv2d_dims *d) {
    pthread_mutex_lock(&cache_lock);
    static int registered;
    if (!engine) DNNL_CHECK(dnnl_engine_create(&engine, dnnl_cpu, 0));
    if (!registered) registered = !atexit(free_cache);
    conv_entry *e = cache;
    while (e && memcmp(&e->d, d, sizeof *d)) e = e->next;
    if (!e) {
        e = make_entry(d);
        e->next = cache;
        cache = e;
    }
    pthread_mutex_unlock(&cache_lock);
    return e;
}

/* the shape's cache entry if oneDNN takes it, else NULL */
static conv_entry *taken(const conv2d_dims *d) {
    if (!enabled() || !shape_fits(d)) return NULL;
    conv_entry *e = entry_of(d);
    return e->fast ? e : NULL;
}

int conv2d_dnnl_takes(const conv2d_dims *d) { return taken(d) != NULL; }

const char *conv2d_dnnl_impl(const conv2d_dims *d, int backward) {
    return enabled() && shape_fits(d) ? entry_of(d)->impl[backward != 0] : "";
}

size_t conv2d_dnnl_workspace(const conv2d_dims *d) {
    const conv_entry *e = taken(d);
    return e ? (e->bytes + sizeof(float) - 1) / sizeof(float) : 0;
}

/* what one call wraps: memory objects on the caller's pointers and workspace */
typedef struct {
    conv_entry *e;
    char *base;
    dnnl_stream_t stream;
    dnnl_memory_t mem[16];
    int nmem;
} call_ctx;

static dnnl_memory_t wrap(call_ctx *c, const dnnl_memory_desc_t *md, const void *p) {
    if (c->nmem == (int)(sizeof c->mem / sizeof *c->mem)) FN_FATAL("oneDNN: too many memories");
    dnnl_memory_t m;
    DNNL_CHECK(dnnl_memory_create(&m, md, engine, (void *)p));
    c->mem[c->nmem++] = m;
    return m;
}

static void begin(call_ctx *c, conv_entry *e, float *ws) {
    c->e = e;
    c->base = (char *)(((uintptr_t)ws + 63) & ~(uintptr_t)63);
    c->nmem = 0;
    DNNL_CHECK(dnnl_stream_create(&c->stream, engine, dnnl_stream_default_flags));
}

static void end(call_ctx *c) {
    DNNL_CHECK(dnnl_stream_wait(c->stream));
    for (int i = 0; i < c->nmem; i++) dnnl_memory_destroy(c->mem[i]);
    dnnl_stream_destroy(c->stream);
}

static void run(call_ctx *c, dnnl_primitive_t p, const dnnl_memory_desc_t *scratch_md, int nargs,
                dnnl_exec_arg_t *args) {
    if (dnnl_memory_desc_get_size(scratch_md)) {
        args[nargs].arg = DNNL_ARG_SCRATCHPAD;
        args[nargs++].memory = wrap(c, scratch_md, c->base + c->e->scratch_off);
    }
    DNNL_CHECK(dnnl_primitive_execute(p, c->stream, nargs, args));
}

static void reorder(call_ctx *c, int r, dnnl_memory_t from, dnnl_memory_t to) {
    dnnl_exec_arg_t a[3] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
    run(c, c->e->re[r], &c->e->scratch_md[2 + r], 2, a);
}

/* One pass: the NCHW tensor `from` and the weights into their blocked layouts, the
 * convolution (forward, or backward data), the blocked result back into NCHW `to` (added
 * to it when out_reorder is the sum reorder). */
typedef struct {
    int t_in, t_w, t_out;       /* blocked tensors */
    int r_in, r_w;              /* reorders into them */
    int arg_in, arg_out;        /* the primitive's argument names */
    int backward;
} conv_pass;
static const conv_pass FWD = {T_SRC, T_W, T_DST, R_SRC, R_W, DNNL_ARG_SRC, DNNL_ARG_DST, 0};
static const conv_pass BWD = {T_DDST, T_W_B, T_DSRC, R_DDST, R_W_B, DNNL_ARG_DIFF_DST,
                              DNNL_ARG_DIFF_SRC, 1};

static void run_pass(const conv_pass *p, conv_entry *e, float *ws, const float *from,
                     const float *w, float *to, int out_reorder) {
    call_ctx c;
    begin(&c, e, ws);
    dnnl_memory_t bin = wrap(&c, &e->blk[p->t_in], c.base + e->off[p->t_in]);
    dnnl_memory_t bw = wrap(&c, &e->blk[p->t_w], c.base + e->off[p->t_w]);
    dnnl_memory_t bout = wrap(&c, &e->blk[p->t_out], c.base + e->off[p->t_out]);
    reorder(&c, p->r_in, wrap(&c, p->backward ? &e->user_y : &e->user_x, from), bin);
    reorder(&c, p->r_w, wrap(&c, &e->user_w, w), bw);
    dnnl_exec_arg_t a[4] = {{p->arg_in, bin}, {DNNL_ARG_WEIGHTS, bw}, {p->arg_out, bout}};
    run(&c, p->backward ? e->bwd : e->fwd, &e->scratch_md[p->backward], 3, a);
    reorder(&c, out_reorder, bout, wrap(&c, p->backward ? &e->user_x : &e->user_y, to));
    end(&c);
}

int conv2d_dnnl_forward(float *out, const float *in, const float *w, const conv2d_dims *d,
                        float *ws) {
    conv_entry *e = taken(d);
    if (e) run_pass(&FWD, e, ws, in, w, out, R_DST);
    return e != NULL;
}

int conv2d_dnnl_backward_data(float *din, const float *dout, const float *w,
                              const conv2d_dims *d, float *ws, int acc) {
    conv_entry *e = taken(d);
    if (e) run_pass(&BWD, e, ws, dout, w, din, acc ? R_DSRC_SUM : R_DSRC);
    return e != NULL;
}

#else /* built without oneDNN: nothing is taken */

const int conv2d_dnnl_built = 0;

int conv2d_dnnl_takes(const conv2d_dims *d) {
    (void)d;
    return 0;
}
const char *conv2d_dnnl_impl(const conv2d_dims *d, int backward) {
    (void)d; (void)backward;
    return "";
}
void conv2d_dnnl_reset(void) {}
size_t conv2d_dnnl_workspace(const conv2d_dims *d) { (void)d; return 0; }
int conv2d_dnnl_forward(float *out, const float *in, const float *w, const conv2d_dims *d,
                        float *ws) {
    (void)out; (void)in; (void)w; (void)d; (void)ws;
    return 0;
}
int conv2d_dnnl_backward_data(float *din, const float *dout, const float *w,
                              const conv2d_dims *d, float *ws, int acc) {
    (void)din; (void)dout; (void)w; (void)d; (void)ws; (void)acc;
    return 0;
}
#endif
