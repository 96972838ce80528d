/* sweep/config.c: reads a sweep configuration (configs/NAME.yaml, see configs/README.md) with
 * the libyaml document API into a sweep_config (sweep/config.h). Every key, type, range and
 * registry name (space, metric, dataset) is checked before any job runs; the first problem
 * found is reported as "FILE:LINE:COL: message (hint: ...)" at the mark of the offending
 * node. Values keep their marks for the planner's messages.
 *
 * This file: the key table, the messages and did-you-mean suggestions, scalar conversion, the
 * document load and its top-level keys, and the entry points (load, parse, free, check). The
 * sections that hold values (grid, zip, exclude, ensembles) are sweep/config_sections.c;
 * what the two share is declared in sweep/config_internal.h. */
#include "sweep/config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "datasets/data_dirs.h"
#include "datasets/input_file.h"
#include "gpu/device.h"
#include "gpu/backend_cuda.h"
#include "metrics/metric.h"
#include "proxies/proxy.h"
#include "sweep/config_internal.h"
#include "sweep/plan.h"

const sweep_key_info sweep_keys[SWEEP_NUM_KEYS] = {
    [SWEEP_KEY_KIND] = {"kind", SWEEP_T_STR, 0, "search, noop, score, zc_search, random or hnas"},
    [SWEEP_KEY_SPACE] = {"space", SWEEP_T_STR, 1,
                         "nb201, darts, nb1shot1 or {name: darts, cells: 8}"},
    [SWEEP_KEY_CELLS] = {"cells", SWEEP_T_INT, 0, "an integer 1..64"},
    [SWEEP_KEY_CHANNELS] = {"channels", SWEEP_T_INT, 0, "an integer 2..1024"},
    [SWEEP_KEY_SS] = {"ss", SWEEP_T_INT, 0, "1, 2 or 3"},
    [SWEEP_KEY_DATASET] = {"dataset", SWEEP_T_STR, 1,
                           "cifar10, cifar100, imagenet16-120 or imagenet224"},
    [SWEEP_KEY_METRIC] = {"metric", SWEEP_T_STR, 1,
                          "synflow, snip or grasp; for kinds score and zc_search a proxy"},
    [SWEEP_KEY_BATCH] = {"batch", SWEEP_T_INT, 1, "an integer 1..4096"},
    [SWEEP_KEY_ALPHA_SCALE] = {"alpha_scale", SWEEP_T_NUM, 1, "a number > 0, e.g. 1.0e-3"},
    [SWEEP_KEY_SEED] = {"seed", SWEEP_T_INT, 1, "an integer >= 0, a list, or \"A:B\""},
    [SWEEP_KEY_AUGMENT] = {"augment", SWEEP_T_BOOL, 1, "true or false"},
    [SWEEP_KEY_PRECISION] = {"precision", SWEEP_T_INT, 1, "32, 64 or 19 (TF32 on CUDA)"},
    [SWEEP_KEY_SYNFLOW_ZC] = {"synflow_zc", SWEEP_T_BOOL, 1, "true or false"},
    [SWEEP_KEY_ABS_PARAMS] = {"abs_params", SWEEP_T_BOOL, 1, "true or false"},
    [SWEEP_KEY_GRASP_ABS] = {"grasp_abs", SWEEP_T_BOOL, 1, "true or false"},
    [SWEEP_KEY_GRASP_DARTS_FORM] = {"grasp_darts_form", SWEEP_T_BOOL, 1, "true or false"},
    [SWEEP_KEY_DEVICE] = {"device", SWEEP_T_STR, 1, "cpu or cuda"},
    [SWEEP_KEY_ARCH] = {"arch", SWEEP_T_INT, 1,
                        "all, {sample: N, seed: S}, or NB201 indices 0..15624"},
    [SWEEP_KEY_SAMPLE] = {"sample", SWEEP_T_INT, 1, "an integer 1..15625"},
    [SWEEP_KEY_STRATEGY] = {"strategy", SWEEP_T_STR, 1, "ei, ucb, alone or random"},
    [SWEEP_KEY_BUDGET] = {"budget", SWEEP_T_INT, 1, "an integer 1..256"},
    [SWEEP_KEY_METRIC_ABS] = {"metric_abs", SWEEP_T_BOOL, 1, "true or false", 1},
    [SWEEP_KEY_KAPPA_RAW] = {"kappa_raw", SWEEP_T_BOOL, 1, "true or false", 1},
};

static const char *const kind_names[] = {"search", "noop", "score", "zc_search", "random",
                                         "hnas"};
const char *sweep_kind_name(sweep_kind k) { return kind_names[k]; }

int sweep_key_find(const char *name) {
    for (int k = 0; k < SWEEP_NUM_KEYS; k++)
        if (!strcmp(sweep_keys[k].name, name)) return k;
    return -1;
}

const char *const cfg_top_keys = "name, output, kind, data, benchmark, scores, table, darts_hnas, threads, bundle, noop_ms, "
                                 "progress_interval, job_timeout_s, max_attempts, "
                                 "noop_hang_seed, grid, zip, exclude, ensembles";
const char *const cfg_type_names[4] = {"a name", "an integer", "a number", "true or false"};

/* ---- messages ------------------------------------------------------------------------------ */
/* "PATH:LINE:COL: message", or "PATH: message" for a mark 0:0 (the command line). -1. */
int cfg_fail_at(const char *path, sweep_mark m, char *err, size_t errlen, const char *fmt,
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

static int is_plain(const yaml_node_t *n) {
    return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* What a node is, for "got ..." in messages. */
const char *cfg_found(const yaml_node_t *n, char *buf, size_t len) {
    if (n->type == YAML_SEQUENCE_NODE) return "a list";
    if (n->type == YAML_MAPPING_NODE) return "a mapping";
    if (is_plain(n) && !n->data.scalar.length) return "nothing";
    snprintf(buf, len, "%s\"%.40s%s\"", is_plain(n) ? "" : "a string ", cfg_text(n),
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
int cfg_closest(const char *word, const char *list, char *out, size_t outlen) {
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
const char *cfg_suggest(const char *word, const char *list, int known, char *buf, size_t len) {
    char near[64] = "";
    int have = cfg_closest(word, list, near, sizeof near) <= 2;
    if (known) snprintf(buf, len, "known: %s%s%s%s", list, have ? "; did you mean '" : "",
                        have ? near : "", have ? "'?" : "");
    else if (have) snprintf(buf, len, "did you mean '%s'?", near);
    else snprintf(buf, len, "known keys: %s", list);
    return buf;
}

/* Key names: mode 0 the grid keys, 1 all but kind (exclude), 2 also not space, ss (over). */
const char *cfg_key_list(int mode, char *buf, size_t len) {
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
int cfg_convert(sweep_type t, const char *s, double *out) {
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
int cfg_want(cfg_ctx *x, const yaml_node_t *n, const char *key, sweep_type t, const char *hint,
             double *num) {
    double v = 0;
    char buf[64];
    if (n->type == YAML_SCALAR_NODE && !cfg_convert(t, cfg_text(n), &v)) {
        if (num) *num = v;
        if (t == SWEEP_T_STR ? n->data.scalar.length > 0 : is_plain(n)) return 0;
        if (t != SWEEP_T_STR)
            return cfg_fail(x, n, "%s: expected %s, got a string \"%s\" (hint: write %s without "
                        "quotes)", key, cfg_type_names[t], cfg_text(n), cfg_text(n));
    }
    return cfg_fail(x, n, "%s: expected %s, got %s (hint: %s)", key, cfg_type_names[t],
                cfg_found(n, buf, sizeof buf), hint);
}

/* ---- top level ----------------------------------------------------------------------------- */
/* A path value with ${NAME} replaced by the environment; "" (or nothing) is allowed. */
static int path_value(cfg_ctx *x, const yaml_node_t *n, const char *key, char *out, size_t len,
                      sweep_mark *mark) {
    char buf[64];
    if (n->type != YAML_SCALAR_NODE)
        return cfg_fail(x, n, "%s: expected a path, got %s (hint: %s: results/my_sweep)", key,
                    cfg_found(n, buf, sizeof buf), key);
    size_t w = 0;
    for (const char *s = cfg_text(n); *s;) {
        const char *piece = s;
        size_t plen = 1;
        if (s[0] == '$' && s[1] == '{') {
            const char *end = strchr(s + 2, '}');
            if (!end)
                return cfg_fail(x, n, "%s: unterminated ${ in \"%s\" (hint: ${NAME})", key, cfg_text(n));
            char var[256];
            snprintf(var, sizeof var, "%.*s", (int)(end - s - 2 < 255 ? end - s - 2 : 255), s + 2);
            if (!(piece = getenv(var)))
                return cfg_fail(x, n, "%s: environment variable %s is not set (hint: export %s=... "
                            "or write the path without ${%s})", key, var, var, var);
            plen = strlen(piece);
            s = end + 1;
        } else {
            s++;
        }
        if (w + plen >= len)
            return cfg_fail(x, n, "%s: path longer than %zu characters", key, len - 1);
        memcpy(out + w, piece, plen);
        w += plen;
    }
    out[w] = '\0';
    *mark = cfg_mark_of(n);
    return 0;
}

static int parse_top(cfg_ctx *x, const yaml_node_t *root) {
    static const char *const paths[5] = {"output", "data", "benchmark", "scores", "table"},
                      *const sections[4] = {"grid", "zip", "exclude", "ensembles"};
    sweep_config *c = x->c;
    char *path_out[5] = {c->output, c->data, c->benchmark, c->scores, c->table}, buf[64],
         hint[256];
    sweep_mark *path_mark[5] = {&c->output_mark, &c->data_mark, &c->benchmark_mark,
                                &c->scores_mark, &c->table_mark};
    const yaml_node_t *sect[4] = {NULL, NULL, NULL, NULL}, *out = NULL, *hang = NULL;
    if (!root) return cfg_fail(x, NULL, "the configuration is empty (hint: at least output: DIR)");
    if (root->type != YAML_MAPPING_NODE)
        return cfg_fail(x, root, "the top level must be a mapping (output: ..., grid: ...), got %s",
                    cfg_found(root, buf, sizeof buf));
    if (cfg_check_map(x, root, "top level")) return -1;
    CFG_PAIRS(root) {
        const yaml_node_t *kn = CFG_KEY(x, p), *v = CFG_VAL(x, p);
        const char *key = cfg_text(kn);
        const int gk = sweep_key_find(key);
        int pi = 4, si = 3;
        double num = 0;
        while (pi >= 0 && strcmp(key, paths[pi])) pi--;
        while (si >= 0 && strcmp(key, sections[si])) si--;
        if (pi >= 0) {
            if (path_value(x, v, key, path_out[pi], SWEEP_PATHLEN, path_mark[pi])) return -1;
            if (pi == 0 && !c->output[0])
                return cfg_fail(x, v, "output: empty path (hint: output: results/%s)", c->name);
            if (pi == 0) out = v;
        } else if (si >= 0) {
            sect[si] = v;
        } else if (!strcmp(key, "name")) {
            if (cfg_want(x, v, key, SWEEP_T_STR, "a short name", NULL)) return -1;
            if (v->data.scalar.length >= sizeof c->name)
                return cfg_fail(x, v, "name: longer than %zu characters", sizeof c->name - 1);
            snprintf(c->name, sizeof c->name, "%s", cfg_text(v));
        } else if (!strcmp(key, "kind")) {
            if (cfg_want(x, v, key, SWEEP_T_STR, sweep_keys[SWEEP_KEY_KIND].hint, NULL)) return -1;
            int kd = -1;
            for (int i = 0; i < (int)(sizeof kind_names / sizeof *kind_names); i++)
                if (!strcmp(cfg_text(v), kind_names[i])) kd = i;
            if (kd < 0)
                return cfg_fail(x, v, "kind: unknown kind '%s' (hint: %s)", cfg_text(v),
                            sweep_keys[SWEEP_KEY_KIND].hint);
            c->kind = (sweep_kind)kd;
            c->kind_mark = cfg_mark_of(v);
        } else if (!strcmp(key, "darts_hnas")) {
            if (cfg_parse_darts_hnas(x, v)) return -1;
        } else if (!strcmp(key, "threads")) {
            if (cfg_want(x, v, key, SWEEP_T_INT, "an integer >= 0, 0 = auto", &num)) return -1;
            if (num < 0 || num > 1024)
                return cfg_fail(x, v, "threads: %s is out of range (hint: 0..1024, 0 = auto)",
                            cfg_text(v));
            c->threads = (int)num;
        } else if (!strcmp(key, "bundle")) {
            if (cfg_want(x, v, key, SWEEP_T_INT, "an integer >= 0, 0 = auto, 1 = off", &num)) return -1;
            if (num < 0 || num > 256)
                return cfg_fail(x, v, "bundle: %s is out of range (hint: 0..256, 0 = auto, 1 = off)",
                            cfg_text(v));
            c->bundle = (int)num;
        } else if (!strcmp(key, "noop_ms") || !strcmp(key, "progress_interval")) {
            const int noop = key[0] == 'n';
            if (cfg_want(x, v, key, SWEEP_T_NUM, noop ? "milliseconds >= 0" : "seconds > 0", &num))
                return -1;
            if (noop ? num < 0 : num <= 0)
                return cfg_fail(x, v, "%s: %s must be %s", key, cfg_text(v), noop ? ">= 0" : "> 0");
            if (noop && num > SWEEP_MAX_NOOP_MS) /* 1e308 overflowed the sleep's timespec */
                return cfg_fail(x, v, "noop_ms: %s is out of range (hint: 0..3600000 milliseconds, "
                            "one hour)", cfg_text(v));
            *(noop ? &c->noop_ms : &c->progress_s) = num;
        } else if (!strcmp(key, "job_timeout_s")) {
            if (cfg_want(x, v, key, SWEEP_T_NUM, "seconds >= 0, 0 = no limit", &num)) return -1;
            if (num < 0)
                return cfg_fail(x, v, "job_timeout_s: %s must be >= 0 (hint: 0 = no limit)", cfg_text(v));
            c->job_timeout_s = num;
        } else if (!strcmp(key, "max_attempts") || !strcmp(key, "noop_hang_seed")) {
            const int ma = key[0] == 'm';
            if (cfg_want(x, v, key, SWEEP_T_INT, ma ? "an integer >= 0, 0 = no limit"
                                                    : "a seed of the grid", &num)) return -1;
            if (num < 0 || num > (ma ? 65535 : 2147483647))
                return cfg_fail(x, v, "%s: %s is out of range (hint: %s)", key, cfg_text(v),
                            ma ? "0..65535, 0 = no limit" : "0..2147483647");
            if (ma) c->max_attempts = (int)num;
            else c->noop_hang_seed = (long)num, hang = v;
        } else if (gk >= 0 && sweep_keys[gk].grid) {
            return cfg_fail(x, kn, "unknown key '%s' (hint: %s is a grid key: grid: {%s: ...})", key,
                        key, key);
        } else {
            return cfg_fail(x, kn, "unknown key '%s' (hint: %s)", key,
                        cfg_suggest(key, cfg_top_keys, 0, hint, sizeof hint));
        }
    }
    if (hang && c->kind != SWEEP_KIND_NOOP)
        return cfg_fail(x, hang, "noop_hang_seed: a test hook of kind noop (hint: kind: noop, or "
                    "remove it)");
    if (!out)
        return cfg_fail(x, NULL, "missing required key 'output' (hint: output: results/%s, the "
                    "results directory)", c->name);
    if ((sect[0] && cfg_parse_grid(x, sect[0])) || (sect[1] && cfg_parse_zip(x, sect[1])) ||
        (sect[2] && cfg_parse_exclude(x, sect[2])) || (sect[3] && cfg_parse_ensembles(x, sect[3])))
        return -1;
    sweep_axis *sa = &c->axes[SWEEP_KEY_SPACE];
    if (!sa->n) { /* the planner always has a space axis: nb201 by default */
        if (!(sa->v = calloc(1, sizeof *sa->v)) ||
            cfg_append_variant(x, &fn_space_nb201, 0, 0, 0, NULL) < 0)
            return cfg_fail(x, NULL, "out of memory");
        sa->n = 1;
        sa->v[0] = (sweep_value){0, fn_space_nb201.name, c->nvariants - 1, {0, 0}};
    }
    return 0;
}

/* What each kind takes: search metrics or proxies, the arch and sample keys, ensembles. */
static int check_kind(const sweep_config *c, char *err, size_t errlen) {
    const sweep_axis *m = &c->axes[SWEEP_KEY_METRIC], *a = &c->axes[SWEEP_KEY_ARCH],
                     *s = &c->axes[SWEEP_KEY_SAMPLE];
    const char *kn = sweep_kind_name(c->kind);
    const int per_arch = SWEEP_KIND_PER_ARCH(c->kind);
    for (int i = 0; i < m->n; i++) {
        const int is_proxy = proxy_find(m->v[i].str) && !metric_find(m->v[i].str);
        if (per_arch && c->kind != SWEEP_KIND_RANDOM && !proxy_find(m->v[i].str))
            return cfg_fail_at(c->path, m->v[i].mark, err, errlen, "metric %s is not a "
                               "zero-cost proxy, which kind %s needs (hint: one of %s)",
                               m->v[i].str, kn, proxy_names());
        if (!per_arch && is_proxy)
            return cfg_fail_at(c->path, m->v[i].mark, err, errlen, "metric %s is a "
                               "per-architecture proxy (hint: kind: score or kind: zc_search; "
                               "FreeDARTS searches take %s)", m->v[i].str, metric_names());
    }
    if (c->kind == SWEEP_KIND_RANDOM && m->n)
        return cfg_fail_at(c->path, m->mark, err, errlen, "kind random takes no metric (hint: "
                           "remove it; a random search scores nothing)");
    for (int k = SWEEP_KEY_STRATEGY; k <= SWEEP_KEY_KAPPA_RAW && c->kind != SWEEP_KIND_HNAS; k++)
        if (c->axes[k].n)
            return cfg_fail_at(c->path, c->axes[k].mark, err, errlen, "%s is a key of kind hnas "
                               "(hint: kind: hnas, or remove it)", sweep_keys[k].name);
    if (cfg_check_darts_hnas(c, err, errlen)) return -1;
    if (c->kind != SWEEP_KIND_HNAS && c->table[0])
        return cfg_fail_at(c->path, c->table_mark, err, errlen, "table is a key of kind hnas "
                           "(hint: kind: hnas, or remove table)");
    if ((c->kind == SWEEP_KIND_SCORE || c->kind == SWEEP_KIND_ZC_SEARCH) && !m->n)
        return cfg_fail_at(c->path, c->kind_mark, err, errlen, "kind %s needs metric: the "
                           "proxies to compute (hint: metric: [synflow, naswot]; known: %s)",
                           kn, proxy_names());
    if (c->kind == SWEEP_KIND_SCORE && !a->n)
        return cfg_fail_at(c->path, c->kind_mark, err, errlen, "kind score needs arch: the "
                           "architectures to score (hint: arch: all, arch: {sample: 1000, "
                           "seed: 0} or arch: [1462, 6818])");
    if (c->kind != SWEEP_KIND_SCORE && a->n)
        return cfg_fail_at(c->path, a->mark, err, errlen, "arch is a key of kind score (hint: "
                           "kind: score; kinds zc_search and random draw `sample` "
                           "architectures per seed)");
    if (c->kind != SWEEP_KIND_ZC_SEARCH && c->scores[0])
        return cfg_fail_at(c->path, c->scores_mark, err, errlen, "scores is a key of kind "
                           "zc_search, which looks its candidates' proxy values up there "
                           "(hint: kind: zc_search, or remove scores)");
    if (c->kind != SWEEP_KIND_ZC_SEARCH && s->n)
        return cfg_fail_at(c->path, s->mark, err, errlen, "sample is a key of kind zc_search "
                           "(hint: kind: zc_search; a random search draws one architecture)");
    if (per_arch) {
        for (int v = 0; v < c->nvariants; v++)
            if ((c->variants[v].space != &fn_space_nb201 || c->variants[v].cells ||
                 c->variants[v].channels) &&
                !(c->kind == SWEEP_KIND_HNAS && c->variants[v].space == &fn_space_darts))
                return cfg_fail_at(c->path, c->variants[v].mark, err, errlen, "kind %s scores "
                                   "NB201 benchmark networks (hint: space: nb201, without "
                                   "cells or channels)", kn);
        if (c->nensembles)
            return cfg_fail_at(c->path, c->ensembles[0].mark, err, errlen, "ensembles combine "
                               "operation scores of searches (hint: kind: search, or remove "
                               "ensembles)");
        /* any other grid key the kind does not read (sweep_key_applies: the rule job ids
         * and records follow) is an error, not silently ignored */
        for (int k = 0; k < SWEEP_NUM_KEYS; k++) {
            if (!c->axes[k].n || sweep_key_applies(c->kind, (sweep_key)k)) continue;
            if (!sweep_key_applies(SWEEP_KIND_SCORE, (sweep_key)k))
                return cfg_fail_at(c->path, c->axes[k].mark, err, errlen, "%s is an option of "
                                   "FreeDARTS searches, not of kind %s (hint: remove it)",
                                   sweep_keys[k].name, kn);
            return cfg_fail_at(c->path, c->axes[k].mark, err, errlen, "kind %s does not read "
                               "%s (hint: remove it; %s)", kn, sweep_keys[k].name,
                               c->kind == SWEEP_KIND_HNAS
                                   ? "kind hnas reads its metrics from the table"
                                   : "a random search draws an architecture and scores nothing");
        }
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
    c->noop_hang_seed = -1;
    sweep_darts_hnas_default(&c->dh);
    for (int k = 0; k < SWEEP_NUM_KEYS; k++) c->axes[k].zip = -1;
    /* name: the file's base name without .yaml / .yml */
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    size_t bl = strlen(base);
    if (bl > 5 && !strcmp(base + bl - 5, ".yaml")) bl -= 5;
    else if (bl > 4 && !strcmp(base + bl - 4, ".yml")) bl -= 4;
    snprintf(c->name, sizeof c->name, "%.*s", (int)(bl < 127 ? bl : 127), base);

    cfg_ctx x = {path, NULL, c, err, errlen, 0};
    yaml_parser_t parser;
    yaml_document_t doc, extra;
    if (!yaml_parser_initialize(&parser)) return cfg_fail(&x, NULL, "out of memory");
    yaml_parser_set_input_string(&parser, (const unsigned char *)text_in, len);
    int rc = -1, syntax = !yaml_parser_load(&parser, &doc);
    if (!syntax) {
        x.doc = &doc;
        rc = parse_top(&x, yaml_document_get_root_node(&doc));
        if (!rc && !(syntax = !yaml_parser_load(&parser, &extra))) {
            if (yaml_document_get_root_node(&extra))
                rc = cfg_fail(&x, yaml_document_get_root_node(&extra), "a second YAML document "
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
    if (!rc) rc = check_kind(c, err, errlen);
    if (rc) sweep_config_free(c);
    return rc;
}

char *sweep_config_read(const char *path, size_t *len, char *err, size_t errlen) {
    FILE *f = input_file_open(path, "rb", err, errlen); /* no FIFO, device, directory */
    if (!f) return NULL;
    struct stat st; /* a regular file: its size is known before reading it */
    if (fstat(fileno(f), &st) == 0 && (size_t)st.st_size > SWEEP_CONFIG_MAX_BYTES) {
        snprintf(err, errlen, "cannot read %s: %lld bytes is too large for a config (hint: at "
                 "most 1 GiB)", path, (long long)st.st_size);
        fclose(f);
        return NULL;
    }
    char *buf = NULL, *nb;
    size_t n = 0, cap = 0, got = 1;
    int bad = 0;
    /* the size is what was read (a file that grows while read stays bounded): one byte past
     * the limit tells a file of exactly the limit from a larger one */
    while (got) {
        if (n == cap) {
            size_t want = cap ? 2 * cap : (size_t)1 << 16;
            if (want > SWEEP_CONFIG_MAX_BYTES + 1) want = SWEEP_CONFIG_MAX_BYTES + 1;
            if (n == want) {
                snprintf(err, errlen, "cannot read %s: more than %zu bytes is too large for a "
                         "config (hint: at most 1 GiB)", path, SWEEP_CONFIG_MAX_BYTES);
                bad = 1;
                break;
            }
            if (!(nb = realloc(buf, want))) {
                snprintf(err, errlen, "cannot read %s: %s", path, strerror(ENOMEM));
                bad = 1;
                break;
            }
            buf = nb, cap = want;
        }
        n += got = fread(buf + n, 1, cap - n, f);
        if (!got && ferror(f)) {
            snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
            bad = 1;
            break;
        }
    }
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0'; /* n < cap: the last fread found room and read nothing */
    *len = n;
    return buf;
}

int sweep_config_load(const char *path, sweep_config *c, char *err, size_t errlen) {
    memset(c, 0, sizeof *c);
    size_t n;
    char *text = sweep_config_read(path, &n, err, errlen);
    if (!text) return -1;
    int rc = sweep_config_parse(path, text, n, c, err, errlen);
    free(text);
    return rc;
}

void sweep_config_free(sweep_config *c) {
    for (int k = 0; k < SWEEP_NUM_KEYS; k++) free(c->axes[k].v);
    for (int f = 0; f < SWEEP_MAX_EXCLUDES; f++)
        for (int k = 0; k < SWEEP_NUM_KEYS; k++) free(c->excludes[f].vals[k]);
    free(c->variants);
    memset(c, 0, sizeof *c);
}

/* NULL when path is a regular file that opens for reading, else why not (in buf): a FIFO,
 * device or directory is refused (a FIFO would block the sweep, a device never end) */
static const char *unreadable(const char *path, char *buf, size_t len) {
    const char *kind = input_file_kind(path);
    if (kind) {
        snprintf(buf, len, "not a regular file (%s)", kind);
        return buf;
    }
    FILE *f = fopen(path, "r");
    if (!f) return strerror(errno);
    fclose(f);
    return NULL;
}

void sweep_config_default_paths(sweep_config *c) {
    const sweep_axis *m = &c->axes[SWEEP_KEY_METRIC], *ds = &c->axes[SWEEP_KEY_DATASET],
                     *sp = &c->axes[SWEEP_KEY_SPACE];
    int needs_images = c->kind == SWEEP_KIND_HNAS && sweep_config_has_space(c, "darts"),
        uses_nb201 = (SWEEP_KIND_PER_ARCH(c->kind) && c->kind != SWEEP_KIND_HNAS) || sp->n == 0;
    for (int i = 0; i < m->n && c->kind != SWEEP_KIND_NOOP; i++)
        needs_images |= SWEEP_KIND_PER_ARCH(c->kind) ? proxy_find(m->v[i].str)->needs_data
                                                     : metric_find(m->v[i].str)->needs_labels;
    for (int i = 0; i < sp->n; i++) uses_nb201 |= !strcmp(sp->v[i].str, "nb201");
    char err[1024];
    if (!c->data[0] && needs_images && !c->scores[0]) {
        char root[SWEEP_PATHLEN];
        if (data_find_images(ds->n ? ds->v[0].str : "cifar10", root, sizeof root, err,
                             sizeof err) == 0)
            snprintf(c->data, sizeof c->data, "%s", root);
    }
    const char *table;
    if (!c->benchmark[0] && uses_nb201 && c->kind != SWEEP_KIND_NOOP && (table = data_nb201_table()))
        snprintf(c->benchmark, sizeof c->benchmark, "%s", table);
    if (c->kind == SWEEP_KIND_HNAS && !c->table[0] && sweep_config_has_space(c, "nb201") &&
        (table = data_hnas_tables()))
        snprintf(c->table, sizeof c->table, "%s", table); /* the metric tables freenas ships */
}

int sweep_config_check(const sweep_config *c, char *err, size_t errlen) {
    const sweep_axis *m = &c->axes[SWEEP_KEY_METRIC], *d = &c->axes[SWEEP_KEY_DEVICE];
    /* no metric axis: the default metric synflow, which needs no labels; noop jobs read
     * no data */
    for (int i = 0; i < m->n && !c->data[0] && !c->scores[0] && c->kind != SWEEP_KIND_NOOP &&
                    c->kind != SWEEP_KIND_HNAS; i++)
        if (SWEEP_KIND_PER_ARCH(c->kind) ? proxy_find(m->v[i].str)->needs_data
                                         : metric_find(m->v[i].str)->needs_labels)
            return cfg_fail_at(c->path, m->v[i].mark, err, errlen, "metric %s needs labelled "
                               "data and no data directory is given nor found under the data roots (hint: "
                               "set data: DIR, pass --data, or fetch it with "
                               "scripts/fetch_data.sh; docs/DATA.md)", m->v[i].str);
    if (c->kind == SWEEP_KIND_HNAS && sweep_config_has_space(c, "darts") && !c->data[0])
        return cfg_fail_at(c->path, c->kind_mark, err, errlen, "kind hnas on space darts trains "
                           "its evaluations and needs labelled images; no data directory is "
                           "given nor found under the data roots (hint: set data: DIR, pass "
                           "--data, or fetch it with scripts/fetch_data.sh; docs/DATA.md)");
    if (SWEEP_KIND_PER_ARCH(c->kind) && !c->benchmark[0] &&
        (c->kind != SWEEP_KIND_HNAS || sweep_config_has_space(c, "nb201")))
        return cfg_fail_at(c->path, c->kind_mark, err, errlen, "kind %s needs benchmark: the "
                           "NB201 table names the architectures and their accuracy (hint: "
                           "benchmark: ../shared/data/nb201/nb201_accuracy.tsv, or --benchmark)",
                           sweep_kind_name(c->kind));
    if (c->kind == SWEEP_KIND_HNAS && !c->table[0] && sweep_config_has_space(c, "nb201"))
        return cfg_fail_at(c->path, c->kind_mark, err, errlen, "kind hnas needs table: the "
                           "per-architecture metric table(s) it searches, and none ships under "
                           "the data roots (hint: table: hnas/data/nb201_cifar10_seed0.tsv; "
                           "freenas hnas-table makes one)");
    const char *e;
    char why[64];
    if (c->benchmark[0] && (e = unreadable(c->benchmark, why, sizeof why)))
        return cfg_fail_at(c->path, c->benchmark_mark, err, errlen, "benchmark: cannot read "
                           "%s: %s (hint: the NB201 ground truth, e.g. "
                           "../shared/data/nb201/nb201_accuracy.tsv)", c->benchmark, e);
    if (c->scores[0] && (e = unreadable(c->scores, why, sizeof why)))
        return cfg_fail_at(c->path, c->scores_mark, err, errlen, "scores: cannot read %s: %s "
                           "(hint: the results.jsonl of a kind score sweep, or the output of "
                           "freenas score --json)", c->scores, e);
    for (int i = 0; i < d->n; i++) {
        if (strcmp(d->v[i].str, "cuda")) continue;
        if (!gpu_exec_compiled())
            return cfg_fail_at(c->path, d->v[i].mark, err, errlen, "device cuda: this build "
                               "has no CUDA executor (hint: device: cpu, or rebuild where the "
                               "CUDA toolkit, cuDNN and cuBLAS are found)");
    }
    return 0;
}

int sweep_config_has_space(const sweep_config *c, const char *name) {
    for (int v = 0; v < c->nvariants; v++)
        if (!strcmp(c->variants[v].space->name, name)) return 1;
    return 0;
}
