/* tests/test_score_table.c: sweep/score_table (the proxy values a zc_search with `scores`
 * looks up) on small files written here: sweep score records and `freenas score --json` lines
 * with numbers, "inf" / "-inf" and null; a failed attempt followed by an ok one (and the
 * reverse); datasets kept apart; a missing score; and the errors of bad files, each with its
 * FILE:LINE. Run: ctest -R test_score_table. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sweep/score_table.h"
#include "test_util.h"

static const char *write_file(const char *name, const char *text) {
    static char path[256];
    snprintf(path, sizeof path, "%s", name);
    FILE *f = fopen(path, "w");
    if (!f) return NULL;
    fputs(text, f);
    fclose(f);
    return path;
}

static void good_file(void) {
    const char *text =
        /* a kind score sweep's records: one proxy each, a failed attempt then the ok one */
        "{\"job_id\":\"a\",\"params\":{\"kind\":\"score\",\"dataset\":\"cifar10\","
        "\"metric\":\"snip\"},\"status\":\"nan_score\",\"nb201_index\":7,\"proxies\":{\"snip\":null}}\n"
        "{\"job_id\":\"a\",\"params\":{\"kind\":\"score\",\"dataset\":\"cifar10\","
        "\"metric\":\"snip\"},\"status\":\"ok\",\"nb201_index\":7,\"proxies\":{\"snip\":2.5}}\n"
        /* an ok record then a failed retry of it: the ok value stays */
        "{\"params\":{\"dataset\":\"cifar10\"},\"status\":\"ok\",\"nb201_index\":8,"
        "\"proxies\":{\"snip\":-1.25}}\n"
        "{\"params\":{\"dataset\":\"cifar10\"},\"status\":\"oom\",\"nb201_index\":8,"
        "\"proxies\":{\"snip\":null}}\n"
        /* a failed job without proxies: nothing to take */
        "{\"params\":{\"dataset\":\"cifar10\"},\"status\":\"data_error\",\"nb201_index\":9}\n"
        "\n"
        /* freenas score --json: several proxies, infinities and a failed one as null */
        "{\"job_id\":\"score-cifar100-s0-15624\",\"status\":\"ok\",\"params\":{\"kind\":\"score\","
        "\"dataset\":\"cifar100\"},\"nb201_index\":15624,\"proxies\":{\"naswot\":\"-inf\","
        "\"synflow\":\"inf\",\"jacob_cov\":null,\"snip\":4}}\n";
    const char *path = write_file("score_table_good.jsonl", text);
    CHECK(path != NULL);
    sweep_score_table *t = NULL;
    char err[512] = "";
    int rc = sweep_score_table_load(path, &t, err, sizeof err);
    CHECKF(rc == 0 && t, "%s", err);
    if (rc) return;
    double v = 0;
    CHECK(sweep_score_table_count(t) == 6);
    CHECK(sweep_score_table_get(t, "cifar10", "snip", 7, &v) == 0 && v == 2.5);
    CHECK(sweep_score_table_get(t, "cifar10", "snip", 8, &v) == 0 && v == -1.25);
    CHECK(sweep_score_table_get(t, "cifar10", "snip", 9, &v) == -1); /* never scored */
    CHECK(sweep_score_table_get(t, "cifar100", "snip", 7, &v) == -1); /* other dataset */
    CHECK(sweep_score_table_get(t, "cifar100", "snip", 15624, &v) == 0 && v == 4);
    CHECK(sweep_score_table_get(t, "cifar100", "naswot", 15624, &v) == 0 && isinf(v) && v < 0);
    CHECK(sweep_score_table_get(t, "cifar100", "synflow", 15624, &v) == 0 && isinf(v) && v > 0);
    CHECK(sweep_score_table_get(t, "cifar100", "jacob_cov", 15624, &v) == 0 && isnan(v));
    CHECK(sweep_score_table_get(t, "cifar100", "grasp", 15624, &v) == -1);
    CHECK(sweep_score_table_get(t, "cifar100", "nosuch", 15624, &v) == -1);
    CHECK(sweep_score_table_get(t, "imagenet16-120", "snip", 15624, &v) == -1);
    CHECK(sweep_score_table_get(t, "cifar10", "snip", 15625, &v) == -1);
    sweep_score_table_free(t);
    remove(path);
}

/* a file that must not load: the message starts with FILE:LINE (or FILE:) and holds phrase */
static void bad_file(const char *text, const char *where, const char *phrase) {
    const char *path = write_file("score_table_bad.jsonl", text);
    sweep_score_table *t = (sweep_score_table *)1;
    char err[512] = "", want[300];
    int rc = sweep_score_table_load(path, &t, err, sizeof err);
    snprintf(want, sizeof want, "%s%s", path, where);
    CHECKF(rc == -1 && t == NULL, "loaded a bad file: %s", text);
    CHECKF(!strncmp(err, want, strlen(want)) && strstr(err, phrase), "got '%s', want '%s...%s'",
           err, want, phrase);
    remove(path);
}

int main(void) {
    good_file();
    const char *ok = "{\"params\":{\"dataset\":\"cifar10\"},\"nb201_index\":1,\"proxies\":{\"snip\":1}}\n";
    char two[512];
    snprintf(two, sizeof two, "%s{\"params\":{\"dataset\":\"cifar10\"},\"nb201_index\":2,\"prox", ok);
    bad_file(two, ":2: ", "not JSON");
    bad_file("{\"params\":{\"dataset\":\"cifar10\"},\"nb201_index\":15625,\"proxies\":{\"snip\":1}}\n",
             ":1: ", "nb201_index 15625 is outside 0..15624");
    bad_file("{\"params\":{\"dataset\":\"cifar10\"},\"nb201_index\":3,\"proxies\":{\"snipp\":1}}\n",
             ":1: ", "unknown proxy 'snipp'");
    bad_file("{\"params\":{\"dataset\":\"cifar10\"},\"nb201_index\":3,\"proxies\":{\"snip\":\"big\"}}\n",
             ":1: ", "proxies.snip: not a number");
    bad_file("{\"nb201_index\":3,\"proxies\":{\"snip\":1}}\n", ":1: ", "needs params.dataset");
    bad_file("[1, 2]\n", ":1: ", "not a JSON object");
    bad_file("{\"params\":{\"dataset\":\"cifar10\"},\"status\":\"data_error\"}\n", ": ",
             "no score records");
    sweep_score_table *t;
    char err[512];
    CHECK(sweep_score_table_load("no/such/file.jsonl", &t, err, sizeof err) == -1 && !t &&
          strstr(err, "no/such/file.jsonl: cannot read the score table"));
    return test_summary("test_score_table");
}
