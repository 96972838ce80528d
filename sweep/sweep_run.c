/* sweep/sweep_run.c: the coordinator callbacks of freenas_sweep (see sweep/sweep_run.h). */
#include "sweep/sweep_run.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"
#include "mpi/mpi_check.h"
#include "search/bundle.h"
#include "sweep/plan.h"
#include "sweep/sweep_args.h"

/* A work item of the coordinator is a bundle: jobs member[start[b] .. start[b+1]-1] (plan
 * indices, todo order) with their attempt numbers; every rank holds the same list (rank 0
 * makes it, the others receive it). */
typedef struct {
    const sweep_run_ctx *x;
    sweep_id_index *ix;
    long nb, *start, *member;  /* bundles */
    int *attempt;              /* [ntodo], per member */
    long next;                 /* next bundle to hand out */
    long ok, failed;
    int io_error;
    double last_progress;
} run_state;

/* Joins n records into one text, one per line. */
static char *join_records(sweep_job_result *r, int n) {
    size_t len = 1;
    for (int i = 0; i < n; i++) len += strlen(r[i].record) + 1;
    char *text = mallocCheck(len), *p = text;
    for (int i = 0; i < n; i++) {
        const size_t l = strlen(r[i].record);
        memcpy(p, r[i].record, l);
        p += l;
        if (i + 1 < n) *p++ = '\n';
        free(r[i].record);
    }
    *p = '\0';
    return text;
}

static char *run_bundle(void *user, long b, int attempt_unused) {
    (void)attempt_unused;
    run_state *rs = user;
    const sweep_run_ctx *x = rs->x;
    const long s = rs->start[b];
    const int k = (int)(rs->start[b + 1] - s);
    sweep_job_result *r = mallocCheck(sizeof *r * (size_t)k);
    if (k == 1) sweep_job_run(x->c, x->p, rs->member[s], rs->attempt[s], x->w, r);
    else if (x->c->kind == SWEEP_KIND_SEARCH)
        sweep_job_run_bundle(x->c, x->p, rs->member + s, rs->attempt + s, k, x->w, r);
    else sweep_job_run_slots(x->c, x->p, rs->member + s, rs->attempt + s, k, x->w, r);
    for (int i = 0; i < k; i++)
        if (r[i].ok && r[i].s_rows)
            sweep_ens_acc_add(x->acc, x->c, x->p, rs->member[s + i], r[i].S, r[i].s_rows, r[i].s_cols);
    char *text = join_records(r, k);
    free(r);
    return text;
}

static int next_bundle(void *user, long *b, int *attempt) {
    run_state *rs = user;
    if (rs->next >= rs->nb) return 0;
    *b = rs->next++;
    *attempt = 1; /* each member's own attempt number travels in the bundle list */
    return 1;
}

static int keep_one(run_state *rs, const char *text);

/* the records of one bundle, a line each */
static int keep_record(void *user, const char *text) {
    run_state *rs = user;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        const size_t l = nl ? (size_t)(nl - p) : strlen(p);
        char *line = mallocCheck(l + 1);
        memcpy(line, p, l);
        line[l] = '\0';
        const int bad = keep_one(rs, line);
        free(line);
        if (bad) return 1;
        p += l + (nl ? 1 : 0);
    }
    return 0;
}

static int keep_one(run_state *rs, const char *text) {
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

static char *timeout_record(void *user, long b, int attempt_unused, int rank, const char *host,
                            double seconds) {
    (void)attempt_unused;
    run_state *rs = user;
    const sweep_run_ctx *x = rs->x;
    const long s = rs->start[b];
    const int k = (int)(rs->start[b + 1] - s);
    sweep_job_result *r = callocCheck((size_t)k, sizeof *r);
    for (int i = 0; i < k; i++)
        r[i].record = sweep_job_record_timeout(x->c, x->p, rs->member[s + i], rs->attempt[s + i],
                                               rank, host, seconds);
    char *text = join_records(r, k);
    free(r);
    return text;
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

static void progress(void *user, long finished_bundles, double el, int force) {
    (void)finished_bundles;
    run_state *rs = user;
    const long finished = rs->ok + rs->failed;
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

static void job_name(void *user, long b, char *buf, size_t len) {
    const run_state *rs = user;
    const long s = rs->start[b], k = rs->start[b + 1] - s;
    char idhex[17];
    sweep_id_hex(rs->x->p->jobs[rs->member[s]].id, idhex);
    if (k == 1) snprintf(buf, len, "%s", idhex);
    else snprintf(buf, len, "%s (a bundle of %ld jobs)", idhex, k);
}

/* Rank 0: groups the todo jobs into bundles. Kind search with bundle != 1: jobs whose
 * searches are compatible (search_bundle_compatible: one supernet shape and pass) share
 * bundles of up to the size search_bundle_size gives on this rank (its threads and memory,
 * the cap `bundle`), in todo order; each bundle's place is its first job's. Kinds score,
 * zc_search and random on the CPU: consecutive jobs in bundles of min(cap, threads) (one
 * NB201 network each, small), none when that leaves half the threads idle; on CUDA only
 * with a cap above 1 (a thread and CUDA stream per slot, min(cap, threads), no half-idle
 * rule), never mixed with CPU jobs. Anything else: one job per bundle. */
static void make_bundles(run_state *rs) {
    const sweep_run_ctx *x = rs->x;
    const long n = x->ntodo;
    long *bundle_of = mallocCheck(sizeof(long) * (size_t)(n ? n : 1));
    rs->nb = 0;
    if (x->c->kind == SWEEP_KIND_SEARCH && x->c->bundle != 1) {
        sweep_params *rep = NULL;
        long *count = NULL, *cur = NULL;
        int *size = NULL, nc = 0;
        for (long i = 0; i < n; i++) {
            sweep_params prm;
            sweep_plan_params(x->c, &x->p->jobs[x->todo[i]], &prm);
            int c = 0;
            while (c < nc && !search_bundle_compatible(&rep[c].sc, &prm.sc)) c++;
            if (c == nc) {
                rep = reallocCheck(rep, sizeof *rep * (size_t)(nc + 1));
                count = reallocCheck(count, sizeof *count * (size_t)(nc + 1));
                cur = reallocCheck(cur, sizeof *cur * (size_t)(nc + 1));
                size = reallocCheck(size, sizeof *size * (size_t)(nc + 1));
                rep[nc] = prm;
                count[nc] = 0;
                size[nc] = search_bundle_size(&prm.sc, x->c->bundle, x->w->threads,
                                              x->w->ranks_on_node, 0);
                nc++;
            }
            if (count[c]++ % size[c] == 0) cur[c] = rs->nb++;
            bundle_of[i] = cur[c];
        }
        free(rep);
        free(count);
        free(cur);
        free(size);
    } else if ((x->c->kind == SWEEP_KIND_SCORE || x->c->kind == SWEEP_KIND_ZC_SEARCH ||
                x->c->kind == SWEEP_KIND_RANDOM) && x->c->bundle != 1) {
        const int threads = x->w->threads > 0 ? x->w->threads : 1;
        const int k_cpu = search_bundle_slots(x->c->bundle > 0 ? x->c->bundle : threads, threads,
                                              FN_DEV_CPU);
        const int k_cuda = x->c->bundle > 1 ? search_bundle_slots(x->c->bundle, threads, FN_DEV_CUDA) : 1;
        int open = 0;                 /* jobs in the last bundle, while it takes more */
        fn_device open_dev = FN_DEV_CPU; /* and their device */
        for (long i = 0; i < n; i++) {
            sweep_params prm;
            sweep_plan_params(x->c, &x->p->jobs[x->todo[i]], &prm);
            const int k = prm.sc.device == FN_DEV_CPU ? k_cpu : k_cuda;
            if (open > 0 && open < k && prm.sc.device == open_dev) {
                bundle_of[i] = rs->nb - 1;
                open++;
            } else {
                bundle_of[i] = rs->nb++;
                open = 1;
                open_dev = prm.sc.device;
            }
        }
    } else {
        for (long i = 0; i < n; i++) bundle_of[i] = rs->nb++;
    }
    /* counting sort by bundle, stable: members keep todo order */
    rs->start = callocCheck((size_t)rs->nb + 1, sizeof(long));
    rs->member = mallocCheck(sizeof(long) * (size_t)(n ? n : 1));
    rs->attempt = mallocCheck(sizeof(int) * (size_t)(n ? n : 1));
    for (long i = 0; i < n; i++) rs->start[bundle_of[i] + 1]++;
    for (long b = 0; b < rs->nb; b++) rs->start[b + 1] += rs->start[b];
    long *fill = mallocCheck(sizeof(long) * (size_t)(rs->nb ? rs->nb : 1));
    for (long b = 0; b < rs->nb; b++) fill[b] = rs->start[b];
    for (long i = 0; i < n; i++) {
        const long at = fill[bundle_of[i]]++;
        rs->member[at] = x->todo[i];
        rs->attempt[at] = x->st[x->todo[i]].attempts + 1;
    }
    free(fill);
    free(bundle_of);
}

/* Every rank: rank 0's bundle list. */
static void share_bundles(MPI_Comm comm, int rank, run_state *rs) {
    long hdr[2] = {rs->nb, rank == 0 ? rs->x->ntodo : 0};
    mpiCheck(MPI_Bcast(hdr, 2, MPI_LONG, 0, comm));
    if (rank != 0) {
        rs->nb = hdr[0];
        rs->start = mallocCheck(sizeof(long) * (size_t)(hdr[0] + 1));
        rs->member = mallocCheck(sizeof(long) * (size_t)(hdr[1] ? hdr[1] : 1));
        rs->attempt = mallocCheck(sizeof(int) * (size_t)(hdr[1] ? hdr[1] : 1));
    }
    mpiCheck(MPI_Bcast(rs->start, (int)(hdr[0] + 1), MPI_LONG, 0, comm));
    if (hdr[1]) {
        mpiCheck(MPI_Bcast(rs->member, (int)hdr[1], MPI_LONG, 0, comm));
        mpiCheck(MPI_Bcast(rs->attempt, (int)hdr[1], MPI_INT, 0, comm));
    }
}

void sweep_run_jobs(MPI_Comm comm, const sweep_run_ctx *x, coord_stats *out) {
    int rank;
    MPI_Comm_rank(comm, &rank);
    run_state rs = {.x = x, .last_progress = fn_now()};
    if (rank == 0) {
        rs.ix = sweep_id_index_build(x->p);
        make_bundles(&rs);
    }
    share_bundles(comm, rank, &rs);
    long kmax = 1;
    for (long b = 0; b < rs.nb; b++)
        if (rs.start[b + 1] - rs.start[b] > kmax) kmax = rs.start[b + 1] - rs.start[b];
    if (rank == 0 && kmax > 1 && !x->quiet) {
        printf("[sweep] %ld jobs in %ld bundles of up to %ld (`bundle` %d%s), side by side on %d "
               "threads per rank\n", x->ntodo, rs.nb, kmax, x->c->bundle,
               x->c->bundle ? "" : " = auto", x->w->threads);
        fflush(stdout);
    }
    const coord_work work = {
        .user = &rs,
        .prog = "freenas_sweep",
        .nitems = rs.nb,
        /* a bundle's limit: its jobs' limits end to end */
        .timeout_s = x->c->job_timeout_s * (double)kmax,
        .exit_timeout = SWEEP_EXIT_TIMEOUT,
        .run = run_bundle,
        .next = next_bundle,
        .keep = keep_record,
        .timeout = timeout_record,
        .commit = sync_records,
        .progress = progress,
        .name = job_name,
    };
    coord_run(comm, &work, out);
    /* coord_run counts work items, a bundle as one; the summary counts jobs */
    if (rank == 0) out->ran = rs.ok + rs.failed;
    if (rank == 0) sweep_id_index_free(rs.ix);
    free(rs.start);
    free(rs.member);
    free(rs.attempt);
}
