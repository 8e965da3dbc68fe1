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

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::{I32, I64};
use cranelift_codegen::ir::{Block, BlockArg, InstBuilder, MemFlagsData, Type};
use runtime_loader::TrapCode;
use runtime_loader::abi;
use runtime_loader::trap::{TRAP_CTX_FUEL, TRAP_CTX_INTERRUPT};

use super::Translator;

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
        if let Some(var) = self.fuel_var {
            let f = self.b.use_var(var);
            let f = self.b.ins().iadd_imm_s(f, -1);
            self.b.def_var(var, f);
            // Guard mode: an out-of-bounds access faults without passing a trap exit that
            // spills, so the counter in memory must be exact at every check point.
            if self.guard {
                self.b
                    .ins()
                    .store(MemFlagsData::trusted(), f, ctx, TRAP_CTX_FUEL);
            }
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
        if !self.bounds.any() {
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
