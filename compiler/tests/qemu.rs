//! Bare metal: builds the QEMU image (`firmware/qemu/build.sh`: `libbareflow.a`, a PVH entry
//! into long mode, an ATA PIO driver and a FAT16 reader) and the FAT16 disk it reads its
//! snapshots from (execute-in-place snapshots of the trio, sha256, a trapping module and one
//! calling a host import, and RUN.TXT saying what to call), and boots it in
//! `qemu-system-x86_64`. The image prints its calls on the serial port and leaves through
//! `isa-debug-exit`; the tests check the exit status, that the image found every result as
//! expected, and replay every `call` line in the interpreter; that other snapshots on the disk
//! change what runs without rebuilding the image; and that corrupt disks (boot sector, FAT,
//! directory entries) are refused with a message and a failure status, within the time limit.
//!
//! Skipped (with a printed reason) when qemu-system-x86_64, a C compiler, mkfs.fat or mcopy is
//! missing and `CI` is unset; under `CI` a missing tool fails.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use bareflow::{Config, Extern, Mode, Module, Store, Val, ValType};

mod common;
use common::{in_ci, replay_call_lines, root};

/// QEMU's exit status when the image writes its success code (0x10) to isa-debug-exit.
const EXIT_SUCCESS: i32 = (0x10 << 1) | 1;
/// ... and its failure code (0x11).
const EXIT_FAILURE: i32 = (0x11 << 1) | 1;
/// How long the image may run before it is killed.
const TIMEOUT: Duration = Duration::from_secs(60);

fn runs(tool: &str) -> bool {
    // mkfs.fat has no --version; its --help exits with 0.
    let arg = if tool == "mkfs.fat" {
        "--help"
    } else {
        "--version"
    };
    // mkdisk.sh adds /usr/sbin (mkfs.fat's home on Debian) to PATH; so does this check.
    let path = std::env::var("PATH").unwrap_or_default() + ":/usr/sbin:/sbin";
    Command::new(tool)
        .env("PATH", path)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Skips (returns false) when `tool` is missing, unless under CI.
fn have(tool: &str) -> bool {
    if runs(tool) {
        return true;
    }
    assert!(!in_ci(), "{tool} not found (CI is set)");
    eprintln!("skipping: {tool} not found");
    false
}

/// The module behind a snapshot file of build.sh's disk (firmware/qemu/run.txt's names).
fn module_path(file: &str) -> PathBuf {
    let root = root();
    match file {
        "TRAP.SNP" => root.join("firmware/qemu/trap.wat"),
        "SERIAL.SNP" => root.join("firmware/qemu/serial.wat"),
        "FIB.SNP" => root.join("wasm-samples/fibonacci.wasm"),
        "SUM.SNP" => root.join("wasm-samples/sum_to_n.wasm"),
        "MUL.SNP" => root.join("wasm-samples/multiply.wasm"),
        "SHA256.SNP" => root.join("wasm-samples/sha256.wasm"),
        _ => panic!("no module for {file}"),
    }
}

/// What the interpreter says about `export(args)` of the module at `path`: result slots or a
/// trap code.
fn interpret(path: &Path, export: &str, args: &[u64]) -> Result<Vec<u64>, u32> {
    let snap = path.display();
    let module = Module::from_file(path).unwrap();
    let mut store = Store::new(Config::new(Mode::Interp));
    // serial.wat's env.write(ptr, len); its output is checked on the serial port instead.
    let write_ty = bareflow::FuncType {
        params: vec![ValType::I32, ValType::I32],
        results: vec![],
    };
    let write = store.host_func(write_ty, Box::new(|_, _| Ok(())));
    let inst = store
        .instantiate(&module, &|m, n| match (m, n) {
            ("env", "write") => Some(Extern::Func(write)),
            _ => None,
        })
        .unwrap();
    let Some(Extern::Func(f)) = store.export(inst, export) else {
        panic!("{snap} has no export {export}");
    };
    let ty = store.func_type(f);
    assert_eq!(ty.params.len(), args.len(), "{snap}.{export}: arity");
    let vals: Vec<Val> = ty
        .params
        .iter()
        .zip(args)
        .map(|(t, a)| match t {
            ValType::I32 => Val::I32(*a as i32),
            ValType::I64 => Val::I64(*a as i64),
            _ => panic!("{snap}.{export}: unexpected parameter type"),
        })
        .collect();
    match store.call(f, &vals) {
        Ok(r) => Ok(r
            .iter()
            .map(|v| match v {
                Val::I32(x) => *x as u32 as u64,
                Val::I64(x) => *x as u64,
                _ => panic!("{snap}.{export}: unexpected result type"),
            })
            .collect()),
        Err(bareflow::CallError::Trap(t)) => Err(t.code as u32),
        Err(e) => panic!("{snap}.{export}: {e}"),
    }
}

/// Boots `image` with `disk` on the primary IDE bus (none: no disk); returns the serial output
/// and QEMU's exit code. Kills QEMU after TIMEOUT.
fn boot(image: &Path, disk: Option<&Path>) -> (String, Option<i32>) {
    let mut cmd = Command::new("qemu-system-x86_64");
    if let Some(disk) = disk {
        let mut drive = std::ffi::OsString::from("file=");
        drive.push(disk);
        drive.push(",format=raw,if=ide");
        cmd.arg("-drive").arg(drive);
    }
    let mut child = cmd
        .args([
            "-nographic",
            "-no-reboot",
            "-cpu",
            "max",
            "-m",
            "64M",
            "-serial",
            "stdio",
            "-monitor",
            "none",
            "-display",
            "none",
            "-device",
            "isa-debug-exit,iobase=0xf4,iosize=0x04",
            "-kernel",
        ])
        .arg(image)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting qemu-system-x86_64");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        stdout.read_to_end(&mut s).map(|_| s)
    });
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().expect("waiting for qemu") {
            break Some(st);
        }
        if start.elapsed() > TIMEOUT {
            // Only the child we started, by its handle.
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = reader.join().unwrap().expect("reading the serial output");
    let mut err = String::new();
    let _ = child.stderr.take().unwrap().read_to_string(&mut err);
    let out = String::from_utf8_lossy(&out).into_owned();
    eprintln!(
        "qemu ran {:.2} s\n{out}{err}",
        start.elapsed().as_secs_f64()
    );
    let Some(status) = status else {
        panic!("qemu did not exit within {TIMEOUT:?}; serial output:\n{out}");
    };
    (out, status.code())
}

/// Builds the image and build.sh's disk once for all tests (`target/firmware-xip-only/qemu`);
/// None (skip) when a tool is missing outside CI.
fn build() -> Option<&'static Path> {
    static OUT: OnceLock<Option<PathBuf>> = OnceLock::new();
    OUT.get_or_init(|| {
        if !have("qemu-system-x86_64") || !have("cc") || !have("mkfs.fat") || !have("mcopy") {
            return None;
        }
        let root = root();
        // build.sh builds the XIP-only library; same target dir as firmware.rs's XIP-only build.
        let target = root.join("target").join("firmware-xip-only");
        let out = target.join("qemu");
        let o = Command::new("sh")
            .arg(root.join("firmware/qemu/build.sh"))
            .arg(&out)
            .arg(env!("CARGO_BIN_EXE_bareflow"))
            .env("CARGO_TARGET_DIR", &target)
            .output()
            .expect("running firmware/qemu/build.sh");
        let build = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success(),
            "build.sh failed:\n{build}\n{}",
            String::from_utf8_lossy(&o.stderr)
        );
        eprintln!("{build}");
        Some(out)
    })
    .as_deref()
}

/// Builds a FAT16 disk image with firmware/qemu/mkdisk.sh: `files` are (source, 8.3 name).
fn mkdisk(img: &Path, files: &[(&Path, &str)]) {
    let mut cmd = Command::new("sh");
    cmd.arg(root().join("firmware/qemu/mkdisk.sh")).arg(img);
    for (src, name) in files {
        let mut spec = src.as_os_str().to_owned();
        spec.push("=");
        spec.push(name);
        cmd.arg(spec);
    }
    let o = cmd.output().expect("running firmware/qemu/mkdisk.sh");
    assert!(
        o.status.success(),
        "mkdisk.sh failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn serial_lines(serial: &str) -> Vec<&str> {
    serial.lines().map(str::trim_end).collect()
}

/// `volume` behind an MBR: one partition of type 0x06 (FAT16) starting at sector `start`.
fn partitioned(volume: &[u8], start: u32) -> Vec<u8> {
    let mut disk = vec![0u8; start as usize * 512];
    let entry = &mut disk[446..462];
    entry[4] = 0x06;
    entry[8..12].copy_from_slice(&start.to_le_bytes());
    entry[12..16].copy_from_slice(&((volume.len() / 512) as u32).to_le_bytes());
    disk[510] = 0x55;
    disk[511] = 0xaa;
    disk.extend_from_slice(volume);
    disk
}

#[test]
fn qemu_image_runs_xip_snapshots_from_a_fat16_disk() {
    let Some(out) = build() else { return };
    let (serial, code) = boot(&out.join("bareflow-qemu.elf"), Some(&out.join("disk.img")));
    let lines = serial_lines(&serial);
    for l in &lines {
        assert!(
            !l.starts_with("FAIL") && !l.starts_with("exception") && !l.starts_with("disk refused"),
            "the image reported: {l}\n{serial}"
        );
    }
    assert_eq!(
        code,
        Some(EXIT_SUCCESS),
        "exit status; serial output:\n{serial}"
    );
    assert_eq!(lines.last(), Some(&"done 0"), "{serial}");

    // The image listed what it found on the disk, in directory order.
    let listed: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("file "))
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    assert_eq!(
        listed,
        [
            "FIB.SNP",
            "SUM.SNP",
            "MUL.SNP",
            "SHA256.SNP",
            "TRAP.SNP",
            "SERIAL.SNP",
            "GUARD.SNP",
            "RUN.TXT"
        ],
        "{serial}"
    );
    // Every call line agrees with the interpreter.
    let calls = replay_call_lines(lines.iter().copied(), |f, e, a| {
        interpret(&module_path(f), e, a)
    });
    assert_eq!(calls, 11, "call lines:\n{serial}");
    // Each trap kind is printed with its message, and all six snapshots ran in place.
    for want in [
        "call FIB.SNP fib 20 -> 6765",
        "call SHA256.SNP run 3 -> 1881288049129779168",
        "call TRAP.SNP boom trap 1 trap: unreachable",
        "call TRAP.SNP div 7 0 trap 7 trap: integer divide by zero",
        "call TRAP.SNP load 65533 trap 2 trap: out of bounds memory access",
        "call TRAP.SNP deep 0 trap 10 trap: call stack exhausted",
        "call TRAP.SNP div 7 2 -> 3",
        "call SERIAL.SNP hello 2 -> 60",
        // A snapshot for the other memory mode is refused with a load status.
        "snapshot GUARD.SNP -> status 4 snapshot rejected",
        "write to snapshot memory at 0x",
    ] {
        assert!(
            lines.iter().any(|l| l.starts_with(want)),
            "missing `{want}` in:\n{serial}"
        );
    }
    // Wasm wrote through the host import, twice.
    let hello = lines
        .iter()
        .filter(|l| **l == "wasm: hello from wasm, on bare metal")
        .count();
    assert_eq!(hello, 2, "{serial}");
    let in_place = lines
        .iter()
        .filter(|l| l.starts_with("snapshot ") && l.ends_with(", in place"))
        .count();
    assert_eq!(in_place, 6, "{serial}");

    // The same volume as the first partition of an MBR disk: the same run.
    let volume = std::fs::read(out.join("disk.img")).unwrap();
    let img = out.join("partitioned.img");
    std::fs::write(&img, partitioned(&volume, 2048)).unwrap();
    let (serial2, code) = boot(&out.join("bareflow-qemu.elf"), Some(&img));
    std::fs::remove_file(&img).unwrap();
    assert_eq!(code, Some(EXIT_SUCCESS), "partitioned:\n{serial2}");
    let lines2 = serial_lines(&serial2);
    assert!(
        lines2
            .iter()
            .any(|l| l.starts_with("disk 10240 sectors, FAT16 volume at sector 2048: ")),
        "{serial2}"
    );
    let calls_of = |ls: &[&str]| -> Vec<String> {
        ls.iter()
            .filter(|l| l.starts_with("call "))
            .map(|l| l.to_string())
            .collect()
    };
    assert_eq!(calls_of(&lines2), calls_of(&lines), "{serial2}");
}

/// The firmware-update story: the same image, two disks with different snapshots under the same
/// name and the same RUN.TXT; what runs is what the disk holds.
#[test]
fn qemu_image_runs_what_the_disk_holds() {
    let Some(out) = build() else { return };
    let dir = out.join("update");
    std::fs::create_dir_all(&dir).unwrap();
    let run_txt = dir.join("run.txt");
    std::fs::write(&run_txt, "APP.SNP main\n").unwrap();
    let versions = [
        (
            "v1",
            "(module (func (export \"main\") (result i64) i64.const 1001))",
        ),
        (
            "v2",
            "(module (func (export \"main\") (result i64) (local $i i64) (local $s i64)
               (loop $l (local.set $s (i64.add (local.get $s) (local.get $i)))
                 (local.set $i (i64.add (local.get $i) (i64.const 1)))
                 (br_if $l (i64.lt_u (local.get $i) (i64.const 2002))))
               (local.get $s)))",
        ),
    ];
    let mut results = Vec::new();
    for (v, wat) in versions {
        let src = dir.join(format!("{v}.wat"));
        std::fs::write(&src, wat).unwrap();
        let snap = dir.join(format!("{v}.snap"));
        let o = Command::new(env!("CARGO_BIN_EXE_bareflow"))
            .args(["compile", "--xip"])
            .arg(&src)
            .arg("-o")
            .arg(&snap)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let img = dir.join(format!("{v}.img"));
        mkdisk(&img, &[(&snap, "APP.SNP"), (&run_txt, "RUN.TXT")]);
        let (serial, code) = boot(&out.join("bareflow-qemu.elf"), Some(&img));
        let lines = serial_lines(&serial);
        assert_eq!(code, Some(EXIT_SUCCESS), "{v}:\n{serial}");
        let calls = replay_call_lines(lines.iter().copied(), |_, e, a| interpret(&src, e, a));
        assert_eq!(calls, 1, "{v}:\n{serial}");
        let call = lines.iter().find(|l| l.starts_with("call ")).unwrap();
        results.push(call.to_string());
        std::fs::remove_file(&img).unwrap();
    }
    assert_eq!(results[0], "call APP.SNP main -> 1001");
    assert_eq!(results[1], "call APP.SNP main -> 2003001");
}

/// A FAT16 image's layout, read from its BPB, for corrupting it.
struct Fat16 {
    bytes: Vec<u8>,
    fats: Vec<usize>,
    root: usize,
    root_entries: usize,
}

impl Fat16 {
    fn parse(bytes: Vec<u8>) -> Fat16 {
        let u16_at = |o: usize| u16::from_le_bytes([bytes[o], bytes[o + 1]]) as usize;
        assert_eq!(u16_at(11), 512);
        let reserved = u16_at(14);
        let nfats = bytes[16] as usize;
        let fat_size = u16_at(22) * 512;
        let fats = (0..nfats)
            .map(|i| (reserved * 512) + i * fat_size)
            .collect();
        let root = reserved * 512 + nfats * fat_size;
        let root_entries = u16_at(17);
        Fat16 {
            bytes,
            fats,
            root,
            root_entries,
        }
    }

    /// Offset of the directory entry of `name` ("SHA256  SNP": 11 bytes, space-padded).
    fn entry(&self, name: &str) -> usize {
        (0..self.root_entries)
            .map(|i| self.root + 32 * i)
            .find(|&e| &self.bytes[e..e + 11] == name.as_bytes())
            .unwrap_or_else(|| panic!("no entry {name}"))
    }

    fn first_cluster(&self, name: &str) -> u16 {
        let e = self.entry(name);
        u16::from_le_bytes([self.bytes[e + 26], self.bytes[e + 27]])
    }

    fn fat(&self, c: u16) -> u16 {
        let o = self.fats[0] + 2 * c as usize;
        u16::from_le_bytes([self.bytes[o], self.bytes[o + 1]])
    }

    /// Sets FAT entry `c` in every copy of the FAT.
    fn set_fat(&mut self, c: u16, v: u16) {
        for &f in &self.fats {
            let o = f + 2 * c as usize;
            self.bytes[o..o + 2].copy_from_slice(&v.to_le_bytes());
        }
    }

    /// The cluster numbers of `name`'s chain.
    fn chain(&self, name: &str) -> Vec<u16> {
        let mut c = self.first_cluster(name);
        let mut chain = Vec::new();
        while c < 0xfff8 && chain.len() < 65536 {
            chain.push(c);
            c = self.fat(c);
        }
        chain
    }

    fn set_size(&mut self, name: &str, size: u32) {
        let e = self.entry(name);
        self.bytes[e + 28..e + 32].copy_from_slice(&size.to_le_bytes());
    }
}

/// The file the FAT corruptions hit: sha256's snapshot, 17 clusters.
const SHA: &str = "SHA256  SNP";

#[test]
fn qemu_image_refuses_corrupt_fat16_disks() {
    let Some(out) = build() else { return };
    let good = std::fs::read(out.join("disk.img")).unwrap();
    let sha_size = Fat16::parse(good.clone()).entry(SHA);
    let sha_size = u32::from_le_bytes(good[sha_size + 28..sha_size + 32].try_into().unwrap());
    type Corrupt = fn(&mut Fat16, u32);
    let cases: [(&str, Corrupt, &str); 13] = [
        (
            "no boot signature",
            |f, _| f.bytes[510] = 0,
            "disk refused: bad BPB: no boot signature 0x55 0xaa",
        ),
        (
            "sector size",
            |f, _| f.bytes[11..13].copy_from_slice(&1024u16.to_le_bytes()),
            "disk refused: bad BPB: bytes per sector is not 512",
        ),
        (
            "sectors per cluster",
            |f, _| f.bytes[13] = 3,
            "disk refused: bad BPB: sectors per cluster is not a power of two",
        ),
        (
            "too few clusters for FAT16",
            |f, _| f.bytes[19..21].copy_from_slice(&1000u16.to_le_bytes()),
            "disk refused: bad BPB: cluster count outside FAT16's 4085..65524",
        ),
        (
            "volume past the disk",
            |f, _| f.bytes[19..21].copy_from_slice(&60000u16.to_le_bytes()),
            "disk refused: bad BPB: volume larger than the disk",
        ),
        (
            "chain loop",
            |f, _| {
                let c = f.chain(SHA);
                f.set_fat(c[5], c[2]);
            },
            "file SHA256.SNP 8620 bytes: refused: cluster chain loop",
        ),
        (
            "chain loop from the last cluster",
            |f, _| {
                let c = f.chain(SHA);
                f.set_fat(*c.last().unwrap(), c[0]);
            },
            "file SHA256.SNP 8620 bytes: refused: cluster chain loop",
        ),
        (
            "bad cluster",
            |f, _| {
                let c = f.chain(SHA);
                f.set_fat(c[3], 0xfff7);
            },
            "file SHA256.SNP 8620 bytes: refused: bad cluster (0xfff7) in the chain",
        ),
        (
            "free cluster",
            |f, _| {
                let c = f.chain(SHA);
                f.set_fat(c[3], 0);
            },
            "file SHA256.SNP 8620 bytes: refused: free or reserved cluster (0 or 1) in the chain",
        ),
        (
            "cluster number out of range",
            |f, _| {
                let c = f.chain(SHA);
                f.set_fat(c[3], 0xf000);
            },
            "file SHA256.SNP 8620 bytes: refused: cluster number out of range (cluster 61440)",
        ),
        (
            "size past the chain",
            |f, size| f.set_size(SHA, size + 512),
            "refused: file size past the end of its cluster chain",
        ),
        (
            "chain past the size",
            |f, _| f.set_size(SHA, 100),
            "file SHA256.SNP 100 bytes: refused: cluster chain longer than the file size",
        ),
        (
            "size past the disk",
            |f, _| f.set_size(SHA, 0xffff_fff0),
            "file SHA256.SNP 4294967280 bytes: refused: file size past the disk",
        ),
    ];
    let image = out.join("bareflow-qemu.elf");
    let img = out.join("corrupt.img");
    let check = |what: &str, disk: Option<&Path>, want: &str| {
        let (serial, code) = boot(&image, disk);
        let lines = serial_lines(&serial);
        assert_eq!(code, Some(EXIT_FAILURE), "{what}: exit status\n{serial}");
        assert!(
            lines.iter().any(|l| l.contains(want)),
            "{what}: missing `{want}` in\n{serial}"
        );
        assert!(
            lines.iter().any(|l| l.starts_with("disk refused: ")),
            "{what}:\n{serial}"
        );
        // Refused before anything ran.
        assert!(
            !lines
                .iter()
                .any(|l| l.starts_with("call ") || l.starts_with("snapshot ")),
            "{what}: something ran\n{serial}"
        );
        assert_eq!(lines.last(), Some(&"FAILED 1"), "{what}:\n{serial}");
    };
    for (what, corrupt, want) in cases {
        let mut f = Fat16::parse(good.clone());
        corrupt(&mut f, sha_size);
        assert_ne!(f.bytes, good, "{what}: nothing changed");
        std::fs::write(&img, &f.bytes).unwrap();
        check(what, Some(&img), want);
    }
    // An MBR whose FAT16 partition starts past the disk, and one whose partition's BPB is bad.
    let mut bad_start = partitioned(&good, 2048);
    bad_start[454..458].copy_from_slice(&100_000u32.to_le_bytes());
    std::fs::write(&img, &bad_start).unwrap();
    check(
        "partition past the disk",
        Some(&img),
        "disk refused: MBR partition starts past the disk",
    );
    let mut bad_bpb = partitioned(&good, 2048);
    bad_bpb[2048 * 512 + 13] = 0;
    std::fs::write(&img, &bad_bpb).unwrap();
    check(
        "partition with a bad BPB",
        Some(&img),
        "disk refused: bad BPB: sectors per cluster is not a power of two up to 128",
    );
    std::fs::remove_file(&img).unwrap();
    check("no disk", None, "disk refused: no ATA drive");
}

/// `build.sh` with SIGN_KEY: the image embeds the public key and runs only snapshots signed
/// with its secret half; an unsigned one, one signed with another key and a signed one with
/// one byte changed are refused with the signature status (BF_ERR_SIGNATURE, 10) before they
/// are parsed, and a disk of unsigned snapshots runs nothing.
#[test]
fn qemu_image_with_a_key_runs_only_signed_snapshots() {
    let Some(unsigned) = build() else { return };
    let root = root();
    let bareflow = env!("CARGO_BIN_EXE_bareflow");
    let out = root.join("target/firmware-xip-only/qemu-signed");
    let keys = out.join("keys");
    let _ = std::fs::remove_dir_all(&keys);
    std::fs::create_dir_all(&keys).unwrap();
    for k in ["k", "other"] {
        let o = Command::new(bareflow)
            .args(["keygen", "--out"])
            .arg(keys.join(k))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    // The signing library, in the target dir scripts/sizes.sh builds it in.
    let target = root.join("target/size-sign-xip");
    let o = Command::new("sh")
        .arg(root.join("firmware/qemu/build.sh"))
        .arg(&out)
        .arg(bareflow)
        .env("CARGO_TARGET_DIR", &target)
        .env("SIGN_KEY", keys.join("k"))
        .output()
        .expect("running firmware/qemu/build.sh");
    assert!(
        o.status.success(),
        "build.sh (SIGN_KEY) failed:\n{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let image = out.join("bareflow-qemu.elf");
    let pubkey = std::fs::read_to_string(keys.join("k.pub")).unwrap();

    // build.sh's disk, every snapshot signed: all of it runs as unsigned in the plain image.
    let (serial, code) = boot(&image, Some(&out.join("disk.img")));
    let lines = serial_lines(&serial);
    assert_eq!(code, Some(EXIT_SUCCESS), "{serial}");
    let want_key = format!("signatures required: Ed25519 public key {}", pubkey.trim());
    assert!(lines.contains(&want_key.as_str()), "{serial}");
    let calls = replay_call_lines(lines.iter().copied(), |f, e, a| {
        interpret(&module_path(f), e, a)
    });
    assert_eq!(calls, 11, "{serial}");

    // The unsigned disk: every snapshot refused with the signature status.
    let (serial, code) = boot(&image, Some(&unsigned.join("disk.img")));
    let lines = serial_lines(&serial);
    assert_eq!(code, Some(EXIT_FAILURE), "{serial}");
    assert!(!lines.iter().any(|l| l.starts_with("call ")), "{serial}");
    let refused = lines
        .iter()
        .filter(|l| l.contains("status 10") && l.contains("snapshot is not signed"))
        .count();
    assert_eq!(refused, 7, "{serial}");

    // Good, other key, tampered and unsigned side by side; RUN.TXT expects the refusals.
    let fib = root.join("wasm-samples/fibonacci.wasm");
    let other = out.join("other.snap");
    let o = Command::new(bareflow)
        .args(["compile", "--xip", "--sign"])
        .arg(keys.join("other.key"))
        .arg(&fib)
        .arg("-o")
        .arg(&other)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut tampered = std::fs::read(out.join("fibonacci.snap")).unwrap();
    let mid = tampered.len() / 2;
    tampered[mid] ^= 1;
    let tampered_path = out.join("tampered.snap");
    std::fs::write(&tampered_path, tampered).unwrap();
    let run_txt = out.join("signed-run.txt");
    std::fs::write(
        &run_txt,
        "GOOD.SNP fib 20 -> 6765\nOTHER.SNP refused\nTAMPER.SNP refused\nPLAIN.SNP refused\n",
    )
    .unwrap();
    let img = out.join("mixed.img");
    mkdisk(
        &img,
        &[
            (&out.join("fibonacci.snap"), "GOOD.SNP"),
            (&other, "OTHER.SNP"),
            (&tampered_path, "TAMPER.SNP"),
            (&unsigned.join("fibonacci.snap"), "PLAIN.SNP"),
            (&run_txt, "RUN.TXT"),
        ],
    );
    let (serial, code) = boot(&image, Some(&img));
    let lines = serial_lines(&serial);
    assert_eq!(code, Some(EXIT_SUCCESS), "{serial}");
    assert!(lines.contains(&"call GOOD.SNP fib 20 -> 6765"), "{serial}");
    for f in ["OTHER.SNP", "TAMPER.SNP", "PLAIN.SNP"] {
        let want = format!("snapshot {f} -> status 10 ");
        assert!(
            lines.iter().any(|l| l.starts_with(&want)),
            "missing `{want}`:\n{serial}"
        );
    }
    std::fs::remove_file(&img).unwrap();
}

/// The image's own checks can fail: a wrong expectation in RUN.TXT, a RUN.TXT naming a file
/// that is not there, a file that is not a snapshot, and a RUN.TXT it cannot parse.
#[test]
fn qemu_image_fails_wrong_expectations_and_bad_run_txt() {
    let Some(out) = build() else { return };
    let dir = out.join("checks");
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("app.wat");
    std::fs::write(
        &src,
        "(module (func (export \"main\") (result i64) i64.const 1001))",
    )
    .unwrap();
    let snap = dir.join("app.snap");
    let o = Command::new(env!("CARGO_BIN_EXE_bareflow"))
        .args(["compile", "--xip"])
        .arg(&src)
        .arg("-o")
        .arg(&snap)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let image = out.join("bareflow-qemu.elf");
    let img = dir.join("checks.img");
    let run_txt = dir.join("run.txt");

    std::fs::write(&run_txt, "APP.SNP main -> 5\nMISSING.SNP main\n").unwrap();
    mkdisk(
        &img,
        &[
            (&snap, "APP.SNP"),
            (&run_txt, "JUNK.SNP"),
            (&run_txt, "RUN.TXT"),
        ],
    );
    let (serial, code) = boot(&image, Some(&img));
    let lines = serial_lines(&serial);
    assert_eq!(code, Some(EXIT_FAILURE), "{serial}");
    for want in [
        "call APP.SNP main -> 1001",
        "FAIL expected 5",
        "snapshot JUNK.SNP 35 bytes at 0x200000: FAIL status 4 snapshot rejected snapshot rejected: not a snapshot (bad magic)",
        "FAIL RUN.TXT names MISSING.SNP, which is not on the disk",
        "FAILED 3",
    ] {
        assert!(
            lines.iter().any(|l| l.starts_with(want)),
            "missing `{want}`:\n{serial}"
        );
    }

    for (bad, why) in [
        (
            "APP.SNP main 1 2 3 4 5\n",
            "RUN.TXT line 1: more than 4 arguments",
        ),
        (
            "# ok\nAPP.SNP main x\n",
            "RUN.TXT line 2: an argument is not decimal",
        ),
        (
            "APP.SNP main -> 18446744073709551616\n",
            "RUN.TXT line 1: `->` / `trap` not followed by one decimal number",
        ),
        ("APP.SNP\n", "RUN.TXT line 1: a file name without an export"),
    ] {
        std::fs::write(&run_txt, bad).unwrap();
        mkdisk(&img, &[(&snap, "APP.SNP"), (&run_txt, "RUN.TXT")]);
        let (serial, code) = boot(&image, Some(&img));
        let lines = serial_lines(&serial);
        assert_eq!(code, Some(EXIT_FAILURE), "{bad}: {serial}");
        assert!(lines.contains(&why), "{bad}: missing `{why}`:\n{serial}");
        assert!(lines.contains(&"disk refused: bad RUN.TXT"), "{serial}");
        assert!(!lines.iter().any(|l| l.starts_with("call ")), "{serial}");
    }
    std::fs::remove_file(&img).unwrap();
}
