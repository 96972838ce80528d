/* sweep/job.h: runs one job of a plan on this rank and writes its record, one JSON object
 * (the line results.jsonl will hold). A failing job (bad data file, NaN score, out of memory)
 * is an ordinary result with its status and message: nothing here exits.
 *
 * Record fields (configs/README.md documents them): job_id, index, sweep, params{...},
 * status, error, attempt, arch, arch_json, nb201_index, accuracy{...}, value, degenerate,
 * s_max, scores{rows, cols, values}, supernet{params, macs}, eval_net (DARTS), and run{...}:
 * time_s, executor_bytes, rank, host, device, threads, pid, finished_at, the only fields
 * that differ between two runs of the same job. */
#ifndef FN_SWEEP_JOB_H
#define FN_SWEEP_JOB_H

#include "nasbench/nb201_benchmark.h"
#include "search/search.h"
#include "sweep/plan.h"

/* Where a job runs; fixed per rank. */
typedef struct {
    int rank;
    char host[256];
    char device[128];              /* "cpu", or "cpu (cuda:0 ... bound for reductions)" */
    char gpu[128];                 /* "cuda:0 (NVIDIA H100 ...)": the rank's bound GPU, which
                                      device: cuda jobs run on; "" when none is bound */
    int threads;                   /* OpenMP threads for the job */
    const nb201_benchmark *bench;  /* NULL without a benchmark file */
    struct sweep_proxy_cache *proxies; /* kinds score / zc_search: proxy contexts kept between
                                          jobs (sweep/job_per_arch.c) */
    struct search_bundle *bundle;  /* kind search: arenas kept between bundles (search/bundle.h) */
    int ranks_on_node;             /* ranks sharing this rank's machine (memory per rank) */
    struct sweep_proxy_cache **slot_proxies; /* per-arch kinds side by side: slots 1.. (slot 0
                                                is `proxies`), made on first use */
    int nslot_proxies;
} sweep_worker;

typedef struct {
    int ok;                        /* status == ok */
    int s_rows, s_cols;            /* score matrix (0 x 0 for noop or failed jobs) */
    double S[FN_MAX_ALPHA];
    char *record;                  /* malloc'ed JSON text, no newline */
} sweep_job_result;

/* Runs job `index` of p (attempt: 1 for the first try). Always fills out. */
void sweep_job_run(const sweep_config *c, const sweep_plan *p, long index, int attempt,
                   const sweep_worker *w, sweep_job_result *out);

/* Kind search: the jobs index[0..k-1] (attempts attempt[]) as one bundle
 * (search/bundle.h, side by side on the worker's threads); out[i] is job index[i]'s result
 * exactly as sweep_job_run would give it, plus run.bundle {size, slot, seconds}; run.time_s
 * of a job is its own search's. A failed search fails only its own record. */
void sweep_job_run_bundle(const sweep_config *c, const sweep_plan *p, const long *index,
                          const int *attempt, int k, const sweep_worker *w, sweep_job_result *out);

/* Kinds score, zc_search and random: the jobs index[0..k-1] side by side, one job per thread,
 * each slot with its own proxy contexts
 * (sweep_worker_slot_proxies), out[i] as sweep_job_run gives it plus run.bundle. Proxies give
 * the same value on any thread count (tests/test_threads.c), so records are unchanged. */
void sweep_job_run_slots(const sweep_config *c, const sweep_plan *p, const long *index,
                         const int *attempt, int k, const sweep_worker *w, sweep_job_result *out);
/* The proxy cache of slot s (slot 0: w->proxies; the others made on first use; freed with
 * sweep_worker_slots_free). Call outside parallel regions. */
struct sweep_proxy_cache *sweep_worker_slot_proxies(const sweep_worker *w, int s);
void sweep_worker_slots_free(sweep_worker *w);

/* The record rank 0 writes for job `index` when no result came within c->job_timeout_s:
 * status `timeout`, the message naming the rank and host, run{time_s{job}, rank, host,
 * finished_at}. malloc'ed JSON text, no newline. */
char *sweep_job_record_timeout(const sweep_config *c, const sweep_plan *p, long index,
                               int attempt, int rank, const char *host, double seconds);

/* Record pieces shared by job and ensemble records (jansson json_t *). */
struct json_t;
/* Kinds score, zc_search, random (sweep/job_per_arch.c): runs the job, writes status,
 * error, arch, nb201_index, accuracy, value and the kind's fields into rec and its timings
 * into t; returns the status. */
fn_status sweep_job_run_per_arch(const sweep_params *prm, const sweep_worker *w, int attempt,
                                 struct json_t *rec, struct json_t *t);
/* Kind hnas (sweep/job_hnas.c): one search on the worker's cached tables; its fields (hnas{...},
 * value, arch, nb201_index, accuracy of the pick) into rec, its time into t. 0, or -1 with a
 * message (a table or ground-truth file unreadable, the search failed). */
struct sweep_hnas_cache;
int sweep_job_run_hnas(const sweep_params *p, const nb201_benchmark *bench,
                       struct sweep_hnas_cache **cache, struct json_t *rec, struct json_t *t,
                       char *err, size_t errlen);
void sweep_hnas_cache_free(struct sweep_hnas_cache *hc);
/* The proxy contexts of one worker (create before its first job, free after its last). */
struct sweep_proxy_cache *sweep_proxy_cache_new(void);
void sweep_proxy_cache_free(struct sweep_proxy_cache *pc);
/* arch, arch_json and, for NB201 with a benchmark, nb201_index and accuracy{...}, into rec;
 * returns the ground-truth row (NULL without one). */
const nb201_record *sweep_json_arch(struct json_t *rec, const fn_search_result *r,
                                    const nb201_benchmark *bench, const char *space);
/* nb201_index and accuracy{cifar10_valid, cifar10_test, cifar100_test, imagenet16_test} of
 * gt into rec (nothing for NULL or a code absent from the table). */
void sweep_json_accuracy(struct json_t *rec, const nb201_record *gt);
/* {rows, cols, values: [[...], ...]} of r->S. */
struct json_t *sweep_json_scores(const fn_search_result *r);
/* "2026-11-22T12:00:00Z" */
void sweep_utc_now(char out[32]);

#endif
