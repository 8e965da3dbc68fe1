//! wasm-smith modules run in the interpreter and in every compiled mode (jit-none, jit-speed,
//! tiered, snapshot, snapshot-xip, each with checked and guard memory): results, traps,
//! exported memories, globals and tables must agree. The comparison engine is the
//! differential test's (`compiler/tests/diff/mod.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../compiler/tests/diff/mod.rs"]
mod diff;

fuzz_target!(|data: &[u8]| {
    let mut u = arbitrary::Unstructured::new(data);
    let Some(wasm) = diff::smith_module(&mut u) else {
        return;
    };
    let module = match bareflow::Module::from_bytes(&wasm) {
        Ok(m) => m,
        Err(e) => panic!("wasm-smith module rejected: {e}"),
    };
    // Call arguments from the input's first bytes, so the fuzzer varies them too.
    let seed = data
        .iter()
        .take(8)
        .fold(0u64, |s, b| (s << 8) | u64::from(*b));
    let (reference, others) = diff::all_engines();
    let others: Vec<&dyn diff::Engine> = others.iter().map(|e| e as &dyn diff::Engine).collect();
    if let Err(d) = diff::compare(&module, &wasm, seed, &reference, &others) {
        panic!("disagreement: {d}");
    }
});
