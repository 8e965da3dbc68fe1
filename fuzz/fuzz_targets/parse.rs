//! Arbitrary bytes to the front end: binary or text modules, parsed, validated and lowered to
//! the interpreter's code. Any input must give `Ok` or a `ParseError`, never a panic, a hang
//! or an unbounded allocation.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(module) = bareflow::Module::from_bytes(data) {
        // The embedding API's views of a module that parsed must not panic either.
        for e in module.exports() {
            let _ = e.name.len();
        }
        for i in module.imports() {
            let _ = i.name.len();
        }
    }
});
