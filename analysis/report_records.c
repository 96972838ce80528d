/* analysis/report_records.c: loading a results directory, jobs and groups (see
 * report_records.h). */
#include "analysis/report_records.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "analysis/report.h"
#include "datasets/input_file.h"
#include "base/common.h"

/* fields no table reads: dropped after parsing so a million records fit in memory */
static const char *const heavy_fields[] = {"scores", "mean_normalised_scores", NULL};

/* ---- JSON lines ----------------------------------------------------------------------- */
typedef int (*line_fn)(json_t *obj, long line, const char *path, void *ctx, char *why,
                       size_t whylen);

/* Reads a JSON-lines file: each non-blank line must parse to an object that accept() takes
 * (it returns 0 and keeps a reference, or -1 with a reason). Bad lines are reported and
 * counted; an unterminated last line that does not parse is a torn write. */
static void read_jsonl(FILE *f, const char *path, line_fn accept, void *ctx, long *lines,
                       long *malformed, long *torn, long *warnings) {
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long ln = 0;
    while ((len = getline(&line, &cap, f)) >= 0) {
        ln++;
        int terminated = len > 0 && line[len - 1] == '\n';
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
        size_t lead = strspn(line, " \t");
        if (line[lead] == '\0') continue; /* blank */
        json_error_t jerr;
        json_t *obj = json_loadb(line, (size_t)len, JSON_DECODE_ANY, &jerr);
        char why[512] = "";
        if (!obj) {
            if (!terminated) {
                fprintf(stderr, "%s:%ld: torn last line ignored\n", path, ln);
                (*torn)++;
                (*warnings)++;
                continue;
            }
            snprintf(why, sizeof why, "invalid JSON at column %d: %s", jerr.column, jerr.text);
        } else if (!json_is_object(obj)) {
            snprintf(why, sizeof why, "not a JSON object");
        } else {
            for (int i = 0; heavy_fields[i]; i++) json_object_del(obj, heavy_fields[i]);
            if (accept(obj, ln, path, ctx, why, sizeof why) == 0) {
                json_decref(obj);
                continue;
            }
        }
        json_decref(obj);
        fprintf(stderr, "%s:%ld: error: %s; line skipped\n", path, ln, why);
        (*malformed)++;
        (*warnings)++;
    }
    *lines = ln;
    free(line);
}

/* A number the report would average or rank: 0 when v is absent or a number in [lo, hi], else
 * -1 with why ("accuracy.cifar10_test is 1e308, not a number in [0, 100]"). */
static int check_range(const json_t *v, const char *name, double lo, double hi, char *why,
                       size_t whylen) {
    if (!v) return 0;
    double x = json_number_value(v);
    if (json_is_number(v) && x >= lo && x <= hi) return 0;
    char txt[64];
    if (json_is_number(v)) snprintf(txt, sizeof txt, "%.17g", x);
    else report_value_text(v, txt, sizeof txt);
    if (hi < 1e300)
        snprintf(why, whylen, "%s is %s, not a number in [%g, %g]", name, txt, lo, hi);
    else
        snprintf(why, whylen, "%s is %s, not a number >= %g", name, txt, lo);
    return -1;
}

/* What freenas_sweep and freenas score write: accuracies in [0, 100] (the NB201 table's),
 * an NB201 index 0..15624, times >= 0. A record with another value is skipped (reported as
 * FILE:LINE), so it is never averaged: its job counts as not done. */
static int check_record_values(json_t *obj, char *why, size_t whylen) {
    json_t *acc = json_object_get(obj, "accuracy");
    if (acc && !json_is_object(acc)) {
        snprintf(why, whylen, "\"accuracy\" is not an object");
        return -1;
    }
    char name[64];
    for (int i = 0; i < REPORT_NUM_ACC; i++) {
        snprintf(name, sizeof name, "accuracy.%s", report_acc_keys[i]);
        if (check_range(json_object_get(acc, report_acc_keys[i]), name, 0, 100, why, whylen))
            return -1;
    }
    json_t *ix = json_object_get(obj, "nb201_index");
    if (ix && !json_is_null(ix) &&
        (!json_is_integer(ix) || json_integer_value(ix) < 0 || json_integer_value(ix) > 15624)) {
        char txt[64];
        report_value_text(ix, txt, sizeof txt);
        snprintf(why, whylen, "nb201_index is %s, not an NB201 index 0..15624", txt);
        return -1;
    }
    json_t *t = report_obj(report_obj(obj, "run"), "time_s");
    const char *tk;
    json_t *tv;
    json_object_foreach(t, tk, tv) {
        snprintf(name, sizeof name, "run.time_s.%s", tk);
        if (check_range(tv, name, 0, 1e308, why, whylen)) return -1;
    }
    return 0;
}

static int accept_record(json_t *obj, long ln, const char *path, void *ctx, char *why,
                         size_t whylen) {
    report_data *d = ctx;
    const char *job_id = report_str(obj, "job_id"), *status = report_str(obj, "status");
    json_t *params = report_obj(obj, "params");
    if (!job_id || !*job_id) {
        snprintf(why, whylen, "record has no \"job_id\" string");
        return -1;
    }
    if (!params) {
        snprintf(why, whylen, "record %s has no \"params\" object", job_id);
        return -1;
    }
    if (!status) {
        snprintf(why, whylen, "record %s has no \"status\" string", job_id);
        return -1;
    }
    char bad[256];
    if (check_record_values(obj, bad, sizeof bad)) {
        snprintf(why, whylen, "record %s: %s", job_id, bad);
        return -1;
    }
    if (d->nrecs % 1024 == 0) {
        report_record *r = realloc(d->recs, (d->nrecs + 1024) * sizeof *r);
        if (!r) FN_FATAL("out of memory reading %s", path);
        d->recs = r;
    }
    const char *kind = report_str(params, "kind");
    d->recs[d->nrecs++] = (report_record){ln,    json_incref(obj),     params, job_id, status,
                                          kind ? kind : "search", !strcmp(status, "ok")};
    return 0;
}

static int accept_ensemble(json_t *obj, long ln, const char *path, void *ctx, char *why,
                           size_t whylen) {
    report_data *d = ctx;
    if (!report_str(obj, "ensemble")) {
        snprintf(why, whylen, "ensemble record has no \"ensemble\" string");
        return -1;
    }
    if (d->nens % 64 == 0) {
        json_t **e = realloc(d->ens, (d->nens + 64) * sizeof *e);
        if (!e) FN_FATAL("out of memory reading %s", path);
        d->ens = e;
    }
    d->ens[d->nens++] = json_incref(obj);
    return 0;
}

/* ---- jobs ----------------------------------------------------------------------------- */
static int cmp_rec_by_job(const void *a, const void *b) {
    const report_record *p = *(report_record *const *)a, *q = *(report_record *const *)b;
    int c = strcmp(p->job_id, q->job_id);
    return c ? c : (p->line > q->line) - (p->line < q->line);
}

static int cmp_job_order(const void *a, const void *b) {
    const report_job *p = a, *q = b;
    if (p->order != q->order) return p->order < q->order ? -1 : 1;
    return (p->rec->line > q->rec->line) - (p->rec->line < q->rec->line);
}

static void build_jobs(report_data *d) {
    if (!d->nrecs) return;
    report_record **by = mallocCheck(d->nrecs * sizeof *by);
    for (size_t i = 0; i < d->nrecs; i++) by[i] = &d->recs[i];
    qsort(by, d->nrecs, sizeof *by, cmp_rec_by_job);
    d->jobs = callocCheck(d->nrecs, sizeof *d->jobs);
    for (size_t i = 0; i < d->nrecs;) {
        size_t j = i;
        const report_record *last = NULL, *first_ok = NULL; /* the sweep keeps the first ok too */
        long first_line = by[i]->line;
        for (; j < d->nrecs && !strcmp(by[j]->job_id, by[i]->job_id); j++) {
            last = by[j];
            if (by[j]->ok && !first_ok) first_ok = by[j];
            if (by[j]->line < first_line) first_line = by[j]->line;
        }
        report_job *job = &d->jobs[d->njobs++];
        job->rec = first_ok ? first_ok : last;
        job->ok = first_ok != NULL;
        job->attempts = (long)(j - i);
        json_t *index = json_object_get(job->rec->rec, "index");
        job->order = json_is_integer(index) && json_integer_value(index) >= 0
                         ? (long)json_integer_value(index)
                         : (1L << 40) + first_line;
        i = j;
    }
    free(by);
    qsort(d->jobs, d->njobs, sizeof *d->jobs, cmp_job_order);
}

/* ---- the directory -------------------------------------------------------------------- */
int report_load(report_data *d, const char *dir) {
    memset(d, 0, sizeof *d);
    snprintf(d->dir, sizeof d->dir, "%s", dir);
    size_t l = strlen(d->dir);
    while (l > 1 && d->dir[l - 1] == '/') d->dir[--l] = '\0';
    snprintf(d->results_path, sizeof d->results_path, "%s/results.jsonl", d->dir);
    struct stat st;
    const char *kind = input_file_kind(d->dir);
    if (stat(d->dir, &st) == 0 && !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "freenas_report: %s is not a directory (%s) (hint: the results "
                        "directory of a sweep, which holds results.jsonl)\n", d->dir,
                kind ? kind : "a regular file");
        return 2;
    }
    if (stat(d->results_path, &st) != 0) {
        fprintf(stderr, "freenas_report: %s: no results.jsonl (hint: is this a freenas_sweep "
                        "output directory?)\n", d->dir);
        return 2;
    }
    char why[4400];
    FILE *f = input_file_open(d->results_path, "r", why, sizeof why); /* no FIFO, device */
    if (!f) {
        fprintf(stderr, "freenas_report: %s\n", why);
        return 2;
    }
    read_jsonl(f, d->results_path, accept_record, d, &d->lines, &d->malformed, &d->torn,
               &d->warnings);
    fclose(f);
    f = NULL;
    build_jobs(d);

    char path[4300];
    snprintf(path, sizeof path, "%s/ensembles.jsonl", d->dir);
    if (stat(path, &st) == 0 && !(f = input_file_open(path, "r", why, sizeof why))) {
        fprintf(stderr, "%s: warning: %s; the ensembles are left out\n", path, why);
        d->warnings++;
    } else if (f) {
        long lines = 0;
        read_jsonl(f, path, accept_ensemble, d, &lines, &d->ens_malformed, &d->ens_torn,
                   &d->warnings);
        fclose(f);
    }
    snprintf(path, sizeof path, "%s/manifest.json", d->dir);
    if (stat(path, &st) == 0 && (kind = input_file_kind(path))) {
        fprintf(stderr, "%s: warning: not a regular file (%s); the report header leaves out "
                        "its fields\n", path, kind);
        d->warnings++;
    } else if (stat(path, &st) == 0) {
        json_error_t jerr;
        d->manifest = json_load_file(path, 0, &jerr);
        if (d->manifest && !json_is_object(d->manifest)) {
            json_decref(d->manifest);
            d->manifest = NULL;
            snprintf(jerr.text, sizeof jerr.text, "not a JSON object");
            jerr.line = 1;
        }
        if (!d->manifest) {
            fprintf(stderr, "%s:%d: warning: unreadable manifest (%s); the report header "
                            "leaves out its fields\n", path, jerr.line, jerr.text);
            d->warnings++;
        }
    }
    return 0;
}

void report_data_free(report_data *d) {
    for (size_t i = 0; i < d->nrecs; i++) json_decref(d->recs[i].rec);
    for (size_t i = 0; i < d->nens; i++) json_decref(d->ens[i]);
    json_decref(d->manifest);
    free(d->recs);
    free(d->jobs);
    free(d->ens);
    memset(d, 0, sizeof *d);
}

/* ---- JSON accessors ------------------------------------------------------------------- */
const char *report_str(const json_t *obj, const char *key) {
    json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

double report_num(const json_t *obj, const char *key) {
    json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    if (json_is_string(v)) { /* freenas_sweep writes infinite scores as strings */
        const char *t = json_string_value(v);
        return !strcmp(t, "-inf") ? -INFINITY : !strcmp(t, "inf") ? INFINITY : NAN;
    }
    return json_is_number(v) ? json_number_value(v) : NAN;
}

json_t *report_obj(const json_t *obj, const char *key) {
    json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    return json_is_object(v) ? v : NULL;
}

void report_value_text(const json_t *v, char *buf, size_t len) {
    if (!v) snprintf(buf, len, "-");
    else if (json_is_string(v)) snprintf(buf, len, "%s", json_string_value(v));
    else if (json_is_integer(v)) snprintf(buf, len, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v)) snprintf(buf, len, "%g", json_real_value(v));
    else if (json_is_true(v)) snprintf(buf, len, "true");
    else if (json_is_false(v)) snprintf(buf, len, "false");
    else if (json_is_null(v)) snprintf(buf, len, "null");
    else {
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        snprintf(buf, len, "%s", s ? s : "?");
        free(s);
    }
}

int report_str_in(const char *s, const char *const *list) {
    for (int i = 0; s && list && list[i]; i++)
        if (!strcmp(s, list[i])) return 1;
    return 0;
}

char *report_params_key(const json_t *params, const char *const *skip) {
    json_t *o = json_object();
    if (!o) FN_FATAL("out of memory");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)params, k, v) {
        if (!report_str_in(k, skip) && json_object_set(o, k, v) != 0) FN_FATAL("out of memory");
    }
    char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
    json_decref(o);
    if (!s) FN_FATAL("out of memory");
    return s;
}

/* ---- groups --------------------------------------------------------------------------- */
typedef struct {
    char *key;
    size_t job; /* index into d->jobs */
} keyed_job;

static int cmp_keyed(const void *a, const void *b) {
    const keyed_job *p = a, *q = b;
    int c = strcmp(p->key, q->key);
    return c ? c : (p->job > q->job) - (p->job < q->job);
}

static const report_job *g_jobs_base; /* for cmp_group_first */
static int cmp_group_first(const void *a, const void *b) {
    const report_group *p = a, *q = b;
    ptrdiff_t i = p->jobs[0] - g_jobs_base, j = q->jobs[0] - g_jobs_base;
    return (i > j) - (i < j);
}

void report_group_jobs(report_groups *out, const report_data *d,
                       int (*keep)(const report_job *, void *), void *ctx,
                       const char *const *skip) {
    memset(out, 0, sizeof *out);
    keyed_job *kj = mallocCheck((d->njobs ? d->njobs : 1) * sizeof *kj);
    size_t n = 0;
    for (size_t j = 0; j < d->njobs; j++)
        if (!keep || keep(&d->jobs[j], ctx))
            kj[n++] = (keyed_job){report_params_key(d->jobs[j].rec->params, skip), j};
    qsort(kj, n, sizeof *kj, cmp_keyed);
    out->g = callocCheck(n ? n : 1, sizeof *out->g);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && !strcmp(kj[j].key, kj[i].key)) j++;
        report_group *g = &out->g[out->n++];
        g->key = kj[i].key;
        g->n = j - i;
        g->jobs = mallocCheck(g->n * sizeof *g->jobs);
        for (size_t k = i; k < j; k++) {
            g->jobs[k - i] = &d->jobs[kj[k].job];
            if (k > i) free(kj[k].key);
        }
        i = j;
    }
    free(kj);
    g_jobs_base = d->jobs;
    qsort(out->g, out->n, sizeof *out->g, cmp_group_first);
}

static json_t *group_param(const report_group *g, const char *key) {
    return json_object_get(g->jobs[0]->rec->params, key);
}

static int same_value(const json_t *a, const json_t *b) {
    return (!a && !b) || (a && b && json_equal((json_t *)a, (json_t *)b));
}

/* One pass over the groups with a hash map of the keys seen: per key, its first value, how
 * many groups have it and whether a value differs. A key varies when some value differs or
 * some group lacks it. O(groups x keys): 20,000 groups took hours pairwise. */
const char **report_varying_keys(const report_groups *gs, const char *const *skip) {
    typedef struct { const char *key; json_t *first; size_t count; int differs; } key_seen;
    size_t cap = 8, n = 0;
    key_seen *seen = mallocCheck(cap * sizeof *seen);
    json_t *index = json_object(); /* key -> its position in seen */
    if (!index) FN_FATAL("out of memory");
    for (size_t i = 0; i < gs->n; i++) {
        const char *k;
        json_t *v;
        json_object_foreach(gs->g[i].jobs[0]->rec->params, k, v) {
            if (report_str_in(k, skip)) continue;
            json_t *at = json_object_get(index, k);
            if (at) {
                key_seen *s = &seen[json_integer_value(at)];
                s->count++;
                if (!s->differs && !same_value(s->first, v)) s->differs = 1;
                continue;
            }
            if (n == cap) seen = realloc(seen, (cap *= 2) * sizeof *seen);
            if (!seen || json_object_set_new(index, k, json_integer((json_int_t)n)))
                FN_FATAL("out of memory");
            seen[n++] = (key_seen){k, v, 1, 0};
        }
    }
    const char **keys = mallocCheck((n + 1) * sizeof *keys);
    size_t nk = 0;
    for (size_t m = 0; m < n; m++)
        if (seen[m].differs || seen[m].count != gs->n) keys[nk++] = seen[m].key;
    keys[nk] = NULL;
    json_decref(index);
    free(seen);
    return keys;
}

/* ---- peers: groups with the same values of the `by` keys ------------------------------ */
/* For (groups, key, by): per group, whether its peers hold two or more values of key. Kept
 * for the last (groups, key, by) asked, since tables ask once per group (report_groups_free
 * forgets it): O(groups) per table instead of O(groups^2). */
static struct {
    const report_groups *gs;
    const report_group *g;
    size_t n;
    char *key;
    const char *const *by;
    unsigned char *varies;
    int any;
} peer_cache;

static void peer_cache_clear(void) {
    free(peer_cache.key);
    free(peer_cache.varies);
    memset(&peer_cache, 0, sizeof peer_cache);
}

static const unsigned char *peer_varies(const report_groups *gs, const char *key,
                                        const char *const *by, int *any) {
    if (peer_cache.varies && peer_cache.gs == gs && peer_cache.g == gs->g &&
        peer_cache.n == gs->n && peer_cache.by == by && !strcmp(peer_cache.key, key)) {
        *any = peer_cache.any;
        return peer_cache.varies;
    }
    peer_cache_clear();
    size_t n = gs->n;
    size_t *first = mallocCheck((n ? n : 1) * sizeof *first);
    unsigned char *conflict = callocCheck(n ? n : 1, 1), *varies = callocCheck(n ? n : 1, 1);
    json_t *classes = json_object(); /* the by values as text -> the first group with them */
    if (!classes) FN_FATAL("out of memory");
    for (size_t i = 0; i < n; i++) {
        json_t *t = json_array();
        for (int b = 0; by[b]; b++) { /* [v] for a value, {} for an absent key */
            json_t *v = group_param(&gs->g[i], by[b]), *e = v ? json_array() : json_object();
            if (!e || (v && json_array_append(e, v)) || json_array_append_new(t, e))
                FN_FATAL("out of memory");
        }
        char *text = json_dumps(t, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
        json_decref(t);
        if (!text) FN_FATAL("out of memory");
        json_t *at = json_object_get(classes, text);
        if (at) {
            first[i] = (size_t)json_integer_value(at);
            if (!same_value(group_param(&gs->g[first[i]], key), group_param(&gs->g[i], key)))
                conflict[first[i]] = 1;
        } else {
            first[i] = i;
            if (json_object_set_new(classes, text, json_integer((json_int_t)i)))
                FN_FATAL("out of memory");
        }
        free(text);
    }
    int anyv = 0;
    for (size_t i = 0; i < n; i++) anyv |= varies[i] = conflict[first[i]];
    json_decref(classes);
    free(first);
    free(conflict);
    peer_cache.gs = gs, peer_cache.g = gs->g, peer_cache.n = n, peer_cache.by = by;
    peer_cache.key = strdup(key);
    if (!peer_cache.key) FN_FATAL("out of memory");
    peer_cache.varies = varies;
    peer_cache.any = *any = anyv;
    return varies;
}

void report_groups_free(report_groups *gs) {
    if (peer_cache.gs == gs) peer_cache_clear();
    for (size_t i = 0; i < gs->n; i++) {
        free(gs->g[i].key);
        free(gs->g[i].jobs);
    }
    free(gs->g);
    memset(gs, 0, sizeof *gs);
}

int report_key_follows(const report_groups *gs, const char *key, const char *const *by) {
    /* tables of more than 4000 groups show every column, as they always have */
    if (gs->n > 4000) return 0;
    int any;
    peer_varies(gs, key, by, &any);
    return !any;
}

int report_key_varies_within(const report_groups *gs, size_t i, const char *key,
                             const char *const *by) {
    int any;
    return peer_varies(gs, key, by, &any)[i];
}

void report_group_label(const report_group *g, const char *const *keys,
                        const char *const *bare, char *buf, size_t len) {
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; keys && keys[i] && used < len; i++) {
        char v[256];
        json_t *val = group_param(g, keys[i]);
        if (!val) continue;
        report_value_text(val, v, sizeof v);
        int w = report_str_in(keys[i], bare)
                    ? snprintf(buf + used, len - used, "%s%s", used ? " " : "", v)
                    : snprintf(buf + used, len - used, "%s%s=%s", used ? " " : "", keys[i], v);
        if (w < 0) break;
        used += (size_t)w;
    }
}
