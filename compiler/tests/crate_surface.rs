//! The library's surface (issue #20 item 3): a library user (`default-features = false`)
//! gets no CLI dependencies; the internal modules are reachable only under `internals`
//! (the `compile_fail` doctests in `src/lib.rs` check that `bareflow::clif` is not public).

use std::process::Command;

fn tree(extra: &[&str]) -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["tree", "-p", "bareflow", "--edges", "normal", "--offline"])
        .args(extra)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn library_without_default_features_has_no_cli_dependencies() {
    let full = tree(&["--no-default-features"]);
    assert!(full.starts_with("bareflow v"), "{full}");
    assert!(full.contains("cranelift-codegen"), "{full}");
    assert!(
        !full.contains("clap"),
        "clap in the library's tree:\n{full}"
    );
    // anyhow comes in through cranelift-jit/-module/-object; the library itself must not
    // depend on it (typed errors).
    let direct = tree(&["--no-default-features", "--depth", "1"]);
    assert!(direct.contains("wasmparser"), "{direct}");
    for bad in ["clap", "anyhow"] {
        assert!(
            !direct.contains(bad),
            "{bad} is a direct dependency:\n{direct}"
        );
    }
    // The default (CLI) build has both.
    let cli = tree(&["--depth", "1"]);
    assert!(cli.contains("clap") && cli.contains("anyhow"), "{cli}");
}

#[test]
fn internals_are_reachable_under_internals() {
    // What the workspace's own tests and tools use; no stability promise.
    let module = bareflow::internals::parse::parse(b"(module (func (export \"f\")))");
    assert!(module.is_ok(), "{:?}", module.err());
}
