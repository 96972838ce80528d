/* search/space_darts.c: the DARTS space as a search space (search/space.h): the search supernets of
 * spaces/darts.h (CIFAR stem at 32x32 / 16x16, ImageNet stems at 224x224), genotype derivation
 * from the raw saliency (docs/METHOD.md §2.4, §5), and the parameter count and multiply-adds of
 * the genotype's DARTS evaluation networks, as the papers report them. */
#include <stdio.h>
#include <string.h>

#include "spaces/darts.h"
#include "search/space.h"

static int darts_resolve(fn_search_config *c, const fn_dataset_info *ds, char *err,
                         size_t errlen) {
    const int imagenet = ds->h > 32;
    if (!c->channels) c->channels = imagenet ? 48 : 16;
    if (!c->cells) c->cells = imagenet ? 14 : 8;
    if (c->alpha_scale == 0) c->alpha_scale = imagenet ? 5e-4 : 1e-3; /* §3.11 */
    (void)err;
    (void)errlen;
    return 0;
}

static int darts_space_build(fn_graph *g, const fn_search_config *c, const fn_dataset_info *ds,
                             int batch, char *err, size_t errlen) {
    darts_config dc = {c->channels, c->cells, ds->classes, ds->h, ds->w, ds->h > 32, batch};
    return darts_build(g, &dc, err, errlen);
}

static int darts_decode(const fn_search_config *c, fn_search_result *r, char *err,
                        size_t errlen) {
    int bc, be, bo;
    if (darts_derive(r->S, &r->genotype, &bc, &be, &bo)) {
        snprintf(err, errlen, "%s score S[%s edge %d, %s] = %g is not finite: refusing to derive "
                 "a genotype", c->metric, bc ? "reduce" : "normal", be, darts_op_names[bo],
                 r->S[(bc * DARTS_EDGES + be) * DARTS_OPS + bo]);
        return -1;
    }
    darts_genotype_string(&r->genotype, r->arch, sizeof r->arch);
    darts_genotype_json(&r->genotype, r->arch_json, sizeof r->arch_json);
    r->arch_code = -1;
    static const darts_eval_config eval[2] = {{36, 20, 10, 32, 32, 0, 1},
                                              {48, 14, 1000, 224, 224, 1, 1}};
    for (int k = 0; k < 2; k++) {
        fn_graph g;
        graph_init(&g);
        if (darts_eval_build(&g, &r->genotype, &eval[k], err, errlen)) {
            graph_free(&g);
            return -1;
        }
        r->eval_params[k] = graph_num_params(&g);
        r->eval_macs[k] = graph_macs(&g);
        graph_free(&g);
    }
    return 0;
}

/* the normal and the reduction cell's alphas, stacked */
static int darts_layout(const fn_search_config *c, int *rows, int *cols) {
    (void)c;
    *rows = 2 * DARTS_EDGES, *cols = DARTS_OPS;
    return 0;
}

const fn_space fn_space_darts = {
    "darts", "DARTS cells: 2 x 14 edges x 8 ops, top-2 inputs per node (8/20 cells, 224x224)",
    0, 1, 1, -1, NULL, darts_resolve, darts_space_build, darts_decode, darts_layout,
};
