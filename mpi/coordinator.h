/* mpi/coordinator.h: dynamic job scheduling over MPI ranks.
 *
 * Rank 0 hands jobs out one at a time: a worker's message carries its last record and asks
 * for the next job, so fast ranks take more jobs and no rank idles while work is left
 * (TACC launcher style). Rank 0 computes jobs too, in a second thread; only rank 0's main
 * thread calls MPI (MPI_THREAD_FUNNELED). Rank 0 appends every record to results.jsonl and
 * syncs once per batch of records that arrived together (group commit).
 *
 * On SIGTERM / SIGUSR1 / SIGINT (sweep_signal set by the handler) no new job starts; running
 * jobs finish and are recorded, then every rank returns with complete = 0. A 1-rank world
 * (no mpirun) works the same, rank 0's thread doing every job.
 *
 * Faults (configs/README.md, "Faults"): rank 0 times every job from the moment it hands it
 * out; past job_timeout_s it writes a `timeout` record itself and gives that rank no more
 * jobs. It knows every rank's pid and machine, and a rank on its own machine whose process
 * is gone ends the loop at once. In both cases (a rank lost, or still stuck at the end)
 * rank 0 returns without the final collective (lost_rank / stuck in coord_stats): the
 * caller ends the world with MPI_Abort. A failed append or sync of the records stops the
 * sweep (io_error); a record that could not be written is not counted as done. */
#ifndef FN_MPI_COORDINATOR_H
#define FN_MPI_COORDINATOR_H

#include <mpi.h>
#include <signal.h>
#include <stdint.h>

#include "sweep/ensemble.h"
#include "sweep/job.h"
#include "sweep/records.h"

extern volatile sig_atomic_t sweep_signal;   /* the signal that asked us to stop, or 0 */

/* freenas_sweep's exit code when a job ran past job_timeout_s (configs/README.md) */
#define COORD_EXIT_TIMEOUT 4

/* Where a rank runs: pid, host, and "BOOT_ID PID_NAMESPACE" (its pid is checkable from
 * another rank with the same machine string). */
typedef struct {
    int64_t pid;
    char host[64];
    char machine[96];
} coord_rank_id;
void coord_rank_id_self(coord_rank_id *id);

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
    void *slots;               /* coord_run's per-rank bookkeeping (rank 0, during the run) */
} coord_ctx;

typedef struct {
    long ran;                  /* jobs finished in this run, all ranks (rank 0's view) */
    double seconds;
    int complete;              /* every todo job finished (same on every rank) */
    int io_error;              /* records could not be written (rank 0) */
    /* rank 0 only: */
    long timeouts;             /* jobs recorded as `timeout` in this run */
    int stuck;                 /* ranks (or rank 0's thread) still inside a timed-out job */
    int lost_rank;             /* a rank whose process is gone, or -1 */
} coord_stats;

int coord_run(MPI_Comm comm, coord_ctx *x, coord_stats *out);

#endif
