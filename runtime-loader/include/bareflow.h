/* BareFlow snapshot loader, C API (libbareflow.a from runtime-loader/capi).
 *
 * The embedder hands in every byte of memory: one arena (runtime state, instance, vmctx,
 * tables, globals, linear memory, host bindings; bump-allocated) and one executable code
 * region. The library calls no OS and never aborts: every call returns a bf_status.
 * See docs/FIRMWARE.md.
 *
 * Threads. The library is single-threaded per process: the allocator's current arena is a
 * process-wide global set for the length of each call, so at most one call may be in
 * progress at a time across all runtimes (calls a host function makes on its own runtime
 * while wasm runs are fine: they nest). Run every runtime on one thread, or serialise the
 * calls with a lock; a runtime may move between threads between calls (on Linux the stack
 * floor follows the calling thread). Each declaration below says which applies:
 *   [serial]  the rule above;
 *   [reader]  reads plain fields of rt and touches no global: safe from the runtime's
 *             thread at any time (also from a host function), not concurrently with a
 *             call on rt from another thread;
 *   [any]     any thread, a signal or an interrupt handler, at any time;
 *   [pure]    no state at all.
 *
 *   bf_runtime *rt;
 *   bf_init(arena, sizeof arena, 0, &rt);
 *   bf_load(rt, snap, snap_len, code, sizeof code);
 *   bf_bind(rt, "env", "log", my_log, NULL);         // every imported function
 *   bf_instantiate(rt);                               // segments + start function
 *   bf_export_func(rt, "fib", &idx, &np, &nr);
 *   uint64_t v[1] = { 20 };
 *   if (bf_call(rt, idx, v, 1) == BF_ERR_TRAP) puts(bf_trap_message(rt));
 */
#ifndef BAREFLOW_H
#define BAREFLOW_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef uint32_t bf_status;
#define BF_OK 0u
#define BF_ERR_ARG 1u         /* null pointer, bad length, name not UTF-8 */
#define BF_ERR_STATE 2u       /* calls out of order, or runtime poisoned (bf_init again) */
#define BF_ERR_ARENA 3u       /* arena exhausted */
#define BF_ERR_LOAD 4u        /* snapshot rejected (bf_error_message says why) */
#define BF_ERR_LINK 5u        /* an import is not bound or not a function */
#define BF_ERR_INSTANTIATE 6u /* instance creation failed */
#define BF_ERR_NOT_FOUND 7u   /* no such exported function */
#define BF_ERR_TRAP 8u        /* wasm trapped: bf_trap_code, bf_error_message */
#define BF_ERR_BOUNDS 9u      /* memory range or value buffer too small */
#define BF_ERR_SIGNATURE 10u  /* signed snapshots: unsigned, bad signature, bad/unsupported key */
#define BF_ERR_TYPE 11u       /* type mismatch: host signature, global value type or immutable
                                 global, export of another kind, externref table */

/* Trap codes (bf_trap_code), as in runtime-loader/src/abi.rs. */
#define BF_TRAP_UNREACHABLE 1u
#define BF_TRAP_MEMORY_OUT_OF_BOUNDS 2u
#define BF_TRAP_TABLE_OUT_OF_BOUNDS 3u
#define BF_TRAP_UNDEFINED_ELEMENT 4u
#define BF_TRAP_UNINITIALIZED_ELEMENT 5u
#define BF_TRAP_INDIRECT_CALL_TYPE_MISMATCH 6u
#define BF_TRAP_INTEGER_DIVIDE_BY_ZERO 7u
#define BF_TRAP_INTEGER_OVERFLOW 8u
#define BF_TRAP_INVALID_CONVERSION_TO_INTEGER 9u
#define BF_TRAP_STACK_OVERFLOW 10u
#define BF_TRAP_HOST_ERROR 11u
#define BF_TRAP_EXIT 12u            /* a WASI program called proc_exit */
#define BF_TRAP_OUT_OF_FUEL 13u     /* "all fuel consumed" (bf_set_fuel) */
#define BF_TRAP_INTERRUPTED 14u     /* "interrupted" (bf_interrupt) */
#define BF_TRAP_NULL_FUNC_REF 15u   /* call_ref of a null function reference */
#define BF_TRAP_NULL_REFERENCE 16u  /* ref.as_non_null of a null reference */

typedef struct bf_runtime bf_runtime;

/* A host function bound to an import. values[] holds the parameters on entry and receives
 * the results: one 8-byte slot each, max(params, results) slots; i32/f32 in the low 32 bits,
 * floats as raw bits. Return 0, or non-zero to trap (a trap code above is kept, anything else
 * becomes BF_TRAP_HOST_ERROR). It may call bf_memory_read/bf_memory_write on rt. */
typedef uint32_t (*bf_host_fn)(void *env, bf_runtime *rt, uint64_t *values);

/* A static description of a status. [pure] */
const char *bf_status_message(bf_status status);

/* Places the runtime at the start of arena (the rest is its heap). stack_budget: bytes of
 * stack wasm code may use below an API call (0 = 256 KiB; must be smaller than the stack).
 * Calling it again on the same arena discards the old runtime. [serial] */
bf_status bf_init(void *arena, size_t arena_len, size_t stack_budget, bf_runtime **out);

/* The lowest stack address wasm code may use on the thread that calls this runtime: the bottom
 * of that thread's stack plus room for your host functions (and interrupt handlers that run
 * on it). Wasm never goes below it, whatever stack_budget says: deeper recursion traps
 * BF_TRAP_STACK_OVERFLOW, and a bf_call made with less stack left traps at once. Bare-metal
 * targets have no thread library to ask, so give it there; 0 (the default) means none. On
 * Linux hosts the loader also derives a floor from the thread's real stack (pthread).
 * [reader] (a plain store; not while a call on rt runs on another thread) */
bf_status bf_set_stack_floor(bf_runtime *rt, uintptr_t lowest);

/* Verifies the snapshot (container, checksum, metadata, ELF object) and loads its code into
 * code[0..code_len], which must be executable memory that stays alive and overlaps neither
 * the snapshot nor the arena. Nothing runs yet.
 * For an execute-in-place snapshot (bareflow compile --xip) pass code = NULL: the code then
 * runs from the snapshot bytes, which must be executable and stay alive. A snapshot this
 * library cannot run (corrupt, another ISA, compiled with --memory guard: only checked
 * memory is provided here) is refused with BF_ERR_LOAD and a bf_error_message. [serial] */
bf_status bf_load(bf_runtime *rt, const uint8_t *snap, size_t snap_len, uint8_t *code,
                  size_t code_len);

/* Signed snapshots (library built with feature "sign"): from now on bf_load accepts only
 * snapshots signed (bareflow compile --sign) with the secret half of key[0..32] (the bytes
 * of bareflow keygen's PREFIX.pub, hex-decoded), checked before any byte of the snapshot is
 * parsed or mapped; otherwise BF_ERR_SIGNATURE. Call before bf_load. BF_ERR_SIGNATURE here
 * means an invalid key, or a library built without the feature. [serial] */
bf_status bf_set_public_key(bf_runtime *rt, const uint8_t key[32]);
/* With on != 0, bf_load refuses (BF_ERR_SIGNATURE) any snapshot whose signature does not
 * verify under the key of bf_set_public_key, and every snapshot while no key is set (a
 * forgotten key fails closed). on = 0 clears it. BF_ERR_SIGNATURE here if the library was
 * built without the `sign` feature (the requirement is set anyway: nothing loads). Call after
 * bf_init, before bf_load. An unsigned snapshot is trusted native code: docs/SNAPSHOT.md.
 * [serial] */
bf_status bf_require_signature(bf_runtime *rt, int on);

/* Binds import (module, name) to func, unchecked (bf_bind_typed checks the signature); call
 * before bf_instantiate. [serial] */
bf_status bf_bind(bf_runtime *rt, const char *module, const char *name, bf_host_fn func,
                  void *env);

/* Resolves imports, creates memory/tables/globals in the arena, applies segments, runs the
 * start function (BF_ERR_TRAP if it traps). [serial] */
bf_status bf_instantiate(bf_runtime *rt);

/* Finds an exported function; out pointers may be NULL. [serial] */
bf_status bf_export_func(bf_runtime *rt, const char *name, uint32_t *index,
                         uint32_t *nparams, uint32_t *nresults);

/* Calls function `index`; values: nvalues >= max(params, results) slots, params in,
 * results out. BF_ERR_TRAP on a trap; the instance stays usable. [serial] */
bf_status bf_call(bf_runtime *rt, uint32_t index, uint64_t *values, size_t nvalues);

/* Trap code of the last trapped call (0 if none). [reader] */
uint32_t bf_trap_code(const bf_runtime *rt);

/* Description of the last error or trap ("" if none), valid until the next call. Traps read
 * "trap: MESSAGE"; bf_trap_message adds the function and code offset. [reader] */
const char *bf_error_message(const bf_runtime *rt);

/* Bounded execution (docs/ABI.md, "Bounded execution"); the snapshot must have been compiled
 * with the checks (bareflow compile --fuel / --interruptible), else BF_ERR_STATE.
 * Fuel: 1 unit per function entry and per taken loop back-edge; a call that runs out fails
 * with BF_ERR_TRAP, trap code BF_TRAP_OUT_OF_FUEL; set more fuel and call again. Code with
 * fuel checks starts with unlimited fuel (INT64_MAX) until bf_set_fuel. [serial] */
bf_status bf_set_fuel(bf_runtime *rt, uint64_t fuel);
/* Remaining fuel (0 once it ran out). [reader] */
uint64_t bf_get_fuel(const bf_runtime *rt);
/* Makes the running (or next) call trap BF_TRAP_INTERRUPTED at its next function entry or
 * loop back-edge; the trap clears the request. Async-signal-safe (a single 32-bit store):
 * call it from a timer interrupt or a signal handler. [any] */
bf_status bf_interrupt(bf_runtime *rt);

/* Memory 0: size in bytes, and bounds-checked copies out of / into it (bf_memory_data gives
 * a pointer to any memory). [serial] */
bf_status bf_memory_size(bf_runtime *rt, uint64_t *bytes);
bf_status bf_memory_read(bf_runtime *rt, uint64_t offset, void *dst, size_t len);
bf_status bf_memory_write(bf_runtime *rt, uint64_t offset, const void *src, size_t len);
/* Multi-memory: the same copies for memory `mem` (0 is memory 0); BF_ERR_NOT_FOUND for no
 * such memory. [serial] */
bf_status bf_memory_read_mem(bf_runtime *rt, uint32_t mem, uint64_t offset, void *dst,
                             size_t len);
bf_status bf_memory_write_mem(bf_runtime *rt, uint32_t mem, uint64_t offset, const void *src,
                              size_t len);

/* Arena bytes in use (for sizing the arena). [reader] */
size_t bf_arena_used(const bf_runtime *rt);

/* ---- The module and the instance from outside (compare wasm.h, WAMR's wasm_export.h) ----
 * API surface only: bf_load/bf_instantiate/bf_call never call these, so a program that does
 * not use them links none of their code. All [serial]. */

/* Extern kinds (bf_extern.kind) and value types (bf_value.type), as wasm.h numbers them. */
#define BF_EXTERN_FUNC 0u
#define BF_EXTERN_GLOBAL 1u
#define BF_EXTERN_TABLE 2u
#define BF_EXTERN_MEMORY 3u
#define BF_TYPE_I32 0u
#define BF_TYPE_I64 1u
#define BF_TYPE_F32 2u
#define BF_TYPE_F64 3u
#define BF_TYPE_V128 4u
#define BF_TYPE_EXTERNREF 128u
#define BF_TYPE_FUNCREF 129u
#define BF_TYPE_EXNREF 130u  /* exnref; signature letter X (no snapshot holds one yet) */
/* A null funcref, where function references are given as function indices. */
#define BF_NULL_FUNC 0xffffffffu

/* One import or export. Names are the module's bytes, NOT NUL-terminated (use the lengths),
 * valid while the module is loaded (until bf_init on the arena again). */
typedef struct bf_extern {
    const char *module; /* imports: module name; exports: NULL */
    size_t module_len;
    const char *name; /* import field name or export name */
    size_t name_len;
    uint32_t kind;  /* BF_EXTERN_* */
    uint32_t index; /* index in its kind's space: functions take bf_call / bf_func_signature */
} bf_extern;

/* A typed value: bits[0] holds i32/f32 in its low 32 bits, i64/f64 whole (floats as raw
 * bits), a funcref as a function index of this instance (BF_NULL_FUNC for null, callable with
 * bf_call), an externref as the host's value (0 = null); v128: bits[0] low half, bits[1]
 * high half. */
typedef struct bf_value {
    uint32_t type; /* BF_TYPE_* */
    uint32_t reserved;
    uint64_t bits[2];
} bf_value;

/* Exports and imports of the loaded module (after bf_load; no instance needed), i from 0 to
 * count - 1 (BF_ERR_NOT_FOUND past the end). The k-th import of a kind is index k of that
 * kind's index space. */
bf_status bf_export_count(bf_runtime *rt, uint32_t *count);
bf_status bf_export_get(bf_runtime *rt, uint32_t i, bf_extern *out);
bf_status bf_import_count(bf_runtime *rt, uint32_t *count);
bf_status bf_import_get(bf_runtime *rt, uint32_t i, bf_extern *out);

/* The type of function `index` as a NUL-terminated signature string "(PARAMS)RESULTS", one
 * letter per value: i i32, I i64, f f32, F f64, V v128, r externref, R funcref (WAMR's
 * letters, plus V and R): "(iI)" takes an i32 and an i64 and returns nothing, "(ii)i"
 * returns an i32. BF_ERR_BOUNDS if buf[0..len] is too small, BF_ERR_NOT_FOUND for no such
 * function. */
bf_status bf_func_signature(bf_runtime *rt, uint32_t index, char *buf, size_t len);

/* bf_bind, checked: `signature` (letters as above) must be the type of the import (module,
 * name) of the loaded module. BF_ERR_TYPE on a mismatch (bf_error_message names both
 * signatures), BF_ERR_NOT_FOUND if the module has no such import, BF_ERR_ARG for a malformed
 * signature. Call after bf_load, before bf_instantiate. */
bf_status bf_bind_typed(bf_runtime *rt, const char *module, const char *name,
                        const char *signature, bf_host_fn func, void *env);

/* Exported globals by name (after bf_instantiate). get: the value and its type in *out,
 * *is_mutable (may be NULL) 1 if bf_global_set may write it. set: value->type must be the
 * global's type and the global mutable, else BF_ERR_TYPE; a funcref that is not a function
 * index of this instance (or BF_NULL_FUNC) is BF_ERR_NOT_FOUND. BF_ERR_NOT_FOUND for no such
 * export, BF_ERR_TYPE for an export that is not a global. */
bf_status bf_global_get(bf_runtime *rt, const char *name, bf_value *out, int *is_mutable);
bf_status bf_global_set(bf_runtime *rt, const char *name, const bf_value *value);

/* Exported tables by name: the current size, and element i of a funcref table as a function
 * index callable with bf_call (BF_NULL_FUNC for a null element; BF_ERR_BOUNDS past the end,
 * BF_ERR_TYPE for an externref table). */
bf_status bf_table_size(bf_runtime *rt, const char *name, uint32_t *size);
bf_status bf_table_get(bf_runtime *rt, const char *name, uint32_t i, uint32_t *func_index);

/* Memory `index` in place: its base address and current length in bytes. Valid until the
 * next call that may run wasm (bf_call, bf_instantiate; and in a host function, until it
 * returns into wasm): memory.grow may move and resize it. BF_ERR_NOT_FOUND for no such
 * memory. Read and write within [base, base + len) only. */
bf_status bf_memory_data(bf_runtime *rt, uint32_t index, uint8_t **base, uint64_t *len);

/* Where the last trapped call trapped, when compiled code raised the trap: the function
 * index and the wasm code offset of the trapping instruction (from the start of the module
 * code, as bareflow run prints it; 0 if not known). BF_ERR_NOT_FOUND when there is none (no
 * trap, or a trap a host function raised). Out pointers may be NULL. */
bf_status bf_trap_location(bf_runtime *rt, uint32_t *func_index, uint32_t *offset);

/* The last error or trap's message as bf_error_message, a trap with its location when known:
 * "trap: integer divide by zero (in function div, at code offset 0x2a)", the function named
 * by its export name, else "#INDEX". Valid until the next call. */
const char *bf_trap_message(bf_runtime *rt);

#ifdef __cplusplus
}
#endif

#endif /* BAREFLOW_H */
