/* tests/test_nb201_benchmark.c: checks nasbench/nb201_benchmark.c (and the TSV reader under it,
 * datasets/nb201_table.c) on the shared NB201 table.
 *
 * Usage: test_nb201_benchmark DATA_DIR (e.g. ../shared/data). Asserts the README facts
 * (15625 rows covering the whole space, the optima and their indices, index 1's arch, the
 * all-none cell at 10 %), that columns are found by name in any order with `nan` allowed,
 * and that malformed tables in /tmp fail with path:line. Returns 0 when all checks pass. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spaces/nb201.h"
#include "nasbench/nb201_benchmark.h"

#include "tests/test_util.h"

static char err[512];

static const char *BEST_C10 =
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|"
    "nor_conv_1x1~2|";
static const char *INDEX1 =
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|"
    "skip_connect~2|";
static const char *ALL_NONE = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|";

static const nb201_record *get_str(const nb201_benchmark *b, const char *arch) {
    int ops[NB201_EDGES];
    if (nb201_arch_parse(arch, ops) != 0) return NULL;
    return nb201_benchmark_get(b, ops);
}

/* index of the row with the largest value of `field` (offset into nb201_record) */
static int argmax(const nb201_benchmark *b, size_t field, double *best) {
    int arg = -1;
    *best = -INFINITY;
    for (int i = 0; i < NB201_NUM_ARCHS; i++) {
        int code = b->by_index[i];
        if (code < 0) continue;
        double v = *(const double *)((const char *)&b->by_code[code] + field);
        if (!isnan(v) && v > *best) {
            *best = v;
            arg = i;
        }
    }
    return arg;
}

static void test_real(const char *data_dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/nb201/nb201_accuracy.tsv", data_dir);
    nb201_benchmark *b = NULL;
    int rc = nb201_benchmark_load(path, &b, err, sizeof err);
    CHECKF(rc == 0 && b, "load: %s", err);
    if (rc != 0) return;
    CHECKF(b->count == 15625, "count %d", b->count);
    int all = 1;
    for (int c = 0; c < NB201_NUM_ARCHS; c++)
        if (b->by_code[c].index < 0 || b->by_index[b->by_code[c].index] != c) all = 0;
    CHECKF(all, "every code 0..15624 present and by_index consistent");

    double best;
    int i = argmax(b, offsetof(nb201_record, cifar10_test), &best);
    CHECKF(i == 6111 && fabs(best - 94.3733) < 1e-3, "best cifar10_test %f at %d", best, i);
    const nb201_record *r = get_str(b, BEST_C10);
    CHECKF(r && r->index == 6111 && fabs(r->cifar10_test - 94.3733) < 1e-3, "best arch lookup");
    int ops[NB201_EDGES];
    nb201_arch_parse(BEST_C10, ops);
    CHECKF(b->by_index[6111] == nb201_arch_code(ops), "by_index[6111]");
    i = argmax(b, offsetof(nb201_record, cifar10_valid), &best);
    CHECKF(i == 6111 && fabs(best - 91.6067) < 1e-3, "best cifar10_valid %f at %d", best, i);
    i = argmax(b, offsetof(nb201_record, cifar100_test), &best);
    CHECKF(i == 9930 && fabs(best - 73.5133) < 1e-3, "best cifar100_test %f at %d", best, i);
    i = argmax(b, offsetof(nb201_record, imagenet16_test), &best);
    CHECKF(i == 857 && fabs(best - 47.3111) < 1e-3, "best imagenet16_test %f at %d", best, i);

    r = get_str(b, ALL_NONE);
    CHECKF(r && fabs(r->cifar10_test - 10.0) < 1e-9, "all-none cifar10_test %f",
          r ? r->cifar10_test : NAN);
    int zeros[NB201_EDGES] = {0};
    CHECKF(r == nb201_benchmark_get(b, zeros) && r == &b->by_code[0], "all-none is code 0");
    r = get_str(b, INDEX1);
    CHECKF(r && r->index == 1, "index 1 arch -> %d", r ? r->index : -1);
    CHECKF(r && fabs(r->cifar10_test - 93.66) < 1e-9, "index 1 cifar10_test");
    int bad[NB201_EDGES] = {0, 1, 2, 3, 4, 5};
    CHECKF(nb201_benchmark_get(b, bad) == NULL, "op 5 must give NULL");
    bad[5] = -1;
    CHECKF(nb201_benchmark_get(b, bad) == NULL, "op -1 must give NULL");

    /* the table as data (datasets/nb201_table.h, what freenas_report reads): the same rows
     * by official index, without the arch grammar */
    nb201_table *t = NULL;
    rc = nb201_table_load(path, NULL, NULL, &t, err, sizeof err);
    CHECKF(rc == 0 && t && t->count == 15625, "table load: %s", err);
    int same = rc == 0;
    for (int k = 0; same && k < NB201_NUM_ARCHS; k++)
        same = !memcmp(&t->by_index[k], &b->by_code[b->by_index[k]], sizeof(nb201_record));
    CHECKF(same, "nb201_table rows by index equal the benchmark's rows by code");
    nb201_table_free(t);
    nb201_benchmark_free(b);
}

static int write_tmp(char *path, const char *text) {
    strcpy(path, "/tmp/fn_nb201_test_XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0) return -1;
    size_t len = strlen(text);
    int ok = write(fd, text, len) == (ssize_t)len;
    close(fd);
    return ok ? 0 : -1;
}

#define HDR "index\tarch\tcifar10_valid\tcifar10_test\tcifar100_test\timagenet16_test\n"
#define ROW0 "0\t|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|\t81.9\t85.8\t52.9\t26.6\n"
#define ROW1 "1\t|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|\t90.7\t93.6\t70.2\t44.0\n"

static void expect_fail(const char *text, const char *needle) {
    char p[64], want[128];
    if (write_tmp(p, text) != 0) {
        CHECKF(0, "cannot write temp file");
        return;
    }
    nb201_benchmark *b = (nb201_benchmark *)1;
    err[0] = '\0';
    int rc = nb201_benchmark_load(p, &b, err, sizeof err);
    snprintf(want, sizeof want, "%s%s", p, needle);
    CHECKF(rc == -1 && b == NULL, "expected failure for %s", p);
    CHECKF(strstr(err, want) != NULL, "message '%s' lacks '%s'", err, want);
    printf("  expected error: %s\n", err);
    if (rc == 0) nb201_benchmark_free(b);
    unlink(p);
}

/* The whole space (15,625 rows), columns in the order of `header`, each row written by
 * row(code, arch, index, f): index = code unless a test changes it. */
static int write_full(char *path, const char *header,
                      void (*row)(FILE *f, int code, const char *arch)) {
    if (write_tmp(path, header) != 0) return -1;
    FILE *f = fopen(path, "a");
    if (!f) return -1;
    for (int code = 0; code < NB201_NUM_ARCHS; code++) {
        int ops[NB201_EDGES], c = code;
        for (int e = 0; e < NB201_EDGES; e++, c /= NB201_OPS) ops[e] = c % NB201_OPS;
        char arch[256];
        nb201_arch_string(ops, arch, sizeof arch);
        row(f, code, arch);
    }
    return fclose(f);
}

/* reordered columns, an extra column, nan values, CRLF line ends */
static void row_reordered(FILE *f, int code, const char *arch) {
    if (code == 0) fprintf(f, "%s\tx\tnan\t1.5\t10\t9.5\t1651\r\n", arch);
    else if (code == 1 + 4 * 3125) fprintf(f, "%s\ty\t4\t3\t2\t1\t7\r\n", arch);
    else
        fprintf(f, "%s\tz\t40\t70\t93\t90\t%d\r\n", arch,
                code == 1651 ? 0 : code == 7 ? 1 + 4 * 3125 : code);
}

static double bad_value; /* row_bad: cifar100_test of code 5; row_short: rows left out */
static void row_bad(FILE *f, int code, const char *arch) {
    fprintf(f, "%d\t%s\t90\t93\t%.17g\t40\n", code, arch, code == 5 ? bad_value : 70.0);
}
static void row_short(FILE *f, int code, const char *arch) {
    if (code < NB201_NUM_ARCHS - (int)bad_value) fprintf(f, "%d\t%s\t90\t93\t70\t40\n", code, arch);
}

static void expect_fail_file(const char *p, const char *needle) {
    nb201_benchmark *b = (nb201_benchmark *)1;
    err[0] = '\0';
    int rc = nb201_benchmark_load(p, &b, err, sizeof err);
    CHECKF(rc == -1 && b == NULL, "expected failure for %s", p);
    CHECKF(strstr(err, needle) != NULL, "message '%s' lacks '%s'", err, needle);
    printf("  expected error: %s\n", err);
    if (rc == 0) nb201_benchmark_free(b);
}

static void test_synthetic(void) {
    char p[64];
    write_full(p, "arch\textra\timagenet16_test\tcifar100_test\tcifar10_test\tcifar10_valid\tindex\r\n",
               row_reordered);
    FILE *f = fopen(p, "a");
    if (f) fputs("\n", f), fclose(f); /* a trailing blank line */
    nb201_benchmark *b = NULL;
    int rc = nb201_benchmark_load(p, &b, err, sizeof err);
    CHECKF(rc == 0, "reordered table: %s", err);
    if (rc == 0) {
        CHECKF(b->count == NB201_NUM_ARCHS, "count %d", b->count);
        const nb201_record *r = &b->by_code[0];
        CHECKF(r->index == 1651 && isnan(r->imagenet16_test) && r->cifar100_test == 1.5 &&
                  r->cifar10_test == 10 && r->cifar10_valid == 9.5,
              "row 1 values");
        int ops[NB201_EDGES] = {1, 0, 0, 0, 0, 4};
        r = nb201_benchmark_get(b, ops);
        CHECKF(r && r->index == 7 && r->imagenet16_test == 4 && r->cifar100_test == 3 &&
                  r->cifar10_test == 2 && r->cifar10_valid == 1,
              "row 2 values");
        CHECKF(b->by_index[7] == 1 + 4 * 3125, "by_index[7] = %d", b->by_index[7]);
        nb201_benchmark_free(b);
    }
    unlink(p);

    /* accuracies out of [0, 100], overflowing to inf; a table without its last rows */
    const double bad[] = {150, -5, INFINITY};
    const char *const shown[] = {"'150'", "'-5'", "'inf'"};
    for (int i = 0; i < 3; i++) {
        bad_value = bad[i];
        write_full(p, HDR, row_bad);
        char want[128];
        snprintf(want, sizeof want, ":7: column cifar100_test: %s is not an accuracy in [0, 100]",
                 shown[i]);
        expect_fail_file(p, want);
        unlink(p);
    }
    expect_fail(HDR "0\t|none~0|+|none~0|none~1|+|none~0|none~1|none~2|\t1e999\t2\t3\t4\n",
                ":2: column cifar10_valid: '1e999' is not an accuracy in [0, 100]");
    bad_value = 100;
    write_full(p, HDR, row_short);
    expect_fail_file(p, ": 15525 of 15625 architectures, index 15525 is missing");
    unlink(p);
    expect_fail(HDR ROW0 ROW1, ": 2 of 15625 architectures, index 2 is missing");
    /* a FIFO is refused at once, not read (a read would wait for a writer forever) */
    snprintf(p, sizeof p, "/tmp/fn_nb201_fifo_%d", (int)getpid());
    unlink(p);
    if (mkfifo(p, 0600) == 0) {
        expect_fail_file(p, "not a regular file (a FIFO)");
        unlink(p);
    }
    expect_fail_file("/tmp", "cannot read NB201 table '/tmp': not a regular file (a directory)");

    expect_fail(HDR ROW0 "2\t|none~0|+|none~0|none~1|\t1\n", ":3:");             /* field count */
    expect_fail(HDR ROW0 ROW1 "2\t|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|\t1\t2\t3\t4\n",
                ":4: duplicate arch");
    expect_fail(HDR "0\t|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|\t1\t2\t3\t4\n",
                ":2: bad architecture");
    expect_fail(HDR ROW0 "1\t|none~0|+|none~0|none~1|+|none~0|none~1|none~2|\t1\tabc\t3\t4\n",
                ":3: column cifar10_test");
    expect_fail(HDR ROW0 "0\t|none~0|+|none~0|none~1|+|none~0|none~1|none~2|\t1\t2\t3\t4\n",
                ":3: duplicate index");
    expect_fail(HDR "15625\t|none~0|+|none~0|none~1|+|none~0|none~1|none~2|\t1\t2\t3\t4\n",
                ":2: index");
    expect_fail(HDR ROW0 "\n" ROW1, ":3: empty line");
    expect_fail("index\tarch\tcifar10_valid\tcifar10_test\tcifar100_test\n" ROW0,
                ":1: header lacks the column 'imagenet16_test'");
    expect_fail(HDR, ": no data rows");
    expect_fail("", ": empty file");

    /* without an arch callback the arch column is not read: a table with an unparsable
     * arch loads (freenas_report needs the accuracies by index only) */
    char p2[64];
    if (write_tmp(p2, HDR "0\t|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|\t1\t2\t3\t4\n") == 0) {
        nb201_table *t = NULL;
        rc = nb201_table_load(p2, NULL, NULL, &t, err, sizeof err);
        CHECKF(rc == -1 && strstr(err, "1 of 15625 architectures, index 1 is missing"),
               "table without arch callback: %s", err);
        nb201_table_free(t);
        remove(p2);
    }

    nb201_benchmark *b2 = NULL;
    rc = nb201_benchmark_load("/tmp/fn_no_such_nb201.tsv", &b2, err, sizeof err);
    CHECKF(rc == -1 && b2 == NULL && strstr(err, "/tmp/fn_no_such_nb201.tsv"), "missing: %s", err);
    printf("  expected error: %s\n", err);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s DATA_DIR (e.g. ../shared/data)\n", argv[0]);
        return 2;
    }
    test_real(argv[1]);
    test_synthetic();
    return test_summary("test_nb201_benchmark");
}
