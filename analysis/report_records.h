/* analysis/report_records.h: what freenas_report reads from a freenas_sweep results directory
 * (configs/README.md, "The results directory"), and the grouping every table shares.
 *
 *   results.jsonl    required; one record per job attempt. A record needs `job_id` (string),
 *                    `params` (object) and `status` (string); a line that is not such a JSON
 *                    object is reported as FILE:LINE and skipped (counted). An unterminated
 *                    last line that does not parse is a torn write: FILE:LINE: torn last line
 *                    ignored.
 *   ensembles.jsonl  optional; same line rules
 *   manifest.json    optional; a broken one is a warning
 *
 * Jobs: the records of one job_id are one job. It is ok when it has an ok record, and then the
 * LAST ok record stands for it; a job without one is failed and its last record stands for it.
 * Jobs are ordered by their plan position (`index`), then by first appearance. */
#ifndef FN_REPORT_RECORDS_H
#define FN_REPORT_RECORDS_H

#include <jansson.h>
#include <stddef.h>

typedef struct {
    long line;          /* 1-based line in results.jsonl */
    json_t *rec;        /* the record object (owned by report_data) */
    json_t *params;     /* rec.params */
    const char *job_id; /* rec.job_id */
    const char *status; /* rec.status */
    const char *kind;   /* params.kind; "search" when absent */
    int ok;             /* status == "ok" */
} report_record;

typedef struct {
    const report_record *rec; /* first ok record, else the last record */
    long attempts;            /* records of this job */
    long order;               /* params index of the plan, else first line (sort key) */
    int ok;
} report_job;

typedef struct {
    char dir[4096];
    char results_path[4200];
    report_record *recs;
    size_t nrecs;
    report_job *jobs;
    size_t njobs;
    long lines, malformed, torn; /* results.jsonl: lines read, skipped, torn last line (0/1) */
    json_t *manifest;            /* NULL when absent or unreadable */
    json_t **ens;                /* ensembles.jsonl records */
    size_t nens;
    long ens_malformed, ens_torn;
    long warnings;               /* every warning printed while loading */
} report_data;

/* Loads DIR. Returns 0, or 2 after printing why (no results.jsonl, unreadable file). Warnings
 * (malformed lines, torn last line, broken manifest) go to stderr and do not fail. */
int report_load(report_data *d, const char *dir);
void report_data_free(report_data *d);

/* ---- small JSON accessors: never fail on a missing key or a wrong type ---------------- */
const char *report_str(const json_t *obj, const char *key);   /* NULL unless a string */
/* NaN unless a number or the string "-inf" / "inf" (infinite scores) */
double report_num(const json_t *obj, const char *key);
json_t *report_obj(const json_t *obj, const char *key);       /* NULL unless an object */
/* a parameter value as people read it: strings as they are, 1e-05, 8, true; "-" if absent */
void report_value_text(const json_t *v, char *buf, size_t len);
/* the canonical text of params without the keys in skip (a NULL-ended list): sorted keys,
 * 17 significant digits; malloc'ed */
char *report_params_key(const json_t *params, const char *const *skip);

/* ---- groups of jobs ------------------------------------------------------------------- */
typedef struct {
    char *key;                /* report_params_key of its jobs */
    const report_job **jobs;  /* in job order */
    size_t n;
} report_group;

typedef struct {
    report_group *g;
    size_t n;
} report_groups;

/* Groups the jobs for which keep(job, ctx) is true (all when keep is NULL) by their params
 * without the skip keys; groups come in the order of their first job. */
void report_group_jobs(report_groups *out, const report_data *d,
                       int (*keep)(const report_job *, void *), void *ctx,
                       const char *const *skip);
void report_groups_free(report_groups *gs);

/* The params keys whose values differ between the first jobs of the groups (keys in skip
 * excluded), in the order of the first job's params: a NULL-ended malloc'ed list of
 * pointers into the records (valid while d lives). */
const char **report_varying_keys(const report_groups *gs, const char *const *skip);
/* 1 if the value of key is the same in every group that has the same values of all the
 * `by` keys (a NULL-ended list): key follows from them (batch follows from metric). */
int report_key_follows(const report_groups *gs, const char *key, const char *const *by);
/* 1 if some other group with the same values of the `by` keys (a NULL-ended list) has another
 * value of key than group i: key tells group i apart from its peers (grasp_abs among the
 * GraSP rows, but not on the SynFlow row) */
int report_key_varies_within(const report_groups *gs, size_t i, const char *key,
                             const char *const *by);
/* "k1=v1 k2=v2" of the first job of g for the given keys (keys in bare, a NULL-ended list,
 * are written as the value only) */
void report_group_label(const report_group *g, const char *const *keys,
                        const char *const *bare, char *buf, size_t len);
int report_str_in(const char *s, const char *const *list);

#endif
