/* search/space.h: the search-space registry. A space knows how to fill in its defaults, build
 * its supernet for an input size and class count, and turn a score vector (alpha layout)
 * into an architecture, refusing non-finite scores. search/search.c runs any space through
 * this table; adding a space is one file plus one row in space_table (search/space.c).
 *
 *   nb201     NAS-Bench-201 cell, 6 edges x 5 ops, argmax per edge (search/space_nb201.c)
 *   darts     DARTS cells, 2 x 14 edges x 8 ops, top-2 inputs per node (search/space_darts.c)
 *   nb1shot1  NAS-Bench-1shot1 search spaces 1-3, NB101 cells (search/space_nb1shot1.c) */
#ifndef FN_SPACE_H
#define FN_SPACE_H

#include <stddef.h>

#include "datasets/dataset.h"
#include "engine/graph.h"
#include "search/search.h"

typedef struct {
    const char *name;
    const char *summary;
    /* 1 when the space's alphas are module parameters (in the state_dict), so FD's SynFlow
     * takes |alpha| along with |params| (NB201); 0 when they stay signed (DARTS, N1). */
    int synflow_abs_alpha;
    /* Space default for taking |params| before SNIP / GraSP (FD's DARTS notebooks do). */
    int abs_params_default;
    /* Default SynFlow form (fn_metric_opts.synflow_zc): 0 FreeDARTS's literal form (BN in
     * train mode), which has signal on NB201 only; 1 BN removed with |alpha|, R = 1'(prod
     * |theta|)1 (DARTS, nb1shot1: there every path into the head ends in an affine-free BN over
     * one image, so the literal form's d R / d alpha is exactly 0; docs/FIDELITY.md). */
    int synflow_zc_default;
    /* SynFlow path form, exact rescaling: an alpha group that every input-output path crosses
     * exactly once per cell (nb1shot1: alpha_output, whose entries of about 1e-3 shrink the
     * flow about 1e3-fold per cell), or -1. Multiplying the group by 2^k multiplies every
     * path, so R without the bias, d R / d alpha and every score, by exactly 2^(k * cells)
     * (search/search.c); synflow_cells gives that number of crossings. */
    int synflow_cut_group;
    int (*synflow_cells)(const fn_search_config *cfg);
    /* Fills zero fields of cfg (channels, cells, alpha scale, ...) with the space's defaults
     * for dataset ds and checks them. 0, or -1 with a message. */
    int (*resolve)(fn_search_config *cfg, const fn_dataset_info *ds, char *err, size_t errlen);
    /* Builds the supernet for a resolved cfg. 0, or -1 with a message. */
    int (*build)(fn_graph *g, const fn_search_config *cfg, const fn_dataset_info *ds, int batch,
                 char *err, size_t errlen);
    /* Architecture from the score vector res->S; fills res->arch, res->arch_json and the
     * space's fields. 0, or -1 with a message naming the non-finite score. */
    int (*decode)(const fn_search_config *cfg, fn_search_result *res, char *err, size_t errlen);
    /* The score layout of a search with cfg (cfg->ss picks a variant; nothing else is read):
     * rows x cols of res->S, all alpha groups stacked as search/search.c writes them (rows
     * of one width, or 1 x numel when the widths differ). 0, or -1 when cfg names no
     * variant of the space. */
    int (*layout)(const fn_search_config *cfg, int *rows, int *cols);
} fn_space;

const fn_space *space_find(const char *name);
/* The layout of cfg->space through its table row (nb201 6 x 5, darts 28 x 8, nb1shot1
 * 1 x 24 / 26 / 35 for ss 1 / 2 / 3): what a search record's `scores` must have and
 * ensembles combine. 0, or -1 (rows = cols = 0) for an unknown space or variant, or a layout
 * over FN_MAX_ALPHA entries. */
int space_layout(const fn_search_config *cfg, int *rows, int *cols);
/* "nb201, darts, nb1shot1" */
const char *space_names(void);

extern const fn_space fn_space_nb201, fn_space_darts, fn_space_nb1shot1;

#endif
