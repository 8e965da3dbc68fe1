//! The tier-up policy: pure functions of a function's counters, unit-testable without
//! compiling anything.
//!
//! A function starts in the interpreter. It moves to Cranelift `none` when its calls or its
//! loop back-edges reach the first thresholds, and to `speed` when they reach the second ones.
//! Back-edges count as much as calls scaled by [`Thresholds::back_edge_weight`]: a function
//! called once that loops a million times is as hot as one called often.

/// An execution tier of a function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tier {
    /// Pre-decoded interpreter.
    Interp,
    /// Cranelift at `opt_level = none`.
    JitNone,
    /// Cranelift at `opt_level = speed`.
    JitSpeed,
}

impl Tier {
    /// Lower-case name (`interp`, `jit-none`, `jit-speed`).
    pub fn name(self) -> &'static str {
        match self {
            Tier::Interp => "interp",
            Tier::JitNone => "jit-none",
            Tier::JitSpeed => "jit-speed",
        }
    }
}

/// Per-function execution counters (from the interpreter's profile).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Calls of the function.
    pub calls: u64,
    /// Loop back-edges taken inside it.
    pub back_edges: u64,
}

/// Tier-up thresholds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Thresholds {
    /// Hotness at which a function is compiled at `none`.
    pub to_none: u64,
    /// Hotness at which a function is recompiled at `speed`.
    pub to_speed: u64,
    /// How many back-edges count as one call.
    pub back_edge_weight: u64,
    /// How many times more a back-edge of a running interpreted frame weighs when deciding
    /// its on-stack replacement ([`wants_osr`]) than for a call-driven compile: the frame
    /// is still in its loop, a surer sign of work to come than past calls.
    pub osr_edge_factor: u64,
}

/// Default [`Thresholds::osr_edge_factor`].
pub const OSR_EDGE_FACTOR: u64 = 8;

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            to_none: 100,
            to_speed: 2_000,
            back_edge_weight: 16,
            osr_edge_factor: OSR_EDGE_FACTOR,
        }
    }
}

impl Thresholds {
    /// Thresholds that compile every function on its first call, at `none` then immediately
    /// at `speed` on the next one (for tests that must exercise both tiers).
    pub const EAGER: Thresholds = Thresholds {
        to_none: 1,
        to_speed: 2,
        back_edge_weight: 1,
        osr_edge_factor: 1,
    };
}

/// The hotness score of a function: calls plus weighted back-edges (saturating).
pub fn hotness(c: Counters, t: &Thresholds) -> u64 {
    let weight = t.back_edge_weight.max(1);
    c.calls.saturating_add(c.back_edges / weight)
}

/// Whether an interpreted frame of a function with these counters should move into
/// compiled code at a loop header: its hotness with back-edges weighted
/// [`Thresholds::osr_edge_factor`] times reaches the first threshold.
pub fn wants_osr(c: Counters, t: &Thresholds) -> bool {
    let c = Counters {
        back_edges: c.back_edges.saturating_mul(t.osr_edge_factor.max(1)),
        ..c
    };
    hotness(c, t) >= t.to_none
}

/// The tier a function should run at given its counters (never lower than `current`).
pub fn target_tier(current: Tier, c: Counters, t: &Thresholds) -> Tier {
    let h = hotness(c, t);
    let wanted = if h >= t.to_speed.max(t.to_none) {
        Tier::JitSpeed
    } else if h >= t.to_none {
        Tier::JitNone
    } else {
        Tier::Interp
    };
    wanted.max(current)
}

/// The next tier to compile, if the counters call for a move up from `current`.
pub fn next_tier(current: Tier, c: Counters, t: &Thresholds) -> Option<Tier> {
    let target = target_tier(current, c, t);
    (target > current).then_some(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(calls: u64, back_edges: u64) -> Counters {
        Counters { calls, back_edges }
    }

    #[test]
    fn cold_functions_stay_interpreted() {
        let t = Thresholds::default();
        assert_eq!(next_tier(Tier::Interp, c(0, 0), &t), None);
        assert_eq!(next_tier(Tier::Interp, c(99, 15), &t), None);
    }

    #[test]
    fn calls_and_back_edges_promote() {
        let t = Thresholds::default();
        assert_eq!(next_tier(Tier::Interp, c(100, 0), &t), Some(Tier::JitNone));
        assert_eq!(
            next_tier(Tier::Interp, c(1, 99 * 16), &t),
            Some(Tier::JitNone)
        );
        assert_eq!(next_tier(Tier::JitNone, c(1_999, 0), &t), None);
        assert_eq!(
            next_tier(Tier::JitNone, c(2_000, 0), &t),
            Some(Tier::JitSpeed)
        );
        // Very hot from the start goes straight to speed.
        assert_eq!(
            next_tier(Tier::Interp, c(1, 1 << 40), &t),
            Some(Tier::JitSpeed)
        );
    }

    #[test]
    fn never_demotes_and_saturates() {
        let t = Thresholds::default();
        assert_eq!(next_tier(Tier::JitSpeed, c(u64::MAX, u64::MAX), &t), None);
        assert_eq!(target_tier(Tier::JitSpeed, c(0, 0), &t), Tier::JitSpeed);
        assert_eq!(hotness(c(u64::MAX, u64::MAX), &t), u64::MAX);
        let zero_weight = Thresholds {
            back_edge_weight: 0,
            ..t
        };
        assert_eq!(hotness(c(1, 5), &zero_weight), 6);
    }

    #[test]
    fn monotonic_in_counters() {
        let t = Thresholds::default();
        let mut last = Tier::Interp;
        for calls in (0..5_000).step_by(7) {
            let now = target_tier(Tier::Interp, c(calls, calls * 3), &t);
            assert!(now >= last);
            last = now;
        }
        assert_eq!(last, Tier::JitSpeed);
    }

    #[test]
    fn osr_weighs_back_edges_more() {
        let t = Thresholds::default();
        // 100 calls' worth of back-edges at 16 per call, divided by the factor.
        let edges = 100 * 16 / OSR_EDGE_FACTOR;
        assert!(wants_osr(c(0, edges), &t));
        assert!(!wants_osr(c(0, edges - 1), &t));
        assert_eq!(next_tier(Tier::Interp, c(0, edges), &t), None);
        assert!(wants_osr(c(100, 0), &t));
        let one = Thresholds {
            osr_edge_factor: 0,
            ..Thresholds::EAGER
        };
        assert!(wants_osr(c(0, 1), &one));
    }

    #[test]
    fn eager_thresholds() {
        let t = Thresholds::EAGER;
        assert_eq!(next_tier(Tier::Interp, c(1, 0), &t), Some(Tier::JitNone));
        assert_eq!(next_tier(Tier::JitNone, c(2, 0), &t), Some(Tier::JitSpeed));
    }
}
