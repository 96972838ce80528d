/* sweep/config.h: a sweep configuration (configs/NAME.yaml), parsed with libyaml into a plain C
 * struct. Every key is documented in configs/README.md.
 *
 *   sweep_config c;
 *   char err[SWEEP_ERRLEN];
 *   if (sweep_config_load("configs/quickstart.yaml", &c, err, sizeof err)) { puts(err); ... }
 *   ...
 *   sweep_config_free(&c);
 *
 * Unknown keys, wrong types and impossible values are errors of the form
 * "FILE:LINE:COL: what is wrong (hint: what to write instead)", LINE and COL 1-based, found
 * before any job runs. Values keep their marks, so the planner (sweep/plan.c) reports a
 * combination that no space accepts at the place it was written. */
#ifndef FN_SWEEP_CONFIG_H
#define FN_SWEEP_CONFIG_H

#include <stddef.h>

#include "search/space.h"

#define SWEEP_ERRLEN 1024
#define SWEEP_PATHLEN 4096
#define SWEEP_MAX_ZIPS 16
#define SWEEP_MAX_EXCLUDES 64
#define SWEEP_MAX_ENSEMBLES 16
#define SWEEP_MAX_NOOP_MS 3600000.0   /* noop_ms: one hour */

typedef struct { int line, col; } sweep_mark; /* 1-based; 0:0 when not from the file */

/* The parameters of a job, in canonical order: job ids hash them in this order, exclude
 * filters and ensemble `over` lists name them, records carry them. */
typedef enum {
    SWEEP_KEY_KIND,          /* top level `kind`: search | noop | score | zc_search | random |
                                hnas */
    SWEEP_KEY_SPACE,         /* grid: nb201 | darts | nb1shot1, or {name:, cells:, channels:, ss:} */
    SWEEP_KEY_CELLS,         /* inside a space entry only */
    SWEEP_KEY_CHANNELS,      /* inside a space entry only */
    SWEEP_KEY_SS,            /* inside a nb1shot1 space entry only */
    SWEEP_KEY_DATASET,       /* grid: cifar10 | cifar100 | imagenet16-120 | imagenet224 */
    SWEEP_KEY_METRIC,        /* grid: synflow | snip | grasp; kinds score, zc_search: a proxy */
    SWEEP_KEY_BATCH,         /* grid: labelled batch, >= 1 (default: the metric's) */
    SWEEP_KEY_ALPHA_SCALE,   /* grid: > 0 (default: the space's) */
    SWEEP_KEY_SEED,          /* grid: int >= 0, a list, or "A:B" inclusive */
    SWEEP_KEY_AUGMENT,       /* grid: bool (default true) */
    SWEEP_KEY_PRECISION,     /* grid: 32 | 64 (default: the metric's) */
    SWEEP_KEY_SYNFLOW_ZC,    /* grid: bool (default: the space's, search/space.h) */
    SWEEP_KEY_ABS_PARAMS,    /* grid: bool (default: the space's) */
    SWEEP_KEY_GRASP_ABS,     /* grid: bool (default false) */
    SWEEP_KEY_GRASP_DARTS_FORM, /* grid: bool (default false) */
    SWEEP_KEY_DEVICE,        /* grid: cpu | cuda (default cpu) */
    /* keys of the per-architecture kinds only; left out of search and noop job ids, so
     * the ids of those jobs are what they were before these keys existed */
    SWEEP_KEY_ARCH,          /* kind score: NB201 index 0..15624; `all`, {sample: N, seed: S} */
    SWEEP_KEY_SAMPLE,        /* kinds zc_search, random: architectures sampled per search */
    /* keys of kind hnas only (hnas/search.h) */
    SWEEP_KEY_STRATEGY,      /* ei | ucb (HNAS's BO with that acquisition) | alone (the metric
                                alone, no BO) | random (random search, the same queries) */
    SWEEP_KEY_BUDGET,        /* T: iterations of the search (default 20) */
    SWEEP_KEY_METRIC_ABS,    /* bool: M = |table value| (default false: as HNAS's code) */
    SWEEP_KEY_KAPPA_RAW,     /* bool: kappa < 0 as computed (default false: as +inf) */
    SWEEP_NUM_KEYS
} sweep_key;

typedef enum { SWEEP_T_STR, SWEEP_T_INT, SWEEP_T_NUM, SWEEP_T_BOOL } sweep_type;

typedef struct {
    const char *name;  /* as written in YAML and in records */
    sweep_type type;
    int grid;          /* 1 if it may appear under grid: / zip: */
    const char *hint;  /* what values it takes, for messages */
    int id_when_set;   /* 1: in job ids only when not false (a key added after ids were in
                          use: the ids of earlier sweeps, their records and resume, stay) */
} sweep_key_info;

extern const sweep_key_info sweep_keys[SWEEP_NUM_KEYS];
/* -1 if name is not a key. */
int sweep_key_find(const char *name);

typedef enum {
    SWEEP_KIND_SEARCH,     /* FreeDARTS: score the operations of a supernet, prune */
    SWEEP_KIND_NOOP,       /* nothing (scheduler benchmark) */
    SWEEP_KIND_SCORE,      /* one zero-cost proxy of one NB201 benchmark network (proxies/proxy.h) */
    SWEEP_KIND_ZC_SEARCH,  /* zero-cost NAS: sample N architectures, keep the proxy's best */
    SWEEP_KIND_RANDOM,     /* random search: one architecture drawn with the seed */
    SWEEP_KIND_HNAS,       /* HNAS on NB201 over a metric table (hnas/search.h) */
} sweep_kind;
/* "search", "noop", "score", "zc_search", "random" */
const char *sweep_kind_name(sweep_kind k);
/* per-architecture kinds: NB201 benchmark networks and proxies, not supernets */
#define SWEEP_KIND_PER_ARCH(k) ((k) >= SWEEP_KIND_SCORE)
typedef enum { SWEEP_NORM_RANK, SWEEP_NORM_ZSCORE } sweep_norm;

/* One value of a grid axis, an exclude filter or a space entry field. */
typedef struct {
    double num;        /* INT, NUM, BOOL (0 / 1) */
    const char *str;   /* STR: the registry's own name (static storage): "snip", "cifar10",
                          "cpu"; for SWEEP_KEY_SPACE the space name */
    int variant;       /* SWEEP_KEY_SPACE in a grid axis: index into sweep_config.variants */
    sweep_mark mark;
} sweep_value;

/* A grid axis: the values one key takes. n == 0: the key was not given (default applies). */
typedef struct {
    sweep_value *v;
    int n;
    sweep_mark mark;   /* of the key */
    int zip;           /* -1, or the zip group this axis belongs to (all axes of a group have
                          the same n and advance together) */
} sweep_axis;

/* A space entry, expanded: one variant per (cells, channels, ss) combination written. */
typedef struct {
    const fn_space *space;
    int cells, channels, ss;   /* 0: the space's default (ss: 1 for nb1shot1, 0 otherwise) */
    sweep_mark mark;           /* of the entry */
} sweep_variant;

/* exclude: a job is dropped when, for every key of one filter, its resolved value is one of
 * the filter's values. key[0..nkeys) lists the filter's keys in written order; vals and nvals
 * are indexed by the key itself (vals[SWEEP_KEY_METRIC]), not by position. */
typedef struct {
    int nkeys;
    sweep_key key[SWEEP_NUM_KEYS];
    sweep_value *vals[SWEEP_NUM_KEYS];
    int nvals[SWEEP_NUM_KEYS];
    sweep_mark mark;
} sweep_filter;

/* ensembles: jobs that differ only in the `over` keys form one group; their op scores are
 * normalised per job (rank or z-score) and summed; the sum is pruned to an architecture. */
typedef struct {
    char name[64];
    int over[SWEEP_NUM_KEYS];   /* 1: combined over this key */
    sweep_norm norm;
    sweep_mark mark;
} sweep_ensemble;

/* `darts_hnas:` (kind hnas on space darts, hnas/darts_pool.h, hnas/darts_bo.h): the pool, the
 * M / kappa net and batch, and the training of each evaluation (train_recipe_hnas with these
 * epochs and batch). Every value enters the job id of a DARTS HNAS job. */
typedef struct {
    long pool;          /* candidate genotypes (60000) */
    int pool_width;     /* 8: every primitive; 7: HNAS's quirk, dil_conv_5x5 never drawn */
    int epochs;         /* training epochs per evaluation (10) */
    int train_batch;    /* training batch (576) */
    int images;         /* training-file records used, 0 = all; train / valid = first / last half */
    int ntk_batch;      /* the fixed M / kappa batch (64) */
    int channels, layers; /* evaluation net (16, 5), for M / kappa and training */
    sweep_mark mark;    /* of the section (0:0 when not given) */
} sweep_darts_hnas;
void sweep_darts_hnas_default(sweep_darts_hnas *d);

typedef struct {
    char path[SWEEP_PATHLEN];       /* the config file, as given */
    char name[128];                 /* `name` (default: file name without .yaml) */
    char output[SWEEP_PATHLEN];     /* `output`: results directory (required) */
    sweep_kind kind;                /* `kind` (default search) */
    sweep_mark kind_mark;
    char data[SWEEP_PATHLEN];       /* `data`: labelled data root, "" if not given */
    char benchmark[SWEEP_PATHLEN];  /* `benchmark`: NB201 ground-truth TSV, "" if not given */
    char scores[SWEEP_PATHLEN];     /* `scores`: kind zc_search looks proxy values up in these
                                       score records instead of computing them; "" if not
                                       given (sweep/score_table.h) */
    char table[SWEEP_PATHLEN];      /* `table`: kind hnas, metric tables (hnas/table.h), FILE or
                                       FILE,FILE,... merged; "" if not given */
    sweep_mark data_mark, benchmark_mark, output_mark, scores_mark, table_mark;
    int threads;                    /* `threads`: OpenMP threads per rank, 0 = auto */
    int bundle;                     /* `bundle`: kind search, at most this many compatible
                                       jobs run side by side on a rank (search/bundle.h);
                                       0 = auto (the rank's threads, as memory allows), 1 = off */
    double noop_ms;                 /* `noop_ms`: time a noop job spends (default 0; at most
                                       SWEEP_MAX_NOOP_MS) */
    double progress_s;              /* `progress_interval`: seconds between progress lines (10) */
    double job_timeout_s;           /* `job_timeout_s`: a job with no result after this many
                                       seconds is recorded as `timeout` (0 = no limit) */
    int max_attempts;               /* `max_attempts`: a job whose records are this many failed
                                       attempts is not run again (0 = no limit) */
    long noop_hang_seed;            /* `noop_hang_seed` (tests): the noop job of this seed never
                                       returns; -1 = none */
    sweep_axis axes[SWEEP_NUM_KEYS];/* grid / zip axes (KIND, CELLS, CHANNELS, SS stay empty) */
    int nzips;
    sweep_variant *variants;        /* space entries; at least one (default: nb201) */
    int nvariants;
    sweep_filter excludes[SWEEP_MAX_EXCLUDES];
    int nexcludes;
    sweep_ensemble ensembles[SWEEP_MAX_ENSEMBLES];
    int nensembles;
    sweep_darts_hnas dh;            /* `darts_hnas:` */
} sweep_config;

/* 1 if a space entry of the grid is the space `name` ("nb201", "darts"). */
int sweep_config_has_space(const sweep_config *c, const char *name);

/* 0, or -1 with "FILE:LINE:COL: message (hint: ...)" in err. Environment variables written
 * ${NAME} in path values are expanded (an unset one is an error). On error nothing needs to
 * be freed; on success free with sweep_config_free. */
int sweep_config_load(const char *path, sweep_config *c, char *err, size_t errlen);
/* The bytes of a config file, NUL-terminated, *len of them (free them); NULL with "cannot
 * open / read PATH: why" in err for a missing file, one that is not a regular file (a FIFO
 * would block, /dev/zero never end) or one of more than SWEEP_CONFIG_MAX_BYTES. */
#define SWEEP_CONFIG_MAX_BYTES ((size_t)1 << 30)
char *sweep_config_read(const char *path, size_t *len, char *err, size_t errlen);
/* The same from a string (tests); `path` names it in messages. */
int sweep_config_parse(const char *path, const char *text, size_t len, sweep_config *c,
                       char *err, size_t errlen);
void sweep_config_free(sweep_config *c);
/* Checks that need the final paths (after command-line overrides of output / data /
 * benchmark): a metric that needs labels has `data` (unless `scores` gives its values); the
 * benchmark and scores files can be read; device cuda is available in this build. 0, or -1 with FILE:LINE:COL of the offending value. */
int sweep_config_check(const sweep_config *c, char *err, size_t errlen);

/* Fills `data` and `benchmark` when neither the config nor the command line gave them, from
 * the default data roots (datasets/data_dirs.h): the images of the first dataset of the grid
 * where a job needs images, the NB201 table where a job uses NB201, the shipped HNAS metric
 * tables (data_hnas_tables) for kind hnas. Call before the check;
 * what is not found stays "" and the check says what is missing. */
void sweep_config_default_paths(sweep_config *c);

#endif
