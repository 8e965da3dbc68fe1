/*
 * Shared helpers for the BareFlow C sample kernels.
 *
 * Every kernel is one translation unit that defines `<name>_run(int32_t n)`.
 * Built for wasm32 (no libc), the function is exported as `run`; built natively
 * (bench/native/driver.c) it keeps its `<name>_run` symbol so all kernels link
 * into one driver. Kernels rebuild all of their state on every call so that
 * repeated calls return the same checksum.
 */
#ifndef BAREFLOW_SAMPLES_COMMON_H
#define BAREFLOW_SAMPLES_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __wasm__
#define EXPORT_RUN __attribute__((export_name("run"), visibility("default")))
#else
#define EXPORT_RUN
#endif

/* Provided by libc natively and by libc.c in the wasm build. */
void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);

/* xorshift64*: small, fast, deterministic; the seed must be nonzero. */
static inline uint64_t rng_next(uint64_t *state) {
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* Uniform double in [-1, 1) built from the top 53 bits (exact, no libm). */
static inline double rng_unit(uint64_t *state) {
    return (double)(rng_next(state) >> 11) * (1.0 / 4503599627370496.0) - 1.0;
}

/* Raw IEEE-754 bits of a double: checksums hash bits, so they are exact. */
static inline uint64_t f64_bits(double d) {
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

/* Order-dependent 64-bit mixing used to fold many values into one checksum. */
static inline uint64_t mix64(uint64_t h, uint64_t v) {
    h ^= v + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2);
    return h;
}

#endif
