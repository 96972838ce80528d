/* sweep/sweep_hnas_darts.c: one HNAS search on the DARTS space over every rank of
 * freenas_sweep (see sweep/sweep_hnas_darts.h), in two rounds of the coordinator
 * (mpi/coordinator.h):
 *   1. M and kappa of every pool genotype not in the metric cache, one item per genotype (any
 *      rank); rank 0 appends each to the cache and syncs it after every round of results.
 *   2. The steps of the search (hnas/darts_bo.h): rank 0's `next` asks the state machine for
 *      the next step, made with the steps in flight believed (kriging believer), so a free rank
 *      always gets one; the item number carries the step and the pool index, so any rank
 *      trains the genotype (train_darts with train_recipe_hnas, epochs / batch from the config,
 *      seed hnas_dpool_train_seed of the genotype). Rank 0's `keep` finishes the step and
 *      appends its line to steps.jsonl (synced per round): the BO state lives in the records,
 *      and a rerun reads them back and goes on from there.
 * Every rank loads the training images itself; the pool is built (or read from its cache)
 * by rank 0 and broadcast. */
#define _POSIX_C_SOURCE 200809L
#include "sweep/sweep_hnas_darts.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/common.h"
#include "hnas/darts_bo.h"
#include "hnas/darts_pool.h"
#include "mpi/mpi_check.h"
#include "proxies/proxy.h"
#include "sweep/hnas_darts.h"
#include "train/train.h"

typedef struct {
    const sweep_config *c;
    const sweep_params *p;
    int rank, threads, quiet;
    train_data data;
    train_split split;
    hnas_dpool pool;
    float *bx;
    int *by;
    long *missing;       /* phase 1: pool indices to score */
    FILE *out;           /* rank 0: the metric cache or steps.jsonl */
    hnas_dbo *bo;        /* rank 0, phase 2 */
    int failed;          /* rank 0: results that could not be used */
    long done, handed;
    double last_progress, t0;
    const char *phase;
    char err[1024];
} dh_state;

/* ---- phase 1: M and kappa ------------------------------------------------------------- */
static char *run_metric(void *user, long item, int attempt) {
    dh_state *s = user;
    (void)attempt;
    if (s->threads > 0) omp_set_num_threads(s->threads);
    const long i = s->missing[item];
    double M = NAN, k = NAN;
    char err[512] = "";
    hnas_darts_ntk(&s->pool.gt[i], s->p->dh->channels, s->p->dh->layers, s->data.classes,
                   s->data.h, s->data.w, s->bx, s->by, s->p->dh->ntk_batch,
                   hnas_dpool_weight_seed(s->p->sc.seed, i), FN_F32, &M, &k, NULL, err, sizeof err);
    char *t = mallocCheck(64);
    snprintf(t, 64, "%ld %.17g %.17g", i, M, k);
    return t;
}

static int keep_metric(void *user, const char *text) {
    dh_state *s = user;
    long i;
    double M, k;
    char a[40], b[40];
    if (sscanf(text, "%ld %39s %39s", &i, a, b) != 3 || i < 0 || i >= s->pool.n) return 1;
    M = strtod(a, NULL);
    k = strtod(b, NULL);
    if (isnan(s->pool.M[i]) && isnan(s->pool.kappa[i])) s->pool.have++;
    s->pool.M[i] = M;
    s->pool.kappa[i] = k;
    hnas_dpool_metrics_write(s->out, i, M, k);
    s->done++;
    return 0;
}

static int commit_file(void *user) {
    dh_state *s = user;
    if (fflush(s->out) || fsync(fileno(s->out))) {
        fprintf(stderr, "freenas_sweep: darts hnas: cannot write %s results: %s\n", s->phase,
                strerror(errno));
        return 1;
    }
    return 0;
}

static void progress(void *user, long finished, double el, int force) {
    dh_state *s = user;
    const double now = fn_now();
    if (s->quiet || (!force && now - s->last_progress < s->c->progress_s)) return;
    s->last_progress = now;
    printf("[darts hnas] %s: %ld finished in %.1f s\n", s->phase, finished, el);
    fflush(stdout);
}

static int next_metric(void *user, long *item, int *attempt) {
    dh_state *s = user;
    *item = s->handed++;
    *attempt = 1;
    return 1;
}

/* ---- phase 2: the search ------------------------------------------------------------------ */
static char *run_step(void *user, long item, int attempt) {
    dh_state *s = user;
    (void)attempt;
    const long n1 = s->pool.n + 1, step = item / n1, arch = item % n1 - 1;
    char *t = mallocCheck(1024);
    if (arch < 0) { /* a cached step: nothing to train */
        snprintf(t, 1024, "{\"step\": %ld, \"arch\": -1, \"rank\": %d}", step, s->rank);
        return t;
    }
    if (s->threads > 0) omp_set_num_threads(s->threads);
    train_recipe r = train_recipe_hnas();
    r.epochs = s->p->dh->epochs;
    r.batch = s->p->dh->train_batch;
    r.seed = hnas_dpool_train_seed(s->p->sc.seed, arch);
    train_opts o = {NULL, 0, 0, NULL};
    train_result res;
    char err[512] = "";
    const double t0 = fn_now();
    const int rc = train_darts(&s->pool.gt[arch], s->p->dh->channels, s->p->dh->layers, &r,
                               &s->data, &s->split, &o, &res, err, sizeof err);
    const double acc = rc ? NAN : 100.0 * res.valid_acc;
    train_result_free(&res);
    json_t *j = json_object();
    json_object_set_new(j, "step", json_integer(step));
    json_object_set_new(j, "arch", json_integer(arch));
    json_object_set_new(j, "valid_acc", isfinite(acc) ? json_real(acc) : json_null());
    json_object_set_new(j, "train_s", json_real(fn_now() - t0));
    json_object_set_new(j, "rank", json_integer(s->rank));
    if (rc) json_object_set_new(j, "error", json_string(err));
    free(t);
    t = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(j);
    return t;
}

static int next_step(void *user, long *item, int *attempt) {
    dh_state *s = user;
    hnas_dbo_eval e;
    const int r = hnas_dbo_next(s->bo, &e, s->err, sizeof s->err);
    if (r < 0) {
        fprintf(stderr, "freenas_sweep: darts hnas: %s\n", s->err);
        s->failed++;
        return 0;
    }
    if (r == 0) return 0;
    *item = (long)e.step * (s->pool.n + 1) + (e.arch + 1);
    *attempt = 1;
    return 1;
}

static int keep_step(void *user, const char *text) {
    dh_state *s = user;
    json_t *j = json_loads(text, 0, NULL);
    const int step = (int)json_integer_value(json_object_get(j, "step"));
    if (!j || step < 0 || step >= s->bo->c.T || s->bo->state[step] != HNAS_DBO_PENDING) {
        json_decref(j);
        return 1;
    }
    hnas_dbo_eval e = s->bo->ev[step];
    json_t *va = json_object_get(j, "valid_acc");
    e.valid_acc = json_is_number(va) ? json_number_value(va) : NAN;
    e.train_s = json_is_number(json_object_get(j, "train_s"))
                    ? json_number_value(json_object_get(j, "train_s")) : NAN;
    e.rank = (int)json_integer_value(json_object_get(j, "rank"));
    if (e.arch >= 0 && !isfinite(e.valid_acc)) {
        const char *why = json_string_value(json_object_get(j, "error"));
        fprintf(stderr, "freenas_sweep: darts hnas: step %d (genotype %ld) failed: %s (the search "
                "stops short; rerun to resume it)\n", step, e.arch, why ? why : "no accuracy");
        hnas_dbo_release(s->bo, step);
        s->failed++;
        json_decref(j);
        return 0;
    }
    json_decref(j);
    if (hnas_dbo_finish(s->bo, &e, s->err, sizeof s->err)) return 1;
    char line[4096];
    hnas_dbo_eval_json(&s->bo->ev[step], &s->pool, line, sizeof line);
    fprintf(s->out, "%s\n", line);
    s->done++;
    if (!s->quiet) {
        const hnas_dbo_eval *f = &s->bo->ev[step];
        if (f->arch >= 0)
            printf("[darts hnas] step %d (rank %d): nu %.4f, log10 mu %.4f, genotype %ld, "
                   "valid %.2f %%, %.1f s\n", step, f->rank, f->nu, f->log10_mu, f->arch,
                   f->valid_acc, f->train_s);
        else
            printf("[darts hnas] step %d: nu %.4f, log10 mu %.4f repeats step %d (cached)\n",
                   step, f->nu, f->log10_mu, f->same_as);
        fflush(stdout);
    }
    return 0;
}

static void name_item(void *user, long item, char *buf, size_t len) {
    (void)user;
    snprintf(buf, len, "%ld", item);
}

static char *timeout_text(void *user, long item, int attempt, int rank, const char *host,
                          double seconds) {
    (void)user;
    (void)attempt;
    (void)host;
    (void)seconds;
    char *t = mallocCheck(64);
    snprintf(t, 64, "{\"timeout\": %ld, \"rank\": %d}", item, rank);
    return t;
}

static int all_ok(MPI_Comm comm, int bad) {
    int any;
    mpiCheck(MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, comm));
    return !any;
}

static int mkdirs(const char *path) {
    char tmp[SWEEP_PATHLEN + 64];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *q = tmp + 1; *q; q++)
        if (*q == '/') {
            *q = '\0';
            if (mkdir(tmp, 0755) && errno != EEXIST) return -1;
            *q = '/';
        }
    return mkdir(tmp, 0755) && errno != EEXIST ? -1 : 0;
}

int sweep_hnas_darts_search(MPI_Comm comm, const sweep_config *c, const sweep_params *p,
                            uint64_t job_id, int threads, int quiet) {
    int rank;
    MPI_Comm_rank(comm, &rank);
    static dh_state s; /* the callbacks' state; one search at a time */
    memset(&s, 0, sizeof s);
    s.c = c;
    s.p = p;
    s.rank = rank;
    s.threads = threads;
    s.quiet = quiet || rank != 0;
    s.last_progress = s.t0 = fn_now();
    const sweep_darts_hnas *dh = p->dh;
    char dir[SWEEP_PATHLEN + 64], jobdir[SWEEP_PATHLEN + 64], steps[SWEEP_PATHLEN + 64];
    sweep_hnas_darts_paths(c->output, job_id, dir, jobdir, steps, sizeof steps);
    int bad = 0, rc = SWEEP_HNAS_DARTS_ERROR;
    char err[SWEEP_PATHLEN + 1024] = "";
    if (rank == 0 && mkdirs(jobdir)) {
        snprintf(err, sizeof err, "cannot create %s: %s", jobdir, strerror(errno));
        bad = 1;
    }
    /* the images, on every rank */
    if (!bad && train_data_load(&s.data, p->sc.dataset, c->data, dh->images, err, sizeof err))
        bad = 1;
    if (!bad) {
        s.split = train_split_portion(s.data.n, 0.5);
        if (hnas_dpool_batch(&s.data, s.split.train0, s.split.n_train, dh->ntk_batch, p->sc.seed,
                             &s.bx, &s.by, err, sizeof err))
            bad = 1;
    }
    /* the pool: rank 0 reads or builds it, every rank gets it */
    int built = 0;
    if (!bad && rank == 0 &&
        hnas_dpool_open(&s.pool, dir, p->sc.seed, dh->pool, dh->pool_width, &built, err, sizeof err))
        bad = 1;
    if (!all_ok(comm, bad)) {
        if (bad) fprintf(stderr, "freenas_sweep: darts hnas (rank %d): %s\n", rank, err);
        goto out;
    }
    {
        darts_genotype *gt = rank == 0 ? s.pool.gt : mallocCheck(sizeof *gt * (size_t)dh->pool);
        mpiCheck(MPI_Bcast(gt, (int)(sizeof *gt * (size_t)dh->pool), MPI_BYTE, 0, comm));
        if (rank != 0) {
            hnas_dpool_from(&s.pool, p->sc.seed, dh->pool, dh->pool_width, gt);
            free(gt);
        }
    }
    if (rank == 0 && !quiet)
        printf("[darts hnas] job %016llx: pool of %ld genotypes (width %d) %s %s/; %d images "
               "(train %d, valid %d)\n", (unsigned long long)job_id, dh->pool, dh->pool_width,
               built ? "built into" : "read from", dir, s.data.n, s.split.n_train, s.split.n_valid);
    /* phase 1: M and kappa of the genotypes the metric cache lacks */
    long nmiss = 0;
    char mpath[SWEEP_PATHLEN + 256];
    hnas_dpool_metrics_path(&s.pool, dir, dh->channels, dh->layers, dh->ntk_batch, s.data.n,
                            mpath, sizeof mpath);
    if (rank == 0) {
        if (hnas_dpool_metrics_load(&s.pool, mpath, err, sizeof err)) bad = 1;
        else if (!(s.out = fopen(mpath, "a"))) {
            snprintf(err, sizeof err, "cannot open %s: %s", mpath, strerror(errno));
            bad = 1;
        }
        s.missing = mallocCheck(sizeof(long) * (size_t)dh->pool);
        for (long i = 0; i < dh->pool && !bad; i++)
            if (isnan(s.pool.M[i]) && isnan(s.pool.kappa[i])) s.missing[nmiss++] = i;
    }
    if (!all_ok(comm, bad)) {
        if (bad) fprintf(stderr, "freenas_sweep: darts hnas: %s\n", err);
        goto out;
    }
    mpiCheck(MPI_Bcast(&nmiss, 1, MPI_LONG, 0, comm));
    if (rank != 0) s.missing = mallocCheck(sizeof(long) * (size_t)(nmiss > 0 ? nmiss : 1));
    if (nmiss) mpiCheck(MPI_Bcast(s.missing, (int)nmiss, MPI_LONG, 0, comm));
    coord_stats cs;
    if (nmiss) {
        if (rank == 0 && !quiet)
            printf("[darts hnas] M and kappa of %ld genotypes (%ld cached) over the ranks\n", nmiss,
                   dh->pool - nmiss);
        s.phase = "M and kappa";
        const coord_work w1 = {&s, "freenas_sweep", nmiss, 0, 0, run_metric, next_metric,
                               keep_metric, timeout_text, commit_file, progress, name_item};
        coord_run(comm, &w1, &cs);
        if (!cs.complete) {
            rc = cs.io_error ? SWEEP_HNAS_DARTS_ERROR : SWEEP_HNAS_DARTS_INTERRUPTED;
            goto out;
        }
    }
    if (rank == 0) {
        fclose(s.out);
        s.out = NULL;
    }
    /* phase 2: the search, resumed from its step records */
    long nitems = 0;
    static hnas_dbo bo;
    if (rank == 0) {
        hnas_dbo_config bc;
        hnas_dbo_config_default(&bc);
        bc.seed = p->sc.seed;
        bc.T = p->budget;
        if (!strcmp(p->strategy, "ei")) bc.acq = (bo_acq){BO_ACQ_EI, 0.0, 0};
        s.bo = &bo;
        hnas_dbo_eval *ev = mallocCheck(sizeof *ev * HNAS_DBO_MAX_T);
        int n = 0;
        if (hnas_dbo_init(&bo, &bc, &s.pool, err, sizeof err) ||
            sweep_hnas_darts_load_steps(steps, ev, bc.T, &n, err, sizeof err))
            bad = 1;
        for (int i = 0; i < n && !bad; i++)
            if (hnas_dbo_finish(&bo, &ev[i], err, sizeof err)) bad = 1;
        free(ev);
        if (!bad && !(s.out = fopen(steps, "a"))) {
            snprintf(err, sizeof err, "cannot open %s: %s", steps, strerror(errno));
            bad = 1;
        }
        nitems = bc.T - n;
        if (!bad && !quiet)
            printf("[darts hnas] search: T = %d, %d steps recorded, %ld to run (UCB kappa %g)\n",
                   bc.T, n, nitems, bc.acq.kappa);
    }
    if (!all_ok(comm, bad)) {
        if (bad) fprintf(stderr, "freenas_sweep: darts hnas: %s\n", err);
        goto out;
    }
    mpiCheck(MPI_Bcast(&nitems, 1, MPI_LONG, 0, comm));
    if (!nitems) {
        rc = SWEEP_HNAS_DARTS_OK;
        goto out;
    }
    s.phase = "search";
    s.done = 0;
    const coord_work w2 = {&s, "freenas_sweep", nitems, 0, 0, run_step, next_step, keep_step,
                           timeout_text, commit_file, progress, name_item};
    coord_run(comm, &w2, &cs);
    rc = cs.complete ? SWEEP_HNAS_DARTS_OK
       : cs.io_error ? SWEEP_HNAS_DARTS_ERROR : SWEEP_HNAS_DARTS_INTERRUPTED;
    int failed = s.failed;
    mpiCheck(MPI_Bcast(&failed, 1, MPI_INT, 0, comm));
    if (failed && rc == SWEEP_HNAS_DARTS_OK) rc = SWEEP_HNAS_DARTS_ERROR;
    if (rank == 0 && !quiet && rc == SWEEP_HNAS_DARTS_OK) {
        int size;
        MPI_Comm_size(comm, &size);
        const int pk = hnas_dbo_pick(&bo);
        char gs[1024] = "";
        if (pk >= 0) darts_genotype_string(&s.pool.gt[bo.ev[pk].arch], gs, sizeof gs);
        printf("[darts hnas] search done: %.1f s on %d rank%s; pick: step %d, genotype %ld, "
               "valid %.2f %%\n[darts hnas] %s\n", fn_now() - s.t0, size, size > 1 ? "s" : "",
               pk, pk >= 0 ? bo.ev[pk].arch : -1L, pk >= 0 ? bo.ev[pk].valid_acc : NAN, gs);
        fflush(stdout);
    }
out:
    if (s.out) fclose(s.out);
    free(s.missing);
    free(s.bx);
    free(s.by);
    hnas_dpool_free(&s.pool);
    train_data_free(&s.data);
    return rc;
}
