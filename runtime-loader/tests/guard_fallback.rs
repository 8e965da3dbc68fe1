//! Multi-memory in guard mode (docs/ABI.md "Multi-memory"): a memory other than 0 whose
//! guard reservation cannot be made falls back to a checked memory (compiled code checks
//! accesses to it explicitly anyway); memory 0, whose accesses rely on the reservation,
//! never does. The address space is limited with `RLIMIT_AS` so that exactly one guard
//! reservation (8 GiB + 64 KiB) fits; this is the only test of its binary, so the limit
//! disturbs no other test.
#![cfg(all(feature = "std", target_os = "linux", target_arch = "x86_64"))]

use core::ptr;

use runtime_loader::instance::{GUARD_MEMORY_SUPPORTED, Imports, Instance, InstanceError};
use runtime_loader::meta::{FuncType, Limits, MemoryType, ModuleMeta};

#[repr(C)]
struct RLimit {
    cur: u64,
    max: u64,
}

unsafe extern "C" {
    fn getrlimit(resource: i32, rlim: *mut RLimit) -> i32;
    fn setrlimit(resource: i32, rlim: *const RLimit) -> i32;
}

const RLIMIT_AS: i32 = 9;

/// The process's current address-space size in bytes (`VmSize`).
fn vm_size() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmSize:")).unwrap();
    let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb * 1024
}

fn meta(memories: usize) -> ModuleMeta {
    let ty = MemoryType {
        limits: Limits {
            min: 1,
            max: Some(2),
        },
        index64: false,
    };
    ModuleMeta {
        types: vec![FuncType::default()],
        memories: vec![ty; memories],
        ..ModuleMeta::default()
    }
}

/// Instantiates `meta` in guard mode with the address space limited to `extra` bytes more
/// than the process uses now; the limit is lifted again before returning.
fn instantiate_limited(
    meta: &ModuleMeta,
    extra: u64,
) -> Result<std::pin::Pin<Box<Instance>>, InstanceError> {
    let mut old = RLimit { cur: 0, max: 0 };
    // SAFETY: plain system calls on a local struct.
    assert_eq!(unsafe { getrlimit(RLIMIT_AS, &mut old) }, 0);
    let limited = RLimit {
        cur: vm_size() + extra,
        max: old.max,
    };
    // SAFETY: as above; the soft limit goes back below the unchanged hard limit.
    assert_eq!(unsafe { setrlimit(RLIMIT_AS, &limited) }, 0);
    let ids = (0..meta.types.len() as u32).collect();
    // SAFETY: no imports.
    let r = unsafe { Instance::new_in_mode(meta, ids, Imports::default(), ptr::null_mut(), true) };
    // SAFETY: as above.
    assert_eq!(unsafe { setrlimit(RLIMIT_AS, &old) }, 0);
    r
}

#[test]
fn memories_past_0_fall_back_to_checked_without_a_guard_reservation() {
    const {
        assert!(
            GUARD_MEMORY_SUPPORTED,
            "a std Linux x86-64 build has guard memories"
        )
    };
    const GIB: u64 = 1 << 30;
    // Room for one reservation (8 GiB + 64 KiB) and the checked memories, not two.
    let inst = instantiate_limited(&meta(3), 8 * GIB + GIB / 2).expect("instantiates");
    let is_guard = |i: u32| {
        // SAFETY: the instance's memories are live.
        unsafe { (*inst.memory(i).expect("memory")).is_guard() }
    };
    assert!(is_guard(0), "memory 0 keeps its guard reservation");
    assert!(
        !is_guard(1) && !is_guard(2),
        "memories 1 and 2 fell back to checked"
    );
    // The fallback memories work: growth up to the maximum, then -1.
    assert_eq!(inst.memory_grow(1, 1), 1);
    assert_eq!(inst.memory_grow(1, 1), u32::MAX);
    drop(inst);
    // Without room for any reservation memory 0 does not fall back: instantiation fails.
    assert!(matches!(
        instantiate_limited(&meta(1), GIB / 2),
        Err(InstanceError::OutOfMemory)
    ));
    // With room the usual way: every memory is a guard memory.
    let inst = instantiate_limited(&meta(2), 32 * GIB).expect("instantiates");
    // SAFETY: as above.
    assert!(unsafe { (*inst.memory(1).unwrap()).is_guard() });
}
