/*
 * dotf32: f32 dot products of two 4096-element vectors, n times (the scalar twin of
 * dotf32_simd.c). Four interleaved partial sums (lane j sums elements j, j + 4, ...), then
 * (s0 + s1) + (s2 + s3): exactly the order the SIMD version's f32x4 lanes use, so both
 * return the same checksum. Between products one element of b changes, so every product
 * is different.
 *
 * run(n) -> i64: a hash of the raw bits of every product.
 */
#include "common.h"

#define LEN 4096

static float a[LEN];
static float b[LEN];

static uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

EXPORT_RUN int64_t dotf32_run(int32_t n) {
    uint64_t seed = 0xD07F32ULL;
    for (int32_t i = 0; i < LEN; i++) {
        a[i] = (float)rng_unit(&seed);
        b[i] = (float)rng_unit(&seed);
    }
    uint64_t h = 0;
    for (int32_t r = 0; r < n; r++) {
        float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
        for (int32_t i = 0; i < LEN; i += 4) {
            s0 += a[i] * b[i];
            s1 += a[i + 1] * b[i + 1];
            s2 += a[i + 2] * b[i + 2];
            s3 += a[i + 3] * b[i + 3];
        }
        float s = (s0 + s1) + (s2 + s3);
        h = mix64(h, f32_bits(s));
        b[r & (LEN - 1)] += 0.5f;
    }
    return (int64_t)h;
}
