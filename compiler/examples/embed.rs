//! Embed a module: parse it, instantiate it in a store, call an export.
//!
//! `cargo run -p bareflow --example embed` (also run by `cargo test`, from
//! `compiler/tests/embed.rs`).

use bareflow::{Config, Extern, Mode, Module, Store, Val};

const FIB: &str = r#"(module
  (func $fib (export "fib") (param i32) (result i32)
    (if (result i32) (i32.lt_s (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2))))))))"#;

/// Each mode with the results it gave.
pub type Results = Vec<(Mode, Vec<Val>)>;

/// `fib(20)` in every mode; returns the results.
pub fn run() -> Result<Results, Box<dyn std::error::Error>> {
    // Text or binary: `Module::from_bytes` takes both (`Module::from_file` reads a file).
    let module = Module::from_bytes(FIB.as_bytes())?;
    let mut out = Vec::new();
    for mode in Mode::ALL {
        let mut store = Store::new(Config::new(mode));
        // No imports: the resolver never finds anything.
        let inst = store.instantiate(&module, &|_, _| None)?;
        let Some(Extern::Func(fib)) = store.export(inst, "fib") else {
            return Err("no export `fib`".into());
        };
        let results = store.call(fib, &[Val::I32(20)])?;
        println!("{mode:>12}: fib(20) = {results:?}");
        out.push((mode, results));
    }
    Ok(out)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    run().map(drop)
}
