/* sweep/freenas_sweep.c: the `freenas_sweep` command, the main entry point of freenas.
 *
 *   freenas_sweep configs/quickstart.yaml                  # one rank (no mpirun needed)
 *   mpirun -n 16 freenas_sweep configs/nb201_table2.yaml   # 16 ranks, one GPU each if any
 *   freenas_sweep configs/alpha_scale.yaml --dry-run       # print the plan, run nothing
 *   freenas_sweep CONFIG --shard 3/8                        # one shard (SLURM job arrays) ...
 *   freenas_sweep CONFIG --merge                            # ... and the merge step
 *
 * Every rank parses the same config text (rank 0 reads the file and broadcasts it) and
 * expands the same plan; rank 0 opens the results directory, resumes from its records and
 * hands jobs out (mpi/coordinator.h); when every job has finished, the ranks reduce their
 * ensemble scores (mpi/reduce.h) and rank 0 prints the summary and the ensembles.
 * Exit codes: sweep/sweep_args.h (and --help). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <omp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gpu/backend_cuda.h"
#include "mpi/coordinator.h"
#include "mpi/mpi_check.h"
#include "mpi/reduce.h"
#include "search/bundle.h"
#include "sweep/sweep_run.h"
#include "sweep/sweep_hnas_darts.h"
#include "base/common.h"
#include "sweep/manifest.h"
#include "sweep/sweep_args.h"
#include "sweep/summary.h"

/* A stop request can reach a rank more than once: `pkill -USR1 -f freenas_sweep` or
 * `scancel --signal=USR1 --full` signal each rank directly and again through mpirun (or
 * srun, or the batch script's trap), which forwards it. Signals within SIGNAL_REPEAT_S of
 * the first are that one request; a signal after it is a second request and abandons the
 * running jobs. Only async-signal-safe calls here (clock_gettime, _exit). */
#define SIGNAL_REPEAT_S 1.0
static double first_signal_s; /* touched only by on_signal, which the others are blocked in */

static void on_signal(int sig) {
    const double now = fn_now(); /* clock_gettime(CLOCK_MONOTONIC) alone */
    if (coord_signal) {
        if (now - first_signal_s >= SIGNAL_REPEAT_S) _exit(SWEEP_EXIT_INTERRUPTED);
        return; /* the same request, delivered twice */
    }
    first_signal_s = now;
    coord_signal = sig;
}

/* Rank 0 reads the file; every rank parses the same bytes. */
static char *read_config_text(MPI_Comm comm, const char *path, long *len_out, char *err, size_t errlen) {
    int rank;
    MPI_Comm_rank(comm, &rank);
    long len = -1;
    char *text = NULL;
    if (rank == 0) {
        size_t n;
        text = sweep_config_read(path, &n, err, errlen);
        if (text) len = (long)n;
    }
    mpiCheck(MPI_Bcast(&len, 1, MPI_LONG, 0, comm));
    if (len < 0) { free(text); return NULL; }
    if (rank) text = mallocCheck((size_t)len + 1);
    mpiCheck(MPI_Bcast(text, (int)len, MPI_CHAR, 0, comm));
    text[len] = '\0';
    *len_out = len;
    return text;
}

/* Whole-world agreement on an error: returns 1 if any rank had one (rank 0 prints its own or
 * the first one reported). */
static int any_error(MPI_Comm comm, int mine) {
    int any;
    mpiCheck(MPI_Allreduce(&mine, &any, 1, MPI_INT, MPI_MAX, comm));
    return any;
}

/* The resolved config, one top-level key per line (the manifest holds the same JSON). */
static void print_config(const sweep_config *c) {
    char *cj = sweep_config_json(c, 0);
    json_t *o = json_loads(cj, 0, NULL);
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        if (json_is_array(v) && json_array_size(v) == 0) continue;
        if (json_is_object(v)) {
            const char *k2;
            json_t *v2;
            json_object_foreach(v, k2, v2) {
                char *t = json_dumps(v2, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
                printf("#   %s.%s: %s\n", k, k2, t);
                free(t);
            }
            continue;
        }
        char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
        printf("#   %s: %s\n", k, t);
        free(t);
    }
    json_decref(o);
    free(cj);
}

typedef struct { sweep_ens_acc *a; const sweep_config *c; const sweep_plan *p; } resume_ctx;
static void resume_scores(long j, const double *S, int rows, int cols, void *vx) {
    resume_ctx *x = vx;
    sweep_ens_acc_add(x->a, x->c, x->p, j, S, rows, cols);
}

/* --merge: the shard directories under dir, ordered by (N, I); returns how many. */
typedef struct { int i, n; char name[256]; } shard_dir;
static int shard_cmp(const void *a, const void *b) {
    const shard_dir *x = a, *y = b;
    return x->n != y->n ? (x->n > y->n) - (x->n < y->n) : (x->i > y->i) - (x->i < y->i);
}
static int find_shards(const char *dir, shard_dir **out) {
    *out = NULL;
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        shard_dir s;
        char tail;
        if (sscanf(e->d_name, "shard-%d-of-%d%c", &s.i, &s.n, &tail) != 2) continue;
        if (n == cap) *out = realloc(*out, (size_t)(cap = cap ? 2 * cap : 16) * sizeof **out);
        snprintf(s.name, sizeof s.name, "%s", e->d_name);
        (*out)[n++] = s;
    }
    closedir(d);
    if (n) qsort(*out, (size_t)n, sizeof **out, shard_cmp);
    return n;
}

static int cpus_available(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* ---- the phases of a run, in order; each returns -1 to go on, else the exit code of an
 * early end (usage, config, results directory), after which main frees and finalizes ---- */
typedef struct {
    MPI_Comm world;
    int rank, size;
    sweep_args a;
    coord_node node;
    sweep_worker w;
    char gpu_id[320];          /* "host/pci-bus-id" of the bound GPU, "" without one */
    int reduce_mode;           /* FREENAS_REDUCE (mpi/reduce.h) */
    char *text;                /* the config file's text */
    long text_len;
    sweep_config cfg;
    sweep_plan plan;
    double tplan;
    nb201_benchmark *bench;
    sweep_records rec;         /* rank 0 */
    sweep_job_state *st;       /* rank 0: per plan index */
    long *todo, ntodo, ndone;  /* rank 0 */
    sweep_ens_acc acc;
    int ensembles;             /* this run computes the ensembles */
    char err[SWEEP_ERRLEN];
} sweep_main;


/* This rank's node, GPU binding and worker description. */
static void phase_bind(sweep_main *m) {
    coord_node_bind(m->world, &m->node);
    m->w = (sweep_worker){.rank = m->rank, .proxies = sweep_proxy_cache_new(),
                          .bundle = search_bundle_new(), .ranks_on_node = m->node.local_size};
    gethostname(m->w.host, sizeof m->w.host);
    snprintf(m->w.device, sizeof m->w.device, "cpu");
    if (m->node.gpu >= 0) {
        snprintf(m->gpu_id, sizeof m->gpu_id, "%s/%s", m->w.host, m->node.bus);
        snprintf(m->w.device, sizeof m->w.device, "cpu (cuda:%d %.60s bound for reductions)",
                 m->node.gpu, m->node.desc);
        snprintf(m->w.gpu, sizeof m->w.gpu, "cuda:%d (%.100s)", m->node.gpu, m->node.desc);
    }
}

/* The config (rank 0 reads, every rank parses), command-line overrides, the plan. */
static int phase_config(sweep_main *m) {
    const sweep_args *a = &m->a;
    sweep_config *cfg = &m->cfg;
    char *err = m->err;
    const size_t errlen = sizeof m->err;
    m->text = read_config_text(m->world, a->config, &m->text_len, err, errlen);
    int bad = !m->text || sweep_config_parse(a->config, m->text, (size_t)m->text_len, cfg, err, errlen);
    if (!bad) {
        if (a->output) snprintf(cfg->output, sizeof cfg->output, "%s", a->output), cfg->output_mark = (sweep_mark){0, 0};
        if (a->data) snprintf(cfg->data, sizeof cfg->data, "%s", a->data), cfg->data_mark = (sweep_mark){0, 0};
        if (a->benchmark) snprintf(cfg->benchmark, sizeof cfg->benchmark, "%s", a->benchmark), cfg->benchmark_mark = (sweep_mark){0, 0};
        if (a->threads >= 0) cfg->threads = a->threads;
        if (a->bundle >= 0) cfg->bundle = a->bundle;
        if (a->job_timeout >= 0) cfg->job_timeout_s = a->job_timeout;
        if (a->max_attempts >= 0) cfg->max_attempts = a->max_attempts;
        sweep_config_default_paths(cfg); /* data roots, for what neither gave */
        bad = sweep_config_check(cfg, err, errlen);
    }
    if (!bad && a->shard_n) { /* a shard has its own results directory (and lock) */
        size_t ol = strlen(cfg->output);
        if (snprintf(cfg->output + ol, sizeof cfg->output - ol, "/shard-%d-of-%d", a->shard_i,
                     a->shard_n) >= (int)(sizeof cfg->output - ol)) {
            snprintf(err, errlen, "output path too long for --shard");
            bad = 1;
        }
    }
    m->tplan = fn_now();
    if (!bad) bad = sweep_plan_build(cfg, &m->plan, err, errlen);
    m->tplan = fn_now() - m->tplan;
    if (bad) {
        if (m->rank == 0) fprintf(stderr, "freenas_sweep: %s\n", err);
        return SWEEP_EXIT_USAGE;
    }
    const int local_size = m->node.local_size;
    m->w.threads = cfg->threads > 0 ? cfg->threads : (cpus_available() / local_size > 0 ? cpus_available() / local_size : 1);
    return -1;
}

/* The NB201 ground truth, on every rank. */
static int phase_benchmark(sweep_main *m) {
    int bad = m->cfg.benchmark[0] && nb201_benchmark_load(m->cfg.benchmark, &m->bench, m->err, sizeof m->err);
    if (any_error(m->world, bad)) {
        if (m->rank == 0) fprintf(stderr, "freenas_sweep: %s\n", bad ? m->err : "a rank could not read the benchmark file");
        return SWEEP_EXIT_USAGE;
    }
    m->w.bench = m->bench;
    return -1;
}

/* Rank 0: the resolved config, the results directory, resume and merge state, the jobs to
 * run; a dry run lists them and ends here. */
static int phase_results(sweep_main *m) {
    const sweep_args *a = &m->a;
    const sweep_config *cfg = &m->cfg;
    const sweep_plan *plan = &m->plan;
    char *err = m->err;
    const size_t errlen = sizeof m->err;
    const int rank = m->rank, size = m->size;
    memset(&m->rec, 0, sizeof m->rec);
    m->rec.fd = m->rec.lock_fd = -1;
    long nfailed_before = 0, ngave_up = 0;
    sweep_ens_acc_init(&m->acc, cfg, plan);
    if (rank == 0) {
        printf("# freenas_sweep %s: %s, %d rank%s on %s, %d thread%s per rank\n", cfg->name,
               a->config, size, size > 1 ? "s" : "", m->w.host, m->w.threads, m->w.threads > 1 ? "s" : "");
        print_config(cfg);
        printf("# plan: %ld jobs (%ld duplicates dropped, %ld excluded), planned in %.3f s\n",
               plan->njobs, plan->nduplicates, plan->nexcluded, m->tplan);
        if (a->shard_n)
            printf("# shard %d/%d: the %ld jobs with plan index %% %d == %d, into %s (ensembles: "
                   "by the --merge step)\n", a->shard_i, a->shard_n,
                   plan->njobs / a->shard_n + (a->shard_i < plan->njobs % a->shard_n), a->shard_n,
                   a->shard_i, cfg->output);
    }
    /* a shard's ensembles would be partial: the merge step computes them from the records */
    m->ensembles = cfg->nensembles && cfg->kind == SWEEP_KIND_SEARCH && !a->shard_n;
    int status = 0;
    if (rank == 0 && !a->dry_run) {
        if (records_open(&m->rec, cfg->output, a->lock_wait, err, errlen)) status = SWEEP_EXIT_RESULTS;
    }
    m->st = rank == 0 ? callocCheck((size_t)(plan->njobs ? plan->njobs : 1), sizeof *m->st) : NULL;
    if (rank == 0 && a->dry_run) { /* read-only: what an earlier run already finished */
        snprintf(m->rec.dir, sizeof m->rec.dir, "%s", cfg->output);
        char path[4200];
        snprintf(path, sizeof path, "%s/results.jsonl", cfg->output);
        if (access(path, R_OK) == 0 && records_scan(&m->rec, cfg, plan, m->st, NULL, NULL, err, errlen))
            status = SWEEP_EXIT_RESULTS;
        shard_dir *sh;
        int nsh = a->merge ? find_shards(cfg->output, &sh) : 0;
        for (int i = 0; i < nsh; i++) printf("# merge: would merge %s/%s\n", cfg->output, sh[i].name);
        if (a->merge) {
            if (!nsh) printf("# merge: no shard-*-of-* directories in %s\n", cfg->output);
            free(sh);
        }
    }
    if (rank == 0 && !status && !a->dry_run) {
        /* resumed jobs' scores join rank 0's ensemble contribution */
        resume_ctx rc = {&m->acc, cfg, plan};
        if (records_scan(&m->rec, cfg, plan, m->st, m->ensembles ? resume_scores : NULL, &rc, err, errlen))
            status = SWEEP_EXIT_RESULTS;
        shard_dir *sh;
        int nsh = !status && a->merge ? find_shards(cfg->output, &sh) : 0;
        if (a->merge && !status && !nsh)
            fprintf(stderr, "freenas_sweep: warning: --merge found no shard-*-of-* directories in %s\n",
                    cfg->output);
        for (int i = 0; i < nsh && !status; i++) {
            char sdir[SWEEP_PATHLEN + 260]; /* dir / shard name (256) */
            snprintf(sdir, sizeof sdir, "%s/%s", cfg->output, sh[i].name);
            long cnt[4] = {0};
            if (records_merge(&m->rec, sdir, cfg, plan, m->st, m->ensembles ? resume_scores : NULL, &rc,
                              a->lock_wait, cnt, err, errlen))
                status = SWEEP_EXIT_RESULTS;
            else
                printf("# merge: %s: %ld ok records merged, %ld already here, %ld failed, %ld "
                       "not in this plan or unreadable\n", sh[i].name, cnt[0], cnt[1], cnt[2], cnt[3]);
        }
        if (a->merge && !status) free(sh);
    }
    if (rank == 0 && !status && a->shard_n) /* jobs of other shards: neither run nor counted */
        for (long j = 0; j < plan->njobs; j++)
            if (j % a->shard_n != a->shard_i) m->st[j].state = JOB_OTHER_SHARD;
    if (rank == 0 && !status) {
        m->todo = mallocCheck((size_t)(plan->njobs ? plan->njobs : 1) * sizeof *m->todo);
        for (long j = 0; j < plan->njobs; j++) {
            if (m->st[j].state == JOB_OTHER_SHARD) continue;
            if (m->st[j].state == JOB_OK) m->ndone++;
            else if (sweep_summary_gave_up(cfg, &m->st[j])) ngave_up++;
            else {
                if (m->st[j].state == JOB_FAILED) nfailed_before++;
                m->todo[m->ntodo++] = j;
            }
        }
        printf("# resume: %ld done, %ld failed earlier (retried now), %ld to run", m->ndone,
               nfailed_before, m->ntodo);
        if (ngave_up)
            printf("; %ld gave up after %d attempts (not run again)", ngave_up, cfg->max_attempts);
        if (m->rec.nforeign) printf("; %ld records of jobs not in this plan (kept, ignored)", m->rec.nforeign);
        if (m->rec.nduplicate_ok) printf("; %ld duplicate ok records ignored", m->rec.nduplicate_ok);
        if (m->rec.ninvalid) printf("; %ld invalid ok records (their jobs run again)", m->rec.ninvalid);
        printf("\n");
        if (a->dry_run) {
            printf("%6s  %-16s  %s\n", "index", "job_id", "parameters");
            for (long j = 0, shown = 0; j < plan->njobs && shown < 50; j++) {
                if (m->st[j].state == JOB_OTHER_SHARD) continue;
                shown++;
                char canon[SWEEP_PATHLEN + 1024], id[17];
                sweep_params prm;
                sweep_plan_params(cfg, &plan->jobs[j], &prm);
                sweep_params_canonical(&prm, NULL, canon, sizeof canon);
                sweep_id_hex(plan->jobs[j].id, id);
                printf("%6ld  %s  %s\n", j, id, canon);
            }
            if (m->ndone + m->ntodo > 50) printf("   ... %ld more\n", m->ndone + m->ntodo - 50);
            for (int e = 0; e < cfg->nensembles; e++)
                printf("# ensemble %s: %ld groups\n", cfg->ensembles[e].name, plan->ens[e].ngroups);
        }
    }
    if (a->dry_run) {
        if (rank == 0 && status) fprintf(stderr, "freenas_sweep: %s\n", err);
        return status ? SWEEP_EXIT_RESULTS : SWEEP_EXIT_OK;
    }
    if (any_error(m->world, status)) {
        if (rank == 0) fprintf(stderr, "freenas_sweep: %s\n", err);
        return SWEEP_EXIT_RESULTS;
    }
    return -1;
}

/* The manifest: hosts and devices of every rank, the resolved config (rank 0 writes it). */
static int phase_manifest(sweep_main *m) {
    int status = 0;
    enum { HL = 256, DL = 128 };
    char *hosts = m->rank == 0 ? mallocCheck((size_t)m->size * HL) : NULL;
    char *devs = m->rank == 0 ? mallocCheck((size_t)m->size * DL) : NULL;
    mpiCheck(MPI_Gather(m->w.host, HL, MPI_CHAR, hosts, HL, MPI_CHAR, 0, m->world));
    mpiCheck(MPI_Gather(m->w.device, DL, MPI_CHAR, devs, DL, MPI_CHAR, 0, m->world));
    if (m->rank == 0) {
        json_t *hj = json_array(), *dj = json_array();
        for (int r = 0; r < m->size; r++) {
            const char *h = hosts + (size_t)r * HL;
            json_array_append_new(dj, json_string(devs + (size_t)r * DL));
            size_t i;
            for (i = 0; i < json_array_size(hj); i++)
                if (!strcmp(json_string_value(json_object_get(json_array_get(hj, i), "host")), h)) break;
            if (i == json_array_size(hj)) {
                json_t *e = json_object();
                json_object_set_new(e, "host", json_string(h));
                json_object_set_new(e, "ranks", json_integer(0));
                json_array_append_new(hj, e);
            }
            json_t *e = json_array_get(hj, i);
            json_object_set_new(e, "ranks", json_integer(json_integer_value(json_object_get(e, "ranks")) + 1));
        }
        char mpiv[MPI_MAX_LIBRARY_VERSION_STRING];
        int ml;
        MPI_Get_library_version(mpiv, &ml);
        mpiv[strcspn(mpiv, ",\n")] = '\0';
        char *hs = json_dumps(hj, JSON_COMPACT), *ds = json_dumps(dj, JSON_COMPACT);
        manifest_info mi = {m->text, m->a.overrides, m->size, m->w.threads, hs, ds, mpiv};
        int changed, runs;
        char msg[2048];
        if (manifest_update(m->cfg.output, &m->cfg, &m->plan, &mi, &changed, &runs, msg, sizeof msg, m->err, sizeof m->err)) {
            fprintf(stderr, "freenas_sweep: %s\n", m->err);
            status = SWEEP_EXIT_RESULTS;
        } else if (changed) fprintf(stderr, "freenas_sweep: note: %s\n", msg);
        free(hs);
        free(ds);
        json_decref(hj);
        json_decref(dj);
    }
    free(hosts);
    free(devs);
    if (any_error(m->world, status)) return SWEEP_EXIT_RESULTS;
    return -1;
}

/* SIGTERM, SIGUSR1, SIGINT: no new jobs (coord_signal), the running ones finish. */
static void phase_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask); /* no handler interrupts another */
    sigaddset(&sa.sa_mask, SIGTERM);
    sigaddset(&sa.sa_mask, SIGUSR1);
    sigaddset(&sa.sa_mask, SIGINT);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
}

/* Kind hnas on space darts: each such search that has no ok record runs over all ranks
 * first (sweep/sweep_hnas_darts.h); its job below then writes the record. */
static void phase_hnas_darts(sweep_main *m) {
    if (m->cfg.kind != SWEEP_KIND_HNAS || !sweep_config_has_space(&m->cfg, "darts")) return;
    long n = 0, *list = NULL;
    if (m->rank == 0) {
        list = mallocCheck(sizeof(long) * (size_t)(m->ntodo ? m->ntodo : 1));
        for (long i = 0; i < m->ntodo; i++) {
            sweep_params prm;
            sweep_plan_params(&m->cfg, &m->plan.jobs[m->todo[i]], &prm);
            if (prm.dh) list[n++] = m->todo[i];
        }
    }
    mpiCheck(MPI_Bcast(&n, 1, MPI_LONG, 0, m->world));
    if (m->rank != 0) list = mallocCheck(sizeof(long) * (size_t)(n ? n : 1));
    if (n) mpiCheck(MPI_Bcast(list, (int)n, MPI_LONG, 0, m->world));
    for (long i = 0; i < n; i++) {
        sweep_params prm;
        sweep_plan_params(&m->cfg, &m->plan.jobs[list[i]], &prm);
        if (sweep_hnas_darts_search(m->world, &m->cfg, &prm, m->plan.jobs[list[i]].id,
                                    m->w.threads, m->a.quiet) == SWEEP_HNAS_DARTS_INTERRUPTED)
            break; /* coord_signal is set: the job loop below starts nothing either */
    }
    free(list);
}

/* Every job over the ranks (mpi/coordinator.h through sweep/sweep_run.c). */
static void phase_run(sweep_main *m, coord_stats *cs) {
    sweep_run_ctx x = {.c = &m->cfg, .p = &m->plan, .w = &m->w, .acc = &m->acc, .rec = &m->rec,
                       .st = m->st, .todo = m->todo, .ntodo = m->ntodo, .ndone_before = m->ndone,
                       .quiet = m->a.quiet};
    sweep_run_jobs(m->world, &x, cs);
}

/* The summary, the ensembles (after the reduction), the exit code; a lost or stuck rank
 * ends every rank here with MPI_Abort. */
static int phase_finish(sweep_main *m, const coord_stats *cs) {
    int exit_code = SWEEP_EXIT_OK;
    if (m->rank == 0 && (cs->lost_rank >= 0 || cs->stuck)) {
        /* a rank that is gone or stuck in a job never joins a collective again: the summary,
         * whole records, then MPI_Abort ends every rank (and the stuck job) */
        sweep_summary_print(stdout, &m->cfg, &m->plan, m->st);
        fflush(stdout);
        if (records_close(&m->rec))
            fprintf(stderr, "freenas_sweep: cannot sync %s/results.jsonl: %s\n", m->cfg.output,
                    strerror(errno));
        if (cs->lost_rank >= 0)
            fprintf(stderr, "freenas_sweep: rank %d was lost: ending every rank (MPI_Abort, exit "
                    "code %d); rerun the same command to resume\n", cs->lost_rank, SWEEP_EXIT_RANK_LOST);
        else
            fprintf(stderr, "freenas_sweep: %d rank%s still inside a timed-out job: ending every "
                    "rank (MPI_Abort, exit code %d); rerun the same command to retry it\n",
                    cs->stuck, cs->stuck > 1 ? "s are" : " is", SWEEP_EXIT_TIMEOUT);
        fflush(stderr);
        MPI_Abort(m->world, cs->lost_rank >= 0 ? SWEEP_EXIT_RANK_LOST : SWEEP_EXIT_TIMEOUT);
    }
    if (cs->complete && !cs->io_error) {
        const char *path;
        int rc = coord_allreduce_i64(m->world, m->acc.buf, m->acc.n, m->gpu_id, m->reduce_mode, &path,
                                     m->err, sizeof m->err);
        if (m->rank == 0) {
            sweep_summary_print(stdout, &m->cfg, &m->plan, m->st);
            if (rc) fprintf(stderr, "freenas_sweep: ensemble reduction failed: %s\n", m->err);
            else if (m->ensembles) {
                if (sweep_ens_finish(&m->acc, &m->cfg, &m->plan, m->bench, m->cfg.output, m->err, sizeof m->err))
                    fprintf(stderr, "freenas_sweep: %s\n", m->err);
                else if (strcmp(path, "none"))
                    printf("# ensemble scores reduced over %d rank%s (%s)\n", m->size,
                           m->size > 1 ? "s" : "", path);
            }
            long failed = 0, gave_up = 0;
            for (long j = 0; j < m->plan.njobs; j++) {
                failed += m->st[j].state == JOB_FAILED;
                gave_up += sweep_summary_gave_up(&m->cfg, &m->st[j]);
            }
            printf("# this run: %ld jobs in %.2f s (%.2f jobs/s); results in %s/results.jsonl\n",
                   cs->ran, cs->seconds, cs->seconds > 0 ? cs->ran / cs->seconds : 0, m->cfg.output);
            exit_code = cs->timeouts ? SWEEP_EXIT_TIMEOUT : failed > gave_up ? SWEEP_EXIT_JOBS_FAILED
                      : gave_up ? SWEEP_EXIT_GAVE_UP : SWEEP_EXIT_OK;
        }
    } else if (m->rank == 0) {
        sweep_summary_print(stdout, &m->cfg, &m->plan, m->st);
        if (cs->io_error) exit_code = SWEEP_EXIT_RESULTS;
        else {
            printf("# interrupted: %ld jobs finished in this run; rerun the same command to resume\n", cs->ran);
            exit_code = SWEEP_EXIT_INTERRUPTED;
        }
    }
    fflush(stdout);
    if (m->rank == 0 && records_close(&m->rec) && exit_code != SWEEP_EXIT_RESULTS) {
        fprintf(stderr, "freenas_sweep: cannot sync %s/results.jsonl: %s (rerun to resume; a "
                "record that did not reach the disk runs again)\n", m->cfg.output, strerror(errno));
        exit_code = SWEEP_EXIT_RESULTS;
    }
    return exit_code;
}

static void phase_free(sweep_main *m) {
    sweep_ens_acc_free(&m->acc);
    free(m->st);
    free(m->todo);
    nb201_benchmark_free(m->bench);
    sweep_proxy_cache_free(m->w.proxies);
    search_bundle_free(m->w.bundle);
    sweep_worker_slots_free(&m->w);
    sweep_plan_free(&m->plan);
    sweep_config_free(&m->cfg);
    free(m->text);
    coord_node_free(&m->node);
}

int main(int argc, char **argv) {
    gpu_backend_register(); /* the CUDA backend: loaded by the first CUDA executor */
    int provided;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    /* a file size limit (ulimit -f) is an error of the write that meets it (EFBIG, reported
     * with the file's name), not a silent kill */
    signal(SIGXFSZ, SIG_IGN);
    static sweep_main m;
    m.world = MPI_COMM_WORLD;
    MPI_Comm_rank(m.world, &m.rank);
    MPI_Comm_size(m.world, &m.size);
    json_object_seed(1); /* before any thread builds JSON */
    int pa = sweep_args_parse(argc, argv, &m.a, m.rank);
    m.reduce_mode = coord_reduce_mode(getenv("FREENAS_REDUCE"));
    if (!pa && m.reduce_mode < 0) { /* before any job runs */
        if (m.rank == 0)
            fprintf(stderr, "freenas_sweep: FREENAS_REDUCE=%s: unknown reduction (hint: auto, "
                    "nccl or mpi)\n", getenv("FREENAS_REDUCE"));
        pa = -1;
    }
    if (pa) {
        MPI_Finalize();
        return pa > 0 ? SWEEP_EXIT_OK : SWEEP_EXIT_USAGE;
    }
    m.rec.fd = m.rec.lock_fd = -1;
    phase_bind(&m);
    int rc;
    if ((rc = phase_config(&m)) >= 0 || (rc = phase_benchmark(&m)) >= 0 ||
        (rc = phase_results(&m)) >= 0 || (rc = phase_manifest(&m)) >= 0) {
        /* an early end, the same code on every rank; every path frees what it made, so a
         * sanitizer build reports no leak (scripts/test_sanitize.sh) */
        if (m.rank == 0) records_close(&m.rec); /* the lock (a no-op when never opened) */
        phase_free(&m);
        MPI_Finalize();
        return rc;
    }
    phase_signals();
    phase_hnas_darts(&m);
    coord_stats cs;
    phase_run(&m, &cs);
    const int exit_code = phase_finish(&m, &cs);
    phase_free(&m);
    MPI_Finalize();
    return m.rank == 0 ? exit_code : SWEEP_EXIT_OK;
}
