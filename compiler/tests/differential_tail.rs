//! Issue #16 item 7 (tail calls): wasm-smith modules with `return_call` and
//! `return_call_indirect` (`tail_call_enabled`), run in the interpreter and in every compiled
//! mode (checked and guard memory), results, traps and memory compared by `diff::compare`.
//! `BAREFLOW_DIFF_TAIL_CASES=N` seeds (200 by default) from `BAREFLOW_DIFF_START`.

mod diff;

/// Whether a module has a tail call.
fn tail_calls_in(wasm: &[u8]) -> bool {
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
                    wasmparser::Operator::ReturnCall { .. }
                    | wasmparser::Operator::ReturnCallIndirect { .. },
                ) => return true,
                Ok(_) => {}
                Err(_) => break,
            }
        }
    }
    false
}

#[test]
fn differential_tail_calls() {
    let cases = diff::env_u64("BAREFLOW_DIFF_TAIL_CASES", 200);
    let start = diff::env_u64("BAREFLOW_DIFF_START", 0);
    let (reference, others) = diff::all_engines();
    let others: Vec<&dyn diff::Engine> = others.iter().map(|e| e as &dyn diff::Engine).collect();
    let config = wasm_smith::Config {
        tail_call_enabled: true,
        ..diff::smith_config()
    };
    let mut counts = diff::Counts::default();
    let (mut modules, mut with_tail) = (0u64, 0u64);
    let mut failures = Vec::new();
    let t0 = std::time::Instant::now();
    for seed in start..start + cases {
        let Some((wasm, module)) = diff::seed_module_with(&config, seed, "tail-call ") else {
            continue;
        };
        modules += 1;
        if tail_calls_in(&wasm) {
            with_tail += 1;
        }
        if let Ok(dir) = std::env::var("BAREFLOW_DIFF_DUMP") {
            let _ = std::fs::write(format!("{dir}/tail-{seed}.wasm"), &wasm);
        }
        match diff::compare(&module, &wasm, seed, &reference, &others) {
            Ok(c) => counts += c,
            Err(d) => failures.push(d),
        }
        if (seed - start + 1).is_multiple_of(1000) {
            eprintln!("differential-tail: {} seeds, {counts:?}", seed - start + 1);
        }
    }
    eprintln!(
        "differential-tail: {cases} seeds, {modules} modules ({with_tail} with tail calls), \
         {} compiled engines, {counts:?}, {} disagreements, {:.1?}",
        others.len(),
        failures.len(),
        t0.elapsed()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    if cases >= 100 {
        assert!(
            with_tail * 5 >= cases,
            "only {with_tail} of {cases} seeds had a tail call"
        );
    }
}
