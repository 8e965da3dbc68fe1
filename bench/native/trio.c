/*
 * Native counterparts of wasm-samples/{fibonacci,sum_to_n,multiply}.wat.
 *
 * clang would replace the two loops by a closed form (n(n+1)/2, a * b), which
 * would time nothing; an empty asm statement that "modifies" the accumulator
 * keeps one loop iteration per term, as in the wasm, while still letting the
 * compiler allocate registers and schedule freely.
 */
#include <stdint.h>

int32_t trio_fib(int32_t n) {
    if (n < 2) return n;
    return (int32_t)((uint32_t)trio_fib(n - 1) + (uint32_t)trio_fib(n - 2));
}

int64_t trio_sum_to_n(int32_t n) {
    uint64_t acc = 0;
    for (int32_t i = 1; i <= n; i++) {
        acc += (uint64_t)(int64_t)i;
        __asm__ volatile("" : "+r"(acc));
    }
    return (int64_t)acc;
}

int32_t trio_multiply(int32_t a, int32_t b) {
    uint32_t acc = 0;
    for (; b > 0; b--) {
        acc += (uint32_t)a;
        __asm__ volatile("" : "+r"(acc));
    }
    return (int32_t)acc;
}
