//! Value and configuration types of the embedding API.

use std::fmt;
use std::str::FromStr;

pub use runtime_loader::format::{MemoryMode, UnknownMemoryMode};
pub use runtime_loader::meta::{FuncType, GlobalType, Limits, MemoryType, TableType, ValType};

use super::store::Func;

/// How a store executes wasm code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Mode {
    /// Tier-0 interpreter only.
    ///
    /// Its dispatch loop is fastest with the LLVM options of the BareFlow workspace's
    /// `.cargo/config.toml` (`-C llvm-args=-tail-dup-pred-size=5000`,
    /// `-tail-dup-succ-size=5000`, `-tail-dup-indirect-size=64`: every op gets its own
    /// dispatch jump). Cargo applies a workspace's config only to builds inside it, so a
    /// crate that depends on `bareflow` (or a `RUSTFLAGS` variable) builds the interpreter
    /// without them unless it sets the same options in its own `.cargo/config.toml`.
    /// Measured 2026-12-07: about the same instruction count, many more mispredicted
    /// indirect branches, 0.85x to 1.23x the time on sum_to_n, matmul and quicksort on one
    /// machine, up to 2.4x (matmul) in an earlier measurement; README, "Known gaps".
    #[default]
    Interp,
    /// Every function compiled by Cranelift with `opt_level=none` before it runs.
    JitNone,
    /// Every function compiled by Cranelift with `opt_level=speed` before it runs.
    JitSpeed,
    /// Interpreter first, hot functions tier up.
    Tiered,
    /// Compile to a snapshot, load it with the runtime loader, run it.
    Snapshot,
    /// Compile to an execute-in-place snapshot (`bareflow compile --xip`), map it read+execute
    /// only and run its code where it lies (nothing relocated or written).
    SnapshotXip,
}

impl Mode {
    /// All modes, in the order the CLI lists them.
    pub const ALL: [Mode; 6] = [
        Mode::Interp,
        Mode::JitNone,
        Mode::JitSpeed,
        Mode::Tiered,
        Mode::Snapshot,
        Mode::SnapshotXip,
    ];

    /// The command-line name (`interp`, `jit-none`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Mode::Interp => "interp",
            Mode::JitNone => "jit-none",
            Mode::JitSpeed => "jit-speed",
            Mode::Tiered => "tiered",
            Mode::Snapshot => "snapshot",
            Mode::SnapshotXip => "snapshot-xip",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Error of [`Mode::from_str`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownMode(pub String);

impl fmt::Display for UnknownMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown mode `{}` (expected interp, jit-none, jit-speed, tiered, snapshot or snapshot-xip)",
            self.0
        )
    }
}

impl std::error::Error for UnknownMode {}

impl FromStr for Mode {
    type Err = UnknownMode;
    fn from_str(s: &str) -> Result<Mode, UnknownMode> {
        Mode::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| UnknownMode(s.to_string()))
    }
}

/// Tier-up thresholds (used by [`Mode::Tiered`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TierUp {
    /// Calls after which a function is compiled.
    pub calls: u64,
    /// Loop back-edges after which a function is compiled.
    pub back_edges: u64,
}

impl Default for TierUp {
    fn default() -> TierUp {
        TierUp {
            calls: 1000,
            back_edges: 10_000,
        }
    }
}

/// Store configuration. `Config::default()` is [`Mode::Interp`] with profiling on (the
/// `bareflow run` CLI defaults to `tiered` instead).
///
/// ```
/// use bareflow::{Config, MemoryMode, Mode, Store};
/// let config = Config {
///     memory: MemoryMode::Checked,
///     max_call_depth: 1000,
///     ..Config::new(Mode::Tiered)
/// };
/// let store = Store::new(config);
/// assert_eq!(store.config().mode, Mode::Tiered);
/// assert_eq!("jit-speed".parse::<Mode>(), Ok(Mode::JitSpeed));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Execution mode.
    pub mode: Mode,
    /// Whether per-function counters (calls, back-edges, time) are collected.
    pub profiling: bool,
    /// Tier-up thresholds.
    pub tier_up: TierUp,
    /// Maximum wasm call depth; deeper calls trap with `StackOverflow`.
    pub max_call_depth: usize,
    /// Maximum number of 8-byte value slots the interpreter's value stack may use.
    pub max_stack_slots: usize,
    /// Bytes of host stack compiled code may use below the call into the store (default
    /// 1 MiB, `trap::DEFAULT_STACK_BUDGET`; 0 also means the default). Whatever this says, wasm never runs closer than
    /// `runtime_loader::trap::HOST_STACK_MARGIN` to the bottom of the calling thread's real
    /// stack (Linux: found with `pthread_getattr_np`), so a small thread stack (`ulimit -s`,
    /// `std::thread::Builder::stack_size`) gives a "call stack exhausted" trap, not a crash.
    pub max_wasm_stack: usize,
    /// How compiled code accesses linear memory: explicit bounds checks (`Checked`, the
    /// default) or guard pages (`Guard`: every memory of the store is an 8 GiB reservation
    /// and out-of-bounds accesses fault; Linux x86-64 only). Applies to the compiled modes
    /// (`jit-none`, `jit-speed`, `tiered`, `snapshot`); the interpreter checks either way.
    pub memory: MemoryMode,
    /// Print every tier-up (function, tier, when, compile time) to stderr ([`Mode::Tiered`]).
    pub tier_log: bool,
    /// Fuel (docs/ABI.md, "Bounded execution"): every function entry and taken loop
    /// back-edge costs 1 unit of the store's fuel ([`crate::runtime::Store::set_fuel`]);
    /// a call that runs out traps `OutOfFuel`. Off by default (no checks are compiled).
    pub consume_fuel: bool,
    /// Interrupt checks at the same points: [`crate::runtime::Store::interrupt_handle`]
    /// makes the running (or next) call trap `Interrupted`. Off by default.
    pub interruptible: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            mode: Mode::Interp,
            profiling: true,
            tier_up: TierUp::default(),
            max_call_depth: 10_000,
            max_stack_slots: 16 << 20,
            max_wasm_stack: runtime_loader::trap::DEFAULT_STACK_BUDGET,
            memory: MemoryMode::Checked,
            tier_log: false,
            consume_fuel: false,
            interruptible: false,
        }
    }
}

impl Config {
    /// Sets [`Config::consume_fuel`] (Wasmtime's name).
    pub fn consume_fuel(&mut self, on: bool) -> &mut Config {
        self.consume_fuel = on;
        self
    }

    /// Sets [`Config::interruptible`].
    pub fn interruptible(&mut self, on: bool) -> &mut Config {
        self.interruptible = on;
        self
    }

    /// The checks compiled code of this configuration carries.
    pub fn bounds(&self) -> crate::clif::Bounds {
        crate::clif::Bounds {
            fuel: self.consume_fuel,
            interrupt: self.interruptible,
        }
    }

    /// The stack budget the store's trap context gets: [`Config::max_wasm_stack`], or the
    /// default for 0 (a zero budget would switch the stack check off).
    pub fn wasm_stack_budget(&self) -> usize {
        match self.max_wasm_stack {
            0 => runtime_loader::trap::DEFAULT_STACK_BUDGET,
            n => n,
        }
    }

    /// The default configuration for `mode`.
    pub fn new(mode: Mode) -> Config {
        Config {
            mode,
            ..Config::default()
        }
    }
}

/// A WebAssembly value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Val {
    /// `i32`.
    I32(i32),
    /// `i64`.
    I64(i64),
    /// `f32` as raw bits.
    F32(u32),
    /// `f64` as raw bits.
    F64(u64),
    /// `funcref` (`None` = null).
    FuncRef(Option<Func>),
    /// `externref` (`None` = null). The value must not be 0 (0 encodes null in slots).
    ExternRef(Option<u64>),
    /// `v128` as its 16 bytes little-endian (lane 0 in the low bits). In value slots it takes
    /// two: the low 64 bits first (docs/ABI.md, "Value slots").
    V128(u128),
    /// `exnref` (`None` = null): an exception object of the store (exception handling).
    ExnRef(Option<super::exn::Exn>),
}

impl Val {
    /// The value's type.
    pub fn ty(&self) -> ValType {
        match self {
            Val::I32(_) => ValType::I32,
            Val::I64(_) => ValType::I64,
            Val::F32(_) => ValType::F32,
            Val::F64(_) => ValType::F64,
            Val::FuncRef(_) => ValType::FuncRef,
            Val::ExternRef(_) => ValType::ExternRef,
            Val::V128(_) => ValType::V128,
            Val::ExnRef(_) => ValType::ExnRef,
        }
    }

    /// The zero value (null for references) of a type.
    pub fn default_for(ty: ValType) -> Val {
        match ty {
            ValType::I32 => Val::I32(0),
            ValType::I64 => Val::I64(0),
            ValType::F32 => Val::F32(0),
            ValType::F64 => Val::F64(0),
            ValType::FuncRef => Val::FuncRef(None),
            ValType::ExternRef => Val::ExternRef(None),
            ValType::V128 => Val::V128(0),
            ValType::ExnRef => Val::ExnRef(None),
        }
    }
}

/// Per-function counters collected by the interpreter (see [`Config::profiling`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FuncCounters {
    /// Function index in its module.
    pub func: u32,
    /// Calls.
    pub calls: u64,
    /// Taken branches to a loop header.
    pub back_edges: u64,
    /// Estimated time spent in the function itself (excluding callees), in nanoseconds.
    /// Tiered mode: a call from the interpreter into the function's compiled code is timed
    /// and charged here, inclusive of the compiled code it calls.
    pub nanos: u64,
}

/// Back-edges of one loop (a profile was asked for: [`Config::profiling`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoopCounters {
    /// Function index in its module.
    pub func: u32,
    /// Module offset of the loop's `loop` operator.
    pub offset: u32,
    /// Back-edges charged to the loop (see `Store::loop_counters`).
    pub back_edges: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::Store;

    /// `v128` values cross the array ABI as two slots (low half first), between other values,
    /// both ways: a host function swaps its two vectors around an i32.
    #[test]
    fn v128_through_host_function_and_global() {
        let mut store = Store::new(Config::default());
        let ty = FuncType {
            params: vec![ValType::V128, ValType::I32, ValType::V128],
            results: vec![ValType::V128, ValType::I64, ValType::V128],
        };
        let f = store.host_func(
            ty,
            Box::new(|p: &[Val], r: &mut [Val]| {
                let Val::I32(n) = p[1] else { panic!("i32") };
                r[0] = p[2];
                r[1] = Val::I64(i64::from(n) * 2);
                r[2] = p[0];
                Ok(())
            }),
        );
        let a = 0x0011_2233_4455_6677_8899_aabb_ccdd_eeff_u128;
        let b = u128::MAX - 5;
        let out = store
            .call(f, &[Val::V128(a), Val::I32(21), Val::V128(b)])
            .unwrap();
        assert_eq!(out, vec![Val::V128(b), Val::I64(42), Val::V128(a)]);

        let g = store.new_global(ValType::V128, true, Val::V128(a));
        assert_eq!(store.global_get(g), Val::V128(a));
        store.global_set(g, Val::V128(b)).unwrap();
        assert_eq!(store.global_get(g), Val::V128(b));
        assert!(store.global_set(g, Val::I64(1)).is_err());
        assert_eq!(Val::default_for(ValType::V128), Val::V128(0));
        assert_eq!(Val::V128(1).ty(), ValType::V128);
    }
}
