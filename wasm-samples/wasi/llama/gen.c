/*
 * gen: writes a llama2.c-format checkpoint with deterministic pseudo-random weights and a
 * tokenizer.bin of our own syllable vocabulary, for llama.c. No weights are downloaded:
 * the same preset always gives the same bytes (a fixed-seed xorshift64*; every value is
 * an exact conversion of an integer, so any build of this file writes the same files).
 *
 *   gen PRESET CHECKPOINT_OUT TOKENIZER_OUT
 *
 * PRESET: small (dim 64, hidden 172, 2 layers, 4 heads, 2 kv heads, vocab 512, seq 64,
 * unshared classifier: for the interpreter and the tests) or bench (dim 288, hidden 768,
 * 6 layers, 6 heads, 6 kv heads, vocab 32000, seq 256, shared classifier: the shape of
 * llama2.c's stories15M).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t state = 0x11A3A2C0FFEEULL;

static uint32_t next_u32(void) {
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return (uint32_t)((state * 0x2545F4914F6CDD1DULL) >> 32);
}

/* uniform in [-scale, scale) in steps of scale / 2^23 */
static float uniform(float scale) {
    int32_t r = (int32_t)(next_u32() >> 8) - (1 << 23);
    return (float)r * (scale / 8388608.0f);
}

static FILE *out;

static void put(const void *p, size_t n) {
    if (fwrite(p, 1, n, out) != n) {
        fprintf(stderr, "gen: write failed\n");
        exit(1);
    }
}

/* n weights uniform in [-scale, scale), plus offset */
static void tensor(size_t n, float scale, float offset) {
    float buf[1024];
    while (n) {
        size_t k = n < 1024 ? n : 1024;
        for (size_t i = 0; i < k; i++) buf[i] = offset + uniform(scale);
        put(buf, k * sizeof(float));
        n -= k;
    }
}

/* 1 / sqrt(n) for the powers of two and sizes used here, without libm */
static float inv_sqrt(int n) {
    float x = 1.0f;
    for (int i = 0; i < 30; i++) x = 0.5f * (x + (1.0f / (float)n) / x);
    return x;
}

static const char *onsets[] = {"b", "d", "f", "g", "h", "k", "l", "m", "n", "p",
                               "r", "s", "t", "v", "z", "ch", "sh", "th", "st", "tr"};
static const char *vowels[] = {"a", "e", "i", "o", "u"};

/* Token id >= 3: an optional leading space, then syllables (onset + vowel) spelling the
 * id's digits in base 100; a final "n" on every third word. */
static int token_text(int id, char *buf) {
    int n = id - 3, len = 0;
    if (n % 2 == 0) buf[len++] = ' ';
    n /= 2;
    char syl[8][4];
    int ns = 0;
    do {
        int d = n % 100;
        snprintf(syl[ns++], sizeof syl[0], "%s%s", onsets[d / 5], vowels[d % 5]);
        n /= 100;
    } while (n && ns < 8);
    for (int i = ns - 1; i >= 0; i--) {
        size_t l = strlen(syl[i]);
        memcpy(buf + len, syl[i], l);
        len += (int)l;
    }
    if (id % 3 == 0) buf[len++] = 'n';
    return len;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: gen small|bench CHECKPOINT_OUT TOKENIZER_OUT\n");
        return 1;
    }
    int32_t dim, hidden, layers, heads, kv_heads, vocab, seq;
    int shared;
    if (strcmp(argv[1], "small") == 0) {
        dim = 64, hidden = 172, layers = 2, heads = 4, kv_heads = 2, vocab = 512, seq = 64;
        shared = 0;
    } else if (strcmp(argv[1], "bench") == 0) {
        dim = 288, hidden = 768, layers = 6, heads = 6, kv_heads = 6, vocab = 32000, seq = 256;
        shared = 1;
    } else {
        fprintf(stderr, "gen: unknown preset %s\n", argv[1]);
        return 1;
    }
    int32_t hs = dim / heads, kv = hs * kv_heads;
    out = fopen(argv[2], "wb");
    if (!out) {
        fprintf(stderr, "gen: cannot create %s\n", argv[2]);
        return 1;
    }
    int32_t header[7] = {dim, hidden, layers, heads, kv_heads, shared ? vocab : -vocab, seq};
    put(header, sizeof header);
    size_t d = dim, h = hidden, l = layers;
    float sd = inv_sqrt(dim) * 1.7f, sh = inv_sqrt(hidden) * 1.7f;
    tensor((size_t)vocab * d, shared ? 0.3f : 1.0f, 0.0f); /* token embedding */
    tensor(l * d, 0.1f, 1.0f);             /* attention RMSNorm */
    tensor(l * d * d, sd, 0.0f);           /* wq */
    tensor(l * d * kv, sd, 0.0f);          /* wk */
    tensor(l * d * kv, sd, 0.0f);          /* wv */
    tensor(l * d * d, sd, 0.0f);           /* wo */
    tensor(l * d, 0.1f, 1.0f);             /* FFN RMSNorm */
    tensor(l * h * d, sd, 0.0f);           /* w1 */
    tensor(l * d * h, sh, 0.0f);           /* w2 */
    tensor(l * h * d, sd, 0.0f);           /* w3 */
    tensor(d, 0.1f, 1.0f);                 /* final RMSNorm */
    tensor((size_t)seq * hs, 0.0f, 0.0f);  /* RoPE tables (unused by readers) */
    if (!shared) tensor((size_t)vocab * d, sd * 4.0f, 0.0f); /* classifier */
    if (fclose(out) != 0) return 1;

    out = fopen(argv[3], "wb");
    if (!out) {
        fprintf(stderr, "gen: cannot create %s\n", argv[3]);
        return 1;
    }
    int32_t max_len = 32;
    put(&max_len, 4);
    static const char *special[3] = {"<unk>", "\n<s>\n", "\n</s>\n"};
    for (int i = 0; i < vocab; i++) {
        char buf[40];
        int32_t len;
        if (i < 3) {
            len = (int32_t)strlen(special[i]);
            memcpy(buf, special[i], (size_t)len);
        } else {
            len = token_text(i, buf);
        }
        float score = (float)-i;
        put(&score, 4);
        put(&len, 4);
        put(buf, (size_t)len);
    }
    return fclose(out) != 0;
}
