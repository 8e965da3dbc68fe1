/*
 * dotf32_simd: dotf32.c with wasm_simd128.h intrinsics (built with -msimd128): one f32x4
 * accumulator whose lane j sums elements j, j + 4, ..., then (l0 + l1) + (l2 + l3). The
 * same operations in the same order as the scalar twin, so the same checksum.
 *
 * run(n) -> i64: a hash of the raw bits of every product.
 */
#include "common.h"

#include <wasm_simd128.h>

#define LEN 4096

static float a[LEN];
static float b[LEN];

static uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

EXPORT_RUN int64_t dotf32_simd_run(int32_t n) {
    uint64_t seed = 0xD07F32ULL;
    for (int32_t i = 0; i < LEN; i++) {
        a[i] = (float)rng_unit(&seed);
        b[i] = (float)rng_unit(&seed);
    }
    uint64_t h = 0;
    for (int32_t r = 0; r < n; r++) {
        v128_t acc = wasm_f32x4_splat(0.0f);
        for (int32_t i = 0; i < LEN; i += 4) {
            v128_t x = wasm_v128_load(&a[i]);
            v128_t y = wasm_v128_load(&b[i]);
            acc = wasm_f32x4_add(acc, wasm_f32x4_mul(x, y));
        }
        float s = (wasm_f32x4_extract_lane(acc, 0) + wasm_f32x4_extract_lane(acc, 1)) +
                  (wasm_f32x4_extract_lane(acc, 2) + wasm_f32x4_extract_lane(acc, 3));
        h = mix64(h, f32_bits(s));
        b[r & (LEN - 1)] += 0.5f;
    }
    return (int64_t)h;
}
