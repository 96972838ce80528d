/* base/common.h: error-check macros, fatal errors and small helpers shared by all of freenas.
 *
 * Programmer errors (broken invariants) are fatal and print expression, file:line.
 * Recoverable per-search errors (bad data file, NaN score) are returned as fn_status by the
 * search pipeline instead (search/search.h), so a sweep can record them and go on. */
#ifndef FN_COMMON_H
#define FN_COMMON_H

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

void fn_fatal(const char *file, int line, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));

#define FN_FATAL(...) fn_fatal(__FILE__, __LINE__, __VA_ARGS__)
#define FN_ASSERT(cond)                                                            \
    do {                                                                           \
        if (!(cond)) FN_FATAL("assertion failed: %s", #cond);                      \
    } while (0)

void *fn_malloc_check(size_t size, const char *file, int line);
void *fn_calloc_check(size_t n, size_t size, const char *file, int line);
void *fn_realloc_check(void *p, size_t size, const char *file, int line);
FILE *fn_fopen_check(const char *path, const char *mode, const char *file, int line);
#define mallocCheck(size) fn_malloc_check((size), __FILE__, __LINE__)
#define callocCheck(n, size) fn_calloc_check((n), (size), __FILE__, __LINE__)
#define reallocCheck(p, size) fn_realloc_check((p), (size), __FILE__, __LINE__)
#define fopenCheck(path, mode) fn_fopen_check((path), (mode), __FILE__, __LINE__)

/* Large zero-filled arenas: anonymous mappings with transparent huge pages where the kernel
 * allows them (fewer page faults on first touch). Returns NULL on failure (out of memory). */
void *fn_arena_alloc(size_t bytes);
void fn_arena_free(void *p, size_t bytes);

/* Wall-clock seconds (monotonic). */
double fn_now(void);
/* A run-time switch read once from the environment: *state < 0 (not yet read) becomes 0 when
 * variable `name` is "0", else 1; returns *state. Tests and benchmarks may set *state
 * directly. (nn/conv2d_dnnl.c: FREENAS_ONEDNN, nn/conv2d_direct.c: FREENAS_CONV_DIRECT,
 * engine/graph_fold.c: FREENAS_FOLD_BN, engine/graph_alias.c: FREENAS_ALIAS_BN,
 * engine/graph_chains.c: FREENAS_CHAINS) */
int fn_env_switch(int *state, const char *name);
/* The checkout's commit as `git describe --always --dirty` gave it at build time
 * (cmake/git_rev.cmake; "unknown" outside a git checkout): what --version, manifests and
 * metric tables stamp. */
const char *fn_git_rev(void);
/* Peak resident set size of this process in bytes (0 if unknown). */
size_t fn_peak_rss(void);

/* Index of the first NaN or Inf in v[0..n), or -1 when all are finite: the check every
 * architecture decoder makes before ranking scores (a NaN is never ranked). */
long fn_first_nonfinite(const double *v, size_t n);

/* Formatted error message buffer used by recoverable paths. */
#define FN_ERRLEN 512

#endif
