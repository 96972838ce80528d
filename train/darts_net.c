/* train/darts_net.c: the DARTS evaluation network with auxiliary head and drop-path, under
 * PyTorch state_dict names (see train/train_net.h; docs/METHOD.md §2.1-2.3, DARTS model.py and
 * operations.py). A ReLU that several ops of a cell apply to the same state is built once
 * (same values and gradients as DARTS's per-op ReLUs). */
#include "train/train_net.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/common.h"
#include "nasbench/nb201_net.h"

typedef struct {
    fn_graph *g;
    char *err;
    size_t errlen;
    int failed;
} bld;

/* name from a format (FN_NAME_LEN minus ".weight"); asserts it fits */
static const char *nm(char *buf, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, FN_NAME_LEN - 16, fmt, ap);
    va_end(ap);
    FN_ASSERT(n > 0 && n < FN_NAME_LEN - 16);
    return buf;
}

static int conv(bld *b, const char *name, int x, int cout, int k, int stride, int pad, int dil,
                int groups) {
    return graph_conv(b->g, name, x, cout, k, stride, pad, dil, groups);
}

/* ReLUConvBN(C_in, C, 1, 1, 0): prefix.op.1 (conv), prefix.op.2 (BN) */
static int relu_conv_bn(bld *b, const char *prefix, int x, int cout) {
    char n1[FN_NAME_LEN], n2[FN_NAME_LEN];
    int y = conv(b, nm(n1, "%s.op.1", prefix), graph_relu(b->g, x), cout, 1, 1, 0, 1, 1);
    return graph_bn(b->g, nm(n2, "%s.op.2", prefix), y, 1);
}

/* FactorizedReduce: ReLU; conv_1 (1x1 stride 2) on x, conv_2 on x[:, :, 1:, 1:]; cat; bn.
 * The strided 1x1 convs are subsample + pointwise conv (same values). */
static int factorized_reduce(bld *b, const char *prefix, int x, int relu, int cout) {
    fn_graph *g = b->g;
    const int h = g->t[x].h, w = g->t[x].w;
    if (h % 2 || w % 2 || cout % 2) {
        snprintf(b->err, b->errlen, "%s: FactorizedReduce needs even sizes (input %dx%d, %d "
                 "channels)", prefix, h, w, cout);
        b->failed = 1;
        return x;
    }
    char n[FN_NAME_LEN];
    int xs[2];
    for (int k = 0; k < 2; k++)
        xs[k] = conv(b, nm(n, "%s.conv_%d", prefix, k + 1),
                     graph_subsample(g, relu, k, 2, h / 2, w / 2), cout / 2, 1, 1, 0, 1, 1);
    return graph_bn(g, nm(n, "%s.bn", prefix), graph_concat(g, xs, 2), 1);
}

/* One genotype op on state x (relu: its shared ReLU, built on first use). */
static int op_build(bld *b, const char *prefix, int op, int x, int *relu, int C, int stride) {
    fn_graph *g = b->g;
    char n[FN_NAME_LEN];
    if (op == DARTS_MAX_POOL_3X3) return graph_maxpool(g, x, 3, stride, 1);
    if (op == DARTS_AVG_POOL_3X3) return graph_avgpool(g, x, 3, stride, 1);
    if (op == DARTS_SKIP_CONNECT && stride == 1) return x;
    if (*relu < 0) *relu = graph_relu(g, x);
    if (op == DARTS_SKIP_CONNECT) return factorized_reduce(b, prefix, x, *relu, C);
    if (op == DARTS_SEP_CONV_3X3 || op == DARTS_SEP_CONV_5X5) {
        const int k = op == DARTS_SEP_CONV_3X3 ? 3 : 5;
        int y = conv(b, nm(n, "%s.op.1", prefix), *relu, C, k, stride, k / 2, 1, C);
        y = graph_bn(g, nm(n, "%s.op.3", prefix), conv(b, nm(n, "%s.op.2", prefix), y, C, 1, 1,
                                                       0, 1, 1), 1);
        y = conv(b, nm(n, "%s.op.5", prefix), graph_relu(g, y), C, k, 1, k / 2, 1, C);
        return graph_bn(g, nm(n, "%s.op.7", prefix),
                        conv(b, nm(n, "%s.op.6", prefix), y, C, 1, 1, 0, 1, 1), 1);
    }
    FN_ASSERT(op == DARTS_DIL_CONV_3X3 || op == DARTS_DIL_CONV_5X5);
    const int k = op == DARTS_DIL_CONV_3X3 ? 3 : 5;
    int y = conv(b, nm(n, "%s.op.1", prefix), *relu, C, k, stride, k - 1, 2, C);
    return graph_bn(g, nm(n, "%s.op.3", prefix), conv(b, nm(n, "%s.op.2", prefix), y, C, 1, 1,
                                                      0, 1, 1), 1);
}

static int cell_build(bld *b, train_net *net, int cell, int s0, int s1, int C, int reduction,
                      int reduction_prev, const int *ops, const int *ins, int drop_group) {
    fn_graph *g = b->g;
    char n[FN_NAME_LEN];
    int st[2 + DARTS_STEPS], relu[2 + DARTS_STEPS];
    if (reduction_prev) {
        int r = graph_relu(g, s0);
        st[0] = factorized_reduce(b, nm(n, "cells.%d.preprocess0", cell), s0, r, C);
    } else {
        st[0] = relu_conv_bn(b, nm(n, "cells.%d.preprocess0", cell), s0, C);
    }
    st[1] = relu_conv_bn(b, nm(n, "cells.%d.preprocess1", cell), s1, C);
    relu[0] = relu[1] = -1;
    for (int i = 0; i < DARTS_STEPS; i++) {
        int xs[2], aidx[2] = {-1, -1};
        for (int k = 0; k < 2; k++) {
            const int p = 2 * i + k, j = ins[p], stride = reduction && j < 2 ? 2 : 1;
            char prefix[FN_NAME_LEN];
            nm(prefix, "cells.%d._ops.%d", cell, p);
            int y = op_build(b, prefix, ops[p], st[j], &relu[j], C, stride);
            const int identity = ops[p] == DARTS_SKIP_CONNECT && stride == 1;
            if (net->drop_off && !identity) {
                const int off = drop_group + (cell * TRAIN_DROP_SLOTS + p) * net->batch;
                net->drop_off[cell * TRAIN_DROP_SLOTS + p] = off;
                y = graph_scale_n(g, y, off);
            }
            xs[k] = y;
        }
        st[2 + i] = graph_mix(g, xs, aidx, 2);
        relu[2 + i] = -1;
    }
    return graph_concat(g, st + 2, DARTS_STEPS);
}

/* AuxiliaryHeadCIFAR: ReLU, AvgPool 5/3 (no padding), conv 1x1 -> 128, BN, ReLU,
 * conv 2x2 -> 768, BN, ReLU, Linear(768 * h * w -> classes) */
static int aux_head(bld *b, int x, int classes) {
    fn_graph *g = b->g;
    if (g->t[x].h < 5 || g->t[x].w < 5) {
        snprintf(b->err, b->errlen, "auxiliary head: input %dx%d is smaller than its 5x5 pool",
                 g->t[x].h, g->t[x].w);
        b->failed = 1;
        return x;
    }
    int y = graph_avgpool(g, graph_relu(g, x), 5, 3, 0);
    if (g->t[y].h < 2 || g->t[y].w < 2) {
        snprintf(b->err, b->errlen, "auxiliary head: pooled size %dx%d is below its 2x2 conv",
                 g->t[y].h, g->t[y].w);
        b->failed = 1;
        return x;
    }
    y = conv(b, "auxiliary_head.features.2", y, 128, 1, 1, 0, 1, 1);
    y = graph_relu(g, graph_bn(g, "auxiliary_head.features.3", y, 1));
    y = conv(b, "auxiliary_head.features.5", y, 768, 2, 1, 0, 1, 1);
    y = graph_relu(g, graph_bn(g, "auxiliary_head.features.6", y, 1));
    return graph_linear(g, "auxiliary_head.classifier", y, classes);
}

int train_darts_net_build(train_net *net, const darts_genotype *gt, const train_darts_config *c,
                          char *err, size_t errlen) {
    memset(net, 0, sizeof(*net));
    /* the shape and genotype checks of the evaluation net without the head (spaces/darts.c) */
    {
        fn_graph probe;
        graph_init(&probe);
        darts_eval_config ec = {c->C, c->layers, c->classes, c->h, c->w, 0, 1};
        int rc = darts_eval_build(&probe, gt, &ec, err, errlen);
        graph_free(&probe);
        if (rc) return -1;
    }
    fn_graph *g = &net->g;
    graph_init(g);
    net->classes = c->classes;
    net->aux = c->auxiliary;
    net->batch = c->batch;
    int drop_group = -1;
    if (c->drop_path) {
        net->cells = c->layers;
        net->drop_off = mallocCheck(sizeof(int) * (size_t)c->layers * TRAIN_DROP_SLOTS);
        for (int i = 0; i < c->layers * TRAIN_DROP_SLOTS; i++) net->drop_off[i] = -1;
        drop_group = graph_alpha_group(g, "drop_path", c->layers * TRAIN_DROP_SLOTS, c->batch);
    }
    bld b = {g, err, errlen, 0};
    int x = graph_input(g, c->batch, 3, c->h, c->w);
    int s = graph_bn(g, "stem.1", conv(&b, "stem.0", x, 3 * c->C, 3, 1, 1, 1, 1), 1);
    int s0 = s, s1 = s, C = c->C, reduction_prev = 0, aux = -1;
    for (int i = 0; i < c->layers && !b.failed; i++) {
        const int reduction = i == c->layers / 3 || i == 2 * c->layers / 3;
        if (reduction) C *= 2;
        int out = cell_build(&b, net, i, s0, s1, C, reduction, reduction_prev,
                             gt->op[reduction], gt->in[reduction], drop_group);
        reduction_prev = reduction;
        s0 = s1;
        s1 = out;
        if (c->auxiliary && i == 2 * c->layers / 3) aux = aux_head(&b, s1, c->classes);
    }
    if (b.failed) {
        train_net_free(net);
        return -1;
    }
    int logits = graph_linear(g, "classifier", graph_gap(g, s1), c->classes);
    if (aux >= 0) {
        int xs[2] = {logits, aux};
        g->output = graph_concat(g, xs, 2);
    } else {
        g->output = logits;
    }
    return 0;
}

int train_nb201_net_build(train_net *net, const int ops[6], int C, int N, int classes, int hw,
                          int batch, char *err, size_t errlen) {
    memset(net, 0, sizeof(*net));
    if (C < 1 || N < 1 || classes < 1 || hw < 4 || hw % 4 || batch < 1) {
        snprintf(err, errlen, "nb201 network: impossible shape (C=%d, N=%d, classes=%d, input "
                 "%dx%d must be a multiple of 4, batch %d)", C, N, classes, hw, hw, batch);
        return -1;
    }
    graph_init(&net->g);
    nb201_config cfg = {C, N, classes, hw, hw, batch, 0}; /* cells as NB201 trains them (no conv bias) */
    nb201_net_build(&net->g, &cfg, ops);
    net->classes = classes;
    net->batch = batch;
    return 0;
}

void train_net_free(train_net *net) {
    graph_free(&net->g);
    free(net->drop_off);
    memset(net, 0, sizeof(*net));
}
