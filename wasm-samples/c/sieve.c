/*
 * sieve: sieve of Eratosthenes over a byte array of n + 1 entries
 * (n <= 16 Mi). Stresses memory: strided byte stores over a buffer much larger
 * than the caches, then a sequential scan.
 *
 * run(n) -> i64: the sum of all primes <= n.
 */
#include "common.h"

#define MAX_N (16 * 1024 * 1024)

static uint8_t composite[MAX_N + 1];

EXPORT_RUN int64_t sieve_run(int32_t n) {
    if (n < 2) return 0;
    if (n > MAX_N) n = MAX_N;
    memset(composite, 0, (size_t)n + 1);
    for (uint32_t i = 2; (uint64_t)i * i <= (uint32_t)n; i++) {
        if (composite[i]) continue;
        for (uint32_t j = i * i; j <= (uint32_t)n; j += i) composite[j] = 1;
    }
    uint64_t sum = 0;
    for (uint32_t i = 2; i <= (uint32_t)n; i++)
        if (!composite[i]) sum += i;
    return (int64_t)sum;
}
