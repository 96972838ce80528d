/* sweep/job_per_arch.c: jobs of the per-architecture kinds (configs/README.md), on NB201
 * benchmark networks rather than supernets:
 *   score      one zero-cost proxy (proxies/proxy.h) of one architecture (`arch`, an NB201 index):
 *              value, proxies{name: value} and proxy_direction{name: +1 | -1} (the record
 *              analysis/report_corr.c reads)
 *   zc_search  zero-cost NAS (Abdelfattah et al.; the "Zero-cost (per-arch)" rows of the
 *              FreeDARTS paper's Tables 1 and 2): `sample` architectures drawn with the seed,
 *              each scored with the proxy, the best kept (NASWOT search: metric naswot,
 *              sample 100); with `scores` each value is looked up in those score records
 *              (sweep/score_table.h) instead of computed
 *   random     random search: one architecture drawn with the seed
 * zc_search and random records read like FreeDARTS search records (arch, nb201_index,
 * accuracy), so summaries and reports put them side by side. Every record of these kinds
 * carries its architecture's unreachable_ops (spaces/nb201.h), a zc_search record its
 * proxy's direction: analysis/ reads records only (docs/ARCHITECTURE.md). A proxy's infinite
 * worst score (naswot's singular K: -inf) is a score, written as the string "-inf". A rank
 * keeps one proxy context (batch, scratch) per (dataset, seed, batch, augment, precision)
 * between jobs. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nasbench/nb201_net.h"
#include "proxies/proxy.h"
#include "base/common.h"
#include "sweep/job.h"
#include "sweep/score_table.h"

#define CACHE_MAX 8

struct sweep_proxy_cache {
    fn_proxy_ctx *ctx[CACHE_MAX];
    char key[CACHE_MAX][512];
    int n, next; /* contexts held; the slot replaced next when full */
    sweep_score_table *table; /* zc_search with `scores`: read once per rank */
    char table_path[SWEEP_PATHLEN];
    struct sweep_hnas_cache *hnas; /* kind hnas: its tables, read once per rank */
};

struct sweep_proxy_cache *sweep_proxy_cache_new(void) {
    return callocCheck(1, sizeof(struct sweep_proxy_cache));
}

void sweep_proxy_cache_free(struct sweep_proxy_cache *pc) {
    if (!pc) return;
    for (int i = 0; i < pc->n; i++) proxy_ctx_free(pc->ctx[i]);
    sweep_score_table_free(pc->table);
    sweep_hnas_cache_free(pc->hnas);
    free(pc);
}

struct sweep_proxy_cache *sweep_worker_slot_proxies(const sweep_worker *cw, int s) {
    if (s == 0) return cw->proxies;
    sweep_worker *w = (sweep_worker *)cw; /* the slot caches belong to the worker */
    if (s >= w->nslot_proxies) {
        w->slot_proxies = reallocCheck(w->slot_proxies, sizeof *w->slot_proxies * (size_t)(s + 1));
        for (int i = w->nslot_proxies; i <= s; i++) w->slot_proxies[i] = i ? sweep_proxy_cache_new() : NULL;
        w->nslot_proxies = s + 1;
    }
    return w->slot_proxies[s];
}

void sweep_worker_slots_free(sweep_worker *w) {
    for (int i = 1; i < w->nslot_proxies; i++) sweep_proxy_cache_free(w->slot_proxies[i]);
    free(w->slot_proxies);
    w->slot_proxies = NULL;
    w->nslot_proxies = 0;
}

static fn_status get_ctx(struct sweep_proxy_cache *pc, const sweep_params *p, fn_proxy_ctx **out,
                         char *err, size_t errlen) {
    const fn_search_config *sc = &p->sc;
    char key[512];
    snprintf(key, sizeof key, "%s|%s|%llu|%d|%d|%d|%d", sc->dataset,
             sc->data_path ? sc->data_path : "", (unsigned long long)sc->seed, sc->batch,
             sc->augment, sc->mopts.precision, (int)sc->device);
    for (int i = 0; i < pc->n; i++)
        if (!strcmp(pc->key[i], key)) return *out = pc->ctx[i], FN_OK;
    fn_proxy_config c;
    proxy_config_default(&c);
    c.dataset = sc->dataset;
    c.data_path = sc->data_path;
    c.seed = sc->seed;
    c.batch = sc->batch;
    c.augment = sc->augment;
    c.precision = sc->mopts.precision;
    c.device = sc->device; /* cuda: the rank's bound GPU, set by the worker */
    fn_proxy_ctx *ctx;
    fn_status s = proxy_ctx_create(&c, &ctx, err, errlen);
    if (s != FN_OK) return s;
    int slot;
    if (pc->n < CACHE_MAX) slot = pc->n++;
    else proxy_ctx_free(pc->ctx[slot = pc->next++ % CACHE_MAX]); /* the oldest goes */
    pc->ctx[slot] = ctx;
    snprintf(pc->key[slot], sizeof pc->key[slot], "%s", key);
    return *out = ctx, FN_OK;
}

static fn_status get_table(struct sweep_proxy_cache *pc, const char *path,
                           const sweep_score_table **out, char *err, size_t errlen) {
    if (!pc->table || strcmp(pc->table_path, path)) {
        sweep_score_table_free(pc->table);
        pc->table = NULL;
        if (sweep_score_table_load(path, &pc->table, err, errlen)) return FN_ERR_DATA;
        snprintf(pc->table_path, sizeof pc->table_path, "%s", path);
    }
    *out = pc->table;
    return FN_OK;
}

/* a score as JSON: a number, or "-inf" / "inf" for the infinite worst score a proxy may give
 * (naswot's singular K), which JSON cannot hold as a number */
static json_t *score_json(double v) {
    return isinf(v) ? json_string(v < 0 ? "-inf" : "inf") : json_real(v);
}

/* arch, unreachable_ops (nb201_arch_unreachable_ops), nb201_index, accuracy{...} of ops
 * into rec: what analysis/ reads of an architecture, so it needs no space grammar */
static void put_arch(json_t *rec, const int ops[NB201_EDGES], const nb201_benchmark *bench) {
    char arch[256];
    nb201_arch_string(ops, arch, sizeof arch);
    json_object_set_new(rec, "arch", json_string(arch));
    json_object_set_new(rec, "unreachable_ops", json_integer(nb201_arch_unreachable_ops(ops)));
    sweep_json_accuracy(rec, bench ? nb201_benchmark_get(bench, ops) : NULL);
}

/* proxy_direction{name: +1 | -1}: the proxy's sign (+1 larger is better, -1 smaller), so
 * analysis/ orders the scores without the proxy registry */
static void put_direction(json_t *rec, const char *name, int sign) {
    json_t *d = json_object();
    json_object_set_new(d, name, json_integer(sign < 0 ? -1 : 1));
    json_object_set_new(rec, "proxy_direction", d);
}

static fn_status finish(json_t *rec, fn_status s, const char *msg, int attempt) {
    json_object_set_new(rec, "status", json_string(fn_status_name(s)));
    json_object_set_new(rec, "error", s == FN_OK ? json_null() : json_string(msg));
    json_object_set_new(rec, "attempt", json_integer(attempt));
    return s;
}

fn_status sweep_job_run_per_arch(const sweep_params *p, const sweep_worker *w, int attempt,
                                 json_t *rec, json_t *t) {
    char err[FN_ERRLEN] = "";
    const nb201_benchmark *bench = w->bench;
    int ops[NB201_EDGES];
    double t0 = fn_now();
    if (!bench) return finish(rec, FN_ERR_CONFIG, "no benchmark table (benchmark: FILE)", attempt);
    if (p->kind == SWEEP_KIND_HNAS) {
        const int s = sweep_job_run_hnas(p, bench, &w->proxies->hnas, rec, t, err, sizeof err);
        finish(rec, s ? FN_ERR_DATA : FN_OK, err, attempt);
        return s ? FN_ERR_DATA : FN_OK;
    }
    if (p->kind == SWEEP_KIND_RANDOM) {
        int idx;
        sweep_sample_indices(p->sc.seed, 1, NB201_NUM_ARCHS, &idx);
        if (nb201_net_ops_from_index(bench, idx, ops))
            return finish(rec, FN_ERR_DATA, "sampled index not in the benchmark table", attempt);
        finish(rec, FN_OK, NULL, attempt);
        put_arch(rec, ops, bench);
        json_object_set_new(t, "search", json_real(fn_now() - t0));
        return FN_OK;
    }
    fn_proxy_ctx *ctx = NULL;
    const sweep_score_table *table = NULL;
    fn_status s = p->scores ? get_table(w->proxies, p->scores, &table, err, sizeof err)
                            : get_ctx(w->proxies, p, &ctx, err, sizeof err);
    if (s != FN_OK) return finish(rec, s, err, attempt);
    const char *name = p->sc.metric;
    const int sign = proxy_find(name)->sign;
    if (p->kind == SWEEP_KIND_SCORE) {
        if (nb201_net_ops_from_index(bench, p->arch, ops)) {
            snprintf(err, sizeof err, "arch %d is not in the benchmark table", p->arch);
            return finish(rec, FN_ERR_CONFIG, err, attempt);
        }
        fn_proxy_value v;
        s = proxy_score_ops(ctx, ops, &name, 1, &v, err, sizeof err);
        finish(rec, s, err, attempt);
        put_arch(rec, ops, bench);
        if (s != FN_OK) return s;
        json_object_set_new(rec, "value", score_json(v.value));
        json_t *px = json_object();
        json_object_set_new(px, name, score_json(v.value));
        json_object_set_new(rec, "proxies", px);
        put_direction(rec, name, sign);
        json_object_set_new(t, "score", json_real(v.seconds));
        json_object_set_new(t, "search", json_real(fn_now() - t0));
        return FN_OK;
    }
    /* zc_search: the best of `sample` architectures by the proxy (larger is better after
     * the proxy's sign; NaN scores skipped and counted; ties: the first drawn), each scored
     * here or, with `scores`, looked up in that table (one batch and initialisation: the
     * table's, whatever the job's seed; the seed still draws the candidates) */
    int n = p->sample, *idx = mallocCheck((size_t)n * sizeof *idx), best = -1, nnan = 0;
    double best_v = NAN, t_score = 0;
    sweep_sample_indices(p->sc.seed, n, NB201_NUM_ARCHS, idx);
    s = FN_OK;
    for (int i = 0; i < n; i++) {
        int o[NB201_EDGES];
        if (nb201_net_ops_from_index(bench, idx[i], o)) {
            snprintf(err, sizeof err, "sampled index %d is not in the benchmark table", idx[i]);
            s = FN_ERR_DATA;
            break;
        }
        fn_proxy_value v = {0};
        fn_status si = FN_OK;
        if (table) {
            if (sweep_score_table_get(table, p->sc.dataset, name, idx[i], &v.value)) {
                snprintf(err, sizeof err, "scores %s has no %s score of architecture %d on %s "
                         "(hint: score every candidate first: kind score with arch: all, or "
                         "arch {sample: %d, seed: %llu} for this job's draw)", p->scores, name,
                         idx[i], p->sc.dataset, n, (unsigned long long)p->sc.seed);
                s = FN_ERR_DATA;
                break;
            }
        } else {
            si = proxy_score_ops(ctx, o, &name, 1, &v, err, sizeof err);
        }
        t_score += v.seconds;
        if (si == FN_ERR_NAN || isnan(v.value)) { nnan++; continue; }
        if (si != FN_OK) { s = si; break; }
        if (best < 0 || sign * v.value > sign * best_v) {
            best = i, best_v = v.value;
            memcpy(ops, o, sizeof ops);
        }
    }
    free(idx);
    if (s == FN_OK && best < 0) {
        snprintf(err, sizeof err, "every one of the %d sampled architectures scored NaN with %s",
                 n, name);
        s = FN_ERR_NAN;
    }
    finish(rec, s, err, attempt);
    if (s != FN_OK) return s;
    put_arch(rec, ops, bench);
    json_object_set_new(rec, "value", score_json(best_v));
    put_direction(rec, name, sign);
    json_object_set_new(rec, "sampled", json_integer(n));
    json_object_set_new(rec, "nan_scores", json_integer(nnan));
    json_object_set_new(t, "score", json_real(t_score));
    json_object_set_new(t, "search", json_real(fn_now() - t0));
    return FN_OK;
}
