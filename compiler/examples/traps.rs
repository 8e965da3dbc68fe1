//! Catch traps: a wasm trap and a host error are values (`CallError::Trap`); the store
//! stays usable after them.
//!
//! `cargo run -p bareflow --example traps` (also run by `cargo test`).

use bareflow::{CallError, Config, Extern, FuncType, Mode, Module, Store, Trap, TrapCode, Val};

const GUEST: &str = r#"(module
  (import "env" "check" (func $check (param i32)))
  (func $div (export "div") (param i32 i32) (result i32)
    (i32.div_s (local.get 0) (local.get 1)))
  (func (export "checked") (param i32) (call $check (local.get 0))))"#;

/// Returns the two traps' messages and a result computed after them.
pub fn run() -> Result<(String, String, Vec<Val>), Box<dyn std::error::Error>> {
    let module = Module::from_bytes(GUEST.as_bytes())?;
    let mut store = Store::new(Config::new(Mode::JitSpeed));
    let check = store.host_func(
        FuncType {
            params: vec![bareflow::ValType::I32],
            results: vec![],
        },
        Box::new(|params: &[Val], _: &mut [Val]| match params[0] {
            Val::I32(n) if n < 0 => Err(Trap::host(format!("negative input {n}"))),
            _ => Ok(()),
        }),
    );
    let inst = store.instantiate(&module, &|_, name| {
        (name == "check").then_some(Extern::Func(check))
    })?;
    let func = |store: &Store, name: &str| match store.export(inst, name) {
        Some(Extern::Func(f)) => Ok(f),
        _ => Err(format!("no export `{name}`")),
    };
    let div = func(&store, "div")?;
    let wasm_trap = match store.call(div, &[Val::I32(1), Val::I32(0)]) {
        Err(CallError::Trap(t)) => {
            assert_eq!(t.code, TrapCode::IntegerDivideByZero);
            t.to_string()
        }
        other => return Err(format!("expected a trap, got {other:?}").into()),
    };
    println!("wasm trap: {wasm_trap}");
    let checked = func(&store, "checked")?;
    let host_trap = match store.call(checked, &[Val::I32(-3)]) {
        Err(CallError::Trap(t)) => {
            assert_eq!(t.code, TrapCode::HostError);
            t.to_string()
        }
        other => return Err(format!("expected a trap, got {other:?}").into()),
    };
    println!("host error: {host_trap}");
    // The store is still usable.
    let after = store.call(div, &[Val::I32(7), Val::I32(2)])?;
    println!("7 / 2 = {after:?}");
    Ok((wasm_trap, host_trap, after))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    run().map(drop)
}
