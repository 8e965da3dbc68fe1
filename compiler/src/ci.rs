//! The one rule every test of the workspace uses to tell whether it runs under CI.
//!
//! Under CI a test whose oracle or tool is missing (clang, the spec suite, a scope file)
//! fails instead of skipping; `.ci/run` sets `CI=true`.

/// Whether `CI` is set to anything but empty, `0` or `false` (case-insensitive).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| is_ci_value(&v))
}

/// The rule of [`in_ci`] on a value of `CI`.
pub fn is_ci_value(v: &str) -> bool {
    let v = v.trim();
    !(v.is_empty() || v == "0" || v.eq_ignore_ascii_case("false"))
}

#[cfg(test)]
mod tests {
    use super::is_ci_value;

    #[test]
    fn ci_values() {
        for yes in ["true", "1", "yes", "TRUE", "github"] {
            assert!(is_ci_value(yes), "{yes}");
        }
        for no in ["", "0", "false", "False", " "] {
            assert!(!is_ci_value(no), "{no:?}");
        }
    }
}
