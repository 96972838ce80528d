/* sweep/config.c: reads a sweep configuration (configs/NAME.yaml, see configs/README.md) with
 * the libyaml document API into a sweep_config (sweep/config.h). Every key, type, range and
 * registry name (space, metric, dataset) is checked here, before any job runs; the first
 * problem found is reported as "FILE:LINE:COL: message (hint: ...)" at the mark of the
 * offending node. Values keep their marks for the planner's messages. */
#include "sweep/config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "datasets/dataset.h"
#include "gpu/device.h"
#include "nas/metric.h"

const sweep_key_info sweep_keys[SWEEP_NUM_KEYS] = {
    [SWEEP_KEY_KIND] = {"kind", SWEEP_T_STR, 0, "search or noop"},
    [SWEEP_KEY_SPACE] = {"space", SWEEP_T_STR, 1,
                         "nb201, darts, nb1shot1 or {name: darts, cells: 8}"},
    [SWEEP_KEY_CELLS] = {"cells", SWEEP_T_INT, 0, "an integer 1..64"},
    [SWEEP_KEY_CHANNELS] = {"channels", SWEEP_T_INT, 0, "an integer 2..1024"},
    [SWEEP_KEY_SS] = {"ss", SWEEP_T_INT, 0, "1, 2 or 3"},
    [SWEEP_KEY_DATASET] = {"dataset", SWEEP_T_STR, 1,
                           "cifar10, cifar100, imagenet16-120 or imagenet224"},
    [SWEEP_KEY_METRIC] = {"metric", SWEEP_T_STR, 1, "synflow, snip or grasp"},
    [SWEEP_KEY_BATCH] = {"batch", SWEEP_T_INT, 1, "an integer 1..4096"},
    [SWEEP_KEY_ALPHA_SCALE] = {"alpha_scale", SWEEP_T_NUM, 1, "a number > 0, e.g. 1.0e-3"},
    [SWEEP_KEY_SEED] = {"seed", SWEEP_T_INT, 1, "an integer >= 0, a list, or \"A:B\""},
    [SWEEP_KEY_AUGMENT] = {"augment", SWEEP_T_BOOL, 1, "true or false"},
    [SWEEP_KEY_PRECISION] = {"precision", SWEEP_T_INT, 1, "32 or 64"},
    [SWEEP_KEY_SYNFLOW_ZC] = {"synflow_zc", SWEEP_T_BOOL, 1, "true or false"},
    [SWEEP_KEY_ABS_PARAMS] = {"abs_params", SWEEP_T_BOOL, 1, "true or false"},
    [SWEEP_KEY_GRASP_ABS] = {"grasp_abs", SWEEP_T_BOOL, 1, "true or false"},
    [SWEEP_KEY_GRASP_DARTS_FORM] = {"grasp_darts_form", SWEEP_T_BOOL, 1, "true or false"},
    [SWEEP_KEY_DEVICE] = {"device", SWEEP_T_STR, 1, "cpu or cuda"},
};

int sweep_key_find(const char *name) {
    for (int k = 0; k < SWEEP_NUM_KEYS; k++)
        if (!strcmp(sweep_keys[k].name, name)) return k;
    return -1;
}

static const char *const top_keys = "name, output, kind, data, benchmark, threads, noop_ms, "
                                    "progress_interval, grid, zip, exclude, ensembles";
static const char *const type_names[] = {"a name", "an integer", "a number", "true or false"};
#define MAX_VALUES 10000000LL /* values one list may expand to (seed ranges; 32 bytes each) */

typedef struct {
    const char *path;
    yaml_document_t *doc;
    sweep_config *c;
    char *err;
    size_t errlen;
    int vcap; /* capacity of c->variants */
} ctx;

/* One written item of a list: the values [first, first + count) it expanded to. */
typedef struct { int first, count; const yaml_node_t *node; } item;

#define PAIRS(n) \
    for (yaml_node_pair_t *p = (n)->data.mapping.pairs.start; p < (n)->data.mapping.pairs.top; p++)
#define KEY(x, p) yaml_document_get_node((x)->doc, (p)->key)
#define VAL(x, p) yaml_document_get_node((x)->doc, (p)->value)
#define NITEMS(n) ((int)((n)->data.sequence.items.top - (n)->data.sequence.items.start))
#define ITEM(x, n, i) yaml_document_get_node((x)->doc, (n)->data.sequence.items.start[i])

/* ---- messages ------------------------------------------------------------------------------ */
static sweep_mark mark_of(const yaml_node_t *n) { /* NULL: 1:1 */
    return n ? (sweep_mark){(int)n->start_mark.line + 1, (int)n->start_mark.column + 1}
             : (sweep_mark){1, 1};
}

/* "PATH:LINE:COL: message", or "PATH: message" for a mark 0:0 (the command line). -1. */
static int fail_at(const char *path, sweep_mark m, char *err, size_t errlen, const char *fmt,
                   ...) {
    if (!err || !errlen) return -1;
    int w = m.line ? snprintf(err, errlen, "%s:%d:%d: ", path, m.line, m.col)
                   : snprintf(err, errlen, "%s: ", path);
    va_list ap;
    va_start(ap, fmt);
    if (w >= 0 && (size_t)w < errlen) vsnprintf(err + w, errlen - (size_t)w, fmt, ap);
    va_end(ap);
    return -1;
}
/* Error at the mark of node n (NULL: 1:1). */
#define fail(x, n, ...) fail_at((x)->path, mark_of(n), (x)->err, (x)->errlen, __VA_ARGS__)

static const char *text(const yaml_node_t *n) { return (const char *)n->data.scalar.value; }
static int is_plain(const yaml_node_t *n) {
    return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* What a node is, for "got ..." in messages. */
static const char *found(const yaml_node_t *n, char *buf, size_t len) {
    if (n->type == YAML_SEQUENCE_NODE) return "a list";
    if (n->type == YAML_MAPPING_NODE) return "a mapping";
    if (is_plain(n) && !n->data.scalar.length) return "nothing";
    snprintf(buf, len, "%s\"%.40s%s\"", is_plain(n) ? "" : "a string ", text(n),
             n->data.scalar.length > 40 ? "..." : "");
    return buf;
}

/* Case-insensitive edit distance (99 for names over 63 characters). */
static int edit_distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63) return 99;
    int row[64];
    for (size_t j = 0; j <= lb; j++) row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int up = row[j];
            int best = diag + (tolower((unsigned char)a[i - 1]) !=
                               tolower((unsigned char)b[j - 1]));
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* The closest name of a ", "-separated list into out; returns its edit distance. */
static int closest(const char *word, const char *list, char *out, size_t outlen) {
    int best = 99;
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ",");
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(n < 63 ? n : 63), p);
        int d = edit_distance(word, name);
        if (d < best) best = d, snprintf(out, outlen, "%s", name);
        p += n;
        while (*p == ',' || *p == ' ') p++;
    }
    return best;
}

/* "did you mean 'Y'?" (edit distance <= 2) else "known keys: LIST"; with `known`:
 * "known: LIST" and the did-you-mean after it. */
static const char *suggest(const char *word, const char *list, int known, char *buf, size_t len) {
    char near[64] = "";
    int have = closest(word, list, near, sizeof near) <= 2;
    if (known) snprintf(buf, len, "known: %s%s%s%s", list, have ? "; did you mean '" : "",
                        have ? near : "", have ? "'?" : "");
    else if (have) snprintf(buf, len, "did you mean '%s'?", near);
    else snprintf(buf, len, "known keys: %s", list);
    return buf;
}

/* Key names: mode 0 the grid keys, 1 all but kind (exclude), 2 also not space, ss (over). */
static const char *key_list(int mode, char *buf, size_t len) {
    size_t n = 0;
    buf[0] = '\0';
    for (int k = 0; k < SWEEP_NUM_KEYS; k++)
        if ((mode ? k != SWEEP_KEY_KIND : sweep_keys[k].grid) && n < len &&
            (mode < 2 || (k != SWEEP_KEY_SPACE && k != SWEEP_KEY_SS)))
            n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? ", " : "", sweep_keys[k].name);
    return buf;
}

/* ---- scalars ------------------------------------------------------------------------------- */
/* s as type t (INT: base 10, all of it; NUM: finite; BOOL: true/false/yes/no/on/off, any
 * case) into *out; -1 if it is not one. STR always converts. */
static int convert(sweep_type t, const char *s, double *out) {
    static const char *const words[6] = {"false", "true", "no", "yes", "off", "on"};
    char *end = NULL;
    if (t == SWEEP_T_STR) return 0;
    if (t == SWEEP_T_BOOL) {
        for (int i = 0; i < 6; i++) {
            const char *a = s, *b = words[i]; /* strcasecmp is POSIX, not C11 */
            while (*a && tolower((unsigned char)*a) == *b) a++, b++;
            if (!*a && !*b) return *out = i % 2, 0;
        }
        return -1;
    }
    errno = 0;
    double v = t == SWEEP_T_INT ? (double)strtoll(s, &end, 10) : strtod(s, &end);
    if (!*s || *end || errno || !isfinite(v) || isspace((unsigned char)*s)) return -1;
    return *out = v, 0;
}

/* A scalar of type t for `key` into *num (INT, NUM, BOOL); STR: a non-empty scalar. Quoted
 * numbers and booleans are wrong types: YAML reads them as strings. */
static int want(ctx *x, const yaml_node_t *n, const char *key, sweep_type t, const char *hint,
                double *num) {
    double v = 0;
    char buf[64];
    if (n->type == YAML_SCALAR_NODE && !convert(t, text(n), &v)) {
        if (num) *num = v;
        if (t == SWEEP_T_STR ? n->data.scalar.length > 0 : is_plain(n)) return 0;
        if (t != SWEEP_T_STR)
            return fail(x, n, "%s: expected %s, got a string \"%s\" (hint: write %s without "
                        "quotes)", key, type_names[t], text(n), text(n));
    }
    return fail(x, n, "%s: expected %s, got %s (hint: %s)", key, type_names[t],
                found(n, buf, sizeof buf), hint);
}

/* One value of grid / exclude / space-entry key k (not a seed range, not a space mapping);
 * names are stored as the registry's own static string. */
static int parse_scalar(ctx *x, int k, const yaml_node_t *n, sweep_value *v) {
    const sweep_key_info *ki = &sweep_keys[k];
    memset(v, 0, sizeof *v);
    v->variant = -1;
    if (want(x, n, ki->name, ki->type, ki->hint, &v->num)) return -1;
    v->mark = mark_of(n);
    const char *s = text(n), *what = ki->name, *list = NULL;
    char hint[256];
    if (k == SWEEP_KEY_SPACE) {
        const fn_space *sp = space_find(s);
        v->str = sp ? sp->name : NULL, list = space_names();
    } else if (k == SWEEP_KEY_METRIC) {
        const fn_metric *m = metric_find(s);
        v->str = m ? m->name : NULL, list = metric_names();
    } else if (k == SWEEP_KEY_DATASET) {
        const fn_dataset_info *ds = dataset_info(s);
        v->str = ds ? ds->name : NULL, list = dataset_names();
    } else if (k == SWEEP_KEY_DEVICE) {
        v->str = !strcmp(s, "cpu") ? "cpu" : !strcmp(s, "cuda") ? "cuda" : NULL;
        list = "cpu, cuda";
    } else if (k == SWEEP_KEY_ALPHA_SCALE && !(v->num > 0)) {
        return fail(x, n, "alpha_scale: %s must be > 0 (hint: a positive number such as "
                    "1.0e-3)", s);
    } else if (k == SWEEP_KEY_PRECISION && v->num != 32 && v->num != 64) {
        return fail(x, n, "precision: %s is not 32 or 64 (hint: precision: [32, 64])", s);
    } else if (ki->type == SWEEP_T_INT) {
        double lo = k == SWEEP_KEY_CHANNELS ? 2 : k == SWEEP_KEY_SEED ? 0 : 1;
        double hi = k == SWEEP_KEY_CELLS ? 64 : k == SWEEP_KEY_CHANNELS ? 1024
                  : k == SWEEP_KEY_SS ? 3 : k == SWEEP_KEY_BATCH ? 4096 : 2147483647.0;
        if (v->num < lo || v->num > hi)
            return fail(x, n, "%s: %s is out of range (hint: %s)", ki->name, s,
                        k == SWEEP_KEY_SEED ? "0..2147483647" : ki->hint);
    }
    if (list && !v->str)
        return fail(x, n, "unknown %s '%s' (hint: %s)", what, s,
                    suggest(s, list, 1, hint, sizeof hint));
    return 0;
}

/* ---- mappings and lists -------------------------------------------------------------------- */
/* n must be a mapping (of `what`) with scalar keys, each once. */
static int check_map(ctx *x, const yaml_node_t *n, const char *what) {
    char buf[64];
    if (n->type != YAML_MAPPING_NODE)
        return fail(x, n, "%s: expected a mapping (key: value, ...), got %s", what,
                    found(n, buf, sizeof buf));
    PAIRS(n) {
        const yaml_node_t *k = KEY(x, p);
        if (k->type != YAML_SCALAR_NODE)
            return fail(x, k, "%s: a key must be a name, got %s", what, found(k, buf, sizeof buf));
        for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < p; q++) {
            const yaml_node_t *k0 = KEY(x, q);
            if (k0->type == YAML_SCALAR_NODE && !strcmp(text(k0), text(k)))
                return fail(x, k, "duplicate key '%s' (hint: already given at %d:%d; several "
                            "values are one list: %s: [a, b])", text(k), mark_of(k0).line,
                            mark_of(k0).col, text(k));
        }
    }
    return 0;
}

/* n must be a sequence (of `what`, e.g. written as `example`). */
static int check_seq(ctx *x, const yaml_node_t *n, const char *what, const char *example) {
    char buf[64];
    if (n->type == YAML_SEQUENCE_NODE) return 0;
    return fail(x, n, "%s: expected a list, got %s (hint: %s: %s)", what,
                found(n, buf, sizeof buf), what, example);
}

/* Room for `add` more values after the n of *v (capacity *cap); one allocation per call. */
static sweep_value *grow(ctx *x, sweep_value **v, int n, int *cap, long long add,
                         const yaml_node_t *at) {
    if (n + add > MAX_VALUES) {
        fail(x, at, "more than %lld values in one list (hint: split the sweep)", MAX_VALUES);
        return NULL;
    }
    if (n + add > *cap) {
        long long want_cap = *cap ? *cap : 4;
        while (want_cap < n + add) want_cap *= 2;
        sweep_value *nv = realloc(*v, (size_t)want_cap * sizeof *nv);
        if (!nv) return fail(x, at, "out of memory"), NULL;
        *v = nv, *cap = (int)want_cap;
    }
    return *v + n;
}

static int append_variant(ctx *x, const fn_space *sp, int cells, int channels, int ss,
                          const yaml_node_t *entry) {
    sweep_config *c = x->c;
    if (c->nvariants == x->vcap) {
        int cap = x->vcap ? 2 * x->vcap : 8;
        sweep_variant *nv = realloc(c->variants, (size_t)cap * sizeof *nv);
        if (!nv) return fail(x, entry, "out of memory");
        c->variants = nv, x->vcap = cap;
    }
    sweep_variant *v = &c->variants[c->nvariants++];
    v->space = sp;
    v->cells = cells, v->channels = channels;
    v->ss = ss ? ss : sp == &fn_space_nb1shot1 ? 1 : 0;
    v->mark = entry ? mark_of(entry) : (sweep_mark){0, 0};
    return c->nvariants - 1;
}

static int parse_list(ctx *x, int k, const yaml_node_t *n, int space_maps, int dups_ok,
                      sweep_value **out, int *nout);

/* A space entry {name:, cells:, channels:, ss:}, expanded into variants (cells slowest, then
 * channels, then ss); one value per variant appended to *out. */
static int parse_space_entry(ctx *x, const yaml_node_t *n, sweep_value **out, int *nout,
                             int *cap) {
    static const int fk[3] = {SWEEP_KEY_CELLS, SWEEP_KEY_CHANNELS, SWEEP_KEY_SS};
    const yaml_node_t *name = NULL, *ssk = NULL;
    sweep_value *lv[3] = {NULL, NULL, NULL}, sv, *dst;
    int ln[3] = {0, 0, 0}, rc = -1;
    char hint[256];
    if (check_map(x, n, "space entry")) return -1;
    PAIRS(n) {
        const char *key = text(KEY(x, p));
        int f = !strcmp(key, "cells") ? 0 : !strcmp(key, "channels") ? 1
              : !strcmp(key, "ss") ? 2 : -1;
        if (!strcmp(key, "name")) {
            name = VAL(x, p);
        } else if (f < 0) {
            fail(x, KEY(x, p), "unknown key '%s' in a space entry (hint: %s)", key,
                 suggest(key, "name, cells, channels, ss", 0, hint, sizeof hint));
            goto done;
        } else if (parse_list(x, fk[f], VAL(x, p), 0, 0, &lv[f], &ln[f])) {
            goto done;
        }
        if (f == 2) ssk = KEY(x, p);
    }
    if (!name) {
        fail(x, n, "space entry without a name (hint: {name: darts, cells: [8, 20]})");
        goto done;
    }
    if (parse_scalar(x, SWEEP_KEY_SPACE, name, &sv)) goto done;
    const fn_space *sp = space_find(sv.str);
    if (ssk && sp != &fn_space_nb1shot1) {
        fail(x, ssk, "ss: only nb1shot1 has search spaces 1-3, this entry is %s (hint: remove "
             "ss, or write {name: nb1shot1, ss: [1, 2, 3]})", sp->name);
        goto done;
    }
    const int na = ln[0] ? ln[0] : 1, nb = ln[1] ? ln[1] : 1, ns = ln[2] ? ln[2] : 1;
    if (!(dst = grow(x, out, *nout, cap, (long long)na * nb * ns, n))) goto done;
    for (int a = 0; a < na; a++)
        for (int b = 0; b < nb; b++)
            for (int s = 0; s < ns; s++, dst++, (*nout)++) {
                int vi = append_variant(x, sp, ln[0] ? (int)lv[0][a].num : 0,
                                        ln[1] ? (int)lv[1][b].num : 0,
                                        ln[2] ? (int)lv[2][s].num : 0, n);
                if (vi < 0) goto done;
                *dst = (sweep_value){0, sp->name, vi, mark_of(n)};
            }
    rc = 0;
done:
    for (int f = 0; f < 3; f++) free(lv[f]);
    return rc;
}

static int same_value(const sweep_config *c, int k, const sweep_value *a, const sweep_value *b) {
    if (k == SWEEP_KEY_SPACE && a->variant >= 0 && b->variant >= 0) {
        const sweep_variant *u = &c->variants[a->variant], *w = &c->variants[b->variant];
        return u->space == w->space && u->cells == w->cells && u->channels == w->channels &&
               u->ss == w->ss;
    }
    if (a->str || b->str) return a->str && b->str && !strcmp(a->str, b->str);
    return a->num == b->num;
}

/* The first item that repeats a value of an earlier item (-1 if none); *prev: that item.
 * Seeds compare as intervals, so a range of a million seeds costs nothing extra. */
static int first_dup(const sweep_config *c, int k, const sweep_value *v, const item *it,
                     int nit, int *prev) {
    for (int i = 1; i < nit; i++)
        for (int j = 0; j < i; j++) {
            const item *a = &it[i], *b = &it[j];
            int dup = 0;
            if (k == SWEEP_KEY_SEED)
                dup = v[a->first].num <= v[b->first + b->count - 1].num &&
                      v[b->first].num <= v[a->first + a->count - 1].num;
            else
                for (int p = 0; p < a->count && !dup; p++)
                    for (int q = 0; q < b->count && !dup; q++)
                        dup = same_value(c, k, &v[a->first + p], &v[b->first + q]);
            if (dup) return *prev = j, i;
        }
    return -1;
}

/* Seed range "A:B" at e into *out (A..B in order, one allocation). */
static int seed_range(ctx *x, const yaml_node_t *e, const char *colon, sweep_value **out,
                      int *nout, int *cap) {
    char lo[32];
    double a, b;
    snprintf(lo, sizeof lo, "%.*s", (int)(colon - text(e) < 31 ? colon - text(e) : 31), text(e));
    if (convert(SWEEP_T_INT, lo, &a) || convert(SWEEP_T_INT, colon + 1, &b) || a < 0 ||
        b > 2147483647.0)
        return fail(x, e, "seed: bad range \"%s\" (hint: \"A:B\" with integers 0 <= A <= B, "
                    "e.g. \"0:19\")", text(e));
    if (a > b)
        return fail(x, e, "seed: range \"%s\" is empty: %.0f > %.0f (hint: write \"%.0f:%.0f\")",
                    text(e), a, b, b, a);
    sweep_value *v = grow(x, out, *nout, cap, (long long)(b - a) + 1, e);
    if (!v) return -1;
    const sweep_mark m = mark_of(e);
    for (double s = a; s <= b; s++) *v++ = (sweep_value){s, NULL, -1, m};
    *nout += (int)(b - a) + 1;
    return 0;
}

/* The values of key k written at n: a scalar, a sequence of scalars, a seed range "A:B", and
 * for space (space_maps) mappings. Appended to *out / *nout (which may hold values on error).
 * A value given twice is an error, unless dups_ok (zip lists, where the tuples differ; the
 * planner merges grid points that resolve to one job). */
static int parse_list(ctx *x, int k, const yaml_node_t *n, int space_maps, int dups_ok,
                      sweep_value **out, int *nout) {
    const char *key = sweep_keys[k].name, *tn = type_names[sweep_keys[k].type];
    const int maps = k == SWEEP_KEY_SPACE && space_maps, seq = n->type == YAML_SEQUENCE_NODE;
    const int nit = seq ? NITEMS(n) : 1;
    int cap = 0, rc = -1;
    char buf[64];
    if (n->type == YAML_MAPPING_NODE && !maps)
        return fail(x, n, "%s: expected %s or a list, got a mapping (hint: %s)", key, tn,
                    k == SWEEP_KEY_SPACE ? "exclude a space by name; cells, channels and ss are "
                    "keys of the filter" : sweep_keys[k].hint);
    if (!nit) return fail(x, n, "%s: empty list (hint: give at least one value, or leave the "
                          "key out for its default)", key);
    item *it = calloc((size_t)nit, sizeof *it);
    if (!it) return fail(x, n, "out of memory");
    for (int i = 0; i < nit; i++) {
        const yaml_node_t *e = seq ? ITEM(x, n, i) : n;
        const char *colon = e->type == YAML_SCALAR_NODE ? strchr(text(e), ':') : NULL;
        it[i].node = e, it[i].first = *nout;
        if (e->type == YAML_SEQUENCE_NODE || (e->type == YAML_MAPPING_NODE && !maps)) {
            fail(x, e, "%s: expected %s in the list, got %s (hint: %s)", key, tn,
                 found(e, buf, sizeof buf), sweep_keys[k].hint);
            goto done;
        } else if (k == SWEEP_KEY_SEED && colon) {
            if (seed_range(x, e, colon, out, nout, &cap)) goto done;
        } else if (e->type == YAML_MAPPING_NODE) {
            if (parse_space_entry(x, e, out, nout, &cap)) goto done;
        } else {
            sweep_value *v = grow(x, out, *nout, &cap, 1, e);
            if (!v || parse_scalar(x, k, e, v)) goto done;
            if (maps && (v->variant = append_variant(x, space_find(v->str), 0, 0, 0, e)) < 0)
                goto done;
            (*nout)++;
        }
        it[i].count = *nout - it[i].first;
    }
    int prev, d = dups_ok ? -1 : first_dup(x->c, k, *out, it, nit, &prev);
    if (d >= 0) {
        const yaml_node_t *e = it[d].node;
        fail(x, e, "%s: %s repeats a value given at %d:%d (hint: each value once per list)",
             key, e->type == YAML_SCALAR_NODE ? text(e) : "this entry",
             mark_of(it[prev].node).line, mark_of(it[prev].node).col);
        goto done;
    }
    rc = 0;
done:
    free(it);
    return rc;
}

/* ---- grid, zip, exclude, ensembles --------------------------------------------------------- */
/* The grid key named at key node kn ("grid" or "zip group N" in messages), or -1. */
static int grid_key(ctx *x, const yaml_node_t *kn, const char *where) {
    const char *s = text(kn);
    int k = sweep_key_find(s);
    char hint[256], list[256], near[64];
    if (k >= 0 && sweep_keys[k].grid) return k;
    if (k == SWEEP_KEY_CELLS || k == SWEEP_KEY_CHANNELS || k == SWEEP_KEY_SS)
        return fail(x, kn, "%s: '%s' belongs to a space entry (hint: write it inside a space "
                    "entry: space: [{name: %s, %s: %s}])", where, s,
                    k == SWEEP_KEY_SS ? "nb1shot1" : "darts", s,
                    k == SWEEP_KEY_CELLS ? "[8, 20]" : k == SWEEP_KEY_SS ? "[1, 2, 3]" : "16");
    if (!strcmp(s, "resolution"))
        return fail(x, kn, "%s: unknown key 'resolution' (hint: the resolution follows the "
                    "dataset: dataset: imagenet224 is 224x224 with ImageNet stems)", where);
    if (k == SWEEP_KEY_KIND || closest(s, top_keys, near, sizeof near) == 0)
        return fail(x, kn, "%s: '%s' is not a grid key (hint: %s is a top-level key)", where,
                    s, s);
    return fail(x, kn, "%s: unknown key '%s' (hint: %s)", where, s,
                suggest(s, key_list(0, list, sizeof list), 0, hint, sizeof hint));
}

static int parse_grid(ctx *x, const yaml_node_t *g) {
    if (check_map(x, g, "grid")) return -1;
    PAIRS(g) {
        int k = grid_key(x, KEY(x, p), "grid");
        if (k < 0) return -1;
        sweep_axis *a = &x->c->axes[k];
        a->mark = mark_of(KEY(x, p));
        if (parse_list(x, k, VAL(x, p), 1, 0, &a->v, &a->n)) return -1;
    }
    return 0;
}

/* zip: groups of grid keys whose lists advance together; a key is in the grid or one group. */
static int parse_zip(ctx *x, const yaml_node_t *z) {
    sweep_config *c = x->c;
    char where[32], buf[64];
    if (check_seq(x, z, "zip", "[{metric: [snip, grasp], batch: [64, 32]}]")) return -1;
    for (int i = 0; i < NITEMS(z); i++) {
        const yaml_node_t *g = ITEM(x, z, i);
        const int gi = c->nzips;
        snprintf(where, sizeof where, "zip group %d", gi + 1);
        if (check_map(x, g, where)) return -1;
        if (gi == SWEEP_MAX_ZIPS) return fail(x, g, "zip: more than %d groups", SWEEP_MAX_ZIPS);
        if (g->data.mapping.pairs.top == g->data.mapping.pairs.start)
            return fail(x, g, "%s is empty (hint: {metric: [snip, grasp], batch: [64, 32]})",
                        where);
        c->nzips++;
        int first = -1;
        PAIRS(g) {
            const yaml_node_t *kn = KEY(x, p);
            int k = grid_key(x, kn, where);
            if (k < 0) return -1;
            sweep_axis *a = &c->axes[k];
            if (k == SWEEP_KEY_SPACE)
                return fail(x, kn, "%s: space cannot be zipped (hint: put space in grid)", where);
            if (a->n) {
                snprintf(buf, sizeof buf, a->zip >= 0 ? "zip group %d" : "grid", a->zip + 1);
                return fail(x, kn, "%s: '%s' is already in %s at %d:%d (hint: a key is either a "
                            "grid axis or in one zip group)", where, text(kn), buf, a->mark.line,
                            a->mark.col);
            }
            a->mark = mark_of(kn), a->zip = gi;
            if (parse_list(x, k, VAL(x, p), 0, 1, &a->v, &a->n)) return -1;
            if (first < 0) first = k;
            else if (a->n != c->axes[first].n)
                return fail(x, kn, "zip group %d: '%s' has %d values, '%s' has %d (hint: the "
                            "lists of one zip group advance together and need the same length)",
                            gi + 1, text(kn), a->n, sweep_keys[first].name, c->axes[first].n);
        }
    }
    return 0;
}

static int parse_exclude(ctx *x, const yaml_node_t *e) {
    sweep_config *c = x->c;
    char hint[256], list[256];
    if (check_seq(x, e, "exclude", "[{space: darts, metric: grasp}]")) return -1;
    for (int i = 0; i < NITEMS(e); i++) {
        const yaml_node_t *f = ITEM(x, e, i);
        if (check_map(x, f, "exclude filter")) return -1;
        if (c->nexcludes == SWEEP_MAX_EXCLUDES)
            return fail(x, f, "exclude: more than %d filters", SWEEP_MAX_EXCLUDES);
        if (f->data.mapping.pairs.top == f->data.mapping.pairs.start)
            return fail(x, f, "exclude: empty filter (hint: {space: darts, metric: grasp})");
        sweep_filter *fl = &c->excludes[c->nexcludes++];
        fl->mark = mark_of(f);
        PAIRS(f) {
            const char *s = text(KEY(x, p));
            int k = sweep_key_find(s);
            if (k < 0 || k == SWEEP_KEY_KIND)
                return fail(x, KEY(x, p), "exclude: unknown key '%s' (hint: %s)", s,
                            k == SWEEP_KEY_KIND ? "kind is the same for every job"
                            : suggest(s, key_list(1, list, sizeof list), 0, hint, sizeof hint));
            fl->key[fl->nkeys++] = (sweep_key)k;
            if (parse_list(x, k, VAL(x, p), 0, 0, &fl->vals[k], &fl->nvals[k])) return -1;
        }
    }
    return 0;
}

/* One `over` key of an ensemble at kn into s->over. */
static int over_key(ctx *x, const yaml_node_t *kn, sweep_ensemble *s) {
    char hint[256], list[256];
    if (want(x, kn, "over", SWEEP_T_STR, key_list(2, list, sizeof list), NULL)) return -1;
    int k = sweep_key_find(text(kn));
    if (k == SWEEP_KEY_SPACE || k == SWEEP_KEY_SS)
        return fail(x, kn, "over: an ensemble cannot combine over %s (hint: an ensemble "
                    "combines jobs of one alpha layout; make one ensemble per space)", text(kn));
    if (k < 0 || k == SWEEP_KEY_KIND)
        return fail(x, kn, "over: unknown key '%s' (hint: %s)", text(kn),
                    suggest(text(kn), key_list(2, list, sizeof list), 0, hint, sizeof hint));
    if (s->over[k])
        return fail(x, kn, "over: '%s' is listed twice (hint: each key once)", text(kn));
    s->over[k] = 1;
    return 0;
}

static int parse_ensembles(ctx *x, const yaml_node_t *e) {
    sweep_config *c = x->c;
    char hint[256];
    if (check_seq(x, e, "ensembles", "[{name: seeds, over: [seed]}]")) return -1;
    for (int i = 0; i < NITEMS(e); i++) {
        const yaml_node_t *en = ITEM(x, e, i), *name = NULL, *over = NULL;
        if (check_map(x, en, "ensemble")) return -1;
        if (c->nensembles == SWEEP_MAX_ENSEMBLES)
            return fail(x, en, "ensembles: more than %d", SWEEP_MAX_ENSEMBLES);
        sweep_ensemble *s = &c->ensembles[c->nensembles];
        s->mark = mark_of(en), s->norm = SWEEP_NORM_ZSCORE;
        PAIRS(en) {
            const char *key = text(KEY(x, p));
            const yaml_node_t *v = VAL(x, p);
            if (!strcmp(key, "name")) name = v;
            else if (!strcmp(key, "over")) over = v;
            else if (strcmp(key, "norm"))
                return fail(x, KEY(x, p), "unknown key '%s' in an ensemble (hint: %s)", key,
                            suggest(key, "name, over, norm", 0, hint, sizeof hint));
            else if (want(x, v, "norm", SWEEP_T_STR, "rank or zscore", NULL)) return -1;
            else if (strcmp(text(v), "rank") && strcmp(text(v), "zscore"))
                return fail(x, v, "norm: unknown normalisation '%s' (hint: rank or zscore)",
                            text(v));
            else s->norm = !strcmp(text(v), "rank") ? SWEEP_NORM_RANK : SWEEP_NORM_ZSCORE;
        }
        if (!name || !over)
            return fail(x, en, "ensemble without %s (hint: {name: seeds, over: [seed]})",
                        name ? "over" : "a name");
        if (want(x, name, "name", SWEEP_T_STR, "a short name, e.g. seeds", NULL)) return -1;
        if (name->data.scalar.length > 63)
            return fail(x, name, "ensemble name is longer than 63 characters");
        for (int j = 0; j < c->nensembles; j++)
            if (!strcmp(c->ensembles[j].name, text(name)))
                return fail(x, name, "duplicate ensemble name '%s' (hint: first at %d:%d)",
                            text(name), c->ensembles[j].mark.line, c->ensembles[j].mark.col);
        snprintf(s->name, sizeof s->name, "%s", text(name));
        const int seq = over->type == YAML_SEQUENCE_NODE, n = seq ? NITEMS(over) : 1;
        if (!n || over->type == YAML_MAPPING_NODE)
            return fail(x, over, "over: expected a non-empty list of keys (hint: over: [seed])");
        for (int j = 0; j < n; j++)
            if (over_key(x, seq ? ITEM(x, over, j) : over, s)) return -1;
        c->nensembles++;
    }
    return 0;
}

/* ---- top level ----------------------------------------------------------------------------- */
/* A path value with ${NAME} replaced by the environment; "" (or nothing) is allowed. */
static int path_value(ctx *x, const yaml_node_t *n, const char *key, char *out, size_t len,
                      sweep_mark *mark) {
    char buf[64];
    if (n->type != YAML_SCALAR_NODE)
        return fail(x, n, "%s: expected a path, got %s (hint: %s: results/my_sweep)", key,
                    found(n, buf, sizeof buf), key);
    size_t w = 0;
    for (const char *s = text(n); *s;) {
        const char *piece = s;
        size_t plen = 1;
        if (s[0] == '$' && s[1] == '{') {
            const char *end = strchr(s + 2, '}');
            if (!end)
                return fail(x, n, "%s: unterminated ${ in \"%s\" (hint: ${NAME})", key, text(n));
            char var[256];
            snprintf(var, sizeof var, "%.*s", (int)(end - s - 2 < 255 ? end - s - 2 : 255), s + 2);
            if (!(piece = getenv(var)))
                return fail(x, n, "%s: environment variable %s is not set (hint: export %s=... "
                            "or write the path without ${%s})", key, var, var, var);
            plen = strlen(piece);
            s = end + 1;
        } else {
            s++;
        }
        if (w + plen >= len)
            return fail(x, n, "%s: path longer than %zu characters", key, len - 1);
        memcpy(out + w, piece, plen);
        w += plen;
    }
    out[w] = '\0';
    *mark = mark_of(n);
    return 0;
}

static int parse_top(ctx *x, const yaml_node_t *root) {
    static const char *const paths[3] = {"output", "data", "benchmark"},
                      *const sections[4] = {"grid", "zip", "exclude", "ensembles"};
    sweep_config *c = x->c;
    char *path_out[3] = {c->output, c->data, c->benchmark}, buf[64], hint[256];
    sweep_mark *path_mark[3] = {&c->output_mark, &c->data_mark, &c->benchmark_mark};
    const yaml_node_t *sect[4] = {NULL, NULL, NULL, NULL}, *out = NULL;
    if (!root) return fail(x, NULL, "the configuration is empty (hint: at least output: DIR)");
    if (root->type != YAML_MAPPING_NODE)
        return fail(x, root, "the top level must be a mapping (output: ..., grid: ...), got %s",
                    found(root, buf, sizeof buf));
    if (check_map(x, root, "top level")) return -1;
    PAIRS(root) {
        const yaml_node_t *kn = KEY(x, p), *v = VAL(x, p);
        const char *key = text(kn);
        const int gk = sweep_key_find(key);
        int pi = 2, si = 3;
        double num = 0;
        while (pi >= 0 && strcmp(key, paths[pi])) pi--;
        while (si >= 0 && strcmp(key, sections[si])) si--;
        if (pi >= 0) {
            if (path_value(x, v, key, path_out[pi], SWEEP_PATHLEN, path_mark[pi])) return -1;
            if (pi == 0 && !c->output[0])
                return fail(x, v, "output: empty path (hint: output: results/%s)", c->name);
            if (pi == 0) out = v;
        } else if (si >= 0) {
            sect[si] = v;
        } else if (!strcmp(key, "name")) {
            if (want(x, v, key, SWEEP_T_STR, "a short name", NULL)) return -1;
            if (v->data.scalar.length >= sizeof c->name)
                return fail(x, v, "name: longer than %zu characters", sizeof c->name - 1);
            snprintf(c->name, sizeof c->name, "%s", text(v));
        } else if (!strcmp(key, "kind")) {
            if (want(x, v, key, SWEEP_T_STR, "search or noop", NULL)) return -1;
            if (strcmp(text(v), "search") && strcmp(text(v), "noop"))
                return fail(x, v, "kind: unknown kind '%s' (hint: search or noop)", text(v));
            c->kind = !strcmp(text(v), "noop") ? SWEEP_KIND_NOOP : SWEEP_KIND_SEARCH;
        } else if (!strcmp(key, "threads")) {
            if (want(x, v, key, SWEEP_T_INT, "an integer >= 0, 0 = auto", &num)) return -1;
            if (num < 0 || num > 1024)
                return fail(x, v, "threads: %s is out of range (hint: 0..1024, 0 = auto)",
                            text(v));
            c->threads = (int)num;
        } else if (!strcmp(key, "noop_ms") || !strcmp(key, "progress_interval")) {
            const int noop = key[0] == 'n';
            if (want(x, v, key, SWEEP_T_NUM, noop ? "milliseconds >= 0" : "seconds > 0", &num))
                return -1;
            if (noop ? num < 0 : num <= 0)
                return fail(x, v, "%s: %s must be %s", key, text(v), noop ? ">= 0" : "> 0");
            *(noop ? &c->noop_ms : &c->progress_s) = num;
        } else if (gk >= 0 && sweep_keys[gk].grid) {
            return fail(x, kn, "unknown key '%s' (hint: %s is a grid key: grid: {%s: ...})", key,
                        key, key);
        } else {
            return fail(x, kn, "unknown key '%s' (hint: %s)", key,
                        suggest(key, top_keys, 0, hint, sizeof hint));
        }
    }
    if (!out)
        return fail(x, NULL, "missing required key 'output' (hint: output: results/%s, the "
                    "results directory)", c->name);
    if ((sect[0] && parse_grid(x, sect[0])) || (sect[1] && parse_zip(x, sect[1])) ||
        (sect[2] && parse_exclude(x, sect[2])) || (sect[3] && parse_ensembles(x, sect[3])))
        return -1;
    sweep_axis *sa = &c->axes[SWEEP_KEY_SPACE];
    if (!sa->n) { /* the planner always has a space axis: nb201 by default */
        if (!(sa->v = calloc(1, sizeof *sa->v)) ||
            append_variant(x, &fn_space_nb201, 0, 0, 0, NULL) < 0)
            return fail(x, NULL, "out of memory");
        sa->n = 1;
        sa->v[0] = (sweep_value){0, fn_space_nb201.name, c->nvariants - 1, {0, 0}};
    }
    return 0;
}

int sweep_config_parse(const char *path, const char *text_in, size_t len, sweep_config *c,
                       char *err, size_t errlen) {
    memset(c, 0, sizeof *c);
    if (err && errlen) err[0] = '\0';
    snprintf(c->path, sizeof c->path, "%s", path);
    c->kind = SWEEP_KIND_SEARCH;
    c->progress_s = 10;
    for (int k = 0; k < SWEEP_NUM_KEYS; k++) c->axes[k].zip = -1;
    /* name: the file's base name without .yaml / .yml */
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    size_t bl = strlen(base);
    if (bl > 5 && !strcmp(base + bl - 5, ".yaml")) bl -= 5;
    else if (bl > 4 && !strcmp(base + bl - 4, ".yml")) bl -= 4;
    snprintf(c->name, sizeof c->name, "%.*s", (int)(bl < 127 ? bl : 127), base);

    ctx x = {path, NULL, c, err, errlen, 0};
    yaml_parser_t parser;
    yaml_document_t doc, extra;
    if (!yaml_parser_initialize(&parser)) return fail(&x, NULL, "out of memory");
    yaml_parser_set_input_string(&parser, (const unsigned char *)text_in, len);
    int rc = -1, syntax = !yaml_parser_load(&parser, &doc);
    if (!syntax) {
        x.doc = &doc;
        rc = parse_top(&x, yaml_document_get_root_node(&doc));
        if (!rc && !(syntax = !yaml_parser_load(&parser, &extra))) {
            if (yaml_document_get_root_node(&extra))
                rc = fail(&x, yaml_document_get_root_node(&extra), "a second YAML document "
                          "(hint: one configuration per file; remove the '---')");
            yaml_document_delete(&extra);
        }
        yaml_document_delete(&doc);
    }
    if (syntax) {
        char where[128] = "";
        if (parser.context)
            snprintf(where, sizeof where, " (%s at %d:%d)", parser.context,
                     (int)parser.context_mark.line + 1, (int)parser.context_mark.column + 1);
        if (parser.error == YAML_READER_ERROR)
            snprintf(where, sizeof where, " at byte %zu", parser.problem_offset);
        rc = -1;
        if (err && errlen)
            snprintf(err, errlen, "%s:%d:%d: YAML syntax error: %s%s", path,
                     (int)parser.problem_mark.line + 1, (int)parser.problem_mark.column + 1,
                     parser.problem ? parser.problem : "unknown problem", where);
    }
    yaml_parser_delete(&parser);
    if (rc) sweep_config_free(c);
    return rc;
}

int sweep_config_load(const char *path, sweep_config *c, char *err, size_t errlen) {
    memset(c, 0, sizeof *c);
    FILE *f = fopen(path, "rb");
    char *buf = NULL, *nb;
    size_t n = 0, cap = 0, got = 1;
    int bad = !f;
    while (!bad && got) { /* a read loop, not ftell: works for pipes, fails for directories */
        if (n == cap) {
            size_t want_cap = cap ? 2 * cap : 1 << 16;
            if (want_cap > (size_t)1 << 30 || !(nb = realloc(buf, want_cap))) {
                bad = 1, errno = ENOMEM;
                break;
            }
            buf = nb, cap = want_cap;
        }
        n += got = fread(buf + n, 1, cap - n, f);
        if (!got) bad = ferror(f);
    }
    int e = errno;
    if (f) fclose(f);
    if (bad) {
        if (err && errlen)
            snprintf(err, errlen, "cannot %s %s: %s", f ? "read" : "open", path, strerror(e));
        free(buf);
        return -1;
    }
    int rc = sweep_config_parse(path, buf ? buf : "", n, c, err, errlen);
    free(buf);
    return rc;
}

void sweep_config_free(sweep_config *c) {
    for (int k = 0; k < SWEEP_NUM_KEYS; k++) free(c->axes[k].v);
    for (int f = 0; f < SWEEP_MAX_EXCLUDES; f++)
        for (int k = 0; k < SWEEP_NUM_KEYS; k++) free(c->excludes[f].vals[k]);
    free(c->variants);
    memset(c, 0, sizeof *c);
}

int sweep_config_check(const sweep_config *c, char *err, size_t errlen) {
    const sweep_axis *m = &c->axes[SWEEP_KEY_METRIC], *d = &c->axes[SWEEP_KEY_DEVICE];
    /* no metric axis: the default metric synflow, which needs no labels; noop jobs read
     * no data */
    for (int i = 0; i < m->n && !c->data[0] && c->kind != SWEEP_KIND_NOOP; i++)
        if (metric_find(m->v[i].str)->needs_labels)
            return fail_at(c->path, m->v[i].mark, err, errlen, "metric %s needs labelled data "
                           "and no data directory is given (hint: set data: DIR (e.g. "
                           "../shared/data) or pass --data)", m->v[i].str);
    FILE *f = c->benchmark[0] ? fopen(c->benchmark, "r") : NULL;
    if (c->benchmark[0] && !f)
        return fail_at(c->path, c->benchmark_mark, err, errlen, "benchmark: cannot read %s: %s "
                       "(hint: the NB201 ground truth, e.g. "
                       "../shared/data/nb201/nb201_accuracy.tsv)", c->benchmark, strerror(errno));
    if (f) fclose(f);
    for (int i = 0; i < d->n; i++)
        if (!strcmp(d->v[i].str, "cuda"))
            return fail_at(c->path, d->v[i].mark, err, errlen, "device cuda: this build has no "
                           "CUDA search backend yet (hint: device: cpu%s)",
                           gpu_compiled() ? "" : "; this build also has no CUDA toolkit");
    return 0;
}
