/* search/bundle.h: K FreeDARTS searches of one supernet shape run together, for the
 * throughput of a sweep (many seeds, alpha scales or precisions of the same supernet).
 *
 * On the CPU a bundle runs its searches side by side, one search per OpenMP thread, each
 * with its own
 * executor, weights, BN statistics, alpha, loss and d alpha, and its own arenas kept from one
 * bundle to the next (no page faults after the first). A supernet's kernels at these sizes
 * (16 to 64 channels, batch 1 for SynFlow) do not fill two cores; K whole searches do. Every
 * search runs the same code as search_run alone, and a search's result does not depend on
 * the thread count (fixed-order reductions, tests/test_threads.c), so each result is bit for
 * bit the one of its single search (tests/test_bundle.c checks it per space and metric).
 *
 * CUDA searches of a bundle run side by side too: a host thread each, and each host thread
 * has its own CUDA context (stream, cuDNN and cuBLAS handles, arenas, CUDA graphs;
 * gpu/exec_cuda_impl.cuh), so K searches' kernels and their host work (graph building,
 * weight draws, pruning) overlap, where one search leaves the GPU waiting on launches and
 * on the host. Every search still runs its own kernels with its own weights; stacking K
 * searches into one executor is search_run_stacked (search/search.h; CPU only for now). tests/test_gpu_bundle.c checks each
 * result against its single search, bit for bit, on a GPU.
 *
 * A failure (NaN score, missing data file, out of memory) is its own search's status; the
 * other searches of the bundle are not affected. */
#ifndef FN_SEARCH_BUNDLE_H
#define FN_SEARCH_BUNDLE_H

#include <stddef.h>

#include "search/search.h"

/* Searches that may share a bundle: the same space, metric, dataset, batch, width, cells,
 * NB-1shot1 space, precision and device (the same supernet shape and pass). Seeds, alpha
 * scales, augmentation and data files may differ. */
int search_bundle_compatible(const fn_search_config *a, const fn_search_config *b);

/* Bytes this process may use now: MemAvailable of /proc/meminfo, capped by the room left in
 * its memory cgroup (v2 memory.max - memory.current, v1 limit_in_bytes - usage_in_bytes;
 * a SLURM job's or a container's limit) where one is set. */
size_t fn_mem_available(void);

/* Bundle size for searches like cfg on `threads` CPU threads: at most `cap` (0: no cap),
 * at most `threads` (more searches than threads do not run faster on a CPU), and as many
 * as fit in mem_bytes (0: fn_mem_available() / ranks_on_node) with a 10 % margin; 1 when
 * that leaves half the threads or more idle (one search on all threads is then the better
 * use: searches of a bundle never split threads among themselves). CUDA searches: 1 when
 * cap is 0 (the default until bench_bundle --device cuda has measured the curve on a GPU),
 * else at most cap and `threads`, and as many as fit in mem_bytes (0: the free memory of the
 * GPU, fn_backend.mem_free, / ranks_on_node: ranks that may share it) at search_bytes + 96
 * MiB each with a 10 % margin. Always >= 1. */
int search_bundle_size(const fn_search_config *cfg, int cap, int threads, int ranks_on_node,
                       size_t mem_bytes);

/* Slots (one thread each) for k jobs on `dev` side by side on `threads` threads: min(k,
 * threads), or on the CPU 1 (one job at a time on every thread) when that is half the threads
 * or fewer. Jobs of a bundle never split threads among themselves: libgomp makes a nested
 * team's threads anew at every region, which made a bundle of 2 on 4 threads 4x slower than
 * one search. CUDA jobs have no half-idle rule: a slot's thread mostly waits for its stream.
 * The rule of search_bundle_run, search_bundle_size and the sweep's per-architecture
 * bundles. Always >= 1. */
int search_bundle_slots(int k, int threads, fn_device dev);

/* Reusable state: one arena pool per slot (a thread's searches borrow its arenas). */
typedef struct search_bundle search_bundle;
search_bundle *search_bundle_new(void);
void search_bundle_free(search_bundle *b);

/* Runs cfg[0..k-1] (compatible or not: compatibility only decides what a sweep groups) on
 * `threads` threads (0: omp_get_max_threads()) and fills res[0..k-1] as search_run would:
 * min(k, threads) slots of one thread each, or, when that is half the threads or fewer and
 * some search runs on the CPU, one search at a time on every thread (CUDA searches alone
 * always take min(k, threads) slots).
 * Leaves the OpenMP thread count and nesting as it found them. */
void search_bundle_run(search_bundle *b, const fn_search_config *cfg, int k, int threads,
                       fn_search_result *res);

#endif
