//! Snapshot → running instance: verify, map code, instantiate, call.
//!
//! [`LoadedModule::load`] validates the container ([`Snapshot::parse`], which checks the
//! in-place code region too), validates the module metadata ([`MetaView::parse`], read in
//! place from then on: nothing is decoded), checks the entry table against it
//! and, in `std` builds, against the ELF object; only then does it copy the code region
//! into memory from a [`CodeMemory`] ([`load_copied`]; snapshot code has no relocations
//! since format version 9) and make it executable, or run it in place
//! ([`LoadedModule::load_in_place`]). Entry points come from the entry table
//! (the native entry `bf_f<i>` of every defined function, the array entry `bf_a<t>` of every
//! signature: `docs/SNAPSHOT.md`). Code refers to nothing outside its region: the trap
//! trampoline and the libcalls are reached through `vmctx`, float rounding and `pshufb`
//! helpers of baseline code are compiled into the snapshot.
//!
//! [`LoadedModule::instantiate`] builds an [`Instance`] whose `FuncRef`s point at the loaded
//! code; calls go through [`call`], which uses the function's array entry (that entry enters
//! through the trap trampoline itself, so a trap comes back as a status).

use alloc::boxed::Box;
use alloc::format;
use alloc::vec::Vec;
use core::ffi::c_void;
use core::pin::Pin;

use crate::abi::{ArrayFn, TrapCode, libcall};
use crate::code::{CodeMemory, load_copied};
use crate::error::LoadError;
use crate::format::{EntryTable, MemoryMode, Snapshot, TrapRecord};
use crate::instance::{Imports, Instance, InstanceError};
use crate::meta_view::{MetaLayout, MetaView};
use crate::trap::{self, TrapContext};

/// Symbol of defined function `index`'s native entry.
pub fn func_symbol(index: u32) -> alloc::string::String {
    format!("bf_f{index}")
}

/// Symbol of type `index`'s array entry (an [`ArrayFn`] that enters through `bf_enter`).
pub fn array_symbol(type_index: u32) -> alloc::string::String {
    format!("bf_a{type_index}")
}

/// Symbol of the native→array stub for imported functions of type `type_index`: the native
/// entry a host `FuncRef` bound to such an import needs (it calls `FuncRef::array` and
/// raises a non-zero status through the `vmctx` libcalls).
pub fn import_stub_symbol(type_index: u32) -> alloc::string::String {
    format!("bf_s{type_index}")
}

/// A snapshot whose code is loaded (copied or in place) and executable.
pub struct LoadedModule<M: CodeMemory> {
    /// A copy of the validated metadata section ([`LoadedModule::meta`] reads it in place).
    meta_bytes: Box<[u8]>,
    meta_layout: MetaLayout,
    num_imported_funcs: u32,
    /// Trap records (function, offset, code): diagnostics, and in guard mode the
    /// instructions whose faults the signal handler turns into traps.
    pub traps: Vec<TrapRecord>,
    /// The memory mode the code was compiled for.
    pub memory_mode: MemoryMode,
    natives: Vec<*const u8>,
    arrays: Vec<*const u8>,
    import_stubs: Vec<*const u8>,
    base: *const u8,
    code_len: usize,
    /// Guard mode: the trap sites registered with the signal handler, per trap context.
    #[cfg(all(feature = "std", target_os = "linux", target_arch = "x86_64"))]
    registrations: core::cell::RefCell<Vec<(usize, crate::guard::Registration)>>,
    // Keeps the code mapped; dropped last.
    _mem: M,
}

impl<M: CodeMemory> core::fmt::Debug for LoadedModule<M> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("LoadedModule")
            .field("base", &self.base)
            .field("funcs", &self.natives.len())
            .finish_non_exhaustive()
    }
}

impl<M: CodeMemory> LoadedModule<M> {
    /// Verifies `file` and loads its code into `mem`.
    ///
    /// # Errors
    /// Any [`LoadError`]; nothing has been executed when this fails.
    ///
    /// Either memory mode is accepted when this build can provide it: a guard-mode snapshot
    /// needs guard-page memories and the fault handler (`std` on Linux x86-64), else it is
    /// [`LoadError::UnsupportedMemoryMode`].
    pub fn load(file: &[u8], mem: M) -> Result<Self, LoadError> {
        Self::load_impl(file, mem, None, false)
    }

    /// [`LoadedModule::load`], refusing a snapshot compiled for another memory mode than
    /// `mode` with [`LoadError::MemoryModeMismatch`].
    ///
    /// # Errors
    /// As for [`LoadedModule::load`].
    pub fn load_expecting(file: &[u8], mem: M, mode: MemoryMode) -> Result<Self, LoadError> {
        Self::load_impl(file, mem, Some(mode), false)
    }

    /// Verifies an execute-in-place snapshot (`bareflow compile --xip`: no relocations) and
    /// runs its code where it lies, inside `file`; nothing is copied or patched. `keep` is
    /// kept alive with the module (e.g. the mapping that holds `file`); it is not asked for
    /// memory. `expect`, if given, is the memory mode the snapshot must have been compiled
    /// for ([`LoadError::MemoryModeMismatch`] otherwise).
    ///
    /// # Errors
    /// Any [`LoadError`]; [`LoadError::UnsupportedElf`] if the object needs relocating,
    /// [`LoadError::CodeMemory`] if the code in `file` is not aligned as it requires.
    ///
    /// # Safety
    /// `file` must be executable memory that stays alive and unchanged as long as the module
    /// and every instance made from it.
    pub unsafe fn load_in_place(
        file: &[u8],
        keep: M,
        expect: Option<MemoryMode>,
    ) -> Result<Self, LoadError> {
        Self::load_impl(file, keep, expect, true)
    }

    // ---- signed snapshots (feature `sign`) ----

    /// [`LoadedModule::load`] for a loader configured with an Ed25519 public key: the
    /// signature is checked on the raw bytes first ([`crate::sign::verify`]), before anything
    /// is parsed or a byte of code memory is asked for.
    ///
    /// # Errors
    /// [`LoadError::Unsigned`], [`LoadError::BadSignature`], [`LoadError::BadPublicKey`], then
    /// any error of [`LoadedModule::load`].
    #[cfg(feature = "sign")]
    pub fn load_signed(file: &[u8], mem: M, public_key: &[u8; 32]) -> Result<Self, LoadError> {
        crate::sign::verify(file, public_key)?;
        Self::load_impl(file, mem, None, false)
    }

    /// [`LoadedModule::load_in_place`] after [`crate::sign::verify`] (see
    /// [`LoadedModule::load_signed`]).
    ///
    /// # Errors
    /// As [`LoadedModule::load_signed`] and [`LoadedModule::load_in_place`].
    ///
    /// # Safety
    /// As for [`LoadedModule::load_in_place`]; `file` must not change after it is verified.
    #[cfg(feature = "sign")]
    pub unsafe fn load_signed_in_place(
        file: &[u8],
        keep: M,
        expect: Option<MemoryMode>,
        public_key: &[u8; 32],
    ) -> Result<Self, LoadError> {
        crate::sign::verify(file, public_key)?;
        Self::load_impl(file, keep, expect, true)
    }

    // ---- end signed snapshots ----

    fn load_impl(
        file: &[u8],
        mut mem: M,
        expect: Option<MemoryMode>,
        in_place: bool,
    ) -> Result<Self, LoadError> {
        let snap = Snapshot::parse(file)?;
        check_header(&snap, expect)?;
        let meta = MetaView::parse(snap.meta_bytes())?;
        // A `v128.const` initializer's 16 bytes must lie in the pool (`MetaView::parse` leaves
        // that check to whoever reads them: the C library has no `v128`).
        for d in 0..meta.num_defined_globals() {
            meta.decode_expr(meta.global_init(d))?;
        }
        let nimp = meta.num_imported_funcs();
        let entries = check_entries(
            &snap,
            (nimp..meta.num_funcs()).map(|f| meta.func_type_index(f)),
            meta.num_types() as usize,
            |t| meta.type_arity(t),
        )?;
        check_traps(&snap, nimp, &entries)?;
        #[cfg(feature = "std")]
        check_object(&snap, &entries)?;
        let code_len = entries.code_len as usize;
        let base = if in_place {
            let off = entries.code_offset.ok_or(LoadError::UnsupportedElf)?;
            let p = snap.object_bytes().as_ptr().wrapping_add(off as usize);
            if !(p as usize).is_multiple_of(entries.code_align as usize) {
                return Err(LoadError::CodeMemory);
            }
            p
        } else {
            load_copied(snap.object_bytes(), &entries, &mut mem)?
        };
        let at = |o: Option<u32>| o.map_or(core::ptr::null(), |o| base.wrapping_add(o as usize));
        let ntypes = meta.num_types();
        let natives: Vec<*const u8> = (0..meta.num_defined_funcs())
            .map(|d| at(entries.native(d)))
            .collect();
        let traps: Vec<TrapRecord> = snap.trap_records().collect();
        Ok(LoadedModule {
            traps,
            memory_mode: snap.memory_mode,
            natives,
            arrays: (0..ntypes).map(|t| at(entries.array(t))).collect(),
            import_stubs: (0..ntypes).map(|t| at(entries.import_stub(t))).collect(),
            meta_bytes: snap.meta_bytes().into(),
            meta_layout: meta.layout(),
            num_imported_funcs: nimp,
            base,
            code_len,
            #[cfg(all(feature = "std", target_os = "linux", target_arch = "x86_64"))]
            registrations: core::cell::RefCell::new(Vec::new()),
            _mem: mem,
        })
    }

    /// Guard mode: registers this module's trap sites with the fault handler, raising into
    /// `trap_ctx` (once per trap context; the registration lives as long as `self`). Does
    /// nothing in checked mode. [`LoadedModule::instantiate`] calls it; embedders that build
    /// instances themselves call it before running the code.
    ///
    /// # Errors
    /// [`LoadError::UnsupportedMemoryMode`] if guard mode is not available in this build.
    ///
    /// # Safety
    /// `trap_ctx` must outlive `self`. Two trap contexts must not run this module's code at
    /// the same time (a fault is raised into the most recently registered one).
    pub unsafe fn register_traps(&self, trap_ctx: *mut TrapContext) -> Result<(), LoadError> {
        if self.memory_mode == MemoryMode::Checked {
            return Ok(());
        }
        #[cfg(all(feature = "std", target_os = "linux", target_arch = "x86_64"))]
        {
            let mut regs = self.registrations.borrow_mut();
            if regs.iter().any(|(c, _)| *c == trap_ctx as usize) {
                return Ok(());
            }
            let base = self.base as usize;
            let sites = self.traps.iter().map(|r| {
                let f = self.native(r.func_index) as usize;
                ((f - base + r.offset as usize) as u32, r.code)
            });
            // SAFETY: the sites were validated at load (inside the code region, in
            // functions with code); the code stays mapped while `self` (which owns the
            // registration) lives; `trap_ctx` outlives `self` per the caller.
            let reg = unsafe { crate::guard::register(self.base, self.code_len, sites, trap_ctx) };
            regs.insert(0, (trap_ctx as usize, reg));
            Ok(())
        }
        #[cfg(not(all(feature = "std", target_os = "linux", target_arch = "x86_64")))]
        {
            let _ = (trap_ctx, self.code_len);
            Err(LoadError::UnsupportedMemoryMode)
        }
    }

    /// Native entry of function `index` (null if imported, unknown or dropped as unreachable).
    pub fn native(&self, index: u32) -> *const u8 {
        index
            .checked_sub(self.num_imported_funcs)
            .and_then(|d| self.natives.get(d as usize).copied())
            .unwrap_or(core::ptr::null())
    }

    /// Array entry for module type `type_index` (null if the object has none).
    pub fn array_entry(&self, type_index: u32) -> *const u8 {
        self.arrays
            .get(type_index as usize)
            .copied()
            .unwrap_or(core::ptr::null())
    }

    /// Native→array stub for imported functions of module type `type_index` (null if the
    /// snapshot has none).
    pub fn import_stub(&self, type_index: u32) -> *const u8 {
        self.import_stubs
            .get(type_index as usize)
            .copied()
            .unwrap_or(core::ptr::null())
    }

    /// The module's metadata (validated at load, read in place).
    pub fn meta(&self) -> MetaView<'_> {
        // The layout was taken from the view over the bytes `meta_bytes` copies.
        self.meta_layout
            .view(&self.meta_bytes)
            .expect("metadata copy has the validated length")
    }

    /// Start address of the code region.
    pub fn code_base(&self) -> *const u8 {
        self.base
    }

    /// Creates an instance running this module's code: [`Instance::new`], then every
    /// defined `FuncRef` gets its native and array entry, the vmctx gets `trap_ctx` and the
    /// `RAISE_TRAP` libcall. Segments are not applied yet: call
    /// [`Instance::initialize`], then run the start function ([`LoadedModule::meta`]`.start()`).
    ///
    /// # Errors
    /// Any [`InstanceError`].
    ///
    /// # Safety
    /// As for [`Instance::new`]; in addition `trap_ctx` must outlive the instance, and the
    /// instance must not outlive `self` (its FuncRefs point into this module's code).
    pub unsafe fn instantiate(
        &self,
        type_ids: Vec<u32>,
        imports: Imports,
        host_data: *mut c_void,
        trap_ctx: *mut TrapContext,
    ) -> Result<Pin<Box<Instance>>, InstanceError> {
        let guard = self.memory_mode == MemoryMode::Guard;
        // SAFETY: forwarded from the caller's contract (trap_ctx outlives the instance,
        // which does not outlive `self`).
        unsafe { self.register_traps(trap_ctx) }
            .map_err(|_| InstanceError::Unsupported("guard-page memory mode"))?;
        // SAFETY: forwarded from the caller's contract.
        // The metadata bytes passive data segments are read from live in `self`, which
        // the instance does not outlive (the caller's contract).
        let meta = self.meta();
        let inst = unsafe { Instance::new_in_mode(&meta, type_ids, imports, host_data, guard)? };
        // SAFETY: the vmctx and the libcall table are live allocations owned by `inst`; no
        // code has run yet.
        unsafe {
            (*inst.vmctx()).trap_ctx = trap_ctx.cast();
            *inst.libcalls_mut().add(libcall::RAISE_TRAP) = trap::raise_trap_address();
        }
        for d in 0..meta.num_defined_funcs() {
            let index = meta.num_imported_funcs() + d;
            let ty = meta.func_type_index(index);
            let fr = inst
                .defined_func_ref(d)
                .ok_or(InstanceError::Malformed("defined function count"))?;
            // SAFETY: `fr` is a live FuncRef of `inst`; nothing runs yet.
            unsafe {
                (*fr).native = self.native(index);
                (*fr).array = if (*fr).native.is_null() {
                    core::ptr::null()
                } else {
                    self.array_entry(ty)
                };
            }
        }
        Ok(inst)
    }
}

/// Header checks every loader makes before reading anything else: the CPU has every feature
/// the code was compiled to use (`format::cpu`, against `cpuid`), the memory mode is the
/// `expect`ed one and this build can provide it.
///
/// # Errors
/// `LoadError::Missing*` (a CPU feature), [`LoadError::MemoryModeMismatch`],
/// [`LoadError::UnsupportedMemoryMode`].
pub fn check_header(snap: &Snapshot<'_>, expect: Option<MemoryMode>) -> Result<(), LoadError> {
    check_cpu(snap.flags, host_cpu_features())?;
    if expect.is_some_and(|m| m != snap.memory_mode) {
        return Err(LoadError::MemoryModeMismatch);
    }
    if snap.memory_mode == MemoryMode::Guard && !crate::instance::GUARD_MEMORY_SUPPORTED {
        return Err(LoadError::UnsupportedMemoryMode);
    }
    Ok(())
}

/// Checks a snapshot's entry table against its metadata (the module type of every defined
/// function in `def_types`, `ntypes` types whose (parameter count, result count) `arity`
/// gives) and returns the table: its counts match, every type's arity is the one the code was
/// compiled for, and every function with code has its signature's array entry. Both loaders
/// (`LoadedModule`, the C API) call it before any code is mapped (`LoadedModule` also
/// [`check_traps`]).
///
/// # Errors
/// [`LoadError::MissingSection`] without a table, [`LoadError::MissingCode`] if it does not
/// match the metadata, [`LoadError::TypeMismatch`] for an arity that differs.
pub fn check_entries<'a>(
    snap: &Snapshot<'a>,
    def_types: impl Iterator<Item = u32>,
    ntypes: usize,
    arity: impl Fn(u32) -> (usize, usize),
) -> Result<EntryTable<'a>, LoadError> {
    let e = snap.entries().ok_or(LoadError::MissingSection)?;
    check_entry_table(&e, def_types, ntypes, arity)?;
    Ok(e)
}

/// [`check_entries`] of the entry table itself.
///
/// # Errors
/// As [`check_entries`], except `MissingSection`.
pub fn check_entry_table(
    e: &EntryTable<'_>,
    def_types: impl Iterator<Item = u32>,
    ntypes: usize,
    arity: impl Fn(u32) -> (usize, usize),
) -> Result<(), LoadError> {
    if e.types as usize != ntypes {
        return Err(LoadError::MissingCode);
    }
    for t in 0..e.types {
        let (p, r) = arity(t);
        if e.arity(t) != Some((p as u32, r as u32)) {
            return Err(LoadError::TypeMismatch);
        }
    }
    let mut ndef = 0u32;
    for (d, ty) in def_types.enumerate() {
        if e.native(d as u32).is_some() && e.array(ty).is_none() {
            return Err(LoadError::MissingCode);
        }
        ndef += 1;
    }
    if e.defined_funcs != ndef {
        return Err(LoadError::MissingCode);
    }
    Ok(())
}

/// Checks a snapshot's trap records against its entry table (`nimp` imported functions):
/// every trap site lies inside the code of the defined function it names (its offset below
/// the function's length). `LoadedModule` calls it; the C API reads no trap records
/// (`Snapshot::parse_without_records`).
///
/// # Errors
/// [`LoadError::BadRecord`] for a misplaced trap record.
pub fn check_traps(snap: &Snapshot<'_>, nimp: u32, e: &EntryTable<'_>) -> Result<(), LoadError> {
    for r in snap.trap_records() {
        let f = r
            .func_index
            .checked_sub(nimp)
            .and_then(|d| e.native_range(d));
        if f.is_none_or(|(_, len)| r.offset >= len) {
            return Err(LoadError::BadRecord);
        }
    }
    Ok(())
}

/// `std` builds: cross-checks the tables the loaders trust against the ELF object they were
/// derived from (catches compiler and writer bugs; the C API and the no_std `bareflow-load`
/// never parse the object): the entry table's code length, alignment and in-place offset,
/// and that the object has no relocations.
///
/// # Errors
/// Any [`ElfObject::parse`](crate::elf::ElfObject::parse) error, [`LoadError::MissingCode`]
/// if the entry table disagrees, [`LoadError::BadRelocation`] if the object has relocations.
#[cfg(feature = "std")]
fn check_object(snap: &Snapshot<'_>, entries: &EntryTable<'_>) -> Result<(), LoadError> {
    let obj = crate::elf::ElfObject::parse(snap.object_bytes())?;
    if entries.code_len as usize != obj.region_size()?
        || entries.code_align as usize != obj.region_align()
        || entries
            .code_offset
            .is_some_and(|o| obj.in_place_offset().ok() != Some(o as usize))
    {
        return Err(LoadError::MissingCode);
    }
    // Version 9: the object must run in place (no relocations, one loaded section).
    if obj.relocation_count() != 0 {
        return Err(LoadError::BadRelocation);
    }
    Ok(())
}

/// Checks that `host` (a set of `format::cpu` bits) has every CPU feature the header `flags`
/// ask for.
///
/// # Errors
/// The `LoadError::Missing*` variant of the lowest missing feature (its message names it).
pub fn check_cpu(flags: u32, host: u32) -> Result<(), LoadError> {
    let missing = flags & crate::format::cpu::ALL & !host;
    if missing == 0 {
        Ok(())
    } else {
        Err(crate::format::cpu::missing(missing.trailing_zeros()))
    }
}

/// The `format::cpu` features of the host CPU, from `cpuid` (and `xgetbv` for the AVX and
/// AVX-512 register state the OS must save).
// Out of line: inlined into the C library's `bf_load` it costs 54-68 more bytes (spills).
#[inline(never)]
pub fn host_cpu_features() -> u32 {
    use core::arch::x86_64::{__cpuid, __cpuid_count};
    // CPUID exists on every x86-64 CPU and has no side effects; leaves above the maximum
    // are not queried.
    let max = __cpuid(0).eax;
    let l1 = __cpuid(1);
    let (b7, c7, a71) = if max >= 7 {
        let l7 = __cpuid_count(7, 0);
        let a71 = if l7.eax >= 1 {
            __cpuid_count(7, 1).eax
        } else {
            0
        };
        (l7.ebx, l7.ecx, a71)
    } else {
        (0, 0, 0)
    };
    let ext = if __cpuid(0x8000_0000).eax >= 0x8000_0001 {
        __cpuid(0x8000_0001).ecx
    } else {
        0
    };
    let xcr0 = if l1.ecx & (1 << 27) != 0 {
        let (lo, _hi): (u32, u32);
        // SAFETY: OSXSAVE is set, so `xgetbv` with ECX = 0 is defined; it only reads XCR0.
        unsafe {
            core::arch::asm!("xgetbv", in("ecx") 0, out("eax") lo, out("edx") _hi,
                options(nomem, nostack, preserves_flags));
        }
        lo
    } else {
        0
    };
    // Usable only if the OS saves the state: 0 always, 1 the AVX (YMM) state, 2 the AVX-512
    // state too.
    let os = [true, xcr0 & 6 == 6, xcr0 & 0xe6 == 0xe6];
    let words = [l1.ecx, b7, c7, a71, ext];
    let mut f = 0;
    for &[bit, word, n, need] in &CPUID_MAP {
        if words[usize::from(word)] & (1 << n) != 0 && os[usize::from(need)] {
            f |= 1 << bit;
        }
    }
    f
}

/// `format::cpu` bit position ← `cpuid` word (0 leaf 1 ECX, 1 leaf 7 EBX, 2 leaf 7 ECX,
/// 3 leaf 7.1 EAX, 4 leaf 0x80000001 ECX), bit in it, OS state needed (0 none, 1 AVX,
/// 2 AVX-512). One table keeps the check a short loop in the size-budgeted C loader.
const CPUID_MAP: [[u8; 4]; 19] = [
    [8, 0, 0, 0],   // SSE3
    [9, 0, 9, 0],   // SSSE3
    [12, 0, 13, 0], // CMPXCHG16B
    [1, 0, 19, 0],  // SSE4.1
    [10, 0, 20, 0], // SSE4.2
    [11, 0, 23, 0], // POPCNT
    [13, 0, 28, 1], // AVX
    [15, 0, 12, 1], // FMA
    [16, 1, 3, 0],  // BMI1
    [14, 1, 5, 1],  // AVX2
    [17, 1, 8, 0],  // BMI2
    [19, 1, 16, 2], // AVX-512 F
    [21, 1, 17, 2], // AVX-512 DQ
    [20, 1, 31, 2], // AVX-512 VL
    [23, 2, 1, 2],  // AVX-512 VBMI
    [24, 2, 11, 2], // AVX-512 VNNI
    [22, 2, 12, 2], // AVX-512 BITALG
    [25, 3, 4, 1],  // AVX-VNNI
    [18, 4, 5, 0],  // LZCNT
];

/// Calls function `index` of `inst` with `values` (parameters in, results out, one 8-byte
/// slot each, as in the array ABI).
///
/// # Errors
/// The trap that stopped the call; [`TrapCode::HostError`] if the function has no entry
/// (an unreachable function dropped at compile time, or a bad index).
///
/// # Safety
/// `values` must hold `max(params, results)` slots of the function's signature, filled with
/// valid values of the parameter types; the instance's trap context must be live.
pub unsafe fn call(inst: &Instance, index: u32, values: &mut [u64]) -> Result<(), TrapCode> {
    let fr = inst.func(index).ok_or(TrapCode::HostError)?;
    // SAFETY: `fr` is a live FuncRef (owned by `inst` or an import it keeps alive).
    let (array, vmctx) = unsafe { ((*fr).array, (*fr).vmctx) };
    if array.is_null() {
        return Err(TrapCode::HostError);
    }
    // SAFETY: non-null array entries are `ArrayFn`s (the FuncRef invariant) that enter
    // through the trap trampoline themselves; `values` is large enough per the contract.
    let status = unsafe {
        let f: ArrayFn = core::mem::transmute(array);
        f(vmctx, fr, values.as_mut_ptr())
    };
    match TrapCode::from_u32(status) {
        None if status == 0 => Ok(()),
        Some(c) => Err(c),
        None => Err(TrapCode::HostError),
    }
}

#[cfg(all(test, feature = "write"))]
mod tests {
    use super::*;
    use crate::code::BufferCodeMemory;
    use crate::format::{Isa, SnapshotBuilder};
    use crate::meta::ModuleMeta;
    use crate::meta_codec::encode_meta;

    /// A well-formed ELF64 x86-64 relocatable object without code: a null section, the
    /// section-name table, a symbol table holding only the null symbol, and its string table.
    fn empty_object() -> Vec<u8> {
        let names = b"\0.shstrtab\0.symtab\0.strtab\0";
        let mut o = alloc::vec![0u8; 64];
        o[..7].copy_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1]);
        o[16..18].copy_from_slice(&1u16.to_le_bytes()); // ET_REL
        o[18..20].copy_from_slice(&62u16.to_le_bytes()); // EM_X86_64
        o[20..24].copy_from_slice(&1u32.to_le_bytes());
        o[52..54].copy_from_slice(&64u16.to_le_bytes());
        o[58..60].copy_from_slice(&64u16.to_le_bytes());
        o[60..62].copy_from_slice(&4u16.to_le_bytes()); // shnum
        o[62..64].copy_from_slice(&1u16.to_le_bytes()); // shstrndx
        let names_at = o.len();
        o.extend_from_slice(names);
        let sym_at = o.len().next_multiple_of(8);
        o.resize(sym_at + 24, 0);
        let str_at = o.len();
        o.push(0);
        let shoff = o.len().next_multiple_of(8);
        o.resize(shoff, 0);
        o[40..48].copy_from_slice(&(shoff as u64).to_le_bytes());
        // (name, type, offset, size, link, align, entsize)
        let sections = [
            (0u32, 0u32, 0usize, 0usize, 0u32, 0u64, 0u64),
            (1, 3, names_at, names.len(), 0, 1, 0), // .shstrtab
            (11, 2, sym_at, 24, 3, 8, 24),          // .symtab -> .strtab
            (19, 3, str_at, 1, 0, 1, 0),            // .strtab
        ];
        for (name, ty, off, size, link, align, entsize) in sections {
            let mut h = [0u8; 64];
            h[0..4].copy_from_slice(&name.to_le_bytes());
            h[4..8].copy_from_slice(&ty.to_le_bytes());
            h[24..32].copy_from_slice(&(off as u64).to_le_bytes());
            h[32..40].copy_from_slice(&(size as u64).to_le_bytes());
            h[40..44].copy_from_slice(&link.to_le_bytes());
            h[44..48].copy_from_slice(&1u32.to_le_bytes()); // .symtab: first global symbol
            h[48..56].copy_from_slice(&align.to_le_bytes());
            h[56..64].copy_from_slice(&entsize.to_le_bytes());
            o.extend_from_slice(&h);
        }
        o
    }

    fn snapshot(mode: MemoryMode) -> Vec<u8> {
        let mut b = SnapshotBuilder::new(Isa::X86_64, mode);
        b.meta(encode_meta(&ModuleMeta::default()))
            .object(empty_object());
        b.finish()
    }

    fn load(file: &[u8], expect: Option<MemoryMode>) -> Result<MemoryMode, LoadError> {
        let mut buf = [0u8; 64];
        let mem = BufferCodeMemory::new(&mut buf, None);
        match expect {
            Some(mode) => LoadedModule::load_expecting(file, mem, mode),
            None => LoadedModule::load(file, mem),
        }
        .map(|m| m.memory_mode)
    }

    #[test]
    fn entry_symbol_names_round_trip() {
        for i in [0u32, 7, 10, 4_294_967_295] {
            assert_eq!(
                crate::format::entry_symbol(&func_symbol(i)),
                Some((b'f', i))
            );
            assert_eq!(
                crate::format::entry_symbol(&array_symbol(i)),
                Some((b'a', i))
            );
            assert_eq!(
                crate::format::entry_symbol(&import_stub_symbol(i)),
                Some((b's', i))
            );
        }
        for bad in [
            "bf_f",
            "bf_f01",
            "bf_f-1",
            "bf_f4294967296",
            "bf_fx",
            "bf_",
            "xbf_f1",
            "bf_f1 ",
        ] {
            assert_eq!(crate::format::entry_symbol(bad), None, "{bad}");
        }
    }

    /// A `v128.const` global initializer whose 16 bytes are not in the metadata pool is
    /// refused at load (`MetaView::parse` leaves that range to the reader; the loader reads
    /// every initializer once).
    #[test]
    fn v128_initializer_outside_the_pool_is_refused_at_load() {
        use crate::meta::{ConstExpr, GlobalDef, GlobalType, ValType};
        let g = GlobalType {
            ty: ValType::V128,
            mutable: false,
        };
        let m = ModuleMeta {
            global_types: alloc::vec![g],
            globals: alloc::vec![GlobalDef {
                ty: g,
                init: ConstExpr::V128(7),
            }],
            ..ModuleMeta::default()
        };
        let with_meta = |meta: Vec<u8>| {
            let mut b = SnapshotBuilder::new(Isa::X86_64, MemoryMode::Checked);
            b.meta(meta).object(empty_object());
            b.finish()
        };
        let good = encode_meta(&m);
        assert_eq!(
            load(&with_meta(good.clone()), None),
            Ok(MemoryMode::Checked)
        );
        // Header (16 words), one global type (2): the initializer starts at word 18, its
        // payload (the pool offset) at word 19.
        let pos = 18;
        assert_eq!(good[pos * 4..pos * 4 + 4], 7u32.to_le_bytes());
        let mut bad = good;
        bad[(pos + 1) * 4..(pos + 2) * 4].copy_from_slice(&0xFFFF_u32.to_le_bytes());
        assert!(MetaView::parse(&bad).is_ok());
        assert_eq!(load(&with_meta(bad), None), Err(LoadError::BadMeta));
    }

    /// The entry table is required and must agree with the metadata and the object.
    #[test]
    fn entry_table_checked_against_meta_and_object() {
        let with_entries = |e: Option<[u32; 5]>| {
            let mut b = SnapshotBuilder::new(Isa::X86_64, MemoryMode::Checked);
            b.meta(encode_meta(&ModuleMeta::default()))
                .object(empty_object());
            let auto = b.finish();
            if let Some(fields) = e {
                let mut t = Vec::new();
                for v in fields {
                    t.extend_from_slice(&v.to_le_bytes());
                }
                b.entries(t);
            }
            let f = b.finish();
            (auto, f)
        };
        // The writer derives the table: empty module, empty code region, runs in place.
        let (auto, _) = with_entries(None);
        let snap = Snapshot::parse(&auto).unwrap();
        let e = snap.entries().expect("the writer adds an entry table");
        assert_eq!((e.code_len, e.defined_funcs, e.types), (0, 0, 0));
        assert!(e.code_offset.is_some());
        assert_eq!(load(&auto, None), Ok(MemoryMode::Checked));
        // Counts that disagree with the metadata, or a region that disagrees with the object
        // (checked against the ELF object by `std` builds only: without `std` the loader
        // trusts the tables, as the C API does, and builds the region they describe).
        let object_checked = |e| {
            if cfg!(feature = "std") {
                Err(e)
            } else {
                Ok(MemoryMode::Checked)
            }
        };
        for (fields, res) in [
            ([0, 0, 8, 1, 0], Err(LoadError::BadSection)),
            ([u32::MAX, 0, 8, 0, 1], Err(LoadError::BadSection)),
            // Format v9: a region that does not run in place is refused by every loader,
            // before any code memory is asked for; so is one the object has no section for.
            ([u32::MAX, 16, 8, 0, 0], Err(LoadError::UnsupportedElf)),
            ([u32::MAX, 0, 8, 0, 0], Err(LoadError::UnsupportedElf)),
            ([0, 16, 8, 0, 0], Err(LoadError::BadOffset)),
            ([0, 0, 16, 0, 0], object_checked(LoadError::MissingCode)),
            ([0, 0, 8, 0, 0], Ok(MemoryMode::Checked)),
        ] {
            let (_, f) = with_entries(Some(fields));
            assert_eq!(load(&f, None), res, "{fields:?}");
        }
        // In place too.
        let (_, f) = with_entries(Some([0, 0, 8, 0, 0]));
        let mut buf = [0u8; 8];
        // SAFETY: nothing runs (an empty module).
        let r =
            unsafe { LoadedModule::load_in_place(&f, BufferCodeMemory::new(&mut buf, None), None) };
        assert!(r.is_ok());
    }

    #[test]
    fn memory_mode_mismatch_is_refused_before_anything_is_mapped() {
        let checked = snapshot(MemoryMode::Checked);
        let guard = snapshot(MemoryMode::Guard);
        assert_eq!(
            load(&checked, Some(MemoryMode::Checked)),
            Ok(MemoryMode::Checked)
        );
        assert_eq!(load(&checked, None), Ok(MemoryMode::Checked));
        assert_eq!(
            load(&checked, Some(MemoryMode::Guard)),
            Err(LoadError::MemoryModeMismatch)
        );
        assert_eq!(
            load(&guard, Some(MemoryMode::Checked)),
            Err(LoadError::MemoryModeMismatch)
        );
        // Without an expectation a guard snapshot loads where guard memory exists.
        let any = load(&guard, None);
        if crate::instance::GUARD_MEMORY_SUPPORTED {
            assert_eq!(any, Ok(MemoryMode::Guard));
            assert_eq!(load(&guard, Some(MemoryMode::Guard)), Ok(MemoryMode::Guard));
        } else {
            assert_eq!(any, Err(LoadError::UnsupportedMemoryMode));
        }
        // The in-place path checks it too.
        let mut buf = [0u8; 8];
        // SAFETY: the load fails before any code could run.
        let r = unsafe {
            LoadedModule::load_in_place(
                &guard,
                BufferCodeMemory::new(&mut buf, None),
                Some(MemoryMode::Checked),
            )
        };
        assert_eq!(r.err(), Some(LoadError::MemoryModeMismatch));
        assert!(
            LoadError::MemoryModeMismatch
                .message()
                .contains("memory mode")
        );
    }
}

#[cfg(test)]
mod cpu_tests {
    use super::*;
    use crate::format::cpu;

    /// A faked host: every feature the header asks for must be in the host set, the first
    /// missing one is named, and the XIP/signed flag bits are not features.
    #[test]
    fn cpu_check_against_a_faked_host() {
        let v2 = cpu::SSE3 | cpu::SSSE3 | cpu::SSE41 | cpu::SSE42 | cpu::POPCNT;
        let v3 = v2 | cpu::AVX | cpu::AVX2 | cpu::FMA | cpu::BMI1 | cpu::BMI2 | cpu::LZCNT;
        assert_eq!(check_cpu(0, 0), Ok(()));
        assert_eq!(
            check_cpu(crate::format::flags::XIP | crate::format::flags::SIGNED, 0),
            Ok(())
        );
        assert_eq!(check_cpu(v3, v3), Ok(()));
        assert_eq!(check_cpu(v2, v3 | cpu::AVX512F), Ok(()));
        let e = check_cpu(v3, v2).unwrap_err();
        assert_eq!(e, LoadError::MissingAvx);
        assert!(e.message().contains("avx,"), "{}", e.message());
        let e = check_cpu(v3, v3 & !cpu::AVX2).unwrap_err();
        assert!(e.message().contains("avx2"), "{}", e.message());
        let e = check_cpu(cpu::SSE41, 0).unwrap_err();
        assert!(e.message().contains("sse4.1"), "{}", e.message());
        // Every feature has its own message naming it.
        for (bit, name) in cpu::CRANELIFT_FLAGS {
            let msg = check_cpu(bit, !bit).unwrap_err().message();
            let short = name.trim_start_matches("has_").replace('_', "-");
            let short = short.replace("sse41", "sse4.1").replace("sse42", "sse4.2");
            assert!(msg.contains(short.as_str()), "{name}: {msg}");
        }
    }

    /// The host's own features always satisfy a baseline snapshot, and this x86-64 test host
    /// reports at least what its `std` detection says.
    #[cfg(feature = "std")]
    #[test]
    fn host_features_agree_with_std() {
        let h = host_cpu_features();
        assert_eq!(check_cpu(0, h), Ok(()));
        assert_eq!(h & cpu::SSE41 != 0, std::is_x86_feature_detected!("sse4.1"));
        assert_eq!(h & cpu::SSSE3 != 0, std::is_x86_feature_detected!("ssse3"));
        assert_eq!(h & cpu::AVX2 != 0, std::is_x86_feature_detected!("avx2"));
        assert_eq!(h & cpu::BMI2 != 0, std::is_x86_feature_detected!("bmi2"));
        assert_eq!(h & cpu::LZCNT != 0, std::is_x86_feature_detected!("lzcnt"));
        assert_eq!(
            h & cpu::AVX512F != 0,
            std::is_x86_feature_detected!("avx512f")
        );
    }
}
