/* The C side of the BareFlow QEMU image: serial output on COM1, snapshots read from a FAT16
 * disk (disk.c: ATA PIO, FAT16 reader) into a buffer that is then mapped read-only, calls into
 * them through the C API (libbareflow.a) in place, and the exit through QEMU's isa-debug-exit.
 *
 * The disk's root directory holds the snapshots (`*.SNP`, XIP snapshots from `bareflow compile
 * --xip`) and optionally RUN.TXT, which says what to call (below, `parse_manifest`). The image
 *   1. finds the disk and validates its boot sector / BPB ("disk refused: ..." otherwise),
 *   2. lists the root directory's files and checks every cluster chain before running
 *      anything: one corrupt file refuses the whole disk,
 *   3. for each snapshot in directory order: reads it into the snapshot buffer, maps the
 *      buffer read-only, loads it in place (the loader's checks: structure, entry table,
 *      CPU features, memory mode), binds env.write, instantiates, runs its RUN.TXT calls,
 * and prints one line per call (the same format as the freestanding proof):
 *     call <file> <export> <args...> -> <result slots as unsigned decimal>
 *     call <file> <export> <args...> trap <code> <message>
 * checking each against RUN.TXT's expectation (a mismatch prints a FAIL line). It then writes
 * one byte into the snapshot buffer, which must page-fault (it is mapped read-only), and ends
 * with "done 0" and exit code SUCCESS, or "FAILED <n>" and FAILURE. A refused disk exits
 * with FAILURE too. Any other CPU exception prints "exception ..." and exits with FAILURE.
 * compiler/tests/qemu.rs boots it and also replays every call line in the interpreter. */
#include <stddef.h>
#include <stdint.h>

#include "bareflow.h"
#include "disk.h"

/* QEMU exits with status (value << 1) | 1: 33 for SUCCESS, 35 for FAILURE. */
#define SUCCESS 0x10u
#define FAILURE 0x11u
#define DEBUG_EXIT_PORT 0xf4
#define COM1 0x3f8

/* The runtime state, instances and linear memories: 4 MiB of .bss (sha256 uses ~330 KB). */
static uint8_t arena[4u << 20] __attribute__((aligned(4096)));

/* ---- port I/O, serial, exit ------------------------------------------------------------ */
static inline void outb(uint16_t port, uint8_t v) {
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port) {
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline void outl(uint16_t port, uint32_t v) {
    __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static void serial_init(void) {
    outb(COM1 + 1, 0x00); /* no interrupts */
    outb(COM1 + 3, 0x80); /* DLAB: set the divisor */
    outb(COM1 + 0, 0x01); /* 115200 baud */
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03); /* 8N1 */
    outb(COM1 + 2, 0xc7); /* FIFO on, cleared */
    outb(COM1 + 4, 0x03); /* DTR, RTS */
}

static void serial_putc(char c) {
    while (!(inb(COM1 + 5) & 0x20)) { /* wait until the transmitter holding register is empty */
    }
    outb(COM1, (uint8_t)c);
}

__attribute__((noreturn)) static void qemu_exit(uint32_t code) {
    outl(DEBUG_EXIT_PORT, code);
    /* Without the isa-debug-exit device: stop here. */
    for (;;) __asm__ volatile("cli; hlt");
}

/* ---- line output ------------------------------------------------------------------------ */
static char line[256];
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
static void put_hex(uint64_t v) {
    char b[19];
    int i = sizeof b;
    b[--i] = 0;
    do b[--i] = "0123456789abcdef"[v & 15]; while ((v >>= 4) && i > 2);
    b[--i] = 'x';
    b[--i] = '0';
    put(b + i);
}
static void flush(void) {
    for (size_t i = 0; i < len; i++) serial_putc(line[i]);
    serial_putc('\r');
    serial_putc('\n');
    len = 0;
}

static int failures;

/* Reports the result and leaves QEMU. */
__attribute__((noreturn)) static void finish(void) {
    put(failures ? "FAILED " : "done ");
    put_u64((uint64_t)failures);
    flush();
    qemu_exit(failures ? FAILURE : SUCCESS);
}

/* The address of the write that must fault (see probe_read_only), 0 when none is expected. */
static volatile uint64_t probe_addr;

/* Called by boot.S for any CPU exception (vectors 0-31): report it and fail, unless it is the
 * page fault probe_read_only provokes. */
__attribute__((noreturn)) void exception(uint64_t vector, uint64_t error, uint64_t rip,
                                         uint64_t cr2) {
    len = 0;
    if (vector == 14 && probe_addr && cr2 == probe_addr) {
        put("write to snapshot memory at ");
        put_hex(cr2);
        put(" -> page fault (error ");
        put_hex(error);
        put("): read-only");
        flush();
        finish();
    }
    put("exception ");
    put_u64(vector);
    put(" error ");
    put_hex(error);
    put(" rip ");
    put_hex(rip);
    put(" cr2 ");
    put_hex(cr2);
    flush();
    qemu_exit(FAILURE);
}

/* Writes one byte into the snapshot buffer: the page tables map it read-only while a snapshot
 * runs from it, so this must fault, and exception() finishes. Code running in place cannot be
 * patched. */
__attribute__((noreturn)) static void probe_read_only(volatile uint8_t *p) {
    probe_addr = (uint64_t)(uintptr_t)p;
    *p = *p;
    probe_addr = 0;
    put("FAIL snapshot memory is writable");
    flush();
    failures++;
    finish();
}

/* ---- the snapshot buffer ---------------------------------------------------------------- */
/* One 2 MiB page of .bss (the linker script puts it first, 2 MiB-aligned), mapped by one entry
 * of boot.S's page directory: writable while a file is read into it, read-only while the
 * snapshot in it is loaded and runs in place. */
#define SNAPBUF_SIZE (2u << 20)
static uint8_t snapbuf[SNAPBUF_SIZE]
    __attribute__((aligned(SNAPBUF_SIZE), section(".bss.snapbuf")));
extern uint64_t pd[512]; /* boot.S: the page directory of the first 1 GiB */

static void snapbuf_writable(int on) {
    uint64_t *e = &pd[(uintptr_t)snapbuf >> 21];
    *e = on ? *e | 2u : *e & ~(uint64_t)2u;
    __asm__ volatile("invlpg (%0)" : : "r"(snapbuf) : "memory");
}

/* ---- RUN.TXT: what to call ------------------------------------------------------------- */
/* One call per line, `#` starts a comment:
 *     <FILE.SNP> <export> [<arg>...] [-> <result> | trap <code>]
 *     <FILE.SNP> refused        (bf_load must refuse this snapshot)
 * Arguments and results are unsigned decimal (at most 4 arguments, at most one result);
 * without an expectation a call passes when it returns. */
#define MAX_CALLS 64
#define MAX_ARGS 4
struct call {
    const char *file, *export;
    int refused;
    uint32_t nargs;
    uint64_t args[MAX_ARGS];
    int expect; /* 0: returns, 1: returns `want`, 2: traps with code `want` */
    uint64_t want;
    int ran;
};
static struct call calls[MAX_CALLS];
static uint32_t ncalls;
static char manifest[4096 + 1];

static int streq(const char *a, const char *b) {
    while (*a && *a == *b) a++, b++;
    return *a == *b;
}

static int parse_u64(const char *s, uint64_t *out) {
    uint64_t v = 0;
    if (!*s) return 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return 0;
        uint64_t d = (uint64_t)(*s - '0');
        if (v > (UINT64_MAX - d) / 10) return 0;
        v = v * 10 + d;
    }
    *out = v;
    return 1;
}

/* Splits manifest[0..n] into NUL-terminated words and fills `calls`; 0 or why not. */
static const char *parse_manifest(size_t n, uint32_t *bad_line) {
    char *p = manifest, *end = manifest + n;
    *end = 0;
    for (uint32_t line = 1; p < end; line++) {
        *bad_line = line;
        char *words[3 + MAX_ARGS + 2];
        uint32_t nw = 0;
        int comment = 0;
        while (p < end && *p != '\n') {
            if (*p == '#') comment = 1;
            if (comment || *p == ' ' || *p == '\t' || *p == '\r') {
                *p++ = 0;
                continue;
            }
            if (nw == sizeof words / sizeof words[0]) return "too many words";
            words[nw++] = p;
            while (p < end && *p != '\n' && *p != ' ' && *p != '\t' && *p != '\r' && *p != '#')
                p++;
        }
        if (p < end) *p++ = 0;
        if (nw == 0) continue;
        if (nw < 2) return "a file name without an export";
        if (ncalls == MAX_CALLS) return "more than 64 calls";
        struct call *c = &calls[ncalls++];
        c->file = words[0];
        c->export = words[1];
        if (streq(words[1], "refused")) {
            if (nw != 2) return "words after `refused`";
            c->refused = 1;
            continue;
        }
        uint32_t w = 2;
        for (; w < nw && !streq(words[w], "->") && !streq(words[w], "trap"); w++) {
            if (c->nargs == MAX_ARGS) return "more than 4 arguments";
            if (!parse_u64(words[w], &c->args[c->nargs++])) return "an argument is not decimal";
        }
        if (w < nw) {
            c->expect = streq(words[w], "->") ? 1 : 2;
            if (w + 2 != nw || !parse_u64(words[w + 1], &c->want))
                return "`->` / `trap` not followed by one decimal number";
        }
    }
    return 0;
}

/* ---- the calls -------------------------------------------------------------------------- */
#ifdef SIGN_PUBKEY
/* build.sh SIGN_KEY=PREFIX: PREFIX.pub. Every snapshot must carry a valid Ed25519 signature
 * under it (checked by bf_load on the raw bytes, before anything is parsed). The key is part of
 * the image, not of the disk: a disk cannot bring its own. */
static const uint8_t sign_pubkey[32] = SIGN_PUBKEY;
#endif

/* env.write(ptr, len): prints `len` bytes of linear memory at `ptr` as a line "wasm: ...". */
static uint32_t host_write(void *env, bf_runtime *rt, uint64_t *v) {
    (void)env;
    char text[128];
    uint32_t ptr = (uint32_t)v[0], n = (uint32_t)v[1];
    if (n >= sizeof text || bf_memory_read(rt, ptr, text, n) != BF_OK) return BF_TRAP_HOST_ERROR;
    text[n] = 0;
    put("wasm: ");
    put(text);
    flush();
    return 0;
}

static void fail_status(bf_runtime *rt, bf_status st) {
    put(": FAIL status ");
    put_u64(st);
    put(" ");
    put(bf_status_message(st));
    put(" ");
    put(bf_error_message(rt));
    flush();
    failures++;
}

/* Loads and instantiates the snapshot in snapbuf in place; NULL on error (a FAIL line, or the
 * refusal line when RUN.TXT says `refused`). */
static bf_runtime *start(const struct fat16_file *f, int refused) {
    bf_runtime *rt;
    bf_status st = bf_init(arena, sizeof arena, 0, &rt);
#ifdef SIGN_PUBKEY
    if (st == BF_OK) st = bf_set_public_key(rt, sign_pubkey);
    if (st == BF_OK) st = bf_require_signature(rt, 1);
#endif
    if (st == BF_OK) st = bf_load(rt, snapbuf, f->size, NULL, 0);
    if (refused) {
        put("snapshot ");
        put(f->name);
        put(" -> status ");
        put_u64(st);
        put(" ");
        put(st == BF_OK ? "loaded" : bf_error_message(rt));
        flush();
        if (st == BF_OK) {
            put("FAIL ");
            put(f->name);
            put(" was to be refused");
            flush();
            failures++;
        }
        return NULL;
    }
    /* Binding a name the snapshot does not import is harmless. */
    if (st == BF_OK) st = bf_bind(rt, "env", "write", host_write, NULL);
    if (st == BF_OK) st = bf_instantiate(rt);
    put("snapshot ");
    put(f->name);
    put(" ");
    put_u64(f->size);
    put(" bytes at ");
    put_hex((uint64_t)(uintptr_t)snapbuf);
    if (st != BF_OK) {
        fail_status(rt, st);
        return NULL;
    }
    put(", in place");
    flush();
    return rt;
}

static void run(bf_runtime *rt, const struct call *c) {
    uint32_t idx, np, nr;
    uint64_t v[MAX_ARGS] = {0};
    bf_status st = bf_export_func(rt, c->export, &idx, &np, &nr);
    if (st != BF_OK || np != c->nargs || nr > 1) {
        put("FAIL ");
        put(c->file);
        put(": no export ");
        put(c->export);
        put(" with that many parameters and at most one result");
        flush();
        failures++;
        return;
    }
    for (uint32_t i = 0; i < c->nargs; i++) v[i] = c->args[i];
    st = bf_call(rt, idx, v, MAX_ARGS);
    put("call ");
    put(c->file);
    put(" ");
    put(c->export);
    for (uint32_t i = 0; i < c->nargs; i++) {
        put(" ");
        put_u64(c->args[i]);
    }
    int ok;
    if (st == BF_OK) {
        put(" ->");
        for (uint32_t i = 0; i < nr; i++) {
            put(" ");
            put_u64(v[i]);
        }
        ok = c->expect == 0 || (c->expect == 1 && nr == 1 && v[0] == c->want);
    } else if (st == BF_ERR_TRAP) {
        put(" trap ");
        put_u64(bf_trap_code(rt));
        put(" ");
        put(bf_error_message(rt));
        ok = c->expect == 2 && bf_trap_code(rt) == c->want;
    } else {
        put(" error ");
        put(bf_status_message(st));
        ok = 0;
    }
    flush();
    if (!ok) {
        put("FAIL expected ");
        put(c->expect == 2 ? "trap " : c->expect == 1 ? "" : "a result");
        if (c->expect) put_u64(c->want);
        flush();
        failures++;
    }
}

/* ---- the disk --------------------------------------------------------------------------- */
#define MAX_FILES 64
static struct fat16 fs;
static struct fat16_file files[MAX_FILES];
static uint32_t nfiles, nfiles_seen;

static int collect(const struct fat16_file *f, void *ctx) {
    (void)ctx;
    nfiles_seen++;
    if (nfiles == MAX_FILES) return 1;
    files[nfiles++] = *f;
    return 0;
}

static int ends_with(const char *s, const char *suffix) {
    size_t a = 0, b = 0;
    while (s[a]) a++;
    while (suffix[b]) b++;
    return a >= b && streq(s + a - b, suffix);
}

__attribute__((noreturn)) static void refuse_disk(const char *why) {
    put("disk refused: ");
    put(why);
    flush();
    failures++;
    finish();
}

__attribute__((noreturn)) void kmain(void) {
    serial_init();
    flush(); /* end the firmware's last line */
    put("BareFlow bare-metal x86-64: long mode, SSE on, snapshots from a FAT16 disk, run in "
        "place from read-only pages");
    flush();
#ifdef SIGN_PUBKEY
    {
        char hex[65];
        for (int i = 0; i < 32; i++) {
            hex[2 * i] = "0123456789abcdef"[sign_pubkey[i] >> 4];
            hex[2 * i + 1] = "0123456789abcdef"[sign_pubkey[i] & 15];
        }
        hex[64] = 0;
        put("signatures required: Ed25519 public key ");
        put(hex);
        flush();
    }
#else
    put("signatures not configured (build.sh SIGN_KEY): any well-formed snapshot runs");
    flush();
#endif

    uint32_t sectors;
    const char *e = ata_init(&sectors);
    if (e) refuse_disk(e);
    e = fat16_mount(&fs, sectors);
    if (e) refuse_disk(e);
    put("disk ");
    put_u64(sectors);
    put(" sectors, FAT16 volume at sector ");
    put_u64(fs.part_lba);
    put(": ");
    put_u64(fs.clusters);
    put(" clusters of ");
    put_u64(fs.cluster_sectors * 512);
    put(" bytes, ");
    put_u64(fs.root_entries);
    put(" root entries");
    flush();

    /* List and check every file before anything runs. */
    e = fat16_list(&fs, collect, NULL);
    if (e) refuse_disk(e);
    if (nfiles_seen > MAX_FILES) refuse_disk("more than 64 files in the root directory");
    uint32_t corrupt = 0, snaps = 0;
    const struct fat16_file *run_txt = NULL;
    for (uint32_t i = 0; i < nfiles; i++) {
        const struct fat16_file *f = &files[i];
        int snap = ends_with(f->name, ".SNP"), is_run = streq(f->name, "RUN.TXT");
        put("file ");
        put(f->name);
        put(" ");
        put_u64(f->size);
        put(" bytes");
        if (!snap && !is_run) {
            put(" (ignored)");
            flush();
            continue;
        }
        e = fat16_check(&fs, f);
        if (e) {
            put(": refused: ");
            put(e);
            put(" (cluster ");
            put_u64(fat16_bad_cluster);
            put(")");
            corrupt++;
        } else if (snap && f->size > SNAPBUF_SIZE) {
            put(": refused: larger than the 2 MiB snapshot buffer");
            corrupt++;
        } else if (is_run && f->size > sizeof manifest - 1) {
            put(": refused: RUN.TXT larger than 4096 bytes");
            corrupt++;
        }
        flush();
        snaps += (uint32_t)snap;
        if (is_run) run_txt = f;
    }
    if (corrupt) refuse_disk("corrupt file system (nothing was run)");
    if (!snaps) refuse_disk("no *.SNP file in the root directory");
    if (run_txt) {
        uint32_t bad_line = 0;
        e = fat16_read(&fs, run_txt, (uint8_t *)manifest, sizeof manifest - 1);
        if (e) refuse_disk(e);
        e = parse_manifest(run_txt->size, &bad_line);
        if (e) {
            put("RUN.TXT line ");
            put_u64(bad_line);
            put(": ");
            put(e);
            flush();
            refuse_disk("bad RUN.TXT");
        }
    }

    for (uint32_t i = 0; i < nfiles; i++) {
        const struct fat16_file *f = &files[i];
        if (!ends_with(f->name, ".SNP")) continue;
        int refused = 0;
        for (uint32_t k = 0; k < ncalls; k++)
            if (streq(calls[k].file, f->name) && calls[k].refused) refused = 1;
        snapbuf_writable(1);
        e = fat16_read(&fs, f, snapbuf, SNAPBUF_SIZE);
        snapbuf_writable(0);
        if (e) refuse_disk(e); /* checked above: only a disk that changed under us */
        bf_runtime *rt = start(f, refused);
        for (uint32_t k = 0; k < ncalls; k++) {
            if (!streq(calls[k].file, f->name)) continue;
            calls[k].ran = 1;
            if (rt && !calls[k].refused) run(rt, &calls[k]);
        }
        if (rt) {
            put("arena used ");
            put_u64(bf_arena_used(rt));
            flush();
        }
    }
    for (uint32_t k = 0; k < ncalls; k++) {
        if (calls[k].ran) continue;
        put("FAIL RUN.TXT names ");
        put(calls[k].file);
        put(", which is not on the disk");
        flush();
        failures++;
    }

    probe_read_only((volatile uint8_t *)snapbuf);
}
