/* tests/test_hnas_search.c: HNAS's search on NB201 (hnas/search.h) against a brute force on a
 * synthetic metric table: the objective by hand; every evaluated step's architecture is the
 * argmin of the score over the union of the draws made so far (recomputed from the stream by
 * plain loops, all candidates sorted by (score, index)) less the queried ones; a cached (nu, c)
 * grows nothing; cost, best-so-far and the pick; the probes (init = min(T/4, 10), linspace,
 * c = -2); determinism (same seed, same JSON record, bit for bit); a partial table keeps every
 * query inside it; the metric-alone mode (T x draws pool) and random search (no repeats).
 * The table loader: two files merge, a disagreeing row is an error naming FILE:LINE.
 *   ./build/bin/test_hnas_search */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"
#include "hnas/record.h"
#include "hnas/search.h"
#include "hnas/table.h"
#include "nn/rng.h"
#include "tests/test_util.h"

static double sig[HNAS_NUM_ARCHS], cst[HNAS_NUM_ARCHS];

static hnas_table *synth(int partial) {
    hnas_table *t = hnas_table_new();
    const int m = hnas_table_add_col(t, "M"), k = hnas_table_add_col(t, "kappa");
    unsigned s = 3;
    for (int i = 0; i < HNAS_NUM_ARCHS; i++) {
        const double u = test_rand(&s), v = test_rand(&s), w = test_rand(&s);
        sig[i] = 60 + 15 * (u + 1) + 0.001 * i; /* distinct */
        cst[i] = 100 + 50 * (v + 1);
        if (partial && i % 7) continue;
        hnas_table_set(t, i, m, 20 + 15 * u + 2 * w);
        hnas_table_set(t, i, k, exp(5 + 3 * v));
    }
    return t;
}

typedef struct { double v; int i; } cand;
static int cand_cmp(const void *a, const void *b) {
    const cand *x = a, *y = b;
    if (x->v != y->v) return x->v < y->v ? -1 : 1;
    return x->i - y->i;
}

/* brute force: argmin over draws of evaluations 0..k-1 (in the table) less queried */
static int brute_argmin(const hnas_table *t, uint64_t seed, int evals, int draws,
                        const unsigned char *queried, double nu, double lm) {
    unsigned char *in = callocCheck(HNAS_NUM_ARCHS, 1);
    for (long j = 0; j < (long)evals * draws; j++) {
        int a = (int)floor(fn_rng_uniform(seed, HNAS_STREAM_POOL, (uint64_t)j) * HNAS_NUM_ARCHS);
        if (t->have[a]) in[a] = 1;
    }
    cand *c = mallocCheck(sizeof(cand) * HNAS_NUM_ARCHS);
    int n = 0;
    for (int a = 0; a < HNAS_NUM_ARCHS; a++)
        if (in[a] && !queried[a]) {
            const double M = hnas_table_get(t, a, 0);
            const double K = hnas_kappa_effective(hnas_table_get(t, a, 1), 0);
            c[n].v = pow(10, lm) * fabs(M * M - 5e3 * nu * 5e3 * nu) + K / (M + 1e-6);
            c[n++].i = a;
        }
    qsort(c, (size_t)n, sizeof *c, cand_cmp);
    const int r = n ? c[0].i : -1;
    free(c);
    free(in);
    return r;
}

static void check_run(const char *what, const hnas_config *hc, const hnas_table *t) {
    hnas_data d = {t, 0, 1, sig, cst};
    static hnas_result r;
    char err[FN_ERRLEN];
    CHECKF(hnas_run(hc, &d, &r, err, sizeof err) == 0, "%s: %s", what, err);
    CHECK(r.nsteps == hc->T);
    unsigned char *q = callocCheck(HNAS_NUM_ARCHS, 1);
    int evals = 0, bad = 0, best = -1, cached = 0;
    double cost = 0;
    const int init = hc->T / 4 < 10 ? hc->T / 4 : 10;
    for (int s = 0; s < r.nsteps; s++) {
        const hnas_step *p = &r.step[s];
        if (s < init) /* the probes */
            bad += p->nu != (init > 1 ? (double)s / (init - 1) : 0) || p->log10_mu != -2;
        bad += !(p->nu >= 0 && p->nu <= 1 && p->log10_mu >= -4 && p->log10_mu <= 0);
        if (p->cached) {
            cached++;
            int seen = 0;
            for (int k = 0; k < s; k++)
                seen |= !r.step[k].cached && r.step[k].nu == p->nu &&
                        r.step[k].log10_mu == p->log10_mu;
            bad += !seen;
        } else {
            evals++;
            const int a = brute_argmin(t, hc->seed, evals, hc->draws, q, p->nu, p->log10_mu);
            if (a != p->arch) {
                fprintf(stderr, "  %s step %d: arch %d, brute force %d\n", what, s, p->arch, a);
                bad++;
            }
            bad += !t->have[p->arch] || q[p->arch];
            q[p->arch] = 1;
            cost += cst[p->arch];
            if (best < 0 || sig[p->arch] > sig[best]) best = p->arch;
            const double sc = hnas_score(hnas_table_get(t, p->arch, 0),
                                         hnas_kappa_effective(hnas_table_get(t, p->arch, 1), 0),
                                         p->nu, p->log10_mu, 5e3);
            bad += sc != p->score || p->signal != sig[p->arch];
        }
        bad += fabs(p->cost - cost) > 1e-9 * cost || p->best_arch != best;
    }
    CHECKF(!bad, "%s: %d step(s) differ from the brute force", what, bad);
    CHECK(r.pick == best && r.evaluations == evals && fabs(r.cost - cost) <= 1e-9 * cost);
    printf("  %s: pick %d (signal %.3f), %d evaluations, %d cached, cost %.0f s, %.1f ms\n",
           what, r.pick, r.pick_signal, evals, cached, cost, 1e3 * r.seconds);
    free(q);
}

int main(void) {
    /* the objective by hand: 10^-2 |20^2 - (5e3 * 0.001)^2| + 100 / (20 + 1e-6) */
    const double v = hnas_score(20, 100, 0.001, -2, 5e3), ref = 0.01 * (400 - 25) + 100 / (20 + 1e-6);
    check_close("score(M 20, kappa 100, nu 1e-3, c -2)", &v, &ref, 1, 0, 1e-15);
    hnas_table *full = synth(0), *part = synth(1);
    CHECK(full->nrows == HNAS_NUM_ARCHS && part->nrows == (HNAS_NUM_ARCHS + 6) / 7);
    hnas_config hc;
    hnas_config_default(&hc);
    CHECK(hc.T == 20 && hc.draws == 2000 && hc.s == 5e3 && hc.acq.kind == BO_ACQ_EI &&
          hc.acq.xi == 0 && hc.c_lo == -4 && hc.c_hi == 0);
    hc.n_random = 2000; /* a cheaper acquisition search: the rules, not the GP, are tested */
    hc.n_starts = 3;
    hc.seed = 5;
    check_run("EI, full table", &hc, full);
    check_run("EI, 1/7 of the table", &hc, part);
    hc.acq.kind = BO_ACQ_UCB;
    hc.T = 13; /* init 3 */
    check_run("UCB, T 13", &hc, full);
    /* determinism: the same record twice */
    hnas_data d = {full, 0, 1, sig, cst};
    static hnas_result r1, r2;
    char err[FN_ERRLEN];
    hnas_names nm = {"M", "kappa", "sig"};
    CHECK(hnas_run(&hc, &d, &r1, err, sizeof err) == 0 && hnas_run(&hc, &d, &r2, err, sizeof err) == 0);
    char *j1 = hnas_result_json(&hc, &nm, &r1, NULL), *j2 = hnas_result_json(&hc, &nm, &r2, NULL);
    CHECKF(!strcmp(j1, j2), "same seed, different records");
    hc.seed = 6;
    CHECK(hnas_run(&hc, &d, &r2, err, sizeof err) == 0);
    char *j3 = hnas_result_json(&hc, &nm, &r2, NULL);
    CHECK(strcmp(j1, j3) != 0);
    free(j1);
    free(j2);
    free(j3);
    /* metric alone: argmin over the pool of T x draws, nothing queried */
    hc.mode = HNAS_MODE_ALONE;
    hc.alone_nu = 0.002;
    hc.alone_c = -1;
    unsigned char none[HNAS_NUM_ARCHS] = {0};
    CHECK(hnas_run(&hc, &d, &r1, err, sizeof err) == 0);
    CHECK(r1.nsteps == 1 && r1.cost == 0 && r1.evaluations == 0);
    CHECK(r1.pick == brute_argmin(full, hc.seed, hc.T, hc.draws, none, 0.002, -1));
    /* metric_abs: on the table with M negated, |M| gives the pick of the table itself; taken
     * as it is (HNAS's code), the negated M gives another */
    {
        hnas_table *neg = hnas_table_new();
        const int m = hnas_table_add_col(neg, "M"), k = hnas_table_add_col(neg, "kappa");
        for (int i = 0; i < HNAS_NUM_ARCHS; i++) {
            hnas_table_set(neg, i, m, -hnas_table_get(full, i, 0));
            hnas_table_set(neg, i, k, hnas_table_get(full, i, 1));
        }
        const hnas_table *keep = d.table;
        d.table = neg;
        hc.metric_abs = 1;
        CHECK(hnas_run(&hc, &d, &r2, err, sizeof err) == 0);
        CHECKF(r2.pick == r1.pick && r2.step[0].M > 0, "|M| of the negated table picks %d, the "
               "table %d", r2.pick, r1.pick);
        char *jabs = hnas_result_json(&hc, &nm, &r2, NULL);
        CHECK(strstr(jabs, "\"metric_abs\":true") != NULL);
        free(jabs);
        hc.metric_abs = 0;
        CHECK(hnas_run(&hc, &d, &r2, err, sizeof err) == 0);
        CHECKF(r2.pick != r1.pick, "the negated M taken as it is picks the same");
        d.table = keep;
        hnas_table_free(neg);
    }
    /* random search: T distinct architectures of the table, the pick the best signal */
    hc.mode = HNAS_MODE_RANDOM;
    d.table = part;
    CHECK(hnas_run(&hc, &d, &r1, err, sizeof err) == 0);
    int dup = 0, best = -1;
    for (int s = 0; s < r1.nsteps; s++) {
        for (int k = 0; k < s; k++) dup += r1.step[k].arch == r1.step[s].arch;
        dup += !part->have[r1.step[s].arch];
        if (best < 0 || sig[r1.step[s].arch] > sig[best]) best = r1.step[s].arch;
    }
    CHECK(!dup && r1.nsteps == hc.T && r1.pick == best && r1.warning[0]);
    /* table files: two halves merge; a disagreeing row is an error */
    const char *fa = "test_hnas_a.tsv", *fb = "test_hnas_b.tsv";
    FILE *f = fopen(fa, "w");
    fprintf(f, "# t\n# provenance a\nindex\tM\tkappa\n0\t1.5\t2\n7\t3\tnan\n");
    fclose(f);
    f = fopen(fb, "w");
    fprintf(f, "index\tkappa\tM\n7\t4\t3\n9\t1\t1\n");
    fclose(f);
    hnas_table *t = hnas_table_new();
    CHECKF(hnas_table_load(t, fa, err, sizeof err) == 0, "%s", err);
    CHECKF(hnas_table_load(t, fb, err, sizeof err) == 0, "%s", err);
    CHECK(t->nrows == 3 && hnas_table_get(t, 7, hnas_table_col(t, "kappa")) == 4 &&
          hnas_table_get(t, 0, hnas_table_col(t, "M")) == 1.5 && isnan(hnas_table_get(t, 9, 5)));
    CHECK(!strcmp(t->first_provenance, " provenance a"));
    f = fopen(fb, "w");
    fprintf(f, "index\tM\n0\t1.25\n");
    fclose(f);
    CHECK(hnas_table_load(t, fb, err, sizeof err) == -1 && strstr(err, "test_hnas_b.tsv:2"));
    printf("  disagreeing row: %s\n", err);
    hnas_table_free(t);
    remove(fa);
    remove(fb);
    hnas_table_free(full);
    hnas_table_free(part);
    return test_summary("test_hnas_search");
}
