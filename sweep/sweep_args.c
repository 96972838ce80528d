/* sweep/sweep_args.c: `freenas_sweep`'s options and --help (see sweep/sweep_args.h). */
#include "sweep/sweep_args.h"
#include "base/common.h"

#include <stdlib.h>
#include <string.h>

void sweep_args_usage(FILE *f) {
    fprintf(f,
"usage: freenas_sweep CONFIG.yaml [options]\n"
"       mpirun -n N freenas_sweep CONFIG.yaml [options]\n"
"\n"
"Runs every job of a sweep (configs/README.md documents the YAML), resumes what an earlier run\n"
"of the same output directory finished, retries what failed, and writes\n"
"OUTPUT/results.jsonl (one record per job attempt), OUTPUT/manifest.json and, when the sweep\n"
"has ensembles, OUTPUT/ensembles.jsonl.\n"
"\n"
"options:\n"
"  --dry-run          print the resolved config and the plan (jobs, already done), run nothing\n"
"  --output DIR       results directory (overrides `output`)\n"
"  --data DIR         labelled data root (overrides `data`)\n"
"  --benchmark FILE   NB201 ground truth TSV (overrides `benchmark`)\n"
"  --threads N        OpenMP threads per rank (overrides `threads`; 0 = cores / ranks per node)\n"
"  --bundle N         kind search: up to N compatible jobs side by side on a rank's threads\n"
"                     (overrides `bundle`; 0 = auto, as threads and memory allow; 1 = off;\n"
"                     CUDA jobs: a thread and stream each, 0 = off)\n"
"  --lock-wait S      seconds to wait for another sweep holding OUTPUT (default 60)\n"
"  --job-timeout S    a job with no result after S seconds is recorded as `timeout` and its\n"
"                     rank gets no more jobs (overrides `job_timeout_s`; 0 = no limit)\n"
"  --max-attempts N   a job with N failed attempts on record is not run again (overrides\n"
"                     `max_attempts`; 0 = no limit)\n"
"  --quiet            no progress lines\n"
"  --version          print the version and exit\n"
"  --shard I/N        run only shard I (0-based) of N: plan jobs with index %% N == I, into\n"
"                     OUTPUT/shard-I-of-N/ (one SLURM array task each; no ensembles there)\n"
"  --merge            copy the ok records of every OUTPUT/shard-*-of-*/ into OUTPUT (waiting\n"
"                     for shards still running), then run whatever no shard finished and\n"
"                     write the summary and the ensembles, like a resumed sweep\n"
"\n"
"exit codes: 0 every job ok; 1 some jobs failed (recorded; rerun to retry them); 2 usage or\n"
"config error (nothing ran); 3 results directory unusable (locked, unwritable, disk full;\n"
"the file is named; the records written are whole); 4 a job ran past the job timeout\n"
"(recorded as `timeout`; the other jobs ran; a rank still inside it was ended with\n"
"MPI_Abort; rerun to retry); 5 the jobs that are not ok gave up after max_attempts (a rerun\n"
"runs nothing); 6 a rank's process was lost (killed, crashed): rank 0 names it and ends the\n"
"world with MPI_Abort (mpirun itself exits 128 + the signal that killed the rank, e.g. 137\n"
"for kill -9); rerun to resume; 75 stopped by SIGTERM / SIGUSR1 / SIGINT after finishing\n"
"the running jobs (rerun the same command to resume; a second signal, a second or more\n"
"after the first, exits at once, losing only the running jobs).\n");
}


int sweep_args_parse(int argc, char **argv, sweep_args *a, int rank) {
    memset(a, 0, sizeof *a);
    a->threads = -1;
    a->bundle = -1;
    a->lock_wait = 60;
    a->job_timeout = -1;
    a->max_attempts = -1;
    size_t on = 0;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = !strcmp(o, "--output") || !strcmp(o, "--data") || !strcmp(o, "--benchmark") ||
                    !strcmp(o, "--threads") || !strcmp(o, "--bundle") || !strcmp(o, "--lock-wait") || !strcmp(o, "--shard") ||
                    !strcmp(o, "--job-timeout") || !strcmp(o, "--max-attempts");
        if (takes && !v) {
            if (rank == 0) fprintf(stderr, "freenas_sweep: %s needs a value (see --help)\n", o);
            return -1;
        }
        if (takes) {
            on += (size_t)snprintf(a->overrides + on, on < sizeof a->overrides ? sizeof a->overrides - on : 0,
                                   "%s%s %s", on ? " " : "", o, v);
            i++;
        }
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) { if (rank == 0) sweep_args_usage(stdout); return 1; }
        else if (!strcmp(o, "--version")) {
            if (rank == 0) printf("freenas_sweep %s (%s)\n", FREENAS_VERSION, fn_git_rev());
            return 1;
        }
        else if (!strcmp(o, "--dry-run")) a->dry_run = 1;
        else if (!strcmp(o, "--quiet")) a->quiet = 1;
        else if (!strcmp(o, "--merge")) a->merge = 1;
        else if (!strcmp(o, "--shard")) {
            char tail;
            if (sscanf(v, "%d/%d%c", &a->shard_i, &a->shard_n, &tail) != 2 || a->shard_n < 1 ||
                a->shard_n > 1000000 || a->shard_i < 0 || a->shard_i >= a->shard_n) {
                if (rank == 0)
                    fprintf(stderr, "freenas_sweep: --shard expects I/N with 0 <= I < N, got '%s' "
                            "(hint: in a SLURM array, $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT "
                            "with --array=0-N-1)\n", v);
                return -1;
            }
        }
        else if (!strcmp(o, "--output")) a->output = v;
        else if (!strcmp(o, "--data")) a->data = v;
        else if (!strcmp(o, "--benchmark")) a->benchmark = v;
        else if (!strcmp(o, "--threads")) {
            char *end;
            long t = strtol(v, &end, 10);
            if (*end || t < 0 || t > 1024) {
                if (rank == 0) fprintf(stderr, "freenas_sweep: --threads expects 0..1024, got '%s'\n", v);
                return -1;
            }
            a->threads = (int)t;
        } else if (!strcmp(o, "--bundle")) {
            char *end;
            long t = strtol(v, &end, 10);
            if (*end || t < 0 || t > 256) {
                if (rank == 0) fprintf(stderr, "freenas_sweep: --bundle expects 0..256, got '%s'\n", v);
                return -1;
            }
            a->bundle = (int)t;
        } else if (!strcmp(o, "--job-timeout")) {
            char *end;
            a->job_timeout = strtod(v, &end);
            if (*end || !(a->job_timeout >= 0)) {
                if (rank == 0) fprintf(stderr, "freenas_sweep: --job-timeout expects seconds >= 0 "
                                       "(0 = no limit), got '%s'\n", v);
                return -1;
            }
        } else if (!strcmp(o, "--max-attempts")) {
            char *end;
            long m = strtol(v, &end, 10);
            if (*end || m < 0 || m > 65535) {
                if (rank == 0) fprintf(stderr, "freenas_sweep: --max-attempts expects 0..65535 "
                                       "(0 = no limit), got '%s'\n", v);
                return -1;
            }
            a->max_attempts = (int)m;
        } else if (!strcmp(o, "--lock-wait")) {
            char *end;
            a->lock_wait = strtod(v, &end);
            if (*end || end == v || !(a->lock_wait >= 0 && a->lock_wait <= 1e7)) { /* no nan */
                if (rank == 0)
                    fprintf(stderr, "freenas_sweep: --lock-wait expects seconds 0..10000000, got "
                            "'%s'\n", v);
                return -1;
            }
        } else if (o[0] == '-') {
            if (rank == 0) fprintf(stderr, "freenas_sweep: unknown option '%s' (see --help)\n", o);
            return -1;
        } else if (!a->config) a->config = o;
        else {
            if (rank == 0) fprintf(stderr, "freenas_sweep: one config file expected, got '%s' and '%s'\n", a->config, o);
            return -1;
        }
    }
    if (!a->config) {
        if (rank == 0) sweep_args_usage(stderr);
        return -1;
    }
    if (a->merge && a->shard_n) {
        if (rank == 0) fprintf(stderr, "freenas_sweep: --merge and --shard exclude each other "
                               "(hint: the merge step runs once, after every shard)\n");
        return -1;
    }
    return 0;
}

