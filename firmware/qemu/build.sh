#!/bin/sh
# Builds the BareFlow bare-metal QEMU image and the FAT16 disk it reads its snapshots from:
#   1. execute-in-place snapshots of the trio + sha256 (wasm-samples), trap.wat and serial.wat
#      with `bareflow compile --xip`, and fibonacci with `--memory guard` (to be refused);
#      OUTDIR/disk.img: a FAT16 volume holding them as FIB.SNP, SUM.SNP, MUL.SNP, SHA256.SNP,
#      TRAP.SNP, SERIAL.SNP, GUARD.SNP and run.txt as RUN.TXT (mkdisk.sh; needs mkfs.fat and
#      mcopy);
#   2. libbareflow.a, execute-in-place only (`cargo build -p bareflow-capi --profile min-size
#      --no-default-features`: no relocating loader; plus `--features sign` with SIGN_KEY),
#      unless LIB is set;
#   3. boot.S + main.c + disk.c (ATA PIO, FAT16) + mem.c (from the freestanding proof), linked
#      with link.ld and the staticlib into OUTDIR/bareflow-qemu.elf (stripped;
#      OUTDIR/bareflow-qemu.debug keeps the symbols); the image embeds no snapshot;
#   4. prints the image size and the loader core's share (from the link map).
#
# Usage: firmware/qemu/build.sh OUTDIR BAREFLOW_BIN
# Environment:
#   LIB               a prebuilt libbareflow.a (skips the cargo build)
#   CARGO             cargo binary (default: cargo)
#   CARGO_TARGET_DIR  where cargo builds the staticlib (default: <repo>/target/firmware-xip-only,
#                     shared with compiler/tests/firmware.rs's XIP-only build)
#   CC                C compiler, gcc or clang (default: cc)
#   LDFLAGS           extra link flags (e.g. -fuse-ld=lld)
#   SIGN_KEY          PREFIX of a `bareflow keygen --out PREFIX` key pair: the snapshots are
#                     signed with PREFIX.key, the library is built with feature `sign`
#                     (default CARGO_TARGET_DIR then <repo>/target/size-sign-xip, shared with
#                     scripts/sizes.sh) and the image embeds PREFIX.pub and refuses every
#                     snapshot without a valid signature under it
#
# Boot: qemu-system-x86_64 -cpu max -m 64M -nographic -no-reboot -serial stdio -display none \
#         -device isa-debug-exit,iobase=0xf4,iosize=0x04 -kernel OUTDIR/bareflow-qemu.elf \
#         -drive file=OUTDIR/disk.img,format=raw,if=ide
# (exit status 33 = success).
set -eu
if [ $# -ne 2 ]; then
    echo "usage: $0 OUTDIR BAREFLOW_BIN" >&2
    exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mkdir -p "$1"
OUT=$(cd "$1" && pwd)
BAREFLOW=$2
CC=${CC:-cc}
sign=
keydef=
features=--no-default-features
if [ -n "${SIGN_KEY:-}" ]; then
    sign="--sign $SIGN_KEY.key"
    features="--no-default-features --features sign"
    hex=$(tr -d ' \n' <"$SIGN_KEY.pub")
    if [ ${#hex} -ne 64 ] || [ -n "$(printf %s "$hex" | tr -d 0-9a-fA-F)" ]; then
        echo "error: $SIGN_KEY.pub is not 64 hex digits" >&2
        exit 1
    fi
    keydef="-DSIGN_PUBKEY={$(printf %s "$hex" | sed 's/../0x&,/g')}"
fi

# 1. Snapshots.
for s in fibonacci sum_to_n multiply sha256 trap serial; do
    case $s in
    trap | serial) src=$here/$s.wat ;;
    *) src=$root/wasm-samples/$s.wasm ;;
    esac
    "$BAREFLOW" compile --xip $sign "$src" -o "$OUT/$s.snap" >"$OUT/compile.log" 2>&1 || {
        cat "$OUT/compile.log" >&2
        exit 1
    }
done
# The same sample for the other memory mode (guard pages): the image must refuse it.
"$BAREFLOW" compile --xip $sign --memory guard "$root/wasm-samples/fibonacci.wasm" \
    -o "$OUT/fibonacci-guard.snap" >"$OUT/compile.log" 2>&1 || {
    cat "$OUT/compile.log" >&2
    exit 1
}
sh "$here/mkdisk.sh" "$OUT/disk.img" "$OUT/fibonacci.snap=FIB.SNP" "$OUT/sum_to_n.snap=SUM.SNP" \
    "$OUT/multiply.snap=MUL.SNP" "$OUT/sha256.snap=SHA256.SNP" "$OUT/trap.snap=TRAP.SNP" \
    "$OUT/serial.snap=SERIAL.SNP" "$OUT/fibonacci-guard.snap=GUARD.SNP" "$here/run.txt=RUN.TXT"

# 2. The staticlib, without the relocating path: the image only runs snapshots in place.
if [ -z "${LIB:-}" ]; then
    if [ -n "$sign" ]; then
        target=${CARGO_TARGET_DIR:-$root/target/size-sign-xip}
    else
        target=${CARGO_TARGET_DIR:-$root/target/firmware-xip-only}
    fi
    # shellcheck disable=SC2086
    (cd "$root" && CARGO_TARGET_DIR="$target" "${CARGO:-cargo}" build -q -p bareflow-capi \
        --profile min-size $features)
    LIB=$target/min-size/libbareflow.a
fi

# 3. The image. No red zone (exception handlers push onto the interrupted stack), no PIE (the
#    image runs at its link address, 1 MiB), SSE allowed (boot.S enables it).
CFLAGS="-O2 -ffreestanding -fno-stack-protector -fno-pie -mno-red-zone -fno-asynchronous-unwind-tables -Wall -Wextra"
MEMFLAGS="-fno-builtin"
# gcc turns the byte loops of memcpy/memset into calls to themselves without this flag.
if "$CC" -fno-tree-loop-distribute-patterns -x c -c -o /dev/null /dev/null 2>/dev/null; then
    MEMFLAGS="$MEMFLAGS -fno-tree-loop-distribute-patterns"
fi
"$CC" -fno-pie -c "$here/boot.S" -o "$OUT/boot.o"
"$CC" $CFLAGS -I "$root/runtime-loader/include" ${keydef:+"$keydef"} -c "$here/main.c" \
    -o "$OUT/main.o"
"$CC" $CFLAGS -c "$here/disk.c" -o "$OUT/disk.o"
"$CC" $CFLAGS $MEMFLAGS -c "$root/runtime-loader/examples/freestanding/mem.c" -o "$OUT/mem.o"
"$CC" ${LDFLAGS:-} -nostdlib -static -no-pie -T "$here/link.ld" -Wl,--gc-sections -Wl,--build-id=none \
    -Wl,-z,max-page-size=4096 -Wl,-Map,"$OUT/bareflow-qemu.map" \
    "$OUT/boot.o" "$OUT/main.o" "$OUT/disk.o" "$OUT/mem.o" "$LIB" -o "$OUT/bareflow-qemu.debug" \
    2>"$OUT/link.log" || {
    cat "$OUT/link.log" >&2
    exit 1
}
grep -v "RWX permissions\|missing .note.GNU-stack" "$OUT/link.log" >&2 || true
objcopy --strip-all "$OUT/bareflow-qemu.debug" "$OUT/bareflow-qemu.elf"

# 4. Sizes: the image file, what QEMU loads, and the bytes that come from libbareflow.a.
loaded=0
for n in $(readelf -lW "$OUT/bareflow-qemu.elf" | awk '$1 == "LOAD" { print $5 }'); do
    loaded=$((loaded + n))
done
echo "image $(wc -c <"$OUT/bareflow-qemu.elf") bytes ($OUT/bareflow-qemu.elf), $loaded bytes loaded"
for s in fibonacci sum_to_n multiply sha256 trap serial; do
    printf 'snapshot %s %d bytes\n' "$s" "$(wc -c <"$OUT/$s.snap")"
done
awk '
    function hex(h,   i, c, v) { v = 0; h = tolower(h); sub(/^0x/, "", h); for (i = 1; i <= length(h); i++) { c = index("0123456789abcdef", substr(h, i, 1)) - 1; v = v * 16 + c } return v }
    /^ \.[a-z]/ {
        sec = $1
        if (NF >= 4) { size = $3; file = $4 } else { getline; size = $2; file = $3 }
        if (file ~ /libbareflow\.a/) {
            if (sec ~ /^\.text/) text += hex(size)
            else if (sec ~ /^\.rodata/ || sec ~ /^\.data\.rel\.ro/) ro += hex(size)
            else if (sec ~ /^\.(data|bss)/) data += hex(size)
        }
    }
    /^\.(text|rodata|data|bss) / { out[$1] = hex($3) }
    END {
        if (out[".text"] == 0) { print "(no section sizes: the link map is not in GNU ld format)"; exit }
        printf "loader core in the image: text %d bytes, rodata %d bytes, data+bss %d bytes\n", text, ro, data
        printf "image sections: .text %d, .rodata %d, .data %d, .bss %d bytes\n", out[".text"], out[".rodata"], out[".data"], out[".bss"]
    }
' "$OUT/bareflow-qemu.map"
