//! Unit tests: the table, path resolution, and calls against a memory buffer.

use std::boxed::Box;
use std::path::PathBuf;
use std::vec;
use std::vec::Vec;

use super::errno;
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
        assert_eq!(f.index(), i, "{}", f.name());
        assert_eq!(lookup(f.name()).map(|g| g.index()), Some(i));
        assert!(f.params().len() <= 9 && f.results().len() <= 1);
        assert!(f.slots() >= 1);
    }
    let w = lookup("fd_write").unwrap();
    assert_eq!(w.name(), "fd_write");
    assert_eq!(*w.params(), [ValType::I32; 4]);
    assert_eq!(*w.results(), [ValType::I32]);
    let o = lookup("path_open").unwrap();
    use ValType::{I32, I64};
    assert_eq!(*o.params(), [I32, I32, I32, I32, I32, I64, I64, I32, I32]);
    let c = lookup("clock_time_get").unwrap();
    assert_eq!(*c.params(), [I32, I64, I32]);
    // Names are ranges of one string: the first and the last entry.
    assert_eq!(FUNCS[0].name(), "args_get");
    assert_eq!(FUNCS[FUNCS.len() - 1].name(), "sock_shutdown");
    assert!(lookup("proc_exit").unwrap().results().is_empty());
    assert!(lookup("no_such_fn").is_none());
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
        let status = unsafe { self.ctx.invoke(f.index(), &mut v) };
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
    assert_eq!(g.call("args_get", &[65534, 200]).1, errno::FAULT.0);
    assert_eq!(g.call("args_get", &[100, 65530]).1, errno::FAULT.0);
    assert_eq!(
        g.call("args_sizes_get", &[u64::from(u32::MAX), 0]).1,
        errno::FAULT.0
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
    assert_eq!(g.call("fd_prestat_get", &[4, 0]).1, errno::BADF.0);
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
    let notcap = errno::NOTCAPABLE.0;
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
    assert_eq!(g.call("fd_close", &[fd]).1, errno::BADF.0);
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
    assert_eq!(g.call("fd_read", &[fd, 3100, 1, 3200]).1, errno::FAULT.0);
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
    assert_eq!(g.call("path_symlink", &[0, 0, 3, 0, 0]).1, errno::NOSYS.0);
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
        array: f.entry() as *const u8,
        vmctx: core::ptr::null_mut(),
        type_id: 0,
        func_index: f.index() as u32,
        kind: crate::abi::func_kind::HOST,
        reserved: 0,
        host_data: (&mut g.ctx as *mut WasiCtx).cast(),
    };
    let mut v = [0u64, 4];
    // SAFETY: `fr.host_data` is a live context; `v` has the two slots the function needs.
    let status = unsafe { (f.entry())(core::ptr::null_mut(), &fr, v.as_mut_ptr()) };
    assert_eq!((status, v[0]), (0, 0));
    assert_eq!((g.u32_at(0), g.u32_at(4)), (1, 2));
    // The one entry dispatches on `func_index`: past the table is a host error, not a call.
    let bad = crate::abi::FuncRef {
        func_index: FUNCS.len() as u32,
        ..fr
    };
    // SAFETY: as above.
    let status = unsafe { (f.entry())(core::ptr::null_mut(), &bad, v.as_mut_ptr()) };
    assert_eq!(status, TrapCode::HostError as u32);
}

#[test]
fn readdir_sort_orders_by_name() {
    let mut v: Vec<(Vec<u8>, u64, u8)> = Vec::new();
    // A fixed pseudo-random permutation of 200 distinct names.
    let mut x = 7u32;
    for _ in 0..200 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        v.push((std::format!("n{:08x}", x).into_bytes(), u64::from(x), 0));
    }
    let mut want = v.clone();
    want.sort();
    super::funcs::sort_by_name(&mut v);
    assert_eq!(v, want);
    super::funcs::sort_by_name(&mut []);
}

// ---------------------------------------------------------------- issue #14: sandbox escapes

const E_NOTCAPABLE: u64 = errno::NOTCAPABLE.0;
const E_NOENT: u64 = errno::NOENT.0;
const E_LOOP: u64 = errno::LOOP.0;
/// Rights for a directory descriptor: everything but `fd_read`/`fd_write`.
const DIR_RIGHTS: u64 = ((1 << 30) - 1) & !(1 << 1) & !(1 << 6);
const R_READ: u64 = 1 << 1;
const R_WRITE: u64 = 1 << 6;
const O_CREAT: u64 = 1;
const O_DIRECTORY: u64 = 2;

impl Guest {
    /// Puts `s` at `at`, returns `(at, len)` as call arguments.
    fn s(&mut self, at: usize, s: &str) -> [u64; 2] {
        self.put(at, s.as_bytes());
        [at as u64, s.len() as u64]
    }

    /// `path_open(dirfd, lookup, path, oflags, rights)`: `(errno, new fd)`.
    fn open(
        &mut self,
        dirfd: u64,
        lookup: u64,
        path: &str,
        oflags: u64,
        rights: u64,
    ) -> (u64, u64) {
        let [p, l] = self.s(1000, path);
        let (st, e) = self.call(
            "path_open",
            &[dirfd, lookup, p, l, oflags, rights, rights, 0, 2000],
        );
        assert_eq!(st, 0);
        (
            e,
            if e == 0 {
                u64::from(self.u32_at(2000))
            } else {
                u64::MAX
            },
        )
    }

    /// A call taking `(fd, path, path_len)` only: errno.
    fn path1(&mut self, name: &str, fd: u64, path: &str) -> u64 {
        let [p, l] = self.s(1000, path);
        self.call(name, &[fd, p, l]).1
    }

    fn rename(&mut self, fd1: u64, from: &str, fd2: u64, to: &str) -> u64 {
        let [p1, l1] = self.s(1000, from);
        let [p2, l2] = self.s(1500, to);
        self.call("path_rename", &[fd1, p1, l1, fd2, p2, l2]).1
    }

    /// Reads up to 100 bytes of `fd` (`None` on an errno).
    fn read_all(&mut self, fd: u64) -> Option<Vec<u8>> {
        self.put(3100, &3000u32.to_le_bytes());
        self.put(3104, &100u32.to_le_bytes());
        let (_, e) = self.call("fd_read", &[fd, 3100, 1, 3200]);
        (e == 0).then(|| self.mem[3000..3000 + self.u32_at(3200) as usize].to_vec())
    }

    /// `path_filestat_get`: `(errno, inode)`.
    fn stat(&mut self, fd: u64, lookup: u64, path: &str) -> (u64, u64) {
        let [p, l] = self.s(1000, path);
        let (_, e) = self.call("path_filestat_get", &[fd, lookup, p, l, 5000]);
        (
            e,
            u64::from_le_bytes(self.mem[5008..5016].try_into().unwrap()),
        )
    }

    /// The names `fd_readdir` lists for `fd`.
    fn list(&mut self, fd: u64) -> Vec<std::string::String> {
        let (_, e) = self.call("fd_readdir", &[fd, 8000, 8192, 0, 3400]);
        assert_eq!(e, 0, "fd_readdir");
        let used = self.u32_at(3400) as usize;
        let mut names = Vec::new();
        let mut at = 8000;
        while at + 24 <= 8000 + used {
            let n = self.u32_at(at + 16) as usize;
            names.push(
                std::string::String::from_utf8_lossy(&self.mem[at + 24..at + 24 + n]).into_owned(),
            );
            at += 24 + n;
        }
        names
    }
}

fn ino(p: &std::path::Path) -> u64 {
    std::os::unix::fs::MetadataExt::ino(&std::fs::symlink_metadata(p).unwrap())
}

/// Files outside the sandbox that no guest call may read, change or remove.
struct Outside {
    dir: PathBuf,
}

impl Outside {
    fn new(dir: PathBuf) -> Outside {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("victim"), b"SECRET").unwrap();
        std::fs::write(dir.join("doomed"), b"keep me").unwrap();
        std::fs::create_dir(dir.join("keepdir")).unwrap();
        Outside { dir }
    }

    /// Nothing was created, removed or changed.
    fn check(&self, what: &str) {
        let mut names: Vec<_> = std::fs::read_dir(&self.dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            ["doomed", "keepdir", "victim"],
            "{what}: outside changed"
        );
        assert_eq!(
            std::fs::read(self.dir.join("victim")).unwrap(),
            b"SECRET",
            "{what}"
        );
        assert_eq!(
            std::fs::read(self.dir.join("doomed")).unwrap(),
            b"keep me",
            "{what}"
        );
    }
}

/// Every operation through the directory descriptor `fd` whose directory was renamed to
/// `real` (and whose old name now is a symlink to `out.dir`): each must act on `real` or
/// fail, never on `out.dir`.
fn through_stale_fd(g: &mut Guest, fd: u64, real: &std::path::Path, out: &Outside, what: &str) {
    // Read: the inner file, never the outside one.
    let (e, f) = g.open(fd, 0, "victim", 0, R_READ);
    assert_eq!(e, 0, "{what}: open victim");
    assert_eq!(
        g.read_all(f).as_deref(),
        Some(&b"inner"[..]),
        "{what}: read"
    );
    // Create a file, a directory; stat; rename; unlink; rmdir.
    let (e, _) = g.open(fd, 0, "created", O_CREAT, R_WRITE);
    assert_eq!(e, 0, "{what}: create");
    assert!(
        real.join("created").exists(),
        "{what}: created in the real dir"
    );
    assert_eq!(g.path1("path_create_directory", fd, "newdir"), 0, "{what}");
    assert!(
        real.join("newdir").is_dir(),
        "{what}: mkdir in the real dir"
    );
    assert_eq!(
        g.stat(fd, 0, "doomed").0,
        E_NOENT,
        "{what}: stat outside file"
    );
    assert_eq!(
        g.path1("path_unlink_file", fd, "doomed"),
        E_NOENT,
        "{what}: unlink"
    );
    assert_eq!(
        g.path1("path_remove_directory", fd, "keepdir"),
        E_NOENT,
        "{what}"
    );
    assert_eq!(g.rename(fd, "victim", fd, "renamed"), 0, "{what}: rename");
    assert!(
        real.join("renamed").exists(),
        "{what}: renamed in the real dir"
    );
    // The descriptor itself: its listing and its inode are the real directory's.
    let mut names = g.list(fd);
    names.sort();
    assert_eq!(
        names,
        [".", "..", "created", "newdir", "renamed"],
        "{what}: readdir"
    );
    let (_, e) = g.call("fd_filestat_get", &[fd, 6000]);
    assert_eq!(e, 0);
    let got_ino = u64::from_le_bytes(g.mem[6008..6016].try_into().unwrap());
    assert_eq!(got_ino, ino(real), "{what}: fd_filestat_get");
    out.check(what);
}

/// The race of issue #14: a guest opens `sub/` as a directory descriptor, renames `sub`
/// away, renames a symlink pointing outside to `sub`, then works through the old descriptor.
#[test]
fn rename_race_stays_in_the_moved_dir() {
    for (name, absolute) in [("race-abs", true), ("race-rel", false)] {
        let root = scratch(name);
        let granted = root.join("granted");
        let out = Outside::new(root.join("outside"));
        std::fs::create_dir_all(granted.join("sub")).unwrap();
        std::fs::write(granted.join("sub/victim"), b"inner").unwrap();
        let target = if absolute {
            out.dir.clone()
        } else {
            PathBuf::from("../outside")
        };
        std::os::unix::fs::symlink(&target, granted.join("evil")).unwrap();
        let mut g = Guest::new();
        g.ctx.preopen_dir(&granted, ".").unwrap();
        let (e, fd) = g.open(3, 0, "sub", O_DIRECTORY, DIR_RIGHTS);
        assert_eq!(e, 0, "open sub");
        assert_eq!(g.rename(3, "sub", 3, "moved"), 0);
        assert_eq!(g.rename(3, "evil", 3, "sub"), 0);
        through_stale_fd(&mut g, fd, &granted.join("moved"), &out, name);
        // The new `sub` (the symlink) is refused through the preopen.
        assert_eq!(
            g.open(3, 1, "sub/victim", 0, R_READ).0,
            E_NOTCAPABLE,
            "{name}"
        );
        out.check(name);
        std::fs::remove_dir_all(&root).unwrap();
    }
}

/// The same with a parent of the descriptor's directory renamed and replaced.
#[test]
fn rename_race_of_a_parent() {
    let root = scratch("race-parent");
    let granted = root.join("granted");
    let out = Outside::new(root.join("outside/b"));
    std::fs::create_dir_all(granted.join("a/b")).unwrap();
    std::fs::write(granted.join("a/b/victim"), b"inner").unwrap();
    std::os::unix::fs::symlink(root.join("outside"), granted.join("evil")).unwrap();
    let mut g = Guest::new();
    g.ctx.preopen_dir(&granted, ".").unwrap();
    let (e, fd) = g.open(3, 0, "a/b", O_DIRECTORY, DIR_RIGHTS);
    assert_eq!(e, 0);
    assert_eq!(g.rename(3, "a", 3, "a2"), 0);
    assert_eq!(g.rename(3, "evil", 3, "a"), 0);
    through_stale_fd(&mut g, fd, &granted.join("a2/b"), &out, "parent");
    std::fs::remove_dir_all(&root).unwrap();
}

/// The host swaps a directory for a symlink to outside between two guest calls: the open
/// descriptor keeps the real directory, new lookups through the link are refused.
#[test]
fn symlink_swapped_between_calls() {
    let root = scratch("swap");
    let granted = root.join("granted");
    let out = Outside::new(root.join("outside"));
    std::fs::create_dir_all(granted.join("d")).unwrap();
    std::fs::write(granted.join("d/victim"), b"inner").unwrap();
    let mut g = Guest::new();
    g.ctx.preopen_dir(&granted, ".").unwrap();
    let (e, fd) = g.open(3, 0, "d", O_DIRECTORY, DIR_RIGHTS);
    assert_eq!(e, 0);
    assert_eq!(g.stat(3, 1, "d/victim").0, 0);
    std::fs::rename(granted.join("d"), granted.join("d_real")).unwrap();
    std::os::unix::fs::symlink(&out.dir, granted.join("d")).unwrap();
    for follow in [0, 1] {
        assert_eq!(g.stat(3, follow, "d/victim").0, E_NOTCAPABLE);
        assert_eq!(g.open(3, follow, "d/victim", 0, R_READ).0, E_NOTCAPABLE);
        assert_eq!(g.path1("path_unlink_file", 3, "d/doomed"), E_NOTCAPABLE);
        assert_eq!(g.path1("path_create_directory", 3, "d/x"), E_NOTCAPABLE);
    }
    assert_eq!(g.open(3, 1, "d", O_DIRECTORY, DIR_RIGHTS).0, E_NOTCAPABLE);
    // Not following: the link itself is not a directory (Linux: O_DIRECTORY|O_NOFOLLOW on a
    // symlink is ENOTDIR), and without O_DIRECTORY it is ELOOP.
    assert_eq!(
        g.open(3, 0, "d", O_DIRECTORY, DIR_RIGHTS).0,
        errno::NOTDIR.0
    );
    assert_eq!(g.open(3, 0, "d", 0, R_READ).0, E_LOOP);
    through_stale_fd(&mut g, fd, &granted.join("d_real"), &out, "swap");
    std::fs::remove_dir_all(&root).unwrap();
}

/// Absolute symlinks and `..` chains, through the preopen and through an opened subdirectory
/// (every directory descriptor is its own root).
#[test]
fn absolute_links_and_dotdot_chains() {
    let root = scratch("dotdot");
    let granted = root.join("granted");
    let out = Outside::new(root.join("outside"));
    std::fs::create_dir_all(granted.join("a/b/c")).unwrap();
    std::fs::write(granted.join("a/f"), b"af").unwrap();
    std::os::unix::fs::symlink(out.dir.join("victim"), granted.join("abs_file")).unwrap();
    std::os::unix::fs::symlink(&out.dir, granted.join("abs_dir")).unwrap();
    std::os::unix::fs::symlink(granted.join("a"), granted.join("abs_inside")).unwrap();
    std::os::unix::fs::symlink("../../../outside", granted.join("a/b/up3")).unwrap();
    std::os::unix::fs::symlink("../f", granted.join("a/b/upf")).unwrap();
    std::os::unix::fs::symlink("loop2", granted.join("loop1")).unwrap();
    std::os::unix::fs::symlink("loop1", granted.join("loop2")).unwrap();
    let mut g = Guest::new();
    g.ctx.preopen_dir(&granted, ".").unwrap();
    for path in [
        "/etc/passwd",
        "..",
        "../outside/victim",
        "a/../../outside/victim",
        "a/b/c/../../../../outside/victim",
        "a/b/../b/c/../../../../outside/victim",
        "./a/./../.././outside/victim",
        "abs_file",
        "abs_dir/victim",
        "abs_inside/f",
        "a/b/up3/victim",
    ] {
        assert_eq!(g.open(3, 1, path, 0, R_READ).0, E_NOTCAPABLE, "open {path}");
        assert_eq!(g.stat(3, 1, path).0, E_NOTCAPABLE, "stat {path}");
    }
    for path in [
        "../doomed",
        "a/../../outside/doomed",
        "abs_dir/doomed",
        "a/b/up3/doomed",
    ] {
        assert_eq!(
            g.path1("path_unlink_file", 3, path),
            E_NOTCAPABLE,
            "unlink {path}"
        );
        assert_eq!(
            g.rename(3, path, 3, "stolen"),
            E_NOTCAPABLE,
            "rename {path}"
        );
        assert_eq!(
            g.open(3, 1, path, O_CREAT, R_WRITE).0,
            E_NOTCAPABLE,
            "create {path}"
        );
    }
    assert_eq!(g.rename(3, "a/f", 3, "abs_dir/planted"), E_NOTCAPABLE);
    assert_eq!(
        g.path1("path_create_directory", 3, "a/b/up3/new"),
        E_NOTCAPABLE
    );
    assert_eq!(g.open(3, 1, "loop1", 0, R_READ).0, E_LOOP);
    assert_eq!(g.open(3, 1, "a\0b", 0, R_READ).0, errno::INVAL.0);
    assert_eq!(g.open(3, 1, "", 0, R_READ).0, E_NOENT);
    // Inside is fine, links included.
    assert_eq!(g.open(3, 1, "a/b/c/../../f", 0, R_READ).0, 0);
    assert_eq!(g.open(3, 1, "a/b/upf", 0, R_READ).0, 0);
    // Not following the last component: the link itself.
    assert_eq!(g.open(3, 0, "abs_file", 0, R_READ).0, E_LOOP);
    assert_eq!(
        g.stat(3, 0, "abs_file"),
        (0, ino(&granted.join("abs_file")))
    );
    // A subdirectory descriptor cannot climb to its parent.
    let (e, b) = g.open(3, 0, "a/b", O_DIRECTORY, DIR_RIGHTS);
    assert_eq!(e, 0);
    assert_eq!(g.open(b, 1, "../f", 0, R_READ).0, E_NOTCAPABLE);
    assert_eq!(g.open(b, 1, "upf", 0, R_READ).0, E_NOTCAPABLE);
    assert_eq!(g.open(b, 1, "c/../../f", 0, R_READ).0, E_NOTCAPABLE);
    assert_eq!(g.open(b, 1, "c/..", O_DIRECTORY, DIR_RIGHTS).0, 0);
    out.check("dotdot");
    std::fs::remove_dir_all(&root).unwrap();
}

/// One read/write call moves at most `MAX_RW` bytes: the iovec list is cut there, so the `u32`
/// count cannot overflow.
#[test]
fn iovecs_are_capped_per_call() {
    use super::fs::MAX_RW;
    use super::funcs::capped;
    // The loop of fd_read / fd_write / fd_pread / fd_pwrite over the lengths.
    let cut_of = |iov: &[(u32, u32)]| {
        let mut left = MAX_RW as u32;
        let mut out = Vec::new();
        for &(p, l) in iov {
            if left == 0 {
                break;
            }
            out.push((p, capped(&mut left, l)));
        }
        out
    };
    let sixteen = 16u32 << 20;
    let many = vec![(4096u32, sixteen); 131_072];
    let cut = cut_of(&many);
    let total: u64 = cut.iter().map(|&(_, l)| u64::from(l)).sum();
    assert_eq!(total, MAX_RW as u64);
    assert_eq!(cut.len(), MAX_RW.div_ceil(sixteen as usize));
    assert!(cut.iter().all(|&(p, _)| p == 4096));
    let small = [(0, 3), (8, 0), (16, 5)];
    assert_eq!(cut_of(&small), small);
    let edge = [(0, u32::MAX), (0, 0), (0, 1)];
    assert_eq!(cut_of(&edge), [(0, MAX_RW as u32)]);
}

/// `errno::from_raw` (a table since 2026-12-07) against the mapping written out as a `match`.
#[test]
fn linux_errno_mapping() {
    let want = |e: i32| match e {
        1 => errno::PERM,
        2 => errno::NOENT,
        5 => errno::IO,
        9 => errno::BADF,
        11 => errno::AGAIN,
        12 => errno::NOMEM,
        13 => errno::ACCES,
        17 => errno::EXIST,
        18 => errno::XDEV,
        20 => errno::NOTDIR,
        21 => errno::ISDIR,
        22 => errno::INVAL,
        24 => errno::MFILE,
        27 => errno::FBIG,
        28 => errno::NOSPC,
        29 => errno::SPIPE,
        30 => errno::ROFS,
        31 => errno::MLINK,
        32 => errno::PIPE,
        36 => errno::NAMETOOLONG,
        38 => errno::NOSYS,
        39 => errno::NOTEMPTY,
        40 => errno::LOOP,
        95 => errno::NOTSUP,
        _ => errno::IO,
    };
    for e in (-200..200).chain([i32::MIN, i32::MAX, 4095]) {
        assert_eq!(errno::from_raw(e), want(e), "linux errno {e}");
    }
}
