//! Ahead-of-time export: every reachable function of a module compiled with cranelift-object
//! into one ELF64 x86-64 relocatable object, packed with the module metadata, function records
//! and trap records into a snapshot (`docs/SNAPSHOT.md`) that `runtime_loader` loads.
//!
//! * Reachability: exports, the start function, every element segment item and `ref.func`
//!   global initializer are roots; direct `call`s are followed. Unreachable functions are
//!   dropped (no symbol; their `FuncRef` has no entry) and counted in [`AotStats`].
//! * Optimization: one level for everything, or with a profile hot functions at `speed`,
//!   functions that ran but are cool at `size`, and functions that never ran at `none`
//!   (cheapest to compile), each with its own ISA. The code stays in function order (the
//!   entry table requires it: `EntryTable::parse`). Cranelift compiles the functions on one
//!   worker per core; they are defined (`define_function_bytes`) in function order, so the
//!   snapshot does not depend on the worker count.
//! * Symbols (the loader's contract, `runtime_loader::loader`): `bf_f<i>` the native entry of
//!   function `i`; `bf_r<t>` the raw array→native trampoline of type `t`; `bf_a<t>` the array
//!   entry of type `t`, which calls the import `bf_enter` (the trap trampoline) with the
//!   callee's `vmctx.trap_ctx` and `bf_r<t>`. Calls between compiled functions are direct
//!   (colocated, `R_X86_64_PLT32`); imports and `call_indirect` go through `FuncRef`s.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use cranelift_codegen::Context;
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::types::{I32, I64};
use cranelift_codegen::ir::{self, InstBuilder, MemFlagsData, UserFuncName};
use cranelift_codegen::isa::{CallConv, OwnedTargetIsa};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_module::{Linkage, Module, ModuleError, ModuleReloc, default_libcall_names};
use cranelift_object::{ObjectBuilder, ObjectModule};
use runtime_loader::abi;
use runtime_loader::format::{CodeTier, FuncRecord, Isa, MemoryMode, SnapshotBuilder, TrapRecord};
use runtime_loader::loader::{array_symbol, func_symbol};
use runtime_loader::meta::{ConstExpr, ExportKind};
use runtime_loader::meta_codec::encode_meta;

use crate::clif::{self, ClifEnv, FuncTranslator, ModuleInfo, TranslateError};
use crate::parse;
use crate::profile::Profile;

/// Optimization choice for `bareflow compile --opt`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AotOpt {
    /// Cranelift `opt_level=none` for every function.
    None,
    /// `speed` for every function.
    Speed,
    /// `speed_and_size` for every function.
    Size,
}

impl std::str::FromStr for AotOpt {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "none" => Ok(AotOpt::None),
            "speed" => Ok(AotOpt::Speed),
            "size" => Ok(AotOpt::Size),
            _ => Err(format!(
                "unknown optimization level `{s}` (none, speed, size)"
            )),
        }
    }
}

/// Options of one export.
#[derive(Clone, Debug)]
pub struct AotOptions {
    /// Level for every function (without a profile) or for functions the profile never saw.
    pub opt: AotOpt,
    /// Hot functions (at least a tenth of the hottest function's hotness: calls plus
    /// back-edges) → speed, the others that ran → size, those that never ran → none.
    pub profile: Option<Profile>,
    /// Execute in place: compile with SSE4.1 (no float rounding libcalls) and resolve every
    /// relocation at compile time, so the code runs from read-only memory unchanged.
    pub xip: bool,
    /// Memory mode of the code (header byte 7): `Checked` (explicit bounds checks) or `Guard`
    /// (faulting accesses, listed as trap records for the loader's fault handler).
    pub memory: MemoryMode,
    /// x86-64 CPU the code may use the features of (`bareflow compile --target-cpu`): a
    /// Cranelift preset (`x86-64-v2`, `x86-64-v3`, `haswell`, ...) or `native` (the compiling
    /// host's). `None` is baseline SSE2 (XIP adds SSSE3 and SSE4.1). The snapshot records the
    /// features the code was compiled with (`format::cpu`) and loaders refuse it on a CPU
    /// without them.
    pub target_cpu: Option<String>,
    /// Fuel and interrupt checks in the code (header flags `FUEL`, `INTERRUPT`; none by
    /// default, which leaves the code as without them).
    pub bounds: crate::clif::Bounds,
    /// Worker threads for Cranelift's compilation of the functions; 0: one per available
    /// core. The snapshot is the same for any count (results are defined in function order).
    pub threads: usize,
    /// Inline small (and, with a profile, hot) callees at direct call sites ([`inline`]).
    pub inline: bool,
    /// Exception handling (docs/ABI.md, "Exceptions"): compile the module's functions to
    /// propagate exceptions, calling the embedder's exception functions through
    /// `TrapContext::exn_fns`. Only the compiler's in-process snapshot mode provides them;
    /// `false` (the default) refuses functions with exception instructions.
    pub exceptions: bool,
}

impl Default for AotOptions {
    fn default() -> Self {
        AotOptions {
            opt: AotOpt::Speed,
            profile: None,
            xip: false,
            memory: MemoryMode::Checked,
            target_cpu: None,
            bounds: crate::clif::Bounds::default(),
            threads: 0,
            inline: true,
            exceptions: false,
        }
    }
}

/// What an export produced.
#[derive(Clone, Debug, Default)]
pub struct AotStats {
    /// Functions compiled.
    pub compiled: u32,
    /// Defined functions dropped as unreachable.
    pub dropped: u32,
    /// Functions compiled at `speed` / `size` / `none`.
    pub by_tier: [u32; 3],
    /// Total machine code bytes of wasm functions.
    pub code_bytes: u64,
    /// Direct call sites inlined ([`inline`]).
    pub inlined: u32,
    /// Size of the ELF object.
    pub object_bytes: usize,
    /// Size of the whole snapshot.
    pub snapshot_bytes: usize,
}

/// An export failure.
#[derive(Debug)]
pub enum AotError {
    /// A function could not be translated.
    Translate {
        /// Function index.
        func: u32,
        /// Why.
        error: TranslateError,
    },
    /// Cranelift or the object writer failed.
    Codegen(String),
    /// Writing the snapshot failed.
    Io(std::io::Error),
}

impl std::fmt::Display for AotError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AotError::Translate { func, error } => write!(f, "function {func}: {error}"),
            AotError::Codegen(e) => write!(f, "code generation failed: {e}"),
            AotError::Io(e) => write!(f, "cannot write snapshot: {e}"),
        }
    }
}

impl std::error::Error for AotError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AotError::Translate { error, .. } => Some(error),
            AotError::Io(e) => Some(e),
            AotError::Codegen(_) => None,
        }
    }
}

impl From<ModuleError> for AotError {
    fn from(e: ModuleError) -> Self {
        AotError::Codegen(format!("{e:?}"))
    }
}

fn isa(opt: &str, sse41: bool, target_cpu: Option<&str>) -> Result<OwnedTargetIsa, AotError> {
    let err = |e: &dyn std::fmt::Display| AotError::Codegen(e.to_string());
    let mut flags = settings::builder();
    for (k, v) in [
        ("opt_level", opt),
        ("is_pic", "false"),
        // Libcalls are the snapshot's own helpers (`helpers`): direct PC-relative calls
        // inside `.text`, resolved at export like calls between functions.
        ("use_colocated_libcalls", "true"),
        ("enable_multi_ret_implicit_sret", "true"),
        // Cranelift's tail calls (wasm `return_call`, see clif::tail) need frame pointers.
        ("preserve_frame_pointers", "true"),
        (
            "enable_verifier",
            if cfg!(debug_assertions) {
                "true"
            } else {
                "false"
            },
        ),
    ] {
        flags.set(k, v).map_err(|e| err(&e))?;
    }
    let mut isa =
        cranelift_codegen::isa::lookup_by_name("x86_64-unknown-none-elf").map_err(|e| err(&e))?;
    if sse41 {
        for k in ["has_sse3", "has_ssse3", "has_sse41"] {
            isa.enable(k).map_err(|e| err(&e))?;
        }
    }
    match target_cpu {
        None => {}
        Some("native") => cranelift_native::infer_native_flags(&mut isa)
            .map_err(|e| AotError::Codegen(format!("--target-cpu native: {e}")))?,
        Some(cpu) => {
            isa.enable(cpu)
                .map_err(|e| AotError::Codegen(format!("unknown --target-cpu {cpu:?}: {e}")))?;
            // The psABI levels v3 and v4 include AVX, which Cranelift's presets leave off
            // (and without it Cranelift uses no VEX encoding, AVX2 included).
            if matches!(cpu, "x86-64-v3" | "x86-64-v4") {
                isa.enable("has_avx").map_err(|e| err(&e))?;
            }
        }
    }
    isa.finish(settings::Flags::new(flags)).map_err(|e| err(&e))
}

/// The `format::cpu` bits of the features `isa` compiles for (recorded in the header).
pub fn cpu_features(isa: &dyn cranelift_codegen::isa::TargetIsa) -> u32 {
    let on = isa.isa_flags();
    runtime_loader::format::cpu::CRANELIFT_FLAGS
        .iter()
        .filter(|(_, name)| {
            on.iter()
                .any(|v| v.name == *name && v.as_bool() == Some(true))
        })
        .fold(0, |acc, (bit, _)| acc | bit)
}

/// Defined functions reachable from the module's roots.
pub fn reachable(module: &parse::Module) -> Result<Vec<bool>, AotError> {
    let meta = &module.meta;
    let nimp = meta.num_imported_funcs;
    let mut seen = vec![false; meta.funcs.len()];
    let mut work = Vec::new();
    let mut root = |f: u32, work: &mut Vec<u32>| {
        if let Some(s) = seen.get_mut(f as usize)
            && !*s
        {
            *s = true;
            work.push(f);
        }
    };
    for e in &meta.exports {
        if e.kind == ExportKind::Func {
            root(e.index, &mut work);
        }
    }
    if let Some(s) = meta.start {
        root(s, &mut work);
    }
    for e in &meta.elems {
        for item in &e.items {
            if let ConstExpr::RefFunc(f) = item {
                root(*f, &mut work);
            }
        }
    }
    for g in &meta.globals {
        if let ConstExpr::RefFunc(f) = g.init {
            root(f, &mut work);
        }
    }
    while let Some(f) = work.pop() {
        let Some(d) = f.checked_sub(nimp) else {
            continue;
        };
        let Some(body) = module.body_reader(d as usize) else {
            continue;
        };
        let mut ops = body
            .get_operators_reader()
            .map_err(|e| AotError::Translate {
                func: f,
                error: e.into(),
            })?;
        while !ops.eof() {
            let op = ops.read().map_err(|e| AotError::Translate {
                func: f,
                error: e.into(),
            })?;
            match op {
                wasmparser::Operator::Call { function_index }
                | wasmparser::Operator::ReturnCall { function_index }
                | wasmparser::Operator::RefFunc { function_index } => {
                    root(function_index, &mut work)
                }
                _ => {}
            }
        }
    }
    Ok(seen.split_off(nimp as usize))
}

/// The object-output environment: direct, colocated calls between compiled functions.
struct ObjEnv<'m> {
    call_conv: CallConv,
    calls: clif::ModuleCalls<'m, ObjectModule>,
    /// [`AotOptions::exceptions`].
    exceptions: bool,
}

impl ClifEnv for ObjEnv<'_> {
    fn call_conv(&self) -> CallConv {
        self.call_conv
    }

    fn exceptions(&self) -> bool {
        self.exceptions
    }

    fn direct_callee(&mut self, func: &mut ir::Function, index: u32) -> Option<ir::FuncRef> {
        self.calls.callee(func, index)
    }
}

fn tier_of(opts: &AotOptions, func: u32) -> CodeTier {
    let base = match opts.opt {
        AotOpt::None => CodeTier::None,
        AotOpt::Speed => CodeTier::Speed,
        AotOpt::Size => CodeTier::Size,
    };
    let Some(p) = &opts.profile else {
        return base;
    };
    let max = p.funcs.values().map(|f| f.hotness()).max().unwrap_or(0);
    match p.funcs.get(&func).map(|f| f.hotness()) {
        Some(h) if max > 0 && h.saturating_mul(10) >= max => CodeTier::Speed,
        Some(h) if h > 0 => CodeTier::Size,
        // Never ran in any profiled run: compiled fast (`opt_level=none`).
        _ => CodeTier::None,
    }
}

/// One translated function waiting for Cranelift.
struct CompileJob {
    index: u32,
    id: cranelift_module::FuncId,
    tier: CodeTier,
    func: ir::Function,
    /// Instructions of `func` that are interrupt checks (`FuncTranslator::check_insts`).
    check_insts: usize,
}

/// What the compile workers share: the ISAs per tier and the inlining candidates.
struct Shared<'a> {
    isas: &'a [OwnedTargetIsa; 3],
    /// `None`: no inlining.
    candidates: Option<&'a HashMap<u32, inline::Candidate>>,
    profiled: bool,
}

/// One function's machine code, ready for `define_function_bytes`.
struct CompiledFunc {
    index: u32,
    id: cranelift_module::FuncId,
    tier: CodeTier,
    alignment: u64,
    bytes: Vec<u8>,
    relocs: Vec<ModuleReloc>,
    traps: Vec<(u32, runtime_loader::TrapCode)>,
    inlined: u32,
}

fn compile_one(
    job: CompileJob,
    sh: &Shared<'_>,
    ctx: &mut Context,
) -> Result<CompiledFunc, AotError> {
    let isa = match job.tier {
        CodeTier::None => &sh.isas[0],
        CodeTier::Speed => &sh.isas[1],
        CodeTier::Size => &sh.isas[2],
    };
    ctx.clear();
    ctx.func = job.func;
    let mut inlined = 0;
    if let Some(candidates) = sh.candidates.filter(|_| job.tier != CodeTier::None) {
        let mut inl = inline::Inliner {
            candidates,
            hot_caller: job.tier == CodeTier::Speed,
            profiled: sh.profiled,
            added: 0,
            inlined: 0,
        };
        ctx.inline(&mut inl)
            .map_err(|e| AotError::Codegen(format!("function {}: inlining: {e:?}", job.index)))?;
        inlined = inl.inlined;
    }
    ctx.compile(&**isa, &mut ControlPlane::default())
        .map_err(|e| AotError::Codegen(format!("function {}: {:?}", job.index, e.inner)))?;
    let code = ctx.compiled_code().expect("just compiled");
    let traps = clif::heap_trap_sites(code.buffer.traps());
    let relocs = code
        .buffer
        .relocs()
        .iter()
        .map(|r| ModuleReloc::from_mach_reloc(r, &ctx.func, job.id))
        .collect();
    Ok(CompiledFunc {
        index: job.index,
        id: job.id,
        tier: job.tier,
        alignment: code.buffer.alignment as u64,
        bytes: code.buffer.data().to_vec(),
        relocs,
        traps,
        inlined,
    })
}

/// Compiles `jobs` on `threads` worker threads (0: one per available core) (each with its own
/// Cranelift context), taking the next function from a shared counter. Returns the results
/// in `jobs` order; the first error (in that order) wins.
fn compile_parallel(
    jobs: Vec<CompileJob>,
    sh: &Shared<'_>,
    threads: usize,
) -> Result<Vec<CompiledFunc>, AotError> {
    use std::sync::Mutex;
    let n = jobs.len();
    let workers = match threads {
        0 => std::thread::available_parallelism().map_or(1, |w| w.get()),
        t => t,
    }
    .min(n);
    if workers <= 1 {
        let mut ctx = Context::new();
        return jobs
            .into_iter()
            .map(|j| compile_one(j, sh, &mut ctx))
            .collect();
    }
    // One queue of (index, job); each worker returns what it compiled, placed back in
    // `jobs` order below.
    let queue = Mutex::new(jobs.into_iter().enumerate());
    let mut results: Vec<Option<Result<CompiledFunc, AotError>>> = (0..n).map(|_| None).collect();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut ctx = Context::new();
                    let mut done = Vec::new();
                    loop {
                        let next = queue.lock().unwrap_or_else(|e| e.into_inner()).next();
                        let Some((i, job)) = next else { break };
                        done.push((i, compile_one(job, sh, &mut ctx)));
                    }
                    done
                })
            })
            .collect();
        for w in workers {
            // A panicking worker re-raises its panic here, as a sequential compile would.
            let done = w.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
            for (i, r) in done {
                results[i] = Some(r);
            }
        }
    });
    results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(AotError::Codegen("a compile worker stopped".into()))))
        .collect()
}

/// Compiles `module` into snapshot bytes.
///
/// # Errors
/// [`AotError::Translate`] or [`AotError::Codegen`].
pub fn compile(module: &parse::Module, opts: &AotOptions) -> Result<(Vec<u8>, AotStats), AotError> {
    let meta = &module.meta;
    let info = if opts.exceptions {
        ModuleInfo::from_module(module, true)
    } else {
        ModuleInfo::from_meta(meta)
    };
    let sse41 = opts.xip;
    let cpu = opts.target_cpu.as_deref();
    let isas = [
        isa("none", sse41, cpu)?,
        isa("speed", sse41, cpu)?,
        isa("speed_and_size", sse41, cpu)?,
    ];
    let cpu_flags = cpu_features(&*isas[1]);
    let call_conv = isas[0].default_call_conv();
    let frontend = clif::VmctxEnv { call_conv }.frontend_config();
    let builder = ObjectBuilder::new(
        isa("speed", sse41, cpu)?,
        "bareflow",
        default_libcall_names(),
    )?;
    let mut obj = ObjectModule::new(builder);
    let mut stats = AotStats::default();

    let live = reachable(module)?;
    let nimp = meta.num_imported_funcs;
    let mut ids = HashMap::new();
    for (d, keep) in live.iter().enumerate() {
        let index = nimp + d as u32;
        if !keep {
            stats.dropped += 1;
            continue;
        }
        let ty = info.func_type(index).expect("defined function has a type");
        let sig = clif::native_signature(ty, call_conv)
            .map_err(|error| AotError::Translate { func: index, error })?;
        let id = obj.declare_function(&func_symbol(index), Linkage::Export, &sig)?;
        ids.insert(index, id);
    }

    // Translation is sequential (it declares callees in the object module); Cranelift's
    // compilation of the translated functions, the expensive part, runs on one worker per
    // core (`compile_parallel`); the results are defined in function order, so the object is
    // the same whatever the number of workers.
    let mut translator = FuncTranslator::new();
    translator.set_memory_mode(opts.memory);
    translator.set_bounds(opts.bounds);
    let mut trap_records = Vec::new();
    let mut ctx = Context::new();
    let mut fctx = FunctionBuilderContext::new();
    let mut records = Vec::new();
    let mut types_used = HashSet::new();
    let mut jobs = Vec::new();
    for (d, keep) in live.iter().enumerate() {
        if !keep {
            continue;
        }
        let index = nimp + d as u32;
        let body = module.body_reader(d).ok_or(AotError::Translate {
            func: index,
            error: TranslateError::Invalid("missing function body"),
        })?;
        types_used.insert(meta.funcs[index as usize]);
        let mut func = ir::Function::new();
        func.name = UserFuncName::user(0, index);
        let mut env = ObjEnv {
            call_conv,
            calls: clif::ModuleCalls {
                module: &mut obj,
                ids: &ids,
                colocated: true,
            },
            exceptions: opts.exceptions,
        };
        translator
            .translate(&info, &mut env, index, &body, &mut func)
            .map_err(|error| AotError::Translate { func: index, error })?;
        let tier = tier_of(opts, index);
        jobs.push(CompileJob {
            index,
            id: ids[&index],
            tier,
            func,
            check_insts: translator.check_insts(),
        });
    }
    // Inlining candidates: every translated function small enough to be inlined somewhere,
    // as translated (callers splice in these copies, not their optimised code). Not with
    // fuel (see `inline`); with interrupt checks a callee's size leaves its checks out, so
    // the same calls are inlined as without them.
    let candidates: Option<HashMap<u32, inline::Candidate>> = (opts.inline && !opts.bounds.fuel)
        .then(|| {
            jobs.iter()
                .filter_map(|j| {
                    let insts = inline::inst_count(&j.func).saturating_sub(j.check_insts);
                    let hot = opts.profile.is_some() && j.tier == CodeTier::Speed;
                    // The largest callee `Inliner` can take: `HOT` only for hot ones.
                    let most = if hot { inline::HOT } else { inline::SMALL };
                    (insts <= most).then(|| {
                        (
                            j.id.as_u32(),
                            inline::Candidate {
                                func: j.func.clone(),
                                insts,
                                hot,
                            },
                        )
                    })
                })
                .collect()
        });
    let shared = Shared {
        isas: &isas,
        candidates: candidates.as_ref(),
        profiled: opts.profile.is_some(),
    };
    let compiled = compile_parallel(jobs, &shared, opts.threads)?;
    // The libcalls baseline code asked for, compiled into the object (no snapshot needs
    // the loader to provide a symbol).
    let libcalls = helpers::needed(compiled.iter().flat_map(|c| &c.relocs))?;
    for done in compiled {
        stats.inlined += done.inlined;
        for &(offset, code) in &done.traps {
            trap_records.push(TrapRecord {
                func_index: done.index,
                offset,
                code,
            });
        }
        obj.define_function_bytes(done.id, done.alignment, &done.bytes, &done.relocs)?;
        stats.compiled += 1;
        stats.by_tier[done.tier as usize] += 1;
        stats.code_bytes += done.bytes.len() as u64;
        let prof = opts.profile.as_ref().and_then(|p| p.funcs.get(&done.index));
        records.push((
            done.index,
            done.tier,
            prof.map_or(0, |p| p.calls),
            prof.map_or(0, |p| p.nanos.checked_div(p.calls).unwrap_or(0)),
            done.bytes.len() as u32,
        ));
    }

    // Array entries for every signature a compiled function has.
    let enter_sig = {
        let mut s = ir::Signature::new(call_conv);
        for _ in 0..5 {
            s.params.push(ir::AbiParam::new(I64));
        }
        s.returns.push(ir::AbiParam::new(I32));
        s
    };
    let mut types: Vec<u32> = types_used.into_iter().collect();
    types.sort_unstable();
    for t in types {
        let ty = &info.types[t as usize];
        let native_sig = clif::native_signature(ty, call_conv)
            .map_err(|error| AotError::Translate { func: 0, error })?;
        let key: Vec<ir::Type> = native_sig.params[2..]
            .iter()
            .map(|p| p.value_type)
            .collect();
        let array_sig = clif::array_signature(call_conv);
        let raw = obj.declare_function(&format!("bf_r{t}"), Linkage::Local, &array_sig)?;
        let safe = obj.declare_function(&array_symbol(t), Linkage::Export, &array_sig)?;

        // Raw trampoline: load params, call callee->native, store results.
        ctx.clear();
        ctx.func.signature = array_sig.clone();
        let b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
        clif::stubs::raw_array_trampoline(b, &key, native_sig.clone(), frontend);
        obj.define_function(raw, &mut ctx)?;

        // Safe entry: enter(vmctx->trap_ctx, bf_r<t>, vmctx, callee, values), with `enter`
        // loaded from vmctx->libcalls[ENTER] (no relocation against the loader).
        ctx.clear();
        ctx.func.signature = array_sig.clone();
        {
            let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
            let entry = b.create_block();
            b.append_block_params_for_function_params(entry);
            b.switch_to_block(entry);
            b.seal_block(entry);
            let p = b.block_params(entry).to_vec();
            let trap_ctx = b
                .ins()
                .load(I64, MemFlagsData::trusted(), p[0], abi::VMCTX_TRAP_CTX);
            let raw_ref = obj.declare_func_in_func(raw, b.func);
            let raw_addr = b.ins().func_addr(I64, raw_ref);
            let libcalls = b
                .ins()
                .load(I64, MemFlagsData::trusted(), p[0], abi::VMCTX_LIBCALLS);
            let enter = b.ins().load(
                I64,
                MemFlagsData::trusted(),
                libcalls,
                (abi::libcall::ENTER * 8) as i32,
            );
            let enter_sig = b.import_signature(enter_sig.clone());
            let call =
                b.ins()
                    .call_indirect(enter_sig, enter, &[trap_ctx, raw_addr, p[0], p[1], p[2]]);
            let status = b.inst_results(call)[0];
            b.ins().return_(&[status]);
            b.finalize(frontend);
        }
        obj.define_function(safe, &mut ctx)?;
    }

    // Native entries for imported (host) functions (H6 WASI hook, see stubs.rs).
    stubs::emit_import_stubs(&mut obj, meta, &info, call_conv, frontend)?;
    helpers::define(
        &mut obj, &libcalls, call_conv, &mut ctx, &mut fctx, frontend,
    )?;

    let mut object = obj
        .finish()
        .emit()
        .map_err(|e| AotError::Codegen(e.to_string()))?;
    // Every snapshot is relocation-free (format v9): resolved here, refused if it cannot be.
    resolve_in_place(&mut object)?;
    let elf = runtime_loader::elf::ElfObject::parse(&object)
        .map_err(|e| AotError::Codegen(format!("execute-in-place object: {e}")))?;
    elf.in_place_offset()
        .map_err(|e| AotError::Codegen(format!("object cannot execute in place: {e}")))?;
    let mut flags = cpu_flags | runtime_loader::format::flags::XIP;
    if opts.bounds.fuel {
        flags |= runtime_loader::format::flags::FUEL;
    }
    if opts.bounds.interrupt {
        flags |= runtime_loader::format::flags::INTERRUPT;
    }
    stats.object_bytes = object.len();
    let mut snap = SnapshotBuilder::new(Isa::X86_64, opts.memory);
    snap.flags(flags);
    snap.meta(encode_meta(meta)).object(object);
    for r in &trap_records {
        snap.trap_record(r);
    }
    for (index, tier, calls, avg_nanos, code_size) in records {
        snap.func_record(&FuncRecord {
            func_index: index,
            tier,
            calls,
            avg_nanos,
            code_size,
            name: module.func_name(index).unwrap_or(""),
        });
    }
    let bytes = snap.finish();
    stats.snapshot_bytes = bytes.len();
    Ok((bytes, stats))
}

/// Applies, in the object bytes, every relocation of a loaded section against a symbol of
/// the same section (PC-relative, so independent of the load address) and empties the
/// relocation sections. Anything else (an external symbol, an absolute relocation) means the
/// code cannot execute in place: [`AotError::Codegen`].
fn resolve_in_place(obj: &mut [u8]) -> Result<(), AotError> {
    const SHT_RELA: u32 = 4;
    const SHF_ALLOC: u64 = 2;
    let bad = |what: &str| AotError::Codegen(format!("execute in place: {what}"));
    let rd = |b: &[u8], at: usize, n: usize| -> Result<u64, AotError> {
        let s = b.get(at..at + n).ok_or_else(|| bad("truncated object"))?;
        let mut a = [0u8; 8];
        a[..n].copy_from_slice(s);
        Ok(u64::from_le_bytes(a))
    };
    let shoff = rd(obj, 0x28, 8)? as usize;
    let shnum = rd(obj, 0x3c, 2)? as usize;
    let shdr = |b: &[u8], i: usize, field: usize, n: usize| rd(b, shoff + i * 64 + field, n);
    for i in 0..shnum {
        if shdr(obj, i, 4, 4)? as u32 != SHT_RELA {
            continue;
        }
        let target = shdr(obj, i, 44, 4)? as usize;
        if shdr(obj, target, 8, 8)? & SHF_ALLOC == 0 {
            continue;
        }
        let symtab = shdr(obj, i, 40, 4)? as usize;
        let sym_off = shdr(obj, symtab, 24, 8)? as usize;
        let t_off = shdr(obj, target, 24, 8)? as usize;
        let t_size = shdr(obj, target, 32, 8)? as usize;
        let r_off = shdr(obj, i, 24, 8)? as usize;
        let r_size = shdr(obj, i, 32, 8)? as usize;
        for k in 0..r_size / 24 {
            let at = r_off + k * 24;
            let offset = rd(obj, at, 8)? as usize;
            let info = rd(obj, at + 8, 8)?;
            let addend = rd(obj, at + 16, 8)? as i64;
            let (ty, sym) = (info as u32, (info >> 32) as usize);
            // The symbol's name, for the errors (nothing in the snapshot may need a symbol
            // the loader would have to provide).
            let name = || -> Result<String, AotError> {
                let strtab = shdr(obj, symtab, 40, 4)? as usize;
                let str_off = shdr(obj, strtab, 24, 8)? as usize;
                let name_at = str_off + rd(obj, sym_off + sym * 24, 4)? as usize;
                let name = obj.get(name_at..).unwrap_or_default();
                let name = &name[..name.iter().position(|&c| c == 0).unwrap_or(name.len())];
                Ok(String::from_utf8_lossy(name).into_owned())
            };
            if ty != runtime_loader::elf::R_X86_64_PC32 && ty != runtime_loader::elf::R_X86_64_PLT32
            {
                return Err(bad(&format!(
                    "relocation type {ty} at {offset:#x} against `{}`",
                    name()?
                )));
            }
            let shndx = rd(obj, sym_off + sym * 24 + 6, 2)? as usize;
            if shndx != target {
                return Err(bad(&format!(
                    "relocation at {offset:#x} against `{}` leaves its section",
                    name()?
                )));
            }
            let value = rd(obj, sym_off + sym * 24 + 8, 8)? as i64;
            let v = i32::try_from(value + addend - offset as i64)
                .map_err(|_| bad("relocation out of range"))?;
            if offset + 4 > t_size {
                return Err(bad("relocation outside its section"));
            }
            obj[t_off + offset..t_off + offset + 4].copy_from_slice(&v.to_le_bytes());
        }
        // An empty relocation section.
        obj[shoff + i * 64 + 32..shoff + i * 64 + 40].copy_from_slice(&0u64.to_le_bytes());
    }
    Ok(())
}

/// Writes `bytes` to `path` atomically and safely ([`crate::fsio::write_output`]: random
/// `O_EXCL` temporary file beside it, then rename; devices and FIFOs written directly;
/// read-only targets refused; no temporary file left on error).
///
/// # Errors
/// [`AotError::Io`].
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), AotError> {
    crate::fsio::write_output(path, bytes).map_err(AotError::Io)
}

mod helpers;
pub mod inline;
pub mod store;
mod stubs;

#[cfg(test)]
mod cpu_tests {
    use super::*;
    use runtime_loader::format::{Snapshot, cpu, flags};
    use runtime_loader::loader::{check_cpu, host_cpu_features};

    const WAT: &str = r#"(module
      (func (export "f") (param v128 v128) (result v128)
        (f32x4.ceil (i8x16.swizzle (local.get 0) (local.get 1)))))"#;

    fn flags_for(xip: bool, target_cpu: Option<&str>) -> Result<u32, AotError> {
        let m = crate::parse::parse(WAT.as_bytes()).unwrap();
        let opts = AotOptions {
            xip,
            target_cpu: target_cpu.map(str::to_string),
            ..Default::default()
        };
        let (bytes, _) = compile(&m, &opts)?;
        Ok(Snapshot::parse(&bytes).unwrap().flags)
    }

    /// The header records exactly the features the code was compiled for (and `XIP`, which
    /// every snapshot has): none for the baseline, SSE3/SSSE3/SSE4.1 for XIP, the preset's for `--target-cpu`; a faked host
    /// without one of them refuses the snapshot naming it; unknown CPUs are an error.
    #[test]
    fn snapshot_records_target_cpu_features() {
        assert_eq!(flags_for(false, None).unwrap() & cpu::ALL, 0);
        assert_eq!(
            flags_for(true, None).unwrap(),
            flags::XIP | cpu::SSE3 | cpu::SSSE3 | cpu::SSE41
        );
        let v3 = flags_for(false, Some("x86-64-v3")).unwrap();
        let want = cpu::SSE3
            | cpu::SSSE3
            | cpu::SSE41
            | cpu::SSE42
            | cpu::POPCNT
            | cpu::CMPXCHG16B
            | cpu::AVX
            | cpu::AVX2
            | cpu::FMA
            | cpu::BMI1
            | cpu::BMI2
            | cpu::LZCNT;
        // Every snapshot runs in place (format v9): XIP besides the features.
        assert_eq!(v3, want | flags::XIP);
        let v2_host =
            cpu::SSE3 | cpu::SSSE3 | cpu::SSE41 | cpu::SSE42 | cpu::POPCNT | cpu::CMPXCHG16B;
        let e = check_cpu(v3, v2_host).unwrap_err();
        assert!(e.message().contains("lacks avx"), "{}", e.message());
        assert_eq!(check_cpu(v3, v3), Ok(()));
        let v4 = flags_for(false, Some("x86-64-v4")).unwrap();
        assert_eq!(v4 & want, want);
        assert_eq!(
            v4 & (cpu::AVX512VL | cpu::AVX512DQ),
            cpu::AVX512VL | cpu::AVX512DQ
        );
        // `native` compiles for this host, so this host accepts it.
        let native = flags_for(false, Some("native")).unwrap();
        assert_eq!(check_cpu(native, host_cpu_features()), Ok(()));
        assert!(flags_for(false, Some("no-such-cpu")).is_err());
    }
}

#[cfg(test)]
mod parallel_tests {
    use super::*;

    /// The snapshot does not depend on how many workers compiled it: the parallel phase
    /// defines the functions in function order (sha256: 10+ functions, more than workers),
    /// and every function is compiled exactly once.
    #[test]
    fn parallel_compile_is_deterministic() {
        let wasm = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../wasm-samples/sha256.wasm"
        ))
        .unwrap();
        let m = crate::parse::parse(&wasm).unwrap();
        let build = |threads| {
            let opts = AotOptions {
                threads,
                ..Default::default()
            };
            compile(&m, &opts).unwrap()
        };
        let (one, s1) = build(1);
        assert!(
            s1.compiled > 3,
            "sample too small: {} functions",
            s1.compiled
        );
        for threads in [2, 3, 8] {
            let (many, s) = build(threads);
            assert_eq!(s.compiled, s1.compiled);
            assert_eq!(s.code_bytes, s1.code_bytes);
            assert!(one == many, "snapshot differs with {threads} workers");
        }
    }

    /// More workers asked for than there are functions: each function compiled once.
    #[test]
    fn more_workers_than_functions() {
        let m =
            crate::parse::parse(b"(module (func (export \"a\")) (func (export \"b\")))").unwrap();
        let opts = AotOptions {
            threads: 16,
            ..Default::default()
        };
        let (_, s) = compile(&m, &opts).unwrap();
        assert_eq!(s.compiled, 2);
    }
}

#[cfg(test)]
mod in_place_tests {
    use super::*;

    /// An object whose code calls a symbol nothing in it defines cannot become a snapshot:
    /// the in-place resolution refuses it, naming the symbol (no loader resolves externals),
    /// whether the call is absolute (`movabs`, a non-colocated callee) or PC-relative.
    #[test]
    fn an_external_symbol_is_refused_by_name() {
        for colocated in [false, true] {
            let e = object_calling_an_external(colocated);
            assert!(e.contains("`not_in_the_snapshot`"), "{e}");
            assert_eq!(e.contains("leaves its section"), colocated, "{e}");
        }
    }

    fn object_calling_an_external(colocated: bool) -> String {
        let isa = isa("speed", false, None).unwrap();
        let call_conv = isa.default_call_conv();
        let builder = ObjectBuilder::new(isa, "t", default_libcall_names()).unwrap();
        let mut obj = ObjectModule::new(builder);
        let sig = ir::Signature::new(call_conv);
        let ext = obj
            .declare_function("not_in_the_snapshot", Linkage::Import, &sig)
            .unwrap();
        let f = obj.declare_function("f", Linkage::Export, &sig).unwrap();
        let mut ctx = Context::new();
        let mut fctx = FunctionBuilderContext::new();
        ctx.func.signature = sig;
        {
            let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
            let entry = b.create_block();
            b.switch_to_block(entry);
            b.seal_block(entry);
            let callee = obj.declare_func_in_func(ext, b.func);
            b.func.dfg.ext_funcs[callee].colocated = colocated;
            b.ins().call(callee, &[]);
            b.ins().return_(&[]);
            b.finalize(clif::VmctxEnv { call_conv }.frontend_config());
        }
        obj.define_function(f, &mut ctx).unwrap();
        let mut object = obj.finish().emit().unwrap();
        resolve_in_place(&mut object).unwrap_err().to_string()
    }

    /// A libcall the exporter has no helper for is a compile error naming its symbol.
    #[test]
    fn an_unsupported_libcall_is_refused_by_name() {
        let r = ModuleReloc {
            offset: 0,
            kind: cranelift_codegen::binemit::Reloc::X86CallPCRel4,
            name: cranelift_module::ModuleRelocTarget::LibCall(ir::LibCall::FmaF32),
            addend: 0,
        };
        let e = helpers::needed([&r]).unwrap_err().to_string();
        assert!(e.contains("`fmaf`"), "{e}");
        let ok = ModuleReloc {
            name: cranelift_module::ModuleRelocTarget::LibCall(ir::LibCall::FloorF32),
            ..r
        };
        assert_eq!(
            helpers::needed([&ok, &ok]).unwrap(),
            vec![ir::LibCall::FloorF32]
        );
    }
}
