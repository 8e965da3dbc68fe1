//! Tier 0: the profiling interpreter.
//!
//! [`lower`] turns each validated function body into pre-decoded [`ops::Op`]s once;
//! [`exec`] runs them with an explicit frame stack and per-function counters.

pub mod exec;
pub mod fuel;
pub mod lower;
mod num;
pub mod ops;
pub mod simd;

use std::sync::Arc;

pub use exec::{Counters, ExecConfig, Interp, InterpInstance, ModuleCode};
pub use lower::{LowerError, lower_function};

use crate::parse;

/// Lowers every function body of a parsed module.
///
/// # Errors
/// The first body the lowering rejects.
pub fn lower_module(m: &parse::Module) -> Result<ModuleCode, LowerError> {
    lower_module_with(m, true)
}

/// [`lower_module`], with loop rotation only if `rotate` ([`lower::lower_function_with`]).
///
/// # Errors
/// The first body the lowering rejects.
pub fn lower_module_with(m: &parse::Module, rotate: bool) -> Result<ModuleCode, LowerError> {
    let meta = &m.meta;
    let mut funcs = Vec::with_capacity(m.bodies.len());
    for i in 0..m.bodies.len() {
        let body = m.body_reader(i).ok_or_else(|| LowerError {
            offset: 0,
            message: "function body out of range".into(),
        })?;
        funcs.push(lower::lower_function_tags(
            meta,
            &m.tags.types,
            meta.num_imported_funcs + i as u32,
            &body,
            rotate,
        )?);
    }
    // In value slots: a `v128` takes two (docs/ABI.md, "SIMD (v128)").
    let arity = |t: &runtime_loader::meta::FuncType| (t.param_slots(), t.result_slots());
    let type_arity: Vec<(u32, u32)> = meta.types.iter().map(arity).collect();
    let func_arity = meta
        .funcs
        .iter()
        .map(|t| type_arity.get(*t as usize).copied().unwrap_or((0, 0)))
        .collect();
    let uses_exceptions = funcs.iter().any(|f| f.uses_exceptions);
    Ok(ModuleCode {
        uses_exceptions,
        funcs,
        func_arity,
        type_arity,
    })
}

/// Shared handle to lowered code.
pub type SharedCode = Arc<ModuleCode>;
