/* The C side of the BareFlow QEMU image: serial output on COM1, the execute-in-place
 * snapshots embedded in read-only memory, calls into them through the C API (libbareflow.a),
 * and the exit through QEMU's isa-debug-exit device.
 *
 * Prints one line per call (the same format as the freestanding proof):
 *     call <snapshot> <export> <args...> -> <result slots as unsigned decimal>
 *     call <snapshot> <export> <args...> trap <code> <message>
 * checks each against the expected value in `calls` below (a mismatch prints a FAIL line),
 * then writes one byte into a snapshot, which must page-fault (the snapshots are mapped
 * read-only), and ends with "done 0" and exit code SUCCESS, or "FAILED <n>" and FAILURE.
 * Any other CPU exception prints "exception ..." and exits with FAILURE.
 * compiler/tests/qemu.rs boots it and also replays every call line in the interpreter. */
#include <stddef.h>
#include <stdint.h>

#include "bareflow.h"

/* QEMU exits with status (value << 1) | 1: 33 for SUCCESS, 35 for FAILURE. */
#define SUCCESS 0x10u
#define FAILURE 0x11u
#define DEBUG_EXIT_PORT 0xf4
#define COM1 0x3f8

/* ---- the snapshots (SNAP_DIR is set by build.sh) --------------------------------------- */
/* In .bfsnap, which the linker script places in the read-only part of the image: their code
 * runs right there (bf_load with code = NULL). The loader checks that the code is aligned as
 * the snapshot requires (16 bytes for Cranelift's code and constants; 64 is ample). */
#define EMBED(sym, file)                                                                   \
    __asm__(".section .bfsnap,\"ax\",@progbits\n.balign 64\n.globl " #sym "\n" #sym      \
            ":\n.incbin \"" SNAP_DIR "/" file "\"\n.globl " #sym "_end\n" #sym "_end:\n"    \
            ".previous\n");                                                                \
    extern const uint8_t sym[], sym##_end[];
EMBED(snap_fibonacci, "fibonacci.snap")
EMBED(snap_sum_to_n, "sum_to_n.snap")
EMBED(snap_multiply, "multiply.snap")
EMBED(snap_sha256, "sha256.snap")
EMBED(snap_trap, "trap.snap")
EMBED(snap_serial, "serial.snap")
EMBED(snap_guard, "fibonacci-guard.snap")

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

/* Writes one byte into the first snapshot: the page tables map the snapshots read-only, so
 * this must fault, and exception() finishes. Code running in place cannot be patched. */
__attribute__((noreturn)) static void probe_read_only(volatile uint8_t *p) {
    probe_addr = (uint64_t)(uintptr_t)p;
    *p = *p;
    probe_addr = 0;
    put("FAIL snapshot memory is writable");
    flush();
    failures++;
    finish();
}

/* ---- the calls and what they must return ------------------------------------------------- */
/* `want` is the result slot (unsigned) for OK, or the trap code when `trap` is set. The sample
 * values are the checksums of wasm-samples/README.md. */
struct call {
    const char *snap;
    const char *export;
    uint32_t nargs;
    uint64_t args[2];
    int trap;
    uint64_t want;
};

static const struct call calls[] = {
    {"fibonacci", "fib", 1, {20}, 0, 6765},
    {"sum_to_n", "sum_to_n", 1, {100000}, 0, 5000050000ull},
    {"multiply", "multiply", 2, {7, 100000}, 0, 700000},
    {"sha256", "run", 1, {3}, 0, 1881288049129779168ull},
    {"trap", "boom", 0, {0}, 1, BF_TRAP_UNREACHABLE},
    {"trap", "div", 2, {7, 0}, 1, BF_TRAP_INTEGER_DIVIDE_BY_ZERO},
    {"trap", "load", 1, {65533}, 1, BF_TRAP_MEMORY_OUT_OF_BOUNDS},
    {"trap", "deep", 1, {0}, 1, BF_TRAP_STACK_OVERFLOW},
    /* After four traps the instance still works. */
    {"trap", "div", 2, {7, 2}, 0, 3},
    {"trap", "load", 1, {65532}, 0, 0},
    /* Wasm calls the host (host_write) twice; returns the bytes written. */
    {"serial", "hello", 1, {2}, 0, 60},
};

struct snap {
    const char *name;
    const uint8_t *start, *end;
    int bind; /* imports env.write */
};

static const struct snap snaps[] = {
    {"fibonacci", snap_fibonacci, snap_fibonacci_end, 0},
    {"sum_to_n", snap_sum_to_n, snap_sum_to_n_end, 0},
    {"multiply", snap_multiply, snap_multiply_end, 0},
    {"sha256", snap_sha256, snap_sha256_end, 0},
    {"trap", snap_trap, snap_trap_end, 0},
    {"serial", snap_serial, snap_serial_end, 1},
};

static int streq(const char *a, const char *b) {
    while (*a && *a == *b) a++, b++;
    return *a == *b;
}

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

/* Loads and instantiates one snapshot in place; NULL (after a FAIL line) on error. */
static bf_runtime *start(const struct snap *s) {
    bf_runtime *rt;
    bf_status st = bf_init(arena, sizeof arena, 0, &rt);
    if (st == BF_OK) st = bf_load(rt, s->start, (size_t)(s->end - s->start), NULL, 0);
    if (st == BF_OK && s->bind) st = bf_bind(rt, "env", "write", host_write, NULL);
    if (st == BF_OK) st = bf_instantiate(rt);
    put("snapshot ");
    put(s->name);
    put(" ");
    put_u64((uint64_t)(s->end - s->start));
    put(" bytes at ");
    put_hex((uint64_t)(uintptr_t)s->start);
    if (st != BF_OK) {
        put(": FAIL status ");
        put_u64(st);
        put(" ");
        put(bf_status_message(st));
        put(" ");
        put(bf_error_message(rt));
        flush();
        failures++;
        return NULL;
    }
    put(", in place");
    flush();
    return rt;
}

static void run(bf_runtime *rt, const struct call *c) {
    uint32_t idx, np, nr;
    uint64_t v[4] = {0};
    bf_status st = bf_export_func(rt, c->export, &idx, &np, &nr);
    if (st != BF_OK || np != c->nargs || nr > 1) {
        put("FAIL lookup ");
        put(c->export);
        flush();
        failures++;
        return;
    }
    for (uint32_t i = 0; i < c->nargs; i++) v[i] = c->args[i];
    st = bf_call(rt, idx, v, 4);
    put("call ");
    put(c->snap);
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
        ok = !c->trap && nr == 1 && v[0] == c->want;
    } else if (st == BF_ERR_TRAP) {
        put(" trap ");
        put_u64(bf_trap_code(rt));
        put(" ");
        put(bf_error_message(rt));
        ok = c->trap && bf_trap_code(rt) == c->want;
    } else {
        put(" error ");
        put(bf_status_message(st));
        ok = 0;
    }
    flush();
    if (!ok) {
        put("FAIL expected ");
        put(c->trap ? "trap " : "");
        put_u64(c->want);
        flush();
        failures++;
    }
}

__attribute__((noreturn)) void kmain(void) {
    serial_init();
    flush(); /* end the firmware's last line */
    put("BareFlow bare-metal x86-64: long mode, SSE on, snapshots execute in place from "
        "read-only pages");
    flush();

    size_t next = 0;
    for (size_t i = 0; i < sizeof snaps / sizeof snaps[0]; i++) {
        bf_runtime *rt = start(&snaps[i]);
        while (next < sizeof calls / sizeof calls[0] && streq(calls[next].snap, snaps[i].name)) {
            if (rt) run(rt, &calls[next]);
            next++;
        }
        if (rt) {
            put("arena used ");
            put_u64(bf_arena_used(rt));
            flush();
        }
    }
    /* Compiled for the other memory mode (guard pages, no bounds checks): must be refused. */
    {
        bf_runtime *rt;
        bf_status st = bf_init(arena, sizeof arena, 0, &rt);
        if (st == BF_OK) st = bf_load(rt, snap_guard, (size_t)(snap_guard_end - snap_guard), NULL, 0);
        put("snapshot fibonacci-guard (--memory guard) -> status ");
        put_u64(st);
        put(" ");
        put(bf_error_message(rt));
        flush();
        if (st != BF_ERR_LOAD) {
            put("FAIL guard-mode snapshot not refused");
            flush();
            failures++;
        }
    }
    if (next != sizeof calls / sizeof calls[0]) {
        put("FAIL calls not grouped by snapshot");
        flush();
        failures++;
    }

    probe_read_only((volatile uint8_t *)(uintptr_t)snap_fibonacci);
}
