/* datasets/data_dirs.c: the default data roots and lookups of datasets/data_dirs.h. */
#define _DEFAULT_SOURCE /* realpath */
#include "datasets/data_dirs.h"

#include <pthread.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "datasets/dataset.h"

#define FN_MAX_ROOTS 16

static char g_roots[FN_MAX_ROOTS][PATH_MAX > 4096 ? PATH_MAX : 4096];
static const char *g_ptrs[FN_MAX_ROOTS];

static int add(int n, const char *a, const char *b) {
    if (n >= FN_MAX_ROOTS || !a || !*a) return n;
    char joined[4096], real[PATH_MAX];
    if ((size_t)snprintf(joined, sizeof joined, "%s%s", a, b ? b : "") >= sizeof joined)
        return n; /* too long to be usable: skipped */
    /* shown resolved when it exists (messages, `freenas info`); kept as written otherwise */
    snprintf(g_roots[n], sizeof g_roots[n], "%s", realpath(joined, real) ? real : joined);
    g_ptrs[n] = g_roots[n];
    return n + 1;
}

static int exe_share(int n) {
    char exe[4096];
    const ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0) return n;
    exe[len] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash) return n;
    *slash = '\0';
    return add(n, exe, "/../share/freenas/data");
}

static int build_roots(void) {
    int n = 0;
    const char *env = getenv("FREENAS_DATA");
    if (env && *env) { /* the user's list replaces the per-user folder and the checkout's */
        char buf[8192];
        snprintf(buf, sizeof buf, "%s", env);
        for (char *save = NULL, *p = strtok_r(buf, ":", &save); p; p = strtok_r(NULL, ":", &save))
            n = add(n, p, NULL);
        return exe_share(n);
    }
    const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
    if (xdg && *xdg) n = add(n, xdg, "/freenas/data");
    else if (home && *home) n = add(n, home, "/.local/share/freenas/data");
    n = exe_share(n);
#ifdef FREENAS_SOURCE_DIR
    n = add(n, FREENAS_SOURCE_DIR, "/../shared/data");
#endif
    return n;
}

static int g_nroots;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static void build_roots_once(void) { g_nroots = build_roots(); }

/* Built once per process (the environment is read at the first call): searches of a bundle
 * (search/bundle.h) look up data from several threads at once. */
int data_roots(const char **roots, int max) {
    pthread_once(&g_once, build_roots_once);
    const int n = g_nroots;
    int k = 0;
    for (; k < n && k < max; k++) roots[k] = g_ptrs[k];
    return k;
}

static void tried_list(char *err, size_t errlen, const char *what, int n) {
    size_t l = (size_t)snprintf(err, errlen, "%s not found under the data roots (", what);
    for (int i = 0; i < n && l < errlen; i++)
        l += (size_t)snprintf(err + l, errlen - l, "%s%s", i ? ", " : "", g_ptrs[i]);
    if (l < errlen)
        snprintf(err + l, errlen - l, "); fetch it with scripts/fetch_data.sh, set FREENAS_DATA, "
                                      "or pass its path (docs/DATA.md)");
}

int data_find(const char *rel, char *out, size_t outlen, char *err, size_t errlen) {
    const int n = build_roots();
    for (int i = 0; i < n; i++) {
        char cand[8192];
        struct stat st;
        snprintf(cand, sizeof cand, "%s/%s", g_ptrs[i], rel);
        if (stat(cand, &st) == 0 && (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))) {
            if ((size_t)snprintf(out, outlen, "%s", cand) >= outlen) continue;
            return 0;
        }
    }
    tried_list(err, errlen, rel, n);
    return -1;
}

int data_find_images(const char *name, char *out, size_t outlen, char *err, size_t errlen) {
    const int n = build_roots();
    for (int i = 0; i < n; i++) {
        struct stat st;
        if (stat(g_ptrs[i], &st) != 0 || !S_ISDIR(st.st_mode)) continue;
        char file[8192], e[512];
        if (dataset_resolve(name, g_ptrs[i], file, sizeof file, e, sizeof e) == 0) {
            if ((size_t)snprintf(out, outlen, "%s", g_ptrs[i]) >= outlen) continue;
            return 0;
        }
    }
    char what[128];
    snprintf(what, sizeof what, "%s images", name);
    tried_list(err, errlen, what, n);
    return -1;
}

const char *data_nb201_table(void) {
    static char path[8192];
    char err[256];
    return data_find("nb201/nb201_accuracy.tsv", path, sizeof path, err, sizeof err) == 0 ? path
                                                                                           : NULL;
}

const char *data_hnas_tables(void) {
    static char list[16384 + 2];
    static const char *const rel[2] = {"hnas/nb201_cifar10_whole_seed0.tsv",
                                        "hnas/nb201_cifar10_seed0.tsv"};
    char path[8192], err[256];
    size_t n = 0;
    list[0] = '\0';
    for (int i = 0; i < 2; i++)
        if (data_find(rel[i], path, sizeof path, err, sizeof err) == 0)
            n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", n ? "," : "", path);
    return n ? list : NULL;
}
