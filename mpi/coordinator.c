/* mpi/coordinator.c: rank 0 dispatcher + record writer, worker loop, and rank 0's local
 * worker thread (see mpi/coordinator.h). */
#define _GNU_SOURCE
#include "mpi/coordinator.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mpi/mpi_check.h"
#include "nn/common.h"

volatile sig_atomic_t sweep_signal = 0;

enum { TAG_TO_ROOT = 11, TAG_JOB = 12 };
enum { MSG_READY = 1, MSG_RESULT = 2, MSG_RESULT_BYE = 3 };

/* worker -> rank 0: header + record text (NUL-terminated) */
typedef struct { int64_t type, job, len; } msg_header;

/* ---- rank 0's local worker thread ------------------------------------------------------- */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;       /* a job (or quit) for the thread */
    pthread_cond_t cv_done;  /* a result for the coordinator */
    coord_ctx *x;
    long job;
    int attempt, has_job, quit;
    int has_result;
    long res_job;
    char *res_text;
} local_slot;

static void *local_main(void *arg) {
    local_slot *ls = arg;
    for (;;) {
        pthread_mutex_lock(&ls->mu);
        while (!ls->has_job && !ls->quit) pthread_cond_wait(&ls->cv, &ls->mu);
        if (!ls->has_job) {
            pthread_mutex_unlock(&ls->mu);
            break;
        }
        long j = ls->job;
        int attempt = ls->attempt;
        ls->has_job = 0;
        pthread_mutex_unlock(&ls->mu);
        sweep_job_result *r = mallocCheck(sizeof *r);
        sweep_job_run(ls->x->c, ls->x->p, j, attempt, ls->x->w, r);
        if (r->ok && r->s_rows) ens_acc_add(ls->x->acc, ls->x->c, ls->x->p, j, r->S, r->s_rows, r->s_cols);
        pthread_mutex_lock(&ls->mu);
        ls->res_job = j;
        ls->res_text = r->record;
        ls->has_result = 1;
        pthread_cond_signal(&ls->cv_done);
        pthread_mutex_unlock(&ls->mu);
        free(r);
    }
    return NULL;
}

/* ---- rank 0 ------------------------------------------------------------------------------ */
typedef struct {
    coord_ctx *x;
    sweep_id_index *ix;
    long next, finished;
    long ok, failed;
    int stopping, io_error;
    double t0, last_progress;
} root_state;

static void handle_result(root_state *rs, const char *text) {
    coord_ctx *x = rs->x;
    char err[SWEEP_ERRLEN];
    if (!rs->io_error && records_append(x->rec, text, err, sizeof err)) {
        fprintf(stderr, "freenas_sweep: %s: stopping the sweep (the records so far are "
                "valid; rerun to resume)\n", err);
        rs->io_error = rs->stopping = 1;
    }
    long j = -1;
    int rows, cols;
    char msg[SWEEP_ERRLEN] = "";
    int s = records_absorb(text, x->c, x->p, rs->ix, x->st, &j, NULL, &rows, &cols, msg, sizeof msg);
    rs->finished++;
    if (s == JOB_OK) rs->ok++;
    else {
        rs->failed++;
        /* the job's own message, at once (the record has it too) */
        char idhex[17] = "?";
        if (j >= 0) sweep_id_hex(x->p->jobs[j].id, idhex);
        fprintf(stderr, "freenas_sweep: job %s (index %ld) failed: %s\n", idhex, j, msg);
    }
}

static void fmt_eta(double s, char *buf, size_t len) {
    if (!(s >= 0) || s > 1e7) { snprintf(buf, len, "?"); return; }
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, len, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else if (t >= 60) snprintf(buf, len, "%ldm%02lds", t / 60, t % 60);
    else snprintf(buf, len, "%lds", t);
}

static void progress(root_state *rs, int force) {
    coord_ctx *x = rs->x;
    double now = fn_now();
    if (x->quiet || (!force && now - rs->last_progress < x->c->progress_s)) return;
    rs->last_progress = now;
    double el = now - rs->t0, rate = el > 0 ? rs->finished / el : 0;
    char eta[32];
    fmt_eta(rate > 0 ? (x->ntodo - rs->finished) / rate : -1, eta, sizeof eta);
    long done = x->ndone_before + rs->ok, total = x->ndone_before + x->ntodo; /* a shard: its jobs */
    fprintf(stdout, "[sweep] %ld/%ld done (%.1f%%), this run: %ld ok, %ld failed, %.2f jobs/s, "
            "ETA %s\n", done, total, total ? 100.0 * done / total : 100.0, rs->ok, rs->failed,
            rate, eta);
    fflush(stdout);
}

static int root_next(root_state *rs, long *job, int *attempt) {
    if (rs->stopping || rs->next >= rs->x->ntodo) return 0;
    *job = rs->x->todo[rs->next++];
    *attempt = rs->x->st[*job].attempts + 1;
    return 1;
}

static void run_root(MPI_Comm comm, int size, coord_ctx *x, coord_stats *out) {
    root_state rs = {.x = x, .t0 = fn_now()};
    rs.last_progress = rs.t0;
    rs.ix = sweep_id_index_build(x->p);
    local_slot ls = {.x = x};
    pthread_mutex_init(&ls.mu, NULL);
    pthread_cond_init(&ls.cv, NULL);
    pthread_cond_init(&ls.cv_done, NULL);
    pthread_t th;
    if (pthread_create(&th, NULL, local_main, &ls)) FN_FATAL("pthread_create failed");
    int remote_active = size - 1, local_busy = 0, local_quit = 0;
    long sleep_ns = 0;
    char *buf = NULL;
    size_t bufcap = 0;
    while (remote_active > 0 || !local_quit || local_busy) {
        int did = 0;
        if (sweep_signal && !rs.stopping) {
            rs.stopping = 1;
            fprintf(stderr, "freenas_sweep: signal %d: no new jobs; finishing the running ones "
                    "(rerun the same command to resume)\n", (int)sweep_signal);
        }
        /* remote workers */
        for (;;) {
            int flag = 0;
            MPI_Status stt;
            mpiCheck(MPI_Iprobe(MPI_ANY_SOURCE, TAG_TO_ROOT, comm, &flag, &stt));
            if (!flag) break;
            did = 1;
            int count;
            mpiCheck(MPI_Get_count(&stt, MPI_BYTE, &count));
            if ((size_t)count + 1 > bufcap) buf = realloc(buf, bufcap = (size_t)count + 1);
            mpiCheck(MPI_Recv(buf, count, MPI_BYTE, stt.MPI_SOURCE, TAG_TO_ROOT, comm,
                              MPI_STATUS_IGNORE));
            buf[count] = '\0';
            msg_header h;
            memcpy(&h, buf, sizeof h);
            if (h.type != MSG_READY) handle_result(&rs, buf + sizeof h);
            if (h.type == MSG_RESULT_BYE) { remote_active--; continue; }
            int64_t reply[2] = {-1, 0};
            long j;
            int attempt;
            if (root_next(&rs, &j, &attempt)) { reply[0] = j; reply[1] = attempt; }
            else remote_active--;
            mpiCheck(MPI_Send(reply, 2, MPI_INT64_T, stt.MPI_SOURCE, TAG_JOB, comm));
        }
        /* the local thread */
        pthread_mutex_lock(&ls.mu);
        if (ls.has_result) {
            handle_result(&rs, ls.res_text);
            free(ls.res_text);
            ls.has_result = 0;
            local_busy = 0;
            did = 1;
        }
        if (!local_busy && !local_quit) {
            long j;
            int attempt;
            if (root_next(&rs, &j, &attempt)) {
                ls.job = j;
                ls.attempt = attempt;
                ls.has_job = 1;
                local_busy = 1;
            } else {
                ls.quit = 1;
                local_quit = 1;
            }
            pthread_cond_signal(&ls.cv);
            did = 1;
        }
        pthread_mutex_unlock(&ls.mu);
        if (x->rec->pending) records_sync(x->rec); /* group commit */
        progress(&rs, 0);
        if (did) sleep_ns = 0;
        else {
            /* idle: wait for the local thread's result (woken at once) or the next poll of
             * the remote ranks, backing off from 5 us to 0.5 ms */
            sleep_ns = sleep_ns ? (sleep_ns * 2 > 500000 ? 500000 : sleep_ns * 2) : 5000;
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += sleep_ns;
            if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
            pthread_mutex_lock(&ls.mu);
            if (!ls.has_result && local_busy) pthread_cond_timedwait(&ls.cv_done, &ls.mu, &ts);
            pthread_mutex_unlock(&ls.mu);
            if (!local_busy) {
                struct timespec d = {0, sleep_ns};
                nanosleep(&d, NULL);
            }
        }
    }
    pthread_join(th, NULL);
    records_sync(x->rec);
    progress(&rs, 1);
    free(buf);
    sweep_id_index_free(rs.ix);
    pthread_mutex_destroy(&ls.mu);
    pthread_cond_destroy(&ls.cv);
    pthread_cond_destroy(&ls.cv_done);
    out->ran = rs.finished;
    out->complete = rs.finished == x->ntodo;
    out->io_error = rs.io_error;
}

/* ---- ranks > 0 ---------------------------------------------------------------------------- */
static void run_worker(MPI_Comm comm, coord_ctx *x) {
    msg_header h = {MSG_READY, -1, 0};
    mpiCheck(MPI_Send(&h, sizeof h, MPI_BYTE, 0, TAG_TO_ROOT, comm));
    for (;;) {
        int64_t job[2];
        mpiCheck(MPI_Recv(job, 2, MPI_INT64_T, 0, TAG_JOB, comm, MPI_STATUS_IGNORE));
        if (job[0] < 0) break;
        sweep_job_result *r = mallocCheck(sizeof *r);
        sweep_job_run(x->c, x->p, (long)job[0], (int)job[1], x->w, r);
        if (r->ok && r->s_rows) ens_acc_add(x->acc, x->c, x->p, (long)job[0], r->S, r->s_rows, r->s_cols);
        size_t len = strlen(r->record);
        char *msg = mallocCheck(sizeof h + len + 1);
        int bye = sweep_signal != 0;
        h = (msg_header){bye ? MSG_RESULT_BYE : MSG_RESULT, job[0], (int64_t)len};
        memcpy(msg, &h, sizeof h);
        memcpy(msg + sizeof h, r->record, len + 1);
        mpiCheck(MPI_Send(msg, (int)(sizeof h + len + 1), MPI_BYTE, 0, TAG_TO_ROOT, comm));
        free(msg);
        free(r->record);
        free(r);
        if (bye) break;
    }
}

int coord_run(MPI_Comm comm, coord_ctx *x, coord_stats *out) {
    int rank, size;
    mpiCheck(MPI_Comm_rank(comm, &rank));
    mpiCheck(MPI_Comm_size(comm, &size));
    memset(out, 0, sizeof *out);
    double t0 = fn_now();
    if (rank == 0) run_root(comm, size, x, out);
    else run_worker(comm, x);
    int flags[2] = {out->complete, out->io_error};
    mpiCheck(MPI_Bcast(flags, 2, MPI_INT, 0, comm));
    out->complete = flags[0];
    out->io_error = flags[1];
    out->seconds = fn_now() - t0;
    return 0;
}
