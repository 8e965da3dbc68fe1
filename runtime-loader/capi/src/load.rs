//! `bf_load`: signature check, container and metadata validation, then the code run in
//! place or copied into the embedder's code region; the signature settings.

use super::*;

/// Verifies `snap` (`snap_len` bytes) and loads its code into `code` (`code_len` bytes,
/// memory the CPU can execute; it is written once, then only executed). With `code` null the
/// snapshot must be execute-in-place (`bareflow compile --xip`) and its code runs from the
/// snapshot bytes, unpatched: they must then be executable (read-only is fine) and stay
/// alive and unchanged for the runtime's life.
///
/// # Safety
/// `rt` from `bf_init`; `snap` readable for `snap_len` bytes; `code` null (see above) or
/// writable and executable for `code_len` bytes, alive as long as the runtime and
/// overlapping neither `snap` nor the arena.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bf_load(
    rt: *mut Runtime,
    snap: *const u8,
    snap_len: usize,
    code: *mut u8,
    code_len: usize,
) -> bf_status {
    if snap.is_null() {
        return BF_ERR_ARG;
    }
    // SAFETY: per the contract; with `code` null the bytes outlive the runtime, otherwise
    // nothing borrowed from them is kept past this call (see `load`).
    let file: &'static [u8] = unsafe { core::slice::from_raw_parts(snap, snap_len) };
    // SAFETY: `rt` per the contract.
    unsafe {
        guarded(rt, &mut |r| {
            if r.module.is_some() {
                return BF_ERR_STATE;
            }
            // Signed snapshots: checked on the raw bytes before anything is parsed or mapped.
            // Required (`bf_require_signature`) without a key: nothing can verify, refuse.
            let checked = match &r.public_key {
                Some(key) => verify_signature(file, key),
                None if r.require_signature => Err(LoadError::Unsigned),
                None => Ok(()),
            };
            // A refused signature or snapshot: one message, set in one place.
            let (why, status): (&[u8], bf_status) = match checked {
                Err(_) if r.public_key.is_none() => {
                    (b"signatures required, no public key set", BF_ERR_SIGNATURE)
                }
                Err(e) => (e.message().as_bytes(), BF_ERR_SIGNATURE),
                Ok(()) => match load(r, file, code, code_len) {
                    Ok(()) => return BF_OK,
                    Err(Fail::Load(e)) => (e.message().as_bytes(), BF_ERR_LOAD),
                    Err(Fail::Status(s)) => return s,
                },
            };
            set_msg(&mut r.message, &[b"snapshot rejected: ", why]);
            status
        })
    }
}

/// Why `load` failed: a rejected snapshot or an API status (message already set).
pub(crate) enum Fail {
    Load(LoadError),
    Status(bf_status),
}

impl From<LoadError> for Fail {
    fn from(e: LoadError) -> Fail {
        Fail::Load(e)
    }
}

pub(crate) fn load(
    r: &mut Runtime,
    file: &'static [u8],
    code: *mut u8,
    code_len: usize,
) -> Result<(), Fail> {
    // The container, with the in-place code region checked against the ELF section
    // headers (`EntryTable::check_in_place`): both paths run exactly that region.
    let snap = Snapshot::parse_without_records(file)?;
    check_header(&snap, Some(MemoryMode::Checked))?;
    super::bounds::loaded(r, snap.flags);
    let meta = MetaView::parse(snap.meta_bytes())?;
    let nimp = meta.num_imported_funcs();
    let ntypes = meta.num_types() as usize;
    let entries = snap.entries().ok_or(LoadError::MissingSection)?;
    check_entry_table(
        &entries,
        (nimp..meta.num_funcs()).map(|f| meta.func_type_index(f)),
        ntypes,
        |t| meta.type_arity(t),
    )?;
    if code.is_null() {
        // Execute in place: the entry table says where the code lies in the object; no ELF
        // parsing, nothing copied.
        // Present: the container parse checked the in-place region.
        let off = entries.code_offset.unwrap_or_default();
        let base = snap.object_bytes().as_ptr().wrapping_add(off as usize);
        if !(base as usize).is_multiple_of(entries.code_align as usize) {
            return Err(LoadError::CodeMemory.into());
        }
        r.module = Some(Module {
            meta,
            entries,
            base,
        });
        return Ok(());
    }
    copy_in(r, &snap, &meta, entries, code, code_len)
}

/// The copying path: copies the in-place code region into the embedder's memory (snapshot
/// code has no relocations) and keeps a copy of the metadata and the entry table in the
/// arena (the snapshot bytes may go away).
#[cfg(feature = "relocate")]
pub(crate) fn copy_in(
    r: &mut Runtime,
    snap: &Snapshot<'static>,
    meta: &MetaView<'static>,
    entries: EntryTable<'static>,
    code: *mut u8,
    code_len: usize,
) -> Result<(), Fail> {
    // SAFETY: per `bf_load`'s contract the region is the embedder's and lives as long as
    // the runtime.
    let region = unsafe { core::slice::from_raw_parts_mut(code, code_len) };
    // The region's base, aligned as the code needs (`code_align` is a power of two).
    let skip = (code as usize).wrapping_neg() & (entries.code_align as usize - 1);
    let region = region.get_mut(skip..).ok_or(LoadError::CodeMemory)?;
    let base = region.as_ptr();
    entries.copy_region(snap.object_bytes(), region)?;
    let (m, e) = (snap.meta_bytes(), entries.raw());
    let p = arena_zeroed(r, m.len() + e.len(), 1).map_err(Fail::Status)?;
    // SAFETY: `p` is a fresh arena block of `m.len() + e.len()` bytes that lives (unchanged)
    // as long as the runtime.
    let (m, e) = unsafe {
        ptr::copy_nonoverlapping(m.as_ptr(), p, m.len());
        ptr::copy_nonoverlapping(e.as_ptr(), p.add(m.len()), e.len());
        (
            core::slice::from_raw_parts(p, m.len()),
            core::slice::from_raw_parts(p.add(m.len()), e.len()),
        )
    };
    // Exact copies of validated bytes: the views are moved onto them, not checked again.
    let (Some(meta), Some(entries)) = (meta.rebased(m), entries.rebased(e)) else {
        return Err(LoadError::BadMeta.into());
    };
    r.module = Some(Module {
        meta,
        entries,
        base,
    });
    Ok(())
}

/// Built without the copying loader: execute-in-place only.
#[cfg(not(feature = "relocate"))]
pub(crate) fn copy_in(
    r: &mut Runtime,
    _: &Snapshot<'static>,
    _: &MetaView<'static>,
    _: EntryTable<'static>,
    _: *mut u8,
    _: usize,
) -> Result<(), Fail> {
    set_msg(
        &mut r.message,
        &[b"this build runs execute-in-place snapshots only (pass code = NULL)"],
    );
    Err(Fail::Status(BF_ERR_ARG))
}

/// Verifies `file`'s Ed25519 signature under `key` (`runtime_loader::sign::verify`).
#[cfg(feature = "sign")]
pub(crate) fn verify_signature(file: &[u8], key: &[u8; 32]) -> Result<(), LoadError> {
    runtime_loader::sign::verify(file, key)
}

/// Without the `sign` feature no key can be set; refuse anyway (fail closed).
#[cfg(not(feature = "sign"))]
pub(crate) fn verify_signature(_: &[u8], _: &[u8; 32]) -> Result<(), LoadError> {
    Err(LoadError::BadSignature)
}

/// Whether `key` can be used to verify snapshots (else why not).
#[cfg(feature = "sign")]
pub(crate) fn check_key(key: &[u8; 32]) -> Result<(), &'static str> {
    runtime_loader::sign::check_public_key(key).map_err(LoadError::message)
}

/// Whether `key` can be used to verify snapshots: not without the `sign` feature.
#[cfg(not(feature = "sign"))]
pub(crate) fn check_key(_: &[u8; 32]) -> Result<(), &'static str> {
    Err("signature verification not built in (feature sign)")
}

/// With `on` non-zero, `bf_load` refuses (`BF_ERR_SIGNATURE`) every snapshot that does not
/// carry an Ed25519 signature verifying under the key of `bf_set_public_key`, and every
/// snapshot at all while no key is set: a firmware that must never run unsigned code cannot
/// then forget the key. (With a key set, unsigned snapshots are refused either way.) `on` = 0
/// clears the requirement. Call it after `bf_init`, before `bf_load`.
///
/// Returns `BF_ERR_SIGNATURE` if the library was built without the `sign` feature: the
/// requirement is set anyway (fail closed: no snapshot can load).
///
/// # Safety
/// `rt` from `bf_init`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bf_require_signature(rt: *mut Runtime, on: i32) -> bf_status {
    // SAFETY: `rt` per the contract.
    unsafe {
        guarded(rt, &mut |r| {
            if r.module.is_some() {
                return BF_ERR_STATE;
            }
            r.require_signature = on != 0;
            if on != 0 && !cfg!(feature = "sign") {
                set_msg(
                    &mut r.message,
                    &[b"signature verification not built in (feature sign)"],
                );
                return BF_ERR_SIGNATURE;
            }
            BF_OK
        })
    }
}

/// Requires every snapshot later given to `bf_load` to carry an Ed25519 signature that
/// verifies under `key` (32 bytes, `bareflow keygen`'s PREFIX.pub decoded from hex); the check
/// runs on the raw bytes before anything of the snapshot is parsed or mapped, and a failure
/// returns `BF_ERR_SIGNATURE`. Call it after `bf_init`, before `bf_load`.
///
/// Returns `BF_ERR_SIGNATURE` if `key` is not a valid Ed25519 public key, or if the library
/// was built without the `sign` feature (then no snapshot could be checked).
///
/// # Safety
/// `rt` from `bf_init`; `key` readable for 32 bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bf_set_public_key(rt: *mut Runtime, key: *const u8) -> bf_status {
    if key.is_null() {
        return BF_ERR_ARG;
    }
    // SAFETY: per the contract `key` points at 32 readable bytes.
    let key: [u8; 32] = unsafe { key.cast::<[u8; 32]>().read_unaligned() };
    // SAFETY: `rt` per the contract.
    unsafe {
        guarded(rt, &mut |r| {
            if r.module.is_some() {
                return BF_ERR_STATE;
            }
            match check_key(&key) {
                Ok(()) => {
                    r.public_key = Some(key);
                    BF_OK
                }
                Err(why) => {
                    set_msg(&mut r.message, &[why.as_bytes()]);
                    BF_ERR_SIGNATURE
                }
            }
        })
    }
}
