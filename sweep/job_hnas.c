/* sweep/job_hnas.c: jobs of kind hnas (configs/README.md): one HNAS search on NB201
 * (hnas/search.h) over the config's metric table, or its metric-alone / random-search
 * baseline (strategy), with budget T and the grid's M (metric). The training signal is the
 * 12-epoch cifar10-valid accuracy and the cost its training time, both from
 * nb201_accuracy_extra.tsv beside the `benchmark` table. The record carries hnas{...}
 * (hnas/record.h: every step, the final pick) and, like every search record, value (the pick's
 * signal), arch, nb201_index and accuracy{...} of the pick; its wall time goes to run.time_s.
 * A rank reads the tables once and keeps them between jobs. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"
#include "hnas/record.h"
#include "hnas/search.h"
#include "hnas/table.h"
#include "nasbench/nb201_net.h"
#include "sweep/job.h"

struct sweep_hnas_cache {
    hnas_table *table;
    char table_path[SWEEP_PATHLEN], bench_path[SWEEP_PATHLEN];
    double signal[HNAS_NUM_ARCHS], cost[HNAS_NUM_ARCHS];
    int truth_ok;
};

void sweep_hnas_cache_free(struct sweep_hnas_cache *hc) {
    if (!hc) return;
    hnas_table_free(hc->table);
    free(hc);
}

static int load(struct sweep_hnas_cache *hc, const char *tables, char *err, size_t errlen) {
    if (hc->table && !strcmp(hc->table_path, tables)) return 0;
    hnas_table_free(hc->table);
    hc->table = hnas_table_new();
    hc->table_path[0] = '\0';
    char list[SWEEP_PATHLEN];
    snprintf(list, sizeof list, "%s", tables);
    for (char *f = strtok(list, ","); f; f = strtok(NULL, ","))
        if (hnas_table_load(hc->table, f, err, errlen)) return -1;
    snprintf(hc->table_path, sizeof hc->table_path, "%s", tables);
    return 0;
}

int sweep_job_run_hnas(const sweep_params *p, const nb201_benchmark *bench,
                       struct sweep_hnas_cache **cache, json_t *rec, json_t *t, char *err,
                       size_t errlen) {
    (void)bench;
    err[0] = '\0';
    if (!*cache) *cache = callocCheck(1, sizeof **cache);
    struct sweep_hnas_cache *hc = *cache;
    if (load(hc, p->table, err, errlen)) return -1;
    if (!hc->truth_ok || strcmp(hc->bench_path, p->benchmark)) {
        /* nb201_accuracy_extra.tsv beside the benchmark table (configs/README.md) */
        char extra[SWEEP_PATHLEN + 32];
        const char *slash = strrchr(p->benchmark, '/');
        snprintf(extra, sizeof extra, "%.*s%snb201_accuracy_extra.tsv",
                 slash ? (int)(slash - p->benchmark) : 0, p->benchmark, slash ? "/" : "");
        snprintf(hc->bench_path, sizeof hc->bench_path, "%s", p->benchmark);
        hc->truth_ok = 0;
        if (hnas_tsv_column(extra, "cifar10_valid_12ep", hc->signal, err, errlen) ||
            hnas_tsv_column(extra, "cifar10_valid_12ep_train_s", hc->cost, err, errlen))
            return -1;
        hc->truth_ok = 1;
    }
    hnas_config c;
    hnas_config_default(&c);
    c.seed = p->sc.seed;
    c.T = p->budget;
    c.metric_abs = p->metric_abs;
    c.kappa_raw = p->kappa_raw;
    if (!strcmp(p->strategy, "ucb")) c.acq.kind = BO_ACQ_UCB;
    else if (!strcmp(p->strategy, "alone")) c.mode = HNAS_MODE_ALONE;
    else if (!strcmp(p->strategy, "random")) c.mode = HNAS_MODE_RANDOM;
    hnas_names nm = {p->sc.metric, "hnas_ntk_cond", "cifar10_valid_12ep"};
    hnas_data d = {hc->table, hnas_table_col(hc->table, nm.metric),
                   hnas_table_col(hc->table, nm.kappa), hc->signal, hc->cost};
    static _Thread_local hnas_result r;
    if (hnas_run(&c, &d, &r, err, errlen)) return -1;
    char *js = hnas_result_json(&c, &nm, &r, bench);
    json_t *h = json_loads(js, 0, NULL);
    free(js);
    if (!h) {
        snprintf(err, errlen, "internal: the hnas record is not JSON");
        return -1;
    }
    json_object_set_new(rec, "hnas", h);
    json_object_set_new(rec, "value", json_real(r.pick_signal));
    int ops[NB201_EDGES];
    if (bench && !nb201_net_ops_from_index(bench, r.pick, ops)) {
        char arch[256];
        nb201_arch_string(ops, arch, sizeof arch);
        json_object_set_new(rec, "arch", json_string(arch));
        sweep_json_accuracy(rec, nb201_benchmark_get(bench, ops));
    }
    json_object_set_new(t, "search", json_real(r.seconds));
    return 0;
}
