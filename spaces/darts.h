/* spaces/darts.h: the DARTS search space (docs/METHOD.md §2): search supernets (CIFAR 8-cell and
 * 20-cell, ImageNet-resolution 224x224, any C / cells / resolution / classes in between),
 * genotype derivation from a saliency matrix (§2.4), the genotype's text forms (DARTS
 * `Genotype(...)` string, accepted by NAS-Bench-301 and DARTS's train scripts, and JSON), and
 * the DARTS evaluation network of a genotype (parameter count and multiply-adds).
 *
 * Alpha layout: group 0 "alpha_normal" [14 x 8], group 1 "alpha_reduce" [14 x 8], each shared
 * by all cells of its type; columns in the order of darts_op_names (§2.1), rows in edge order
 * (node 0: edges 0-1, node 1: 2-4, node 2: 5-8, node 3: 9-13; within a node by input j). */
#ifndef FN_DARTS_H
#define FN_DARTS_H

#include <stddef.h>

#include "engine/graph.h"

#define DARTS_OPS 8
#define DARTS_EDGES 14
#define DARTS_STEPS 4

enum {
    DARTS_NONE = 0,
    DARTS_MAX_POOL_3X3,
    DARTS_AVG_POOL_3X3,
    DARTS_SKIP_CONNECT,
    DARTS_SEP_CONV_3X3,
    DARTS_SEP_CONV_5X5,
    DARTS_DIL_CONV_3X3,
    DARTS_DIL_CONV_5X5,
};
extern const char *const darts_op_names[DARTS_OPS];

typedef struct {
    int C;        /* initial cell width: 16 (CIFAR search), 48 (ImageNet search) */
    int layers;   /* cells: 8, 20, 14; reduction cells at layers/3 and 2*layers/3 */
    int classes;
    int h, w;     /* input resolution */
    int imagenet; /* ImageNet stems (two stride-2 stems, s0 at H/4, s1 at H/8) */
    int batch;
} darts_config;

/* Search supernet, every BN of the cells affine-free, stem BN(s) affine, all 8 ops on all 14
 * edges of every cell (docs/METHOD.md §2.1-2.3). Parameter names match ../shared/ref/README.md:
 * stem.conv / stem.bn (ImageNet: stem0.conv1, stem0.bn1, stem0.conv2, stem0.bn2, stem1.conv,
 * stem1.bn), cell{i}.pre0.conv or cell{i}.pre0.{c1,c2}, cell{i}.pre1.conv,
 * cell{i}.edge{e}.{sep_conv_3x3,sep_conv_5x5}.{dw1,pw1,dw2,pw2},
 * cell{i}.edge{e}.{dil_conv_3x3,dil_conv_5x5}.{dw,pw}, cell{i}.edge{e}.skip_connect.{c1,c2}
 * (reduction edges), classifier. Returns 0, or -1 with a message when the shape is impossible
 * (e.g. a FactorizedReduce on an odd size). */
int darts_build(fn_graph *g, const darts_config *c, char *err, size_t errlen);

/* A DARTS genotype: for each cell type (0 normal, 1 reduce) 8 (op, input) pairs, two per
 * node in ranking order; inputs 0 = c_{k-2}, 1 = c_{k-1}, 2..5 = intermediate nodes. */
typedef struct {
    int op[2][2 * DARTS_STEPS];
    int in[2][2 * DARTS_STEPS];
} darts_genotype;

/* Derivation (docs/METHOD.md §2.4) from W = S of one cell type [14 x 8]: per node keep the two
 * inputs with the largest max over non-`none` ops (stable: ties keep the lower input), on
 * each the first largest non-`none` op. Returns 0, or -1 when W has a non-finite entry
 * (its edge and op in *bad_e, *bad_o): a NaN is never ranked. */
int darts_derive_cell(const double *W, int op[2 * DARTS_STEPS], int in[2 * DARTS_STEPS],
                      int *bad_e, int *bad_o);
/* Both cell types from the score vector in alpha layout (2 x 14 x 8). On failure *bad_cell
 * is 0 (normal) or 1 (reduce). */
int darts_derive(const double *S, darts_genotype *gt, int *bad_cell, int *bad_e, int *bad_o);

/* "Genotype(normal=[('sep_conv_3x3', 0), ...], normal_concat=[2, 3, 4, 5], reduce=[...],
 * reduce_concat=[2, 3, 4, 5])". Returns the length snprintf would write. */
int darts_genotype_string(const darts_genotype *gt, char *buf, size_t len);
/* {"normal": [["sep_conv_3x3", 0], ...], "normal_concat": [2, 3, 4, 5], "reduce": [...],
 *  "reduce_concat": [2, 3, 4, 5]} */
int darts_genotype_json(const darts_genotype *gt, char *buf, size_t len);
/* Parses the Genotype string form (single or double quotes, concat as a list or
 * range(2, 6)). Returns 0 or -1 with a message. */
int darts_genotype_parse(const char *s, darts_genotype *gt, char *err, size_t errlen);
/* Operation counts per cell type: counts[cell][op] over the 8 pairs. */
void darts_genotype_op_counts(const darts_genotype *gt, int counts[2][DARTS_OPS]);

/* The DARTS evaluation network of a genotype (DARTS model.py NetworkCIFAR / NetworkImageNet):
 * affine BNs, no BN after pools, two ops per node, auxiliary head not built (DARTS counts
 * parameters without it). CIFAR: stem 3x3 (3 -> 3C) + BN; ImageNet: stem0 3 -> C/2 -> C,
 * stem1 C -> C (stride 2 each), the first cell has reduction_prev. Head GAP + Linear. */
typedef struct {
    int C, layers, classes, h, w, imagenet, batch;
} darts_eval_config;
int darts_eval_build(fn_graph *g, const darts_genotype *gt, const darts_eval_config *c, char *err,
                     size_t errlen);

#endif
