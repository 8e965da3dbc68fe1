/* Freestanding proof for the BareFlow C API: no libc, no dynamic loader, its own _start,
 * raw Linux syscalls for write and exit only. Runs exported functions of snapshots that are
 * linked into the program (.incbin) and prints one line per call:
 *     call <snapshot> <export> <args...> -> <result slots as unsigned decimal>
 *     call <snapshot> <export> <args...> trap <code> <message>
 * plus lines for the host function calls and the error paths. Built by build.sh; run by
 * compiler/tests/firmware.rs, which checks every result against the interpreter. */
#include <stddef.h>
#include <stdint.h>

#include "bareflow.h"

/* ---- the snapshots, embedded (SNAP_DIR is set by build.sh) ---------------------------- */
/* In a read-only executable section, so that execute-in-place snapshots (-DXIP) can run
 * their code right there. */
#define EMBED(sym, file)                                                                   \
    __asm__(".section .bfsnap,\"ax\",@progbits\n.balign 4096\n.globl " #sym "\n" #sym ":\n.incbin \"" SNAP_DIR \
            "/" file "\"\n.globl " #sym "_end\n" #sym "_end:\n.previous\n");                \
    extern const uint8_t sym[], sym##_end[];
EMBED(snap_fibonacci, "fibonacci.snap")
EMBED(snap_sum_to_n, "sum_to_n.snap")
EMBED(snap_multiply, "multiply.snap")
EMBED(snap_sha256, "sha256.snap")
EMBED(snap_host, "host.snap")
EMBED(snap_bulk, "bulk.snap")
EMBED(snap_bounds, "bounds.snap")
EMBED(snap_mem64, "mem64.snap")
EMBED(snap_mem64_huge, "mem64-huge.snap")
EMBED(snap_multimem, "multimem.snap")
EMBED(snap_fibonacci_guard, "fibonacci-guard.snap")

/* Executable memory for loaded code: a writable+executable .bss-like section (the loader
 * writes it once, then only executes it). The linker warns about an RWX segment: expected. */
__asm__(".section .bfcode,\"awx\",@nobits\n.balign 4096\n.globl code_region\ncode_region:\n"
        ".skip 1048576\n.previous\n");
extern uint8_t code_region[];
#ifdef XIP
/* Execute in place: no code region at all; bf_load gets NULL. */
#define CODE_REGION ((uint8_t *)0)
#define COPYING 0
#else
#define CODE_REGION code_region
#define COPYING 1
#endif
#define CODE_LEN 1048576u

static uint8_t arena[8u << 20] __attribute__((aligned(64)));
static uint8_t scratch[65536] __attribute__((aligned(4096)));

/* ---- raw syscalls ----------------------------------------------------------------------- */
static long sys3(long n, long a, long b, long c) {
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return r;
}
__attribute__((noreturn, unused)) static void sys_exit(int code) {
    for (;;) sys3(231, code, 0, 0); /* exit_group */
}

__asm__(".text\n.globl _start\n_start:\n"
        "  xor %ebp, %ebp\n"
        "  mov (%rsp), %rdi\n"
        "  lea 8(%rsp), %rsi\n"
        "  and $-16, %rsp\n"
        "  call main\n"
        "  mov %eax, %edi\n"
        "  mov $231, %eax\n"
        "  syscall\n"
        "  hlt\n");

/* ---- line output -------------------------------------------------------------------------- */
static char line[512];
static size_t len;

static void put(const char *s) {
    while (*s && len < sizeof line - 1) line[len++] = *s++;
}
static void put_u64(uint64_t v) {
    char b[24];
    int i = sizeof b;
    b[--i] = 0;
    do b[--i] = (char)('0' + v % 10); while ((v /= 10) && i > 0);
    put(b + i);
}
static void put_i64(int64_t v) {
    if (v < 0) {
        put("-");
        put_u64(0 - (uint64_t)v);
    } else {
        put_u64((uint64_t)v);
    }
}
static void flush(void) {
    line[len++] = '\n';
    size_t off = 0;
    while (off < len) {
        long n = sys3(1, 1, (long)(line + off), (long)(len - off));
        if (n <= 0) break;
        off += (size_t)n;
    }
    len = 0;
}

static int failures;

static void expect(int ok, const char *what) {
    if (!ok) {
        put("FAIL ");
        put(what);
        flush();
        failures++;
    }
}

/* ---- host functions ------------------------------------------------------------------------ */
static uint32_t host_log(void *env, bf_runtime *rt, uint64_t *v) {
    (void)env;
    put("host log ");
    put_i64((int32_t)v[0]);
    put(" ");
    put_i64((int64_t)v[1]);
    if (v[0] == 16) { /* (ptr, len) of a string in linear memory */
        char s[64];
        size_t n = v[1] < sizeof s ? (size_t)v[1] : sizeof s - 1;
        if (bf_memory_read(rt, v[0], s, n) != BF_OK) return BF_TRAP_HOST_ERROR;
        s[n] = 0;
        put(" \"");
        put(s);
        put("\"");
    }
    flush();
    return 0;
}

static uint32_t host_fail(void *env, bf_runtime *rt, uint64_t *v) {
    (void)rt;
    (void)v;
    return *(uint32_t *)env; /* not a trap code: becomes "host function error" */
}

/* ---- running exports ----------------------------------------------------------------------- */
/* "call" lines depend only on their arguments (the test replays them in the interpreter);
 * calls that depend on earlier host writes are printed as "stateful". */
static const char *verb = "call ";

static void run(bf_runtime *rt, const char *snap, const char *name, const uint64_t *args,
                uint32_t nargs) {
    uint32_t idx, np, nr;
    uint64_t v[8] = {0};
    bf_status s = bf_export_func(rt, name, &idx, &np, &nr);
    if (s != BF_OK || np != nargs || np > 8 || nr > 8) {
        put("lookup failed: ");
        put(name);
        flush();
        failures++;
        return;
    }
    for (uint32_t i = 0; i < nargs; i++) v[i] = args[i];
    /* Call first: host functions print their own lines while it runs. */
    s = bf_call(rt, idx, v, 8);
    put(verb);
    put(snap);
    put(" ");
    put(name);
    for (uint32_t i = 0; i < nargs; i++) {
        put(" ");
        put_u64(args[i]);
    }
    if (s == BF_OK) {
        put(" ->");
        for (uint32_t i = 0; i < nr; i++) {
            put(" ");
            put_u64(v[i]);
        }
    } else if (s == BF_ERR_TRAP) {
        put(" trap ");
        put_u64(bf_trap_code(rt));
        put(" ");
        put(bf_error_message(rt));
    } else {
        put(" error ");
        put(bf_status_message(s));
        failures++;
    }
    flush();
}

/* Every byte the loader reads flipped in turn (header, section table, metadata and entry
 * table sections of `b`, and with a code region its relocation table), the checksum
 * re-sealed so that the structural checks must catch it: bf_load may accept a change that
 * leaves a valid module (a name byte, a limit, a patched code byte), but must never crash;
 * with `inst`, what loads is also instantiated (segments applied; the module must have no
 * start function and no imports: no code runs). Nothing is called. */
static void flips(const char *name, const uint8_t *b, const uint8_t *e, int inst) {
    bf_runtime *rt;
    size_t hn = (size_t)(e - b);
    if (hn > sizeof scratch) return;
    uint64_t refused = 0, loaded = 0, instantiated = 0;
    uint32_t nsec = (uint32_t)b[10] | (uint32_t)b[11] << 8;
    for (size_t i = 0; i < hn; i++) {
        int read = i < 32 + 16 * (size_t)nsec;
        for (uint32_t k = 0; k < nsec && !read; k++) {
            const uint8_t *t = b + 32 + 16 * k;
            uint32_t kind = t[0], off = 0, len = 0;
            for (int j = 3; j >= 0; j--) {
                off = off << 8 | t[4 + j];
                len = len << 8 | t[8 + j];
            }
            /* kind 6, the relocation table, is read by the copying path only */
            read = (kind == 1 || kind == 5 || (kind == 6 && COPYING)) && i >= off && i < (size_t)off + len;
        }
        if (!read) continue;
        for (size_t k = 0; k < hn; k++) scratch[k] = b[k];
        scratch[i] ^= (uint8_t)(1u << (i % 8));
        /* CRC-32C (bitwise, reflected 0x82F63B78) with the 8-byte field read as zero */
        uint32_t c = 0xffffffffu;
        for (size_t k = 0; k < hn; k++) {
            c ^= (k >= 24 && k < 32) ? 0 : scratch[k];
            for (int j = 0; j < 8; j++) c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1)));
        }
        c = ~c;
        for (int k = 0; k < 8; k++) scratch[24 + k] = k < 4 ? (uint8_t)(c >> (8 * k)) : 0;
        bf_status s = bf_init(arena, sizeof arena, 0, &rt);
        s = s ? s : bf_load(rt, scratch, hn, CODE_REGION, CODE_LEN);
        if (s == BF_OK) {
            loaded++;
            uint32_t idx;
            (void)bf_export_func(rt, "div", &idx, 0, 0);
            if (inst && bf_instantiate(rt) == BF_OK) instantiated++;
        } else {
            refused++;
        }
    }
    put("resealed bit flips in what ");
    put(name);
    put("'s loader reads: ");
    put_u64(refused);
    put(" refused, ");
    put_u64(loaded);
    put(" loaded");
    if (inst) {
        put(", ");
        put_u64(instantiated);
        put(" instantiated (not run)");
    } else {
        put(" (not run)");
    }
    flush();
    expect(refused > loaded, "resealed flips mostly refused");
}

/* bounds.wat's import: asks the runtime to stop (as a timer interrupt would). */
static uint32_t host_stop(void *env, bf_runtime *rt, uint64_t *v) {
    (void)env;
    (void)v;
    return bf_interrupt(rt) == BF_OK ? 0 : 99;
}

/* Calls export `name` of the bounds runtime and prints
 * "bounds NAME -> status S trap T fuel F [result R]". */
static void bounded(bf_runtime *rt, const char *name) {
    uint32_t idx = 0;
    uint64_t v[1] = {0};
    expect(bf_export_func(rt, name, &idx, 0, 0) == BF_OK, "bounds export");
    bf_status s = bf_call(rt, idx, v, 1);
    put("bounds ");
    put(name);
    put(" -> status ");
    put_u64(s);
    put(" trap ");
    put_u64(s == BF_ERR_TRAP ? bf_trap_code(rt) : 0);
    put(" fuel ");
    put_u64(bf_get_fuel(rt));
    if (s == BF_OK) {
        put(" result ");
        put_u64(v[0]);
    }
    flush();
}

static bf_runtime *start(const char *snap, const uint8_t *b, const uint8_t *e, int bind) {
    static uint32_t fail_code = 42;
    bf_runtime *rt;
    bf_status s = bf_init(arena, sizeof arena, 0, &rt);
    expect(s == BF_OK, "bf_init");
    s = bf_load(rt, b, (size_t)(e - b), CODE_REGION, CODE_LEN);
    if (s != BF_OK) {
        put("load ");
        put(snap);
        put(" failed: ");
        put(bf_error_message(rt));
        flush();
        failures++;
        return 0;
    }
    if (bind) {
        expect(bf_bind(rt, "env", "log", host_log, 0) == BF_OK, "bind log");
        expect(bf_bind(rt, "env", "fail", host_fail, &fail_code) == BF_OK, "bind fail");
    }
    s = bf_instantiate(rt);
    if (s != BF_OK) {
        put("instantiate ");
        put(snap);
        put(" -> status ");
        put_u64(s);
        put(" ");
        put(bf_error_message(rt));
        flush();
        return 0;
    }
    return rt;
}

/* `freestanding FILE EXPORT`: loads the snapshot in FILE (read with raw open/read into
 * `scratch`), instantiates it and calls EXPORT(20), printing one line:
 *     file -> status <bf_load status> <message>         (refused)
 *     file -> loaded, call <status> <result slot>       (loaded and run)
 * Used by compiler/tests/firmware.rs to feed the C API crafted snapshots. */
static int load_file(const char *path, const char *export) {
    long fd = sys3(2, (long)path, 0, 0); /* open(path, O_RDONLY) */
    if (fd < 0) {
        put("file -> cannot open");
        flush();
        return 2;
    }
    size_t n = 0;
    for (;;) {
        long r = sys3(0, fd, (long)(scratch + n), (long)(sizeof scratch - n));
        if (r <= 0) break;
        n += (size_t)r;
        if (n == sizeof scratch) {
            put("file -> too large");
            flush();
            return 2;
        }
    }
    bf_runtime *rt;
    bf_status s = bf_init(arena, sizeof arena, 0, &rt);
    s = s ? s : bf_load(rt, scratch, n, CODE_REGION, CODE_LEN);
    if (s != BF_OK) {
        put("file -> status ");
        put_u64(s);
        put(" ");
        put(bf_error_message(rt));
        flush();
        return 0;
    }
    uint32_t idx, np, nr;
    s = bf_instantiate(rt);
    s = s ? s : bf_export_func(rt, export, &idx, &np, &nr);
    uint64_t v[8] = {20};
    s = s ? s : bf_call(rt, idx, v, 8);
    put("file -> loaded, call ");
    put_u64(s);
    put(" ");
    put_u64(v[0]);
    flush();
    return 0;
}

#ifdef BF_EXTENDED_API
/* ---- the module and instance view (bf_export_get ... bf_trap_message) ---------------------
 * Built only into the full program (build.sh: -DBF_EXTENDED_API); the loader-core figure is
 * measured on the program without it. Lines start with "api "; firmware.rs checks them. */
EMBED(snap_api, "api.snap")

static void put_n(const char *s, size_t n) {
    for (size_t i = 0; i < n && len < sizeof line - 1; i++) line[len++] = s[i];
}

static uint32_t host_log_api(void *env, bf_runtime *rt, uint64_t *v) {
    (void)env;
    (void)rt;
    return v[0] == 99 ? 1000 : 0; /* 99: a host error (not a trap code) */
}

/* Calls export `name` with its (up to two) arguments a, b; prints
 * "api call NAME ARGS -> R location S" or "api call NAME ARGS trap CODE MESSAGE location S"
 * (S: the bf_trap_location status), with " func F offset O" when there is a location. */
static uint64_t api_call(bf_runtime *rt, const char *name, uint64_t a, uint64_t b) {
    uint32_t idx, np = 0;
    uint64_t v[2] = {a, b};
    expect(bf_export_func(rt, name, &idx, &np, 0) == BF_OK, "api export");
    bf_status s = bf_call(rt, idx, v, 2);
    uint32_t f = 0, off = 0;
    bf_status l = bf_trap_location(rt, &f, &off);
    put("api call ");
    put(name);
    for (uint32_t i = 0; i < np && i < 2; i++) {
        put(" ");
        put_u64(i ? b : a);
    }
    if (s == BF_OK) {
        put(" -> ");
        put_u64(v[0]);
    } else {
        put(" trap ");
        put_u64(bf_trap_code(rt));
        put(" ");
        put(bf_trap_message(rt));
    }
    put(" location ");
    put_u64(l);
    if (l == BF_OK) {
        put(" func ");
        put_u64(f);
        put(" offset ");
        put_u64(off);
    }
    flush();
    return v[0];
}

static void api_checks(void) {
    bf_runtime *rt;
    bf_status s = bf_init(arena, sizeof arena, 0, &rt);
    s = s ? s : bf_load(rt, snap_api, (size_t)(snap_api_end - snap_api), CODE_REGION, CODE_LEN);
    expect(s == BF_OK, "api load");
    if (s != BF_OK) return;
    char sig[32];
    bf_extern e;
    uint32_t n = 0;
    /* Listing, before bf_instantiate. */
    expect(bf_import_count(rt, &n) == BF_OK, "import count");
    for (uint32_t i = 0; i < n; i++) {
        expect(bf_import_get(rt, i, &e) == BF_OK, "import get");
        put("api import ");
        put_n(e.module, e.module_len);
        put(".");
        put_n(e.name, e.name_len);
        put(" kind ");
        put_u64(e.kind);
        put(" index ");
        put_u64(e.index);
        if (e.kind == BF_EXTERN_FUNC && bf_func_signature(rt, e.index, sig, sizeof sig) == BF_OK) {
            put(" ");
            put(sig);
        }
        flush();
    }
    expect(bf_import_get(rt, n, &e) == BF_ERR_NOT_FOUND, "import past the end");
    expect(bf_export_count(rt, &n) == BF_OK, "export count");
    put("api exports ");
    put_u64(n);
    flush();
    for (uint32_t i = 0; i < n; i++) {
        expect(bf_export_get(rt, i, &e) == BF_OK && e.module == 0, "export get");
        put("api export ");
        put_n(e.name, e.name_len);
        put(" kind ");
        put_u64(e.kind);
        put(" index ");
        put_u64(e.index);
        if (e.kind == BF_EXTERN_FUNC && bf_func_signature(rt, e.index, sig, sizeof sig) == BF_OK) {
            put(" ");
            put(sig);
        }
        flush();
    }
    expect(bf_export_get(rt, n, &e) == BF_ERR_NOT_FOUND, "export past the end");
    put("api signature small buffer -> ");
    put_u64(bf_func_signature(rt, 4, sig, 4)); /* "(ii)i" needs 6 bytes */
    put(", no such function -> ");
    put_u64(bf_func_signature(rt, 1000, sig, sizeof sig));
    flush();
    /* Checked bindings: wrong signatures, a wrong name, a malformed string, then the right one. */
    static const char *const sigs[][2] = {
        {"log", "(ii)"}, {"log", "(iI)i"}, {"log", "(I)"}, {"nope", "(iI)"}, {"log", "(iI"},
        {"log", "(iX)"}, {"log", "(iI)"},
    };
    for (int i = 0; i < 7; i++) {
        s = bf_bind_typed(rt, "env", sigs[i][0], sigs[i][1], host_log_api, 0);
        put("api bind_typed env.");
        put(sigs[i][0]);
        put(" ");
        put(sigs[i][1]);
        put(" -> status ");
        put_u64(s);
        if (s != BF_OK) {
            put(" ");
            put(bf_error_message(rt));
        }
        flush();
    }
    expect(bf_global_get(rt, "counter", &(bf_value){0}, 0) == BF_ERR_STATE, "global before instance");
    s = bf_instantiate(rt);
    expect(s == BF_OK, "api instantiate");
    if (s != BF_OK) return;

    /* Globals. */
    static const char *const globals[] = {"counter", "limit", "scale", "fref"};
    for (int i = 0; i < 4; i++) {
        bf_value v = {0};
        int mut = -1;
        s = bf_global_get(rt, globals[i], &v, &mut);
        put("api global ");
        put(globals[i]);
        put(" -> status ");
        put_u64(s);
        put(" type ");
        put_u64(v.type);
        put(" mutable ");
        put_i64(mut);
        put(" bits ");
        put_u64(v.bits[0]);
        flush();
    }
    bf_value v41 = {BF_TYPE_I32, 0, {41, 0}};
    bf_value wrong = {BF_TYPE_I64, 0, {41, 0}};
    bf_value scale = {BF_TYPE_F64, 0, {0x4002000000000000ull, 0}}; /* 2.25 */
    bf_value limit = {BF_TYPE_I64, 0, {5, 0}};
    bf_value null_f = {BF_TYPE_FUNCREF, 0, {BF_NULL_FUNC, 0}};
    bf_value bad_f = {BF_TYPE_FUNCREF, 0, {999, 0}};
    struct {
        const char *name;
        const bf_value *v;
        const char *what;
    } sets[] = {
        {"counter", &v41, "i32 41"},  {"counter", &wrong, "i64 41"}, {"limit", &limit, "i64 5"},
        {"scale", &scale, "f64 2.25"}, {"fref", &null_f, "null"},   {"fref", &bad_f, "func 999"},
        {"nope", &v41, "i32 41"},     {"mem", &v41, "i32 41"},
    };
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++) {
        s = bf_global_set(rt, sets[i].name, sets[i].v);
        put("api global_set ");
        put(sets[i].name);
        put(" ");
        put(sets[i].what);
        put(" -> status ");
        put_u64(s);
        if (s != BF_OK) {
            put(" ");
            put(bf_error_message(rt));
        }
        flush();
    }
    api_call(rt, "read_counter", 0, 0);
    api_call(rt, "read_scale", 0, 0);
    bf_value fv = {0};
    expect(bf_global_get(rt, "fref", &fv, 0) == BF_OK && fv.bits[0] == BF_NULL_FUNC, "fref set to null");

    /* Tables: elements as function indices, callable with bf_call. */
    uint32_t tsize = 0;
    s = bf_table_size(rt, "tab", &tsize);
    put("api table tab size -> status ");
    put_u64(s);
    put(" ");
    put_u64(tsize);
    flush();
    for (uint32_t i = 0; i < 4; i++) {
        uint32_t f = 7777;
        s = bf_table_get(rt, "tab", i, &f);
        put("api table tab ");
        put_u64(i);
        put(" -> status ");
        put_u64(s);
        put(" func ");
        put_u64(f);
        if (s == BF_OK && f != BF_NULL_FUNC) {
            uint64_t v[1] = {21};
            put(" call(21) -> status ");
            put_u64(bf_call(rt, f, v, 1));
            put(" ");
            put_u64(v[0]);
        }
        flush();
    }
    uint32_t f = 0;
    put("api table refs get -> status ");
    put_u64(bf_table_get(rt, "refs", 0, &f));
    put(", table nope -> status ");
    put_u64(bf_table_size(rt, "nope", &tsize));
    put(", table counter -> status ");
    put_u64(bf_table_size(rt, "counter", &tsize));
    flush();

    /* Memory in place: written through the pointer, read by wasm; the pointer after growth. */
    uint8_t *base = 0;
    uint64_t mlen = 0;
    s = bf_memory_data(rt, 0, &base, &mlen);
    put("api memory 0 -> status ");
    put_u64(s);
    put(" length ");
    put_u64(mlen);
    flush();
    if (s == BF_OK) {
        base[200] = 4;
        base[201] = 3;
        base[202] = 2;
        base[203] = 1;
        api_call(rt, "load", 200, 0);
    }
    put("api memory 1 -> status ");
    put_u64(bf_memory_data(rt, 1, &base, &mlen));
    flush();
    api_call(rt, "grow", 1, 0);
    s = bf_memory_data(rt, 0, &base, &mlen);
    put("api memory 0 after grow -> status ");
    put_u64(s);
    put(" length ");
    put_u64(mlen);
    put(" byte 200 ");
    put_u64(s == BF_OK ? base[200] : 0);
    flush();

    /* Trap locations: compiled code names the function; a host error has none. */
    api_call(rt, "div", 7, 0);
    api_call(rt, "outer", 0, 0);
    api_call(rt, "call_slot", 2, 5);
    api_call(rt, "log", 99, 0);
    api_call(rt, "div", 7, 2);
}
#endif

int main(int argc, char **argv) {
    bf_runtime *rt;
    if (argc == 3) return load_file(argv[1], argv[2]);

    if ((rt = start("fibonacci", snap_fibonacci, snap_fibonacci_end, 0))) {
        uint64_t a[] = {20};
        run(rt, "fibonacci", "fib", a, 1);
    }
    if ((rt = start("sum_to_n", snap_sum_to_n, snap_sum_to_n_end, 0))) {
        uint64_t a[] = {100000};
        run(rt, "sum_to_n", "sum_to_n", a, 1);
    }
    if ((rt = start("multiply", snap_multiply, snap_multiply_end, 0))) {
        uint64_t a[] = {7, 100000};
        run(rt, "multiply", "multiply", a, 2);
    }
    if ((rt = start("sha256", snap_sha256, snap_sha256_end, 0))) {
        uint64_t a[] = {3};
        run(rt, "sha256", "run", a, 1);
        put("arena used ");
        put_u64(bf_arena_used(rt));
        flush();
    }
    if ((rt = start("host", snap_host, snap_host_end, 1))) {
        uint64_t a1[] = {5}, a2[] = {7, 2}, a3[] = {7, 0}, a4[] = {0x80000000u, 0xffffffffu};
        uint64_t a5[] = {16, 15}, a6[] = {65530, 100};
        run(rt, "host", "log_twice", a1, 1);
        run(rt, "host", "div", a2, 2);
        run(rt, "host", "div", a3, 2);
        run(rt, "host", "div", a4, 2);
        run(rt, "host", "host_fails", 0, 0);
        run(rt, "host", "sum_bytes", a5, 2);
        run(rt, "host", "sum_bytes", a6, 2);
        /* Still usable after traps; the host writes memory, wasm reads it. */
        expect(bf_memory_write(rt, 100, "\x01\x02\x03", 3) == BF_OK, "memory write");
        uint64_t a7[] = {100, 3};
        verb = "stateful ";
        run(rt, "host", "sum_bytes", a7, 2);
        verb = "call ";
        uint64_t size = 0;
        char c;
        expect(bf_memory_size(rt, &size) == BF_OK && size == 65536, "memory size");
        expect(bf_memory_read(rt, size, &c, 1) == BF_ERR_BOUNDS, "memory read out of bounds");
        expect(bf_export_func(rt, "nope", 0, 0, 0) == BF_ERR_NOT_FOUND, "missing export");
    }

    /* memory64 / table64 (issue #16 item 4): i64 addresses and indices; addresses of 2^32
     * and more trap instead of aliasing a valid one; a 4 GiB memory64 memory is refused. */
    if ((rt = start("mem64", snap_mem64, snap_mem64_end, 0))) {
        static const uint64_t m1[][2] = {{16, 0},         {4294967312u, 0}, {65532, 305419896},
                                         {4294967296u, 1}, {1, 0},          {4294967297u, 0}};
        run(rt, "mem64", "load", m1[0], 1);
        run(rt, "mem64", "load", m1[1], 1);
        run(rt, "mem64", "store_load", m1[2], 2);
        run(rt, "mem64", "store_load", m1[3], 2);
        run(rt, "mem64", "call", m1[4], 1);
        run(rt, "mem64", "call", m1[5], 1);
        verb = "stateful ";
        run(rt, "mem64", "grow", m1[4], 1);
        run(rt, "mem64", "grow", m1[4], 1);
        verb = "call ";
        uint64_t size = 0;
        char c;
        expect(bf_memory_size(rt, &size) == BF_OK && size == 131072, "memory64 size");
        expect(bf_memory_read(rt, 4294967296u, &c, 1) == BF_ERR_BOUNDS, "memory64 read at 2^32");
    }
    start("mem64-huge", snap_mem64_huge, snap_mem64_huge_end, 0);

#ifdef BF_EXTENDED_API
    /* Multi-memory (issue #16 item 3): memory 1 through bf_memory_read_mem/write_mem; an
     * address in bounds on memory 0 (2 pages) but not on memory 1 (1 page) traps there.
     * In the extended program only: freestanding-core measures the loader core of an
     * embedding that uses memory 0 alone. */
    if ((rt = start("multimem", snap_multimem, snap_multimem_end, 0))) {
        static const uint64_t a[][3] = {{16}, {70000}, {32, 77}, {8, 0x55667788u, 40}, {1}};
        run(rt, "multimem", "load1", a[0], 1);
        run(rt, "multimem", "load0", a[0], 1);
        run(rt, "multimem", "load0", a[1], 1);
        run(rt, "multimem", "load1", a[1], 1);
        run(rt, "multimem", "store1", a[2], 2);
        run(rt, "multimem", "store2_copy", a[3], 3);
        uint8_t b[4] = {0};
        expect(bf_memory_read_mem(rt, 1, 16, b, 4) == BF_OK && b[0] == 42, "memory 1 read");
        expect(bf_memory_read_mem(rt, 1, 40, b, 4) == BF_OK && b[0] == 0x88 && b[3] == 0x55,
               "memory 1 read of the copy from memory 2");
        expect(bf_memory_read(rt, 16, b, 4) == BF_OK && b[0] == 0, "memory 0 untouched");
        expect(bf_memory_write_mem(rt, 1, 100, "\x09\x00\x00\x00", 4) == BF_OK, "memory 1 write");
        expect(bf_memory_read_mem(rt, 1, 65536, b, 1) == BF_ERR_BOUNDS, "memory 1 bounds");
        expect(bf_memory_read_mem(rt, 3, 0, b, 1) == BF_ERR_NOT_FOUND, "no memory 3");
        uint64_t at100[] = {100};
        verb = "stateful ";
        run(rt, "multimem", "load1", at100, 1);
        run(rt, "multimem", "grow1", a[4], 1);
        run(rt, "multimem", "grow1", a[4], 1);
        run(rt, "multimem", "load1", a[1], 1);
        verb = "call ";
        expect(bf_memory_read_mem(rt, 1, 131068, b, 4) == BF_OK, "memory 1 read after grow");
        expect(bf_memory_read_mem(rt, 1, 131072, b, 1) == BF_ERR_BOUNDS, "memory 1 grown once");
    }
#endif

    /* Segments, tables, globals and the bulk-memory/table libcalls of the instance. */
    if ((rt = start("bulk", snap_bulk, snap_bulk_end, 0))) {
        static const uint64_t one[][1] = {{0}, {1}, {2}, {8}, {9}, {100}, {101}, {102}};
        for (int i = 0; i < 8; i++) run(rt, "bulk", "mem_ops", one[i], 1);
        for (int i = 0; i < 3; i++) run(rt, "bulk", "init_dropped", one[i], 1);
        for (int i = 5; i < 8; i++) run(rt, "bulk", "peek", one[i], 1);
        for (int i = 0; i < 2; i++) run(rt, "bulk", "init_active", one[i], 1);
        static const uint64_t two[][2] = {{0, 5}, {1, 5}, {2, 5}, {3, 5}, {4, 5}, {99, 1}};
        for (int i = 0; i < 6; i++) run(rt, "bulk", "table_ops", two[i], 2);
        for (int i = 0; i < 4; i++) run(rt, "bulk", "table_null", two[i], 2);
        run(rt, "bulk", "table_global", one[7], 1);
        for (int i = 0; i < 2; i++) run(rt, "bulk", "elem_dropped", one[i], 1);
        for (int i = 0; i < 3; i++) run(rt, "bulk", "table_oob", one[i], 1);
        run(rt, "bulk", "glob", one[3], 1);
        verb = "stateful ";
        run(rt, "bulk", "grow", one[2], 1);
        run(rt, "bulk", "grow", one[2], 1);
        run(rt, "bulk", "tgrow", one[2], 1);
        run(rt, "bulk", "tgrow", one[6], 1);
        /* After table.grow the new slots hold $f1 (x + 1). */
        static const uint64_t grown[2] = {5, 41};
        run(rt, "bulk", "table_null", grown, 2);
        verb = "call ";
        uint64_t size = 0;
        expect(bf_memory_size(rt, &size) == BF_OK && size == 3 * 65536, "memory size after grow");
    }

    /* Bounded execution: fuel and bf_interrupt stop `(loop br 0)`; the same instance answers
     * the next call. */
    {
        bf_status s = bf_init(arena, sizeof arena, 0, &rt);
        s = s ? s : bf_load(rt, snap_bounds, (size_t)(snap_bounds_end - snap_bounds),
                            CODE_REGION, CODE_LEN);
        s = s ? s : bf_bind(rt, "env", "stop", host_stop, 0);
        s = s ? s : bf_instantiate(rt);
        expect(s == BF_OK, "bounds instantiate");
        if (s == BF_OK) {
            expect(bf_set_fuel(rt, 100000) == BF_OK, "bf_set_fuel");
            bounded(rt, "spin");
            expect(bf_set_fuel(rt, 10) == BF_OK, "bf_set_fuel again");
            bounded(rt, "seven");
            bounded(rt, "stop_then_spin");
            bounded(rt, "seven");
        }
        /* A snapshot without the checks refuses both. */
        s = bf_init(arena, sizeof arena, 0, &rt);
        s = s ? s : bf_load(rt, snap_fibonacci, (size_t)(snap_fibonacci_end - snap_fibonacci),
                            CODE_REGION, CODE_LEN);
        put("bounds unchecked -> set_fuel ");
        put_u64(s ? s : bf_set_fuel(rt, 5));
        put(" interrupt ");
        put_u64(s ? s : bf_interrupt(rt));
        flush();
    }

    /* Error paths: each must come back as a status. */
    if (start("host-unbound", snap_host, snap_host_end, 0)) failures++;
    {
        /* Signatures required in a library without the verifier: fails closed. */
        bf_status s = bf_init(arena, sizeof arena, 0, &rt);
        bf_status r = s ? s : bf_require_signature(rt, 1);
        s = s ? s : bf_load(rt, snap_fibonacci, (size_t)(snap_fibonacci_end - snap_fibonacci),
                            CODE_REGION, CODE_LEN);
        put("require signature -> status ");
        put_u64(r);
        put(", load -> status ");
        put_u64(s);
        put(" ");
        put(bf_error_message(rt));
        flush();
        expect(r == BF_ERR_SIGNATURE && s == BF_ERR_SIGNATURE, "required signature fails closed");
    }
    {
        /* A snapshot compiled for guard-page memory: this library runs checked code only. */
        bf_status s = bf_init(arena, sizeof arena, 0, &rt);
        s = s ? s : bf_load(rt, snap_fibonacci_guard,
                            (size_t)(snap_fibonacci_guard_end - snap_fibonacci_guard),
                            CODE_REGION, CODE_LEN);
        put("load guard-mode -> status ");
        put_u64(s);
        put(" ");
        put(bf_error_message(rt));
        flush();
        expect(s == BF_ERR_LOAD, "guard-mode snapshot refused");
        expect(bf_instantiate(rt) == BF_ERR_STATE, "nothing loaded after a refused snapshot");
    }
    {
        size_t n = (size_t)(snap_fibonacci_end - snap_fibonacci);
        if (n <= sizeof scratch) {
            for (size_t i = 0; i < n; i++) scratch[i] = snap_fibonacci[i];
            scratch[n / 2] ^= 0x40;
            bf_status s = bf_init(arena, sizeof arena, 0, &rt);
            s = s ? s : bf_load(rt, scratch, n, CODE_REGION, CODE_LEN);
            put("load corrupted -> status ");
            put_u64(s);
            put(" ");
            put(bf_error_message(rt));
            flush();
            expect(s == BF_ERR_LOAD, "corrupted snapshot rejected");
        }
#ifdef XIP
        /* An XIP snapshot given a code region: the relocating path copies it there (0); a
         * library built without it (no `relocate` feature) refuses with BF_ERR_ARG (1). */
        {
            bf_status s = bf_init(arena, sizeof arena, 0, &rt);
            s = s ? s : bf_load(rt, snap_fibonacci, (size_t)(snap_fibonacci_end - snap_fibonacci),
                                code_region, CODE_LEN);
            put("load xip snapshot into a code region -> status ");
            put_u64(s);
            if (s != BF_OK) {
                put(" ");
                put(bf_error_message(rt));
            }
            flush();
        }
#endif
        /* Every byte the loader reads flipped in turn, the checksum re-sealed (see
         * `flips`): host.snap loaded, bulk.snap (tables, globals, segments, no start
         * function) loaded and instantiated. */
        flips("host.snap", snap_host, snap_host_end, 0);
        flips("bulk.snap", snap_bulk, snap_bulk_end, 1);
        /* An arena with room for the runtime state but not the instance: BF_ERR_ARENA. */
        bf_status s = BF_OK;
        size_t small = 256;
        while (small < 65536 && (s = bf_init(arena, small, 0, &rt)) == BF_ERR_ARENA) small += 256;
        s = s ? s : bf_load(rt, snap_sha256, (size_t)(snap_sha256_end - snap_sha256), CODE_REGION,
                            CODE_LEN);
        /* Execute in place needs no arena at load time: the instance is what does not fit. */
        s = s ? s : bf_instantiate(rt);
        put("load into a ");
        put_u64(small);
        put("-byte arena -> status ");
        put_u64(s);
        put(" ");
        put(bf_error_message(rt));
        flush();
        expect(s == BF_ERR_ARENA, "small arena reported");
        expect(bf_instantiate(rt) == BF_ERR_STATE, "poisoned runtime refuses calls");
    }

#ifdef BF_EXTENDED_API
    api_checks();
#endif
    put(failures ? "FAILED " : "done ");
    put_u64((uint64_t)failures);
    flush();
    return failures ? 1 : 0;
}
