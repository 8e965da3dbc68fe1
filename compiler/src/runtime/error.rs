//! Traps and errors of the embedding API.

use std::fmt;

pub use runtime_loader::TrapCode;

use super::exn::{Exception, Tag};
use super::types::Val;

/// Why a call stopped abnormally. Traps are values: the store stays usable after one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trap {
    /// What happened.
    pub code: TrapCode,
    /// Index (in its module) of the function that trapped, when known.
    pub func: Option<u32>,
    /// Wasm code offset (from the start of the module) of the trapping instruction.
    pub offset: Option<u32>,
    /// Name of the trapping function from the name section, when known.
    pub func_name: Option<String>,
    /// The message a host function gave with [`Trap::host`] (printed after the code's).
    pub message: Option<String>,
    /// The wasm call stack at the trap, innermost (the trapping function) first; see
    /// [`Trap::backtrace`]. Empty when unknown.
    pub backtrace: Vec<BacktraceFrame>,
    /// For [`TrapCode::Exception`]: the uncaught exception (tag and payload); also what a
    /// host function returns to throw one ([`Trap::throw`]).
    pub exception: Option<Box<Exception>>,
}

/// One wasm frame of a [`Trap::backtrace`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BacktraceFrame {
    /// Index (in its module) of the frame's function.
    pub func: u32,
    /// Its name from the name section, when the module has one.
    pub func_name: Option<String>,
}

impl fmt::Display for BacktraceFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.func_name {
            Some(n) => f.write_str(n),
            None => write!(f, "func {}", self.func),
        }
    }
}

impl Trap {
    /// A trap with no location (e.g. raised by a host function).
    pub fn new(code: TrapCode) -> Trap {
        Trap {
            code,
            func: None,
            offset: None,
            func_name: None,
            message: None,
            backtrace: Vec::new(),
            exception: None,
        }
    }

    /// A wasm exception with tag `tag` and payload `payload` (the tag's parameter types):
    /// a host function that returns it throws the exception into the calling wasm code,
    /// where `try_table` handlers can catch it; if none does, the enclosing
    /// [`Store::call`](super::Store::call) returns it as a [`TrapCode::Exception`] trap.
    ///
    /// ```
    /// use bareflow::{CallError, Config, Extern, FuncType, Mode, Module, Store, Trap, Val, ValType};
    /// let mut store = Store::new(Config::new(Mode::Interp));
    /// let tag = store.new_tag(FuncType { params: vec![ValType::I32], results: vec![] });
    /// let ty = FuncType::default();
    /// let fail = store.host_func(ty, Box::new(move |_, _| Err(Trap::throw(tag, vec![Val::I32(7)]))));
    /// let m = Module::from_bytes(br#"(module
    ///     (import "host" "tag" (tag $t (param i32)))
    ///     (import "host" "fail" (func $fail))
    ///     (func (export "run") (result i32)
    ///         (block $h (result i32)
    ///             (try_table (catch $t $h) (call $fail))
    ///             (i32.const -1))))"#)?;
    /// let inst = store.instantiate(&m, &|_, name| match name {
    ///     "tag" => Some(Extern::Tag(tag)),
    ///     _ => Some(Extern::Func(fail)),
    /// })?;
    /// let Some(Extern::Func(run)) = store.export(inst, "run") else { unreachable!() };
    /// assert_eq!(store.call(run, &[])?, vec![Val::I32(7)]);
    /// // Uncaught, it reaches the host as a typed error.
    /// let Err(CallError::Trap(t)) = store.call(fail, &[]) else { unreachable!() };
    /// assert_eq!(t.exception.map(|e| e.payload), Some(vec![Val::I32(7)]));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn throw(tag: Tag, payload: Vec<Val>) -> Trap {
        Trap {
            exception: Some(Box::new(Exception { tag, payload })),
            ..Trap::new(TrapCode::Exception)
        }
    }

    /// The wasm functions on the call stack when the trap happened, innermost (the trapping
    /// function) first, outermost (the function the host called) last.
    ///
    /// Known in every mode for the wasm frames above the innermost host boundary: the
    /// interpreter reads its frame stack; compiled code (`jit-none`, `jit-speed`,
    /// snapshots, guard-page faults included) is walked by frame pointers from the trap
    /// point. Not covered (the backtrace ends there): frames above a host function, or
    /// above an interpreter/compiled code boundary in `tiered` mode; a call that snapshot
    /// code inlined has no frame and is left out; host traps ([`Trap::host`]) have none.
    ///
    /// ```
    /// use bareflow::{CallError, Config, Extern, Mode, Module, Store};
    /// let module = Module::from_bytes(br#"(module
    ///     (func $c unreachable)
    ///     (func $b call $c)
    ///     (func $a (export "a") call $b))"#)?;
    /// let mut store = Store::new(Config::new(Mode::Interp));
    /// let inst = store.instantiate(&module, &|_, _| None)?;
    /// let Some(Extern::Func(a)) = store.export(inst, "a") else { unreachable!() };
    /// let Err(CallError::Trap(trap)) = store.call(a, &[]) else { unreachable!() };
    /// let names: Vec<String> = trap.backtrace().iter().map(|f| f.to_string()).collect();
    /// assert_eq!(names, ["c", "b", "a"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn backtrace(&self) -> &[BacktraceFrame] {
        &self.backtrace
    }

    /// A host function error with a message: [`TrapCode::HostError`], displayed as
    /// `host function error: MSG` (the message reaches `bareflow run`'s error line).
    ///
    /// ```
    /// use bareflow::{Trap, TrapCode};
    /// let t = Trap::host("file not found");
    /// assert_eq!(t.code, TrapCode::HostError);
    /// assert_eq!(t.to_string(), "host function error: file not found");
    /// ```
    pub fn host(message: impl Into<String>) -> Trap {
        Trap {
            message: Some(message.into()),
            ..Trap::new(TrapCode::HostError)
        }
    }
}

impl From<TrapCode> for Trap {
    fn from(code: TrapCode) -> Trap {
        Trap::new(code)
    }
}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code.message())?;
        if let Some(m) = &self.message {
            write!(f, ": {m}")?;
        }
        if let Some(e) = &self.exception {
            f.write_str(": payload [")?;
            for (i, v) in e.payload.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                match v {
                    Val::I32(x) => write!(f, "i32 {x}")?,
                    Val::I64(x) => write!(f, "i64 {x}")?,
                    Val::F32(b) => write!(f, "f32 {}", f32::from_bits(*b))?,
                    Val::F64(b) => write!(f, "f64 {}", f64::from_bits(*b))?,
                    Val::V128(x) => write!(f, "v128 {x:#034x}")?,
                    Val::FuncRef(r) => f.write_str(if r.is_some() { "funcref" } else { "null" })?,
                    Val::ExternRef(r) => {
                        f.write_str(if r.is_some() { "externref" } else { "null" })?
                    }
                    Val::ExnRef(r) => f.write_str(if r.is_some() { "exnref" } else { "null" })?,
                }
            }
            f.write_str("]")?;
        }
        match (&self.func_name, self.func, self.offset) {
            (None, None, None) => Ok(()),
            (name, func, offset) => {
                f.write_str(" (")?;
                let mut sep = "";
                if let Some(name) = name {
                    write!(f, "in function {name}")?;
                    sep = ", ";
                } else if let Some(func) = func {
                    write!(f, "in function {func}")?;
                    sep = ", ";
                }
                if let Some(off) = offset {
                    write!(f, "{sep}at code offset {off:#x}")?;
                }
                f.write_str(")")
            }
        }
    }
}

impl std::error::Error for Trap {}

/// Error of [`super::Store::instantiate`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InstantiateError {
    /// An import is missing or has the wrong type. The message starts with `unknown import`
    /// or `incompatible import type` (the spec tests' wording).
    Unlinkable(String),
    /// A segment initializer or the start function trapped. Effects that happened before
    /// the trap (segment writes into imported memories or tables) stay visible.
    Trap(Trap),
    /// The store's mode cannot run this module.
    Unsupported(String),
    /// The module and the store disagree (e.g. a handle from another store).
    Resource(String),
}

impl fmt::Display for InstantiateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InstantiateError::Unlinkable(m) => write!(f, "unlinkable: {m}"),
            InstantiateError::Trap(t) => write!(f, "trap during instantiation: {t}"),
            InstantiateError::Unsupported(m) => write!(f, "unsupported: {m}"),
            InstantiateError::Resource(m) => write!(f, "instantiation failed: {m}"),
        }
    }
}

// `Display` already includes the trap's message, so `source()` stays `None` (an error
// chain printer such as anyhow's `{:#}` would otherwise repeat it).
impl std::error::Error for InstantiateError {}

/// Error of [`super::Store::call`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallError {
    /// Wrong number or types of arguments, or a handle from another store.
    BadArguments(String),
    /// The call trapped.
    Trap(Trap),
    /// The store's mode cannot run this call.
    Unsupported(String),
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::BadArguments(m) => write!(f, "bad arguments: {m}"),
            CallError::Trap(t) => write!(f, "{t}"),
            CallError::Unsupported(m) => write!(f, "unsupported: {m}"),
        }
    }
}

// `Display` already includes the trap's message, so `source()` stays `None` (an error
// chain printer such as anyhow's `{:#}` would otherwise repeat it).
impl std::error::Error for CallError {}

impl From<Trap> for CallError {
    fn from(t: Trap) -> CallError {
        CallError::Trap(t)
    }
}
