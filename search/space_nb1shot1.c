/* search/space_nb1shot1.c: NAS-Bench-1shot1 search spaces 1-3 as a search space (search/space.h):
 * the one-shot model of spaces/nb1shot1.h, decoded into a NAS-Bench-101 cell by the top-k parent
 * rule (docs/METHOD.md §5, §5.1). arch is the pruned spec NAS-Bench-101 evaluates; arch_json holds
 * both the 7-vertex spec N1 hands to nasbench's ModelSpec and the pruned one. */
#include <stdio.h>

#include "spaces/nb1shot1.h"
#include "search/space.h"

static int n1_resolve(fn_search_config *c, const fn_dataset_info *ds, char *err, size_t errlen) {
    if (ds->h > 32) {
        snprintf(err, errlen, "dataset '%s' is not searchable in nb1shot1 (a CIFAR-size space; "
                 "known: cifar10, cifar100, imagenet16-120)", ds->name);
        return -1;
    }
    if (c->ss < 1 || c->ss > 3) {
        snprintf(err, errlen, "nb1shot1 search space %d does not exist (known: 1, 2, 3)", c->ss);
        return -1;
    }
    if (!c->channels) c->channels = 16;
    if (!c->cells) c->cells = 3; /* cells per stack: N1 layers = 9 */
    if (c->alpha_scale == 0) c->alpha_scale = 1e-3;
    return 0;
}

static int n1_build(fn_graph *g, const fn_search_config *c, const fn_dataset_info *ds, int batch,
                    char *err, size_t errlen) {
    (void)err;
    (void)errlen;
    nb1shot1_config nc = {c->ss, c->channels, c->cells, ds->classes, ds->h, ds->w, batch};
    nb1shot1_build(g, &nc);
    return 0;
}

static int n1_decode(const fn_search_config *c, fn_search_result *r, char *err, size_t errlen) {
    nb1shot1_arch a;
    int bad = -1;
    if (nb1shot1_decode(c->ss, r->S, &a, &bad)) {
        snprintf(err, errlen, "%s score S[%d] = %g is not finite: refusing to decode", c->metric,
                 bad, bad >= 0 ? r->S[bad] : 0.0);
        return -1;
    }
    r->arch_code = -1;
    nb1shot1_spec_json(&a, 1, r->arch, sizeof r->arch);
    size_t n = (size_t)snprintf(r->arch_json, sizeof r->arch_json, "{\"ss\": %d, \"spec\": ", c->ss);
    if (n < sizeof r->arch_json)
        n += (size_t)nb1shot1_spec_json(&a, 0, r->arch_json + n, sizeof r->arch_json - n);
    if (n < sizeof r->arch_json)
        n += (size_t)snprintf(r->arch_json + n, sizeof r->arch_json - n, ", \"pruned\": ");
    if (n < sizeof r->arch_json)
        n += (size_t)nb1shot1_spec_json(&a, 1, r->arch_json + n, sizeof r->arch_json - n);
    if (n < sizeof r->arch_json) snprintf(r->arch_json + n, sizeof r->arch_json - n, "}");
    return 0;
}

/* alpha_mixed has 3 columns, alpha_output steps + 1: one row of all of them */
static int n1_layout(const fn_search_config *c, int *rows, int *cols) {
    if (c->ss < 1 || c->ss > 3) return -1;
    *rows = 1, *cols = nb1shot1_alpha_numel(c->ss);
    return 0;
}

/* every path crosses alpha_output (group 1) once in each of the 3 stacks' cells */
static int n1_cells(const fn_search_config *c) { return 3 * c->cells; }

const fn_space fn_space_nb1shot1 = {
    "nb1shot1", "NAS-Bench-1shot1 spaces 1-3: NB101 cells, top-k parents per node", 0, 0, 1, 1, n1_cells,
    n1_resolve, n1_build, n1_decode, n1_layout,
};
