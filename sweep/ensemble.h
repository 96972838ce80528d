/* sweep/ensemble.h: ensemble pruning over the jobs of a sweep (configs/README.md, ensembles).
 *
 * Per job, the op scores S (all alpha entries) are normalised: z-score ((s - mean) / std over
 * the job's entries; all zero when std = 0) or rank (average rank of ties, scaled to [0, 1]).
 * Each rank adds the normalised scores of the jobs it ran into its accumulator, in 2^-32 fixed
 * point (int64), so the reduction across ranks (mpi/reduce.c: NCCL or MPI_Allreduce) is exact
 * and independent of the order: 1 and N ranks, and a resumed sweep, give bit-identical
 * combined scores. Rank 0 then prunes each group's mean score with the space's own rule. */
#ifndef FN_SWEEP_ENSEMBLE_H
#define FN_SWEEP_ENSEMBLE_H

#include <stdint.h>

#include "nasbench/nb201_benchmark.h"
#include "sweep/plan.h"

#define ENS_FIX_SHIFT 32
#define ENS_STRIDE (3 + FN_MAX_ALPHA)   /* per group: count, sum of rows, sum of cols, S */

typedef struct {
    long offset[SWEEP_MAX_ENSEMBLES];   /* first int64 of each ensemble in buf */
    long n;                             /* int64 entries in buf */
    int64_t *buf;
} sweep_ens_acc;

void sweep_ens_acc_init(sweep_ens_acc *a, const sweep_config *c, const sweep_plan *p);
void sweep_ens_acc_free(sweep_ens_acc *a);
/* Adds job j's scores (rows x cols) to every ensemble group it belongs to. 0, or -1 (nothing
 * added) when rows x cols is not the layout of j's space (space_layout, search/space.h) or a
 * score is not finite. */
int sweep_ens_acc_add(sweep_ens_acc *a, const sweep_config *c, const sweep_plan *p, long j,
                const double *S, int rows, int cols);
/* Normalised scores of one job (exposed for tests). */
void sweep_ens_normalise(sweep_norm norm, const double *S, int n, double *out);

/* Rank 0, after the reduction: prunes every group, writes DIR/ensembles.jsonl and prints a
 * table to stdout. 0, or -1 with a message. */
int sweep_ens_finish(const sweep_ens_acc *a, const sweep_config *c, const sweep_plan *p,
               const nb201_benchmark *bench, const char *dir, char *err, size_t errlen);

#endif
