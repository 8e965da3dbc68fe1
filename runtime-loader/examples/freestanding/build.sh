#!/bin/sh
# Builds the freestanding C proof of the BareFlow C API:
#   1. snapshots of the trio + sha256 (wasm-samples), host.wat and bulk.wat with `bareflow compile`
#      (plus fibonacci in guard memory mode, which the C API must refuse);
#   2. main.c + mem.c with -ffreestanding -nostdlib -static, linked with libbareflow.a, twice:
#      `freestanding` (everything, with -DBF_EXTENDED_API: the module and instance view,
#      api.wat) and `freestanding-core` (without it: the calls every embedding makes);
#   3. prints the loader core's share of freestanding-core (from the link map), what the
#      extended API adds in `freestanding`, and `size`; a link map it cannot read is an error
#      (scripts/sizes.sh checks the loader-core budget on it).
# Environment:
#   BAREFLOW  the bareflow binary            (default: target/debug/bareflow)
#   LIB       libbareflow.a                  (default: target/min-size/libbareflow.a, built
#             with `cargo build -p bareflow-capi --profile min-size`)
#   OUT       output directory               (default: target/freestanding)
#   CC        C compiler                     (default: cc)
#   COMPILE_FLAGS  extra `bareflow compile` flags (e.g. --xip)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
BAREFLOW=${BAREFLOW:-$root/target/debug/bareflow}
LIB=${LIB:-$root/target/min-size/libbareflow.a}
OUT=${OUT:-$root/target/freestanding}
CC=${CC:-cc}
COMPILE_FLAGS=${COMPILE_FLAGS:-}
mkdir -p "$OUT"

for s in fibonacci sum_to_n multiply sha256; do
    "$BAREFLOW" compile $COMPILE_FLAGS "$root/wasm-samples/$s.wasm" -o "$OUT/$s.snap" 2>/dev/null
done
"$BAREFLOW" compile $COMPILE_FLAGS "$here/host.wat" -o "$OUT/host.snap" 2>/dev/null
"$BAREFLOW" compile $COMPILE_FLAGS "$here/bulk.wat" -o "$OUT/bulk.snap" 2>/dev/null
# memory64 / table64, and a memory64 memory of 4 GiB the C API must refuse.
"$BAREFLOW" compile $COMPILE_FLAGS "$here/mem64.wat" -o "$OUT/mem64.snap" 2>/dev/null
echo '(module (memory i64 65536) (func (export "f")))' > "$OUT/mem64-huge.wat"
"$BAREFLOW" compile $COMPILE_FLAGS "$OUT/mem64-huge.wat" -o "$OUT/mem64-huge.snap" 2>/dev/null
"$BAREFLOW" compile $COMPILE_FLAGS "$here/api.wat" -o "$OUT/api.snap" 2>/dev/null
# Multi-memory: three memories, memory 1 read and written by the host.
"$BAREFLOW" compile $COMPILE_FLAGS "$here/multimem.wat" -o "$OUT/multimem.snap" 2>/dev/null
# Fuel and interrupt checks (bf_set_fuel, bf_interrupt).
"$BAREFLOW" compile $COMPILE_FLAGS --fuel --interruptible "$here/bounds.wat" -o "$OUT/bounds.snap" 2>/dev/null
# Compiled for the other memory mode (guard pages): the C API must refuse it.
"$BAREFLOW" compile $COMPILE_FLAGS --memory guard "$root/wasm-samples/fibonacci.wasm" \
    -o "$OUT/fibonacci-guard.snap" 2>/dev/null

CFLAGS="-O2 -ffreestanding -fno-stack-protector -fno-pie -fno-asynchronous-unwind-tables -Wall -Wextra"
MEMFLAGS="-fno-builtin"
# gcc turns the byte loops of memcpy/memset into calls to themselves without this flag.
if "$CC" -fno-tree-loop-distribute-patterns -x c -c -o /dev/null /dev/null 2>/dev/null; then
    MEMFLAGS="$MEMFLAGS -fno-tree-loop-distribute-patterns"
fi
case " $COMPILE_FLAGS " in *" --xip "*) CFLAGS="$CFLAGS -DXIP=1" ;; esac
"$CC" $CFLAGS $MEMFLAGS -c "$here/mem.c" -o "$OUT/mem.o"
# `name extra-cflags`: compiles main.c and links program OUT/name with its link map.
program() {
    "$CC" $CFLAGS $2 -I "$root/runtime-loader/include" -DSNAP_DIR="\"$OUT\"" -c "$here/main.c" \
        -o "$OUT/$1.o"
    "$CC" -nostdlib -static -no-pie -Wl,--gc-sections -Wl,-Map,"$OUT/$1.map" \
        "$OUT/$1.o" "$OUT/mem.o" "$LIB" -o "$OUT/$1" 2>"$OUT/link.log" || {
        cat "$OUT/link.log" >&2
        exit 1
    }
    grep -v "RWX permissions\|missing .note.GNU-stack" "$OUT/link.log" >&2 || true
}
program freestanding -DBF_EXTENDED_API=1
program freestanding-core ""

# Bytes of a program that come from libbareflow.a, by output section kind: `text ro data`
# (input sections kept in the link; the ones --gc-sections discarded are not counted).
lib_bytes() {
    awk '
        function hex(h,   i, c, v) { v = 0; h = tolower(h); sub(/^0x/, "", h); for (i = 1; i <= length(h); i++) { c = index("0123456789abcdef", substr(h, i, 1)) - 1; v = v * 16 + c } return v }
        # Only what is linked: the map lists the sections --gc-sections dropped first.
        /^Linker script and memory map/ { linked = 1 }
        !linked { next }
        /^ \.[a-z]/ {
            sec = $1
            if (NF >= 4) { size = $3; file = $4 } else { getline; size = $2; file = $3 }
            if (file !~ /libbareflow\.a/) next
            if (sec ~ /^\.text/) text += hex(size)
            else if (sec ~ /^\.rodata/ || sec ~ /^\.data\.rel\.ro/) ro += hex(size)
            else if (sec ~ /^\.(data|bss)/) data += hex(size)
        }
        END { printf "%d %d %d\n", text, ro, data }
    ' "$1"
}
set -- $(lib_bytes "$OUT/freestanding-core.map")
core_text=$1
echo "loader core in the program: text $1 bytes, rodata $2 bytes, data+bss $3 bytes"
set -- $(lib_bytes "$OUT/freestanding.map")
echo "with the module and instance view (bf_export_get ... bf_trap_message): text $1 bytes (+$(($1 - core_text))), rodata $2 bytes"
size "$OUT/freestanding-core" "$OUT/freestanding"
