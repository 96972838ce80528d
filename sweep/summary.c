/* sweep/summary.c: the end-of-sweep table (see sweep/summary.h). */
#include "sweep/summary.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"

typedef struct {
    char label[1024];
    long first_job;
    long jobs, ok, failed, todo;
    double s[5], ss[5];
    long n[5];            /* acc[0..3], time */
} row_stat;

static void add(row_stat *r, int i, double v) {
    if (isnan(v)) return;
    r->s[i] += v;
    r->ss[i] += v * v;
    r->n[i]++;
}

static void fmt_ms(const row_stat *r, int i, char *buf, size_t len) {
    if (!r->n[i]) { snprintf(buf, len, "-"); return; }
    double m = r->s[i] / r->n[i];
    double v = r->n[i] > 1 ? (r->ss[i] - r->n[i] * m * m) / (r->n[i] - 1) : 0;
    snprintf(buf, len, "%.2f +- %.2f", m, v > 0 ? sqrt(v) : 0);
}

int sweep_summary_gave_up(const sweep_config *c, const sweep_job_state *s) {
    return s->state == JOB_FAILED && c->max_attempts > 0 && s->attempts >= c->max_attempts;
}

/* "# N jobs gave up after K attempts ...", then one line per job (the first 20) */
static void print_gave_up(FILE *f, const sweep_config *c, const sweep_plan *p,
                          const sweep_job_state *st, long n) {
    fprintf(f, "# %ld job%s gave up after %d attempts (not run again; raise max_attempts or "
            "--max-attempts to retry):\n", n, n > 1 ? "s" : "", c->max_attempts);
    long shown = 0;
    for (long j = 0; j < p->njobs && shown < 20; j++) {
        if (!sweep_summary_gave_up(c, &st[j])) continue;
        char id[17], canon[1024];
        const int skip[SWEEP_NUM_KEYS] = {0};
        if (!sweep_job_axes_text(c, &p->jobs[j], skip, 1, canon, sizeof canon))
            snprintf(canon, sizeof canon, "(the only job)");
        sweep_id_hex(p->jobs[j].id, id);
        fprintf(f, "#   %s  index %ld  %s\n", id, j, canon);
        shown++;
    }
    if (n > shown) fprintf(f, "#   ... %ld more\n", n - shown);
}

void sweep_summary_print(FILE *f, const sweep_config *c, const sweep_plan *p,
                         const sweep_job_state *st) {
    int skip[SWEEP_NUM_KEYS] = {0};
    skip[SWEEP_KEY_SEED] = 1;
    skip[SWEEP_KEY_ARCH] = 1; /* kind score: one row per proxy, over the scored architectures */
    long cap = 16, nrows = 0;
    row_stat *rows = callocCheck((size_t)cap, sizeof *rows);
    char canon[1024];
    /* rows in plan order of their first job; a linear probe over rows is fine: tables have
     * tens of rows, and a million-job noop plan has one */
    for (long j = 0; j < p->njobs; j++) {
        if (st[j].state == JOB_OTHER_SHARD) continue;
        sweep_job_axes_text(c, &p->jobs[j], skip, 0, canon, sizeof canon);
        long r = nrows - 1;
        if (r < 0 || strcmp(rows[r].label, canon)) {
            for (r = 0; r < nrows && strcmp(rows[r].label, canon); r++) {}
        }
        if (r == nrows) {
            if (nrows == cap) {
                rows = realloc(rows, (size_t)(cap *= 2) * sizeof *rows);
                memset(rows + nrows, 0, (size_t)(cap - nrows) * sizeof *rows);
            }
            snprintf(rows[r].label, sizeof rows[r].label, "%s", canon);
            rows[r].first_job = j;
            nrows++;
        }
        row_stat *rs = &rows[r];
        rs->jobs++;
        if (st[j].state == JOB_OK) {
            rs->ok++;
            for (int i = 0; i < 4; i++) add(rs, i, st[j].acc[i]);
            add(rs, 4, 1e3 * st[j].t_search);
        } else if (st[j].state == JOB_FAILED) rs->failed++;
        else rs->todo++;
    }
    if (c->kind == SWEEP_KIND_SCORE)
        fprintf(f, "\n# summary: jobs per proxy; mean +- std of the NB201 ground-truth accuracy "
                "(%%) of the scored architectures; time = scoring time per job (correlations: "
                "freenas_report)\n");
    else
        fprintf(f, "\n# summary: mean +- std over seeds of the NB201 ground-truth accuracy (%%) "
                "of the found architectures; time = search time per job\n");
    fprintf(f, "%-46s %5s %5s %6s  %-14s %-14s %-14s %-14s %-16s\n", "group", "jobs", "ok",
            "failed", "C10-valid", "C10-test", "C100-test", "IN16-test", "time[ms]");
    long tot[3] = {0}, gave_up = 0;
    for (long j = 0; j < p->njobs; j++) gave_up += sweep_summary_gave_up(c, &st[j]);
    for (long r = 0; r < nrows; r++) {
        row_stat *rs = &rows[r];
        char label[1024], a[5][40];
        size_t n = sweep_job_axes_text(c, &p->jobs[rs->first_job], skip, 1, label, sizeof label);
        if (!n) snprintf(label, sizeof label, "(all jobs)");
        for (int i = 0; i < 5; i++) fmt_ms(rs, i, a[i], sizeof a[i]);
        fprintf(f, "%-46s %5ld %5ld %6ld  %-14s %-14s %-14s %-14s %-16s%s\n", label, rs->jobs,
                rs->ok, rs->failed, a[0], a[1], a[2], a[3], a[4],
                rs->todo ? "  (incomplete)" : "");
        tot[0] += rs->jobs;
        tot[1] += rs->ok;
        tot[2] += rs->failed;
    }
    const char *verdict = tot[1] == tot[0] ? "OK"
                          : tot[2] > gave_up ? "FAILED (rerun the same command to retry)"
                          : tot[2] ? "FAILED (gave up: a rerun does not retry these jobs)"
                                   : "INCOMPLETE (rerun the same command to resume)";
    if (tot[2] && tot[2] == gave_up && tot[0] - tot[1] - tot[2] > 0)
        verdict = "INCOMPLETE (rerun the same command to resume)";
    fprintf(f, "# %ld jobs: %ld ok, %ld failed, %ld not run  -> %s\n", tot[0], tot[1], tot[2],
            tot[0] - tot[1] - tot[2], verdict);
    if (gave_up) print_gave_up(f, c, p, st, gave_up);
    free(rows);
}
