/* sweep/sweep_run.c: the coordinator callbacks of freenas_sweep (see sweep/sweep_run.h). */
#include "sweep/sweep_run.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"
#include "sweep/plan.h"
#include "sweep/sweep_args.h"

typedef struct {
    const sweep_run_ctx *x;
    sweep_id_index *ix;
    long next;                 /* index into x->todo */
    long ok, failed;
    int io_error;
    double last_progress;
} run_state;

static char *run_job(void *user, long j, int attempt) {
    const sweep_run_ctx *x = ((run_state *)user)->x;
    sweep_job_result *r = mallocCheck(sizeof *r);
    sweep_job_run(x->c, x->p, j, attempt, x->w, r);
    if (r->ok && r->s_rows) sweep_ens_acc_add(x->acc, x->c, x->p, j, r->S, r->s_rows, r->s_cols);
    char *text = r->record;
    free(r);
    return text;
}

static int next_job(void *user, long *job, int *attempt) {
    run_state *rs = user;
    if (rs->next >= rs->x->ntodo) return 0;
    *job = rs->x->todo[rs->next++];
    *attempt = rs->x->st[*job].attempts + 1;
    return 1;
}

static int keep_record(void *user, const char *text) {
    run_state *rs = user;
    const sweep_run_ctx *x = rs->x;
    char err[SWEEP_ERRLEN];
    if (records_append(x->rec, text, err, sizeof err)) {
        fprintf(stderr, "freenas_sweep: %s: stopping the sweep (the records so far are "
                "valid; rerun to resume)\n", err);
        rs->io_error = 1;
        return 1;
    }
    long j = -1;
    int rows, cols;
    char msg[SWEEP_ERRLEN] = "";
    int s = records_absorb(text, x->c, x->p, rs->ix, x->st, &j, NULL, &rows, &cols, msg, sizeof msg);
    if (s == JOB_OK) rs->ok++;
    else {
        rs->failed++;
        /* the job's own message, at once (the record has it too) */
        char idhex[17] = "?";
        if (j >= 0) sweep_id_hex(x->p->jobs[j].id, idhex);
        fprintf(stderr, "freenas_sweep: job %s (index %ld) failed: %s\n", idhex, j, msg);
    }
    return 0;
}

static char *timeout_record(void *user, long j, int attempt, int rank, const char *host,
                            double seconds) {
    const sweep_run_ctx *x = ((run_state *)user)->x;
    return sweep_job_record_timeout(x->c, x->p, j, attempt, rank, host, seconds);
}

static int sync_records(void *user) {
    run_state *rs = user;
    if (!rs->x->rec->pending || !records_sync(rs->x->rec)) return 0;
    if (!rs->io_error)
        fprintf(stderr, "freenas_sweep: cannot sync %s/results.jsonl: %s: stopping the sweep "
                "(rerun to resume; a record that did not reach the disk runs again)\n",
                rs->x->rec->dir, strerror(errno));
    rs->io_error = 1;
    return 1;
}

static void fmt_eta(double s, char *buf, size_t len) {
    if (!(s >= 0) || s > 1e7) { snprintf(buf, len, "?"); return; }
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, len, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else if (t >= 60) snprintf(buf, len, "%ldm%02lds", t / 60, t % 60);
    else snprintf(buf, len, "%lds", t);
}

static void progress(void *user, long finished, double el, int force) {
    run_state *rs = user;
    const sweep_run_ctx *x = rs->x;
    double now = fn_now();
    if (x->quiet || (!force && now - rs->last_progress < x->c->progress_s)) return;
    rs->last_progress = now;
    double rate = el > 0 ? finished / el : 0;
    char eta[32];
    fmt_eta(rate > 0 ? (x->ntodo - finished) / rate : -1, eta, sizeof eta);
    long done = x->ndone_before + rs->ok, total = x->ndone_before + x->ntodo; /* a shard: its jobs */
    fprintf(stdout, "[sweep] %ld/%ld done (%.1f%%), this run: %ld ok, %ld failed, %.2f jobs/s, "
            "ETA %s\n", done, total, total ? 100.0 * done / total : 100.0, rs->ok, rs->failed,
            rate, eta);
    fflush(stdout);
}

static void job_name(void *user, long j, char *buf, size_t len) {
    char idhex[17];
    sweep_id_hex(((run_state *)user)->x->p->jobs[j].id, idhex);
    snprintf(buf, len, "%s", idhex);
}

void sweep_run_jobs(MPI_Comm comm, const sweep_run_ctx *x, coord_stats *out) {
    int rank;
    MPI_Comm_rank(comm, &rank);
    run_state rs = {.x = x, .last_progress = fn_now()};
    if (rank == 0) rs.ix = sweep_id_index_build(x->p);
    const coord_work work = {
        .user = &rs,
        .prog = "freenas_sweep",
        .nitems = x->ntodo,
        .timeout_s = x->c->job_timeout_s,
        .exit_timeout = SWEEP_EXIT_TIMEOUT,
        .run = run_job,
        .next = next_job,
        .keep = keep_record,
        .timeout = timeout_record,
        .commit = sync_records,
        .progress = progress,
        .name = job_name,
    };
    coord_run(comm, &work, out);
    if (rank == 0) sweep_id_index_free(rs.ix);
}
