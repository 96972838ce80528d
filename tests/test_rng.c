/* tests/test_rng.c: the counter-based generator (nn/rng.h).
 * A. Philox4x32-10 against the known-answer vectors of its authors (Random123 kat_vectors:
 *    zero, all-ones and pi-digit counters and keys).
 * B. fn_rng_uniform_fill equals fn_rng_uniform element by element, bit for bit, for starts
 *    and lengths that are and are not multiples of its lane count and of its 4-block groups,
 *    across the 2^32 counter carry (in a group's first and later blocks), for several streams
 *    and seeds: itself and each of its forms (portable, AVX2, AVX-512) this CPU runs.
 * C. Uniforms lie in [0, 1) with mean 1/2 and variance 1/12 within 5 standard errors. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nn/rng.h"
#include "tests/test_util.h"

static void kat(void) {
    static const struct { uint32_t ctr[4], key[2], out[4]; } v[] = {
        {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}},
        {{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}, {0xffffffffu, 0xffffffffu},
         {0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}},
        {{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}, {0xa4093822u, 0x299f31d0u},
         {0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}},
    };
    for (int t = 0; t < 3; t++) {
        const uint64_t key = (uint64_t)v[t].key[0] | (uint64_t)v[t].key[1] << 32;
        fn_philox_out o = fn_philox4x32(key, v[t].ctr[0], v[t].ctr[1], v[t].ctr[2], v[t].ctr[3]);
        for (int k = 0; k < 4; k++)
            CHECKF(o.v[k] == v[t].out[k], "vector %d word %d: %08x, expected %08x", t, k, o.v[k],
                   v[t].out[k]);
    }
    printf("Philox4x32-10 known-answer vectors: %s\n", test_failures ? "WRONG" : "3 of 3 match");
}

static void fill(void) {
    static const uint64_t starts[] = {0, 1, 15, 16, 17, 1000, 0xfffffff0ull, 0xffffffffull,
                                      0xffffffc3ull, (1ull << 40) + 3};
    static const size_t lens[] = {0, 1, 15, 16, 17, 31, 33, 64, 65, 2048, 5000};
    double *a = malloc(sizeof(double) * 5000);
    int bad = 0, n_cases = 0, paths = 0;
    /* path -1: fn_rng_uniform_fill itself; 0..: each form this CPU runs */
    for (int path = -1; path < FN_RNG_PATHS; path++)
    for (int s = 0; s < (int)(sizeof starts / sizeof *starts); s++)
        for (int l = 0; l < (int)(sizeof lens / sizeof *lens); l++)
            for (uint64_t seed = 0; seed < 3; seed++) {
                const uint64_t sd = seed * 0x9e3779b97f4a7c15ull;
                const uint32_t stream = (uint32_t)(seed * 7 + (uint64_t)l);
                if (path < 0) fn_rng_uniform_fill(sd, stream, starts[s], lens[l], a);
                else if (fn_rng_uniform_fill_path(path, sd, stream, starts[s], lens[l], a)) continue;
                paths |= 1 << (path + 1);
                n_cases++;
                for (size_t i = 0; i < lens[l]; i++) {
                    const double b = fn_rng_uniform(sd, stream, starts[s] + i);
                    if (memcmp(&a[i], &b, sizeof b)) {
                        if (!bad)
                            fprintf(stderr, "start %llu len %zu i %zu: %.17g vs %.17g\n",
                                    (unsigned long long)starts[s], lens[l], i, a[i], b);
                        bad++;
                    }
                }
            }
    CHECKF(bad == 0, "%d draws of fn_rng_uniform_fill differ from fn_rng_uniform", bad);
    CHECKF(paths & 2, "the portable form must always run");
    printf("fn_rng_uniform_fill: %d start/length/seed cases bit-identical to fn_rng_uniform "
           "(forms run: portable%s%s)\n", n_cases, paths & 4 ? ", AVX2" : "",
           paths & 8 ? ", AVX-512" : "");
    free(a);
}

static void moments(void) {
    enum { N = 1 << 20 };
    double *u = malloc(sizeof(double) * N), m = 0, v = 0, lo = 1, hi = 0;
    fn_rng_uniform_fill(42, 3, 0, N, u);
    for (int i = 0; i < N; i++) m += u[i], lo = fmin(lo, u[i]), hi = fmax(hi, u[i]);
    m /= N;
    for (int i = 0; i < N; i++) v += (u[i] - m) * (u[i] - m);
    v /= N - 1;
    CHECK(lo >= 0 && hi < 1);
    CHECKF(fabs(m - 0.5) < 5 * sqrt(1.0 / 12 / N), "mean %.6f", m);
    CHECKF(fabs(v - 1.0 / 12) < 5 * sqrt(1.0 / 180 / N), "variance %.6f", v); /* var of (u-1/2)^2 */
    printf("2^20 uniforms: mean %.6f, variance %.6f (1/12 = %.6f), in [%.2e, 1 - %.2e]\n", m, v,
           1.0 / 12, lo, 1 - hi);
    free(u);
}

int main(void) {
    kat();
    fill();
    moments();
    return test_summary("test_rng");
}
