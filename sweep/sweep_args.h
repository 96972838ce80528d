/* sweep/sweep_args.h: the command line of `freenas_sweep` (options, --help) and its exit
 * codes, which configs/README.md and README.md document too. */
#ifndef FN_SWEEP_ARGS_H
#define FN_SWEEP_ARGS_H

#include <stdio.h>


enum { SWEEP_EXIT_OK = 0, SWEEP_EXIT_JOBS_FAILED = 1, SWEEP_EXIT_USAGE = 2, SWEEP_EXIT_RESULTS = 3,
       SWEEP_EXIT_TIMEOUT = 4, SWEEP_EXIT_GAVE_UP = 5, SWEEP_EXIT_RANK_LOST = 6,
       SWEEP_EXIT_INTERRUPTED = 75 };

typedef struct {
    const char *config, *output, *data, *benchmark;
    int threads, bundle, dry_run, quiet, merge;
    int shard_i, shard_n;     /* --shard I/N; shard_n == 0: no sharding */
    double lock_wait;
    double job_timeout;       /* --job-timeout S; < 0: not given */
    int max_attempts;         /* --max-attempts N; < 0: not given */
    char overrides[8192];
} sweep_args;

/* 0: run; 1: --help was printed (exit 0); -1: a usage error was printed (rank 0 only). */
int sweep_args_parse(int argc, char **argv, sweep_args *a, int rank);
void sweep_args_usage(FILE *f);

#endif
