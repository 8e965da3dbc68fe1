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
