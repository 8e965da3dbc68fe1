/*
 * sha256: FIPS 180-4 SHA-256 over a 4 KiB pseudo-random message, chained n
 * times (the previous digest overwrites the first 32 bytes of the message).
 * Stresses 32-bit integer ALU work: rotates, shifts, xor, add, byte loads.
 *
 * run(n) -> i64: the first 8 bytes of the final digest (big-endian), or -1 if
 * the built-in "abc" test vector fails.
 */
#include "common.h"

#define MSG_LEN 4096

static const uint32_t K[64] = {
    0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu, 0x59f111f1u, 0x923f82a4u, 0xab1c5ed5u,
    0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu, 0x9bdc06a7u, 0xc19bf174u,
    0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu, 0x2de92c6fu, 0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau,
    0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u, 0xc6e00bf3u, 0xd5a79147u, 0x06ca6351u, 0x14292967u,
    0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu, 0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u,
    0xa2bfe8a1u, 0xa81a664bu, 0xc24b8b70u, 0xc76c51a3u, 0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u,
    0x19a4c116u, 0x1e376c08u, 0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu, 0x682e6ff3u,
    0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u, 0x90befffau, 0xa4506cebu, 0xbef9a3f7u, 0xc67178f2u,
};

static const uint32_t H0[8] = {
    0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au, 0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u,
};

static uint8_t message[MSG_LEN];

static inline uint32_t rotr(uint32_t x, unsigned r) { return (x >> r) | (x << (32 - r)); }

static inline uint32_t load_be32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static void compress(uint32_t h[8], const uint8_t block[64]) {
    uint32_t w[64];
    for (int i = 0; i < 16; i++) w[i] = load_be32(block + 4 * i);
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = k + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
        uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        k = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d;
    h[4] += e; h[5] += f; h[6] += g; h[7] += k;
}

/* One-shot SHA-256 of `len` bytes into `out` (32 bytes). */
static void sha256(const uint8_t *data, uint32_t len, uint8_t out[32]) {
    uint32_t h[8];
    for (int i = 0; i < 8; i++) h[i] = H0[i];
    uint32_t off = 0;
    for (; off + 64 <= len; off += 64) compress(h, data + off);

    /* Padding: 0x80, zeros, 64-bit big-endian bit length; one or two blocks. */
    uint8_t tail[128];
    uint32_t rest = len - off;
    memset(tail, 0, sizeof tail);
    for (uint32_t i = 0; i < rest; i++) tail[i] = data[off + i];
    tail[rest] = 0x80;
    uint32_t tail_len = rest + 9 <= 64 ? 64 : 128;
    uint64_t bits = (uint64_t)len * 8;
    for (int i = 0; i < 8; i++) tail[tail_len - 1 - i] = (uint8_t)(bits >> (8 * i));
    for (uint32_t t = 0; t < tail_len; t += 64) compress(h, tail + t);

    for (int i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(h[i] >> 8);
        out[4 * i + 3] = (uint8_t)h[i];
    }
}

static uint64_t first8_be(const uint8_t d[32]) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = (v << 8) | d[i];
    return v;
}

EXPORT_RUN int64_t sha256_run(int32_t n) {
    /* Self-check: SHA-256("abc") starts with ba7816bf 8f01cfea. */
    static const uint8_t abc[3] = {'a', 'b', 'c'};
    uint8_t digest[32];
    sha256(abc, 3, digest);
    if (first8_be(digest) != 0xba7816bf8f01cfeaULL) return -1;

    uint64_t seed = 0x5EED5A256ULL;
    for (int i = 0; i < MSG_LEN; i += 8) {
        uint64_t r = rng_next(&seed);
        for (int j = 0; j < 8; j++) message[i + j] = (uint8_t)(r >> (8 * j));
    }
    memset(digest, 0, sizeof digest);
    for (int32_t i = 0; i < n; i++) {
        memcpy(message, digest, sizeof digest);
        sha256(message, MSG_LEN, digest);
    }
    return (int64_t)first8_be(digest);
}
