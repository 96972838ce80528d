/* sweep/plan.c: expands a sweep config into its jobs (see sweep/plan.h). Planning a million
 * jobs takes about a second: per grid point one resolve, one canonical string, one hash. */
#include "sweep/plan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/metric.h"
#include "proxies/proxy.h"
#include "base/common.h"

static uint64_t fnv1a(const void *data, size_t n, uint64_t h) {
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}
#define FNV_OFFSET 0xcbf29ce484222325ULL

static uint64_t splitmix64(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void sweep_sample_indices(uint64_t seed, int n, int total, int *out) {
    int *perm = mallocCheck((size_t)total * sizeof *perm);
    for (int i = 0; i < total; i++) perm[i] = i;
    for (int i = 0; i < n && i < total; i++) {
        int j = i + (int)(splitmix64(&seed) % (uint64_t)(total - i));
        int t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
        out[i] = perm[i];
    }
    free(perm);
}

void sweep_id_hex(uint64_t id, char out[17]) { snprintf(out, 17, "%016llx", (unsigned long long)id); }

int sweep_id_parse(const char *hex, uint64_t *id) {
    uint64_t v = 0;
    for (int i = 0; i < 16; i++) {
        char ch = hex[i];
        int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
        if (d < 0) return -1;
        v = v << 4 | (uint64_t)d;
    }
    if (hex[16]) return -1;
    *id = v;
    return 0;
}

/* Shortest text that reads back as the same double. */
static void fmt_double(double v, char *buf, size_t len) {
    for (int prec = 6; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) return;
    }
}

int sweep_key_applies(sweep_kind kind, sweep_key k) {
    if (k == SWEEP_KEY_KIND) return 1;
    switch (kind) {
    case SWEEP_KIND_SEARCH:
    case SWEEP_KIND_NOOP:
        return k != SWEEP_KEY_ARCH && k != SWEEP_KEY_SAMPLE && k != SWEEP_KEY_STRATEGY &&
               k != SWEEP_KEY_BUDGET && k != SWEEP_KEY_METRIC_ABS && k != SWEEP_KEY_KAPPA_RAW;
    case SWEEP_KIND_SCORE:
    case SWEEP_KIND_ZC_SEARCH:
        if (k == SWEEP_KEY_ARCH) return kind == SWEEP_KIND_SCORE;
        if (k == SWEEP_KEY_SAMPLE) return kind == SWEEP_KIND_ZC_SEARCH;
        return k == SWEEP_KEY_SPACE || k == SWEEP_KEY_DATASET || k == SWEEP_KEY_METRIC ||
               k == SWEEP_KEY_BATCH || k == SWEEP_KEY_SEED || k == SWEEP_KEY_AUGMENT ||
               k == SWEEP_KEY_PRECISION || k == SWEEP_KEY_DEVICE;
    case SWEEP_KIND_RANDOM:
        return k == SWEEP_KEY_SPACE || k == SWEEP_KEY_DATASET || k == SWEEP_KEY_SEED ||
               k == SWEEP_KEY_DEVICE;
    case SWEEP_KIND_HNAS: /* dataset: of the metrics (the table's), as a record field */
        return k == SWEEP_KEY_SPACE || k == SWEEP_KEY_DATASET || k == SWEEP_KEY_METRIC ||
               k == SWEEP_KEY_SEED || k == SWEEP_KEY_STRATEGY || k == SWEEP_KEY_BUDGET ||
               k == SWEEP_KEY_METRIC_ABS || k == SWEEP_KEY_KAPPA_RAW;
    }
    return 0;
}

/* Kinds score, zc_search, random: the proxy's defaults, one canonical value for what it
 * does not read (proxies/proxy.h). */
static void resolve_per_arch(const sweep_config *c, const sweep_job *j, sweep_params *out) {
    fn_search_config *sc = &out->sc;
    const fn_proxy *px = out->kind == SWEEP_KIND_RANDOM ? NULL : proxy_find(sc->metric);
    const sweep_axis *ax = c->axes;
    out->arch = ax[SWEEP_KEY_ARCH].n ? (int)ax[SWEEP_KEY_ARCH].v[j->v[SWEEP_KEY_ARCH]].num : -1;
    out->scores = out->kind == SWEEP_KIND_ZC_SEARCH && c->scores[0] ? c->scores : NULL;
    if (out->kind == SWEEP_KIND_HNAS && !strcmp(sc->space, "darts")) {
        /* HNAS on DARTS (hnas/darts_bo.h): M, kappa from each genotype's NTK, UCB, T = 25 */
        sc->metric = "hnas_ntk_trace";
        out->strategy = ax[SWEEP_KEY_STRATEGY].n ? ax[SWEEP_KEY_STRATEGY].v[j->v[SWEEP_KEY_STRATEGY]].str
                                                 : "ucb";
        out->budget = ax[SWEEP_KEY_BUDGET].n ? (int)ax[SWEEP_KEY_BUDGET].v[j->v[SWEEP_KEY_BUDGET]].num
                                             : 25;
        out->dh = &c->dh;
        sc->batch = sc->augment = sc->mopts.precision = 0;
        return;
    }
    if (out->kind == SWEEP_KIND_HNAS) { /* M: HNAS's ntk_trace unless the grid names one */
        if (!ax[SWEEP_KEY_METRIC].n) sc->metric = "hnas_ntk_trace";
        out->strategy = ax[SWEEP_KEY_STRATEGY].n ? ax[SWEEP_KEY_STRATEGY].v[j->v[SWEEP_KEY_STRATEGY]].str
                                                 : "ei";
        out->budget = ax[SWEEP_KEY_BUDGET].n ? (int)ax[SWEEP_KEY_BUDGET].v[j->v[SWEEP_KEY_BUDGET]].num
                                             : 20;
        out->table = c->table;
        out->metric_abs = ax[SWEEP_KEY_METRIC_ABS].n
                              ? (int)ax[SWEEP_KEY_METRIC_ABS].v[j->v[SWEEP_KEY_METRIC_ABS]].num : 0;
        out->kappa_raw = ax[SWEEP_KEY_KAPPA_RAW].n
                             ? (int)ax[SWEEP_KEY_KAPPA_RAW].v[j->v[SWEEP_KEY_KAPPA_RAW]].num : 0;
        if (!strcmp(out->strategy, "random")) { /* reads no metric, M or kappa */
            sc->metric = "none";
            out->metric_abs = out->kappa_raw = 0;
        }
        out->benchmark = c->benchmark;
        sc->batch = sc->augment = sc->mopts.precision = 0;
        return;
    }
    out->sample = out->kind == SWEEP_KIND_RANDOM ? 1
                : ax[SWEEP_KEY_SAMPLE].n ? (int)ax[SWEEP_KEY_SAMPLE].v[j->v[SWEEP_KEY_SAMPLE]].num
                                         : 1000;
    if (!px) {
        sc->metric = "none";
        sc->batch = sc->augment = sc->mopts.precision = 0;
        return;
    }
    if (px->default_batch <= 1 || !sc->batch) sc->batch = px->default_batch;
    if (!px->needs_data) sc->augment = 0;
    else if (!ax[SWEEP_KEY_AUGMENT].n) sc->augment = px->augment;
    if (!px->precision) sc->mopts.precision = 0;
    else if (!strcmp(px->name, "grasp") || sc->mopts.precision <= 0) sc->mopts.precision = px->precision;
}

void sweep_plan_params(const sweep_config *c, const sweep_job *j, sweep_params *out) {
    memset(out, 0, sizeof *out);
    out->kind = c->kind;
    fn_search_config *sc = &out->sc;
    search_config_default(sc);
    const sweep_axis *ax = c->axes;
#define AXV(k) (&ax[k].v[j->v[k]])
#define HAS(k) (ax[k].n > 0)
    out->variant = HAS(SWEEP_KEY_SPACE) ? AXV(SWEEP_KEY_SPACE)->variant : 0;
    const sweep_variant *var = &c->variants[out->variant];
    sc->space = var->space->name;
    sc->cells = var->cells;
    sc->channels = var->channels;
    sc->ss = var->ss;
    if (HAS(SWEEP_KEY_DATASET)) sc->dataset = AXV(SWEEP_KEY_DATASET)->str;
    if (HAS(SWEEP_KEY_METRIC)) sc->metric = AXV(SWEEP_KEY_METRIC)->str;
    if (HAS(SWEEP_KEY_BATCH)) sc->batch = (int)AXV(SWEEP_KEY_BATCH)->num;
    if (HAS(SWEEP_KEY_ALPHA_SCALE)) sc->alpha_scale = AXV(SWEEP_KEY_ALPHA_SCALE)->num;
    if (HAS(SWEEP_KEY_SEED)) sc->seed = (uint64_t)AXV(SWEEP_KEY_SEED)->num;
    if (HAS(SWEEP_KEY_AUGMENT)) sc->augment = (int)AXV(SWEEP_KEY_AUGMENT)->num;
    if (HAS(SWEEP_KEY_PRECISION)) sc->mopts.precision = (int)AXV(SWEEP_KEY_PRECISION)->num;
    if (HAS(SWEEP_KEY_SYNFLOW_ZC)) sc->mopts.synflow_zc = (int)AXV(SWEEP_KEY_SYNFLOW_ZC)->num;
    if (HAS(SWEEP_KEY_ABS_PARAMS)) sc->mopts.abs_params = (int)AXV(SWEEP_KEY_ABS_PARAMS)->num;
    if (HAS(SWEEP_KEY_GRASP_ABS)) sc->mopts.grasp_abs = (int)AXV(SWEEP_KEY_GRASP_ABS)->num;
    if (HAS(SWEEP_KEY_GRASP_DARTS_FORM))
        sc->mopts.grasp_darts_form = (int)AXV(SWEEP_KEY_GRASP_DARTS_FORM)->num;
    out->device = HAS(SWEEP_KEY_DEVICE) ? AXV(SWEEP_KEY_DEVICE)->str : "cpu";
    sc->device = !strcmp(out->device, "cuda") ? FN_DEV_CUDA : FN_DEV_CPU;
#undef AXV
#undef HAS
    sc->data_path = c->data[0] ? c->data : NULL;
    if (SWEEP_KIND_PER_ARCH(c->kind)) {
        sc->mopts.synflow_zc = 0; /* not read by per-architecture jobs */
        resolve_per_arch(c, j, out);
        return;
    }
    /* Resolve: the space's defaults; then one canonical value for every option the metric
     * does not read, so that grid points computing the same search get the same id. */
    const fn_space *sp = var->space;
    const fn_dataset_info *ds = dataset_info(sc->dataset);
    char err[FN_ERRLEN];
    if (ds) sp->resolve(sc, ds, err, sizeof err); /* failures are reported by sweep_plan_build */
    if (sp != &fn_space_nb1shot1) sc->ss = 0;
    const fn_metric *m = metric_find(sc->metric);
    const int synflow = m->score == metric_synflow, grasp = m->score == metric_grasp;
    if (!m->needs_labels) { sc->batch = 1; sc->augment = 0; }
    else if (!sc->batch) sc->batch = m->default_batch;
    const int tf32 = sc->mopts.precision == FN_PRECISION_TF32;
    sc->mopts.precision = metric_dtype(m, &sc->mopts) == FN_F64 ? 64 : tf32 ? FN_PRECISION_TF32 : 32;
    if (!synflow) sc->mopts.synflow_zc = 0;
    else if (sc->mopts.synflow_zc < 0) sc->mopts.synflow_zc = sp->synflow_zc_default;
    if (synflow) sc->mopts.abs_params = 1; /* SynFlow always takes |params| */
    else if (sc->mopts.abs_params < 0) sc->mopts.abs_params = sp->abs_params_default;
    if (!grasp) sc->mopts.grasp_abs = sc->mopts.grasp_darts_form = 0;
}

const char *sweep_params_value(const sweep_params *p, sweep_key k, char *buf, size_t len) {
    const fn_search_config *sc = &p->sc;
    switch (k) {
    case SWEEP_KEY_KIND: snprintf(buf, len, "%s", sweep_kind_name(p->kind)); break;
    case SWEEP_KEY_SPACE: snprintf(buf, len, "%s", sc->space); break;
    case SWEEP_KEY_CELLS: snprintf(buf, len, "%d", sc->cells); break;
    case SWEEP_KEY_CHANNELS: snprintf(buf, len, "%d", sc->channels); break;
    case SWEEP_KEY_SS: snprintf(buf, len, "%d", sc->ss); break;
    case SWEEP_KEY_DATASET: snprintf(buf, len, "%s", sc->dataset); break;
    case SWEEP_KEY_METRIC: snprintf(buf, len, "%s", sc->metric); break;
    case SWEEP_KEY_BATCH: snprintf(buf, len, "%d", sc->batch); break;
    case SWEEP_KEY_ALPHA_SCALE: fmt_double(sc->alpha_scale, buf, len); break;
    case SWEEP_KEY_SEED: snprintf(buf, len, "%llu", (unsigned long long)sc->seed); break;
    case SWEEP_KEY_AUGMENT: snprintf(buf, len, "%d", sc->augment); break;
    case SWEEP_KEY_PRECISION: snprintf(buf, len, "%d", sc->mopts.precision); break;
    case SWEEP_KEY_SYNFLOW_ZC: snprintf(buf, len, "%d", sc->mopts.synflow_zc); break;
    case SWEEP_KEY_ABS_PARAMS: snprintf(buf, len, "%d", sc->mopts.abs_params); break;
    case SWEEP_KEY_GRASP_ABS: snprintf(buf, len, "%d", sc->mopts.grasp_abs); break;
    case SWEEP_KEY_GRASP_DARTS_FORM: snprintf(buf, len, "%d", sc->mopts.grasp_darts_form); break;
    case SWEEP_KEY_DEVICE: snprintf(buf, len, "%s", p->device); break;
    case SWEEP_KEY_ARCH: snprintf(buf, len, "%d", p->arch); break;
    case SWEEP_KEY_SAMPLE: snprintf(buf, len, "%d", p->sample); break;
    case SWEEP_KEY_STRATEGY: snprintf(buf, len, "%s", p->strategy ? p->strategy : "ei"); break;
    case SWEEP_KEY_BUDGET: snprintf(buf, len, "%d", p->budget); break;
    case SWEEP_KEY_METRIC_ABS: snprintf(buf, len, "%d", p->metric_abs); break;
    case SWEEP_KEY_KAPPA_RAW: snprintf(buf, len, "%d", p->kappa_raw); break;
    default: snprintf(buf, len, "?"); break;
    }
    return buf;
}

size_t sweep_params_canonical(const sweep_params *p, const int *skip, char *buf, size_t len) {
    size_t n = 0;
    buf[0] = '\0';
    for (int k = 0; k < SWEEP_NUM_KEYS; k++) {
        if ((skip && skip[k]) || !sweep_key_applies(p->kind, (sweep_key)k)) continue;
        char v[64];
        sweep_params_value(p, (sweep_key)k, v, sizeof v);
        if (sweep_keys[k].id_when_set && !strcmp(v, "0")) continue; /* false: older ids stay */
        int w = snprintf(buf + n, n < len ? len - n : 0, "%s%s=%s", n ? "," : "",
                         sweep_keys[k].name, v);
        if (w > 0) n += (size_t)w;
    }
    if (p->scores) {
        int w = snprintf(buf + n, n < len ? len - n : 0, ",scores=%s", p->scores);
        if (w > 0) n += (size_t)w;
    }
    if (p->dh) { /* kind hnas on darts: another pool, net or training is another search */
        const sweep_darts_hnas *d = p->dh;
        int w = snprintf(buf + n, n < len ? len - n : 0, ",darts_hnas=pool:%ld,pool_width:%d,"
                         "epochs:%d,train_batch:%d,images:%d,ntk_batch:%d,channels:%d,layers:%d",
                         d->pool, d->pool_width, d->epochs, d->train_batch, d->images,
                         d->ntk_batch, d->channels, d->layers);
        if (w > 0) n += (size_t)w;
    }
    if (p->table) { /* kind hnas: another table is another search */
        int w = snprintf(buf + n, n < len ? len - n : 0, ",table=%s", p->table);
        if (w > 0) n += (size_t)w;
    }
    return n < len ? n : len - 1;
}

static void axis_value_text(const sweep_config *c, sweep_key k, const sweep_value *v, char *buf,
                            size_t len) {
    if (sweep_keys[k].type == SWEEP_T_STR) snprintf(buf, len, "%s", v->str);
    else if (sweep_keys[k].type == SWEEP_T_NUM) fmt_double(v->num, buf, len);
    else if (sweep_keys[k].type == SWEEP_T_BOOL) snprintf(buf, len, "%s", v->num ? "true" : "false");
    else snprintf(buf, len, "%lld", (long long)v->num);
    (void)c;
}

size_t sweep_job_axes_text(const sweep_config *c, const sweep_job *j, const int *skip,
                           int only_varying, char *buf, size_t len) {
    size_t n = 0;
    buf[0] = '\0';
#define PUT(...)                                                                        \
    do {                                                                                \
        int w_ = snprintf(buf + n, n < len ? len - n : 0, __VA_ARGS__);                \
        if (w_ > 0) n += (size_t)w_;                                                    \
    } while (0)
    for (int k = 0; k < SWEEP_NUM_KEYS; k++) {
        const sweep_axis *a = &c->axes[k];
        if (a->n == 0 || (skip && skip[k])) continue;
        if (k == SWEEP_KEY_SPACE) {
            const sweep_variant *v = &c->variants[a->v[j->v[k]].variant];
            int vary = c->nvariants > 1;
            if (only_varying && !vary) continue;
            PUT("%s%s", n ? " " : "", v->space->name);
            if (v->cells && !(skip && skip[SWEEP_KEY_CELLS])) PUT(" cells=%d", v->cells);
            if (v->channels && !(skip && skip[SWEEP_KEY_CHANNELS])) PUT(" channels=%d", v->channels);
            if (v->ss) PUT(" ss=%d", v->ss);
            continue;
        }
        if (only_varying && a->n < 2) continue;
        char t[64];
        axis_value_text(c, (sweep_key)k, &a->v[j->v[k]], t, sizeof t);
        PUT("%s%s=%s", n ? " " : "", sweep_keys[k].name, t);
    }
#undef PUT
    return n < len ? n : len - 1;
}

/* Ensemble group of a job: its grid value indices less the `over` axes (the space entry by
 * its space, ss, and cells / channels unless they are combined over). */
static uint64_t group_hash(const sweep_config *c, const sweep_job *j, const int *skip) {
    uint64_t h = FNV_OFFSET;
    for (int k = 0; k < SWEEP_NUM_KEYS; k++) {
        if (c->axes[k].n == 0 || skip[k]) continue;
        if (k == SWEEP_KEY_SPACE) {
            const sweep_variant *v = &c->variants[c->axes[k].v[j->v[k]].variant];
            int f[3] = {v->ss, skip[SWEEP_KEY_CELLS] ? -1 : v->cells,
                        skip[SWEEP_KEY_CHANNELS] ? -1 : v->channels};
            h = fnv1a(v->space->name, strlen(v->space->name), h);
            h = fnv1a(f, sizeof f, h);
            continue;
        }
        uint32_t kv[2] = {(uint32_t)k, j->v[k]};
        h = fnv1a(kv, sizeof kv, h);
    }
    return h;
}

/* A filter value matches a resolved parameter by its canonical text (numbers: the same
 * double; booleans: 0 / 1; strings: the registry name). */
static int filter_matches(const sweep_filter *f, const sweep_params *p) {
    for (int i = 0; i < f->nkeys; i++) {
        sweep_key k = f->key[i];
        char have[64], want[64];
        sweep_params_value(p, k, have, sizeof have);
        int any = 0;
        for (int v = 0; v < f->nvals[k] && !any; v++) {
            const sweep_value *fv = &f->vals[k][v];
            if (sweep_keys[k].type == SWEEP_T_STR) snprintf(want, sizeof want, "%s", fv->str);
            else if (sweep_keys[k].type == SWEEP_T_NUM) fmt_double(fv->num, want, sizeof want);
            else snprintf(want, sizeof want, "%lld", (long long)fv->num);
            any = !strcmp(have, want);
        }
        if (!any) return 0;
    }
    return 1;
}

/* ---- open-addressing hash map: 64-bit key -> index ---------------------------------------- */
typedef struct { uint64_t *key; long *val; size_t cap; } idmap;

static void idmap_init(idmap *m, size_t n) {
    m->cap = 64;
    while (m->cap < 2 * n + 2) m->cap <<= 1;
    m->key = callocCheck(m->cap, sizeof *m->key);
    m->val = mallocCheck(m->cap * sizeof *m->val);
    for (size_t i = 0; i < m->cap; i++) m->val[i] = -1;
}
static void idmap_free(idmap *m) { free(m->key); free(m->val); }
static void idmap_grow(idmap *m);
/* Returns the stored index for key, or stores val and returns -1. */
static long idmap_put(idmap *m, uint64_t key, long val, size_t *count) {
    size_t i = (size_t)(key * 0x9e3779b97f4a7c15ULL) & (m->cap - 1);
    while (m->val[i] >= 0) {
        if (m->key[i] == key) return m->val[i];
        i = (i + 1) & (m->cap - 1);
    }
    m->key[i] = key;
    m->val[i] = val;
    if (++*count * 2 > m->cap) idmap_grow(m);
    return -1;
}
static long idmap_get(const idmap *m, uint64_t key) {
    size_t i = (size_t)(key * 0x9e3779b97f4a7c15ULL) & (m->cap - 1);
    while (m->val[i] >= 0) {
        if (m->key[i] == key) return m->val[i];
        i = (i + 1) & (m->cap - 1);
    }
    return -1;
}
static void idmap_grow(idmap *m) {
    idmap old = *m;
    idmap_init(m, old.cap);
    size_t count = 0;
    for (size_t i = 0; i < old.cap; i++)
        if (old.val[i] >= 0) idmap_put(m, old.key[i], old.val[i], &count);
    idmap_free(&old);
}

struct sweep_id_index { idmap m; };
sweep_id_index *sweep_id_index_build(const sweep_plan *p) {
    sweep_id_index *ix = mallocCheck(sizeof *ix);
    idmap_init(&ix->m, (size_t)p->njobs);
    size_t count = 0;
    for (long j = 0; j < p->njobs; j++) idmap_put(&ix->m, p->jobs[j].id, j, &count);
    return ix;
}
long sweep_id_index_find(const sweep_id_index *ix, uint64_t id) { return idmap_get(&ix->m, id); }
void sweep_id_index_free(sweep_id_index *ix) {
    if (!ix) return;
    idmap_free(&ix->m);
    free(ix);
}

static void mark_error(const sweep_config *c, sweep_mark m, char *err, size_t errlen,
                       const char *msg) {
    if (m.line) snprintf(err, errlen, "%s:%d:%d: %s", c->path, m.line, m.col, msg);
    else snprintf(err, errlen, "%s: %s", c->path, msg);
}

/* Resolve checks once per (variant, dataset): the only combination a space may refuse. */
static int check_combinations(const sweep_config *c, char *err, size_t errlen) {
    const sweep_axis *dax = &c->axes[SWEEP_KEY_DATASET];
    int nd = dax->n ? dax->n : 1;
    for (int v = 0; v < c->nvariants; v++)
        for (int d = 0; d < nd; d++) {
            const char *dname = dax->n ? dax->v[d].str : "cifar10";
            /* combinations removed by an exclude filter are never built */
            sweep_params p;
            memset(&p, 0, sizeof p);
            search_config_default(&p.sc);
            p.sc.space = c->variants[v].space->name;
            p.sc.cells = c->variants[v].cells;
            p.sc.channels = c->variants[v].channels;
            p.sc.ss = c->variants[v].ss;
            p.sc.dataset = dname;
            p.device = "cpu";
            int excluded = 0;
            for (int f = 0; f < c->nexcludes && !excluded; f++) {
                const sweep_filter *fl = &c->excludes[f];
                int only_space_dataset = 1;
                for (int i = 0; i < fl->nkeys; i++)
                    if (fl->key[i] != SWEEP_KEY_SPACE && fl->key[i] != SWEEP_KEY_DATASET &&
                        fl->key[i] != SWEEP_KEY_CELLS && fl->key[i] != SWEEP_KEY_CHANNELS &&
                        fl->key[i] != SWEEP_KEY_SS)
                        only_space_dataset = 0;
                if (only_space_dataset && filter_matches(fl, &p)) excluded = 1;
            }
            if (excluded) continue;
            if (c->kind == SWEEP_KIND_NOOP) continue;
            char e2[FN_ERRLEN], msg[SWEEP_ERRLEN];
            const fn_dataset_info *ds = dataset_info(dname);
            if (c->variants[v].space->resolve(&p.sc, ds, e2, sizeof e2)) {
                snprintf(msg, sizeof msg, "space %s with dataset %s: %s (hint: drop the "
                         "combination with exclude: [{space: %s, dataset: %s}])",
                         c->variants[v].space->name, dname, e2, c->variants[v].space->name,
                         dname);
                mark_error(c, c->variants[v].mark, err, errlen, msg);
                return -1;
            }
        }
    return 0;
}

int sweep_plan_build(const sweep_config *c, sweep_plan *p, char *err, size_t errlen) {
    memset(p, 0, sizeof *p);
    if (check_combinations(c, err, errlen)) return -1;
    /* Dimensions: every free axis, and each zip group, in canonical key order. */
    int dim_size[SWEEP_NUM_KEYS], dim_zip[SWEEP_NUM_KEYS], dim_key[SWEEP_NUM_KEYS], ndim = 0;
    int zip_seen[SWEEP_MAX_ZIPS] = {0};
    /* canonical key order, except that the seed axis (or its zip group) is enumerated last,
     * i.e. fastest: consecutive grid points then differ only in the seed and share one
     * resolution (the order of jobs, not their ids, depends on this) */
    const int seed_zip = c->axes[SWEEP_KEY_SEED].n ? c->axes[SWEEP_KEY_SEED].zip : -2;
    for (int pass = 0; pass < 2; pass++)
    for (int k = 0; k < SWEEP_NUM_KEYS; k++) {
        const sweep_axis *a = &c->axes[k];
        if (a->n == 0) continue;
        int is_seed = k == SWEEP_KEY_SEED || (a->zip >= 0 && a->zip == seed_zip);
        if (is_seed != pass) continue;
        if (a->zip >= 0) {
            if (zip_seen[a->zip]) continue;
            zip_seen[a->zip] = 1;
        }
        dim_size[ndim] = a->n;
        dim_zip[ndim] = a->zip;
        dim_key[ndim] = k;
        ndim++;
    }
    double total = 1;
    for (int d = 0; d < ndim; d++) total *= dim_size[d];
    if (total > 1e8) {
        snprintf(err, errlen, "%s: the grid has %.3g points; more than 1e8 is not supported "
                 "(hint: split the sweep)", c->path, total);
        return -1;
    }
    long cap = (long)total;
    p->jobs = mallocCheck((size_t)(cap ? cap : 1) * sizeof *p->jobs);
    idmap seen;
    idmap_init(&seen, (size_t)cap);
    size_t nseen = 0;
    int idx[SWEEP_NUM_KEYS] = {0};
    char canon[SWEEP_PATHLEN + 1024]; /* parameters and a `scores` path */
    uint64_t fp = FNV_OFFSET;
    /* Per run of grid points that differ only in the seed: resolve once, hash the canonical
     * text up to "seed=" once, keep the text after the seed value. */
    int filters_use_seed = 0;
    for (int f = 0; f < c->nexcludes; f++)
        for (int i = 0; i < c->excludes[f].nkeys; i++)
            filters_use_seed |= c->excludes[f].key[i] == SWEEP_KEY_SEED;
    sweep_job prev;
    int have_prev = 0, excluded_static = 0;
    uint64_t h_prefix = 0;
    char suffix[SWEEP_PATHLEN + 1024];
    size_t suffix_len = 0;
    sweep_params prm;
    for (long n = 0; n < cap; n++) {
        sweep_job job;
        memset(&job, 0, sizeof job);
        for (int d = 0; d < ndim; d++) {
            if (dim_zip[d] < 0) job.v[dim_key[d]] = (uint32_t)idx[d];
            else
                for (int k = 0; k < SWEEP_NUM_KEYS; k++)
                    if (c->axes[k].n && c->axes[k].zip == dim_zip[d]) job.v[k] = (uint32_t)idx[d];
        }
        for (int d = ndim - 1; d >= 0; d--) { /* last dimension fastest */
            if (++idx[d] < dim_size[d]) break;
            idx[d] = 0;
        }
        int same = have_prev;
        for (int k = 0; k < SWEEP_NUM_KEYS && same; k++)
            same = k == SWEEP_KEY_SEED || job.v[k] == prev.v[k];
        if (!same) {
            sweep_plan_params(c, &job, &prm);
            size_t len = sweep_params_canonical(&prm, NULL, canon, sizeof canon);
            const char *sv = strstr(canon, "seed=") + 5;
            const char *se = sv + strcspn(sv, ",");
            h_prefix = fnv1a(canon, (size_t)(sv - canon), FNV_OFFSET);
            suffix_len = len - (size_t)(se - canon);
            memcpy(suffix, se, suffix_len);
            excluded_static = 0;
            for (int f = 0; f < c->nexcludes && !excluded_static && !filters_use_seed; f++)
                excluded_static = filter_matches(&c->excludes[f], &prm);
            prev = job;
            have_prev = 1;
        }
        uint64_t seed = c->axes[SWEEP_KEY_SEED].n ? (uint64_t)c->axes[SWEEP_KEY_SEED].v[job.v[SWEEP_KEY_SEED]].num : 0;
        int excluded = excluded_static;
        if (filters_use_seed) {
            prm.sc.seed = seed;
            for (int f = 0; f < c->nexcludes && !excluded; f++)
                excluded = filter_matches(&c->excludes[f], &prm);
        }
        if (excluded) { p->nexcluded++; continue; }
        char st[24];
        int sl = snprintf(st, sizeof st, "%llu", (unsigned long long)seed);
        job.id = fnv1a(suffix, suffix_len, fnv1a(st, (size_t)sl, h_prefix));
        if (idmap_put(&seen, job.id, p->njobs, &nseen) >= 0) { p->nduplicates++; continue; }
        fp = fnv1a(&job.id, sizeof job.id, fp);
        p->jobs[p->njobs++] = job;
    }
    idmap_free(&seen);
    /* Ensemble groups. */
    for (int e = 0; e < c->nensembles; e++) {
        const sweep_ensemble *en = &c->ensembles[e];
        sweep_ensemble_groups *g = &p->ens[e];
        g->group_of = mallocCheck((size_t)(p->njobs ? p->njobs : 1) * sizeof *g->group_of);
        g->first_job = mallocCheck((size_t)(p->njobs ? p->njobs : 1) * sizeof *g->first_job);
        int skip[SWEEP_NUM_KEYS];
        for (int k = 0; k < SWEEP_NUM_KEYS; k++) skip[k] = en->over[k];
        idmap groups;
        idmap_init(&groups, 64);
        size_t ng = 0;
        for (long j = 0; j < p->njobs; j++) {
            uint64_t gid = group_hash(c, &p->jobs[j], skip);
            long have = idmap_put(&groups, gid, g->ngroups, &ng);
            if (have < 0) {
                g->first_job[g->ngroups] = j;
                have = g->ngroups++;
            }
            g->group_of[j] = (int32_t)have;
        }
        idmap_free(&groups);
        fp = fnv1a(en->name, strlen(en->name), fp);
        fp = fnv1a(en->over, sizeof en->over, fp);
        fp = fnv1a(&en->norm, sizeof en->norm, fp);
    }
    p->fingerprint = fp;
    return 0;
}

void sweep_plan_free(sweep_plan *p) {
    free(p->jobs);
    for (int e = 0; e < SWEEP_MAX_ENSEMBLES; e++) {
        free(p->ens[e].group_of);
        free(p->ens[e].first_job);
    }
    memset(p, 0, sizeof *p);
}
