//! The snapshot side of a [`Store`](crate::runtime::Store) in `Mode::Snapshot`: every module
//! is compiled ahead of time into snapshot bytes ([`super::compile`]), loaded back with the
//! real loader (`runtime_loader::loader::LoadedModule`: verify, map, relocate) and its code
//! installed in the store's instance, exactly as a shipped snapshot would run. In
//! `Mode::SnapshotXip` the module is compiled with `--xip` and its snapshot copied into a
//! mapping made read+execute only before the loader sees it; the code then runs from there
//! unpatched (`LoadedModule::load_in_place`), so any write into it would fault. Host functions
//! get a native→array stub from a small JIT tier (the loader itself has no compiler; in
//! `bareflow-load` modules with imports are rejected instead).

use std::collections::HashMap;
use std::sync::Arc;

use runtime_loader::abi::{FuncRef, libcall};
use runtime_loader::code::MmapCodeMemory;
use runtime_loader::format::MemoryMode;
use runtime_loader::instance::Instance;
use runtime_loader::loader::LoadedModule;
use runtime_loader::meta;
use runtime_loader::trap::{self, TrapContext};

use super::{AotOpt, AotOptions};
use crate::clif::wasm_val_type;
use crate::jit::{JitTier, OptLevel};
use crate::parse;
use crate::runtime::{Config, Mode};

/// Per-store snapshot state (present in `Mode::Snapshot` and `Mode::SnapshotXip` only).
pub struct SnapshotStore {
    // Field order is drop order: trap-site registrations, code, the trap context last.
    /// Code ranges of the instances' functions, for the wasm backtrace (`jit::frames`).
    code_ranges: Vec<crate::jit::frames::CodeRange>,
    /// Per-function guard-page trap sites of each instance (guard mode), so a fault names
    /// the function as in the JIT modes (the module-wide registration has no function).
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    located_sites: Vec<runtime_loader::guard::Registration>,
    stubs: JitTier,
    loaded: Vec<LoadedModule<MmapCodeMemory>>,
    by_module: HashMap<usize, usize>,
    _modules: Vec<Arc<parse::Module>>,
    memory: MemoryMode,
    xip: bool,
    bounds: crate::clif::Bounds,
    trap_ctx: Box<TrapContext>,
    /// Where the raise path records the frame-pointer chain (`trap_ctx.frames`).
    _frames: Box<runtime_loader::trap::TrapFrames>,
    /// Per loaded module (same order as `loaded`): each function's code size, from the
    /// snapshot's function records.
    code_sizes: Vec<HashMap<u32, u32>>,
}

impl core::fmt::Debug for SnapshotStore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SnapshotStore")
            .field("loaded", &self.loaded.len())
            .finish_non_exhaustive()
    }
}

fn wasm_func_type(t: &meta::FuncType) -> wasmparser::FuncType {
    wasmparser::FuncType::new(
        t.params.iter().map(|v| wasm_val_type(*v)),
        t.results.iter().map(|v| wasm_val_type(*v)),
    )
}

impl SnapshotStore {
    /// The snapshot state for `config`, or `None` in other modes (or if the host has no
    /// Cranelift backend for the stubs).
    pub fn new(config: &Config) -> Option<SnapshotStore> {
        let xip = match config.mode {
            Mode::Snapshot => false,
            Mode::SnapshotXip => true,
            _ => return None,
        };
        let mut trap_ctx = Box::new(TrapContext::new(config.wasm_stack_budget()));
        let mut frames = Box::new(runtime_loader::trap::TrapFrames::EMPTY);
        crate::jit::frames::install(&mut trap_ctx, &mut frames);
        trap_ctx.exn_fns = crate::runtime::exn::compiled::table();
        let stubs = JitTier::new(OptLevel::None, &mut *trap_ctx).ok()?;
        Some(SnapshotStore {
            code_ranges: Vec::new(),
            _frames: frames,
            code_sizes: Vec::new(),
            #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
            located_sites: Vec::new(),
            stubs,
            loaded: Vec::new(),
            by_module: HashMap::new(),
            _modules: Vec::new(),
            memory: config.memory,
            xip,
            bounds: config.bounds(),
            trap_ctx,
        })
    }

    /// The store's trap context (fuel and interrupt flag live there).
    pub fn trap_ctx(&mut self) -> *mut TrapContext {
        &mut *self.trap_ctx
    }

    /// Forgets the function recorded by the last compiled-code trap (call before entering).
    pub fn clear_trap_site(&mut self) {
        crate::jit::store::clear_trap_site(&mut self.trap_ctx);
    }

    /// Names the snapshot function that raised `trap` (as the JIT modes do).
    pub fn attribute_trap(&mut self, trap: &mut crate::runtime::Trap) {
        crate::jit::store::attribute_trap(&mut self.trap_ctx, trap);
    }

    /// Gives a host function its native entry (the native→array stub of its signature).
    ///
    /// # Errors
    /// A message if the stub cannot be compiled.
    ///
    /// # Safety
    /// `func_ref` must be a live host `FuncRef` of this store with signature `ty`.
    pub unsafe fn install_host_func(
        &mut self,
        func_ref: *mut FuncRef,
        ty: &meta::FuncType,
    ) -> Result<(), String> {
        let stub = self
            .stubs
            .native_stub(&wasm_func_type(ty))
            .map_err(|e| e.to_string())?;
        // SAFETY: per the caller, `func_ref` is live.
        unsafe { (*func_ref).native = stub };
        Ok(())
    }

    /// Compiles `module` to a snapshot (once per module), loads it with the real loader and
    /// points `inst`'s defined FuncRefs at the loaded code.
    ///
    /// # Errors
    /// A message if compilation or loading fails (the instance must not be used then).
    ///
    /// # Safety
    /// `inst` must be a live instance of `module` owned by this store, outliving nothing of
    /// this store's state it uses (the store drops instances before this).
    pub unsafe fn install_instance(
        &mut self,
        inst: &Instance,
        module: &Arc<parse::Module>,
        exceptions: bool,
    ) -> Result<(), String> {
        let ctx: *mut TrapContext = &mut *self.trap_ctx;
        // SAFETY: the vmctx and libcall table are live allocations owned by `inst`.
        unsafe {
            (*inst.vmctx()).trap_ctx = ctx.cast();
            *inst.libcalls_mut().add(libcall::RAISE_TRAP) = trap::raise_trap_address();
        }
        let key = Arc::as_ptr(module) as usize;
        let slot = match self.by_module.get(&key) {
            Some(i) => *i,
            None => {
                let opts = AotOptions {
                    opt: AotOpt::Speed,
                    profile: None,
                    xip: self.xip,
                    memory: self.memory,
                    target_cpu: None,
                    bounds: self.bounds,
                    exceptions,
                    ..Default::default()
                };
                let (bytes, _) = super::compile(module, &opts).map_err(|e| e.to_string())?;
                let sizes: HashMap<u32, u32> = runtime_loader::format::Snapshot::parse(&bytes)
                    .map(|s| {
                        s.func_records()
                            .map(|r| (r.func_index, r.code_size))
                            .collect()
                    })
                    .unwrap_or_default();
                let loaded = if self.xip {
                    let image = MmapCodeMemory::map_read_exec(&bytes)
                        .map_err(|e| format!("mapping snapshot: {e}"))?;
                    let file: *const [u8] = image.bytes();
                    // SAFETY: `file` is the read+execute mapping owned by `image`, which the
                    // module keeps (and unmaps only when dropped); nothing writes to it.
                    unsafe { LoadedModule::load_in_place(&*file, image, Some(self.memory)) }
                } else {
                    LoadedModule::load_expecting(&bytes, MmapCodeMemory::new(), self.memory)
                }
                .map_err(|e| format!("loading snapshot: {e}"))?;
                // SAFETY: the trap context is boxed and dropped after `loaded` (field order).
                unsafe { loaded.register_traps(ctx) }
                    .map_err(|e| format!("loading snapshot: {e}"))?;
                self.loaded.push(loaded);
                self.code_sizes.push(sizes);
                self._modules.push(module.clone());
                self.by_module.insert(key, self.loaded.len() - 1);
                self.loaded.len() - 1
            }
        };
        let loaded = &self.loaded[slot];
        let meta = &module.meta;
        for d in 0..meta.num_defined_funcs() {
            let index = meta.num_imported_funcs + d;
            let native = loaded.native(index);
            let array = if native.is_null() {
                std::ptr::null()
            } else {
                loaded.array_entry(meta.funcs[index as usize])
            };
            let fr = inst
                .defined_func_ref(d)
                .ok_or("defined function count mismatch")?;
            // SAFETY: `fr` is a live FuncRef of `inst`; none of its code runs yet.
            unsafe {
                (*fr).native = native;
                (*fr).array = array;
                if exceptions && !native.is_null() {
                    (*fr).reserved |= runtime_loader::abi::FUNC_REF_FLAG_EXN;
                }
            }
            if let Some(&len) = self.code_sizes[slot].get(&index)
                && !native.is_null()
            {
                self.code_ranges.push(crate::jit::frames::register(
                    native,
                    len as usize,
                    index,
                    fr,
                ));
            }
            #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
            if self.memory == MemoryMode::Guard && !native.is_null() {
                let sites: Vec<(u32, runtime_loader::TrapCode, u32)> = loaded
                    .traps
                    .iter()
                    .filter(|r| r.func_index == index)
                    .map(|r| (r.offset, r.code, 0))
                    .collect();
                if let Some(len) = sites.iter().map(|s| s.0 as usize + 1).max() {
                    // SAFETY: the sites are the snapshot's guard-page accesses of this
                    // function (validated at load: inside its code); the code stays mapped
                    // while `self.loaded` lives, which drops after this registration
                    // (field order); the trap context outlives both; `fr` is the live
                    // FuncRef of an instance the store drops before this state.
                    let reg = unsafe {
                        runtime_loader::guard::register_located(
                            native,
                            len,
                            sites,
                            fr,
                            &mut *self.trap_ctx,
                        )
                    };
                    self.located_sites.push(reg);
                }
            }
        }
        Ok(())
    }
}
