//! Bounded execution in compiled code: fuel and interrupt checks at function entries and
//! loop back-edges (docs/ABI.md, "Bounded execution"). Both live in the store's
//! `TrapContext` (`fuel: i64`, `interrupt: u32`), which every compiled function already
//! reaches through `vmctx.trap_ctx` for its stack check.
//!
//! A loop of a function compiled with checks gets a second block in front of its header:
//! back-edges jump to it (it runs the checks and jumps on to the header), the entry into
//! the loop and an OSR entry jump to the header itself. So compiled code charges exactly
//! what the interpreter charges: 1 per function entry, 1 per taken back-edge.
//!
//! In a function with a loop fuel is a Cranelift variable: loaded at entry, stored back
//! before calls, libcalls, returns, tail calls and trap exits, reloaded after calls
//! (`fuel_spill` / `fuel_reload`, called from translate.rs), so a back-edge check is a
//! subtract and a branch on a register.
//!
//! Counted loops (`counted_loop.rs`) are translated twice behind a guard at their entry
//! (`begin_versioned_loop`): when the fuel left covers the most back-edges the loop can
//! take (and, with interrupts, those trips are few enough), a copy without checks runs; it
//! still subtracts 1 per back-edge from the fuel variable, so every exit sees exact fuel.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::{I32, I64};
use cranelift_codegen::ir::{Block, BlockArg, InstBuilder, MemFlagsData, Type, Value};
use cranelift_frontend::Variable;
use runtime_loader::TrapCode;
use runtime_loader::abi;
use runtime_loader::trap::{TRAP_CTX_FUEL, TRAP_CTX_INTERRUPT};

use super::counted_loop::{Bound, Cont, CountedLoop};
use super::{Result, TranslateError, Translator, Version};
use wasmparser::Operator;

/// Interrupt latency bound of an unchecked loop copy: trips times body operators at most
/// this (about 16 M operators, a few milliseconds) between two interrupt checks.
const UNCHECKED_OPS: u64 = 1 << 24;

/// Which bounded-execution checks compiled code carries. The default (none) emits no code:
/// functions translate exactly as without this module.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Bounds {
    /// Subtract 1 from `TrapContext::fuel` at each check point; trap `OutOfFuel` below 0.
    pub fuel: bool,
    /// Trap `Interrupted` (clearing the flag) when `TrapContext::interrupt` is set.
    pub interrupt: bool,
}

impl Bounds {
    /// Whether any check is emitted.
    pub fn any(self) -> bool {
        self.fuel || self.interrupt
    }
}

impl Translator<'_, '_> {
    /// With checks: loads the trap context address once (in the entry block, so the value
    /// dominates every check point and loops do not reload it) and, with fuel and
    /// `register` (the function has a loop), the fuel counter into a variable. Called
    /// before the first instruction that may trap, so every trap exit sees the variable
    /// defined. Without a loop the counter stays in memory: a function without loops
    /// checks once, and spilling around its calls would cost more than the one check.
    pub(super) fn load_bounds_ctx(&mut self, register: bool) {
        let before = self.b.func.dfg.num_insts();
        self.load_bounds_ctx_inner(register);
        self.check_insts += self.b.func.dfg.num_insts() - before;
    }

    fn load_bounds_ctx_inner(&mut self, register: bool) {
        if self.bounds.any() {
            let ctx = self.b.ins().load(
                I64,
                MemFlagsData::trusted().with_readonly(),
                self.vmctx,
                abi::VMCTX_TRAP_CTX,
            );
            self.bounds_ctx = Some(ctx);
            if self.bounds.fuel && register {
                let var = self.b.declare_var(I64);
                self.fuel_var = Some(var);
                self.fuel_reload();
            }
        }
    }

    /// With fuel: stores the fuel variable back to `TrapContext::fuel`. Before everything
    /// that may observe the counter: calls (host functions read and set it), libcalls,
    /// returns, tail calls and trap exits.
    pub(super) fn fuel_spill(&mut self) {
        if let (Some(var), Some(ctx)) = (self.fuel_var, self.bounds_ctx) {
            let f = self.b.use_var(var);
            self.b
                .ins()
                .store(MemFlagsData::trusted(), f, ctx, TRAP_CTX_FUEL);
        }
    }

    /// Subtracts 1 from the fuel variable and returns the new count. Guard mode: an
    /// out-of-bounds access faults without passing a trap exit that spills, so the counter
    /// in memory is kept exact at every check point too.
    fn charge_fuel_var(&mut self, var: Variable, ctx: Value) -> Value {
        let f = self.b.use_var(var);
        let f = self.b.ins().iadd_imm_s(f, -1);
        self.b.def_var(var, f);
        if self.guard {
            self.b
                .ins()
                .store(MemFlagsData::trusted(), f, ctx, TRAP_CTX_FUEL);
        }
        f
    }

    /// With fuel: (re)loads the fuel variable from `TrapContext::fuel` (at entry and after
    /// a call, whose callee may have consumed or set fuel).
    pub(super) fn fuel_reload(&mut self) {
        if let (Some(var), Some(ctx)) = (self.fuel_var, self.bounds_ctx) {
            let f = self
                .b
                .ins()
                .load(I64, MemFlagsData::trusted(), ctx, TRAP_CTX_FUEL);
            self.b.def_var(var, f);
        }
    }

    /// Emits the checks of one check point in the current block (which continues after
    /// them). Nothing without checks.
    pub(super) fn bound_checks(&mut self) {
        let before = self.b.func.dfg.num_insts();
        self.bound_checks_inner();
        self.check_insts += self.b.func.dfg.num_insts() - before;
    }

    fn bound_checks_inner(&mut self) {
        let Some(ctx) = self.bounds_ctx else {
            return;
        };
        if self.unchecked {
            // The unchecked copy of a versioned loop: the guard proved the loop cannot
            // run out of fuel (nor run long without an interrupt check), so only the
            // count is kept exact (every exit, a trap included, sees the right fuel).
            if let Some(var) = self.fuel_var {
                self.charge_fuel_var(var, ctx);
            }
            return;
        }
        if let Some(var) = self.fuel_var {
            let f = self.charge_fuel_var(var, ctx);
            let out = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, f, 0);
            self.trap_if(out, TrapCode::OutOfFuel);
        } else if self.bounds.fuel {
            let f = self
                .b
                .ins()
                .load(I64, MemFlagsData::trusted(), ctx, TRAP_CTX_FUEL);
            let f = self.b.ins().iadd_imm_s(f, -1);
            self.b
                .ins()
                .store(MemFlagsData::trusted(), f, ctx, TRAP_CTX_FUEL);
            let out = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, f, 0);
            self.trap_if(out, TrapCode::OutOfFuel);
        }
        if self.bounds.interrupt {
            self.interrupt_check(ctx);
        }
    }

    /// The interrupt check: traps `Interrupted` (clearing the flag) when it is set; the
    /// current block continues after it.
    fn interrupt_check(&mut self, ctx: Value) {
        // An atomic load: another thread writes the flag, so it must be read again at
        // every check (a plain load would be merged with the previous one: no store
        // between them in a loop without calls).
        let addr = self.b.ins().iadd_imm_s(ctx, i64::from(TRAP_CTX_INTERRUPT));
        let flag = self.b.ins().atomic_load(I32, MemFlagsData::trusted(), addr);
        let cold = self.b.create_block();
        let cont = self.b.create_block();
        self.b.set_cold_block(cold);
        self.b.ins().brif(flag, cold, &[], cont, &[]);
        self.b.seal_block(cold);
        self.b.switch_to_block(cold);
        // One-shot: the trap consumes the request.
        let zero = self.b.ins().iconst(I32, 0);
        self.b
            .ins()
            .store(MemFlagsData::trusted(), zero, ctx, TRAP_CTX_INTERRUPT);
        let trap = self.trap_block(TrapCode::Interrupted);
        let offset = self.offset_arg();
        self.b.ins().jump(trap, &[offset]);
        self.b.seal_block(cont);
        self.b.switch_to_block(cont);
    }

    /// With checks: the block back-edges of a loop whose header is `header` (parameters
    /// `params`) jump to; it runs the checks and jumps to the header. The current block
    /// must be terminated; every other predecessor of `header` must exist already (the
    /// header is sealed here). `None` without checks (back-edges go to the header).
    pub(super) fn back_edge_block(&mut self, header: Block, params: &[Type]) -> Option<Block> {
        if !self.bounds.any() || (self.unchecked && self.fuel_var.is_none()) {
            return None;
        }
        let check = self.new_block_with(params);
        self.b.switch_to_block(check);
        let args: Vec<BlockArg> = self
            .b
            .block_params(check)
            .iter()
            .map(|v| BlockArg::Value(*v))
            .collect();
        self.bound_checks();
        self.b.ins().jump(header, &args);
        self.b.seal_block(header);
        Some(check)
    }
}

impl Translator<'_, '_> {
    /// Loop versioning of counted loop `cl` (its `loop` operator was just read): emits the
    /// guard (fuel: the remaining fuel covers the most back-edges the loop can take;
    /// interrupt: those trips run at most [`UNCHECKED_OPS`] operators), branching to the
    /// unchecked copy (translated second, see `translate_end`) when it holds, and starts
    /// the checked copy. Both copies charge 1 fuel per taken back-edge, so the fuel left
    /// at every exit is the same as without versioning.
    pub(super) fn begin_versioned_loop(
        &mut self,
        cl: &CountedLoop,
        blockty: wasmparser::BlockType,
    ) -> Result<()> {
        let trips = self.max_trips(cl)?;
        let mut ok = None;
        if let Some(var) = self.fuel_var {
            let f = self.b.use_var(var);
            ok = Some(
                self.b
                    .ins()
                    .icmp(IntCC::UnsignedGreaterThanOrEqual, f, trips),
            );
        } else if self.bounds.fuel {
            return Err(TranslateError::Invalid(
                "fuel in a loop without its variable",
            ));
        }
        let chunk = (self.bounds.interrupt && chunkable(cl)).then_some(*cl);
        if self.bounds.interrupt && chunk.is_none() {
            let most = chunk_trips(cl);
            let short = self.b.ins().icmp_imm_s(
                IntCC::UnsignedLessThanOrEqual,
                trips,
                i64::try_from(most).unwrap_or(i64::MAX),
            );
            ok = Some(match ok {
                Some(o) => self.b.ins().band(o, short),
                None => short,
            });
        }
        if chunk.is_some() {
            // Chunks: any trip count, as long as the loop ends (a value that may wrap
            // around or a step of 0 keep the checked copy, see `max_trips`), so that
            // the last chunk, up to the bound itself, is short too.
            let ends = self.b.ins().icmp_imm_s(IntCC::NotEqual, trips, -1);
            ok = Some(match ok {
                Some(o) => self.b.ins().band(o, ends),
                None => ends,
            });
        }
        let ok = ok.ok_or(TranslateError::Invalid("versioned loop without checks"))?;
        let fast = self.b.create_block();
        let slow = self.b.create_block();
        self.b.ins().brif(ok, fast, &[], slow, &[]);
        self.b.seal_block(fast);
        self.b.seal_block(slow);
        self.b.switch_to_block(slow);
        self.version = Some(Version {
            depth: self.control.len() + 1,
            blockty,
            fast,
            stack: self.stack.clone(),
            rewind: false,
            second: false,
            chunk,
        });
        self.translate_loop_into(blockty, None)
    }

    /// The most back-edges counted loop `cl` can take from here, as an `i64` read as
    /// unsigned (all ones: unbounded).
    fn max_trips(&mut self, cl: &CountedLoop) -> Result<Value> {
        let ty = cl.ty();
        // First value the condition sees, and the bound.
        let (s, n) = self.chunk_operands(cl, true)?;
        let step_var = match cl.step_local {
            Some(l) => Some(self.typed_local(l, ty)?),
            None => None,
        };
        // Signed comparisons become unsigned ones with the sign bit flipped on both sides
        // (the step commutes with the flip).
        let (s, n) = if cl.signed() {
            let bit = cl.sign_bit();
            (
                self.b.ins().bxor_imm_s(s, bit),
                self.b.ins().bxor_imm_s(n, bit),
            )
        } else {
            (s, n)
        };
        let zero = self.b.ins().iconst(ty, 0);
        let widen = |t: &mut Self, v: Value| {
            if cl.wide {
                v
            } else {
                t.b.ins().uextend(I64, v)
            }
        };
        // Trips at step c (|c| = m >= 2^k): `ne` hits the bound after d / m back-edges
        // if m divides d = the distance in the step's direction (modular: wrapping is
        // fine), else never; `<`/`>` take ceil(d / m) <= ((d - 1) >> k) + 1 and `<=`/`>=`
        // floor(d / m) + 1 <= (d >> k) + 1, as long as the value cannot wrap around
        // before the condition fails (else: unbounded).
        let m = cl.step.unsigned_abs();
        let k = i64::from(m.ilog2());
        let max = cl.max_unsigned();
        let imm = |v: u64| cl.imm(v);
        let (lo, hi) = if cl.step > 0 { (s, n) } else { (n, s) };
        let d = self.b.ins().isub(hi, lo);
        if let Some(m) = step_var {
            // A step held in a local, m >= 2^k with k = floor(log2 m): upward only, as
            // above with m at run time; unbounded when m = 0 or the value could wrap.
            let bits = if cl.wide { 63 } else { 31 };
            let lz = self.b.ins().clz(m);
            let top = self.b.ins().iconst(ty, bits);
            let k = self.b.ins().isub(top, lz);
            let lt = matches!(cl.cont, Cont::Lt { .. });
            let (pos, dd, lim) = if lt {
                let pos = self.b.ins().icmp(IntCC::UnsignedLessThan, lo, hi);
                let d1 = self.b.ins().iadd_imm_s(d, -1);
                // x < n <= 2^w - m keeps x + m in range.
                let lim = self.b.ins().ineg(m);
                (pos, d1, lim)
            } else {
                let pos = self.b.ins().icmp(IntCC::UnsignedLessThanOrEqual, lo, hi);
                // x <= n <= MAX - m.
                let lim = self.b.ins().bnot(m);
                (pos, d, lim)
            };
            let t = self.b.ins().ushr(dd, k);
            let t = self.b.ins().select(pos, t, zero);
            let t = widen(self, t);
            let one = self.b.ins().uextend(I64, pos);
            let t = self.b.ins().iadd(t, one);
            let wraps = self.b.ins().icmp(IntCC::UnsignedGreaterThan, n, lim);
            let stuck = self.b.ins().icmp_imm_s(IntCC::Equal, m, 0);
            let never = self.b.ins().bor(wraps, stuck);
            let all = self.b.ins().iconst(I64, -1);
            return Ok(self.b.ins().select(never, all, t));
        }
        let (trips, never) = match cl.cont {
            Cont::Ne => {
                let t = self.b.ins().ushr_imm_s(d, k);
                let t = widen(self, t);
                let never = (m > 1).then(|| self.b.ins().band_imm_s(d, imm(m - 1)));
                (t, never)
            }
            Cont::Lt { .. } | Cont::Gt { .. } => {
                let pos = self.b.ins().icmp(IntCC::UnsignedLessThan, lo, hi);
                let d1 = self.b.ins().iadd_imm_s(d, -1);
                let t = self.b.ins().ushr_imm_s(d1, k);
                let t = self.b.ins().select(pos, t, zero);
                let t = widen(self, t);
                let one = self.b.ins().uextend(I64, pos);
                let t = self.b.ins().iadd(t, one);
                // Upward: x < n <= MAX - m + 1 keeps x + m in range; downward: x > n >=
                // m - 1 keeps x - m >= 0.
                let never = if cl.step > 0 {
                    (m > 1).then(|| {
                        self.b
                            .ins()
                            .icmp_imm_s(IntCC::UnsignedGreaterThan, n, imm(max - m + 1))
                    })
                } else {
                    (m > 1).then(|| {
                        self.b
                            .ins()
                            .icmp_imm_s(IntCC::UnsignedLessThan, n, imm(m - 1))
                    })
                };
                (t, never)
            }
            Cont::Le { .. } | Cont::Ge { .. } => {
                let pos = self.b.ins().icmp(IntCC::UnsignedLessThanOrEqual, lo, hi);
                let t = self.b.ins().ushr_imm_s(d, k);
                let t = self.b.ins().select(pos, t, zero);
                let t = widen(self, t);
                let one = self.b.ins().uextend(I64, pos);
                let t = self.b.ins().iadd(t, one);
                // `x <= n` with n > MAX - m (`x >= n` with n < m going down) may wrap.
                let never = if cl.step > 0 {
                    self.b
                        .ins()
                        .icmp_imm_s(IntCC::UnsignedGreaterThan, n, imm(max - m))
                } else {
                    self.b.ins().icmp_imm_s(IntCC::UnsignedLessThan, n, imm(m))
                };
                (t, Some(never))
            }
        };
        Ok(match never {
            Some(never) => {
                let all = self.b.ins().iconst(I64, -1);
                self.b.ins().select(never, all, trips)
            }
            None => trips,
        })
    }
}

/// Interrupt chunks in the unchecked copy of a versioned loop (interrupts on): the loop's
/// test compares the induction with a chunk limit instead of its bound, at most
/// [`chunk_trips`] trips ahead (never past the bound), and when the limit stops the loop
/// before the bound would, a cold path checks the interrupt flag, computes the next limit
/// and carries on. A trip costs what it costs without checks: the limit is a register
/// where the bound was a register or a constant.
pub(super) struct Chunk {
    cl: CountedLoop,
    /// Operators of the body read so far.
    pos: usize,
    /// The chunk limit (the induction's type).
    limit: Variable,
    /// The test's compare against the real bound, from the compare to its `br_if`.
    real: Option<Value>,
}

/// Whether counted loop `cl` can run in interrupt chunks: a compare with an order (`ne`
/// cannot stop early without missing the bound).
fn chunkable(cl: &CountedLoop) -> bool {
    cl.cmp.is_some() && cl.cont != Cont::Ne
}

/// Trips between two interrupt checks of loop `cl`: at most [`UNCHECKED_OPS`] operators.
fn chunk_trips(cl: &CountedLoop) -> u64 {
    UNCHECKED_OPS / (cl.ops as u64).max(1)
}

impl Translator<'_, '_> {
    /// Local `l`'s current value, which must be of type `ty`.
    fn typed_local(&mut self, l: u32, ty: Type) -> Result<Value> {
        let v = self
            .locals
            .get(l as usize)
            .map(|(v, _)| *v)
            .ok_or(TranslateError::Invalid("counted loop: local out of range"))?;
        let v = self.b.use_var(v);
        if self.b.func.dfg.value_type(v) != ty {
            return Err(TranslateError::Invalid(
                "counted loop: operand types differ",
            ));
        }
        Ok(v)
    }

    /// The induction value the test compares next and the bound. `entry`: at the loop's
    /// entry (a do-while test sees the stepped value), else at the test (the local holds
    /// what it compared).
    fn chunk_operands(&mut self, cl: &CountedLoop, entry: bool) -> Result<(Value, Value)> {
        let ty = cl.ty();
        let mut x = self.typed_local(cl.var, ty)?;
        if entry && cl.after_step {
            x = match cl.step_local {
                Some(l) => {
                    let m = self.typed_local(l, ty)?;
                    self.b.ins().iadd(x, m)
                }
                None => self.b.ins().iadd_imm_s(x, cl.step),
            };
        }
        let n = match cl.bound {
            Bound::Local(l) => self.typed_local(l, ty)?,
            Bound::Const(k) => self.b.ins().iconst(ty, k),
        };
        Ok((x, n))
    }

    /// The chunk limit from induction value `x` and bound `n`: `x + C * step` when that
    /// is strictly between them (C = [`chunk_trips`]), else `n`. Never past `n` in the
    /// step's direction, so the test against it holds only where the test against `n`
    /// holds; and when the test against `n` holds at `x`, the one against the limit holds
    /// too (the next chunk makes progress).
    fn chunk_limit(&mut self, cl: &CountedLoop, x: Value, n: Value) -> Result<Value> {
        let signed = cl.signed();
        let bit = cl.sign_bit();
        let (x, n) = if signed {
            (
                self.b.ins().bxor_imm_s(x, bit),
                self.b.ins().bxor_imm_s(n, bit),
            )
        } else {
            (x, n)
        };
        let max = cl.max_unsigned();
        let imm = |v: u64| cl.imm(v);
        // The distance a chunk covers, at most the type's range (then no limit is ever
        // strictly between: the loop runs at most C trips anyway).
        let span = chunk_trips(cl)
            .saturating_mul(cl.step.unsigned_abs())
            .min(max);
        if let Some(sl) = cl.step_local {
            // A step held in a local (upward only): the span is m << k with 2^k <= C,
            // unlimited (no limit strictly between) when it does not fit the type.
            let m = self.typed_local(sl, cl.ty())?;
            let k = i64::from(chunk_trips(cl).ilog2());
            let towards = self.b.ins().icmp(IntCC::UnsignedLessThanOrEqual, x, n);
            let d = self.b.ins().isub(n, x);
            let (far, span) = if cl.wide {
                let span = self.b.ins().ishl_imm_s(m, k);
                let fits = self.b.ins().icmp_imm_s(
                    IntCC::UnsignedLessThanOrEqual,
                    m,
                    (u64::MAX >> k) as i64,
                );
                let beyond = self.b.ins().icmp(IntCC::UnsignedGreaterThan, d, span);
                (self.b.ins().band(fits, beyond), span)
            } else {
                let m = self.b.ins().uextend(I64, m);
                let span = self.b.ins().ishl_imm_s(m, k);
                let d = self.b.ins().uextend(I64, d);
                // A span of 2^32 or more is never below the distance.
                let far = self.b.ins().icmp(IntCC::UnsignedGreaterThan, d, span);
                (far, self.b.ins().ireduce(I32, span))
            };
            let next = self.b.ins().iadd(x, span);
            let inside = self.b.ins().band(towards, far);
            let l = self.b.ins().select(inside, next, n);
            return Ok(if signed {
                self.b.ins().bxor_imm_s(l, bit)
            } else {
                l
            });
        }
        let (towards, d, next) = if cl.step > 0 {
            let t = self.b.ins().icmp(IntCC::UnsignedLessThanOrEqual, x, n);
            let d = self.b.ins().isub(n, x);
            let next = self.b.ins().iadd_imm_s(x, imm(span));
            (t, d, next)
        } else {
            let t = self.b.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, x, n);
            let d = self.b.ins().isub(x, n);
            let next = self.b.ins().iadd_imm_s(x, imm(span.wrapping_neg()));
            (t, d, next)
        };
        let far = self
            .b
            .ins()
            .icmp_imm_s(IntCC::UnsignedGreaterThan, d, imm(span));
        let inside = self.b.ins().band(towards, far);
        let l = self.b.ins().select(inside, next, n);
        Ok(if signed {
            self.b.ins().bxor_imm_s(l, bit)
        } else {
            l
        })
    }

    /// Starts the chunks of the unchecked copy of `cl` (in the block the guard branches
    /// to, before the copy's header): the first limit.
    pub(super) fn begin_chunks(&mut self, cl: CountedLoop) -> Result<()> {
        let limit = self.b.declare_var(cl.ty());
        let (x, n) = self.chunk_operands(&cl, true)?;
        let l = self.chunk_limit(&cl, x, n)?;
        self.b.def_var(limit, l);
        self.chunk = Some(Chunk {
            cl,
            pos: 0,
            limit,
            real: None,
        });
        Ok(())
    }

    /// The end of a chunk whose loop goes on: the interrupt check and the next limit.
    fn chunk_boundary(&mut self, cl: &CountedLoop, limit: Variable) -> Result<()> {
        let ctx = self
            .bounds_ctx
            .ok_or(TranslateError::Invalid("chunked loop without checks"))?;
        self.interrupt_check(ctx);
        if let Some(b) = self.b.current_block() {
            self.b.set_cold_block(b);
        }
        let (x, n) = self.chunk_operands(cl, false)?;
        let l = self.chunk_limit(cl, x, n)?;
        self.b.def_var(limit, l);
        Ok(())
    }

    /// In the unchecked copy of a chunked loop, translates the test's compare and its
    /// `br_if` (`op`, the next operator of the body); `false` for any other operator,
    /// which the caller translates. Called for every operator of the copy.
    pub(super) fn chunk_op(&mut self, op: &Operator<'_>) -> Result<bool> {
        let Some(ch) = self.chunk.as_mut() else {
            return Ok(false);
        };
        let pos = ch.pos;
        ch.pos += 1;
        let (cl, limit) = (ch.cl, ch.limit);
        let Some((at, bound_lhs)) = cl.cmp else {
            return Ok(false);
        };
        if !self.reachable {
            return Ok(false);
        }
        if pos == at {
            let b = self.pop()?;
            let a = self.pop()?;
            self.push(a);
            self.push(b);
            self.translate_op(op.clone())?;
            let real = self.pop()?;
            let l = self.b.use_var(limit);
            if bound_lhs {
                self.push(l);
                self.push(b);
            } else {
                self.push(a);
                self.push(l);
            }
            self.translate_op(op.clone())?;
            if let Some(ch) = self.chunk.as_mut() {
                ch.real = Some(real);
            }
            return Ok(true);
        }
        if pos != at + 1 {
            return Ok(false);
        }
        let (Operator::BrIf { relative_depth }, Some(real)) =
            (op, self.chunk.as_mut().and_then(|c| c.real.take()))
        else {
            return Ok(false);
        };
        let depth = *relative_depth;
        if depth == 0 {
            // Do-while: the back-edge while the test against the limit holds; where it
            // fails, the loop goes on if the test against the bound holds.
            self.translate_br_if(0)?;
            let more = self.b.create_block();
            let done = self.b.create_block();
            self.b.set_cold_block(more);
            self.b.ins().brif(real, more, &[], done, &[]);
            self.b.seal_block(more);
            self.b.switch_to_block(more);
            self.chunk_boundary(&cl, limit)?;
            self.translate_br(0)?;
            self.reachable = true;
            self.b.seal_block(done);
            self.b.switch_to_block(done);
        } else {
            // While: the exit test against the limit; where it holds, the loop exits if
            // the test against the bound holds, else the trip goes on.
            let fast = self.pop()?;
            let slow = self.b.create_block();
            let cont = self.b.create_block();
            self.b.set_cold_block(slow);
            self.b.ins().brif(fast, slow, &[], cont, &[]);
            self.b.seal_block(slow);
            self.b.switch_to_block(slow);
            self.push(real);
            self.translate_br_if(depth)?;
            if let Some(b) = self.b.current_block() {
                self.b.set_cold_block(b);
            }
            self.chunk_boundary(&cl, limit)?;
            self.b.ins().jump(cont, &[]);
            self.b.seal_block(cont);
            self.b.switch_to_block(cont);
        }
        Ok(true)
    }
}
