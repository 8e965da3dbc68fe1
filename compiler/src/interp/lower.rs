//! Lowering: one validated wasm function body → [`FuncCode`].
//!
//! Runs once per function. It keeps a control stack mirroring wasm's blocks and the
//! current operand-stack height in slots (validation already proved the code well-typed, so
//! only heights are tracked, never types; the one exception is which slots start a `v128`,
//! which takes two slots, so an untyped `drop`/`select` knows its operand's width). Forward branches are recorded as fixups and patched
//! when their block ends; loop branches resolve immediately to the loop header. Code after
//! an unconditional branch is unreachable and emitted as nothing: nested blocks in it are
//! tracked only to find the matching `else`/`end`.

use std::fmt;

use runtime_loader::TrapCode;
use runtime_loader::meta::{ModuleMeta, ValType};
use wasmparser::{BlockType, FunctionBody, Operator};

use super::ops::{
    Bin, BrEntry, Catch, CatchKind, FBin, FuncCode, Handler, Load, LoopInfo, Op, Store,
};
use super::simd::{self, Out, SimdOp};

/// A function body the lowering cannot handle (only possible for operators outside the
/// validated feature set).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LowerError {
    /// Wasm code offset.
    pub offset: usize,
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for LowerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at offset {:#x})", self.message, self.offset)
    }
}

impl std::error::Error for LowerError {}

impl From<wasmparser::BinaryReaderError> for LowerError {
    fn from(e: wasmparser::BinaryReaderError) -> LowerError {
        LowerError {
            offset: e.offset() as usize,
            message: e.message().to_string(),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Func,
    Block,
    Loop,
    If,
    Else,
}

#[derive(Clone, Copy, Debug)]
enum Fixup {
    Op(usize),
    Table(usize),
    /// A catch clause of a `try_table` ([`FuncCode::catches`] index).
    Catch(usize),
}

#[derive(Debug)]
struct Ctrl {
    kind: Kind,
    /// Height at block entry, below its parameters.
    height: u32,
    /// Slots of the parameters and results.
    nparams: u32,
    nresults: u32,
    /// Which parameters / results are `v128` (only allocated for blocks with values).
    param_wide: Vec<bool>,
    result_wide: Vec<bool>,
    /// Loop header op index.
    header: u32,
    fixups: Vec<Fixup>,
    /// The `JumpIfZero` of an `if`, patched at `else` or `end`.
    if_jump: Option<usize>,
    /// Code after an unconditional branch in this block is dead.
    unreachable: bool,
    /// The block itself was opened in dead code.
    dead: bool,
    /// A `try_table`: its first op and its catch clauses (`first`, `len`).
    try_table: Option<(u32, u32, u32)>,
}

struct Lowerer<'m> {
    meta: &'m ModuleMeta,
    code: FuncCode,
    ctrl: Vec<Ctrl>,
    h: u32,
    /// `wide[k]`: a `v128` starts at operand-stack slot `k` (valid below `h`).
    wide: Vec<bool>,
    /// First slot of each local.
    local_slots: Vec<u32>,
    /// Which locals are `v128`.
    local_wide: Vec<bool>,
    /// Largest op index some branch may target: the peephole never merges an op at or
    /// after it into an earlier one.
    barrier: usize,
    /// Some branch goes back to a loop header (see [`Op::ReturnNoLoop`]).
    back_edges: bool,
    /// `br_tables` entries that branch to the function label (see `lower_function`).
    return_entries: Vec<usize>,
    /// Catch clauses that branch to the function label (likewise).
    return_catches: Vec<usize>,
    /// The module type index of every tag.
    tag_types: &'m [u32],
}

/// Lowers the body of function `func_index`.
///
/// # Errors
/// Malformed bodies and operators outside WebAssembly 2.0 without SIMD.
pub fn lower_function(
    meta: &ModuleMeta,
    func_index: u32,
    body: &FunctionBody<'_>,
) -> Result<FuncCode, LowerError> {
    lower_function_with(meta, func_index, body, true)
}

/// [`lower_function`], with loop rotation (`rotate_loops`) only if `rotate`. A rotated
/// loop's exit leaves through its bottom test, where the `br` back to the header test it
/// replaces would have been a back-edge: the exit is not counted as one, so code lowered for
/// fuel or interrupt checks (which charge every back-edge, docs/ABI.md "Bounded execution")
/// is not rotated.
///
/// # Errors
/// As [`lower_function`].
pub fn lower_function_with(
    meta: &ModuleMeta,
    func_index: u32,
    body: &FunctionBody<'_>,
    rotate: bool,
) -> Result<FuncCode, LowerError> {
    lower_function_tags(meta, &[], func_index, body, rotate)
}

/// [`lower_function_with`] for a module with tags: `tag_types` is the module type index of
/// every tag (`parse::Tags::types`), which exception instructions need.
///
/// # Errors
/// As [`lower_function`].
pub fn lower_function_tags(
    meta: &ModuleMeta,
    tag_types: &[u32],
    func_index: u32,
    body: &FunctionBody<'_>,
    rotate: bool,
) -> Result<FuncCode, LowerError> {
    let ty = meta.func_type(func_index).ok_or_else(|| LowerError {
        offset: body.range().start as usize,
        message: "function index out of range".into(),
    })?;
    // The slot layout (docs/ABI.md, "SIMD (v128)"): a `v128` local takes two slots.
    let num_params = ty.param_slots();
    let num_results = ty.result_slots();
    let mut local_wide: Vec<bool> = ty.params.iter().map(|t| *t == ValType::V128).collect();
    let too_many = || LowerError {
        offset: body.range().start as usize,
        message: "too many locals".into(),
    };
    for l in body.get_locals_reader()? {
        let (n, t) = l?;
        // Validation bounds the number of locals (50,000), so this cannot grow unbounded.
        if local_wide.len() as u64 + u64::from(n) > 1 << 20 {
            return Err(too_many());
        }
        local_wide.extend(std::iter::repeat_n(
            t == wasmparser::ValType::V128,
            n as usize,
        ));
    }
    let local_slots = runtime_loader::meta::slot_offsets(
        local_wide
            .iter()
            .map(|&w| if w { ValType::V128 } else { ValType::I32 }),
    );
    let num_locals = local_slots.last().map_or(0, |&o| {
        o + if local_wide[local_wide.len() - 1] {
            2
        } else {
            1
        }
    });
    let result_wide: Vec<bool> = ty.results.iter().map(|t| *t == ValType::V128).collect();
    let mut lw = Lowerer {
        meta,
        code: FuncCode {
            func_index,
            num_params,
            num_results,
            num_locals,
            max_height: num_locals,
            ..FuncCode::default()
        },
        ctrl: vec![Ctrl {
            kind: Kind::Func,
            height: num_locals,
            nparams: 0,
            nresults: num_results,
            param_wide: Vec::new(),
            result_wide,
            header: 0,
            fixups: Vec::new(),
            if_jump: None,
            unreachable: false,
            dead: false,
            try_table: None,
        }],
        h: num_locals,
        wide: vec![false; num_locals as usize],
        local_slots,
        local_wide,
        barrier: 0,
        back_edges: false,
        return_entries: Vec::new(),
        return_catches: Vec::new(),
        tag_types,
    };
    let mut reader = body.get_operators_reader()?;
    while !reader.eof() {
        let (op, offset) = reader.read_with_offset()?;
        lw.operator(op, offset as usize)?;
    }
    if !lw.ctrl.is_empty() {
        return Err(LowerError {
            offset: body.range().end as usize,
            message: "function body does not end".into(),
        });
    }
    let back_edges = lw.back_edges;
    let mut code = lw.code;
    // `br_table` entries to the function label jump to one shared `Return` after the body
    // (nothing else reaches it), so the interpreter has a single return path.
    if !lw.return_entries.is_empty() || !lw.return_catches.is_empty() {
        let at = code.ops.len() as u32;
        code.ops.push(Op::Return);
        code.offsets.push(body.range().end as u32);
        for &e in &lw.return_entries {
            code.br_tables[e].target = at;
        }
        for &e in &lw.return_catches {
            code.catches[e].target = at;
        }
    }
    if !back_edges {
        for op in &mut code.ops {
            if *op == Op::Return {
                *op = Op::ReturnNoLoop;
            }
        }
    }
    let rotated = if rotate {
        rotate_loops(&mut code.ops)
    } else {
        Vec::new()
    };
    for h in rotated {
        for l in code.loops.iter_mut().filter(|l| l.header == h) {
            l.rotated = true;
        }
    }
    for op in &mut code.ops {
        *op = specialize(*op);
    }
    Ok(code)
}

impl Lowerer<'_> {
    /// Appends `op`, first merging it with the ops before it where a fused form exists
    /// (see [`fuse`]). Returns the index of the op that now holds it. A fused op takes
    /// the code offset of its part that may trap: its last part, or a load merged into a
    /// later f64 operator (which cannot trap).
    fn emit(&mut self, op: Op, offset: usize) -> usize {
        let mut op = op;
        let mut offset = offset as u32;
        loop {
            let len = self.code.ops.len();
            // `LocalGet2` is split back when its second local may feed `op`.
            if len > self.barrier
                && let Some(&Op::LocalGet2 { a, b }) = self.code.ops.last()
                && consumes_local(&op)
            {
                self.code.ops[len - 1] = Op::LocalGet(a);
                let off = self.code.offsets[len - 1];
                self.code.ops.push(Op::LocalGet(b));
                self.code.offsets.push(off);
                continue;
            }
            let avail = len - self.barrier.min(len);
            let tail = &self.code.ops[len - avail.min(2)..];
            match fuse(tail, &op) {
                Some((n, fused)) => {
                    if let Some(i) = (len - n..len).find(|&i| is_load(&self.code.ops[i])) {
                        offset = self.code.offsets[i];
                    }
                    self.code.ops.truncate(len - n);
                    self.code.offsets.truncate(len - n);
                    op = fused;
                }
                None => break,
            }
        }
        self.code.ops.push(op);
        self.code.offsets.push(offset);
        self.code.ops.len() - 1
    }

    /// Marks the next op as a branch target.
    fn bind_label(&mut self) {
        self.barrier = self.code.ops.len();
    }

    fn pc(&self) -> u32 {
        self.code.ops.len() as u32
    }

    /// Pushes `n` scalar slots.
    fn push(&mut self, n: u32) {
        let end = (self.h + n) as usize;
        if self.wide.len() < end {
            self.wide.resize(end, false);
        }
        self.wide[self.h as usize..end].fill(false);
        self.h += n;
        if self.h > self.code.max_height {
            self.code.max_height = self.h;
        }
    }

    /// Pushes a `v128` (two slots).
    fn push_v128(&mut self) {
        let at = self.h as usize;
        self.push(2);
        self.wide[at] = true;
    }

    /// Pushes values of the given widths (`true` = `v128`).
    fn push_vals(&mut self, wide: &[bool]) {
        for &w in wide {
            if w {
                self.push_v128();
            } else {
                self.push(1);
            }
        }
    }

    /// Whether the value whose last slot is `h - 1 - below` is a `v128`.
    fn v128_at(&self, below: u32) -> bool {
        self.h
            .checked_sub(2 + below)
            .is_some_and(|k| self.wide.get(k as usize) == Some(&true))
    }

    /// Which of `types` are `v128`, and their slot count.
    fn widths(types: &[ValType]) -> (Vec<bool>, u32) {
        let w: Vec<bool> = types.iter().map(|t| *t == ValType::V128).collect();
        let slots = runtime_loader::meta::slot_count(types);
        (w, slots)
    }

    /// Emits a vector op and tracks its stack effect.
    fn simd(&mut self, op: SimdOp, lane: u8, imm: u32, offset: usize) {
        self.emit(Op::Simd { op, lane, imm }, offset);
        let (pops, out) = simd::shape(op);
        self.pop(pops);
        match out {
            Out::None => {}
            Out::Scalar => self.push(1),
            Out::V128 => self.push_v128(),
        }
    }

    /// Whether memory 0 is a memory64 memory.
    fn mem64(&self) -> bool {
        self.meta.memories.first().is_some_and(|m| m.index64)
    }

    /// Whether memory `m` is a memory64 memory.
    fn mem64_of(&self, m: u32) -> bool {
        self.meta
            .memories
            .get(m as usize)
            .is_some_and(|m| m.index64)
    }

    /// `mask` if memory `m` is a memory64 memory, else 0.
    fn mem64_mask(&self, m: u32, mask: u8) -> u8 {
        if self.mem64_of(m) { mask } else { 0 }
    }

    /// Whether table `t` is a table64 table.
    fn tab64(&self, t: u32) -> bool {
        self.meta.tables.get(t as usize).is_some_and(|t| t.index64)
    }

    /// `mask` if table `t` is a table64 table, else 0.
    fn tab64_mask(&self, t: u32, mask: u8) -> u8 {
        if self.tab64(t) { mask } else { 0 }
    }

    /// Emits [`Op::Addr64`] for the `i64` address `depth` slots below the top.
    fn addr64(&mut self, depth: u8, off: u64, offset: usize) {
        let (lo, hi) = (off as u32, (off >> 32) as u32);
        self.emit(Op::Addr64 { depth, lo, hi }, offset);
    }

    /// Emits [`Op::Narrow64`] unless `mask` is 0 (32-bit operands).
    fn narrow64(&mut self, mask: u8, code: TrapCode, offset: usize) {
        if mask != 0 {
            self.emit(Op::Narrow64 { mask, code }, offset);
        }
    }

    /// Records a 128-bit constant for an [`Op::Simd`] immediate.
    fn v128_const(&mut self, v: u128) -> u32 {
        self.code.v128_consts.push(v);
        self.code.v128_consts.len() as u32 - 1
    }

    fn pop(&mut self, n: u32) {
        self.h = self.h.saturating_sub(n);
    }

    /// A block type's parameter and result widths (`true` = `v128`).
    fn block_widths(
        &self,
        bt: BlockType,
        offset: usize,
    ) -> Result<(Vec<bool>, Vec<bool>), LowerError> {
        Ok(match bt {
            BlockType::Empty => (Vec::new(), Vec::new()),
            BlockType::Type(t) => (Vec::new(), vec![t == wasmparser::ValType::V128]),
            BlockType::FuncType(i) => {
                let t = self.meta.types.get(i as usize).ok_or_else(|| LowerError {
                    offset,
                    message: "type index out of range".into(),
                })?;
                (Self::widths(&t.params).0, Self::widths(&t.results).0)
            }
        })
    }

    fn top(&mut self) -> &mut Ctrl {
        self.ctrl
            .last_mut()
            .expect("control stack is non-empty inside a body")
    }

    fn set_unreachable(&mut self) {
        let base = {
            let c = self.top();
            c.unreachable = true;
            c.height
        };
        self.h = base;
    }

    /// Resolves a branch to relative depth `depth`: `(target or fixup-needed, height, keep,
    /// is_loop, is_return)`.
    fn label(&self, depth: u32, offset: usize) -> Result<(usize, u32, u32, bool), LowerError> {
        let idx = self
            .ctrl
            .len()
            .checked_sub(1 + depth as usize)
            .ok_or_else(|| LowerError {
                offset,
                message: "branch depth out of range".into(),
            })?;
        let c = &self.ctrl[idx];
        let keep = if c.kind == Kind::Loop {
            c.nparams
        } else {
            c.nresults
        };
        Ok((idx, c.height, keep, c.kind == Kind::Loop))
    }

    /// Emits a branch to relative depth `depth`. `cond` selects `br_if`.
    fn branch(&mut self, depth: u32, cond: bool, offset: usize) -> Result<(), LowerError> {
        if cond {
            self.pop(1);
        }
        let (idx, height, keep, is_loop) = self.label(depth, offset)?;
        if idx == 0 {
            // Branch to the function body: a return.
            if cond {
                // `br_if` to the function label: jump over an unconditional return.
                let skip = self.emit(Op::JumpIfZero(0), offset);
                self.emit(Op::Return, offset);
                let end = self.pc();
                self.bind_label();
                patch(&mut self.code.ops[skip], end);
            } else {
                self.emit(Op::Return, offset);
            }
            return Ok(());
        }
        let simple = self.h == height + keep;
        self.back_edges |= is_loop;
        let target = if is_loop { self.ctrl[idx].header } else { 0 };
        let op = match (cond, is_loop, simple) {
            (false, false, true) => Op::Jump(target),
            (false, true, true) => Op::JumpLoop(target),
            (true, false, true) => Op::JumpIfNonZero(target),
            (false, false, false) => Op::Br {
                target,
                height,
                keep,
            },
            (false, true, false) => Op::BrLoop {
                target,
                height,
                keep,
            },
            (true, false, false) => Op::BrIf {
                target,
                height,
                keep,
            },
            (true, true, true) => Op::JumpIfNonZeroLoop(target),
            (true, true, false) => Op::BrIfLoop {
                target,
                height,
                keep,
            },
        };
        let at = self.emit(op, offset);
        if !is_loop {
            self.ctrl[idx].fixups.push(Fixup::Op(at));
        }
        Ok(())
    }

    fn end_block(&mut self, offset: usize) -> Result<(), LowerError> {
        let c = self.ctrl.pop().ok_or_else(|| LowerError {
            offset,
            message: "unbalanced end".into(),
        })?;
        if c.dead {
            return Ok(());
        }
        if c.kind == Kind::Func {
            self.emit(Op::Return, offset);
            return Ok(());
        }
        let end = self.pc();
        self.bind_label();
        if let Some(j) = c.if_jump {
            patch(&mut self.code.ops[j], end);
        }
        for f in c.fixups {
            match f {
                Fixup::Op(i) => patch(&mut self.code.ops[i], end),
                Fixup::Table(i) => self.code.br_tables[i].target = end,
                Fixup::Catch(i) => self.code.catches[i].target = end,
            }
        }
        if let Some((start, first, len)) = c.try_table {
            self.code.handlers.push(Handler {
                start,
                end,
                first,
                len,
            });
        }
        self.h = c.height;
        self.push_vals(&c.result_wide);
        Ok(())
    }

    fn open(&mut self, kind: Kind, bt: BlockType, offset: usize) -> Result<(), LowerError> {
        let dead = self.top().unreachable;
        if dead {
            let h = self.h;
            self.ctrl.push(Ctrl {
                kind,
                height: h,
                nparams: 0,
                nresults: 0,
                param_wide: Vec::new(),
                result_wide: Vec::new(),
                header: 0,
                fixups: Vec::new(),
                if_jump: None,
                unreachable: true,
                dead: true,
                try_table: None,
            });
            return Ok(());
        }
        let (param_wide, result_wide) = self.block_widths(bt, offset)?;
        let slots = |w: &[bool]| w.iter().map(|&w| if w { 2 } else { 1 }).sum::<u32>();
        let (nparams, nresults) = (slots(&param_wide), slots(&result_wide));
        let mut if_jump = None;
        if kind == Kind::If {
            self.pop(1);
            if_jump = Some(self.emit(Op::JumpIfZero(0), offset));
        }
        let height = self.h.saturating_sub(nparams);
        let header = self.pc();
        if kind == Kind::Loop {
            self.bind_label();
            self.code.loops.push(LoopInfo {
                header,
                offset: offset as u32,
                height,
                nparams,
                rotated: false,
            });
        }
        self.ctrl.push(Ctrl {
            kind,
            height,
            nparams,
            nresults,
            param_wide,
            result_wide,
            header,
            fixups: Vec::new(),
            if_jump,
            unreachable: false,
            dead: false,
            try_table: None,
        });
        Ok(())
    }

    /// The payload widths and slots of tag `tag`.
    fn tag_widths(&self, tag: u32, offset: usize) -> Result<(Vec<bool>, u32), LowerError> {
        let t = self
            .tag_types
            .get(tag as usize)
            .and_then(|t| self.meta.types.get(*t as usize))
            .ok_or_else(|| LowerError {
                offset,
                message: "tag index out of range".into(),
            })?;
        Ok(Self::widths(&t.params))
    }

    /// `try_table`: its catch clauses (labels resolved outside it), then a block whose ops
    /// form the handler's range (no op is emitted for it).
    fn try_table(&mut self, t: wasmparser::TryTable, offset: usize) -> Result<(), LowerError> {
        self.code.uses_exceptions = true;
        if self.top().unreachable {
            return self.open(Kind::Block, t.ty, offset);
        }
        let first = self.code.catches.len() as u32;
        for c in &t.catches {
            let (kind, tag, label) = match *c {
                wasmparser::Catch::One { tag, label } => (CatchKind::Tag, tag, label),
                wasmparser::Catch::OneRef { tag, label } => (CatchKind::TagRef, tag, label),
                wasmparser::Catch::All { label } => (CatchKind::All, 0, label),
                wasmparser::Catch::AllRef { label } => (CatchKind::AllRef, 0, label),
            };
            let (idx, height, _, is_loop) = self.label(label, offset)?;
            let i = self.code.catches.len();
            let target = if is_loop { self.ctrl[idx].header } else { 0 };
            self.back_edges |= is_loop;
            self.code.catches.push(Catch {
                kind,
                tag,
                target,
                height,
            });
            if idx == 0 {
                self.return_catches.push(i);
            } else if !is_loop {
                self.ctrl[idx].fixups.push(Fixup::Catch(i));
            }
        }
        let len = self.code.catches.len() as u32 - first;
        // The body's first op starts the range: nothing before it may merge into it.
        self.bind_label();
        let start = self.pc();
        self.open(Kind::Block, t.ty, offset)?;
        self.top().try_table = Some((start, first, len));
        Ok(())
    }

    fn operator(&mut self, op: Operator<'_>, offset: usize) -> Result<(), LowerError> {
        use Operator as O;
        // Structure is tracked even in dead code; everything else there is skipped.
        match op {
            O::Block { blockty } => return self.open(Kind::Block, blockty, offset),
            O::Loop { blockty } => return self.open(Kind::Loop, blockty, offset),
            O::If { blockty } => return self.open(Kind::If, blockty, offset),
            O::TryTable { try_table } => return self.try_table(try_table, offset),
            O::Else => {
                let c = self.top();
                if c.dead {
                    return Ok(());
                }
                let was_unreachable = c.unreachable;
                let (height, param_wide) = (c.height, c.param_wide.clone());
                if !was_unreachable {
                    let j = self.emit(Op::Jump(0), offset);
                    self.top().fixups.push(Fixup::Op(j));
                }
                let else_start = self.pc();
                self.bind_label();
                let c = self.top();
                c.kind = Kind::Else;
                c.unreachable = false;
                if let Some(j) = c.if_jump.take() {
                    patch(&mut self.code.ops[j], else_start);
                }
                self.h = height;
                self.push_vals(&param_wide);
                return Ok(());
            }
            O::End => return self.end_block(offset),
            _ => {}
        }
        if self.top().unreachable {
            return Ok(());
        }
        let memarg = |m: &wasmparser::MemArg| -> Result<u32, LowerError> {
            u32::try_from(m.offset).map_err(|_| LowerError {
                offset,
                message: "memory offset out of range".into(),
            })
        };
        macro_rules! unop {
            ($op:expr) => {{
                self.emit($op, offset);
            }};
        }
        macro_rules! binop {
            ($op:expr) => {{
                self.emit($op, offset);
                self.pop(1);
            }};
        }
        // memory64: `Addr64` folds the (64-bit) offset into the address once and the 32-bit
        // op follows with offset 0, so the i32 ops carry no index-type branch.
        let mem64 = self.mem64();
        // Multi-memory: an access to a memory other than 0 is one `LoadM` / `StoreM` (its
        // memory64 address folded by `Addr64` first), so memory 0's ops stay as they are.
        let target = |m: &wasmparser::MemArg| match m.target {
            wasmparser::MemArgTarget::Memory(i) => i,
            wasmparser::MemArgTarget::Array(_) => u32::MAX,
        };
        macro_rules! load {
            ($op:ident, $m:expr) => {{
                let mi = target(&$m);
                if mi != 0 {
                    let kind = Load::of(&Op::$op(0)).expect("a load");
                    let off = if self.mem64_of(mi) {
                        self.addr64(0, $m.offset, offset);
                        0
                    } else {
                        memarg(&$m)?
                    };
                    self.emit(
                        Op::LoadM {
                            kind: kind.0,
                            mem: mi,
                            off,
                        },
                        offset,
                    );
                } else if mem64 {
                    self.addr64(0, $m.offset, offset);
                    self.emit(Op::$op(0), offset);
                } else {
                    let o = memarg(&$m)?;
                    self.emit(Op::$op(o), offset);
                }
            }};
        }
        macro_rules! store {
            ($op:ident, $m:expr) => {{
                let mi = target(&$m);
                if mi != 0 {
                    let kind = Store::of(&Op::$op(0)).expect("a store");
                    let off = if self.mem64_of(mi) {
                        self.addr64(1, $m.offset, offset);
                        0
                    } else {
                        memarg(&$m)?
                    };
                    self.emit(
                        Op::StoreM {
                            kind: kind.0,
                            mem: mi,
                            off,
                        },
                        offset,
                    );
                } else if mem64 {
                    self.addr64(1, $m.offset, offset);
                    self.emit(Op::$op(0), offset);
                } else {
                    let o = memarg(&$m)?;
                    self.emit(Op::$op(o), offset);
                }
                self.pop(2);
            }};
        }
        match op {
            // ---- control ---------------------------------------------------------------
            O::Unreachable => {
                self.emit(Op::Unreachable, offset);
                self.set_unreachable();
            }
            O::Nop => {}
            O::Br { relative_depth } => {
                self.branch(relative_depth, false, offset)?;
                self.set_unreachable();
            }
            O::BrIf { relative_depth } => self.branch(relative_depth, true, offset)?,
            O::BrTable { targets } => {
                self.pop(1);
                let start = self.code.br_tables.len() as u32;
                let mut depths = Vec::with_capacity(targets.len() as usize + 1);
                for t in targets.targets() {
                    depths.push(t?);
                }
                depths.push(targets.default());
                for d in &depths {
                    let (idx, height, keep, is_loop) = self.label(*d, offset)?;
                    let entry_index = self.code.br_tables.len();
                    if idx == 0 {
                        // Branch to the function label: to a `Return` appended after the
                        // body (see `lower_function`), the results moved to the frame base.
                        self.code.br_tables.push(BrEntry {
                            target: u32::MAX,
                            height: 0,
                            keep,
                            is_loop: false,
                        });
                        self.return_entries.push(entry_index);
                        continue;
                    }
                    self.back_edges |= is_loop;
                    let target = if is_loop { self.ctrl[idx].header } else { 0 };
                    self.code.br_tables.push(BrEntry {
                        target,
                        height,
                        keep,
                        is_loop,
                    });
                    if !is_loop {
                        self.ctrl[idx].fixups.push(Fixup::Table(entry_index));
                    }
                }
                self.emit(
                    Op::BrTable {
                        start,
                        len: depths.len() as u32,
                    },
                    offset,
                );
                self.set_unreachable();
            }
            O::Return => {
                self.emit(Op::Return, offset);
                self.set_unreachable();
            }
            O::Call { function_index } => {
                let ty = self
                    .meta
                    .func_type(function_index)
                    .ok_or_else(|| LowerError {
                        offset,
                        message: "function index out of range".into(),
                    })?;
                let np = ty.param_slots();
                let (rw, _) = Self::widths(&ty.results);
                self.emit(Op::Call(function_index), offset);
                self.pop(np);
                self.push_vals(&rw);
            }
            O::CallIndirect {
                type_index,
                table_index,
            } => {
                let ty = self
                    .meta
                    .types
                    .get(type_index as usize)
                    .ok_or_else(|| LowerError {
                        offset,
                        message: "type index out of range".into(),
                    })?;
                let np = ty.param_slots();
                let (rw, _) = Self::widths(&ty.results);
                let m = self.tab64_mask(table_index, 0b1);
                self.narrow64(m, TrapCode::UndefinedElement, offset);
                self.emit(
                    Op::CallIndirect {
                        ty: type_index,
                        table: table_index,
                    },
                    offset,
                );
                self.pop(np + 1);
                self.push_vals(&rw);
            }

            O::ReturnCall { function_index } => {
                let ty = self
                    .meta
                    .func_type(function_index)
                    .ok_or_else(|| LowerError {
                        offset,
                        message: "function index out of range".into(),
                    })?;
                let np = ty.param_slots();
                let (rw, _) = Self::widths(&ty.results);
                self.emit(Op::ReturnCall(function_index), offset);
                // The results of a callee run outside the interpreter land where the
                // arguments were (see `tail_call!`), so the frame's height covers them.
                self.pop(np);
                self.push_vals(&rw);
                self.set_unreachable();
            }
            O::ReturnCallIndirect {
                type_index,
                table_index,
            } => {
                let ty = self
                    .meta
                    .types
                    .get(type_index as usize)
                    .ok_or_else(|| LowerError {
                        offset,
                        message: "type index out of range".into(),
                    })?;
                let np = ty.param_slots();
                let (rw, _) = Self::widths(&ty.results);
                let m = self.tab64_mask(table_index, 0b1);
                self.narrow64(m, TrapCode::UndefinedElement, offset);
                self.emit(
                    Op::ReturnCallIndirect {
                        ty: type_index,
                        table: table_index,
                    },
                    offset,
                );
                self.pop(np + 1);
                self.push_vals(&rw);
                self.set_unreachable();
            }

            O::CallRef { type_index } | O::ReturnCallRef { type_index } => {
                let ty = self
                    .meta
                    .types
                    .get(type_index as usize)
                    .ok_or_else(|| LowerError {
                        offset,
                        message: "type index out of range".into(),
                    })?;
                let np = ty.param_slots();
                let (rw, _) = Self::widths(&ty.results);
                let tail = matches!(op, O::ReturnCallRef { .. });
                self.emit(
                    if tail {
                        Op::ReturnCallRef(type_index)
                    } else {
                        Op::CallRef(type_index)
                    },
                    offset,
                );
                self.pop(np + 1);
                self.push_vals(&rw);
                if tail {
                    self.set_unreachable();
                }
            }
            O::RefAsNonNull => unop!(Op::RefAsNonNull),
            // Null: drop the reference and branch; otherwise keep it and fall through.
            O::BrOnNull { relative_depth } => {
                self.emit(Op::DupIsNull, offset);
                self.push(1);
                let skip = self.emit(Op::JumpIfZero(0), offset);
                self.pop(1);
                self.emit(Op::Drop, offset);
                self.pop(1);
                self.branch(relative_depth, false, offset)?;
                let end = self.pc();
                self.bind_label();
                patch(&mut self.code.ops[skip], end);
                self.push(1);
            }
            // Non-null: branch with the reference as the label's last value; otherwise
            // drop it and fall through.
            O::BrOnNonNull { relative_depth } => {
                self.emit(Op::DupIsNull, offset);
                self.push(1);
                let skip = self.emit(Op::JumpIfNonZero(0), offset);
                self.pop(1);
                self.branch(relative_depth, false, offset)?;
                let end = self.pc();
                self.bind_label();
                patch(&mut self.code.ops[skip], end);
                self.emit(Op::Drop, offset);
                self.pop(1);
            }

            // ---- parametric and variables ------------------------------------------------
            O::Drop if self.v128_at(0) => {
                self.emit(Op::Drop, offset);
                self.emit(Op::Drop, offset);
                self.pop(2);
            }
            O::Drop => {
                self.emit(Op::Drop, offset);
                self.pop(1);
            }
            // The second operand's last slot is below the condition.
            O::Select | O::TypedSelect { .. } if self.v128_at(1) => {
                self.simd(SimdOp::Select, 0, 0, offset);
            }
            O::Select | O::TypedSelect { .. } => {
                self.emit(Op::Select, offset);
                self.pop(2);
            }
            O::LocalGet { local_index }
            | O::LocalSet { local_index }
            | O::LocalTee { local_index }
                if self.local_wide.get(local_index as usize) == Some(&true) =>
            {
                let slot = self.local_slots[local_index as usize];
                let s = match op {
                    O::LocalGet { .. } => SimdOp::LocalGet,
                    O::LocalSet { .. } => SimdOp::LocalSet,
                    _ => SimdOp::LocalTee,
                };
                self.simd(s, 0, slot, offset);
            }
            O::LocalGet { local_index } => {
                let slot = self.local_slot(local_index, offset)?;
                self.emit(Op::LocalGet(slot), offset);
                self.push(1);
            }
            O::LocalSet { local_index } => {
                let slot = self.local_slot(local_index, offset)?;
                self.emit(Op::LocalSet(slot), offset);
                self.pop(1);
            }
            O::LocalTee { local_index } => {
                let d = self.local_slot(local_index, offset)?;
                // `local.tee` is `local.set` + `local.get` when the set fuses into the op
                // before it: the producer writes the local directly, and the get may fuse
                // with the consumer. Otherwise it stays one op.
                let at = self.emit(Op::LocalSet(d), offset);
                if self.code.ops[at] == Op::LocalSet(d) {
                    self.code.ops[at] = Op::LocalTee(d);
                } else {
                    self.emit(Op::LocalGet(d), offset);
                }
            }
            O::GlobalGet { global_index } | O::GlobalSet { global_index }
                if self
                    .meta
                    .global_types
                    .get(global_index as usize)
                    .is_some_and(|g| g.ty == ValType::V128) =>
            {
                let s = if matches!(op, O::GlobalGet { .. }) {
                    SimdOp::GlobalGet
                } else {
                    SimdOp::GlobalSet
                };
                self.simd(s, 0, global_index, offset);
            }
            O::GlobalGet { global_index } => {
                self.emit(Op::GlobalGet(global_index), offset);
                self.push(1);
            }
            O::GlobalSet { global_index } => {
                self.emit(Op::GlobalSet(global_index), offset);
                self.pop(1);
            }
            O::I32Const { value } => {
                self.emit(Op::Const(u64::from(value as u32)), offset);
                self.push(1);
            }
            O::I64Const { value } => {
                self.emit(Op::Const(value as u64), offset);
                self.push(1);
            }
            O::F32Const { value } => {
                self.emit(Op::Const(u64::from(value.bits())), offset);
                self.push(1);
            }
            O::F64Const { value } => {
                self.emit(Op::Const(value.bits()), offset);
                self.push(1);
            }

            // ---- memory --------------------------------------------------------------------
            O::I32Load { memarg } => load!(I32Load, memarg),
            O::I64Load { memarg } => load!(I64Load, memarg),
            O::F32Load { memarg } => load!(F32Load, memarg),
            O::F64Load { memarg } => load!(F64Load, memarg),
            O::I32Load8S { memarg } => load!(I32Load8S, memarg),
            O::I32Load8U { memarg } => load!(I32Load8U, memarg),
            O::I32Load16S { memarg } => load!(I32Load16S, memarg),
            O::I32Load16U { memarg } => load!(I32Load16U, memarg),
            O::I64Load8S { memarg } => load!(I64Load8S, memarg),
            O::I64Load8U { memarg } => load!(I64Load8U, memarg),
            O::I64Load16S { memarg } => load!(I64Load16S, memarg),
            O::I64Load16U { memarg } => load!(I64Load16U, memarg),
            O::I64Load32S { memarg } => load!(I64Load32S, memarg),
            O::I64Load32U { memarg } => load!(I64Load32U, memarg),
            O::I32Store { memarg } => store!(I32Store, memarg),
            O::I64Store { memarg } => store!(I64Store, memarg),
            O::F32Store { memarg } => store!(F32Store, memarg),
            O::F64Store { memarg } => store!(F64Store, memarg),
            O::I32Store8 { memarg } => store!(I32Store8, memarg),
            O::I32Store16 { memarg } => store!(I32Store16, memarg),
            O::I64Store8 { memarg } => store!(I64Store8, memarg),
            O::I64Store16 { memarg } => store!(I64Store16, memarg),
            O::I64Store32 { memarg } => store!(I64Store32, memarg),
            O::MemorySize { mem } if mem != 0 => {
                self.emit(Op::MemorySizeM(mem), offset);
                self.push(1);
            }
            O::MemoryGrow { mem } if mem != 0 && self.mem64_of(mem) => {
                unop!(Op::MemoryGrow64M(mem))
            }
            O::MemoryGrow { mem } if mem != 0 => unop!(Op::MemoryGrowM(mem)),
            O::MemoryFill { mem } if mem != 0 => {
                self.narrow64(
                    self.mem64_mask(mem, 0b101),
                    TrapCode::MemoryOutOfBounds,
                    offset,
                );
                self.emit(Op::MemoryFillM(mem), offset);
                self.pop(3);
            }
            O::MemoryCopy { dst_mem, src_mem } if dst_mem != 0 || src_mem != 0 => {
                // The length is i64 only if both memories are memory64.
                let (d, s) = (self.mem64_of(dst_mem), self.mem64_of(src_mem));
                let m = u8::from(d) << 2 | u8::from(s) << 1 | u8::from(d && s);
                self.narrow64(m, TrapCode::MemoryOutOfBounds, offset);
                self.emit(
                    Op::MemoryCopyM {
                        dst: dst_mem,
                        src: src_mem,
                    },
                    offset,
                );
                self.pop(3);
            }
            O::MemoryInit { data_index, mem } if mem != 0 => {
                self.narrow64(
                    self.mem64_mask(mem, 0b100),
                    TrapCode::MemoryOutOfBounds,
                    offset,
                );
                self.emit(
                    Op::MemoryInitM {
                        mem,
                        seg: data_index,
                    },
                    offset,
                );
                self.pop(3);
            }
            O::MemorySize { .. } => {
                self.emit(Op::MemorySize, offset);
                self.push(1);
            }
            O::MemoryGrow { .. } if mem64 => unop!(Op::MemoryGrow64),
            O::MemoryGrow { .. } => unop!(Op::MemoryGrow),
            O::MemoryFill { .. } => {
                self.narrow64(
                    if mem64 { 0b101 } else { 0 },
                    TrapCode::MemoryOutOfBounds,
                    offset,
                );
                self.emit(Op::MemoryFill, offset);
                self.pop(3);
            }
            O::MemoryCopy { .. } => {
                self.narrow64(
                    if mem64 { 0b111 } else { 0 },
                    TrapCode::MemoryOutOfBounds,
                    offset,
                );
                self.emit(Op::MemoryCopy, offset);
                self.pop(3);
            }
            O::MemoryInit { data_index, .. } => {
                self.narrow64(
                    if mem64 { 0b100 } else { 0 },
                    TrapCode::MemoryOutOfBounds,
                    offset,
                );
                self.emit(Op::MemoryInit(data_index), offset);
                self.pop(3);
            }
            O::DataDrop { data_index } => {
                self.emit(Op::DataDrop(data_index), offset);
            }

            // ---- tables and references -----------------------------------------------------
            O::TableGet { table } => {
                let m = self.tab64_mask(table, 0b1);
                self.narrow64(m, TrapCode::TableOutOfBounds, offset);
                unop!(Op::TableGet(table))
            }
            O::TableSet { table } => {
                let m = self.tab64_mask(table, 0b10);
                self.narrow64(m, TrapCode::TableOutOfBounds, offset);
                self.emit(Op::TableSet(table), offset);
                self.pop(2);
            }
            O::TableSize { table } => {
                self.emit(Op::TableSize(table), offset);
                self.push(1);
            }
            O::TableGrow { table } if self.tab64(table) => binop!(Op::TableGrow64(table)),
            O::TableGrow { table } => binop!(Op::TableGrow(table)),
            O::TableFill { table } => {
                let m = self.tab64_mask(table, 0b101);
                self.narrow64(m, TrapCode::TableOutOfBounds, offset);
                self.emit(Op::TableFill(table), offset);
                self.pop(3);
            }
            O::TableCopy {
                dst_table,
                src_table,
            } => {
                // `table.copy` between tables of different index types (table_copy_mixed):
                // the length is `i64` only when both are table64.
                let (d64, s64) = (self.tab64(dst_table), self.tab64(src_table));
                let m = u8::from(d64) << 2 | u8::from(s64) << 1 | u8::from(d64 && s64);
                self.narrow64(m, TrapCode::TableOutOfBounds, offset);
                self.emit(
                    Op::TableCopy {
                        dst: dst_table,
                        src: src_table,
                    },
                    offset,
                );
                self.pop(3);
            }
            O::TableInit { elem_index, table } => {
                let m = self.tab64_mask(table, 0b100);
                self.narrow64(m, TrapCode::TableOutOfBounds, offset);
                self.emit(
                    Op::TableInit {
                        table,
                        elem: elem_index,
                    },
                    offset,
                );
                self.pop(3);
            }
            O::ElemDrop { elem_index } => {
                self.emit(Op::ElemDrop(elem_index), offset);
            }
            O::Throw { tag_index } => {
                self.code.uses_exceptions = true;
                let (_, slots) = self.tag_widths(tag_index, offset)?;
                self.emit(Op::Throw(tag_index), offset);
                self.pop(slots);
                self.set_unreachable();
            }
            O::ThrowRef => {
                self.code.uses_exceptions = true;
                self.emit(Op::ThrowRef, offset);
                self.pop(1);
                self.set_unreachable();
            }
            O::RefNull { .. } => {
                self.emit(Op::Const(0), offset);
                self.push(1);
            }
            O::RefIsNull => unop!(Op::RefIsNull),
            O::RefFunc { function_index } => {
                self.emit(Op::RefFunc(function_index), offset);
                self.push(1);
            }

            // ---- i32 -----------------------------------------------------------------------
            O::I32Eqz => unop!(Op::I32Eqz),
            O::I32Eq => binop!(Op::I32Eq),
            O::I32Ne => binop!(Op::I32Ne),
            O::I32LtS => binop!(Op::I32LtS),
            O::I32LtU => binop!(Op::I32LtU),
            O::I32GtS => binop!(Op::I32GtS),
            O::I32GtU => binop!(Op::I32GtU),
            O::I32LeS => binop!(Op::I32LeS),
            O::I32LeU => binop!(Op::I32LeU),
            O::I32GeS => binop!(Op::I32GeS),
            O::I32GeU => binop!(Op::I32GeU),
            O::I32Clz => unop!(Op::I32Clz),
            O::I32Ctz => unop!(Op::I32Ctz),
            O::I32Popcnt => unop!(Op::I32Popcnt),
            O::I32Add => binop!(Op::I32Add),
            O::I32Sub => binop!(Op::I32Sub),
            O::I32Mul => binop!(Op::I32Mul),
            O::I32DivS => binop!(Op::I32DivS),
            O::I32DivU => binop!(Op::I32DivU),
            O::I32RemS => binop!(Op::I32RemS),
            O::I32RemU => binop!(Op::I32RemU),
            O::I32And => binop!(Op::I32And),
            O::I32Or => binop!(Op::I32Or),
            O::I32Xor => binop!(Op::I32Xor),
            O::I32Shl => binop!(Op::I32Shl),
            O::I32ShrS => binop!(Op::I32ShrS),
            O::I32ShrU => binop!(Op::I32ShrU),
            O::I32Rotl => binop!(Op::I32Rotl),
            O::I32Rotr => binop!(Op::I32Rotr),

            // ---- i64 -----------------------------------------------------------------------
            O::I64Eqz => unop!(Op::I64Eqz),
            O::I64Eq => binop!(Op::I64Eq),
            O::I64Ne => binop!(Op::I64Ne),
            O::I64LtS => binop!(Op::I64LtS),
            O::I64LtU => binop!(Op::I64LtU),
            O::I64GtS => binop!(Op::I64GtS),
            O::I64GtU => binop!(Op::I64GtU),
            O::I64LeS => binop!(Op::I64LeS),
            O::I64LeU => binop!(Op::I64LeU),
            O::I64GeS => binop!(Op::I64GeS),
            O::I64GeU => binop!(Op::I64GeU),
            O::I64Clz => unop!(Op::I64Clz),
            O::I64Ctz => unop!(Op::I64Ctz),
            O::I64Popcnt => unop!(Op::I64Popcnt),
            O::I64Add => binop!(Op::I64Add),
            O::I64Sub => binop!(Op::I64Sub),
            O::I64Mul => binop!(Op::I64Mul),
            O::I64DivS => binop!(Op::I64DivS),
            O::I64DivU => binop!(Op::I64DivU),
            O::I64RemS => binop!(Op::I64RemS),
            O::I64RemU => binop!(Op::I64RemU),
            O::I64And => binop!(Op::I64And),
            O::I64Or => binop!(Op::I64Or),
            O::I64Xor => binop!(Op::I64Xor),
            O::I64Shl => binop!(Op::I64Shl),
            O::I64ShrS => binop!(Op::I64ShrS),
            O::I64ShrU => binop!(Op::I64ShrU),
            O::I64Rotl => binop!(Op::I64Rotl),
            O::I64Rotr => binop!(Op::I64Rotr),

            // ---- f32 -----------------------------------------------------------------------
            O::F32Eq => binop!(Op::F32Eq),
            O::F32Ne => binop!(Op::F32Ne),
            O::F32Lt => binop!(Op::F32Lt),
            O::F32Gt => binop!(Op::F32Gt),
            O::F32Le => binop!(Op::F32Le),
            O::F32Ge => binop!(Op::F32Ge),
            O::F32Abs => unop!(Op::F32Abs),
            O::F32Neg => unop!(Op::F32Neg),
            O::F32Ceil => unop!(Op::F32Ceil),
            O::F32Floor => unop!(Op::F32Floor),
            O::F32Trunc => unop!(Op::F32Trunc),
            O::F32Nearest => unop!(Op::F32Nearest),
            O::F32Sqrt => unop!(Op::F32Sqrt),
            O::F32Add => binop!(Op::F32Add),
            O::F32Sub => binop!(Op::F32Sub),
            O::F32Mul => binop!(Op::F32Mul),
            O::F32Div => binop!(Op::F32Div),
            O::F32Min => binop!(Op::F32Min),
            O::F32Max => binop!(Op::F32Max),
            O::F32Copysign => binop!(Op::F32Copysign),

            // ---- f64 -----------------------------------------------------------------------
            O::F64Eq => binop!(Op::F64Eq),
            O::F64Ne => binop!(Op::F64Ne),
            O::F64Lt => binop!(Op::F64Lt),
            O::F64Gt => binop!(Op::F64Gt),
            O::F64Le => binop!(Op::F64Le),
            O::F64Ge => binop!(Op::F64Ge),
            O::F64Abs => unop!(Op::F64Abs),
            O::F64Neg => unop!(Op::F64Neg),
            O::F64Ceil => unop!(Op::F64Ceil),
            O::F64Floor => unop!(Op::F64Floor),
            O::F64Trunc => unop!(Op::F64Trunc),
            O::F64Nearest => unop!(Op::F64Nearest),
            O::F64Sqrt => unop!(Op::F64Sqrt),
            O::F64Add => binop!(Op::F64Add),
            O::F64Sub => binop!(Op::F64Sub),
            O::F64Mul => binop!(Op::F64Mul),
            O::F64Div => binop!(Op::F64Div),
            O::F64Min => binop!(Op::F64Min),
            O::F64Max => binop!(Op::F64Max),
            O::F64Copysign => binop!(Op::F64Copysign),

            // ---- conversions ---------------------------------------------------------------
            O::I32WrapI64 => unop!(Op::I32WrapI64),
            O::I32TruncF32S => unop!(Op::I32TruncF32S),
            O::I32TruncF32U => unop!(Op::I32TruncF32U),
            O::I32TruncF64S => unop!(Op::I32TruncF64S),
            O::I32TruncF64U => unop!(Op::I32TruncF64U),
            O::I64ExtendI32S => unop!(Op::I64ExtendI32S),
            O::I64ExtendI32U => unop!(Op::I64ExtendI32U),
            O::I64TruncF32S => unop!(Op::I64TruncF32S),
            O::I64TruncF32U => unop!(Op::I64TruncF32U),
            O::I64TruncF64S => unop!(Op::I64TruncF64S),
            O::I64TruncF64U => unop!(Op::I64TruncF64U),
            O::F32ConvertI32S => unop!(Op::F32ConvertI32S),
            O::F32ConvertI32U => unop!(Op::F32ConvertI32U),
            O::F32ConvertI64S => unop!(Op::F32ConvertI64S),
            O::F32ConvertI64U => unop!(Op::F32ConvertI64U),
            O::F32DemoteF64 => unop!(Op::F32DemoteF64),
            O::F64ConvertI32S => unop!(Op::F64ConvertI32S),
            O::F64ConvertI32U => unop!(Op::F64ConvertI32U),
            O::F64ConvertI64S => unop!(Op::F64ConvertI64S),
            O::F64ConvertI64U => unop!(Op::F64ConvertI64U),
            O::F64PromoteF32 => unop!(Op::F64PromoteF32),
            // Slots hold raw bits: reinterpretation is free.
            O::I32ReinterpretF32
            | O::I64ReinterpretF64
            | O::F32ReinterpretI32
            | O::F64ReinterpretI64 => {}
            O::I32Extend8S => unop!(Op::I32Extend8S),
            O::I32Extend16S => unop!(Op::I32Extend16S),
            O::I64Extend8S => unop!(Op::I64Extend8S),
            O::I64Extend16S => unop!(Op::I64Extend16S),
            O::I64Extend32S => unop!(Op::I64Extend32S),
            O::I32TruncSatF32S => unop!(Op::I32TruncSatF32S),
            O::I32TruncSatF32U => unop!(Op::I32TruncSatF32U),
            O::I32TruncSatF64S => unop!(Op::I32TruncSatF64S),
            O::I32TruncSatF64U => unop!(Op::I32TruncSatF64U),
            O::I64TruncSatF32S => unop!(Op::I64TruncSatF32S),
            O::I64TruncSatF32U => unop!(Op::I64TruncSatF32U),
            O::I64TruncSatF64S => unop!(Op::I64TruncSatF64S),
            O::I64TruncSatF64U => unop!(Op::I64TruncSatF64U),

            other => return self.vector_op(other, offset),
        }
        Ok(())
    }

    /// The slot of scalar local `i`.
    fn local_slot(&self, i: u32, offset: usize) -> Result<u32, LowerError> {
        self.local_slots
            .get(i as usize)
            .copied()
            .ok_or_else(|| LowerError {
                offset,
                message: "local index out of range".into(),
            })
    }

    /// Lowers a vector operator (or rejects an operator outside the feature set).
    fn vector_op(&mut self, op: Operator<'_>, offset: usize) -> Result<(), LowerError> {
        use Operator as O;
        if let Some(s) = simd::plain(&op) {
            self.simd(s, 0, 0, offset);
            return Ok(());
        }
        let wide_off = std::cell::Cell::new(None::<u64>);
        // Multi-memory: the memory of the access, if not 0 (`Op::SimdM`).
        let mem_index = std::cell::Cell::new(0u32);
        // Which memories are memory64 (at most `abi::MAX_MEMORIES` < 128 of them).
        let mems64: u128 = self
            .meta
            .memories
            .iter()
            .enumerate()
            .filter(|(_, m)| m.index64)
            .fold(0, |b, (i, _)| b | 1u128 << (i & 127));
        let mem = |m: &wasmparser::MemArg| -> Result<u32, LowerError> {
            let wasmparser::MemArgTarget::Memory(mi) = m.target else {
                return Err(LowerError {
                    offset,
                    message: "vector access to a GC array".into(),
                });
            };
            mem_index.set(mi);
            if mi < 128 && mems64 >> mi & 1 != 0 {
                // Folded into the address by `Op::Addr64` (below).
                wide_off.set(Some(m.offset));
                return Ok(0);
            }
            u32::try_from(m.offset).map_err(|_| LowerError {
                offset,
                message: "memory offset out of range".into(),
            })
        };
        let (s, lane, imm) = match op {
            O::V128Const { value } => {
                let c = self.v128_const(value.i128() as u128);
                (SimdOp::V128Const, 0, c)
            }
            O::I8x16Shuffle { lanes } => {
                let c = self.v128_const(u128::from_le_bytes(lanes));
                (SimdOp::I8x16Shuffle, 0, c)
            }
            O::V128Load { memarg } => (SimdOp::V128Load, 0, mem(&memarg)?),
            O::V128Load8x8S { memarg } => (SimdOp::V128Load8x8S, 0, mem(&memarg)?),
            O::V128Load8x8U { memarg } => (SimdOp::V128Load8x8U, 0, mem(&memarg)?),
            O::V128Load16x4S { memarg } => (SimdOp::V128Load16x4S, 0, mem(&memarg)?),
            O::V128Load16x4U { memarg } => (SimdOp::V128Load16x4U, 0, mem(&memarg)?),
            O::V128Load32x2S { memarg } => (SimdOp::V128Load32x2S, 0, mem(&memarg)?),
            O::V128Load32x2U { memarg } => (SimdOp::V128Load32x2U, 0, mem(&memarg)?),
            O::V128Load8Splat { memarg } => (SimdOp::V128Load8Splat, 0, mem(&memarg)?),
            O::V128Load16Splat { memarg } => (SimdOp::V128Load16Splat, 0, mem(&memarg)?),
            O::V128Load32Splat { memarg } => (SimdOp::V128Load32Splat, 0, mem(&memarg)?),
            O::V128Load64Splat { memarg } => (SimdOp::V128Load64Splat, 0, mem(&memarg)?),
            O::V128Load32Zero { memarg } => (SimdOp::V128Load32Zero, 0, mem(&memarg)?),
            O::V128Load64Zero { memarg } => (SimdOp::V128Load64Zero, 0, mem(&memarg)?),
            O::V128Store { memarg } => (SimdOp::V128Store, 0, mem(&memarg)?),
            O::V128Load8Lane { memarg, lane } => (SimdOp::V128Load8Lane, lane, mem(&memarg)?),
            O::V128Load16Lane { memarg, lane } => (SimdOp::V128Load16Lane, lane, mem(&memarg)?),
            O::V128Load32Lane { memarg, lane } => (SimdOp::V128Load32Lane, lane, mem(&memarg)?),
            O::V128Load64Lane { memarg, lane } => (SimdOp::V128Load64Lane, lane, mem(&memarg)?),
            O::V128Store8Lane { memarg, lane } => (SimdOp::V128Store8Lane, lane, mem(&memarg)?),
            O::V128Store16Lane { memarg, lane } => (SimdOp::V128Store16Lane, lane, mem(&memarg)?),
            O::V128Store32Lane { memarg, lane } => (SimdOp::V128Store32Lane, lane, mem(&memarg)?),
            O::V128Store64Lane { memarg, lane } => (SimdOp::V128Store64Lane, lane, mem(&memarg)?),
            O::I8x16ExtractLaneS { lane } => (SimdOp::I8x16ExtractLaneS, lane, 0),
            O::I8x16ExtractLaneU { lane } => (SimdOp::I8x16ExtractLaneU, lane, 0),
            O::I8x16ReplaceLane { lane } => (SimdOp::I8x16ReplaceLane, lane, 0),
            O::I16x8ExtractLaneS { lane } => (SimdOp::I16x8ExtractLaneS, lane, 0),
            O::I16x8ExtractLaneU { lane } => (SimdOp::I16x8ExtractLaneU, lane, 0),
            O::I16x8ReplaceLane { lane } => (SimdOp::I16x8ReplaceLane, lane, 0),
            O::I32x4ExtractLane { lane } => (SimdOp::I32x4ExtractLane, lane, 0),
            O::I32x4ReplaceLane { lane } => (SimdOp::I32x4ReplaceLane, lane, 0),
            O::I64x2ExtractLane { lane } => (SimdOp::I64x2ExtractLane, lane, 0),
            O::I64x2ReplaceLane { lane } => (SimdOp::I64x2ReplaceLane, lane, 0),
            O::F32x4ExtractLane { lane } => (SimdOp::F32x4ExtractLane, lane, 0),
            O::F32x4ReplaceLane { lane } => (SimdOp::F32x4ReplaceLane, lane, 0),
            O::F64x2ExtractLane { lane } => (SimdOp::F64x2ExtractLane, lane, 0),
            O::F64x2ReplaceLane { lane } => (SimdOp::F64x2ReplaceLane, lane, 0),
            other => {
                return Err(LowerError {
                    offset,
                    message: format!("unsupported operator {other:?}"),
                });
            }
        };
        if let Some(off) = wide_off.get() {
            // The address sits below the vector operand of stores and lane accesses.
            let depth = match s {
                SimdOp::V128Store
                | SimdOp::V128Load8Lane
                | SimdOp::V128Load16Lane
                | SimdOp::V128Load32Lane
                | SimdOp::V128Load64Lane
                | SimdOp::V128Store8Lane
                | SimdOp::V128Store16Lane
                | SimdOp::V128Store32Lane
                | SimdOp::V128Store64Lane => 2,
                _ => 0,
            };
            self.addr64(depth, off, offset);
        }
        match mem_index.get() {
            0 => self.simd(s, lane, imm, offset),
            mem => {
                self.emit(
                    Op::SimdM {
                        op: s,
                        lane,
                        imm,
                        mem,
                    },
                    offset,
                );
                let (pops, out) = simd::shape(s);
                self.pop(pops);
                match out {
                    Out::None => {}
                    Out::Scalar => self.push(1),
                    Out::V128 => self.push_v128(),
                }
            }
        }
        Ok(())
    }
}

fn patch(op: &mut Op, end: u32) {
    match op {
        Op::Jump(t) | Op::JumpIfNonZero(t) | Op::JumpIfZero(t) => *t = end,
        Op::Br { target, .. } | Op::BrIf { target, .. } => *target = end,
        Op::I32JumpLL { t, .. }
        | Op::I32JumpLC { t, .. }
        | Op::I32JumpSS { t, .. }
        | Op::I32JumpSC { t, .. }
        | Op::I64JumpLL { t, .. }
        | Op::I64JumpLC { t, .. }
        | Op::I64JumpSS { t, .. }
        | Op::I64JumpSC { t, .. }
        | Op::I32JumpSL { t, .. }
        | Op::I64JumpSL { t, .. } => *t = end,
        _ => {}
    }
}

/// Whether `op` is a (fused) load, the only ops [`fuse`] merges into a later op although
/// they may trap.
fn is_load(op: &Op) -> bool {
    Load::of(op).is_some()
        || matches!(
            op,
            Op::LoadL { .. }
                | Op::LoadLC { .. }
                | Op::LoadSC { .. }
                | Op::LoadLDup { .. }
                | Op::LoadLSet { .. }
        )
}

/// Whether `op` may fuse with a `LocalGet` right before it.
fn consumes_local(op: &Op) -> bool {
    Bin::of_i32(op).is_some()
        || Bin::of_i64(op).is_some()
        || FBin::of(op).is_some()
        || Load::of(op).is_some()
        || Store::of(op).is_some()
        || matches!(
            op,
            Op::LocalSet(_) | Op::JumpIfZero(_) | Op::JumpIfNonZero(_) | Op::Const(_)
        )
}

/// An i64 immediate that fits a sign-extended i32.
fn small64(c: u64) -> Option<i32> {
    let v = c as i64 as i32;
    (v as i64 as u64 == c).then_some(v)
}

/// The peephole: `tail` holds the last ops that no branch targets (at most two), `op`
/// the op being appended. Returns how many ops of the tail to replace, and the fused op
/// that replaces them and `op`. Only non-trapping ops are merged into a later op, except
/// a load merged into a later f64 operator (see [`Lowerer::emit`] for trap offsets).
fn fuse(tail: &[Op], op: &Op) -> Option<(usize, Op)> {
    let last = tail.last()?;
    let prev = tail.len().checked_sub(2).map(|i| &tail[i]);
    if let Some(k) = FBin::of(op) {
        // Operands from locals, a constant or an f64 load (`LoadL`/`LoadLC` of 8 bytes:
        // f64 loads lower to `Load::I64`).
        return match (prev, last) {
            (Some(&Op::LocalGet(a)), &Op::LocalGet(b)) => Some((2, Op::F64BinLL { k, a, b })),
            (
                Some(&Op::LocalGet(b)),
                &Op::LoadL {
                    k: Load::I64,
                    a,
                    off: 0,
                },
            ) => Some((2, Op::F64BinLM { k, b, a, c: 0 })),
            (
                Some(&Op::LocalGet(b)),
                &Op::LoadLC {
                    k: Load::I64,
                    a,
                    c,
                    off: 0,
                },
            ) => Some((2, Op::F64BinLM { k, b, a, c })),
            (_, &Op::LocalGet(b)) => Some((1, Op::F64BinSL { k, b })),
            (_, &Op::Const(c)) => Some((1, Op::F64BinSC { k, c })),
            (
                _,
                &Op::LoadL {
                    k: Load::I64,
                    a,
                    off,
                },
            ) => Some((1, Op::F64BinSM { k, a, c: 0, off })),
            (
                _,
                &Op::LoadLC {
                    k: Load::I64,
                    a,
                    c,
                    off,
                },
            ) => Some((1, Op::F64BinSM { k, a, c, off })),
            _ => None,
        };
    }
    if let (Some((Store::S64, off)), Some(k)) = (Store::of(op), FBin::of(last)) {
        // `*p = x k y` (the address lies below both operands).
        return Some((1, Op::F64BinStore { k, off }));
    }
    if let Some(k) = Bin::of_i32(op) {
        return match (prev, last) {
            (Some(&Op::LocalGet(a)), &Op::LocalGet(b)) => Some((2, Op::I32BinLL { k, a, b })),
            (Some(&Op::LocalGet(a)), &Op::Const(c)) => {
                Some((2, Op::I32BinLC { k, a, c: c as u32 }))
            }
            (_, &Op::LocalGet(b)) => Some((1, Op::I32BinSL { k, b })),
            (_, &Op::Const(c)) => Some((1, Op::I32BinSC { k, c: c as u32 })),
            _ => None,
        };
    }
    if let Some(k) = Bin::of_i64(op) {
        return match (prev, last) {
            (Some(&Op::LocalGet(a)), &Op::LocalGet(b)) => Some((2, Op::I64BinLL { k, a, b })),
            (Some(&Op::LocalGet(a)), &Op::Const(c)) => {
                small64(c).map(|c| (2, Op::I64BinLC { k, a, c }))
            }
            (_, &Op::LocalGet(b)) => Some((1, Op::I64BinSL { k, b })),
            (_, &Op::Const(c)) => small64(c).map(|c| (1, Op::I64BinSC { k, c })),
            _ => None,
        };
    }
    if let Some((k, off)) = Store::of(op) {
        return match (prev, last) {
            (Some(&Op::LocalGet(a)), &Op::LocalGet(b)) => Some((2, Op::StoreLL { k, a, b, off })),
            (_, &Op::LocalGet(b)) => Some((1, Op::StoreSL { k, b, off })),
            (_, &Op::Const(c)) if c >> 32 == 0 => Some((
                1,
                Op::StoreSC {
                    k,
                    c: c as u32,
                    off,
                },
            )),
            _ => None,
        };
    }
    if let Some((k, off)) = Load::of(op) {
        // `local.get p; local.get p; load`: the address stays below the loaded value.
        if let (Some(&Op::LocalGet(p)), &Op::LocalGet(a)) = (prev, last)
            && p == a
        {
            return Some((2, Op::LoadLDup { k, a, off }));
        }
        // An address computed as `x + c` (or `x - c`) folds into the load; the addition
        // keeps wasm's 32-bit wrap-around, the static offset does not wrap.
        return match *last {
            Op::LocalGet(a) => Some((1, Op::LoadL { k, a, off })),
            Op::I32BinLC { k: Bin::Add, a, c } => Some((1, Op::LoadLC { k, a, c, off })),
            Op::I32BinLC { k: Bin::Sub, a, c } => Some((
                1,
                Op::LoadLC {
                    k,
                    a,
                    c: c.wrapping_neg(),
                    off,
                },
            )),
            Op::I32BinSC { k: Bin::Add, c } => Some((1, Op::LoadSC { k, c, off })),
            Op::I32BinSC { k: Bin::Sub, c } => Some((
                1,
                Op::LoadSC {
                    k,
                    c: c.wrapping_neg(),
                    off,
                },
            )),
            _ => None,
        };
    }
    let (t, lp, negate) = match *op {
        Op::JumpIfNonZero(t) => (t, false, false),
        Op::JumpIfNonZeroLoop(t) => (t, true, false),
        Op::JumpIfZero(t) => (t, false, true),
        Op::LocalSet(d) => {
            return match *last {
                Op::LocalGet(a) => Some((1, Op::Copy { a, b: d })),
                Op::Const(c) if c >> 32 == 0 => Some((1, Op::SetConst32 { d, c: c as u32 })),
                Op::LoadL { k, a, off } => Some((1, Op::LoadLSet { k, a, off, d })),
                Op::I32BinLL { k, a, b } => Some((1, Op::I32BinLLD { k, a, b, d })),
                Op::I32BinLC { k, a, c } => Some((1, Op::I32BinLCD { k, a, c, d })),
                Op::I32BinSL { k, b } => Some((1, Op::I32BinSLD { k, b, d })),
                Op::I32BinSC { k, c } => Some((1, Op::I32BinSCD { k, c, d })),
                Op::I64BinLL { k, a, b } => Some((1, Op::I64BinLLD { k, a, b, d })),
                Op::I64BinLC { k, a, c } => Some((1, Op::I64BinLCD { k, a, c, d })),
                Op::I64BinSL { k, b } => Some((1, Op::I64BinSLD { k, b, d })),
                Op::I64BinSC { k, c } => Some((1, Op::I64BinSCD { k, c, d })),
                ref other => {
                    if let Some(k) = Bin::of_i32(other) {
                        Some((1, Op::I32BinSSD { k, d }))
                    } else {
                        Bin::of_i64(other).map(|k| (1, Op::I64BinSSD { k, d }))
                    }
                }
            };
        }
        Op::LocalGet(b) => {
            return match *last {
                Op::LocalGet(a) => Some((1, Op::LocalGet2 { a, b })),
                _ => None,
            };
        }
        _ => return None,
    };
    // A conditional jump: fuse the comparison (or value) that feeds it.
    let cond = |k: Bin| if negate { k.negate() } else { Some(k) };
    let fused = match *last {
        Op::I32BinLL { k, a, b } if k.is_cmp() => Op::I32JumpLL {
            k: cond(k)?,
            lp,
            a,
            b,
            t,
        },
        Op::I32BinLC { k, a, c } if k.is_cmp() => Op::I32JumpLC {
            k: cond(k)?,
            lp,
            a,
            c,
            t,
        },
        Op::I32BinSC { k, c } if k.is_cmp() => Op::I32JumpSC {
            k: cond(k)?,
            lp,
            c,
            t,
        },
        Op::I32BinSL { k, b } if k.is_cmp() => Op::I32JumpSL {
            k: cond(k)?,
            lp,
            b,
            t,
        },
        Op::I64BinSL { k, b } if k.is_cmp() => Op::I64JumpSL {
            k: cond(k)?,
            lp,
            b,
            t,
        },
        Op::I64BinLL { k, a, b } if k.is_cmp() => Op::I64JumpLL {
            k: cond(k)?,
            lp,
            a,
            b,
            t,
        },
        Op::I64BinLC { k, a, c } if k.is_cmp() => Op::I64JumpLC {
            k: cond(k)?,
            lp,
            a,
            c,
            t,
        },
        Op::I64BinSC { k, c } if k.is_cmp() => Op::I64JumpSC {
            k: cond(k)?,
            lp,
            c,
            t,
        },
        Op::LocalGet(a) => Op::I32JumpLC {
            k: if negate { Bin::Eq } else { Bin::Ne },
            lp,
            a,
            c: 0,
            t,
        },
        Op::I32Eqz => Op::I32JumpSC {
            k: if negate { Bin::Ne } else { Bin::Eq },
            lp,
            c: 0,
            t,
        },
        ref other => {
            let (k, wide) = match (Bin::of_i32(other), Bin::of_i64(other)) {
                (Some(k), _) if k.is_cmp() => (k, false),
                (_, Some(k)) if k.is_cmp() => (k, true),
                _ => return None,
            };
            let k = cond(k)?;
            if wide {
                Op::I64JumpSS { k, lp, t }
            } else {
                Op::I32JumpSS { k, lp, t }
            }
        }
    };
    Some((1, fused))
}

/// Loop rotation: a `JumpLoop` back to a header that is a conditional exit reading only
/// locals (`if cond goto exit`, with `exit` right after the `JumpLoop`) becomes the
/// negated test jumping to the op after the header, falling through to the exit. Saves
/// one dispatch per iteration of `loop { br_if exit; ...; br loop }`. Returns the headers
/// of the rotated loops.
fn rotate_loops(ops: &mut [Op]) -> Vec<u32> {
    let mut rotated_headers = Vec::new();
    for i in 0..ops.len() {
        let Op::JumpLoop(h) = ops[i] else { continue };
        let exit = i as u32 + 1;
        let body = h + 1;
        let rotated = match ops.get(h as usize) {
            Some(&Op::I32JumpLL {
                k,
                lp: false,
                a,
                b,
                t,
            }) if t == exit => k.negate().map(|k| Op::I32JumpLL {
                k,
                lp: true,
                a,
                b,
                t: body,
            }),
            Some(&Op::I32JumpLC {
                k,
                lp: false,
                a,
                c,
                t,
            }) if t == exit => k.negate().map(|k| Op::I32JumpLC {
                k,
                lp: true,
                a,
                c,
                t: body,
            }),
            Some(&Op::I64JumpLL {
                k,
                lp: false,
                a,
                b,
                t,
            }) if t == exit => k.negate().map(|k| Op::I64JumpLL {
                k,
                lp: true,
                a,
                b,
                t: body,
            }),
            Some(&Op::I64JumpLC {
                k,
                lp: false,
                a,
                c,
                t,
            }) if t == exit => k.negate().map(|k| Op::I64JumpLC {
                k,
                lp: true,
                a,
                c,
                t: body,
            }),
            _ => None,
        };
        if let Some(op) = rotated {
            ops[i] = op;
            rotated_headers.push(h);
        }
    }
    rotated_headers
}

/// The specialized form of a generic fused op (one variant per operator: a single
/// dispatch jump at run time); other ops are returned unchanged.
pub fn specialize(op: Op) -> Op {
    #[allow(clippy::match_same_arms)]
    match op {
        // BEGIN GENERATED
        Op::I32BinLL { k: Bin::Add, a, b } => Op::I32AddLL { a, b },
        Op::I32BinLL { k: Bin::Sub, a, b } => Op::I32SubLL { a, b },
        Op::I32BinLL { k: Bin::Mul, a, b } => Op::I32MulLL { a, b },
        Op::I32BinLL { k: Bin::And, a, b } => Op::I32AndLL { a, b },
        Op::I32BinLL { k: Bin::Or, a, b } => Op::I32OrLL { a, b },
        Op::I32BinLL { k: Bin::Xor, a, b } => Op::I32XorLL { a, b },
        Op::I32BinLL { k: Bin::Shl, a, b } => Op::I32ShlLL { a, b },
        Op::I32BinLL { k: Bin::ShrS, a, b } => Op::I32ShrSLL { a, b },
        Op::I32BinLL { k: Bin::ShrU, a, b } => Op::I32ShrULL { a, b },
        Op::I32BinLL { k: Bin::Rotl, a, b } => Op::I32RotlLL { a, b },
        Op::I32BinLL { k: Bin::Rotr, a, b } => Op::I32RotrLL { a, b },
        Op::I32BinLC { k: Bin::Add, a, c } => Op::I32AddLC { a, c },
        Op::I32BinLC { k: Bin::Sub, a, c } => Op::I32SubLC { a, c },
        Op::I32BinLC { k: Bin::Mul, a, c } => Op::I32MulLC { a, c },
        Op::I32BinLC { k: Bin::And, a, c } => Op::I32AndLC { a, c },
        Op::I32BinLC { k: Bin::Or, a, c } => Op::I32OrLC { a, c },
        Op::I32BinLC { k: Bin::Xor, a, c } => Op::I32XorLC { a, c },
        Op::I32BinLC { k: Bin::Shl, a, c } => Op::I32ShlLC { a, c },
        Op::I32BinLC { k: Bin::ShrS, a, c } => Op::I32ShrSLC { a, c },
        Op::I32BinLC { k: Bin::ShrU, a, c } => Op::I32ShrULC { a, c },
        Op::I32BinLC { k: Bin::Rotl, a, c } => Op::I32RotlLC { a, c },
        Op::I32BinLC { k: Bin::Rotr, a, c } => Op::I32RotrLC { a, c },
        Op::I32BinSL { k: Bin::Add, b } => Op::I32AddSL { b },
        Op::I32BinSL { k: Bin::Sub, b } => Op::I32SubSL { b },
        Op::I32BinSL { k: Bin::Mul, b } => Op::I32MulSL { b },
        Op::I32BinSL { k: Bin::And, b } => Op::I32AndSL { b },
        Op::I32BinSL { k: Bin::Or, b } => Op::I32OrSL { b },
        Op::I32BinSL { k: Bin::Xor, b } => Op::I32XorSL { b },
        Op::I32BinSL { k: Bin::Shl, b } => Op::I32ShlSL { b },
        Op::I32BinSL { k: Bin::ShrS, b } => Op::I32ShrSSL { b },
        Op::I32BinSL { k: Bin::ShrU, b } => Op::I32ShrUSL { b },
        Op::I32BinSL { k: Bin::Rotl, b } => Op::I32RotlSL { b },
        Op::I32BinSL { k: Bin::Rotr, b } => Op::I32RotrSL { b },
        Op::I32BinSC { k: Bin::Add, c } => Op::I32AddSC { c },
        Op::I32BinSC { k: Bin::Sub, c } => Op::I32SubSC { c },
        Op::I32BinSC { k: Bin::Mul, c } => Op::I32MulSC { c },
        Op::I32BinSC { k: Bin::And, c } => Op::I32AndSC { c },
        Op::I32BinSC { k: Bin::Or, c } => Op::I32OrSC { c },
        Op::I32BinSC { k: Bin::Xor, c } => Op::I32XorSC { c },
        Op::I32BinSC { k: Bin::Shl, c } => Op::I32ShlSC { c },
        Op::I32BinSC { k: Bin::ShrS, c } => Op::I32ShrSSC { c },
        Op::I32BinSC { k: Bin::ShrU, c } => Op::I32ShrUSC { c },
        Op::I32BinSC { k: Bin::Rotl, c } => Op::I32RotlSC { c },
        Op::I32BinSC { k: Bin::Rotr, c } => Op::I32RotrSC { c },
        Op::I32BinLLD {
            k: Bin::Add,
            a,
            b,
            d,
        } => Op::I32AddLLD { a, b, d },
        Op::I32BinLLD {
            k: Bin::Sub,
            a,
            b,
            d,
        } => Op::I32SubLLD { a, b, d },
        Op::I32BinLLD {
            k: Bin::Mul,
            a,
            b,
            d,
        } => Op::I32MulLLD { a, b, d },
        Op::I32BinLLD {
            k: Bin::And,
            a,
            b,
            d,
        } => Op::I32AndLLD { a, b, d },
        Op::I32BinLLD {
            k: Bin::Or,
            a,
            b,
            d,
        } => Op::I32OrLLD { a, b, d },
        Op::I32BinLLD {
            k: Bin::Xor,
            a,
            b,
            d,
        } => Op::I32XorLLD { a, b, d },
        Op::I32BinLLD {
            k: Bin::Shl,
            a,
            b,
            d,
        } => Op::I32ShlLLD { a, b, d },
        Op::I32BinLLD {
            k: Bin::ShrS,
            a,
            b,
            d,
        } => Op::I32ShrSLLD { a, b, d },
        Op::I32BinLLD {
            k: Bin::ShrU,
            a,
            b,
            d,
        } => Op::I32ShrULLD { a, b, d },
        Op::I32BinLLD {
            k: Bin::Rotl,
            a,
            b,
            d,
        } => Op::I32RotlLLD { a, b, d },
        Op::I32BinLLD {
            k: Bin::Rotr,
            a,
            b,
            d,
        } => Op::I32RotrLLD { a, b, d },
        Op::I32BinLCD {
            k: Bin::Add,
            a,
            c,
            d,
        } => Op::I32AddLCD { a, c, d },
        Op::I32BinLCD {
            k: Bin::Sub,
            a,
            c,
            d,
        } => Op::I32SubLCD { a, c, d },
        Op::I32BinLCD {
            k: Bin::Mul,
            a,
            c,
            d,
        } => Op::I32MulLCD { a, c, d },
        Op::I32BinLCD {
            k: Bin::And,
            a,
            c,
            d,
        } => Op::I32AndLCD { a, c, d },
        Op::I32BinLCD {
            k: Bin::Or,
            a,
            c,
            d,
        } => Op::I32OrLCD { a, c, d },
        Op::I32BinLCD {
            k: Bin::Xor,
            a,
            c,
            d,
        } => Op::I32XorLCD { a, c, d },
        Op::I32BinLCD {
            k: Bin::Shl,
            a,
            c,
            d,
        } => Op::I32ShlLCD { a, c, d },
        Op::I32BinLCD {
            k: Bin::ShrS,
            a,
            c,
            d,
        } => Op::I32ShrSLCD { a, c, d },
        Op::I32BinLCD {
            k: Bin::ShrU,
            a,
            c,
            d,
        } => Op::I32ShrULCD { a, c, d },
        Op::I32BinLCD {
            k: Bin::Rotl,
            a,
            c,
            d,
        } => Op::I32RotlLCD { a, c, d },
        Op::I32BinLCD {
            k: Bin::Rotr,
            a,
            c,
            d,
        } => Op::I32RotrLCD { a, c, d },
        Op::I32BinSLD { k: Bin::Add, b, d } => Op::I32AddSLD { b, d },
        Op::I32BinSLD { k: Bin::Sub, b, d } => Op::I32SubSLD { b, d },
        Op::I32BinSLD { k: Bin::Mul, b, d } => Op::I32MulSLD { b, d },
        Op::I32BinSLD { k: Bin::And, b, d } => Op::I32AndSLD { b, d },
        Op::I32BinSLD { k: Bin::Or, b, d } => Op::I32OrSLD { b, d },
        Op::I32BinSLD { k: Bin::Xor, b, d } => Op::I32XorSLD { b, d },
        Op::I32BinSLD { k: Bin::Shl, b, d } => Op::I32ShlSLD { b, d },
        Op::I32BinSLD { k: Bin::ShrS, b, d } => Op::I32ShrSSLD { b, d },
        Op::I32BinSLD { k: Bin::ShrU, b, d } => Op::I32ShrUSLD { b, d },
        Op::I32BinSLD { k: Bin::Rotl, b, d } => Op::I32RotlSLD { b, d },
        Op::I32BinSLD { k: Bin::Rotr, b, d } => Op::I32RotrSLD { b, d },
        Op::I32BinSCD { k: Bin::Add, c, d } => Op::I32AddSCD { c, d },
        Op::I32BinSCD { k: Bin::Sub, c, d } => Op::I32SubSCD { c, d },
        Op::I32BinSCD { k: Bin::Mul, c, d } => Op::I32MulSCD { c, d },
        Op::I32BinSCD { k: Bin::And, c, d } => Op::I32AndSCD { c, d },
        Op::I32BinSCD { k: Bin::Or, c, d } => Op::I32OrSCD { c, d },
        Op::I32BinSCD { k: Bin::Xor, c, d } => Op::I32XorSCD { c, d },
        Op::I32BinSCD { k: Bin::Shl, c, d } => Op::I32ShlSCD { c, d },
        Op::I32BinSCD { k: Bin::ShrS, c, d } => Op::I32ShrSSCD { c, d },
        Op::I32BinSCD { k: Bin::ShrU, c, d } => Op::I32ShrUSCD { c, d },
        Op::I32BinSCD { k: Bin::Rotl, c, d } => Op::I32RotlSCD { c, d },
        Op::I32BinSCD { k: Bin::Rotr, c, d } => Op::I32RotrSCD { c, d },
        Op::I32BinSSD { k: Bin::Add, d } => Op::I32AddSSD { d },
        Op::I32BinSSD { k: Bin::Sub, d } => Op::I32SubSSD { d },
        Op::I32BinSSD { k: Bin::Mul, d } => Op::I32MulSSD { d },
        Op::I32BinSSD { k: Bin::And, d } => Op::I32AndSSD { d },
        Op::I32BinSSD { k: Bin::Or, d } => Op::I32OrSSD { d },
        Op::I32BinSSD { k: Bin::Xor, d } => Op::I32XorSSD { d },
        Op::I32BinSSD { k: Bin::Shl, d } => Op::I32ShlSSD { d },
        Op::I32BinSSD { k: Bin::ShrS, d } => Op::I32ShrSSSD { d },
        Op::I32BinSSD { k: Bin::ShrU, d } => Op::I32ShrUSSD { d },
        Op::I32BinSSD { k: Bin::Rotl, d } => Op::I32RotlSSD { d },
        Op::I32BinSSD { k: Bin::Rotr, d } => Op::I32RotrSSD { d },
        Op::I64BinLL { k: Bin::Add, a, b } => Op::I64AddLL { a, b },
        Op::I64BinLL { k: Bin::Sub, a, b } => Op::I64SubLL { a, b },
        Op::I64BinLL { k: Bin::Mul, a, b } => Op::I64MulLL { a, b },
        Op::I64BinLL { k: Bin::And, a, b } => Op::I64AndLL { a, b },
        Op::I64BinLL { k: Bin::Or, a, b } => Op::I64OrLL { a, b },
        Op::I64BinLL { k: Bin::Xor, a, b } => Op::I64XorLL { a, b },
        Op::I64BinLL { k: Bin::Shl, a, b } => Op::I64ShlLL { a, b },
        Op::I64BinLL { k: Bin::ShrS, a, b } => Op::I64ShrSLL { a, b },
        Op::I64BinLL { k: Bin::ShrU, a, b } => Op::I64ShrULL { a, b },
        Op::I64BinLL { k: Bin::Rotl, a, b } => Op::I64RotlLL { a, b },
        Op::I64BinLL { k: Bin::Rotr, a, b } => Op::I64RotrLL { a, b },
        Op::I64BinLC { k: Bin::Add, a, c } => Op::I64AddLC { a, c },
        Op::I64BinLC { k: Bin::Sub, a, c } => Op::I64SubLC { a, c },
        Op::I64BinLC { k: Bin::Mul, a, c } => Op::I64MulLC { a, c },
        Op::I64BinLC { k: Bin::And, a, c } => Op::I64AndLC { a, c },
        Op::I64BinLC { k: Bin::Or, a, c } => Op::I64OrLC { a, c },
        Op::I64BinLC { k: Bin::Xor, a, c } => Op::I64XorLC { a, c },
        Op::I64BinLC { k: Bin::Shl, a, c } => Op::I64ShlLC { a, c },
        Op::I64BinLC { k: Bin::ShrS, a, c } => Op::I64ShrSLC { a, c },
        Op::I64BinLC { k: Bin::ShrU, a, c } => Op::I64ShrULC { a, c },
        Op::I64BinLC { k: Bin::Rotl, a, c } => Op::I64RotlLC { a, c },
        Op::I64BinLC { k: Bin::Rotr, a, c } => Op::I64RotrLC { a, c },
        Op::I64BinSL { k: Bin::Add, b } => Op::I64AddSL { b },
        Op::I64BinSL { k: Bin::Sub, b } => Op::I64SubSL { b },
        Op::I64BinSL { k: Bin::Mul, b } => Op::I64MulSL { b },
        Op::I64BinSL { k: Bin::And, b } => Op::I64AndSL { b },
        Op::I64BinSL { k: Bin::Or, b } => Op::I64OrSL { b },
        Op::I64BinSL { k: Bin::Xor, b } => Op::I64XorSL { b },
        Op::I64BinSL { k: Bin::Shl, b } => Op::I64ShlSL { b },
        Op::I64BinSL { k: Bin::ShrS, b } => Op::I64ShrSSL { b },
        Op::I64BinSL { k: Bin::ShrU, b } => Op::I64ShrUSL { b },
        Op::I64BinSL { k: Bin::Rotl, b } => Op::I64RotlSL { b },
        Op::I64BinSL { k: Bin::Rotr, b } => Op::I64RotrSL { b },
        Op::I64BinSC { k: Bin::Add, c } => Op::I64AddSC { c },
        Op::I64BinSC { k: Bin::Sub, c } => Op::I64SubSC { c },
        Op::I64BinSC { k: Bin::Mul, c } => Op::I64MulSC { c },
        Op::I64BinSC { k: Bin::And, c } => Op::I64AndSC { c },
        Op::I64BinSC { k: Bin::Or, c } => Op::I64OrSC { c },
        Op::I64BinSC { k: Bin::Xor, c } => Op::I64XorSC { c },
        Op::I64BinSC { k: Bin::Shl, c } => Op::I64ShlSC { c },
        Op::I64BinSC { k: Bin::ShrS, c } => Op::I64ShrSSC { c },
        Op::I64BinSC { k: Bin::ShrU, c } => Op::I64ShrUSC { c },
        Op::I64BinSC { k: Bin::Rotl, c } => Op::I64RotlSC { c },
        Op::I64BinSC { k: Bin::Rotr, c } => Op::I64RotrSC { c },
        Op::I64BinLLD {
            k: Bin::Add,
            a,
            b,
            d,
        } => Op::I64AddLLD { a, b, d },
        Op::I64BinLLD {
            k: Bin::Sub,
            a,
            b,
            d,
        } => Op::I64SubLLD { a, b, d },
        Op::I64BinLLD {
            k: Bin::Mul,
            a,
            b,
            d,
        } => Op::I64MulLLD { a, b, d },
        Op::I64BinLLD {
            k: Bin::And,
            a,
            b,
            d,
        } => Op::I64AndLLD { a, b, d },
        Op::I64BinLLD {
            k: Bin::Or,
            a,
            b,
            d,
        } => Op::I64OrLLD { a, b, d },
        Op::I64BinLLD {
            k: Bin::Xor,
            a,
            b,
            d,
        } => Op::I64XorLLD { a, b, d },
        Op::I64BinLLD {
            k: Bin::Shl,
            a,
            b,
            d,
        } => Op::I64ShlLLD { a, b, d },
        Op::I64BinLLD {
            k: Bin::ShrS,
            a,
            b,
            d,
        } => Op::I64ShrSLLD { a, b, d },
        Op::I64BinLLD {
            k: Bin::ShrU,
            a,
            b,
            d,
        } => Op::I64ShrULLD { a, b, d },
        Op::I64BinLLD {
            k: Bin::Rotl,
            a,
            b,
            d,
        } => Op::I64RotlLLD { a, b, d },
        Op::I64BinLLD {
            k: Bin::Rotr,
            a,
            b,
            d,
        } => Op::I64RotrLLD { a, b, d },
        Op::I64BinLCD {
            k: Bin::Add,
            a,
            c,
            d,
        } => Op::I64AddLCD { a, c, d },
        Op::I64BinLCD {
            k: Bin::Sub,
            a,
            c,
            d,
        } => Op::I64SubLCD { a, c, d },
        Op::I64BinLCD {
            k: Bin::Mul,
            a,
            c,
            d,
        } => Op::I64MulLCD { a, c, d },
        Op::I64BinLCD {
            k: Bin::And,
            a,
            c,
            d,
        } => Op::I64AndLCD { a, c, d },
        Op::I64BinLCD {
            k: Bin::Or,
            a,
            c,
            d,
        } => Op::I64OrLCD { a, c, d },
        Op::I64BinLCD {
            k: Bin::Xor,
            a,
            c,
            d,
        } => Op::I64XorLCD { a, c, d },
        Op::I64BinLCD {
            k: Bin::Shl,
            a,
            c,
            d,
        } => Op::I64ShlLCD { a, c, d },
        Op::I64BinLCD {
            k: Bin::ShrS,
            a,
            c,
            d,
        } => Op::I64ShrSLCD { a, c, d },
        Op::I64BinLCD {
            k: Bin::ShrU,
            a,
            c,
            d,
        } => Op::I64ShrULCD { a, c, d },
        Op::I64BinLCD {
            k: Bin::Rotl,
            a,
            c,
            d,
        } => Op::I64RotlLCD { a, c, d },
        Op::I64BinLCD {
            k: Bin::Rotr,
            a,
            c,
            d,
        } => Op::I64RotrLCD { a, c, d },
        Op::I64BinSLD { k: Bin::Add, b, d } => Op::I64AddSLD { b, d },
        Op::I64BinSLD { k: Bin::Sub, b, d } => Op::I64SubSLD { b, d },
        Op::I64BinSLD { k: Bin::Mul, b, d } => Op::I64MulSLD { b, d },
        Op::I64BinSLD { k: Bin::And, b, d } => Op::I64AndSLD { b, d },
        Op::I64BinSLD { k: Bin::Or, b, d } => Op::I64OrSLD { b, d },
        Op::I64BinSLD { k: Bin::Xor, b, d } => Op::I64XorSLD { b, d },
        Op::I64BinSLD { k: Bin::Shl, b, d } => Op::I64ShlSLD { b, d },
        Op::I64BinSLD { k: Bin::ShrS, b, d } => Op::I64ShrSSLD { b, d },
        Op::I64BinSLD { k: Bin::ShrU, b, d } => Op::I64ShrUSLD { b, d },
        Op::I64BinSLD { k: Bin::Rotl, b, d } => Op::I64RotlSLD { b, d },
        Op::I64BinSLD { k: Bin::Rotr, b, d } => Op::I64RotrSLD { b, d },
        Op::I64BinSCD { k: Bin::Add, c, d } => Op::I64AddSCD { c, d },
        Op::I64BinSCD { k: Bin::Sub, c, d } => Op::I64SubSCD { c, d },
        Op::I64BinSCD { k: Bin::Mul, c, d } => Op::I64MulSCD { c, d },
        Op::I64BinSCD { k: Bin::And, c, d } => Op::I64AndSCD { c, d },
        Op::I64BinSCD { k: Bin::Or, c, d } => Op::I64OrSCD { c, d },
        Op::I64BinSCD { k: Bin::Xor, c, d } => Op::I64XorSCD { c, d },
        Op::I64BinSCD { k: Bin::Shl, c, d } => Op::I64ShlSCD { c, d },
        Op::I64BinSCD { k: Bin::ShrS, c, d } => Op::I64ShrSSCD { c, d },
        Op::I64BinSCD { k: Bin::ShrU, c, d } => Op::I64ShrUSCD { c, d },
        Op::I64BinSCD { k: Bin::Rotl, c, d } => Op::I64RotlSCD { c, d },
        Op::I64BinSCD { k: Bin::Rotr, c, d } => Op::I64RotrSCD { c, d },
        Op::I64BinSSD { k: Bin::Add, d } => Op::I64AddSSD { d },
        Op::I64BinSSD { k: Bin::Sub, d } => Op::I64SubSSD { d },
        Op::I64BinSSD { k: Bin::Mul, d } => Op::I64MulSSD { d },
        Op::I64BinSSD { k: Bin::And, d } => Op::I64AndSSD { d },
        Op::I64BinSSD { k: Bin::Or, d } => Op::I64OrSSD { d },
        Op::I64BinSSD { k: Bin::Xor, d } => Op::I64XorSSD { d },
        Op::I64BinSSD { k: Bin::Shl, d } => Op::I64ShlSSD { d },
        Op::I64BinSSD { k: Bin::ShrS, d } => Op::I64ShrSSSD { d },
        Op::I64BinSSD { k: Bin::ShrU, d } => Op::I64ShrUSSD { d },
        Op::I64BinSSD { k: Bin::Rotl, d } => Op::I64RotlSSD { d },
        Op::I64BinSSD { k: Bin::Rotr, d } => Op::I64RotrSSD { d },
        Op::I32JumpLL {
            k: Bin::Eq,
            lp,
            a,
            b,
            t,
        } => Op::I32EqJumpLL { lp, a, b, t },
        Op::I32JumpLL {
            k: Bin::Ne,
            lp,
            a,
            b,
            t,
        } => Op::I32NeJumpLL { lp, a, b, t },
        Op::I32JumpLL {
            k: Bin::LtS,
            lp,
            a,
            b,
            t,
        } => Op::I32LtSJumpLL { lp, a, b, t },
        Op::I32JumpLL {
            k: Bin::LtU,
            lp,
            a,
            b,
            t,
        } => Op::I32LtUJumpLL { lp, a, b, t },
        Op::I32JumpLL {
            k: Bin::GtS,
            lp,
            a,
            b,
            t,
        } => Op::I32GtSJumpLL { lp, a, b, t },
        Op::I32JumpLL {
            k: Bin::GtU,
            lp,
            a,
            b,
            t,
        } => Op::I32GtUJumpLL { lp, a, b, t },
        Op::I32JumpLL {
            k: Bin::LeS,
            lp,
            a,
            b,
            t,
        } => Op::I32LeSJumpLL { lp, a, b, t },
        Op::I32JumpLL {
            k: Bin::LeU,
            lp,
            a,
            b,
            t,
        } => Op::I32LeUJumpLL { lp, a, b, t },
        Op::I32JumpLL {
            k: Bin::GeS,
            lp,
            a,
            b,
            t,
        } => Op::I32GeSJumpLL { lp, a, b, t },
        Op::I32JumpLL {
            k: Bin::GeU,
            lp,
            a,
            b,
            t,
        } => Op::I32GeUJumpLL { lp, a, b, t },
        Op::I32JumpLC {
            k: Bin::Eq,
            lp,
            a,
            c,
            t,
        } => Op::I32EqJumpLC { lp, a, c, t },
        Op::I32JumpLC {
            k: Bin::Ne,
            lp,
            a,
            c,
            t,
        } => Op::I32NeJumpLC { lp, a, c, t },
        Op::I32JumpLC {
            k: Bin::LtS,
            lp,
            a,
            c,
            t,
        } => Op::I32LtSJumpLC { lp, a, c, t },
        Op::I32JumpLC {
            k: Bin::LtU,
            lp,
            a,
            c,
            t,
        } => Op::I32LtUJumpLC { lp, a, c, t },
        Op::I32JumpLC {
            k: Bin::GtS,
            lp,
            a,
            c,
            t,
        } => Op::I32GtSJumpLC { lp, a, c, t },
        Op::I32JumpLC {
            k: Bin::GtU,
            lp,
            a,
            c,
            t,
        } => Op::I32GtUJumpLC { lp, a, c, t },
        Op::I32JumpLC {
            k: Bin::LeS,
            lp,
            a,
            c,
            t,
        } => Op::I32LeSJumpLC { lp, a, c, t },
        Op::I32JumpLC {
            k: Bin::LeU,
            lp,
            a,
            c,
            t,
        } => Op::I32LeUJumpLC { lp, a, c, t },
        Op::I32JumpLC {
            k: Bin::GeS,
            lp,
            a,
            c,
            t,
        } => Op::I32GeSJumpLC { lp, a, c, t },
        Op::I32JumpLC {
            k: Bin::GeU,
            lp,
            a,
            c,
            t,
        } => Op::I32GeUJumpLC { lp, a, c, t },
        Op::I32JumpSS { k: Bin::Eq, lp, t } => Op::I32EqJumpSS { lp, t },
        Op::I32JumpSS { k: Bin::Ne, lp, t } => Op::I32NeJumpSS { lp, t },
        Op::I32JumpSS { k: Bin::LtS, lp, t } => Op::I32LtSJumpSS { lp, t },
        Op::I32JumpSS { k: Bin::LtU, lp, t } => Op::I32LtUJumpSS { lp, t },
        Op::I32JumpSS { k: Bin::GtS, lp, t } => Op::I32GtSJumpSS { lp, t },
        Op::I32JumpSS { k: Bin::GtU, lp, t } => Op::I32GtUJumpSS { lp, t },
        Op::I32JumpSS { k: Bin::LeS, lp, t } => Op::I32LeSJumpSS { lp, t },
        Op::I32JumpSS { k: Bin::LeU, lp, t } => Op::I32LeUJumpSS { lp, t },
        Op::I32JumpSS { k: Bin::GeS, lp, t } => Op::I32GeSJumpSS { lp, t },
        Op::I32JumpSS { k: Bin::GeU, lp, t } => Op::I32GeUJumpSS { lp, t },
        Op::I32JumpSC {
            k: Bin::Eq,
            lp,
            c,
            t,
        } => Op::I32EqJumpSC { lp, c, t },
        Op::I32JumpSC {
            k: Bin::Ne,
            lp,
            c,
            t,
        } => Op::I32NeJumpSC { lp, c, t },
        Op::I32JumpSC {
            k: Bin::LtS,
            lp,
            c,
            t,
        } => Op::I32LtSJumpSC { lp, c, t },
        Op::I32JumpSC {
            k: Bin::LtU,
            lp,
            c,
            t,
        } => Op::I32LtUJumpSC { lp, c, t },
        Op::I32JumpSC {
            k: Bin::GtS,
            lp,
            c,
            t,
        } => Op::I32GtSJumpSC { lp, c, t },
        Op::I32JumpSC {
            k: Bin::GtU,
            lp,
            c,
            t,
        } => Op::I32GtUJumpSC { lp, c, t },
        Op::I32JumpSC {
            k: Bin::LeS,
            lp,
            c,
            t,
        } => Op::I32LeSJumpSC { lp, c, t },
        Op::I32JumpSC {
            k: Bin::LeU,
            lp,
            c,
            t,
        } => Op::I32LeUJumpSC { lp, c, t },
        Op::I32JumpSC {
            k: Bin::GeS,
            lp,
            c,
            t,
        } => Op::I32GeSJumpSC { lp, c, t },
        Op::I32JumpSC {
            k: Bin::GeU,
            lp,
            c,
            t,
        } => Op::I32GeUJumpSC { lp, c, t },
        Op::I32JumpSL {
            k: Bin::Eq,
            lp,
            b,
            t,
        } => Op::I32EqJumpSL { lp, b, t },
        Op::I32JumpSL {
            k: Bin::Ne,
            lp,
            b,
            t,
        } => Op::I32NeJumpSL { lp, b, t },
        Op::I32JumpSL {
            k: Bin::LtS,
            lp,
            b,
            t,
        } => Op::I32LtSJumpSL { lp, b, t },
        Op::I32JumpSL {
            k: Bin::LtU,
            lp,
            b,
            t,
        } => Op::I32LtUJumpSL { lp, b, t },
        Op::I32JumpSL {
            k: Bin::GtS,
            lp,
            b,
            t,
        } => Op::I32GtSJumpSL { lp, b, t },
        Op::I32JumpSL {
            k: Bin::GtU,
            lp,
            b,
            t,
        } => Op::I32GtUJumpSL { lp, b, t },
        Op::I32JumpSL {
            k: Bin::LeS,
            lp,
            b,
            t,
        } => Op::I32LeSJumpSL { lp, b, t },
        Op::I32JumpSL {
            k: Bin::LeU,
            lp,
            b,
            t,
        } => Op::I32LeUJumpSL { lp, b, t },
        Op::I32JumpSL {
            k: Bin::GeS,
            lp,
            b,
            t,
        } => Op::I32GeSJumpSL { lp, b, t },
        Op::I32JumpSL {
            k: Bin::GeU,
            lp,
            b,
            t,
        } => Op::I32GeUJumpSL { lp, b, t },
        Op::I64JumpLL {
            k: Bin::Eq,
            lp,
            a,
            b,
            t,
        } => Op::I64EqJumpLL { lp, a, b, t },
        Op::I64JumpLL {
            k: Bin::Ne,
            lp,
            a,
            b,
            t,
        } => Op::I64NeJumpLL { lp, a, b, t },
        Op::I64JumpLL {
            k: Bin::LtS,
            lp,
            a,
            b,
            t,
        } => Op::I64LtSJumpLL { lp, a, b, t },
        Op::I64JumpLL {
            k: Bin::LtU,
            lp,
            a,
            b,
            t,
        } => Op::I64LtUJumpLL { lp, a, b, t },
        Op::I64JumpLL {
            k: Bin::GtS,
            lp,
            a,
            b,
            t,
        } => Op::I64GtSJumpLL { lp, a, b, t },
        Op::I64JumpLL {
            k: Bin::GtU,
            lp,
            a,
            b,
            t,
        } => Op::I64GtUJumpLL { lp, a, b, t },
        Op::I64JumpLL {
            k: Bin::LeS,
            lp,
            a,
            b,
            t,
        } => Op::I64LeSJumpLL { lp, a, b, t },
        Op::I64JumpLL {
            k: Bin::LeU,
            lp,
            a,
            b,
            t,
        } => Op::I64LeUJumpLL { lp, a, b, t },
        Op::I64JumpLL {
            k: Bin::GeS,
            lp,
            a,
            b,
            t,
        } => Op::I64GeSJumpLL { lp, a, b, t },
        Op::I64JumpLL {
            k: Bin::GeU,
            lp,
            a,
            b,
            t,
        } => Op::I64GeUJumpLL { lp, a, b, t },
        Op::I64JumpLC {
            k: Bin::Eq,
            lp,
            a,
            c,
            t,
        } => Op::I64EqJumpLC { lp, a, c, t },
        Op::I64JumpLC {
            k: Bin::Ne,
            lp,
            a,
            c,
            t,
        } => Op::I64NeJumpLC { lp, a, c, t },
        Op::I64JumpLC {
            k: Bin::LtS,
            lp,
            a,
            c,
            t,
        } => Op::I64LtSJumpLC { lp, a, c, t },
        Op::I64JumpLC {
            k: Bin::LtU,
            lp,
            a,
            c,
            t,
        } => Op::I64LtUJumpLC { lp, a, c, t },
        Op::I64JumpLC {
            k: Bin::GtS,
            lp,
            a,
            c,
            t,
        } => Op::I64GtSJumpLC { lp, a, c, t },
        Op::I64JumpLC {
            k: Bin::GtU,
            lp,
            a,
            c,
            t,
        } => Op::I64GtUJumpLC { lp, a, c, t },
        Op::I64JumpLC {
            k: Bin::LeS,
            lp,
            a,
            c,
            t,
        } => Op::I64LeSJumpLC { lp, a, c, t },
        Op::I64JumpLC {
            k: Bin::LeU,
            lp,
            a,
            c,
            t,
        } => Op::I64LeUJumpLC { lp, a, c, t },
        Op::I64JumpLC {
            k: Bin::GeS,
            lp,
            a,
            c,
            t,
        } => Op::I64GeSJumpLC { lp, a, c, t },
        Op::I64JumpLC {
            k: Bin::GeU,
            lp,
            a,
            c,
            t,
        } => Op::I64GeUJumpLC { lp, a, c, t },
        Op::I64JumpSS { k: Bin::Eq, lp, t } => Op::I64EqJumpSS { lp, t },
        Op::I64JumpSS { k: Bin::Ne, lp, t } => Op::I64NeJumpSS { lp, t },
        Op::I64JumpSS { k: Bin::LtS, lp, t } => Op::I64LtSJumpSS { lp, t },
        Op::I64JumpSS { k: Bin::LtU, lp, t } => Op::I64LtUJumpSS { lp, t },
        Op::I64JumpSS { k: Bin::GtS, lp, t } => Op::I64GtSJumpSS { lp, t },
        Op::I64JumpSS { k: Bin::GtU, lp, t } => Op::I64GtUJumpSS { lp, t },
        Op::I64JumpSS { k: Bin::LeS, lp, t } => Op::I64LeSJumpSS { lp, t },
        Op::I64JumpSS { k: Bin::LeU, lp, t } => Op::I64LeUJumpSS { lp, t },
        Op::I64JumpSS { k: Bin::GeS, lp, t } => Op::I64GeSJumpSS { lp, t },
        Op::I64JumpSS { k: Bin::GeU, lp, t } => Op::I64GeUJumpSS { lp, t },
        Op::I64JumpSC {
            k: Bin::Eq,
            lp,
            c,
            t,
        } => Op::I64EqJumpSC { lp, c, t },
        Op::I64JumpSC {
            k: Bin::Ne,
            lp,
            c,
            t,
        } => Op::I64NeJumpSC { lp, c, t },
        Op::I64JumpSC {
            k: Bin::LtS,
            lp,
            c,
            t,
        } => Op::I64LtSJumpSC { lp, c, t },
        Op::I64JumpSC {
            k: Bin::LtU,
            lp,
            c,
            t,
        } => Op::I64LtUJumpSC { lp, c, t },
        Op::I64JumpSC {
            k: Bin::GtS,
            lp,
            c,
            t,
        } => Op::I64GtSJumpSC { lp, c, t },
        Op::I64JumpSC {
            k: Bin::GtU,
            lp,
            c,
            t,
        } => Op::I64GtUJumpSC { lp, c, t },
        Op::I64JumpSC {
            k: Bin::LeS,
            lp,
            c,
            t,
        } => Op::I64LeSJumpSC { lp, c, t },
        Op::I64JumpSC {
            k: Bin::LeU,
            lp,
            c,
            t,
        } => Op::I64LeUJumpSC { lp, c, t },
        Op::I64JumpSC {
            k: Bin::GeS,
            lp,
            c,
            t,
        } => Op::I64GeSJumpSC { lp, c, t },
        Op::I64JumpSC {
            k: Bin::GeU,
            lp,
            c,
            t,
        } => Op::I64GeUJumpSC { lp, c, t },
        Op::I64JumpSL {
            k: Bin::Eq,
            lp,
            b,
            t,
        } => Op::I64EqJumpSL { lp, b, t },
        Op::I64JumpSL {
            k: Bin::Ne,
            lp,
            b,
            t,
        } => Op::I64NeJumpSL { lp, b, t },
        Op::I64JumpSL {
            k: Bin::LtS,
            lp,
            b,
            t,
        } => Op::I64LtSJumpSL { lp, b, t },
        Op::I64JumpSL {
            k: Bin::LtU,
            lp,
            b,
            t,
        } => Op::I64LtUJumpSL { lp, b, t },
        Op::I64JumpSL {
            k: Bin::GtS,
            lp,
            b,
            t,
        } => Op::I64GtSJumpSL { lp, b, t },
        Op::I64JumpSL {
            k: Bin::GtU,
            lp,
            b,
            t,
        } => Op::I64GtUJumpSL { lp, b, t },
        Op::I64JumpSL {
            k: Bin::LeS,
            lp,
            b,
            t,
        } => Op::I64LeSJumpSL { lp, b, t },
        Op::I64JumpSL {
            k: Bin::LeU,
            lp,
            b,
            t,
        } => Op::I64LeUJumpSL { lp, b, t },
        Op::I64JumpSL {
            k: Bin::GeS,
            lp,
            b,
            t,
        } => Op::I64GeSJumpSL { lp, b, t },
        Op::I64JumpSL {
            k: Bin::GeU,
            lp,
            b,
            t,
        } => Op::I64GeUJumpSL { lp, b, t },
        Op::F64BinLL { k: FBin::Add, a, b } => Op::F64AddLL { a, b },
        Op::F64BinLL { k: FBin::Sub, a, b } => Op::F64SubLL { a, b },
        Op::F64BinLL { k: FBin::Mul, a, b } => Op::F64MulLL { a, b },
        Op::F64BinLL { k: FBin::Div, a, b } => Op::F64DivLL { a, b },
        Op::F64BinSL { k: FBin::Add, b } => Op::F64AddSL { b },
        Op::F64BinSL { k: FBin::Sub, b } => Op::F64SubSL { b },
        Op::F64BinSL { k: FBin::Mul, b } => Op::F64MulSL { b },
        Op::F64BinSL { k: FBin::Div, b } => Op::F64DivSL { b },
        Op::F64BinSC { k: FBin::Add, c } => Op::F64AddSC { c },
        Op::F64BinSC { k: FBin::Sub, c } => Op::F64SubSC { c },
        Op::F64BinSC { k: FBin::Mul, c } => Op::F64MulSC { c },
        Op::F64BinSC { k: FBin::Div, c } => Op::F64DivSC { c },
        Op::F64BinSM {
            k: FBin::Add,
            a,
            c,
            off,
        } => Op::F64AddSM { a, c, off },
        Op::F64BinSM {
            k: FBin::Sub,
            a,
            c,
            off,
        } => Op::F64SubSM { a, c, off },
        Op::F64BinSM {
            k: FBin::Mul,
            a,
            c,
            off,
        } => Op::F64MulSM { a, c, off },
        Op::F64BinSM {
            k: FBin::Div,
            a,
            c,
            off,
        } => Op::F64DivSM { a, c, off },
        Op::F64BinLM {
            k: FBin::Add,
            b,
            a,
            c,
        } => Op::F64AddLM { b, a, c },
        Op::F64BinLM {
            k: FBin::Sub,
            b,
            a,
            c,
        } => Op::F64SubLM { b, a, c },
        Op::F64BinLM {
            k: FBin::Mul,
            b,
            a,
            c,
        } => Op::F64MulLM { b, a, c },
        Op::F64BinLM {
            k: FBin::Div,
            b,
            a,
            c,
        } => Op::F64DivLM { b, a, c },
        Op::F64BinStore { k: FBin::Add, off } => Op::F64AddStore { off },
        Op::F64BinStore { k: FBin::Sub, off } => Op::F64SubStore { off },
        Op::F64BinStore { k: FBin::Mul, off } => Op::F64MulStore { off },
        Op::F64BinStore { k: FBin::Div, off } => Op::F64DivStore { off }, // END GENERATED
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lower_wat(wat: &str) -> Vec<FuncCode> {
        let m = crate::parse::parse(wat.as_bytes()).expect("valid module");
        (0..m.bodies.len())
            .map(|i| {
                let body = m.body_reader(i).unwrap();
                lower_function(&m.meta, m.meta.num_imported_funcs + i as u32, &body).unwrap()
            })
            .collect()
    }

    #[test]
    fn dead_code_is_dropped_but_structure_tracked() {
        let code = lower_wat(
            r#"(module (func (result i32)
                (block (result i32)
                    (br 0 (i32.const 1))
                    (block (loop (if (i32.const 0) (then nop) (else unreachable))))
                    (i32.add (i32.const 2) (i32.const 3)))))"#,
        );
        let ops = &code[0].ops;
        // const 1, (jump to block end elided into a simple jump), return.
        assert_eq!(ops[0], Op::Const(1));
        assert!(matches!(ops[1], Op::Jump(2)), "{ops:?}");
        // The dead loop has no back-edge: a return that skips the profiling flush.
        assert_eq!(ops[2], Op::ReturnNoLoop);
        assert_eq!(ops.len(), 3);
        assert_eq!(code[0].offsets.len(), ops.len());
    }

    #[test]
    fn branch_heights_and_loop_back_edges() {
        let code = lower_wat(
            r#"(module (func (param i32) (result i32) (local i32)
                (loop $l
                    (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
                (block $b (result i32)
                    (i32.const 9)
                    (i32.const 7)
                    (br_if $b (local.get 0))
                    (drop))))"#,
        );
        let c = &code[0];
        assert_eq!(c.num_locals, 2);
        // `local.tee` feeding `br_if`: the subtraction writes the local, the loop
        // back-edge tests it.
        assert!(
            c.ops.contains(&Op::I32SubLCD { a: 0, c: 1, d: 0 }),
            "{:?}",
            c.ops
        );
        assert!(
            c.ops.contains(&Op::I32NeJumpLC {
                lp: true,
                a: 0,
                c: 0,
                t: 0
            }),
            "{:?}",
            c.ops
        );
        // The br_if with an extra value below the result must move it: height 2, keep 1.
        assert!(
            c.ops.iter().any(|op| matches!(
                op,
                Op::BrIf {
                    height: 2,
                    keep: 1,
                    ..
                }
            )),
            "{:?}",
            c.ops
        );
        assert_eq!(c.max_height, 5);
    }

    #[test]
    fn peephole_fuses_but_never_across_a_label() {
        let code = lower_wat(
            r#"(module (memory 1) (func (param i32 i32) (result i32)
                (block $done
                    (loop $next
                        (br_if $done (i32.gt_s (local.get 0) (local.get 1)))
                        (local.set 0 (i32.add (local.get 0) (i32.const 1)))
                        (br_if $next (i32.lt_u (local.get 0) (i32.const 9)))))
                (i32.load offset=4 (local.get 1))))"#,
        );
        let ops = &code[0].ops;
        assert!(
            matches!(
                ops[0],
                Op::I32GtSJumpLL {
                    lp: false,
                    a: 0,
                    b: 1,
                    ..
                }
            ),
            "{ops:?}"
        );
        assert!(ops.contains(&Op::I32AddLCD { a: 0, c: 1, d: 0 }), "{ops:?}");
        assert!(
            ops.contains(&Op::I32LtUJumpLC {
                lp: true,
                a: 0,
                c: 9,
                t: 0
            }),
            "{ops:?}"
        );
        assert!(
            ops.iter()
                .any(|op| matches!(op, Op::LoadL { a: 1, off: 4, .. }))
        );
        assert_eq!(code[0].offsets.len(), ops.len());
        // A loop header right after `local.get` keeps the two apart.
        let code = lower_wat(
            r#"(module (func (param i32) (result i32)
                (local.get 0)
                (loop (param i32) (result i32) (i32.const 1) (i32.add))))"#,
        );
        assert_eq!(code[0].ops[0], Op::LocalGet(0), "{:?}", code[0].ops);
        assert!(
            matches!(code[0].ops[1], Op::I32AddSC { c: 1 }),
            "{:?}",
            code[0].ops
        );
    }

    #[test]
    fn stores_fuse_local_and_small_constant_operands() {
        let code = lower_wat(
            r#"(module (memory 1) (func (param i32 i32)
                (i32.store offset=8 (local.get 0) (local.get 1))
                (i32.store8 (i32.add (local.get 0) (i32.const 1)) (i32.const 7))
                (i64.store (local.get 1) (i64.const -1))))"#,
        );
        let ops = &code[0].ops;
        use super::Store;
        assert_eq!(
            ops[0],
            Op::StoreLL {
                k: Store::S32,
                a: 0,
                b: 1,
                off: 8
            },
            "{ops:?}"
        );
        assert_eq!(ops[1], Op::I32AddLC { a: 0, c: 1 }, "{ops:?}");
        assert_eq!(
            ops[2],
            Op::StoreSC {
                k: Store::S8,
                c: 7,
                off: 0
            },
            "{ops:?}"
        );
        let code2 = lower_wat(
            r#"(module (memory 1) (func (param i32) (result i32)
                (i32.load offset=4 (i32.add (local.get 0) (i32.const -8)))))"#,
        );
        assert_eq!(
            code2[0].ops[0],
            Op::LoadLC {
                k: Load::I32,
                a: 0,
                c: (-8i32) as u32,
                off: 4
            },
            "{:?}",
            code2[0].ops
        );
        // A constant wider than 32 bits stays a separate op.
        assert_eq!(ops[4], Op::Const(u64::MAX), "{ops:?}");
        assert_eq!(ops[5], Op::I64Store(0), "{ops:?}");
        assert_eq!(code[0].offsets.len(), ops.len());
    }

    #[test]
    fn loops_with_exit_test_at_the_header_are_rotated() {
        let code = lower_wat(
            r#"(module (func (param i32 i32) (result i32) (local i32)
                (block $done
                    (loop $next
                        (br_if $done (i32.le_s (local.get 1) (i32.const 0)))
                        (local.set 2 (i32.add (local.get 2) (local.get 0)))
                        (local.set 1 (i32.sub (local.get 1) (i32.const 1)))
                        (br $next)))
                (local.get 2)))"#,
        );
        let ops = &code[0].ops;
        assert_eq!(
            ops[..5],
            [
                Op::I32LeSJumpLC {
                    lp: false,
                    a: 1,
                    c: 0,
                    t: 4
                },
                Op::I32AddLLD { a: 2, b: 0, d: 2 },
                Op::I32SubLCD { a: 1, c: 1, d: 1 },
                // The back-edge tests the negated exit condition itself.
                Op::I32GtSJumpLC {
                    lp: true,
                    a: 1,
                    c: 0,
                    t: 1
                },
                Op::LocalGet(2),
            ],
            "{ops:?}"
        );
    }

    #[test]
    fn only_functions_without_back_edges_return_without_flushing() {
        let code = lower_wat(
            r#"(module
                (func (param i32) (result i32)
                    (if (local.get 0) (then (return (i32.const 1))))
                    (i32.const 2))
                (func (param i32) (result i32)
                    (loop $l (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
                    (if (local.get 0) (then (return (i32.const 1))))
                    (i32.const 2))
                (func (param i32)
                    (block $b (loop $l (br_table $b $l (local.get 0))))))"#,
        );
        let returns = |i: usize| -> (usize, usize) {
            let ops = &code[i].ops;
            (
                ops.iter().filter(|op| **op == Op::Return).count(),
                ops.iter().filter(|op| **op == Op::ReturnNoLoop).count(),
            )
        };
        // No loop: every return (the early one and the end) skips the flush.
        assert_eq!(returns(0), (0, 2), "{:?}", code[0].ops);
        // A back-edge anywhere in the body: every return flushes.
        assert_eq!(returns(1), (2, 0), "{:?}", code[1].ops);
        // A back-edge that only a br_table takes counts too.
        assert_eq!(returns(2), (1, 0), "{:?}", code[2].ops);
    }

    #[test]
    fn br_table_to_function_label_returns() {
        let code = lower_wat(
            r#"(module (func (param i32) (result i32)
                (block (result i32) (br_table 0 1 (i32.const 5) (local.get 0)))))"#,
        );
        let c = &code[0];
        assert_eq!(c.br_tables.len(), 2);
        // The function label: a return appended after the body's own.
        let ret = c.br_tables[1].target as usize;
        assert_eq!(ret, c.ops.len() - 1);
        assert_eq!(c.ops[ret], Op::ReturnNoLoop);
        assert_eq!((c.br_tables[1].height, c.br_tables[1].keep), (0, 1));
        assert_ne!(c.br_tables[0].target as usize, ret);
    }
}
