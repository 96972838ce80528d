/* sweep/config_sections.c: the sections of a sweep configuration that hold values (see
 * sweep/config.c for the document and its top level): grid, with its value lists, seed
 * ranges "A:B" and space entries {name:, cells:, channels:, ss:} expanded into variants;
 * zip groups; exclude filters; ensembles. Each value is checked against its key's type, range
 * and registry (space, metric, dataset) and keeps its mark. */
#include "sweep/config_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "datasets/dataset.h"
#include "metrics/metric.h"
#include "nasbench/nb201_benchmark.h"
#include "proxies/proxy.h"
#include "sweep/config.h"
#include "sweep/plan.h"

#define MAX_VALUES 10000000LL /* values one list may expand to (seed ranges; 32 bytes each) */

/* One written item of a list: the values [first, first + count) it expanded to. */
typedef struct { int first, count; const yaml_node_t *node; } item;

/* ---- values -------------------------------------------------------------------------------- */
/* One value of grid / exclude / space-entry key k (not a seed range, not a space mapping);
 * names are stored as the registry's own static string. */
static int parse_scalar(cfg_ctx *x, int k, const yaml_node_t *n, sweep_value *v) {
    const sweep_key_info *ki = &sweep_keys[k];
    memset(v, 0, sizeof *v);
    v->variant = -1;
    if (cfg_want(x, n, ki->name, ki->type, ki->hint, &v->num)) return -1;
    v->mark = cfg_mark_of(n);
    const char *s = cfg_text(n), *what = ki->name, *list = NULL;
    char hint[256];
    if (k == SWEEP_KEY_SPACE) {
        const fn_space *sp = space_find(s);
        v->str = sp ? sp->name : NULL, list = space_names();
    } else if (k == SWEEP_KEY_METRIC) { /* a search metric, or a proxy (kinds score, zc_search:
                                            checked against the kind after parsing) */
        const fn_metric *m = metric_find(s);
        const fn_proxy *px = m ? NULL : proxy_find(s);
        v->str = m ? m->name : px ? px->name : NULL;
        /* the search metrics, then the proxies that are not also search metrics */
        size_t hn = (size_t)snprintf(hint, sizeof hint, "%s", metric_names());
        for (int i = 0; i < proxy_count() && hn < sizeof hint; i++)
            if (!metric_find(proxy_at(i)->name))
                hn += (size_t)snprintf(hint + hn, sizeof hint - hn, ", %s", proxy_at(i)->name);
        list = hint;
    } else if (k == SWEEP_KEY_DATASET) {
        const fn_dataset_info *ds = dataset_info(s);
        v->str = ds ? ds->name : NULL, list = dataset_names();
    } else if (k == SWEEP_KEY_DEVICE) {
        v->str = !strcmp(s, "cpu") ? "cpu" : !strcmp(s, "cuda") ? "cuda" : NULL;
        list = "cpu, cuda";
    } else if (k == SWEEP_KEY_STRATEGY) {
        static const char *const st[4] = {"ei", "ucb", "alone", "random"};
        for (int i = 0; i < 4 && !v->str; i++)
            if (!strcmp(s, st[i])) v->str = st[i];
        list = "ei, ucb, alone, random";
    } else if (k == SWEEP_KEY_ALPHA_SCALE && !(v->num > 0)) {
        return cfg_fail(x, n, "alpha_scale: %s must be > 0 (hint: a positive number such as "
                    "1.0e-3)", s);
    } else if (k == SWEEP_KEY_PRECISION && v->num != 32 && v->num != 64 && v->num != 19) {
        return cfg_fail(x, n, "precision: %s is not 32, 64 or 19 (hint: precision: [32, 64]; 19 "
                    "= float32 with TF32 tensor-core math on CUDA)", s);
    } else if (ki->type == SWEEP_T_INT) {
        double lo = k == SWEEP_KEY_CHANNELS ? 2 : k == SWEEP_KEY_SEED ? 0 : 1;
        double hi = k == SWEEP_KEY_CELLS ? 64 : k == SWEEP_KEY_CHANNELS ? 1024
                  : k == SWEEP_KEY_SS ? 3 : k == SWEEP_KEY_BATCH ? 4096
                  : k == SWEEP_KEY_BUDGET ? 256 : 2147483647.0;
        if (v->num < lo || v->num > hi)
            return cfg_fail(x, n, "%s: %s is out of range (hint: %s)", ki->name, s,
                        k == SWEEP_KEY_SEED ? "0..2147483647" : ki->hint);
    }
    if (list && !v->str) {
        char all[512];
        snprintf(all, sizeof all, "%s", list);
        return cfg_fail(x, n, "unknown %s '%s' (hint: %s)", what, s,
                    cfg_suggest(s, all, 1, hint, sizeof hint));
    }
    return 0;
}

/* ---- mappings and lists -------------------------------------------------------------------- */
/* n must be a mapping (of `what`) with scalar keys, each once. */
int cfg_check_map(cfg_ctx *x, const yaml_node_t *n, const char *what) {
    char buf[64];
    if (n->type != YAML_MAPPING_NODE)
        return cfg_fail(x, n, "%s: expected a mapping (key: value, ...), got %s", what,
                    cfg_found(n, buf, sizeof buf));
    CFG_PAIRS(n) {
        const yaml_node_t *k = CFG_KEY(x, p);
        if (k->type != YAML_SCALAR_NODE)
            return cfg_fail(x, k, "%s: a key must be a name, got %s", what,
                        cfg_found(k, buf, sizeof buf));
        for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < p; q++) {
            const yaml_node_t *k0 = CFG_KEY(x, q);
            if (k0->type == YAML_SCALAR_NODE && !strcmp(cfg_text(k0), cfg_text(k)))
                return cfg_fail(x, k, "duplicate key '%s' (hint: already given at %d:%d; several "
                            "values are one list: %s: [a, b])", cfg_text(k), cfg_mark_of(k0).line,
                            cfg_mark_of(k0).col, cfg_text(k));
        }
    }
    return 0;
}

/* n must be a sequence (of `what`, e.g. written as `example`). */
static int check_seq(cfg_ctx *x, const yaml_node_t *n, const char *what, const char *example) {
    char buf[64];
    if (n->type == YAML_SEQUENCE_NODE) return 0;
    return cfg_fail(x, n, "%s: expected a list, got %s (hint: %s: %s)", what,
                cfg_found(n, buf, sizeof buf), what, example);
}

/* Room for `add` more values after the n of *v (capacity *cap); one allocation per call. */
static sweep_value *grow(cfg_ctx *x, sweep_value **v, int n, int *cap, long long add,
                         const yaml_node_t *at) {
    if (n + add > MAX_VALUES) {
        cfg_fail(x, at, "more than %lld values in one list (hint: split the sweep)", MAX_VALUES);
        return NULL;
    }
    if (n + add > *cap) {
        long long want_cap = *cap ? *cap : 4;
        while (want_cap < n + add) want_cap *= 2;
        sweep_value *nv = realloc(*v, (size_t)want_cap * sizeof *nv);
        if (!nv) return cfg_fail(x, at, "out of memory"), NULL;
        *v = nv, *cap = (int)want_cap;
    }
    return *v + n;
}

int cfg_append_variant(cfg_ctx *x, const fn_space *sp, int cells, int channels, int ss,
                       const yaml_node_t *entry) {
    sweep_config *c = x->c;
    if (c->nvariants == x->vcap) {
        int cap = x->vcap ? 2 * x->vcap : 8;
        sweep_variant *nv = realloc(c->variants, (size_t)cap * sizeof *nv);
        if (!nv) return cfg_fail(x, entry, "out of memory");
        c->variants = nv, x->vcap = cap;
    }
    sweep_variant *v = &c->variants[c->nvariants++];
    v->space = sp;
    v->cells = cells, v->channels = channels;
    v->ss = ss ? ss : sp == &fn_space_nb1shot1 ? 1 : 0;
    v->mark = entry ? cfg_mark_of(entry) : (sweep_mark){0, 0};
    return c->nvariants - 1;
}

static int parse_list(cfg_ctx *x, int k, const yaml_node_t *n, int space_maps, int dups_ok,
                      sweep_value **out, int *nout);

/* A space entry {name:, cells:, channels:, ss:}, expanded into variants (cells slowest, then
 * channels, then ss); one value per variant appended to *out. */
static int parse_space_entry(cfg_ctx *x, const yaml_node_t *n, sweep_value **out, int *nout,
                             int *cap) {
    static const int fk[3] = {SWEEP_KEY_CELLS, SWEEP_KEY_CHANNELS, SWEEP_KEY_SS};
    const yaml_node_t *name = NULL, *ssk = NULL;
    sweep_value *lv[3] = {NULL, NULL, NULL}, sv, *dst;
    int ln[3] = {0, 0, 0}, rc = -1;
    char hint[256];
    if (cfg_check_map(x, n, "space entry")) return -1;
    CFG_PAIRS(n) {
        const char *key = cfg_text(CFG_KEY(x, p));
        int f = !strcmp(key, "cells") ? 0 : !strcmp(key, "channels") ? 1
              : !strcmp(key, "ss") ? 2 : -1;
        if (!strcmp(key, "name")) {
            name = CFG_VAL(x, p);
        } else if (f < 0) {
            cfg_fail(x, CFG_KEY(x, p), "unknown key '%s' in a space entry (hint: %s)", key,
                 cfg_suggest(key, "name, cells, channels, ss", 0, hint, sizeof hint));
            goto done;
        } else if (parse_list(x, fk[f], CFG_VAL(x, p), 0, 0, &lv[f], &ln[f])) {
            goto done;
        }
        if (f == 2) ssk = CFG_KEY(x, p);
    }
    if (!name) {
        cfg_fail(x, n, "space entry without a name (hint: {name: darts, cells: [8, 20]})");
        goto done;
    }
    if (parse_scalar(x, SWEEP_KEY_SPACE, name, &sv)) goto done;
    const fn_space *sp = space_find(sv.str);
    if (ssk && sp != &fn_space_nb1shot1) {
        cfg_fail(x, ssk, "ss: only nb1shot1 has search spaces 1-3, this entry is %s (hint: remove "
             "ss, or write {name: nb1shot1, ss: [1, 2, 3]})", sp->name);
        goto done;
    }
    const int na = ln[0] ? ln[0] : 1, nb = ln[1] ? ln[1] : 1, ns = ln[2] ? ln[2] : 1;
    if (!(dst = grow(x, out, *nout, cap, (long long)na * nb * ns, n))) goto done;
    for (int a = 0; a < na; a++)
        for (int b = 0; b < nb; b++)
            for (int s = 0; s < ns; s++, dst++, (*nout)++) {
                int vi = cfg_append_variant(x, sp, ln[0] ? (int)lv[0][a].num : 0,
                                            ln[1] ? (int)lv[1][b].num : 0,
                                            ln[2] ? (int)lv[2][s].num : 0, n);
                if (vi < 0) goto done;
                *dst = (sweep_value){0, sp->name, vi, cfg_mark_of(n)};
            }
    rc = 0;
done:
    for (int f = 0; f < 3; f++) free(lv[f]);
    return rc;
}

/* ---- duplicates: sorting, so a list of a million values or space entries of 64k variants
 * each cost O(n log n), not O(n^2) -------------------------------------------------------- */
/* One written value as a sort key: a space variant's (space, cells, channels, ss), else the
 * name or number; `item`: the list item it was written in. */
typedef struct {
    const void *space;
    int has_variant, cells, channels, ss, item;
    const char *str;
    double num;
} dup_key;

static int cmp_dup_key(const void *pa, const void *pb) {
    const dup_key *a = pa, *b = pb;
    int c = 0;
    if (a->has_variant && b->has_variant) {
        c = a->space != b->space ? ((uintptr_t)a->space > (uintptr_t)b->space ? 1 : -1)
          : a->cells != b->cells ? (a->cells > b->cells ? 1 : -1)
          : a->channels != b->channels ? (a->channels > b->channels ? 1 : -1)
          : a->ss != b->ss ? (a->ss > b->ss ? 1 : -1) : 0;
    } else if (a->str || b->str) {
        c = !a->str ? -1 : !b->str ? 1 : strcmp(a->str, b->str);
    } else if (a->num != b->num) {
        c = a->num > b->num ? 1 : -1;
    }
    return c ? c : (a->item > b->item) - (a->item < b->item);
}

/* A seed item as an interval [lo, hi] (a range is written in order; a seed is lo = hi). */
typedef struct { double lo, hi; int item; } seed_span;

static int cmp_span(const void *pa, const void *pb) {
    const seed_span *a = pa, *b = pb;
    return a->lo != b->lo ? (a->lo > b->lo ? 1 : -1) : (a->item > b->item) - (a->item < b->item);
}

/* Whether two of the first n spans overlap (sp: scratch of n). */
static int spans_overlap(const sweep_value *v, const item *it, int n, seed_span *sp) {
    for (int i = 0; i < n; i++)
        sp[i] = (seed_span){v[it[i].first].num, v[it[i].first + it[i].count - 1].num, i};
    qsort(sp, (size_t)n, sizeof *sp, cmp_span);
    double hi = -1;
    for (int i = 0; i < n; i++) {
        if (i && sp[i].lo <= hi) return 1;
        if (sp[i].hi > hi) hi = sp[i].hi;
    }
    return 0;
}

/* The first item that repeats a value of an earlier item (-1 if none); *prev: the first
 * such earlier item. Seeds compare as intervals, so a range of a million seeds costs nothing
 * extra; other values are sorted with their item. -2: out of memory. */
static int first_dup(const sweep_config *c, int k, const sweep_value *v, const item *it,
                     int nit, int *prev) {
    if (nit < 2) return -1;
    if (k == SWEEP_KEY_SEED) {
        seed_span *sp = malloc((size_t)nit * sizeof *sp);
        if (!sp) return -2;
        int d = -1;
        if (spans_overlap(v, it, nit, sp)) {
            /* the shortest prefix with an overlap ends at the first repeating item */
            int lo = 2, hi = nit;
            while (lo < hi) {
                int mid = lo + (hi - lo) / 2;
                if (spans_overlap(v, it, mid, sp)) hi = mid;
                else lo = mid + 1;
            }
            d = lo - 1;
            const double a0 = v[it[d].first].num, a1 = v[it[d].first + it[d].count - 1].num;
            for (int j = 0; j < d; j++)
                if (a0 <= v[it[j].first + it[j].count - 1].num && v[it[j].first].num <= a1) {
                    *prev = j;
                    break;
                }
        }
        free(sp);
        return d;
    }
    const int base = it[0].first, n = it[nit - 1].first + it[nit - 1].count - base;
    dup_key *key = malloc((size_t)(n ? n : 1) * sizeof *key);
    if (!key) return -2;
    for (int i = 0; i < nit; i++)
        for (int q = 0; q < it[i].count; q++) {
            const sweep_value *x = &v[it[i].first + q];
            dup_key *d = &key[it[i].first + q - base];
            memset(d, 0, sizeof *d);
            d->item = i, d->str = x->str, d->num = x->num;
            if (k == SWEEP_KEY_SPACE && x->variant >= 0) {
                const sweep_variant *u = &c->variants[x->variant];
                d->has_variant = 1, d->space = u->space, d->cells = u->cells;
                d->channels = u->channels, d->ss = u->ss;
            }
        }
    qsort(key, (size_t)n, sizeof *key, cmp_dup_key);
    int best_i = -1, best_j = -1;
    for (int a = 0; a < n;) { /* a run of equal values: its first item is the earliest */
        int b = a + 1;
        dup_key ka = key[a];
        for (; b < n; b++) {
            dup_key kb = key[b];
            kb.item = ka.item;
            if (cmp_dup_key(&ka, &kb)) break;
            if (key[b].item != ka.item &&
                (best_i < 0 || key[b].item < best_i || (key[b].item == best_i && ka.item < best_j)))
                best_i = key[b].item, best_j = ka.item;
        }
        a = b;
    }
    free(key);
    if (best_i >= 0) *prev = best_j;
    return best_i;
}

/* Seed range "A:B" at e into *out (A..B in order, one allocation). */
static int seed_range(cfg_ctx *x, const yaml_node_t *e, const char *colon, sweep_value **out,
                      int *nout, int *cap) {
    char lo[32];
    double a, b;
    snprintf(lo, sizeof lo, "%.*s", (int)(colon - cfg_text(e) < 31 ? colon - cfg_text(e) : 31), cfg_text(e));
    if (cfg_convert(SWEEP_T_INT, lo, &a) || cfg_convert(SWEEP_T_INT, colon + 1, &b) || a < 0 ||
        b > 2147483647.0)
        return cfg_fail(x, e, "seed: bad range \"%s\" (hint: \"A:B\" with integers 0 <= A <= B, "
                    "e.g. \"0:19\")", cfg_text(e));
    if (a > b)
        return cfg_fail(x, e, "seed: range \"%s\" is empty: %.0f > %.0f (hint: write \"%.0f:%.0f\")",
                    cfg_text(e), a, b, b, a);
    sweep_value *v = grow(x, out, *nout, cap, (long long)(b - a) + 1, e);
    if (!v) return -1;
    const sweep_mark m = cfg_mark_of(e);
    for (double s = a; s <= b; s++) *v++ = (sweep_value){s, NULL, -1, m};
    *nout += (int)(b - a) + 1;
    return 0;
}

/* arch (kind score): `all` (every NB201 index), {sample: N, seed: S} (N distinct indices, a
 * partial Fisher-Yates shuffle driven by splitmix64(S): the same on every machine), or a list
 * of indices 0..15624, each once. */
static int parse_arch(cfg_ctx *x, const yaml_node_t *n, sweep_value **out, int *nout) {
    const sweep_mark m = cfg_mark_of(n);
    int cap = 0;
    if (n->type == YAML_SCALAR_NODE && !strcmp(cfg_text(n), "all")) {
        sweep_value *v = grow(x, out, *nout, &cap, NB201_NUM_ARCHS, n);
        if (!v) return -1;
        for (int i = 0; i < NB201_NUM_ARCHS; i++) v[i] = (sweep_value){i, NULL, -1, m};
        *nout += NB201_NUM_ARCHS;
        return 0;
    }
    if (n->type == YAML_MAPPING_NODE) {
        double num = -1, seed = 0;
        for (const yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
            const yaml_node_t *kn = CFG_KEY(x, p), *vn = CFG_VAL(x, p);
            const char *kk = kn->type == YAML_SCALAR_NODE ? cfg_text(kn) : "";
            double *dst = !strcmp(kk, "sample") ? &num : !strcmp(kk, "seed") ? &seed : NULL;
            if (!dst)
                return cfg_fail(x, kn, "arch: unknown key '%s' (hint: {sample: 1000, seed: 0})", kk);
            if (cfg_want(x, vn, kk, SWEEP_T_INT, "an integer", dst)) return -1;
        }
        if (num < 1 || num > NB201_NUM_ARCHS)
            return cfg_fail(x, n, "arch: sample must be 1..%d (hint: {sample: 1000, seed: 0}, or "
                        "arch: all)", NB201_NUM_ARCHS);
        if (seed < 0) return cfg_fail(x, n, "arch: seed must be >= 0");
        int *idx = malloc((size_t)num * sizeof *idx);
        sweep_value *v = idx ? grow(x, out, *nout, &cap, (long long)num, n) : NULL;
        if (!v) { free(idx); return idx ? -1 : cfg_fail(x, n, "out of memory"); }
        sweep_sample_indices((uint64_t)seed, (int)num, NB201_NUM_ARCHS, idx);
        for (int i = 0; i < (int)num; i++) v[i] = (sweep_value){idx[i], NULL, -1, m};
        free(idx);
        *nout += (int)num;
        return 0;
    }
    const int seq = n->type == YAML_SEQUENCE_NODE, nit = seq ? CFG_NITEMS(n) : 1;
    if (!nit) return cfg_fail(x, n, "arch: empty list (hint: all, {sample: N, seed: S} or indices)");
    unsigned char *seen = calloc(NB201_NUM_ARCHS, 1);
    sweep_value *v = seen ? grow(x, out, *nout, &cap, nit, n) : NULL;
    if (!v) { free(seen); return seen ? -1 : cfg_fail(x, n, "out of memory"); }
    for (int i = 0; i < nit; i++) {
        const yaml_node_t *e = seq ? CFG_ITEM(x, n, i) : n;
        double idx;
        if (e->type != YAML_SCALAR_NODE || cfg_convert(SWEEP_T_INT, cfg_text(e), &idx) ||
            idx < 0 || idx >= NB201_NUM_ARCHS) {
            free(seen);
            return cfg_fail(x, e, "arch: expected an NB201 index 0..%d (hint: %s)", NB201_NUM_ARCHS - 1,
                        sweep_keys[SWEEP_KEY_ARCH].hint);
        }
        if (seen[(int)idx]++) {
            free(seen);
            return cfg_fail(x, e, "arch: %s is given twice (hint: each index once)", cfg_text(e));
        }
        v[i] = (sweep_value){idx, NULL, -1, cfg_mark_of(e)};
    }
    free(seen);
    *nout += nit;
    return 0;
}

/* The values of key k written at n: a scalar, a sequence of scalars, a seed range "A:B", and
 * for space (space_maps) mappings. Appended to *out / *nout (which may hold values on error).
 * A value given twice is an error, unless dups_ok (zip lists, where the tuples differ; the
 * planner merges grid points that resolve to one job). */
static int parse_list(cfg_ctx *x, int k, const yaml_node_t *n, int space_maps, int dups_ok,
                      sweep_value **out, int *nout) {
    const char *key = sweep_keys[k].name, *tn = cfg_type_names[sweep_keys[k].type];
    const int maps = k == SWEEP_KEY_SPACE && space_maps, seq = n->type == YAML_SEQUENCE_NODE;
    const int nit = seq ? CFG_NITEMS(n) : 1;
    int cap = 0, rc = -1;
    char buf[64];
    if (k == SWEEP_KEY_ARCH) return parse_arch(x, n, out, nout);
    if (n->type == YAML_MAPPING_NODE && !maps)
        return cfg_fail(x, n, "%s: expected %s or a list, got a mapping (hint: %s)", key, tn,
                    k == SWEEP_KEY_SPACE ? "exclude a space by name; cells, channels and ss are "
                    "keys of the filter" : sweep_keys[k].hint);
    if (!nit) return cfg_fail(x, n, "%s: empty list (hint: give at least one value, or leave the "
                          "key out for its default)", key);
    item *it = calloc((size_t)nit, sizeof *it);
    if (!it) return cfg_fail(x, n, "out of memory");
    for (int i = 0; i < nit; i++) {
        const yaml_node_t *e = seq ? CFG_ITEM(x, n, i) : n;
        const char *colon = e->type == YAML_SCALAR_NODE ? strchr(cfg_text(e), ':') : NULL;
        it[i].node = e, it[i].first = *nout;
        if (e->type == YAML_SEQUENCE_NODE || (e->type == YAML_MAPPING_NODE && !maps)) {
            cfg_fail(x, e, "%s: expected %s in the list, got %s (hint: %s)", key, tn,
                 cfg_found(e, buf, sizeof buf), sweep_keys[k].hint);
            goto done;
        } else if (k == SWEEP_KEY_SEED && colon) {
            if (seed_range(x, e, colon, out, nout, &cap)) goto done;
        } else if (e->type == YAML_MAPPING_NODE) {
            if (parse_space_entry(x, e, out, nout, &cap)) goto done;
        } else {
            sweep_value *v = grow(x, out, *nout, &cap, 1, e);
            if (!v || parse_scalar(x, k, e, v)) goto done;
            if (maps && (v->variant = cfg_append_variant(x, space_find(v->str), 0, 0, 0, e)) < 0)
                goto done;
            (*nout)++;
        }
        it[i].count = *nout - it[i].first;
    }
    int prev = 0, d = dups_ok ? -1 : first_dup(x->c, k, *out, it, nit, &prev);
    if (d == -2) {
        cfg_fail(x, n, "out of memory");
        goto done;
    }
    if (d >= 0) {
        const yaml_node_t *e = it[d].node;
        cfg_fail(x, e, "%s: %s repeats a value given at %d:%d (hint: each value once per list)",
             key, e->type == YAML_SCALAR_NODE ? cfg_text(e) : "this entry",
             cfg_mark_of(it[prev].node).line, cfg_mark_of(it[prev].node).col);
        goto done;
    }
    rc = 0;
done:
    free(it);
    return rc;
}

/* ---- grid, zip, exclude, ensembles --------------------------------------------------------- */
/* The grid key named at key node kn ("grid" or "zip group N" in messages), or -1. */
static int grid_key(cfg_ctx *x, const yaml_node_t *kn, const char *where) {
    const char *s = cfg_text(kn);
    int k = sweep_key_find(s);
    char hint[256], list[256], near[64];
    if (k >= 0 && sweep_keys[k].grid) return k;
    if (k == SWEEP_KEY_CELLS || k == SWEEP_KEY_CHANNELS || k == SWEEP_KEY_SS)
        return cfg_fail(x, kn, "%s: '%s' belongs to a space entry (hint: write it inside a space "
                    "entry: space: [{name: %s, %s: %s}])", where, s,
                    k == SWEEP_KEY_SS ? "nb1shot1" : "darts", s,
                    k == SWEEP_KEY_CELLS ? "[8, 20]" : k == SWEEP_KEY_SS ? "[1, 2, 3]" : "16");
    if (!strcmp(s, "resolution"))
        return cfg_fail(x, kn, "%s: unknown key 'resolution' (hint: the resolution follows the "
                    "dataset: dataset: imagenet224 is 224x224 with ImageNet stems)", where);
    if (k == SWEEP_KEY_KIND || cfg_closest(s, cfg_top_keys, near, sizeof near) == 0)
        return cfg_fail(x, kn, "%s: '%s' is not a grid key (hint: %s is a top-level key)", where,
                    s, s);
    return cfg_fail(x, kn, "%s: unknown key '%s' (hint: %s)", where, s,
                cfg_suggest(s, cfg_key_list(0, list, sizeof list), 0, hint, sizeof hint));
}

int cfg_parse_grid(cfg_ctx *x, const yaml_node_t *g) {
    if (cfg_check_map(x, g, "grid")) return -1;
    CFG_PAIRS(g) {
        int k = grid_key(x, CFG_KEY(x, p), "grid");
        if (k < 0) return -1;
        sweep_axis *a = &x->c->axes[k];
        a->mark = cfg_mark_of(CFG_KEY(x, p));
        if (parse_list(x, k, CFG_VAL(x, p), 1, 0, &a->v, &a->n)) return -1;
    }
    return 0;
}

/* zip: groups of grid keys whose lists advance together; a key is in the grid or one group. */
int cfg_parse_zip(cfg_ctx *x, const yaml_node_t *z) {
    sweep_config *c = x->c;
    char where[32], buf[64];
    if (check_seq(x, z, "zip", "[{metric: [snip, grasp], batch: [64, 32]}]")) return -1;
    for (int i = 0; i < CFG_NITEMS(z); i++) {
        const yaml_node_t *g = CFG_ITEM(x, z, i);
        const int gi = c->nzips;
        snprintf(where, sizeof where, "zip group %d", gi + 1);
        if (cfg_check_map(x, g, where)) return -1;
        if (gi == SWEEP_MAX_ZIPS) return cfg_fail(x, g, "zip: more than %d groups", SWEEP_MAX_ZIPS);
        if (g->data.mapping.pairs.top == g->data.mapping.pairs.start)
            return cfg_fail(x, g, "%s is empty (hint: {metric: [snip, grasp], batch: [64, 32]})",
                        where);
        c->nzips++;
        int first = -1;
        CFG_PAIRS(g) {
            const yaml_node_t *kn = CFG_KEY(x, p);
            int k = grid_key(x, kn, where);
            if (k < 0) return -1;
            sweep_axis *a = &c->axes[k];
            if (k == SWEEP_KEY_SPACE)
                return cfg_fail(x, kn, "%s: space cannot be zipped (hint: put space in grid)", where);
            if (a->n) {
                snprintf(buf, sizeof buf, a->zip >= 0 ? "zip group %d" : "grid", a->zip + 1);
                return cfg_fail(x, kn, "%s: '%s' is already in %s at %d:%d (hint: a key is either a "
                            "grid axis or in one zip group)", where, cfg_text(kn), buf, a->mark.line,
                            a->mark.col);
            }
            a->mark = cfg_mark_of(kn), a->zip = gi;
            if (parse_list(x, k, CFG_VAL(x, p), 0, 1, &a->v, &a->n)) return -1;
            if (first < 0) first = k;
            else if (a->n != c->axes[first].n)
                return cfg_fail(x, kn, "zip group %d: '%s' has %d values, '%s' has %d (hint: the "
                            "lists of one zip group advance together and need the same length)",
                            gi + 1, cfg_text(kn), a->n, sweep_keys[first].name, c->axes[first].n);
        }
    }
    return 0;
}

int cfg_parse_exclude(cfg_ctx *x, const yaml_node_t *e) {
    sweep_config *c = x->c;
    char hint[256], list[256];
    if (check_seq(x, e, "exclude", "[{space: darts, metric: grasp}]")) return -1;
    for (int i = 0; i < CFG_NITEMS(e); i++) {
        const yaml_node_t *f = CFG_ITEM(x, e, i);
        if (cfg_check_map(x, f, "exclude filter")) return -1;
        if (c->nexcludes == SWEEP_MAX_EXCLUDES)
            return cfg_fail(x, f, "exclude: more than %d filters", SWEEP_MAX_EXCLUDES);
        if (f->data.mapping.pairs.top == f->data.mapping.pairs.start)
            return cfg_fail(x, f, "exclude: empty filter (hint: {space: darts, metric: grasp})");
        sweep_filter *fl = &c->excludes[c->nexcludes++];
        fl->mark = cfg_mark_of(f);
        CFG_PAIRS(f) {
            const char *s = cfg_text(CFG_KEY(x, p));
            int k = sweep_key_find(s);
            if (k < 0 || k == SWEEP_KEY_KIND)
                return cfg_fail(x, CFG_KEY(x, p), "exclude: unknown key '%s' (hint: %s)", s,
                            k == SWEEP_KEY_KIND ? "kind is the same for every job"
                            : cfg_suggest(s, cfg_key_list(1, list, sizeof list), 0, hint,
                                          sizeof hint));
            fl->key[fl->nkeys++] = (sweep_key)k;
            if (parse_list(x, k, CFG_VAL(x, p), 0, 0, &fl->vals[k], &fl->nvals[k])) return -1;
        }
    }
    return 0;
}

/* One `over` key of an ensemble at kn into s->over. */
static int over_key(cfg_ctx *x, const yaml_node_t *kn, sweep_ensemble *s) {
    char hint[256], list[256];
    if (cfg_want(x, kn, "over", SWEEP_T_STR, cfg_key_list(2, list, sizeof list), NULL)) return -1;
    int k = sweep_key_find(cfg_text(kn));
    if (k == SWEEP_KEY_SPACE || k == SWEEP_KEY_SS)
        return cfg_fail(x, kn, "over: an ensemble cannot combine over %s (hint: an ensemble "
                    "combines jobs of one alpha layout; make one ensemble per space)", cfg_text(kn));
    if (k < 0 || k == SWEEP_KEY_KIND)
        return cfg_fail(x, kn, "over: unknown key '%s' (hint: %s)", cfg_text(kn),
                    cfg_suggest(cfg_text(kn), cfg_key_list(2, list, sizeof list), 0, hint,
                                sizeof hint));
    if (s->over[k])
        return cfg_fail(x, kn, "over: '%s' is listed twice (hint: each key once)", cfg_text(kn));
    s->over[k] = 1;
    return 0;
}

int cfg_parse_ensembles(cfg_ctx *x, const yaml_node_t *e) {
    sweep_config *c = x->c;
    char hint[256];
    if (check_seq(x, e, "ensembles", "[{name: seeds, over: [seed]}]")) return -1;
    for (int i = 0; i < CFG_NITEMS(e); i++) {
        const yaml_node_t *en = CFG_ITEM(x, e, i), *name = NULL, *over = NULL;
        if (cfg_check_map(x, en, "ensemble")) return -1;
        if (c->nensembles == SWEEP_MAX_ENSEMBLES)
            return cfg_fail(x, en, "ensembles: more than %d", SWEEP_MAX_ENSEMBLES);
        sweep_ensemble *s = &c->ensembles[c->nensembles];
        s->mark = cfg_mark_of(en), s->norm = SWEEP_NORM_ZSCORE;
        CFG_PAIRS(en) {
            const char *key = cfg_text(CFG_KEY(x, p));
            const yaml_node_t *v = CFG_VAL(x, p);
            if (!strcmp(key, "name")) name = v;
            else if (!strcmp(key, "over")) over = v;
            else if (strcmp(key, "norm"))
                return cfg_fail(x, CFG_KEY(x, p), "unknown key '%s' in an ensemble (hint: %s)", key,
                            cfg_suggest(key, "name, over, norm", 0, hint, sizeof hint));
            else if (cfg_want(x, v, "norm", SWEEP_T_STR, "rank or zscore", NULL)) return -1;
            else if (strcmp(cfg_text(v), "rank") && strcmp(cfg_text(v), "zscore"))
                return cfg_fail(x, v, "norm: unknown normalisation '%s' (hint: rank or zscore)",
                            cfg_text(v));
            else s->norm = !strcmp(cfg_text(v), "rank") ? SWEEP_NORM_RANK : SWEEP_NORM_ZSCORE;
        }
        if (!name || !over)
            return cfg_fail(x, en, "ensemble without %s (hint: {name: seeds, over: [seed]})",
                        name ? "over" : "a name");
        if (cfg_want(x, name, "name", SWEEP_T_STR, "a short name, e.g. seeds", NULL)) return -1;
        if (name->data.scalar.length > 63)
            return cfg_fail(x, name, "ensemble name is longer than 63 characters");
        for (int j = 0; j < c->nensembles; j++)
            if (!strcmp(c->ensembles[j].name, cfg_text(name)))
                return cfg_fail(x, name, "duplicate ensemble name '%s' (hint: first at %d:%d)",
                            cfg_text(name), c->ensembles[j].mark.line, c->ensembles[j].mark.col);
        snprintf(s->name, sizeof s->name, "%s", cfg_text(name));
        const int seq = over->type == YAML_SEQUENCE_NODE, n = seq ? CFG_NITEMS(over) : 1;
        if (!n || over->type == YAML_MAPPING_NODE)
            return cfg_fail(x, over, "over: expected a non-empty list of keys (hint: over: [seed])");
        for (int j = 0; j < n; j++)
            if (over_key(x, seq ? CFG_ITEM(x, over, j) : over, s)) return -1;
        c->nensembles++;
    }
    return 0;
}
