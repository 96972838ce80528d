/* tests/test_search_case.h: one search described by a small struct (space, metric, precision,
 * batch, width, depth, NB-1shot1 space, SynFlow form), run on real data: the shared setup of
 * the thread-count test (test_threads.c), the cross-machine one (test_golden.c) and the
 * bundle ones (test_bundle.c, test_gpu_bundle.c); and the small supernets of the reference and gradient tests. */
#ifndef FN_TEST_SEARCH_CASE_H
#define FN_TEST_SEARCH_CASE_H

#include <stddef.h>
#include <stdint.h>

#include "engine/exec.h"
#include "engine/graph.h"
#include "search/bundle.h"
#include "search/search.h"

typedef struct {
    const char *space, *metric;
    int precision;  /* -1: the metric's default; 32 or 64 */
    int batch;      /* 0: the metric's default */
    int channels;   /* 0: the space's default */
    int cells;      /* 0: the space's default */
    int ss;         /* NAS-Bench-1shot1 search space; 0: default */
    int synflow_zc; /* SynFlow form: 0 the space's default (nb201: FD's literal form; darts,
                       nb1shot1: BN removed, |alpha|); 1 BN removed; -1 FD's literal form */
} test_search_case;

/* the search config of the case with `seed` and images from `data` */
void test_search_case_config(const test_search_case *k, const char *data, uint64_t seed,
                             fn_search_config *c);
/* search_run of the case with `seed` and images from `data`; returns res->status */
fn_status test_search_case_run(const test_search_case *k, const char *data, uint64_t seed,
                               fn_search_result *res);

/* Every space and metric, float32 and float64, small: the cases of the bundle tests. */
extern const test_search_case test_bundle_cases[];
extern const int test_bundle_ncases;
/* 1 when two results are the same bit for bit: status, score matrix, value, max |S|,
 * architecture and degeneracy flag. */
int test_search_same(const fn_search_result *a, const fn_search_result *b);
/* Bundle parity (test_bundle.c on the CPU, test_gpu_bundle.c on a GPU): for each case, k
 * searches on `dev` (seeds 7, 10, 13, ...) run alone on 2 threads are the references; bundles
 * of the k on each of threads[0 .. nthreads) must give every search its reference bit for
 * bit and leave the thread count at 2 (CHECKs). Prints a line per case. */
void test_bundle_parity(const test_search_case *cases, int ncases, int k, const int *threads,
                        int nthreads, fn_device dev, const char *data, search_bundle *b);

/* max |a - b| over the score matrix, relative to max |S| of a */
double test_score_diff(const fn_search_result *a, const fn_search_result *b);
/* Stacked parity (test_stacked.c on the CPU, test_gpu_stacked.c on a GPU): for each case,
 * 3 searches on `dev` (seeds 7, 10, 13; the third at alpha scale 2e-3) run alone are the
 * references; stacked into one executor (search_run_stacked), each must pick its reference's
 * architecture with scores and value within 1e-10 of max |S| in float64, 1e-3 in float32
 * (FD's DARTS SynFlow, whose scores are rounding noise: flagged degenerate as alone). CHECKs;
 * prints a line per case with how many matched bit for bit. */
void test_stacked_parity(const test_search_case *cases, int ncases, const char *data,
                         fn_device dev);

/* The small supernets of the reference tensors (../shared/ref/{nb201,darts}_tiny.bin) and
 * the gradient tests: NB201 C = 4, one cell per stage, 10 classes, 8x8 images; DARTS C = 4,
 * 5 cells, 10 classes, 8x8 images; at `batch`. Exits with a message if the DARTS build fails. */
void test_small_supernet(fn_graph *g, int darts, int batch);
/* A CPU executor of such a supernet with d input (and d params when asked), parameters drawn
 * with seed 5 and alpha = 0.3 N(0,1) with seed 9: the gradient tests' common setup. Returns
 * 0, or -1 with a message. */
int test_small_exec(fn_exec *e, const fn_graph *g, fn_dtype dt, int param_grads);
/* An input for such a supernet, test_rand draws from `seed`; free() it. */
double *test_small_input(const fn_graph *g, unsigned seed);
/* NaN in every slot of e's activation and gradient arenas, then the input x. */
void test_small_poison(fn_exec *e, const double *x);
/* On poisoned arenas, forward and backward (cross entropy against labels, one per image)
 * with BN in `mode`; out = [logits, d alpha, d params (when e has them), d input]; returns
 * its length. */
size_t test_small_pass(fn_exec *e, fn_bn_mode mode, const double *x, const int *labels,
                       double *out);

#endif
