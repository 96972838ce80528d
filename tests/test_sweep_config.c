/* tests/test_sweep_config.c: the sweep config parser (sweep/config.c). Malformed configs must
 * fail with the exact "cfg.yaml:LINE:COL:" of the offending node and a message that says what
 * is wrong; valid configs must fill every field, expand space entries and seed ranges in
 * written order, and keep the defaults; sweep_config_check reports what needs final paths.
 *   ./build/bin/test_sweep_config */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gpu/backend_cuda.h"
#include "sweep/config.h"
#include "sweep/plan.h"
#include "tests/test_util.h"

static int parse(const char *yaml, sweep_config *c, char *err) {
    return sweep_config_parse("cfg.yaml", yaml, strlen(yaml), c, err, SWEEP_ERRLEN);
}

/* yaml must fail with err starting with prefix and containing phrase (and phrase2 if given). */
static void expect_error(const char *yaml, const char *prefix, const char *phrase,
                         const char *phrase2) {
    sweep_config c;
    char err[SWEEP_ERRLEN] = "";
    int rc = parse(yaml, &c, err);
    int ok = rc == -1 && !strncmp(err, prefix, strlen(prefix)) && strstr(err, phrase) &&
             (!phrase2 || strstr(err, phrase2));
    CHECKF(ok, "config\n%s\nwanted \"%s ...%s...%s\", got rc %d \"%s\"", yaml, prefix, phrase,
           phrase2 ? phrase2 : "", rc, err);
    CHECK(c.variants == NULL && c.nvariants == 0 && c.axes[SWEEP_KEY_SEED].v == NULL);
    sweep_config_free(&c); /* safe after a failed parse */
}

static void malformed(void) {
    unsetenv("FREENAS_TEST_UNSET_VAR");
    expect_error("output: out\nthread: 2\n", "cfg.yaml:2:1: ", "unknown key 'thread'",
                 "did you mean 'threads'?");
    expect_error("output: out\nfoo: 1\n", "cfg.yaml:2:1: ", "unknown key 'foo'",
                 "known keys: name, output");
    expect_error("output: out\ngrid:\n  metrc: snip\n", "cfg.yaml:3:3: ", "unknown key 'metrc'",
                 "did you mean 'metric'?");
    expect_error("output: out\ngrid:\n  seeds: 0\n", "cfg.yaml:3:3: ", "unknown key 'seeds'",
                 "did you mean 'seed'?");
    expect_error("output: out\ngrid:\n  batch: \"64\"\n", "cfg.yaml:3:10: ",
                 "batch: expected an integer, got a string \"64\"", "write 64 without quotes");
    expect_error("output: out\ngrid:\n  augment: 'true'\n", "cfg.yaml:3:12: ",
                 "augment: expected true or false, got a string", "without quotes");
    expect_error("output: out\nthreads: [1, 2]\n", "cfg.yaml:2:10: ",
                 "threads: expected an integer, got a list", NULL);
    expect_error("output: out\ngrid:\n  batch: 6.5\n", "cfg.yaml:3:10: ",
                 "batch: expected an integer, got \"6.5\"", NULL);
    expect_error("output: out\ngrid: {metric: [synflow, snpi]}\n", "cfg.yaml:2:26: ",
                 "unknown metric 'snpi'",
                 "known: synflow, snip, grasp, params, flops, grad_norm, naswot, fisher, "
                 "jacob_cov, ntk_trace, ntk_cond, hnas_ntk_trace, hnas_ntk_cond, hnas_grad_norm, "
                 "hnas_snip, hnas_grasp; did you mean 'snip'?");
    expect_error("output: out\ngrid:\n  dataset: cifar1000\n", "cfg.yaml:3:12: ",
                 "unknown dataset 'cifar1000'", "did you mean 'cifar100'?");
    expect_error("output: out\ngrid:\n  alpha_scale: -1e-3\n", "cfg.yaml:3:16: ",
                 "alpha_scale: -1e-3 must be > 0", NULL);
    expect_error("output: out\ngrid:\n  seed: \"5:3\"\n", "cfg.yaml:3:9: ",
                 "seed: range \"5:3\" is empty", "write \"3:5\"");
    expect_error("output: out\ngrid:\n  seed: [\"0:9\", 5]\n", "cfg.yaml:3:17: ",
                 "seed: 5 repeats a value given at 3:10", NULL);
    expect_error("output: out\ngrid:\n  precision: [32, 16]\n", "cfg.yaml:3:19: ",
                 "precision: 16 is not 32, 64 or 19", NULL);
    expect_error("output: out\ngrid:\n  batch: 5000\n", "cfg.yaml:3:10: ",
                 "batch: 5000 is out of range", "1..4096");
    expect_error("output: out\ngrid:\n  space:\n    - {name: darts, ss: 2}\n", "cfg.yaml:4:21: ",
                 "ss: only nb1shot1 has search spaces", "remove ss");
    expect_error("output: out\ngrid:\n  space: [{name: darts, cells: 8, cels: 9}]\n",
                 "cfg.yaml:3:35: ",
                 "unknown key 'cels' in a space entry", "did you mean 'cells'?");
    expect_error("output: out\ngrid:\n  space: [{cells: 8}]\n", "cfg.yaml:3:11: ",
                 "space entry without a name", NULL);
    expect_error("output: out\ngrid:\n  space: [{name: darts, cells: 80}]\n", "cfg.yaml:3:32: ",
                 "cells: 80 is out of range", NULL);
    expect_error("output: out\ngrid:\n  cells: [8, 20]\n", "cfg.yaml:3:3: ",
                 "'cells' belongs to a space entry",
                 "write it inside a space entry: space: [{name: darts, cells: [8, 20]}]");
    expect_error("output: out\ngrid:\n  resolution: 224\n", "cfg.yaml:3:3: ",
                 "unknown key 'resolution'", "the resolution follows the dataset");
    expect_error("output: out\ngrid:\n  kind: noop\n", "cfg.yaml:3:3: ", "not a grid key",
                 "kind is a top-level key");
    expect_error("output: out\nmetric: snip\n", "cfg.yaml:2:1: ", "unknown key 'metric'",
                 "metric is a grid key");
    expect_error("output: out\nzip:\n  - {metric: [snip, grasp], batch: [64, 32, 16]}\n",
                 "cfg.yaml:3:29: ", "zip group 1: 'batch' has 3 values, 'metric' has 2", NULL);
    expect_error("output: out\ngrid:\n  metric: [snip, grasp]\nzip:\n"
                 "  - {metric: [snip, grasp], batch: [64, 32]}\n",
                 "cfg.yaml:5:6: ", "'metric' is already in grid at 3:3", NULL);
    expect_error("output: out\nzip:\n  - {batch: [64, 32]}\n  - {seed: [1, 2], batch: [8, 16]}\n",
                 "cfg.yaml:4:20: ", "zip group 2: 'batch' is already in zip group 1 at 3:6", NULL);
    expect_error("output: out\nzip:\n  - {space: [nb201, darts], seed: [1, 2]}\n",
                 "cfg.yaml:3:6: ", "space cannot be zipped", "put space in grid");
    expect_error("output: out\nensembles:\n  - {name: a, over: [seeds]}\n", "cfg.yaml:3:22: ",
                 "over: unknown key 'seeds'", "did you mean 'seed'?");
    expect_error("output: out\nensembles:\n  - {name: a, over: [seed, space]}\n",
                 "cfg.yaml:3:28: ", "cannot combine over space",
                 "an ensemble combines jobs of one alpha layout; make one ensemble per space");
    expect_error("output: out\nensembles:\n  - {name: a, over: [seed]}\n"
                 "  - {name: a, over: [metric]}\n",
                 "cfg.yaml:4:12: ", "duplicate ensemble name 'a'", NULL);
    expect_error("output: out\nensembles:\n  - {name: a, over: [seed], norm: minmax}\n",
                 "cfg.yaml:3:35: ", "norm: unknown normalisation 'minmax'", "rank or zscore");
    expect_error("output: out\nexclude:\n  - {space: darts, metric: grasp, kind: noop}\n",
                 "cfg.yaml:3:35: ", "exclude: unknown key 'kind'", NULL);
    expect_error("output: out\nexclude:\n  - {space: darts, metric: snpi}\n", "cfg.yaml:3:28: ",
                 "unknown metric 'snpi'", NULL);
    expect_error("output: out\ngrid:\n  metric: snip\n  metric: grasp\n", "cfg.yaml:4:3: ",
                 "duplicate key 'metric'", "already given at 3:3");
    expect_error("output: out\ngrid:\n  metric: [snip, grasp\n", "cfg.yaml:4:1: ",
                 "YAML syntax error: did not find expected ',' or ']'", "flow sequence");
    expect_error("grid: {metric: snip}\n", "cfg.yaml:1:1: ", "missing required key 'output'",
                 NULL);
    expect_error("", "cfg.yaml:1:1: ", "the configuration is empty", NULL);
    expect_error("- output\n", "cfg.yaml:1:1: ", "the top level must be a mapping", "got a list");
    expect_error("output: out\n---\noutput: b\n", "cfg.yaml:3:1: ", "a second YAML document", NULL);
    expect_error("output: out\ngrid:\n  metric: [snip, grasp, snip]\n", "cfg.yaml:3:25: ",
                 "metric: snip repeats a value given at 3:12", NULL);
    expect_error("output: out\ngrid:\n"
                 "  space: [{name: darts, cells: 8}, {name: darts, cells: [20, 8]}]\n",
                 "cfg.yaml:3:36: ", "space: this entry repeats a value given at 3:11", NULL);
    expect_error("output: out\ngrid:\n  metric: []\n", "cfg.yaml:3:11: ", "metric: empty list",
                 NULL);
    expect_error("output: results/${FREENAS_TEST_UNSET_VAR}/x\n", "cfg.yaml:1:9: ",
                 "environment variable FREENAS_TEST_UNSET_VAR is not set", "export");
    expect_error("output: out\nkind: serach\n", "cfg.yaml:2:7: ", "unknown kind 'serach'", NULL);
    expect_error("output: out\nkind: noop\nnoop_ms: 1e308\n", "cfg.yaml:3:10: ",
                 "noop_ms: 1e308 is out of range", "0..3600000 milliseconds");
    expect_error("output: out\nkind: noop\nnoop_ms: 3600000.5\n", "cfg.yaml:3:10: ",
                 "noop_ms: 3600000.5 is out of range", NULL);
    expect_error("output: out\nprogress_interval: 0\n", "cfg.yaml:2:20: ",
                 "progress_interval: 0 must be > 0", NULL);
}

static void full_example(void) {
    const char *yaml =
        "name: nb201_table2          # optional\n"
        "output: results/nb201_table2\n"
        "kind: search\n"
        "data: ../shared/data\n"
        "benchmark: ../shared/data/nb201/nb201_accuracy.tsv\n"
        "threads: 4\n"
        "noop_ms: 2.5\n"
        "progress_interval: .5\n"
        "grid:\n"
        "  space: [nb201, {name: darts, cells: [8, 20], channels: 16}, "
        "{name: nb1shot1, ss: [1, 2, 3]}]\n"
        "  dataset: [cifar10, cifar100, imagenet16-120]\n"
        "  seed: \"0:19\"\n"
        "  alpha_scale: [1.0e-3, 1e-2, .5]\n"
        "  augment: true\n"
        "  precision: [32, 64, 19]\n"
        "  synflow_zc: no\n"
        "  abs_params: [True, OFF]\n"
        "  grasp_abs: false\n"
        "  grasp_darts_form: false\n"
        "  device: cpu\n"
        "zip:\n"
        "  - {metric: [snip, grasp, snip], batch: [64, 32, 32]}\n"
        "exclude:\n"
        "  - {space: darts, metric: grasp}\n"
        "  - {space: nb201, dataset: imagenet224, seed: \"0:4\"}\n"
        "ensembles:\n"
        "  - {name: seeds, over: [seed]}\n"
        "  - {name: metrics, over: [seed, metric], norm: rank}\n";
    sweep_config c;
    char err[SWEEP_ERRLEN] = "";
    CHECKF(parse(yaml, &c, err) == 0, "%s", err);
    CHECK(!strcmp(c.path, "cfg.yaml") && !strcmp(c.name, "nb201_table2"));
    CHECK(!strcmp(c.output, "results/nb201_table2") && c.output_mark.line == 2 &&
          c.output_mark.col == 9);
    CHECK(!strcmp(c.data, "../shared/data") && c.data_mark.line == 4 && c.data_mark.col == 7);
    CHECK(!strcmp(c.benchmark, "../shared/data/nb201/nb201_accuracy.tsv") &&
          c.benchmark_mark.line == 5);
    CHECK(c.kind == SWEEP_KIND_SEARCH && c.threads == 4 && c.noop_ms == 2.5 && c.progress_s == 0.5);
    /* variants: nb201; darts cells 8, 20 (channels 16); nb1shot1 ss 1, 2, 3 */
    CHECK(c.nvariants == 6);
    static const char *vs[6] = {"nb201", "darts", "darts", "nb1shot1", "nb1shot1", "nb1shot1"};
    static const int vc[6] = {0, 8, 20, 0, 0, 0}, vch[6] = {0, 16, 16, 0, 0, 0},
                     vss[6] = {0, 0, 0, 1, 2, 3}, vcol[6] = {11, 18, 18, 63, 63, 63};
    const sweep_axis *sp = &c.axes[SWEEP_KEY_SPACE];
    CHECK(sp->n == 6 && sp->zip == -1 && sp->mark.line == 10 && sp->mark.col == 3);
    for (int i = 0; i < 6 && i < c.nvariants && i < sp->n; i++) {
        const sweep_variant *v = &c.variants[i];
        CHECKF(!strcmp(v->space->name, vs[i]) && v->cells == vc[i] && v->channels == vch[i] &&
               v->ss == vss[i] && v->mark.line == 10 && v->mark.col == vcol[i],
               "variant %d: %s cells %d channels %d ss %d at %d:%d", i, v->space->name, v->cells,
               v->channels, v->ss, v->mark.line, v->mark.col);
        CHECK(sp->v[i].variant == i && !strcmp(sp->v[i].str, vs[i]) &&
              sp->v[i].str == v->space->name && sp->v[i].mark.col == vcol[i]);
    }
    const sweep_axis *ds = &c.axes[SWEEP_KEY_DATASET];
    CHECK(ds->n == 3 && !strcmp(ds->v[0].str, "cifar10") &&
          !strcmp(ds->v[2].str, "imagenet16-120"));
    CHECK(ds->v[1].mark.line == 11 && ds->v[1].mark.col == 22);
    const sweep_axis *sd = &c.axes[SWEEP_KEY_SEED];
    CHECK(sd->n == 20 && sd->zip == -1);
    for (int i = 0; i < sd->n; i++) CHECK(sd->v[i].num == i && sd->v[i].mark.line == 12);
    const sweep_axis *al = &c.axes[SWEEP_KEY_ALPHA_SCALE];
    CHECK(al->n == 3 && al->v[0].num == 1e-3 && al->v[1].num == 1e-2 && al->v[2].num == 0.5);
    CHECK(c.axes[SWEEP_KEY_AUGMENT].n == 1 && c.axes[SWEEP_KEY_AUGMENT].v[0].num == 1);
    CHECK(c.axes[SWEEP_KEY_PRECISION].n == 3 && c.axes[SWEEP_KEY_PRECISION].v[1].num == 64 &&
          c.axes[SWEEP_KEY_PRECISION].v[2].num == 19);
    CHECK(c.axes[SWEEP_KEY_SYNFLOW_ZC].n == 1 && c.axes[SWEEP_KEY_SYNFLOW_ZC].v[0].num == 0);
    const sweep_axis *ap = &c.axes[SWEEP_KEY_ABS_PARAMS];
    CHECK(ap->n == 2 && ap->v[0].num == 1 && ap->v[1].num == 0);
    CHECK(c.axes[SWEEP_KEY_GRASP_ABS].n == 1 && c.axes[SWEEP_KEY_GRASP_DARTS_FORM].n == 1);
    CHECK(c.axes[SWEEP_KEY_DEVICE].n == 1 && !strcmp(c.axes[SWEEP_KEY_DEVICE].v[0].str, "cpu"));
    /* zip: metric and batch advance together; other axes are free */
    CHECK(c.nzips == 1);
    const sweep_axis *me = &c.axes[SWEEP_KEY_METRIC], *ba = &c.axes[SWEEP_KEY_BATCH];
    CHECK(me->zip == 0 && ba->zip == 0 && me->n == 3 && ba->n == 3);
    CHECK(!strcmp(me->v[0].str, "snip") && !strcmp(me->v[1].str, "grasp") && ba->v[1].num == 32);
    CHECK(me->mark.line == 22 && me->mark.col == 6 && ba->mark.col == 35);
    for (int k = 0; k < SWEEP_NUM_KEYS; k++)
        if (k != SWEEP_KEY_METRIC && k != SWEEP_KEY_BATCH) CHECK(c.axes[k].zip == -1);
    CHECK(c.axes[SWEEP_KEY_KIND].n == 0 && c.axes[SWEEP_KEY_CELLS].n == 0 &&
          c.axes[SWEEP_KEY_SS].n == 0);
    /* exclude filters: key[i] lists the keys, vals / nvals are indexed by key */
    CHECK(c.nexcludes == 2);
    const sweep_filter *f0 = &c.excludes[0], *f1 = &c.excludes[1];
    CHECK(f0->nkeys == 2 && f0->key[0] == SWEEP_KEY_SPACE && f0->key[1] == SWEEP_KEY_METRIC);
    CHECK(f0->nvals[SWEEP_KEY_SPACE] == 1 && !strcmp(f0->vals[SWEEP_KEY_SPACE][0].str, "darts"));
    CHECK(f0->nvals[SWEEP_KEY_METRIC] == 1 && !strcmp(f0->vals[SWEEP_KEY_METRIC][0].str, "grasp"));
    CHECK(f0->mark.line == 24 && f0->mark.col == 5);
    CHECK(f1->nkeys == 3 && f1->key[2] == SWEEP_KEY_SEED && f1->nvals[SWEEP_KEY_SEED] == 5 &&
          f1->vals[SWEEP_KEY_SEED][4].num == 4);
    CHECK(!strcmp(f1->vals[SWEEP_KEY_DATASET][0].str, "imagenet224"));
    /* ensembles */
    CHECK(c.nensembles == 2);
    CHECK(!strcmp(c.ensembles[0].name, "seeds") && c.ensembles[0].norm == SWEEP_NORM_ZSCORE);
    CHECK(!strcmp(c.ensembles[1].name, "metrics") && c.ensembles[1].norm == SWEEP_NORM_RANK);
    for (int k = 0; k < SWEEP_NUM_KEYS; k++) {
        CHECK(c.ensembles[0].over[k] == (k == SWEEP_KEY_SEED));
        CHECK(c.ensembles[1].over[k] == (k == SWEEP_KEY_SEED || k == SWEEP_KEY_METRIC));
    }
    CHECK(c.ensembles[1].mark.line == 28);
    sweep_config_free(&c);
    CHECK(c.variants == NULL && c.nvariants == 0 && c.axes[SWEEP_KEY_SEED].v == NULL);
}

static void defaults_and_keys(void) {
    sweep_config c;
    char err[SWEEP_ERRLEN] = "";
    CHECKF(parse("output: out\n", &c, err) == 0, "%s", err);
    CHECK(!strcmp(c.name, "cfg") && !strcmp(c.output, "out") && c.data[0] == 0 &&
          c.benchmark[0] == 0);
    CHECK(c.kind == SWEEP_KIND_SEARCH && c.threads == 0 && c.noop_ms == 0 && c.progress_s == 10);
    CHECK(c.nvariants == 1 && c.variants[0].space == &fn_space_nb201 && c.variants[0].cells == 0 &&
          c.variants[0].channels == 0 && c.variants[0].ss == 0 && c.variants[0].mark.line == 0);
    const sweep_axis *sp = &c.axes[SWEEP_KEY_SPACE];
    CHECK(sp->n == 1 && sp->v[0].variant == 0 && !strcmp(sp->v[0].str, "nb201") &&
          sp->v[0].mark.line == 0 && sp->zip == -1);
    for (int k = 0; k < SWEEP_NUM_KEYS; k++)
        if (k != SWEEP_KEY_SPACE) CHECK(c.axes[k].n == 0 && c.axes[k].zip == -1);
    CHECK(c.nzips == 0 && c.nexcludes == 0 && c.nensembles == 0);
    CHECK(sweep_config_check(&c, err, sizeof err) == 0);
    sweep_config_free(&c);

    /* scalars for one-value axes, nb1shot1 default ss, noop kind, env expansion */
    setenv("FREENAS_TEST_ROOT", "/scratch/me", 1);
    CHECKF(parse("output: ${FREENAS_TEST_ROOT}/out\nkind: noop\nnoop_ms: 5\n"
                 "grid: {space: nb1shot1, metric: grasp, seed: 7}\n", &c, err) == 0, "%s", err);
    CHECK(!strcmp(c.output, "/scratch/me/out") && c.kind == SWEEP_KIND_NOOP && c.noop_ms == 5);
    CHECK(c.nvariants == 1 && c.variants[0].ss == 1 && c.variants[0].mark.line == 4);
    CHECK(c.axes[SWEEP_KEY_SEED].n == 1 && c.axes[SWEEP_KEY_SEED].v[0].num == 7);
    sweep_config_free(&c);

    /* darts entry: cells x channels in written order */
    CHECKF(parse("output: o\ngrid:\n  space: [{name: darts, channels: [16, 36], cells: [20, 8]}]\n",
                 &c, err) == 0, "%s", err);
    CHECK(c.nvariants == 4 && c.axes[SWEEP_KEY_SPACE].n == 4);
    CHECK(c.variants[0].cells == 20 && c.variants[0].channels == 16);
    CHECK(c.variants[1].cells == 20 && c.variants[1].channels == 36);
    CHECK(c.variants[2].cells == 8 && c.variants[2].channels == 16);
    CHECK(c.variants[3].cells == 8 && c.variants[3].channels == 36);
    sweep_config_free(&c);

    /* zip lists may repeat values as long as the tuples differ */
    CHECKF(parse("output: o\nzip:\n  - {metric: [snip, snip], batch: [64, 32]}\n", &c, err) == 0,
           "%s", err);
    sweep_config_free(&c);

    /* a million seeds: one allocation, no quadratic duplicate check (a quadratic one would run
     * for hours and hit the test's CTest TIMEOUT; the time is printed, not asserted) */
    clock_t t0 = clock();
    CHECKF(parse("output: o\ngrid:\n  seed: [\"0:999999\", 1000000]\n", &c, err) == 0, "%s", err);
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    CHECK(c.axes[SWEEP_KEY_SEED].n == 1000001 && c.axes[SWEEP_KEY_SEED].v[999999].num == 999999 &&
          c.axes[SWEEP_KEY_SEED].v[1000000].num == 1000000);
    printf("     1,000,001 seeds parsed in %.3f s\n", secs);
    sweep_config_free(&c);

    CHECK(sweep_key_find("seed") == SWEEP_KEY_SEED && sweep_key_find("grasp_darts_form") ==
          SWEEP_KEY_GRASP_DARTS_FORM && sweep_key_find("seeds") == -1);
    int ngrid = 0;
    for (int k = 0; k < SWEEP_NUM_KEYS; k++) {
        CHECK(sweep_keys[k].name && sweep_keys[k].hint && sweep_key_find(sweep_keys[k].name) == k);
        ngrid += sweep_keys[k].grid;
    }
    CHECK(ngrid == 19 && !sweep_keys[SWEEP_KEY_KIND].grid && !sweep_keys[SWEEP_KEY_CELLS].grid);
}

/* The per-architecture kinds: what each takes, and the arch list forms. */
static void per_arch_kinds(void) {
    const char *B = "output: out\nbenchmark: b.tsv\n";
    /* the config after B; the expected FILE:LINE:COL prefix and phrases */
    static const struct { const char *yaml, *prefix, *phrase, *phrase2; } bad[] = {
        {"kind: score\ngrid: {metric: naswot}\n", "cfg.yaml:3:7: ", "kind score needs arch",
         "arch: all"},
        {"kind: score\ngrid: {arch: all}\n", "cfg.yaml:3:7: ", "kind score needs metric", "naswot"},
        {"grid: {metric: naswot}\n", "cfg.yaml:3:16: ", "metric naswot is a per-architecture proxy",
         "kind: score"},
        {"grid: {arch: [1, 2]}\n", "cfg.yaml:3:8: ", "arch is a key of kind score", NULL},
        {"kind: score\ngrid: {metric: synflow, arch: [3, 15625]}\n", "cfg.yaml:4:35: ",
         "arch: expected an NB201 index 0..15624", NULL},
        {"kind: score\ngrid: {metric: synflow, arch: [3, 7, 3]}\n", "cfg.yaml:4:38: ",
         "arch: 3 is given twice", NULL},
        {"kind: score\ngrid: {metric: synflow, arch: {sample: 0}}\n", "cfg.yaml:4:31: ",
         "arch: sample must be 1..15625", NULL},
        {"kind: score\ngrid: {metric: synflow, arch: all, alpha_scale: 0.1}\n", "cfg.yaml:4:36: ",
         "alpha_scale is an option of FreeDARTS searches", NULL},
        {"kind: score\ngrid: {space: darts, metric: synflow, arch: all}\n", "cfg.yaml:4:15: ",
         "kind score scores NB201 benchmark networks", NULL},
        {"kind: random\ngrid: {metric: synflow}\n", "cfg.yaml:4:8: ", "kind random takes no metric",
         NULL},
        {"kind: score\ngrid: {metric: synflow, arch: all, sample: 5}\n", "cfg.yaml:4:36: ",
         "sample is a key of kind zc_search", NULL},
        {"kind: zc_search\ngrid: {metric: snip, sample: 5}\nensembles: [{name: s, over: [seed]}]\n",
         "cfg.yaml:5:13: ", "ensembles combine operation scores", NULL},
        {"kind: scores\n", "cfg.yaml:3:7: ", "unknown kind 'scores'", "zc_search"},
        {"kind: score\nscores: s.jsonl\ngrid: {metric: snip, arch: all}\n", "cfg.yaml:4:9: ",
         "scores is a key of kind zc_search", "remove scores"},
        {"kind: zc_search\nscore: s.jsonl\n", "cfg.yaml:4:1: ", "unknown key 'score'", "scores"},
        {"kind: random\ngrid: {seed: 1, batch: 64}\n", "cfg.yaml:4:17: ",
         "kind random does not read batch", "remove it"},
        {"kind: zc_search\ngrid: {metric: snip, synflow_zc: true}\n", "cfg.yaml:4:22: ",
         "synflow_zc is an option of FreeDARTS searches, not of kind zc_search", NULL},
        /* kind hnas */
        {"kind: score\ntable: t.tsv\ngrid: {metric: snip, arch: all}\n", "cfg.yaml:4:8: ",
         "table is a key of kind hnas", NULL},
        {"grid: {strategy: ei}\n", "cfg.yaml:3:8: ", "strategy is a key of kind hnas", NULL},
        {"kind: hnas\ntable: t.tsv\ngrid: {strategy: bo}\n", "cfg.yaml:5:18: ",
         "unknown strategy 'bo'", "ei, ucb, alone, random"},
        {"kind: hnas\ntable: t.tsv\ngrid: {budget: 0}\n", "cfg.yaml:5:16: ",
         "budget: 0 is out of range", "1..256"},
        {"grid: {metric_abs: true}\n", "cfg.yaml:3:8: ", "metric_abs is a key of kind hnas", NULL},
        {"kind: hnas\ntable: t.tsv\ngrid: {kappa_raw: maybe}\n", "cfg.yaml:5:19: ",
         "kappa_raw", "true or false"},
        {"kind: hnas\ngrid: {space: darts, kappa_raw: true}\n", "cfg.yaml:4:",
         "kappa_raw: kind hnas on darts takes M and kappa of its pool as they are",
         "an option of HNAS on NB201's table"},
        {"kind: hnas\ntable: t.tsv\ngrid: {seed: 1, batch: 64}\n", "cfg.yaml:5:17: ",
         "kind hnas does not read batch", "from the table"},
        {"kind: hnas\ntable: t.tsv\ngrid: {metric: grasp_x}\n", "cfg.yaml:5:16: ",
         "unknown metric 'grasp_x'", NULL},
    };
    char y[512];
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(y, sizeof y, "%s%s", B, bad[i].yaml);
        expect_error(y, bad[i].prefix, bad[i].phrase, bad[i].phrase2);
    }

    sweep_config c;
    char err[SWEEP_ERRLEN];
    snprintf(y, sizeof y, "%skind: score\ngrid: {metric: [synflow, naswot], arch: all}\n", B);
    int rc = parse(y, &c, err);
    CHECKF(rc == 0, "%s", err);
    CHECK(c.kind == SWEEP_KIND_SCORE && c.axes[SWEEP_KEY_ARCH].n == 15625 &&
          c.axes[SWEEP_KEY_ARCH].v[15624].num == 15624);
    sweep_config_free(&c);
    /* {sample: N, seed: S}: N distinct indices, the same as sweep_sample_indices */
    snprintf(y, sizeof y, "%skind: score\ngrid: {metric: params, arch: {sample: 500, seed: 7}}\n", B);
    rc = parse(y, &c, err);
    CHECKF(rc == 0, "%s", err);
    int idx[500], distinct = 1;
    sweep_sample_indices(7, 500, 15625, idx);
    static unsigned char seen[15625];
    memset(seen, 0, sizeof seen);
    for (int i = 0; i < 500 && rc == 0; i++) {
        int a = (int)c.axes[SWEEP_KEY_ARCH].v[i].num;
        CHECK(a == idx[i] && a >= 0 && a < 15625);
        if (seen[a]++) distinct = 0;
    }
    CHECK(c.axes[SWEEP_KEY_ARCH].n == 500 && distinct);
    sweep_config_free(&c);
}

static void files_and_check(void) {
    sweep_config c;
    char err[SWEEP_ERRLEN] = "";
    char dir[] = "/tmp/test_sweep_config_XXXXXX", path[256];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/my_sweep.yaml", dir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f) return;
    fprintf(f, "output: results/x\ngrid:\n  metric: [synflow, snip]\n  device: [cpu, cuda]\n");
    fclose(f);
    CHECKF(sweep_config_load(path, &c, err, sizeof err) == 0, "%s", err);
    CHECK(!strcmp(c.name, "my_sweep") && !strcmp(c.path, path));
    /* snip without data: at the snip value */
    char want[512];
    snprintf(want, sizeof want, "%s:3:21: metric snip needs labelled data", path);
    CHECKF(sweep_config_check(&c, err, sizeof err) == -1 && !strncmp(err, want, strlen(want)) &&
           strstr(err, "set data: DIR, pass --data, or fetch it with scripts/fetch_data.sh"), "%s", err);
    snprintf(c.data, sizeof c.data, "../shared/data"); /* --data on the command line */
    if (gpu_exec_compiled()) { /* device cuda runs search jobs on the CUDA executor */
        CHECKF(sweep_config_check(&c, err, sizeof err) == 0, "%s", err);
        c.kind = SWEEP_KIND_SCORE; /* ... and the per-architecture proxies' networks */
        snprintf(c.benchmark, sizeof c.benchmark, "%s", path); /* any readable file */
        CHECKF(sweep_config_check(&c, err, sizeof err) == 0, "%s", err);
        c.kind = SWEEP_KIND_SEARCH;
        c.benchmark[0] = '\0';
    } else {
        snprintf(want, sizeof want, "%s:4:17: device cuda: this build has no CUDA executor", path);
        CHECKF(sweep_config_check(&c, err, sizeof err) == -1 && !strncmp(err, want, strlen(want)) &&
               strstr(err, "device: cpu"), "%s", err);
    }
    /* a benchmark given on the command line (mark 0:0): "PATH: message" */
    snprintf(c.benchmark, sizeof c.benchmark, "%s/missing.tsv", dir);
    snprintf(want, sizeof want, "%s: benchmark: cannot read %s/missing.tsv: No such file", path,
             dir);
    CHECKF(sweep_config_check(&c, err, sizeof err) == -1 && !strncmp(err, want, strlen(want)),
           "%s", err);
    sweep_config_free(&c);

    snprintf(path, sizeof path, "%s/other.yml", dir);
    f = fopen(path, "w");
    if (f) {
        fprintf(f, "output: o\nbenchmark: /nonexistent/nb201.tsv\n");
        fclose(f);
    }
    CHECKF(sweep_config_load(path, &c, err, sizeof err) == 0, "%s", err);
    CHECK(!strcmp(c.name, "other"));
    snprintf(want, sizeof want, "%s:2:12: benchmark: cannot read /nonexistent/nb201.tsv", path);
    CHECKF(sweep_config_check(&c, err, sizeof err) == -1 && !strncmp(err, want, strlen(want)),
           "%s", err);
    snprintf(c.benchmark, sizeof c.benchmark, "%s", path); /* a readable file */
    CHECKF(sweep_config_check(&c, err, sizeof err) == 0, "%s", err);
    sweep_config_free(&c);
    /* kind hnas with no table: the check (after the data roots had their turn) names the key */
    f = fopen(path, "w");
    if (f) {
        fprintf(f, "output: o\nbenchmark: %s\nkind: hnas\n", path);
        fclose(f);
    }
    CHECKF(sweep_config_load(path, &c, err, sizeof err) == 0, "%s", err);
    snprintf(want, sizeof want, "%s:3:7: kind hnas needs table", path);
    CHECKF(sweep_config_check(&c, err, sizeof err) == -1 && !strncmp(err, want, strlen(want)) &&
           strstr(err, "freenas hnas-table"), "%s", err);
    snprintf(c.table, sizeof c.table, "%s", path); /* what default_paths finds, or the key */
    CHECKF(sweep_config_check(&c, err, sizeof err) == 0, "%s", err);
    sweep_config_free(&c);
    remove(path);
    snprintf(path, sizeof path, "%s/my_sweep.yaml", dir);
    remove(path);
    rmdir(dir);

    CHECK(sweep_config_load("/nonexistent/x.yaml", &c, err, sizeof err) == -1);
    CHECKF(!strcmp(err, "cannot open /nonexistent/x.yaml: No such file or directory"), "%s", err);
}

/* job_timeout_s, max_attempts, noop_hang_seed (the fault keys, configs/README.md) */
static void fault_keys(void) {
    sweep_config c;
    char err[SWEEP_ERRLEN] = "";
    CHECKF(parse("output: out\n", &c, err) == 0, "%s", err);
    CHECK(c.job_timeout_s == 0 && c.max_attempts == 0 && c.noop_hang_seed == -1);
    sweep_config_free(&c);
    CHECKF(parse("output: out\nkind: noop\njob_timeout_s: 2.5\nmax_attempts: 3\n"
                 "noop_hang_seed: 7\n", &c, err) == 0, "%s", err);
    CHECK(c.job_timeout_s == 2.5 && c.max_attempts == 3 && c.noop_hang_seed == 7);
    sweep_config_free(&c);
    expect_error("output: out\njob_timeout_s: -1\n", "cfg.yaml:2:16: ",
                 "job_timeout_s: -1 must be >= 0", "0 = no limit");
    expect_error("output: out\nmax_attempts: 1.5\n", "cfg.yaml:2:15: ",
                 "max_attempts: expected an integer", NULL);
    expect_error("output: out\nmax_attempts: 70000\n", "cfg.yaml:2:15: ",
                 "max_attempts: 70000 is out of range", "0..65535");
    expect_error("output: out\nnoop_hang_seed: 3\n", "cfg.yaml:2:17: ",
                 "noop_hang_seed: a test hook of kind noop", "kind: noop");
    expect_error("output: out\nmax_attempt: 3\n", "cfg.yaml:2:1: ", "unknown key 'max_attempt'",
                 "did you mean 'max_attempts'?");
}

/* Duplicate checks on long lists and large space entries run in O(n log n): 644,000 seeds
 * written one by one, and three space entries that expand to 64 x 1022 variants each (a 12.7
 * KB config that a pairwise check never finished). CTest's TIMEOUT catches a quadratic
 * check; the times are printed, not asserted. */
static void large_lists(void) {
    sweep_config c;
    char err[SWEEP_ERRLEN];
    const int nseeds = 644000;
    size_t cap = (size_t)nseeds * 8 + 256, len = 0;
    char *y = malloc(cap);
    CHECK(y != NULL);
    if (!y) return;
    len += (size_t)snprintf(y + len, cap - len, "output: o\ngrid:\n  seed: [");
    for (int i = 0; i < nseeds; i++)
        len += (size_t)snprintf(y + len, cap - len, "%s%d", i ? ", " : "", i);
    snprintf(y + len, cap - len, "]\n");
    clock_t t0 = clock();
    CHECKF(parse(y, &c, err) == 0, "%s", err);
    printf("     %d seeds, one per item, parsed in %.3f s\n", nseeds,
           (double)(clock() - t0) / CLOCKS_PER_SEC);
    CHECK(c.axes[SWEEP_KEY_SEED].n == nseeds && c.axes[SWEEP_KEY_SEED].v[nseeds - 1].num == nseeds - 1);
    sweep_config_free(&c);
    /* the same list with 5 again at the end: found, and named at the first 5 */
    snprintf(y + len, cap - len, ", 5]\n");
    t0 = clock();
    CHECK(parse(y, &c, err) == -1);
    printf("     %d seeds with a repeat found in %.3f s\n", nseeds + 1,
           (double)(clock() - t0) / CLOCKS_PER_SEC);
    CHECKF(strstr(err, "seed: 5 repeats a value given at 3:25") != NULL, "%s", err);
    sweep_config_free(&c);

    /* three space entries: cells 1..64 x channels 2..1023 each */
    len = (size_t)snprintf(y, cap, "output: o\ngrid:\n  space:\n");
    static const char *const names[3] = {"darts", "nb201", "nb1shot1"};
    for (int e = 0; e < 3; e++) {
        len += (size_t)snprintf(y + len, cap - len, "    - {name: %s, cells: [", names[e]);
        for (int i = 1; i <= 64; i++) len += (size_t)snprintf(y + len, cap - len, "%s%d", i > 1 ? "," : "", i);
        len += (size_t)snprintf(y + len, cap - len, "], channels: [");
        for (int i = 2; i < 1024; i++) len += (size_t)snprintf(y + len, cap - len, "%s%d", i > 2 ? "," : "", i);
        len += (size_t)snprintf(y + len, cap - len, "]}\n");
    }
    printf("     space entries: %zu bytes of config\n", len);
    t0 = clock();
    CHECKF(parse(y, &c, err) == 0, "%s", err);
    printf("     3 x 65,408 space variants parsed in %.3f s\n", (double)(clock() - t0) / CLOCKS_PER_SEC);
    CHECK(c.axes[SWEEP_KEY_SPACE].n == 3 * 64 * 1022);
    sweep_config_free(&c);
    /* a fourth entry repeating one darts variant: reported at the entry, naming the first */
    snprintf(y + len, cap - len, "    - {name: darts, cells: 64, channels: 1023}\n");
    CHECK(parse(y, &c, err) == -1);
    CHECKF(strstr(err, "cfg.yaml:7:7: space: this entry repeats a value given at 4:7"), "%s", err);
    sweep_config_free(&c);
    free(y);

    /* which item is reported: the first that repeats an earlier one, and that earlier one */
    expect_error("output: out\ngrid:\n  seed: [3, \"10:20\", 1, \"21:30\", \"0:2\", \"15:16\"]\n",
                 "cfg.yaml:3:34: ", "seed: 0:2 repeats a value given at 3:22", NULL);
    expect_error("output: out\ngrid:\n  metric: [snip, synflow, grasp, synflow, snip]\n",
                 "cfg.yaml:3:34: ", "metric: synflow repeats a value given at 3:18", NULL);
}

int main(void) {
    gpu_backend_register(); /* the CUDA backend: loaded by the first CUDA executor */
    malformed();
    fault_keys();
    large_lists();
    full_example();
    defaults_and_keys();
    files_and_check();
    per_arch_kinds();
    return test_summary("test_sweep_config");
}
