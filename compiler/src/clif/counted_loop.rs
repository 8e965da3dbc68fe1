//! Counted-loop analysis: recognises a `loop` whose number of taken back-edges has an upper
//! bound computable from values available at the loop's entry (an induction local stepped
//! once per trip by a constant, or upward by a local the loop never writes, and compared
//! with a loop-invariant bound), so that bounded-execution checks can be hoisted out of it
//! (`bounds.rs`, loop versioning).
//!
//! Two shapes, both at the loop body's top level (never inside a nested block, so they run
//! on every trip that reaches them):
//! * do-while (what clang emits): `...; local.get i; iN.const c (or local.get s);
//!   iN.add|sub; local.tee i;
//!   B; CMP; br_if 0; end`, or with `B` before `local.get i`, or `...; local.tee i; br_if 0`
//!   (continue while `i != 0`);
//! * while: `local.get i; B; CMP; br_if k (k >= 1, an exit); ...; local.get i; iN.const c;
//!   iN.add|sub; local.set i; ...; br 0; end`.
//!
//! `B` is `iN.const` or a `local.get` of a local the loop never writes. The loop must be
//! innermost, call nothing (a callee charges fuel and a host function may set it) and
//! branch to its own label only at that single back-edge. Every other exit (a branch out,
//! `return`, a trap) only shortens the loop, so the bound stays an upper bound.

use cranelift_codegen::ir::Type;
use cranelift_codegen::ir::types::{I32, I64};
use wasmparser::{BlockType, Operator, OperatorsReader};

/// The second operand of the continue condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Bound {
    /// A local the loop never writes.
    Local(u32),
    /// A constant (sign-extended to 64 bits).
    Const(i64),
}

/// Continue condition `induction OP bound` (the back-edge is taken while it holds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Cont {
    Ne,
    Lt { signed: bool },
    Le { signed: bool },
    Gt { signed: bool },
    Ge { signed: bool },
}

impl Cont {
    /// The same condition with the operands swapped (`b OP x` as `x OP' b`).
    fn swapped(self) -> Self {
        match self {
            Cont::Ne => Cont::Ne,
            Cont::Lt { signed } => Cont::Gt { signed },
            Cont::Le { signed } => Cont::Ge { signed },
            Cont::Gt { signed } => Cont::Lt { signed },
            Cont::Ge { signed } => Cont::Le { signed },
        }
    }

    /// The negation (an exit condition read as a continue condition); `None` for `eq`-like
    /// results that are not supported.
    fn negated(self) -> Option<Self> {
        Some(match self {
            Cont::Ne => return None,
            Cont::Lt { signed } => Cont::Ge { signed },
            Cont::Le { signed } => Cont::Gt { signed },
            Cont::Gt { signed } => Cont::Le { signed },
            Cont::Ge { signed } => Cont::Lt { signed },
        })
    }
}

/// A recognised counted loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct CountedLoop {
    /// The induction local.
    pub var: u32,
    /// `i64` induction (else `i32`).
    pub wide: bool,
    /// The constant step (non-zero, at most 2^30 either way; a power of two for `ne`);
    /// 1 with `step_local`.
    pub step: i64,
    /// The step is this local's value (read as unsigned, upward: `<` and `<=` only), a
    /// local the loop never writes.
    pub step_local: Option<u32>,
    pub bound: Bound,
    pub cont: Cont,
    /// Do-while shape: the condition sees the stepped value (first value `i0 + step`);
    /// while shape: it sees the value before the step (first value `i0`).
    pub after_step: bool,
    /// Operators in the body (for the interrupt latency bound).
    pub ops: usize,
    /// The compare of the loop's test: its operator index in the body (the test's `br_if`
    /// follows it) and whether the bound is its left operand. `None` for `local.tee i;
    /// br_if 0`.
    pub cmp: Option<(usize, bool)>,
}

impl CountedLoop {
    /// The induction's CLIF type.
    pub fn ty(&self) -> Type {
        if self.wide { I64 } else { I32 }
    }

    /// Whether the loop's test compares signed (the translator then flips the sign bit
    /// of both sides, [`CountedLoop::sign_bit`], and compares unsigned).
    pub fn signed(&self) -> bool {
        matches!(
            self.cont,
            Cont::Lt { signed: true }
                | Cont::Le { signed: true }
                | Cont::Gt { signed: true }
                | Cont::Ge { signed: true }
        )
    }

    /// The sign bit of the induction's type, as an immediate.
    pub fn sign_bit(&self) -> i64 {
        if self.wide {
            i64::MIN
        } else {
            i64::from(i32::MIN)
        }
    }

    /// The largest unsigned value of the induction's type.
    pub fn max_unsigned(&self) -> u64 {
        if self.wide {
            u64::MAX
        } else {
            u64::from(u32::MAX)
        }
    }

    /// `v` as an immediate of the induction's width, as Cranelift stores it
    /// (sign-extended).
    pub fn imm(&self, v: u64) -> i64 {
        if self.wide {
            v as i64
        } else {
            i64::from(v as u32 as i32)
        }
    }
}

/// Bodies longer than this are not analysed (the analysis buffers the operators).
const MAX_OPS: usize = 4096;

#[derive(Clone, Copy)]
enum Cmp {
    Eq,
    Other(Cont),
}

fn cmp_of(op: &Operator<'_>) -> Option<(bool, Cmp)> {
    use Operator as O;
    let (wide, c) = match op {
        O::I32Eq => (false, Cmp::Eq),
        O::I32Ne => (false, Cmp::Other(Cont::Ne)),
        O::I32LtS => (false, Cmp::Other(Cont::Lt { signed: true })),
        O::I32LtU => (false, Cmp::Other(Cont::Lt { signed: false })),
        O::I32LeS => (false, Cmp::Other(Cont::Le { signed: true })),
        O::I32LeU => (false, Cmp::Other(Cont::Le { signed: false })),
        O::I32GtS => (false, Cmp::Other(Cont::Gt { signed: true })),
        O::I32GtU => (false, Cmp::Other(Cont::Gt { signed: false })),
        O::I32GeS => (false, Cmp::Other(Cont::Ge { signed: true })),
        O::I32GeU => (false, Cmp::Other(Cont::Ge { signed: false })),
        O::I64Eq => (true, Cmp::Eq),
        O::I64Ne => (true, Cmp::Other(Cont::Ne)),
        O::I64LtS => (true, Cmp::Other(Cont::Lt { signed: true })),
        O::I64LtU => (true, Cmp::Other(Cont::Lt { signed: false })),
        O::I64LeS => (true, Cmp::Other(Cont::Le { signed: true })),
        O::I64LeU => (true, Cmp::Other(Cont::Le { signed: false })),
        O::I64GtS => (true, Cmp::Other(Cont::Gt { signed: true })),
        O::I64GtU => (true, Cmp::Other(Cont::Gt { signed: false })),
        O::I64GeS => (true, Cmp::Other(Cont::Ge { signed: true })),
        O::I64GeU => (true, Cmp::Other(Cont::Ge { signed: false })),
        _ => return None,
    };
    Some((wide, c))
}

/// `iN.const` of the given width.
fn const_of(op: &Operator<'_>, wide: bool) -> Option<i64> {
    match (op, wide) {
        (Operator::I32Const { value }, false) => Some(i64::from(*value)),
        (Operator::I64Const { value }, true) => Some(*value),
        _ => None,
    }
}

/// `local.get i; iN.const c; iN.add|sub` with a step of at most 2^30 either way, or
/// `local.get i; local.get s; iN.add`: `(i, wide, step, step local)`.
fn step_of(ops: &[Operator<'_>]) -> Option<(u32, bool, i64, Option<u32>)> {
    let [Operator::LocalGet { local_index }, k, arith] = ops else {
        return None;
    };
    use Operator as O;
    if let Operator::LocalGet { local_index: s } = k {
        let wide = match arith {
            O::I32Add => false,
            O::I64Add => true,
            _ => return None,
        };
        return Some((*local_index, wide, 1, Some(*s)));
    }
    let (wide, sub) = match arith {
        O::I32Add => (false, false),
        O::I32Sub => (false, true),
        O::I64Add => (true, false),
        O::I64Sub => (true, true),
        _ => return None,
    };
    let c = const_of(k, wide)?;
    let step = if sub { c.checked_neg()? } else { c };
    (step != 0 && step.unsigned_abs() <= 1 << 30).then_some((*local_index, wide, step, None))
}

/// A bound operand: a constant of the width or a `local.get`.
fn bound_of(op: &Operator<'_>, wide: bool) -> Option<Bound> {
    match op {
        Operator::LocalGet { local_index } => Some(Bound::Local(*local_index)),
        _ => const_of(op, wide).map(Bound::Const),
    }
}

/// Whether `cont` with a step of `step` is one whose trip count the translator computes
/// (an upward step towards an upper bound, a downward one towards a lower bound, or `ne`).
fn supported(cont: Cont, step: i64) -> bool {
    match cont {
        // `ne` only for power-of-two steps (the trip count is then a shift).
        Cont::Ne => step.unsigned_abs().is_power_of_two(),
        Cont::Lt { .. } | Cont::Le { .. } => step > 0,
        Cont::Gt { .. } | Cont::Ge { .. } => step < 0,
    }
}

/// Analyses the loop whose `loop` operator was just read from `ops` (positioned after it).
/// `None` unless it is a counted loop of one of the two shapes.
pub(super) fn analyse(mut ops: OperatorsReader<'_>, blockty: BlockType) -> Option<CountedLoop> {
    if blockty != BlockType::Empty {
        return None;
    }
    // The body at depth 0 (the loop's own level), with each operator's depth.
    let mut body: Vec<(Operator<'_>, u32)> = Vec::new();
    let mut depth: u32 = 0;
    let mut writes: std::collections::HashMap<u32, u32> = std::collections::HashMap::new();
    let mut back_edges = 0u32;
    loop {
        if body.len() > MAX_OPS {
            return None;
        }
        let op = ops.read().ok()?;
        use Operator as O;
        match &op {
            O::Loop { .. }
            | O::Call { .. }
            | O::CallIndirect { .. }
            | O::CallRef { .. }
            | O::ReturnCall { .. }
            | O::ReturnCallIndirect { .. }
            | O::ReturnCallRef { .. }
            | O::Try { .. }
            | O::TryTable { .. }
            | O::Delegate { .. }
            | O::Catch { .. }
            | O::CatchAll
            | O::Rethrow { .. } => return None,
            O::Block { .. } | O::If { .. } => {
                body.push((op, depth));
                depth += 1;
                continue;
            }
            O::End => {
                if depth == 0 {
                    break;
                }
                depth -= 1;
            }
            O::Br { relative_depth } | O::BrIf { relative_depth } if *relative_depth == depth => {
                back_edges += 1;
            }
            O::BrTable { targets } => {
                if targets.default() == depth {
                    return None;
                }
                for t in targets.targets() {
                    if t.ok()? == depth {
                        return None;
                    }
                }
            }
            O::LocalSet { local_index } | O::LocalTee { local_index } => {
                *writes.entry(*local_index).or_default() += 1;
            }
            _ => {}
        }
        body.push((op, depth));
    }
    if back_edges != 1 {
        return None;
    }
    let n = body.len();
    let top = |i: usize| body[i].1 == 0;
    let ops_only: Vec<&Operator<'_>> = body.iter().map(|(o, _)| o).collect();
    let invariant = |b: Bound, var: u32| match b {
        Bound::Local(l) => l != var && !writes.contains_key(&l),
        Bound::Const(_) => true,
    };
    let single_write = |var: u32| writes.get(&var) == Some(&1);
    let found =
        |var, wide, (step, step_local): (i64, Option<u32>), bound, cont, after_step, cmp| {
            let step_ok = match step_local {
                None => supported(cont, step),
                Some(l) => {
                    invariant(Bound::Local(l), var)
                        && matches!(cont, Cont::Lt { .. } | Cont::Le { .. })
                }
            };
            (single_write(var) && invariant(bound, var) && step_ok).then_some(CountedLoop {
                var,
                wide,
                step,
                step_local,
                bound,
                cont,
                after_step,
                ops: n,
                cmp,
            })
        };
    match ops_only.last()? {
        // Do-while: the back-edge is the last operator.
        Operator::BrIf { relative_depth: 0 } if top(n - 1) => {
            // `...; local.tee i; br_if 0`: continue while the stepped value is not 0.
            if n >= 5
                && (n - 5..n).all(top)
                && let (Some((var, wide, step, sl)), Operator::LocalTee { local_index }) =
                    (step_of(&body_ops(&body, n - 5, n - 2)), ops_only[n - 2])
                && *local_index == var
            {
                return found(var, wide, (step, sl), Bound::Const(0), Cont::Ne, true, None);
            }
            if n < 7 || !(n - 7..n).all(top) {
                return None;
            }
            let (wide, cmp) = cmp_of(ops_only[n - 2])?;
            let Cmp::Other(cont) = cmp else { return None };
            // `local.get i; c; add; local.tee i; B; CMP; br_if 0`
            if let Some((var, w, step, sl)) = step_of(&body_ops(&body, n - 7, n - 4))
                && w == wide
                && matches!(ops_only[n - 4], Operator::LocalTee { local_index } if *local_index == var)
            {
                let bound = bound_of(ops_only[n - 3], wide)?;
                return found(
                    var,
                    wide,
                    (step, sl),
                    bound,
                    cont,
                    true,
                    Some((n - 2, false)),
                );
            }
            // `B; local.get i; c; add; local.tee i; CMP; br_if 0`
            if let Some((var, w, step, sl)) = step_of(&body_ops(&body, n - 6, n - 3))
                && w == wide
                && matches!(ops_only[n - 3], Operator::LocalTee { local_index } if *local_index == var)
            {
                let bound = bound_of(ops_only[n - 7], wide)?;
                return found(
                    var,
                    wide,
                    (step, sl),
                    bound,
                    cont.swapped(),
                    true,
                    Some((n - 2, true)),
                );
            }
            None
        }
        // While: an exit test first, the back-edge `br 0` last.
        Operator::Br { relative_depth: 0 } if top(n - 1) => {
            if n < 5 || !(0..4).all(top) {
                return None;
            }
            if !matches!(ops_only[3], Operator::BrIf { relative_depth } if *relative_depth >= 1) {
                return None;
            }
            let (wide, cmp) = cmp_of(ops_only[2])?;
            // The continue condition of `first EXIT second` with the induction on the left.
            let cont_of = |swap: bool| match cmp {
                Cmp::Eq => Some(Cont::Ne),
                Cmp::Other(e) => if swap { e.swapped() } else { e }.negated(),
            };
            // The induction local: one of the compared locals, stepped once at top level
            // after the test.
            let first = bound_of(ops_only[0], wide)?;
            let second = bound_of(ops_only[1], wide)?;
            let (var, uwide, step, sl) = (4..n.saturating_sub(4)).find_map(|i| {
                if !(i..i + 4).all(top) {
                    return None;
                }
                let (v, w, step, sl) = step_of(&body_ops(&body, i, i + 3))?;
                let compared = first == Bound::Local(v) || second == Bound::Local(v);
                (compared
                    && matches!(ops_only[i + 3], Operator::LocalSet { local_index } if *local_index == v))
                .then_some((v, w, step, sl))
            })?;
            if uwide != wide {
                return None;
            }
            if first == Bound::Local(var) {
                found(
                    var,
                    wide,
                    (step, sl),
                    second,
                    cont_of(false)?,
                    false,
                    Some((2, false)),
                )
            } else if second == Bound::Local(var) {
                found(
                    var,
                    wide,
                    (step, sl),
                    first,
                    cont_of(true)?,
                    false,
                    Some((2, true)),
                )
            } else {
                None
            }
        }
        _ => None,
    }
}

fn body_ops<'a>(body: &[(Operator<'a>, u32)], from: usize, to: usize) -> Vec<Operator<'a>> {
    body[from..to].iter().map(|(o, _)| o.clone()).collect()
}
