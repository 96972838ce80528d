/* nn/rng.h: counter-based random numbers (Philox4x32-10, Salmon et al. SC'11).
 *
 * A draw is a pure function of (key, counter): the key is the search seed, the counter holds
 * a stream id (one per parameter tensor or data purpose) and an element index. So every weight
 * is the same whatever order, thread or device generates it, and a GPU can reproduce the host
 * stream bit for bit. Uniforms take the top 24 (float) or 53 (double) bits; normals use
 * Box-Muller on two consecutive uniforms of one 4-word block. */
#ifndef FN_RNG_H
#define FN_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct { uint32_t v[4]; } fn_philox_out;

/* One Philox4x32-10 block for key (2 words) and counter (4 words). */
fn_philox_out fn_philox4x32(uint64_t key, uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3);

/* Uniform double in [0, 1) for element i of stream `stream` under `seed`. */
double fn_rng_uniform(uint64_t seed, uint32_t stream, uint64_t i);
/* out[k] = fn_rng_uniform(seed, stream, i0 + k) for k < n, bit for bit, several times
 * faster: 16 counters side by side, in the widest form this CPU runs (AVX-512, AVX2, or
 * portable lane loops). */
void fn_rng_uniform_fill(uint64_t seed, uint32_t stream, uint64_t i0, size_t n, double *out);
/* The same in one form: path 0 portable, 1 AVX2, 2 AVX-512; -1 (nothing written) where this
 * CPU lacks it. For tests and benchmarks. */
#define FN_RNG_PATHS 3
int fn_rng_uniform_fill_path(int path, uint64_t seed, uint32_t stream, uint64_t i0, size_t n,
                             double *out);
/* Standard normal for element i of stream `stream` under `seed`. */
double fn_rng_normal(uint64_t seed, uint32_t stream, uint64_t i);

/* Stream ids reserved for purposes other than parameter tensors (which use their index). */
enum {
    FN_STREAM_ALPHA = 0x40000000u, /* architecture parameters, + group index */
    FN_STREAM_DATA = 0x50000000u,  /* batch sampling and augmentation */
    FN_STREAM_BO = 0x60000000u,    /* Bayesian optimisation (bo/bo_rng.h), + purpose */
};

#endif
