/* base/common.c: implementation of the check macros and helpers of base/common.h. */
#define _DEFAULT_SOURCE /* MADV_HUGEPAGE, MAP_ANONYMOUS */
#include "base/common.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>

#include <cblas.h>

/* OpenBLAS runs single-threaded: freenas parallelises with OpenMP around its calls (nn/conv2d.c),
 * and two thread pools spinning on the same cores cost more than they give. */
__attribute__((constructor)) static void fn_blas_single_thread(void) { openblas_set_num_threads(1); }

void fn_fatal(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "freenas: fatal error at %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    exit(EXIT_FAILURE);
}

void *fn_malloc_check(size_t size, const char *file, int line) {
    void *p = malloc(size ? size : 1);
    if (!p) fn_fatal(file, line, "malloc of %zu bytes failed", size);
    return p;
}

void *fn_calloc_check(size_t n, size_t size, const char *file, int line) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) fn_fatal(file, line, "calloc of %zu x %zu bytes failed", n, size);
    return p;
}

void *fn_realloc_check(void *p, size_t size, const char *file, int line) {
    void *q = realloc(p, size ? size : 1);
    if (!q) fn_fatal(file, line, "realloc to %zu bytes failed", size);
    return q;
}

FILE *fn_fopen_check(const char *path, const char *mode, const char *file, int line) {
    FILE *f = fopen(path, mode);
    if (!f) fn_fatal(file, line, "cannot open '%s' (mode %s): %s", path, mode, strerror(errno));
    return f;
}

extern const char fn_git_rev_text[]; /* build/generated/git_rev.c */
const char *fn_git_rev(void) { return fn_git_rev_text; }

int fn_env_switch(int *state, const char *name) {
    if (*state < 0) {
        const char *v = getenv(name);
        *state = !(v && !strcmp(v, "0"));
    }
    return *state;
}

double fn_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

long fn_first_nonfinite(const double *v, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i])) return (long)i;
    return -1;
}

size_t fn_peak_rss(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return (size_t)ru.ru_maxrss * 1024u; /* Linux reports KiB */
}

void *fn_arena_alloc(size_t bytes) {
    if (bytes == 0) bytes = 1;
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
#ifdef MADV_HUGEPAGE
    if (bytes >= (2u << 20)) madvise(p, bytes, MADV_HUGEPAGE);
#endif
    return p;
}

void fn_arena_free(void *p, size_t bytes) {
    if (p) munmap(p, bytes ? bytes : 1);
}
