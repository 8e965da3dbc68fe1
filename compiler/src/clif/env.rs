//! The environment seam: how translated code reaches the runtime.
//!
//! Every method has a default that follows the `runtime_loader::abi` layout (the vmctx is the
//! first parameter of every compiled function; arrays of pointers hang off it). The JIT and the
//! object writer implement [`ClifEnv`] and override only what differs, typically
//! [`ClifEnv::call_direct`] (direct calls to functions compiled in the same module).
//!
//! Loads of vmctx fields that never change while an instance lives (the array pointers, the
//! per-index entries of those arrays) are `readonly` so the optimizer may hoist and merge them;
//! loads of things that can change (memory base/length after `memory.grow`, table length,
//! `FuncRef::native` after a tier-up, global cells) are plain loads.

use std::collections::HashMap;

use cranelift_codegen::ir::types::{F32, F64, I32, I64};
use cranelift_codegen::ir::{self, AbiParam, InstBuilder, MemFlagsData, SigRef, Signature, Value};
use cranelift_codegen::isa::{CallConv, TargetFrontendConfig};
use cranelift_frontend::FunctionBuilder;
use cranelift_module::{FuncId, Module};
use runtime_loader::abi;
use runtime_loader::trap::{TRAP_CTX_LAST_FUNC, TRAP_CTX_LAST_OFFSET, TRAP_CTX_STACK_LIMIT};
use target_lexicon::PointerWidth;

/// Direct calls between functions defined in one `cranelift_module::Module` (the JIT's
/// `JITModule` or the object writer's `ObjectModule`): the part of [`ClifEnv::direct_callee`]
/// both environments share.
pub struct ModuleCalls<'m, M: ?Sized> {
    /// The module the calling function is compiled into.
    pub module: &'m mut M,
    /// Wasm function index → declared function, for the functions defined in `module`.
    pub ids: &'m HashMap<u32, FuncId>,
    /// Whether callees are near enough for PC-relative calls. Object code is one section
    /// (`true`); JIT code may be spread over several mappings (`false`: absolute calls).
    pub colocated: bool,
}

impl<M: Module + ?Sized> ModuleCalls<'_, M> {
    /// Imports function `index` into `func` when it is defined in the module.
    pub fn callee(&mut self, func: &mut ir::Function, index: u32) -> Option<ir::FuncRef> {
        let id = *self.ids.get(&index)?;
        let callee = self.module.declare_func_in_func(id, func);
        func.dfg.ext_funcs[callee].colocated = self.colocated;
        Some(callee)
    }
}

/// Exception handling in compiled code (docs/ABI.md, "Exceptions"): indices into the
/// table of the embedder's `extern "C"` exception functions (`TrapContext::exn_fns`), each
/// taking the calling function's own `*const FuncRef` first: `throw(fr, tag, values)`,
/// `throw_ref(fr, exnref)` and `catch(fr, kind, tag, values) -> u64` (0: no match, 1:
/// caught, else the `exnref`; `u64::MAX`: the arena is full).
pub mod exn_fn {
    /// `throw`.
    pub const THROW: usize = 0;
    /// `throw_ref`.
    pub const THROW_REF: usize = 1;
    /// One catch clause.
    pub const CATCH: usize = 2;
    /// Entries of the table.
    pub const COUNT: usize = 3;
}

/// Widens a value to a full 8-byte slot (array-ABI arguments and results): i32/f32
/// zero-extended bits, f64 raw bits, i64 unchanged.
pub fn widen(b: &mut FunctionBuilder, v: Value) -> Value {
    match b.func.dfg.value_type(v) {
        I32 => b.ins().uextend(I64, v),
        F32 => {
            let bits = b.ins().bitcast(I32, MemFlagsData::new(), v);
            b.ins().uextend(I64, bits)
        }
        F64 => b.ins().bitcast(I64, MemFlagsData::new(), v),
        _ => v,
    }
}

/// Flags for loads of runtime structures that cannot trap and never change.
pub fn readonly() -> MemFlagsData {
    MemFlagsData::trusted().with_readonly()
}

/// Flags for loads/stores of runtime structures that cannot trap but may change.
pub fn trusted() -> MemFlagsData {
    MemFlagsData::trusted()
}

/// Loads `vmctx_array_field[index]` (an 8-byte entry of one of the vmctx pointer arrays).
fn array_entry(b: &mut FunctionBuilder, vmctx: Value, field: i32, index: u32) -> Value {
    let array = b.ins().load(I64, readonly(), vmctx, field);
    let offset = i32::try_from(u64::from(index) * 8).expect("wasm index spaces fit in i32 / 8");
    b.ins().load(I64, readonly(), array, offset)
}

/// The seam between the translator and the runtime (about ten methods; see the module docs).
pub trait ClifEnv {
    /// Calling convention of native-ABI functions, array-ABI functions and libcalls.
    fn call_conv(&self) -> CallConv;

    /// Target facts the frontend needs when finishing a function (64-bit pointers).
    fn frontend_config(&self) -> TargetFrontendConfig {
        TargetFrontendConfig {
            default_call_conv: self.call_conv(),
            pointer_width: PointerWidth::U64,
            page_size_align_log2: 12,
        }
    }

    /// Base address and current byte length of memory 0.
    fn memory_base_bound(&mut self, b: &mut FunctionBuilder, vmctx: Value) -> (Value, Value) {
        let def = b.ins().load(I64, readonly(), vmctx, abi::VMCTX_MEMORY);
        let base = b.ins().load(I64, trusted(), def, abi::MEMORY_DEF_BASE);
        let len = b.ins().load(I64, trusted(), def, abi::MEMORY_DEF_LEN);
        (base, len)
    }

    /// Base address of memory 0 (guard mode: the length is not needed).
    fn memory_base(&mut self, b: &mut FunctionBuilder, vmctx: Value) -> Value {
        let def = b.ins().load(I64, readonly(), vmctx, abi::VMCTX_MEMORY);
        b.ins().load(I64, trusted(), def, abi::MEMORY_DEF_BASE)
    }

    /// Multi-memory: the `MemoryDef` of memory `index` (through `VMContext::memories`; memory
    /// 0 keeps `VMContext::memory`).
    fn memory_def(&mut self, b: &mut FunctionBuilder, vmctx: Value, index: u32) -> Value {
        array_entry(b, vmctx, abi::VMCTX_MEMORIES, index)
    }

    /// Address of global `index`'s 8-byte cell.
    fn global_cell(&mut self, b: &mut FunctionBuilder, vmctx: Value, index: u32) -> Value {
        array_entry(b, vmctx, abi::VMCTX_GLOBALS, index)
    }

    /// Address of table `index`'s `TableDef`.
    fn table_def(&mut self, b: &mut FunctionBuilder, vmctx: Value, index: u32) -> Value {
        array_entry(b, vmctx, abi::VMCTX_TABLES, index)
    }

    /// The `*const FuncRef` of function `index` (imports included).
    fn func_ref(&mut self, b: &mut FunctionBuilder, vmctx: Value, index: u32) -> Value {
        array_entry(b, vmctx, abi::VMCTX_FUNCS, index)
    }

    /// The store-wide signature id (i32) of the module's type `type_index`.
    fn type_id(&mut self, b: &mut FunctionBuilder, vmctx: Value, type_index: u32) -> Value {
        let ids = b.ins().load(I64, readonly(), vmctx, abi::VMCTX_TYPE_IDS);
        let offset = i32::try_from(u64::from(type_index) * 4).expect("type index fits");
        b.ins().load(ir::types::I32, readonly(), ids, offset)
    }

    /// Calls through a `*const FuncRef`: loads `native` and `vmctx` at the call, so a tier-up
    /// that swaps `native` is seen by the next call. `sig` is the callee's native signature.
    fn call_func_ref(
        &mut self,
        b: &mut FunctionBuilder,
        sig: SigRef,
        func_ref: Value,
        args: &[Value],
    ) -> Vec<Value> {
        let native = b.ins().load(I64, trusted(), func_ref, abi::FUNC_REF_NATIVE);
        let callee_vmctx = b.ins().load(I64, trusted(), func_ref, abi::FUNC_REF_VMCTX);
        let mut all = Vec::with_capacity(args.len() + 2);
        all.push(callee_vmctx);
        all.push(func_ref);
        all.extend_from_slice(args);
        let call = b.ins().call_indirect(sig, native, &all);
        b.inst_results(call).to_vec()
    }

    /// The callee of a direct `call` instruction for function `index` when it is compiled into
    /// the same code module (see [`ModuleCalls`]); `None` (the default) calls through the
    /// function's `FuncRef`.
    fn direct_callee(&mut self, _func: &mut ir::Function, _index: u32) -> Option<ir::FuncRef> {
        None
    }

    /// A direct call of function `index` (`call`): a `call` instruction when
    /// [`ClifEnv::direct_callee`] knows the callee, otherwise through the `FuncRef`.
    /// Either way the callee gets its own `FuncRef` as the second argument.
    fn call_direct(
        &mut self,
        b: &mut FunctionBuilder,
        vmctx: Value,
        index: u32,
        sig: SigRef,
        args: &[Value],
    ) -> Vec<Value> {
        let func_ref = self.func_ref(b, vmctx, index);
        let Some(callee) = self.direct_callee(b.func, index) else {
            return self.call_func_ref(b, sig, func_ref, args);
        };
        let mut all = Vec::with_capacity(args.len() + 2);
        all.push(vmctx);
        all.push(func_ref);
        all.extend_from_slice(args);
        let call = b.ins().call(callee, &all);
        b.inst_results(call).to_vec()
    }

    /// Calls libcall `index` (see `abi::libcall`) with `vmctx` prepended to `args`.
    fn libcall(
        &mut self,
        b: &mut FunctionBuilder,
        vmctx: Value,
        index: usize,
        params: &[ir::Type],
        returns: &[ir::Type],
        args: &[Value],
    ) -> Vec<Value> {
        let mut sig = Signature::new(self.call_conv());
        sig.params.push(AbiParam::new(I64));
        sig.params.extend(params.iter().map(|t| AbiParam::new(*t)));
        sig.returns
            .extend(returns.iter().map(|t| AbiParam::new(*t)));
        let sig = b.import_signature(sig);
        let table = b.ins().load(I64, readonly(), vmctx, abi::VMCTX_LIBCALLS);
        let offset = i32::try_from(index * 8).expect("libcall index fits");
        let f = b.ins().load(I64, readonly(), table, offset);
        let mut all = Vec::with_capacity(args.len() + 1);
        all.push(vmctx);
        all.extend_from_slice(args);
        let call = b.ins().call_indirect(sig, f, &all);
        b.inst_results(call).to_vec()
    }

    /// The lowest stack address compiled code may use (the store's `TrapContext::stack_limit`).
    fn stack_limit(&mut self, b: &mut FunctionBuilder, vmctx: Value) -> Value {
        let ctx = b.ins().load(I64, readonly(), vmctx, abi::VMCTX_TRAP_CTX);
        b.ins().load(I64, trusted(), ctx, TRAP_CTX_STACK_LIMIT)
    }

    /// Addresses of the function's profile counters `(calls, back_edges)`, two `u64` cells,
    /// when compiled code should keep counting (the baseline tier of tiered mode, so the
    /// policy can promote it further). `None` (the default) emits no counting code.
    fn profile_counters(&mut self) -> Option<(usize, usize)> {
        None
    }

    /// With profile counters: `(hook, data, period)` asks the code to call the `extern "C"`
    /// function `hook(data, calls_cell)` whenever its call count becomes a multiple of
    /// `period` (a power of two), so the tier policy can look at it. `None` by default.
    fn tier_hook(&mut self) -> Option<(usize, usize, u64)> {
        None
    }

    /// Whether the code may call the embedder's exception functions ([`exn_fn`], through
    /// `TrapContext::exn_fns`). `false` (the default): functions with exception
    /// instructions are refused (`TranslateError::Unsupported`).
    fn exceptions(&self) -> bool {
        false
    }

    /// Records which function is about to raise a trap, and where (`callee` is the
    /// function's own `*const FuncRef`, its second parameter; `offset` the i32 wasm code
    /// offset of the trapping instruction): the default stores them in the store's
    /// `TrapContext::last_func` and `last_offset` so the host can report the location.
    fn record_trap_site(
        &mut self,
        b: &mut FunctionBuilder,
        vmctx: Value,
        callee: Value,
        offset: Value,
    ) {
        let ctx = b.ins().load(I64, readonly(), vmctx, abi::VMCTX_TRAP_CTX);
        b.ins().store(trusted(), callee, ctx, TRAP_CTX_LAST_FUNC);
        b.ins().store(trusted(), offset, ctx, TRAP_CTX_LAST_OFFSET);
    }

    /// Raises trap `code` (an i32 value): calls the `RAISE_TRAP` libcall, which does not return.
    /// The caller terminates the block afterwards.
    fn raise_trap(&mut self, b: &mut FunctionBuilder, vmctx: Value, code: Value) {
        self.libcall(
            b,
            vmctx,
            abi::libcall::RAISE_TRAP,
            &[ir::types::I32],
            &[],
            &[code],
        );
    }
}

/// The plain environment: everything through the vmctx, calls through `FuncRef::native`.
#[derive(Clone, Copy, Debug)]
pub struct VmctxEnv {
    /// Calling convention of the target.
    pub call_conv: CallConv,
}

impl ClifEnv for VmctxEnv {
    fn call_conv(&self) -> CallConv {
        self.call_conv
    }
}
