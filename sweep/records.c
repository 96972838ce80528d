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

#include "nn/common.h"

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
    r->fd = open(path, O_RDWR | O_CREAT | O_APPEND, 0664);
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

void records_close(sweep_records *r) {
    if (r->fd >= 0) {
        records_sync(r);
        close(r->fd);
    }
    if (r->lock_fd >= 0) close(r->lock_fd); /* releases the flock */
    r->fd = r->lock_fd = -1;
}

int records_absorb(const char *text, const sweep_id_index *ix, sweep_job_state *st, long *job,
                   double *S, int *rows, int *cols, char *errmsg, size_t errlen) {
    json_error_t jerr;
    json_t *rec = json_loads(text, 0, &jerr);
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
    s->attempts++;
    int ok = !strcmp(status, "ok");
    *rows = *cols = 0;
    if (ok && s->state == JOB_OK) { ret = JOB_DUPLICATE_OK; goto done; }
    s->state = ok ? JOB_OK : JOB_FAILED;
    if (!ok && errmsg) {
        const char *e = json_string_value(json_object_get(rec, "error"));
        snprintf(errmsg, errlen, "%s", e ? e : status);
    }
    ret = s->state;
    for (int i = 0; i < 4; i++) s->acc[i] = NAN;
    json_t *acc = json_object_get(rec, "accuracy");
    if (acc) {
        static const char *const names[4] = {"cifar10_valid", "cifar10_test", "cifar100_test",
                                             "imagenet16_test"};
        for (int i = 0; i < 4; i++) {
            json_t *v = json_object_get(acc, names[i]);
            if (json_is_number(v)) s->acc[i] = (float)json_number_value(v);
        }
    }
    json_t *t = json_object_get(json_object_get(rec, "run"), "time_s");
    json_t *ts = json_object_get(t, "search");
    if (!ts) ts = json_object_get(t, "job");
    s->t_search = json_is_number(ts) ? (float)json_number_value(ts) : NAN;
    json_t *sc = json_object_get(rec, "scores");
    if (ok && sc && S) {
        /* compared as read: rows * cols in int overflowed for 65536 x 65536 */
        json_int_t r = json_integer_value(json_object_get(sc, "rows"));
        json_int_t c = json_integer_value(json_object_get(sc, "cols"));
        json_t *vals = json_object_get(sc, "values");
        if (r > 0 && c > 0 && r <= FN_MAX_ALPHA / c && json_array_size(vals) == (size_t)r) {
            for (int i = 0; i < r; i++)
                for (int k = 0; k < c; k++)
                    S[i * c + k] = json_number_value(json_array_get(json_array_get(vals, i), k));
            *rows = (int)r;
            *cols = (int)c;
        }
    }
done:
    json_decref(rec);
    return ret;
}

int records_scan(sweep_records *r, const sweep_plan *p, sweep_job_state *st,
                 records_scores_fn on_scores, void *ctx, char *err, size_t errlen) {
    for (long j = 0; j < p->njobs; j++) {
        memset(&st[j], 0, sizeof st[j]);
        for (int i = 0; i < 4; i++) st[j].acc[i] = NAN;
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/results.jsonl", r->dir);
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
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
        int s = records_absorb(line, ix, st, &job, S, &rows, &cols, NULL, 0);
        if (s == -2) {
            if (r->nbad++ < 5)
                fprintf(stderr, "freenas_sweep: %s:%ld: not a record, skipped\n", path, lineno);
        } else if (s == -1) r->nforeign++;
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
    size_t off = 0;
    while (off < len + 1) { /* one write() per record: O_APPEND keeps it contiguous */
        ssize_t w = write(r->fd, buf + off, len + 1 - off);
        if (w < 0) {
            if (errno == EINTR) continue;
            snprintf(err, errlen, "cannot append to %s/results.jsonl: %s", r->dir, strerror(errno));
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
    if (!r->pending) return 0;
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
    int bad = fputs(text, f) < 0;
    bad |= fflush(f) != 0;
    bad |= fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path)) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int records_merge(sweep_records *r, const char *shard_dir, const sweep_plan *p,
                  sweep_job_state *st, records_scores_fn on_scores, void *ctx, double wait_s,
                  long counts[4], char *err, size_t errlen) {
    sweep_records sh;
    if (records_open(&sh, shard_dir, wait_s, err, errlen)) { /* waits for a running shard */
        records_close(&sh);
        return -1;
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/results.jsonl", shard_dir);
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
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
    while ((n = getline(&line, &cap, f)) > 0) {
        if (n == 1) continue;
        long j = -1;
        int rows = 0, cols = 0;
        int s = records_absorb(line, ix, tmp, &j, S, &rows, &cols, NULL, 0);
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
