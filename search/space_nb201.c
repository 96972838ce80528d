/* search/space_nb201.c: NAS-Bench-201 as a search space (search/space.h): the supernet of
 * spaces/nb201.h at the dataset's size, argmax per edge over all 5 ops (docs/METHOD.md §5). */
#include <math.h>
#include <stdio.h>

#include "spaces/nb201.h"
#include "search/space.h"

static int nb201_resolve(fn_search_config *c, const fn_dataset_info *ds, char *err,
                         size_t errlen) {
    if (ds->h > 32) {
        snprintf(err, errlen, "dataset '%s' is not searchable in nb201 (known: cifar10, "
                 "cifar100, imagenet16-120)", ds->name);
        return -1;
    }
    if (!c->channels) c->channels = 16;
    if (!c->cells) c->cells = 5;
    if (c->alpha_scale == 0) c->alpha_scale = 1e-3;
    return 0;
}

static int nb201_space_build(fn_graph *g, const fn_search_config *c, const fn_dataset_info *ds,
                             int batch, char *err, size_t errlen) {
    (void)err;
    (void)errlen;
    nb201_config nc = {c->channels, c->cells, ds->classes, ds->h, ds->w, batch, 0};
    nb201_build(g, &nc);
    return 0;
}

static int nb201_decode(const fn_search_config *c, fn_search_result *r, char *err,
                        size_t errlen) {
    int be, bo;
    if (nb201_prune(r->S, r->ops, &be, &bo)) {
        snprintf(err, errlen, "%s score S[edge %d, %s] = %g is not finite: refusing to prune (a "
                 "NaN is never read as `none`)", c->metric, be, nb201_op_names[bo],
                 r->S[be * NB201_OPS + bo]);
        return -1;
    }
    nb201_arch_string(r->ops, r->arch, sizeof r->arch);
    r->arch_code = nb201_arch_code(r->ops);
    snprintf(r->arch_json, sizeof r->arch_json, "\"%s\"", r->arch);
    return 0;
}

static int nb201_layout(const fn_search_config *c, int *rows, int *cols) {
    (void)c;
    *rows = NB201_EDGES, *cols = NB201_OPS;
    return 0;
}

const fn_space fn_space_nb201 = {
    "nb201", "NAS-Bench-201 cell: 6 edges x 5 ops, argmax per edge", 1, 0, 0, -1, NULL,
    nb201_resolve, nb201_space_build, nb201_decode, nb201_layout,
};
