//! Cranelift JIT tiers: wasm functions and call trampolines compiled into executable memory.
//!
//! One [`JitTier`] wraps one `cranelift_jit::JITModule` at one optimization level (a JIT
//! module cannot redefine a function, so every tier has its own). It produces:
//!
//! * **wasm functions** ([`JitTier::compile_functions`]) in the native ABI
//!   `(callee_vmctx, callee: *const FuncRef, params...) -> results`;
//! * **array→native trampolines** ([`JitTier::array_trampoline`], one per signature): an
//!   [`ArrayFn`](runtime_loader::abi::ArrayFn) that loads the parameters from the values
//!   buffer, calls `callee->native`, stores the results and returns 0. The host enters compiled
//!   code through `runtime_loader::trap::enter` with one of these;
//! * **native→array stubs** ([`JitTier::native_stub`], one per signature): a native-ABI
//!   function that spills its parameters into a stack buffer, calls `callee->array` (a host
//!   function or the interpreter), and raises the returned trap status, if any, with the
//!   `RAISE_TRAP` libcall. It is the `FuncRef::native` of functions that have no compiled code.
//!
//! Compiled code reaches libcalls only through `vmctx.libcalls`, so the JIT module resolves no
//! Rust symbols. Calls go through `FuncRef::native` (loaded at each call, so tier swaps are
//! seen) unless `direct_calls` is requested for a batch compiled once for good.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use cranelift_codegen::Context;
use cranelift_codegen::ir::types::{self, I32, I64};
use cranelift_codegen::ir::{self, Function, InstBuilder, MemFlagsData, UserFuncName, Value};
use cranelift_codegen::isa::CallConv;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{Module, ModuleError};
use runtime_loader::TrapCode;
use runtime_loader::abi;
use runtime_loader::format::MemoryMode;
use runtime_loader::instance::GUARD_MEMORY_SUPPORTED;
use runtime_loader::trap::{self, TrapContext};
use wasmparser::{FuncType, FunctionBody};

use crate::clif::{self, ClifEnv, FuncTranslator, ModuleInfo, TranslateError};

/// Optimization level of a JIT tier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OptLevel {
    /// No mid-end optimization, single-pass register allocation: the cheap first tier.
    None,
    /// Full mid-end (e-graphs: GVN, LICM, constant folding) and the backtracking allocator.
    Speed,
}

impl OptLevel {
    /// Lower-case name (`none`, `speed`).
    pub fn name(self) -> &'static str {
        match self {
            OptLevel::None => "none",
            OptLevel::Speed => "speed",
        }
    }
}

/// A JIT compilation failure.
#[derive(Debug)]
pub enum JitError {
    /// The host ISA could not be set up.
    Isa(String),
    /// The function could not be translated to CLIF.
    Translate {
        /// Function index.
        func: u32,
        /// The translator's error.
        error: TranslateError,
    },
    /// Cranelift rejected or failed to compile a function (boxed: `ModuleError` is large).
    Codegen(Box<ModuleError>),
}

impl core::fmt::Display for JitError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            JitError::Isa(e) => write!(f, "cannot set up the host ISA: {e}"),
            JitError::Translate { func, error } => write!(f, "function {func}: {error}"),
            JitError::Codegen(e) => write!(f, "code generation failed: {e}"),
        }
    }
}

impl std::error::Error for JitError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            JitError::Translate { error, .. } => Some(error),
            JitError::Codegen(e) => Some(&**e),
            JitError::Isa(_) => None,
        }
    }
}

impl From<ModuleError> for JitError {
    fn from(e: ModuleError) -> Self {
        JitError::Codegen(Box::new(e))
    }
}

/// One compiled OSR entry (see [`JitTier::compile_osr`]).
#[derive(Clone, Copy, Debug)]
pub struct CompiledOsr {
    /// The entry, an `ArrayFn` whose values buffer is the interpreter frame.
    pub entry: *const u8,
    /// Translation + code generation time.
    pub compile_time: Duration,
    /// Machine code size in bytes.
    pub code_size: usize,
}

/// One compiled wasm function.
#[derive(Clone, Copy, Debug)]
pub struct CompiledFunc {
    /// Function index in its module.
    pub func_index: u32,
    /// Native-ABI entry (for `FuncRef::native`).
    pub native: *const u8,
    /// Array-ABI entry (for `FuncRef::array`): the signature's array→native trampoline.
    pub array: *const u8,
    /// Time spent translating and compiling this function.
    pub compile_time: Duration,
    /// Machine code size in bytes.
    pub code_size: usize,
}

/// Key of the per-signature trampoline caches: the CLIF types of params and results.
type SigKey = (Vec<ir::Type>, Vec<ir::Type>);

fn sig_key(ty: &FuncType) -> Result<SigKey, TranslateError> {
    Ok((
        ty.params()
            .iter()
            .map(|t| clif::clif_type(*t))
            .collect::<Result<_, _>>()?,
        ty.results()
            .iter()
            .map(|t| clif::clif_type(*t))
            .collect::<Result<_, _>>()?,
    ))
}

/// One JIT tier: a `JITModule` at one optimization level plus trampoline caches.
pub struct JitTier {
    module: Option<JITModule>,
    opt: OptLevel,
    translator: FuncTranslator,
    builder_ctx: FunctionBuilderContext,
    ctx: Context,
    trap_ctx: *mut TrapContext,
    raw_array_trampolines: HashMap<SigKey, *const u8>,
    array_trampolines: HashMap<SigKey, *const u8>,
    native_stubs: HashMap<SigKey, *const u8>,
    /// Guard memory mode: trap sites of the compiled functions, registered with the fault
    /// handler (dropped before the code is freed).
    trap_sites: Vec<GuardRegistration>,
    /// Code ranges of the compiled functions, for the wasm backtrace (`frames`; dropped
    /// before the code is freed).
    code_ranges: Vec<frames::CodeRange>,
    /// `(hook, data)` called by counting code every `tier::HOOK_PERIOD` calls.
    tier_hook: Option<(*const u8, *const u8)>,
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
type GuardRegistration = runtime_loader::guard::Registration;
#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
type GuardRegistration = ();

impl core::fmt::Debug for JitTier {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("JitTier")
            .field("opt", &self.opt)
            .finish_non_exhaustive()
    }
}

impl Drop for JitTier {
    fn drop(&mut self) {
        self.trap_sites.clear();
        self.code_ranges.clear();
        if let Some(m) = self.module.take() {
            // SAFETY: the owner (a store) drops its tiers only after every instance whose
            // FuncRefs point into this module is gone and no compiled code is running.
            unsafe { m.free_memory() };
        }
    }
}

/// The environment used for JIT code: the default vmctx ABI, plus optional direct calls to
/// functions compiled in the same batch.
struct JitEnv<'m> {
    call_conv: CallConv,
    /// Direct calls to functions compiled in the same batch.
    calls: clif::ModuleCalls<'m, JITModule>,
    /// `FuncRef` addresses known at compile time (JIT code lives no longer than them).
    func_refs: &'m HashMap<u32, usize>,
    counters: Option<(usize, usize)>,
    tier_hook: Option<(usize, usize)>,
}

impl ClifEnv for JitEnv<'_> {
    fn call_conv(&self) -> CallConv {
        self.call_conv
    }

    fn profile_counters(&mut self) -> Option<(usize, usize)> {
        self.counters
    }

    fn tier_hook(&mut self) -> Option<(usize, usize, u64)> {
        self.tier_hook
            .map(|(f, data)| (f, data, crate::tier::HOOK_PERIOD))
    }

    fn func_ref(&mut self, b: &mut FunctionBuilder, vmctx: Value, index: u32) -> Value {
        match self.func_refs.get(&index) {
            Some(&addr) => b.ins().iconst(types::I64, addr as i64),
            None => {
                let funcs =
                    b.ins()
                        .load(types::I64, clif::env::readonly(), vmctx, abi::VMCTX_FUNCS);
                let offset = i32::try_from(u64::from(index) * 8).expect("function index fits");
                b.ins()
                    .load(types::I64, clif::env::readonly(), funcs, offset)
            }
        }
    }

    fn direct_callee(&mut self, func: &mut ir::Function, index: u32) -> Option<ir::FuncRef> {
        self.calls.callee(func, index)
    }

    fn exceptions(&self) -> bool {
        true
    }
}

impl JitTier {
    /// A new, empty tier for the host CPU.
    ///
    /// # Errors
    ///
    /// [`JitError::Isa`] if the host is not supported by Cranelift.
    ///
    /// `trap_ctx` is the store's trap context: array entries enter compiled code through it
    /// and native→array stubs raise traps into it. It must outlive every function compiled
    /// here.
    pub fn new(opt: OptLevel, trap_ctx: *mut TrapContext) -> Result<JitTier, JitError> {
        let isa_err = |e: &dyn core::fmt::Display| JitError::Isa(e.to_string());
        let mut flags = settings::builder();
        let set = |flags: &mut settings::Builder, k: &str, v: &str| {
            flags.set(k, v).map_err(|e| isa_err(&e))
        };
        set(&mut flags, "opt_level", opt.name())?;
        set(&mut flags, "is_pic", "false")?;
        set(&mut flags, "use_colocated_libcalls", "false")?;
        set(&mut flags, "enable_multi_ret_implicit_sret", "true")?;
        // Cranelift's tail calls (wasm `return_call`, see clif::tail) need frame pointers.
        set(&mut flags, "preserve_frame_pointers", "true")?;
        set(
            &mut flags,
            "enable_verifier",
            if cfg!(debug_assertions) {
                "true"
            } else {
                "false"
            },
        )?;
        set(
            &mut flags,
            "regalloc_algorithm",
            if opt == OptLevel::None {
                "single_pass"
            } else {
                "backtracking"
            },
        )?;
        let isa = cranelift_native::builder()
            .map_err(|e| isa_err(&e))?
            .finish(settings::Flags::new(flags))
            .map_err(|e| isa_err(&e))?;
        let builder = JITBuilder::with_isa(isa, cranelift_module::default_libcall_names());
        let module = JITModule::new(builder);
        let ctx = module.make_context();
        Ok(JitTier {
            module: Some(module),
            opt,
            translator: FuncTranslator::new(),
            builder_ctx: FunctionBuilderContext::new(),
            ctx,
            trap_ctx,
            raw_array_trampolines: HashMap::new(),
            array_trampolines: HashMap::new(),
            native_stubs: HashMap::new(),
            trap_sites: Vec::new(),
            code_ranges: Vec::new(),
            tier_hook: None,
        })
    }

    /// Sets the memory mode of the functions compiled from now on (checked by default).
    ///
    /// # Errors
    ///
    /// [`JitError::Isa`] if guard mode is asked for on a host without guard-page support.
    pub fn set_memory_mode(&mut self, mode: MemoryMode) -> Result<(), JitError> {
        if mode == MemoryMode::Guard && !GUARD_MEMORY_SUPPORTED {
            return Err(JitError::Isa(
                "guard-page memory needs Linux on x86-64".to_string(),
            ));
        }
        self.translator.set_memory_mode(mode);
        Ok(())
    }

    /// Sets the bounded-execution checks of the functions compiled from now on (none by
    /// default).
    pub fn set_bounds(&mut self, bounds: crate::clif::Bounds) {
        self.translator.set_bounds(bounds);
    }

    /// Makes the code compiled from now on with profile counters call `hook(data, calls)`
    /// (an `extern "C"` function) every [`crate::tier::HOOK_PERIOD`] calls; `data` must
    /// outlive the code.
    pub fn set_tier_hook(&mut self, hook: Option<(*const u8, *const u8)>) {
        self.tier_hook = hook;
    }

    /// The tier's memory mode.
    pub fn memory_mode(&self) -> MemoryMode {
        self.translator.memory_mode()
    }

    /// The tier's optimization level.
    pub fn opt_level(&self) -> OptLevel {
        self.opt
    }

    fn module(&mut self) -> &mut JITModule {
        self.module.as_mut().expect("the module lives until drop")
    }

    fn call_conv(&mut self) -> CallConv {
        self.module().isa().default_call_conv()
    }

    /// Compiles the given defined functions (`(function index, body)`) of one module and
    /// returns their entries, in the same order. With `direct_calls`, calls between functions
    /// of this batch are direct (they never pick up a later tier swap).
    ///
    /// # Errors
    ///
    /// [`JitError::Translate`] for unsupported operators, [`JitError::Codegen`] if Cranelift
    /// fails.
    pub fn compile_functions(
        &mut self,
        info: &ModuleInfo,
        funcs: &[(u32, FunctionBody<'_>)],
        direct_calls: bool,
    ) -> Result<Vec<CompiledFunc>, JitError> {
        self.compile_functions_with(info, funcs, direct_calls, &[], &[])
    }

    /// [`JitTier::compile_functions`] where `counters[i]`, when present and `Some`, gives the
    /// addresses of function `i`'s `(calls, back_edges)` u64 profile cells for the compiled
    /// code to keep counting (see `ClifEnv::profile_counters`), and `func_refs[i]`, when
    /// present and not null, the function's `FuncRef`, which must outlive the code (calls to it and
    /// `ref.func` of it use the address as a constant; a guard-mode fault in it names it).
    ///
    /// # Errors
    ///
    /// As for [`JitTier::compile_functions`].
    pub fn compile_functions_with(
        &mut self,
        info: &ModuleInfo,
        funcs: &[(u32, FunctionBody<'_>)],
        direct_calls: bool,
        counters: &[Option<(usize, usize)>],
        func_refs: &[*const abi::FuncRef],
    ) -> Result<Vec<CompiledFunc>, JitError> {
        let call_conv = self.call_conv();
        let mut ids = Vec::with_capacity(funcs.len());
        let mut direct = HashMap::new();
        for (index, _) in funcs {
            let ty = info.func_type(*index).ok_or(JitError::Translate {
                func: *index,
                error: TranslateError::Invalid("function index out of range"),
            })?;
            let sig =
                clif::native_signature(ty, call_conv).map_err(|error| JitError::Translate {
                    func: *index,
                    error,
                })?;
            let id = self.module().declare_anonymous_function(&sig)?;
            ids.push(id);
            if direct_calls {
                direct.insert(*index, id);
            }
        }
        let known_refs: HashMap<u32, usize> = funcs
            .iter()
            .zip(func_refs)
            .filter(|(_, fr)| !fr.is_null())
            .map(|((index, _), fr)| (*index, *fr as usize))
            .collect();
        let mut stats = Vec::with_capacity(funcs.len());
        let mut traps = Vec::with_capacity(funcs.len());
        for (i, ((index, body), id)) in funcs.iter().zip(&ids).enumerate() {
            let start = Instant::now();
            let module = self.module.as_mut().expect("the module lives until drop");
            self.ctx.clear();
            self.ctx.func.name = UserFuncName::user(0, *index);
            let mut env = JitEnv {
                call_conv,
                calls: clif::ModuleCalls {
                    module,
                    ids: &direct,
                    // JIT code may be spread over several mappings: use absolute calls.
                    colocated: false,
                },
                func_refs: &known_refs,
                counters: counters.get(i).copied().flatten(),
                tier_hook: self.tier_hook.map(|(f, d)| (f as usize, d as usize)),
            };
            self.translator
                .translate(info, &mut env, *index, body, &mut self.ctx.func)
                .map_err(|error| JitError::Translate {
                    func: *index,
                    error,
                })?;
            let dump = dump_code();
            if dump {
                self.ctx.set_disasm(true);
            }
            module.define_function(*id, &mut self.ctx)?;
            if dump {
                eprintln!(
                    "; function {index} ({}):\n{}",
                    self.opt.name(),
                    self.ctx.func.display()
                );
                if let Some(vcode) = self.ctx.compiled_code().and_then(|c| c.vcode.as_ref()) {
                    eprintln!("; machine code:\n{vcode}");
                }
            }
            let (size, sites) = self
                .ctx
                .compiled_code()
                .map(|c| (c.code_buffer().len(), clif::heap_trap_sites_located(c)))
                .unwrap_or_default();
            stats.push((start.elapsed(), size));
            traps.push(sites);
        }
        let start = Instant::now();
        self.module().finalize_definitions()?;
        let finalize_share = start.elapsed() / (funcs.len().max(1) as u32);
        let mut out = Vec::with_capacity(funcs.len());
        for (i, ((((index, _), id), (time, size)), sites)) in
            funcs.iter().zip(&ids).zip(stats).zip(traps).enumerate()
        {
            let ty = info.func_type(*index).expect("checked above");
            let array = self.array_trampoline(ty)?;
            let native = self.module().get_finalized_function(*id);
            let func = func_refs.get(i).copied().unwrap_or(core::ptr::null());
            self.code_ranges
                .push(frames::register(native, size, *index, func));
            if !sites.is_empty() {
                self.register_trap_sites(native, size, sites, func);
            }
            out.push(CompiledFunc {
                func_index: *index,
                native,
                array,
                compile_time: time + finalize_share,
                code_size: size,
            });
        }
        Ok(out)
    }

    /// Compiles an OSR entry of function `index` for the `loop` at module offset
    /// `loop_offset` ([`FuncTranslator::translate_osr`]; docs/ABI.md, "On-stack
    /// replacement"). `counters` as for [`JitTier::compile_functions_with`] (only
    /// back-edges are counted: the call was counted when it started); `func_ref` is the
    /// function's own `FuncRef` (embedded for self-calls and trap attribution).
    ///
    /// # Errors
    ///
    /// A [`JitError`] if the body cannot be translated (e.g. the operand stack under the
    /// loop does not hold `below` values) or compiled. `below`: the operand values of
    /// enclosing blocks under the loop, in the frame between the locals and the loop's
    /// parameters.
    #[allow(clippy::too_many_arguments)]
    pub fn compile_osr(
        &mut self,
        info: &ModuleInfo,
        index: u32,
        body: &FunctionBody<'_>,
        loop_offset: u32,
        below: u32,
        counters: Option<(usize, usize)>,
        func_ref: *const abi::FuncRef,
    ) -> Result<CompiledOsr, JitError> {
        let start = Instant::now();
        let call_conv = self.call_conv();
        let sig = clif::array_signature(call_conv);
        let id = self.module().declare_anonymous_function(&sig)?;
        let direct = HashMap::new();
        let mut known_refs = HashMap::new();
        if !func_ref.is_null() {
            known_refs.insert(index, func_ref as usize);
        }
        let module = self.module.as_mut().expect("the module lives until drop");
        self.ctx.clear();
        self.ctx.func.name = UserFuncName::user(4, index);
        let mut env = JitEnv {
            call_conv,
            calls: clif::ModuleCalls {
                module,
                ids: &direct,
                colocated: false,
            },
            func_refs: &known_refs,
            counters,
            tier_hook: self.tier_hook.map(|(f, d)| (f as usize, d as usize)),
        };
        self.translator
            .translate_osr(
                info,
                &mut env,
                index,
                body,
                loop_offset,
                below,
                &mut self.ctx.func,
            )
            .map_err(|error| JitError::Translate { func: index, error })?;
        let dump = dump_code();
        if dump {
            self.ctx.set_disasm(true);
        }
        module.define_function(id, &mut self.ctx)?;
        if dump {
            eprintln!(
                "; OSR entry of function {index} at loop 0x{loop_offset:x} ({}):\n{}",
                self.opt.name(),
                self.ctx.func.display()
            );
        }
        let (size, sites) = self
            .ctx
            .compiled_code()
            .map(|c| (c.code_buffer().len(), clif::heap_trap_sites_located(c)))
            .unwrap_or_default();
        self.module().finalize_definitions()?;
        let entry = self.module().get_finalized_function(id);
        self.code_ranges
            .push(frames::register(entry, size, index, func_ref));
        if !sites.is_empty() {
            self.register_trap_sites(entry, size, sites, func_ref);
        }
        Ok(CompiledOsr {
            entry,
            compile_time: start.elapsed(),
            code_size: size,
        })
    }

    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    fn register_trap_sites(
        &mut self,
        native: *const u8,
        size: usize,
        sites: Vec<(u32, TrapCode, u32)>,
        func: *const abi::FuncRef,
    ) {
        // SAFETY: the sites are guard-mode heap accesses of this function (Cranelift's trap
        // records); the code stays mapped until `Drop`, which drops the registration first;
        // the trap context outlives the tier (contract of `JitTier::new`); `func` is null or
        // the live FuncRef of an instance whose code this is (it lives as long as the code).
        let reg = unsafe {
            runtime_loader::guard::register_located(native, size, sites, func, self.trap_ctx)
        };
        self.trap_sites.push(reg);
    }

    #[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
    fn register_trap_sites(
        &mut self,
        _: *const u8,
        _: usize,
        _: Vec<(u32, TrapCode, u32)>,
        _: *const abi::FuncRef,
    ) {
        // Unreachable in practice: `set_memory_mode` refuses guard mode on these hosts.
    }

    /// The array entry of compiled functions of signature `ty` (compiled on first use): an
    /// [`ArrayFn`](runtime_loader::abi::ArrayFn) that is safe to call from Rust. It enters
    /// the raw array→native trampoline through `trap::enter` on the tier's trap context, so a
    /// trap in the callee returns here as a status.
    ///
    /// # Errors
    ///
    /// [`JitError::Translate`] for unsupported value types, [`JitError::Codegen`].
    pub fn array_trampoline(&mut self, ty: &FuncType) -> Result<*const u8, JitError> {
        let key = sig_key(ty).map_err(|error| JitError::Translate { func: 0, error })?;
        if let Some(p) = self.array_trampolines.get(&key) {
            return Ok(*p);
        }
        let raw = self.raw_array_trampoline(ty)?;
        let call_conv = self.call_conv();
        let mut func = Function::with_name_signature(
            UserFuncName::user(3, 0),
            clif::array_signature(call_conv),
        );
        {
            let mut b = FunctionBuilder::new(&mut func, &mut self.builder_ctx);
            let entry = b.create_block();
            b.append_block_params_for_function_params(entry);
            b.switch_to_block(entry);
            b.seal_block(entry);
            let p = b.block_params(entry).to_vec();
            let mut sig = ir::Signature::new(call_conv);
            for _ in 0..5 {
                sig.params.push(ir::AbiParam::new(I64));
            }
            sig.returns.push(ir::AbiParam::new(I32));
            let sig = b.import_signature(sig);
            let enter = b.ins().iconst(I64, trap::enter_address() as i64);
            let ctx = b.ins().iconst(I64, self.trap_ctx as i64);
            let raw = b.ins().iconst(I64, raw as i64);
            let call = b
                .ins()
                .call_indirect(sig, enter, &[ctx, raw, p[0], p[1], p[2]]);
            let status = b.inst_results(call)[0];
            b.ins().return_(&[status]);
            b.finalize(env_config(call_conv));
        }
        let p = self.define_helper(func)?;
        self.array_trampolines.insert(key, p);
        Ok(p)
    }

    /// The raw array→native trampoline for signature `ty`: must be entered through
    /// `trap::enter` (compiled code may unwind through it).
    ///
    /// # Errors
    ///
    /// [`JitError::Translate`] for unsupported value types, [`JitError::Codegen`].
    pub fn raw_array_trampoline(&mut self, ty: &FuncType) -> Result<*const u8, JitError> {
        let key = sig_key(ty).map_err(|error| JitError::Translate { func: 0, error })?;
        if let Some(p) = self.raw_array_trampolines.get(&key) {
            return Ok(*p);
        }
        let call_conv = self.call_conv();
        let native_sig = clif::native_signature(ty, call_conv)
            .map_err(|error| JitError::Translate { func: 0, error })?;
        let mut func = Function::with_name_signature(
            UserFuncName::user(1, 0),
            clif::array_signature(call_conv),
        );
        let b = FunctionBuilder::new(&mut func, &mut self.builder_ctx);
        clif::stubs::raw_array_trampoline(b, &key.0, native_sig, env_config(call_conv));
        let p = self.define_helper(func)?;
        self.raw_array_trampolines.insert(key, p);
        Ok(p)
    }

    /// The native→array stub for signature `ty` (compiled on first use).
    ///
    /// # Errors
    ///
    /// [`JitError::Translate`] for unsupported value types, [`JitError::Codegen`].
    pub fn native_stub(&mut self, ty: &FuncType) -> Result<*const u8, JitError> {
        let key = sig_key(ty).map_err(|error| JitError::Translate { func: 0, error })?;
        if let Some(p) = self.native_stubs.get(&key) {
            return Ok(*p);
        }
        let call_conv = self.call_conv();
        let native_sig = clif::native_signature(ty, call_conv)
            .map_err(|error| JitError::Translate { func: 0, error })?;
        let mut func = Function::with_name_signature(UserFuncName::user(2, 0), native_sig);
        let b = FunctionBuilder::new(&mut func, &mut self.builder_ctx);
        let trap_ctx = self.trap_ctx;
        // The callee's vmctx may be null (host functions): raise into the tier's trap
        // context directly.
        clif::stubs::native_to_array_stub(b, call_conv, env_config(call_conv), |b, _, status| {
            let mut sig = ir::Signature::new(call_conv);
            sig.params.push(ir::AbiParam::new(I64));
            sig.params.push(ir::AbiParam::new(I32));
            let sig = b.import_signature(sig);
            let raise = b.ins().iconst(I64, trap::raise_trap_in_address() as i64);
            let ctx = b.ins().iconst(I64, trap_ctx as i64);
            // The trap came from Rust code (host or interpreter): no compiled function to name.
            let null = b.ins().iconst(I64, 0);
            b.ins()
                .store(MemFlagsData::trusted(), null, ctx, trap::TRAP_CTX_LAST_FUNC);
            b.ins().call_indirect(sig, raise, &[ctx, status]);
        });
        let p = self.define_helper(func)?;
        self.native_stubs.insert(key, p);
        Ok(p)
    }

    fn define_helper(&mut self, func: Function) -> Result<*const u8, JitError> {
        let module = self.module.as_mut().expect("the module lives until drop");
        let id = module.declare_anonymous_function(&func.signature)?;
        self.ctx.clear();
        self.ctx.func = func;
        module.define_function(id, &mut self.ctx)?;
        module.finalize_definitions()?;
        Ok(module.get_finalized_function(id))
    }
}

/// Whether `BAREFLOW_JIT_DUMP` is set: every compiled wasm function's optimized CLIF and
/// machine code are printed to stderr (for inspecting the generated code).
fn dump_code() -> bool {
    static DUMP: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *DUMP.get_or_init(|| std::env::var_os("BAREFLOW_JIT_DUMP").is_some())
}

fn env_config(call_conv: CallConv) -> cranelift_codegen::isa::TargetFrontendConfig {
    clif::VmctxEnv { call_conv }.frontend_config()
}

pub(crate) mod frames;
pub mod store;

#[cfg(test)]
mod tests;
