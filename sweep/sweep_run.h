/* sweep/sweep_run.h: the sweep's side of the coordinator (mpi/coordinator.h): a work item is a
 * plan index; running one is sweep_job_run plus the rank's ensemble contribution; rank 0
 * appends each record to results.jsonl, absorbs it into the job states, syncs once per
 * round (group commit) and prints progress. Part of the freenas_sweep program. */
#ifndef FN_SWEEP_RUN_H
#define FN_SWEEP_RUN_H

#include <mpi.h>

#include "mpi/coordinator.h"
#include "sweep/ensemble.h"
#include "sweep/job.h"
#include "sweep/records.h"

typedef struct {
    const sweep_config *c;
    const sweep_plan *p;
    const sweep_worker *w;     /* this rank */
    sweep_ens_acc *acc;        /* this rank's ensemble contribution */
    /* rank 0 only */
    sweep_records *rec;
    sweep_job_state *st;
    const long *todo;          /* plan indices still to run, in plan order */
    long ntodo;
    long ndone_before;         /* jobs ok before this run */
    int quiet;
} sweep_run_ctx;

/* Runs the todo jobs over the ranks of comm (coord_run); every rank calls it. */
void sweep_run_jobs(MPI_Comm comm, const sweep_run_ctx *x, coord_stats *out);

#endif
