/*
 * llama: a llama-style transformer forward pass and sampler, written for BareFlow's
 * benchmark and tests (the algorithm follows Karpathy's llama2.c; the code is our own).
 *
 *   llama CHECKPOINT TOKENIZER [-n STEPS] [-t TEMPERATURE] [-p TOPP] [-s SEED] [-i PROMPT]
 *
 * CHECKPOINT is in llama2.c's published format: a header of seven int32 (dim, hidden_dim,
 * n_layers, n_heads, n_kv_heads, vocab_size, seq_len; a negative vocab_size means the
 * classifier is stored after the other weights instead of shared with the token
 * embedding), then the f32 weights in this order: token embedding [vocab][dim], attention
 * RMSNorm [layer][dim], wq [layer][dim][dim], wk and wv [layer][kv_dim][dim], wo
 * [layer][dim][dim], FFN RMSNorm [layer][dim], w1 [layer][hidden][dim], w2
 * [layer][dim][hidden], w3 [layer][hidden][dim], final RMSNorm [dim], two unused RoPE
 * tables [seq_len][head_size / 2] each, then (unshared only) the classifier [vocab][dim].
 * TOKENIZER is in llama2.c's tokenizer.bin format: int32 max_token_length, then per token
 * f32 score, int32 length, the bytes.
 *
 * stdout is deterministic: the prompt and generated text, then a line with the number of
 * tokens and a hash of the raw bits of every logit computed. Timing (tokens/s) goes to
 * stderr. Every floating-point operation is IEEE basic arithmetic or sqrt in a fixed
 * order (exp, sin and cos are computed here, not taken from a libm, and the dot products
 * use four lane sums combined as (l0 + l1) + (l2 + l3), the order of the -msimd128 build),
 * so the native build, the wasm build and the SIMD wasm build print the same bytes.
 * Build with -ffp-contract=off (no fused multiply-add).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef __wasm_simd128__
#include <wasm_simd128.h>
#endif

/* ---------- deterministic math (no libm: native and wasm agree bit for bit) ---------- */

static double exp_d(double x) {
    if (x < -700.0) return 0.0;
    if (x > 700.0) x = 700.0;
    const double ln2 = 0.6931471805599453;
    double kf = x / ln2;
    int k = (int)(kf < 0 ? kf - 0.5 : kf + 0.5);
    double r = x - (double)k * ln2; /* |r| <= ln2 / 2 */
    /* Taylor series to r^13: error below 1e-16 on |r| <= 0.35 */
    double term = 1.0, sum = 1.0;
    for (int i = 1; i <= 13; i++) {
        term = term * r / (double)i;
        sum += term;
    }
    /* scale by 2^k: build the double 2^k from its bits */
    while (k > 1000) { sum *= 0x1p1000; k -= 1000; }
    while (k < -1000) { sum *= 0x1p-1000; k += 1000; }
    uint64_t bits = (uint64_t)(k + 1023) << 52;
    double scale;
    memcpy(&scale, &bits, sizeof scale);
    return sum * scale;
}

static float expf_d(float x) { return (float)exp_d((double)x); }

/* sin and cos of x, reduced to [-pi, pi] then Taylor series. */
static void sincos_d(double x, double *s, double *c) {
    const double two_pi = 6.283185307179586;
    double q = x / two_pi;
    long long n = (long long)(q < 0 ? q - 0.5 : q + 0.5);
    double r = x - (double)n * two_pi;
    double r2 = r * r;
    double ts = r, ss = r, tc = 1.0, sc = 1.0;
    for (int i = 1; i <= 14; i++) {
        ts = -ts * r2 / (double)((2 * i) * (2 * i + 1));
        ss += ts;
        tc = -tc * r2 / (double)((2 * i - 1) * (2 * i));
        sc += tc;
    }
    *s = ss;
    *c = sc;
}

static float sqrtf_ieee(float x) { return __builtin_sqrtf(x); }

/* ---------- model ---------- */

typedef struct {
    int32_t dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len;
} Config;

typedef struct {
    float *token_embedding; /* [vocab][dim] */
    float *rms_att;         /* [layer][dim] */
    float *wq, *wk, *wv, *wo;
    float *rms_ffn;
    float *w1, *w2, *w3;
    float *rms_final;
    float *wcls;
} Weights;

typedef struct {
    float *x, *xb, *xb2, *hb, *hb2, *q, *att, *logits;
    float *key_cache, *value_cache; /* [layer][seq_len][kv_dim] */
} State;

__attribute__((noreturn)) static void die(const char *msg) {
    fprintf(stderr, "llama: %s\n", msg);
    exit(1);
}

static void *xcalloc(size_t n, size_t size) {
    void *p = calloc(n, size);
    if (!p) die("out of memory");
    return p;
}

static void rmsnorm(float *out, const float *x, const float *w, int n) {
    float ss = 0.0f;
    for (int j = 0; j < n; j++) ss += x[j] * x[j];
    ss = ss / (float)n + 1e-5f;
    ss = 1.0f / sqrtf_ieee(ss);
    for (int j = 0; j < n; j++) out[j] = w[j] * (ss * x[j]);
}

static void softmax(float *x, int n) {
    float max = x[0];
    for (int i = 1; i < n; i++)
        if (x[i] > max) max = x[i];
    float sum = 0.0f;
    for (int i = 0; i < n; i++) {
        x[i] = expf_d(x[i] - max);
        sum += x[i];
    }
    for (int i = 0; i < n; i++) x[i] /= sum;
}

/* Dot product of n floats: lane sums l[j] over elements j, j + 4, ..., combined as
 * (l0 + l1) + (l2 + l3), then the n % 4 tail added in order. */
static float dot(const float *a, const float *b, int n) {
    int n4 = n & ~3;
#ifdef __wasm_simd128__
    v128_t acc = wasm_f32x4_splat(0.0f);
    for (int j = 0; j < n4; j += 4)
        acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_v128_load(a + j), wasm_v128_load(b + j)));
    float s = (wasm_f32x4_extract_lane(acc, 0) + wasm_f32x4_extract_lane(acc, 1)) +
              (wasm_f32x4_extract_lane(acc, 2) + wasm_f32x4_extract_lane(acc, 3));
#else
    float l0 = 0.0f, l1 = 0.0f, l2 = 0.0f, l3 = 0.0f;
    for (int j = 0; j < n4; j += 4) {
        l0 += a[j] * b[j];
        l1 += a[j + 1] * b[j + 1];
        l2 += a[j + 2] * b[j + 2];
        l3 += a[j + 3] * b[j + 3];
    }
    float s = (l0 + l1) + (l2 + l3);
#endif
    for (int j = n4; j < n; j++) s += a[j] * b[j];
    return s;
}

/* out[d] = W[d][n] . x[n] */
static void matmul(float *out, const float *x, const float *w, int n, int d) {
    for (int i = 0; i < d; i++) out[i] = dot(w + (size_t)i * n, x, n);
}

/* (sin, cos) of pos * 10000^(-2i / head_size), per position and pair: [seq_len][hs / 2][2] */
static float *rope_table(const Config *c) {
    int hs = c->dim / c->n_heads;
    float *t = xcalloc((size_t)c->seq_len * (hs / 2) * 2, sizeof(float));
    const double ln10000 = 9.210340371976184;
    for (int pos = 0; pos < c->seq_len; pos++)
        for (int i = 0; i < hs / 2; i++) {
            double freq = exp_d(-ln10000 * (double)(2 * i) / (double)hs);
            double s, co;
            sincos_d((double)pos * freq, &s, &co);
            float *e = t + ((size_t)pos * (hs / 2) + i) * 2;
            e[0] = (float)s;
            e[1] = (float)co;
        }
    return t;
}

static void rotate(float *v, int n, int hs, const float *rope_pos) {
    for (int i = 0; i < n; i += 2) {
        const float *e = rope_pos + ((i % hs) / 2) * 2;
        float s = e[0], co = e[1];
        float v0 = v[i], v1 = v[i + 1];
        v[i] = v0 * co - v1 * s;
        v[i + 1] = v0 * s + v1 * co;
    }
}

static float *forward(const Config *c, const Weights *w, State *s, const float *rope, int token,
                      int pos) {
    int dim = c->dim, hs = dim / c->n_heads;
    int kv_dim = hs * c->n_kv_heads;
    int kv_mul = c->n_heads / c->n_kv_heads;
    int hidden = c->hidden_dim;
    float *x = s->x;
    memcpy(x, w->token_embedding + (size_t)token * dim, (size_t)dim * sizeof *x);
    const float *rope_pos = rope + (size_t)pos * (hs / 2) * 2;
    const float inv_sqrt_hs = 1.0f / sqrtf_ieee((float)hs);

    for (int l = 0; l < c->n_layers; l++) {
        rmsnorm(s->xb, x, w->rms_att + (size_t)l * dim, dim);
        size_t loff = (size_t)l * c->seq_len * kv_dim;
        float *k = s->key_cache + loff + (size_t)pos * kv_dim;
        float *v = s->value_cache + loff + (size_t)pos * kv_dim;
        matmul(s->q, s->xb, w->wq + (size_t)l * dim * dim, dim, dim);
        matmul(k, s->xb, w->wk + (size_t)l * dim * kv_dim, dim, kv_dim);
        matmul(v, s->xb, w->wv + (size_t)l * dim * kv_dim, dim, kv_dim);
        rotate(s->q, dim, hs, rope_pos);
        rotate(k, kv_dim, hs, rope_pos);

        for (int h = 0; h < c->n_heads; h++) {
            const float *q = s->q + h * hs;
            float *att = s->att + (size_t)h * c->seq_len;
            int kvh = h / kv_mul;
            for (int t = 0; t <= pos; t++) {
                const float *kt = s->key_cache + loff + (size_t)t * kv_dim + kvh * hs;
                att[t] = dot(q, kt, hs) * inv_sqrt_hs;
            }
            softmax(att, pos + 1);
            float *xb = s->xb + h * hs;
            memset(xb, 0, (size_t)hs * sizeof *xb);
            for (int t = 0; t <= pos; t++) {
                const float *vt = s->value_cache + loff + (size_t)t * kv_dim + kvh * hs;
                float a = att[t];
                for (int i = 0; i < hs; i++) xb[i] += a * vt[i];
            }
        }
        matmul(s->xb2, s->xb, w->wo + (size_t)l * dim * dim, dim, dim);
        for (int i = 0; i < dim; i++) x[i] += s->xb2[i];

        rmsnorm(s->xb, x, w->rms_ffn + (size_t)l * dim, dim);
        matmul(s->hb, s->xb, w->w1 + (size_t)l * dim * hidden, dim, hidden);
        matmul(s->hb2, s->xb, w->w3 + (size_t)l * dim * hidden, dim, hidden);
        for (int i = 0; i < hidden; i++) {
            float g = s->hb[i];
            g = g * (1.0f / (1.0f + expf_d(-g))); /* SiLU */
            s->hb[i] = g * s->hb2[i];
        }
        matmul(s->xb, s->hb, w->w2 + (size_t)l * dim * hidden, hidden, dim);
        for (int i = 0; i < dim; i++) x[i] += s->xb[i];
    }
    rmsnorm(x, x, w->rms_final, dim);
    matmul(s->logits, x, w->wcls, dim, c->vocab_size);
    return s->logits;
}

/* ---------- checkpoint and tokenizer ---------- */

static long file_size(FILE *f) {
    if (fseek(f, 0, SEEK_END) != 0) return -1;
    long n = ftell(f);
    if (fseek(f, 0, SEEK_SET) != 0) return -1;
    return n;
}

static float *data; /* the whole checkpoint's floats after the header */

static void load_checkpoint(const char *path, Config *c, Weights *w) {
    FILE *f = fopen(path, "rb");
    if (!f) die("cannot open the checkpoint");
    long size = file_size(f);
    if (size < (long)sizeof *c || fread(c, sizeof *c, 1, f) != 1) die("checkpoint too short");
    int shared = c->vocab_size > 0;
    if (c->vocab_size < 0) c->vocab_size = -c->vocab_size;
    if (c->dim <= 0 || c->hidden_dim <= 0 || c->n_layers <= 0 || c->n_heads <= 0 ||
        c->n_kv_heads <= 0 || c->vocab_size <= 0 || c->seq_len <= 0 || c->dim % c->n_heads ||
        c->n_heads % c->n_kv_heads || (c->dim / c->n_heads) % 2 || c->dim > 65536 ||
        c->hidden_dim > 1 << 20 || c->n_layers > 1024 || c->vocab_size > 1 << 22 ||
        c->seq_len > 1 << 16)
        die("bad checkpoint header");
    size_t dim = c->dim, hid = c->hidden_dim, nl = c->n_layers, hs = dim / c->n_heads;
    size_t kv = hs * c->n_kv_heads, voc = c->vocab_size;
    size_t want = voc * dim + nl * dim + nl * dim * dim * 2 + nl * dim * kv * 2 + nl * dim +
                  nl * hid * dim * 3 + dim + (size_t)c->seq_len * hs + (shared ? 0 : voc * dim);
    if ((unsigned long)size - sizeof *c < want * sizeof(float)) die("checkpoint truncated");
    data = malloc(want * sizeof(float));
    if (!data) die("out of memory");
    if (fread(data, sizeof(float), want, f) != want) die("checkpoint read failed");
    fclose(f);
    float *p = data;
    w->token_embedding = p; p += voc * dim;
    w->rms_att = p; p += nl * dim;
    w->wq = p; p += nl * dim * dim;
    w->wk = p; p += nl * dim * kv;
    w->wv = p; p += nl * dim * kv;
    w->wo = p; p += nl * dim * dim;
    w->rms_ffn = p; p += nl * dim;
    w->w1 = p; p += nl * hid * dim;
    w->w2 = p; p += nl * hid * dim;
    w->w3 = p; p += nl * hid * dim;
    w->rms_final = p; p += dim;
    p += (size_t)c->seq_len * hs; /* the two RoPE tables, unused */
    w->wcls = shared ? w->token_embedding : p;
}

typedef struct {
    char **text;
    int *len;
    int n;
    int max_len;
} Vocab;

static void load_tokenizer(const char *path, Vocab *v, int vocab_size) {
    FILE *f = fopen(path, "rb");
    if (!f) die("cannot open the tokenizer");
    int32_t max_len;
    if (fread(&max_len, 4, 1, f) != 1 || max_len <= 0 || max_len > 4096)
        die("bad tokenizer header");
    v->n = vocab_size;
    v->max_len = max_len;
    v->text = xcalloc((size_t)vocab_size, sizeof *v->text);
    v->len = xcalloc((size_t)vocab_size, sizeof *v->len);
    for (int i = 0; i < vocab_size; i++) {
        float score;
        int32_t len;
        if (fread(&score, 4, 1, f) != 1 || fread(&len, 4, 1, f) != 1 || len < 0 || len > max_len)
            die("bad tokenizer entry");
        v->text[i] = xcalloc((size_t)len + 1, 1);
        if (len && fread(v->text[i], 1, (size_t)len, f) != (size_t)len)
            die("tokenizer truncated");
        v->len[i] = len;
    }
    fclose(f);
}

/* Prompt encoding: greedy longest match against the vocabulary (ids >= 3); a byte no token
 * starts with is skipped. Returns the number of ids written (at most cap). */
static int encode(const Vocab *v, const char *s, int *out, int cap) {
    int n = 0;
    size_t len = strlen(s);
    size_t i = 0;
    while (i < len && n < cap) {
        int best = -1, best_len = 0;
        for (int t = 3; t < v->n; t++) {
            int l = v->len[t];
            if (l > best_len && (size_t)l <= len - i && memcmp(v->text[t], s + i, (size_t)l) == 0) {
                best = t;
                best_len = l;
            }
        }
        if (best < 0) {
            i++;
            continue;
        }
        out[n++] = best;
        i += (size_t)best_len;
    }
    return n;
}

/* ---------- sampling ---------- */

static uint64_t rng_state;

static uint32_t rng_u32(void) { /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1DULL) >> 32);
}

static float rng_f32(void) { return (float)(rng_u32() >> 8) / 16777216.0f; }

static int argmax(const float *p, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (p[i] > p[best]) best = i;
    return best;
}

typedef struct {
    float prob;
    int index;
} Cand;

static int cand_cmp(const void *a, const void *b) {
    const Cand *x = a, *y = b;
    if (x->prob > y->prob) return -1;
    if (x->prob < y->prob) return 1;
    return x->index - y->index; /* total order: qsort is not stable */
}

static Cand *cands;

/* Samples from probabilities p (softmaxed), restricted to the smallest set of most likely
 * tokens whose mass exceeds topp (all tokens if topp is not in (0, 1)). */
static int sample(const float *p, int n, float topp) {
    float coin = rng_f32();
    if (topp <= 0.0f || topp >= 1.0f) {
        float cdf = 0.0f;
        for (int i = 0; i < n; i++) {
            cdf += p[i];
            if (coin < cdf) return i;
        }
        return n - 1;
    }
    /* tokens below (1 - topp) / (n - 1) cannot be in the nucleus */
    float cutoff = (1.0f - topp) / (float)(n - 1);
    int m = 0;
    for (int i = 0; i < n; i++)
        if (p[i] >= cutoff) {
            cands[m].prob = p[i];
            cands[m].index = i;
            m++;
        }
    qsort(cands, (size_t)m, sizeof *cands, cand_cmp);
    float mass = 0.0f;
    int last = m - 1;
    for (int i = 0; i < m; i++) {
        mass += cands[i].prob;
        if (mass > topp) {
            last = i;
            break;
        }
    }
    float r = coin * mass, cdf = 0.0f;
    for (int i = 0; i <= last; i++) {
        cdf += cands[i].prob;
        if (r < cdf) return cands[i].index;
    }
    return cands[last].index;
}

/* ---------- main ---------- */

static uint64_t mix64(uint64_t h, uint64_t v) {
    h ^= v + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2);
    return h * 0xBF58476D1CE4E5B9ULL;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

__attribute__((noreturn)) static void usage(void) {
    die("usage: llama CHECKPOINT TOKENIZER [-n STEPS] [-t TEMPERATURE] [-p TOPP] [-s SEED] "
        "[-i PROMPT]");
}

int main(int argc, char **argv) {
    if (argc < 3) usage();
    const char *ckpt = argv[1], *tok = argv[2], *prompt = "";
    int steps = 32;
    float temperature = 0.0f, topp = 0.9f;
    unsigned long long seed = 42;
    for (int i = 3; i < argc; i += 2) {
        if (i + 1 >= argc || argv[i][0] != '-' || strlen(argv[i]) != 2) usage();
        const char *a = argv[i + 1];
        switch (argv[i][1]) {
        case 'n': steps = atoi(a); break;
        case 't': temperature = (float)atof(a); break;
        case 'p': topp = (float)atof(a); break;
        case 's': seed = strtoull(a, NULL, 10); break;
        case 'i': prompt = a; break;
        default: usage();
        }
    }
    rng_state = seed ? seed : 1;

    Config c;
    Weights w;
    load_checkpoint(ckpt, &c, &w);
    if (steps <= 0 || steps > c.seq_len) steps = c.seq_len;
    Vocab v;
    load_tokenizer(tok, &v, c.vocab_size);

    int hs = c.dim / c.n_heads, kv_dim = hs * c.n_kv_heads;
    State s;
    s.x = xcalloc((size_t)c.dim, sizeof(float));
    s.xb = xcalloc((size_t)c.dim, sizeof(float));
    s.xb2 = xcalloc((size_t)c.dim, sizeof(float));
    s.hb = xcalloc((size_t)c.hidden_dim, sizeof(float));
    s.hb2 = xcalloc((size_t)c.hidden_dim, sizeof(float));
    s.q = xcalloc((size_t)c.dim, sizeof(float));
    s.att = xcalloc((size_t)c.n_heads * c.seq_len, sizeof(float));
    s.logits = xcalloc((size_t)c.vocab_size, sizeof(float));
    s.key_cache = xcalloc((size_t)c.n_layers * c.seq_len * kv_dim, sizeof(float));
    s.value_cache = xcalloc((size_t)c.n_layers * c.seq_len * kv_dim, sizeof(float));
    cands = xcalloc((size_t)c.vocab_size, sizeof *cands);
    float *rope = rope_table(&c);

    int *prompt_ids = xcalloc((size_t)c.seq_len, sizeof(int));
    int n_prompt = encode(&v, prompt, prompt_ids, c.seq_len - 1);

    uint64_t hash = 0;
    int token = 1; /* BOS */
    int generated = 0;
    double start = 0.0;
    for (int pos = 0; pos < steps; pos++) {
        float *logits = forward(&c, &w, &s, rope, token, pos);
        for (int i = 0; i < c.vocab_size; i++) {
            uint32_t bits;
            memcpy(&bits, &logits[i], 4);
            hash = mix64(hash, bits);
        }
        int next;
        if (pos < n_prompt) {
            next = prompt_ids[pos];
        } else if (temperature == 0.0f) {
            next = argmax(logits, c.vocab_size);
        } else {
            for (int i = 0; i < c.vocab_size; i++) logits[i] /= temperature;
            softmax(logits, c.vocab_size);
            next = sample(logits, c.vocab_size, topp);
        }
        if (pos == 0) start = now_s(); /* the first step warms up; time the rest */
        fwrite(v.text[next], 1, (size_t)v.len[next], stdout);
        generated++;
        token = next;
        if (next == 2) break; /* EOS */
    }
    double elapsed = now_s() - start;
    printf("\n[%d tokens, logits hash %016llx]\n", generated, (unsigned long long)hash);
    fflush(stdout);
    if (generated > 1 && elapsed > 0.0)
        fprintf(stderr, "achieved tok/s: %.3f\n", (double)(generated - 1) / elapsed);
    return 0;
}
