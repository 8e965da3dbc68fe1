//! Issue #16 item 7 (typed function references): generated modules with `(ref null? $t)`
//! values, `call_ref`, `return_call_ref`, `ref.as_non_null`, `br_on_null`,
//! `br_on_non_null`, non-nullable locals, typed tables (one with an initialiser
//! expression), a typed global, `call_indirect` through a typed table, functions taking and
//! returning typed references, run in the interpreter and in every compiled mode (checked and
//! guard memory), results and traps compared by `diff::compare`.
//!
//! wasm-smith 0.263 generates typed function references only together with GC, which
//! BareFlow does not implement, so this test has its own small generator. Its modules
//! always terminate: a function reaches (calls, references, passes) only functions with a
//! higher index, and the tables and the global hold leaves (functions without calls) or
//! null, so every call chain is a strictly increasing sequence of function indices.
//! `BAREFLOW_DIFF_FUNCREF_CASES=N` seeds (150 by default) from `BAREFLOW_DIFF_START`.

mod diff;

use std::fmt::Write;

/// A xorshift stream of choices.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// A number below `n` (`n > 0`).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// What a function is.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// `$ii` (i32 -> i32) without calls or references.
    Leaf,
    /// `$ii` with calls and references.
    Mid,
    /// `$hof`: ((ref $ii), i32) -> i32, calls its reference parameter.
    Hof,
    /// `$mk`: i32 -> (ref null $ii).
    Mk,
}

struct Gen {
    rng: Rng,
    kinds: Vec<Kind>,
    /// The function being generated.
    cur: usize,
}

impl Gen {
    /// Indices above the current function of kind `k`.
    fn above(&self, k: Kind) -> Vec<usize> {
        (self.cur + 1..self.kinds.len())
            .filter(|&j| self.kinds[j] == k)
            .collect()
    }

    fn pick(&mut self, from: &[usize]) -> Option<usize> {
        (!from.is_empty()).then(|| from[self.rng.below(from.len() as u64) as usize])
    }

    fn leaves(&self) -> Vec<usize> {
        (0..self.kinds.len())
            .filter(|&j| self.kinds[j] == Kind::Leaf)
            .collect()
    }

    /// An i32 expression; `x` is the i32 local in scope.
    fn int(&mut self, depth: u32, x: &str) -> String {
        let calls = self.kinds[self.cur] != Kind::Leaf;
        let choice = if depth == 0 {
            self.rng.below(2)
        } else {
            self.rng.below(if calls { 16 } else { 6 })
        };
        let d = depth.saturating_sub(1);
        match choice {
            0 => format!("(local.get {x})"),
            1 => format!("(i32.const {})", self.rng.below(41) as i32 - 20),
            2 | 3 => {
                let op = ["add", "sub", "mul", "xor", "and", "or", "shl", "rotl"]
                    [self.rng.below(8) as usize];
                format!("(i32.{op} {} {})", self.int(d, x), self.int(d, x))
            }
            4 => format!("(i32.div_s {} {})", self.int(d, x), self.int(d, x)),
            5 => format!(
                "(if (result i32) {} (then {}) (else {}))",
                self.int(d, x),
                self.int(d, x),
                self.int(d, x)
            ),
            6 | 7 => format!("(call_ref $ii {} {})", self.int(d, x), self.nullable(d, x)),
            8 => format!("(ref.is_null {})", self.nullable(d, x)),
            // br_on_null: the argument is the block's result when the reference is null.
            9 => format!(
                "(block $n (result i32) {} {} (br_on_null $n) (call_ref $ii))",
                self.int(d, x),
                self.nullable(d, x)
            ),
            10 => format!(
                "(call_ref $ii {} (block $s (result (ref $ii)) (br_on_non_null $s {}) {}))",
                self.int(d, x),
                self.nullable(d, x),
                self.non_null(d, x)
            ),
            11 => format!(
                "(call_indirect $t (type $ii) {} (i32.and {} (i32.const 7)))",
                self.int(d, x),
                self.int(d, x)
            ),
            12 => match self.above(Kind::Hof).as_slice() {
                [] => format!("(local.get {x})"),
                hs => {
                    let h = hs[self.rng.below(hs.len() as u64) as usize];
                    format!("(call $f{h} {} {})", self.non_null(d, x), self.int(d, x))
                }
            },
            13 => format!(
                "(block (result i32) (global.set $g {}) {})",
                self.leaf_or_null(),
                self.int(d, x)
            ),
            14 => format!("(call_ref $ii {} (local.get $r))", self.int(d, x)),
            _ => format!(
                "(call_ref $ii {} (ref.as_non_null {}))",
                self.int(d, x),
                self.nullable(d, x)
            ),
        }
    }

    /// `ref.func` of a leaf, or `ref.null`.
    fn leaf_or_null(&mut self) -> String {
        let leaves = self.leaves();
        match self.pick(&leaves) {
            Some(l) if self.rng.chance(75) => format!("(ref.func $f{l})"),
            _ => "(ref.null $ii)".to_string(),
        }
    }

    /// A `(ref null $ii)` expression naming only functions above the current one or leaves.
    fn nullable(&mut self, depth: u32, x: &str) -> String {
        let d = depth.saturating_sub(1);
        match self.rng.below(6) {
            0 => "(ref.null $ii)".to_string(),
            1 => format!("(table.get $t (i32.and {} (i32.const 7)))", self.int(d, x)),
            2 => "(global.get $g)".to_string(),
            3 => match self.above(Kind::Mk).as_slice() {
                [] => "(global.get $g)".to_string(),
                ms => {
                    let m = ms[self.rng.below(ms.len() as u64) as usize];
                    format!("(call $f{m} {})", self.int(d, x))
                }
            },
            _ => self.non_null(depth, x),
        }
    }

    /// A `(ref $ii)` expression.
    fn non_null(&mut self, depth: u32, x: &str) -> String {
        let mids = self.above(Kind::Mid);
        let leaves: Vec<usize> = self.above(Kind::Leaf);
        let d = depth.saturating_sub(1);
        match self.rng.below(4) {
            0 => match self.pick(&mids) {
                Some(m) => format!("(ref.func $f{m})"),
                None => format!("(table.get $nn (i32.and {} (i32.const 3)))", self.int(d, x)),
            },
            1 => match self.pick(&leaves) {
                Some(l) => format!("(ref.func $f{l})"),
                None => "(local.get $r)".to_string(),
            },
            2 => format!("(table.get $nn (i32.and {} (i32.const 3)))", self.int(d, x)),
            _ => "(local.get $r)".to_string(),
        }
    }

    fn func(&mut self, i: usize) -> String {
        self.cur = i;
        let depth = 2 + self.rng.below(3) as u32;
        let mut s = String::new();
        match self.kinds[i] {
            Kind::Leaf => {
                let body = self.int(depth, "0");
                write!(s, "(func $f{i} (export \"f{i}\") (type $ii) {body})").unwrap();
            }
            Kind::Mid => {
                // A non-nullable local, set before its first use.
                let init = "(table.get $nn (i32.and (local.get 0) (i32.const 3)))";
                let body = if self.rng.chance(40) {
                    // A tail call in the else arm.
                    let (c, a, arg) = (self.int(1, "0"), self.int(depth, "0"), self.int(1, "0"));
                    let r = self.nullable(1, "0");
                    format!(
                        "(if (result i32) {c} (then {a}) (else (return_call_ref $ii {arg} {r})))"
                    )
                } else {
                    self.int(depth, "0")
                };
                write!(
                    s,
                    "(func $f{i} (export \"f{i}\") (type $ii) (local $r (ref $ii)) \
                     (local.set $r {init}) {body})"
                )
                .unwrap();
            }
            Kind::Hof => {
                let a = self.int(depth, "1");
                let b = self.int(1, "1");
                write!(
                    s,
                    "(func $f{i} (type $hof) (local $r (ref $ii)) (local.set $r (local.get 0)) \
                     (i32.add {a} (call_ref $ii {b} (local.get 0))))"
                )
                .unwrap();
            }
            Kind::Mk => {
                let (a, b) = (self.nullable(depth, "0"), self.nullable(depth, "0"));
                write!(
                    s,
                    "(func $f{i} (type $mk) (local $r (ref $ii)) \
                     (local.set $r (table.get $nn (i32.const 0))) \
                     (if (result (ref null $ii)) (i32.and (local.get 0) (i32.const 1)) \
                       (then {a}) (else {b})))"
                )
                .unwrap();
            }
        }
        s
    }
}

/// The module of `seed`, in the text format.
fn module(seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let n = 4 + rng.below(7) as usize;
    // Leaves last (at least two), the other kinds mixed before them.
    let leaves = 2 + rng.below(2) as usize;
    let mut kinds: Vec<Kind> = (0..n)
        .map(|_| match rng.below(6) {
            0 => Kind::Hof,
            1 => Kind::Mk,
            _ => Kind::Mid,
        })
        .collect();
    kinds.extend(std::iter::repeat_n(Kind::Leaf, leaves));
    let mut g = Gen { rng, kinds, cur: 0 };
    let all = g.kinds.len();
    let leaf_ids = g.leaves();
    let mut s = String::from(
        "(module\n\
         (type $ii (func (param i32) (result i32)))\n\
         (type $hof (func (param (ref $ii)) (param i32) (result i32)))\n\
         (type $mk (func (param i32) (result (ref null $ii))))\n",
    );
    // Typed tables: $t nullable (8 slots: leaves and nulls), $nn non-nullable with an
    // initialiser expression (a leaf), then overwritten in part by an element segment.
    let l0 = leaf_ids[0];
    writeln!(s, "(table $t (export \"t\") 8 (ref null $ii))").unwrap();
    writeln!(s, "(table $nn 4 (ref $ii) (ref.func $f{l0}))").unwrap();
    let items: Vec<String> = (0..8)
        .map(|_| match g.pick(&leaf_ids) {
            Some(l) if g.rng.chance(70) => format!("(item (ref.func $f{l}))"),
            _ => "(item (ref.null $ii))".to_string(),
        })
        .collect();
    writeln!(
        s,
        "(elem (table $t) (i32.const 0) (ref null $ii) {})",
        items.join(" ")
    )
    .unwrap();
    let l1 = leaf_ids[g.rng.below(leaf_ids.len() as u64) as usize];
    writeln!(
        s,
        "(elem (table $nn) (i32.const 2) (ref $ii) (item (ref.func $f{l1})))"
    )
    .unwrap();
    let init = g.leaf_or_null();
    writeln!(s, "(global $g (export \"g\") (mut (ref null $ii)) {init})").unwrap();
    let declared: Vec<String> = (0..all)
        .filter(|&j| matches!(g.kinds[j], Kind::Leaf | Kind::Mid))
        .map(|j| format!("$f{j}"))
        .collect();
    writeln!(s, "(elem declare func {})", declared.join(" ")).unwrap();
    for i in 0..all {
        let f = g.func(i);
        s.push_str(&f);
        s.push('\n');
    }
    s.push(')');
    s
}

#[test]
fn differential_typed_function_references() {
    let cases = diff::env_u64("BAREFLOW_DIFF_FUNCREF_CASES", 150);
    let start = diff::env_u64("BAREFLOW_DIFF_START", 0);
    let (reference, others) = diff::all_engines();
    let others: Vec<&dyn diff::Engine> = others.iter().map(|e| e as &dyn diff::Engine).collect();
    let mut counts = diff::Counts::default();
    let mut failures = Vec::new();
    let t0 = std::time::Instant::now();
    for seed in start..start + cases {
        let text = module(seed);
        let wasm = wat::parse_str(&text)
            .unwrap_or_else(|e| panic!("seed {seed}: generated module invalid: {e}\n{text}"));
        let module = bareflow::Module::from_bytes(&wasm)
            .unwrap_or_else(|e| panic!("seed {seed}: front end rejected: {e}\n{text}"));
        if let Ok(dir) = std::env::var("BAREFLOW_DIFF_DUMP") {
            let _ = std::fs::write(format!("{dir}/funcref-{seed}.wat"), &text);
        }
        match diff::compare(&module, &wasm, seed, &reference, &others) {
            Ok(c) => counts += c,
            Err(d) => failures.push(format!("{d}\n{text}")),
        }
    }
    eprintln!(
        "differential-funcref: {cases} modules, {} compiled engines, {counts:?}, \
         {} disagreements, {:.1?}",
        others.len(),
        failures.len(),
        t0.elapsed()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The modules must exercise both outcomes.
    let (calls, traps) = (counts.calls, counts.traps);
    assert!(traps * 10 >= calls, "only {traps} of {calls} calls trapped");
    assert!(traps * 10 <= calls * 9, "{traps} of {calls} calls trapped");
}
