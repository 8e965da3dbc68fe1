//! Exception handling in compiled code (docs/ABI.md, "Exceptions"): explicit propagation,
//! no unwinder.
//!
//! Only functions of a module that uses exceptions ([`super::ModuleInfo::exceptions`]) are
//! translated this way ("aware" functions); every other function's code is unchanged.
//!
//! * A `throw` calls the runtime's `throw` function (the exception becomes the store's
//!   pending one) and jumps to the handler of the throw site.
//! * The handler of a site is the dispatch block of the innermost enclosing `try_table`: one
//!   `catch` call per clause, in order (the runtime compares the pending exception's tag
//!   with the clause's and takes it); a match branches to the clause's label with the
//!   payload and/or the `exnref`; no match goes on to the next enclosing `try_table`, and
//!   past the outermost one to the function's *uncaught* exit.
//! * The uncaught exit returns to the caller with `TrapContext::exn_pending` set when the
//!   caller asked for it (its own `FuncRef` argument has bit 0 set: only aware callers set
//!   it, and only for callees whose `FuncRef` carries `FUNC_REF_FLAG_EXN`); otherwise it
//!   raises `TrapCode::Exception`, which unwinds to the innermost `trap::enter` like any
//!   trap (the caller is unaware compiled code, a trampoline, the interpreter or the host).
//! * A call in an aware function to an aware callee passes the tagged `FuncRef` and tests
//!   `exn_pending` afterwards (clearing it and going to the handler when set). A call to
//!   any other callee (host functions, interpreted functions, compiled code of other
//!   modules) goes through its array entry, which returns a status (compiled array entries
//!   enter through `trap::enter`): `Exception` goes to the handler, another non-zero status
//!   is raised again.
//! * A tail call passes the caller's bit on to an aware callee; to another callee it is a
//!   plain tail call when the caller is unaware, else a call through the array entry and a
//!   return (the handlers of the frame do not apply either way).

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::{I32, I64};
use cranelift_codegen::ir::{
    self, AbiParam, Block, BlockArg, InstBuilder, SigRef, StackSlotData, StackSlotKind, Type, Value,
};
use runtime_loader::TrapCode;
use runtime_loader::abi;
use runtime_loader::trap::{TRAP_CTX_EXN_FNS, TRAP_CTX_EXN_PENDING};
use wasmparser::{Catch, TryTable};

use super::{Result, Translator, block_args, slot_flags, slots_of};
use crate::clif::env::{exn_fn, readonly, trusted};
use crate::clif::{TranslateError, clif_type, widen};

use crate::runtime::exn::compiled;

// Catch clause kinds passed to the runtime's `catch`.
const CATCH_TAG: i64 = compiled::CATCH_TAG as i64;
const CATCH_TAG_REF: i64 = compiled::CATCH_TAG_REF as i64;
const CATCH_ALL: i64 = compiled::CATCH_ALL as i64;
const CATCH_ALL_REF: i64 = compiled::CATCH_ALL_REF as i64;

/// Per-function state of an aware function.
pub(super) struct ExnState {
    /// Bit 0 of the function's `FuncRef` argument: the caller takes an uncaught exception
    /// through `exn_pending` (always 0 in an OSR entry).
    pub(super) caller_bit: Value,
    /// The uncaught exit, created on first use and filled in `finish`.
    pub(super) uncaught: Option<Block>,
    /// Cold block raising its parameter (a callee's trap status) unchanged.
    pub(super) reraise: Option<Block>,
}

/// One open `try_table`.
pub(super) struct TryFrame {
    /// Its index in the control stack.
    pub(super) index: usize,
    /// `(kind, tag, target block, target's control index, payload types)` of every
    /// clause, in order.
    pub(super) clauses: Vec<(i64, u32, Block, usize, Vec<Type>)>,
    /// Its dispatch block, created when a site inside needs it, filled at its `end`.
    pub(super) dispatch: Option<Block>,
    /// The handler the dispatch falls back to (set with `dispatch`).
    pub(super) parent: Option<Block>,
}

impl Translator<'_, '_> {
    /// Sets up an aware function's state from its `FuncRef` parameter (masks the bit off
    /// `self.callee`). Nothing for an unaware function.
    pub(super) fn exn_setup(&mut self, raw_callee: Value) {
        if !self.info.exceptions {
            return;
        }
        if !self.env.exceptions() {
            return;
        }
        let caller_bit = if self.osr.is_some() {
            self.b.ins().iconst(I64, 0)
        } else {
            self.callee = self.b.ins().band_imm_s(raw_callee, !1);
            self.b.ins().band_imm_s(raw_callee, 1)
        };
        self.exn = Some(ExnState {
            caller_bit,
            uncaught: None,
            reraise: None,
        });
    }

    fn exn_check(&self) -> Result<()> {
        match self.exn {
            Some(_) => Ok(()),
            None => Err(TranslateError::Unsupported("exception handling")),
        }
    }

    /// The payload types of tag `tag`.
    fn tag_payload(&self, tag: u32) -> Result<Vec<Type>> {
        let ty = *self
            .info
            .tags
            .get(tag as usize)
            .ok_or(TranslateError::Invalid("tag index out of range"))?;
        self.info
            .types
            .get(ty as usize)
            .ok_or(TranslateError::Invalid("tag type out of range"))?
            .params()
            .iter()
            .map(|t| clif_type(*t))
            .collect()
    }

    /// A stack slot of `slots` 8-byte value slots (at least one); its address.
    fn value_slots(&mut self, slots: usize) -> Value {
        let ss = self.b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            (slots.max(1) * 8) as u32,
            3,
        ));
        self.b.ins().stack_addr(I64, ss, 0)
    }

    /// Stores `vals` to consecutive value slots at `addr` (array ABI layout).
    fn store_slots(&mut self, addr: Value, vals: &[Value]) {
        let mut slot = 0;
        for v in vals {
            let ty = self.b.func.dfg.value_type(*v);
            let w = widen(&mut self.b, *v);
            self.b
                .ins()
                .store(slot_flags(ty), w, addr, (slot * 8) as i32);
            slot += slots_of(ty);
        }
    }

    /// Loads values of types `tys` from consecutive value slots at `addr`.
    fn load_slots(&mut self, addr: Value, tys: &[Type]) -> Vec<Value> {
        let mut slot = 0;
        let mut out = Vec::with_capacity(tys.len());
        for t in tys {
            out.push(
                self.b
                    .ins()
                    .load(*t, slot_flags(*t), addr, (slot * 8) as i32),
            );
            slot += slots_of(*t);
        }
        out
    }

    /// Calls entry `which` ([`exn_fn`]) of the embedder's exception functions (platform
    /// convention).
    fn exn_call(
        &mut self,
        which: usize,
        params: &[Type],
        ret: Option<Type>,
        args: &[Value],
    ) -> Option<Value> {
        let mut sig = ir::Signature::new(self.env.call_conv());
        sig.params.extend(params.iter().map(|t| AbiParam::new(*t)));
        sig.returns.extend(ret.map(AbiParam::new));
        let sig = self.b.import_signature(sig);
        let ctx = self.trap_ctx();
        let table = self.b.ins().load(I64, readonly(), ctx, TRAP_CTX_EXN_FNS);
        let f = self
            .b
            .ins()
            .load(I64, readonly(), table, (which * 8) as i32);
        let call = self.b.ins().call_indirect(sig, f, args);
        self.b.inst_results(call).first().copied()
    }

    /// The handler of the current site: the innermost `try_table`'s dispatch, else the
    /// uncaught exit.
    fn handler(&mut self) -> Block {
        self.handler_of(self.tries.len())
    }

    /// The handler of a site inside the first `n` open `try_table`s.
    fn handler_of(&mut self, n: usize) -> Block {
        if n == 0 {
            if let Some(b) = self.exn.as_ref().and_then(|e| e.uncaught) {
                return b;
            }
            let b = self.b.create_block();
            self.b.set_cold_block(b);
            if let Some(e) = self.exn.as_mut() {
                e.uncaught = Some(b);
            }
            return b;
        }
        if let Some(d) = self.tries[n - 1].dispatch {
            return d;
        }
        let parent = self.handler_of(n - 1);
        let d = self.b.create_block();
        self.b.set_cold_block(d);
        self.tries[n - 1].dispatch = Some(d);
        self.tries[n - 1].parent = Some(parent);
        d
    }

    /// `try_table`: resolves the clauses' labels (outside the construct), opens it as a
    /// block.
    pub(super) fn translate_try_table(&mut self, t: TryTable) -> Result<()> {
        self.exn_check()?;
        let mut clauses = Vec::with_capacity(t.catches.len());
        for c in &t.catches {
            let (kind, tag, label) = match *c {
                Catch::One { tag, label } => (CATCH_TAG, tag, label),
                Catch::OneRef { tag, label } => (CATCH_TAG_REF, tag, label),
                Catch::All { label } => (CATCH_ALL, 0, label),
                Catch::AllRef { label } => (CATCH_ALL_REF, 0, label),
            };
            let payload = if matches!(kind, CATCH_TAG | CATCH_TAG_REF) {
                self.tag_payload(tag)?
            } else {
                Vec::new()
            };
            let at = self
                .control
                .len()
                .checked_sub(label as usize + 1)
                .ok_or(TranslateError::Invalid("branch depth out of range"))?;
            let (target, _) = self.control[at].branch_target();
            clauses.push((kind, tag, target, at, payload));
        }
        self.translate_block(t.ty)?;
        self.tries.push(TryFrame {
            index: self.control.len() - 1,
            clauses,
            dispatch: None,
            parent: None,
        });
        Ok(())
    }

    /// At an `end`: closes the `try_table` whose frame was just popped, filling its
    /// dispatch block (the current block is terminated).
    pub(super) fn end_try_table(&mut self) {
        if self
            .tries
            .last()
            .is_none_or(|t| t.index != self.control.len())
        {
            return;
        }
        let t = self.tries.pop().expect("checked above");
        let (Some(dispatch), Some(parent)) = (t.dispatch, t.parent) else {
            return;
        };
        self.b.switch_to_block(dispatch);
        self.b.seal_block(dispatch);
        // The callee (or the thrower) may have used fuel and grown memory.
        self.fuel_reload();
        self.heap_may_have_changed();
        for (kind, tag, target, at, payload) in t.clauses {
            if let Some(f) = self.control.get_mut(at)
                && f.kind != super::FrameKind::Loop
            {
                f.end_reachable = true;
            }
            let slots: usize = payload.iter().map(|t| slots_of(*t)).sum();
            let addr = self.value_slots(slots);
            let k = self.b.ins().iconst(I32, kind);
            let tg = self.b.ins().iconst(I32, i64::from(tag));
            let r = self
                .exn_call(
                    exn_fn::CATCH,
                    &[I64, I32, I32, I64],
                    Some(I64),
                    &[self.callee, k, tg, addr],
                )
                .expect("catch returns a value");
            let hit = self.b.create_block();
            let next = self.b.create_block();
            self.b.ins().brif(r, hit, &[], next, &[]);
            self.b.seal_block(hit);
            self.b.seal_block(next);
            self.b.switch_to_block(hit);
            let mut vals = self.load_slots(addr, &payload);
            if matches!(kind, CATCH_TAG_REF | CATCH_ALL_REF) {
                let full = self.b.ins().icmp_imm_s(IntCC::Equal, r, -1);
                self.trap_if(full, TrapCode::HostError);
                vals.push(r);
            }
            self.b.ins().jump(target, &block_args(&vals));
            self.b.switch_to_block(next);
        }
        self.b.ins().jump(parent, &[]);
    }

    /// `throw tag`.
    pub(super) fn translate_throw(&mut self, tag: u32) -> Result<()> {
        self.exn_check()?;
        let payload = self.tag_payload(tag)?;
        let vals = self.popn(payload.len())?;
        let slots: usize = payload.iter().map(|t| slots_of(*t)).sum();
        let addr = self.value_slots(slots);
        self.store_slots(addr, &vals);
        let tg = self.b.ins().iconst(I32, i64::from(tag));
        self.exn_call(
            exn_fn::THROW,
            &[I64, I32, I64],
            None,
            &[self.callee, tg, addr],
        );
        let h = self.handler();
        self.b.ins().jump(h, &[]);
        self.reachable = false;
        Ok(())
    }

    /// `throw_ref`: a null reference traps.
    pub(super) fn translate_throw_ref(&mut self) -> Result<()> {
        self.exn_check()?;
        let r = self.pop()?;
        let is_null = self.b.ins().icmp_imm_s(IntCC::Equal, r, 0);
        self.trap_if(is_null, TrapCode::NullReference);
        self.exn_call(exn_fn::THROW_REF, &[I64, I64], None, &[self.callee, r]);
        let h = self.handler();
        self.b.ins().jump(h, &[]);
        self.reachable = false;
        Ok(())
    }

    /// The trap context's address.
    fn trap_ctx(&mut self) -> Value {
        self.b
            .ins()
            .load(I64, readonly(), self.vmctx, abi::VMCTX_TRAP_CTX)
    }

    /// After a call to an aware callee: a set `exn_pending` is cleared and goes to the
    /// handler.
    fn check_pending(&mut self) {
        let ctx = self.trap_ctx();
        let flag = self.b.ins().load(I32, trusted(), ctx, TRAP_CTX_EXN_PENDING);
        let exc = self.b.create_block();
        let cont = self.b.create_block();
        self.b.set_cold_block(exc);
        self.b.ins().brif(flag, exc, &[], cont, &[]);
        self.b.seal_block(exc);
        self.b.switch_to_block(exc);
        let zero = self.b.ins().iconst(I32, 0);
        self.b
            .ins()
            .store(trusted(), zero, ctx, TRAP_CTX_EXN_PENDING);
        let h = self.handler();
        self.b.ins().jump(h, &[]);
        self.b.seal_block(cont);
        self.b.switch_to_block(cont);
    }

    /// The cold block raising a callee's status (its parameter) again.
    fn reraise_block(&mut self) -> Block {
        if let Some(b) = self.exn.as_ref().and_then(|e| e.reraise) {
            return b;
        }
        let b = self.b.create_block();
        self.b.append_block_param(b, I32);
        self.b.set_cold_block(b);
        if let Some(e) = self.exn.as_mut() {
            e.reraise = Some(b);
        }
        b
    }

    /// Calls `func_ref` through its array entry with `args`; returns the results (types
    /// `results`) on status 0. `on_exception` is where status `Exception` goes; other
    /// statuses are raised again.
    fn array_call(
        &mut self,
        func_ref: Value,
        args: &[Value],
        results: &[Type],
        on_exception: Block,
    ) -> Vec<Value> {
        let n: usize = args
            .iter()
            .map(|v| slots_of(self.b.func.dfg.value_type(*v)))
            .sum();
        let m: usize = results.iter().map(|t| slots_of(*t)).sum();
        let addr = self.value_slots(n.max(m));
        self.store_slots(addr, args);
        let array = self
            .b
            .ins()
            .load(I64, trusted(), func_ref, abi::FUNC_REF_ARRAY);
        let cvm = self
            .b
            .ins()
            .load(I64, trusted(), func_ref, abi::FUNC_REF_VMCTX);
        let sig = self
            .b
            .import_signature(super::super::array_signature(self.env.call_conv()));
        let call = self
            .b
            .ins()
            .call_indirect(sig, array, &[cvm, func_ref, addr]);
        let status = self.b.inst_results(call)[0];
        let bad = self.b.create_block();
        let ok = self.b.create_block();
        self.b.set_cold_block(bad);
        self.b.ins().brif(status, bad, &[], ok, &[]);
        self.b.seal_block(bad);
        self.b.switch_to_block(bad);
        let is_exn =
            self.b
                .ins()
                .icmp_imm_s(IntCC::Equal, status, i64::from(TrapCode::Exception as u32));
        let rr = self.reraise_block();
        self.b
            .ins()
            .brif(is_exn, on_exception, &[], rr, &[BlockArg::Value(status)]);
        self.b.seal_block(ok);
        self.b.switch_to_block(ok);
        self.load_slots(addr, results)
    }

    /// The result types of module type `type_index`.
    fn result_types(&self, type_index: u32) -> Result<Vec<Type>> {
        self.info
            .types
            .get(type_index as usize)
            .ok_or(TranslateError::Invalid("type index out of range"))?
            .results()
            .iter()
            .map(|t| clif_type(*t))
            .collect()
    }

    /// An aware function's call of `func_ref` (type `type_index`, native signature `sig`):
    /// see the module docs. `direct`: the callee is a function of this module compiled
    /// alongside (an aware direct call).
    pub(super) fn aware_call(
        &mut self,
        type_index: u32,
        sig: SigRef,
        func_ref: Value,
        direct: Option<ir::FuncRef>,
        args: &[Value],
    ) -> Result<Vec<Value>> {
        let mut all = Vec::with_capacity(args.len() + 2);
        if let Some(callee) = direct {
            let tagged = self.b.ins().bor_imm_s(func_ref, 1);
            all.push(self.vmctx);
            all.push(tagged);
            all.extend_from_slice(args);
            let call = self.b.ins().call(callee, &all);
            let r = self.b.inst_results(call).to_vec();
            self.check_pending();
            return Ok(r);
        }
        let results = self.result_types(type_index)?;
        let join = self.new_block_with(&results);
        let aware = self.b.create_block();
        let other = self.b.create_block();
        let bit = self.exn_flag(func_ref);
        self.b.ins().brif(bit, aware, &[], other, &[]);
        self.b.seal_block(aware);
        self.b.seal_block(other);
        self.b.switch_to_block(aware);
        let native = self
            .b
            .ins()
            .load(I64, trusted(), func_ref, abi::FUNC_REF_NATIVE);
        let cvm = self
            .b
            .ins()
            .load(I64, trusted(), func_ref, abi::FUNC_REF_VMCTX);
        let tagged = self.b.ins().bor_imm_s(func_ref, 1);
        all.push(cvm);
        all.push(tagged);
        all.extend_from_slice(args);
        let call = self.b.ins().call_indirect(sig, native, &all);
        let r = self.b.inst_results(call).to_vec();
        self.check_pending();
        self.b.ins().jump(join, &block_args(&r));
        self.b.switch_to_block(other);
        let h = self.handler();
        let r = self.array_call(func_ref, args, &results, h);
        self.b.ins().jump(join, &block_args(&r));
        self.b.seal_block(join);
        self.b.switch_to_block(join);
        Ok(self.b.block_params(join).to_vec())
    }

    /// The `FUNC_REF_FLAG_EXN` bit of `func_ref`'s flags: non-zero when the callee is
    /// exception-aware (takes the tagged `FuncRef` and reports through `exn_pending`).
    fn exn_flag(&mut self, func_ref: Value) -> Value {
        let flags = self
            .b
            .ins()
            .load(I32, trusted(), func_ref, abi::FUNC_REF_FLAGS);
        self.b
            .ins()
            .band_imm_s(flags, i64::from(abi::FUNC_REF_FLAG_EXN))
    }

    /// An aware function's tail call (see the module docs); terminates the block.
    pub(super) fn aware_return_call(
        &mut self,
        type_index: u32,
        sig: SigRef,
        func_ref: Value,
        direct: Option<ir::FuncRef>,
        args: &[Value],
    ) -> Result<()> {
        let caller_bit = self.exn.as_ref().map(|e| e.caller_bit).expect("aware");
        let mut all = Vec::with_capacity(args.len() + 2);
        if let Some(callee) = direct {
            let tagged = self.b.ins().bor(func_ref, caller_bit);
            all.push(self.vmctx);
            all.push(tagged);
            all.extend_from_slice(args);
            self.b.ins().return_call(callee, &all);
            return Ok(());
        }
        let results = self.result_types(type_index)?;
        let aware = self.b.create_block();
        let other = self.b.create_block();
        let plain = self.b.create_block();
        let array = self.b.create_block();
        let bit = self.exn_flag(func_ref);
        let native = self
            .b
            .ins()
            .load(I64, trusted(), func_ref, abi::FUNC_REF_NATIVE);
        let cvm = self
            .b
            .ins()
            .load(I64, trusted(), func_ref, abi::FUNC_REF_VMCTX);
        self.b.ins().brif(bit, aware, &[], other, &[]);
        self.b.seal_block(aware);
        self.b.seal_block(other);
        // Aware callee: it answers whoever called this function.
        self.b.switch_to_block(aware);
        let tagged = self.b.ins().bor(func_ref, caller_bit);
        all.push(cvm);
        all.push(tagged);
        all.extend_from_slice(args);
        self.b.ins().return_call_indirect(sig, native, &all);
        // Unaware callee, unaware caller: a plain tail call.
        self.b.switch_to_block(other);
        self.b.ins().brif(caller_bit, array, &[], plain, &[]);
        self.b.seal_block(plain);
        self.b.seal_block(array);
        self.b.switch_to_block(plain);
        all[1] = func_ref;
        self.b.ins().return_call_indirect(sig, native, &all);
        // Unaware callee, aware caller: a call through the array entry and a return.
        self.b.switch_to_block(array);
        let pending = self.b.create_block();
        self.b.set_cold_block(pending);
        let r = self.array_call(func_ref, args, &results, pending);
        self.emit_return(&r);
        self.b.seal_block(pending);
        self.b.switch_to_block(pending);
        self.return_pending(&results);
        Ok(())
    }

    /// Returns zero values of types `results` with `exn_pending` set (the caller is aware).
    fn return_pending(&mut self, results: &[Type]) {
        let ctx = self.trap_ctx();
        let one = self.b.ins().iconst(I32, 1);
        self.b
            .ins()
            .store(trusted(), one, ctx, TRAP_CTX_EXN_PENDING);
        let zeros: Vec<Value> = results.iter().map(|t| self.zero(*t)).collect();
        self.emit_return(&zeros);
    }

    /// Fills the uncaught exit and the re-raise block (from `finish`).
    pub(super) fn finish_exn(&mut self) {
        let Some(e) = self.exn.as_ref() else { return };
        let (uncaught, reraise, caller_bit) = (e.uncaught, e.reraise, e.caller_bit);
        if let Some(b) = reraise {
            self.b.switch_to_block(b);
            let status = self.b.block_params(b)[0];
            self.fuel_spill();
            self.env.raise_trap(&mut self.b, self.vmctx, status);
            self.b.ins().trap(ir::TrapCode::unwrap_user(1));
        }
        let Some(b) = uncaught else { return };
        self.b.switch_to_block(b);
        let raise = self.b.create_block();
        self.b.set_cold_block(raise);
        if self.osr.is_none() {
            let ret = self.b.create_block();
            self.b.set_cold_block(ret);
            self.b.ins().brif(caller_bit, ret, &[], raise, &[]);
            self.b.switch_to_block(ret);
            let results: Vec<Type> = self
                .b
                .func
                .signature
                .returns
                .iter()
                .map(|r| r.value_type)
                .collect();
            self.return_pending(&results);
        } else {
            self.b.ins().jump(raise, &[]);
        }
        self.b.switch_to_block(raise);
        self.fuel_spill();
        // The function the exception leaves compiled code from (the offset is unknown).
        let offset = self.b.ins().iconst(I32, 0);
        self.env
            .record_trap_site(&mut self.b, self.vmctx, self.callee, offset);
        let code = self
            .b
            .ins()
            .iconst(I32, i64::from(TrapCode::Exception as u32));
        self.env.raise_trap(&mut self.b, self.vmctx, code);
        self.b.ins().trap(ir::TrapCode::unwrap_user(1));
    }
}
