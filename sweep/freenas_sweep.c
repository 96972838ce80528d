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

#include "datasets/input_file.h"
#include "gpu/backend_cuda.h"
#include "mpi/coordinator.h"
#include "mpi/mpi_check.h"
#include "mpi/reduce.h"
#include "sweep/sweep_run.h"
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
        FILE *f = input_file_open(path, "rb", err, errlen); /* no FIFO, device, directory */
        if (f) {
            fseek(f, 0, SEEK_END);
            len = ftell(f);
            rewind(f);
            if (len > 1L << 30) { /* sweep_config_load's limit too */
                snprintf(err, errlen, "cannot read %s: %ld bytes is too large for a config "
                         "(hint: at most 1 GiB)", path, len);
                len = -1;
                fclose(f);
                f = NULL;
            }
        }
        if (f) {
            text = mallocCheck(len > 0 ? (size_t)len + 1 : 1);
            if (len < 0 || fread(text, 1, (size_t)len, f) != (size_t)len) {
                snprintf(err, errlen, "cannot read %s", path);
                len = -1;
            }
            fclose(f);
        }
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
    ens_acc_add(x->a, x->c, x->p, j, S, rows, cols);
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

int main(int argc, char **argv) {
    gpu_backend_register(); /* the CUDA backend: loaded by the first CUDA executor */
    int provided;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    /* a file size limit (ulimit -f) is an error of the write that meets it (EFBIG, reported
     * with the file's name), not a silent kill */
    signal(SIGXFSZ, SIG_IGN);
    MPI_Comm world = MPI_COMM_WORLD;
    int rank, size;
    MPI_Comm_rank(world, &rank);
    MPI_Comm_size(world, &size);
    json_object_seed(1); /* before any thread builds JSON */
    sweep_args a;
    int pa = sweep_args_parse(argc, argv, &a, rank);
    if (pa) {
        MPI_Finalize();
        return pa > 0 ? SWEEP_EXIT_OK : SWEEP_EXIT_USAGE;
    }
    /* local rank, GPU binding */
    coord_node node;
    coord_node_bind(world, &node);
    const int local_size = node.local_size;
    sweep_worker w = {.rank = rank, .proxies = sweep_proxy_cache_new()};
    gethostname(w.host, sizeof w.host);
    snprintf(w.device, sizeof w.device, "cpu");
    char gpu_id[320] = "";
    if (node.gpu >= 0) {
        snprintf(gpu_id, sizeof gpu_id, "%s/%s", w.host, node.bus);
        snprintf(w.device, sizeof w.device, "cpu (cuda:%d %.60s bound for reductions)", node.gpu,
                 node.desc);
        snprintf(w.gpu, sizeof w.gpu, "cuda:%d (%.100s)", node.gpu, node.desc);
    }

    char err[SWEEP_ERRLEN] = "";
    long text_len = 0;
    char *text = read_config_text(world, a.config, &text_len, err, sizeof err);
    sweep_config cfg;
    int bad = !text || sweep_config_parse(a.config, text, (size_t)text_len, &cfg, err, sizeof err);
    if (!bad) {
        if (a.output) snprintf(cfg.output, sizeof cfg.output, "%s", a.output), cfg.output_mark = (sweep_mark){0, 0};
        if (a.data) snprintf(cfg.data, sizeof cfg.data, "%s", a.data), cfg.data_mark = (sweep_mark){0, 0};
        if (a.benchmark) snprintf(cfg.benchmark, sizeof cfg.benchmark, "%s", a.benchmark), cfg.benchmark_mark = (sweep_mark){0, 0};
        if (a.threads >= 0) cfg.threads = a.threads;
        if (a.job_timeout >= 0) cfg.job_timeout_s = a.job_timeout;
        if (a.max_attempts >= 0) cfg.max_attempts = a.max_attempts;
        bad = sweep_config_check(&cfg, err, sizeof err);
    }
    if (!bad && a.shard_n) { /* a shard has its own results directory (and lock) */
        size_t ol = strlen(cfg.output);
        if (snprintf(cfg.output + ol, sizeof cfg.output - ol, "/shard-%d-of-%d", a.shard_i,
                     a.shard_n) >= (int)(sizeof cfg.output - ol)) {
            snprintf(err, sizeof err, "output path too long for --shard");
            bad = 1;
        }
    }
    sweep_plan plan;
    double tplan = fn_now();
    if (!bad) bad = sweep_plan_build(&cfg, &plan, err, sizeof err);
    tplan = fn_now() - tplan;
    if (bad) {
        if (rank == 0) fprintf(stderr, "freenas_sweep: %s\n", err);
        MPI_Finalize();
        return SWEEP_EXIT_USAGE;
    }
    w.threads = cfg.threads > 0 ? cfg.threads : (cpus_available() / local_size > 0 ? cpus_available() / local_size : 1);
    nb201_benchmark *bench = NULL;
    bad = cfg.benchmark[0] && nb201_benchmark_load(cfg.benchmark, &bench, err, sizeof err);
    if (any_error(world, bad)) {
        if (rank == 0) fprintf(stderr, "freenas_sweep: %s\n", bad ? err : "a rank could not read the benchmark file");
        MPI_Finalize();
        return SWEEP_EXIT_USAGE;
    }
    w.bench = bench;

    /* rank 0: resolved config, results directory, resume state */
    sweep_records rec;
    memset(&rec, 0, sizeof rec);
    rec.fd = rec.lock_fd = -1;
    sweep_job_state *st = NULL;
    long *todo = NULL, ntodo = 0, ndone = 0, nfailed_before = 0, ngave_up = 0;
    sweep_ens_acc acc;
    ens_acc_init(&acc, &cfg, &plan);
    if (rank == 0) {
        printf("# freenas_sweep %s: %s, %d rank%s on %s, %d thread%s per rank\n", cfg.name,
               a.config, size, size > 1 ? "s" : "", w.host, w.threads, w.threads > 1 ? "s" : "");
        print_config(&cfg);
        printf("# plan: %ld jobs (%ld duplicates dropped, %ld excluded), planned in %.3f s\n",
               plan.njobs, plan.nduplicates, plan.nexcluded, tplan);
        if (a.shard_n)
            printf("# shard %d/%d: the %ld jobs with plan index %% %d == %d, into %s (ensembles: "
                   "by the --merge step)\n", a.shard_i, a.shard_n,
                   plan.njobs / a.shard_n + (a.shard_i < plan.njobs % a.shard_n), a.shard_n,
                   a.shard_i, cfg.output);
    }
    /* a shard's ensembles would be partial: the merge step computes them from the records */
    int ensembles = cfg.nensembles && cfg.kind == SWEEP_KIND_SEARCH && !a.shard_n;
    int status = 0;
    if (rank == 0 && !a.dry_run) {
        if (records_open(&rec, cfg.output, a.lock_wait, err, sizeof err)) status = SWEEP_EXIT_RESULTS;
    }
    st = rank == 0 ? callocCheck((size_t)(plan.njobs ? plan.njobs : 1), sizeof *st) : NULL;
    if (rank == 0 && a.dry_run) { /* read-only: what an earlier run already finished */
        snprintf(rec.dir, sizeof rec.dir, "%s", cfg.output);
        char path[4200];
        snprintf(path, sizeof path, "%s/results.jsonl", cfg.output);
        if (access(path, R_OK) == 0 && records_scan(&rec, &cfg, &plan, st, NULL, NULL, err, sizeof err))
            status = SWEEP_EXIT_RESULTS;
        shard_dir *sh;
        int nsh = a.merge ? find_shards(cfg.output, &sh) : 0;
        for (int i = 0; i < nsh; i++) printf("# merge: would merge %s/%s\n", cfg.output, sh[i].name);
        if (a.merge) {
            if (!nsh) printf("# merge: no shard-*-of-* directories in %s\n", cfg.output);
            free(sh);
        }
    }
    if (rank == 0 && !status && !a.dry_run) {
        /* resumed jobs' scores join rank 0's ensemble contribution */
        resume_ctx rc = {&acc, &cfg, &plan};
        if (records_scan(&rec, &cfg, &plan, st, ensembles ? resume_scores : NULL, &rc, err, sizeof err))
            status = SWEEP_EXIT_RESULTS;
        shard_dir *sh;
        int nsh = !status && a.merge ? find_shards(cfg.output, &sh) : 0;
        if (a.merge && !status && !nsh)
            fprintf(stderr, "freenas_sweep: warning: --merge found no shard-*-of-* directories in %s\n",
                    cfg.output);
        for (int i = 0; i < nsh && !status; i++) {
            char sdir[SWEEP_PATHLEN + 80];
            snprintf(sdir, sizeof sdir, "%s/%s", cfg.output, sh[i].name);
            long cnt[4] = {0};
            if (records_merge(&rec, sdir, &cfg, &plan, st, ensembles ? resume_scores : NULL, &rc,
                              a.lock_wait, cnt, err, sizeof err))
                status = SWEEP_EXIT_RESULTS;
            else
                printf("# merge: %s: %ld ok records merged, %ld already here, %ld failed, %ld "
                       "not in this plan or unreadable\n", sh[i].name, cnt[0], cnt[1], cnt[2], cnt[3]);
        }
        if (a.merge && !status) free(sh);
    }
    if (rank == 0 && !status && a.shard_n) /* jobs of other shards: neither run nor counted */
        for (long j = 0; j < plan.njobs; j++)
            if (j % a.shard_n != a.shard_i) st[j].state = JOB_OTHER_SHARD;
    if (rank == 0 && !status) {
        todo = mallocCheck((size_t)(plan.njobs ? plan.njobs : 1) * sizeof *todo);
        for (long j = 0; j < plan.njobs; j++) {
            if (st[j].state == JOB_OTHER_SHARD) continue;
            if (st[j].state == JOB_OK) ndone++;
            else if (sweep_summary_gave_up(&cfg, &st[j])) ngave_up++;
            else {
                if (st[j].state == JOB_FAILED) nfailed_before++;
                todo[ntodo++] = j;
            }
        }
        printf("# resume: %ld done, %ld failed earlier (retried now), %ld to run", ndone,
               nfailed_before, ntodo);
        if (ngave_up)
            printf("; %ld gave up after %d attempts (not run again)", ngave_up, cfg.max_attempts);
        if (rec.nforeign) printf("; %ld records of jobs not in this plan (kept, ignored)", rec.nforeign);
        if (rec.nduplicate_ok) printf("; %ld duplicate ok records ignored", rec.nduplicate_ok);
        if (rec.ninvalid) printf("; %ld invalid ok records (their jobs run again)", rec.ninvalid);
        printf("\n");
        if (a.dry_run) {
            printf("%6s  %-16s  %s\n", "index", "job_id", "parameters");
            for (long j = 0, shown = 0; j < plan.njobs && shown < 50; j++) {
                if (st[j].state == JOB_OTHER_SHARD) continue;
                shown++;
                char canon[SWEEP_PATHLEN + 1024], id[17];
                sweep_params prm;
                sweep_plan_params(&cfg, &plan.jobs[j], &prm);
                sweep_params_canonical(&prm, NULL, canon, sizeof canon);
                sweep_id_hex(plan.jobs[j].id, id);
                printf("%6ld  %s  %s\n", j, id, canon);
            }
            if (ndone + ntodo > 50) printf("   ... %ld more\n", ndone + ntodo - 50);
            for (int e = 0; e < cfg.nensembles; e++)
                printf("# ensemble %s: %ld groups\n", cfg.ensembles[e].name, plan.ens[e].ngroups);
        }
    }
    if (a.dry_run) {
        if (rank == 0 && status) fprintf(stderr, "freenas_sweep: %s\n", err);
        MPI_Finalize();
        return status ? SWEEP_EXIT_RESULTS : SWEEP_EXIT_OK;
    }
    if (any_error(world, status)) {
        if (rank == 0) fprintf(stderr, "freenas_sweep: %s\n", err);
        MPI_Finalize();
        return SWEEP_EXIT_RESULTS;
    }
    /* manifest: hosts and devices of every rank */
    enum { HL = 256, DL = 128 };
    char *hosts = rank == 0 ? mallocCheck((size_t)size * HL) : NULL;
    char *devs = rank == 0 ? mallocCheck((size_t)size * DL) : NULL;
    mpiCheck(MPI_Gather(w.host, HL, MPI_CHAR, hosts, HL, MPI_CHAR, 0, world));
    mpiCheck(MPI_Gather(w.device, DL, MPI_CHAR, devs, DL, MPI_CHAR, 0, world));
    if (rank == 0) {
        json_t *hj = json_array(), *dj = json_array();
        for (int r = 0; r < size; r++) {
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
        manifest_info mi = {text, a.overrides, size, w.threads, hs, ds, mpiv};
        int changed, runs;
        char msg[2048];
        if (manifest_update(cfg.output, &cfg, &plan, &mi, &changed, &runs, msg, sizeof msg, err, sizeof err)) {
            fprintf(stderr, "freenas_sweep: %s\n", err);
            status = SWEEP_EXIT_RESULTS;
        } else if (changed) fprintf(stderr, "freenas_sweep: note: %s\n", msg);
        free(hs);
        free(ds);
        json_decref(hj);
        json_decref(dj);
    }
    free(hosts);
    free(devs);
    if (any_error(world, status)) {
        MPI_Finalize();
        return SWEEP_EXIT_RESULTS;
    }
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

    sweep_run_ctx x = {.c = &cfg, .p = &plan, .w = &w, .acc = &acc, .rec = &rec, .st = st,
                       .todo = todo, .ntodo = ntodo, .ndone_before = ndone, .quiet = a.quiet};
    coord_stats cs;
    sweep_run_jobs(world, &x, &cs);

    int exit_code = SWEEP_EXIT_OK;
    if (rank == 0 && (cs.lost_rank >= 0 || cs.stuck)) {
        /* a rank that is gone or stuck in a job never joins a collective again: the summary,
         * whole records, then MPI_Abort ends every rank (and the stuck job) */
        sweep_summary_print(stdout, &cfg, &plan, st);
        fflush(stdout);
        if (records_close(&rec))
            fprintf(stderr, "freenas_sweep: cannot sync %s/results.jsonl: %s\n", cfg.output,
                    strerror(errno));
        if (cs.lost_rank >= 0)
            fprintf(stderr, "freenas_sweep: rank %d was lost: ending every rank (MPI_Abort, exit "
                    "code %d); rerun the same command to resume\n", cs.lost_rank, SWEEP_EXIT_RANK_LOST);
        else
            fprintf(stderr, "freenas_sweep: %d rank%s still inside a timed-out job: ending every "
                    "rank (MPI_Abort, exit code %d); rerun the same command to retry it\n",
                    cs.stuck, cs.stuck > 1 ? "s are" : " is", SWEEP_EXIT_TIMEOUT);
        fflush(stderr);
        MPI_Abort(world, cs.lost_rank >= 0 ? SWEEP_EXIT_RANK_LOST : SWEEP_EXIT_TIMEOUT);
    }
    if (cs.complete && !cs.io_error) {
        const char *path;
        int rc = coord_allreduce_i64(world, acc.buf, acc.n, gpu_id, &path, err, sizeof err);
        if (rank == 0) {
            sweep_summary_print(stdout, &cfg, &plan, st);
            if (rc) fprintf(stderr, "freenas_sweep: ensemble reduction failed: %s\n", err);
            else if (ensembles) {
                if (ens_finish(&acc, &cfg, &plan, bench, cfg.output, err, sizeof err))
                    fprintf(stderr, "freenas_sweep: %s\n", err);
                else if (size > 1) printf("# ensemble scores reduced over %d ranks (%s)\n", size, path);
            }
            long failed = 0, gave_up = 0;
            for (long j = 0; j < plan.njobs; j++) {
                failed += st[j].state == JOB_FAILED;
                gave_up += sweep_summary_gave_up(&cfg, &st[j]);
            }
            printf("# this run: %ld jobs in %.2f s (%.2f jobs/s); results in %s/results.jsonl\n",
                   cs.ran, cs.seconds, cs.seconds > 0 ? cs.ran / cs.seconds : 0, cfg.output);
            exit_code = cs.timeouts ? SWEEP_EXIT_TIMEOUT : failed > gave_up ? SWEEP_EXIT_JOBS_FAILED
                      : gave_up ? SWEEP_EXIT_GAVE_UP : SWEEP_EXIT_OK;
        }
    } else if (rank == 0) {
        sweep_summary_print(stdout, &cfg, &plan, st);
        if (cs.io_error) exit_code = SWEEP_EXIT_RESULTS;
        else {
            printf("# interrupted: %ld jobs finished in this run; rerun the same command to resume\n", cs.ran);
            exit_code = SWEEP_EXIT_INTERRUPTED;
        }
    }
    fflush(stdout);
    if (rank == 0 && records_close(&rec) && exit_code != SWEEP_EXIT_RESULTS) {
        fprintf(stderr, "freenas_sweep: cannot sync %s/results.jsonl: %s (rerun to resume; a "
                "record that did not reach the disk runs again)\n", cfg.output, strerror(errno));
        exit_code = SWEEP_EXIT_RESULTS;
    }
    ens_acc_free(&acc);
    free(st);
    free(todo);
    nb201_benchmark_free(bench);
    sweep_proxy_cache_free(w.proxies);
    sweep_plan_free(&plan);
    sweep_config_free(&cfg);
    free(text);
    coord_node_free(&node);
    MPI_Finalize();
    return rank == 0 ? exit_code : SWEEP_EXIT_OK;
}
