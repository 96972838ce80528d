/* mpi/coordinator.h: dynamic scheduling of work items over MPI ranks. It knows nothing of
 * what an item is: the caller (sweep/sweep_run.c for freenas_sweep) hands it callbacks that
 * run an item, pick the next one, keep a result and commit what was kept.
 *
 * Rank 0 hands items out one at a time: a worker's message carries its last result (a
 * NUL-terminated text) and asks for the next item, so fast ranks take more items and no rank
 * idles while work is left (TACC launcher style). Rank 0 computes items too, in a second
 * thread; only rank 0's main thread calls MPI (MPI_THREAD_FUNNELED) and the result, next,
 * commit and progress callbacks. Results that arrived together are committed together
 * (group commit).
 *
 * On SIGTERM / SIGUSR1 / SIGINT (coord_signal, set by the program's handler) no new item
 * starts; running items finish and are kept, then every rank returns with complete = 0. A
 * 1-rank world (no mpirun) works the same, rank 0's thread running every item.
 *
 * Faults (configs/README.md, "Faults"): rank 0 times every item from the moment it hands it
 * out; past timeout_s it keeps the timeout callback's result itself and gives that rank no
 * more items. It knows every rank's pid and machine, and a rank on its own machine whose
 * process is gone ends the loop at once. In both cases (a rank lost, or still stuck at the
 * end) rank 0 returns without the final collective (lost_rank / stuck in coord_stats): the
 * caller ends the world with MPI_Abort. A result the callback could not keep stops handing
 * out items (io_error). */
#ifndef FN_MPI_COORDINATOR_H
#define FN_MPI_COORDINATOR_H

#include <mpi.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

extern volatile sig_atomic_t coord_signal;   /* the signal that asked us to stop, or 0 */

/* Where a rank runs: pid, host, and "BOOT_ID PID_NAMESPACE" (its pid is checkable from
 * another rank with the same machine string). */
typedef struct {
    int64_t pid;
    char host[64];
    char machine[96];
} coord_rank_id;
void coord_rank_id_self(coord_rank_id *id);

typedef struct {
    void *user;                /* passed to every callback */
    const char *prog;          /* prefix of rank 0's messages ("freenas_sweep") */
    long nitems;               /* items to hand out in this run (rank 0) */
    double timeout_s;          /* per item; 0: no limit */
    int exit_timeout;          /* the exit code the caller ends with after a timeout (named
                                  in the message) */
    /* any rank (rank 0: its job thread): runs item `item`, attempt `attempt`; returns the
     * result text (malloc'd, the coordinator frees it) */
    char *(*run)(void *user, long item, int attempt);
    /* rank 0: the next item and its attempt number; 0 when none is left */
    int (*next)(void *user, long *item, int *attempt);
    /* rank 0: keeps one result; nonzero when it could not (then no new item starts) */
    int (*keep)(void *user, const char *text);
    /* rank 0: the result text (malloc'd) of an item that ran past timeout_s on `rank` */
    char *(*timeout)(void *user, long item, int attempt, int rank, const char *host,
                     double seconds);
    /* rank 0: after each round of results; nonzero when the results could not be made
     * durable (then no new item starts) */
    int (*commit)(void *user);
    /* rank 0: progress after each round (force: the last call), `finished` items so far */
    void (*progress)(void *user, long finished, double elapsed, int force);
    /* rank 0: a name for an item in messages (a job id) */
    void (*name)(void *user, long item, char *buf, size_t len);
} coord_work;

typedef struct {
    long ran;                  /* items finished in this run, all ranks (rank 0's view) */
    double seconds;
    int complete;              /* every item finished (same on every rank) */
    int io_error;              /* a result could not be kept or committed (rank 0) */
    /* rank 0 only: */
    long timeouts;             /* items past timeout_s in this run */
    int stuck;                 /* ranks (or rank 0's thread) still inside a timed-out item */
    int lost_rank;             /* a rank whose process is gone, or -1 */
} coord_stats;

int coord_run(MPI_Comm comm, const coord_work *x, coord_stats *out);

/* This rank's place on its node, and the GPU bound to it (local rank modulo the node's GPUs;
 * HPC_NOTES.md: MPI_Comm_split_type is right in every launch mode). */
typedef struct {
    MPI_Comm node;             /* the ranks of this node (coord_node_free frees it) */
    int local_rank, local_size;
    int gpu;                   /* the bound device, or -1 (no GPU, or binding failed) */
    char bus[64];              /* its PCI bus id */
    char desc[96];             /* its description ("?" when unknown) */
} coord_node;
void coord_node_bind(MPI_Comm world, coord_node *n);
void coord_node_free(coord_node *n);

#endif
