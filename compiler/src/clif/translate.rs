//! The operator translator: one wasm function body → one CLIF function.
//!
//! State while walking the body:
//!
//! * the **value stack** holds CLIF `Value`s (wasm locals are cranelift-frontend `Variable`s,
//!   so SSA construction and phis are the frontend's job);
//! * the **control stack** holds one `Frame` per open `block`/`loop`/`if` plus the function
//!   itself. Block results travel as parameters of the frame's `end` block; loop parameters as
//!   parameters of the loop header; `if` parameters are plain values that dominate both arms;
//! * **reachability**: after `br`, `br_table`, `return` or `unreachable` the rest of the
//!   enclosing construct is dead; dead operators are skipped (only nesting is tracked) until
//!   the `else`/`end` that makes code live again. A block's `end` is live only if something
//!   branched to it or fell through.
//!
//! Every trap is an explicit check that branches to a per-code cold block calling the
//! `RAISE_TRAP` libcall (see [`super::env::ClifEnv::raise_trap`]); no instruction relies on a
//! CPU fault: divisions are guarded (zero, `INT_MIN / -1`), float→int conversions are
//! range-checked, `srem` by -1 is rewritten to `srem` by 1.

use std::collections::HashMap;

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::types::{F32, F64, I8, I16, I32, I64};
use cranelift_codegen::ir::{
    self, Block, BlockArg, Function, InstBuilder, MemFlagsData, SigRef, SourceLoc, Type, Value,
};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Switch, Variable};
use runtime_loader::TrapCode;
use runtime_loader::abi::{self, libcall};
use runtime_loader::format::MemoryMode;
use wasmparser::{BlockType, FunctionBody, MemArg, Operator};

use super::env::ClifEnv;
use super::{ModuleInfo, TranslateError, clif_type, native_signature};

type Result<T> = core::result::Result<T, TranslateError>;

#[path = "simd.rs"]
mod simd;

#[path = "bounds.rs"]
mod bounds;
#[path = "counted_loop.rs"]
mod counted_loop;
#[path = "exn.rs"]
mod exn;
pub use bounds::Bounds;

/// Reusable translation state (the frontend's scratch buffers survive across functions).
#[derive(Default)]
pub struct FuncTranslator {
    ctx: FunctionBuilderContext,
    memory_mode: MemoryMode,
    bounds: Bounds,
    /// Instructions the last translated function spent on bounded-execution checks.
    check_insts: usize,
}

impl FuncTranslator {
    /// A translator with empty scratch buffers (checked memory mode).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets how the functions translated from now on access linear memory:
    /// [`MemoryMode::Checked`] (explicit bounds checks, the default) or [`MemoryMode::Guard`]
    /// (no checks: the memory is a guard-page reservation and an out-of-bounds access faults
    /// at a load/store carrying Cranelift's `HEAP_OUT_OF_BOUNDS` trap code, which the
    /// embedder must register with `runtime_loader::guard`; see [`heap_trap_sites`]).
    pub fn set_memory_mode(&mut self, mode: MemoryMode) {
        self.memory_mode = mode;
    }

    /// Sets the bounded-execution checks (fuel, interrupt) of the functions translated from
    /// now on; none by default (docs/ABI.md, "Bounded execution").
    pub fn set_bounds(&mut self, bounds: Bounds) {
        self.bounds = bounds;
    }

    /// Instructions of the function translated last that belong to its fuel and interrupt
    /// checks (0 without checks): what the inliner leaves out of a callee's size, so a
    /// callee is inlined with checks as it is without them.
    pub fn check_insts(&self) -> usize {
        self.check_insts
    }

    /// The memory mode set with [`FuncTranslator::set_memory_mode`].
    pub fn memory_mode(&self) -> MemoryMode {
        self.memory_mode
    }

    /// Translates the body of defined function `func_index` into `func`, whose signature is
    /// set to the function's native signature.
    ///
    /// # Errors
    ///
    /// [`TranslateError::Unsupported`] for operators outside WebAssembly 2.0 (SIMD, tail
    /// calls, GC, ...), [`TranslateError::Parse`] if the body cannot be decoded.
    pub fn translate(
        &mut self,
        info: &ModuleInfo,
        env: &mut dyn ClifEnv,
        func_index: u32,
        body: &FunctionBody<'_>,
        func: &mut Function,
    ) -> Result<()> {
        self.translate_inner(info, env, func_index, body, None, func)
    }

    /// Translates an **OSR entry** of defined function `func_index` for the `loop` operator
    /// at module offset `loop_offset` (docs/ABI.md, "On-stack replacement"): a function with
    /// the array signature `(vmctx, callee, frame: *mut u64) -> u32` that loads the locals
    /// from `frame[0..num_locals]`, then the `below` operand values of enclosing blocks
    /// that sit under the loop (bottom first), then the loop's parameters from the slots
    /// after them, jumps to the loop header, runs the rest of the body (everything before
    /// the header is unreachable) and at return writes the results to `frame[0..results]`
    /// and returns 0. Traps leave through `RAISE_TRAP` as usual, so the entry must be
    /// called through `trap::enter`.
    ///
    /// # Errors
    ///
    /// As [`FuncTranslator::translate`], and [`TranslateError::Invalid`] if no live `loop`
    /// starts at `loop_offset` or the operand stack under it does not hold `below` values.
    #[allow(clippy::too_many_arguments)]
    pub fn translate_osr(
        &mut self,
        info: &ModuleInfo,
        env: &mut dyn ClifEnv,
        func_index: u32,
        body: &FunctionBody<'_>,
        loop_offset: u32,
        below: u32,
        func: &mut Function,
    ) -> Result<()> {
        self.translate_inner(
            info,
            env,
            func_index,
            body,
            Some((loop_offset, below)),
            func,
        )
    }

    fn translate_inner(
        &mut self,
        info: &ModuleInfo,
        env: &mut dyn ClifEnv,
        func_index: u32,
        body: &FunctionBody<'_>,
        osr: Option<(u32, u32)>,
        func: &mut Function,
    ) -> Result<()> {
        let ty = info
            .func_type(func_index)
            .ok_or(TranslateError::Invalid("function index out of range"))?;
        func.signature = match osr {
            None => native_signature(ty, env.call_conv())?,
            Some(_) => super::array_signature(env.call_conv()),
        };
        let b = FunctionBuilder::new(func, &mut self.ctx);
        let mut t = Translator {
            b,
            env,
            info,
            vmctx: Value::from_u32(0),
            callee: Value::from_u32(0),
            locals: Vec::new(),
            stack: Vec::new(),
            control: Vec::new(),
            reachable: true,
            dead_depth: 0,
            trap_blocks: Vec::new(),
            status_block: None,
            sigs: HashMap::new(),
            back_edge_counter: None,
            guard: self.memory_mode == MemoryMode::Guard,
            heap: None,
            offset: 0,
            trap_sites: HashMap::new(),
            pending_sites: Vec::new(),
            checked: Vec::new(),
            bounds: self.bounds,
            bounds_ctx: None,
            check_insts: 0,
            fuel_var: None,
            version: None,
            unchecked: false,
            chunk: None,
            exn: None,
            tries: Vec::new(),
            osr: osr.map(|(offset, below)| Osr {
                offset,
                below: below as usize,
                frame: Value::from_u32(0),
                header: None,
                pre: None,
            }),
        };
        let r = t.run(ty, body).and_then(|()| {
            if t.osr.as_ref().is_some_and(|o| o.header.is_some()) {
                Err(TranslateError::Invalid("no live loop at the OSR offset"))
            } else {
                Ok(())
            }
        });
        self.check_insts = 0;
        match r {
            Ok(()) => {
                self.check_insts = t.finish();
                Ok(())
            }
            Err(e) => {
                // A translation abandoned midway leaves the frontend's SSA state behind
                // (only `finalize` clears it): the next function would inherit it (a
                // refused OSR entry then broke the next compile of the same tier).
                drop(t);
                self.ctx = FunctionBuilderContext::new();
                Err(e)
            }
        }
    }
}

/// Translates one function with a fresh [`FuncTranslator`].
///
/// # Errors
///
/// See [`FuncTranslator::translate`].
pub fn translate_function(
    info: &ModuleInfo,
    env: &mut dyn ClifEnv,
    func_index: u32,
    body: &FunctionBody<'_>,
    func: &mut Function,
) -> Result<()> {
    FuncTranslator::new().translate(info, env, func_index, body, func)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum FrameKind {
    Function,
    Block,
    Loop,
    If,
}

/// One open control construct.
struct Frame {
    kind: FrameKind,
    /// Continuation after `end`; its parameters are the construct's results.
    end: Block,
    /// Loop header (branch target of a loop); equal to `end` for other kinds.
    header: Block,
    num_params: usize,
    num_results: usize,
    /// Value-stack height below the construct's parameters.
    height: usize,
    /// An `if` whose `else` has not been seen yet: the block of the false arm.
    else_block: Option<Block>,
    /// The `if`'s parameter values (re-pushed at `else`).
    else_args: Vec<Value>,
    /// Whether anything branches to (or falls through into) `end`.
    end_reachable: bool,
}

impl Frame {
    fn branch_target(&self) -> (Block, usize) {
        if self.kind == FrameKind::Loop {
            (self.header, self.num_params)
        } else {
            (self.end, self.num_results)
        }
    }
}

struct Translator<'a, 'f> {
    b: FunctionBuilder<'f>,
    env: &'a mut dyn ClifEnv,
    info: &'a ModuleInfo,
    vmctx: Value,
    /// The function's own `*const FuncRef` (second parameter).
    callee: Value,
    locals: Vec<(Variable, Type)>,
    stack: Vec<Value>,
    control: Vec<Frame>,
    reachable: bool,
    /// Nesting depth of constructs opened inside dead code.
    dead_depth: u32,
    /// Cold blocks raising a fixed trap code, filled in at the end.
    trap_blocks: Vec<(TrapCode, Block)>,
    /// Cold block raising the trap code passed as its parameter (libcall statuses).
    status_block: Option<Block>,
    /// Imported native signatures, by type index.
    sigs: HashMap<u32, SigRef>,
    /// Address of the back-edge counter when the code counts (see `ClifEnv::profile_counters`).
    back_edge_counter: Option<usize>,
    /// Guard-page memory mode: no explicit bounds checks, faulting accesses.
    guard: bool,
    /// Memory 0's base address and (checked mode) byte length, kept in variables when the
    /// body accesses memory: loaded once at entry and reloaded after anything that may
    /// grow or move the memory (calls, `memory.grow`; guard-mode memories never move).
    heap: Option<(Variable, Option<Variable>)>,
    /// Module offset of the operator being translated (trap blocks receive it).
    offset: u32,
    /// Cold per-site blocks that pass their offset to the shared trap block of a code.
    trap_sites: HashMap<(u32, u32), Block>,
    /// Trap-site blocks still to be filled: `(block, code, offset)`.
    pending_sites: Vec<(Block, TrapCode, u32)>,
    /// Checked mode: `(wasm index value, end)` pairs already bounds-checked on every path
    /// to the current position (index + end <= length holds); forgotten at control-flow
    /// merges and whenever the length may change.
    checked: Vec<(Value, u64)>,
    /// Translating an OSR entry (see [`FuncTranslator::translate_osr`]).
    osr: Option<Osr>,
    /// Bounded-execution checks to emit (`bounds.rs`).
    bounds: Bounds,
    /// With checks: the trap context address, loaded once in the entry block.
    bounds_ctx: Option<Value>,
    /// Instructions emitted for the checks so far (`FuncTranslator::check_insts`).
    check_insts: usize,
    /// With fuel: the function's fuel counter (`bounds.rs`), kept in a register between
    /// the points that spill it to the trap context.
    fuel_var: Option<Variable>,
    /// A counted loop being translated twice (`bounds.rs`, loop versioning).
    version: Option<Version>,
    /// Translating the unchecked copy of a versioned loop: back-edges only count fuel.
    unchecked: bool,
    /// The interrupt chunks of the unchecked copy being translated (`bounds.rs`).
    chunk: Option<bounds::Chunk>,
    /// Exception handling: the state of an aware function (`exn.rs`); `None` for every
    /// function of a module without exceptions.
    exn: Option<exn::ExnState>,
    /// The open `try_table`s, innermost last (`exn.rs`).
    tries: Vec<exn::TryFrame>,
}

/// State of a versioned loop: the checked copy is translated first, then the operators
/// of the loop are read again for the unchecked copy, which joins the same `end` block.
struct Version {
    /// Control-stack depth with the loop's frame pushed.
    depth: usize,
    /// The loop's block type.
    blockty: BlockType,
    /// Entry of the unchecked copy (the guard branches to it).
    fast: Block,
    /// The value stack at the loop's entry.
    stack: Vec<Value>,
    /// Set when the checked copy is done: the main loop rewinds its reader.
    rewind: bool,
    /// Translating the second (unchecked) copy.
    second: bool,
    /// The unchecked copy runs in interrupt chunks (`bounds.rs`).
    chunk: Option<counted_loop::CountedLoop>,
}

/// State of an OSR entry translation.
struct Osr {
    /// Module offset of the target `loop` operator.
    offset: u32,
    /// Operand values of enclosing blocks under the loop (frame slots after the locals).
    below: usize,
    /// The interpreter frame (third parameter).
    frame: Value,
    /// The target loop's header, created at entry; taken when the loop is translated.
    header: Option<Block>,
    /// The block the entry jumps to, filled when the loop is translated (the types of the
    /// values under it are known then): loads them and the loop's parameters from the
    /// frame and jumps to the header.
    pre: Option<Block>,
}

/// Value slots (8 bytes each) a value of CLIF type `ty` takes: 2 for a `v128`.
pub(crate) fn slots_of(ty: Type) -> usize {
    if ty.is_vector() { 2 } else { 1 }
}

/// Flags of a value-slot access: slots are 8-aligned, so a `v128` is not naturally aligned.
pub(crate) fn slot_flags(ty: Type) -> MemFlagsData {
    if ty.is_vector() {
        MemFlagsData::new().with_notrap()
    } else {
        MemFlagsData::trusted()
    }
}

fn block_args(vals: &[Value]) -> Vec<BlockArg> {
    vals.iter().map(|v| BlockArg::Value(*v)).collect()
}

fn heap_flags(guard: bool) -> MemFlagsData {
    if guard {
        // The access itself is the bounds check: Cranelift records a trap site for it.
        MemFlagsData::new().with_trap_code(Some(ir::TrapCode::HEAP_OUT_OF_BOUNDS))
    } else {
        // Bounds were checked explicitly; the access itself never faults.
        MemFlagsData::new().with_notrap()
    }
}

/// The trap sites a guard-mode function relies on: offsets (from the function's start) of
/// the loads and stores whose faults are wasm out-of-bounds traps, from the compiled code's
/// trap records.
pub fn heap_trap_sites(traps: &[cranelift_codegen::MachTrap]) -> Vec<(u32, TrapCode)> {
    traps
        .iter()
        .filter(|t| t.code == ir::TrapCode::HEAP_OUT_OF_BOUNDS)
        .map(|t| (t.offset, TrapCode::MemoryOutOfBounds))
        .collect()
}

/// [`heap_trap_sites`] with the wasm code offset of each site (from the compiled code's
/// source locations, which the translator sets to each operator's module offset; 0 when
/// unknown): `(code offset, trap code, wasm offset)`.
pub fn heap_trap_sites_located(
    code: &cranelift_codegen::CompiledCode,
) -> Vec<(u32, TrapCode, u32)> {
    let srclocs = code.buffer.get_srclocs_sorted();
    heap_trap_sites(code.buffer.traps())
        .into_iter()
        .map(|(offset, trap)| {
            let i = srclocs.partition_point(|l| l.end <= offset);
            let wasm = srclocs
                .get(i)
                .filter(|l| l.start <= offset && !l.loc.is_default())
                .map_or(0, |l| l.loc.bits());
            (offset, trap, wasm)
        })
        .collect()
}

impl<'a, 'f> Translator<'a, 'f> {
    // ----------------------------------------------------------------------------------
    // Setup and teardown
    // ----------------------------------------------------------------------------------

    fn run(&mut self, ty: &wasmparser::FuncType, body: &FunctionBody<'_>) -> Result<()> {
        let entry = self.b.create_block();
        self.b.append_block_params_for_function_params(entry);
        self.b.switch_to_block(entry);
        self.b.seal_block(entry);
        let params = self.b.block_params(entry).to_vec();
        self.vmctx = params[0];
        self.callee = params[1];
        self.exn_setup(params[1]);
        let frame = self.osr.as_mut().map(|o| {
            o.frame = params[2];
            params[2]
        });
        for (i, p) in ty.params().iter().enumerate() {
            let cty = clif_type(*p)?;
            let var = self.b.declare_var(cty);
            let v = match frame {
                Some(f) => self.load_slot(f, self.local_slots(), cty)?,
                None => params[i + 2],
            };
            self.b.def_var(var, v);
            self.locals.push((var, cty));
        }
        let mut locals = body.get_locals_reader()?;
        for _ in 0..locals.get_count() {
            let (count, vty) = locals.read()?;
            let cty = clif_type(vty)?;
            for _ in 0..count {
                let var = self.b.declare_var(cty);
                let v = match frame {
                    Some(f) => self.load_slot(f, self.local_slots(), cty)?,
                    None => self.zero(cty),
                };
                self.b.def_var(var, v);
                self.locals.push((var, cty));
            }
        }

        // Entry checks (stack, counters) are located at the body's first operator.
        let first_op = body.get_operators_reader()?.original_position();
        self.offset = u32::try_from(first_op).unwrap_or(u32::MAX);

        // Before the first trap site: trap exits spill the fuel variable. Fuel lives in a
        // register only in functions with loops (bounds.rs).
        let has_loop = self.osr.is_some() || has_loop(body)?;
        self.load_bounds_ctx(has_loop);
        // Stack overflow check: the frame is already allocated here, so compare the current
        // stack pointer with the store's limit.
        let sp = self.b.ins().get_stack_pointer(I64);
        let limit = self.env.stack_limit(&mut self.b, self.vmctx);
        let overflow = self.b.ins().icmp(IntCC::UnsignedLessThan, sp, limit);
        self.trap_if(overflow, TrapCode::StackOverflow);
        // An OSR entry continues a call the interpreter already charged.
        if self.osr.is_none() {
            self.bound_checks();
        }

        if let Some((calls, back_edges)) = self.env.profile_counters() {
            self.back_edge_counter = Some(back_edges);
            // An OSR entry continues a call the interpreter already counted.
            if self.osr.is_none() {
                let one = self.b.ins().iconst(I64, 1);
                let count = self.add_to_counter(calls, one);
                if let Some((hook, data, period)) = self.env.tier_hook() {
                    self.call_tier_hook(count, calls, hook, data, period);
                }
            }
        }

        if self.info.has_memory && uses_memory(body)? {
            let base = self.b.declare_var(I64);
            let len = (!self.guard).then(|| self.b.declare_var(I64));
            self.heap = Some((base, len));
            self.load_heap();
        }

        let results: Vec<Type> = ty
            .results()
            .iter()
            .map(|r| clif_type(*r))
            .collect::<Result<_>>()?;
        let end = self.b.create_block();
        for r in &results {
            self.b.append_block_param(end, *r);
        }
        self.control.push(Frame {
            kind: FrameKind::Function,
            end,
            header: end,
            num_params: 0,
            num_results: results.len(),
            height: 0,
            else_block: None,
            else_args: Vec::new(),
            end_reachable: false,
        });

        if let Some(frame) = frame {
            self.osr_dispatch(body, frame)?;
        }

        let mut ops = body.get_operators_reader()?;
        // The reader positioned after the `loop` operator of a versioned loop.
        let mut rewind_to = None;
        while !self.control.is_empty() {
            let offset = ops.original_position();
            let op = ops.read()?;
            self.offset = u32::try_from(offset).unwrap_or(u32::MAX);
            self.b.set_srcloc(SourceLoc::new(self.offset));
            if self.chunk.is_some() && self.chunk_op(&op)? {
                continue;
            }
            if self.reachable {
                if let Operator::Loop { blockty } = op
                    && self.version.is_none()
                    && self.osr.is_none()
                    && self.exn.is_none()
                    && self.bounds.any()
                    && let Some(cl) = counted_loop::analyse(ops.clone(), blockty)
                {
                    self.checked.clear();
                    self.begin_versioned_loop(&cl, blockty)?;
                    rewind_to = Some(ops.clone());
                    continue;
                }
                self.translate_op(op)?;
            } else {
                self.translate_dead_op(op)?;
            }
            if let Some(v) = self.version.as_mut()
                && v.rewind
            {
                v.rewind = false;
                ops = rewind_to
                    .take()
                    .ok_or(TranslateError::Invalid("versioned loop without its reader"))?;
            }
        }
        Ok(())
    }

    /// Loads interpreter slot `slot` of the OSR frame as a `ty` value (i32/f32 are the low
    /// 32 bits of the little-endian slot).
    fn load_slot(&mut self, frame: Value, slot: usize, ty: Type) -> Result<Value> {
        let off =
            i32::try_from(slot * 8).map_err(|_| TranslateError::Invalid("too many locals"))?;
        Ok(self.b.ins().load(ty, slot_flags(ty), frame, off))
    }

    /// OSR entry: jumps to a block that `translate_loop` fills (loads of the values under
    /// the loop and of its parameters, a jump to its header, created here), then continues
    /// the translation in a block no edge reaches (the code before the header).
    fn osr_dispatch(&mut self, body: &FunctionBody<'_>, _frame: Value) -> Result<()> {
        let target = self.osr.as_ref().map_or(0, |o| o.offset);
        let mut ops = body.get_operators_reader()?;
        let mut blockty = None;
        while !ops.eof() {
            let offset = ops.original_position();
            let op = ops.read()?;
            if offset == u64::from(target) {
                if let Operator::Loop { blockty: bt } = op {
                    blockty = Some(bt);
                }
                break;
            }
        }
        let bt = blockty.ok_or(TranslateError::Invalid("no loop at the OSR offset"))?;
        let (params, _) = self.block_types(bt)?;
        let header = self.new_block_with(&params);
        let pre = self.b.create_block();
        self.b.ins().jump(pre, &[]);
        self.b.seal_block(pre);
        if let Some(o) = self.osr.as_mut() {
            o.header = Some(header);
            o.pre = Some(pre);
        }
        let dead = self.b.create_block();
        self.b.switch_to_block(dead);
        self.b.seal_block(dead);
        Ok(())
    }

    /// Returns `vals` from the function: natively, or (OSR entry) by storing them to the
    /// frame's first slots and returning status 0.
    fn emit_return(&mut self, vals: &[Value]) {
        self.fuel_spill();
        let Some(frame) = self.osr.as_ref().map(|o| o.frame) else {
            self.b.ins().return_(vals);
            return;
        };
        let mut slot = 0;
        for v in vals {
            let ty = self.b.func.dfg.value_type(*v);
            let v = match ty {
                I32 => self.b.ins().uextend(I64, *v),
                F32 => {
                    let bits = self.b.ins().bitcast(I32, MemFlagsData::new(), *v);
                    self.b.ins().uextend(I64, bits)
                }
                _ => *v,
            };
            self.b
                .ins()
                .store(slot_flags(ty), v, frame, (slot * 8) as i32);
            slot += slots_of(ty);
        }
        let ok = self.b.ins().iconst(I32, 0);
        self.b.ins().return_(&[ok]);
    }

    /// Emits the trap exits and finalizes the function; returns the instructions that
    /// belong to bounded-execution checks (`FuncTranslator::check_insts`), their trap
    /// exits included.
    fn finish(mut self) -> usize {
        for (site, code, offset) in std::mem::take(&mut self.pending_sites) {
            let trap = self.trap_block(code);
            self.b.switch_to_block(site);
            let offset = self.b.ins().iconst(I32, i64::from(offset));
            self.b.ins().jump(trap, &[BlockArg::Value(offset)]);
        }
        for (code, block) in std::mem::take(&mut self.trap_blocks) {
            let before = self.b.func.dfg.num_insts();
            self.b.switch_to_block(block);
            let offset = self.b.block_params(block)[0];
            self.fuel_spill();
            self.env
                .record_trap_site(&mut self.b, self.vmctx, self.callee, offset);
            let code_value = self.b.ins().iconst(I32, i64::from(code as u32));
            self.env.raise_trap(&mut self.b, self.vmctx, code_value);
            self.b.ins().trap(ir::TrapCode::unwrap_user(1));
            if matches!(code, TrapCode::Interrupted | TrapCode::OutOfFuel) {
                self.check_insts += self.b.func.dfg.num_insts() - before;
            }
        }
        self.finish_exn();
        if let Some(block) = self.status_block {
            self.b.switch_to_block(block);
            let code = self.b.block_params(block)[0];
            let offset = self.b.block_params(block)[1];
            self.fuel_spill();
            self.env
                .record_trap_site(&mut self.b, self.vmctx, self.callee, offset);
            self.env.raise_trap(&mut self.b, self.vmctx, code);
            self.b.ins().trap(ir::TrapCode::unwrap_user(1));
        }
        self.b.seal_all_blocks();
        let config = self.env.frontend_config();
        self.b.finalize(config);
        self.check_insts
    }

    /// (Re)loads the heap variables from the memory definition.
    fn load_heap(&mut self) {
        self.checked.clear();
        let Some((base_var, len_var)) = self.heap else {
            return;
        };
        match len_var {
            Some(len_var) => {
                let (base, len) = self.env.memory_base_bound(&mut self.b, self.vmctx);
                self.b.def_var(base_var, base);
                self.b.def_var(len_var, len);
            }
            None => {
                let base = self.env.memory_base(&mut self.b, self.vmctx);
                self.b.def_var(base_var, base);
            }
        }
    }

    /// After a call or `memory.grow`: a checked-mode memory may have grown or moved.
    fn heap_may_have_changed(&mut self) {
        if !self.guard {
            self.load_heap();
        }
    }

    /// `*(addr as *mut u64) += delta` (profile counters; single-threaded store); returns the
    /// new count.
    fn add_to_counter(&mut self, addr: usize, delta: Value) -> Value {
        let a = self.b.ins().iconst(I64, addr as i64);
        let v = self.b.ins().load(I64, MemFlagsData::trusted(), a, 0);
        let v = self.b.ins().iadd(v, delta);
        self.b.ins().store(MemFlagsData::trusted(), v, a, 0);
        v
    }

    /// Calls `hook(data, calls_addr)` in a cold block when `count` is a multiple of `period`.
    fn call_tier_hook(
        &mut self,
        count: Value,
        calls_addr: usize,
        hook: usize,
        data: usize,
        period: u64,
    ) {
        let mask = period.max(1).next_power_of_two() - 1;
        let low = self.b.ins().band_imm_s(count, mask as i64);
        let call = self.b.create_block();
        let cont = self.b.create_block();
        self.b.set_cold_block(call);
        self.b.ins().brif(low, cont, &[], call, &[]);
        self.b.seal_block(call);
        self.b.switch_to_block(call);
        let mut sig = ir::Signature::new(self.env.call_conv());
        sig.params.push(ir::AbiParam::new(I64));
        sig.params.push(ir::AbiParam::new(I64));
        let sig = self.b.import_signature(sig);
        let f = self.b.ins().iconst(I64, hook as i64);
        let d = self.b.ins().iconst(I64, data as i64);
        let c = self.b.ins().iconst(I64, calls_addr as i64);
        self.b.ins().call_indirect(sig, f, &[d, c]);
        self.b.ins().jump(cont, &[]);
        self.b.seal_block(cont);
        self.b.switch_to_block(cont);
    }

    /// Counts a taken back-edge to `depth` if that is a loop and the code counts.
    fn count_back_edge(&mut self, depth: u32, taken: Option<Value>) -> Result<()> {
        let Some(addr) = self.back_edge_counter else {
            return Ok(());
        };
        if self.frame_at(depth)?.kind != FrameKind::Loop {
            return Ok(());
        }
        let delta = match taken {
            None => self.b.ins().iconst(I64, 1),
            Some(cond) => {
                let c = self.b.ins().icmp_imm_s(IntCC::NotEqual, cond, 0);
                self.b.ins().uextend(I64, c)
            }
        };
        self.add_to_counter(addr, delta);
        Ok(())
    }

    /// Value slots taken by the locals declared so far (OSR frame layout).
    fn local_slots(&self) -> usize {
        self.locals.iter().map(|(_, t)| slots_of(*t)).sum()
    }

    fn zero(&mut self, ty: Type) -> Value {
        match ty {
            F32 => self.b.ins().f32const(0.0),
            F64 => self.b.ins().f64const(0.0),
            ty if ty.is_vector() => simd::v128_const(&mut self.b, [0; 16]),
            _ => self.b.ins().iconst(ty, 0),
        }
    }

    // ----------------------------------------------------------------------------------
    // Value stack
    // ----------------------------------------------------------------------------------

    fn push(&mut self, v: Value) {
        self.stack.push(v);
    }

    fn pop(&mut self) -> Result<Value> {
        self.stack
            .pop()
            .ok_or(TranslateError::Invalid("value stack underflow"))
    }

    fn popn(&mut self, n: usize) -> Result<Vec<Value>> {
        let at = self
            .stack
            .len()
            .checked_sub(n)
            .ok_or(TranslateError::Invalid("value stack underflow"))?;
        Ok(self.stack.split_off(at))
    }

    fn peekn(&self, n: usize) -> Result<&[Value]> {
        let at = self
            .stack
            .len()
            .checked_sub(n)
            .ok_or(TranslateError::Invalid("value stack underflow"))?;
        Ok(&self.stack[at..])
    }

    // ----------------------------------------------------------------------------------
    // Traps
    // ----------------------------------------------------------------------------------

    fn trap_block(&mut self, code: TrapCode) -> Block {
        if let Some((_, b)) = self.trap_blocks.iter().find(|(c, _)| *c == code) {
            return *b;
        }
        let block = self.b.create_block();
        self.b.append_block_param(block, I32);
        self.b.set_cold_block(block);
        self.trap_blocks.push((code, block));
        block
    }

    /// The current operator's offset, as the argument of a trap block.
    fn offset_arg(&mut self) -> BlockArg {
        BlockArg::Value(self.b.ins().iconst(I32, i64::from(self.offset)))
    }

    /// The cold block that raises `code` at the current operator: it passes the offset to
    /// the code's shared trap block, so the hot path carries no trap bookkeeping.
    fn trap_site(&mut self, code: TrapCode) -> Block {
        let key = (code as u32, self.offset);
        if let Some(b) = self.trap_sites.get(&key) {
            return *b;
        }
        // Filled in `finish` (the current block is not terminated yet).
        let site = self.b.create_block();
        self.b.set_cold_block(site);
        self.trap_sites.insert(key, site);
        self.pending_sites.push((site, code, self.offset));
        site
    }

    /// Traps with `code` if `cond` (an integer) is non-zero; continues in a new block.
    fn trap_if(&mut self, cond: Value, code: TrapCode) {
        let site = self.trap_site(code);
        let cont = self.b.create_block();
        self.b.ins().brif(cond, site, &[], cont, &[]);
        self.b.seal_block(cont);
        self.b.switch_to_block(cont);
    }

    /// Traps with the status returned by a libcall if it is non-zero.
    fn trap_if_status(&mut self, status: Value) {
        let block = match self.status_block {
            Some(b) => b,
            None => {
                let b = self.b.create_block();
                self.b.append_block_param(b, I32);
                self.b.append_block_param(b, I32);
                self.b.set_cold_block(b);
                self.status_block = Some(b);
                b
            }
        };
        let cont = self.b.create_block();
        let offset = self.offset_arg();
        self.b
            .ins()
            .brif(status, block, &[BlockArg::Value(status), offset], cont, &[]);
        self.b.seal_block(cont);
        self.b.switch_to_block(cont);
    }

    fn trap_now(&mut self, code: TrapCode) {
        let trap = self.trap_block(code);
        let offset = self.offset_arg();
        self.b.ins().jump(trap, &[offset]);
        self.reachable = false;
    }

    // ----------------------------------------------------------------------------------
    // Control flow
    // ----------------------------------------------------------------------------------

    fn block_types(&self, bt: BlockType) -> Result<(Vec<Type>, Vec<Type>)> {
        match bt {
            BlockType::Empty => Ok((Vec::new(), Vec::new())),
            BlockType::Type(t) => Ok((Vec::new(), vec![clif_type(t)?])),
            BlockType::FuncType(idx) => {
                let ft = self
                    .info
                    .types
                    .get(idx as usize)
                    .ok_or(TranslateError::Invalid("block type index out of range"))?;
                let p = ft
                    .params()
                    .iter()
                    .map(|t| clif_type(*t))
                    .collect::<Result<_>>()?;
                let r = ft
                    .results()
                    .iter()
                    .map(|t| clif_type(*t))
                    .collect::<Result<_>>()?;
                Ok((p, r))
            }
        }
    }

    fn new_block_with(&mut self, tys: &[Type]) -> Block {
        let block = self.b.create_block();
        for t in tys {
            self.b.append_block_param(block, *t);
        }
        block
    }

    fn translate_block(&mut self, bt: BlockType) -> Result<()> {
        let (params, results) = self.block_types(bt)?;
        let end = self.new_block_with(&results);
        let height = self
            .stack
            .len()
            .checked_sub(params.len())
            .ok_or(TranslateError::Invalid("value stack underflow"))?;
        self.control.push(Frame {
            kind: FrameKind::Block,
            end,
            header: end,
            num_params: params.len(),
            num_results: results.len(),
            height,
            else_block: None,
            else_args: Vec::new(),
            end_reachable: false,
        });
        Ok(())
    }

    fn translate_loop(&mut self, bt: BlockType) -> Result<()> {
        self.translate_loop_into(bt, None)
    }

    /// `loop`; with `end`, the loop joins that existing continuation (the second copy of
    /// a versioned loop, whose first copy may already reach it).
    fn translate_loop_into(&mut self, bt: BlockType, join: Option<(Block, bool)>) -> Result<()> {
        let (params, results) = self.block_types(bt)?;
        let osr_header = match &mut self.osr {
            Some(o) if o.offset == self.offset => o.header.take(),
            _ => None,
        };
        let header = match osr_header {
            Some(h) => h,
            None => self.new_block_with(&params),
        };
        let end = match join {
            Some((end, _)) => end,
            None => self.new_block_with(&results),
        };
        let args = self.popn(params.len())?;
        let height = self.stack.len();
        // OSR entry: the values under the loop come from the frame on the entry path and
        // from the (dead) code before the loop on the other; variables merge them at the
        // header, which dominates the rest of the body.
        let mut below_vars = Vec::new();
        if osr_header.is_some() {
            let (frame, below, pre) = match &self.osr {
                Some(o) => (o.frame, o.below, o.pre),
                None => unreachable!("osr_header comes from self.osr"),
            };
            let below_slots: usize = self.stack[..height]
                .iter()
                .map(|v| slots_of(self.b.func.dfg.value_type(*v)))
                .sum();
            if below_slots != below {
                return Err(TranslateError::Invalid(
                    "OSR loop: the operand stack under it differs from the frame's",
                ));
            }
            // Values under an enclosing loop are used in that loop's body, which the entry
            // now reaches through its back-edge without passing their (dead) definitions:
            // only the target loop's values are merged, so such loops are refused.
            if self
                .control
                .iter()
                .any(|f| f.kind == FrameKind::Loop && f.height > 0)
            {
                return Err(TranslateError::Invalid(
                    "OSR loop inside a loop with operand values under it",
                ));
            }
            let pre = pre.ok_or(TranslateError::Invalid("OSR entry block missing"))?;
            for i in 0..height {
                let v = self.stack[i];
                let ty = self.b.func.dfg.value_type(v);
                let var = self.b.declare_var(ty);
                self.b.def_var(var, v);
                below_vars.push((var, ty));
            }
            self.b.ins().jump(header, &block_args(&args));
            self.b.switch_to_block(pre);
            // Frame slots: the locals, the values under the loop, the loop's parameters,
            // each value as wide as its type (a `v128` takes two slots).
            let mut slot = self.local_slots();
            for &(var, ty) in &below_vars {
                let v = self.load_slot(frame, slot, ty)?;
                slot += slots_of(ty);
                self.b.def_var(var, v);
            }
            let mut entry_args = Vec::with_capacity(params.len());
            for ty in &params {
                entry_args.push(self.load_slot(frame, slot, *ty)?);
                slot += slots_of(*ty);
            }
            self.b.ins().jump(header, &block_args(&entry_args));
        } else {
            self.b.ins().jump(header, &block_args(&args));
        }
        let check = self.back_edge_block(header, &params);
        self.b.switch_to_block(header);
        // Before `use_var`, which appends the variables' parameters to the (unsealed) header.
        let header_params = self.b.block_params(header).to_vec();
        for (i, &(var, _)) in below_vars.iter().enumerate() {
            self.stack[i] = self.b.use_var(var);
        }
        self.stack.extend(header_params);
        self.control.push(Frame {
            kind: FrameKind::Loop,
            end,
            header: check.unwrap_or(header),
            num_params: params.len(),
            num_results: results.len(),
            height,
            else_block: None,
            else_args: Vec::new(),
            end_reachable: join.is_some_and(|(_, r)| r),
        });
        Ok(())
    }

    fn translate_if(&mut self, bt: BlockType) -> Result<()> {
        let cond = self.pop()?;
        let (params, results) = self.block_types(bt)?;
        let then_block = self.b.create_block();
        let else_block = self.b.create_block();
        let end = self.new_block_with(&results);
        self.b.ins().brif(cond, then_block, &[], else_block, &[]);
        self.b.seal_block(then_block);
        self.b.seal_block(else_block);
        self.b.switch_to_block(then_block);
        let else_args = self.peekn(params.len())?.to_vec();
        let height = self.stack.len() - params.len();
        self.control.push(Frame {
            kind: FrameKind::If,
            end,
            header: end,
            num_params: params.len(),
            num_results: results.len(),
            height,
            else_block: Some(else_block),
            else_args,
            end_reachable: false,
        });
        Ok(())
    }

    fn translate_else(&mut self) -> Result<()> {
        let (end, num_results) = {
            let f = self
                .control
                .last()
                .ok_or(TranslateError::Invalid("else outside if"))?;
            (f.end, f.num_results)
        };
        if self.reachable {
            let vals = self.popn(num_results)?;
            self.b.ins().jump(end, &block_args(&vals));
        }
        let reachable = self.reachable;
        let f = self.control.last_mut().expect("checked above");
        f.end_reachable |= reachable;
        let else_block = f
            .else_block
            .take()
            .ok_or(TranslateError::Invalid("else without if"))?;
        let height = f.height;
        let args = f.else_args.clone();
        self.b.switch_to_block(else_block);
        self.stack.truncate(height);
        self.stack.extend(args);
        self.reachable = true;
        Ok(())
    }

    fn translate_end(&mut self) -> Result<()> {
        let mut frame = self
            .control
            .pop()
            .ok_or(TranslateError::Invalid("unbalanced end"))?;
        if self.reachable {
            let vals = self.popn(frame.num_results)?;
            self.b.ins().jump(frame.end, &block_args(&vals));
            frame.end_reachable = true;
        }
        if let Some(else_block) = frame.else_block.take() {
            // `if` without `else`: the false arm passes the parameters through.
            self.b.switch_to_block(else_block);
            self.b.ins().jump(frame.end, &block_args(&frame.else_args));
            frame.end_reachable = true;
        }
        if !self.tries.is_empty() {
            self.end_try_table();
        }
        if frame.kind == FrameKind::Loop {
            self.b.seal_block(frame.header);
        }
        self.stack.truncate(frame.height);
        if frame.kind == FrameKind::Loop
            && let Some(v) = self.version.as_mut()
            && v.depth == self.control.len() + 1
        {
            if !v.second {
                // The checked copy is done: translate the loop again, unchecked, from the
                // guard's other branch into the same continuation.
                v.second = true;
                v.rewind = true;
                let (fast, bt, chunk) = (v.fast, v.blockty, v.chunk);
                self.stack = v.stack.clone();
                self.b.switch_to_block(fast);
                if let Some(cl) = chunk {
                    self.begin_chunks(cl)?;
                }
                self.reachable = true;
                self.unchecked = true;
                self.checked.clear();
                return self.translate_loop_into(bt, Some((frame.end, frame.end_reachable)));
            }
            self.version = None;
            self.unchecked = false;
            self.chunk = None;
        }
        if frame.end_reachable {
            self.b.switch_to_block(frame.end);
            self.b.seal_block(frame.end);
            let results = self.b.block_params(frame.end).to_vec();
            if frame.kind == FrameKind::Function {
                self.emit_return(&results);
            } else {
                self.stack.extend(results);
            }
        }
        self.reachable = frame.end_reachable && frame.kind != FrameKind::Function;
        Ok(())
    }

    fn frame_at(&mut self, depth: u32) -> Result<&mut Frame> {
        let len = self.control.len();
        let i = len
            .checked_sub(depth as usize + 1)
            .ok_or(TranslateError::Invalid("branch depth out of range"))?;
        Ok(&mut self.control[i])
    }

    /// Branch target block and arity for relative depth `depth`; marks it reachable.
    fn branch_target(&mut self, depth: u32) -> Result<(Block, usize)> {
        let f = self.frame_at(depth)?;
        if f.kind != FrameKind::Loop {
            f.end_reachable = true;
        }
        Ok(f.branch_target())
    }

    fn translate_br(&mut self, depth: u32) -> Result<()> {
        self.count_back_edge(depth, None)?;
        let (target, arity) = self.branch_target(depth)?;
        let args = block_args(self.peekn(arity)?);
        self.b.ins().jump(target, &args);
        self.reachable = false;
        Ok(())
    }

    fn translate_br_if(&mut self, depth: u32) -> Result<()> {
        let cond = self.pop()?;
        self.count_back_edge(depth, Some(cond))?;
        let (target, arity) = self.branch_target(depth)?;
        let args = block_args(self.peekn(arity)?);
        let cont = self.b.create_block();
        self.b.ins().brif(cond, target, &args, cont, &[]);
        self.b.seal_block(cont);
        self.b.switch_to_block(cont);
        Ok(())
    }

    fn translate_br_table(&mut self, targets: &wasmparser::BrTable<'_>) -> Result<()> {
        let index = self.pop()?;
        let depths = targets
            .targets()
            .collect::<core::result::Result<Vec<u32>, _>>()?;
        let default = targets.default();
        // One block per distinct target depth; blocks with arguments get a trampoline block
        // that forwards the (dominating) branch values.
        let mut by_depth: HashMap<u32, Block> = HashMap::new();
        let mut forwarders: Vec<(Block, Block, usize, u32)> = Vec::new();
        for &d in depths.iter().chain(core::iter::once(&default)) {
            if by_depth.contains_key(&d) {
                continue;
            }
            let (target, arity) = self.branch_target(d)?;
            let counted =
                self.back_edge_counter.is_some() && self.frame_at(d)?.kind == FrameKind::Loop;
            let block = if arity == 0 && !counted {
                target
            } else {
                let fwd = self.b.create_block();
                forwarders.push((fwd, target, arity, d));
                fwd
            };
            by_depth.insert(d, block);
        }
        let mut switch = Switch::new();
        for (i, d) in depths.iter().enumerate() {
            switch.set_entry(i as u128, by_depth[d]);
        }
        switch.emit(&mut self.b, index, by_depth[&default]);
        for (fwd, target, arity, depth) in forwarders {
            let args = block_args(self.peekn(arity)?);
            self.b.seal_block(fwd);
            self.b.switch_to_block(fwd);
            self.count_back_edge(depth, None)?;
            self.b.ins().jump(target, &args);
        }
        self.reachable = false;
        Ok(())
    }

    fn translate_return(&mut self) -> Result<()> {
        let n = self.control[0].num_results;
        let vals = self.peekn(n)?.to_vec();
        self.emit_return(&vals);
        self.reachable = false;
        Ok(())
    }

    /// Skips an operator in dead code, tracking only nesting.
    fn translate_dead_op(&mut self, op: Operator<'_>) -> Result<()> {
        match op {
            Operator::Block { .. }
            | Operator::Loop { .. }
            | Operator::If { .. }
            | Operator::TryTable { .. } => {
                self.dead_depth += 1;
            }
            Operator::Else if self.dead_depth == 0 => self.translate_else()?,
            Operator::End => {
                if self.dead_depth > 0 {
                    self.dead_depth -= 1;
                } else {
                    self.translate_end()?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    // ----------------------------------------------------------------------------------
    // Calls
    // ----------------------------------------------------------------------------------

    fn sig_ref(&mut self, type_index: u32) -> Result<SigRef> {
        if let Some(s) = self.sigs.get(&type_index) {
            return Ok(*s);
        }
        let ft = self
            .info
            .types
            .get(type_index as usize)
            .ok_or(TranslateError::Invalid("type index out of range"))?;
        let sig = native_signature(ft, self.env.call_conv())?;
        let s = self.b.import_signature(sig);
        self.sigs.insert(type_index, s);
        Ok(s)
    }

    fn translate_call(&mut self, func: u32) -> Result<()> {
        let type_index = *self
            .info
            .func_types
            .get(func as usize)
            .ok_or(TranslateError::Invalid("function index out of range"))?;
        let n = self.info.types[type_index as usize].params().len();
        let sig = self.sig_ref(type_index)?;
        let args = self.popn(n)?;
        self.fuel_spill();
        let results = if self.exn.is_some() {
            let fr = self.env.func_ref(&mut self.b, self.vmctx, func);
            let direct = self.env.direct_callee(self.b.func, func);
            self.aware_call(type_index, sig, fr, direct, &args)?
        } else {
            self.env
                .call_direct(&mut self.b, self.vmctx, func, sig, &args)
        };
        self.fuel_reload();
        self.heap_may_have_changed();
        self.stack.extend(results);
        Ok(())
    }

    /// The operands and checks `call_indirect` and `return_call_indirect` share: pops the
    /// table index and the arguments, loads the `FuncRef` of entry `index` of `table` (out of
    /// range traps), traps on a null entry and on a signature other than `type_index`.
    fn checked_table_func_ref(
        &mut self,
        type_index: u32,
        table: u32,
    ) -> Result<(SigRef, Value, Vec<Value>)> {
        let n = self
            .info
            .types
            .get(type_index as usize)
            .ok_or(TranslateError::Invalid("type index out of range"))?
            .params()
            .len();
        let sig = self.sig_ref(type_index)?;
        let m = self.tab64_mask(table, 0b1);
        self.narrow_stack(m, TrapCode::UndefinedElement)?;
        let index = self.pop()?;
        let args = self.popn(n)?;
        let (elem_addr, _) = self.table_elem_addr(table, index, TrapCode::UndefinedElement);
        let func_ref = self
            .b
            .ins()
            .load(I64, MemFlagsData::trusted(), elem_addr, 0);
        let is_null = self.b.ins().icmp_imm_s(IntCC::Equal, func_ref, 0);
        self.trap_if(is_null, TrapCode::UninitializedElement);
        let actual = self.b.ins().load(
            I32,
            MemFlagsData::trusted(),
            func_ref,
            abi::FUNC_REF_TYPE_ID,
        );
        let expected = self.env.type_id(&mut self.b, self.vmctx, type_index);
        let mismatch = self.b.ins().icmp(IntCC::NotEqual, actual, expected);
        self.trap_if(mismatch, TrapCode::IndirectCallTypeMismatch);
        Ok((sig, func_ref, args))
    }

    fn translate_call_indirect(&mut self, type_index: u32, table: u32) -> Result<()> {
        let (sig, func_ref, args) = self.checked_table_func_ref(type_index, table)?;
        self.fuel_spill();
        let results = if self.exn.is_some() {
            self.aware_call(type_index, sig, func_ref, None, &args)?
        } else {
            self.env.call_func_ref(&mut self.b, sig, func_ref, &args)
        };
        self.fuel_reload();
        self.heap_may_have_changed();
        self.stack.extend(results);
        Ok(())
    }

    /// `call_ref` / `return_call_ref`: a null reference traps, then a call (or tail call)
    /// through the `FuncRef` (validation guarantees its type).
    fn translate_call_ref(&mut self, type_index: u32, tail: bool) -> Result<()> {
        let n = self
            .info
            .types
            .get(type_index as usize)
            .ok_or(TranslateError::Invalid("type index out of range"))?
            .params()
            .len();
        let sig = self.sig_ref(type_index)?;
        let func_ref = self.pop()?;
        let args = self.popn(n)?;
        let is_null = self.b.ins().icmp_imm_s(IntCC::Equal, func_ref, 0);
        self.trap_if(is_null, TrapCode::NullFuncRef);
        if tail && self.osr.is_none() {
            self.fuel_spill();
            if self.exn.is_some() {
                self.aware_return_call(type_index, sig, func_ref, None, &args)?;
            } else {
                super::tail::return_call_func_ref(&mut self.b, sig, func_ref, &args);
            }
            self.reachable = false;
            return Ok(());
        }
        self.fuel_spill();
        let results = if self.exn.is_some() {
            self.aware_call(type_index, sig, func_ref, None, &args)?
        } else {
            self.env.call_func_ref(&mut self.b, sig, func_ref, &args)
        };
        self.fuel_reload();
        self.heap_may_have_changed();
        self.stack.extend(results);
        if tail {
            return self.translate_return();
        }
        Ok(())
    }

    /// `return_call`: a Cranelift `return_call` (see [`super::tail`]); in an OSR entry
    /// (array signature, no tail calls) a call and a return.
    fn translate_return_call(&mut self, func: u32) -> Result<()> {
        if self.osr.is_some() {
            self.translate_call(func)?;
            return self.translate_return();
        }
        let type_index = *self
            .info
            .func_types
            .get(func as usize)
            .ok_or(TranslateError::Invalid("function index out of range"))?;
        let n = self.info.types[type_index as usize].params().len();
        let sig = self.sig_ref(type_index)?;
        let args = self.popn(n)?;
        self.fuel_spill();
        if self.exn.is_some() {
            let fr = self.env.func_ref(&mut self.b, self.vmctx, func);
            let direct = self.env.direct_callee(self.b.func, func);
            self.aware_return_call(type_index, sig, fr, direct, &args)?;
            self.reachable = false;
            return Ok(());
        }
        super::tail::return_call_direct(&mut *self.env, &mut self.b, self.vmctx, func, sig, &args);
        self.reachable = false;
        Ok(())
    }

    /// `return_call_indirect`: the checks of `call_indirect`, then a tail call through the
    /// `FuncRef` (a call and a return in an OSR entry).
    fn translate_return_call_indirect(&mut self, type_index: u32, table: u32) -> Result<()> {
        if self.osr.is_some() {
            self.translate_call_indirect(type_index, table)?;
            return self.translate_return();
        }
        let (sig, func_ref, args) = self.checked_table_func_ref(type_index, table)?;
        self.fuel_spill();
        if self.exn.is_some() {
            self.aware_return_call(type_index, sig, func_ref, None, &args)?;
            self.reachable = false;
            return Ok(());
        }
        super::tail::return_call_func_ref(&mut self.b, sig, func_ref, &args);
        self.reachable = false;
        Ok(())
    }

    // ----------------------------------------------------------------------------------
    // Memory
    // ----------------------------------------------------------------------------------

    /// Pops an address, bounds-checks an access of `size` bytes at `memarg.offset`, and
    /// returns the native address.
    fn heap_addr(&mut self, memarg: &MemArg, size: u64) -> Result<Value> {
        let mi = match memarg.target {
            wasmparser::MemArgTarget::Memory(i) => i,
            wasmparser::MemArgTarget::Array(_) => {
                return Err(TranslateError::Unsupported("GC array accesses"));
            }
        };
        let mut memarg = *memarg;
        if self.mem64(mi) {
            // memory64 (docs/ABI.md "memory64"): an address with a nonzero high half, or an
            // offset of 2^32 or more, is out of bounds (a memory64 memory is below 4 GiB);
            // otherwise the access continues on the 32-bit path below, whose checks (or
            // guard region) cover a 32-bit index plus a 32-bit offset.
            self.narrow_stack(0b1, TrapCode::MemoryOutOfBounds)?;
            if memarg.offset > u64::from(u32::MAX) {
                let always = self.b.ins().iconst(I8, 1);
                self.trap_if(always, TrapCode::MemoryOutOfBounds);
                memarg.offset = 0;
            }
        }
        let memarg = &memarg;
        let wasm_index = self.pop()?;
        let index = self.b.ins().uextend(I64, wasm_index);
        if mi != 0 {
            return Ok(self.other_heap_addr(mi, index, memarg.offset + size, memarg.offset));
        }
        let (base_var, len_var) = self
            .heap
            .ok_or(TranslateError::Invalid("memory access without a memory"))?;
        let base = self.b.use_var(base_var);
        if self.guard {
            // base + zext(index) + offset < base + 2^33 + 8: inside the reservation.
            let addr = self.b.ins().iadd(base, index);
            return Ok(if memarg.offset == 0 {
                addr
            } else {
                self.b.ins().iadd_imm_s(addr, memarg.offset as i64)
            });
        }
        let len = self
            .b
            .use_var(len_var.ok_or(TranslateError::Invalid("checked memory without length"))?);
        let end_offset = memarg.offset + size;
        let known = self
            .checked
            .iter()
            .any(|&(v, e)| v == wasm_index && e >= end_offset);
        if !known {
            // index + end > len  <=>  index > len - end, in signed 64-bit arithmetic:
            // index < 2^32, len <= 2^32 and end < 2^33 + 8, so nothing overflows, and a
            // negative `len - end` (memory smaller than the access) traps for every index.
            // `len - end` depends only on the length: it is computed once per length value
            // (hoisted out of loops) and the check is one compare of the index.
            let limit = self.b.ins().iadd_imm_s(len, -(end_offset as i64));
            let oob = self.b.ins().icmp(IntCC::SignedGreaterThan, index, limit);
            self.trap_if(oob, TrapCode::MemoryOutOfBounds);
            if self.checked.len() >= 16 {
                self.checked.remove(0);
            }
            self.checked.push((wasm_index, end_offset));
        }
        let addr = self.b.ins().iadd(base, index);
        Ok(if memarg.offset == 0 {
            addr
        } else {
            self.b.ins().iadd_imm_s(addr, memarg.offset as i64)
        })
    }

    /// Multi-memory: the native address of an access to memory `mem` (not 0) at the
    /// (zero-extended) `index`, checked explicitly against the memory's current length in
    /// every memory mode (docs/ABI.md "Multi-memory"): base and length are loaded from the
    /// memory's `MemoryDef` (through `VMContext::memories`) at each access, so growth and
    /// moves need no cache invalidation.
    fn other_heap_addr(&mut self, mem: u32, index: Value, end_offset: u64, offset: u64) -> Value {
        let def = self.env.memory_def(&mut self.b, self.vmctx, mem);
        let base = self
            .b
            .ins()
            .load(I64, MemFlagsData::trusted(), def, abi::MEMORY_DEF_BASE);
        let len = self
            .b
            .ins()
            .load(I64, MemFlagsData::trusted(), def, abi::MEMORY_DEF_LEN);
        // As in `heap_addr`: index < 2^32, len <= 2^32, end < 2^33 + 8, no overflow.
        let limit = self.b.ins().iadd_imm_s(len, -(end_offset as i64));
        let oob = self.b.ins().icmp(IntCC::SignedGreaterThan, index, limit);
        self.trap_if(oob, TrapCode::MemoryOutOfBounds);
        let addr = self.b.ins().iadd(base, index);
        if offset == 0 {
            addr
        } else {
            self.b.ins().iadd_imm_s(addr, offset as i64)
        }
    }

    /// Flags of the access `memarg` describes: guard-mode accesses to memory 0 are their own
    /// bounds check; every other access was checked explicitly.
    pub(super) fn access_flags(&self, memarg: &MemArg) -> MemFlagsData {
        heap_flags(self.guard && memarg.target == wasmparser::MemArgTarget::Memory(0))
    }

    fn translate_load(&mut self, memarg: &MemArg, ty: Type, size: u8, signed: bool) -> Result<()> {
        let addr = self.heap_addr(memarg, u64::from(size))?;
        let f = self.access_flags(memarg);
        let ins = self.b.ins();
        let v = match (size, signed, ty) {
            (1, false, _) => ins.uload8(ty, f, addr, 0),
            (1, true, _) => ins.sload8(ty, f, addr, 0),
            (2, false, _) => ins.uload16(ty, f, addr, 0),
            (2, true, _) => ins.sload16(ty, f, addr, 0),
            (4, false, I64) => ins.uload32(f, addr, 0),
            (4, true, I64) => ins.sload32(f, addr, 0),
            _ => ins.load(ty, f, addr, 0),
        };
        self.push(v);
        Ok(())
    }

    fn translate_store(&mut self, memarg: &MemArg, size: u8) -> Result<()> {
        let val = self.pop()?;
        let addr = self.heap_addr(memarg, u64::from(size))?;
        let f = self.access_flags(memarg);
        let ty = self.b.func.dfg.value_type(val);
        let ins = self.b.ins();
        match size {
            1 => ins.istore8(f, val, addr, 0),
            2 => ins.istore16(f, val, addr, 0),
            4 if ty == I64 => ins.istore32(f, val, addr, 0),
            _ => ins.store(f, val, addr, 0),
        };
        Ok(())
    }

    fn translate_memory_size(&mut self, mem: u32) -> Result<()> {
        let len = if mem != 0 {
            let def = self.env.memory_def(&mut self.b, self.vmctx, mem);
            self.b
                .ins()
                .load(I64, MemFlagsData::trusted(), def, abi::MEMORY_DEF_LEN)
        } else {
            match self.heap {
                Some((_, Some(len_var))) => self.b.use_var(len_var),
                _ => self.env.memory_base_bound(&mut self.b, self.vmctx).1,
            }
        };
        let pages = self.b.ins().ushr_imm_s(len, 16);
        let pages = if self.mem64(mem) {
            pages
        } else {
            self.b.ins().ireduce(I32, pages)
        };
        self.push(pages);
        Ok(())
    }

    fn translate_memory_grow(&mut self, mem: u32) -> Result<()> {
        let mem64 = self.mem64(mem);
        let delta = self.pop()?;
        let delta = if mem64 { self.saturate32(delta) } else { delta };
        let m = self.b.ins().iconst(I32, i64::from(mem));
        let r = self.libcall(libcall::MEMORY_GROW, &[I32, I32], &[I32], &[m, delta]);
        self.heap_may_have_changed();
        // The old size (below 2^16 pages) or -1: sign extension gives the i64 result.
        let r = if mem64 {
            self.b.ins().sextend(I64, r[0])
        } else {
            r[0]
        };
        self.push(r);
        Ok(())
    }

    /// Whether memory `mem` is a memory64 memory.
    fn mem64(&self, mem: u32) -> bool {
        self.info.memory_index64.get(mem as usize) == Some(&true)
    }

    /// `mask` if table `table` is a table64 table, else 0.
    fn tab64_mask(&self, table: u32, mask: u8) -> u8 {
        if self.info.table_index64.get(table as usize) == Some(&true) {
            mask
        } else {
            0
        }
    }

    /// memory64 / table64: the `i64` operands `k` below the top with bit `k` of `mask` set
    /// become `i32`, trapping `code` if one is 2^32 or more (every memory and table is
    /// smaller, so the operation would trap anyway; docs/ABI.md "memory64").
    fn narrow_stack(&mut self, mask: u8, code: TrapCode) -> Result<()> {
        for k in 0..8 {
            if mask & (1 << k) == 0 {
                continue;
            }
            let i = self
                .stack
                .len()
                .checked_sub(1 + k)
                .ok_or(TranslateError::Invalid("operand stack underflow"))?;
            let v = self.stack[i];
            let high = self.b.ins().ushr_imm_s(v, 32);
            let bad = self.b.ins().icmp_imm_s(IntCC::NotEqual, high, 0);
            self.trap_if(bad, code);
            self.stack[i] = self.b.ins().ireduce(I32, v);
        }
        Ok(())
    }

    /// An `i64` grow delta as `i32`, saturated at `u32::MAX` (a delta that large fails).
    fn saturate32(&mut self, v: Value) -> Value {
        let max = self.b.ins().iconst(I64, i64::from(u32::MAX));
        let v = self.b.ins().umin(v, max);
        self.b.ins().ireduce(I32, v)
    }

    fn libcall(
        &mut self,
        index: usize,
        params: &[Type],
        rets: &[Type],
        args: &[Value],
    ) -> Vec<Value> {
        // Libcalls do not change fuel, but a trap or a host hook in them may read it.
        self.fuel_spill();
        self.env
            .libcall(&mut self.b, self.vmctx, index, params, rets, args)
    }

    /// A bulk operation libcall: `(consts..., popped operands...) -> status`.
    fn bulk(&mut self, index: usize, consts: &[u32], operand_types: &[Type]) -> Result<()> {
        let operands = self.popn(operand_types.len())?;
        let mut args = Vec::with_capacity(consts.len() + operands.len());
        let mut params = Vec::with_capacity(args.capacity());
        for c in consts {
            args.push(self.b.ins().iconst(I32, i64::from(*c)));
            params.push(I32);
        }
        args.extend(operands);
        params.extend_from_slice(operand_types);
        let status = self.libcall(index, &params, &[I32], &args)[0];
        self.trap_if_status(status);
        Ok(())
    }

    // ----------------------------------------------------------------------------------
    // Tables
    // ----------------------------------------------------------------------------------

    /// Bounds-checks `index` (i32) against table `table` and returns the element address.
    fn table_elem_addr(&mut self, table: u32, index: Value, oob: TrapCode) -> (Value, Value) {
        let def = self.env.table_def(&mut self.b, self.vmctx, table);
        let len = self
            .b
            .ins()
            .load(I64, MemFlagsData::trusted(), def, abi::TABLE_DEF_LEN);
        let index = self.b.ins().uextend(I64, index);
        let out = self
            .b
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, index, len);
        self.trap_if(out, oob);
        let base = self
            .b
            .ins()
            .load(I64, MemFlagsData::trusted(), def, abi::TABLE_DEF_BASE);
        let offset = self.b.ins().ishl_imm_s(index, 3);
        (self.b.ins().iadd(base, offset), def)
    }

    // ----------------------------------------------------------------------------------
    // Numeric helpers
    // ----------------------------------------------------------------------------------

    fn unop(&mut self, f: impl FnOnce(&mut FunctionBuilder<'f>, Value) -> Value) -> Result<()> {
        let a = self.pop()?;
        let r = f(&mut self.b, a);
        self.push(r);
        Ok(())
    }

    fn binop(
        &mut self,
        f: impl FnOnce(&mut FunctionBuilder<'f>, Value, Value) -> Value,
    ) -> Result<()> {
        let y = self.pop()?;
        let x = self.pop()?;
        let r = f(&mut self.b, x, y);
        self.push(r);
        Ok(())
    }

    fn icmp(&mut self, cc: IntCC) -> Result<()> {
        self.binop(|b, x, y| {
            let c = b.ins().icmp(cc, x, y);
            b.ins().uextend(I32, c)
        })
    }

    fn fcmp(&mut self, cc: FloatCC) -> Result<()> {
        self.binop(|b, x, y| {
            let c = b.ins().fcmp(cc, x, y);
            b.ins().uextend(I32, c)
        })
    }

    fn eqz(&mut self) -> Result<()> {
        self.unop(|b, x| {
            let c = b.ins().icmp_imm_s(IntCC::Equal, x, 0);
            b.ins().uextend(I32, c)
        })
    }

    fn sign_extend(&mut self, from: Type, to: Type) -> Result<()> {
        self.unop(|b, x| {
            let narrow = b.ins().ireduce(from, x);
            b.ins().sextend(to, narrow)
        })
    }

    /// Division and remainder with the wasm traps made explicit.
    fn divrem(&mut self, ty: Type, signed: bool, rem: bool) -> Result<()> {
        let y = self.pop()?;
        let x = self.pop()?;
        let zero = self.b.ins().icmp_imm_s(IntCC::Equal, y, 0);
        self.trap_if(zero, TrapCode::IntegerDivideByZero);
        let r = match (signed, rem) {
            (false, false) => self.b.ins().udiv(x, y),
            (false, true) => self.b.ins().urem(x, y),
            (true, false) => {
                let min = if ty == I32 {
                    i64::from(i32::MIN)
                } else {
                    i64::MIN
                };
                let is_min = self.b.ins().icmp_imm_s(IntCC::Equal, x, min);
                let is_m1 = self.b.ins().icmp_imm_s(IntCC::Equal, y, -1);
                let both = self.b.ins().band(is_min, is_m1);
                self.trap_if(both, TrapCode::IntegerOverflow);
                self.b.ins().sdiv(x, y)
            }
            (true, true) => {
                // INT_MIN % -1 is 0 in wasm but faults on x86: x % -1 == x % 1 == 0.
                let is_m1 = self.b.ins().icmp_imm_s(IntCC::Equal, y, -1);
                let one = self.b.ins().iconst(ty, 1);
                let y = self.b.ins().select(is_m1, one, y);
                self.b.ins().srem(x, y)
            }
        };
        self.push(r);
        Ok(())
    }

    /// Trapping float → int conversion: NaN → invalid conversion, out of range → overflow.
    fn trunc(&mut self, from: Type, to: Type, signed: bool) -> Result<()> {
        let x = self.pop()?;
        let nan = self.b.ins().fcmp(FloatCC::Unordered, x, x);
        self.trap_if(nan, TrapCode::InvalidConversionToInteger);
        // Valid iff lo < x < hi (exclusive bounds, exactly representable in `from`).
        let (lo, hi): (f64, f64) = match (to, signed) {
            (I32, true) => {
                if from == F32 {
                    // The f32 below -2^31 is -2^31 - 256; -2^31 itself is valid.
                    (-2147483904.0, 2147483648.0)
                } else {
                    (-2147483649.0, 2147483648.0)
                }
            }
            (I32, false) => (-1.0, 4294967296.0),
            (_, true) => {
                if from == F32 {
                    (-9223373136366403584.0, 9223372036854775808.0)
                } else {
                    (-9223372036854777856.0, 9223372036854775808.0)
                }
            }
            (_, false) => (-1.0, 18446744073709551616.0),
        };
        let (lo, hi) = if from == F32 {
            (
                self.b.ins().f32const(lo as f32),
                self.b.ins().f32const(hi as f32),
            )
        } else {
            (self.b.ins().f64const(lo), self.b.ins().f64const(hi))
        };
        let below = self.b.ins().fcmp(FloatCC::LessThanOrEqual, x, lo);
        let above = self.b.ins().fcmp(FloatCC::GreaterThanOrEqual, x, hi);
        let out = self.b.ins().bor(below, above);
        self.trap_if(out, TrapCode::IntegerOverflow);
        let r = if signed {
            self.b.ins().fcvt_to_sint(to, x)
        } else {
            self.b.ins().fcvt_to_uint(to, x)
        };
        self.push(r);
        Ok(())
    }

    fn global_type(&self, index: u32) -> Result<(Type, bool)> {
        let g = self
            .info
            .globals
            .get(index as usize)
            .ok_or(TranslateError::Invalid("global index out of range"))?;
        Ok((clif_type(g.ty)?, g.mutable))
    }

    // ----------------------------------------------------------------------------------
    // The operator match
    // ----------------------------------------------------------------------------------

    fn translate_op(&mut self, op: Operator<'_>) -> Result<()> {
        use Operator as O;
        if matches!(
            op,
            O::Loop { .. }
                | O::Else
                | O::End
                | O::Br { .. }
                | O::BrTable { .. }
                | O::Return
                | O::Unreachable
        ) {
            // Control-flow merges (or dead code) follow: earlier checks may not dominate.
            self.checked.clear();
        }
        match op {
            // ---- control ----------------------------------------------------------------
            O::Unreachable => self.trap_now(TrapCode::Unreachable),
            O::Nop => {}
            O::Block { blockty } => self.translate_block(blockty)?,
            O::Loop { blockty } => self.translate_loop(blockty)?,
            O::If { blockty } => self.translate_if(blockty)?,
            O::Else => self.translate_else()?,
            O::End => self.translate_end()?,
            O::Br { relative_depth } => self.translate_br(relative_depth)?,
            O::BrIf { relative_depth } => self.translate_br_if(relative_depth)?,
            O::BrTable { targets } => self.translate_br_table(&targets)?,
            O::Return => self.translate_return()?,
            O::TryTable { try_table } => self.translate_try_table(try_table)?,
            O::Throw { tag_index } => self.translate_throw(tag_index)?,
            O::ThrowRef => self.translate_throw_ref()?,
            O::Call { function_index } => self.translate_call(function_index)?,
            O::CallIndirect {
                type_index,
                table_index,
            } => self.translate_call_indirect(type_index, table_index)?,

            // ---- parametric -------------------------------------------------------------
            O::Drop => {
                self.pop()?;
            }
            O::Select | O::TypedSelect { .. } => {
                let c = self.pop()?;
                let y = self.pop()?;
                let x = self.pop()?;
                let r = self.b.ins().select(c, x, y);
                self.push(r);
            }

            // ---- variables --------------------------------------------------------------
            O::LocalGet { local_index } => {
                let (var, _) = *self
                    .locals
                    .get(local_index as usize)
                    .ok_or(TranslateError::Invalid("local index out of range"))?;
                let v = self.b.use_var(var);
                self.push(v);
            }
            O::LocalSet { local_index } | O::LocalTee { local_index } => {
                let (var, _) = *self
                    .locals
                    .get(local_index as usize)
                    .ok_or(TranslateError::Invalid("local index out of range"))?;
                let v = if matches!(op, O::LocalTee { .. }) {
                    *self
                        .stack
                        .last()
                        .ok_or(TranslateError::Invalid("value stack underflow"))?
                } else {
                    self.pop()?
                };
                self.b.def_var(var, v);
            }
            O::GlobalGet { global_index } => {
                let (ty, mutable) = self.global_type(global_index)?;
                let cell = self.env.global_cell(&mut self.b, self.vmctx, global_index);
                let flags = if mutable {
                    MemFlagsData::trusted()
                } else {
                    super::env::readonly()
                };
                let v = self.b.ins().load(ty, flags, cell, 0);
                self.push(v);
            }
            O::GlobalSet { global_index } => {
                let v = self.pop()?;
                let cell = self.env.global_cell(&mut self.b, self.vmctx, global_index);
                self.b.ins().store(MemFlagsData::trusted(), v, cell, 0);
            }

            // ---- references and tables --------------------------------------------------
            O::RefNull { .. } => {
                let v = self.b.ins().iconst(I64, 0);
                self.push(v);
            }
            O::RefIsNull => self.unop(|b, x| {
                let c = b.ins().icmp_imm_s(IntCC::Equal, x, 0);
                b.ins().uextend(I32, c)
            })?,
            O::RefFunc { function_index } => {
                let v = self.env.func_ref(&mut self.b, self.vmctx, function_index);
                self.push(v);
            }
            O::TableGet { table } => {
                self.narrow_stack(self.tab64_mask(table, 0b1), TrapCode::TableOutOfBounds)?;
                let index = self.pop()?;
                let (addr, _) = self.table_elem_addr(table, index, TrapCode::TableOutOfBounds);
                let v = self.b.ins().load(I64, MemFlagsData::trusted(), addr, 0);
                self.push(v);
            }
            O::TableSet { table } => {
                self.narrow_stack(self.tab64_mask(table, 0b10), TrapCode::TableOutOfBounds)?;
                let v = self.pop()?;
                let index = self.pop()?;
                let (addr, _) = self.table_elem_addr(table, index, TrapCode::TableOutOfBounds);
                self.b.ins().store(MemFlagsData::trusted(), v, addr, 0);
            }
            O::TableSize { table } => {
                let def = self.env.table_def(&mut self.b, self.vmctx, table);
                let len = self
                    .b
                    .ins()
                    .load(I64, MemFlagsData::trusted(), def, abi::TABLE_DEF_LEN);
                let v = if self.tab64_mask(table, 1) != 0 {
                    len
                } else {
                    self.b.ins().ireduce(I32, len)
                };
                self.push(v);
            }
            O::TableGrow { table } => {
                let tab64 = self.tab64_mask(table, 1) != 0;
                let delta = self.pop()?;
                let delta = if tab64 { self.saturate32(delta) } else { delta };
                let init = self.pop()?;
                let t = self.b.ins().iconst(I32, i64::from(table));
                let r = self.libcall(
                    libcall::TABLE_GROW,
                    &[I32, I64, I32],
                    &[I32],
                    &[t, init, delta],
                );
                // The old size (at most `MAX_TABLE_ELEMS`) or -1.
                let r = if tab64 {
                    self.b.ins().sextend(I64, r[0])
                } else {
                    r[0]
                };
                self.push(r);
            }
            O::TableFill { table } => {
                self.narrow_stack(self.tab64_mask(table, 0b101), TrapCode::TableOutOfBounds)?;
                self.bulk(libcall::TABLE_FILL, &[table], &[I32, I64, I32])?
            }
            O::TableCopy {
                dst_table,
                src_table,
            } => {
                // Mixed index types (table_copy_mixed): the length is i64 only if both are.
                let d = self.tab64_mask(dst_table, 1) != 0;
                let s = self.tab64_mask(src_table, 1) != 0;
                let m = u8::from(d) << 2 | u8::from(s) << 1 | u8::from(d && s);
                self.narrow_stack(m, TrapCode::TableOutOfBounds)?;
                self.bulk(
                    libcall::TABLE_COPY,
                    &[dst_table, src_table],
                    &[I32, I32, I32],
                )?
            }
            O::TableInit { elem_index, table } => {
                self.narrow_stack(self.tab64_mask(table, 0b100), TrapCode::TableOutOfBounds)?;
                self.bulk(libcall::TABLE_INIT, &[table, elem_index], &[I32, I32, I32])?
            }
            O::ElemDrop { elem_index } => {
                let e = self.b.ins().iconst(I32, i64::from(elem_index));
                self.libcall(libcall::ELEM_DROP, &[I32], &[], &[e]);
            }

            // ---- memory -----------------------------------------------------------------
            O::I32Load { memarg } => self.translate_load(&memarg, I32, 4, false)?,
            O::I64Load { memarg } => self.translate_load(&memarg, I64, 8, false)?,
            O::F32Load { memarg } => self.translate_load(&memarg, F32, 4, false)?,
            O::F64Load { memarg } => self.translate_load(&memarg, F64, 8, false)?,
            O::I32Load8S { memarg } => self.translate_load(&memarg, I32, 1, true)?,
            O::I32Load8U { memarg } => self.translate_load(&memarg, I32, 1, false)?,
            O::I32Load16S { memarg } => self.translate_load(&memarg, I32, 2, true)?,
            O::I32Load16U { memarg } => self.translate_load(&memarg, I32, 2, false)?,
            O::I64Load8S { memarg } => self.translate_load(&memarg, I64, 1, true)?,
            O::I64Load8U { memarg } => self.translate_load(&memarg, I64, 1, false)?,
            O::I64Load16S { memarg } => self.translate_load(&memarg, I64, 2, true)?,
            O::I64Load16U { memarg } => self.translate_load(&memarg, I64, 2, false)?,
            O::I64Load32S { memarg } => self.translate_load(&memarg, I64, 4, true)?,
            O::I64Load32U { memarg } => self.translate_load(&memarg, I64, 4, false)?,
            O::I32Store { memarg } | O::F32Store { memarg } => self.translate_store(&memarg, 4)?,
            O::I64Store { memarg } | O::F64Store { memarg } => self.translate_store(&memarg, 8)?,
            O::I32Store8 { memarg } | O::I64Store8 { memarg } => {
                self.translate_store(&memarg, 1)?
            }
            O::I32Store16 { memarg } | O::I64Store16 { memarg } => {
                self.translate_store(&memarg, 2)?
            }
            O::I64Store32 { memarg } => self.translate_store(&memarg, 4)?,
            O::MemorySize { mem } => self.translate_memory_size(mem)?,
            O::MemoryGrow { mem } => self.translate_memory_grow(mem)?,
            O::MemoryFill { mem } => {
                let m = if self.mem64(mem) { 0b101 } else { 0 };
                self.narrow_stack(m, TrapCode::MemoryOutOfBounds)?;
                self.bulk(libcall::MEMORY_FILL, &[mem], &[I32, I32, I32])?
            }
            O::MemoryCopy { dst_mem, src_mem } => {
                // The length is i64 only if both memories are memory64.
                let (d, s) = (self.mem64(dst_mem), self.mem64(src_mem));
                let m = u8::from(d) << 2 | u8::from(s) << 1 | u8::from(d && s);
                self.narrow_stack(m, TrapCode::MemoryOutOfBounds)?;
                self.bulk(libcall::MEMORY_COPY, &[dst_mem, src_mem], &[I32, I32, I32])?
            }
            O::MemoryInit { data_index, mem } => {
                let m = if self.mem64(mem) { 0b100 } else { 0 };
                self.narrow_stack(m, TrapCode::MemoryOutOfBounds)?;
                self.bulk(libcall::MEMORY_INIT, &[mem, data_index], &[I32, I32, I32])?
            }
            O::DataDrop { data_index } => {
                let d = self.b.ins().iconst(I32, i64::from(data_index));
                self.libcall(libcall::DATA_DROP, &[I32], &[], &[d]);
            }

            // ---- constants --------------------------------------------------------------
            O::I32Const { value } => {
                let v = self.b.ins().iconst(I32, i64::from(value));
                self.push(v);
            }
            O::I64Const { value } => {
                let v = self.b.ins().iconst(I64, value);
                self.push(v);
            }
            O::F32Const { value } => {
                let v = self
                    .b
                    .ins()
                    .f32const(ir::immediates::Ieee32::with_bits(value.bits()));
                self.push(v);
            }
            O::F64Const { value } => {
                let v = self
                    .b
                    .ins()
                    .f64const(ir::immediates::Ieee64::with_bits(value.bits()));
                self.push(v);
            }

            // ---- integer comparisons ----------------------------------------------------
            O::I32Eqz | O::I64Eqz => self.eqz()?,
            O::I32Eq | O::I64Eq => self.icmp(IntCC::Equal)?,
            O::I32Ne | O::I64Ne => self.icmp(IntCC::NotEqual)?,
            O::I32LtS | O::I64LtS => self.icmp(IntCC::SignedLessThan)?,
            O::I32LtU | O::I64LtU => self.icmp(IntCC::UnsignedLessThan)?,
            O::I32GtS | O::I64GtS => self.icmp(IntCC::SignedGreaterThan)?,
            O::I32GtU | O::I64GtU => self.icmp(IntCC::UnsignedGreaterThan)?,
            O::I32LeS | O::I64LeS => self.icmp(IntCC::SignedLessThanOrEqual)?,
            O::I32LeU | O::I64LeU => self.icmp(IntCC::UnsignedLessThanOrEqual)?,
            O::I32GeS | O::I64GeS => self.icmp(IntCC::SignedGreaterThanOrEqual)?,
            O::I32GeU | O::I64GeU => self.icmp(IntCC::UnsignedGreaterThanOrEqual)?,

            // ---- float comparisons ------------------------------------------------------
            O::F32Eq | O::F64Eq => self.fcmp(FloatCC::Equal)?,
            O::F32Ne | O::F64Ne => self.fcmp(FloatCC::NotEqual)?,
            O::F32Lt | O::F64Lt => self.fcmp(FloatCC::LessThan)?,
            O::F32Gt | O::F64Gt => self.fcmp(FloatCC::GreaterThan)?,
            O::F32Le | O::F64Le => self.fcmp(FloatCC::LessThanOrEqual)?,
            O::F32Ge | O::F64Ge => self.fcmp(FloatCC::GreaterThanOrEqual)?,

            // ---- integer arithmetic -----------------------------------------------------
            O::I32Clz | O::I64Clz => self.unop(|b, x| b.ins().clz(x))?,
            O::I32Ctz | O::I64Ctz => self.unop(|b, x| b.ins().ctz(x))?,
            O::I32Popcnt | O::I64Popcnt => self.unop(|b, x| b.ins().popcnt(x))?,
            O::I32Add | O::I64Add => self.binop(|b, x, y| b.ins().iadd(x, y))?,
            O::I32Sub | O::I64Sub => self.binop(|b, x, y| b.ins().isub(x, y))?,
            O::I32Mul | O::I64Mul => self.binop(|b, x, y| b.ins().imul(x, y))?,
            O::I32DivS => self.divrem(I32, true, false)?,
            O::I32DivU => self.divrem(I32, false, false)?,
            O::I32RemS => self.divrem(I32, true, true)?,
            O::I32RemU => self.divrem(I32, false, true)?,
            O::I64DivS => self.divrem(I64, true, false)?,
            O::I64DivU => self.divrem(I64, false, false)?,
            O::I64RemS => self.divrem(I64, true, true)?,
            O::I64RemU => self.divrem(I64, false, true)?,
            O::I32And | O::I64And => self.binop(|b, x, y| b.ins().band(x, y))?,
            O::I32Or | O::I64Or => self.binop(|b, x, y| b.ins().bor(x, y))?,
            O::I32Xor | O::I64Xor => self.binop(|b, x, y| b.ins().bxor(x, y))?,
            // Cranelift masks shift and rotate amounts to the type width, as wasm does.
            O::I32Shl | O::I64Shl => self.binop(|b, x, y| b.ins().ishl(x, y))?,
            O::I32ShrS | O::I64ShrS => self.binop(|b, x, y| b.ins().sshr(x, y))?,
            O::I32ShrU | O::I64ShrU => self.binop(|b, x, y| b.ins().ushr(x, y))?,
            O::I32Rotl | O::I64Rotl => self.binop(|b, x, y| b.ins().rotl(x, y))?,
            O::I32Rotr | O::I64Rotr => self.binop(|b, x, y| b.ins().rotr(x, y))?,

            // ---- float arithmetic -------------------------------------------------------
            O::F32Abs | O::F64Abs => self.unop(|b, x| b.ins().fabs(x))?,
            O::F32Neg | O::F64Neg => self.unop(|b, x| b.ins().fneg(x))?,
            O::F32Ceil | O::F64Ceil => self.unop(|b, x| b.ins().ceil(x))?,
            O::F32Floor | O::F64Floor => self.unop(|b, x| b.ins().floor(x))?,
            O::F32Trunc | O::F64Trunc => self.unop(|b, x| b.ins().trunc(x))?,
            O::F32Nearest | O::F64Nearest => self.unop(|b, x| b.ins().nearest(x))?,
            O::F32Sqrt | O::F64Sqrt => self.unop(|b, x| b.ins().sqrt(x))?,
            O::F32Add | O::F64Add => self.binop(|b, x, y| b.ins().fadd(x, y))?,
            O::F32Sub | O::F64Sub => self.binop(|b, x, y| b.ins().fsub(x, y))?,
            O::F32Mul | O::F64Mul => self.binop(|b, x, y| b.ins().fmul(x, y))?,
            O::F32Div | O::F64Div => self.binop(|b, x, y| b.ins().fdiv(x, y))?,
            // Cranelift's fmin/fmax have wasm semantics (NaN propagation, -0 < +0).
            O::F32Min | O::F64Min => self.binop(|b, x, y| b.ins().fmin(x, y))?,
            O::F32Max | O::F64Max => self.binop(|b, x, y| b.ins().fmax(x, y))?,
            O::F32Copysign | O::F64Copysign => self.binop(|b, x, y| b.ins().fcopysign(x, y))?,

            // ---- conversions ------------------------------------------------------------
            O::I32WrapI64 => self.unop(|b, x| b.ins().ireduce(I32, x))?,
            O::I64ExtendI32S => self.unop(|b, x| b.ins().sextend(I64, x))?,
            O::I64ExtendI32U => self.unop(|b, x| b.ins().uextend(I64, x))?,
            O::I32TruncF32S => self.trunc(F32, I32, true)?,
            O::I32TruncF32U => self.trunc(F32, I32, false)?,
            O::I32TruncF64S => self.trunc(F64, I32, true)?,
            O::I32TruncF64U => self.trunc(F64, I32, false)?,
            O::I64TruncF32S => self.trunc(F32, I64, true)?,
            O::I64TruncF32U => self.trunc(F32, I64, false)?,
            O::I64TruncF64S => self.trunc(F64, I64, true)?,
            O::I64TruncF64U => self.trunc(F64, I64, false)?,
            O::I32TruncSatF32S | O::I32TruncSatF64S => {
                self.unop(|b, x| b.ins().fcvt_to_sint_sat(I32, x))?
            }
            O::I32TruncSatF32U | O::I32TruncSatF64U => {
                self.unop(|b, x| b.ins().fcvt_to_uint_sat(I32, x))?
            }
            O::I64TruncSatF32S | O::I64TruncSatF64S => {
                self.unop(|b, x| b.ins().fcvt_to_sint_sat(I64, x))?
            }
            O::I64TruncSatF32U | O::I64TruncSatF64U => {
                self.unop(|b, x| b.ins().fcvt_to_uint_sat(I64, x))?
            }
            O::F32ConvertI32S | O::F32ConvertI64S => {
                self.unop(|b, x| b.ins().fcvt_from_sint(F32, x))?
            }
            O::F32ConvertI32U | O::F32ConvertI64U => {
                self.unop(|b, x| b.ins().fcvt_from_uint(F32, x))?
            }
            O::F64ConvertI32S | O::F64ConvertI64S => {
                self.unop(|b, x| b.ins().fcvt_from_sint(F64, x))?
            }
            O::F64ConvertI32U | O::F64ConvertI64U => {
                self.unop(|b, x| b.ins().fcvt_from_uint(F64, x))?
            }
            O::F32DemoteF64 => self.unop(|b, x| b.ins().fdemote(F32, x))?,
            O::F64PromoteF32 => self.unop(|b, x| b.ins().fpromote(F64, x))?,
            O::I32ReinterpretF32 => {
                self.unop(|b, x| b.ins().bitcast(I32, MemFlagsData::new(), x))?
            }
            O::I64ReinterpretF64 => {
                self.unop(|b, x| b.ins().bitcast(I64, MemFlagsData::new(), x))?
            }
            O::F32ReinterpretI32 => {
                self.unop(|b, x| b.ins().bitcast(F32, MemFlagsData::new(), x))?
            }
            O::F64ReinterpretI64 => {
                self.unop(|b, x| b.ins().bitcast(F64, MemFlagsData::new(), x))?
            }
            O::I32Extend8S => self.sign_extend(I8, I32)?,
            O::I32Extend16S => self.sign_extend(I16, I32)?,
            O::I64Extend8S => self.sign_extend(I8, I64)?,
            O::I64Extend16S => self.sign_extend(I16, I64)?,
            O::I64Extend32S => self.sign_extend(I32, I64)?,

            // ---- everything else ----------------------------------------------------------
            O::CallRef { type_index } => self.translate_call_ref(type_index, false)?,
            O::ReturnCallRef { type_index } => self.translate_call_ref(type_index, true)?,
            O::RefAsNonNull => {
                let v = *self
                    .stack
                    .last()
                    .ok_or(TranslateError::Invalid("operand stack underflow"))?;
                let is_null = self.b.ins().icmp_imm_s(IntCC::Equal, v, 0);
                self.trap_if(is_null, TrapCode::NullReference);
            }
            O::BrOnNull { relative_depth } => {
                let v = self.pop()?;
                let is_null = self.b.ins().icmp_imm_s(IntCC::Equal, v, 0);
                let cond = self.b.ins().uextend(I32, is_null);
                self.stack.push(cond);
                self.translate_br_if(relative_depth)?;
                self.stack.push(v);
            }
            O::BrOnNonNull { relative_depth } => {
                let v = *self
                    .stack
                    .last()
                    .ok_or(TranslateError::Invalid("operand stack underflow"))?;
                let non_null = self.b.ins().icmp_imm_s(IntCC::NotEqual, v, 0);
                let cond = self.b.ins().uextend(I32, non_null);
                self.stack.push(cond);
                self.translate_br_if(relative_depth)?;
                self.pop()?;
            }
            O::ReturnCall { function_index } => self.translate_return_call(function_index)?,
            O::ReturnCallIndirect {
                type_index,
                table_index,
            } => self.translate_return_call_indirect(type_index, table_index)?,
            O::TypedSelectMulti { .. } => {
                return Err(TranslateError::Unsupported("multi-value select"));
            }
            _ => self.translate_simd(op)?,
        }
        Ok(())
    }
}

/// Whether a function body reads, writes or sizes linear memory (bulk operations go through
/// libcalls and do not need the heap variables).
/// Whether the body has a `loop` (so back-edges may run checks many times per call).
fn has_loop(body: &FunctionBody<'_>) -> Result<bool> {
    let mut ops = body.get_operators_reader()?;
    while !ops.eof() {
        if let Operator::Loop { .. } = ops.read()? {
            return Ok(true);
        }
    }
    Ok(false)
}

fn uses_memory(body: &FunctionBody<'_>) -> Result<bool> {
    use Operator as O;
    let mut ops = body.get_operators_reader()?;
    while !ops.eof() {
        match ops.read()? {
            O::I32Load { .. }
            | O::I64Load { .. }
            | O::F32Load { .. }
            | O::F64Load { .. }
            | O::I32Load8S { .. }
            | O::I32Load8U { .. }
            | O::I32Load16S { .. }
            | O::I32Load16U { .. }
            | O::I64Load8S { .. }
            | O::I64Load8U { .. }
            | O::I64Load16S { .. }
            | O::I64Load16U { .. }
            | O::I64Load32S { .. }
            | O::I64Load32U { .. }
            | O::I32Store { .. }
            | O::I64Store { .. }
            | O::F32Store { .. }
            | O::F64Store { .. }
            | O::I32Store8 { .. }
            | O::I32Store16 { .. }
            | O::I64Store8 { .. }
            | O::I64Store16 { .. }
            | O::I64Store32 { .. }
            | O::MemorySize { .. } => return Ok(true),
            op if simd::is_memory_op(&op) => return Ok(true),
            _ => {}
        }
    }
    Ok(false)
}

/// A static description of an operator outside the supported set.
fn unsupported_name(op: &Operator<'_>) -> &'static str {
    match op {
        Operator::Try { .. }
        | Operator::Catch { .. }
        | Operator::Throw { .. }
        | Operator::Rethrow { .. }
        | Operator::TryTable { .. }
        | Operator::ThrowRef => "exception handling",
        Operator::MemoryAtomicNotify { .. }
        | Operator::MemoryAtomicWait32 { .. }
        | Operator::MemoryAtomicWait64 { .. }
        | Operator::AtomicFence { .. } => "threads",
        _ => "operator outside WebAssembly 2.0 (SIMD, GC, threads or another proposal)",
    }
}
