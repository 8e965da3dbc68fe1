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
        if self.bounds.interrupt {
            let most = UNCHECKED_OPS / (cl.ops as u64).max(1);
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
        });
        self.translate_loop_into(blockty, None)
    }

    /// The most back-edges counted loop `cl` can take from here, as an `i64` read as
    /// unsigned (all ones: unbounded).
    fn max_trips(&mut self, cl: &CountedLoop) -> Result<Value> {
        let ty = if cl.wide { I64 } else { I32 };
        let var = self
            .locals
            .get(cl.var as usize)
            .map(|(v, _)| *v)
            .ok_or(TranslateError::Invalid("counted loop: local out of range"))?;
        let i0 = self.b.use_var(var);
        let n = match cl.bound {
            Bound::Local(l) => {
                let v = self
                    .locals
                    .get(l as usize)
                    .map(|(v, _)| *v)
                    .ok_or(TranslateError::Invalid("counted loop: local out of range"))?;
                self.b.use_var(v)
            }
            Bound::Const(k) => self.b.ins().iconst(ty, k),
        };
        if self.b.func.dfg.value_type(i0) != ty || self.b.func.dfg.value_type(n) != ty {
            return Err(TranslateError::Invalid(
                "counted loop: operand types differ",
            ));
        }
        let step_var = match cl.step_local {
            Some(l) => {
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
                Some(v)
            }
            None => None,
        };
        // First value the condition sees.
        let s = match (cl.after_step, step_var) {
            (false, _) => i0,
            (true, Some(v)) => self.b.ins().iadd(i0, v),
            (true, None) => self.b.ins().iadd_imm_s(i0, cl.step),
        };
        // Signed comparisons become unsigned ones with the sign bit flipped on both sides
        // (the step commutes with the flip).
        let signed = matches!(
            cl.cont,
            Cont::Lt { signed: true }
                | Cont::Le { signed: true }
                | Cont::Gt { signed: true }
                | Cont::Ge { signed: true }
        );
        let (s, n) = if signed {
            let bit = if cl.wide {
                i64::MIN
            } else {
                i64::from(i32::MIN)
            };
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
        let max = if cl.wide {
            u64::MAX
        } else {
            u64::from(u32::MAX)
        };
        // An immediate of the induction's width, as Cranelift stores it (sign-extended).
        let imm = |v: u64| {
            if cl.wide {
                v as i64
            } else {
                i64::from(v as u32 as i32)
            }
        };
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
