//! Inlining of direct calls in snapshot code, on Cranelift's inlining library
//! (`cranelift_codegen::inline`, `Context::inline`).
//!
//! The policy is ours; Cranelift only splices a callee's CLIF into the call site:
//! * Only calls between functions of the module (`call` and `return_call` of a defined
//!   function; imports and `call_indirect` stay calls), one level deep: calls inside an
//!   inlined body stay calls (`visit_callee: false`), so recursion cannot blow up. A
//!   function may be inlined into itself once (a recursive function's hot path then makes
//!   half the calls).
//! * Without a profile: callees of at most [`SMALL`] CLIF instructions (accessors, tiny
//!   helpers), into any caller.
//! * With a profile: hot callers (compiled at `speed`) inline hot callees of at most
//!   [`HOT`] instructions; cool callers inline only the [`SMALL`] ones.
//! * A caller grows by at most [`GROWTH`] instructions.
//! * Never with fuel checks: they keep the fuel counter in a register across a function's
//!   body and write it back at calls, which an inlined body would not see. Interrupt
//!   checks hold no state (each reads the trap context's flag), so an inlined body keeps
//!   its entry check and traps `Interrupted` as the callee would; a callee's size then
//!   leaves its check instructions out (`FuncTranslator::check_insts`), so the calls
//!   inlined are those inlined without checks.
//!
//! What stays exact: the inlined body is the callee's own translation, so its traps record
//! the callee's `FuncRef` and wasm offset (the trap location names the callee, as without
//! inlining); in guard mode a fault in inlined code is listed under the caller's code range
//! and so names the caller.

use std::borrow::Cow;
use std::collections::HashMap;

use cranelift_codegen::inline::{Inline, InlineCommand};
use cranelift_codegen::ir::{self, ExternalName};

/// Callees at most this many CLIF instructions are inlined anywhere.
pub const SMALL: usize = 40;
/// Hot callees (profile) at most this many instructions are inlined into hot callers.
pub const HOT: usize = 96;
/// Instructions inlining may add to one caller.
pub const GROWTH: usize = 384;

/// A function that can be inlined: its translated CLIF and size.
pub struct Candidate {
    /// The function's CLIF as translated (before optimisation).
    pub func: ir::Function,
    /// Instructions in its layout.
    pub insts: usize,
    /// The profile counts it hot.
    pub hot: bool,
}

/// Instructions in `f`'s layout.
pub fn inst_count(f: &ir::Function) -> usize {
    f.layout
        .blocks()
        .map(|b| f.layout.block_insts(b).count())
        .sum()
}

/// The inlining decisions for one caller.
pub struct Inliner<'a> {
    /// Candidates by object function id (`UserExternalName { namespace: 0, index: id }`,
    /// as `cranelift_module` names declared functions).
    pub candidates: &'a HashMap<u32, Candidate>,
    /// The caller is hot (compiled at `speed` with a profile).
    pub hot_caller: bool,
    /// A profile was given.
    pub profiled: bool,
    /// Instructions added so far.
    pub added: usize,
    /// Call sites inlined.
    pub inlined: u32,
}

impl Inline for Inliner<'_> {
    fn inline(
        &mut self,
        caller: &ir::Function,
        _call_inst: ir::Inst,
        _call_opcode: ir::Opcode,
        callee: ir::FuncRef,
        _call_args: &[ir::Value],
    ) -> InlineCommand<'_> {
        let ExternalName::User(r) = &caller.dfg.ext_funcs[callee].name else {
            return InlineCommand::KeepCall;
        };
        let name = &caller.params.user_named_funcs()[*r];
        if name.namespace != 0 {
            return InlineCommand::KeepCall;
        }
        let Some(c) = self.candidates.get(&name.index) else {
            return InlineCommand::KeepCall;
        };
        let limit = if self.profiled && self.hot_caller && c.hot {
            HOT
        } else {
            SMALL
        };
        if c.insts > limit || self.added + c.insts > GROWTH {
            return InlineCommand::KeepCall;
        }
        self.added += c.insts;
        self.inlined += 1;
        InlineCommand::Inline {
            callee: Cow::Borrowed(&c.func),
            visit_callee: false,
        }
    }
}
