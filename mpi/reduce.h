/* mpi/reduce.h: sums the ranks' int64 vectors (freenas_sweep: the ensemble accumulators of
 * sweep/ensemble.h) in place on every rank: one NCCL all-reduce on device buffers when every rank has a GPU of its own
 * (NCCL refuses two ranks on one GPU), MPI_Allreduce otherwise and in builds without NCCL.
 * Both are exact (integers), so the result does not depend on the path or the rank count. */
#ifndef FN_MPI_REDUCE_H
#define FN_MPI_REDUCE_H

#include <mpi.h>
#include <stdint.h>

/* The path: FN_REDUCE_AUTO (as above), FN_REDUCE_NCCL (NCCL also for one rank, so a one-GPU
 * host can run the NCCL path; MPI with a message where it cannot), FN_REDUCE_MPI (always
 * MPI_Allreduce, one rank too). Every path gives the same sums. freenas_sweep reads it from
 * FREENAS_REDUCE at start-up (coord_reduce_mode). */
enum { FN_REDUCE_AUTO, FN_REDUCE_NCCL, FN_REDUCE_MPI };
/* the mode of a FREENAS_REDUCE value (NULL or "": auto); -1 if unknown */
int coord_reduce_mode(const char *s);
/* gpu_id: this rank's bound device ("host/pci-bus-id"), "" without one; mode: one of the
 * above. Writes the path taken ("nccl", "mpi" or "none": one rank, auto) to *path. 0, or -1
 * with a message. */
int coord_allreduce_i64(MPI_Comm comm, int64_t *buf, long n, const char *gpu_id, int mode,
                        const char **path, char *err, size_t errlen);

#endif
