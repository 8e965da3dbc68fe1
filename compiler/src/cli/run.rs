//! `bareflow run`: instantiate a module, run its start function / `_start` or one export.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use bareflow::profile::{FuncProfile, ModuleId, Profile};
use bareflow::{Config, Extern, InstanceId, MemoryMode, Mode, Module, Store, TierUp, Val, ValType};
use clap::Args;

/// Run a WebAssembly module.
///
/// Without `--invoke`, instantiation runs the start function and then `_start` is called if
/// the module exports it. A module importing `wasi_snapshot_preview1` runs as a WASI
/// command: ARGS (after `--`) are its arguments, `--dir`/`--env` grant directories and
/// variables, and the exit status is the program's. With `--invoke NAME`, the export is
/// called with ARGS parsed per its parameter types (integers in decimal or 0x hex, negative
/// allowed; floats in decimal, `inf`, `-inf`, `nan`; references as `null`) and each result
/// is printed on its own line.
#[derive(Args, Debug)]
pub struct RunCommand {
    /// The module (`.wasm` binary or `.wat` text).
    file: PathBuf,
    /// Exported function to call.
    #[arg(long, value_name = "NAME")]
    invoke: Option<String>,
    /// Execution mode: interp, jit-none, jit-speed, tiered, snapshot or snapshot-xip.
    #[arg(long, default_value = "tiered", value_parser = super::parse_mode)]
    mode: Mode,
    /// Memory mode of compiled code: checked (explicit bounds checks) or guard (guard pages).
    #[arg(long, default_value = "checked", value_parser = super::parse_memory)]
    memory: MemoryMode,
    /// Tier-up thresholds for `tiered`: compile a function at opt level `none` after CALLS
    /// calls or EDGES loop back-edges (and at `speed` after ten times as many).
    #[arg(long, value_name = "CALLS,EDGES", value_parser = parse_tier_up)]
    tier_up: Option<TierUp>,
    /// Print each tier-up (function, tier, when, compile time) to stderr.
    #[arg(long)]
    tier_log: bool,
    /// Add this run's per-function counters to the profile file P (created if missing).
    #[arg(long, value_name = "P")]
    profile_out: Option<PathBuf>,
    /// WASI: grant host directory HOST to the program, named GUEST (default: HOST).
    #[arg(long = "dir", value_name = "HOST[::GUEST]")]
    dirs: Vec<String>,
    /// WASI: give the program the environment variable KEY=VALUE (none by default).
    #[arg(long = "env", value_name = "KEY=VALUE")]
    envs: Vec<String>,
    /// Arguments of the invoked function.
    #[arg(allow_hyphen_values = true, value_name = "ARGS")]
    args: Vec<String>,
}

impl RunCommand {
    /// Runs the command.
    pub fn execute(self) -> Result<ExitCode> {
        let path = self.file.display().to_string();
        let bytes =
            bareflow::fsio::read_input(&self.file).with_context(|| format!("reading {path}"))?;
        let module = Module::from_bytes(&bytes).with_context(|| format!("loading {path}"))?;
        let mut config = Config::new(self.mode);
        config.memory = self.memory;
        config.profiling = self.profile_out.is_some();
        config.tier_log = self.tier_log;
        if let Some(t) = self.tier_up {
            config.tier_up = t;
        }
        if self.invoke.is_none() && bareflow::wasi::imports_wasi(&module) {
            // WASI command: ARGS are the program's arguments (see cli/wasi.rs).
            let run = super::wasi::WasiRun {
                file: &self.file,
                dirs: &self.dirs,
                envs: &self.envs,
                args: &self.args,
                profile_out: self.profile_out.as_ref(),
            };
            return run.execute(&module, &bytes, config);
        }
        if !self.dirs.is_empty() || !self.envs.is_empty() {
            bail!(
                "--dir and --env apply only to modules that import {}",
                bareflow::wasi::MODULE
            );
        }
        let mut store = Store::new(config);
        if self.invoke.is_none() && !self.args.is_empty() {
            bail!("arguments given but no function to pass them to (use --invoke NAME)");
        }
        let no_imports = |_: &str, _: &str| None;
        let instance = store
            .instantiate(&module, &no_imports)
            .with_context(|| format!("instantiating {path}"));
        // The profile is written even when the run traps: the counters up to the trap are
        // still a valid observation.
        let outcome = match instance {
            Ok(inst) => {
                let r = self.call(&mut store, &module, inst);
                if let Some(p) = &self.profile_out {
                    write_profile(&store, &module, inst, &bytes, &path, p)?;
                }
                r
            }
            Err(e) => Err(e),
        };
        outcome.map(|()| ExitCode::SUCCESS)
    }

    fn call(&self, store: &mut Store, module: &Module, inst: InstanceId) -> Result<()> {
        let name = match &self.invoke {
            Some(n) => n.as_str(),
            None => match store.export(inst, "_start") {
                Some(_) => "_start",
                None => return Ok(()),
            },
        };
        let func = match store.export(inst, name) {
            Some(Extern::Func(f)) => f,
            Some(_) => bail!("export `{name}` is not a function"),
            None => {
                let funcs: Vec<String> = module
                    .exports()
                    .iter()
                    .filter(|e| matches!(e.ty, bareflow::ExternType::Func(_)))
                    .map(|e| e.name.to_string())
                    .collect();
                if funcs.is_empty() {
                    bail!("no export named `{name}` (the module exports no functions)");
                }
                bail!(
                    "no export named `{name}` (exported functions: {})",
                    funcs.join(", ")
                );
            }
        };
        let ty = store.func_type(func);
        if ty.params.len() != self.args.len() {
            bail!(
                "function `{name}` takes {} argument(s) ({}), got {}",
                ty.params.len(),
                type_list(&ty.params),
                self.args.len()
            );
        }
        let args = ty
            .params
            .iter()
            .zip(&self.args)
            .enumerate()
            .map(|(i, (t, a))| {
                parse_val(*t, a).with_context(|| {
                    format!("argument {} of `{name}` (`{a}`) is not a valid {t}", i + 1)
                })
            })
            .collect::<Result<Vec<Val>>>()?;
        let results = store
            .call(func, &args)
            .map_err(|e| anyhow!("calling `{name}`: {e}"))?;
        for r in &results {
            println!("{}", format_val(r));
        }
        Ok(())
    }
}

fn type_list(tys: &[ValType]) -> String {
    let v: Vec<String> = tys.iter().map(|t| t.to_string()).collect();
    v.join(", ")
}

/// Accumulates this run's counters into the profile file `out`.
pub(super) fn write_profile(
    store: &Store,
    module: &Module,
    inst: InstanceId,
    bytes: &[u8],
    path: &str,
    out: &std::path::Path,
) -> Result<()> {
    let mut profile = Profile::new(ModuleId::of_bytes(bytes), path);
    profile.runs = 1;
    for c in store.func_counters(inst) {
        profile.funcs.insert(
            c.func,
            FuncProfile {
                name: module.func_name(c.func).map(str::to_string),
                calls: c.calls,
                back_edges: c.back_edges,
                nanos: c.nanos,
            },
        );
    }
    profile
        .accumulate_into(out)
        .with_context(|| format!("writing profile {}", out.display()))?;
    Ok(())
}

/// Parses a command-line argument as a value of type `ty`.
pub(crate) fn parse_val(ty: ValType, s: &str) -> Result<Val> {
    Ok(match ty {
        ValType::I32 => {
            let v = parse_int(s, 32)?;
            Val::I32(v as i32)
        }
        ValType::I64 => Val::I64(parse_int(s, 64)? as i64),
        ValType::F32 => Val::F32(match parse_float(s)? {
            FloatArg::Nan { neg } => 0x7fc0_0000 | (u32::from(neg) << 31),
            FloatArg::Inf { neg: false } => f32::INFINITY.to_bits(),
            FloatArg::Inf { neg: true } => f32::NEG_INFINITY.to_bits(),
            FloatArg::Decimal(d) => d
                .parse::<f32>()
                .map_err(|_| anyhow!("expected a decimal number, inf or nan"))?
                .to_bits(),
        }),
        ValType::F64 => Val::F64(match parse_float(s)? {
            FloatArg::Nan { neg } => 0x7ff8_0000_0000_0000 | (u64::from(neg) << 63),
            FloatArg::Inf { neg: false } => f64::INFINITY.to_bits(),
            FloatArg::Inf { neg: true } => f64::NEG_INFINITY.to_bits(),
            FloatArg::Decimal(d) => d
                .parse::<f64>()
                .map_err(|_| anyhow!("expected a decimal number, inf or nan"))?
                .to_bits(),
        }),
        // A v128 as one 128-bit hex number (`0x` + up to 32 digits, lane 0 lowest).
        ValType::V128 => {
            let h = s
                .strip_prefix("0x")
                .ok_or_else(|| anyhow!("expected a v128 as 0x followed by up to 32 hex digits"))?;
            Val::V128(
                u128::from_str_radix(h, 16).map_err(|_| {
                    anyhow!("expected a v128 as 0x followed by up to 32 hex digits")
                })?,
            )
        }
        ValType::FuncRef => match s {
            "null" => Val::FuncRef(None),
            _ => bail!("only `null` can be passed as a funcref"),
        },
        ValType::ExternRef => match s {
            "null" => Val::ExternRef(None),
            // Host reference N is N + 1 in slots (0 is null), as in the wast harness.
            _ => Val::ExternRef(Some(
                s.parse::<u64>()
                    .ok()
                    .and_then(|n| n.checked_add(1))
                    .ok_or_else(|| anyhow!("expected `null` or a host reference number"))?,
            )),
        },
    })
}

/// Parses a decimal or `0x` hex integer of `bits` width; negative values and unsigned values
/// up to `2^bits - 1` are accepted (the latter wrap to the signed value).
fn parse_int(s: &str, bits: u32) -> Result<u64> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let body = body.replace('_', "");
    let mag = match body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => body.parse::<u64>(),
    }
    .map_err(|_| anyhow!("expected an integer (decimal or 0x hex)"))?;
    if body.is_empty() || body.starts_with(['+', '-']) {
        bail!("expected an integer (decimal or 0x hex)");
    }
    let max_unsigned = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    let max_neg = 1u64 << (bits - 1);
    if neg {
        if mag > max_neg {
            bail!("out of range for i{bits}");
        }
        Ok(mag.wrapping_neg() & max_unsigned)
    } else {
        if mag > max_unsigned {
            bail!("out of range for i{bits}");
        }
        Ok(mag)
    }
}

/// A float argument before it is converted to a width (so `f32` is parsed directly, without
/// double rounding through `f64`).
enum FloatArg {
    Nan {
        neg: bool,
    },
    Inf {
        neg: bool,
    },
    /// A plain decimal literal (sign included).
    Decimal(String),
}

fn parse_float(s: &str) -> Result<FloatArg> {
    let lower = s.to_ascii_lowercase();
    let (neg, body) = match lower.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, lower.strip_prefix('+').unwrap_or(&lower)),
    };
    if body == "nan" {
        return Ok(FloatArg::Nan { neg });
    }
    if body == "inf" || body == "infinity" {
        return Ok(FloatArg::Inf { neg });
    }
    // Plain decimal only (Rust's parser would also take other spellings of inf/NaN).
    let first_ok = body.starts_with(|c: char| c.is_ascii_digit() || c == '.');
    if !first_ok
        || !body
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | '+' | '-'))
    {
        bail!("expected a decimal number, inf or nan");
    }
    Ok(FloatArg::Decimal(if neg {
        format!("-{body}")
    } else {
        body.to_string()
    }))
}

/// Formats a result: integers as signed decimal, floats in shortest round-trip form.
pub(crate) fn format_val(v: &Val) -> String {
    match v {
        Val::I32(x) => x.to_string(),
        Val::I64(x) => x.to_string(),
        Val::F32(b) => f32::from_bits(*b).to_string(),
        Val::F64(b) => f64::from_bits(*b).to_string(),
        Val::FuncRef(None) | Val::ExternRef(None) => "null".into(),
        Val::FuncRef(Some(_)) => "funcref".into(),
        Val::ExternRef(Some(n)) => format!("externref {}", n.wrapping_sub(1)),
        Val::V128(x) => format!("{x:#034x}"),
    }
}

/// Parses `--tier-up CALLS,EDGES` (both positive integers).
fn parse_tier_up(s: &str) -> Result<TierUp, String> {
    let (c, e) = s
        .split_once(',')
        .ok_or_else(|| format!("expected CALLS,EDGES, got {s:?}"))?;
    let num = |v: &str, what: &str| -> Result<u64, String> {
        match v.trim().parse::<u64>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(format!("{what} must be a positive integer, got {v:?}")),
        }
    };
    Ok(TierUp {
        calls: num(c, "CALLS")?,
        back_edges: num(e, "EDGES")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints() {
        assert_eq!(parse_val(ValType::I32, "-1").unwrap(), Val::I32(-1));
        assert_eq!(parse_val(ValType::I32, "0xffffffff").unwrap(), Val::I32(-1));
        assert_eq!(
            parse_val(ValType::I32, "-2147483648").unwrap(),
            Val::I32(i32::MIN)
        );
        assert!(parse_val(ValType::I32, "4294967296").is_err());
        assert!(parse_val(ValType::I32, "-2147483649").is_err());
        assert!(parse_val(ValType::I32, "1.5").is_err());
        assert!(parse_val(ValType::I32, "").is_err());
        assert!(parse_val(ValType::I32, "--1").is_err());
        assert_eq!(
            parse_val(ValType::I64, "-0x8000000000000000").unwrap(),
            Val::I64(i64::MIN)
        );
        assert_eq!(
            parse_val(ValType::I64, "18446744073709551615").unwrap(),
            Val::I64(-1)
        );
    }

    #[test]
    fn floats() {
        assert_eq!(
            parse_val(ValType::F32, "1.5").unwrap(),
            Val::F32(1.5f32.to_bits())
        );
        assert_eq!(
            parse_val(ValType::F64, "-inf").unwrap(),
            Val::F64(f64::NEG_INFINITY.to_bits())
        );
        assert_eq!(
            parse_val(ValType::F32, "nan").unwrap(),
            Val::F32(0x7fc0_0000)
        );
        assert_eq!(
            parse_val(ValType::F64, "-nan").unwrap(),
            Val::F64(0xfff8_0000_0000_0000)
        );
        assert!(parse_val(ValType::F64, "abc").is_err());
        assert!(parse_val(ValType::F64, "NaNx").is_err());
        assert_eq!(format_val(&Val::F64(0.1f64.to_bits())), "0.1");
        assert_eq!(format_val(&Val::I32(-7)), "-7");
    }
}
