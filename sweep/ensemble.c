/* sweep/ensemble.c: normalisation, fixed-point accumulation and pruning of ensemble groups
 * (see sweep/ensemble.h). */
#include "sweep/ensemble.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "search/space.h"
#include "base/common.h"
#include "sweep/job.h"
#include "sweep/records.h"

void sweep_ens_acc_init(sweep_ens_acc *a, const sweep_config *c, const sweep_plan *p) {
    memset(a, 0, sizeof *a);
    for (int e = 0; e < c->nensembles; e++) {
        a->offset[e] = a->n;
        a->n += p->ens[e].ngroups * ENS_STRIDE;
    }
    a->buf = callocCheck((size_t)(a->n ? a->n : 1), sizeof *a->buf);
}

void sweep_ens_acc_free(sweep_ens_acc *a) {
    free(a->buf);
    memset(a, 0, sizeof *a);
}

typedef struct { double v; int i; } val_idx;
static int cmp_val_idx(const void *x, const void *y) {
    const val_idx *a = x, *b = y;
    if (a->v < b->v) return -1;
    if (a->v > b->v) return 1;
    return a->i - b->i;
}

void sweep_ens_normalise(sweep_norm norm, const double *S, int n, double *out) {
    if (norm == SWEEP_NORM_ZSCORE) {
        /* z-scores do not change with the scale of S: when the sums overflow (finite scores
         * near 1e308), they are taken again on S / max |S| instead of becoming NaN */
        double sc = 1;
        for (int pass = 0; pass < 2; pass++) {
            double m = 0, v = 0;
            for (int i = 0; i < n; i++) m += S[i] * sc;
            m /= n;
            for (int i = 0; i < n; i++) v += (S[i] * sc - m) * (S[i] * sc - m);
            double sd = sqrt(v / n);
            if (isfinite(sd) || pass) {
                for (int i = 0; i < n; i++) out[i] = sd > 0 && isfinite(sd) ? (S[i] * sc - m) / sd : 0;
                return;
            }
            double amax = 0;
            for (int i = 0; i < n; i++) amax = fmax(amax, fabs(S[i]));
            sc = 1 / amax;
        }
    }
    val_idx t[FN_MAX_ALPHA];
    for (int i = 0; i < n; i++) t[i] = (val_idx){S[i], i};
    qsort(t, (size_t)n, sizeof t[0], cmp_val_idx);
    for (int a = 0; a < n;) { /* ties share their average rank */
        int b = a;
        while (b + 1 < n && t[b + 1].v == t[a].v) b++;
        double r = 0.5 * (a + b) / (n > 1 ? n - 1 : 1);
        for (int k = a; k <= b; k++) out[t[k].i] = r;
        a = b + 1;
    }
}

int sweep_ens_acc_add(sweep_ens_acc *a, const sweep_config *c, const sweep_plan *p, long j,
                const double *S, int rows, int cols) {
    sweep_params prm;
    sweep_plan_params(c, &p->jobs[j], &prm);
    int er, ec;
    if (space_layout(&prm.sc, &er, &ec) || rows != er || cols != ec) return -1;
    const int n = rows * cols; /* <= FN_MAX_ALPHA: the layout's */
    for (int i = 0; i < n; i++)
        if (!isfinite(S[i])) return -1;
    double z[FN_MAX_ALPHA];
    for (int e = 0; e < c->nensembles; e++) {
        sweep_ens_normalise(c->ensembles[e].norm, S, n, z);
        int64_t *g = a->buf + a->offset[e] + (long)p->ens[e].group_of[j] * ENS_STRIDE;
        g[0] += 1;
        g[1] += rows;
        g[2] += cols;
        for (int i = 0; i < n; i++) g[3 + i] += llround(ldexp(z[i], ENS_FIX_SHIFT));
    }
    return 0;
}

int sweep_ens_finish(const sweep_ens_acc *a, const sweep_config *c, const sweep_plan *p,
               const nb201_benchmark *bench, const char *dir, char *err, size_t errlen) {
    if (!c->nensembles || c->kind == SWEEP_KIND_NOOP) return 0;
    char *text = NULL; /* ensembles.jsonl, built in memory and written atomically */
    size_t text_len = 0;
    FILE *out = open_memstream(&text, &text_len);
    if (!out) FN_FATAL("open_memstream failed");
    fn_search_result *res = mallocCheck(sizeof *res);
    printf("\n# ensembles: per-job %s scores summed over the jobs of each group, pruned with the "
           "space's rule\n", "normalised");
    printf("%-10s %-7s %-44s %5s  %8s %8s %8s  %s\n", "ensemble", "norm", "group", "jobs",
           "C10-test", "C100", "IN16", "architecture");
    for (int e = 0; e < c->nensembles; e++) {
        const sweep_ensemble *en = &c->ensembles[e];
        for (long gi = 0; gi < p->ens[e].ngroups; gi++) {
            const int64_t *g = a->buf + a->offset[e] + gi * ENS_STRIDE;
            sweep_params prm;
            sweep_plan_params(c, &p->jobs[p->ens[e].first_job[gi]], &prm);
            char label[512];
            sweep_job_axes_text(c, &p->jobs[p->ens[e].first_job[gi]], en->over, 1, label, sizeof label);
            if (!label[0]) snprintf(label, sizeof label, "(all)");
            if (g[0] == 0) {
                printf("%-10s %-7s %-44s %5d  %8s %8s %8s  %s\n", en->name,
                       en->norm == SWEEP_NORM_RANK ? "rank" : "zscore", label, 0, "-", "-", "-",
                       "(no ok job)");
                continue;
            }
            memset(res, 0, sizeof *res);
            /* every job of the group added the space's layout (sweep_ens_acc_add refuses others);
             * sums that say otherwise are refused, never written past S */
            if (space_layout(&prm.sc, &res->s_rows, &res->s_cols) || g[0] < 0 ||
                g[1] != g[0] * res->s_rows || g[2] != g[0] * res->s_cols) {
                snprintf(err, errlen, "ensemble %s, group %s: score sums of %lld jobs hold "
                         "%lld rows and %lld columns, not the %s layout", en->name, label,
                         (long long)g[0], (long long)g[1], (long long)g[2], prm.sc.space);
                free(res);
                fclose(out);
                free(text);
                return -1;
            }
            int n = res->s_rows * res->s_cols;
            for (int i = 0; i < n; i++) res->S[i] = ldexp((double)g[3 + i], -ENS_FIX_SHIFT) / (double)g[0];
            res->arch_code = -1;
            const fn_space *sp = space_find(prm.sc.space);
            char derr[FN_ERRLEN];
            if (sp->decode(&prm.sc, res, derr, sizeof derr)) {
                snprintf(err, errlen, "ensemble %s, group %s: %s", en->name, label, derr);
                free(res);
                fclose(out);
                free(text);
                return -1;
            }
            json_t *rec = json_object();
            json_object_set_new(rec, "ensemble", json_string(en->name));
            json_object_set_new(rec, "norm", json_string(en->norm == SWEEP_NORM_RANK ? "rank" : "zscore"));
            json_t *over = json_array();
            for (int k = 0; k < SWEEP_NUM_KEYS; k++)
                if (en->over[k]) json_array_append_new(over, json_string(sweep_keys[k].name));
            json_object_set_new(rec, "over", over);
            char gtext[1024];
            sweep_job_axes_text(c, &p->jobs[p->ens[e].first_job[gi]], en->over, 0, gtext, sizeof gtext);
            json_object_set_new(rec, "group", json_string(gtext));
            json_object_set_new(rec, "jobs", json_integer((json_int_t)g[0]));
            const nb201_record *gt = sweep_json_arch(rec, res, bench, prm.sc.space);
            json_object_set_new(rec, "mean_normalised_scores", sweep_json_scores(res));
            char *line = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
            json_decref(rec);
            fprintf(out, "%s\n", line);
            free(line);
            char a1[16] = "-", a2[16] = "-", a3[16] = "-";
            if (gt) {
                snprintf(a1, sizeof a1, "%.2f", gt->cifar10_test);
                snprintf(a2, sizeof a2, "%.2f", gt->cifar100_test);
                snprintf(a3, sizeof a3, "%.2f", gt->imagenet16_test);
            }
            printf("%-10s %-7s %-44s %5lld  %8s %8s %8s  %s\n", en->name,
                   en->norm == SWEEP_NORM_RANK ? "rank" : "zscore", label, (long long)g[0], a1, a2,
                   a3, res->arch);
        }
    }
    free(res);
    fclose(out);
    int rc = records_write_atomic(dir, "ensembles.jsonl", text, err, errlen);
    free(text);
    return rc;
}
