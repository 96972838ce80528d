/* mpi/mpi_check.h: mpiCheck(call) aborts the world with the MPI error string, the expression,
 * file:line and rank@host. Only for programmer / communication errors: a failing job is a
 * record, never an abort. */
#ifndef FN_MPI_CHECK_H
#define FN_MPI_CHECK_H

#include <mpi.h>
#include <stdio.h>
#include <unistd.h>

static inline void mpi_check(int rc, const char *expr, const char *file, int line) {
    if (rc == MPI_SUCCESS) return;
    char msg[MPI_MAX_ERROR_STRING], host[256] = "?";
    int len = 0, rank = -1;
    MPI_Error_string(rc, msg, &len);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    gethostname(host, sizeof host);
    fprintf(stderr, "[MPI ERROR] %s at %s:%d (rank %d@%s): %s\n", expr, file, line, rank, host, msg);
    MPI_Abort(MPI_COMM_WORLD, 3);
}
#define mpiCheck(call) mpi_check((call), #call, __FILE__, __LINE__)

#endif
