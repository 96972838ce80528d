/* sweep/records.c: results.jsonl (append + fsync, torn-line repair, resume scan), manifest
 * and atomic rewrites of the results directory (see sweep/records.h). Rank 0 only. */
#include "sweep/records.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "datasets/input_file.h"
#include "search/space.h"
#include "base/common.h"
#include "sweep/ensemble.h"

static int mkdir_p(const char *dir) {
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", dir);
    for (char *s = buf + 1; *s; s++)
        if (*s == '/') {
            *s = '\0';
            if (mkdir(buf, 0775) && errno != EEXIST) return -1;
            *s = '/';
        }
    if (mkdir(buf, 0775) && errno != EEXIST) return -1;
    return 0;
}

int records_open(sweep_records *r, const char *dir, double wait_s, char *err, size_t errlen) {
    memset(r, 0, sizeof *r);
    r->fd = r->lock_fd = -1;
    snprintf(r->dir, sizeof r->dir, "%s", dir);
    if (mkdir_p(dir)) {
        snprintf(err, errlen, "cannot create results directory %s: %s", dir, strerror(errno));
        return -1;
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/.lock", dir);
    r->lock_fd = open(path, O_RDWR | O_CREAT, 0664);
    if (r->lock_fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    double t0 = fn_now();
    int said = 0;
    while (flock(r->lock_fd, LOCK_EX | LOCK_NB)) {
        if (errno != EWOULDBLOCK) {
            snprintf(err, errlen, "cannot lock %s: %s", path, strerror(errno));
            return -1;
        }
        char holder[64] = "?";
        ssize_t n = pread(r->lock_fd, holder, sizeof holder - 1, 0);
        if (n > 0) holder[n] = '\0';
        holder[strcspn(holder, "\n")] = '\0';
        if (fn_now() - t0 > wait_s) {
            snprintf(err, errlen, "results directory %s is in use by another sweep (%s) "
                     "(hint: wait for it to finish, or stop it; a killed sweep's orphaned "
                     "ranks let go when they exit)", dir, holder);
            close(r->lock_fd);
            r->lock_fd = -1;
            return -1;
        }
        if (!said++)
            fprintf(stderr, "freenas_sweep: waiting up to %.0f s for the sweep holding %s (%s)\n",
                    wait_s, path, holder);
        struct timespec ts = {0, 200000000};
        nanosleep(&ts, NULL);
    }
    char holder[128];
    gethostname(holder, 64);
    int hn = (int)strlen(holder);
    snprintf(holder + hn, sizeof holder - (size_t)hn, " pid %d\n", (int)getpid());
    if (ftruncate(r->lock_fd, 0) == 0 && pwrite(r->lock_fd, holder, strlen(holder), 0) < 0) {}
    snprintf(path, sizeof path, "%s/results.jsonl", dir);
    const char *kind = input_file_kind(path); /* a FIFO or device would block or never end */
    if (kind) {
        snprintf(err, errlen, "cannot use %s: not a regular file (%s) (hint: move it away; "
                 "the sweep writes its records there)", path, kind);
        return -1;
    }
    r->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_NONBLOCK, 0664);
    if (r->fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    /* A torn last line (no newline: killed during a write) is cut off. */
    off_t size = lseek(r->fd, 0, SEEK_END);
    if (size > 0) {
        off_t pos = size;
        char buf[4096];
        int found = 0, last_is_nl = 0;
        while (pos > 0 && !found) {
            size_t n = pos > (off_t)sizeof buf ? sizeof buf : (size_t)pos;
            pos -= (off_t)n;
            if (pread(r->fd, buf, n, pos) != (ssize_t)n) break;
            if (pos + (off_t)n == size) last_is_nl = buf[n - 1] == '\n';
            if (last_is_nl) break;
            for (size_t i = n; i-- > 0;)
                if (buf[i] == '\n') { pos += (off_t)i + 1; found = 1; break; }
        }
        if (!last_is_nl) {
            off_t cut = found ? pos : 0;
            fprintf(stderr, "freenas_sweep: %s: cut off a torn last record (%lld bytes without "
                    "a newline: an earlier run was killed while writing it; that job runs "
                    "again)\n", path, (long long)(size - cut));
            if (ftruncate(r->fd, cut)) {
                snprintf(err, errlen, "cannot truncate %s: %s", path, strerror(errno));
                return -1;
            }
            fsync(r->fd);
        }
    }
    return 0;
}

int records_close(sweep_records *r) {
    int rc = 0;
    if (r->fd >= 0) {
        rc |= records_sync(r);
        rc |= close(r->fd);
    }
    if (r->lock_fd >= 0) close(r->lock_fd); /* releases the flock */
    r->fd = r->lock_fd = -1;
    return rc ? -1 : 0;
}

/* Checks an ok record's fields against what sweep/job.c can write for job j: accuracies
 * are numbers in [0, 100] (the NB201 table's range), the search time a finite number >= 0,
 * and a search job's `scores` a rows x cols matrix of finite numbers in the layout of the
 * job's space (space_layout, search/space.h), which S (FN_MAX_ALPHA entries) receives. 0, or -1 with a
 * message. */
static int check_ok_record(json_t *rec, const sweep_config *c, const sweep_plan *p, long j,
                           float acc[4], float *t_search, double *S, int *rows, int *cols,
                           char *why, size_t whylen) {
    static const char *const names[4] = {"cifar10_valid", "cifar10_test", "cifar100_test",
                                         "imagenet16_test"};
    json_t *a = json_object_get(rec, "accuracy");
    if (a && !json_is_object(a)) {
        snprintf(why, whylen, "\"accuracy\" is not an object");
        return -1;
    }
    for (int i = 0; i < 4; i++) {
        json_t *v = json_object_get(a, names[i]);
        acc[i] = NAN;
        if (!v) continue;
        double x = json_number_value(v);
        if (!json_is_number(v) || !(x >= 0 && x <= 100)) {
            char txt[64];
            records_value_text(v, txt, sizeof txt);
            snprintf(why, whylen, "accuracy.%s is %s, not a number in [0, 100]", names[i], txt);
            return -1;
        }
        acc[i] = (float)x;
    }
    json_t *t = json_object_get(json_object_get(rec, "run"), "time_s");
    json_t *ts = json_object_get(t, "search");
    if (!ts) ts = json_object_get(t, "job");
    *t_search = NAN;
    if (ts) {
        double x = json_number_value(ts);
        if (!json_is_number(ts) || !(x >= 0 && x <= 1e12)) {
            char txt[64];
            records_value_text(ts, txt, sizeof txt);
            snprintf(why, whylen, "run.time_s is %s, not a number of seconds >= 0", txt);
            return -1;
        }
        *t_search = (float)x;
    }
    if (!c || !p) return 0;
    sweep_params prm;
    sweep_plan_params(c, &p->jobs[j], &prm);
    if (prm.kind != SWEEP_KIND_SEARCH) return 0;
    int er, ec;
    if (space_layout(&prm.sc, &er, &ec)) {
        snprintf(why, whylen, "space %s has no score layout", prm.sc.space);
        return -1;
    }
    json_t *sc = json_object_get(rec, "scores");
    if (!json_is_object(sc)) {
        snprintf(why, whylen, "an ok %s record without a \"scores\" matrix", prm.sc.space);
        return -1;
    }
    json_t *jr = json_object_get(sc, "rows"), *jc = json_object_get(sc, "cols");
    json_t *vals = json_object_get(sc, "values");
    /* compared as json_int_t, never multiplied: a shape from the file cannot overflow */
    if (!json_is_integer(jr) || !json_is_integer(jc) || json_integer_value(jr) != er ||
        json_integer_value(jc) != ec) {
        char tr[32], tc[32];
        records_value_text(jr, tr, sizeof tr);
        records_value_text(jc, tc, sizeof tc);
        snprintf(why, whylen, "scores are %s x %s, the %s layout is %d x %d", tr, tc,
                 prm.sc.space, er, ec);
        return -1;
    }
    if (!json_is_array(vals) || json_array_size(vals) != (size_t)er) {
        snprintf(why, whylen, "scores.values is not a list of %d rows", er);
        return -1;
    }
    for (int i = 0; i < er; i++) {
        json_t *row = json_array_get(vals, (size_t)i);
        if (!json_is_array(row) || json_array_size(row) != (size_t)ec) {
            snprintf(why, whylen, "scores.values row %d is not a list of %d numbers", i, ec);
            return -1;
        }
        for (int k = 0; k < ec; k++) {
            json_t *v = json_array_get(row, (size_t)k);
            double x = json_number_value(v);
            if (!json_is_number(v) || !isfinite(x)) {
                char txt[64];
                records_value_text(v, txt, sizeof txt);
                snprintf(why, whylen, "scores.values[%d][%d] is %s, not a finite number", i, k,
                         txt);
                return -1;
            }
            if (S) S[i * ec + k] = x;
        }
    }
    *rows = er;
    *cols = ec;
    return 0;
}

void records_value_text(const json_t *v, char *buf, size_t len) {
    if (!v) { snprintf(buf, len, "missing"); return; }
    if (json_is_string(v)) {
        snprintf(buf, len, "the string \"%.24s%s\"", json_string_value(v),
                 strlen(json_string_value(v)) > 24 ? "..." : "");
        return;
    }
    if (json_is_array(v)) { snprintf(buf, len, "a list"); return; }
    if (json_is_object(v)) { snprintf(buf, len, "an object"); return; }
    char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
    snprintf(buf, len, "%s", s ? s : "?");
    free(s);
}

int records_absorb(const char *text, const sweep_config *c, const sweep_plan *p,
                   const sweep_id_index *ix, sweep_job_state *st, long *job, double *S,
                   int *rows, int *cols, char *errmsg, size_t errlen) {
    json_error_t jerr;
    json_t *rec = json_loads(text, 0, &jerr);
    if (errmsg && errlen) errmsg[0] = '\0';
    if (!rec) return -2;
    int ret = -1;
    uint64_t id;
    const char *idhex = json_string_value(json_object_get(rec, "job_id"));
    const char *status = json_string_value(json_object_get(rec, "status"));
    if (!idhex || !status || sweep_id_parse(idhex, &id)) { ret = -2; goto done; }
    long j = sweep_id_index_find(ix, id);
    if (j < 0) goto done;
    *job = j;
    sweep_job_state *s = &st[j];
    int ok = !strcmp(status, "ok");
    *rows = *cols = 0;
    if (ok && s->state == JOB_OK) { s->attempts++; ret = JOB_DUPLICATE_OK; goto done; }
    float acc[4] = {NAN, NAN, NAN, NAN}, t_search = NAN;
    char why[256];
    if (ok && check_ok_record(rec, c, p, j, acc, &t_search, S, rows, cols, why, sizeof why)) {
        /* never trusted: the job counts as a failed attempt and runs again */
        *rows = *cols = 0;
        s->attempts++;
        if (s->state != JOB_OK) s->state = JOB_FAILED;
        if (errmsg) snprintf(errmsg, errlen, "invalid ok record of job %s: %s", idhex, why);
        ret = RECORDS_INVALID;
        goto done;
    }
    s->attempts++;
    s->state = ok ? JOB_OK : JOB_FAILED;
    if (!ok && errmsg) {
        const char *e = json_string_value(json_object_get(rec, "error"));
        snprintf(errmsg, errlen, "%s", e ? e : status);
    }
    ret = s->state;
    memcpy(s->acc, acc, sizeof acc);
    s->t_search = t_search;
done:
    json_decref(rec);
    return ret;
}

/* Reports an invalid record as FILE:LINE: message (the first 20; a count after that). */
static void report_invalid(const char *path, long lineno, const char *msg, long *n) {
    if ((*n)++ < 20)
        fprintf(stderr, "freenas_sweep: %s:%ld: %s; the job runs again\n", path, lineno, msg);
    else if (*n == 21)
        fprintf(stderr, "freenas_sweep: %s: more invalid records; only the first 20 are "
                "shown\n", path);
}

int records_scan(sweep_records *r, const sweep_config *c, const sweep_plan *p,
                 sweep_job_state *st, records_scores_fn on_scores, void *ctx, char *err,
                 size_t errlen) {
    for (long j = 0; j < p->njobs; j++) {
        memset(&st[j], 0, sizeof st[j]);
        for (int i = 0; i < 4; i++) st[j].acc[i] = NAN;
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/results.jsonl", r->dir);
    FILE *f = input_file_open(path, "r", err, errlen);
    if (!f) return -1;
    sweep_id_index *ix = sweep_id_index_build(p);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long lineno = 0;
    double *S = mallocCheck(FN_MAX_ALPHA * sizeof *S);
    while ((n = getline(&line, &cap, f)) > 0) {
        lineno++;
        if (n == 1) continue;
        long job = -1;
        int rows = 0, cols = 0;
        char msg[512];
        int s = records_absorb(line, c, p, ix, st, &job, S, &rows, &cols, msg, sizeof msg);
        if (s == -2) {
            if (r->nbad++ < 5)
                fprintf(stderr, "freenas_sweep: %s:%ld: not a record, skipped\n", path, lineno);
        } else if (s == RECORDS_INVALID) report_invalid(path, lineno, msg, &r->ninvalid);
        else if (s == -1) r->nforeign++;
        else if (s == JOB_DUPLICATE_OK) r->nduplicate_ok++;
        else if (s == JOB_OK && rows && on_scores) on_scores(job, S, rows, cols, ctx);
    }
    free(S);
    free(line);
    fclose(f);
    sweep_id_index_free(ix);
    return 0;
}

int records_append(sweep_records *r, const char *text, char *err, size_t errlen) {
    size_t len = strlen(text);
    char *buf = mallocCheck(len + 1);
    memcpy(buf, text, len);
    buf[len] = '\n';
    /* where the record starts: a write that stops part way (disk full, file size limit) is
     * cut back to here, so the file never ends in a torn record */
    const off_t start = lseek(r->fd, 0, SEEK_END);
    size_t off = 0;
    while (off < len + 1) { /* one write() per record: O_APPEND keeps it contiguous */
        ssize_t w = write(r->fd, buf + off, len + 1 - off);
        if (w < 0) {
            if (errno == EINTR) continue;
            const int e = errno;
            int cut = off == 0 || (start >= 0 && ftruncate(r->fd, start) == 0);
            snprintf(err, errlen, "cannot append to %s/results.jsonl: %s%s", r->dir, strerror(e),
                     cut ? "" : " (and cannot cut off the partial record; the next run does)");
            free(buf);
            return -1;
        }
        off += (size_t)w;
    }
    free(buf);
    r->pending++;
    return 0;
}

int records_sync(sweep_records *r) {
    if (!r->pending || r->fd < 0) return 0;
    r->pending = 0;
    return fdatasync(r->fd);
}

int records_write_atomic(const char *dir, const char *name, const char *text, char *err,
                         size_t errlen) {
    char tmp[4300], path[4300];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        return -1;
    }
    int e = 0; /* the first error's errno: a later call may change errno */
    if (fputs(text, f) < 0 || fflush(f) || fsync(fileno(f))) e = errno;
    if (fclose(f) && !e) e = errno;
    if (!e && rename(tmp, path)) e = errno;
    if (e) {
        unlink(tmp); /* the old file stays as it was */
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(e));
        return -1;
    }
    return 0;
}

int records_merge(sweep_records *r, const char *shard_dir, const sweep_config *c,
                  const sweep_plan *p,
                  sweep_job_state *st, records_scores_fn on_scores, void *ctx, double wait_s,
                  long counts[4], char *err, size_t errlen) {
    sweep_records sh;
    if (records_open(&sh, shard_dir, wait_s, err, errlen)) { /* waits for a running shard */
        records_close(&sh);
        return -1;
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/results.jsonl", shard_dir);
    FILE *f = input_file_open(path, "r", err, errlen);
    if (!f) {
        records_close(&sh);
        return -1;
    }
    /* each shard record is absorbed into a scratch state first, so a shard's failure never
     * overrides an ok the sweep already has */
    sweep_job_state *tmp = callocCheck((size_t)(p->njobs ? p->njobs : 1), sizeof *tmp);
    sweep_id_index *ix = sweep_id_index_build(p);
    double *S = mallocCheck(FN_MAX_ALPHA * sizeof *S);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int ret = 0;
    long lineno = 0, ninvalid = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        lineno++;
        if (n == 1) continue;
        long j = -1;
        int rows = 0, cols = 0;
        char msg[512];
        int s = records_absorb(line, c, p, ix, tmp, &j, S, &rows, &cols, msg, sizeof msg);
        if (s == RECORDS_INVALID) { /* not merged: the job runs again unless r has it */
            report_invalid(path, lineno, msg, &ninvalid);
            counts[3]++;
            tmp[j].state = JOB_TODO;
            continue;
        }
        if (s < 0) { counts[3]++; continue; }
        tmp[j].state = JOB_TODO; /* only this record's status matters */
        if (st[j].state == JOB_OK) { counts[s == JOB_FAILED ? 2 : 1]++; continue; }
        if (s == JOB_FAILED) {
            counts[2]++;
            st[j].state = JOB_FAILED;
            st[j].attempts++;
            continue;
        }
        line[strcspn(line, "\n")] = '\0';
        if (records_append(r, line, err, errlen)) { ret = -1; break; }
        uint16_t attempts = st[j].attempts;
        st[j] = tmp[j];
        st[j].state = JOB_OK;
        st[j].attempts = attempts + 1;
        counts[0]++;
        if (rows && on_scores) on_scores(j, S, rows, cols, ctx);
    }
    if (records_sync(r) && !ret) {
        snprintf(err, errlen, "cannot sync %s/results.jsonl: %s", r->dir, strerror(errno));
        ret = -1;
    }
    free(S);
    free(line);
    free(tmp);
    fclose(f);
    sweep_id_index_free(ix);
    records_close(&sh);
    return ret;
}
