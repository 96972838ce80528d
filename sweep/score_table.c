/* sweep/score_table.c: proxy values of NB201 architectures read from score records (see
 * sweep/score_table.h). One slot per (dataset, proxy) seen in the file, each a value and a
 * state per NB201 index; a file of every proxy on three datasets is a few MB. */
#include "sweep/score_table.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datasets/input_file.h"
#include "nasbench/nb201_benchmark.h"
#include "proxies/proxy.h"
#include "base/common.h"

#define MAX_DATASETS 8

enum { MISSING = 0, FAILED = 1, OK = 2 };

typedef struct {
    double v[NB201_NUM_ARCHS];
    unsigned char state[NB201_NUM_ARCHS];
} slot;

struct sweep_score_table {
    char dataset[MAX_DATASETS][32];
    int ndatasets;
    slot **slots; /* [MAX_DATASETS * proxy_count()], NULL until a score arrives */
    long count;
};

static int dataset_find(const sweep_score_table *t, const char *name) {
    for (int i = 0; i < t->ndatasets; i++)
        if (!strcmp(t->dataset[i], name)) return i;
    return -1;
}

/* the dataset's slot, added when new; -1 when the table is full or the name too long */
static int dataset_add(sweep_score_table *t, const char *name) {
    const int d = dataset_find(t, name);
    if (d >= 0) return d;
    if (t->ndatasets == MAX_DATASETS || strlen(name) >= sizeof t->dataset[0]) return -1;
    snprintf(t->dataset[t->ndatasets], sizeof t->dataset[0], "%s", name);
    return t->ndatasets++;
}

static int proxy_slot(const char *name) {
    const fn_proxy *p = proxy_find(name);
    return p ? (int)(p - proxy_at(0)) : -1;
}

/* a proxy value: a number, "inf" / "-inf", or null (a failed score); -1 for anything else */
static int value_of(const json_t *x, double *v) {
    if (json_is_number(x)) return *v = json_number_value(x), 0;
    if (json_is_null(x)) return *v = NAN, 0;
    if (json_is_string(x)) {
        const char *s = json_string_value(x);
        if (!strcmp(s, "inf")) return *v = INFINITY, 0;
        if (!strcmp(s, "-inf")) return *v = -INFINITY, 0;
    }
    return -1;
}

static int load_record(sweep_score_table *t, const json_t *r, char *msg, size_t len) {
    if (!json_is_object(r)) return snprintf(msg, len, "not a JSON object"), -1;
    const json_t *params = json_object_get(r, "params"), *px = json_object_get(r, "proxies");
    const json_t *ds = params ? json_object_get(params, "dataset") : NULL;
    const json_t *ix = json_object_get(r, "nb201_index"), *st = json_object_get(r, "status");
    if (!px) return 0; /* a record without scores: a failed job that never reached them, or
                          a record of another kind; nothing to take */
    if (!json_is_string(ds) || !json_is_integer(ix) || !json_is_object(px))
        return snprintf(msg, len, "a score record needs params.dataset, nb201_index and "
                        "proxies{...} (hint: the results.jsonl of a kind score sweep, or "
                        "freenas score --json)"), -1;
    const long long idx = json_integer_value(ix);
    if (idx < 0 || idx >= NB201_NUM_ARCHS)
        return snprintf(msg, len, "nb201_index %lld is outside 0..%d", idx, NB201_NUM_ARCHS - 1),
               -1;
    const int d = dataset_add(t, json_string_value(ds));
    if (d < 0)
        return snprintf(msg, len, "dataset '%s': more than %d datasets or too long a name",
                        json_string_value(ds), MAX_DATASETS), -1;
    const int ok = !json_is_string(st) || !strcmp(json_string_value(st), "ok");
    const char *name;
    const json_t *val;
    json_object_foreach((json_t *)px, name, val) {
        const int p = proxy_slot(name);
        double v;
        if (p < 0)
            return snprintf(msg, len, "unknown proxy '%s' (known: %s)", name, proxy_names()), -1;
        if (value_of(val, &v))
            return snprintf(msg, len, "proxies.%s: not a number, \"inf\", \"-inf\" or null", name),
                   -1;
        slot **sp = &t->slots[d * proxy_count() + p];
        if (!*sp) *sp = callocCheck(1, sizeof **sp);
        unsigned char *state = &(*sp)->state[idx];
        const int now = ok && !isnan(v) ? OK : FAILED;
        if (*state == OK && now != OK) continue; /* a failed attempt does not undo an ok one */
        if (*state == MISSING) t->count++;
        (*sp)->v[idx] = now == OK ? v : NAN;
        *state = (unsigned char)now;
    }
    return 0;
}

int sweep_score_table_load(const char *path, sweep_score_table **out, char *err, size_t errlen) {
    *out = NULL;
    char why[600];
    FILE *f = input_file_open(path, "r", why, sizeof why); /* no FIFO, device, directory */
    if (!f) {
        snprintf(err, errlen, "%s: cannot read the score table: %s", path,
                 strstr(why, "not a regular file") ? strstr(why, "not a regular file")
                                                   : strerror(errno));
        return -1;
    }
    sweep_score_table *t = callocCheck(1, sizeof *t);
    t->slots = callocCheck((size_t)MAX_DATASETS * proxy_count(), sizeof *t->slots);
    char *line = NULL, msg[512];
    size_t cap = 0;
    long lineno = 0;
    ssize_t n;
    int rc = 0;
    while (!rc && (n = getline(&line, &cap, f)) > 0) {
        lineno++;
        if (n == 1 && line[0] == '\n') continue;
        json_error_t je;
        json_t *r = json_loadb(line, (size_t)n, 0, &je);
        if (!r) {
            snprintf(err, errlen, "%s:%ld: not JSON: %s (hint: a truncated last line? the "
                     "results.jsonl of a score sweep that is still running)", path, lineno,
                     je.text);
            rc = -1;
        } else if (load_record(t, r, msg, sizeof msg)) {
            snprintf(err, errlen, "%s:%ld: %s", path, lineno, msg);
            rc = -1;
        }
        json_decref(r);
    }
    if (!rc && ferror(f)) {
        snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
        rc = -1;
    }
    free(line);
    fclose(f);
    if (!rc && !t->count) {
        snprintf(err, errlen, "%s: no score records (hint: the results.jsonl of a kind score "
                 "sweep, or freenas score --json)", path);
        rc = -1;
    }
    if (rc) {
        sweep_score_table_free(t);
        return -1;
    }
    *out = t;
    return 0;
}

int sweep_score_table_get(const sweep_score_table *t, const char *dataset, const char *proxy,
                          int index, double *v) {
    const int d = dataset_find(t, dataset), p = proxy_slot(proxy);
    if (d < 0 || p < 0 || index < 0 || index >= NB201_NUM_ARCHS) return -1;
    const slot *s = t->slots[d * proxy_count() + p];
    if (!s || s->state[index] == MISSING) return -1;
    *v = s->v[index];
    return 0;
}

long sweep_score_table_count(const sweep_score_table *t) { return t->count; }

void sweep_score_table_free(sweep_score_table *t) {
    if (!t) return;
    for (int i = 0; i < MAX_DATASETS * proxy_count(); i++) free(t->slots[i]);
    free(t->slots);
    free(t);
}
