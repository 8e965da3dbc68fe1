//! The interpreter's pre-decoded instruction set.
//!
//! A stack machine over 8-byte slots, like wasm itself, but with every immediate decoded,
//! every branch resolved to an op index plus the stack height to restore and the number of
//! values to keep, and `reinterpret`/`nop` removed. One [`Op`] is 16 bytes.
//!
//! Stack heights are relative to the frame base (local 0), so they include the locals.

/// One pre-decoded instruction.
#[derive(Clone, Copy, Debug, PartialEq)]
#[allow(missing_docs)] // Numeric variants are named exactly after the wasm instructions.
pub enum Op {
    // ---- control -----------------------------------------------------------------------
    /// `unreachable`.
    Unreachable,
    /// Unconditional jump (no stack adjustment needed).
    Jump(u32),
    /// Jump to a loop header (counted as a back-edge).
    JumpLoop(u32),
    /// Pop an i32; jump if zero (the `if` of `if/else`).
    JumpIfZero(u32),
    /// Pop an i32; jump if non-zero (no stack adjustment needed).
    JumpIfNonZero(u32),
    /// Pop an i32; jump to a loop header if non-zero (no stack adjustment needed).
    JumpIfNonZeroLoop(u32),
    /// Branch that moves the top `keep` values down to `height`.
    Br {
        target: u32,
        height: u32,
        keep: u32,
    },
    /// [`Op::Br`] to a loop header.
    BrLoop {
        target: u32,
        height: u32,
        keep: u32,
    },
    /// Pop an i32; if non-zero, [`Op::Br`].
    BrIf {
        target: u32,
        height: u32,
        keep: u32,
    },
    /// Pop an i32; if non-zero, [`Op::BrLoop`].
    BrIfLoop {
        target: u32,
        height: u32,
        keep: u32,
    },
    /// Pop an i32 index into the function's `br_tables[start..start + len]`, whose last
    /// entry is the default.
    BrTable {
        start: u32,
        len: u32,
    },
    /// Return the top `results` values.
    Return,
    /// [`Op::Return`] of a function without loop back-edges: when profiling, it has no
    /// pending back-edges to add to its counter, so it skips that check.
    ReturnNoLoop,

    // ---- calls ---------------------------------------------------------------------------
    /// Call function `index` of the current instance.
    Call(u32),
    /// Pop a table index; call through table `table`, checking module type `ty`.
    CallIndirect {
        ty: u32,
        table: u32,
    },
    /// Tail call of function `index` of the current instance: the callee replaces the
    /// running frame (`return_call`).
    ReturnCall(u32),
    /// Pop a table index; tail call through table `table`, checking module type `ty`
    /// (`return_call_indirect`).
    ReturnCallIndirect {
        ty: u32,
        table: u32,
    },
    /// Pop a function reference; call it (module type `ty`; null traps) (`call_ref`).
    CallRef(u32),
    /// Pop a function reference; tail-call it (`return_call_ref`).
    ReturnCallRef(u32),
    /// Trap if the top reference is null (`ref.as_non_null`).
    RefAsNonNull,
    /// Push whether the top reference is null, keeping it (`br_on_null`,
    /// `br_on_non_null` are this and a conditional jump).
    DupIsNull,
    /// Pop the payload of tag `u32` (module tag index) and throw it (`throw`).
    Throw(u32),
    /// Pop an exception reference and rethrow it; null traps (`throw_ref`).
    ThrowRef,
    /// Not in lowered code: where the interpreter continues after a throw, to find the
    /// handler (exec's `THROW_PENDING`).
    ThrowPending,

    // ---- parametric, variables -----------------------------------------------------------
    Drop,
    Select,
    LocalGet(u32),
    LocalSet(u32),
    LocalTee(u32),
    GlobalGet(u32),
    GlobalSet(u32),
    /// Push a constant slot (i32/f32 in the low 32 bits).
    Const(u64),

    // ---- memory (memory 0; immediate = static offset) ------------------------------------
    I32Load(u32),
    I64Load(u32),
    F32Load(u32),
    F64Load(u32),
    I32Load8S(u32),
    I32Load8U(u32),
    I32Load16S(u32),
    I32Load16U(u32),
    I64Load8S(u32),
    I64Load8U(u32),
    I64Load16S(u32),
    I64Load16U(u32),
    I64Load32S(u32),
    I64Load32U(u32),
    I32Store(u32),
    I64Store(u32),
    F32Store(u32),
    F64Store(u32),
    I32Store8(u32),
    I32Store16(u32),
    I64Store8(u32),
    I64Store16(u32),
    I64Store32(u32),
    MemorySize,
    MemoryGrow,
    MemoryFill,
    MemoryCopy,
    MemoryInit(u32),
    DataDrop(u32),

    // ---- tables and references -----------------------------------------------------------
    TableGet(u32),
    TableSet(u32),
    TableSize(u32),
    TableGrow(u32),
    TableFill(u32),
    TableCopy {
        dst: u32,
        src: u32,
    },
    TableInit {
        table: u32,
        elem: u32,
    },
    ElemDrop(u32),
    RefIsNull,
    RefFunc(u32),

    // ---- memory64 / table64 (docs/ABI.md "memory64") -----------------------------------
    /// memory64: replaces the `i64` address `depth` slots below the top with the effective
    /// address `addr + (hi << 32 | lo)`, trapping (`MemoryOutOfBounds`) if that overflows or
    /// is at or above 2^32 (every memory is at most 4 GiB, so such an access is out of
    /// bounds); the 32-bit load or store that follows has offset 0.
    Addr64 {
        depth: u8,
        lo: u32,
        hi: u32,
    },
    /// memory64 / table64 operands of bulk, table and `call_indirect` ops: each slot `k`
    /// below the top with bit `k` of `mask` set must be below 2^32, else trap `code` (every
    /// memory and table is smaller, so the op would trap anyway); then the 32-bit op runs.
    Narrow64 {
        mask: u8,
        code: runtime_loader::TrapCode,
    },
    /// `memory.grow` of a memory64 memory: `i64` delta and result.
    MemoryGrow64,
    /// `table.grow` of a table64 table: `i64` delta and result.
    TableGrow64(u32),

    // ---- multi-memory: memories other than 0 (memory 0 keeps the ops above) -------------
    /// A load of kind `kind` from memory `mem` (never 0) at static offset `off`.
    LoadM {
        kind: Load,
        mem: u32,
        off: u32,
    },
    /// A store of width `kind` into memory `mem` (never 0) at static offset `off`.
    StoreM {
        kind: Store,
        mem: u32,
        off: u32,
    },
    /// `memory.size` of memory `mem` (a memory64 memory's result is zero-extended anyway).
    MemorySizeM(u32),
    /// `memory.grow` of the 32-bit memory `mem`.
    MemoryGrowM(u32),
    /// `memory.grow` of the memory64 memory `mem`: `i64` delta and result.
    MemoryGrow64M(u32),
    /// `memory.fill` of memory `mem`.
    MemoryFillM(u32),
    /// `memory.copy` from memory `src` into memory `dst` (not both 0).
    MemoryCopyM {
        dst: u32,
        src: u32,
    },
    /// `memory.init` of data segment `seg` into memory `mem`.
    MemoryInitM {
        mem: u32,
        seg: u32,
    },
    /// A vector memory op ([`Op::Simd`]) on memory `mem` (never 0).
    SimdM {
        op: super::simd::SimdOp,
        lane: u8,
        imm: u32,
        mem: u32,
    },

    // ---- SIMD ----------------------------------------------------------------------------
    /// A vector op, run out of line by [`super::simd::exec`]: `lane` is its lane index,
    /// `imm` its memory offset, `v128` local slot, global index, or index into
    /// [`FuncCode::v128_consts`] (`v128.const`, `i8x16.shuffle`).
    Simd {
        op: super::simd::SimdOp,
        lane: u8,
        imm: u32,
    },

    // ---- fused forms (superinstructions built by the lowering's peephole) ----------------
    // `L` operands name a local (frame slot), `C` an immediate, `S` the operand stack top.
    /// i32 `k`: push `local a k local b`.
    I32BinLL {
        k: Bin,
        a: u32,
        b: u32,
    },
    /// i32 `k`: push `local a k c`.
    I32BinLC {
        k: Bin,
        a: u32,
        c: u32,
    },
    /// i32 `k`: replace the top `x` with `x k local b`.
    I32BinSL {
        k: Bin,
        b: u32,
    },
    /// i32 `k`: replace the top `x` with `x k c`.
    I32BinSC {
        k: Bin,
        c: u32,
    },
    /// i64 `k`: push `local a k local b`.
    I64BinLL {
        k: Bin,
        a: u32,
        b: u32,
    },
    /// i64 `k`: push `local a k c` (`c` sign-extended).
    I64BinLC {
        k: Bin,
        a: u32,
        c: i32,
    },
    /// i64 `k`: replace the top `x` with `x k local b`.
    I64BinSL {
        k: Bin,
        b: u32,
    },
    /// i64 `k`: replace the top `x` with `x k c` (`c` sign-extended).
    I64BinSC {
        k: Bin,
        c: i32,
    },
    /// i32 `k` (a comparison) of two locals; jump to `t` if true (`lp`: a loop back-edge).
    I32JumpLL {
        k: Bin,
        lp: bool,
        a: u32,
        b: u32,
        t: u32,
    },
    /// i32 comparison of a local with an immediate; jump if true.
    I32JumpLC {
        k: Bin,
        lp: bool,
        a: u32,
        c: u32,
        t: u32,
    },
    /// Pop `y`, `x`; jump if `x k y` (i32).
    I32JumpSS {
        k: Bin,
        lp: bool,
        t: u32,
    },
    /// Pop `x`; jump if `x k c` (i32).
    I32JumpSC {
        k: Bin,
        lp: bool,
        c: u32,
        t: u32,
    },
    /// Pop `x`; jump if `x k local b` (i32).
    I32JumpSL {
        k: Bin,
        lp: bool,
        b: u32,
        t: u32,
    },
    /// i64 comparison of two locals; jump if true.
    I64JumpLL {
        k: Bin,
        lp: bool,
        a: u32,
        b: u32,
        t: u32,
    },
    /// i64 comparison of a local with a sign-extended immediate; jump if true.
    I64JumpLC {
        k: Bin,
        lp: bool,
        a: u32,
        c: i32,
        t: u32,
    },
    /// Pop `y`, `x`; jump if `x k y` (i64).
    I64JumpSS {
        k: Bin,
        lp: bool,
        t: u32,
    },
    /// Pop `x`; jump if `x k c` (i64, `c` sign-extended).
    I64JumpSC {
        k: Bin,
        lp: bool,
        c: i32,
        t: u32,
    },
    /// Pop `x`; jump if `x k local b` (i64).
    I64JumpSL {
        k: Bin,
        lp: bool,
        b: u32,
        t: u32,
    },
    /// [`Op::I32BinLL`] into `local d` instead of the stack.
    I32BinLLD {
        k: Bin,
        a: u32,
        b: u32,
        d: u32,
    },
    /// [`Op::I32BinLC`] into `local d`.
    I32BinLCD {
        k: Bin,
        a: u32,
        c: u32,
        d: u32,
    },
    /// Pop `x`; `local d = x k local b` (i32).
    I32BinSLD {
        k: Bin,
        b: u32,
        d: u32,
    },
    /// Pop `x`; `local d = x k c` (i32).
    I32BinSCD {
        k: Bin,
        c: u32,
        d: u32,
    },
    /// [`Op::I64BinLL`] into `local d`.
    I64BinLLD {
        k: Bin,
        a: u32,
        b: u32,
        d: u32,
    },
    /// [`Op::I64BinLC`] into `local d`.
    I64BinLCD {
        k: Bin,
        a: u32,
        c: i32,
        d: u32,
    },
    /// Pop `x`; `local d = x k local b` (i64).
    I64BinSLD {
        k: Bin,
        b: u32,
        d: u32,
    },
    /// Pop `x`; `local d = x k c` (i64, `c` sign-extended).
    I64BinSCD {
        k: Bin,
        c: i32,
        d: u32,
    },
    /// Pop `y`, `x`; `local d = x k y` (i32).
    I32BinSSD {
        k: Bin,
        d: u32,
    },
    /// Pop `y`, `x`; `local d = x k y` (i64).
    I64BinSSD {
        k: Bin,
        d: u32,
    },
    /// `local b = local a`.
    Copy {
        a: u32,
        b: u32,
    },
    /// `local d = c` (a 32-bit immediate, zero-extended).
    SetConst32 {
        d: u32,
        c: u32,
    },
    /// Push two locals.
    LocalGet2 {
        a: u32,
        b: u32,
    },
    /// Load from memory at `local a + off` and push (kind `k`).
    LoadL {
        k: Load,
        a: u32,
        off: u32,
    },
    /// Load from memory at `(local a + c mod 2^32) + off` and push (kind `k`).
    LoadLC {
        k: Load,
        a: u32,
        c: u32,
        off: u32,
    },
    /// Pop `x`; load from memory at `(x + c mod 2^32) + off` and push (kind `k`).
    LoadSC {
        k: Load,
        c: u32,
        off: u32,
    },
    /// Store `local b` to memory at `local a + off` (width `k`).
    StoreLL {
        k: Store,
        a: u32,
        b: u32,
        off: u32,
    },
    /// Pop an address; store `local b` at it `+ off`.
    StoreSL {
        k: Store,
        b: u32,
        off: u32,
    },
    /// Pop an address; store the zero-extended constant `c` at it `+ off`.
    StoreSC {
        k: Store,
        c: u32,
        off: u32,
    },
    /// Push `local a`, then load from memory at `local a + off` and push (kind `k`): the
    /// address and old value of a compound assignment `*p = *p op x`.
    LoadLDup {
        k: Load,
        a: u32,
        off: u32,
    },
    /// Load from memory at `local a + off` into `local d` (kind `k`).
    LoadLSet {
        k: Load,
        a: u32,
        off: u32,
        d: u32,
    },
    /// f64 `k`: push `local a k local b`.
    F64BinLL {
        k: FBin,
        a: u32,
        b: u32,
    },
    /// f64 `k`: replace the top `x` with `x k local b`.
    F64BinSL {
        k: FBin,
        b: u32,
    },
    /// f64 `k`: replace the top `x` with `x k c` (`c` the f64 bits).
    F64BinSC {
        k: FBin,
        c: u64,
    },
    /// f64 `k`: replace the top `x` with `x k m`, `m` the f64 at `(local a + c mod 2^32)
    /// + off` in memory.
    F64BinSM {
        k: FBin,
        a: u32,
        c: u32,
        off: u32,
    },
    /// f64 `k`: push `local b k m`, `m` the f64 at `local a + c mod 2^32` in memory.
    F64BinLM {
        k: FBin,
        b: u32,
        a: u32,
        c: u32,
    },
    /// f64 `k` then a 64-bit store: pop `y`, `x` and an address; store `x k y` at the
    /// address `+ off`.
    F64BinStore {
        k: FBin,
        off: u32,
    },

    // ---- specialized fused forms ----------------------------------------------------------
    // One variant per operator of the generic fused forms above (same fields minus `k`),
    // made by `lower::specialize` so that dispatch is a single jump. Generated by
    // `scripts/gen-interp-fused.py`.
    // BEGIN GENERATED
    I32AddLL {
        a: u32,
        b: u32,
    },
    I32SubLL {
        a: u32,
        b: u32,
    },
    I32MulLL {
        a: u32,
        b: u32,
    },
    I32AndLL {
        a: u32,
        b: u32,
    },
    I32OrLL {
        a: u32,
        b: u32,
    },
    I32XorLL {
        a: u32,
        b: u32,
    },
    I32ShlLL {
        a: u32,
        b: u32,
    },
    I32ShrSLL {
        a: u32,
        b: u32,
    },
    I32ShrULL {
        a: u32,
        b: u32,
    },
    I32RotlLL {
        a: u32,
        b: u32,
    },
    I32RotrLL {
        a: u32,
        b: u32,
    },
    I32AddLC {
        a: u32,
        c: u32,
    },
    I32SubLC {
        a: u32,
        c: u32,
    },
    I32MulLC {
        a: u32,
        c: u32,
    },
    I32AndLC {
        a: u32,
        c: u32,
    },
    I32OrLC {
        a: u32,
        c: u32,
    },
    I32XorLC {
        a: u32,
        c: u32,
    },
    I32ShlLC {
        a: u32,
        c: u32,
    },
    I32ShrSLC {
        a: u32,
        c: u32,
    },
    I32ShrULC {
        a: u32,
        c: u32,
    },
    I32RotlLC {
        a: u32,
        c: u32,
    },
    I32RotrLC {
        a: u32,
        c: u32,
    },
    I32AddSL {
        b: u32,
    },
    I32SubSL {
        b: u32,
    },
    I32MulSL {
        b: u32,
    },
    I32AndSL {
        b: u32,
    },
    I32OrSL {
        b: u32,
    },
    I32XorSL {
        b: u32,
    },
    I32ShlSL {
        b: u32,
    },
    I32ShrSSL {
        b: u32,
    },
    I32ShrUSL {
        b: u32,
    },
    I32RotlSL {
        b: u32,
    },
    I32RotrSL {
        b: u32,
    },
    I32AddSC {
        c: u32,
    },
    I32SubSC {
        c: u32,
    },
    I32MulSC {
        c: u32,
    },
    I32AndSC {
        c: u32,
    },
    I32OrSC {
        c: u32,
    },
    I32XorSC {
        c: u32,
    },
    I32ShlSC {
        c: u32,
    },
    I32ShrSSC {
        c: u32,
    },
    I32ShrUSC {
        c: u32,
    },
    I32RotlSC {
        c: u32,
    },
    I32RotrSC {
        c: u32,
    },
    I32AddLLD {
        a: u32,
        b: u32,
        d: u32,
    },
    I32SubLLD {
        a: u32,
        b: u32,
        d: u32,
    },
    I32MulLLD {
        a: u32,
        b: u32,
        d: u32,
    },
    I32AndLLD {
        a: u32,
        b: u32,
        d: u32,
    },
    I32OrLLD {
        a: u32,
        b: u32,
        d: u32,
    },
    I32XorLLD {
        a: u32,
        b: u32,
        d: u32,
    },
    I32ShlLLD {
        a: u32,
        b: u32,
        d: u32,
    },
    I32ShrSLLD {
        a: u32,
        b: u32,
        d: u32,
    },
    I32ShrULLD {
        a: u32,
        b: u32,
        d: u32,
    },
    I32RotlLLD {
        a: u32,
        b: u32,
        d: u32,
    },
    I32RotrLLD {
        a: u32,
        b: u32,
        d: u32,
    },
    I32AddLCD {
        a: u32,
        c: u32,
        d: u32,
    },
    I32SubLCD {
        a: u32,
        c: u32,
        d: u32,
    },
    I32MulLCD {
        a: u32,
        c: u32,
        d: u32,
    },
    I32AndLCD {
        a: u32,
        c: u32,
        d: u32,
    },
    I32OrLCD {
        a: u32,
        c: u32,
        d: u32,
    },
    I32XorLCD {
        a: u32,
        c: u32,
        d: u32,
    },
    I32ShlLCD {
        a: u32,
        c: u32,
        d: u32,
    },
    I32ShrSLCD {
        a: u32,
        c: u32,
        d: u32,
    },
    I32ShrULCD {
        a: u32,
        c: u32,
        d: u32,
    },
    I32RotlLCD {
        a: u32,
        c: u32,
        d: u32,
    },
    I32RotrLCD {
        a: u32,
        c: u32,
        d: u32,
    },
    I32AddSLD {
        b: u32,
        d: u32,
    },
    I32SubSLD {
        b: u32,
        d: u32,
    },
    I32MulSLD {
        b: u32,
        d: u32,
    },
    I32AndSLD {
        b: u32,
        d: u32,
    },
    I32OrSLD {
        b: u32,
        d: u32,
    },
    I32XorSLD {
        b: u32,
        d: u32,
    },
    I32ShlSLD {
        b: u32,
        d: u32,
    },
    I32ShrSSLD {
        b: u32,
        d: u32,
    },
    I32ShrUSLD {
        b: u32,
        d: u32,
    },
    I32RotlSLD {
        b: u32,
        d: u32,
    },
    I32RotrSLD {
        b: u32,
        d: u32,
    },
    I32AddSCD {
        c: u32,
        d: u32,
    },
    I32SubSCD {
        c: u32,
        d: u32,
    },
    I32MulSCD {
        c: u32,
        d: u32,
    },
    I32AndSCD {
        c: u32,
        d: u32,
    },
    I32OrSCD {
        c: u32,
        d: u32,
    },
    I32XorSCD {
        c: u32,
        d: u32,
    },
    I32ShlSCD {
        c: u32,
        d: u32,
    },
    I32ShrSSCD {
        c: u32,
        d: u32,
    },
    I32ShrUSCD {
        c: u32,
        d: u32,
    },
    I32RotlSCD {
        c: u32,
        d: u32,
    },
    I32RotrSCD {
        c: u32,
        d: u32,
    },
    I32AddSSD {
        d: u32,
    },
    I32SubSSD {
        d: u32,
    },
    I32MulSSD {
        d: u32,
    },
    I32AndSSD {
        d: u32,
    },
    I32OrSSD {
        d: u32,
    },
    I32XorSSD {
        d: u32,
    },
    I32ShlSSD {
        d: u32,
    },
    I32ShrSSSD {
        d: u32,
    },
    I32ShrUSSD {
        d: u32,
    },
    I32RotlSSD {
        d: u32,
    },
    I32RotrSSD {
        d: u32,
    },
    I64AddLL {
        a: u32,
        b: u32,
    },
    I64SubLL {
        a: u32,
        b: u32,
    },
    I64MulLL {
        a: u32,
        b: u32,
    },
    I64AndLL {
        a: u32,
        b: u32,
    },
    I64OrLL {
        a: u32,
        b: u32,
    },
    I64XorLL {
        a: u32,
        b: u32,
    },
    I64ShlLL {
        a: u32,
        b: u32,
    },
    I64ShrSLL {
        a: u32,
        b: u32,
    },
    I64ShrULL {
        a: u32,
        b: u32,
    },
    I64RotlLL {
        a: u32,
        b: u32,
    },
    I64RotrLL {
        a: u32,
        b: u32,
    },
    I64AddLC {
        a: u32,
        c: i32,
    },
    I64SubLC {
        a: u32,
        c: i32,
    },
    I64MulLC {
        a: u32,
        c: i32,
    },
    I64AndLC {
        a: u32,
        c: i32,
    },
    I64OrLC {
        a: u32,
        c: i32,
    },
    I64XorLC {
        a: u32,
        c: i32,
    },
    I64ShlLC {
        a: u32,
        c: i32,
    },
    I64ShrSLC {
        a: u32,
        c: i32,
    },
    I64ShrULC {
        a: u32,
        c: i32,
    },
    I64RotlLC {
        a: u32,
        c: i32,
    },
    I64RotrLC {
        a: u32,
        c: i32,
    },
    I64AddSL {
        b: u32,
    },
    I64SubSL {
        b: u32,
    },
    I64MulSL {
        b: u32,
    },
    I64AndSL {
        b: u32,
    },
    I64OrSL {
        b: u32,
    },
    I64XorSL {
        b: u32,
    },
    I64ShlSL {
        b: u32,
    },
    I64ShrSSL {
        b: u32,
    },
    I64ShrUSL {
        b: u32,
    },
    I64RotlSL {
        b: u32,
    },
    I64RotrSL {
        b: u32,
    },
    I64AddSC {
        c: i32,
    },
    I64SubSC {
        c: i32,
    },
    I64MulSC {
        c: i32,
    },
    I64AndSC {
        c: i32,
    },
    I64OrSC {
        c: i32,
    },
    I64XorSC {
        c: i32,
    },
    I64ShlSC {
        c: i32,
    },
    I64ShrSSC {
        c: i32,
    },
    I64ShrUSC {
        c: i32,
    },
    I64RotlSC {
        c: i32,
    },
    I64RotrSC {
        c: i32,
    },
    I64AddLLD {
        a: u32,
        b: u32,
        d: u32,
    },
    I64SubLLD {
        a: u32,
        b: u32,
        d: u32,
    },
    I64MulLLD {
        a: u32,
        b: u32,
        d: u32,
    },
    I64AndLLD {
        a: u32,
        b: u32,
        d: u32,
    },
    I64OrLLD {
        a: u32,
        b: u32,
        d: u32,
    },
    I64XorLLD {
        a: u32,
        b: u32,
        d: u32,
    },
    I64ShlLLD {
        a: u32,
        b: u32,
        d: u32,
    },
    I64ShrSLLD {
        a: u32,
        b: u32,
        d: u32,
    },
    I64ShrULLD {
        a: u32,
        b: u32,
        d: u32,
    },
    I64RotlLLD {
        a: u32,
        b: u32,
        d: u32,
    },
    I64RotrLLD {
        a: u32,
        b: u32,
        d: u32,
    },
    I64AddLCD {
        a: u32,
        c: i32,
        d: u32,
    },
    I64SubLCD {
        a: u32,
        c: i32,
        d: u32,
    },
    I64MulLCD {
        a: u32,
        c: i32,
        d: u32,
    },
    I64AndLCD {
        a: u32,
        c: i32,
        d: u32,
    },
    I64OrLCD {
        a: u32,
        c: i32,
        d: u32,
    },
    I64XorLCD {
        a: u32,
        c: i32,
        d: u32,
    },
    I64ShlLCD {
        a: u32,
        c: i32,
        d: u32,
    },
    I64ShrSLCD {
        a: u32,
        c: i32,
        d: u32,
    },
    I64ShrULCD {
        a: u32,
        c: i32,
        d: u32,
    },
    I64RotlLCD {
        a: u32,
        c: i32,
        d: u32,
    },
    I64RotrLCD {
        a: u32,
        c: i32,
        d: u32,
    },
    I64AddSLD {
        b: u32,
        d: u32,
    },
    I64SubSLD {
        b: u32,
        d: u32,
    },
    I64MulSLD {
        b: u32,
        d: u32,
    },
    I64AndSLD {
        b: u32,
        d: u32,
    },
    I64OrSLD {
        b: u32,
        d: u32,
    },
    I64XorSLD {
        b: u32,
        d: u32,
    },
    I64ShlSLD {
        b: u32,
        d: u32,
    },
    I64ShrSSLD {
        b: u32,
        d: u32,
    },
    I64ShrUSLD {
        b: u32,
        d: u32,
    },
    I64RotlSLD {
        b: u32,
        d: u32,
    },
    I64RotrSLD {
        b: u32,
        d: u32,
    },
    I64AddSCD {
        c: i32,
        d: u32,
    },
    I64SubSCD {
        c: i32,
        d: u32,
    },
    I64MulSCD {
        c: i32,
        d: u32,
    },
    I64AndSCD {
        c: i32,
        d: u32,
    },
    I64OrSCD {
        c: i32,
        d: u32,
    },
    I64XorSCD {
        c: i32,
        d: u32,
    },
    I64ShlSCD {
        c: i32,
        d: u32,
    },
    I64ShrSSCD {
        c: i32,
        d: u32,
    },
    I64ShrUSCD {
        c: i32,
        d: u32,
    },
    I64RotlSCD {
        c: i32,
        d: u32,
    },
    I64RotrSCD {
        c: i32,
        d: u32,
    },
    I64AddSSD {
        d: u32,
    },
    I64SubSSD {
        d: u32,
    },
    I64MulSSD {
        d: u32,
    },
    I64AndSSD {
        d: u32,
    },
    I64OrSSD {
        d: u32,
    },
    I64XorSSD {
        d: u32,
    },
    I64ShlSSD {
        d: u32,
    },
    I64ShrSSSD {
        d: u32,
    },
    I64ShrUSSD {
        d: u32,
    },
    I64RotlSSD {
        d: u32,
    },
    I64RotrSSD {
        d: u32,
    },
    I32EqJumpLL {
        lp: bool,
        a: u32,
        b: u32,
        t: u32,
    },
    I32NeJumpLL {
        lp: bool,
        a: u32,
        b: u32,
        t: u32,
    },
    I32LtSJumpLL {
        lp: bool,
        a: u32,
        b: u32,
        t: u32,
    },
    I32LtUJumpLL {
        lp: bool,
        a: u32,
        b: u32,
        t: u32,
    },
    I32GtSJumpLL {
        lp: bool,
        a: u32,
        b: u32,
        t: u32,
    },
    I32GtUJumpLL {
        lp: bool,
        a: u32,
        b: u32,
        t: u32,
    },
    I32LeSJumpLL {
        lp: bool,
        a: u32,
        b: u32,
        t: u32,
    },
    I32LeUJumpLL {
        lp: bool,
        a: u32,
        b: u32,
        t: u32,
    },
    I32GeSJumpLL {
        lp: bool,
        a: u32,
        b: u32,
        t: u32,
    },
    I32GeUJumpLL {
        lp: bool,
        a: u32,
        b: u32,
        t: u32,
    },
    I32EqJumpLC {
        lp: bool,
        a: u32,
        c: u32,
        t: u32,
    },
    I32NeJumpLC {
        lp: bool,
        a: u32,
        c: u32,
        t: u32,
    },
    I32LtSJumpLC {
        lp: bool,
        a: u32,
        c: u32,
        t: u32,
    },
    I32LtUJumpLC {
        lp: bool,
        a: u32,
        c: u32,
        t: u32,
    },
    I32GtSJumpLC {
        lp: bool,
        a: u32,
        c: u32,
        t: u32,
    },
    I32GtUJumpLC {
        lp: bool,
        a: u32,
        c: u32,
        t: u32,
    },
    I32LeSJumpLC {
        lp: bool,
        a: u32,
        c: u32,
        t: u32,
    },
    I32LeUJumpLC {
        lp: bool,
        a: u32,
        c: u32,
        t: u32,
    },
    I32GeSJumpLC {
        lp: bool,
        a: u32,
        c: u32,
        t: u32,
    },
    I32GeUJumpLC {
        lp: bool,
        a: u32,
        c: u32,
        t: u32,
    },
    I32EqJumpSS {
        lp: bool,
        t: u32,
    },
    I32NeJumpSS {
        lp: bool,
        t: u32,
    },
    I32LtSJumpSS {
        lp: bool,
        t: u32,
    },
    I32LtUJumpSS {
        lp: bool,
        t: u32,
    },
    I32GtSJumpSS {
        lp: bool,
        t: u32,
    },
    I32GtUJumpSS {
        lp: bool,
        t: u32,
    },
    I32LeSJumpSS {
        lp: bool,
        t: u32,
    },
    I32LeUJumpSS {
        lp: bool,
        t: u32,
    },
    I32GeSJumpSS {
        lp: bool,
        t: u32,
    },
    I32GeUJumpSS {
        lp: bool,
        t: u32,
    },
    I32EqJumpSC {
        lp: bool,
        c: u32,
        t: u32,
    },
    I32NeJumpSC {
        lp: bool,
        c: u32,
        t: u32,
    },
    I32LtSJumpSC {
        lp: bool,
        c: u32,
        t: u32,
    },
    I32LtUJumpSC {
        lp: bool,
        c: u32,
        t: u32,
    },
    I32GtSJumpSC {
        lp: bool,
        c: u32,
        t: u32,
    },
    I32GtUJumpSC {
        lp: bool,
        c: u32,
        t: u32,
    },
    I32LeSJumpSC {
        lp: bool,
        c: u32,
        t: u32,
    },
    I32LeUJumpSC {
        lp: bool,
        c: u32,
        t: u32,
    },
    I32GeSJumpSC {
        lp: bool,
        c: u32,
        t: u32,
    },
    I32GeUJumpSC {
        lp: bool,
        c: u32,
        t: u32,
    },
    I32EqJumpSL {
        lp: bool,
        b: u32,
        t: u32,
    },
    I32NeJumpSL {
        lp: bool,
        b: u32,
        t: u32,
    },
    I32LtSJumpSL {
        lp: bool,
        b: u32,
        t: u32,
    },
    I32LtUJumpSL {
        lp: bool,
        b: u32,
        t: u32,
    },
    I32GtSJumpSL {
        lp: bool,
        b: u32,
        t: u32,
    },
    I32GtUJumpSL {
        lp: bool,
        b: u32,
        t: u32,
    },
    I32LeSJumpSL {
        lp: bool,
        b: u32,
        t: u32,
    },
    I32LeUJumpSL {
        lp: bool,
        b: u32,
        t: u32,
    },
    I32GeSJumpSL {
        lp: bool,
        b: u32,
        t: u32,
    },
    I32GeUJumpSL {
        lp: bool,
        b: u32,
        t: u32,
    },
    I64EqJumpLL {
        lp: bool,
        a: u32,
        b: u32,
        t: u32,
    },
    I64NeJumpLL {
        lp: bool,
        a: u32,
        b: u32,
        t: u32,
    },
    I64LtSJumpLL {
        lp: bool,
        a: u32,
        b: u32,
        t: u32,
    },
    I64LtUJumpLL {
        lp: bool,
        a: u32,
        b: u32,
        t: u32,
    },
    I64GtSJumpLL {
        lp: bool,
        a: u32,
        b: u32,
        t: u32,
    },
    I64GtUJumpLL {
        lp: bool,
        a: u32,
        b: u32,
        t: u32,
    },
    I64LeSJumpLL {
        lp: bool,
        a: u32,
        b: u32,
        t: u32,
    },
    I64LeUJumpLL {
        lp: bool,
        a: u32,
        b: u32,
        t: u32,
    },
    I64GeSJumpLL {
        lp: bool,
        a: u32,
        b: u32,
        t: u32,
    },
    I64GeUJumpLL {
        lp: bool,
        a: u32,
        b: u32,
        t: u32,
    },
    I64EqJumpLC {
        lp: bool,
        a: u32,
        c: i32,
        t: u32,
    },
    I64NeJumpLC {
        lp: bool,
        a: u32,
        c: i32,
        t: u32,
    },
    I64LtSJumpLC {
        lp: bool,
        a: u32,
        c: i32,
        t: u32,
    },
    I64LtUJumpLC {
        lp: bool,
        a: u32,
        c: i32,
        t: u32,
    },
    I64GtSJumpLC {
        lp: bool,
        a: u32,
        c: i32,
        t: u32,
    },
    I64GtUJumpLC {
        lp: bool,
        a: u32,
        c: i32,
        t: u32,
    },
    I64LeSJumpLC {
        lp: bool,
        a: u32,
        c: i32,
        t: u32,
    },
    I64LeUJumpLC {
        lp: bool,
        a: u32,
        c: i32,
        t: u32,
    },
    I64GeSJumpLC {
        lp: bool,
        a: u32,
        c: i32,
        t: u32,
    },
    I64GeUJumpLC {
        lp: bool,
        a: u32,
        c: i32,
        t: u32,
    },
    I64EqJumpSS {
        lp: bool,
        t: u32,
    },
    I64NeJumpSS {
        lp: bool,
        t: u32,
    },
    I64LtSJumpSS {
        lp: bool,
        t: u32,
    },
    I64LtUJumpSS {
        lp: bool,
        t: u32,
    },
    I64GtSJumpSS {
        lp: bool,
        t: u32,
    },
    I64GtUJumpSS {
        lp: bool,
        t: u32,
    },
    I64LeSJumpSS {
        lp: bool,
        t: u32,
    },
    I64LeUJumpSS {
        lp: bool,
        t: u32,
    },
    I64GeSJumpSS {
        lp: bool,
        t: u32,
    },
    I64GeUJumpSS {
        lp: bool,
        t: u32,
    },
    I64EqJumpSC {
        lp: bool,
        c: i32,
        t: u32,
    },
    I64NeJumpSC {
        lp: bool,
        c: i32,
        t: u32,
    },
    I64LtSJumpSC {
        lp: bool,
        c: i32,
        t: u32,
    },
    I64LtUJumpSC {
        lp: bool,
        c: i32,
        t: u32,
    },
    I64GtSJumpSC {
        lp: bool,
        c: i32,
        t: u32,
    },
    I64GtUJumpSC {
        lp: bool,
        c: i32,
        t: u32,
    },
    I64LeSJumpSC {
        lp: bool,
        c: i32,
        t: u32,
    },
    I64LeUJumpSC {
        lp: bool,
        c: i32,
        t: u32,
    },
    I64GeSJumpSC {
        lp: bool,
        c: i32,
        t: u32,
    },
    I64GeUJumpSC {
        lp: bool,
        c: i32,
        t: u32,
    },
    I64EqJumpSL {
        lp: bool,
        b: u32,
        t: u32,
    },
    I64NeJumpSL {
        lp: bool,
        b: u32,
        t: u32,
    },
    I64LtSJumpSL {
        lp: bool,
        b: u32,
        t: u32,
    },
    I64LtUJumpSL {
        lp: bool,
        b: u32,
        t: u32,
    },
    I64GtSJumpSL {
        lp: bool,
        b: u32,
        t: u32,
    },
    I64GtUJumpSL {
        lp: bool,
        b: u32,
        t: u32,
    },
    I64LeSJumpSL {
        lp: bool,
        b: u32,
        t: u32,
    },
    I64LeUJumpSL {
        lp: bool,
        b: u32,
        t: u32,
    },
    I64GeSJumpSL {
        lp: bool,
        b: u32,
        t: u32,
    },
    I64GeUJumpSL {
        lp: bool,
        b: u32,
        t: u32,
    },
    F64AddLL {
        a: u32,
        b: u32,
    },
    F64SubLL {
        a: u32,
        b: u32,
    },
    F64MulLL {
        a: u32,
        b: u32,
    },
    F64DivLL {
        a: u32,
        b: u32,
    },
    F64AddSL {
        b: u32,
    },
    F64SubSL {
        b: u32,
    },
    F64MulSL {
        b: u32,
    },
    F64DivSL {
        b: u32,
    },
    F64AddSC {
        c: u64,
    },
    F64SubSC {
        c: u64,
    },
    F64MulSC {
        c: u64,
    },
    F64DivSC {
        c: u64,
    },
    F64AddSM {
        a: u32,
        c: u32,
        off: u32,
    },
    F64SubSM {
        a: u32,
        c: u32,
        off: u32,
    },
    F64MulSM {
        a: u32,
        c: u32,
        off: u32,
    },
    F64DivSM {
        a: u32,
        c: u32,
        off: u32,
    },
    F64AddLM {
        b: u32,
        a: u32,
        c: u32,
    },
    F64SubLM {
        b: u32,
        a: u32,
        c: u32,
    },
    F64MulLM {
        b: u32,
        a: u32,
        c: u32,
    },
    F64DivLM {
        b: u32,
        a: u32,
        c: u32,
    },
    F64AddStore {
        off: u32,
    },
    F64SubStore {
        off: u32,
    },
    F64MulStore {
        off: u32,
    },
    F64DivStore {
        off: u32,
    }, // END GENERATED

    // ---- i32 -----------------------------------------------------------------------------
    I32Eqz,
    I32Eq,
    I32Ne,
    I32LtS,
    I32LtU,
    I32GtS,
    I32GtU,
    I32LeS,
    I32LeU,
    I32GeS,
    I32GeU,
    I32Clz,
    I32Ctz,
    I32Popcnt,
    I32Add,
    I32Sub,
    I32Mul,
    I32DivS,
    I32DivU,
    I32RemS,
    I32RemU,
    I32And,
    I32Or,
    I32Xor,
    I32Shl,
    I32ShrS,
    I32ShrU,
    I32Rotl,
    I32Rotr,

    // ---- i64 -----------------------------------------------------------------------------
    I64Eqz,
    I64Eq,
    I64Ne,
    I64LtS,
    I64LtU,
    I64GtS,
    I64GtU,
    I64LeS,
    I64LeU,
    I64GeS,
    I64GeU,
    I64Clz,
    I64Ctz,
    I64Popcnt,
    I64Add,
    I64Sub,
    I64Mul,
    I64DivS,
    I64DivU,
    I64RemS,
    I64RemU,
    I64And,
    I64Or,
    I64Xor,
    I64Shl,
    I64ShrS,
    I64ShrU,
    I64Rotl,
    I64Rotr,

    // ---- f32 -----------------------------------------------------------------------------
    F32Eq,
    F32Ne,
    F32Lt,
    F32Gt,
    F32Le,
    F32Ge,
    F32Abs,
    F32Neg,
    F32Ceil,
    F32Floor,
    F32Trunc,
    F32Nearest,
    F32Sqrt,
    F32Add,
    F32Sub,
    F32Mul,
    F32Div,
    F32Min,
    F32Max,
    F32Copysign,

    // ---- f64 -----------------------------------------------------------------------------
    F64Eq,
    F64Ne,
    F64Lt,
    F64Gt,
    F64Le,
    F64Ge,
    F64Abs,
    F64Neg,
    F64Ceil,
    F64Floor,
    F64Trunc,
    F64Nearest,
    F64Sqrt,
    F64Add,
    F64Sub,
    F64Mul,
    F64Div,
    F64Min,
    F64Max,
    F64Copysign,

    // ---- conversions ---------------------------------------------------------------------
    I32WrapI64,
    I32TruncF32S,
    I32TruncF32U,
    I32TruncF64S,
    I32TruncF64U,
    I64ExtendI32S,
    I64ExtendI32U,
    I64TruncF32S,
    I64TruncF32U,
    I64TruncF64S,
    I64TruncF64U,
    F32ConvertI32S,
    F32ConvertI32U,
    F32ConvertI64S,
    F32ConvertI64U,
    F32DemoteF64,
    F64ConvertI32S,
    F64ConvertI32U,
    F64ConvertI64S,
    F64ConvertI64U,
    F64PromoteF32,
    I32Extend8S,
    I32Extend16S,
    I64Extend8S,
    I64Extend16S,
    I64Extend32S,
    I32TruncSatF32S,
    I32TruncSatF32U,
    I32TruncSatF64S,
    I32TruncSatF64U,
    I64TruncSatF32S,
    I64TruncSatF32U,
    I64TruncSatF64S,
    I64TruncSatF64U,
}

/// The integer binary operators the fused forms carry (the same set for i32 and i64).
/// Comparisons produce 0 or 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)] // Named after the wasm instructions.
#[repr(u8)]
pub enum Bin {
    Add,
    Sub,
    Mul,
    And,
    Or,
    Xor,
    Shl,
    ShrS,
    ShrU,
    Rotl,
    Rotr,
    Eq,
    Ne,
    LtS,
    LtU,
    GtS,
    GtU,
    LeS,
    LeU,
    GeS,
    GeU,
}

impl Bin {
    /// Whether this is a comparison.
    pub fn is_cmp(self) -> bool {
        self as u8 >= Bin::Eq as u8
    }

    /// The comparison with the opposite outcome (`None` for non-comparisons).
    pub fn negate(self) -> Option<Bin> {
        Some(match self {
            Bin::Eq => Bin::Ne,
            Bin::Ne => Bin::Eq,
            Bin::LtS => Bin::GeS,
            Bin::LtU => Bin::GeU,
            Bin::GtS => Bin::LeS,
            Bin::GtU => Bin::LeU,
            Bin::LeS => Bin::GtS,
            Bin::LeU => Bin::GtU,
            Bin::GeS => Bin::LtS,
            Bin::GeU => Bin::LtU,
            _ => return None,
        })
    }

    /// The i32 operator `op` as a fusable [`Bin`] (never a trapping one).
    pub fn of_i32(op: &Op) -> Option<Bin> {
        Some(match op {
            Op::I32Add => Bin::Add,
            Op::I32Sub => Bin::Sub,
            Op::I32Mul => Bin::Mul,
            Op::I32And => Bin::And,
            Op::I32Or => Bin::Or,
            Op::I32Xor => Bin::Xor,
            Op::I32Shl => Bin::Shl,
            Op::I32ShrS => Bin::ShrS,
            Op::I32ShrU => Bin::ShrU,
            Op::I32Rotl => Bin::Rotl,
            Op::I32Rotr => Bin::Rotr,
            Op::I32Eq => Bin::Eq,
            Op::I32Ne => Bin::Ne,
            Op::I32LtS => Bin::LtS,
            Op::I32LtU => Bin::LtU,
            Op::I32GtS => Bin::GtS,
            Op::I32GtU => Bin::GtU,
            Op::I32LeS => Bin::LeS,
            Op::I32LeU => Bin::LeU,
            Op::I32GeS => Bin::GeS,
            Op::I32GeU => Bin::GeU,
            _ => return None,
        })
    }

    /// The i64 operator `op` as a fusable [`Bin`] (never a trapping one).
    pub fn of_i64(op: &Op) -> Option<Bin> {
        Some(match op {
            Op::I64Add => Bin::Add,
            Op::I64Sub => Bin::Sub,
            Op::I64Mul => Bin::Mul,
            Op::I64And => Bin::And,
            Op::I64Or => Bin::Or,
            Op::I64Xor => Bin::Xor,
            Op::I64Shl => Bin::Shl,
            Op::I64ShrS => Bin::ShrS,
            Op::I64ShrU => Bin::ShrU,
            Op::I64Rotl => Bin::Rotl,
            Op::I64Rotr => Bin::Rotr,
            Op::I64Eq => Bin::Eq,
            Op::I64Ne => Bin::Ne,
            Op::I64LtS => Bin::LtS,
            Op::I64LtU => Bin::LtU,
            Op::I64GtS => Bin::GtS,
            Op::I64GtU => Bin::GtU,
            Op::I64LeS => Bin::LeS,
            Op::I64LeU => Bin::LeU,
            Op::I64GeS => Bin::GeS,
            Op::I64GeU => Bin::GeU,
            _ => return None,
        })
    }

    /// Applies the operator to two i32 values.
    #[inline(always)]
    pub fn eval32(self, a: u32, b: u32) -> u32 {
        match self {
            Bin::Add => a.wrapping_add(b),
            Bin::Sub => a.wrapping_sub(b),
            Bin::Mul => a.wrapping_mul(b),
            Bin::And => a & b,
            Bin::Or => a | b,
            Bin::Xor => a ^ b,
            Bin::Shl => a.wrapping_shl(b),
            Bin::ShrS => (a as i32).wrapping_shr(b) as u32,
            Bin::ShrU => a.wrapping_shr(b),
            Bin::Rotl => a.rotate_left(b),
            Bin::Rotr => a.rotate_right(b),
            Bin::Eq => (a == b) as u32,
            Bin::Ne => (a != b) as u32,
            Bin::LtS => ((a as i32) < (b as i32)) as u32,
            Bin::LtU => (a < b) as u32,
            Bin::GtS => ((a as i32) > (b as i32)) as u32,
            Bin::GtU => (a > b) as u32,
            Bin::LeS => ((a as i32) <= (b as i32)) as u32,
            Bin::LeU => (a <= b) as u32,
            Bin::GeS => ((a as i32) >= (b as i32)) as u32,
            Bin::GeU => (a >= b) as u32,
        }
    }

    /// Applies the operator to two i64 values.
    #[inline(always)]
    pub fn eval64(self, a: u64, b: u64) -> u64 {
        match self {
            Bin::Add => a.wrapping_add(b),
            Bin::Sub => a.wrapping_sub(b),
            Bin::Mul => a.wrapping_mul(b),
            Bin::And => a & b,
            Bin::Or => a | b,
            Bin::Xor => a ^ b,
            Bin::Shl => a.wrapping_shl(b as u32),
            Bin::ShrS => (a as i64).wrapping_shr(b as u32) as u64,
            Bin::ShrU => a.wrapping_shr(b as u32),
            Bin::Rotl => a.rotate_left((b & 63) as u32),
            Bin::Rotr => a.rotate_right((b & 63) as u32),
            Bin::Eq => (a == b) as u64,
            Bin::Ne => (a != b) as u64,
            Bin::LtS => ((a as i64) < (b as i64)) as u64,
            Bin::LtU => (a < b) as u64,
            Bin::GtS => ((a as i64) > (b as i64)) as u64,
            Bin::GtU => (a > b) as u64,
            Bin::LeS => ((a as i64) <= (b as i64)) as u64,
            Bin::LeU => (a <= b) as u64,
            Bin::GeS => ((a as i64) >= (b as i64)) as u64,
            Bin::GeU => (a >= b) as u64,
        }
    }

    /// Evaluates an i32 comparison.
    #[inline(always)]
    pub fn test32(self, a: u32, b: u32) -> bool {
        match self {
            Bin::Eq => a == b,
            Bin::Ne => a != b,
            Bin::LtS => (a as i32) < (b as i32),
            Bin::LtU => a < b,
            Bin::GtS => (a as i32) > (b as i32),
            Bin::GtU => a > b,
            Bin::LeS => (a as i32) <= (b as i32),
            Bin::LeU => a <= b,
            Bin::GeS => (a as i32) >= (b as i32),
            Bin::GeU => a >= b,
            // The lowering fuses only comparisons into jumps.
            _ => self.eval32(a, b) != 0,
        }
    }

    /// Evaluates an i64 comparison.
    #[inline(always)]
    pub fn test64(self, a: u64, b: u64) -> bool {
        match self {
            Bin::Eq => a == b,
            Bin::Ne => a != b,
            Bin::LtS => (a as i64) < (b as i64),
            Bin::LtU => a < b,
            Bin::GtS => (a as i64) > (b as i64),
            Bin::GtU => a > b,
            Bin::LeS => (a as i64) <= (b as i64),
            Bin::LeU => a <= b,
            Bin::GeS => (a as i64) >= (b as i64),
            Bin::GeU => a >= b,
            _ => self.eval64(a, b) != 0,
        }
    }
}

/// The f64 arithmetic operators of the fused f64 forms ([`Op::F64BinLL`], ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)] // Named after the wasm instructions.
#[repr(u8)]
pub enum FBin {
    Add,
    Sub,
    Mul,
    Div,
}

impl FBin {
    /// The operator of a plain f64 arithmetic op.
    pub fn of(op: &Op) -> Option<FBin> {
        Some(match op {
            Op::F64Add => FBin::Add,
            Op::F64Sub => FBin::Sub,
            Op::F64Mul => FBin::Mul,
            Op::F64Div => FBin::Div,
            _ => return None,
        })
    }

    /// `x k y` on f64 bit patterns, exactly as the unfused op computes it (same operand
    /// order, so the same NaN payloads).
    #[inline(always)]
    pub fn eval(self, x: u64, y: u64) -> u64 {
        let (x, y) = (f64::from_bits(x), f64::from_bits(y));
        match self {
            FBin::Add => x + y,
            FBin::Sub => x - y,
            FBin::Mul => x * y,
            FBin::Div => x / y,
        }
        .to_bits()
    }
}

/// Memory load kinds of [`Op::LoadL`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)] // Named after the wasm instructions.
#[repr(u8)]
pub enum Load {
    I32,
    I64,
    I32_8S,
    I32_8U,
    I32_16S,
    I32_16U,
    I64_8S,
    I64_16S,
    I64_32S,
}

impl Load {
    /// The load op `op` (and its static offset) as a [`Load`] kind. F32/F64 loads map to
    /// the integer loads of the same width (slots hold raw bits); unsigned narrow i64 loads
    /// to the i32 ones (zero extension gives the same slot).
    pub fn of(op: &Op) -> Option<(Load, u32)> {
        Some(match *op {
            Op::I32Load(o) | Op::F32Load(o) | Op::I64Load32U(o) => (Load::I32, o),
            Op::I64Load(o) | Op::F64Load(o) => (Load::I64, o),
            Op::I32Load8S(o) => (Load::I32_8S, o),
            Op::I32Load8U(o) | Op::I64Load8U(o) => (Load::I32_8U, o),
            Op::I32Load16S(o) => (Load::I32_16S, o),
            Op::I32Load16U(o) | Op::I64Load16U(o) => (Load::I32_16U, o),
            Op::I64Load8S(o) => (Load::I64_8S, o),
            Op::I64Load16S(o) => (Load::I64_16S, o),
            Op::I64Load32S(o) => (Load::I64_32S, o),
            _ => return None,
        })
    }

    /// Width in bytes.
    #[inline(always)]
    pub fn width(self) -> u64 {
        match self {
            Load::I32 | Load::I64_32S => 4,
            Load::I64 => 8,
            Load::I32_8S | Load::I32_8U | Load::I64_8S => 1,
            Load::I32_16S | Load::I32_16U | Load::I64_16S => 2,
        }
    }
}

/// Memory store widths of the fused stores ([`Op::StoreLL`], ...): a store writes the low
/// bytes of its slot, whatever the value type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)] // Named after the widths in bits.
#[repr(u8)]
pub enum Store {
    S8,
    S16,
    S32,
    S64,
}

impl Store {
    /// The store op `op` (and its static offset) as a [`Store`] width.
    pub fn of(op: &Op) -> Option<(Store, u32)> {
        Some(match *op {
            Op::I32Store8(o) | Op::I64Store8(o) => (Store::S8, o),
            Op::I32Store16(o) | Op::I64Store16(o) => (Store::S16, o),
            Op::I32Store(o) | Op::F32Store(o) | Op::I64Store32(o) => (Store::S32, o),
            Op::I64Store(o) | Op::F64Store(o) => (Store::S64, o),
            _ => return None,
        })
    }
}

/// One `try_table` of a lowered body: ops `start..end` (op indices) are covered by catch
/// clauses `first..first + len` of [`FuncCode::catches`]. Sorted by `end`, so for an op
/// the first entry covering it is its innermost `try_table`. Nothing is executed at
/// `try_table` entry; a throw searches these (docs/ABI.md, "Exceptions").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Handler {
    /// First op of the `try_table` body.
    pub start: u32,
    /// One past its last op.
    pub end: u32,
    /// First catch clause.
    pub first: u32,
    /// Number of catch clauses.
    pub len: u32,
}

/// Which exceptions a catch clause takes and what it pushes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CatchKind {
    /// `catch tag`: the payload.
    Tag,
    /// `catch_ref tag`: the payload, then the exception reference.
    TagRef,
    /// `catch_all`: nothing.
    All,
    /// `catch_all_ref`: the exception reference.
    AllRef,
}

/// One catch clause: a branch to `target` with the stack cut to `height`, then its values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Catch {
    /// What it catches.
    pub kind: CatchKind,
    /// Module tag index (for [`CatchKind::Tag`], [`CatchKind::TagRef`]).
    pub tag: u32,
    /// Target op index.
    pub target: u32,
    /// Stack height (frame slots) the values are pushed at.
    pub height: u32,
}

/// One `br_table` entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BrEntry {
    /// Target op index.
    pub target: u32,
    /// Stack height to restore.
    pub height: u32,
    /// Values to keep.
    pub keep: u32,
    /// Whether the target is a loop header (a back-edge).
    pub is_loop: bool,
}

/// One `loop` of a lowered body (on-stack replacement, see `docs/ABI.md`, "OSR").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoopInfo {
    /// Op index of the header (first op of the loop body; back-edges jump here).
    pub header: u32,
    /// Module offset of the wasm `loop` operator.
    pub offset: u32,
    /// Stack height (slots from the frame base, locals included) below the loop's
    /// parameters: equal to `num_locals` when nothing but the parameters is on the stack.
    pub height: u32,
    /// Number of loop parameters.
    pub nparams: u32,
    /// Some back-edge of this loop was rotated (see `lower::rotate_loops`): it jumps to
    /// `header + 1`, past the pure exit test at `header`.
    pub rotated: bool,
}

/// A lowered function body.
#[derive(Clone, Debug, Default)]
pub struct FuncCode {
    /// Function index in the module.
    pub func_index: u32,
    /// The ops.
    pub ops: Vec<Op>,
    /// Wasm code offset (from the start of the module) of each op.
    pub offsets: Vec<u32>,
    /// Targets of every `br_table`.
    pub br_tables: Vec<BrEntry>,
    /// Value slots of the parameters (a `v128` takes two; docs/ABI.md, "SIMD (v128)").
    pub num_params: u32,
    /// Value slots of the results.
    pub num_results: u32,
    /// Value slots of the parameters plus declared locals.
    pub num_locals: u32,
    /// Largest stack height (locals included) the body reaches.
    pub max_height: u32,
    /// Every live `loop`, in the order the body opens them (outer loops first).
    pub loops: Vec<LoopInfo>,
    /// `v128.const` values and `i8x16.shuffle` lane patterns ([`Op::Simd`] immediates).
    pub v128_consts: Vec<u128>,
    /// The `try_table`s (exception handling).
    pub handlers: Vec<Handler>,
    /// Their catch clauses.
    pub catches: Vec<Catch>,
    /// The body uses an exception instruction.
    pub uses_exceptions: bool,
}

impl FuncCode {
    /// The loop whose body a back-edge to op index `target` enters: a loop whose header is
    /// `target` (several nested loops may share one header; the state is the same for all,
    /// the outermost is returned), else a rotated loop whose exit test sits at `target - 1`.
    pub fn loop_at(&self, target: u32) -> Option<&LoopInfo> {
        self.loops.iter().find(|l| l.header == target).or_else(|| {
            self.loops
                .iter()
                .find(|l| l.rotated && l.header.checked_add(1) == Some(target))
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn op_is_16_bytes() {
        assert_eq!(std::mem::size_of::<super::Op>(), 16);
    }
}
