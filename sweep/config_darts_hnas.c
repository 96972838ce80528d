/* sweep/config_darts_hnas.c: the `darts_hnas:` section of a sweep config (kind hnas on space
 * darts; configs/README.md) and the checks of such a config: parsed into sweep_darts_hnas,
 * every problem a FILE:LINE:COL message. */
#include <string.h>

#include "sweep/config_internal.h"

void sweep_darts_hnas_default(sweep_darts_hnas *d) {
    memset(d, 0, sizeof *d);
    d->pool = 60000;
    d->pool_width = 8;
    d->epochs = 10;
    d->train_batch = 576;
    d->images = 0;
    d->ntk_batch = 64;
    d->channels = 16;
    d->layers = 5;
}

static const char *const dh_keys = "pool, pool_width, epochs, train_batch, images, ntk_batch, "
                                   "channels, layers";

int cfg_parse_darts_hnas(cfg_ctx *x, const yaml_node_t *n) {
    sweep_darts_hnas *d = &x->c->dh;
    char buf[64], hint[256];
    if (n->type != YAML_MAPPING_NODE)
        return cfg_fail(x, n, "darts_hnas: must be a mapping (pool: 60000, epochs: 10, ...), got %s",
                        cfg_found(n, buf, sizeof buf));
    if (cfg_check_map(x, n, "darts_hnas")) return -1;
    d->mark = cfg_mark_of(n);
    static const struct {
        const char *key;
        double lo, hi;
        const char *hint;
    } k[] = {
        {"pool", 1, 16777216, "an integer 1..16777216 (HNAS: 60000)"},
        {"pool_width", 7, 8, "8 (every primitive, the default) or 7 (HNAS's quirk: "
                             "dil_conv_5x5 is never drawn)"},
        {"epochs", 1, 1000, "an integer 1..1000 (HNAS: 10)"},
        {"train_batch", 1, 4096, "an integer 1..4096 (HNAS: 576)"},
        {"images", 0, 1 << 30, "0 (every record of the training file) or at least 4"},
        {"ntk_batch", 2, 1024, "an integer 2..1024 (HNAS: 64)"},
        {"channels", 2, 1024, "an integer 2..1024 (HNAS: 16)"},
        {"layers", 1, 64, "an integer 1..64 (HNAS: 5)"},
    };
    CFG_PAIRS(n) {
        const yaml_node_t *kn = CFG_KEY(x, p), *v = CFG_VAL(x, p);
        const char *key = cfg_text(kn);
        int i = (int)(sizeof k / sizeof *k) - 1;
        while (i >= 0 && strcmp(key, k[i].key)) i--;
        if (i < 0)
            return cfg_fail(x, kn, "darts_hnas: unknown key '%s' (hint: %s)", key,
                            cfg_suggest(key, dh_keys, 0, hint, sizeof hint));
        double num;
        if (cfg_want(x, v, key, SWEEP_T_INT, k[i].hint, &num)) return -1;
        if (num < k[i].lo || num > k[i].hi || (i == 4 && num > 0 && num < 4))
            return cfg_fail(x, v, "darts_hnas: %s: %s is out of range (hint: %s)", key, cfg_text(v),
                            k[i].hint);
        switch (i) {
        case 0: d->pool = (long)num; break;
        case 1: d->pool_width = (int)num; break;
        case 2: d->epochs = (int)num; break;
        case 3: d->train_batch = (int)num; break;
        case 4: d->images = (int)num; break;
        case 5: d->ntk_batch = (int)num; break;
        case 6: d->channels = (int)num; break;
        default: d->layers = (int)num; break;
        }
    }
    return 0;
}

int cfg_check_darts_hnas(const sweep_config *c, char *err, size_t errlen) {
    const int darts = c->kind == SWEEP_KIND_HNAS && sweep_config_has_space(c, "darts");
    if (c->dh.mark.line && !darts)
        return cfg_fail_at(c->path, c->dh.mark, err, errlen, "darts_hnas: is the section of kind "
                           "hnas on space darts (hint: kind: hnas with grid: {space: darts}, or "
                           "remove it)");
    if (!darts) return 0;
    for (int v = 0; v < c->nvariants; v++)
        if (c->variants[v].space == &fn_space_darts && (c->variants[v].cells || c->variants[v].channels))
            return cfg_fail_at(c->path, c->variants[v].mark, err, errlen, "kind hnas on darts "
                               "builds the evaluation net of darts_hnas: channels / layers "
                               "(hint: space: darts, and darts_hnas: {channels: 16, layers: 5})");
    const sweep_axis *m = &c->axes[SWEEP_KEY_METRIC], *s = &c->axes[SWEEP_KEY_STRATEGY],
                     *d = &c->axes[SWEEP_KEY_DATASET];
    if (m->n)
        return cfg_fail_at(c->path, m->mark, err, errlen, "kind hnas on darts computes M and "
                           "kappa from the NTK of each genotype's evaluation net (hint: remove "
                           "metric)");
    for (int k = SWEEP_KEY_METRIC_ABS; k <= SWEEP_KEY_KAPPA_RAW; k++)
        if (c->axes[k].n)
            return cfg_fail_at(c->path, c->axes[k].mark, err, errlen, "%s: kind hnas on darts "
                               "takes M and kappa of its pool as they are (hint: remove it; it "
                               "is an option of HNAS on NB201's table)", sweep_keys[k].name);
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->v[i].str, "ucb") && strcmp(s->v[i].str, "ei"))
            return cfg_fail_at(c->path, s->v[i].mark, err, errlen, "strategy %s: kind hnas on "
                               "darts runs the Bayesian optimisation (hint: ucb, HNAS's DARTS "
                               "acquisition and the default, or ei)", s->v[i].str);
    for (int i = 0; i < d->n; i++)
        if (strcmp(d->v[i].str, "cifar10") && strcmp(d->v[i].str, "cifar100"))
            return cfg_fail_at(c->path, d->v[i].mark, err, errlen, "dataset %s: kind hnas on "
                               "darts trains CIFAR evaluation nets (hint: cifar10 or cifar100)",
                               d->v[i].str);
    return 0;
}
