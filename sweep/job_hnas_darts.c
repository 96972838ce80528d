/* sweep/job_hnas_darts.c: kind hnas on space darts (configs/README.md, hnas/darts_bo.h). The
 * search itself runs over all ranks before the ordinary jobs (sweep/sweep_hnas_darts.c, in
 * freenas_sweep): it keeps its state in OUTPUT/darts_hnas/<job id>/steps.jsonl, one JSON line
 * per finished step (hnas_dbo_eval_json). The job of the plan then reads that file and writes
 * the sweep record: hnas{steps, pick, T, evaluations, pool, ...}, value (the pick's validation
 * accuracy, %), arch (its Genotype(...)), arch_json, and run.time_s.search (the sum of the
 * evaluations' training seconds). A search with fewer than T steps recorded is a failed job
 * (rerun to resume it). */
#define _POSIX_C_SOURCE 200809L
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/common.h"
#include "sweep/hnas_darts.h"

void sweep_hnas_darts_paths(const char *output, uint64_t job_id, char *dir, char *jobdir,
                            char *steps, size_t len) {
    char hex[17];
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)job_id);
    snprintf(dir, len, "%s/darts_hnas", output);
    snprintf(jobdir, len, "%s/darts_hnas/%s", output, hex);
    snprintf(steps, len, "%s/darts_hnas/%s/steps.jsonl", output, hex);
}

static double num_or_nan(json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

int sweep_hnas_darts_parse_step(const char *line, hnas_dbo_eval *e, char *err, size_t errlen) {
    json_error_t je;
    json_t *o = json_loads(line, 0, &je);
    if (!o || !json_is_object(o)) {
        snprintf(err, errlen, "not a JSON object (%s)", o ? "" : je.text);
        json_decref(o);
        return -1;
    }
    memset(e, 0, sizeof *e);
    json_t *st = json_object_get(o, "step"), *ar = json_object_get(o, "arch");
    e->step = json_is_integer(st) ? (int)json_integer_value(st) : -1;
    e->arch = json_is_integer(ar) ? (long)json_integer_value(ar) : -2;
    e->same_as = (int)json_integer_value(json_object_get(o, "same_as"));
    e->nu = num_or_nan(o, "nu");
    e->log10_mu = num_or_nan(o, "log10_mu");
    e->M = num_or_nan(o, "M");
    e->kappa = num_or_nan(o, "kappa");
    e->score = num_or_nan(o, "score");
    e->valid_acc = num_or_nan(o, "valid_acc");
    e->train_s = num_or_nan(o, "train_s");
    e->rank = (int)json_integer_value(json_object_get(o, "rank"));
    e->order = (int)json_integer_value(json_object_get(o, "order"));
    json_decref(o);
    if (e->step < 0 || e->arch < -1 || !isfinite(e->nu) || !isfinite(e->log10_mu) ||
        (e->arch >= 0 && !isfinite(e->valid_acc))) {
        snprintf(err, errlen, "a step record needs step, nu, log10_mu, arch and (for arch >= 0) "
                 "a finite valid_acc");
        return -1;
    }
    return 0;
}

int sweep_hnas_darts_load_steps(const char *path, hnas_dbo_eval *ev, int max, int *n, char *err,
                                size_t errlen) {
    *n = 0;
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t L;
    long good = 0, lineno = 0;
    int rc = 0;
    while ((L = getline(&line, &cap, f)) > 0) {
        lineno++;
        if (line[L - 1] != '\n') break; /* torn last line: cut below */
        char why[256];
        if (*n >= max || sweep_hnas_darts_parse_step(line, &ev[*n], why, sizeof why)) {
            snprintf(err, errlen, "%s:%ld: %s", path, lineno, *n >= max ? "more steps than the "
                     "budget" : why);
            rc = -1;
            break;
        }
        (*n)++;
        good += (long)L;
    }
    free(line);
    fseek(f, 0, SEEK_END);
    const long size = ftell(f);
    fclose(f);
    if (!rc && size > good && truncate(path, good)) {
        snprintf(err, errlen, "cannot cut the torn last line of %s", path);
        return -1;
    }
    return rc;
}

int sweep_job_run_hnas_darts(const sweep_config *c, const sweep_params *p, uint64_t job_id,
                             json_t *rec, json_t *t, char *err, size_t errlen) {
    char dir[SWEEP_PATHLEN + 64], jobdir[SWEEP_PATHLEN + 64], path[SWEEP_PATHLEN + 64];
    sweep_hnas_darts_paths(c->output, job_id, dir, jobdir, path, sizeof path);
    hnas_dbo_eval *ev = mallocCheck(sizeof *ev * HNAS_DBO_MAX_T);
    int n = 0;
    int rc = sweep_hnas_darts_load_steps(path, ev, HNAS_DBO_MAX_T, &n, err, errlen);
    if (!rc && n < p->budget) {
        snprintf(err, errlen, "the search has %d of its %d steps in %s (it was interrupted or "
                 "an evaluation failed; rerun to resume it)", n, p->budget, path);
        rc = -1;
    }
    if (rc) {
        free(ev);
        return -1;
    }
    json_t *steps = json_array();
    int pick = -1, evals = 0;
    double train_s = 0;
    for (int i = 0; i < n; i++) {
        hnas_dbo_eval *e = &ev[i];
        json_t *row = json_object();
        json_object_set_new(row, "step", json_integer(e->step));
        json_object_set_new(row, "nu", json_real(e->nu));
        json_object_set_new(row, "log10_mu", json_real(e->log10_mu));
        json_object_set_new(row, "cached", json_boolean(e->arch < 0));
        json_object_set_new(row, "arch", json_integer(e->arch));
        if (e->arch >= 0) {
            evals++;
            train_s += isfinite(e->train_s) ? e->train_s : 0;
            json_object_set_new(row, "M", json_real(e->M));
            json_object_set_new(row, "kappa", isfinite(e->kappa) ? json_real(e->kappa) : json_null());
            json_object_set_new(row, "score", isfinite(e->score) ? json_real(e->score) : json_null());
            json_object_set_new(row, "signal", json_real(e->valid_acc));
            json_object_set_new(row, "train_s", json_real(e->train_s));
            json_object_set_new(row, "rank", json_integer(e->rank));
            if (pick < 0 || e->valid_acc > ev[pick].valid_acc ||
                (e->valid_acc == ev[pick].valid_acc && e->step < ev[pick].step))
                pick = i;
        } else json_object_set_new(row, "same_as", json_integer(e->same_as));
        json_object_set_new(row, "order", json_integer(e->order));
        json_array_append_new(steps, row);
    }
    if (pick < 0) {
        json_decref(steps);
        free(ev);
        snprintf(err, errlen, "the search evaluated no genotype");
        return -1;
    }
    /* the genotype of the pick: the pool's genotype, as the step file names it */
    char gs[1024] = "", gj[2048] = "";
    {
        FILE *f = fopen(path, "r");
        char *line = NULL;
        size_t cap = 0;
        while (f && getline(&line, &cap, f) > 0) {
            json_t *o = json_loads(line, 0, NULL);
            if (o && json_integer_value(json_object_get(o, "step")) == ev[pick].step &&
                json_is_string(json_object_get(o, "genotype")))
                snprintf(gs, sizeof gs, "%s", json_string_value(json_object_get(o, "genotype")));
            json_decref(o);
        }
        free(line);
        if (f) fclose(f);
    }
    darts_genotype g;
    char perr[256];
    if (!gs[0] || darts_genotype_parse(gs, &g, perr, sizeof perr)) {
        json_decref(steps);
        free(ev);
        snprintf(err, errlen, "%s: the pick's genotype is missing or unreadable", path);
        return -1;
    }
    darts_genotype_json(&g, gj, sizeof gj);
    json_t *h = json_object(), *pk = json_object();
    json_object_set_new(pk, "step", json_integer(ev[pick].step));
    json_object_set_new(pk, "arch", json_integer(ev[pick].arch));
    json_object_set_new(pk, "genotype", json_string(gs));
    json_object_set_new(pk, "signal", json_real(ev[pick].valid_acc));
    json_object_set_new(h, "space", json_string("darts"));
    json_object_set_new(h, "T", json_integer(p->budget));
    json_object_set_new(h, "acq", json_string(p->strategy));
    json_object_set_new(h, "evaluations", json_integer(evals));
    json_object_set_new(h, "cost_s", json_real(train_s));
    json_object_set_new(h, "signal", json_string("valid_acc"));
    json_object_set_new(h, "pool", json_integer(p->dh->pool));
    json_object_set_new(h, "pool_width", json_integer(p->dh->pool_width));
    json_object_set_new(h, "epochs", json_integer(p->dh->epochs));
    json_object_set_new(h, "train_batch", json_integer(p->dh->train_batch));
    json_object_set_new(h, "images", json_integer(p->dh->images));
    json_object_set_new(h, "ntk_batch", json_integer(p->dh->ntk_batch));
    json_object_set_new(h, "channels", json_integer(p->dh->channels));
    json_object_set_new(h, "layers", json_integer(p->dh->layers));
    json_object_set_new(h, "steps_file", json_string(path));
    json_object_set_new(h, "pick", pk);
    json_object_set_new(h, "steps", steps);
    json_object_set_new(rec, "hnas", h);
    json_object_set_new(rec, "value", json_real(ev[pick].valid_acc));
    json_object_set_new(rec, "arch", json_string(gs));
    json_t *aj = json_loads(gj, 0, NULL);
    if (aj) json_object_set_new(rec, "arch_json", aj);
    json_object_set_new(t, "search", json_real(train_s));
    free(ev);
    return 0;
}
