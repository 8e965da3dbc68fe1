//! wasm-smith modules run in the interpreter and in every compiled mode (jit-none, jit-speed,
//! tiered, snapshot, snapshot-xip, each with checked and guard memory): results, traps,
//! exported memories, globals and tables must agree. The comparison engine is the
//! differential test's (`compiler/tests/diff/mod.rs`).
//!
//! Stack exhaustion (docs/FUZZING.md): each input runs on a `diff::THREAD_STACK` thread with
//! a `diff::WASM_STACK` budget in every engine, far more than a generated module's fuel lets
//! it use. libFuzzer judges one input at a time, so the test's "at most 1% inconclusive" is
//! per input here: a *one-sided* exhaustion is a finding (the budget rule failed: a frame far
//! larger than expected, or a depth limit that is not honoured); an exhaustion on both sides
//! is inconclusive, counted and printed, not a finding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::atomic::{AtomicU64, Ordering};

static RUNS: AtomicU64 = AtomicU64::new(0);
static INCONCLUSIVE: AtomicU64 = AtomicU64::new(0);

#[path = "../../compiler/tests/diff/mod.rs"]
mod diff;

fuzz_target!(|data: &[u8]| diff::on_big_stack(|| one(data)));

fn one(data: &[u8]) {
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
    let c = match diff::compare(&module, &wasm, seed, &reference, &others) {
        Ok(c) => c,
        Err(d) => panic!("disagreement: {d}"),
    };
    if c.one_sided > 0 {
        panic!(
            "one-sided stack exhaustion in {} of {} runs despite the {} MiB budget (seed {seed})",
            c.one_sided,
            c.runs,
            diff::WASM_STACK >> 20
        );
    }
    let runs = RUNS.fetch_add(c.runs, Ordering::Relaxed) + c.runs;
    if c.inconclusive > 0 {
        let n = INCONCLUSIVE.fetch_add(c.inconclusive, Ordering::Relaxed) + c.inconclusive;
        eprintln!("differential: inconclusive (stack exhausted on both sides): {n} of {runs} runs so far");
    }
}
