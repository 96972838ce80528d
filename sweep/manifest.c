/* sweep/manifest.c: manifest.json and its history (see sweep/manifest.h). */
#include "sweep/manifest.h"

#include <cblas.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yaml.h>

#include "datasets/input_file.h"
#include "gpu/device.h"
#include "base/common.h"
#include "sweep/job.h"
#include "sweep/records.h"

#ifndef FREENAS_VERSION
#define FREENAS_VERSION "dev"
#endif

static json_t *value_json(sweep_key k, const sweep_value *v) {
    switch (sweep_keys[k].type) {
    case SWEEP_T_STR: return json_string(v->str);
    case SWEEP_T_INT: return json_integer((json_int_t)v->num);
    case SWEEP_T_NUM: return json_real(v->num);
    default: return json_boolean(v->num != 0);
    }
}

char *sweep_config_json(const sweep_config *c, int indent) {
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(c->name));
    json_object_set_new(o, "kind", json_string(sweep_kind_name(c->kind)));
    json_object_set_new(o, "output", json_string(c->output));
    json_object_set_new(o, "data", c->data[0] ? json_string(c->data) : json_null());
    json_object_set_new(o, "benchmark", c->benchmark[0] ? json_string(c->benchmark) : json_null());
    if (c->scores[0]) json_object_set_new(o, "scores", json_string(c->scores));
    if (c->kind == SWEEP_KIND_HNAS && sweep_config_has_space(c, "darts")) {
        const sweep_darts_hnas *d = &c->dh;
        json_t *dh = json_object();
        json_object_set_new(dh, "pool", json_integer(d->pool));
        json_object_set_new(dh, "pool_width", json_integer(d->pool_width));
        json_object_set_new(dh, "epochs", json_integer(d->epochs));
        json_object_set_new(dh, "train_batch", json_integer(d->train_batch));
        json_object_set_new(dh, "images", json_integer(d->images));
        json_object_set_new(dh, "ntk_batch", json_integer(d->ntk_batch));
        json_object_set_new(dh, "channels", json_integer(d->channels));
        json_object_set_new(dh, "layers", json_integer(d->layers));
        json_object_set_new(o, "darts_hnas", dh);
    }
    json_object_set_new(o, "threads", json_integer(c->threads));
    json_object_set_new(o, "bundle", json_integer(c->bundle));
    if (c->kind == SWEEP_KIND_NOOP) json_object_set_new(o, "noop_ms", json_real(c->noop_ms));
    json_object_set_new(o, "progress_interval", json_real(c->progress_s));
    json_object_set_new(o, "job_timeout_s", json_real(c->job_timeout_s));
    json_object_set_new(o, "max_attempts", json_integer(c->max_attempts));
    if (c->noop_hang_seed >= 0)
        json_object_set_new(o, "noop_hang_seed", json_integer(c->noop_hang_seed));
    json_t *sp = json_array();
    for (int v = 0; v < c->nvariants; v++) {
        json_t *e = json_object();
        json_object_set_new(e, "name", json_string(c->variants[v].space->name));
        json_object_set_new(e, "cells", c->variants[v].cells ? json_integer(c->variants[v].cells) : json_string("default"));
        json_object_set_new(e, "channels", c->variants[v].channels ? json_integer(c->variants[v].channels) : json_string("default"));
        if (c->variants[v].ss) json_object_set_new(e, "ss", json_integer(c->variants[v].ss));
        json_array_append_new(sp, e);
    }
    json_t *grid = json_object();
    json_object_set_new(grid, "space", sp);
    for (int k = 0; k < SWEEP_NUM_KEYS; k++) {
        const sweep_axis *a = &c->axes[k];
        if (k == SWEEP_KEY_SPACE || a->n == 0 || a->zip >= 0) continue;
        if (k == SWEEP_KEY_SEED && a->n > 8) { /* long seed lists: first..last */
            char r[64];
            snprintf(r, sizeof r, "%lld values, %lld..%lld", (long long)a->n,
                     (long long)a->v[0].num, (long long)a->v[a->n - 1].num);
            json_object_set_new(grid, "seed", json_string(r));
            continue;
        }
        json_t *arr = json_array();
        for (int i = 0; i < a->n; i++) json_array_append_new(arr, value_json((sweep_key)k, &a->v[i]));
        json_object_set_new(grid, sweep_keys[k].name, arr);
    }
    json_object_set_new(o, "grid", grid);
    json_t *zips = json_array();
    for (int z = 0; z < c->nzips; z++) {
        json_t *g = json_object();
        for (int k = 0; k < SWEEP_NUM_KEYS; k++) {
            const sweep_axis *a = &c->axes[k];
            if (a->n == 0 || a->zip != z) continue;
            json_t *arr = json_array();
            for (int i = 0; i < a->n; i++) json_array_append_new(arr, value_json((sweep_key)k, &a->v[i]));
            json_object_set_new(g, sweep_keys[k].name, arr);
        }
        json_array_append_new(zips, g);
    }
    json_object_set_new(o, "zip", zips);
    json_t *ex = json_array();
    for (int f = 0; f < c->nexcludes; f++) {
        const sweep_filter *fl = &c->excludes[f];
        json_t *g = json_object();
        for (int i = 0; i < fl->nkeys; i++) {
            sweep_key k = fl->key[i];
            json_t *arr = json_array();
            for (int v = 0; v < fl->nvals[k]; v++) json_array_append_new(arr, value_json(k, &fl->vals[k][v]));
            json_object_set_new(g, sweep_keys[k].name, arr);
        }
        json_array_append_new(ex, g);
    }
    json_object_set_new(o, "exclude", ex);
    json_t *ens = json_array();
    for (int e = 0; e < c->nensembles; e++) {
        json_t *g = json_object(), *over = json_array();
        json_object_set_new(g, "name", json_string(c->ensembles[e].name));
        for (int k = 0; k < SWEEP_NUM_KEYS; k++)
            if (c->ensembles[e].over[k]) json_array_append_new(over, json_string(sweep_keys[k].name));
        json_object_set_new(g, "over", over);
        json_object_set_new(g, "norm", json_string(c->ensembles[e].norm == SWEEP_NORM_RANK ? "rank" : "zscore"));
        json_array_append_new(ens, g);
    }
    json_object_set_new(o, "ensembles", ens);
    char *s = json_dumps(o, JSON_PRESERVE_ORDER | (indent ? JSON_INDENT(indent) : JSON_COMPACT));
    json_decref(o);
    return s;
}

int manifest_update(const char *dir, const sweep_config *c, const sweep_plan *p,
                    const manifest_info *mi, int *changed, int *runs, char *msg, size_t msglen,
                    char *err, size_t errlen) {
    *changed = 0;
    *runs = 0;
    msg[0] = '\0';
    char path[4300], hist[4300];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    snprintf(hist, sizeof hist, "%s/manifest.history.jsonl", dir);
    char fp[17];
    sweep_id_hex(p->fingerprint, fp);
    const char *kind = input_file_kind(path); /* a FIFO would block json_load_file */
    if (kind) {
        snprintf(err, errlen, "cannot use %s: not a regular file (%s) (hint: move it away; the "
                 "sweep writes its manifest there)", path, kind);
        return -1;
    }
    json_error_t je;
    json_t *old = json_load_file(path, 0, &je);
    if (old) {
        const char *ofp = json_string_value(json_object_get(json_object_get(old, "plan"), "fingerprint"));
        json_int_t ojobs = json_integer_value(json_object_get(json_object_get(old, "plan"), "jobs"));
        /* a run number that is not a count (negative, or INT_MAX: run + 1 overflowed) starts
         * the count afresh */
        json_int_t orun = json_integer_value(json_object_get(old, "run"));
        *runs = orun > 0 && orun < INT_MAX ? (int)orun : 0;
        if (!ofp || strcmp(ofp, fp)) {
            *changed = 1;
            snprintf(msg, msglen, "the config of %s changed since its last run (plan %s with "
                     "%lld jobs, now %s with %ld jobs); jobs with the same resolved parameters "
                     "keep their records, the others' records stay in results.jsonl and are "
                     "left out of the summary; the old manifest is in manifest.history.jsonl",
                     dir, ofp ? ofp : "?", (long long)ojobs, fp, p->njobs);
        }
        char *line = json_dumps(old, JSON_COMPACT | JSON_PRESERVE_ORDER);
        FILE *h = fopen(hist, "a");
        int e = !h ? errno : fprintf(h, "%s\n", line) < 0 || fflush(h) ? errno : 0;
        if (h && fclose(h) && !e) e = errno;
        if (e) {
            snprintf(err, errlen, "cannot append to %s: %s", hist, strerror(e));
            free(line);
            json_decref(old);
            return -1;
        }
        free(line);
        json_decref(old);
    } else if (je.position > 0 || je.line > 0) {
        FILE *f = fopen(path, "r");
        if (f) {
            fclose(f);
            fprintf(stderr, "freenas_sweep: %s is unreadable (%s); writing a new one\n", path, je.text);
        }
    }
    json_t *m = json_object();
    json_object_set_new(m, "freenas", json_string(FREENAS_VERSION));
    json_object_set_new(m, "git_rev", json_string(fn_git_rev()));
    json_object_set_new(m, "run", json_integer(*runs + 1));
    char when[32];
    sweep_utc_now(when);
    json_object_set_new(m, "started_at", json_string(when));
    json_object_set_new(m, "config_file", json_string(c->path));
    json_object_set_new(m, "config_yaml", json_string(mi->config_text));
    json_object_set_new(m, "overrides", json_string(mi->overrides));
    char *cj = sweep_config_json(c, 0);
    json_object_set_new(m, "config", json_loads(cj, 0, NULL));
    free(cj);
    json_t *pl = json_object();
    json_object_set_new(pl, "jobs", json_integer(p->njobs));
    json_object_set_new(pl, "duplicates_dropped", json_integer(p->nduplicates));
    json_object_set_new(pl, "excluded", json_integer(p->nexcluded));
    json_object_set_new(pl, "fingerprint", json_string(fp));
    json_object_set_new(m, "plan", pl);
    json_t *lib = json_object();
    json_object_set_new(lib, "libyaml", json_string(yaml_get_version_string()));
    json_object_set_new(lib, "jansson", json_string(JANSSON_VERSION));
    json_object_set_new(lib, "openblas", json_string(openblas_get_config()));
    json_object_set_new(lib, "mpi", json_string(mi->mpi_version));
    json_object_set_new(lib, "cuda", json_string(gpu_compiled() ? "compiled" : "not compiled"));
    json_object_set_new(m, "libraries", lib);
    json_object_set_new(m, "ranks", json_integer(mi->ranks));
    json_object_set_new(m, "threads_per_rank", json_integer(mi->threads));
    json_object_set_new(m, "hosts", json_loads(mi->hosts_json, 0, NULL));
    json_object_set_new(m, "devices", json_loads(mi->devices_json, 0, NULL));
    char *text = json_dumps(m, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(m);
    size_t n = strlen(text);
    text = realloc(text, n + 2);
    text[n] = '\n';
    text[n + 1] = '\0';
    int rc = records_write_atomic(dir, "manifest.json", text, err, errlen);
    free(text);
    return rc;
}
