/*
 * quicksort: sorts n pseudo-random i32 values (n <= 4 Mi) with a recursive
 * quicksort (median-of-three pivot, Hoare partition, insertion sort below 16
 * elements, recursion on the smaller half). Stresses unpredictable branches,
 * i32 loads/stores and calls.
 *
 * run(n) -> i64: sum over i of a[i] * (i + 1) (wrapping), or -1 if the result
 * is not sorted.
 */
#include "common.h"

#define MAX_N (4 * 1024 * 1024)

static int32_t values[MAX_N];

static void insertion_sort(int32_t *a, int32_t lo, int32_t hi) {
    for (int32_t i = lo + 1; i <= hi; i++) {
        int32_t v = a[i];
        int32_t j = i - 1;
        while (j >= lo && a[j] > v) {
            a[j + 1] = a[j];
            j--;
        }
        a[j + 1] = v;
    }
}

static inline void swap(int32_t *a, int32_t i, int32_t j) {
    int32_t t = a[i];
    a[i] = a[j];
    a[j] = t;
}

static void quicksort(int32_t *a, int32_t lo, int32_t hi) {
    while (hi - lo >= 16) {
        int32_t mid = lo + (hi - lo) / 2;
        if (a[mid] < a[lo]) swap(a, mid, lo);
        if (a[hi] < a[lo]) swap(a, hi, lo);
        if (a[hi] < a[mid]) swap(a, hi, mid);
        int32_t pivot = a[mid];
        int32_t i = lo - 1, j = hi + 1;
        for (;;) {
            do i++; while (a[i] < pivot);
            do j--; while (a[j] > pivot);
            if (i >= j) break;
            swap(a, i, j);
        }
        /* [lo, j] and [j + 1, hi]: recurse on the smaller, loop on the larger. */
        if (j - lo < hi - j) {
            quicksort(a, lo, j);
            lo = j + 1;
        } else {
            quicksort(a, j + 1, hi);
            hi = j;
        }
    }
    insertion_sort(a, lo, hi);
}

EXPORT_RUN int64_t quicksort_run(int32_t n) {
    if (n < 1) return 0;
    if (n > MAX_N) n = MAX_N;
    uint64_t seed = 0x50127ULL;
    for (int32_t i = 0; i < n; i++) values[i] = (int32_t)(rng_next(&seed) >> 32);
    quicksort(values, 0, n - 1);
    uint64_t sum = 0;
    for (int32_t i = 0; i < n; i++) {
        if (i > 0 && values[i - 1] > values[i]) return -1;
        sum += (uint64_t)(int64_t)values[i] * (uint64_t)(i + 1);
    }
    return (int64_t)sum;
}
