//! The `.wast` script runner shared by `bareflow wast` and the `spec-tests` crate.
//!
//! A script is parsed with the `wast` crate (confusing Unicode allowed: `names.wast` uses
//! U+202E on purpose) and executed directive by directive against one [`Store`] whose
//! [`Mode`] comes from [`RunConfig`]; nothing here depends on the mode, so new execution
//! modes need no runner changes.
//!
//! Counting rules:
//! * every `assert_*` directive is one assertion and ends up passed, failed or skipped;
//! * `module`, `register` and `invoke` are not assertions; they only count (as failed)
//!   when they go wrong, so a clean run reports exactly the number of assertions;
//! * an assertion that needs a feature outside the configured [`Scope`] (SIMD values,
//!   multi-memory, GC, ...) is skipped with the feature named, never passed. A module that
//!   only validates with such a feature is skipped, and so is every directive that uses it
//!   (invokes, registrations, modules importing from it).
//!
//! Whether a module needs an out-of-scope feature is decided here, independently of the
//! engine, with `wasmparser`'s validator: the scope's feature set is tried first; if it
//! rejects the module with a "feature not enabled" message, or if the module only validates
//! with every feature on, the feature is named and the directive skipped. Everything else
//! is handed to the engine, which must accept valid modules and reject invalid/malformed
//! ones.
//!
//! Rejections are judged like the spec's reference interpreter judges them:
//! * the error's category must be the assertion's: `assert_malformed` needs a text parse
//!   error (`module quote`, parsed here with the `wast` crate) or a binary decode error
//!   ([`ParseErrorKind::Decode`]), `assert_invalid` a validation error
//!   ([`ParseErrorKind::Validate`]), `assert_unlinkable` a link error
//!   ([`InstantiateError::Unlinkable`]);
//! * the script's message must be a prefix of the engine's, or the pair must be listed in
//!   [`MESSAGE_MAP`] (wasmparser and the `wast` crate word some errors differently from the
//!   reference interpreter; `docs/SPEC-MESSAGES.md` lists every entry with its reason).
//!   Passes through the table are counted in [`FileReport::mapped_messages`].
//!
//! [`RunConfig::lenient_messages`] restores the loose rule (any rejection passes
//! `assert_invalid`/`assert_malformed`, any link error `assert_unlinkable`); such passes are
//! counted in [`FileReport::lenient_passes`].
//!
//! Every call into the engine goes through the [`Engine`] trait ([`run_script_with`]), so the
//! harness's own tests can put a deliberately broken engine behind the runner and check that
//! it is caught.
//!
//! Engine panics are caught per directive and reported as failures, so one engine bug does
//! not hide the rest of a file.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::str::FromStr;

use wasmparser::WasmFeatures;
use wast::core::{AbstractHeapType, HeapType, NanPattern, V128Pattern, WastArgCore, WastRetCore};
use wast::lexer::Lexer;
use wast::parser::{self, ParseBuffer};
use wast::token::{Id, Span};
use wast::{QuoteWat, QuoteWatTest, Wast, WastArg, WastDirective, WastExecute, WastInvoke};
use wast::{WastRet, Wat};

use crate::parse::ParseError;
pub use crate::parse::ParseErrorKind;
use crate::runtime::{
    CallError, Config, Extern, FuncType, InstanceId, InstantiateError, Limits, Mode, Module, Store,
    TableType, Trap, TrapCode, Val, ValType,
};

/// Which WebAssembly features count as "in scope" for a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Scope {
    /// WebAssembly 1.0 plus 2.0 (sign-extension, non-trapping float-to-int, multi-value, bulk
    /// memory, reference types, fixed-width SIMD) and relaxed SIMD. Everything else is
    /// skipped; so are SIMD and relaxed SIMD in the modes that cannot run them yet (see
    /// [`simd_in_mode`]).
    #[default]
    Core,
    /// WebAssembly 3.0 as far as the engine implements it: [`Scope::Core`] plus the 3.0
    /// features the engine implements completely ([`crate::parse::WASM3_IMPLEMENTED`]:
    /// extended constant expressions, tail calls and typed function references so far). The 3.0 features not implemented yet (exceptions, GC, ...) are
    /// skipped and named; the spec suite's `spec-scope/wasm3.txt` runs in this scope.
    Wasm3,
    /// Every feature `wasmparser` knows: nothing is skipped; whatever the engine or the
    /// embedding API cannot handle (e.g. `v128` values) fails.
    All,
}

impl Scope {
    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Scope::Core => "core",
            Scope::Wasm3 => "wasm3",
            Scope::All => "all",
        }
    }

    /// The validator features of this scope.
    pub fn features(self) -> WasmFeatures {
        match self {
            Scope::Core => WasmFeatures::WASM2 | WasmFeatures::RELAXED_SIMD,
            Scope::Wasm3 => {
                WasmFeatures::WASM2 | WasmFeatures::RELAXED_SIMD | crate::parse::WASM3_IMPLEMENTED
            }
            Scope::All => WasmFeatures::all(),
        }
    }

    /// The validator features of this scope in execution mode `mode`: [`Scope::features`]
    /// without SIMD and relaxed SIMD where [`simd_in_mode`] says the mode cannot run them.
    pub fn features_in(self, mode: Mode) -> WasmFeatures {
        match self {
            Scope::Core | Scope::Wasm3 if !simd_in_mode(mode) => {
                self.features() & !(WasmFeatures::SIMD | WasmFeatures::RELAXED_SIMD)
            }
            Scope::Wasm3 if exceptions_in_mode(mode) => self.features() | WasmFeatures::EXCEPTIONS,
            _ => self.features(),
        }
    }
}

/// Whether `mode` runs SIMD and relaxed SIMD: every mode does (the interpreter, issue #22
/// part A, and the translator, part B). Kept as the one switch should a mode lose it.
pub fn simd_in_mode(_mode: Mode) -> bool {
    true
}

/// Whether `mode` runs exception handling (WebAssembly 3.0, issue #17): every mode does
/// (compiled code propagates exceptions explicitly, docs/ABI.md "Exceptions"). Kept as the
/// one switch, like [`simd_in_mode`]; a mode without it would skip the `wasm3` scope's
/// exception assertions as "exceptions".
pub fn exceptions_in_mode(mode: Mode) -> bool {
    let _ = mode;
    true
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Scope {
    type Err = String;
    fn from_str(s: &str) -> Result<Scope, String> {
        match s {
            "core" => Ok(Scope::Core),
            "wasm3" => Ok(Scope::Wasm3),
            "all" => Ok(Scope::All),
            other => Err(format!(
                "unknown scope `{other}` (expected core, wasm3 or all)"
            )),
        }
    }
}

/// How to run a script.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct RunConfig {
    /// Execution mode of the store.
    pub mode: Mode,
    /// Which features are in scope.
    pub scope: Scope,
    /// Memory mode of the store (checked bounds or guard pages).
    pub memory: crate::runtime::MemoryMode,
    /// Accept any rejection for `assert_invalid`/`assert_malformed` and any link error for
    /// `assert_unlinkable`, whatever its category and message (the pre-strict behaviour).
    pub lenient_messages: bool,
}

/// One failed directive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// 1-based line of the directive in the script.
    pub line: usize,
    /// The directive kind (`assert_return`, `module`, ...).
    pub directive: &'static str,
    /// What was expected and what happened.
    pub message: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}: {}: {}",
            self.line, self.directive, self.message
        )
    }
}

/// The result of running one script.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileReport {
    /// The script's path (as given).
    pub path: String,
    /// Assertions that held.
    pub passed: usize,
    /// Assertions that did not hold, plus failed non-assertion directives.
    pub failed: usize,
    /// Assertions skipped because they need an out-of-scope feature.
    pub skipped: usize,
    /// Details of every failure, in script order.
    pub failures: Vec<Failure>,
    /// Skipped assertions per feature name.
    pub skipped_features: BTreeMap<String, usize>,
    /// Assertion directives that ran to an outcome (passed, failed or skipped): what a check
    /// against an independent count of the script's assertions compares.
    pub assertions: usize,
    /// Rejection assertions that passed through a [`MESSAGE_MAP`] entry rather than the
    /// prefix rule.
    pub mapped_messages: usize,
    /// Rejection assertions that passed only because [`RunConfig::lenient_messages`] is set
    /// (wrong category or message).
    pub lenient_passes: usize,
}

impl FileReport {
    /// `N passed, N failed, N skipped`.
    pub fn counts(&self) -> String {
        format!(
            "{} passed, {} failed, {} skipped",
            self.passed, self.failed, self.skipped
        )
    }

    /// `path: N passed, N failed, N skipped` plus the skipped features, if any.
    pub fn summary_line(&self) -> String {
        let mut s = format!("{}: {}", self.path, self.counts());
        if !self.skipped_features.is_empty() {
            let feats: Vec<String> = self
                .skipped_features
                .iter()
                .map(|(f, n)| format!("{f} ×{n}"))
                .collect();
            s.push_str(&format!(" (skipped: {})", feats.join(", ")));
        }
        s
    }

    /// Adds another report's counts to this one (for totals).
    pub fn absorb(&mut self, other: &FileReport) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.skipped += other.skipped;
        self.assertions += other.assertions;
        self.mapped_messages += other.mapped_messages;
        self.lenient_passes += other.lenient_passes;
        for (f, n) in &other.skipped_features {
            *self.skipped_features.entry(f.clone()).or_default() += n;
        }
    }
}

/// Errors that prevent a script from running at all.
#[derive(Debug)]
pub enum WastError {
    /// The script could not be read.
    Io {
        /// The script.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl fmt::Display for WastError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WastError::Io { path, .. } => write!(f, "cannot read {}", path.display()),
        }
    }
}

impl std::error::Error for WastError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WastError::Io { source, .. } => Some(source),
        }
    }
}

/// Reads and runs one `.wast` file.
///
/// # Errors
/// [`WastError::Io`] if the file cannot be read (a file that does not parse is a report
/// with one failure).
pub fn run_file(path: &Path, cfg: &RunConfig) -> Result<FileReport, WastError> {
    run_file_with(path, cfg, crate::runtime::TierUp::default())
}

/// [`run_file`] with the stores' tier-up thresholds (tiered mode: e.g. thresholds of 1,
/// which make every loop an OSR candidate at its first back-edge).
///
/// # Errors
/// As [`run_file`].
pub fn run_file_with(
    path: &Path,
    cfg: &RunConfig,
    tier_up: crate::runtime::TierUp,
) -> Result<FileReport, WastError> {
    let bytes = crate::fsio::read_input(path).map_err(|source| WastError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let name = path.display().to_string();
    match std::str::from_utf8(&bytes) {
        Ok(text) => Ok(run_script_tiered(&name, text, cfg, tier_up)),
        Err(e) => {
            let mut r = FileReport {
                path: name,
                ..FileReport::default()
            };
            r.failed = 1;
            r.failures.push(Failure {
                line: 0,
                directive: "script",
                message: format!("script is not UTF-8: {e}"),
            });
            Ok(r)
        }
    }
}

/// The runner's seams: every call into the engine under test. The default methods are the
/// real engine ([`Module::from_bytes`], [`Store::instantiate`]); the harness's own tests
/// override them with deliberately broken ones.
pub trait Engine {
    /// Decodes, validates and compiles a binary module.
    ///
    /// # Errors
    /// Why the module is rejected, with its category.
    fn compile(&mut self, bytes: &[u8]) -> Result<Module, ParseError> {
        // The runner only hands over binaries (text is encoded first), but
        // `Module::from_bytes` would read bytes without the `\0asm` magic as text: decode
        // first so they get the binary decoder's verdict.
        crate::parse::decode(bytes)?;
        Module::from_bytes(bytes)
    }

    /// Instantiates a module with imports resolved by `imports`.
    ///
    /// # Errors
    /// Link errors, start/segment traps, unsupported modes.
    fn instantiate(
        &mut self,
        store: &mut Store,
        module: &Module,
        imports: &dyn Fn(&str, &str) -> Option<Extern>,
    ) -> Result<InstanceId, InstantiateError> {
        store.instantiate(module, imports)
    }

    /// Whether the runner executes top-level directive number `index` (0-based). Always
    /// `true` for a real engine; a test can drop directives to check the counts catch it.
    fn runs_directive(&mut self, index: usize) -> bool {
        let _ = index;
        true
    }
}

/// The engine as shipped: the default [`Engine`] methods.
#[derive(Clone, Copy, Debug, Default)]
pub struct RealEngine;

impl Engine for RealEngine {}

/// Runs a script given as text; `name` is used in the report.
pub fn run_script(name: &str, text: &str, cfg: &RunConfig) -> FileReport {
    run_script_engine(
        name,
        text,
        cfg,
        crate::runtime::TierUp::default(),
        &mut RealEngine,
    )
}

/// [`run_script`] with the engine calls going through `engine`.
pub fn run_script_with(
    name: &str,
    text: &str,
    cfg: &RunConfig,
    engine: &mut dyn Engine,
) -> FileReport {
    run_script_engine(name, text, cfg, crate::runtime::TierUp::default(), engine)
}

/// [`run_script`] with the stores' tier-up thresholds (tiered mode: e.g. thresholds of 1,
/// which make every loop an OSR candidate at its first back-edge).
pub fn run_script_tiered(
    name: &str,
    text: &str,
    cfg: &RunConfig,
    tier_up: crate::runtime::TierUp,
) -> FileReport {
    run_script_engine(name, text, cfg, tier_up, &mut RealEngine)
}

/// [`run_script`] with both seams: tier-up thresholds and the engine.
fn run_script_engine(
    name: &str,
    text: &str,
    cfg: &RunConfig,
    tier_up: crate::runtime::TierUp,
    engine: &mut dyn Engine,
) -> FileReport {
    let mut report = FileReport {
        path: name.to_string(),
        ..FileReport::default()
    };
    let mut lexer = Lexer::new(text);
    lexer.allow_confusing_unicode(true);
    let parsed = ParseBuffer::new_with_lexer(lexer).and_then(|buf| {
        // `Wast` borrows the buffer; run inside the closure's scope.
        let wast = parser::parse::<Wast>(&buf)?;
        let mut runner = Runner::new(text, *cfg, tier_up, &mut report, engine);
        let stop = crate::wast_stop::thread_stop();
        for (i, d) in wast.directives.into_iter().enumerate() {
            if stop.as_ref().is_some_and(|s| s.stopped()) {
                break;
            }
            if runner.engine.runs_directive(i) {
                runner.run_directive(d);
            }
        }
        Ok(())
    });
    if let Err(e) = parsed {
        report.failed += 1;
        report.failures.push(Failure {
            line: e.span().linecol_in(text).0 + 1,
            directive: "script",
            message: format!("script does not parse: {}", e.message()),
        });
    }
    report
}

/// The result of one directive.
enum Outcome {
    Pass,
    /// Passed through a [`MESSAGE_MAP`] entry.
    PassMapped,
    /// Passed only because [`RunConfig::lenient_messages`] is set.
    PassLenient,
    Fail(String),
    Skip(String),
}

use Outcome::{Fail, Pass, PassLenient, PassMapped, Skip};

/// A compiled module plus the names the runner needs (read from the bytes, so the runner
/// does not depend on how the engine describes modules).
struct Loaded {
    module: Module,
    bytes: Vec<u8>,
    exports: Vec<String>,
    imports: Vec<(String, String)>,
}

impl Loaded {
    fn new(module: Module, bytes: &[u8]) -> Loaded {
        let mut exports = Vec::new();
        let mut imports = Vec::new();
        for payload in wasmparser::Parser::new(0).parse_all(bytes) {
            match payload {
                Ok(wasmparser::Payload::ImportSection(reader)) => {
                    for imp in reader.into_imports().flatten() {
                        imports.push((imp.module.to_string(), imp.name.to_string()));
                    }
                }
                Ok(wasmparser::Payload::ExportSection(reader)) => {
                    for exp in reader.into_iter().flatten() {
                        exports.push(exp.name.to_string());
                    }
                }
                _ => {}
            }
        }
        Loaded {
            module,
            bytes: bytes.to_vec(),
            exports,
            imports,
        }
    }
}

/// A module as the runner sees it after compilation.
enum Compiled {
    Ok(Rc<Loaded>),
    /// Needs an out-of-scope feature (named).
    OutOfScope(String),
    /// The text did not parse/encode.
    Malformed(String),
    /// The engine rejected the binary.
    Rejected(ParseError),
}

/// What a module name (or "the current module") refers to.
#[derive(Clone)]
enum Slot {
    Instance(InstanceId, Rc<Loaded>),
    /// Skipped because it needs this feature.
    Skipped(String),
    /// Failed (message says where).
    Failed(String),
}

/// Who owns the externs behind a registered name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Owner {
    Spectest,
    Instance(InstanceId),
}

/// A name imports can refer to.
enum Registered {
    Exports {
        owner: Owner,
        exports: HashMap<String, Extern>,
    },
    Skipped(String),
    Failed(String),
}

/// Module definitions (`module definition`): compiled, not instantiated.
enum Definition {
    Module(Rc<Loaded>),
    /// Skipped for this feature; the bytes are kept to know what instantiating it would touch.
    Skipped(String, Vec<u8>),
    Failed(String),
}

struct Runner<'r> {
    text: &'r str,
    engine: &'r mut dyn Engine,
    cfg: RunConfig,
    report: &'r mut FileReport,
    store: Store,
    current: Option<Slot>,
    named: HashMap<String, Slot>,
    definitions: HashMap<String, Definition>,
    last_definition: Option<String>,
    registered: HashMap<String, Registered>,
    /// Instances (and `spectest`) whose state a skipped module would have changed at
    /// instantiation (segments into imported memories/tables, a start function): every later
    /// directive that observes them is skipped with the skipped module's feature.
    tainted: HashMap<Owner, String>,
}

impl<'r> Runner<'r> {
    fn new(
        text: &'r str,
        cfg: RunConfig,
        tier_up: crate::runtime::TierUp,
        report: &'r mut FileReport,
        engine: &'r mut dyn Engine,
    ) -> Runner<'r> {
        let stop = crate::wast_stop::thread_stop();
        let mut store = Store::new(Config {
            memory: cfg.memory,
            tier_up,
            interruptible: stop.is_some(),
            ..Config::new(cfg.mode)
        });
        if let (Some(s), Ok(h)) = (&stop, store.interrupt_handle()) {
            s.register(h);
        }
        let spectest = spectest_exports(&mut store);
        let mut registered = HashMap::new();
        registered.insert(
            "spectest".to_string(),
            Registered::Exports {
                owner: Owner::Spectest,
                exports: spectest,
            },
        );
        Runner {
            text,
            engine,
            cfg,
            report,
            store,
            current: None,
            named: HashMap::new(),
            definitions: HashMap::new(),
            last_definition: None,
            registered,
            tainted: HashMap::new(),
        }
    }

    fn line(&self, span: Span) -> usize {
        span.linecol_in(self.text).0 + 1
    }

    /// Runs one directive, catching engine panics, and records its outcome.
    fn run_directive(&mut self, d: WastDirective<'_>) {
        let line = self.line(d.span());
        let (kind, is_assertion) = directive_kind(&d);
        if let WastDirective::Thread(t) = &d {
            // Threads are not supported: every assertion inside is skipped (failed when
            // everything is in scope).
            let n = count_assertions(&t.directives);
            if self.cfg.scope == Scope::All {
                self.report.failed += n;
                self.report.failures.push(Failure {
                    line,
                    directive: kind,
                    message: format!("threads are not supported ({n} assertions)"),
                });
            } else {
                self.record_skips("threads", n);
            }
            self.report.assertions += n;
            return;
        }
        let outcome = catch_unwind(AssertUnwindSafe(|| self.directive(d)))
            .unwrap_or_else(|p| Fail(format!("engine panicked: {}", panic_message(&p))));
        // With every feature in scope nothing is skipped: what cannot run fails.
        let outcome = match outcome {
            Skip(f) if self.cfg.scope == Scope::All => {
                Fail(format!("needs `{f}`, which cannot be expressed or run"))
            }
            o => o,
        };
        if is_assertion {
            self.report.assertions += 1;
        }
        match outcome {
            Pass | PassMapped | PassLenient => {
                if is_assertion {
                    self.report.passed += 1;
                    match outcome {
                        PassMapped => self.report.mapped_messages += 1,
                        PassLenient => self.report.lenient_passes += 1,
                        _ => {}
                    }
                }
            }
            Skip(feature) => {
                if is_assertion {
                    self.record_skips(&feature, 1);
                }
            }
            Fail(message) => {
                self.report.failed += 1;
                self.report.failures.push(Failure {
                    line,
                    directive: kind,
                    message,
                });
            }
        }
    }

    fn record_skips(&mut self, feature: &str, n: usize) {
        if n == 0 {
            return;
        }
        self.report.skipped += n;
        *self
            .report
            .skipped_features
            .entry(feature.to_string())
            .or_default() += n;
    }

    fn directive(&mut self, d: WastDirective<'_>) -> Outcome {
        match d {
            WastDirective::Module(mut qw) => {
                let line = self.line(qw.span());
                let name = qw.name().map(|id| id.name().to_string());
                let slot = match self.compile_quote(&mut qw, true) {
                    Compiled::Ok(m) => self.instantiate_slot(m, line),
                    Compiled::OutOfScope(f) => Slot::Skipped(f),
                    Compiled::Malformed(e) => {
                        Slot::Failed(format!("module at line {line} does not parse: {e}"))
                    }
                    Compiled::Rejected(e) => Slot::Failed(format!(
                        "module at line {line} was rejected ({}): {e}",
                        e.kind.name()
                    )),
                };
                let outcome = match &slot {
                    Slot::Instance(..) => Pass,
                    Slot::Skipped(f) => Skip(f.clone()),
                    Slot::Failed(m) => Fail(m.clone()),
                };
                if let Some(name) = name {
                    self.named.insert(name, slot.clone());
                }
                self.current = Some(slot);
                outcome
            }
            WastDirective::ModuleDefinition(mut qw) => {
                let line = self.line(qw.span());
                let name = qw
                    .name()
                    .map(|id| id.name().to_string())
                    .unwrap_or_else(|| format!("<definition at line {line}>"));
                let is_component = matches!(
                    qw,
                    QuoteWat::QuoteComponent(..) | QuoteWat::Wat(Wat::Component(_))
                );
                let source = quote_source(&qw, self.text);
                let bytes = quote_bytes(&mut qw);
                let kept = bytes.clone().unwrap_or_default();
                let compiled = if is_component {
                    Compiled::OutOfScope("component-model".into())
                } else {
                    self.compile_bytes(bytes, source.as_deref(), false)
                };
                let (def, outcome) = match compiled {
                    Compiled::Ok(m) => (Definition::Module(m), Pass),
                    Compiled::OutOfScope(f) => (Definition::Skipped(f.clone(), kept), Skip(f)),
                    Compiled::Malformed(e) => {
                        let m = format!("module definition at line {line} does not parse: {e}");
                        (Definition::Failed(m.clone()), Fail(m))
                    }
                    Compiled::Rejected(e) => {
                        let m = format!(
                            "module definition at line {line} was rejected ({}): {e}",
                            e.kind.name()
                        );
                        (Definition::Failed(m.clone()), Fail(m))
                    }
                };
                self.definitions.insert(name.clone(), def);
                self.last_definition = Some(name);
                outcome
            }
            WastDirective::ModuleInstance {
                span,
                instance,
                module,
            } => {
                let line = self.line(span);
                let def_name = module
                    .map(|id| id.name().to_string())
                    .or_else(|| self.last_definition.clone());
                let def = def_name.as_ref().and_then(|n| self.definitions.get(n));
                let slot = match def {
                    None => Slot::Failed(format!(
                        "module instance at line {line}: no such module definition"
                    )),
                    Some(Definition::Skipped(f, bytes)) => {
                        let (f, bytes) = (f.clone(), bytes.clone());
                        self.taint_from(&bytes, &f);
                        Slot::Skipped(f)
                    }
                    Some(Definition::Failed(m)) => Slot::Failed(m.clone()),
                    Some(Definition::Module(m)) => {
                        let m = m.clone();
                        self.instantiate_slot(m, line)
                    }
                };
                let outcome = match &slot {
                    Slot::Instance(..) => Pass,
                    Slot::Skipped(f) => Skip(f.clone()),
                    Slot::Failed(m) => Fail(m.clone()),
                };
                if let Some(id) = instance {
                    self.named.insert(id.name().to_string(), slot.clone());
                }
                self.current = Some(slot);
                outcome
            }
            WastDirective::Register { name, module, .. } => {
                let (reg, outcome) = match self.slot(module) {
                    Err(e) => (Registered::Failed(e.clone()), Fail(e)),
                    Ok(Slot::Skipped(f)) => (Registered::Skipped(f.clone()), Skip(f)),
                    Ok(Slot::Failed(m)) => (Registered::Failed(m.clone()), Fail(m)),
                    Ok(Slot::Instance(id, m)) => {
                        let mut exports = HashMap::new();
                        for name in &m.exports {
                            if let Some(e) = self.store.export(id, name) {
                                exports.insert(name.clone(), e);
                            }
                        }
                        let owner = Owner::Instance(id);
                        (Registered::Exports { owner, exports }, Pass)
                    }
                };
                self.registered.insert(name.to_string(), reg);
                outcome
            }
            WastDirective::Invoke(inv) => match self.invoke(&inv) {
                Ok(Ok(_)) => Pass,
                Ok(Err(e)) => Fail(format!("invoke `{}` failed: {e}", inv.name)),
                Err(o) => o,
            },
            WastDirective::AssertReturn { exec, results, .. } => self.assert_return(exec, &results),
            WastDirective::AssertTrap { exec, message, .. } => self.assert_trap(exec, message),
            WastDirective::AssertExhaustion { call, message, .. } => match self.invoke(&call) {
                Err(o) => o,
                Ok(Ok(vals)) => Fail(format!(
                    "expected `{message}`, got results {}",
                    fmt_vals(&vals)
                )),
                Ok(Err(CallError::Trap(t))) if t.code == TrapCode::StackOverflow => Pass,
                Ok(Err(e)) => Fail(format!("expected `{message}`, got {e}")),
            },
            WastDirective::AssertInvalid {
                mut module,
                message,
                ..
            } => self.assert_rejected(&mut module, message, Expect::Invalid),
            WastDirective::AssertMalformed {
                mut module,
                message,
                ..
            } => self.assert_rejected(&mut module, message, Expect::Malformed),
            WastDirective::AssertUnlinkable {
                mut module,
                message,
                ..
            } => {
                let m = match self.compile_valid(&mut module) {
                    Ok(m) => m,
                    Err(o) => return o,
                };
                match self.instantiate(&m) {
                    Err(InstantiateError::Unlinkable(got)) => {
                        self.judge_message("unlinkable", message, &got)
                    }
                    Err(InstantiateError::Unsupported(f)) if f.starts_with("skip:") => {
                        Skip(f["skip:".len()..].to_string())
                    }
                    Err(_) if self.cfg.lenient_messages => PassLenient,
                    Err(e) => Fail(format!(
                        "expected a link error `{message}`, got another category: {e}"
                    )),
                    Ok(_) => Fail(format!(
                        "expected unlinkable `{message}`, but the module instantiated"
                    )),
                }
            }
            WastDirective::AssertInvalidCustom { .. }
            | WastDirective::AssertMalformedCustom { .. } => Skip("custom-annotations".into()),
            WastDirective::AssertException { exec, .. } => self.assert_exception(exec),
            WastDirective::AssertSuspension { .. } => Skip("stack-switching".into()),
            WastDirective::Thread(_) | WastDirective::Wait { .. } => Skip("threads".into()),
        }
    }

    /// The instance a directive refers to (`$id` or the current module).
    fn slot(&self, id: Option<Id<'_>>) -> Result<Slot, String> {
        match id {
            Some(id) => self
                .named
                .get(id.name())
                .cloned()
                .ok_or_else(|| format!("unknown module `${}`", id.name())),
            None => self
                .current
                .clone()
                .ok_or_else(|| "no module instantiated yet".to_string()),
        }
    }

    /// Parses (for `module quote`) and encodes a module, then compiles it. `instantiates`
    /// says whether the directive would instantiate it (see [`Runner::taint_from`]).
    fn compile_quote(&mut self, qw: &mut QuoteWat<'_>, instantiates: bool) -> Compiled {
        if matches!(
            qw,
            QuoteWat::QuoteComponent(..) | QuoteWat::Wat(Wat::Component(_))
        ) {
            return Compiled::OutOfScope("component-model".into());
        }
        let source = quote_source(qw, self.text);
        self.compile_bytes(quote_bytes(qw), source.as_deref(), instantiates)
    }

    /// Compiles a module text that must be valid (`assert_unlinkable`, `assert_trap` and
    /// `assert_return` on a module): the outcome to report when it is not.
    fn compile_valid(&mut self, wat: &mut Wat<'_>) -> Result<Rc<Loaded>, Outcome> {
        if matches!(wat, Wat::Component(_)) {
            return Err(Skip("component-model".into()));
        }
        let source = form_text(self.text, wat.span().offset()).map(str::to_string);
        let bytes = wat.encode().map_err(|e| first_line(&e.message()));
        match self.compile_bytes(bytes, source.as_deref(), true) {
            Compiled::Ok(m) => Ok(m),
            Compiled::OutOfScope(f) => Err(Skip(f)),
            Compiled::Malformed(e) => Err(Fail(format!("module does not parse: {e}"))),
            Compiled::Rejected(e) => Err(Fail(format!(
                "module was rejected ({}): {e}",
                e.kind.name()
            ))),
        }
    }

    /// Compiles a module binary (or reports why there is none). `source` is the module's
    /// text, used to name the feature when text does not parse.
    fn compile_bytes(
        &mut self,
        bytes: Result<Vec<u8>, String>,
        source: Option<&str>,
        instantiates: bool,
    ) -> Compiled {
        let bytes = match bytes {
            Ok(b) => b,
            Err(e) => {
                // An unknown instruction name is malformed in every scope (e.g. obsolete
                // spellings); other text errors inside out-of-scope syntax are skipped.
                if self.cfg.scope != Scope::All
                    && !e.contains("unknown operator")
                    && let Some(f) = source.and_then(text_feature)
                    && !self.text_feature_in_scope(f)
                {
                    return Compiled::OutOfScope(f.to_string());
                }
                return Compiled::Malformed(e);
            }
        };
        let skip = out_of_scope_feature(&bytes, self.cfg.scope, self.cfg.mode)
            .or_else(|| self.text_feature_of_invalid(&bytes, source))
            .or_else(|| self.imports_out_of_scope(&bytes));
        // The legacy exception instructions (`try`, `catch`, `delegate`, ...) are no
        // WebAssembly 3.0 text: the `wast` crate encodes them, the spec's text grammar has no
        // such tokens.
        if skip.as_deref() == Some("legacy-exceptions") && source.is_some() {
            return Compiled::Malformed(
                "unexpected token (a legacy exception instruction, not WebAssembly 3.0 text)"
                    .into(),
            );
        }
        if let Some(f) = skip {
            if instantiates {
                self.taint_from(&bytes, &f);
            }
            return Compiled::OutOfScope(f);
        }
        match self.engine.compile(&bytes) {
            Ok(m) => Compiled::Ok(Rc::new(Loaded::new(m, &bytes))),
            Err(e) => Compiled::Rejected(e),
        }
    }

    /// Whether a feature [`text_feature`] names is in scope for this run (so its syntax
    /// errors are real errors, not skips).
    fn text_feature_in_scope(&self, f: &str) -> bool {
        let fs = self.cfg.scope.features_in(self.cfg.mode);
        match f {
            "simd" => fs.contains(WasmFeatures::SIMD),
            "relaxed-simd" => fs.contains(WasmFeatures::RELAXED_SIMD),
            "tail-call" => fs.contains(WasmFeatures::TAIL_CALL),
            "function-references" => fs.contains(WasmFeatures::FUNCTION_REFERENCES),
            "extended-const" => fs.contains(WasmFeatures::EXTENDED_CONST),
            "memory64" => fs.contains(WasmFeatures::MEMORY64),
            "multi-memory" => fs.contains(WasmFeatures::MULTI_MEMORY),
            "gc" => fs.contains(WasmFeatures::GC),
            "exceptions" => fs.contains(WasmFeatures::EXCEPTIONS),
            // Annotations are text syntax (the `wast` crate parses them): no validator
            // feature, in scope from 3.0 on.
            "annotations" => self.cfg.scope != Scope::Core,
            _ => false,
        }
    }

    /// For a module from text that is invalid in scope: an out-of-scope feature its text
    /// uses (the validator may report an in-scope error before it reaches the feature, e.g.
    /// limits of a `(memory i64 ...)`).
    fn text_feature_of_invalid(&self, bytes: &[u8], source: Option<&str>) -> Option<String> {
        if self.cfg.scope == Scope::All {
            return None;
        }
        let feature = text_feature(source?)?;
        if self.text_feature_in_scope(feature) {
            return None;
        }
        wasmparser::Validator::new_with_features(self.cfg.scope.features_in(self.cfg.mode))
            .validate_all(bytes)
            .is_err()
            .then(|| feature.to_string())
    }

    /// If the module imports from a skipped registration or a tainted owner, that feature.
    fn imports_out_of_scope(&self, bytes: &[u8]) -> Option<String> {
        let (imports, _) = imports_and_effects(bytes);
        imports
            .iter()
            .find_map(|module| match self.registered.get(module)? {
                Registered::Skipped(f) => Some(f.clone()),
                Registered::Exports { owner, .. } => self.tainted.get(owner).cloned(),
                Registered::Failed(_) => None,
            })
    }

    /// A module that needs `feature` is skipped although a directive would instantiate it.
    /// If instantiating it could have changed state it imports (active segments, a start
    /// function), the owners of that state are tainted so later directives observing them
    /// are skipped too instead of failing.
    fn taint_from(&mut self, bytes: &[u8], feature: &str) {
        let (imports, effects) = imports_and_effects(bytes);
        if !effects {
            return;
        }
        for module in imports {
            if let Some(Registered::Exports { owner, .. }) = self.registered.get(&module) {
                self.tainted
                    .entry(*owner)
                    .or_insert_with(|| feature.to_string());
            }
        }
    }

    /// Resolves a module's imports against the registered names and instantiates it.
    fn instantiate(&mut self, m: &Loaded) -> Result<InstanceId, InstantiateError> {
        let mut resolved: HashMap<(String, String), Extern> = HashMap::new();
        for (module, name) in m.imports.iter().cloned() {
            match self.registered.get(&module) {
                Some(Registered::Exports { owner, exports }) => {
                    if let Some(f) = self.tainted.get(owner) {
                        return Err(InstantiateError::Unsupported(format!("skip:{f}")));
                    }
                    if let Some(e) = exports.get(&name) {
                        resolved.insert((module, name), *e);
                    }
                }
                // The runner reports these as skipped/failed; the engine never sees them.
                Some(Registered::Skipped(f)) => {
                    return Err(InstantiateError::Unsupported(format!("skip:{f}")));
                }
                Some(Registered::Failed(msg)) => {
                    return Err(InstantiateError::Unlinkable(format!(
                        "import from failed module `{module}`: {msg}"
                    )));
                }
                None => {}
            }
        }
        let lookup = |module: &str, name: &str| {
            resolved
                .get(&(module.to_string(), name.to_string()))
                .copied()
        };
        self.engine.instantiate(&mut self.store, &m.module, &lookup)
    }

    fn instantiate_slot(&mut self, m: Rc<Loaded>, line: usize) -> Slot {
        let r = self.instantiate(&m);
        if let Err(InstantiateError::Unsupported(f)) = &r
            && let Some(f) = f.strip_prefix("skip:")
        {
            let f = f.to_string();
            self.taint_from(&m.bytes, &f);
        }
        match r {
            Ok(id) => Slot::Instance(id, m),
            Err(InstantiateError::Unsupported(f)) if f.starts_with("skip:") => {
                Slot::Skipped(f["skip:".len()..].to_string())
            }
            Err(e) => Slot::Failed(format!("module at line {line} failed to instantiate: {e}")),
        }
    }

    /// Calls an export. `Err(outcome)` when the call cannot even be attempted.
    fn invoke(&mut self, inv: &WastInvoke<'_>) -> Result<Result<Vec<Val>, CallError>, Outcome> {
        let mut args = Vec::with_capacity(inv.args.len());
        for a in &inv.args {
            args.push(arg_val(a).map_err(Skip)?);
        }
        let (id, _) = self.instance(inv.module)?;
        let f = match self.store.export(id, inv.name) {
            Some(Extern::Func(f)) => f,
            Some(_) => return Err(Fail(format!("export `{}` is not a function", inv.name))),
            None => return Err(Fail(format!("no export named `{}`", inv.name))),
        };
        Ok(self.store.call(f, &args))
    }

    /// The live instance a directive refers to, or the outcome for a skipped/failed one.
    fn instance(&self, id: Option<Id<'_>>) -> Result<(InstanceId, Rc<Loaded>), Outcome> {
        match self.slot(id).map_err(Fail)? {
            Slot::Instance(i, _) if self.tainted.contains_key(&Owner::Instance(i)) => {
                Err(Skip(self.tainted[&Owner::Instance(i)].clone()))
            }
            Slot::Instance(i, m) => Ok((i, m)),
            Slot::Skipped(f) => Err(Skip(f)),
            Slot::Failed(m) => Err(Fail(m)),
        }
    }

    fn assert_return(&mut self, exec: WastExecute<'_>, results: &[WastRet<'_>]) -> Outcome {
        // Expected values needing out-of-scope features are skipped before running anything.
        for r in results {
            if let Some(f) = ret_feature(r) {
                return Skip(f);
            }
        }
        let got = match exec {
            WastExecute::Invoke(inv) => match self.invoke(&inv) {
                Err(o) => return o,
                Ok(Ok(v)) => v,
                Ok(Err(e)) => return Fail(format!("expected results, got {e}")),
            },
            WastExecute::Get { module, global, .. } => {
                let (id, _) = match self.instance(module) {
                    Ok(x) => x,
                    Err(o) => return o,
                };
                match self.store.export(id, global) {
                    Some(Extern::Global(g)) => vec![self.store.global_get(g)],
                    Some(_) => return Fail(format!("export `{global}` is not a global")),
                    None => return Fail(format!("no export named `{global}`")),
                }
            }
            WastExecute::Wat(mut wat) => {
                let m = match self.compile_valid(&mut wat) {
                    Ok(m) => m,
                    Err(o) => return o,
                };
                match self.instantiate_slot(m, 0) {
                    Slot::Instance(..) => Vec::new(),
                    Slot::Skipped(f) => return Skip(f),
                    Slot::Failed(m) => return Fail(m),
                }
            }
        };
        if got.len() != results.len() {
            return Fail(format!(
                "expected {} results {}, got {}",
                results.len(),
                fmt_expected(results),
                fmt_vals(&got)
            ));
        }
        for (g, r) in got.iter().zip(results) {
            let WastRet::Core(r) = r else {
                return Skip("component-model".into());
            };
            match ret_matches(r, g) {
                Ok(true) => {}
                Ok(false) => {
                    return Fail(format!(
                        "expected {}, got {}",
                        fmt_expected(results),
                        fmt_vals(&got)
                    ));
                }
                Err(f) => return Skip(f),
            }
        }
        Pass
    }

    fn assert_trap(&mut self, exec: WastExecute<'_>, message: &str) -> Outcome {
        let trap: Trap = match exec {
            WastExecute::Invoke(inv) => match self.invoke(&inv) {
                Err(o) => return o,
                Ok(Ok(v)) => {
                    return Fail(format!("expected trap `{message}`, got {}", fmt_vals(&v)));
                }
                Ok(Err(CallError::Trap(t))) => t,
                Ok(Err(e)) => return Fail(format!("expected trap `{message}`, got {e}")),
            },
            WastExecute::Get { .. } => {
                return Fail(format!("expected trap `{message}`, but `get` cannot trap"));
            }
            WastExecute::Wat(mut wat) => {
                let m = match self.compile_valid(&mut wat) {
                    Ok(m) => m,
                    Err(o) => return o,
                };
                match self.instantiate(&m) {
                    Ok(_) => {
                        return Fail(format!(
                            "expected trap `{message}`, but the module instantiated"
                        ));
                    }
                    Err(InstantiateError::Trap(t)) => t,
                    Err(InstantiateError::Unsupported(f)) if f.starts_with("skip:") => {
                        return Skip(f["skip:".len()..].to_string());
                    }
                    Err(e) => return Fail(format!("expected trap `{message}`, got {e}")),
                }
            }
        };
        if trap_matches(message, trap.code) {
            Pass
        } else {
            Fail(format!("expected trap `{message}`, got trap `{trap}`"))
        }
    }

    /// `assert_exception`: the call (or the start function) must end in an uncaught wasm
    /// exception, carried to the host with its tag.
    fn assert_exception(&mut self, exec: WastExecute<'_>) -> Outcome {
        let got = match exec {
            WastExecute::Invoke(inv) => match self.invoke(&inv) {
                Err(o) => return o,
                Ok(Ok(v)) => {
                    return Fail(format!("expected an exception, got {}", fmt_vals(&v)));
                }
                Ok(Err(e)) => e,
            },
            WastExecute::Get { .. } => {
                return Fail("expected an exception, but `get` cannot throw".into());
            }
            WastExecute::Wat(mut wat) => {
                let m = match self.compile_valid(&mut wat) {
                    Ok(m) => m,
                    Err(o) => return o,
                };
                match self.instantiate(&m) {
                    Ok(_) => {
                        return Fail("expected an exception, but the module instantiated".into());
                    }
                    Err(InstantiateError::Trap(t)) => CallError::Trap(t),
                    Err(InstantiateError::Unsupported(f)) if f.starts_with("skip:") => {
                        return Skip(f["skip:".len()..].to_string());
                    }
                    Err(e) => return Fail(format!("expected an exception, got {e}")),
                }
            }
        };
        match got {
            CallError::Trap(t) if t.code == TrapCode::Exception && t.exception.is_some() => Pass,
            e => Fail(format!("expected an exception, got {e}")),
        }
    }

    /// `assert_invalid` / `assert_malformed`: the rejection must have the expected category
    /// and message (see the module docs).
    fn assert_rejected(&mut self, qw: &mut QuoteWat<'_>, message: &str, want: Expect) -> Outcome {
        let what = want.name();
        let (category, got) = match self.compile_quote(qw, false) {
            Compiled::OutOfScope(f) => return Skip(f),
            Compiled::Ok(_) => {
                return Fail(format!(
                    "module should be {what} (`{message}`) but the engine accepted it"
                ));
            }
            Compiled::Malformed(e) => ("text", e),
            Compiled::Rejected(e) => (e.kind.name(), e.message),
        };
        let right_category = match want {
            Expect::Malformed => matches!(category, "text" | "decode"),
            Expect::Invalid => category == "validate",
        };
        if !right_category {
            let mapped = MESSAGE_MAP.iter().any(|m| {
                m.category.is_some_and(|k| k.name() == category)
                    && m.spec == message
                    && got.starts_with(m.engine)
            });
            if mapped {
                return PassMapped;
            }
            if self.cfg.lenient_messages {
                return PassLenient;
            }
            return Fail(format!(
                "module should be {what} (`{message}`), got a {category} error instead: {got}"
            ));
        }
        self.judge_message(what, message, &got)
    }

    /// Compares a rejection's message with the script's (category already checked).
    fn judge_message(&self, what: &str, expected: &str, got: &str) -> Outcome {
        match message_matches(expected, got) {
            MessageMatch::Prefix => Pass,
            MessageMatch::Mapped => PassMapped,
            MessageMatch::Differs if self.cfg.lenient_messages => PassLenient,
            MessageMatch::Differs => Fail(format!(
                "{what}: expected message `{expected}`, got `{got}`"
            )),
        }
    }
}

/// [`MESSAGE_MAP`] as the markdown table of `docs/SPEC-MESSAGES.md`.
pub fn message_map_markdown() -> String {
    let cell = |s: &str| s.replace('|', "\\|");
    let mut out = String::from(
        "| spec message | engine message starts with | category | why |\n|---|---|---|---|\n",
    );
    for m in MESSAGE_MAP {
        let category = m.category.map_or("same", ParseErrorKind::name);
        out.push_str(&format!(
            "| `{}` | `{}` | {category} | {} |\n",
            m.spec,
            m.engine,
            cell(m.why)
        ));
    }
    out
}

/// What a rejection assertion expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    /// `assert_malformed`: a text parse error or a binary decode error.
    Malformed,
    /// `assert_invalid`: a validation error.
    Invalid,
}

impl Expect {
    fn name(self) -> &'static str {
        match self {
            Expect::Malformed => "malformed",
            Expect::Invalid => "invalid",
        }
    }
}

/// How a rejection's message compares with the script's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MessageMatch {
    /// The script's message is a prefix of the engine's (the reference interpreter's rule).
    Prefix,
    /// A [`MESSAGE_MAP`] entry accepts the pair.
    Mapped,
    Differs,
}

fn message_matches(expected: &str, got: &str) -> MessageMatch {
    if got.starts_with(expected) {
        return MessageMatch::Prefix;
    }
    if MESSAGE_MAP
        .iter()
        .any(|m| m.category.is_none() && m.spec == expected && got.starts_with(m.engine))
    {
        MessageMatch::Mapped
    } else {
        MessageMatch::Differs
    }
}

/// One accepted difference between the reference interpreter's wording and ours.
#[derive(Clone, Copy, Debug)]
pub struct MessageMapping {
    /// The message in the spec script (exactly).
    pub spec: &'static str,
    /// A prefix of the engine's (wasmparser's or the `wast` crate's) message.
    pub engine: &'static str,
    /// `Some(kind)`: the entry also accepts an engine error of this category for the
    /// assertion (where wasmparser decides in the decoder what the spec decides in
    /// validation); `None`: the assertion's own category is required.
    pub category: Option<ParseErrorKind>,
    /// Why the two describe the same error.
    pub why: &'static str,
}

/// Spec message -> engine message prefixes accepted for it. `docs/SPEC-MESSAGES.md` carries
/// this table ([`message_map_markdown`]); a test checks the two agree and rewrites the doc
/// with `BAREFLOW_BLESS=1`.
pub const MESSAGE_MAP: &[MessageMapping] = &[
    MessageMapping {
        spec: "integer too large",
        engine: "invalid var_u32: integer too large",
        category: None,
        why: "wasmparser names the LEB128 kind it was reading before the spec's words",
    },
    MessageMapping {
        spec: "integer too large",
        engine: "invalid var_i32: integer too large",
        category: None,
        why: "as above, signed 32-bit LEB128",
    },
    MessageMapping {
        spec: "integer too large",
        engine: "invalid var_i64: integer too large",
        category: None,
        why: "as above, signed 64-bit LEB128",
    },
    MessageMapping {
        spec: "integer too large",
        engine: "invalid var_u64: integer too large",
        category: None,
        why: "as above, unsigned 64-bit LEB128 (memory64 limits)",
    },
    MessageMapping {
        spec: "integer representation too long",
        engine: "invalid var_u32: integer representation too long",
        category: None,
        why: "wasmparser names the LEB128 kind it was reading before the spec's words",
    },
    MessageMapping {
        spec: "integer representation too long",
        engine: "invalid var_i32: integer representation too long",
        category: None,
        why: "as above, signed 32-bit LEB128",
    },
    MessageMapping {
        spec: "integer representation too long",
        engine: "invalid var_i64: integer representation too long",
        category: None,
        why: "as above, signed 64-bit LEB128",
    },
    MessageMapping {
        spec: "integer representation too long",
        engine: "invalid var_u64: integer representation too long",
        category: None,
        why: "as above, unsigned 64-bit LEB128 (binary0.wast: memory limits, read as 64-bit)",
    },
    MessageMapping {
        spec: "integer too large",
        engine: "unexpected end-of-file",
        category: None,
        why: "binary-leb128.wast: limits whose 5-byte u32 ends the section; wasmparser reads limits as 64-bit LEB128s (memory64 encoding), so it runs past the section end before the overflow check",
    },
    MessageMapping {
        spec: "integer representation too long",
        engine: "unexpected end-of-file",
        category: None,
        why: "same cause as the entry above: the LEB128 is read as 64-bit and hits the section end",
    },
    MessageMapping {
        spec: "integer representation too long",
        engine: "invalid leading byte (0xe0) for type",
        category: None,
        why: "binary-leb128.wast: a block type written as a 2-byte s33; wasmparser reads the first byte as a value type tag, the spec as an s33 LEB128",
    },
    MessageMapping {
        spec: "unexpected end of section or function",
        engine: "unexpected end-of-file",
        category: None,
        why: "the same condition (a reader ran out of bytes in a section or body), different wording",
    },
    MessageMapping {
        spec: "unexpected end of section or function",
        engine: "control frames remain at end of function body or expression",
        category: None,
        why: "a body or constant expression ends without its `end`: wasmparser reports the open frame, the spec the missing bytes",
    },
    MessageMapping {
        spec: "END opcode expected",
        engine: "control frames remain at end of function body or expression",
        category: None,
        why: "a constant expression without its final `end`",
    },
    MessageMapping {
        spec: "section size mismatch",
        engine: "control frames remain at end of function body or expression",
        category: None,
        why: "binary.wast: a constant expression missing its `end` inside a section of the declared size; the spec checks the section size, wasmparser the expression first",
    },
    MessageMapping {
        spec: "length out of bounds",
        engine: "unexpected end-of-file",
        category: None,
        why: "a name or section length past the end of the input: the same condition, different wording",
    },
    MessageMapping {
        spec: "length out of bounds",
        engine: "expected section, got wasm magic number",
        category: None,
        why: "custom.wast: a custom section length that swallows the rest of a module concatenated with a second header; wasmparser reports the second magic number it finds where the next section should start",
    },
    MessageMapping {
        spec: "malformed limits flags",
        engine: "invalid memory limits flags",
        category: None,
        why: "a limits flag byte outside 0..=1 (memory): the same check, wasmparser's wording",
    },
    MessageMapping {
        spec: "malformed limits flags",
        engine: "invalid table resizable limits flags",
        category: None,
        why: "a limits flag byte outside 0..=1 (table): the same check, wasmparser's wording",
    },
    MessageMapping {
        spec: "malformed limits flags",
        engine: "unexpected end-of-file",
        category: None,
        why: "binary.wast: a limits flag byte with the continuation bit set; wasmparser reads the flags as a LEB128 and runs out of bytes",
    },
    MessageMapping {
        spec: "malformed memop flags",
        engine: "malformed memop: reserved flags bits set",
        category: None,
        why: "the same check, wasmparser's wording",
    },
    MessageMapping {
        spec: "malformed import kind",
        engine: "invalid leading byte (0x",
        category: None,
        why: "an import kind byte outside 0..=3: wasmparser names the byte",
    },
    MessageMapping {
        spec: "unexpected content after last section",
        engine: "section out of order",
        category: None,
        why: "a known section after a later one: the spec's decoder reads sections in a fixed order and sees leftover content, wasmparser checks the order",
    },
    MessageMapping {
        spec: "unexpected content after last section",
        engine: "function and code section have inconsistent lengths",
        category: None,
        why: "binary.wast: a function section after the code section; wasmparser's count check fires first",
    },
    MessageMapping {
        spec: "multiple start sections",
        engine: "section out of order",
        category: None,
        why: "a second start section: wasmparser's order check covers duplicates",
    },
    MessageMapping {
        spec: "function and code section have inconsistent lengths",
        engine: "function section is absent but code section has non-zero count",
        category: None,
        why: "the same check, wasmparser names which section is missing",
    },
    MessageMapping {
        spec: "function and code section have inconsistent lengths",
        engine: "function section has non-zero count but code section is absent",
        category: None,
        why: "the same check, wasmparser names which section is missing",
    },
    MessageMapping {
        spec: "data count and data section have inconsistent lengths",
        engine: "data count is non-zero but data section is absent",
        category: None,
        why: "the same check, wasmparser names which section is missing",
    },
    MessageMapping {
        spec: "illegal opcode ff",
        engine: "illegal opcode: 0xff",
        category: None,
        why: "the same opcode, written 0xff",
    },
    MessageMapping {
        spec: "unknown operator",
        engine: "expected a float",
        category: None,
        why: "const.wast: a malformed float literal; the reference lexer reads it as an unknown keyword, the wast crate reports the number it expected",
    },
    MessageMapping {
        spec: "unknown operator",
        engine: "expected a i32",
        category: None,
        why: "as above, malformed i32 literal",
    },
    MessageMapping {
        spec: "unknown operator",
        engine: "expected a i64",
        category: None,
        why: "as above, malformed i64 literal",
    },
    MessageMapping {
        spec: "unknown operator",
        engine: "expected `(`",
        category: None,
        why: "a keyword where a parenthesized form must follow (the reference parser reads it as an instruction name)",
    },
    MessageMapping {
        spec: "unknown operator",
        engine: "unexpected token, expected an index or an identifier",
        category: None,
        why: "a malformed index literal: the reference lexer reads it as an unknown keyword",
    },
    MessageMapping {
        spec: "unknown operator",
        engine: "expected an instruction",
        category: None,
        why: "an unknown keyword where an instruction must be",
    },
    MessageMapping {
        spec: "unknown operator",
        engine: "expected valid module field",
        category: None,
        why: "an unknown keyword at module-field level",
    },
    MessageMapping {
        spec: "unknown operator",
        engine: "unknown operator or unexpected token",
        category: None,
        why: "the wast crate's message for an unknown instruction name",
    },
    MessageMapping {
        spec: "unknown operator get_local",
        engine: "unknown operator or unexpected token",
        category: None,
        why: "an obsolete instruction name: the wast crate does not repeat the name",
    },
    MessageMapping {
        spec: "unknown operator set_local",
        engine: "unknown operator or unexpected token",
        category: None,
        why: "an obsolete instruction name: the wast crate does not repeat the name",
    },
    MessageMapping {
        spec: "unknown operator tee_local",
        engine: "unknown operator or unexpected token",
        category: None,
        why: "an obsolete instruction name: the wast crate does not repeat the name",
    },
    MessageMapping {
        spec: "unknown operator get_global",
        engine: "unknown operator or unexpected token",
        category: None,
        why: "an obsolete instruction name: the wast crate does not repeat the name",
    },
    MessageMapping {
        spec: "unknown operator set_global",
        engine: "unknown operator or unexpected token",
        category: None,
        why: "an obsolete instruction name: the wast crate does not repeat the name",
    },
    MessageMapping {
        spec: "unknown operator current_memory",
        engine: "unknown operator or unexpected token",
        category: None,
        why: "an obsolete instruction name: the wast crate does not repeat the name",
    },
    MessageMapping {
        spec: "unknown operator grow_memory",
        engine: "unknown operator or unexpected token",
        category: None,
        why: "an obsolete instruction name: the wast crate does not repeat the name",
    },
    MessageMapping {
        spec: "unknown operator i32.wrap/i64",
        engine: "unknown operator or unexpected token",
        category: None,
        why: "an obsolete instruction name: the wast crate does not repeat the name",
    },
    MessageMapping {
        spec: "unknown operator i32.trunc_s:sat/f32",
        engine: "unknown operator or unexpected token",
        category: None,
        why: "an obsolete instruction name: the wast crate does not repeat the name",
    },
    MessageMapping {
        spec: "unknown operator f32x4.convert_s/i32x4",
        engine: "unknown operator or unexpected token",
        category: None,
        why: "an obsolete instruction name: the wast crate does not repeat the name",
    },
    MessageMapping {
        spec: "unknown operator anyfunc",
        engine: "unexpected token, expected one of:",
        category: None,
        why: "the obsolete type name `anyfunc`: the wast crate lists the type names it accepts",
    },
    MessageMapping {
        spec: "unexpected token",
        engine: "unknown operator or unexpected token",
        category: None,
        why: "the wast crate's message covers both cases",
    },
    MessageMapping {
        spec: "unexpected token",
        engine: "result before parameter (or unexpected token)",
        category: None,
        why: "a `param` after a `result`: the wast crate says which clause is out of place",
    },
    MessageMapping {
        spec: "unexpected token",
        engine: "expected a float",
        category: None,
        why: "a missing or malformed float operand",
    },
    MessageMapping {
        spec: "unexpected token",
        engine: "expected a i32",
        category: None,
        why: "a missing or malformed i32 operand",
    },
    MessageMapping {
        spec: "unexpected token",
        engine: "expected a i64",
        category: None,
        why: "a missing or malformed i64 operand",
    },
    MessageMapping {
        spec: "unexpected token",
        engine: "expected `(`",
        category: None,
        why: "a bare token where a parenthesized form must be",
    },
    MessageMapping {
        spec: "constant out of range",
        engine: "invalid float value: constant out of range",
        category: None,
        why: "the wast crate names the literal's kind before the spec's words",
    },
    MessageMapping {
        spec: "constant out of range",
        engine: "invalid i32 number: constant out of range",
        category: None,
        why: "as above, i32 literal",
    },
    MessageMapping {
        spec: "constant out of range",
        engine: "invalid i64 number: constant out of range",
        category: None,
        why: "as above, i64 literal",
    },
    MessageMapping {
        spec: "empty identifier",
        engine: "invalid character in string",
        category: None,
        why: "id.wast: `$\"a\\nb\"` with a raw control character; the reference lexer ends the identifier before it (empty), the wast crate rejects the character",
    },
    MessageMapping {
        spec: "alignment must not be larger than natural",
        engine: "invalid memop alignment: alignment must not be larger than natural",
        category: None,
        why: "wasmparser prefixes the spec's words",
    },
    MessageMapping {
        spec: "alignment must not be larger than natural",
        engine: "cannot specify atomic ordering on non-atomic instruction",
        category: Some(ParseErrorKind::Decode),
        why: "align.wast: memarg flags with bit 5 set (alignment 2^32 and up); wasmparser decodes bit 5 as the shared-everything-threads ordering flag, the spec decodes any u32 alignment and rejects it in validation",
    },
    MessageMapping {
        spec: "alignment must not be larger than natural",
        engine: "invalid var_u32: integer representation too long",
        category: Some(ParseErrorKind::Decode),
        why: "align.wast: memarg flags with bit 6 set; wasmparser reads bit 6 as the multi-memory index flag and then the index LEB128, the spec rejects the alignment in validation",
    },
    MessageMapping {
        spec: "type mismatch",
        engine: "malformed memop: reserved flags bits set",
        category: None,
        why: "align.wast: memarg flags with bit 6 set and no multi-memory: wasmparser rejects the flags while validating, before it reaches the operand types the spec checks",
    },
    MessageMapping {
        spec: "offset out of range",
        engine: "invalid var_u32: integer too large",
        category: None,
        why: "a memarg offset of 2^32 or more for a 32-bit memory: wasmparser reads the offset as a u32 and rejects the LEB128",
    },
    MessageMapping {
        spec: "offset out of range",
        engine: "invalid var_u32: integer representation too long",
        category: None,
        why: "as above, an offset LEB128 longer than 5 bytes",
    },
    MessageMapping {
        spec: "type mismatch: instruction requires [i32] but stack has []",
        engine: "type mismatch: expected i32 but nothing on stack",
        category: None,
        why: "throw.wast: `throw` of a tag with an i32 payload and no operand; the reference interpreter spells out the operand types",
    },
    MessageMapping {
        spec: "type mismatch: instruction requires [i32] but stack has [i64]",
        engine: "type mismatch: expected i32, found i64",
        category: None,
        why: "throw.wast: as above, an i64 operand",
    },
    MessageMapping {
        spec: "non-empty tag result type",
        engine: "invalid exception type: non-empty tag result type",
        category: None,
        why: "tag.wast: wasmparser prefixes the spec's words",
    },
    MessageMapping {
        spec: "immutable global",
        engine: "global is immutable",
        category: None,
        why: "wasmparser's wording of the same check",
    },
    MessageMapping {
        spec: "malformed mutability",
        engine: "malformed global flags",
        category: None,
        why: "global.wast: a mutability byte outside 0..=1; wasmparser reads it as a flags byte (shared-everything threads adds a bit) and says so",
    },
    MessageMapping {
        spec: "start function",
        engine: "invalid start function type",
        category: None,
        why: "wasmparser prefixes `invalid`",
    },
    MessageMapping {
        spec: "unexpected token",
        engine: "expected a lane index",
        category: None,
        why: "SIMD: a lane-index immediate missing or not a literal (an operand in its place); the wast crate names what it expected",
    },
    MessageMapping {
        spec: "invalid lane index",
        engine: "SIMD index out of bounds",
        category: None,
        why: "SIMD: a lane index at or above the lane count; the same validation check, wasmparser's wording",
    },
    MessageMapping {
        spec: "unknown operator",
        engine: "u64 constant out of range",
        category: None,
        why: "simd_address.wast: `offset=-1`; the reference lexer reads it as an unknown keyword, the wast crate as an out-of-range u64 offset",
    },
    MessageMapping {
        spec: "i8 constant out of range",
        engine: "malformed lane index",
        category: None,
        why: "SIMD: a lane-index literal above 255; the reference parser reads lane indices as i8 constants",
    },
    MessageMapping {
        spec: "i8 constant out of range",
        engine: "expected a u8",
        category: None,
        why: "simd_lane.wast: a negative or non-integer `i8x16.shuffle` lane literal; the reference reads lanes as i8 constants, the wast crate as u8",
    },
    MessageMapping {
        spec: "i8 constant out of range",
        engine: "invalid u8 number: constant out of range",
        category: None,
        why: "simd_lane.wast: an `i8x16.shuffle` lane literal above 255, as above",
    },
    MessageMapping {
        spec: "constant out of range",
        engine: "invalid i8 number: constant out of range",
        category: None,
        why: "SIMD: an i8x16 lane literal out of range; the wast crate names the lane type before the spec's words",
    },
    MessageMapping {
        spec: "constant out of range",
        engine: "invalid i16 number: constant out of range",
        category: None,
        why: "as above, i16x8 lanes",
    },
    MessageMapping {
        spec: "invalid lane length",
        engine: "expected a u8",
        category: None,
        why: "simd_lane.wast: `i8x16.shuffle` with fewer than 16 lane literals; the wast crate expects the next one",
    },
    MessageMapping {
        spec: "invalid lane length",
        engine: "expected an instruction",
        category: None,
        why: "simd_lane.wast: `i8x16.shuffle` with more than 16 lane literals; the extra one stands where an instruction should",
    },
    MessageMapping {
        spec: "unknown operator",
        engine: "expected a i8",
        category: None,
        why: "simd_const.wast: a malformed i8x16 lane literal (`0x`); the reference lexer reads it as an unknown keyword",
    },
    MessageMapping {
        spec: "unknown operator",
        engine: "expected a i16",
        category: None,
        why: "as above, i16x8 lane literal",
    },
    MessageMapping {
        spec: "wrong number of lane literals",
        engine: "expected a i8",
        category: None,
        why: "simd_const.wast: `v128.const i8x16` with too few lanes; the wast crate expects the next lane",
    },
    MessageMapping {
        spec: "wrong number of lane literals",
        engine: "expected a i16",
        category: None,
        why: "as above, i16x8",
    },
    MessageMapping {
        spec: "wrong number of lane literals",
        engine: "expected a i32",
        category: None,
        why: "as above, i32x4",
    },
    MessageMapping {
        spec: "wrong number of lane literals",
        engine: "expected a i64",
        category: None,
        why: "as above, i64x2",
    },
    MessageMapping {
        spec: "wrong number of lane literals",
        engine: "expected a float",
        category: None,
        why: "as above, f32x4 / f64x2",
    },
    MessageMapping {
        spec: "wrong number of lane literals",
        engine: "expected an instruction",
        category: None,
        why: "simd_const.wast: `v128.const` with too many lanes; the extra literal stands where an instruction should",
    },
    MessageMapping {
        spec: "wrong number of lane literals",
        engine: "invalid i32 number: constant out of range",
        category: None,
        why: "simd_const.wast: two out-of-range literals for an i32x4; the wast crate rejects the first literal before counting lanes",
    },
    MessageMapping {
        spec: "illegal character",
        engine: "unexpected character",
        category: None,
        why: "annotations.wast: a control character inside an annotation; the wast crate's lexer words it differently",
    },
    MessageMapping {
        spec: "empty annotation id",
        engine: "invalid character in string",
        category: None,
        why: "annotations.wast: `(@\"\\n\")`, an annotation id string holding a raw newline; the wast crate rejects the string's character before it looks at the id",
    },
    MessageMapping {
        spec: "unexpected token",
        engine: "extra tokens remaining after parse",
        category: None,
        why: "annotations.wast: a `)` after a complete annotation at the top level; the wast crate reports the tokens left over",
    },
    MessageMapping {
        spec: "unclosed string",
        engine: "unexpected end-of-file",
        category: None,
        why: "annotations.wast: a string inside an annotation that runs to the end of the text; the wast crate reports the end of input",
    },
];

/// The text of a script module, if it has one (quoted text, or the `(module ...)` form).
fn quote_source(qw: &QuoteWat<'_>, script: &str) -> Option<String> {
    match qw {
        QuoteWat::QuoteModule(_, parts) => Some(
            parts
                .iter()
                .map(|(_, b)| String::from_utf8_lossy(b))
                .collect::<Vec<_>>()
                .join(" "),
        ),
        QuoteWat::Wat(w) => form_text(script, w.span().offset()).map(str::to_string),
        QuoteWat::QuoteComponent(..) => None,
    }
}

/// The binary of a script module (`module quote` text is parsed and encoded first).
fn quote_bytes(qw: &mut QuoteWat<'_>) -> Result<Vec<u8>, String> {
    match qw.to_test() {
        Err(e) => Err(first_line(&e.message())),
        Ok(QuoteWatTest::Binary(b)) => Ok(b),
        Ok(QuoteWatTest::Text(t)) => encode_text(&t),
    }
}

/// The module names a binary imports from, and whether instantiating it can change imported
/// state (data/element segments or a start function; unparsable bytes count as "can").
fn imports_and_effects(bytes: &[u8]) -> (Vec<String>, bool) {
    use wasmparser::Payload;
    let mut imports = Vec::new();
    let mut effects = false;
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        match payload {
            Ok(Payload::ImportSection(reader)) => {
                for imp in reader.into_imports() {
                    match imp {
                        Ok(i) => imports.push(i.module.to_string()),
                        Err(_) => effects = true,
                    }
                }
            }
            Ok(
                Payload::DataSection(_) | Payload::ElementSection(_) | Payload::StartSection { .. },
            ) => effects = true,
            Ok(_) => {}
            Err(_) => {
                effects = true;
                break;
            }
        }
    }
    (imports, effects)
}

/// Parses a `module quote` text (confusing Unicode allowed) and encodes it.
fn encode_text(text: &[u8]) -> Result<Vec<u8>, String> {
    let text = std::str::from_utf8(text).map_err(|_| "malformed UTF-8 encoding".to_string())?;
    let mut lexer = Lexer::new(text);
    lexer.allow_confusing_unicode(true);
    let buf = ParseBuffer::new_with_lexer(lexer).map_err(|e| first_line(&e.message()))?;
    let mut wat = parser::parse::<Wat>(&buf).map_err(|e| first_line(&e.message()))?;
    if matches!(wat, Wat::Component(_)) {
        return Err("component in module quote".into());
    }
    wat.encode().map_err(|e| first_line(&e.message()))
}

/// The first line of a `wast` error message (later lines quote the source).
fn first_line(msg: &str) -> String {
    msg.lines().next().unwrap_or("").trim_end().to_string()
}

/// Decides whether `bytes` needs a feature outside `scope`; returns its name.
fn out_of_scope_feature(bytes: &[u8], scope: Scope, mode: Mode) -> Option<String> {
    if scope == Scope::All {
        return None;
    }
    let features = scope.features_in(mode);
    let err = match wasmparser::Validator::new_with_features(features).validate_all(bytes) {
        Ok(_) => return None,
        Err(e) => e,
    };
    let msg = err.message();
    if let Some(f) = feature_from_message(msg) {
        return Some(f);
    }
    // A 3.0 test module that only a later proposal makes valid (a tag with results needs
    // stack switching) is invalid in the `wasm3` scope, not out of it.
    if scope == Scope::Wasm3
        && wasmparser::Validator::new_with_features(WasmFeatures::WASM3 | features)
            .validate_all(bytes)
            .is_err()
    {
        return None;
    }
    let all = WasmFeatures::all();
    if wasmparser::Validator::new_with_features(all)
        .validate_all(bytes)
        .is_err()
    {
        // Invalid with every feature on too: an in-scope rejection (feature-related ones
        // were recognized by their message above).
        return None;
    }
    // Valid with every feature on: find a minimal set of extra features it needs.
    let mut needed = all;
    for (_, flag) in (all & !features).iter_names() {
        let fewer = needed & !flag;
        if wasmparser::Validator::new_with_features(fewer)
            .validate_all(bytes)
            .is_ok()
        {
            needed = fewer;
        }
    }
    let names: Vec<String> = (needed & !features)
        .iter_names()
        .map(|(n, _)| n.to_ascii_lowercase().replace('_', "-"))
        .collect();
    if names.is_empty() {
        Some(format!("feature outside scope ({msg})"))
    } else {
        Some(names.join("+"))
    }
}

/// Maps a validator message of the "X support is not enabled" kind to a feature name.
fn feature_from_message(msg: &str) -> Option<String> {
    let lower = msg.to_ascii_lowercase();
    let is_feature = [
        "not enabled",
        "must be enabled",
        "to be enabled",
        "requires the",
        "required for",
        "not supported without",
        "multiple memories",
        "proposal",
    ]
    .iter()
    .any(|k| lower.contains(k));
    if !is_feature {
        return None;
    }
    Some(
        feature_name_in(msg)
            .map_or_else(|| format!("feature outside scope ({msg})"), str::to_string),
    )
}

/// The feature a validator message names, if any.
fn feature_name_in(msg: &str) -> Option<&'static str> {
    const NAMES: &[(&str, &str)] = &[
        ("relaxed simd", "relaxed-simd"),
        ("simd", "simd"),
        ("v128", "simd"),
        ("multi-memory", "multi-memory"),
        ("multiple memories", "multi-memory"),
        ("memory64", "memory64"),
        ("64-bit", "memory64"),
        ("tail call", "tail-call"),
        ("legacy exceptions", "legacy-exceptions"),
        ("legacy_exceptions", "legacy-exceptions"),
        ("exception", "exceptions"),
        ("function references", "function-references"),
        ("function-references", "function-references"),
        ("typed function", "function-references"),
        ("gc", "gc"),
        ("shared", "threads"),
        ("thread", "threads"),
        ("atomic", "threads"),
        ("extended const", "extended-const"),
        ("custom page", "custom-page-sizes"),
        ("wide arithmetic", "wide-arithmetic"),
        ("stack switching", "stack-switching"),
        ("custom descriptors", "custom-descriptors"),
    ];
    let lower = msg.to_ascii_lowercase();
    NAMES
        .iter()
        .find(|(k, _)| lower.contains(k))
        .map(|(_, n)| *n)
}

/// For module text that does not parse: the out-of-scope feature its tokens use, if any.
/// The validator cannot help when the text never becomes a binary, so this looks for
/// keywords only those features have (`v128`, `return_call`, `(memory i64`, `(@annot`, ...).
fn text_feature(src: &str) -> Option<&'static str> {
    let toks = tokenize(src);
    let word = |t: &str| t.strip_prefix('(').unwrap_or(t).to_string();
    let words: Vec<String> = toks.iter().map(|t| word(t)).collect();
    for (i, t) in toks.iter().enumerate() {
        let w = words[i].as_str();
        if w.starts_with('@') {
            return Some("annotations");
        }
        let head = w.split('.').next().unwrap_or(w);
        if w.contains("relaxed_") {
            return Some("relaxed-simd");
        }
        if ["v128", "i8x16", "i16x8", "i32x4", "i64x2", "f32x4", "f64x2"].contains(&head) {
            return Some("simd");
        }
        if w.starts_with("return_call") {
            return Some("tail-call");
        }
        if matches!(
            w,
            "call_ref" | "ref.as_non_null" | "br_on_null" | "br_on_non_null"
        ) {
            return Some("function-references");
        }
        let gc_op = w.contains('.')
            && matches!(head, "struct" | "array" | "i31" | "any" | "extern" | "ref")
            && !matches!(w, "ref.null" | "ref.func" | "ref.is_null" | "ref.extern");
        let gc_word = matches!(
            w,
            "struct"
                | "array"
                | "anyref"
                | "eqref"
                | "i31ref"
                | "structref"
                | "arrayref"
                | "nullref"
                | "nullfuncref"
                | "nullexternref"
                | "rec"
                | "sub"
                | "br_on_cast"
                | "br_on_cast_fail"
        );
        if gc_op || gc_word {
            return Some("gc");
        }
        if matches!(
            w,
            "try_table"
                | "throw"
                | "throw_ref"
                | "tag"
                | "exnref"
                | "try"
                | "catch"
                | "delegate"
                | "rethrow"
        ) {
            return Some("exceptions");
        }
        if w == "shared" || w.contains(".atomic") {
            return Some("threads");
        }
        if t == "(memory" || t == "(table" {
            let mut j = i + 1;
            if toks.get(j).is_some_and(|n| n.starts_with('$')) {
                j += 1;
            }
            // Inline `(import "m" "n")` / `(export "n")` (their strings are not tokens).
            while toks
                .get(j)
                .is_some_and(|n| n == "(import" || n == "(export")
            {
                j += 1;
            }
            if toks.get(j).map(String::as_str) == Some("i64") {
                return Some("memory64");
            }
        }
    }
    // Several memories are not flagged: text errors such as duplicate identifiers are
    // the same in every scope.
    None
}

/// Splits module text into atoms, `(keyword` pairs and `)`; strings and comments are
/// dropped. Good enough for [`text_feature`]; never fails.
fn tokenize(src: &str) -> Vec<String> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut depth_comment = 0usize;
    while i < b.len() {
        let c = b[i];
        if depth_comment > 0 {
            if b[i..].starts_with(b"(;") {
                depth_comment += 1;
                i += 2;
            } else if b[i..].starts_with(b";)") {
                depth_comment -= 1;
                i += 2;
            } else {
                i += 1;
            }
            continue;
        }
        if b[i..].starts_with(b"(;") {
            depth_comment = 1;
            i += 2;
        } else if b[i..].starts_with(b";;") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if c == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
        } else if c == b'(' {
            let start = i;
            i += 1;
            while i < b.len() && !b[i].is_ascii_whitespace() && !matches!(b[i], b'(' | b')' | b'"')
            {
                i += 1;
            }
            out.push(String::from_utf8_lossy(&b[start..i]).into_owned());
        } else if c == b')' || c.is_ascii_whitespace() {
            i += 1;
        } else {
            let start = i;
            while i < b.len() && !b[i].is_ascii_whitespace() && !matches!(b[i], b'(' | b')' | b'"')
            {
                i += 1;
            }
            out.push(String::from_utf8_lossy(&b[start..i]).into_owned());
        }
    }
    out
}

/// The source text of the parenthesized form whose keyword starts at `offset`.
fn form_text(script: &str, offset: usize) -> Option<&str> {
    // The opening paren: the last `(` before the keyword that does not open a comment.
    let head = script.get(..offset)?;
    let start = head
        .match_indices('(')
        .map(|(i, _)| i)
        .rfind(|&i| head.as_bytes().get(i + 1) != Some(&b';'))?;
    let b = script.as_bytes();
    let (mut depth, mut i) = (0usize, start);
    while i < b.len() {
        match b[i] {
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b';' if b.get(i + 1) == Some(&b';') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'(' if b.get(i + 1) == Some(&b';') => {
                let mut d = 1;
                i += 2;
                while i < b.len() && d > 0 {
                    if b[i..].starts_with(b"(;") {
                        d += 1;
                        i += 1;
                    } else if b[i..].starts_with(b";)") {
                        d -= 1;
                        i += 1;
                    }
                    i += 1;
                }
                continue;
            }
            b'(' => depth += 1,
            b')' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return script.get(start..=i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Converts a script argument; `Err(feature)` if it needs an out-of-scope feature.
fn arg_val(a: &WastArg<'_>) -> Result<Val, String> {
    let WastArg::Core(a) = a else {
        return Err("component-model".into());
    };
    Ok(match a {
        WastArgCore::I32(v) => Val::I32(*v),
        WastArgCore::I64(v) => Val::I64(*v),
        WastArgCore::F32(v) => Val::F32(v.bits),
        WastArgCore::F64(v) => Val::F64(v.bits),
        WastArgCore::V128(v) => Val::V128(u128::from_le_bytes(v.to_le_bytes())),
        WastArgCore::RefNull(HeapType::Abstract {
            shared: false,
            ty: AbstractHeapType::Func,
        }) => Val::FuncRef(None),
        WastArgCore::RefNull(HeapType::Abstract {
            shared: false,
            ty: AbstractHeapType::Extern,
        }) => Val::ExternRef(None),
        WastArgCore::RefNull(HeapType::Abstract {
            shared: false,
            ty: AbstractHeapType::Exn | AbstractHeapType::NoExn,
        }) => Val::ExnRef(None),
        WastArgCore::RefNull(h) => return Err(heap_type_feature(h).into()),
        // Slots encode null as 0, so host reference N is N + 1 (see ARCHITECTURE.md).
        WastArgCore::RefExtern(n) => Val::ExternRef(Some(u64::from(*n) + 1)),
        WastArgCore::RefHost(_) => return Err("gc".into()),
    })
}

fn heap_type_feature(h: &HeapType<'_>) -> &'static str {
    match h {
        HeapType::Abstract { shared: true, .. } => "shared-everything-threads",
        HeapType::Abstract { ty, .. } => match ty {
            AbstractHeapType::Func | AbstractHeapType::Extern => "function-references",
            AbstractHeapType::Exn | AbstractHeapType::NoExn => "exceptions",
            AbstractHeapType::Cont | AbstractHeapType::NoCont => "stack-switching",
            _ => "gc",
        },
        HeapType::Concrete(_) => "function-references",
        HeapType::Exact(_) => "custom-descriptors",
    }
}

/// The out-of-scope feature an expected result needs, if any.
fn ret_feature(r: &WastRet<'_>) -> Option<String> {
    let WastRet::Core(r) = r else {
        return Some("component-model".into());
    };
    core_ret_feature(r)
}

fn core_ret_feature(r: &WastRetCore<'_>) -> Option<String> {
    match r {
        WastRetCore::I32(_)
        | WastRetCore::I64(_)
        | WastRetCore::F32(_)
        | WastRetCore::F64(_)
        | WastRetCore::RefExtern(_)
        | WastRetCore::RefFunc(_)
        | WastRetCore::RefNull(None) => None,
        WastRetCore::RefNull(Some(HeapType::Abstract {
            shared: false,
            ty: AbstractHeapType::Func | AbstractHeapType::Extern,
        })) => None,
        WastRetCore::RefNull(Some(HeapType::Abstract {
            shared: false,
            ty: AbstractHeapType::Exn | AbstractHeapType::NoExn,
        })) => None,
        WastRetCore::RefNull(Some(h)) => Some(heap_type_feature(h).into()),
        WastRetCore::V128(_) => None,
        WastRetCore::Either(alts) => {
            // Skipped only if no alternative can be checked.
            let feats: Vec<String> = alts.iter().filter_map(core_ret_feature).collect();
            if feats.len() == alts.len() {
                feats.into_iter().next()
            } else {
                None
            }
        }
        WastRetCore::RefHost(_)
        | WastRetCore::RefAny
        | WastRetCore::RefEq
        | WastRetCore::RefArray
        | WastRetCore::RefStruct
        | WastRetCore::RefI31
        | WastRetCore::RefI31Shared => Some("gc".into()),
    }
}

/// Whether `got` matches the expectation; `Err(feature)` if it cannot be checked in scope.
fn ret_matches(r: &WastRetCore<'_>, got: &Val) -> Result<bool, String> {
    Ok(match (r, got) {
        (WastRetCore::I32(e), Val::I32(g)) => e == g,
        (WastRetCore::I64(e), Val::I64(g)) => e == g,
        (WastRetCore::F32(p), Val::F32(g)) => match p {
            NanPattern::CanonicalNan => g & 0x7fff_ffff == 0x7fc0_0000,
            NanPattern::ArithmeticNan => g & 0x7fc0_0000 == 0x7fc0_0000,
            NanPattern::Value(v) => v.bits == *g,
        },
        (WastRetCore::F64(p), Val::F64(g)) => match p {
            NanPattern::CanonicalNan => g & 0x7fff_ffff_ffff_ffff == 0x7ff8_0000_0000_0000,
            NanPattern::ArithmeticNan => g & 0x7ff8_0000_0000_0000 == 0x7ff8_0000_0000_0000,
            NanPattern::Value(v) => v.bits == *g,
        },
        (WastRetCore::RefNull(None), Val::FuncRef(g)) => g.is_none(),
        (WastRetCore::RefNull(None), Val::ExternRef(g)) => g.is_none(),
        (WastRetCore::RefNull(None), Val::ExnRef(g)) => g.is_none(),
        (
            WastRetCore::RefNull(Some(HeapType::Abstract {
                shared: false,
                ty: AbstractHeapType::Exn | AbstractHeapType::NoExn,
            })),
            Val::ExnRef(g),
        ) => g.is_none(),
        (
            WastRetCore::RefNull(Some(HeapType::Abstract {
                shared: false,
                ty: AbstractHeapType::Func,
            })),
            Val::FuncRef(g),
        ) => g.is_none(),
        (
            WastRetCore::RefNull(Some(HeapType::Abstract {
                shared: false,
                ty: AbstractHeapType::Extern,
            })),
            Val::ExternRef(g),
        ) => g.is_none(),
        (WastRetCore::RefExtern(None), Val::ExternRef(g)) => g.is_some(),
        (WastRetCore::RefExtern(Some(n)), Val::ExternRef(g)) => *g == Some(u64::from(*n) + 1),
        (WastRetCore::RefFunc(_), Val::FuncRef(g)) => g.is_some(),
        (WastRetCore::V128(p), Val::V128(g)) => v128_matches(p, *g),
        (WastRetCore::Either(alts), g) => {
            let mut skipped = None;
            for a in alts {
                match ret_matches(a, g) {
                    Ok(true) => return Ok(true),
                    Ok(false) => {}
                    Err(f) => skipped = Some(f),
                }
            }
            match skipped {
                Some(f) => return Err(f),
                None => false,
            }
        }
        (r, _) => {
            if let Some(f) = core_ret_feature(r) {
                return Err(f);
            }
            false
        }
    })
}

/// Whether a `v128` result matches a lane pattern: integer lanes exactly, float lanes like
/// scalar floats (an exact value, or a canonical / arithmetic NaN per lane).
fn v128_matches(p: &V128Pattern, g: u128) -> bool {
    let lane = |bits: u32, i: usize| (g >> (bits as usize * i)) & ((1u128 << bits) - 1);
    match p {
        V128Pattern::I8x16(e) => e
            .iter()
            .enumerate()
            .all(|(i, &x)| lane(8, i) == u128::from(x as u8)),
        V128Pattern::I16x8(e) => e
            .iter()
            .enumerate()
            .all(|(i, &x)| lane(16, i) == u128::from(x as u16)),
        V128Pattern::I32x4(e) => e
            .iter()
            .enumerate()
            .all(|(i, &x)| lane(32, i) == u128::from(x as u32)),
        V128Pattern::I64x2(e) => e
            .iter()
            .enumerate()
            .all(|(i, &x)| lane(64, i) == u128::from(x as u64)),
        V128Pattern::F32x4(e) => e.iter().enumerate().all(|(i, p)| {
            let g = lane(32, i) as u32;
            match p {
                NanPattern::CanonicalNan => g & 0x7fff_ffff == 0x7fc0_0000,
                NanPattern::ArithmeticNan => g & 0x7fc0_0000 == 0x7fc0_0000,
                NanPattern::Value(v) => v.bits == g,
            }
        }),
        V128Pattern::F64x2(e) => e.iter().enumerate().all(|(i, p)| {
            let g = lane(64, i) as u64;
            match p {
                NanPattern::CanonicalNan => g & 0x7fff_ffff_ffff_ffff == 0x7ff8_0000_0000_0000,
                NanPattern::ArithmeticNan => g & 0x7ff8_0000_0000_0000 == 0x7ff8_0000_0000_0000,
                NanPattern::Value(v) => v.bits == g,
            }
        }),
    }
}

/// Whether a trap matches the script's expected message. The spec's messages sometimes add
/// detail (`uninitialized element 2`), so containment either way counts.
fn trap_matches(expected: &str, code: TrapCode) -> bool {
    let ours = code.message();
    expected.contains(ours) || ours.contains(expected)
}

fn fmt_val(v: &Val) -> String {
    match v {
        Val::I32(x) => format!("i32:{x}"),
        Val::I64(x) => format!("i64:{x}"),
        Val::F32(b) => format!("f32:{} ({b:#010x})", f32::from_bits(*b)),
        Val::F64(b) => format!("f64:{} ({b:#018x})", f64::from_bits(*b)),
        Val::FuncRef(None) => "ref.null func".into(),
        Val::FuncRef(Some(_)) => "ref.func".into(),
        Val::ExternRef(None) => "ref.null extern".into(),
        Val::ExternRef(Some(n)) => format!("ref.extern {}", n.wrapping_sub(1)),
        Val::V128(x) => format!("v128:{x:#034x}"),
        Val::ExnRef(None) => "ref.null exn".into(),
        Val::ExnRef(Some(_)) => "ref.exn".into(),
    }
}

fn fmt_vals(v: &[Val]) -> String {
    let parts: Vec<String> = v.iter().map(fmt_val).collect();
    format!("[{}]", parts.join(", "))
}

fn fmt_expected(r: &[WastRet<'_>]) -> String {
    let parts: Vec<String> = r
        .iter()
        .map(|r| match r {
            WastRet::Core(c) => fmt_ret(c),
            _ => "<component value>".into(),
        })
        .collect();
    format!("[{}]", parts.join(", "))
}

fn fmt_ret(r: &WastRetCore<'_>) -> String {
    match r {
        WastRetCore::I32(x) => format!("i32:{x}"),
        WastRetCore::I64(x) => format!("i64:{x}"),
        WastRetCore::F32(NanPattern::Value(v)) => {
            format!("f32:{} ({:#010x})", f32::from_bits(v.bits), v.bits)
        }
        WastRetCore::F32(NanPattern::CanonicalNan) => "f32:nan:canonical".into(),
        WastRetCore::F64(NanPattern::CanonicalNan) => "f64:nan:canonical".into(),
        WastRetCore::F32(NanPattern::ArithmeticNan) => "f32:nan:arithmetic".into(),
        WastRetCore::F64(NanPattern::ArithmeticNan) => "f64:nan:arithmetic".into(),
        WastRetCore::F64(NanPattern::Value(v)) => {
            format!("f64:{} ({:#018x})", f64::from_bits(v.bits), v.bits)
        }
        WastRetCore::RefNull(_) => "ref.null".into(),
        WastRetCore::RefExtern(Some(n)) => format!("ref.extern {n}"),
        WastRetCore::RefExtern(None) => "ref.extern".into(),
        WastRetCore::RefFunc(_) => "ref.func".into(),
        WastRetCore::Either(alts) => {
            let parts: Vec<String> = alts.iter().map(fmt_ret).collect();
            format!("either({})", parts.join(" | "))
        }
        other => format!("{other:?}"),
    }
}

/// The directive's name and whether it counts as an assertion.
fn directive_kind(d: &WastDirective<'_>) -> (&'static str, bool) {
    match d {
        WastDirective::Module(_) => ("module", false),
        WastDirective::ModuleDefinition(_) => ("module definition", false),
        WastDirective::ModuleInstance { .. } => ("module instance", false),
        WastDirective::Register { .. } => ("register", false),
        WastDirective::Invoke(_) => ("invoke", false),
        WastDirective::Thread(_) => ("thread", false),
        WastDirective::Wait { .. } => ("wait", false),
        WastDirective::AssertMalformed { .. } => ("assert_malformed", true),
        WastDirective::AssertInvalid { .. } => ("assert_invalid", true),
        WastDirective::AssertInvalidCustom { .. } => ("assert_invalid_custom", true),
        WastDirective::AssertMalformedCustom { .. } => ("assert_malformed_custom", true),
        WastDirective::AssertTrap { .. } => ("assert_trap", true),
        WastDirective::AssertReturn { .. } => ("assert_return", true),
        WastDirective::AssertExhaustion { .. } => ("assert_exhaustion", true),
        WastDirective::AssertUnlinkable { .. } => ("assert_unlinkable", true),
        WastDirective::AssertException { .. } => ("assert_exception", true),
        WastDirective::AssertSuspension { .. } => ("assert_suspension", true),
    }
}

fn count_assertions(ds: &[WastDirective<'_>]) -> usize {
    ds.iter()
        .map(|d| match d {
            WastDirective::Thread(t) => count_assertions(&t.directives),
            d => usize::from(directive_kind(d).1),
        })
        .sum()
}

fn panic_message(p: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}

/// Builds the `spectest` host module through the public store API.
fn spectest_exports(store: &mut Store) -> HashMap<String, Extern> {
    let mut m = HashMap::new();
    let print = |store: &mut Store, params: Vec<ValType>| {
        Extern::Func(store.host_func(
            FuncType {
                params,
                results: Vec::new(),
            },
            Box::new(|_args: &[Val], _results: &mut [Val]| Ok(())),
        ))
    };
    use ValType::{F32, F64, I32, I64};
    for (name, params) in [
        ("print", vec![]),
        ("print_i32", vec![I32]),
        ("print_i64", vec![I64]),
        ("print_f32", vec![F32]),
        ("print_f64", vec![F64]),
        ("print_i32_f32", vec![I32, F32]),
        ("print_f64_f64", vec![F64, F64]),
    ] {
        let f = print(store, params);
        m.insert(name.to_string(), f);
    }
    let g = |store: &mut Store, ty, v| Extern::Global(store.new_global(ty, false, v));
    let gi32 = g(store, I32, Val::I32(666));
    let gi64 = g(store, I64, Val::I64(666));
    let gf32 = g(store, F32, Val::F32(666.6f32.to_bits()));
    let gf64 = g(store, F64, Val::F64(666.6f64.to_bits()));
    m.insert("global_i32".into(), gi32);
    m.insert("global_i64".into(), gi64);
    m.insert("global_f32".into(), gf32);
    m.insert("global_f64".into(), gf64);
    let table = store.new_table(ValType::FuncRef, 10, Some(20));
    m.insert("table".into(), Extern::Table(table));
    let table64 = store.new_table_typed(TableType {
        elem: ValType::FuncRef,
        limits: Limits {
            min: 10,
            max: Some(20),
        },
        index64: true,
    });
    m.insert("table64".into(), Extern::Table(table64));
    let memory = store.new_memory(1, Some(2));
    m.insert("memory".into(), Extern::Memory(memory));
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_features() {
        let core = Scope::Core.features();
        assert!(core.bulk_memory() && core.reference_types() && core.multi_value());
        assert!(core.simd() && core.relaxed_simd());
        assert!(!core.multi_memory() && !core.gc());
        for mode in Mode::ALL {
            let f = Scope::Core.features_in(mode);
            assert!(f.simd() && f.relaxed_simd() && f.bulk_memory(), "{mode:?}");
        }
    }

    #[test]
    fn out_of_scope_detection() {
        let simd = wat::parse_str("(module (func (result v128) v128.const i64x2 0 0))").unwrap();
        for mode in Mode::ALL {
            assert_eq!(
                out_of_scope_feature(&simd, Scope::Core, mode),
                None,
                "{mode:?}"
            );
        }
        assert_eq!(out_of_scope_feature(&simd, Scope::All, Mode::JitNone), None);
        let mm = wat::parse_str("(module (memory 1) (memory 1))").unwrap();
        assert_eq!(
            out_of_scope_feature(&mm, Scope::Core, Mode::Interp).as_deref(),
            Some("multi-memory")
        );
        let tail = wat::parse_str("(module (func return_call 0))").unwrap();
        assert_eq!(
            out_of_scope_feature(&tail, Scope::Core, Mode::Interp).as_deref(),
            Some("tail-call")
        );
        let mvp = wat::parse_str("(module (func (result i32) i32.const 1))").unwrap();
        assert_eq!(out_of_scope_feature(&mvp, Scope::Core, Mode::Interp), None);
        // Invalid in every scope: not a feature question.
        let bad = wat::parse_str("(module (func (result i32) i64.const 1))").unwrap();
        assert_eq!(out_of_scope_feature(&bad, Scope::Core, Mode::Interp), None);
    }

    #[test]
    fn trap_messages() {
        assert!(trap_matches(
            "uninitialized element 2",
            TrapCode::UninitializedElement
        ));
        assert!(trap_matches(
            "undefined element",
            TrapCode::UndefinedElement
        ));
        assert!(!trap_matches(
            "uninitialized element",
            TrapCode::UndefinedElement
        ));
        assert!(trap_matches("unreachable", TrapCode::Unreachable));
        assert!(!trap_matches("unreachable", TrapCode::IntegerOverflow));
    }

    #[test]
    fn nan_patterns() {
        let canon = WastRetCore::F32(NanPattern::CanonicalNan);
        let arith = WastRetCore::F32(NanPattern::ArithmeticNan);
        assert_eq!(ret_matches(&canon, &Val::F32(0x7fc0_0000)), Ok(true));
        assert_eq!(ret_matches(&canon, &Val::F32(0xffc0_0000)), Ok(true));
        assert_eq!(ret_matches(&canon, &Val::F32(0x7fc0_0001)), Ok(false));
        assert_eq!(ret_matches(&arith, &Val::F32(0x7fc0_0001)), Ok(true));
        assert_eq!(ret_matches(&arith, &Val::F32(0x7f80_0001)), Ok(false));
        let canon64 = WastRetCore::F64(NanPattern::CanonicalNan);
        assert_eq!(
            ret_matches(&canon64, &Val::F64(0x7ff8_0000_0000_0000)),
            Ok(true)
        );
        assert_eq!(ret_matches(&canon64, &Val::F32(0x7fc0_0000)), Ok(false));
    }

    #[test]
    fn unparsable_script_is_one_failure() {
        let r = run_script("x.wast", "(module", &RunConfig::default());
        assert_eq!((r.passed, r.failed, r.skipped), (0, 1, 0));
    }
}

/// The runner judged against deliberately broken engines: each must be caught.
#[cfg(test)]
mod judging_tests {
    use super::*;

    /// An invalid module whose text uses a feature of the scope is judged, not skipped as
    /// that feature (in the `wasm3` scope, `return_call` is in scope; in `core` it is not).
    #[test]
    fn invalid_module_with_in_scope_feature_is_judged() {
        let script = r#"(assert_invalid (module (func (result i32) (return_call 1) (i32.const 0)) (func)) "type mismatch")"#;
        let run = |scope| {
            let cfg = RunConfig {
                scope,
                ..RunConfig::default()
            };
            let r = run_script("tail.wast", script, &cfg);
            (r.passed, r.failed, r.skipped)
        };
        assert_eq!(run(Scope::Wasm3), (1, 0, 0));
        assert_eq!(run(Scope::Core), (0, 0, 1));
    }

    const SCRIPT: &str = r#"
        (assert_invalid (module (func (result i32) (i64.const 0))) "type mismatch")
        (assert_malformed (module binary "\00asm" "\01\00\00\00" "\0e\01\00") "malformed section id")
        (assert_malformed (module quote "(func get_local 0)") "unknown operator")
        (assert_unlinkable (module (import "spectest" "nope" (func))) "unknown import")
    "#;

    fn run(engine: &mut dyn Engine, lenient: bool) -> FileReport {
        let cfg = RunConfig {
            lenient_messages: lenient,
            ..RunConfig::default()
        };
        run_script_with("judging.wast", SCRIPT, &cfg, engine)
    }

    /// Swaps decode and validation errors.
    struct WrongCategory;
    impl Engine for WrongCategory {
        fn compile(&mut self, bytes: &[u8]) -> Result<Module, ParseError> {
            Module::from_bytes(bytes).map_err(|mut e| {
                e.kind = match e.kind {
                    ParseErrorKind::Decode => ParseErrorKind::Validate,
                    _ => ParseErrorKind::Decode,
                };
                e
            })
        }
    }

    /// Right categories, wrong words.
    struct WrongMessage;
    impl Engine for WrongMessage {
        fn compile(&mut self, bytes: &[u8]) -> Result<Module, ParseError> {
            Module::from_bytes(bytes).map_err(|mut e| {
                e.message = "something is wrong".into();
                e
            })
        }
        fn instantiate(
            &mut self,
            store: &mut Store,
            module: &Module,
            imports: &dyn Fn(&str, &str) -> Option<Extern>,
        ) -> Result<InstanceId, InstantiateError> {
            store.instantiate(module, imports).map_err(|e| match e {
                InstantiateError::Unlinkable(_) => {
                    InstantiateError::Unlinkable("something is wrong".into())
                }
                e => e,
            })
        }
    }

    /// Reports a link error as a resource error.
    struct WrongLinkCategory;
    impl Engine for WrongLinkCategory {
        fn instantiate(
            &mut self,
            store: &mut Store,
            module: &Module,
            imports: &dyn Fn(&str, &str) -> Option<Extern>,
        ) -> Result<InstanceId, InstantiateError> {
            store.instantiate(module, imports).map_err(|e| match e {
                InstantiateError::Unlinkable(m) => InstantiateError::Resource(m),
                e => e,
            })
        }
    }

    #[test]
    fn real_engine_passes_strictly() {
        let r = run(&mut RealEngine, false);
        assert_eq!(
            (r.passed, r.failed, r.assertions),
            (4, 0, 4),
            "{:?}",
            r.failures
        );
        assert_eq!(r.lenient_passes, 0);
    }

    #[test]
    fn wrong_category_is_caught() {
        let r = run(&mut WrongCategory, false);
        // The invalid and the binary malformed module; the quoted text never reaches the
        // engine and the unlinkable one is valid.
        assert_eq!((r.passed, r.failed), (2, 2), "{:?}", r.failures);
        assert!(
            r.failures
                .iter()
                .all(|f| f.message.contains("error instead"))
        );
        let r = run(&mut WrongCategory, true);
        assert_eq!((r.passed, r.failed, r.lenient_passes), (4, 0, 2));
    }

    #[test]
    fn wrong_message_is_caught() {
        let r = run(&mut WrongMessage, false);
        assert_eq!((r.passed, r.failed), (1, 3), "{:?}", r.failures);
        assert!(
            r.failures
                .iter()
                .all(|f| f.message.contains("expected message"))
        );
        let r = run(&mut WrongMessage, true);
        assert_eq!((r.passed, r.failed, r.lenient_passes), (4, 0, 3));
    }

    #[test]
    fn wrong_link_category_is_caught() {
        let r = run(&mut WrongLinkCategory, false);
        assert_eq!((r.passed, r.failed), (3, 1), "{:?}", r.failures);
        assert_eq!(r.failures[0].directive, "assert_unlinkable");
    }

    #[test]
    fn text_error_does_not_satisfy_assert_invalid() {
        // `$nope` is unbound: the text does not encode, which is a text (malformed) error.
        let script = r#"(assert_invalid (module (func (call $nope))) "unknown function")"#;
        let r = run_script("t.wast", script, &RunConfig::default());
        assert_eq!((r.passed, r.failed), (0, 1), "{:?}", r.failures);
    }

    #[test]
    fn validation_error_does_not_satisfy_assert_malformed() {
        let script = r#"(assert_malformed (module quote "(func (result i32) (i64.const 0))") "type mismatch")"#;
        let r = run_script("t.wast", script, &RunConfig::default());
        assert_eq!((r.passed, r.failed), (0, 1), "{:?}", r.failures);
    }

    #[test]
    fn dropped_directive_changes_the_count() {
        struct DropsSecond;
        impl Engine for DropsSecond {
            fn runs_directive(&mut self, index: usize) -> bool {
                index != 1
            }
        }
        let r = run(&mut DropsSecond, false);
        assert_eq!((r.passed, r.failed, r.assertions), (3, 0, 3));
    }

    /// `docs/SPEC-MESSAGES.md` carries the table as generated from [`MESSAGE_MAP`]
    /// (`BAREFLOW_BLESS=1` rewrites it).
    #[test]
    fn message_map_doc_is_current() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/SPEC-MESSAGES.md");
        let doc = std::fs::read_to_string(&path).expect("docs/SPEC-MESSAGES.md");
        let (begin, end) = ("<!-- table begin -->\n", "<!-- table end -->");
        let start = doc.find(begin).expect("table begin marker") + begin.len();
        let stop = doc.find(end).expect("table end marker");
        let table = message_map_markdown();
        if doc[start..stop] != table {
            if std::env::var("BAREFLOW_BLESS").is_ok_and(|v| v == "1") {
                let new = format!("{}{table}{}", &doc[..start], &doc[stop..]);
                std::fs::write(&path, new).expect("writing docs/SPEC-MESSAGES.md");
            } else {
                panic!(
                    "docs/SPEC-MESSAGES.md is out of date: BAREFLOW_BLESS=1 cargo test -p \
                     bareflow --lib message_map_doc_is_current"
                );
            }
        }
    }

    #[test]
    fn message_rule() {
        assert_eq!(
            message_matches("type mismatch", "type mismatch: expected i32"),
            MessageMatch::Prefix
        );
        assert_eq!(
            message_matches("type mismatch: expected i32", "type mismatch"),
            MessageMatch::Differs
        );
        for m in MESSAGE_MAP.iter().filter(|m| m.category.is_none()) {
            assert_eq!(
                message_matches(m.spec, m.engine),
                if m.engine.starts_with(m.spec) {
                    MessageMatch::Prefix
                } else {
                    MessageMatch::Mapped
                },
                "{m:?}"
            );
            assert!(!m.why.is_empty(), "{m:?}");
        }
    }
}

#[cfg(test)]
mod text_tests {
    use super::*;

    #[test]
    fn text_features() {
        assert_eq!(
            text_feature("(func (v128.const i32x4 0x100000000 1 0 0) drop)"),
            Some("simd")
        );
        assert_eq!(
            text_feature("(memory i64 1) (func (drop (i32.load (i64.const 0))))"),
            Some("memory64")
        );
        assert_eq!(text_feature("(memory $m i64 1)"), Some("memory64"));
        assert_eq!(
            text_feature("(memory (import \"M\" \"m\") i64 0x1_0000_0000_0001)"),
            Some("memory64")
        );
        assert_eq!(text_feature("(func return_call 0)"), Some("tail-call"));
        assert_eq!(text_feature("(type (struct))"), Some("gc"));
        assert_eq!(text_feature("(func (@name \"x\"))"), Some("annotations"));
        // Core syntax, strings and comments do not trigger.
        assert_eq!(
            text_feature(
                "(memory 1) (memory $a 1) (func (export \"v128 struct\") ;; i8x16\n (ref.null func) (; try ;) drop)"
            ),
            None
        );
    }

    #[test]
    fn form_text_finds_the_form() {
        let script = "(assert_invalid\n  (;c;)(module (func \"(\" ;; )\n ))\n  \"msg\")";
        let off = script.find("module").unwrap();
        assert_eq!(
            form_text(script, off),
            Some("(module (func \"(\" ;; )\n ))")
        );
        // Unbalanced input: no panic, no text.
        assert_eq!(form_text("module)", 0), None);
        assert_eq!(form_text("(module", 1), None);
    }

    #[test]
    fn skipped_module_taints_what_it_imports() {
        // The second module needs multi-memory and writes into $M's memory when
        // instantiated: assertions reading that memory afterwards must be skipped, not
        // failed or passed.
        let script = r#"
            (module $M (memory (export "mem") 1)
              (func (export "read") (param i32) (result i32) (i32.load8_u (local.get 0))))
            (register "M")
            (assert_return (invoke $M "read" (i32.const 0)) (i32.const 0))
            (module
              (memory $a (import "M" "mem") 1)
              (memory $b 1)
              (data (memory $a) (i32.const 0) "\01"))
            (assert_return (invoke $M "read" (i32.const 0)) (i32.const 1))"#;
        let r = run_script("taint.wast", script, &RunConfig::default());
        assert_eq!(
            (r.passed, r.failed, r.skipped),
            (1, 0, 1),
            "{:?}",
            r.failures
        );
        assert_eq!(r.skipped_features.get("multi-memory"), Some(&1));
    }
}
