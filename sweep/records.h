/* sweep/records.h: the results directory of a sweep, written by rank 0 only.
 *
 *   OUTPUT/results.jsonl   one JSON record per finished job attempt (sweep/job.h), appended
 *                          and fsync'ed; a torn last line (a kill during a write) is cut off
 *                          on the next start, with a message
 *   OUTPUT/manifest.json   resolved config, plan fingerprint, git revision, library versions,
 *                          ranks, hosts, devices (rewritten atomically at each start)
 *   OUTPUT/manifest.history.jsonl  earlier manifests, one per line (config changes are here)
 *   OUTPUT/ensembles.jsonl one record per ensemble group (rewritten when the sweep completes)
 *   OUTPUT/.lock           flock: one sweep per directory at a time
 *
 * Resume: a job with an `ok` record is done; a job whose records all failed is run again
 * with the next attempt number (until max_attempts: sweep_summary_gave_up); records of jobs
 * not in the current plan are kept and ignored. */
#ifndef FN_SWEEP_RECORDS_H
#define FN_SWEEP_RECORDS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sweep/plan.h"

enum { JOB_TODO = 0, JOB_OK = 1, JOB_FAILED = 2,
       JOB_DUPLICATE_OK = 3, /* records_absorb: a second ok record of a job, ignored */
       JOB_OTHER_SHARD = 4   /* --shard i/n: the job belongs to another shard */ };
/* records_absorb: an ok record whose fields the writer could not have produced */
#define RECORDS_INVALID (-3)

/* What rank 0 keeps per planned job for resume, progress and the summary table. */
typedef struct {
    uint8_t state;       /* JOB_TODO / JOB_OK / JOB_FAILED (last attempt failed) */
    uint16_t attempts;   /* records seen for this job */
    float acc[4];        /* C10 valid, C10 test, C100 test, IN16 test; NAN if none */
    float t_search;      /* seconds (search time; job time for noop) */
} sweep_job_state;

typedef struct {
    int fd;              /* results.jsonl, O_APPEND */
    int lock_fd;
    char dir[4096];
    long nforeign, nbad, nduplicate_ok; /* records_scan: not in the plan, unreadable, repeated ok */
    long ninvalid;       /* records_scan: ok records that failed validation (run again) */
    size_t pending;      /* records written since the last fsync */
} sweep_records;

/* Creates the directory (and parents), takes the lock (waits up to wait_s seconds for a
 * previous sweep, e.g. orphaned ranks of a killed mpirun, to let go), opens results.jsonl and
 * cuts off a torn last line. 0, or -1 with a message. */
int records_open(sweep_records *r, const char *dir, double wait_s, char *err, size_t errlen);
/* Syncs and closes; 0, or -1 (errno set) if the last records could not be made durable. */
int records_close(sweep_records *r);

/* Reads every record of results.jsonl into st[] (indexed like the plan's jobs). For each
 * first ok record with scores, calls on_scores(job index, S, rows, cols, ctx) (ensembles).
 * An invalid ok record (records_absorb) is reported as `FILE:LINE: message` and counts as a
 * failed attempt, so the job runs again. 0, or -1 with a message (results.jsonl unreadable
 * or not a regular file). */
typedef void (*records_scores_fn)(long job, const double *S, int rows, int cols, void *ctx);
int records_scan(sweep_records *r, const sweep_config *c, const sweep_plan *p,
                 sweep_job_state *st, records_scores_fn on_scores, void *ctx, char *err,
                 size_t errlen);

/* Updates st[job] from one record's text; returns JOB_OK / JOB_FAILED / JOB_DUPLICATE_OK,
 * -1 if it is a record of a job not in this plan, -2 if it is not a record, RECORDS_INVALID
 * for an ok record that sweep/job.c could not have written (st[job] then counts a failed
 * attempt, unless the job already has a valid ok record). With c and p, an ok record is
 * checked against its job: accuracies numbers in [0, 100], search time >= 0, and for a
 * search job a `scores` matrix of finite numbers whose rows x cols is the layout of the
 * job's space (space_layout, search/space.h); without them only the first two. With S (FN_MAX_ALPHA entries)
 * an ok record's scores go there (rows x cols); with errmsg, a failed record's message or
 * why the record is invalid. */
int records_absorb(const char *text, const sweep_config *c, const sweep_plan *p,
                   const sweep_id_index *ix, sweep_job_state *st, long *job, double *S,
                   int *rows, int *cols, char *errmsg, size_t errlen);

/* A JSON value for a message: "1e+308", "the string \"x\"", "missing", "a list". */
struct json_t;
void records_value_text(const struct json_t *v, char *buf, size_t len);

/* --merge: copies into r (the sweep's own results) the first ok record of every planned job
 * that r does not have yet, from SHARD_DIR/results.jsonl (a `--shard i/n` run; its lock is
 * taken first, so a shard that is still running is waited for, up to wait_s). A job whose
 * shard records all failed is marked failed in st (it is retried with the next attempt);
 * on_scores is called for each merged ok record, like records_scan. Counts: [0] records
 * merged, [1] ok records r already had, [2] failed records, [3] unreadable, foreign or
 * invalid (reported as `FILE:LINE: message`, like records_scan, and never merged).
 * 0, or -1 with a message (nothing is half-merged: the appended lines are synced). */
int records_merge(sweep_records *r, const char *shard_dir, const sweep_config *c,
                  const sweep_plan *p, sweep_job_state *st, records_scores_fn on_scores, void *ctx, double wait_s,
                  long counts[4], char *err, size_t errlen);

/* Appends one record (a line) without syncing; records_sync makes them durable. 0, or -1
 * with a message naming the file: a write that stopped part way (ENOSPC, EFBIG) has been cut
 * back, so the file still ends with a whole record. records_sync: 0, or -1 with errno. */
int records_append(sweep_records *r, const char *text, char *err, size_t errlen);
int records_sync(sweep_records *r);

/* Writes `text` to DIR/name through a temporary file and rename. 0 or -1. */
int records_write_atomic(const char *dir, const char *name, const char *text, char *err,
                         size_t errlen);

#endif
