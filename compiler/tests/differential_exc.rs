//! Issue #17 item 6 (exception handling): wasm-smith modules with `try_table`, `throw`,
//! `throw_ref` and tags (`exceptions_enabled`), run in the interpreter (the reference) and
//! in `tiered`, `jit-none`, `jit-speed`, `snapshot` (checked and guard memory each) and
//! `snapshot-xip`. Tiered mode
//! compiles every function after its first call, so exceptions cross the tier boundary
//! while a module is half compiled. Results, traps (an uncaught exception is one) and
//! memory are compared by `diff::compare`. `BAREFLOW_DIFF_EXC_CASES=N` seeds (200 by default) from
//! `BAREFLOW_DIFF_START`.

mod diff;

use bareflow::{MemoryMode, Mode};

/// Whether a module has an exception instruction.
fn throws_in(wasm: &[u8]) -> bool {
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        let Ok(wasmparser::Payload::CodeSectionEntry(body)) = payload else {
            continue;
        };
        let Ok(mut ops) = body.get_operators_reader() else {
            continue;
        };
        while !ops.eof() {
            match ops.read() {
                Ok(
                    wasmparser::Operator::Throw { .. }
                    | wasmparser::Operator::ThrowRef
                    | wasmparser::Operator::TryTable { .. },
                ) => return true,
                Ok(_) => {}
                Err(_) => break,
            }
        }
    }
    false
}

#[test]
fn differential_exceptions() {
    diff::on_big_stack(run);
}

fn run() {
    let cases = diff::env_u64("BAREFLOW_DIFF_EXC_CASES", 200);
    let start = diff::env_u64("BAREFLOW_DIFF_START", 0);
    let reference = diff::StoreEngine::new(Mode::Interp, MemoryMode::Checked);
    let mut engines = Vec::new();
    for mode in [Mode::Tiered, Mode::JitNone, Mode::JitSpeed, Mode::Snapshot] {
        engines.push(diff::StoreEngine::new(mode, MemoryMode::Checked));
        if runtime_loader::instance::GUARD_MEMORY_SUPPORTED {
            engines.push(diff::StoreEngine::new(mode, MemoryMode::Guard));
        }
    }
    engines.push(diff::StoreEngine::new(
        Mode::SnapshotXip,
        MemoryMode::Checked,
    ));
    let others: Vec<&dyn diff::Engine> = engines.iter().map(|e| e as &dyn diff::Engine).collect();
    let config = wasm_smith::Config {
        exceptions_enabled: true,
        ..diff::smith_config()
    };
    let mut counts = diff::Counts::default();
    let (mut modules, mut with_exc) = (0u64, 0u64);
    let mut failures = Vec::new();
    let t0 = std::time::Instant::now();
    for seed in start..start + cases {
        let Some((wasm, module)) = diff::seed_module_with(&config, seed, "exception ") else {
            continue;
        };
        modules += 1;
        if throws_in(&wasm) {
            with_exc += 1;
        }
        if let Ok(dir) = std::env::var("BAREFLOW_DIFF_DUMP") {
            let _ = std::fs::write(format!("{dir}/exc-{seed}.wasm"), &wasm);
        }
        match diff::compare(&module, &wasm, seed, &reference, &others) {
            Ok(c) => counts += c,
            Err(d) => failures.push(d),
        }
    }
    eprintln!(
        "differential-exc: {cases} seeds, {modules} modules ({with_exc} with exception \
         instructions), {} engines, {counts:?}, {} disagreements, {:.1?}",
        others.len(),
        failures.len(),
        t0.elapsed()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    if cases >= 100 {
        assert!(
            with_exc * 5 >= cases,
            "only {with_exc} of {cases} seeds had an exception instruction"
        );
    }
}
