/* A long computation: sieve, an LCG-driven sort and a hash, printing checksums. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 400000

static uint32_t lcg(uint32_t *s) {
    *s = *s * 1664525u + 1013904223u;
    return *s;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

int main(void) {
    unsigned char *sieve = calloc(N + 1, 1);
    uint64_t primes = 0, psum = 0;
    for (uint32_t i = 2; i <= N; i++) {
        if (!sieve[i]) {
            primes++;
            psum += i;
            for (uint64_t j = (uint64_t)i * i; j <= N; j += i) sieve[j] = 1;
        }
    }
    printf("primes below %d: %llu, sum %llu\n", N, (unsigned long long)primes,
           (unsigned long long)psum);

    uint32_t seed = 12345;
    uint32_t *v = malloc(50000 * sizeof *v);
    for (int i = 0; i < 50000; i++) v[i] = lcg(&seed);
    qsort(v, 50000, sizeof *v, cmp_u32);
    uint64_t h = 1469598103934665603ULL;
    for (int i = 0; i < 50000; i += 7) h = (h ^ v[i]) * 1099511628211ULL;
    printf("sorted sample hash: %016llx\n", (unsigned long long)h);

    double x = 0;
    for (int i = 1; i < 400000; i++) x += (i % 2 ? 4.0 : -4.0) / (2 * i - 1);
    printf("pi approx: %.9f\n", x);

    uint32_t crc = 0xffffffffu;
    for (int i = 0; i < 100000; i++) {
        crc ^= (uint32_t)(i & 0xff);
        for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
    }
    printf("crc: %08x\n", crc ^ 0xffffffffu);
    free(sieve);
    free(v);
    return 0;
}
