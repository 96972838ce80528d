/* search/bundle.c: K searches side by side (see search/bundle.h). */
#include "search/bundle.h"

#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/backend.h"

static int same_str(const char *a, const char *b) {
    return (a == b) || (a && b && !strcmp(a, b));
}

int search_bundle_compatible(const fn_search_config *a, const fn_search_config *b) {
    return same_str(a->space, b->space) && same_str(a->metric, b->metric) &&
           same_str(a->dataset, b->dataset) && a->batch == b->batch &&
           a->channels == b->channels && a->cells == b->cells && a->ss == b->ss &&
           a->device == b->device && a->mopts.precision == b->mopts.precision &&
           a->mopts.synflow_zc == b->mopts.synflow_zc;
}

static size_t meminfo_available(void) {
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f) return 0;
    char line[256];
    size_t kb = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %zu kB", &kb) == 1) break;
    fclose(f);
    return kb * 1024;
}

static size_t read_size(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return SIZE_MAX;
    char buf[64] = "";
    size_t v = SIZE_MAX;
    if (fgets(buf, sizeof buf, f) && strncmp(buf, "max", 3)) v = (size_t)strtoull(buf, NULL, 10);
    fclose(f);
    return v;
}

/* room left in this process' memory cgroup (v2: memory.max - memory.current; v1:
 * memory.limit_in_bytes - memory.usage_in_bytes), SIZE_MAX when none limits it: a SLURM job's
 * or a container's limit, which MemAvailable does not show */
static size_t cgroup_room(void) {
    FILE *f = fopen("/proc/self/cgroup", "r");
    if (!f) return SIZE_MAX;
    char line[1024], path[1200];
    size_t room = SIZE_MAX;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        const char *v2 = !strncmp(line, "0::", 3) ? line + 3 : NULL;
        const char *v1 = strstr(line, ":memory:");
        size_t max = SIZE_MAX, cur = SIZE_MAX;
        if (v2) {
            snprintf(path, sizeof path, "/sys/fs/cgroup%s/memory.max", v2);
            max = read_size(path);
            snprintf(path, sizeof path, "/sys/fs/cgroup%s/memory.current", v2);
            cur = read_size(path);
        } else if (v1) {
            snprintf(path, sizeof path, "/sys/fs/cgroup/memory%s/memory.limit_in_bytes", v1 + 8);
            max = read_size(path);
            snprintf(path, sizeof path, "/sys/fs/cgroup/memory%s/memory.usage_in_bytes", v1 + 8);
            cur = read_size(path);
        }
        /* v1 writes "no limit" as a huge number (a page-rounded 2^63) */
        if (max != SIZE_MAX && cur != SIZE_MAX && max < ((size_t)1 << 62)) {
            const size_t r = max > cur ? max - cur : 0;
            if (r < room) room = r;
        }
    }
    fclose(f);
    return room;
}

size_t fn_mem_available(void) {
    size_t avail = meminfo_available();
    const size_t room = cgroup_room();
    if (room != SIZE_MAX && (!avail || room < avail)) avail = room;
    return avail;
}

int search_bundle_slots(int k, int threads, fn_device dev) {
    const int slots = k < threads ? k : threads;
    if (slots < 1) return 1;
    return dev == FN_DEV_CPU && 2 * slots <= threads ? 1 : slots;
}

/* device memory of one CUDA search beyond its executor's arenas: its thread's cuBLAS
 * workspace (32 MiB), cuDNN's convolution workspace and the CUDA graphs */
#define CUDA_SEARCH_EXTRA ((size_t)96 << 20)

/* CUDA: one host thread (and stream) per search, as many as the cap, the threads and the
 * device's free memory allow */
static int cuda_bundle_size(const fn_search_config *cfg, int cap, int threads, int ranks_on_node,
                            size_t mem_bytes) {
    const int k = search_bundle_slots(cap, threads, cfg->device);
    if (k == 1) return 1;
    if (!mem_bytes) mem_bytes = backend_mem_free(cfg->device) / (size_t)(ranks_on_node > 0 ? ranks_on_node : 1);
    if (!mem_bytes) return k; /* no device: each search reports it */
    char err[FN_ERRLEN];
    const size_t one = search_bytes(cfg, err, sizeof err);
    if (!one) return 1;
    const size_t fit = (size_t)((double)mem_bytes * 0.9 / (double)(one + CUDA_SEARCH_EXTRA));
    return fit < (size_t)k ? (fit > 1 ? (int)fit : 1) : k;
}

int search_bundle_size(const fn_search_config *cfg, int cap, int threads, int ranks_on_node,
                       size_t mem_bytes) {
    if (threads < 1) threads = 1;
    if (cfg->device != FN_DEV_CPU)
        return cap > 0 ? cuda_bundle_size(cfg, cap, threads, ranks_on_node, mem_bytes) : 1;
    int k = cap > 0 && cap < threads ? cap : threads;
    if (search_bundle_slots(k, threads, FN_DEV_CPU) == 1) return 1;
    char err[FN_ERRLEN];
    const size_t one = search_bytes(cfg, err, sizeof err);
    if (!one) return 1; /* the search itself reports the problem */
    if (!mem_bytes) mem_bytes = fn_mem_available() / (size_t)(ranks_on_node > 0 ? ranks_on_node : 1);
    const size_t fit = (size_t)((double)mem_bytes * 0.9 / (double)one);
    if (fit < (size_t)k) k = fit > 1 ? (int)fit : 1;
    return search_bundle_slots(k, threads, FN_DEV_CPU) == 1 ? 1 : k;
}

struct search_bundle {
    fn_arena_pool *pools; /* [npools], one per slot */
    int npools;
};

search_bundle *search_bundle_new(void) { return callocCheck(1, sizeof(search_bundle)); }

void search_bundle_free(search_bundle *b) {
    if (!b) return;
    for (int i = 0; i < b->npools; i++) arena_pool_free(&b->pools[i]);
    free(b->pools);
    free(b);
}

static void ensure_pools(search_bundle *b, int n) {
    if (n <= b->npools) return;
    b->pools = reallocCheck(b->pools, sizeof(fn_arena_pool) * (size_t)n);
    memset(b->pools + b->npools, 0, sizeof(fn_arena_pool) * (size_t)(n - b->npools));
    b->npools = n;
}

void search_bundle_run(search_bundle *b, const fn_search_config *cfg, int k, int threads,
                       fn_search_result *res) {
    if (k <= 0) return;
    const int saved_threads = omp_get_max_threads(), saved_levels = omp_get_max_active_levels();
    if (threads <= 0) threads = saved_threads;
    int cpu = 0;
    for (int i = 0; i < k; i++) cpu |= cfg[i].device == FN_DEV_CPU;
    /* one slot per search, one thread each, or one search at a time on every thread
     * (search_bundle_slots; CUDA searches alone: a slot, host thread and stream, each) */
    const int slots = search_bundle_slots(k, threads, cpu ? FN_DEV_CPU : FN_DEV_CUDA);
    ensure_pools(b, slots);
    if (slots == 1) {
        omp_set_num_threads(threads);
        for (int i = 0; i < k; i++) {
            fn_search_config c = cfg[i];
            if (c.device == FN_DEV_CPU && !c.pool) c.pool = &b->pools[0];
            search_run(&c, &res[i]);
        }
    } else {
        omp_set_max_active_levels(1);
        /* static, one search per slot in turn: slot s runs searches s, s + slots, ... with
         * its own arenas (which search runs where never changes a result) */
#pragma omp parallel num_threads(slots)
        {
            const int s = omp_get_thread_num();
            for (int i = s; i < k; i += slots) {
                fn_search_config c = cfg[i];
                if (!c.pool) c.pool = &b->pools[s];
                search_run(&c, &res[i]);
            }
        }
        omp_set_max_active_levels(saved_levels);
    }
    omp_set_num_threads(saved_threads);
}
