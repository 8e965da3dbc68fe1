//! Helpers shared by the integration tests that build C programs and images (`firmware.rs`,
//! `qemu.rs`, `sign.rs`). Each test crate uses only some of them.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Whether the tests run under CI: missing tools then fail instead of skipping. The
/// workspace's one rule, `bareflow::internals::ci::in_ci`.
pub fn in_ci() -> bool {
    bareflow::internals::ci::in_ci()
}

/// The first working C compiler among `$CC`, `cc`, `gcc`, `clang`.
pub fn c_compiler() -> Option<String> {
    let candidates = std::env::var("CC")
        .ok()
        .into_iter()
        .chain(["cc", "gcc", "clang"].map(String::from));
    candidates.into_iter().find(|cc| {
        Command::new(cc)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// Replays every `call <snapshot> <export> <args...> (-> <results...> | trap <code> ...)`
/// line through `interpret` and asserts the same results or trap code; returns how many
/// call lines there were. The `->`/`trap` marker is searched after the export name, so a
/// snapshot named `trap` parses too.
pub fn replay_call_lines<'a>(
    lines: impl IntoIterator<Item = &'a str>,
    interpret: impl Fn(&str, &str, &[u64]) -> Result<Vec<u64>, u32>,
) -> usize {
    let mut calls = 0;
    for line in lines {
        let Some(rest) = line.strip_prefix("call ") else {
            continue;
        };
        let words: Vec<&str> = rest.split_whitespace().collect();
        let split = 2 + words[2..]
            .iter()
            .position(|w| *w == "->" || *w == "trap")
            .unwrap_or_else(|| panic!("malformed line: {line}"));
        let args: Vec<u64> = words[2..split].iter().map(|w| w.parse().unwrap()).collect();
        let got = if words[split] == "->" {
            Ok(words[split + 1..]
                .iter()
                .map(|w| w.parse().unwrap())
                .collect::<Vec<u64>>())
        } else {
            Err(words[split + 1].parse::<u32>().unwrap())
        };
        assert_eq!(got, interpret(words[0], words[1], &args), "{line}");
        calls += 1;
    }
    calls
}
