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

/* Blocks of 16 counters side by side, each lane the same arithmetic as fn_philox4x32
 * (counter (i, i >> 32, stream, 0)) and u53, so the values are the scalar ones bit for bit:
 * the integer rounds are exact, and u53's (hi >> 5) 2^26 + (lo >> 6) is formed as
 * (hi >> 5) 2^-27 + (lo >> 6) 2^-53, two exact terms whose sum has 53 bits (exact too).
 * Three forms of a block: portable lane loops (the compiler vectorises them as it can),
 * AVX2 and AVX-512 intrinsics (chosen at run time: fn_rng_uniform_fill_path). A block whose
 * low counter word would carry takes the portable form. */
#define FN_RNG_LANES 16

static inline __attribute__((always_inline)) void block_portable(uint32_t key0, uint32_t key1,
                                                                uint32_t stream, uint64_t i0,
                                                                double *out) {
    uint32_t x0[FN_RNG_LANES], x1[FN_RNG_LANES], x2[FN_RNG_LANES], x3[FN_RNG_LANES];
    for (int l = 0; l < FN_RNG_LANES; l++) {
        const uint64_t i = i0 + (uint64_t)l;
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
    for (int l = 0; l < FN_RNG_LANES; l++) out[l] = u53(x0[l], x1[l]);
}

/* the low counter word of elements i0 .. i0 + 15 carries into the high one */
static int block_carries(uint64_t i0) { return (uint32_t)i0 > 0xFFFFFFFFu - (FN_RNG_LANES - 1); }

static void blocks_portable(uint32_t key0, uint32_t key1, uint32_t stream, uint64_t i0,
                            size_t nb, double *out) {
    for (size_t b = 0; b < nb; b++)
        block_portable(key0, key1, stream, i0 + FN_RNG_LANES * b, out + FN_RNG_LANES * b);
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

/* 32 x 32 -> 64-bit products of the 8 lanes of x with m: low and high words, lane order */
__attribute__((target("avx2"))) static inline void mul_hilo_avx2(__m256i x, __m256i m,
                                                                  __m256i *lo, __m256i *hi) {
    const __m256i pe = _mm256_mul_epu32(x, m), po = _mm256_mul_epu32(_mm256_shuffle_epi32(x, 0xB1), m);
    *lo = _mm256_blend_epi32(pe, _mm256_shuffle_epi32(po, 0xB1), 0xAA);
    *hi = _mm256_blend_epi32(_mm256_shuffle_epi32(pe, 0xB1), po, 0xAA);
}

__attribute__((target("avx2"))) static void blocks_avx2(uint32_t key0, uint32_t key1,
                                                         uint32_t stream, uint64_t i0, size_t nb,
                                                         double *out) {
    const __m256i m0 = _mm256_set1_epi32((int)PHILOX_M0), m1 = _mm256_set1_epi32((int)PHILOX_M1);
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256d s27 = _mm256_set1_pd(1.0 / 134217728.0), s53 = _mm256_set1_pd(1.0 / 9007199254740992.0);
    for (size_t b = 0; b < nb; b++) {
        const uint64_t base = i0 + FN_RNG_LANES * b;
        double *o = out + FN_RNG_LANES * b;
        if (block_carries(base)) {
            block_portable(key0, key1, stream, base, o);
            continue;
        }
        __m256i x0[2], x1[2], x2[2], x3[2];
        for (int h = 0; h < 2; h++) {
            x0[h] = _mm256_add_epi32(_mm256_set1_epi32((int)((uint32_t)base + 8u * (uint32_t)h)), iota);
            x1[h] = _mm256_set1_epi32((int)(uint32_t)(base >> 32));
            x2[h] = _mm256_set1_epi32((int)stream);
            x3[h] = _mm256_setzero_si256();
        }
        uint32_t k0 = key0, k1 = key1;
        for (int r = 0; r < 10; r++) {
            const __m256i vk0 = _mm256_set1_epi32((int)k0), vk1 = _mm256_set1_epi32((int)k1);
            for (int h = 0; h < 2; h++) {
                __m256i lo0, hi0, lo1, hi1;
                mul_hilo_avx2(x0[h], m0, &lo0, &hi0);
                mul_hilo_avx2(x2[h], m1, &lo1, &hi1);
                x0[h] = _mm256_xor_si256(_mm256_xor_si256(hi1, x1[h]), vk0);
                x2[h] = _mm256_xor_si256(_mm256_xor_si256(hi0, x3[h]), vk1);
                x1[h] = lo1;
                x3[h] = lo0;
            }
            k0 += PHILOX_W0;
            k1 += PHILOX_W1;
        }
        for (int h = 0; h < 2; h++) {
            const __m256i hi = _mm256_srli_epi32(x0[h], 5), lo = _mm256_srli_epi32(x1[h], 6);
            for (int q = 0; q < 2; q++) { /* < 2^27: exact as signed int32 */
                const __m128i hq = q ? _mm256_extracti128_si256(hi, 1) : _mm256_castsi256_si128(hi);
                const __m128i lq = q ? _mm256_extracti128_si256(lo, 1) : _mm256_castsi256_si128(lo);
                const __m256d d = _mm256_add_pd(_mm256_mul_pd(_mm256_cvtepi32_pd(hq), s27),
                                                _mm256_mul_pd(_mm256_cvtepi32_pd(lq), s53));
                _mm256_storeu_pd(o + 8 * h + 4 * q, d);
            }
        }
    }
}

/* the same with word swaps (vpshufd, another port than the multiplies and shifts) */
__attribute__((target("avx512f"))) static inline void mul_hilo_avx512(__m512i x, __m512i m,
                                                                      __m512i *lo, __m512i *hi) {
    const __m512i pe = _mm512_mul_epu32(x, m);
    const __m512i po = _mm512_mul_epu32(_mm512_shuffle_epi32(x, _MM_PERM_CDAB), m);
    *lo = _mm512_mask_shuffle_epi32(pe, 0xAAAA, po, _MM_PERM_CDAB);
    *hi = _mm512_mask_shuffle_epi32(po, 0x5555, pe, _MM_PERM_CDAB);
}

/* G blocks at once: their rounds interleave, hiding the multiplies' latency (one block's
 * 10 dependent rounds alone leave the vector units idle most of the time) */
#define FN_RNG_G512 4
__attribute__((target("avx512f"))) static void blocks_avx512(uint32_t key0, uint32_t key1,
                                                             uint32_t stream, uint64_t i0,
                                                             size_t nb, double *out) {
    const __m512i m0 = _mm512_set1_epi32((int)PHILOX_M0), m1 = _mm512_set1_epi32((int)PHILOX_M1);
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512d s27 = _mm512_set1_pd(1.0 / 134217728.0), s53 = _mm512_set1_pd(1.0 / 9007199254740992.0);
    size_t b = 0;
    while (b < nb) {
        const uint64_t base = i0 + FN_RNG_LANES * b;
        int g = nb - b < FN_RNG_G512 ? (int)(nb - b) : FN_RNG_G512;
        for (int j = 0; j < g; j++) /* a carrying block goes alone, the portable way */
            if (block_carries(base + FN_RNG_LANES * (uint64_t)j)) g = j;
        if (g == 0) {
            block_portable(key0, key1, stream, base, out + FN_RNG_LANES * b);
            b++;
            continue;
        }
        __m512i x0[FN_RNG_G512], x1[FN_RNG_G512], x2[FN_RNG_G512], x3[FN_RNG_G512];
        for (int j = 0; j < FN_RNG_G512; j++) {
            const uint64_t bj = base + FN_RNG_LANES * (uint64_t)(j < g ? j : 0);
            x0[j] = _mm512_add_epi32(_mm512_set1_epi32((int)(uint32_t)bj), iota);
            x1[j] = _mm512_set1_epi32((int)(uint32_t)(bj >> 32));
            x2[j] = _mm512_set1_epi32((int)stream);
            x3[j] = _mm512_setzero_si512();
        }
        uint32_t k0 = key0, k1 = key1;
        for (int r = 0; r < 10; r++) {
            const __m512i vk0 = _mm512_set1_epi32((int)k0), vk1 = _mm512_set1_epi32((int)k1);
            for (int j = 0; j < FN_RNG_G512; j++) {
                __m512i lo0, hi0, lo1, hi1;
                mul_hilo_avx512(x0[j], m0, &lo0, &hi0);
                mul_hilo_avx512(x2[j], m1, &lo1, &hi1);
                x0[j] = _mm512_ternarylogic_epi32(hi1, x1[j], vk0, 0x96); /* a ^ b ^ c */
                x2[j] = _mm512_ternarylogic_epi32(hi0, x3[j], vk1, 0x96);
                x1[j] = lo1;
                x3[j] = lo0;
            }
            k0 += PHILOX_W0;
            k1 += PHILOX_W1;
        }
        for (int j = 0; j < g; j++) {
            double *o = out + FN_RNG_LANES * (b + (size_t)j);
            const __m512i hi = _mm512_srli_epi32(x0[j], 5), lo = _mm512_srli_epi32(x1[j], 6);
            for (int h = 0; h < 2; h++) {
                const __m256i hh = h ? _mm512_extracti64x4_epi64(hi, 1) : _mm512_castsi512_si256(hi);
                const __m256i lh = h ? _mm512_extracti64x4_epi64(lo, 1) : _mm512_castsi512_si256(lo);
                const __m512d d = _mm512_add_pd(_mm512_mul_pd(_mm512_cvtepu32_pd(hh), s27),
                                                _mm512_mul_pd(_mm512_cvtepu32_pd(lh), s53));
                _mm512_storeu_pd(o + 8 * h, d);
            }
        }
        b += (size_t)g;
    }
}
#endif

typedef void (*blocks_fn)(uint32_t, uint32_t, uint32_t, uint64_t, size_t, double *);

/* the form of path (0 portable, 1 AVX2, 2 AVX-512), or NULL where this CPU lacks it */
static blocks_fn blocks_of(int path) {
#if defined(__x86_64__) && defined(__GNUC__)
    if (path == 2) return __builtin_cpu_supports("avx512f") ? blocks_avx512 : NULL;
    if (path == 1) return __builtin_cpu_supports("avx2") ? blocks_avx2 : NULL;
#endif
    return path == 0 ? blocks_portable : NULL;
}

static void fill_with(blocks_fn f, uint64_t seed, uint32_t stream, uint64_t i0, size_t n,
                      double *out) {
    const size_t nb = n / FN_RNG_LANES, done = nb * FN_RNG_LANES;
    f((uint32_t)seed, (uint32_t)(seed >> 32), stream, i0, nb, out);
    for (size_t i = done; i < n; i++) out[i] = fn_rng_uniform(seed, stream, i0 + i);
}

int fn_rng_uniform_fill_path(int path, uint64_t seed, uint32_t stream, uint64_t i0, size_t n,
                             double *out) {
    const blocks_fn f = blocks_of(path);
    if (!f) return -1;
    fill_with(f, seed, stream, i0, n, out);
    return 0;
}

void fn_rng_uniform_fill(uint64_t seed, uint32_t stream, uint64_t i0, size_t n, double *out) {
    static blocks_fn best; /* the widest form this CPU runs (a benign race: same answer) */
    blocks_fn f = __atomic_load_n(&best, __ATOMIC_RELAXED);
    if (!f) {
        for (int p = FN_RNG_PATHS - 1; p >= 0 && !f; p--) f = blocks_of(p);
        __atomic_store_n(&best, f, __ATOMIC_RELAXED);
    }
    fill_with(f, seed, stream, i0, n, out);
}
