/*
 * matmul: dense f64 matrix product C = A * B for n x n matrices (n <= 512),
 * i-k-j loop order. Stresses f64 multiply/add and sequential f64 loads/stores.
 *
 * run(n) -> i64: a hash of the raw bits of every element of C (exact: the
 * summation order is fixed, no fused multiply-add).
 */
#include "common.h"

#define MAX_N 512

static double a[MAX_N * MAX_N];
static double b[MAX_N * MAX_N];
static double c[MAX_N * MAX_N];

EXPORT_RUN int64_t matmul_run(int32_t n) {
    if (n < 1) return 0;
    if (n > MAX_N) n = MAX_N;
    uint64_t seed = 0x3A73A7ULL;
    for (int32_t i = 0; i < n * n; i++) {
        a[i] = rng_unit(&seed);
        b[i] = rng_unit(&seed);
        c[i] = 0.0;
    }
    for (int32_t i = 0; i < n; i++) {
        double *row = c + i * n;
        for (int32_t k = 0; k < n; k++) {
            double aik = a[i * n + k];
            const double *brow = b + k * n;
            for (int32_t j = 0; j < n; j++) row[j] += aik * brow[j];
        }
    }
    uint64_t h = 0;
    for (int32_t i = 0; i < n * n; i++) h = mix64(h, f64_bits(c[i]));
    return (int64_t)h;
}
