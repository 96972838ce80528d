/* mpi/reduce.c: ensemble score reduction across ranks (see mpi/reduce.h). The NCCL path
 * follows llm.c and nccl-tests: ncclUniqueId from rank 0 by MPI_Bcast, ncclCommInitRank,
 * one ncclAllReduce(ncclInt64, ncclSum) on a device buffer. */
#include "mpi/reduce.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpi/mpi_check.h"
#include "base/common.h"

#ifdef FREENAS_HAVE_NCCL
#include <cuda_runtime.h>
#include <nccl.h>

/* Sum of every rank's buf into out (a separate buffer, so a failure anywhere leaves buf
 * intact for the MPI fallback). */
static int nccl_sum(MPI_Comm comm, const int64_t *buf, int64_t *out, long n, char *err,
                    size_t errlen) {
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    ncclUniqueId id;
    if (rank == 0 && ncclGetUniqueId(&id) != ncclSuccess) memset(&id, 0, sizeof id);
    mpiCheck(MPI_Bcast(&id, sizeof id, MPI_BYTE, 0, comm));
    ncclComm_t nc;
    ncclResult_t nr = ncclCommInitRank(&nc, size, id, rank);
    if (nr != ncclSuccess) {
        snprintf(err, errlen, "ncclCommInitRank: %s", ncclGetErrorString(nr));
        return -1;
    }
    int64_t *d = NULL;
    cudaError_t ce = cudaMalloc((void **)&d, (size_t)n * sizeof *d);
    if (ce == cudaSuccess) ce = cudaMemcpy(d, buf, (size_t)n * sizeof *d, cudaMemcpyHostToDevice);
    if (ce == cudaSuccess) {
        nr = ncclAllReduce(d, d, (size_t)n, ncclInt64, ncclSum, nc, 0);
        if (nr == ncclSuccess) ce = cudaStreamSynchronize(0);
        if (nr == ncclSuccess && ce == cudaSuccess)
            ce = cudaMemcpy(out, d, (size_t)n * sizeof *d, cudaMemcpyDeviceToHost);
    }
    if (d) cudaFree(d);
    ncclCommDestroy(nc);
    if (ce != cudaSuccess || nr != ncclSuccess) {
        snprintf(err, errlen, "NCCL all-reduce: %s", ce != cudaSuccess ? cudaGetErrorString(ce)
                                                                       : ncclGetErrorString(nr));
        return -1;
    }
    return 0;
}
#endif

int coord_reduce_mode(const char *s) {
    if (!s || !*s || !strcmp(s, "auto")) return FN_REDUCE_AUTO;
    if (!strcmp(s, "nccl")) return FN_REDUCE_NCCL;
    if (!strcmp(s, "mpi")) return FN_REDUCE_MPI;
    return -1;
}

int coord_allreduce_i64(MPI_Comm comm, int64_t *buf, long n, const char *gpu_id, int mode,
                        const char **path, char *err, size_t errlen) {
    int rank, size;
    mpiCheck(MPI_Comm_rank(comm, &rank));
    mpiCheck(MPI_Comm_size(comm, &size));
    *path = "none";
    if (n == 0 || (size == 1 && mode == FN_REDUCE_AUTO)) return 0;
    /* NCCL only when every rank has a device and no two ranks share one. */
    enum { IDLEN = 320 };
    char *ids = callocCheck((size_t)size, IDLEN), mine[IDLEN];
    snprintf(mine, sizeof mine, "%s", gpu_id ? gpu_id : "");
    mpiCheck(MPI_Allgather(mine, IDLEN, MPI_CHAR, ids, IDLEN, MPI_CHAR, comm));
    int own_gpus = 1;
    for (int r = 0; r < size && own_gpus; r++) {
        if (!ids[(size_t)r * IDLEN]) own_gpus = 0;
        for (int q = 0; q < r && own_gpus; q++)
            if (!strcmp(ids + (size_t)r * IDLEN, ids + (size_t)q * IDLEN)) own_gpus = 0;
    }
    free(ids);
#ifdef FREENAS_HAVE_NCCL
    if (own_gpus && mode != FN_REDUCE_MPI) {
        int64_t *out = mallocCheck((size_t)n * sizeof *out);
        int rc = nccl_sum(comm, buf, out, n, err, errlen), all;
        mpiCheck(MPI_Allreduce(&rc, &all, 1, MPI_INT, MPI_MIN, comm));
        if (all == 0) {
            memcpy(buf, out, (size_t)n * sizeof *out);
            free(out);
            *path = "nccl";
            return 0;
        }
        free(out);
        if (rank == 0)
            fprintf(stderr, "freenas_sweep: NCCL reduction failed (%s); using MPI_Allreduce\n",
                    rc ? err : "on another rank");
    }
#else
    (void)own_gpus;
#endif
    if (mode == FN_REDUCE_NCCL && rank == 0)
        fprintf(stderr, "freenas_sweep: FREENAS_REDUCE=nccl, but %s; using MPI_Allreduce\n",
#ifdef FREENAS_HAVE_NCCL
                own_gpus ? "NCCL failed" : "not every rank has a GPU of its own"
#else
                "this build has no NCCL"
#endif
        );
    *path = "mpi";
    mpiCheck(MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_INT64_T, MPI_SUM, comm));
    (void)err;
    (void)errlen;
    return 0;
}
