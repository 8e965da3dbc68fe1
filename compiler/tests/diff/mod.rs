//! The differential comparison engine, shared by the differential test (`tests/jit.rs`) and
//! the `differential` fuzz target (`fuzz/fuzz_targets/differential.rs`, which includes this
//! file by path).
//!
//! A module runs in a reference engine (the interpreter) and in every other engine; each run
//! is reduced to a [`Trace`] (instantiation outcome, every exported function called twice with
//! the same arguments, then every exported memory, global and table) and the traces must be
//! equal. Nothing is dropped silently: an export missing on one side or an instantiation that
//! fails on one side only is a disagreement.
//!
//! Stack exhaustion is the one resource limit the harness does not compare (the spec leaves
//! it to the implementation, and the depth reached differs by engine: the interpreter counts
//! frames, compiled code counts bytes of native stack). The rule (docs/FUZZING.md):
//! * every compiled engine gets a [`WASM_STACK`] budget and the harness runs on a thread of
//!   [`THREAD_STACK`] ([`on_big_stack`]), far more than the deepest recursion a generated
//!   module can reach (its `ensure_termination` fuel, [`FUEL`], bounds the calls of an
//!   instance), so native exhaustion does not happen before the interpreter's limit;
//! * a run stops at its first `StackOverflow` trap (no further calls, no state read), and a
//!   comparison that reaches a `StackOverflow` on either side stops there: that module run is
//!   *inconclusive* ([`Counts::inconclusive`]), never equal. Callers bound the inconclusive
//!   fraction ([`check_inconclusive`]).
//!
//! The engines sit behind the [`Engine`] / [`Instance`] seam so the harness itself can be
//! tested with a deliberately broken engine.
#![allow(dead_code)]

use bareflow::{
    CallError, Config, Extern, ExternType, InstantiateError, MemoryMode, Mode, Module, Store,
    TierUp, Val, ValType,
};

/// Something that can instantiate and run a module.
pub trait Engine {
    /// A name for reports (`jit-speed/guard`).
    fn name(&self) -> String;
    /// Instantiates `module` (no imports), parsed from `wasm`. The error is a comparable
    /// category (see [`inst_error`]).
    fn instantiate(&self, module: &Module, wasm: &[u8]) -> Result<Box<dyn Instance>, String>;
}

/// One live instance of a module in some engine.
pub trait Instance {
    /// Calls export `name`; `None` if there is no such exported function.
    fn call(&mut self, name: &str, args: &[Val]) -> Option<Result<Vec<Val>, CallError>>;
    /// The contents of exported memory `name`.
    fn memory(&self, name: &str) -> Option<Vec<u8>>;
    /// The value of exported global `name`, shown with [`show`].
    fn global(&self, name: &str) -> Option<String>;
    /// The elements of exported table `name`, each shown with [`show`].
    fn table(&self, name: &str) -> Option<Vec<String>>;
    /// Shows a value returned by [`Instance::call`] (references need the store).
    fn show(&self, v: &Val) -> String;
}

/// The `ensure_termination` fuel of generated modules: loop iterations plus function
/// entries of one instance (the fuel global is shared by all its calls), so no generated
/// call chain is deeper than this.
pub const FUEL: u32 = 2_000;

/// The native stack budget (`Config::max_wasm_stack`) of every engine the harness builds
/// with [`StoreEngine::new`]: 32 MiB, 16 KiB for each of [`FUEL`] frames (the default 1 MiB
/// budget ran out at depth 1,000-2,000 in `jit-none` checked, so those frames average
/// 0.5-1 KiB; fuzz/artifacts-found/README.md).
pub const WASM_STACK: usize = 32 << 20;

/// The stack of the thread [`on_big_stack`] runs the harness on: the budget plus room for
/// the host frames above it and `trap::HOST_STACK_MARGIN` below.
pub const THREAD_STACK: usize = WASM_STACK + (16 << 20);

/// Runs `f` on a fresh thread with a [`THREAD_STACK`]-byte stack (so a [`WASM_STACK`] budget
/// is really available: the store never lets wasm run below the thread's real stack floor);
/// a panic in `f` is resumed on the caller.
pub fn on_big_stack<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    std::thread::scope(|s| {
        let t = std::thread::Builder::new()
            .name("differential".to_string())
            .stack_size(THREAD_STACK)
            .spawn_scoped(s, f)
            .expect("spawn the differential thread");
        t.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
    })
}

/// A BareFlow store in one mode and memory mode.
#[derive(Clone, Copy, Debug)]
pub struct StoreEngine {
    pub mode: Mode,
    pub memory: MemoryMode,
    /// `Config::max_wasm_stack` ([`WASM_STACK`] from [`StoreEngine::new`]).
    pub wasm_stack: usize,
}

impl StoreEngine {
    pub fn new(mode: Mode, memory: MemoryMode) -> StoreEngine {
        StoreEngine {
            mode,
            memory,
            wasm_stack: WASM_STACK,
        }
    }

    /// The same engine with a native stack budget of `bytes` (0: the store's default).
    pub fn with_wasm_stack(self, bytes: usize) -> StoreEngine {
        StoreEngine {
            wasm_stack: bytes,
            ..self
        }
    }

    pub fn config(&self) -> Config {
        let mut config = Config::new(self.mode);
        config.memory = self.memory;
        config.max_wasm_stack = self.wasm_stack;
        // Tiered: compile everything after its first call, so swaps happen between calls.
        config.tier_up = TierUp {
            calls: 1,
            back_edges: 1,
        };
        config
    }
}

/// The comparable category of an instantiation error: the trap code for a trap, the kind
/// otherwise (messages differ between tiers by wording only).
pub fn inst_error(e: &InstantiateError) -> String {
    match e {
        InstantiateError::Trap(t) => format!("trap {:?}", t.code),
        InstantiateError::Unlinkable(m) => format!("unlinkable ({m})"),
        InstantiateError::Unsupported(m) => format!("unsupported ({m})"),
        InstantiateError::Resource(m) => format!("resource ({m})"),
    }
}

impl Engine for StoreEngine {
    fn name(&self) -> String {
        match self.memory {
            MemoryMode::Checked => self.mode.to_string(),
            MemoryMode::Guard => format!("{}/guard", self.mode),
        }
    }

    fn instantiate(&self, module: &Module, _wasm: &[u8]) -> Result<Box<dyn Instance>, String> {
        let mut store = Store::new(self.config());
        match store.instantiate(module, &|_, _| None) {
            Ok(inst) => Ok(Box::new(StoreInstance { store, inst })),
            Err(e) => Err(inst_error(&e)),
        }
    }
}

pub struct StoreInstance {
    pub store: Store,
    pub inst: bareflow::InstanceId,
}

/// Shows a value for comparison: NaNs as `nan` (any payload: wasm-smith canonicalizes only
/// stored / reinterpreted NaNs), references as null or the referenced function's type.
pub fn show(v: &Val, store: &Store) -> String {
    match *v {
        Val::F32(b) if f32::from_bits(b).is_nan() => "f32:nan".to_string(),
        Val::F64(b) if f64::from_bits(b).is_nan() => "f64:nan".to_string(),
        Val::FuncRef(None) => "funcref:null".to_string(),
        Val::FuncRef(Some(f)) => format!("funcref:{:?}", store.func_type(f)),
        Val::ExnRef(None) => "exnref:null".to_string(),
        // The tag's type and the payload, not the store-specific handles.
        Val::ExnRef(Some(e)) => match store.exn_exception(e) {
            Some(x) => format!(
                "exnref:{:?}:{:?}",
                store.tag_type(x.tag),
                x.payload.iter().map(|v| show(v, store)).collect::<Vec<_>>()
            ),
            None => "exnref:?".to_string(),
        },
        other => format!("{other:?}"),
    }
}

impl Instance for StoreInstance {
    fn call(&mut self, name: &str, args: &[Val]) -> Option<Result<Vec<Val>, CallError>> {
        let Some(Extern::Func(f)) = self.store.export(self.inst, name) else {
            return None;
        };
        Some(self.store.call(f, args))
    }

    fn memory(&self, name: &str) -> Option<Vec<u8>> {
        match self.store.export(self.inst, name) {
            Some(Extern::Memory(m)) => Some(self.store.memory_data(m).to_vec()),
            _ => None,
        }
    }

    fn global(&self, name: &str) -> Option<String> {
        match self.store.export(self.inst, name) {
            Some(Extern::Global(g)) => Some(show(&self.store.global_get(g), &self.store)),
            _ => None,
        }
    }

    fn table(&self, name: &str) -> Option<Vec<String>> {
        let Some(Extern::Table(t)) = self.store.export(self.inst, name) else {
            return None;
        };
        let mut out = Vec::new();
        // wasm-smith tables hold at most `max_table_elements` (1000) elements; the bound only
        // keeps a broken `table_get` from looping forever.
        while let Some(v) = self.store.table_get(t, out.len() as u32) {
            out.push(show(&v, &self.store));
            if out.len() > 1 << 20 {
                out.push("...".to_string());
                break;
            }
        }
        Some(out)
    }

    fn show(&self, v: &Val) -> String {
        show(v, &self.store)
    }
}

/// The outcome of one call: shown results, or what went wrong (trap code or call error).
pub type Outcome = Result<Vec<String>, String>;

/// Everything observable of one run of a module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trace {
    /// `Err(category)` if instantiation failed (nothing else is recorded then).
    pub instantiate: Result<(), String>,
    /// `(export, outcome)` per call, in call order (every function export, twice).
    pub calls: Vec<(String, Outcome)>,
    /// Exported memories' contents.
    pub memories: Vec<(String, Option<Vec<u8>>)>,
    /// Exported globals' values.
    pub globals: Vec<(String, Option<String>)>,
    /// Exported tables' elements.
    pub tables: Vec<(String, Option<Vec<String>>)>,
}

/// The arguments every engine passes to a function of type `params`, from `seed`.
pub fn args_for(params: &[ValType], seed: u64) -> Vec<Val> {
    params
        .iter()
        .enumerate()
        .map(|(i, t)| match t {
            ValType::I32 => Val::I32(seed as i32 ^ i as i32),
            ValType::I64 => Val::I64((seed as i64) << i),
            ValType::F32 => Val::F32((1.5f32 + i as f32).to_bits()),
            ValType::F64 => Val::F64((-2.25f64 * i as f64).to_bits()),
            other => Val::default_for(*other),
        })
        .collect()
}

/// The outcome of a call that ran out of stack (interpreter frames or native stack bytes).
pub const EXHAUSTED: &str = "trap StackOverflow";

/// Whether `outcome` is stack exhaustion.
pub fn exhausted(outcome: &Outcome) -> bool {
    matches!(outcome, Err(e) if e == EXHAUSTED)
}

/// Runs `module` in `engine`: instantiates it, calls every exported function twice (in export
/// order, arguments from `seed`), then reads every exported memory, global and table. A call
/// that exhausts the stack ends the run there: it is the last call recorded and no state is
/// read (what the instance holds after it depends on the depth reached).
pub fn run(engine: &dyn Engine, module: &Module, wasm: &[u8], seed: u64) -> Trace {
    let mut trace = Trace {
        instantiate: Ok(()),
        calls: Vec::new(),
        memories: Vec::new(),
        globals: Vec::new(),
        tables: Vec::new(),
    };
    let mut inst = match engine.instantiate(module, wasm) {
        Ok(i) => i,
        Err(e) => {
            trace.instantiate = Err(e);
            return trace;
        }
    };
    let exports = module.exports();
    for _round in 0..2 {
        for export in &exports {
            let ExternType::Func(ty) = &export.ty else {
                continue;
            };
            let args = args_for(&ty.params, seed);
            let outcome = match inst.call(export.name, &args) {
                None => Err("no such exported function".to_string()),
                Some(Ok(vals)) => Ok(vals.iter().map(|v| inst.show(v)).collect()),
                // An uncaught exception: its payload too (tags are compared by type).
                Some(Err(CallError::Trap(t))) => match &t.exception {
                    Some(x) => Err(format!(
                        "exception {:?}",
                        x.payload.iter().map(|v| inst.show(v)).collect::<Vec<_>>()
                    )),
                    None => Err(format!("trap {:?}", t.code)),
                },
                Some(Err(e)) => Err(format!("call error: {e}")),
            };
            let stop = exhausted(&outcome);
            trace.calls.push((export.name.to_string(), outcome));
            if stop {
                return trace;
            }
        }
    }
    for export in &exports {
        let name = export.name.to_string();
        match export.ty {
            ExternType::Func(_) | ExternType::Tag(_) => {}
            ExternType::Memory(_) => trace.memories.push((name.clone(), inst.memory(&name))),
            ExternType::Global(_) => trace.globals.push((name.clone(), inst.global(&name))),
            ExternType::Table(_) => trace.tables.push((name.clone(), inst.table(&name))),
        }
    }
    trace
}

/// How two traces compare.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Everything agrees: `calls` calls compared, then every exported memory, global, table.
    Equal { calls: usize },
    /// Calls agree up to call `at`, where one side (`one_sided`) or both exhausted the stack;
    /// nothing after it is compared.
    Inconclusive { at: usize, one_sided: bool },
    /// The first difference, as a message.
    Differ(String),
}

/// Compares `other` (engine `b`) with `reference` (from engine `a`).
pub fn verdict(a: &str, reference: &Trace, b: &str, other: &Trace) -> Verdict {
    if reference.instantiate != other.instantiate {
        return Verdict::Differ(format!(
            "instantiation: {a} {:?}, {b} {:?}",
            reference.instantiate, other.instantiate
        ));
    }
    for (i, ((name, ra), (nb, rb))) in reference.calls.iter().zip(&other.calls).enumerate() {
        if name != nb {
            return Verdict::Differ(format!("call #{i}: {a} calls {name:?}, {b} {nb:?}"));
        }
        if exhausted(ra) || exhausted(rb) {
            return Verdict::Inconclusive {
                at: i,
                one_sided: ra != rb,
            };
        }
        if ra != rb {
            return Verdict::Differ(format!(
                "call #{i} export {name:?}: {a} {ra:?}, {b} {nb:?} {rb:?}"
            ));
        }
    }
    if reference.calls.len() != other.calls.len() {
        return Verdict::Differ(format!(
            "{} calls in {a}, {} in {b}",
            reference.calls.len(),
            other.calls.len()
        ));
    }
    match state_difference(a, reference, b, other) {
        Some(d) => Verdict::Differ(d),
        None => Verdict::Equal {
            calls: reference.calls.len(),
        },
    }
}

/// The first difference in exported state (globals, tables, memories), if any.
fn state_difference(a: &str, reference: &Trace, b: &str, other: &Trace) -> Option<String> {
    if reference.globals != other.globals {
        return Some(format!(
            "exported globals: {a} {:?}, {b} {:?}",
            reference.globals, other.globals
        ));
    }
    if reference.tables != other.tables {
        let at = reference
            .tables
            .iter()
            .zip(&other.tables)
            .find(|(x, y)| x != y);
        return Some(format!("exported tables differ: {a} / {b}: {at:?}"));
    }
    if reference.memories.len() != other.memories.len() {
        return Some(format!("exported memories: {a} / {b} differ in number"));
    }
    for ((name, ma), (_, mb)) in reference.memories.iter().zip(&other.memories) {
        if ma != mb {
            let detail = match (ma, mb) {
                (Some(x), Some(y)) if x.len() != y.len() => {
                    format!("{} bytes in {a}, {} in {b}", x.len(), y.len())
                }
                (Some(x), Some(y)) => {
                    let at = x.iter().zip(y).position(|(p, q)| p != q).unwrap_or(0);
                    format!("first at byte {at}: {a} {:#04x}, {b} {:#04x}", x[at], y[at])
                }
                _ => format!("present in {a}: {}, in {b}: {}", ma.is_some(), mb.is_some()),
            };
            return Some(format!("memory {name:?} contents: {detail}"));
        }
    }
    None
}

/// What one module's comparison counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Engine runs compared against the reference (per module: the number of other engines).
    pub runs: u64,
    /// Runs in which the module instantiated (identically in both, or it is a disagreement).
    pub instantiated: u64,
    /// Calls compared (every call up to the end of the run, or up to and including a stack
    /// exhaustion that made the run inconclusive).
    pub calls: u64,
    /// Calls that trapped (identically on both sides), of `calls`.
    pub traps: u64,
    /// Runs whose comparison stopped at a stack exhaustion (on either side): the calls
    /// before it agree, nothing after it is compared.
    pub inconclusive: u64,
    /// Of `inconclusive`, those where only one side exhausted the stack.
    pub one_sided: u64,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, o: Counts) {
        self.runs += o.runs;
        self.instantiated += o.instantiated;
        self.calls += o.calls;
        self.traps += o.traps;
        self.inconclusive += o.inconclusive;
        self.one_sided += o.one_sided;
    }
}

/// The largest fraction of runs that may be inconclusive: 1 in [`INCONCLUSIVE_PER`].
pub const INCONCLUSIVE_PER: u64 = 100;

/// `Err` if more than 1% of `counts.runs` (at least one run) were inconclusive: the harness
/// budgets are meant to make stack exhaustion impossible for generated modules, so more than
/// a rare one means it has stopped comparing.
pub fn check_inconclusive(counts: &Counts) -> Result<(), String> {
    let allowed = (counts.runs / INCONCLUSIVE_PER).max(1);
    if counts.inconclusive > allowed {
        return Err(format!(
            "{} of {} runs inconclusive ({} one-sided stack exhaustions), more than the {allowed} allowed (1 in {INCONCLUSIVE_PER})",
            counts.inconclusive, counts.runs, counts.one_sided
        ));
    }
    Ok(())
}

/// Runs `module` (parsed from `wasm`) in `reference` and in each of `others` and compares
/// every trace with the reference's. `Err` names the seed, the engine and the first
/// difference; an inconclusive run (stack exhaustion) is counted, not an error (bound it
/// with [`check_inconclusive`]).
pub fn compare(
    module: &Module,
    wasm: &[u8],
    seed: u64,
    reference: &dyn Engine,
    others: &[&dyn Engine],
) -> Result<Counts, String> {
    let want = run(reference, module, wasm, seed);
    let mut counts = Counts::default();
    for other in others {
        let got = run(*other, module, wasm, seed);
        let compared = match verdict(&reference.name(), &want, &other.name(), &got) {
            Verdict::Differ(d) => {
                return Err(format!(
                    "seed {seed}: {} vs {}: {d}",
                    reference.name(),
                    other.name()
                ));
            }
            Verdict::Equal { calls } => calls,
            Verdict::Inconclusive { at, one_sided } => {
                counts.inconclusive += 1;
                counts.one_sided += u64::from(one_sided);
                at + 1
            }
        };
        counts.runs += 1;
        if want.instantiate.is_ok() {
            counts.instantiated += 1;
        }
        counts.calls += compared as u64;
        counts.traps += want.calls[..compared]
            .iter()
            .filter(|(_, r)| r.is_err())
            .count() as u64;
    }
    Ok(counts)
}

/// The engines every module is compared in: the interpreter as reference, then `jit-none`,
/// `jit-speed`, `tiered`, `snapshot` and `snapshot-xip` with checked memory, and the same
/// compiled modes with guard-page memory where this build supports it.
pub fn all_engines() -> (StoreEngine, Vec<StoreEngine>) {
    let compiled = [
        Mode::JitNone,
        Mode::JitSpeed,
        Mode::Tiered,
        Mode::Snapshot,
        Mode::SnapshotXip,
    ];
    let mut others: Vec<StoreEngine> = compiled
        .iter()
        .map(|m| StoreEngine::new(*m, MemoryMode::Checked))
        .collect();
    if runtime_loader::instance::GUARD_MEMORY_SUPPORTED {
        others.extend(
            compiled
                .iter()
                .map(|m| StoreEngine::new(*m, MemoryMode::Guard)),
        );
    }
    (StoreEngine::new(Mode::Interp, MemoryMode::Checked), others)
}

/// The wasm-smith configuration of the differential test and fuzz target: MVP plus the
/// proposals every tier implements (extended constant expressions included), one memory of at most 4 pages, no imports, everything
/// exported.
pub fn smith_config() -> wasm_smith::Config {
    wasm_smith::Config {
        simd_enabled: false,
        relaxed_simd_enabled: false,
        threads_enabled: false,
        tail_call_enabled: false,
        exceptions_enabled: false,
        gc_enabled: false,
        memory64_enabled: false,
        wide_arithmetic_enabled: false,
        // WebAssembly 3.0 extended constant expressions (`i32/i64.add/sub/mul` in
        // initialisers and offsets): every tier shares the one evaluator.
        extended_const_enabled: true,
        custom_page_sizes_enabled: false,
        max_memories: 1,
        max_imports: 0,
        export_everything: true,
        canonicalize_nans: true,
        min_funcs: 2,
        max_funcs: 12,
        max_instructions: 200,
        max_memory32_bytes: 4 << 16,
        // Every memory declares a maximum (at most 4 pages), so a generated loop of
        // `memory.grow` cannot spend the run copying gigabytes.
        memory_max_size_required: true,
        max_table_elements: 1000,
        ..wasm_smith::Config::default()
    }
}

/// [`smith_config`] plus fixed-width SIMD and relaxed SIMD (`v128` values compare bit for
/// bit: relaxed SIMD has one deterministic result per instruction, docs/ABI.md).
pub fn smith_config_simd() -> wasm_smith::Config {
    wasm_smith::Config {
        simd_enabled: true,
        relaxed_simd_enabled: true,
        ..smith_config()
    }
}

/// A wasm-smith module from `u` with fuel-bounded loops and calls; `None` if the bytes do not
/// make one (not a finding: the generator ran out of input or could not add the fuel).
pub fn smith_module(u: &mut arbitrary::Unstructured<'_>) -> Option<Vec<u8>> {
    smith_module_with(smith_config(), u)
}

/// [`smith_module`] with another generator configuration.
pub fn smith_module_with(
    config: wasm_smith::Config,
    u: &mut arbitrary::Unstructured<'_>,
) -> Option<Vec<u8>> {
    let mut m = wasm_smith::Module::new(config, u).ok()?;
    m.ensure_termination(FUEL).ok()?;
    Some(m.to_bytes())
}

/// Bytes for `Unstructured` from a 64-bit seed (a xorshift stream), shared by the
/// differential tests so a seed names the same module in each.
pub fn seed_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// The wasm-smith module of `seed` under `config` ([`smith_module_with`] over
/// [`seed_bytes`]) and its parse; `None` if the generator made none (not compared). Panics
/// if the front end rejects it (`what` names the generator setting in the message).
pub fn seed_module_with(
    config: &wasm_smith::Config,
    seed: u64,
    what: &str,
) -> Option<(Vec<u8>, Module)> {
    let bytes = seed_bytes(seed, 4096);
    let wasm = smith_module_with(config.clone(), &mut arbitrary::Unstructured::new(&bytes))?;
    match Module::from_bytes(&wasm) {
        Ok(m) => Some((wasm, m)),
        Err(e) => panic!("seed {seed}: wasm-smith {what}module rejected: {e}"),
    }
}

/// The numeric value of environment variable `name`, else `default`.
pub fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
