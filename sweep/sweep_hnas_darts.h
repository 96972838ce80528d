/* sweep/sweep_hnas_darts.h: one HNAS search on the DARTS space over every rank of freenas_sweep
 * (kind hnas, space darts; hnas/darts_bo.h for the algorithm, sweep/hnas_darts.h for its
 * files). Called by every rank, for each such job of the plan that has no ok record, before
 * the ordinary jobs run; the job of the plan then turns the finished search into its record.
 * Deterministic for one rank (the sequential algorithm, bit for bit); for R ranks a
 * deterministic function of the order in which evaluations finish (hnas/darts_bo.h). */
#ifndef FN_SWEEP_SWEEP_HNAS_DARTS_H
#define FN_SWEEP_SWEEP_HNAS_DARTS_H

#include <mpi.h>
#include <stdint.h>

#include "mpi/coordinator.h"
#include "sweep/plan.h"

enum {
    SWEEP_HNAS_DARTS_OK = 0,          /* every step recorded */
    SWEEP_HNAS_DARTS_ERROR = 1,       /* data, pool, cache or an evaluation failed (printed);
                                         the job's record says the search is incomplete */
    SWEEP_HNAS_DARTS_INTERRUPTED = 2, /* a signal: the running evaluations finished and are
                                         recorded; rerun to resume */
};

/* Same value on every rank. */
int sweep_hnas_darts_search(MPI_Comm comm, const sweep_config *c, const sweep_params *p,
                            uint64_t job_id, int threads, int quiet);

#endif
