#!/bin/sh
# Measures every size figure README.md and docs/FIRMWARE.md quote, checks the budgets
# (scripts/budgets.env) and prints one `name value` line per figure:
#   scripts/sizes.sh            # measure, print, check budgets (exit 1 if one is exceeded)
#   scripts/sizes.sh --write    # the same, and store the figures in docs/sizes.txt, which
#                               # scripts/check-doc-figures.py compares the docs against
#   LOADER_CORE_BUDGET_XIP=10000 scripts/sizes.sh   # a lowered budget: fails
# After a change that moves sizes: `scripts/sizes.sh --write`, then fix the numbers that
# scripts/check-doc-figures.py reports. Needs a C compiler (CC, default cc) and GNU ld (the
# loader-core figures come from the link map). Builds use their own target dirs under
# target/ (shared with compiler/tests/firmware.rs and firmware/qemu/build.sh).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. scripts/budgets.env
write=0
[ "${1:-}" = "--write" ] && write=1
CC=${CC:-cc}
export CC
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out="$tmp/sizes.txt"

cargo build -q -p bareflow --bin bareflow
BAREFLOW="$root/target/debug/bareflow"

# bareflow-load, plain and with the signature verifier.
cargo build -q -p runtime-loader --bin bareflow-load --profile min-size \
    --no-default-features --features alloc,unix
echo "bareflow-load $(wc -c < target/min-size/bareflow-load)" >> "$out"
CARGO_TARGET_DIR=target/size-sign cargo build -q -p runtime-loader --bin bareflow-load \
    --profile min-size --no-default-features --features alloc,unix,sign
echo "bareflow-load-sign $(wc -c < target/size-sign/min-size/bareflow-load)" >> "$out"
# bareflow-load with WASI preview1 (feature tiny-wasi: the host functions over raw syscalls, no std).
CARGO_TARGET_DIR=target/size-wasi cargo build -q -p runtime-loader --bin bareflow-load \
    --profile min-size --no-default-features --features alloc,unix,tiny-wasi
echo "bareflow-load-wasi $(wc -c < target/size-wasi/min-size/bareflow-load)" >> "$out"

# Loader core in the freestanding program: `name target-dir cargo-features compile-flags`.
core() {
    name=$1 dir=$2 features=$3 flags=$4
    # shellcheck disable=SC2086
    CARGO_TARGET_DIR="$dir" cargo build -q -p bareflow-capi --profile min-size $features
    report=$(BAREFLOW="$BAREFLOW" LIB="$dir/min-size/libbareflow.a" OUT="$tmp/$name" \
        COMPILE_FLAGS="$flags" sh runtime-loader/examples/freestanding/build.sh)
    line=$(echo "$report" | grep "^loader core in the program:") || {
        echo "error: build.sh printed no loader-core line for $name:" >&2
        echo "$report" >&2
        exit 1
    }
    echo "$line" | awk -v n="$name" '{ print "loader-core-text-" n " " $7; print "loader-core-rodata-" n " " $10 }' >> "$out"
}
core default target/firmware "" ""
core xip target/firmware-xip-only "--no-default-features" "--xip"
core sign-default target/size-sign "--features sign" ""
core sign-xip target/size-sign-xip "--no-default-features --features sign" "--xip"

# sha256's arena use after one call, relocated (default library) and in place (XIP-only).
arena() {
    used=$(cd "$tmp/$1" && ./freestanding | sed -n 's/.*arena used \([0-9]*\).*/\1/p' | head -1)
    [ -n "$used" ] || { echo "error: the freestanding program ($1) printed no arena use" >&2; exit 1; }
    echo "arena-sha256-$1 $used" >> "$out"
}
arena default
arena xip

# The QEMU image (XIP-only library, shared target dir with the XIP build above).
CARGO_TARGET_DIR=target/firmware-xip-only sh firmware/qemu/build.sh "$tmp/qemu" "$BAREFLOW" > "$tmp/qemu.log"
echo "qemu-image $(wc -c < "$tmp/qemu/bareflow-qemu.elf")" >> "$out"

cat "$out"
status=0
check() {
    value=$(awk -v k="$1" '$1 == k { print $2 }' "$out")
    if [ "$value" -gt "$2" ]; then
        echo "error: $1 is $value bytes, over its budget of $2" >&2
        status=1
    else
        echo "budget ok: $1 $value <= $2"
    fi
}
check bareflow-load "$BAREFLOW_LOAD_BUDGET"
check bareflow-load-wasi "$BAREFLOW_LOAD_WASI_BUDGET"
check loader-core-text-default "$LOADER_CORE_BUDGET_DEFAULT"
check loader-core-text-xip "$LOADER_CORE_BUDGET_XIP"
if [ "$write" = 1 ]; then
    {
        echo "# Written by scripts/sizes.sh --write on $(date -u +%Y-%m-%d) ($("$CC" --version | head -1); x86-64, min-size profile)."
        echo "# scripts/check-doc-figures.py checks README.md and docs/FIRMWARE.md against these."
        cat "$out"
    } > docs/sizes.txt
    echo "wrote docs/sizes.txt"
fi
exit $status
