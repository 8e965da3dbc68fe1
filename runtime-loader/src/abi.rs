//! The runtime ABI shared by every tier: interpreter, JIT code and snapshot code.
//!
//! Everything compiled code touches at run time is reached through one `#[repr(C)]`
//! [`VMContext`] per instance, passed as the first argument of every compiled function.
//! Field offsets are constants here; the compiler's translator reads them from this module
//! and never duplicates them (a unit test pins them to `core::mem::offset_of!`).
//!
//! See `docs/ABI.md` for the prose version (calling conventions, libcalls, trap path).

use core::ffi::c_void;

/// Size of one value slot in the array calling convention and in global cells.
pub const VALUE_SLOT_BYTES: usize = 8;

/// Wasm page size (64 KiB).
pub const WASM_PAGE_SIZE: u64 = 0x1_0000;

/// Maximum number of pages a 32-bit linear memory can have.
pub const MAX_WASM_PAGES: u64 = 0x1_0000;

/// A linear memory as compiled code sees it. Owned by the instance that defines the memory;
/// importers point at the same definition so a `memory.grow` anywhere is seen everywhere.
#[repr(C)]
#[derive(Debug)]
pub struct MemoryDef {
    /// Base address of the linear memory (may move on growth in checked mode).
    pub base: *mut u8,
    /// Current length in bytes.
    pub len: u64,
}

/// Offset of [`MemoryDef::base`].
pub const MEMORY_DEF_BASE: i32 = 0;
/// Offset of [`MemoryDef::len`].
pub const MEMORY_DEF_LEN: i32 = 8;

/// A table as compiled code sees it. Elements are 8-byte slots: a `funcref` is a
/// `*const FuncRef` (0 = null), an `externref` is a host-chosen non-zero value (0 = null).
#[repr(C)]
#[derive(Debug)]
pub struct TableDef {
    /// Address of element 0.
    pub base: *mut u64,
    /// Current number of elements.
    pub len: u64,
}

/// Offset of [`TableDef::base`].
pub const TABLE_DEF_BASE: i32 = 0;
/// Offset of [`TableDef::len`].
pub const TABLE_DEF_LEN: i32 = 8;

/// Kinds of [`FuncRef`].
pub mod func_kind {
    /// A function defined by a wasm module (interpreted or compiled, see [`super::FuncRef::native`]).
    pub const WASM: u32 = 0;
    /// A host function: [`super::FuncRef::array`] is an [`super::ArrayFn`] implemented by the host.
    pub const HOST: u32 = 1;
}

/// One function as callers see it; a `funcref` value is a pointer to one of these.
/// Callers load `native` and `vmctx` at every call, so swapping `native` (tier-up) is seen
/// by every caller, compiled or interpreted, at its next call.
#[repr(C)]
#[derive(Debug)]
pub struct FuncRef {
    /// Native-ABI entry: `(callee_vmctx, callee: *const FuncRef, params...) -> results` in the
    /// call convention described in docs/ABI.md. Null while no native entry exists (pure
    /// interpreter mode).
    pub native: *const u8,
    /// Array-ABI entry, an [`ArrayFn`]; null while none exists.
    pub array: *const u8,
    /// The vmctx of the instance that defines the function (null for host functions unless
    /// the host sets one).
    pub vmctx: *mut VMContext,
    /// Store-wide canonical id of the function's signature (`call_indirect` compares these).
    pub type_id: u32,
    /// Function index inside the defining module (host functions: host-chosen).
    pub func_index: u32,
    /// One of [`func_kind`].
    pub kind: u32,
    /// Flags ([`FUNC_REF_FLAG_EXN`]); zero unless the JIT sets one.
    pub reserved: u32,
    /// Host data: for wasm functions, the host-side instance that owns the code; for host
    /// functions, the closure environment.
    pub host_data: *mut c_void,
}

/// Offset of [`FuncRef::native`].
pub const FUNC_REF_NATIVE: i32 = 0;
/// Offset of [`FuncRef::reserved`], the flags word.
pub const FUNC_REF_FLAGS: i32 = 36;
/// Flag of [`FuncRef::reserved`]: `native` is compiled code of a module that uses exception
/// handling, which propagates an uncaught exception to a caller that passed its `FuncRef`
/// with bit 0 set by [`crate::trap::TrapContext::exn_pending`] (docs/ABI.md, "Exceptions").
pub const FUNC_REF_FLAG_EXN: u32 = 1;
/// Offset of [`FuncRef::array`].
pub const FUNC_REF_ARRAY: i32 = 8;
/// Offset of [`FuncRef::vmctx`].
pub const FUNC_REF_VMCTX: i32 = 16;
/// Offset of [`FuncRef::type_id`].
pub const FUNC_REF_TYPE_ID: i32 = 24;
/// Offset of [`FuncRef::func_index`].
pub const FUNC_REF_FUNC_INDEX: i32 = 28;
/// Offset of [`FuncRef::kind`].
pub const FUNC_REF_KIND: i32 = 32;
/// Offset of [`FuncRef::host_data`].
pub const FUNC_REF_HOST_DATA: i32 = 40;

/// The array calling convention: parameters are read from `values[0..n_params]` and results
/// written to `values[0..n_results]` (the buffer holds `max(n_params, n_results)` 8-byte
/// slots; i32/f32 use the low 32 bits). Returns 0 on success or a [`TrapCode`] value.
pub type ArrayFn =
    unsafe extern "C" fn(vmctx: *mut VMContext, callee: *const FuncRef, values: *mut u64) -> u32;

/// Per-instance context, first argument of every compiled function.
#[repr(C)]
#[derive(Debug)]
pub struct VMContext {
    /// Memory 0 (null if the module has no memory).
    pub memory: *mut MemoryDef,
    /// Per global index: the global's 8-byte cell (imported globals point into the exporter).
    pub globals: *const *mut u64,
    /// Per table index: the table's definition.
    pub tables: *const *mut TableDef,
    /// Per function index: the function's [`FuncRef`] (imports point at the exporter's).
    pub funcs: *const *const FuncRef,
    /// Per module type index: the store-wide canonical signature id.
    pub type_ids: *const u32,
    /// Lowest stack address compiled code may use; a function whose stack pointer is below
    /// this (plus its frame) traps with [`TrapCode::StackOverflow`].
    pub stack_limit: usize,
    /// The libcall table, see [`libcall`].
    pub libcalls: *const usize,
    /// Store-wide trap context (jump buffer chain, last trap); shared by all instances that
    /// can call each other.
    pub trap_ctx: *mut c_void,
    /// The runtime instance that owns this vmctx (for libcalls).
    pub instance: *mut c_void,
    /// Multi-memory: per memory index (0 included), the memory's definition. Compiled code
    /// and the interpreter reach memory 0 through [`VMContext::memory`] only; this array
    /// serves the other indices (null if the module has no memory).
    pub memories: *const *mut MemoryDef,
}

/// Offset of [`VMContext::memory`].
pub const VMCTX_MEMORY: i32 = 0;
/// Offset of [`VMContext::globals`].
pub const VMCTX_GLOBALS: i32 = 8;
/// Offset of [`VMContext::tables`].
pub const VMCTX_TABLES: i32 = 16;
/// Offset of [`VMContext::funcs`].
pub const VMCTX_FUNCS: i32 = 24;
/// Offset of [`VMContext::type_ids`].
pub const VMCTX_TYPE_IDS: i32 = 32;
/// Offset of [`VMContext::stack_limit`].
pub const VMCTX_STACK_LIMIT: i32 = 40;
/// Offset of [`VMContext::libcalls`].
pub const VMCTX_LIBCALLS: i32 = 48;
/// Offset of [`VMContext::trap_ctx`].
pub const VMCTX_TRAP_CTX: i32 = 56;
/// Offset of [`VMContext::instance`].
pub const VMCTX_INSTANCE: i32 = 64;
/// Offset of [`VMContext::memories`].
pub const VMCTX_MEMORIES: i32 = 72;

/// Most memories (imported ones included) a module may declare: a bound on the per-memory
/// arrays every loader allocates; past it instantiation (and parsing) fails with a clear
/// error.
pub const MAX_MEMORIES: u32 = 100;

/// Indices into the libcall table (`VMContext::libcalls`), each an `extern "C"` function
/// whose first argument is the calling instance's vmctx. Signatures are in docs/ABI.md.
pub mod libcall {
    /// `(vmctx, mem: u32, delta_pages: u32) -> u32` old size in pages, or `u32::MAX`.
    pub const MEMORY_GROW: usize = 0;
    /// `(vmctx, mem: u32, dst: u32, val: u32, len: u32) -> u32` status.
    pub const MEMORY_FILL: usize = 1;
    /// `(vmctx, dst_mem: u32, src_mem: u32, dst: u32, src: u32, len: u32) -> u32` status.
    pub const MEMORY_COPY: usize = 2;
    /// `(vmctx, mem: u32, data: u32, dst: u32, src: u32, len: u32) -> u32` status.
    pub const MEMORY_INIT: usize = 3;
    /// `(vmctx, data: u32)`.
    pub const DATA_DROP: usize = 4;
    /// `(vmctx, table: u32, init: u64, delta: u32) -> u32` old size, or `u32::MAX`.
    pub const TABLE_GROW: usize = 5;
    /// `(vmctx, table: u32, dst: u32, val: u64, len: u32) -> u32` status.
    pub const TABLE_FILL: usize = 6;
    /// `(vmctx, dst_table: u32, src_table: u32, dst: u32, src: u32, len: u32) -> u32` status.
    pub const TABLE_COPY: usize = 7;
    /// `(vmctx, table: u32, elem: u32, dst: u32, src: u32, len: u32) -> u32` status.
    pub const TABLE_INIT: usize = 8;
    /// `(vmctx, elem: u32)`.
    pub const ELEM_DROP: usize = 9;
    /// `(vmctx, code: u32) -> !` unwinds to the innermost entry trampoline.
    pub const RAISE_TRAP: usize = 10;
    /// `(trap_ctx, array_fn, vmctx, callee, values) -> u32`: the entry trampoline
    /// ([`crate::trap::enter_address`]), which snapshot array entries reach through the vmctx
    /// so their code needs no relocation (execute in place).
    pub const ENTER: usize = 11;
    /// Number of libcalls.
    pub const COUNT: usize = 12;
}

/// Why wasm code stopped. Values are stable: they appear in snapshots, in the C API and as
/// statuses of [`ArrayFn`] (0 means "no trap").
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TrapCode {
    /// `unreachable` executed.
    Unreachable = 1,
    /// Load, store or bulk memory operation out of bounds.
    MemoryOutOfBounds = 2,
    /// Table access (`table.get/set/fill/copy/init`) out of bounds.
    TableOutOfBounds = 3,
    /// `call_indirect` index past the end of the table.
    UndefinedElement = 4,
    /// `call_indirect` to a null entry.
    UninitializedElement = 5,
    /// `call_indirect` signature mismatch.
    IndirectCallTypeMismatch = 6,
    /// Integer division or remainder by zero.
    IntegerDivideByZero = 7,
    /// Signed division overflow (`INT_MIN / -1`) or float-to-int out of range.
    IntegerOverflow = 8,
    /// Float-to-int conversion of NaN.
    InvalidConversionToInteger = 9,
    /// Call stack exhausted (runaway recursion).
    StackOverflow = 10,
    /// A host function reported an error.
    HostError = 11,
    /// A WASI program called `proc_exit` (the exit status is kept by the host).
    Exit = 12,
    /// The store's fuel ran out (`TrapContext::fuel` went below 0 at a function entry or a
    /// loop back-edge); add fuel and call again.
    OutOfFuel = 13,
    /// The store's interrupt flag (`TrapContext::interrupt`) was seen set at a function
    /// entry or a loop back-edge (a deadline passed, or the host asked); the check clears it.
    Interrupted = 14,
    /// `call_ref` / `return_call_ref` of a null function reference.
    NullFuncRef = 15,
    /// `ref.as_non_null` of a null reference.
    NullReference = 16,
    /// A wasm exception was thrown and no handler caught it before the outermost frame
    /// (the exception itself travels beside the status, in the store; docs/ABI.md
    /// "Exceptions").
    Exception = 17,
}

impl TrapCode {
    /// All trap codes, in value order.
    pub const ALL: [TrapCode; 17] = [
        TrapCode::Unreachable,
        TrapCode::MemoryOutOfBounds,
        TrapCode::TableOutOfBounds,
        TrapCode::UndefinedElement,
        TrapCode::UninitializedElement,
        TrapCode::IndirectCallTypeMismatch,
        TrapCode::IntegerDivideByZero,
        TrapCode::IntegerOverflow,
        TrapCode::InvalidConversionToInteger,
        TrapCode::StackOverflow,
        TrapCode::HostError,
        TrapCode::Exit,
        TrapCode::OutOfFuel,
        TrapCode::Interrupted,
        TrapCode::NullFuncRef,
        TrapCode::NullReference,
        TrapCode::Exception,
    ];

    /// Decodes a status value; `None` for 0 and unknown values.
    pub fn from_u32(v: u32) -> Option<TrapCode> {
        TrapCode::ALL.iter().copied().find(|c| *c as u32 == v)
    }

    /// The message the WebAssembly spec tests use for this trap.
    pub fn message(self) -> &'static str {
        match self {
            TrapCode::Unreachable => "unreachable",
            TrapCode::MemoryOutOfBounds => "out of bounds memory access",
            TrapCode::TableOutOfBounds => "out of bounds table access",
            TrapCode::UndefinedElement => "undefined element",
            TrapCode::UninitializedElement => "uninitialized element",
            TrapCode::IndirectCallTypeMismatch => "indirect call type mismatch",
            TrapCode::IntegerDivideByZero => "integer divide by zero",
            TrapCode::IntegerOverflow => "integer overflow",
            TrapCode::InvalidConversionToInteger => "invalid conversion to integer",
            TrapCode::StackOverflow => "call stack exhausted",
            TrapCode::HostError => "host function error",
            TrapCode::Exit => "program exited",
            TrapCode::OutOfFuel => "all fuel consumed",
            TrapCode::Interrupted => "interrupted",
            TrapCode::NullFuncRef => "null function reference",
            TrapCode::NullReference => "null reference",
            TrapCode::Exception => "uncaught wasm exception",
        }
    }
}

impl core::fmt::Display for TrapCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::offset_of;

    #[test]
    fn offsets_match_layout() {
        assert_eq!(offset_of!(MemoryDef, base) as i32, MEMORY_DEF_BASE);
        assert_eq!(offset_of!(MemoryDef, len) as i32, MEMORY_DEF_LEN);
        assert_eq!(offset_of!(TableDef, base) as i32, TABLE_DEF_BASE);
        assert_eq!(offset_of!(TableDef, len) as i32, TABLE_DEF_LEN);
        assert_eq!(offset_of!(FuncRef, native) as i32, FUNC_REF_NATIVE);
        assert_eq!(offset_of!(FuncRef, array) as i32, FUNC_REF_ARRAY);
        assert_eq!(offset_of!(FuncRef, vmctx) as i32, FUNC_REF_VMCTX);
        assert_eq!(offset_of!(FuncRef, type_id) as i32, FUNC_REF_TYPE_ID);
        assert_eq!(offset_of!(FuncRef, func_index) as i32, FUNC_REF_FUNC_INDEX);
        assert_eq!(offset_of!(FuncRef, kind) as i32, FUNC_REF_KIND);
        assert_eq!(offset_of!(FuncRef, host_data) as i32, FUNC_REF_HOST_DATA);
        assert_eq!(offset_of!(VMContext, memory) as i32, VMCTX_MEMORY);
        assert_eq!(offset_of!(VMContext, globals) as i32, VMCTX_GLOBALS);
        assert_eq!(offset_of!(VMContext, tables) as i32, VMCTX_TABLES);
        assert_eq!(offset_of!(VMContext, funcs) as i32, VMCTX_FUNCS);
        assert_eq!(offset_of!(VMContext, type_ids) as i32, VMCTX_TYPE_IDS);
        assert_eq!(offset_of!(VMContext, stack_limit) as i32, VMCTX_STACK_LIMIT);
        assert_eq!(offset_of!(VMContext, libcalls) as i32, VMCTX_LIBCALLS);
        assert_eq!(offset_of!(VMContext, trap_ctx) as i32, VMCTX_TRAP_CTX);
        assert_eq!(offset_of!(VMContext, instance) as i32, VMCTX_INSTANCE);
        assert_eq!(offset_of!(VMContext, memories) as i32, VMCTX_MEMORIES);
    }

    #[test]
    fn trap_codes_round_trip() {
        for c in TrapCode::ALL {
            assert_eq!(TrapCode::from_u32(c as u32), Some(c));
        }
        assert_eq!(TrapCode::from_u32(0), None);
        // The C API checks statuses as the range 1..=ALL.len(): no gaps.
        for (i, c) in TrapCode::ALL.iter().enumerate() {
            assert_eq!(*c as u32, i as u32 + 1);
        }
    }
}
