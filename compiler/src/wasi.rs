//! WASI preview1 for the [`Store`]: binds the host functions of [`runtime_loader::wasi`]
//! (the same implementation the snapshot loader binds) as store host functions, so they run
//! in every execution mode.
//!
//! ```no_run
//! # use bareflow::{Config, Mode, Module, Store, Extern};
//! # use bareflow::wasi::{Wasi, WasiCtx};
//! let module = Module::from_file("prog.wasm")?;
//! let mut store = Store::new(Config::new(Mode::Interp));
//! let mut ctx = WasiCtx::new();
//! ctx.push_arg("prog.wasm")?;
//! let wasi = Wasi::link(&mut store, &module, ctx)?;
//! let inst = store.instantiate(&module, &|m, n| wasi.resolve(m, n))?;
//! wasi.bind_memory(&store, inst);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use runtime_loader::abi::MemoryDef;
use runtime_loader::meta::ImportKind;
use runtime_loader::wasi::lookup;
pub use runtime_loader::wasi::{MODULE, WasiCtx, WasiError};

use crate::runtime::{Caller, Extern, FuncType, InstanceId, Module, Store, Trap, TrapCode, Val};

/// WASI's `fault` errno (bad guest address).
const ERRNO_FAULT: u64 = 21;

/// Why a module's WASI imports cannot be bound.
#[derive(Debug)]
pub enum LinkError {
    /// The module imports a `wasi_snapshot_preview1` function that does not exist.
    UnknownFunction(String),
    /// The module imports a WASI function with another signature, or a non-function.
    BadImport(String),
}

impl std::fmt::Display for LinkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LinkError::UnknownFunction(n) => write!(f, "unknown WASI function {MODULE}::{n}"),
            LinkError::BadImport(n) => write!(f, "incompatible import type for {MODULE}::{n}"),
        }
    }
}

impl std::error::Error for LinkError {}

/// The WASI functions a module imports, defined in one store and sharing one [`WasiCtx`].
pub struct Wasi {
    ctx: Rc<RefCell<WasiCtx>>,
    funcs: HashMap<String, Extern>,
}

impl std::fmt::Debug for Wasi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wasi")
            .field("funcs", &self.funcs.len())
            .finish_non_exhaustive()
    }
}

/// True if `module` imports anything from `wasi_snapshot_preview1`.
pub fn imports_wasi(module: &Module) -> bool {
    module
        .parsed()
        .meta
        .imports
        .iter()
        .any(|i| i.module == MODULE)
}

impl Wasi {
    /// Defines, in `store`, every `wasi_snapshot_preview1` function `module` imports.
    ///
    /// # Errors
    /// [`LinkError`] for an unknown name or a signature that differs from preview1's.
    pub fn link(store: &mut Store, module: &Module, ctx: WasiCtx) -> Result<Wasi, LinkError> {
        let ctx = Rc::new(RefCell::new(ctx));
        let mut funcs = HashMap::new();
        for imp in &module.parsed().meta.imports {
            if imp.module != MODULE || funcs.contains_key(&imp.name) {
                continue;
            }
            let f =
                lookup(&imp.name).ok_or_else(|| LinkError::UnknownFunction(imp.name.clone()))?;
            let ty = FuncType {
                params: f.params().to_vec(),
                results: f.results().to_vec(),
            };
            match &imp.kind {
                ImportKind::Func(t) if module.parsed().meta.types.get(*t as usize) == Some(&ty) => {
                }
                _ => return Err(LinkError::BadImport(imp.name.clone())),
            }
            let index = f.index();
            let slots = f.slots();
            let c = ctx.clone();
            let name = f.name();
            let func = store.func_with_caller(
                ty,
                Box::new(move |caller: &mut Caller<'_>, params: &[Val], results: &mut [Val]| {
                    let mut v = vec![0u64; slots];
                    for (s, p) in v.iter_mut().zip(params) {
                        *s = match *p {
                            Val::I32(x) => u64::from(x as u32),
                            Val::I64(x) => x as u64,
                            _ => return Err(Trap::host(format!("{MODULE}::{name}: bad argument"))),
                        };
                    }
                    let Ok(mut ctx) = c.try_borrow_mut() else {
                        return Err(Trap::host(format!("{MODULE}::{name}: WASI context in use")));
                    };
                    // The calling instance's `memory` export is what guest pointers refer to
                    // (re-bound at every call, so several instances can share one context).
                    let memory = match caller.get_export("memory") {
                        Some(Extern::Memory(m)) => Some(m),
                        _ => None,
                    };
                    if let Some(m) = memory {
                        // SAFETY: as in `bind_memory`: the handle's `LinearMemory` starts
                        // with its `MemoryDef` and lives as long as the store.
                        unsafe { ctx.bind_memory(m.ptr as *mut MemoryDef) };
                    }
                    // SAFETY: the bound memory belongs to the instance whose call is
                    // suspended in this host function; nothing else touches it meanwhile.
                    let status = unsafe { ctx.invoke(index, &mut v) };
                    if status != 0 {
                        let code = TrapCode::from_u32(status).unwrap_or(TrapCode::HostError);
                        return Err(Trap::new(code));
                    }
                    if memory.is_none()
                        && caller.module().is_some()
                        && !results.is_empty()
                        && v[0] == ERRNO_FAULT
                    {
                        // As Wasmtime: pointers into a module without a memory export are a
                        // host error, not an errno the guest could act on.
                        return Err(Trap::host(format!(
                            "{MODULE}::{name}: the calling module exports no memory named `memory`"
                        )));
                    }
                    if let Some(r) = results.first_mut() {
                        *r = Val::I32(v[0] as u32 as i32);
                    }
                    Ok(())
                }),
            );
            funcs.insert(imp.name.clone(), Extern::Func(func));
        }
        Ok(Wasi { ctx, funcs })
    }

    /// The import resolver to pass to [`Store::instantiate`]: WASI functions only.
    pub fn resolve(&self, module: &str, name: &str) -> Option<Extern> {
        if module != MODULE {
            return None;
        }
        self.funcs.get(name).copied()
    }

    /// Binds the instance's exported `memory` as the memory WASI pointers refer to.
    /// Returns false if the instance exports no memory named `memory` (then every call that
    /// touches guest memory fails with `FAULT`).
    pub fn bind_memory(&self, store: &Store, inst: InstanceId) -> bool {
        let Some(Extern::Memory(m)) = store.export(inst, "memory") else {
            return false;
        };
        // A `Memory` handle points at a `LinearMemory`, `#[repr(C)]` with its `MemoryDef`
        // first; it lives as long as the store.
        let def = m.ptr as *mut MemoryDef;
        // SAFETY: see above; the store outlives every call of the WASI functions.
        unsafe { self.ctx.borrow_mut().bind_memory(def) };
        true
    }

    /// The status the guest passed to `proc_exit`, if it called it.
    pub fn exit_status(&self) -> Option<u32> {
        self.ctx.borrow().exit_status()
    }
}
