//! Link a host function that reads guest memory: `log(ptr, len)` prints a guest string
//! through its [`Caller`] and keeps it in the store's user data.
//!
//! `cargo run -p bareflow --example host_log` (also run by `cargo test`).

use bareflow::{Caller, Config, Extern, FuncType, Mode, Module, Store, Trap, Val, ValType};

const GUEST: &str = r#"(module
  (import "env" "log" (func $log (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "hello from the guest")
  (data (i32.const 32) "and again")
  (func (export "main")
    (call $log (i32.const 0) (i32.const 20))
    (call $log (i32.const 32) (i32.const 9))))"#;

/// Runs `main` in tiered mode; returns what `log` received.
pub fn run() -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let module = Module::from_bytes(GUEST.as_bytes())?;
    let mut store = Store::new(Config::new(Mode::Tiered));
    store.set_data(Vec::<String>::new());
    let log = store.func_with_caller(
        FuncType {
            params: vec![ValType::I32, ValType::I32],
            results: vec![],
        },
        Box::new(
            |caller: &mut Caller<'_>, params: &[Val], _results: &mut [Val]| {
                let (Val::I32(ptr), Val::I32(len)) = (params[0], params[1]) else {
                    return Err(Trap::host("log: expected (i32, i32)"));
                };
                let memory = caller
                    .memory()
                    .ok_or_else(|| Trap::host("log: the caller has no memory"))?;
                let mut bytes = vec![0; len as u32 as usize];
                // Bounds-checked: a bad pointer is an error, never a crash.
                caller
                    .read(memory, u64::from(ptr as u32), &mut bytes)
                    .map_err(|e| Trap::host(format!("log: {e}")))?;
                let text = String::from_utf8(bytes).map_err(|_| Trap::host("log: not UTF-8"))?;
                println!("guest says: {text}");
                caller
                    .data_mut::<Vec<String>>()
                    .ok_or_else(|| Trap::host("log: no log in the store"))?
                    .push(text);
                Ok(())
            },
        ),
    );
    let inst = store.instantiate(&module, &|module, name| {
        (module == "env" && name == "log").then_some(Extern::Func(log))
    })?;
    let Some(Extern::Func(main)) = store.export(inst, "main") else {
        return Err("no export `main`".into());
    };
    store.call(main, &[])?;
    Ok(store.data::<Vec<String>>().cloned().unwrap_or_default())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    run().map(drop)
}
