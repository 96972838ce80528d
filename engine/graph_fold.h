/* engine/graph_fold.h: BN gradient sums folded into the mix that reads the BN (CPU backend).
 *
 * Most search ops end in a non-affine train-mode BN whose output y = x_hat only a mix reads
 * (y -> alpha_j y). Unfolded, the mix writes d y = alpha_j d out, the BN reads it twice (its
 * sums over d y and d y x_hat, then d x) and the mix reads y once more for d alpha_j =
 * <d out, y>. Folded, the mix computes per channel S1 = sum d out and S2 = sum d out x_hat
 * (one pass over d out and y, no d y written); d alpha_j is the sum of S2 over the channels;
 * the BN's backward reads d out and writes d x = invstd (alpha_j d out - alpha_j S1 / m -
 * x_hat alpha_j S2 / m), m = n h w. The same numbers up to rounding: alpha_j S1 for the sum
 * of the rounded products alpha_j d out, and d alpha_j summed by channel instead of in the
 * mix's blocked lanes (float64: 1e-12 relative, tests/test_fold_bn.c). Still bit-identical
 * for any thread count: every channel's sums run in one thread, images in order.
 *
 * A tensor folds when a BN node produces it, non-affine, and its one use is one input of a
 * mix with an alpha. Whether a pass folds is decided per backward (graph_backward_start):
 * not while a backward hook or a tangent hook may read the skipped d y, and never in the
 * exact Hessian-vector product's pass (graph_backward_tangent), whose tangents read every
 * d y: its d alpha equals exec_backward's to rounding, not bit for bit. Nor do passes in a
 * BN mode other than train. Folded passes use their own gradient layout (exec.h:
 * FN_LAYOUT_FOLD): no slot for a folded d y, the mix's output gradient kept until its BNs ran.
 * FREENAS_FOLD_BN=0 turns folding off (A/B runs, tests). */
#ifndef FN_GRAPH_FOLD_H
#define FN_GRAPH_FOLD_H

#include <stddef.h>

#include "engine/graph.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Per tensor t; bn < 0: t does not fold. */
typedef struct {
    int bn;     /* the BN node that produces t */
    int mix;    /* the mix node that reads t */
    int pos;    /* t is input pos of that mix */
    size_t off; /* S1, S2 of channel ch at fold_sums[off + 2 ch], [off + 2 ch + 1] */
} fn_fold;

/* fold[nt] for graph g with the executor's needs_grad; returns the number of doubles of
 * per-channel sums they need (0: nothing folds). */
size_t graph_fold_find(const fn_graph *g, const unsigned char *needs_grad, fn_fold *fold);

/* Run-time switch, read from FREENAS_FOLD_BN (default on) when an executor is first made;
 * graph_fold_switch: -1 not yet read, 0 off, 1 on (tests and benchmarks may set it before
 * exec_init; each executor keeps what it found). */
extern int graph_fold_switch;
int graph_fold_enabled(void);

#ifdef __cplusplus
}
#endif

#endif
