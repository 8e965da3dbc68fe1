/*
 * Native driver for the BareFlow benchmark: runs one sample kernel, compiled
 * natively with `clang -O2` from the same C sources as the wasm builds (or
 * from trio.c for the three .wat samples), and prints its checksum and the
 * wall-clock time of each repetition.
 *
 * usage: driver <sample> <reps> <arg>...
 * output: "checksum <signed decimal>" then "ns <t1> <t2> ..." (one per rep).
 * Every repetition must produce the same checksum; the driver exits with
 * status 1 if one differs.
 */
#define _POSIX_C_SOURCE 199309L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t sha256_run(int32_t n);
int32_t crc32_run(int32_t n);
int64_t matmul_run(int32_t n);
int64_t nbody_run(int32_t n);
int64_t sieve_run(int32_t n);
int64_t quicksort_run(int32_t n);
int64_t minivm_run(int32_t n);
int64_t dotf32_run(int32_t n);
int32_t trio_fib(int32_t n);
int64_t trio_sum_to_n(int32_t n);
int32_t trio_multiply(int32_t a, int32_t b);

enum kind { UNARY_I64, UNARY_I32, BINARY_I32 };

struct sample {
    const char *name;
    enum kind kind;
    void *fn;
};

static const struct sample samples[] = {
    {"sha256", UNARY_I64, (void *)sha256_run},
    {"crc32", UNARY_I32, (void *)crc32_run},
    {"matmul", UNARY_I64, (void *)matmul_run},
    {"nbody", UNARY_I64, (void *)nbody_run},
    {"sieve", UNARY_I64, (void *)sieve_run},
    {"quicksort", UNARY_I64, (void *)quicksort_run},
    {"minivm", UNARY_I64, (void *)minivm_run},
    /* The SIMD kernel's native reference is its scalar twin (same operations, same order,
     * same checksum): wasm_simd128.h does not compile natively. */
    {"dotf32", UNARY_I64, (void *)dotf32_run},
    {"dotf32_simd", UNARY_I64, (void *)dotf32_run},
    {"fibonacci", UNARY_I32, (void *)trio_fib},
    {"sum_to_n", UNARY_I64, (void *)trio_sum_to_n},
    {"multiply", BINARY_I32, (void *)trio_multiply},
};

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t call(const struct sample *s, const int32_t *args) {
    switch (s->kind) {
    case UNARY_I64: return ((int64_t(*)(int32_t))s->fn)(args[0]);
    case UNARY_I32: return ((int32_t(*)(int32_t))s->fn)(args[0]);
    case BINARY_I32: return ((int32_t(*)(int32_t, int32_t))s->fn)(args[0], args[1]);
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s <sample> <reps> <arg>...\n", argv[0]);
        return 2;
    }
    const struct sample *s = NULL;
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++)
        if (strcmp(samples[i].name, argv[1]) == 0) s = &samples[i];
    if (!s) {
        fprintf(stderr, "unknown sample %s\n", argv[1]);
        return 2;
    }
    int reps = atoi(argv[2]);
    int nargs = s->kind == BINARY_I32 ? 2 : 1;
    if (reps < 1 || argc != 3 + nargs) {
        fprintf(stderr, "%s takes %d argument(s) and reps >= 1\n", s->name, nargs);
        return 2;
    }
    int32_t args[2];
    for (int i = 0; i < nargs; i++) args[i] = (int32_t)strtol(argv[3 + i], NULL, 10);

    int64_t *times = malloc(sizeof(int64_t) * (size_t)reps);
    int64_t first = 0;
    for (int r = 0; r < reps; r++) {
        int64_t t0 = now_ns();
        int64_t sum = call(s, args);
        times[r] = now_ns() - t0;
        if (r == 0) first = sum;
        else if (sum != first) {
            fprintf(stderr, "%s: checksum changed between repetitions\n", s->name);
            return 1;
        }
    }
    printf("checksum %lld\nns", (long long)first);
    for (int r = 0; r < reps; r++) printf(" %lld", (long long)times[r]);
    printf("\n");
    free(times);
    return 0;
}
