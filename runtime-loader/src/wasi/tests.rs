//! Unit tests: the table, path resolution, and calls against a memory buffer.

use std::boxed::Box;
use std::path::PathBuf;
use std::vec;
use std::vec::Vec;

use super::errno;
use super::fs::resolve;
use super::*;
use crate::abi::MemoryDef;

/// A fresh empty directory under the system temp dir.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(std::format!(
        "bareflow-wasi-unit-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d.canonicalize().unwrap()
}

#[test]
fn table_is_indexed_and_unique() {
    for (i, f) in FUNCS.iter().enumerate() {
        assert_eq!(f.index, i, "{}", f.name);
        assert_eq!(lookup(f.name).map(|g| g.index), Some(i));
        assert!(f.slots() >= 1);
    }
    assert!(lookup("fd_write").is_some());
    assert!(lookup("no_such_fn").is_none());
}

#[test]
fn resolve_refuses_escapes() {
    let root = scratch("resolve");
    let sub = root.join("sub");
    std::fs::create_dir(&sub).unwrap();
    std::os::unix::fs::symlink("../..", sub.join("up2")).unwrap();
    std::os::unix::fs::symlink("/etc", root.join("abs")).unwrap();
    std::os::unix::fs::symlink("sub", root.join("rel")).unwrap();
    std::os::unix::fs::symlink("loop", root.join("loop")).unwrap();
    let r = |p: &str, follow| resolve(&root, p.as_bytes(), follow);
    assert_eq!(r("/etc/passwd", true), Err(errno::NOTCAPABLE));
    assert_eq!(r("../secret", true), Err(errno::NOTCAPABLE));
    assert_eq!(r("sub/../../secret", true), Err(errno::NOTCAPABLE));
    assert_eq!(r("sub/up2/x", true), Err(errno::NOTCAPABLE));
    assert_eq!(r("sub/up2", true), Err(errno::NOTCAPABLE));
    assert_eq!(r("abs/passwd", true), Err(errno::NOTCAPABLE));
    assert_eq!(r("abs", true), Err(errno::NOTCAPABLE));
    assert_eq!(r("loop", true), Err(errno::LOOP));
    assert_eq!(r("a\0b", true), Err(errno::INVAL));
    assert_eq!(r("", true), Err(errno::NOENT));
    // Allowed: stays inside.
    assert_eq!(r("sub/../x", true), Ok(root.join("x")));
    assert_eq!(r("./rel/y", true), Ok(root.join("sub/y")));
    assert_eq!(r("rel", true), Ok(root.join("sub")));
    // Not following the last component keeps the link itself.
    assert_eq!(r("abs", false), Ok(root.join("abs")));
    assert_eq!(r("sub/up2", false), Ok(root.join("sub/up2")));
    std::fs::remove_dir_all(&root).unwrap();
}

/// A context with a 64 KiB memory bound.
struct Guest {
    ctx: WasiCtx,
    mem: Vec<u8>,
    def: MemoryDef,
}

impl Guest {
    fn new() -> Box<Guest> {
        let mut g = Box::new(Guest {
            ctx: WasiCtx::new(),
            mem: vec![0u8; 65536],
            def: MemoryDef {
                base: core::ptr::null_mut(),
                len: 65536,
            },
        });
        g.def.base = g.mem.as_mut_ptr();
        let def: *mut MemoryDef = &mut g.def;
        // SAFETY: `def` lives in the box as long as the context.
        unsafe { g.ctx.bind_memory(def) };
        g
    }

    fn call(&mut self, name: &str, args: &[u64]) -> (u32, u64) {
        let f = lookup(name).unwrap();
        let mut v = vec![0u64; f.slots()];
        v[..args.len()].copy_from_slice(args);
        // SAFETY: the memory is live and only touched through `def` during the call.
        let status = unsafe { self.ctx.invoke(f.index, &mut v) };
        (status, v[0])
    }

    fn put(&mut self, at: usize, b: &[u8]) {
        self.mem[at..at + b.len()].copy_from_slice(b);
    }

    fn u32_at(&self, at: usize) -> u32 {
        u32::from_le_bytes(self.mem[at..at + 4].try_into().unwrap())
    }
}

#[test]
fn args_and_env() {
    let mut g = Guest::new();
    g.ctx.push_arg("prog").unwrap();
    g.ctx.push_arg("héllo").unwrap();
    g.ctx.push_env("A=1").unwrap();
    assert!(g.ctx.push_env("novalue").is_err());
    assert!(g.ctx.push_env("=x").is_err());
    assert_eq!(g.call("args_sizes_get", &[0, 4]), (0, 0));
    assert_eq!((g.u32_at(0), g.u32_at(4)), (2, 5 + 7));
    assert_eq!(g.call("args_get", &[100, 200]), (0, 0));
    assert_eq!(g.u32_at(100), 200);
    assert_eq!(g.u32_at(104), 205);
    assert_eq!(&g.mem[200..212], b"prog\0h\xc3\xa9llo\0");
    assert_eq!(g.call("environ_sizes_get", &[0, 4]), (0, 0));
    assert_eq!((g.u32_at(0), g.u32_at(4)), (1, 4));
    // Out-of-bounds pointers are FAULT, not a crash.
    assert_eq!(
        g.call("args_get", &[65534, 200]).1,
        u64::from(errno::FAULT.0)
    );
    assert_eq!(
        g.call("args_get", &[100, 65530]).1,
        u64::from(errno::FAULT.0)
    );
    assert_eq!(
        g.call("args_sizes_get", &[u64::from(u32::MAX), 0]).1,
        u64::from(errno::FAULT.0)
    );
}

#[test]
fn files_inside_granted_dir_only() {
    let root = scratch("files");
    let outside = root.join("outside");
    let granted = root.join("granted");
    std::fs::create_dir(&outside).unwrap();
    std::fs::create_dir(&granted).unwrap();
    std::fs::write(outside.join("secret"), b"s3cret").unwrap();
    std::os::unix::fs::symlink("../outside/secret", granted.join("link")).unwrap();
    let mut g = Guest::new();
    g.ctx.preopen_dir(&granted, "/sandbox").unwrap();
    // Preopen is fd 3.
    assert_eq!(g.call("fd_prestat_get", &[3, 0]), (0, 0));
    assert_eq!(g.u32_at(4), 8);
    assert_eq!(g.call("fd_prestat_dir_name", &[3, 16, 8]), (0, 0));
    assert_eq!(&g.mem[16..24], b"/sandbox");
    assert_eq!(
        g.call("fd_prestat_get", &[4, 0]).1,
        u64::from(errno::BADF.0)
    );
    let open = |g: &mut Guest, path: &str, oflags: u64, rights: u64| {
        g.put(1000, path.as_bytes());
        g.call(
            "path_open",
            &[
                3,
                1,
                1000,
                path.len() as u64,
                oflags,
                rights,
                rights,
                0,
                2000,
            ],
        )
    };
    let notcap = u64::from(errno::NOTCAPABLE.0);
    assert_eq!(open(&mut g, "../outside/secret", 0, 2).1, notcap);
    assert_eq!(open(&mut g, "/etc/passwd", 0, 2).1, notcap);
    assert_eq!(open(&mut g, "link", 0, 2).1, notcap);
    assert_eq!(open(&mut g, "../escape.txt", 1, 64).1, notcap);
    assert!(!root.join("escape.txt").exists());
    // Create, write, reopen, read.
    assert_eq!(open(&mut g, "new.txt", 1 | 8, 64), (0, 0));
    let fd = u64::from(g.u32_at(2000));
    g.put(3000, b"hello");
    g.put(3100, &3000u32.to_le_bytes());
    g.put(3104, &5u32.to_le_bytes());
    assert_eq!(g.call("fd_write", &[fd, 3100, 1, 3200]), (0, 0));
    assert_eq!(g.u32_at(3200), 5);
    assert_eq!(g.call("fd_close", &[fd]), (0, 0));
    assert_eq!(g.call("fd_close", &[fd]).1, u64::from(errno::BADF.0));
    assert_eq!(std::fs::read(granted.join("new.txt")).unwrap(), b"hello");
    assert_eq!(open(&mut g, "new.txt", 0, 2 | 4), (0, 0));
    let fd = u64::from(g.u32_at(2000));
    g.put(3104, &100u32.to_le_bytes());
    assert_eq!(g.call("fd_read", &[fd, 3100, 1, 3200]), (0, 0));
    assert_eq!(g.u32_at(3200), 5);
    assert_eq!(&g.mem[3000..3005], b"hello");
    // Seek back and tell.
    assert_eq!(g.call("fd_seek", &[fd, 1, 0, 3300]), (0, 0));
    assert_eq!(g.call("fd_tell", &[fd, 3308]), (0, 0));
    assert_eq!(g.u32_at(3308), 1);
    // An iovec pointing outside memory.
    g.put(3100, &65530u32.to_le_bytes());
    assert_eq!(
        g.call("fd_read", &[fd, 3100, 1, 3200]).1,
        u64::from(errno::FAULT.0)
    );
    // Readdir lists ., .., link, new.txt.
    assert_eq!(g.call("fd_readdir", &[3, 4000, 1024, 0, 3400]), (0, 0));
    let used = g.u32_at(3400) as usize;
    let mut names = Vec::new();
    let mut at = 4000;
    while at + 24 <= 4000 + used {
        let n = g.u32_at(at + 16) as usize;
        names.push(std::string::String::from_utf8(g.mem[at + 24..at + 24 + n].to_vec()).unwrap());
        at += 24 + n;
    }
    assert_eq!(names, [".", "..", "link", "new.txt"]);
    // Not provided → NOSYS; proc_exit → Exit trap with the status kept.
    assert_eq!(
        g.call("path_symlink", &[0, 0, 3, 0, 0]).1,
        u64::from(errno::NOSYS.0)
    );
    assert_eq!(g.call("proc_exit", &[7]).0, TrapCode::Exit as u32);
    assert_eq!(g.ctx.exit_status(), Some(7));
    assert_eq!(std::fs::read(outside.join("secret")).unwrap(), b"s3cret");
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn array_entry_uses_host_data() {
    let mut g = Guest::new();
    g.ctx.push_arg("x").unwrap();
    let f = lookup("args_sizes_get").unwrap();
    let fr = crate::abi::FuncRef {
        native: core::ptr::null(),
        array: f.entry as *const u8,
        vmctx: core::ptr::null_mut(),
        type_id: 0,
        func_index: 0,
        kind: crate::abi::func_kind::HOST,
        reserved: 0,
        host_data: (&mut g.ctx as *mut WasiCtx).cast(),
    };
    let mut v = [0u64, 4];
    // SAFETY: `fr.host_data` is a live context; `v` has the two slots the function needs.
    let status = unsafe { (f.entry)(core::ptr::null_mut(), &fr, v.as_mut_ptr()) };
    assert_eq!((status, v[0]), (0, 0));
    assert_eq!((g.u32_at(0), g.u32_at(4)), (1, 2));
}
