/* spaces/darts.c: DARTS search supernets, genotype derivation and text forms, and evaluation
 * networks (see spaces/darts.h; docs/METHOD.md §2).
 *
 * Work shared between edges: every op that starts with a ReLU (sep, dil, FactorizedReduce)
 * reads the one ReLU of its source state; the pool + BN(affine off) of a state and the two
 * strided subsamples feeding FactorizedReduce are built once per state. A state feeds its
 * edges with one stride inside a cell (stride 2 only for inputs 0, 1 of a reduction cell),
 * so these shared tensors hold exactly the values per-edge copies would. */
#include "spaces/darts.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "base/common.h"

const char *const darts_op_names[DARTS_OPS] = {"none",         "max_pool_3x3", "avg_pool_3x3",
                                               "skip_connect", "sep_conv_3x3", "sep_conv_5x5",
                                               "dil_conv_3x3", "dil_conv_5x5"};

/* --------------------------------------------------------------- shared building blocks */

typedef struct {
    fn_graph *g;
    int affine;       /* BN affine in op blocks (evaluation net) or not (search net) */
    int pool_bn;      /* search net: BN(affine off) after each pool */
    char *err;
    size_t errlen;
    int failed;
} builder;

/* Per-state tensors built on first use (-1 = not yet). */
typedef struct {
    int x, relu, maxp, avgp, sub[2];
} state_cache;

static void state_init(state_cache *s, int x) {
    s->x = x;
    s->relu = s->maxp = s->avgp = s->sub[0] = s->sub[1] = -1;
}

static int relu_of(builder *b, state_cache *s) {
    if (s->relu < 0) s->relu = graph_relu(b->g, s->x);
    return s->relu;
}

static int conv_bn(builder *b, const char *name, int x, int cout, int k, int stride, int pad,
                   int dil, int groups, const char *conv, const char *bn) {
    char cn[2 * FN_NAME_LEN], bnn[2 * FN_NAME_LEN];
    snprintf(cn, sizeof cn, "%s.%s", name, conv);
    snprintf(bnn, sizeof bnn, "%s.%s", name, bn);
    return graph_bn(b->g, bnn, graph_conv(b->g, cn, x, cout, k, stride, pad, dil, groups),
                    b->affine);
}

/* FactorizedReduce (DARTS operations.py) on an already-ReLU'd state: conv1x1/2 of x and of x
 * shifted by one pixel, each C/2 channels, concatenated, BN. The stride-2 1x1 convs are built
 * as subsample + pointwise conv (same values; the pointwise conv needs no im2col). */
static int factorized_reduce(builder *b, const char *name, state_cache *s, int cout) {
    fn_graph *g = b->g;
    /* the sizes, not a pointer into g->t: adding nodes reallocs g->t */
    const int h = g->t[s->x].h, w = g->t[s->x].w;
    if (h % 2 || w % 2 || cout % 2) {
        snprintf(b->err, b->errlen, "%s: FactorizedReduce needs even sizes (input %dx%d, %d "
                 "channels): choose a resolution divisible by 4 (CIFAR stem) or 32 (ImageNet stems)",
                 name, h, w, cout);
        b->failed = 1;
    }
    int r = relu_of(b, s);
    int xs[2];
    for (int k = 0; k < 2; k++) {
        if (s->sub[k] < 0) s->sub[k] = graph_subsample(g, r, k, 2, h / 2, w / 2);
        char cn[2 * FN_NAME_LEN];
        snprintf(cn, sizeof cn, "%s.c%d", name, k + 1);
        xs[k] = graph_conv(g, cn, s->sub[k], cout / 2, 1, 1, 0, 1, 1);
    }
    char bn[2 * FN_NAME_LEN];
    snprintf(bn, sizeof bn, "%s.bn", name);
    return graph_bn(g, bn, graph_concat(g, xs, 2), b->affine);
}

/* ReLU, Conv1x1, BN: preprocess of a cell input (DARTS ReLUConvBN). */
static int relu_conv_bn(builder *b, const char *name, int x, int cout) {
    return conv_bn(b, name, graph_relu(b->g, x), cout, 1, 1, 0, 1, 1, "conv", "bn");
}

/* One candidate operation on state s with the given stride; returns the output tensor, or -1
 * for `none` (contributes nothing: 0 * x). */
static int darts_op(builder *b, const char *prefix, int op, state_cache *s, int C, int stride) {
    fn_graph *g = b->g;
    char name[FN_NAME_LEN];
    FN_ASSERT(snprintf(name, sizeof name, "%s.%s", prefix, darts_op_names[op]) < FN_NAME_LEN);
    switch (op) {
    case DARTS_NONE: return -1;
    case DARTS_MAX_POOL_3X3:
    case DARTS_AVG_POOL_3X3: {
        int *slot = op == DARTS_MAX_POOL_3X3 ? &s->maxp : &s->avgp;
        if (*slot < 0) {
            int p = op == DARTS_MAX_POOL_3X3 ? graph_maxpool(g, s->x, 3, stride, 1)
                                             : graph_avgpool(g, s->x, 3, stride, 1);
            *slot = b->pool_bn ? graph_bn(g, name, p, 0) : p; /* search net: BN(affine off) */
        }
        return *slot;
    }
    case DARTS_SKIP_CONNECT:
        return stride == 1 ? s->x : factorized_reduce(b, name, s, C);
    case DARTS_SEP_CONV_3X3:
    case DARTS_SEP_CONV_5X5: {
        const int k = op == DARTS_SEP_CONV_3X3 ? 3 : 5, pad = k / 2;
        char cn[2 * FN_NAME_LEN];
        snprintf(cn, sizeof cn, "%s.dw1", name);
        int y = graph_conv(g, cn, relu_of(b, s), C, k, stride, pad, 1, C);
        y = conv_bn(b, name, y, C, 1, 1, 0, 1, 1, "pw1", "bn1");
        snprintf(cn, sizeof cn, "%s.dw2", name);
        y = graph_conv(g, cn, graph_relu(g, y), C, k, 1, pad, 1, C);
        return conv_bn(b, name, y, C, 1, 1, 0, 1, 1, "pw2", "bn2");
    }
    case DARTS_DIL_CONV_3X3:
    case DARTS_DIL_CONV_5X5: {
        const int k = op == DARTS_DIL_CONV_3X3 ? 3 : 5, pad = k - 1;
        char cn[2 * FN_NAME_LEN];
        snprintf(cn, sizeof cn, "%s.dw", name);
        int y = graph_conv(g, cn, relu_of(b, s), C, k, stride, pad, 2, C);
        return conv_bn(b, name, y, C, 1, 1, 0, 1, 1, "pw", "bn");
    }
    }
    FN_ASSERT(0);
    return -1;
}

/* Preprocessing of the two cell inputs (§2.2). */
static void preprocess(builder *b, int cell, int s0, int s1, int C, int reduction_prev,
                       state_cache st[2 + DARTS_STEPS]) {
    char name[FN_NAME_LEN];
    snprintf(name, sizeof name, "cell%d.pre0", cell);
    if (reduction_prev) {
        state_cache in;
        state_init(&in, s0);
        state_init(&st[0], factorized_reduce(b, name, &in, C));
    } else {
        state_init(&st[0], relu_conv_bn(b, name, s0, C));
    }
    snprintf(name, sizeof name, "cell%d.pre1", cell);
    state_init(&st[1], relu_conv_bn(b, name, s1, C));
}

static int concat_nodes(fn_graph *g, state_cache st[2 + DARTS_STEPS]) {
    int xs[DARTS_STEPS];
    for (int i = 0; i < DARTS_STEPS; i++) xs[i] = st[2 + i].x;
    return graph_concat(g, xs, DARTS_STEPS);
}

/* Search cell: all ops on all 14 edges, mixed with alpha (group offset alpha_off). */
static int search_cell(builder *b, int cell, int s0, int s1, int C, int reduction,
                       int reduction_prev, int alpha_off) {
    state_cache st[2 + DARTS_STEPS];
    preprocess(b, cell, s0, s1, C, reduction_prev, st);
    int e = 0;
    for (int i = 0; i < DARTS_STEPS; i++) {
        int xs[FN_MAX_IN], aidx[FN_MAX_IN], m = 0;
        for (int j = 0; j < i + 2; j++, e++) {
            const int stride = reduction && j < 2 ? 2 : 1;
            char prefix[FN_NAME_LEN];
            snprintf(prefix, sizeof prefix, "cell%d.edge%d", cell, e);
            for (int op = 0; op < DARTS_OPS; op++) {
                int y = darts_op(b, prefix, op, &st[j], C, stride);
                if (y < 0) continue; /* none: zero output, zero gradient (§3.11) */
                FN_ASSERT(m < FN_MAX_IN);
                xs[m] = y;
                aidx[m++] = alpha_off + e * DARTS_OPS + op;
            }
        }
        state_init(&st[2 + i], graph_mix(b->g, xs, aidx, m));
    }
    return concat_nodes(b->g, st);
}

/* Evaluation cell of a genotype: node i = op(in[2i]) + op(in[2i+1]). */
static int eval_cell(builder *b, int cell, int s0, int s1, int C, int reduction,
                     int reduction_prev, const int *ops, const int *ins) {
    state_cache st[2 + DARTS_STEPS];
    preprocess(b, cell, s0, s1, C, reduction_prev, st);
    for (int i = 0; i < DARTS_STEPS; i++) {
        int xs[2], aidx[2] = {-1, -1};
        for (int k = 0; k < 2; k++) {
            const int p = 2 * i + k, j = ins[p];
            char prefix[FN_NAME_LEN];
            snprintf(prefix, sizeof prefix, "cell%d.node%d.op%d", cell, i, k);
            xs[k] = darts_op(b, prefix, ops[p], &st[j], C, reduction && j < 2 ? 2 : 1);
        }
        state_init(&st[2 + i], graph_mix(b->g, xs, aidx, 2));
    }
    return concat_nodes(b->g, st);
}

/* Stems; sets s0, s1 and their channel counts. */
static void stems(builder *b, int x, int imagenet, int cs, int *s0, int *s1) {
    fn_graph *g = b->g;
    if (!imagenet) {
        *s0 = *s1 = graph_bn(g, "stem.bn", graph_conv(g, "stem.conv", x, cs, 3, 1, 1, 1, 1), 1);
        return;
    }
    int t = graph_bn(g, "stem0.bn1", graph_conv(g, "stem0.conv1", x, cs / 2, 3, 2, 1, 1, 1), 1);
    t = graph_conv(g, "stem0.conv2", graph_relu(g, t), cs, 3, 2, 1, 1, 1);
    *s0 = graph_bn(g, "stem0.bn2", t, 1);
    t = graph_conv(g, "stem1.conv", graph_relu(g, *s0), cs, 3, 2, 1, 1, 1);
    *s1 = graph_bn(g, "stem1.bn", t, 1);
}

/* Follows one spatial side through stems and cells: every FactorizedReduce (after a reduction
 * cell, and the skip of a reduction cell) needs an even input, and the two preprocessed
 * inputs of a cell must agree. Returns the offending cell, or -1 when all sizes work. */
static int bad_side(int side, int layers, int imagenet) {
    int s0 = side, s1 = side, reduction_prev = imagenet;
    if (imagenet) {
        /* two 3x3 stride-2 pad-1 convs, ceil(side/2) each, then stem1 halves again */
        s0 = ((side + 1) / 2 + 1) / 2;
        s1 = (s0 + 1) / 2;
    }
    for (int i = 0; i < layers; i++) {
        const int reduction = (i == layers / 3 || i == 2 * layers / 3);
        if (reduction_prev && (s0 % 2 || s0 / 2 != s1)) return i;
        if (reduction && s1 % 2) return i;
        const int out = reduction ? s1 / 2 : s1;
        reduction_prev = reduction;
        s0 = s1;
        s1 = out;
    }
    return -1;
}

static int check_config(int C, int layers, int classes, int h, int w, int imagenet, int batch,
                        char *err, size_t errlen) {
    if (C <= 0 || C % 2 || layers < 1 || classes < 1 || h < 8 || w < 8 || batch < 1) {
        snprintf(err, errlen, "darts: impossible network (C=%d must be even and positive, "
                 "cells=%d, classes=%d, input %dx%d, batch %d)", C, layers, classes, h, w, batch);
        return -1;
    }
    int cell = bad_side(h, layers, imagenet);
    if (cell < 0) cell = bad_side(w, layers, imagenet);
    if (cell >= 0) {
        snprintf(err, errlen, "darts: input %dx%d gives an odd size at the FactorizedReduce of "
                 "cell %d; FactorizedReduce needs even sizes: choose a resolution divisible by 4 "
                 "(CIFAR stem) or 32 (ImageNet stems)", h, w, cell);
        return -1;
    }
    return 0;
}

/* The macro skeleton shared by search and evaluation nets (§2.3); `cell_fn` builds one cell. */
typedef int (*cell_builder)(builder *b, int cell, int s0, int s1, int C, int reduction,
                            int reduction_prev, const void *arg);

static int network(builder *b, int C0, int layers, int classes, int h, int w, int imagenet,
                   int batch, int stem_mult, cell_builder cell_fn, const void *arg) {
    fn_graph *g = b->g;
    int x = graph_input(g, batch, 3, h, w);
    int s0, s1;
    stems(b, x, imagenet, stem_mult * C0, &s0, &s1);
    int C = C0, reduction_prev = imagenet;
    for (int i = 0; i < layers; i++) {
        const int reduction = (i == layers / 3 || i == 2 * layers / 3);
        if (reduction) C *= 2;
        int out = cell_fn(b, i, s0, s1, C, reduction, reduction_prev, arg);
        reduction_prev = reduction;
        s0 = s1;
        s1 = out;
        if (b->failed) return -1;
    }
    g->output = graph_linear(g, "classifier", graph_gap(g, s1), classes);
    return 0;
}

static int search_cell_fn(builder *b, int cell, int s0, int s1, int C, int reduction,
                          int reduction_prev, const void *arg) {
    const int *alpha_off = arg;
    return search_cell(b, cell, s0, s1, C, reduction, reduction_prev, alpha_off[reduction]);
}

int darts_build(fn_graph *g, const darts_config *c, char *err, size_t errlen) {
    if (check_config(c->C, c->layers, c->classes, c->h, c->w, c->imagenet, c->batch, err, errlen))
        return -1;
    int alpha_off[2];
    alpha_off[0] = graph_alpha_group(g, "alpha_normal", DARTS_EDGES, DARTS_OPS);
    alpha_off[1] = graph_alpha_group(g, "alpha_reduce", DARTS_EDGES, DARTS_OPS);
    builder b = {g, 0, 1, err, errlen, 0};
    /* stem multiplier 3 in both search nets (FD model_search_imagenet.py keeps it) */
    return network(&b, c->C, c->layers, c->classes, c->h, c->w, c->imagenet, c->batch, 3,
                   search_cell_fn, alpha_off);
}

static int eval_cell_fn(builder *b, int cell, int s0, int s1, int C, int reduction,
                        int reduction_prev, const void *arg) {
    const darts_genotype *gt = arg;
    return eval_cell(b, cell, s0, s1, C, reduction, reduction_prev, gt->op[reduction],
                     gt->in[reduction]);
}

int darts_eval_build(fn_graph *g, const darts_genotype *gt, const darts_eval_config *c, char *err,
                     size_t errlen) {
    if (check_config(c->C, c->layers, c->classes, c->h, c->w, c->imagenet, c->batch, err, errlen))
        return -1;
    for (int t = 0; t < 2; t++)
        for (int p = 0; p < 2 * DARTS_STEPS; p++)
            if (gt->op[t][p] <= DARTS_NONE || gt->op[t][p] >= DARTS_OPS || gt->in[t][p] < 0 ||
                gt->in[t][p] >= 2 + p / 2) {
                snprintf(err, errlen, "genotype %s pair %d: op %d on input %d is not buildable "
                         "(`none` or input out of range)", t ? "reduce" : "normal", p,
                         gt->op[t][p], gt->in[t][p]);
                return -1;
            }
    builder b = {g, 1, 0, err, errlen, 0};
    /* DARTS model.py: stem multiplier 3 on CIFAR; the ImageNet stems end at C */
    return network(&b, c->C, c->layers, c->classes, c->h, c->w, c->imagenet, c->batch,
                   c->imagenet ? 1 : 3, eval_cell_fn, gt);
}

/* ------------------------------------------------------------------- derivation (§2.4) */

int darts_derive_cell(const double *W, int op[2 * DARTS_STEPS], int in[2 * DARTS_STEPS],
                      int *bad_e, int *bad_o) {
    long bad = fn_first_nonfinite(W, DARTS_EDGES * DARTS_OPS);
    if (bad >= 0) {
        if (bad_e) *bad_e = (int)bad / DARTS_OPS;
        if (bad_o) *bad_o = (int)bad % DARTS_OPS;
        return -1;
    }
    int start = 0;
    for (int i = 0; i < DARTS_STEPS; i++) {
        const int n = i + 2;
        double strength[DARTS_STEPS + 2];
        int best_op[DARTS_STEPS + 2], order[DARTS_STEPS + 2];
        for (int j = 0; j < n; j++) {
            const double *row = W + (size_t)(start + j) * DARTS_OPS;
            int kb = -1;
            for (int o = 0; o < DARTS_OPS; o++)
                if (o != DARTS_NONE && (kb < 0 || row[o] > row[kb])) kb = o; /* strict >: first */
            best_op[j] = kb;
            strength[j] = row[kb];
            order[j] = j;
        }
        /* stable insertion sort by decreasing strength: ties keep the lower j first */
        for (int a = 1; a < n; a++)
            for (int k = a; k > 0 && strength[order[k]] > strength[order[k - 1]]; k--) {
                int t = order[k];
                order[k] = order[k - 1];
                order[k - 1] = t;
            }
        for (int k = 0; k < 2; k++) {
            in[2 * i + k] = order[k];
            op[2 * i + k] = best_op[order[k]];
        }
        start += n;
    }
    return 0;
}

int darts_derive(const double *S, darts_genotype *gt, int *bad_cell, int *bad_e, int *bad_o) {
    for (int t = 0; t < 2; t++)
        if (darts_derive_cell(S + (size_t)t * DARTS_EDGES * DARTS_OPS, gt->op[t], gt->in[t], bad_e,
                              bad_o)) {
            if (bad_cell) *bad_cell = t;
            return -1;
        }
    return 0;
}

void darts_genotype_op_counts(const darts_genotype *gt, int counts[2][DARTS_OPS]) {
    memset(counts, 0, sizeof(int) * 2 * DARTS_OPS);
    for (int t = 0; t < 2; t++)
        for (int p = 0; p < 2 * DARTS_STEPS; p++) counts[t][gt->op[t][p]]++;
}

/* ----------------------------------------------------------------------- text forms */

#define APPEND(...) n += (size_t)snprintf(buf + (n < len ? n : len), n < len ? len - n : 0, __VA_ARGS__)

int darts_genotype_string(const darts_genotype *gt, char *buf, size_t len) {
    size_t n = 0;
    static const char *const cell_name[2] = {"normal", "reduce"};
    APPEND("Genotype(");
    for (int t = 0; t < 2; t++) {
        APPEND("%s%s=[", t ? ", " : "", cell_name[t]);
        for (int p = 0; p < 2 * DARTS_STEPS; p++)
            APPEND("%s('%s', %d)", p ? ", " : "", darts_op_names[gt->op[t][p]], gt->in[t][p]);
        APPEND("], %s_concat=[2, 3, 4, 5]", cell_name[t]);
    }
    APPEND(")");
    return (int)n;
}

int darts_genotype_json(const darts_genotype *gt, char *buf, size_t len) {
    size_t n = 0;
    static const char *const cell_name[2] = {"normal", "reduce"};
    APPEND("{");
    for (int t = 0; t < 2; t++) {
        APPEND("%s\"%s\": [", t ? ", " : "", cell_name[t]);
        for (int p = 0; p < 2 * DARTS_STEPS; p++)
            APPEND("%s[\"%s\", %d]", p ? ", " : "", darts_op_names[gt->op[t][p]], gt->in[t][p]);
        APPEND("], \"%s_concat\": [2, 3, 4, 5]", cell_name[t]);
    }
    APPEND("}");
    return (int)n;
}

/* A tiny cursor parser for the Genotype string. */
typedef struct {
    const char *s;
    char *err;
    size_t errlen;
} cursor;

static void skip_ws(cursor *c) {
    while (isspace((unsigned char)*c->s)) c->s++;
}

static int expect(cursor *c, const char *tok) {
    skip_ws(c);
    size_t l = strlen(tok);
    if (strncmp(c->s, tok, l) != 0) {
        snprintf(c->err, c->errlen, "genotype: expected \"%s\" at \"%.20s\"", tok, c->s);
        return -1;
    }
    c->s += l;
    return 0;
}

static int parse_int(cursor *c, int *v) {
    skip_ws(c);
    char *end;
    errno = 0;
    long x = strtol(c->s, &end, 10);
    if (end == c->s || errno == ERANGE || x < INT_MIN || x > INT_MAX) {
        /* out of range: (int)4294967298 was 2, a valid input */
        snprintf(c->err, c->errlen, "genotype: expected an integer at \"%.20s\"", c->s);
        return -1;
    }
    *v = (int)x;
    c->s = end;
    return 0;
}

static int parse_pairs(cursor *c, const char *key, int *op, int *in) {
    if (expect(c, key) || expect(c, "=") || expect(c, "[")) return -1;
    for (int p = 0; p < 2 * DARTS_STEPS; p++) {
        if (p && expect(c, ",")) return -1;
        if (expect(c, "(")) return -1;
        skip_ws(c);
        const char q = *c->s;
        if (q != '\'' && q != '"') return expect(c, "'");
        c->s++;
        op[p] = -1;
        for (int o = 0; o < DARTS_OPS; o++) {
            size_t l = strlen(darts_op_names[o]);
            if (strncmp(c->s, darts_op_names[o], l) == 0 && c->s[l] == q) {
                op[p] = o;
                c->s += l + 1;
                break;
            }
        }
        if (op[p] < 0) {
            snprintf(c->err, c->errlen, "genotype: unknown operation at \"%.24s\" (known: none, "
                     "max_pool_3x3, avg_pool_3x3, skip_connect, sep_conv_3x3, sep_conv_5x5, "
                     "dil_conv_3x3, dil_conv_5x5)", c->s);
            return -1;
        }
        if (expect(c, ",") || parse_int(c, &in[p]) || expect(c, ")")) return -1;
        if (in[p] < 0 || in[p] >= 2 + p / 2) {
            snprintf(c->err, c->errlen, "genotype: %s pair %d takes input %d, but node %d can "
                     "only read inputs 0..%d", key, p, in[p], p / 2 + 2, p / 2 + 1);
            return -1;
        }
    }
    return expect(c, "]");
}

static int parse_concat(cursor *c, const char *key) {
    if (expect(c, key) || expect(c, "=")) return -1;
    skip_ws(c);
    int a, b;
    if (strncmp(c->s, "range", 5) == 0) {
        c->s += 5;
        if (expect(c, "(") || parse_int(c, &a) || expect(c, ",") || parse_int(c, &b) ||
            expect(c, ")"))
            return -1;
        if (a != 2 || b != 6) goto bad;
        return 0;
    }
    if (expect(c, "[")) return -1;
    for (int k = 2; k < 6; k++) {
        if (k > 2 && expect(c, ",")) return -1;
        if (parse_int(c, &a)) return -1;
        if (a != k) goto bad;
    }
    return expect(c, "]");
bad:
    snprintf(c->err, c->errlen, "genotype: %s must be [2, 3, 4, 5] (all four nodes)", key);
    return -1;
}

int darts_genotype_parse(const char *s, darts_genotype *gt, char *err, size_t errlen) {
    cursor c = {s, err, errlen};
    if (expect(&c, "Genotype") || expect(&c, "(") ||
        parse_pairs(&c, "normal", gt->op[0], gt->in[0]) || expect(&c, ",") ||
        parse_concat(&c, "normal_concat") || expect(&c, ",") ||
        parse_pairs(&c, "reduce", gt->op[1], gt->in[1]) || expect(&c, ",") ||
        parse_concat(&c, "reduce_concat") || expect(&c, ")"))
        return -1;
    skip_ws(&c);
    if (*c.s) {
        snprintf(err, errlen, "genotype: unexpected text after the closing parenthesis: \"%.20s\"",
                 c.s);
        return -1;
    }
    return 0;
}
