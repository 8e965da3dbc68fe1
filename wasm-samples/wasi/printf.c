/* printf of integers and floats (formatting is done by the C library in both builds). */
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>

int main(void) {
    printf("int: %d %d %d %d\n", 0, 42, -17, INT_MAX);
    printf("int min: %d\n", INT_MIN);
    printf("unsigned: %u %x %X %o\n", 4000000000u, 0xdeadbeefu, 0xcafeu, 8u);
    printf("i64: %" PRId64 " %" PRIu64 " %" PRIx64 "\n", (int64_t)-9000000000000000000LL,
           (uint64_t)18000000000000000000ULL, (uint64_t)0x0123456789abcdefULL);
    printf("padded: [%5d] [%-5d] [%05d] [%+d]\n", 42, 42, 42, 42);
    printf("double: %f %.2f %.10f %e %g %g\n", 3.14159265358979, 2.5, 1.0 / 3.0, 6.02214076e23,
           0.0001, 1e100);
    printf("float: %f %.3f\n", (double)1.1f, (double)-0.0f);
    printf("special: %f %f %f\n", 1.0 / 0.0, -1.0 / 0.0, 0.0 / 0.0 * 0.0);
    printf("round: %.0f %.0f %.1f\n", 0.5, 1.5, 0.05);
    printf("string: [%s] [%10s] [%-10s] [%.3s] char: %c\n", "abc", "right", "left", "truncate", 'Z');
    double acc = 0;
    for (int i = 1; i <= 100; i++) acc += 1.0 / (i * i);
    printf("sum 1/i^2: %.15f\n", acc);
    return 0;
}
