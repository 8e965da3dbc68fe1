//! Run a snapshot with the safe API: load it, link a host function that reads guest
//! memory, call an export, catch a trap.
//!
//! ```text
//! bareflow compile runtime-loader/examples/guest.wat -o guest.snap
//! cargo run -p runtime-loader --example run_snapshot -- guest.snap
//! ```
//!
//! `cargo test -p bareflow --test embed` compiles `guest.wat` and runs this.

use runtime_loader::embed::{
    CallError, Caller, Imports, Instance, Snapshot, Trap, TrapCode, Val, ValType,
};

/// What one run observed: `main(21)`'s results, the strings `log` received, the trap of
/// `div(1, 0)`, and `div(7, 2)` afterwards.
#[derive(Debug)]
pub struct Outcome {
    /// Results of `main(21)`.
    pub main: Vec<Val>,
    /// Strings the guest logged.
    pub logged: Vec<String>,
    /// The trap of `div(1, 0)`, as text.
    pub trap: String,
    /// Results of `div(7, 2)`, after the trap.
    pub after: Vec<Val>,
}

pub fn run(bytes: &[u8]) -> Result<Outcome, Box<dyn std::error::Error>> {
    // Verified before anything runs: a corrupt or foreign file is a typed `LoadError`.
    let snapshot = Snapshot::load(bytes)?;
    let mut imports = Imports::new();
    imports.func(
        "env",
        "log",
        &[ValType::I32, ValType::I32],
        &[],
        |caller: &mut Caller<'_>, args: &[Val], _results: &mut [Val]| {
            let (Val::I32(ptr), Val::I32(len)) = (args[0], args[1]) else {
                return Err(Trap::host("log: expected (i32, i32)"));
            };
            let mut buf = vec![0; len as u32 as usize];
            caller
                .read(u64::from(ptr as u32), &mut buf)
                .map_err(|e| Trap::host(format!("log: {e}")))?;
            let text = String::from_utf8(buf).map_err(|_| Trap::host("log: not UTF-8"))?;
            println!("guest says: {text}");
            if let Some(log) = caller.data_mut::<Vec<String>>() {
                log.push(text);
            }
            Ok(())
        },
    );
    let mut instance = Instance::new(&snapshot, imports)?;
    instance.set_data(Vec::<String>::new());
    let main = instance.call("main", &[Val::I32(21)])?;
    println!("main(21) = {main:?}");
    let trap = match instance.call("div", &[Val::I32(1), Val::I32(0)]) {
        Err(CallError::Trap(t)) if t.code == TrapCode::IntegerDivideByZero => t.to_string(),
        other => return Err(format!("expected a division trap, got {other:?}").into()),
    };
    println!("div(1, 0) trapped: {trap}");
    let after = instance.call("div", &[Val::I32(7), Val::I32(2)])?;
    let logged = instance.data::<Vec<String>>().cloned().unwrap_or_default();
    Ok(Outcome {
        main,
        logged,
        trap,
        after,
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: run_snapshot SNAPSHOT (compiled from runtime-loader/examples/guest.wat)")?;
    run(&std::fs::read(&path)?).map(drop)
}
