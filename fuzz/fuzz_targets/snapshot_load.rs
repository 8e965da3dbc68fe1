//! Arbitrary bytes to every snapshot loader path, with the checksum re-sealed first (through
//! `runtime_loader::format::file_checksum`, the format's own function) so that mutated inputs
//! get past the checksum and reach the header, section, metadata and entry-table (and
//! in-place region) checks:
//!
//! * the Rust loader's copying path (`LoadedModule::load`) into a plain buffer,
//! * its execute-in-place path (`LoadedModule::load_in_place`, verification only),
//! * the C API's in-place path (`bf_load`'s sequence: `Snapshot::parse_without_records`,
//!   `check_header`, `MetaView::parse`, `check_entries`, then the code region copied into an
//!   arena-sized region as the default library's copying path does), followed by the
//!   metadata reads that `bf_instantiate` makes.
//!
//! Nothing loaded is executed: the code bytes are the fuzzer's. Any input must give `Ok` or a
//! `LoadError`, never a panic, a hang or an unbounded allocation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use runtime_loader::LoadError;
use runtime_loader::code::BufferCodeMemory;
use runtime_loader::format::{self, MemoryMode, Snapshot};
use runtime_loader::loader::{self, LoadedModule};
use runtime_loader::meta_view::MetaView;

/// The code region the C API path copies into (an embedder's arena would be this size).
const REGION: usize = 256 << 10;

fn reseal(data: &[u8]) -> Vec<u8> {
    let mut file = data.to_vec();
    if let Some(sum) = format::file_checksum(&file) {
        let sum = sum.to_le_bytes();
        let field = &mut file[format::CHECKSUM_RANGE];
        let n = field.len().min(sum.len());
        field[..n].copy_from_slice(&sum[..n]);
    }
    file
}

/// `bf_load` + the metadata reads of `bf_instantiate`, on runtime-loader's public pieces.
fn capi_path(file: &[u8], region: &mut [u8]) -> Result<(), LoadError> {
    let snap = Snapshot::parse_without_records(file)?;
    loader::check_header(&snap, Some(MemoryMode::Checked))?;
    let meta = MetaView::parse(snap.meta_bytes())?;
    let nimp = meta.num_imported_funcs();
    let entries = loader::check_entries(
        &snap,
        (nimp..meta.num_funcs()).map(|f| meta.func_type_index(f)),
        meta.num_types() as usize,
        |t| meta.type_arity(t),
    )?;
    // Both paths: the in-place region (checked by the container parse); the copying one
    // copies it into the embedder's region and keeps copies of the metadata and entries.
    let skip = (region.as_ptr() as usize).wrapping_neg() & (entries.code_align as usize - 1);
    let region = region.get_mut(skip..).ok_or(LoadError::CodeMemory)?;
    entries.copy_region(snap.object_bytes(), region)?;
    let copy = snap.meta_bytes().to_vec();
    let ecopy = entries.raw().to_vec();
    let (Some(_), Some(_)) = (meta.rebased(&copy), entries.rebased(&ecopy)) else {
        return Err(LoadError::BadMeta);
    };
    // What instantiation reads from the view (validated by `MetaView::parse`).
    for t in 0..meta.num_types() {
        let ty = meta.type_at(t);
        let _ = ty.param_types().count() + ty.result_types().count();
    }
    for i in 0..meta.num_imports() {
        let _ = meta.import(i);
    }
    for f in 0..meta.num_funcs() {
        let _ = meta.func_type(f);
    }
    for i in 0..meta.num_memories() {
        let _ = meta.memory(i);
    }
    for i in 0..meta.num_tables() {
        let _ = meta.table(i);
    }
    for i in 0..meta.num_globals() {
        let _ = meta.global_type(i);
    }
    for d in 0..meta.num_defined_globals() {
        let _ = meta.global_init(d).decode();
    }
    for i in 0..meta.num_exports() {
        let _ = meta.export(i);
    }
    for i in 0..meta.num_elems() {
        let e = meta.elem(i);
        let _ = e.mode();
    }
    for j in 0..meta.num_elem_items() {
        let _ = meta.elem_item(j).decode();
    }
    for i in 0..meta.num_datas() {
        let _ = meta.data(i).mode();
    }
    let _ = meta.start();
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let file = reseal(data);
    let mut buf = vec![0u8; REGION];
    let _ = LoadedModule::load(&file, BufferCodeMemory::new(&mut buf, None));
    let mut keep = [0u8; 0];
    // SAFETY: verification only: nothing of the module is executed, and `file` outlives it.
    let _ =
        unsafe { LoadedModule::load_in_place(&file, BufferCodeMemory::new(&mut keep, None), None) };
    let _ = capi_path(&file, &mut buf);
});
