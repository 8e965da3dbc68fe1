//! Code ranges of compiled functions (JIT and loaded snapshots), for the wasm backtrace of
//! compiled code: the raise path records the return addresses of the frame-pointer chain
//! (`runtime_loader::trap::record_frames`), and [`backtrace`] maps them to functions here.

use std::collections::BTreeMap;
use std::sync::RwLock;

use runtime_loader::abi::FuncRef;
use runtime_loader::trap::{TrapContext, TrapFrames};

struct Range {
    start: usize,
    end: usize,
    func_index: u32,
    /// The function's `FuncRef` (0 = unknown), for its name.
    func: usize,
}

/// The next id, and the registered ranges by id (a store drops thousands at once: removal
/// by key, not by a scan).
static RANGES: RwLock<(u64, BTreeMap<u64, Range>)> = RwLock::new((1, BTreeMap::new()));

/// Keeps a code range registered; dropping it unregisters it.
#[derive(Debug)]
pub(crate) struct CodeRange {
    id: u64,
}

impl Drop for CodeRange {
    fn drop(&mut self) {
        let mut r = RANGES.write().unwrap_or_else(|e| e.into_inner());
        r.1.remove(&self.id);
    }
}

/// Registers `start..start + len` as the code of function `func_index` (`func`: its
/// `FuncRef`, or null). The caller keeps the [`CodeRange`] no longer than the code is mapped.
pub(crate) fn register(
    start: *const u8,
    len: usize,
    func_index: u32,
    func: *const FuncRef,
) -> CodeRange {
    let mut r = RANGES.write().unwrap_or_else(|e| e.into_inner());
    let id = r.0;
    r.0 += 1;
    r.1.insert(
        id,
        Range {
            start: start as usize,
            end: (start as usize).saturating_add(len),
            func_index,
            func: func as usize,
        },
    );
    CodeRange { id }
}

/// The function whose code holds the call whose return address is `pc`.
fn func_at(pc: usize) -> Option<(u32, *const FuncRef)> {
    // The call instruction ends at `pc`: look one byte back, inside it.
    let at = pc.checked_sub(1)?;
    let r = RANGES.read().unwrap_or_else(|e| e.into_inner());
    r.1.values()
        .find(|x| x.start <= at && at < x.end)
        .map(|x| (x.func_index, x.func as *const FuncRef))
}

/// Installs the frame walk on `ctx`, writing into `frames` (which must outlive its use:
/// the store owns both).
pub(crate) fn install(ctx: &mut TrapContext, frames: &mut TrapFrames) {
    ctx.walk = Some(runtime_loader::trap::record_frames);
    ctx.frames = frames;
}

/// The compiled functions of the chain the last trap recorded in `ctx` (and forgets it),
/// innermost first: return addresses outside registered code before the first function are
/// skipped (the raise call of an import stub), the first one after it ends the chain (the
/// entry trampoline, a host frame).
pub(crate) fn backtrace(ctx: &mut TrapContext) -> Vec<(u32, *const FuncRef)> {
    let frames = ctx.frames;
    if frames.is_null() {
        return Vec::new();
    }
    // SAFETY: `frames` is the store's live buffer (`install`); no wasm runs now.
    let pcs = unsafe {
        let pcs = (*frames).pcs().to_vec();
        (*frames).len = 0;
        pcs
    };
    let mut out = Vec::new();
    for pc in pcs {
        match func_at(pc) {
            Some(f) => out.push(f),
            None if out.is_empty() => continue,
            None => break,
        }
    }
    out
}

/// Forgets the frames of the last trap (call before entering wasm).
pub(crate) fn clear(ctx: &mut TrapContext) {
    if !ctx.frames.is_null() {
        // SAFETY: the store's live buffer; no wasm runs now.
        unsafe { (*ctx.frames).len = 0 };
    }
}
