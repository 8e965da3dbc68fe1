//! The profile file: per-function execution counters that accumulate over runs.
//!
//! A profile belongs to exactly one module, identified by a hash of its bytes (FNV-1a 64
//! plus the byte length); merging or loading a profile for another module is refused with
//! [`ProfileError::ModuleMismatch`]. The file is plain, versioned, line-oriented text so a
//! human can read and diff it:
//!
//! ```text
//! bareflow-profile 2
//! module fnv1a64:0123456789abcdef 1234
//! path wasm-samples/sum.wasm
//! runs 2
//! # func <index> <calls> <back-edges> <nanos> [<name>]
//! func 0 2 60000000 71000000 sum_to_n
//! # loop <func index> <module offset of the loop operator> <back-edges>
//! loop 0 49 60000000
//! ```
//!
//! `index` is the function's index in the module's function index space (imports first).
//! `loop` lines (version 2) give the back-edges charged to each loop (see
//! `Store::loop_counters` for how they are attributed); a version 1 file (no loops) is
//! still read, and written back as version 2.
//! Names are taken from the module's name section when it has one; characters that would
//! break the line format (`\`, control characters) are escaped as `\\` and `\u{HEX}`.
//! Every line is checked; a corrupt file gives a [`ProfileError::Parse`] naming the line,
//! never a panic. [`Profile::save`] writes to a temporary file and renames it over the target,
//! so a crash never leaves a half-written profile.

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// The first line of every profile file.
pub const MAGIC: &str = "bareflow-profile";

/// The format version this code writes (it also reads [`OLDEST_VERSION`] and later).
pub const VERSION: u32 = 2;

/// The oldest format version this code reads (version 1: no `loop` lines).
pub const OLDEST_VERSION: u32 = 1;

/// Identity of the module a profile belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ModuleId {
    /// FNV-1a 64 hash of the module bytes.
    pub hash: u64,
    /// Length of the module in bytes.
    pub len: u64,
}

impl ModuleId {
    /// Computes the identity of a module from its bytes (binary or text, exactly as loaded).
    pub fn of_bytes(bytes: &[u8]) -> ModuleId {
        ModuleId {
            hash: fnv1a64(bytes),
            len: bytes.len() as u64,
        }
    }
}

impl fmt::Display for ModuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "fnv1a64:{:016x} ({} bytes)", self.hash, self.len)
    }
}

/// FNV-1a, 64-bit variant: cheap, dependency-free, good enough to tell modules apart
/// (profiles are not a security boundary).
fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Counters of one function.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FuncProfile {
    /// Name from the module's name section, if any.
    pub name: Option<String>,
    /// Number of calls.
    pub calls: u64,
    /// Number of loop back-edges taken.
    pub back_edges: u64,
    /// Time spent in the function (inclusive), in nanoseconds.
    pub nanos: u64,
}

impl FuncProfile {
    /// The hotness used to order functions: calls plus back-edges.
    pub fn hotness(&self) -> u64 {
        self.calls.saturating_add(self.back_edges)
    }
}

/// A profile: counters per function of one module, accumulated over `runs` runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    /// The module this profile belongs to.
    pub module: ModuleId,
    /// Path of the module when the profile was last written (informational).
    pub path: String,
    /// Number of runs merged into this profile.
    pub runs: u64,
    /// Counters keyed by function index (module function index space).
    pub funcs: BTreeMap<u32, FuncProfile>,
    /// Back-edges per loop, keyed by `(function index, module offset of the loop)`.
    pub loops: BTreeMap<(u32, u32), u64>,
}

/// One loop of [`Profile::hottest_loops`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LoopProfile {
    /// Function index.
    pub func: u32,
    /// Module offset of the `loop` operator.
    pub offset: u32,
    /// Back-edges charged to the loop.
    pub back_edges: u64,
    /// Its share of all back-edges of the module (0..=1; the functions' totals, which
    /// include back-edges no loop was charged with).
    pub share: f64,
}

/// Errors reading, merging or writing a profile.
#[derive(Debug)]
pub enum ProfileError {
    /// Reading or writing the file failed.
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The file is not a valid profile.
    Parse {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The file was written by an unsupported format version.
    UnsupportedVersion(u32),
    /// The profile belongs to another module.
    ModuleMismatch {
        /// The module we have.
        expected: ModuleId,
        /// The module the profile was recorded for.
        found: ModuleId,
    },
}

impl fmt::Display for ProfileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProfileError::Io { path, .. } => write!(f, "cannot access {}", path.display()),
            ProfileError::Parse { line, message } => {
                write!(f, "corrupt profile at line {line}: {message}")
            }
            ProfileError::UnsupportedVersion(v) => write!(
                f,
                "unsupported profile version {v} (this build reads versions \
                 {OLDEST_VERSION} to {VERSION})"
            ),
            ProfileError::ModuleMismatch { expected, found } => write!(
                f,
                "profile belongs to another module (profile: {found}, module: {expected})"
            ),
        }
    }
}

impl std::error::Error for ProfileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ProfileError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl Profile {
    /// An empty profile (zero runs) for `module`.
    pub fn new(module: ModuleId, path: impl Into<String>) -> Profile {
        Profile {
            module,
            path: path.into(),
            runs: 0,
            funcs: BTreeMap::new(),
            loops: BTreeMap::new(),
        }
    }

    /// Adds `other`'s counters and runs to `self`.
    ///
    /// # Errors
    /// [`ProfileError::ModuleMismatch`] if `other` belongs to another module; `self` is
    /// unchanged then.
    pub fn merge(&mut self, other: &Profile) -> Result<(), ProfileError> {
        if other.module != self.module {
            return Err(ProfileError::ModuleMismatch {
                expected: self.module,
                found: other.module,
            });
        }
        self.runs = self.runs.saturating_add(other.runs);
        for (&idx, f) in &other.funcs {
            let e = self.funcs.entry(idx).or_default();
            e.calls = e.calls.saturating_add(f.calls);
            e.back_edges = e.back_edges.saturating_add(f.back_edges);
            e.nanos = e.nanos.saturating_add(f.nanos);
            if f.name.is_some() {
                e.name.clone_from(&f.name);
            }
        }
        for (&k, &n) in &other.loops {
            let e = self.loops.entry(k).or_default();
            *e = e.saturating_add(n);
        }
        if !other.path.is_empty() {
            self.path.clone_from(&other.path);
        }
        Ok(())
    }

    /// Loops ordered hottest first (back-edges, then function and offset), each with its
    /// share of the module's back-edges.
    pub fn hottest_loops(&self) -> Vec<LoopProfile> {
        let total = self
            .funcs
            .values()
            .fold(0u64, |a, f| a.saturating_add(f.back_edges))
            .max(self.loops.values().fold(0u64, |a, &n| a.saturating_add(n)));
        let mut v: Vec<LoopProfile> = self
            .loops
            .iter()
            .map(|(&(func, offset), &back_edges)| LoopProfile {
                func,
                offset,
                back_edges,
                share: if total == 0 {
                    0.0
                } else {
                    back_edges as f64 / total as f64
                },
            })
            .collect();
        v.sort_by(|a, b| {
            b.back_edges
                .cmp(&a.back_edges)
                .then(a.func.cmp(&b.func))
                .then(a.offset.cmp(&b.offset))
        });
        v
    }

    /// Back-edges of function `func` that no loop was charged with (counted by compiled
    /// code entered through a call, or pending at a point outside every loop).
    pub fn unattributed_back_edges(&self, func: u32) -> u64 {
        let f = self.funcs.get(&func).map_or(0, |f| f.back_edges);
        let in_loops = self
            .loops
            .range((func, 0)..=(func, u32::MAX))
            .fold(0u64, |a, (_, &n)| a.saturating_add(n));
        f.saturating_sub(in_loops)
    }

    /// Functions ordered hottest first: by calls + back-edges, then time, then index.
    pub fn by_hotness(&self) -> Vec<(u32, &FuncProfile)> {
        let mut v: Vec<(u32, &FuncProfile)> = self.funcs.iter().map(|(&i, f)| (i, f)).collect();
        v.sort_by(|a, b| {
            b.1.hotness()
                .cmp(&a.1.hotness())
                .then(b.1.nanos.cmp(&a.1.nanos))
                .then(a.0.cmp(&b.0))
        });
        v
    }

    /// Serializes the profile in the text format described in the module docs.
    pub fn to_text(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        // Writing to a String cannot fail.
        let _ = writeln!(s, "{MAGIC} {VERSION}");
        let _ = writeln!(
            s,
            "module fnv1a64:{:016x} {}",
            self.module.hash, self.module.len
        );
        let _ = writeln!(s, "path {}", escape(&self.path));
        let _ = writeln!(s, "runs {}", self.runs);
        let _ = writeln!(s, "# func <index> <calls> <back-edges> <nanos> [<name>]");
        for (idx, f) in &self.funcs {
            let _ = write!(s, "func {idx} {} {} {}", f.calls, f.back_edges, f.nanos);
            if let Some(name) = &f.name {
                let _ = write!(s, " {}", escape(name));
            }
            s.push('\n');
        }
        if !self.loops.is_empty() {
            let _ = writeln!(
                s,
                "# loop <func index> <module offset of the loop operator> <back-edges>"
            );
        }
        for (&(func, offset), n) in &self.loops {
            let _ = writeln!(s, "loop {func} {offset} {n}");
        }
        s
    }

    /// Parses the text format.
    ///
    /// # Errors
    /// [`ProfileError::Parse`] naming the first bad line, or
    /// [`ProfileError::UnsupportedVersion`].
    pub fn parse(text: &str) -> Result<Profile, ProfileError> {
        let end = text.lines().count().max(1);
        let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
        let err = |line: usize, message: &str| ProfileError::Parse {
            line,
            message: message.to_string(),
        };
        // Header.
        let (n, first) = lines.next().ok_or_else(|| err(1, "empty file"))?;
        let version = first
            .strip_prefix(MAGIC)
            .and_then(|r| r.strip_prefix(' '))
            .ok_or_else(|| err(n, "not a bareflow profile (bad magic)"))?;
        let version: u32 = version
            .trim()
            .parse()
            .map_err(|_| err(n, "bad version number"))?;
        if !(OLDEST_VERSION..=VERSION).contains(&version) {
            return Err(ProfileError::UnsupportedVersion(version));
        }
        let mut module = None;
        let mut path = None;
        let mut runs = None;
        let mut funcs = BTreeMap::new();
        let mut loops = BTreeMap::new();
        for (n, line) in lines {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (key, rest) = line.split_once(' ').unwrap_or((line, ""));
            match key {
                "module" => {
                    let mut it = rest.split(' ');
                    let hash = it
                        .next()
                        .and_then(|h| h.strip_prefix("fnv1a64:"))
                        .and_then(|h| u64::from_str_radix(h, 16).ok())
                        .ok_or_else(|| err(n, "bad module hash"))?;
                    let len = it
                        .next()
                        .and_then(|l| l.parse::<u64>().ok())
                        .ok_or_else(|| err(n, "bad module length"))?;
                    if it.next().is_some() {
                        return Err(err(n, "trailing data after module length"));
                    }
                    if module.replace(ModuleId { hash, len }).is_some() {
                        return Err(err(n, "duplicate `module` line"));
                    }
                }
                "path" => {
                    let p = unescape(rest).map_err(|m| err(n, &m))?;
                    if path.replace(p).is_some() {
                        return Err(err(n, "duplicate `path` line"));
                    }
                }
                "runs" => {
                    let r: u64 = rest.parse().map_err(|_| err(n, "bad run count"))?;
                    if runs.replace(r).is_some() {
                        return Err(err(n, "duplicate `runs` line"));
                    }
                }
                "func" => {
                    let mut it = rest.splitn(5, ' ');
                    let mut num = |what: &str| -> Result<u64, ProfileError> {
                        it.next()
                            .and_then(|v| v.parse::<u64>().ok())
                            .ok_or_else(|| err(n, &format!("bad {what}")))
                    };
                    let idx = u32::try_from(num("function index")?)
                        .map_err(|_| err(n, "function index out of range"))?;
                    let calls = num("call count")?;
                    let back_edges = num("back-edge count")?;
                    let nanos = num("time")?;
                    let name = match it.next() {
                        Some(s) => Some(unescape(s).map_err(|m| err(n, &m))?),
                        None => None,
                    };
                    let f = FuncProfile {
                        name,
                        calls,
                        back_edges,
                        nanos,
                    };
                    if funcs.insert(idx, f).is_some() {
                        return Err(err(n, &format!("duplicate entry for function {idx}")));
                    }
                }
                "loop" if version >= 2 => {
                    let mut it = rest.split(' ');
                    let mut num = |what: &str| -> Result<u64, ProfileError> {
                        it.next()
                            .and_then(|v| v.parse::<u64>().ok())
                            .ok_or_else(|| err(n, &format!("bad {what}")))
                    };
                    let func = u32::try_from(num("function index")?)
                        .map_err(|_| err(n, "function index out of range"))?;
                    let offset = u32::try_from(num("loop offset")?)
                        .map_err(|_| err(n, "loop offset out of range"))?;
                    let edges = num("back-edge count")?;
                    if it.next().is_some() {
                        return Err(err(n, "trailing data after back-edge count"));
                    }
                    if loops.insert((func, offset), edges).is_some() {
                        return Err(err(
                            n,
                            &format!("duplicate entry for loop {func} at {offset}"),
                        ));
                    }
                }
                other => return Err(err(n, &format!("unknown record `{other}`"))),
            }
        }
        let module = module.ok_or_else(|| err(end, "missing `module` line"))?;
        Ok(Profile {
            module,
            path: path.unwrap_or_default(),
            runs: runs.ok_or_else(|| err(end, "missing `runs` line"))?,
            funcs,
            loops,
        })
    }

    /// Reads and parses a profile file.
    ///
    /// # Errors
    /// [`ProfileError::Io`] (including "not found") or a parse error.
    pub fn load(path: &Path) -> Result<Profile, ProfileError> {
        let text = crate::fsio::read_input_text(path).map_err(|source| ProfileError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Profile::parse(&text)
    }

    /// Writes the profile atomically and safely ([`crate::fsio::write_output`]: a random
    /// temporary file beside `path`, renamed over it; read-only targets refused).
    ///
    /// # Errors
    /// [`ProfileError::Io`].
    pub fn save(&self, path: &Path) -> Result<(), ProfileError> {
        crate::fsio::write_output(path, self.to_text().as_bytes()).map_err(|source| {
            ProfileError::Io {
                path: path.to_path_buf(),
                source,
            }
        })
    }

    /// Adds `self` to the profile stored at `path` (creating it if absent) and writes the
    /// result back atomically. Returns the accumulated profile.
    ///
    /// # Errors
    /// I/O and parse errors, or [`ProfileError::ModuleMismatch`] if the file belongs to
    /// another module (the file is left untouched then).
    pub fn accumulate_into(&self, path: &Path) -> Result<Profile, ProfileError> {
        let mut total = match Profile::load(path) {
            Ok(p) => p,
            Err(ProfileError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
                Profile::new(self.module, self.path.clone())
            }
            Err(e) => return Err(e),
        };
        if total.module != self.module {
            return Err(ProfileError::ModuleMismatch {
                expected: self.module,
                found: total.module,
            });
        }
        total.merge(self)?;
        total.save(path)?;
        Ok(total)
    }
}

/// The loops of a function body: `(module offset of the loop operator, offset of its
/// end)`, in body order (outer loops first). A body that does not parse gives the loops
/// read so far.
pub fn loop_ranges(body: &wasmparser::FunctionBody<'_>) -> Vec<(u32, u32)> {
    let mut out: Vec<(u32, u32)> = Vec::new();
    // Open blocks: `Some(index in out)` for a loop.
    let mut open: Vec<Option<usize>> = Vec::new();
    let Ok(mut ops) = body.get_operators_reader() else {
        return out;
    };
    while !ops.eof() {
        let Ok((op, off)) = ops.read_with_offset() else {
            break;
        };
        let off = off as u32;
        match op {
            wasmparser::Operator::Loop { .. } => {
                open.push(Some(out.len()));
                out.push((off, u32::MAX));
            }
            wasmparser::Operator::Block { .. }
            | wasmparser::Operator::If { .. }
            | wasmparser::Operator::TryTable { .. } => open.push(None),
            wasmparser::Operator::End => {
                if let Some(Some(i)) = open.pop() {
                    out[i].1 = off;
                }
            }
            _ => {}
        }
    }
    out
}

/// The innermost loop of `ranges` ([`loop_ranges`]) that contains module offset `at`
/// (its `loop` operator through its `end`): the offset of its `loop` operator.
pub fn innermost_loop(ranges: &[(u32, u32)], at: u32) -> Option<u32> {
    ranges
        .iter()
        .filter(|&&(s, e)| s <= at && at <= e)
        .max_by_key(|&&(s, _)| s)
        .map(|&(s, _)| s)
}

/// The loop that back-edges pending at module offset `at` are charged to: the innermost
/// loop containing it, else the last loop that ends before it (a return after sibling
/// loops: the edges of the last batch, fewer than a batch, go to the last of them).
pub fn loop_for_offset(ranges: &[(u32, u32)], at: u32) -> Option<u32> {
    innermost_loop(ranges, at).or_else(|| {
        ranges
            .iter()
            .filter(|&&(_, e)| e < at)
            .max_by_key(|&&(_, e)| e)
            .map(|&(s, _)| s)
    })
}

/// Escapes `\` and every control character so the value fits on one line.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Inverse of [`escape`].
fn unescape(s: &str) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('u') => {
                if chars.next() != Some('{') {
                    return Err("bad escape: expected `{` after `\\u`".into());
                }
                let mut hex = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(h) if h.is_ascii_hexdigit() && hex.len() < 6 => hex.push(h),
                        _ => return Err("bad `\\u{..}` escape".into()),
                    }
                }
                let ch = u32::from_str_radix(&hex, 16)
                    .ok()
                    .and_then(char::from_u32)
                    .ok_or_else(|| "bad `\\u{..}` escape".to_string())?;
                out.push(ch);
            }
            _ => return Err("bad escape sequence".into()),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Profile {
        let mut p = Profile::new(ModuleId::of_bytes(b"\0asm\x01\0\0\0"), "m.wasm");
        p.runs = 1;
        p.funcs.insert(
            0,
            FuncProfile {
                name: Some("fib".into()),
                calls: 10,
                back_edges: 0,
                nanos: 500,
            },
        );
        p.funcs.insert(
            3,
            FuncProfile {
                name: Some("weird \\ name\nwith\tcontrol ✓".into()),
                calls: 1,
                back_edges: 99,
                nanos: 7,
            },
        );
        p.funcs.insert(
            4,
            FuncProfile {
                name: None,
                calls: 0,
                back_edges: 0,
                nanos: 0,
            },
        );
        p.loops.insert((3, 40), 90);
        p.loops.insert((3, 70), 5);
        p
    }

    #[test]
    fn round_trip() {
        let p = sample();
        let text = p.to_text();
        assert_eq!(text.lines().count(), 5 + 3 + 1 + 2);
        assert_eq!(Profile::parse(&text).unwrap(), p);
    }

    #[test]
    fn merge_adds_counters() {
        let mut a = sample();
        let b = sample();
        a.merge(&b).unwrap();
        assert_eq!(a.runs, 2);
        assert_eq!(a.funcs[&0].calls, 20);
        assert_eq!(a.funcs[&0].nanos, 1000);
        assert_eq!(a.funcs[&3].back_edges, 198);
        assert_eq!(a.funcs[&3].name.as_deref(), b.funcs[&3].name.as_deref());
        assert_eq!(a.loops[&(3, 40)], 180);
        assert_eq!(a.loops.len(), 2);
    }

    #[test]
    fn hottest_loops_and_shares() {
        let p = sample();
        let l = p.hottest_loops();
        assert_eq!(l.len(), 2);
        assert_eq!((l[0].func, l[0].offset, l[0].back_edges), (3, 40, 90));
        // Shares are of the module's 99 back-edges (function totals).
        assert!((l[0].share - 90.0 / 99.0).abs() < 1e-9);
        assert!((l[1].share - 5.0 / 99.0).abs() < 1e-9);
        assert_eq!(p.unattributed_back_edges(3), 4);
        assert_eq!(p.unattributed_back_edges(0), 0);
    }

    #[test]
    fn version_1_files_are_read_and_written_back_as_version_2() {
        let v1 = "bareflow-profile 1\nmodule fnv1a64:00000000000000ff 8\npath m.wasm\nruns 3\n\
                  func 0 10 20 30 f\n";
        let p = Profile::parse(v1).expect("version 1");
        assert_eq!(p.runs, 3);
        assert_eq!(p.funcs[&0].back_edges, 20);
        assert!(p.loops.is_empty());
        assert!(p.to_text().starts_with("bareflow-profile 2\n"));
        // `loop` records are version 2 only.
        let bad = format!("{v1}loop 0 5 7\n");
        let e = Profile::parse(&bad).unwrap_err();
        assert!(e.to_string().contains("unknown record `loop`"), "{e}");
        let e = Profile::parse("bareflow-profile 3\n").unwrap_err();
        assert!(e.to_string().contains("versions 1 to 2"), "{e}");
    }

    #[test]
    fn loop_ranges_and_innermost() {
        let wasm = wat::parse_str(
            "(module (func (local i32)
               (loop $a (block (loop $b (br_if $b (local.get 0))))
                 (br_if $a (local.get 0)))
               (loop $c)))",
        )
        .unwrap();
        let mut body = None;
        for payload in wasmparser::Parser::new(0).parse_all(&wasm) {
            if let Ok(wasmparser::Payload::CodeSectionEntry(b)) = payload {
                body = Some(b);
            }
        }
        let r = loop_ranges(&body.unwrap());
        assert_eq!(r.len(), 3);
        let (a, b, c) = (r[0], r[1], r[2]);
        assert!(a.0 < b.0 && b.1 < a.1 && a.1 < c.0, "{r:?}");
        assert_eq!(innermost_loop(&r, a.0), Some(a.0));
        assert_eq!(innermost_loop(&r, b.0 + 1), Some(b.0));
        assert_eq!(innermost_loop(&r, b.1 + 1), Some(a.0));
        assert_eq!(innermost_loop(&r, c.1), Some(c.0));
        assert_eq!(innermost_loop(&r, c.1 + 1), None);
        assert_eq!(loop_for_offset(&r, c.1 + 1), Some(c.0));
        assert_eq!(loop_for_offset(&r, b.1 + 1), Some(a.0));
        assert_eq!(loop_for_offset(&r, 0), None);
    }

    #[test]
    fn merge_refuses_other_module() {
        let mut a = sample();
        let mut b = sample();
        b.module = ModuleId::of_bytes(b"other");
        let before = a.clone();
        let e = a.merge(&b).unwrap_err();
        assert!(matches!(e, ProfileError::ModuleMismatch { .. }));
        assert!(e.to_string().contains("another module"));
        assert_eq!(a, before);
    }

    #[test]
    fn hotness_order() {
        let p = sample();
        let order: Vec<u32> = p.by_hotness().iter().map(|(i, _)| *i).collect();
        assert_eq!(order, vec![3, 0, 4]);
    }

    #[test]
    fn corrupt_files_are_clear_errors() {
        let good = sample().to_text();
        let cases: Vec<String> = vec![
            String::new(),
            "hello\n".into(),
            "bareflow-profile x\n".into(),
            good.replace("func 0 10", "func 0 ten"),
            good.replace("fnv1a64:", "md5:"),
            good.replace("runs 1", "runs -1"),
            good.replace("func 3", "func 0"),
            good.replace("runs 1\n", ""),
            good.replace("fib", "f\\q"),
            good.replace("fib", "f\\u{110000}"),
            good.replace("fib", "f\\u{12"),
            good.replace("func 0 10 0 500", "func 99999999999 10 0 500"),
            good.replace("loop 3 40 90", "loop 3 40"),
            good.replace("loop 3 40 90", "loop 3 40 90 1"),
            good.replace("loop 3 40 90", "loop 3 99999999999 90"),
            good.replace("loop 3 70 5", "loop 3 40 5"),
            format!("{good}bogus line\n"),
            // Truncated at every byte boundary: must never panic.
        ];
        for c in &cases {
            let e = Profile::parse(c).expect_err(c);
            assert!(!e.to_string().is_empty());
        }
        for i in 0..good.len() {
            if good.is_char_boundary(i) {
                let _ = Profile::parse(&good[..i]);
            }
        }
        assert!(matches!(
            Profile::parse("bareflow-profile 7\n"),
            Err(ProfileError::UnsupportedVersion(7))
        ));
    }

    #[test]
    fn accumulate_on_disk() {
        let dir = std::env::temp_dir().join(format!("bareflow-prof-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("p.profile");
        let _ = std::fs::remove_file(&path);
        let p = sample();
        p.accumulate_into(&path).unwrap();
        let total = p.accumulate_into(&path).unwrap();
        assert_eq!(total.funcs[&0].calls, 20);
        assert_eq!(Profile::load(&path).unwrap(), total);
        let mut other = sample();
        other.module = ModuleId::of_bytes(b"x");
        assert!(matches!(
            other.accumulate_into(&path),
            Err(ProfileError::ModuleMismatch { .. })
        ));
        assert_eq!(Profile::load(&path).unwrap(), total);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
