/* hnas/record.c: an HNAS search as JSON text (hnas/record.h). */
#include "hnas/record.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"
#include "nasbench/nb201_net.h"

typedef struct {
    char *s;
    size_t n, cap;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) {
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        const int k = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (b->s && (size_t)k < b->cap - b->n) {
            b->n += (size_t)k;
            return;
        }
        b->cap = 2 * (b->cap + (size_t)k + 64);
        char *t = realloc(b->s, b->cap);
        if (!t) FN_FATAL("out of memory (hnas record)");
        b->s = t;
    }
}

/* a number, or null; -0 is written 0 (JSON readers such as jansson drop the sign, and the
 * sweep's records go through one: the CLI's --json and a sweep record then read alike) */
static void sb_num(sbuf *b, const char *key, double v) {
    if (v == 0) v = 0;
    if (isfinite(v)) sb_printf(b, "\"%s\":%.17g", key, v);
    else sb_printf(b, "\"%s\":null", key);
}

void hnas_test_accuracy(const nb201_benchmark *b, int index, double acc[4]) {
    int ops[NB201_EDGES];
    acc[0] = acc[1] = acc[2] = acc[3] = NAN;
    if (!b || index < 0 || nb201_net_ops_from_index(b, index, ops)) return;
    const nb201_record *r = nb201_benchmark_get(b, ops);
    if (!r) return;
    acc[0] = r->cifar10_valid;
    acc[1] = r->cifar10_test;
    acc[2] = r->cifar100_test;
    acc[3] = r->imagenet16_test;
}

static void sb_best(sbuf *b, const nb201_benchmark *bench, int index, double signal) {
    double acc[4];
    hnas_test_accuracy(bench, index, acc);
    sb_printf(b, "{\"index\":%d,", index);
    sb_num(b, "signal", signal);
    sb_printf(b, ",");
    sb_num(b, "cifar10_valid", acc[0]);
    sb_printf(b, ",");
    sb_num(b, "cifar10_test", acc[1]);
    sb_printf(b, ",");
    sb_num(b, "cifar100_test", acc[2]);
    sb_printf(b, ",");
    sb_num(b, "imagenet16_test", acc[3]);
    sb_printf(b, "}");
}

char *hnas_result_json(const hnas_config *c, const hnas_names *n, const hnas_result *r,
                       const nb201_benchmark *bench) {
    sbuf b = {0};
    const int ucb = c->acq.kind == BO_ACQ_UCB;
    sb_printf(&b, "{\"mode\":\"%s\",\"metric\":\"%s\",\"kappa\":\"%s\",\"signal\":\"%s\","
              "\"T\":%d,\"acq\":\"%s\",", hnas_mode_name(c->mode), n->metric, n->kappa,
              n->signal, c->T, ucb ? "ucb" : "ei");
    sb_num(&b, "xi", c->acq.xi);
    sb_printf(&b, ",");
    sb_num(&b, "ucb_kappa", c->acq.kappa);
    sb_printf(&b, ",");
    sb_num(&b, "s", c->s);
    sb_printf(&b, ",\"kappa_raw\":%s,\"metric_abs\":%s", c->kappa_raw ? "true" : "false",
              c->metric_abs ? "true" : "false");
    sb_printf(&b, ",\"draws\":%d,\"candidates\":%d,\"steps\":[", c->draws, r->candidates);
    for (int i = 0; i < r->nsteps; i++) {
        const hnas_step *s = &r->step[i];
        sb_printf(&b, "%s{\"t\":%d,\"cached\":%s,", i ? "," : "", s->t,
                  s->cached ? "true" : "false");
        sb_num(&b, "nu", s->nu);
        sb_printf(&b, ",");
        sb_num(&b, "log10_mu", s->log10_mu);
        sb_printf(&b, ",\"arch\":%d,", s->arch);
        sb_num(&b, "M", s->M);
        sb_printf(&b, ",");
        sb_num(&b, "kappa", s->kappa);
        sb_printf(&b, ",");
        sb_num(&b, "score", s->score);
        sb_printf(&b, ",");
        sb_num(&b, "signal", s->signal);
        sb_printf(&b, ",");
        sb_num(&b, "cost_s", s->cost);
        sb_printf(&b, ",\"pool\":%d,\"best\":", s->pool);
        sb_best(&b, bench, s->best_arch, s->best_signal);
        sb_printf(&b, "}");
    }
    sb_printf(&b, "],\"pick\":");
    sb_best(&b, bench, r->pick, r->pick_signal);
    char arch[256] = "";
    int ops[NB201_EDGES];
    if (bench && r->pick >= 0 && !nb201_net_ops_from_index(bench, r->pick, ops))
        nb201_arch_string(ops, arch, sizeof arch);
    b.n--; /* reopen the pick object for its arch string */
    sb_printf(&b, ",\"arch\":\"%s\"},", arch);
    sb_num(&b, "cost_s", r->cost);
    sb_printf(&b, ",\"evaluations\":%d,\"warning\":\"%s\"}", r->evaluations, r->warning);
    return b.s;
}
