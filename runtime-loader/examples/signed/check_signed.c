/* Signed snapshots through the C API (libbareflow.a built with --features sign).
 *
 *   check_signed SIGNED.snap UNSIGNED.snap KEY.pub OTHER.pub
 *
 * For each case prints one line "<case> <status> <bf_error_message>", and for the accepted
 * snapshot "fib(20) = <result>". Cases: the signed snapshot under its key, under another key,
 * with one byte changed, the unsigned snapshot under the key, an invalid key, the signed
 * snapshot without a key, and bf_set_public_key after bf_load. Exit status 0 if every line
 * could be produced (the test compares the lines).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bareflow.h"

static unsigned char arena[1 << 20] __attribute__((aligned(16)));
static uint8_t *code;
#define CODE_LEN (1u << 20)

static uint8_t *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    uint8_t *b = malloc(cap);
    for (size_t r; b && (r = fread(b + n, 1, cap - n, f)) > 0;) {
        n += r;
        if (n == cap) b = realloc(b, cap *= 2);
    }
    fclose(f);
    *len = n;
    return b;
}

/* PREFIX.pub: 64 hex digits. */
static int read_key(const char *path, uint8_t key[32]) {
    size_t n;
    uint8_t *t = read_all(path, &n);
    if (!t || n < 64) return -1;
    for (int i = 0; i < 32; i++) {
        unsigned v;
        char h[3] = {(char)t[2 * i], (char)t[2 * i + 1], 0};
        if (sscanf(h, "%2x", &v) != 1) return -1;
        key[i] = (uint8_t)v;
    }
    free(t);
    return 0;
}

/* bf_init, optionally bf_set_public_key, bf_load; prints the case line. */
static bf_runtime *try_load(const char *name, const uint8_t *key, const uint8_t *snap, size_t len) {
    bf_runtime *rt;
    bf_status s = bf_init(arena, sizeof arena, 0, &rt);
    if (s == BF_OK && key) s = bf_set_public_key(rt, key);
    if (s == BF_OK) s = bf_load(rt, snap, len, code, CODE_LEN);
    printf("%s %u %s\n", name, s, s == BF_OK ? "ok" : bf_error_message(rt));
    return s == BF_OK ? rt : NULL;
}

static void run_fib(bf_runtime *rt) {
    uint32_t idx;
    uint64_t v[1] = {20};
    bf_status s = bf_instantiate(rt);
    if (s == BF_OK) s = bf_export_func(rt, "fib", &idx, NULL, NULL);
    if (s == BF_OK) s = bf_call(rt, idx, v, 1);
    if (s == BF_OK)
        printf("fib(20) = %llu\n", (unsigned long long)v[0]);
    else
        printf("fib failed %u %s\n", s, bf_error_message(rt));
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: check_signed SIGNED UNSIGNED KEY.pub OTHER.pub\n");
        return 2;
    }
    code = mmap(NULL, CODE_LEN, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
                -1, 0);
    size_t slen, ulen;
    uint8_t *signed_ = read_all(argv[1], &slen), *unsigned_ = read_all(argv[2], &ulen);
    uint8_t key[32], other[32], weak[32] = {1};
    if (code == MAP_FAILED || !signed_ || !unsigned_ || read_key(argv[3], key) ||
        read_key(argv[4], other)) {
        fprintf(stderr, "check_signed: cannot read inputs\n");
        return 1;
    }
    bf_runtime *rt = try_load("right-key", key, signed_, slen);
    if (rt) run_fib(rt);
    try_load("other-key", other, signed_, slen);
    uint8_t *tampered = malloc(slen);
    memcpy(tampered, signed_, slen);
    tampered[slen / 2] ^= 0x01;
    try_load("tampered", key, tampered, slen);
    try_load("unsigned", key, unsigned_, ulen);
    try_load("weak-key", weak, signed_, slen);
    rt = try_load("no-key", NULL, signed_, slen);
    if (rt) printf("late-key %u\n", bf_set_public_key(rt, key));
    /* bf_require_signature: without a key nothing loads, signed or not; with the key only
     * the signed snapshot does. */
    for (int k = 0; k < 4; k++) {
        bf_runtime *r;
        bf_status s = bf_init(arena, sizeof arena, 0, &r);
        if (s == BF_OK) s = bf_require_signature(r, 1);
        if (s == BF_OK && k >= 2) s = bf_set_public_key(r, key);
        if (s == BF_OK) s = bf_load(r, k & 1 ? unsigned_ : signed_, k & 1 ? ulen : slen, code, CODE_LEN);
        printf("required-%s-%s %u %s\n", k >= 2 ? "key" : "nokey", k & 1 ? "unsigned" : "signed", s,
               s == BF_OK ? "ok" : bf_error_message(r));
    }
    printf("status-message %s\n", bf_status_message(BF_ERR_SIGNATURE));
    return 0;
}
