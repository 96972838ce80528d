/* fuzz/fuzz_util.h: what the harnesses of fuzz/ share: a private scratch directory for parsers
 * that read only from a path, writing the fuzz input there, and a NUL-terminated copy of it.
 *
 * The scratch directory is made once per process under $FREENAS_FUZZ_TMP, else /dev/shm
 * (memory-backed, so a write per input stays cheap), else $TMPDIR or /tmp, and removed at
 * exit. Harnesses are plain C11 + POSIX, so the same file builds into a libFuzzer target
 * (clang) and into the corpus replay driver (fuzz/replay_main.c, any compiler). */
#ifndef FN_FUZZ_UTIL_H
#define FN_FUZZ_UTIL_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fuzz_dir_path[512];

static inline void fuzz_rm_rf(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char p[1024];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= (int)sizeof p) continue;
        struct stat st;
        if (!lstat(p, &st) && S_ISDIR(st.st_mode)) fuzz_rm_rf(p);
        else unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static inline void fuzz_cleanup(void) {
    if (fuzz_dir_path[0]) fuzz_rm_rf(fuzz_dir_path);
}

/* The process's scratch directory (exits if none can be made: nothing can be fuzzed then). */
static inline const char *fuzz_dir(void) {
    if (fuzz_dir_path[0]) return fuzz_dir_path;
    const char *base = getenv("FREENAS_FUZZ_TMP");
    struct stat st;
    if (!base || !*base) base = !stat("/dev/shm", &st) && S_ISDIR(st.st_mode) &&
                                        !access("/dev/shm", W_OK) ? "/dev/shm" : NULL;
    if (!base) base = getenv("TMPDIR");
    if (!base || !*base) base = "/tmp";
    snprintf(fuzz_dir_path, sizeof fuzz_dir_path, "%s/freenas_fuzz.XXXXXX", base);
    if (!mkdtemp(fuzz_dir_path)) {
        perror("freenas fuzz: mkdtemp");
        exit(2);
    }
    atexit(fuzz_cleanup);
    return fuzz_dir_path;
}

/* DIR/name (name may hold one level of subdirectory, made as needed), in out. */
static inline const char *fuzz_path(const char *name, char *out, size_t len) {
    snprintf(out, len, "%s/%s", fuzz_dir(), name);
    const char *slash = strchr(name, '/');
    if (slash) {
        char sub[600];
        snprintf(sub, sizeof sub, "%s/%.*s", fuzz_dir(), (int)(slash - name), name);
        mkdir(sub, 0700);
    }
    return out;
}

/* Writes data[0..size) to DIR/name, replacing it; returns the path (static storage per call
 * site is the caller's: out). Exits on a write error (a full tmpfs is no finding). */
static inline const char *fuzz_write(const char *name, const uint8_t *data, size_t size, char *out,
                              size_t len) {
    fuzz_path(name, out, len);
    FILE *f = fopen(out, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f)) {
        perror("freenas fuzz: writing the input file");
        exit(2);
    }
    return out;
}

/* A malloc'ed NUL-terminated copy of the input (parsers of C strings). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size) {
    char *s = malloc(size + 1);
    if (!s) abort();
    if (size) memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* Splits the input at byte `sep`: part k (0-based) in *p, *n; returns the number of parts. */
static inline int fuzz_split(const uint8_t *data, size_t size, uint8_t sep, int k, const uint8_t **p,
                      size_t *n) {
    int part = 0;
    size_t start = 0;
    *p = NULL;
    *n = 0;
    for (size_t i = 0; i <= size; i++)
        if (i == size || data[i] == sep) {
            if (part == k) {
                *p = data + start;
                *n = i - start;
            }
            part++;
            start = i + 1;
        }
    return part;
}
#endif
