/*
 * crc32: table-driven CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320)
 * over a 64 KiB pseudo-random buffer, continued n times. Stresses byte loads,
 * table lookups (4 KiB of tables: slicing-by-4) and 32-bit shifts/xors.
 *
 * run(n) -> i32: the final CRC, or 0 if the "123456789" check value fails.
 */
#include "common.h"

#define BUF_LEN 65536

static uint32_t table[4][256];
static uint8_t buffer[BUF_LEN];

static void build_tables(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
        table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = table[0][i];
        for (int t = 1; t < 4; t++) {
            c = (c >> 8) ^ table[0][c & 0xFF];
            table[t][i] = c;
        }
    }
}

/* Continues a CRC (pass 0 to start); pre/post inversion handled here. */
static uint32_t crc32_update(uint32_t crc, const uint8_t *p, uint32_t len) {
    crc = ~crc;
    while (len >= 4) {
        crc ^= (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
        crc = table[3][crc & 0xFF] ^ table[2][(crc >> 8) & 0xFF] ^ table[1][(crc >> 16) & 0xFF] ^
              table[0][crc >> 24];
        p += 4;
        len -= 4;
    }
    while (len--) crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xFF];
    return ~crc;
}

EXPORT_RUN int32_t crc32_run(int32_t n) {
    build_tables();
    static const uint8_t check[9] = {'1', '2', '3', '4', '5', '6', '7', '8', '9'};
    if (crc32_update(0, check, 9) != 0xCBF43926u) return 0;

    uint64_t seed = 0xC0FFEE32ULL;
    for (int i = 0; i < BUF_LEN; i += 8) {
        uint64_t r = rng_next(&seed);
        for (int j = 0; j < 8; j++) buffer[i + j] = (uint8_t)(r >> (8 * j));
    }
    uint32_t crc = 0;
    for (int32_t i = 0; i < n; i++) crc = crc32_update(crc, buffer, BUF_LEN);
    return (int32_t)crc;
}
