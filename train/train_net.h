/* train/train_net.h: networks the trainer trains (issue 25): the DARTS evaluation network of a
 * genotype (DARTS model.py NetworkCIFAR: auxiliary head, drop-path) and the NB201 benchmark
 * network of an arch string (nasbench/nb201_net.h), built into an engine graph.
 *
 * Output layout: without the auxiliary head the graph output is the logits [n, classes]; with
 * it the output is concat(logits, aux logits) [n, 2 * classes] (one executor output, split by
 * the trainer's loss). Drop-path (DARTS `drop_path`, docs/METHOD.md §2.3) is a per-sample scale
 * node (graph_scale_n) after every op of a cell that is not an identity; the scales live in
 * the alpha group "drop_path" [layers * 8, batch]: slot (cell i, genotype entry k) at row
 * i * 8 + k. The trainer writes mask / keep_prob there before each training forward and 1
 * for evaluation. Parameter names are PyTorch state_dict keys of DARTS model.py
 * (stem.0.weight, cells.2.preprocess0.conv_1.weight, cells.0._ops.1.op.5.weight,
 * auxiliary_head.features.2.weight, classifier.bias, ...), so reference weights load by name. */
#ifndef FN_TRAIN_NET_H
#define FN_TRAIN_NET_H

#include <stddef.h>

#include "engine/graph.h"
#include "spaces/darts.h"

#define TRAIN_DROP_SLOTS 8 /* genotype entries per cell */

typedef struct {
    fn_graph g;
    int classes;
    int aux;        /* 1: output = concat(logits, aux logits) */
    int cells;      /* drop-path rows = cells * TRAIN_DROP_SLOTS (0 without drop-path) */
    int *drop_off;  /* [cells * 8] alpha offset of the slot's [batch] scales, -1: no node */
    int batch;
} train_net;

typedef struct {
    int C;          /* initial channels (DARTS eval 36; HNAS 16) */
    int layers;     /* cells (20; HNAS 5); reduction cells at layers/3 and 2*layers/3 */
    int classes;
    int h, w;       /* input resolution (32) */
    int batch;
    int auxiliary;  /* auxiliary head after cell 2*layers/3 (DARTS weight 0.4) */
    int drop_path;  /* build the drop-path nodes (any drop probability > 0 in the recipe) */
} train_darts_config;

/* The DARTS evaluation net of gt. Returns 0, or -1 with a message (impossible shape, an
 * unbuildable genotype). */
int train_darts_net_build(train_net *net, const darts_genotype *gt, const train_darts_config *c,
                          char *err, size_t errlen);
/* The NB201 benchmark network of ops (nasbench/nb201_net.h), C, N cells per stage, classes,
 * input hw x hw. No auxiliary head, no drop-path. */
int train_nb201_net_build(train_net *net, const int ops[6], int C, int N, int classes, int hw,
                          int batch, char *err, size_t errlen);
void train_net_free(train_net *net);

#endif
