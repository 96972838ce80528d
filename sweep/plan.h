/* sweep/plan.h: the plan of a sweep, a deterministic expansion of its config into jobs.
 *
 * The grid is the cartesian product of its axes, with each zip group advancing as one axis,
 * in the canonical key order of sweep/config.h (first key slowest). Each job's parameters are
 * resolved (space, metric and dataset defaults filled in, options that the metric ignores set
 * to one canonical value), and the job id is a 64-bit FNV-1a hash of the resolved parameters
 * written as `key=value,...` in canonical order: a grown grid keeps the ids of the jobs it
 * already had, and two grid points that resolve to the same search are one job. Every rank
 * computes the same plan from the same config; the coordinator only sends job indices.
 *
 * Ensembles: for each ensemble of the config, jobs whose grid values agree on every axis
 * except the ensemble's `over` keys form one group. */
#ifndef FN_SWEEP_PLAN_H
#define FN_SWEEP_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "search/search.h"
#include "sweep/config.h"

/* A job's resolved parameters. */
typedef struct {
    sweep_kind kind;
    int variant;              /* index into sweep_config.variants */
    fn_search_config sc;      /* space, metric, dataset, data_path, seed, alpha_scale, batch,
                                 augment, channels, cells, ss, mopts (precision resolved to 32
                                 or 64, abs_params to 0 or 1) */
    const char *device;       /* "cpu" | "cuda" */
    int arch;                 /* kind score: NB201 index */
    int sample;               /* kind zc_search: architectures sampled (default 1000) */
    const char *scores;       /* kind zc_search: the config's `scores` file, whose values it
                                 looks up instead of computing them; NULL when not given */
    const char *strategy;     /* kind hnas: ei (default), ucb, alone, random */
    int budget;               /* kind hnas: T (default 20) */
    int metric_abs, kappa_raw; /* kind hnas on NB201: hnas_config's (default 0); in the job id
                                  only when set, so ids from before these keys stay */
    const char *table;        /* kind hnas: the config's `table` */
    const char *benchmark;    /* kind hnas: the config's `benchmark` (its folder holds
                                 nb201_accuracy_extra.tsv, the 12-epoch signal and cost) */
    const sweep_darts_hnas *dh;  /* kind hnas on space darts: the config's darts_hnas (part of
                                    the job id); NULL otherwise */
} sweep_params;

/* Whether key k is a parameter of jobs of this kind (job ids, records and tables list only
 * those): search and noop jobs have every key but arch and sample; score jobs space,
 * dataset, metric (the proxy), batch, seed, augment, precision, device and arch; zc_search
 * the same with sample instead of arch; random space, dataset, seed and device. */
int sweep_key_applies(sweep_kind kind, sweep_key k);

typedef struct {
    uint64_t id;
    uint32_t v[SWEEP_NUM_KEYS];  /* value index per grid axis (0 for absent axes) */
} sweep_job;

typedef struct {
    long ngroups;
    int32_t *group_of;           /* [njobs] group of each job */
    long *first_job;             /* [ngroups] the first job of each group (its parameters
                                    describe the group, less the `over` keys) */
} sweep_ensemble_groups;

typedef struct {
    sweep_job *jobs;
    long njobs;
    long nduplicates;            /* grid points that resolved to an earlier job */
    long nexcluded;              /* grid points dropped by exclude filters */
    uint64_t fingerprint;        /* hash of all job ids in plan order and the ensembles */
    sweep_ensemble_groups ens[SWEEP_MAX_ENSEMBLES];
} sweep_plan;

/* Expands c. 0, or -1 with "FILE:LINE:COL: message" in err for a combination that the space
 * does not accept (e.g. nb201 with imagenet224), or an ensemble group that would mix alpha
 * layouts. */
int sweep_plan_build(const sweep_config *c, sweep_plan *p, char *err, size_t errlen);
void sweep_plan_free(sweep_plan *p);

/* The resolved parameters of job j (cheap; called by whichever rank runs the job). */
void sweep_plan_params(const sweep_config *c, const sweep_job *j, sweep_params *out);

/* The canonical text of one parameter ("0.001", "darts", "1"); returns buf. */
const char *sweep_params_value(const sweep_params *p, sweep_key k, char *buf, size_t len);
/* "key=value,key=value,..." over all keys not masked out (skip[k] != 0), then ",scores=FILE"
 * for a zc_search that looks its values up (so its job ids differ from computed ones; the
 * ids of every other job are what they were before `scores` existed); returns length. */
size_t sweep_params_canonical(const sweep_params *p, const int *skip, char *buf, size_t len);

/* n distinct integers of 0..total-1 drawn with seed (a partial Fisher-Yates shuffle driven
 * by splitmix64: the same on every machine), in draw order: `arch: {sample: N, seed: S}` and
 * the architectures a zc_search or random job samples. */
void sweep_sample_indices(uint64_t seed, int n, int total, int *out);

/* 16 lowercase hex digits. */
void sweep_id_hex(uint64_t id, char out[17]);
/* Job id -> plan index (hash map); find returns -1 for an id that is not in the plan. */
typedef struct sweep_id_index sweep_id_index;
sweep_id_index *sweep_id_index_build(const sweep_plan *p);
long sweep_id_index_find(const sweep_id_index *ix, uint64_t id);
void sweep_id_index_free(sweep_id_index *ix);
/* Parses 16 hex digits; 0 on success. */
int sweep_id_parse(const char *hex, uint64_t *id);

/* The job's grid values as written in the config ("darts cells=20 metric=snip seed=3"), over
 * the given axes less the skipped ones; only_varying: only axes with two or more values.
 * Ensemble groups are keyed by this text (so `over: [metric]` combines SynFlow at batch 1 with
 * SNIP at batch 64), and tables use it as a label. Returns the length. */
size_t sweep_job_axes_text(const sweep_config *c, const sweep_job *j, const int *skip,
                           int only_varying, char *buf, size_t len);

#endif
