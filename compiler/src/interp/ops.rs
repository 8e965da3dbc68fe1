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

    // ---- calls ---------------------------------------------------------------------------
    /// Call function `index` of the current instance.
    Call(u32),
    /// Pop a table index; call through table `table`, checking module type `ty`.
    CallIndirect {
        ty: u32,
        table: u32,
    },

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
    /// Number of parameters.
    pub num_params: u32,
    /// Number of results.
    pub num_results: u32,
    /// Parameters plus declared locals.
    pub num_locals: u32,
    /// Largest stack height (locals included) the body reaches.
    pub max_height: u32,
}

#[cfg(test)]
mod tests {
    #[test]
    fn op_is_16_bytes() {
        assert_eq!(std::mem::size_of::<super::Op>(), 16);
    }
}
