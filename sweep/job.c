/* sweep/job.c: one job on this rank: search (search/search.h) or noop, then its JSON record
 * (see sweep/job.h). Scores are written with 17 significant digits, so an ensemble rebuilt
 * from the records on resume equals the one computed live, bit for bit. */
#include "sweep/job.h"
#include "sweep/hnas_darts.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/common.h"
#include "search/bundle.h"

static json_t *params_json(const sweep_params *prm) {
    json_t *o = json_object();
    char v[64];
    for (int k = 0; k < SWEEP_NUM_KEYS; k++) {
        if (!sweep_key_applies(prm->kind, (sweep_key)k)) continue;
        sweep_params_value(prm, (sweep_key)k, v, sizeof v);
        json_t *x;
        switch (sweep_keys[k].type) {
        case SWEEP_T_STR: x = json_string(v); break;
        case SWEEP_T_INT: x = json_integer(strtoll(v, NULL, 10)); break;
        case SWEEP_T_NUM: x = json_real(strtod(v, NULL)); break;
        default: x = json_boolean(strtol(v, NULL, 10) != 0); break;
        }
        json_object_set_new(o, sweep_keys[k].name, x);
    }
    if (prm->scores) json_object_set_new(o, "scores", json_string(prm->scores));
    if (prm->table) json_object_set_new(o, "table", json_string(prm->table));
    return o;
}

const nb201_record *sweep_json_arch(json_t *rec, const fn_search_result *r,
                                    const nb201_benchmark *bench, const char *space) {
    json_object_set_new(rec, "arch", json_string(r->arch));
    json_t *aj = json_loads(r->arch_json, JSON_DECODE_ANY, NULL);
    json_object_set_new(rec, "arch_json", aj ? aj : json_string(r->arch_json));
    const nb201_record *gt = bench && !strcmp(space, "nb201") ? nb201_benchmark_get(bench, r->ops) : NULL;
    sweep_json_accuracy(rec, gt);
    return gt;
}

void sweep_json_accuracy(json_t *rec, const nb201_record *gt) {
    if (!gt || gt->index < 0) return;
    json_object_set_new(rec, "nb201_index", json_integer(gt->index));
    json_t *acc = json_object();
    json_object_set_new(acc, "cifar10_valid", json_real(gt->cifar10_valid));
    json_object_set_new(acc, "cifar10_test", json_real(gt->cifar10_test));
    json_object_set_new(acc, "cifar100_test", json_real(gt->cifar100_test));
    json_object_set_new(acc, "imagenet16_test", json_real(gt->imagenet16_test));
    json_object_set_new(rec, "accuracy", acc);
}

json_t *sweep_json_scores(const fn_search_result *r) {
    json_t *sc = json_object(), *rows = json_array();
    json_object_set_new(sc, "rows", json_integer(r->s_rows));
    json_object_set_new(sc, "cols", json_integer(r->s_cols));
    for (int i = 0; i < r->s_rows; i++) {
        json_t *row = json_array();
        for (int k = 0; k < r->s_cols; k++)
            json_array_append_new(row, json_real(r->S[i * r->s_cols + k]));
        json_array_append_new(rows, row);
    }
    json_object_set_new(sc, "values", rows);
    return sc;
}

void sweep_utc_now(char out[32]) {
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Sleeps ms milliseconds (0..SWEEP_MAX_NOOP_MS, checked by the config); a signal resumes
 * the rest of the sleep, any other error ends it (never a retry loop on EINVAL). */
static void sleep_ms(double ms) {
    if (!(ms > 0)) return;
    if (ms > SWEEP_MAX_NOOP_MS) ms = SWEEP_MAX_NOOP_MS;
    struct timespec ts = {(time_t)(ms / 1e3), (long)(fmod(ms, 1e3) * 1e6)};
    if (ts.tv_nsec > 999999999L) ts.tv_nsec = 999999999L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

/* a record's text: compact, keys in insertion order, reals with 17 digits (resume rebuilds
 * ensembles from them bit for bit); frees rec */
static char *record_text(json_t *rec) {
    char *text = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    json_decref(rec);
    return text;
}

/* job_id, index, sweep, params: the head of every record of job `index` */
static json_t *record_head(const sweep_config *c, const sweep_plan *p, long index,
                           sweep_params *prm) {
    sweep_plan_params(c, &p->jobs[index], prm);
    char idhex[17];
    sweep_id_hex(p->jobs[index].id, idhex);
    json_t *rec = json_object();
    json_object_set_new(rec, "job_id", json_string(idhex));
    json_object_set_new(rec, "index", json_integer(index));
    json_object_set_new(rec, "sweep", json_string(c->name));
    json_object_set_new(rec, "params", params_json(prm));
    return rec;
}

char *sweep_job_record_timeout(const sweep_config *c, const sweep_plan *p, long index,
                               int attempt, int rank, const char *host, double seconds) {
    sweep_params prm;
    json_t *rec = record_head(c, p, index, &prm);
    char msg[512];
    snprintf(msg, sizeof msg, "no result after %.1f s (job_timeout_s %g) on rank %d (%s); the "
             "job was abandoned and runs again on the next run", seconds, c->job_timeout_s,
             rank, host);
    json_object_set_new(rec, "status", json_string("timeout"));
    json_object_set_new(rec, "error", json_string(msg));
    json_object_set_new(rec, "attempt", json_integer(attempt));
    json_t *run = json_object(), *t = json_object();
    json_object_set_new(t, "job", json_real(seconds));
    json_object_set_new(run, "time_s", t);
    json_object_set_new(run, "rank", json_integer(rank));
    json_object_set_new(run, "host", json_string(host));
    char when[32];
    sweep_utc_now(when);
    json_object_set_new(run, "finished_at", json_string(when));
    json_object_set_new(rec, "run", run);
    return record_text(rec);
}

/* status, error, attempt and the search's fields into rec, its timings into t, its scores
 * into out; returns 1 when the search is ok */
static int search_fields(json_t *rec, json_t *t, const sweep_params *prm, int attempt,
                         const sweep_worker *w, const fn_search_result *r, sweep_job_result *out) {
    const int ok = r->status == FN_OK;
    json_object_set_new(rec, "status", json_string(fn_status_name(r->status)));
    json_object_set_new(rec, "error", ok ? json_null() : json_string(r->msg));
    json_object_set_new(rec, "attempt", json_integer(attempt));
    if (!ok) return 0;
    sweep_json_arch(rec, r, w->bench, prm->sc.space);
    json_object_set_new(rec, "value", json_real(r->value));
    json_object_set_new(rec, "degenerate", json_boolean(r->degenerate));
    json_object_set_new(rec, "s_max", json_real(r->s_max));
    if (isfinite(r->flow)) json_object_set_new(rec, "flow", json_real(r->flow));
    if (r->s_log2_scale) json_object_set_new(rec, "s_log2_scale", json_integer(r->s_log2_scale));
    json_object_set_new(rec, "scores", sweep_json_scores(r));
    out->s_rows = r->s_rows;
    out->s_cols = r->s_cols;
    memcpy(out->S, r->S, sizeof out->S);
    json_t *sn = json_object();
    json_object_set_new(sn, "params", json_integer((json_int_t)r->params));
    json_object_set_new(sn, "macs", json_real(r->macs));
    json_object_set_new(rec, "supernet", sn);
    if (!strcmp(prm->sc.space, "darts")) {
        json_t *en = json_object(), *a = json_object(), *b = json_object();
        json_object_set_new(a, "params", json_integer((json_int_t)r->eval_params[0]));
        json_object_set_new(a, "macs", json_real(r->eval_macs[0]));
        json_object_set_new(b, "params", json_integer((json_int_t)r->eval_params[1]));
        json_object_set_new(b, "macs", json_real(r->eval_macs[1]));
        json_object_set_new(en, "cifar10_c36_20cells", a);
        json_object_set_new(en, "imagenet_c48_14cells", b);
        json_object_set_new(rec, "eval_net", en);
    }
    json_object_set_new(t, "data", json_real(r->t_data));
    json_object_set_new(t, "build", json_real(r->t_build));
    json_object_set_new(t, "init", json_real(r->t_init));
    json_object_set_new(t, "score", json_real(r->t_score));
    json_object_set_new(t, "prune", json_real(r->t_prune));
    json_object_set_new(t, "search", json_real(r->t_total));
    return 1;
}

/* run{...}: where, when and at what cost (bundle: NULL, or {size, slot}) */
static void run_fields(json_t *rec, json_t *t, double job_s, json_int_t executor_bytes,
                       const sweep_params *prm, const sweep_worker *w, json_t *bundle) {
    json_t *run = json_object();
    json_object_set_new(t, "job", json_real(job_s));
    json_object_set_new(run, "time_s", t);
    if (executor_bytes >= 0) json_object_set_new(run, "executor_bytes", json_integer(executor_bytes));
    if (bundle) json_object_set_new(run, "bundle", bundle);
    json_object_set_new(run, "rank", json_integer(w->rank));
    json_object_set_new(run, "host", json_string(w->host));
    json_object_set_new(run, "device", json_string(prm->sc.device == FN_DEV_CUDA && w->gpu[0]
                                                       ? w->gpu : w->device));
    json_object_set_new(run, "threads", json_integer(w->threads));
    json_object_set_new(run, "pid", json_integer((json_int_t)getpid()));
    char when[32];
    sweep_utc_now(when);
    json_object_set_new(run, "finished_at", json_string(when));
    json_object_set_new(rec, "run", run);
}

/* Runs job `index` and returns its record (out->record unset): sweep_job_run's work, the
 * record left open for a caller that adds to run{} (sweep_job_run_slots) */
static json_t *job_record(const sweep_config *c, const sweep_plan *p, long index, int attempt,
                          const sweep_worker *w, sweep_job_result *out) {
    memset(out, 0, sizeof *out);
    sweep_params prm;
    json_t *rec = record_head(c, p, index, &prm);
    /* where, when and at what cost: everything that may differ between two runs of the same
     * job (rank count, threads, machine) goes into "run"; the rest of a record is
     * deterministic */
    json_t *t = json_object();
    json_int_t executor_bytes = -1;
    double t0 = fn_now();
    if (prm.kind == SWEEP_KIND_NOOP) {
        sleep_ms(c->noop_ms);
        /* test hook (configs/README.md): a job that never returns, for job_timeout_s */
        while (c->noop_hang_seed >= 0 && prm.sc.seed == (uint64_t)c->noop_hang_seed) sleep_ms(1e3);
        out->ok = 1;
        json_object_set_new(rec, "status", json_string("ok"));
        json_object_set_new(rec, "error", json_null());
        json_object_set_new(rec, "attempt", json_integer(attempt));
    } else if (prm.kind == SWEEP_KIND_HNAS && prm.dh) { /* the search ran before, on all ranks */
        char err[FN_ERRLEN] = "";
        out->ok = !sweep_job_run_hnas_darts(c, &prm, p->jobs[index].id, rec, t, err, sizeof err);
        json_object_set_new(rec, "status", json_string(fn_status_name(out->ok ? FN_OK : FN_ERR_DATA)));
        json_object_set_new(rec, "error", out->ok ? json_null() : json_string(err));
        json_object_set_new(rec, "attempt", json_integer(attempt));
    } else if (SWEEP_KIND_PER_ARCH(prm.kind)) {
        if (w->threads > 0) omp_set_num_threads(w->threads);
        out->ok = sweep_job_run_per_arch(&prm, w, attempt, rec, t) == FN_OK;
    } else {
        if (w->threads > 0) omp_set_num_threads(w->threads);
        fn_search_result *r = mallocCheck(sizeof *r);
        if (w->bundle) /* a bundle of one: the worker's arenas, kept from job to job */
            search_bundle_run(w->bundle, &prm.sc, 1, w->threads, r);
        else
            search_run(&prm.sc, r);
        out->ok = search_fields(rec, t, &prm, attempt, w, r, out);
        if (out->ok) executor_bytes = (json_int_t)r->bytes;
        free(r);
    }
    run_fields(rec, t, fn_now() - t0, executor_bytes, &prm, w, NULL);
    return rec;
}

void sweep_job_run(const sweep_config *c, const sweep_plan *p, long index, int attempt,
                   const sweep_worker *w, sweep_job_result *out) {
    json_t *rec = job_record(c, p, index, attempt, w, out);
    out->record = record_text(rec);
}

/* run.bundle of job `slot` of a bundle of k that took `seconds` */
static json_t *bundle_json(int k, int slot, double seconds) {
    json_t *b = json_object();
    json_object_set_new(b, "size", json_integer(k));
    json_object_set_new(b, "slot", json_integer(slot));
    json_object_set_new(b, "seconds", json_real(seconds));
    return b;
}

void sweep_job_run_bundle(const sweep_config *c, const sweep_plan *p, const long *index,
                          const int *attempt, int k, const sweep_worker *w, sweep_job_result *out) {
    sweep_params *prm = mallocCheck(sizeof(sweep_params) * (size_t)k);
    json_t **rec = mallocCheck(sizeof(json_t *) * (size_t)k);
    fn_search_config *cfg = mallocCheck(sizeof(fn_search_config) * (size_t)k);
    fn_search_result *r = mallocCheck(sizeof(fn_search_result) * (size_t)k);
    for (int i = 0; i < k; i++) {
        rec[i] = record_head(c, p, index[i], &prm[i]);
        cfg[i] = prm[i].sc;
    }
    const double t0 = fn_now();
    search_bundle_run(w->bundle, cfg, k, w->threads, r);
    const double wall = fn_now() - t0;
    for (int i = 0; i < k; i++) {
        sweep_job_result *o = &out[i];
        memset(o, 0, sizeof *o);
        json_t *t = json_object();
        o->ok = search_fields(rec[i], t, &prm[i], attempt[i], w, &r[i], o);
        /* a search's own wall time; the bundle's is run.bundle.seconds */
        run_fields(rec[i], t, r[i].t_total > 0 ? r[i].t_total : wall,
                   o->ok ? (json_int_t)r[i].bytes : -1, &prm[i], w, bundle_json(k, i, wall));
        o->record = record_text(rec[i]);
    }
    free(prm);
    free(rec);
    free(cfg);
    free(r);
}

void sweep_job_run_slots(const sweep_config *c, const sweep_plan *p, const long *index,
                         const int *attempt, int k, const sweep_worker *w, sweep_job_result *out) {
    const int threads = w->threads > 0 ? w->threads : omp_get_max_threads();
    /* one thread per slot, never nested teams (search/bundle.h); the planner (sweep_run.c)
     * makes no CPU bundle that would leave half the threads idle. CUDA jobs: each slot's
     * thread has its own CUDA context and stream (gpu/exec_cuda_impl.cuh) */
    const int slots = k < threads ? k : threads;
    sweep_worker *ws = mallocCheck(sizeof *ws * (size_t)slots);
    for (int s = 0; s < slots; s++) {
        ws[s] = *w;
        ws[s].threads = 1;
        ws[s].proxies = sweep_worker_slot_proxies(w, s);
    }
    const int saved_threads = omp_get_max_threads(), saved_levels = omp_get_max_active_levels();
    omp_set_max_active_levels(1);
    json_t **rec = mallocCheck(sizeof *rec * (size_t)k);
    const double t0 = fn_now();
#pragma omp parallel num_threads(slots)
    {
        const int s = omp_get_thread_num();
        for (int i = s; i < k; i += slots)
            rec[i] = job_record(c, p, index[i], attempt[i], &ws[s], &out[i]);
    }
    const double wall = fn_now() - t0;
    omp_set_max_active_levels(saved_levels);
    omp_set_num_threads(saved_threads);
    /* run.bundle into each record, and the rank's thread count in run.threads */
    for (int i = 0; i < k; i++) {
        json_t *run = json_object_get(rec[i], "run");
        json_object_set_new(run, "bundle", bundle_json(k, i, wall));
        json_object_set_new(run, "threads", json_integer(w->threads));
        out[i].record = record_text(rec[i]);
    }
    free(rec);
    free(ws);
}
