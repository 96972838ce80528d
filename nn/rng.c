/* nn/rng.c: Philox4x32-10 counter-based generator (see nn/rng.h). */
#include "nn/rng.h"

#include <math.h>

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

fn_philox_out fn_philox4x32(uint64_t key, uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3) {
    uint32_t k0 = (uint32_t)key, k1 = (uint32_t)(key >> 32);
    uint32_t x0 = c0, x1 = c1, x2 = c2, x3 = c3;
    for (int r = 0; r < 10; r++) {
        uint64_t p0 = (uint64_t)PHILOX_M0 * x0;
        uint64_t p1 = (uint64_t)PHILOX_M1 * x2;
        uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
        uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
        uint32_t y0 = hi1 ^ x1 ^ k0, y1 = lo1, y2 = hi0 ^ x3 ^ k1, y3 = lo0;
        x0 = y0; x1 = y1; x2 = y2; x3 = y3;
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    fn_philox_out o = {{x0, x1, x2, x3}};
    return o;
}

static double u53(uint32_t hi, uint32_t lo) {
    uint64_t b = ((uint64_t)(hi >> 5) << 26) | (uint64_t)(lo >> 6); /* 27 + 26 = 53 bits */
    return (double)b * (1.0 / 9007199254740992.0);
}

double fn_rng_uniform(uint64_t seed, uint32_t stream, uint64_t i) {
    fn_philox_out o = fn_philox4x32(seed, (uint32_t)i, (uint32_t)(i >> 32), stream, 0u);
    return u53(o.v[0], o.v[1]);
}

double fn_rng_normal(uint64_t seed, uint32_t stream, uint64_t i) {
    fn_philox_out o = fn_philox4x32(seed, (uint32_t)i, (uint32_t)(i >> 32), stream, 1u);
    double u1 = u53(o.v[0], o.v[1]), u2 = u53(o.v[2], o.v[3]);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586476925 * u2);
}

/* Blocks of FN_RNG_LANES counters side by side, each lane the same arithmetic as
 * fn_philox4x32 (counter (i, i >> 32, stream, 0)): the compiler turns the lane loops into
 * vector multiplies (32 x 32 -> 64 bits), so the values are the scalar ones bit for bit. */
#define FN_RNG_LANES 16
void fn_rng_uniform_fill(uint64_t seed, uint32_t stream, uint64_t i0, size_t n, double *out) {
    const uint32_t key0 = (uint32_t)seed, key1 = (uint32_t)(seed >> 32);
    size_t done = 0;
    for (; done + FN_RNG_LANES <= n; done += FN_RNG_LANES) {
        uint32_t x0[FN_RNG_LANES], x1[FN_RNG_LANES], x2[FN_RNG_LANES], x3[FN_RNG_LANES];
        for (int l = 0; l < FN_RNG_LANES; l++) {
            const uint64_t i = i0 + done + (uint64_t)l;
            x0[l] = (uint32_t)i;
            x1[l] = (uint32_t)(i >> 32);
            x2[l] = stream;
            x3[l] = 0u;
        }
        uint32_t k0 = key0, k1 = key1;
        for (int r = 0; r < 10; r++) {
            for (int l = 0; l < FN_RNG_LANES; l++) {
                const uint64_t p0 = (uint64_t)PHILOX_M0 * x0[l];
                const uint64_t p1 = (uint64_t)PHILOX_M1 * x2[l];
                const uint32_t y0 = (uint32_t)(p1 >> 32) ^ x1[l] ^ k0, y1 = (uint32_t)p1;
                const uint32_t y2 = (uint32_t)(p0 >> 32) ^ x3[l] ^ k1, y3 = (uint32_t)p0;
                x0[l] = y0, x1[l] = y1, x2[l] = y2, x3[l] = y3;
            }
            k0 += PHILOX_W0;
            k1 += PHILOX_W1;
        }
        for (int l = 0; l < FN_RNG_LANES; l++) out[done + (size_t)l] = u53(x0[l], x1[l]);
    }
    for (; done < n; done++) out[done] = fn_rng_uniform(seed, stream, i0 + done);
}
