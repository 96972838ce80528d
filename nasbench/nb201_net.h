/* nasbench/nb201_net.h: NAS-Bench-201 *benchmark* networks, the trained-cell networks the NB201
 * ground truth was measured on (AD `TinyNetwork` with `InferCell`; docs/METHOD.md §1.1, §1.3), for
 * any of the 5^6 architectures, plus their parameter count and FLOPs in closed form.
 *
 * Skeleton (§1.1, the supernet's: nb201_build_skeleton in spaces/nb201.h): stem Conv3x3(3->C) +
 * BN; 3 stages of N cells (C, 2C, 4C) separated by stride-2 ResNet blocks; head BN, ReLU,
 * global average pool, Linear(4C -> classes, with bias). Cell (§1.2, §1.3): node i = sum over j < i of op[e(i,j)](node j), output
 * node 3; nor_conv_kxk = ReLU, Conv (no bias), BN(affine=True: the trained cells, §1.3);
 * skip_connect = identity; avg_pool_3x3 = AvgPool 3x3/1 pad 1 without padding in the count;
 * `none` contributes nothing. Each conv edge has its own ReLU, one graph node per PyTorch
 * module (NASWOT hooks every ReLU module, docs/METHOD.md §3.7). A node whose incoming edges are all
 * `none` is a zero tensor (graph_zero): PyTorch computes x.mul(0), the same values; the ops
 * leaving it still run (on zeros) and count in parameters and FLOPs, as in AD's network.
 * The BNs of the two ResNet blocks are marked zc_keep_bn, so an executor with bn_mode
 * FN_BN_OFF is ZC's BN-free copy (docs/METHOD.md §3.0, §3.3).
 * cfg->cell_conv_bias = 1 builds ZC's NAS201Model instead, the network HNAS scores (§4.2): the
 * same skeleton, cells ReLU, Conv WITH bias, BN affine=False (graph_conv_bn_bias: the bias is
 * a counted parameter that train-mode BN cancels; use only with FN_BN_TRAIN). Its parameter
 * count is nb201_net_params (the ops that run) or nb201_net_params_zc_module (every module).
 *
 * FLOPs follow AD's get_model_infos (xautodl/utils/flop_benchmark.py), which NB201's "FLOPs"
 * column and FD's logs use: multiply-accumulates (one per multiply-add, not 2) of every conv
 * and linear layer plus one addition per output element of a layer with bias (the classifier),
 * at batch 1; pooling, BN and ReLU are not counted. For docs/METHOD.md §1.4's example this is
 * 125,747,850, logged as "125.75 M". */
#ifndef FN_NB201_NET_H
#define FN_NB201_NET_H

#include <stddef.h>

#include "engine/exec.h"
#include "spaces/nb201.h"
#include "nasbench/nb201_benchmark.h"

/* Builds the benchmark network of ops[6] (op indices, nb201_op_names order) into an empty
 * graph: cfg->C (16), cfg->N (5), cfg->classes (10/100/120), cfg->h = cfg->w (32 or 16; a
 * multiple of 4), cfg->batch. No alpha. Parameter names: stem.conv, cell<k>.edge<e>.<op>.conv,
 * res<r>.a.conv, ..., classifier.weight. */
void nb201_net_build(fn_graph *g, const nb201_config *cfg, const int ops[NB201_EDGES]);

/* Parameters of the network (BN affine weights and the classifier bias included): equal to
 * graph_num_params of nb201_net_build. */
size_t nb201_net_params(const nb201_config *cfg, const int ops[NB201_EDGES]);
/* ZC NAS201Model's sum(p.numel() for p in model.parameters()) (cell_conv_bias form): its cells
 * hold every op of every edge whatever the architecture, 1,692,826 for CIFAR-10 (C 16, N 5). */
size_t nb201_net_params_zc_module(const nb201_config *cfg);
/* FLOPs in AD's convention (see above), batch 1. */
double nb201_net_flops(const nb201_config *cfg, const int ops[NB201_EDGES]);

/* Inverse of nb201_arch_code: ops of code 0..15624. */
void nb201_arch_from_code(int code, int ops[NB201_EDGES]);
/* ops of the official NB201 index (0..15624) in the loaded table; 0, or -1 when absent. */
int nb201_net_ops_from_index(const nb201_benchmark *b, int index, int ops[NB201_EDGES]);
/* Official index of ops in the table, or -1. */
int nb201_net_index(const nb201_benchmark *b, const int ops[NB201_EDGES]);
/* An architecture given as an arch string, or as a decimal official index when b is given.
 * 0, or -1 with a message. */
int nb201_net_resolve(const char *arch, const nb201_benchmark *b, int ops[NB201_EDGES], char *err,
                      size_t errlen);

#endif
