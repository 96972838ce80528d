/* mpi/coordinator.c: rank 0's dispatcher, the worker loop, rank 0's local worker thread
 * (see mpi/coordinator.h), and the node's GPU binding. */
#define _GNU_SOURCE
#include "mpi/coordinator.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/common.h"
#include "gpu/device.h"
#include "mpi/mpi_check.h"

volatile sig_atomic_t coord_signal = 0;

enum { TAG_TO_ROOT = 11, TAG_JOB = 12 };
enum { MSG_READY = 1, MSG_RESULT = 2, MSG_RESULT_BYE = 3 };

/* worker -> rank 0: header + record text (NUL-terminated) */
typedef struct { int64_t type, job, len; } msg_header;

/* ---- rank 0's local worker thread ------------------------------------------------------- */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;       /* a job (or quit) for the thread */
    pthread_cond_t cv_done;  /* a result for the coordinator */
    const coord_work *x;
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
        char *text = ls->x->run(ls->x->user, j, attempt);
        pthread_mutex_lock(&ls->mu);
        ls->res_job = j;
        ls->res_text = text;
        ls->has_result = 1;
        pthread_cond_signal(&ls->cv_done);
        pthread_mutex_unlock(&ls->mu);
    }
    return NULL;
}

/* ---- rank 0: who runs what ------------------------------------------------------------ */
/* One slot per rank (slot 0: rank 0's local thread). Rank 0 times each job from the moment
 * it hands it out; a job past job_timeout_s is recorded as `timeout` and its rank is left
 * (ABANDONED: it gets no more jobs, and if it never returns the sweep ends with MPI_Abort).
 * A rank on rank 0's own machine whose process is gone (kill -9, the OOM killer) is LOST:
 * the sweep ends at once, naming it. */
enum { SLOT_ACTIVE = 0, SLOT_DONE = 1, SLOT_ABANDONED = 2, SLOT_LOST = 3 };
typedef struct {
    long job;            /* in flight, or -1 */
    int attempt, state;
    double started;
    coord_rank_id id;
} rank_slot;

void coord_rank_id_self(coord_rank_id *id) {
    memset(id, 0, sizeof *id);
    id->pid = (int64_t)getpid();
    gethostname(id->host, sizeof id->host - 1);
    /* same kernel (boot id) and same pid namespace: this rank's pids mean the same here */
    char boot[64] = "", ns[64] = "";
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
    if (f) {
        if (!fgets(boot, sizeof boot, f)) boot[0] = '\0';
        fclose(f);
    }
    boot[strcspn(boot, "\n")] = '\0';
    ssize_t n = readlink("/proc/self/ns/pid", ns, sizeof ns - 1);
    ns[n > 0 ? n : 0] = '\0';
    if (boot[0] && ns[0]) snprintf(id->machine, sizeof id->machine, "%s %s", boot, ns);
}

/* 1 if the process of a rank on this machine has exited (gone, or a zombie). */
static int pid_gone(int64_t pid) {
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%lld/stat", (long long)pid);
    FILE *f = fopen(path, "r");
    if (!f) return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *rp = strrchr(buf, ')');
    return rp && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X');
}

/* ---- rank 0 ------------------------------------------------------------------------------ */
typedef struct {
    const coord_work *x;
    long next, finished;
    long timeouts;
    int stopping, io_error, lost;
    double t0, last_check;
    rank_slot *slot;
} root_state;

static void handle_result(root_state *rs, const char *text) {
    rs->finished++;
    if (rs->io_error) return; /* not kept: the item stays to run, as it will next time */
    if (rs->x->keep(rs->x->user, text)) rs->io_error = rs->stopping = 1;
}

static void commit_results(root_state *rs) {
    if (rs->x->commit(rs->x->user)) rs->io_error = rs->stopping = 1;
}

static int root_next(root_state *rs, long *job, int *attempt) {
    if (rs->stopping || rs->next >= rs->x->nitems) return 0;
    if (!rs->x->next(rs->x->user, job, attempt)) return 0;
    rs->next++;
    return 1;
}

/* The job of slot r (slot 0: the local thread) is over its limit: rank 0 writes its timeout
 * record; the rank gets no more jobs. */
static void slot_timeout(root_state *rs, int r, double now) {
    rank_slot *sl = &rs->slot[r];
    char *text = rs->x->timeout(rs->x->user, sl->job, sl->attempt, r, sl->id.host,
                                now - sl->started);
    handle_result(rs, text);
    free(text);
    rs->timeouts++;
    sl->job = -1;
    sl->state = SLOT_ABANDONED;
    fprintf(stderr, "%s: rank %d%s (pid %lld on %s) gets no more jobs; the other "
            "jobs go on without it and the sweep ends with exit code %d (rerun to retry the "
            "job)\n", rs->x->prog, r, r ? "" : "'s job thread", (long long)sl->id.pid,
            sl->id.host, rs->x->exit_timeout);
}

/* Every 0.2 s (and at once after a signal): jobs over job_timeout_s, and ranks on this
 * machine whose process is gone. Returns the first lost rank, or -1. */
static int check_slots(root_state *rs, int size, double now) {
    const double limit = rs->x->timeout_s;
    for (int r = 0; r < size; r++) {
        rank_slot *sl = &rs->slot[r];
        if (sl->state != SLOT_ACTIVE) continue;
        if (limit > 0 && sl->job >= 0 && now - sl->started > limit) slot_timeout(rs, r, now);
        else if (r > 0 && sl->id.machine[0] && !strcmp(sl->id.machine, rs->slot[0].id.machine) &&
                 pid_gone(sl->id.pid)) {
            char idhex[17] = "-";
            if (sl->job >= 0) rs->x->name(rs->x->user, sl->job, idhex, sizeof idhex);
            fprintf(stderr, "%s: rank %d (pid %lld on %s) is gone (killed or crashed)"
                    "%s%s%s: ending the sweep; the records written so far are whole; rerun the "
                    "same command to resume\n", rs->x->prog, r, (long long)sl->id.pid, sl->id.host,
                    sl->job >= 0 ? " while running job " : "", sl->job >= 0 ? idhex : "",
                    sl->job >= 0 ? " (no record; it runs again)" : "");
            sl->state = SLOT_LOST;
            return r;
        }
    }
    return -1;
}

static void run_root(MPI_Comm comm, int size, const coord_work *x, rank_slot *slots,
                     coord_stats *out) {
    root_state rs = {.x = x, .t0 = fn_now(), .slot = slots};
    rs.last_check = rs.t0;
    local_slot ls = {.x = x};
    pthread_mutex_init(&ls.mu, NULL);
    pthread_cond_init(&ls.cv, NULL);
    pthread_cond_init(&ls.cv_done, NULL);
    pthread_t th;
    if (pthread_create(&th, NULL, local_main, &ls)) FN_FATAL("pthread_create failed");
    int remote_active = size - 1, local_busy = 0, local_quit = 0, lost = -1;
    long sleep_ns = 0;
    char *buf = NULL;
    size_t bufcap = 0;
    while (remote_active > 0 || !local_quit || local_busy) {
        int did = 0;
        const double now = fn_now();
        if (coord_signal && !rs.stopping) {
            rs.stopping = 1;
            rs.last_check = 0; /* mpirun's SIGTERM after a rank died: look at once */
            fprintf(stderr, "%s: signal %d: no new jobs; finishing the running ones "
                    "(rerun the same command to resume)\n", x->prog, (int)coord_signal);
        }
        if (now - rs.last_check >= 0.2) {
            rs.last_check = now;
            if ((lost = check_slots(&rs, size, now)) >= 0) break;
            if (rs.slot[0].state == SLOT_ABANDONED && local_busy) {
                pthread_mutex_lock(&ls.mu);
                ls.quit = 1; /* if it ever returns, it leaves */
                pthread_mutex_unlock(&ls.mu);
                local_busy = 0;
                local_quit = 1;
            }
            for (int r = 1; r < size; r++)
                if (rs.slot[r].state == SLOT_ABANDONED && rs.slot[r].job == -1) {
                    rs.slot[r].job = -2; /* counted out once */
                    remote_active--;
                }
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
            rank_slot *sl = &rs.slot[stt.MPI_SOURCE];
            if (sl->state == SLOT_ABANDONED) { /* came back after its timeout record */
                fprintf(stderr, "%s: rank %d returned after its job's timeout; its "
                        "result is not recorded (the timeout record stands)\n", x->prog,
                        stt.MPI_SOURCE);
                sl->state = SLOT_DONE;
                if (h.type == MSG_RESULT_BYE) continue;
                int64_t bye[2] = {-1, 0};
                mpiCheck(MPI_Send(bye, 2, MPI_INT64_T, stt.MPI_SOURCE, TAG_JOB, comm));
                continue;
            }
            if (h.type != MSG_READY) handle_result(&rs, buf + sizeof h);
            sl->job = -1;
            if (h.type == MSG_RESULT_BYE) {
                sl->state = SLOT_DONE;
                remote_active--;
                continue;
            }
            int64_t reply[2] = {-1, 0};
            long j;
            int attempt;
            if (root_next(&rs, &j, &attempt)) {
                reply[0] = j;
                reply[1] = attempt;
                *sl = (rank_slot){j, attempt, SLOT_ACTIVE, fn_now(), sl->id};
            } else {
                sl->state = SLOT_DONE;
                remote_active--;
            }
            mpiCheck(MPI_Send(reply, 2, MPI_INT64_T, stt.MPI_SOURCE, TAG_JOB, comm));
        }
        /* the local thread */
        pthread_mutex_lock(&ls.mu);
        if (ls.has_result) {
            if (rs.slot[0].state == SLOT_ABANDONED) rs.slot[0].state = SLOT_DONE; /* late */
            else handle_result(&rs, ls.res_text);
            free(ls.res_text);
            ls.has_result = 0;
            local_busy = 0;
            rs.slot[0].job = -1;
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
                rs.slot[0] = (rank_slot){j, attempt, SLOT_ACTIVE, fn_now(), rs.slot[0].id};
            } else {
                ls.quit = 1;
                local_quit = 1;
            }
            pthread_cond_signal(&ls.cv);
            did = 1;
        }
        pthread_mutex_unlock(&ls.mu);
        commit_results(&rs); /* group commit */
        x->progress(x->user, rs.finished, fn_now() - rs.t0, 0);
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
    int stuck = 0;
    for (int r = 0; r < size; r++) stuck += rs.slot[r].state == SLOT_ABANDONED;
    /* a thread still inside a job is never joined: the process ends with MPI_Abort */
    if (lost < 0 && rs.slot[0].state != SLOT_ABANDONED) {
        pthread_join(th, NULL);
        pthread_mutex_destroy(&ls.mu);
        pthread_cond_destroy(&ls.cv);
        pthread_cond_destroy(&ls.cv_done);
    }
    commit_results(&rs);
    x->progress(x->user, rs.finished, fn_now() - rs.t0, 1);
    free(buf);
    out->ran = rs.finished;
    out->complete = rs.finished == x->nitems && lost < 0 && !stuck;
    out->io_error = rs.io_error;
    out->timeouts = rs.timeouts;
    out->stuck = stuck;
    out->lost_rank = lost;
}

/* ---- ranks > 0 ---------------------------------------------------------------------------- */
static void run_worker(MPI_Comm comm, const coord_work *x) {
    msg_header h = {MSG_READY, -1, 0};
    mpiCheck(MPI_Send(&h, sizeof h, MPI_BYTE, 0, TAG_TO_ROOT, comm));
    for (;;) {
        int64_t job[2];
        mpiCheck(MPI_Recv(job, 2, MPI_INT64_T, 0, TAG_JOB, comm, MPI_STATUS_IGNORE));
        if (job[0] < 0) break;
        char *text = x->run(x->user, (long)job[0], (int)job[1]);
        size_t len = strlen(text);
        char *msg = mallocCheck(sizeof h + len + 1);
        int bye = coord_signal != 0;
        h = (msg_header){bye ? MSG_RESULT_BYE : MSG_RESULT, job[0], (int64_t)len};
        memcpy(msg, &h, sizeof h);
        memcpy(msg + sizeof h, text, len + 1);
        mpiCheck(MPI_Send(msg, (int)(sizeof h + len + 1), MPI_BYTE, 0, TAG_TO_ROOT, comm));
        free(msg);
        free(text);
        if (bye) break;
    }
}

int coord_run(MPI_Comm comm, const coord_work *x, coord_stats *out) {
    int rank, size;
    mpiCheck(MPI_Comm_rank(comm, &rank));
    mpiCheck(MPI_Comm_size(comm, &size));
    memset(out, 0, sizeof *out);
    out->lost_rank = -1;
    double t0 = fn_now();
    /* who is who: rank 0 needs every rank's pid and machine to tell a lost rank */
    coord_rank_id me;
    coord_rank_id_self(&me);
    rank_slot *slots = rank == 0 ? callocCheck((size_t)size, sizeof *slots) : NULL;
    coord_rank_id *ids = rank == 0 ? callocCheck((size_t)size, sizeof *ids) : NULL;
    mpiCheck(MPI_Gather(&me, (int)sizeof me, MPI_BYTE, ids, (int)sizeof me, MPI_BYTE, 0, comm));
    if (rank == 0) {
        for (int r = 0; r < size; r++) slots[r] = (rank_slot){-1, 0, SLOT_ACTIVE, 0, ids[r]};
        run_root(comm, size, x, slots, out);
    } else run_worker(comm, x);
    free(ids);
    free(slots);
    /* a lost or stuck rank never reaches a collective again: rank 0 ends the world with
     * MPI_Abort instead (sweep/freenas_sweep.c) */
    if (rank == 0 && (out->lost_rank >= 0 || out->stuck)) {
        out->seconds = fn_now() - t0;
        return 0;
    }
    int flags[2] = {out->complete, out->io_error};
    mpiCheck(MPI_Bcast(flags, 2, MPI_INT, 0, comm));
    out->complete = flags[0];
    out->io_error = flags[1];
    out->seconds = fn_now() - t0;
    return 0;
}

/* ---- the node: local rank and GPU binding ----------------------------------------------- */
void coord_node_bind(MPI_Comm world, coord_node *n) {
    memset(n, 0, sizeof *n);
    n->gpu = -1;
    int rank;
    MPI_Comm_rank(world, &rank);
    mpiCheck(MPI_Comm_split_type(world, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &n->node));
    MPI_Comm_rank(n->node, &n->local_rank);
    MPI_Comm_size(n->node, &n->local_size);
    int ngpu = gpu_device_count();
    if (ngpu > 0) {
        int dev = n->local_rank % ngpu;
        if (gpu_bind(dev, n->bus, sizeof n->bus) == 0) {
            n->gpu = dev;
            if (gpu_describe(dev, n->desc, sizeof n->desc)) snprintf(n->desc, sizeof n->desc, "?");
        }
    }
}

void coord_node_free(coord_node *n) { MPI_Comm_free(&n->node); }
