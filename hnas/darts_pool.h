/* hnas/darts_pool.h: HNAS's DARTS candidate pool (docs/METHOD.md §4.3) and the M and kappa of
 * each of its genotypes, both cached in a directory.
 *
 * Genotype i of the pool of seed s is a pure function of (s, width, i): a random matrix of
 * 28 rows (14 normal edges, then 14 reduction edges) and `width` columns of standard normal
 * draws (nn/rng.h, stream HNAS_DPOOL_STREAM, draw i * 28 * width + row * width + col), a
 * softmax over each row, and the §2.4 rule (darts_derive: per node the two edges with the
 * largest non-`none` weight, on each the largest non-`none` operation). width 8 (the
 * default) samples every primitive; width 7 is HNAS's quirk (its matrices are 7 wide for 8
 * primitives, so dil_conv_5x5 is never drawn; §6 item 11). A pool of n is the first n
 * genotypes of any larger pool of the same seed and width.
 *
 * M and kappa (§4.1, proxies/proxy.h proxy_ntk_graph) of genotype i: the DARTS evaluation
 * net of the genotype (train/train_net.h, C = 16, 5 cells, no auxiliary head, no drop-path)
 * in train mode, weights exec_init_params(proxy_hnas_seed(s, i)), one fixed batch for the
 * whole pool (hnas_dpool_batch: `batch` images of the training split drawn under s, no
 * augmentation), float32 by default.
 *
 * Caches (in the output directory):
 *   pool_s<S>_n<N>_w<W>.bin        the genotypes: "FNDPOOL1", seed, n, width, 32 bytes per
 *                                  genotype, an FNV-1a checksum of all before it. Written to a
 *                                  temporary file, synced, renamed; one that is short, of other
 *                                  parameters or with a wrong checksum is rebuilt.
 *   <pool stem>_C<C>_L<L>_b<B>_m<images>.tsv   "index<TAB>M<TAB>kappa" lines (%.17g), appended
 *                                  as genotypes are scored (any order); a torn last line is cut
 *                                  off on load, a line that does not parse is an error. */
#ifndef FN_HNAS_DARTS_POOL_H
#define FN_HNAS_DARTS_POOL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/exec.h"
#include "spaces/darts.h"
#include "train/data.h"

#define HNAS_DPOOL_STREAM 0x70000010u
#define HNAS_DPOOL_MAX (1L << 24)

typedef struct {
    uint64_t seed;
    long n;
    int width;            /* 8, or 7 (HNAS's quirk) */
    darts_genotype *gt;   /* [n] */
    double *M, *kappa;    /* [n], NaN until known */
    long have;            /* genotypes whose M and kappa are known */
} hnas_dpool;

/* Genotype i (pure function of seed, width, i). width must be 7 or 8. */
void hnas_dpool_genotype(uint64_t seed, int width, long i, darts_genotype *gt);

/* The pool of (seed, n, width): read from dir's cache when it is whole, else generated and
 * written there (dir NULL: generated, nothing written). *built = 1 when it was generated.
 * 0, or -1 with a message (bad parameters, an unwritable directory). */
int hnas_dpool_open(hnas_dpool *p, const char *dir, uint64_t seed, long n, int width,
                    int *built, char *err, size_t errlen);
/* A pool from genotypes already at hand (a copy; the ranks that receive rank 0's pool). */
void hnas_dpool_from(hnas_dpool *p, uint64_t seed, long n, int width, const darts_genotype *gt);
void hnas_dpool_free(hnas_dpool *p);

/* The metric cache's file name for this pool and evaluation net. */
void hnas_dpool_metrics_path(const hnas_dpool *p, const char *dir, int C, int layers, int batch,
                             int images, char *out, size_t len);
/* Reads the metric cache (a missing file is an empty cache): M and kappa of the indices it
 * holds; a torn last line is cut off (the file truncated to its last whole line). 0, or -1 with
 * "FILE:LINE: why". */
int hnas_dpool_metrics_load(hnas_dpool *p, const char *path, char *err, size_t errlen);
/* One line to an open cache file (the caller flushes / syncs). */
void hnas_dpool_metrics_write(FILE *f, long i, double M, double kappa);

/* The fixed batch: `batch` records of the training split [train0, train0 + n_train) of d,
 * drawn without repeats under seed, without augmentation. x [batch, c, h, w] float32, y
 * [batch]; free both. 0, or -1 with a message (batch > n_train). */
int hnas_dpool_batch(const train_data *d, int train0, int n_train, int batch, uint64_t seed,
                     float **x, int **y, char *err, size_t errlen);

/* The seeds of genotype i under the search seed: its M / kappa weights (proxy_hnas_seed(seed,
 * i)) and its training (weights, shuffling, drop-path masks): functions of (seed, i) only, so a
 * genotype gets the same values whichever step, rank or order evaluates it. */
uint64_t hnas_dpool_weight_seed(uint64_t seed, long i);
uint64_t hnas_dpool_train_seed(uint64_t seed, long i);

/* M and kappa of one genotype's evaluation net (C, layers; classes and size of the batch)
 * with weights exec_init_params(wseed), batch x / y of n images [n, 3, h, w], precision dt.
 * theta (n * n) receives the Gram matrix when not NULL. 0, or -1 with a message. */
int hnas_darts_ntk(const darts_genotype *gt, int C, int layers, int classes, int h, int w,
                   const float *x, const int *y, int n, uint64_t wseed, fn_dtype dt, double *M,
                   double *kappa, double *theta, char *err, size_t errlen);

#endif
