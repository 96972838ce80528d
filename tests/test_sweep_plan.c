/* tests/test_sweep_plan.c: the sweep planner and the ensemble arithmetic.
 *   - every job id equals FNV-1a of its canonical parameter text, recomputed the slow way
 *     (the planner hashes a cached prefix per run of seeds)
 *   - grid points that resolve to the same search collapse (grasp_abs on SynFlow); exclude
 *     filters, also on seed; zip groups with the seed inside; a grown grid keeps its ids
 *   - kind hnas: metric_abs and kappa_raw enter a job id only when true (ids of sweeps made
 *     before the keys stay), and collapse where the strategy reads no metric (random)
 *   - ensemble groups: over [seed] and over [seed, metric]
 *   - normalisation (z-score, rank with ties) against hand values; fixed-point sums are
 *     independent of the order jobs are added in
 *   ./test_sweep_plan */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "search/space.h"
#include "sweep/ensemble.h"
#include "sweep/plan.h"
#include "tests/test_util.h"

static uint64_t fnv(const char *s) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    return h;
}

static int plan_from(const char *yaml, sweep_config *c, sweep_plan *p) {
    char err[SWEEP_ERRLEN];
    if (sweep_config_parse("t.yaml", yaml, strlen(yaml), c, err, sizeof err)) {
        fprintf(stderr, "config: %s\n", err);
        return -1;
    }
    if (sweep_plan_build(c, p, err, sizeof err)) {
        fprintf(stderr, "plan: %s\n", err);
        sweep_config_free(c);
        return -1;
    }
    return 0;
}

static void check_ids(const sweep_config *c, const sweep_plan *p) {
    char canon[1024];
    int bad = 0;
    for (long j = 0; j < p->njobs; j++) {
        sweep_params prm;
        sweep_plan_params(c, &p->jobs[j], &prm);
        sweep_params_canonical(&prm, NULL, canon, sizeof canon);
        if (fnv(canon) != p->jobs[j].id && bad++ < 3) fprintf(stderr, "id mismatch at %ld: %s\n", j, canon);
    }
    CHECKF(bad == 0, "%d of %ld ids differ from the hash of their canonical text", bad, p->njobs);
}

static long find_job(const sweep_config *c, const sweep_plan *p, const char *needle) {
    char canon[1024];
    for (long j = 0; j < p->njobs; j++) {
        sweep_params prm;
        sweep_plan_params(c, &p->jobs[j], &prm);
        sweep_params_canonical(&prm, NULL, canon, sizeof canon);
        if (strstr(canon, needle)) return j;
    }
    return -1;
}

static void test_plan(void) {
    sweep_config c;
    sweep_plan p;
    const char *y1 =
        "output: o\n"
        "grid:\n"
        "  space: [nb201, {name: darts, cells: [8, 20]}]\n"
        "  metric: [synflow, snip, grasp]\n"
        "  grasp_abs: [false, true]\n"
        "  seed: \"0:3\"\n"
        "exclude:\n"
        "  - {space: darts, metric: grasp}\n"
        "  - {seed: 3, metric: snip}\n"
        "ensembles:\n"
        "  - {name: s, over: [seed]}\n"
        "  - {name: m, over: [seed, metric]}\n";
    if (plan_from(y1, &c, &p)) { CHECK(0); return; }
    /* 3 variants x 3 metrics x 2 x 4 seeds = 72 points; excluded: darts grasp 2x2x4 = 16, snip
     * seed 3: 3 variants x 2 = 6 -> 50 left; duplicates: grasp_abs true on synflow (3 x 4)
     * and snip (3 x 3) -> 50 - 21 = 29 jobs */
    CHECKF(p.njobs == 29, "njobs %ld", p.njobs);
    CHECKF(p.nexcluded == 22, "excluded %ld", p.nexcluded);
    CHECKF(p.nduplicates == 21, "duplicates %ld", p.nduplicates);
    check_ids(&c, &p);
    CHECK(find_job(&c, &p, "space=darts,cells=20,channels=16,ss=0,dataset=cifar10,metric=snip,batch=64") >= 0);
    CHECK(find_job(&c, &p, "metric=snip,batch=64,alpha_scale=0.001,seed=3") < 0);
    CHECK(find_job(&c, &p, "space=darts,cells=8,channels=16,ss=0,dataset=cifar10,metric=grasp") < 0);
    /* seeds are enumerated fastest: job 0..3 are seeds 0..3 of one combination */
    for (long j = 0; j < 4; j++) {
        sweep_params prm;
        sweep_plan_params(&c, &p.jobs[j], &prm);
        CHECK(prm.sc.seed == (uint64_t)j);
    }
    /* groups over seed: nb201 {synflow, snip, grasp, grasp abs} = 4, darts x2 {synflow, snip} = 4 */
    CHECKF(p.ens[0].ngroups == 8, "groups over seed %ld", p.ens[0].ngroups);
    /* over seed and metric: the grasp_abs axis stays: nb201 x {false, true}, darts cells 8/20
     * x false (darts with grasp_abs true only had duplicates of synflow / snip, dropped) */
    CHECKF(p.ens[1].ngroups == 4, "groups over seed, metric %ld", p.ens[1].ngroups);
    uint64_t id_first = p.jobs[0].id;
    sweep_plan_free(&p);
    sweep_config_free(&c);

    /* a grown grid keeps every id */
    const char *y2 =
        "output: o\n"
        "grid:\n"
        "  space: [nb201, {name: darts, cells: [8, 20]}]\n"
        "  metric: [synflow, snip, grasp]\n"
        "  grasp_abs: [false, true]\n"
        "  seed: \"0:9\"\n"
        "exclude:\n"
        "  - {space: darts, metric: grasp}\n";
    if (plan_from(y2, &c, &p)) { CHECK(0); return; }
    check_ids(&c, &p);
    int have = 0;
    for (long j = 0; j < p.njobs; j++) have |= p.jobs[j].id == id_first;
    CHECK(have);
    sweep_plan_free(&p);
    sweep_config_free(&c);

    /* seed inside a zip group */
    const char *y3 =
        "output: o\n"
        "grid:\n"
        "  metric: [synflow, snip]\n"
        "zip:\n"
        "  - {seed: [5, 6, 7], alpha_scale: [1.0e-3, 1.0e-2, 1.0e-1]}\n";
    if (plan_from(y3, &c, &p)) { CHECK(0); return; }
    CHECKF(p.njobs == 6, "zip njobs %ld", p.njobs);
    check_ids(&c, &p);
    CHECK(find_job(&c, &p, "metric=snip,batch=64,alpha_scale=0.01,seed=6,") >= 0);
    CHECK(find_job(&c, &p, "alpha_scale=0.01,seed=5,") < 0);
    sweep_plan_free(&p);
    sweep_config_free(&c);

    /* a combination no space accepts is an error at the space entry */
    const char *y4 = "output: o\ngrid:\n  space: [darts, nb201]\n  dataset: imagenet224\n";
    char err[SWEEP_ERRLEN];
    CHECK(sweep_config_parse("t.yaml", y4, strlen(y4), &c, err, sizeof err) == 0);
    CHECK(sweep_plan_build(&c, &p, err, sizeof err) != 0);
    CHECKF(strstr(err, "t.yaml:3:18: space nb201 with dataset imagenet224") != NULL, "%s", err);
    sweep_config_free(&c);
}

/* the ids of kind hnas jobs, sorted, into ids[]; returns the count (-1 on failure) */
static int cmp_u64(const void *a, const void *b) {
    const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}
static long hnas_ids(const char *grid, uint64_t *ids, long max, long *dups) {
    char yaml[512];
    snprintf(yaml, sizeof yaml, "output: o\nkind: hnas\ntable: t.tsv\ngrid:\n%s", grid);
    sweep_config c;
    sweep_plan p;
    if (plan_from(yaml, &c, &p)) return -1;
    check_ids(&c, &p);
    long n = p.njobs < max ? p.njobs : max;
    for (long j = 0; j < n; j++) ids[j] = p.jobs[j].id;
    qsort(ids, (size_t)n, sizeof *ids, cmp_u64);
    if (dups) *dups = p.nduplicates;
    sweep_plan_free(&p);
    sweep_config_free(&c);
    return n;
}

static void test_hnas_keys(void) {
    uint64_t a[8], b[8], d[8];
    long dup = 0;
    /* the keys left out, or false: the ids of before */
    CHECK(hnas_ids("  seed: [0, 1]\n", a, 8, NULL) == 2);
    CHECK(hnas_ids("  seed: [0, 1]\n  metric_abs: false\n  kappa_raw: false\n", b, 8, NULL) == 2);
    CHECKF(!memcmp(a, b, sizeof(uint64_t) * 2), "metric_abs/kappa_raw false changed the ids");
    /* true: new jobs beside the old ones */
    CHECK(hnas_ids("  seed: [0, 1]\n  metric_abs: [false, true]\n", d, 8, NULL) == 4);
    int old = 0;
    for (int i = 0; i < 4; i++) old += d[i] == a[0] || d[i] == a[1];
    CHECKF(old == 2, "metric_abs: [false, true]: %d of 4 ids are the default's (want 2)", old);
    CHECK(hnas_ids("  seed: [0, 1]\n  kappa_raw: true\n  metric_abs: true\n", b, 8, NULL) == 2);
    for (int i = 0; i < 2; i++) CHECK(b[i] != a[0] && b[i] != a[1] && b[i] != d[0] && b[i] != d[3]);
    /* random search reads no M: both values are one job */
    CHECK(hnas_ids("  strategy: random\n  metric_abs: [false, true]\n  seed: 0\n", b, 8, &dup) == 1);
    CHECKF(dup == 1, "random with metric_abs [false, true]: %ld duplicates (want 1)", dup);
    sweep_config c;
    sweep_plan p;
    const char *y = "output: o\nkind: hnas\ntable: t.tsv\ngrid: {metric_abs: true, seed: 0}\n";
    if (!plan_from(y, &c, &p)) {
        CHECK(find_job(&c, &p, ",metric_abs=1") >= 0 && find_job(&c, &p, "kappa_raw") < 0);
        sweep_plan_free(&p);
        sweep_config_free(&c);
    } else {
        CHECK(0);
    }
}

static void test_ensemble(void) {
    double S[6] = {1, 3, 3, 0, 5, 3}, z[6];
    sweep_ens_normalise(SWEEP_NORM_RANK, S, 6, z);
    /* sorted: 0 (rank 0), 1 (1), 3 3 3 (2, 3, 4 -> 3), 5 (5); scaled by 1/5 */
    const double want_rank[6] = {0.2, 0.6, 0.6, 0.0, 1.0, 0.6};
    check_close("rank normalisation", z, want_rank, 6, 1e-15, 0);
    sweep_ens_normalise(SWEEP_NORM_ZSCORE, S, 6, z);
    double m = 15.0 / 6, v = 0;
    for (int i = 0; i < 6; i++) v += (S[i] - m) * (S[i] - m);
    double want_z[6];
    for (int i = 0; i < 6; i++) want_z[i] = (S[i] - m) / sqrt(v / 6);
    check_close("z-score normalisation", z, want_z, 6, 1e-14, 0);
    const double flat[4] = {2, 2, 2, 2};
    sweep_ens_normalise(SWEEP_NORM_ZSCORE, flat, 4, z);
    CHECK(z[0] == 0 && z[3] == 0);

    /* fixed-point sums do not depend on the order jobs are added in */
    sweep_config c;
    sweep_plan p;
    const char *y = "output: o\ngrid:\n  seed: \"0:39\"\nensembles:\n  - {name: s, over: [seed]}\n";
    if (plan_from(y, &c, &p)) { CHECK(0); return; }
    sweep_ens_acc a, b;
    sweep_ens_acc_init(&a, &c, &p);
    sweep_ens_acc_init(&b, &c, &p);
    double scores[40][30];
    uint64_t x = 12345;
    for (int j = 0; j < 40; j++)
        for (int i = 0; i < 30; i++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            scores[j][i] = ldexp((double)(x >> 11), -53) * pow(10, (int)(x % 7) - 3);
        }
    for (int j = 0; j < 40; j++) sweep_ens_acc_add(&a, &c, &p, j, scores[j], 6, 5);
    for (int j = 39; j >= 0; j--) sweep_ens_acc_add(&b, &c, &p, j, scores[j], 6, 5);
    CHECK(a.n == ENS_STRIDE && memcmp(a.buf, b.buf, (size_t)a.n * sizeof *a.buf) == 0);
    CHECK(a.buf[0] == 40 && a.buf[1] == 240 && a.buf[2] == 200);
    /* wrong shapes and non-finite scores are refused, nothing added */
    double big[FN_MAX_ALPHA] = {0};
    CHECK(sweep_ens_acc_add(&a, &c, &p, 0, big, 256, 1) == -1 && sweep_ens_acc_add(&a, &c, &p, 0, big, 1, 256) == -1);
    CHECK(sweep_ens_acc_add(&a, &c, &p, 0, big, 5, 6) == -1 && sweep_ens_acc_add(&a, &c, &p, 0, big, 0, 0) == -1);
    big[3] = NAN;
    CHECK(sweep_ens_acc_add(&a, &c, &p, 0, big, 6, 5) == -1);
    CHECK(memcmp(a.buf, b.buf, (size_t)a.n * sizeof *a.buf) == 0);
    sweep_ens_acc_free(&a);
    sweep_ens_acc_free(&b);
    sweep_plan_free(&p);
    sweep_config_free(&c);

    /* finite scores near 1e300 (their squares overflow): the same z-scores, never NaN */
    double S2[30], Sbig[30], z1[30], z2[30];
    for (int i = 0; i < 30; i++) S2[i] = scores[0][i], Sbig[i] = S2[i] * 1e300;
    sweep_ens_normalise(SWEEP_NORM_ZSCORE, S2, 30, z1);
    sweep_ens_normalise(SWEEP_NORM_ZSCORE, Sbig, 30, z2);
    check_close("z-scores of scores x 1e300", z2, z1, 30, 1e-12, 1e-12);
}

/* The score layout a record must have, per space (search/space.h's space_layout, through
 * the space table): what search/search.c writes (test_search checks 6 x 5 and 28 x 8 on real
 * searches, nb1shot1's numel on each search space); an unknown space or variant has none. */
static void test_layout(void) {
    sweep_config c;
    sweep_plan p;
    const char *y = "output: o\ngrid:\n  space: [nb201, darts, {name: nb1shot1, ss: [1, 2, 3]}]\n";
    if (plan_from(y, &c, &p)) { CHECK(0); return; }
    const int want[5][2] = {{6, 5}, {28, 8}, {1, 24}, {1, 26}, {1, 35}};
    CHECK(p.njobs == 5);
    for (long j = 0; j < p.njobs && j < 5; j++) {
        sweep_params prm;
        sweep_plan_params(&c, &p.jobs[j], &prm);
        int r = 0, k = 0;
        CHECKF(space_layout(&prm.sc, &r, &k) == 0 && r == want[j][0] && k == want[j][1],
               "job %ld (%s ss %d): layout %d x %d", j, prm.sc.space, prm.sc.ss, r, k);
    }
    fn_search_config sc = {.space = "nb1shot1", .ss = 4};
    int r = 1, k = 1;
    CHECKF(space_layout(&sc, &r, &k) == -1 && r == 0 && k == 0, "nb1shot1 ss 4: %d x %d", r, k);
    sc.space = "nb301";
    CHECKF(space_layout(&sc, &r, &k) == -1 && r == 0 && k == 0, "nb301: %d x %d", r, k);
    sweep_plan_free(&p);
    sweep_config_free(&c);
}

int main(void) {
    test_hnas_keys();
    test_layout();
    test_plan();
    test_ensemble();
    return test_summary("test_sweep_plan");
}
