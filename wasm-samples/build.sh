#!/bin/sh
# Rebuilds the committed .wasm samples from their sources:
#   *.wat    -> *.wasm with wat2wasm (wabt)
#   c/*.c    -> *.wasm with clang --target=wasm32, no libc (c/libc.c supplies memset/memcpy)
# then checks every module with wasm-validate. Idempotent: a .wasm is only replaced when
# its bytes change. Needs clang + wasm-ld (Debian: clang, lld) and wabt.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cd "$here"

CLANG=${CLANG:-clang}
for tool in "$CLANG" wasm-ld wat2wasm wasm-validate; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "build.sh: '$tool' not found (install clang, lld and wabt)" >&2
        exit 1
    fi
done

KERNELS="sha256 crc32 matmul nbody sieve quicksort minivm dotf32"
# Kernels built with fixed-width SIMD (-msimd128, wasm_simd128.h intrinsics).
SIMD_KERNELS="dotf32_simd"
CFLAGS="--target=wasm32 -O2 -ffreestanding -ffp-contract=off -fno-math-errno -Wall -Wextra -Werror"
LDFLAGS="-nostdlib -Wl,--no-entry -Wl,-z,stack-size=262144 -Wl,--strip-all"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

install_if_changed() { # <built> <dest>
    if [ -f "$2" ] && cmp -s "$1" "$2"; then
        echo "unchanged $2"
    else
        cp "$1" "$2"
        chmod 644 "$2"
        echo "built     $2"
    fi
}

for wat in fibonacci sum_to_n multiply; do
    wat2wasm "$wat.wat" -o "$tmp/$wat.wasm"
    install_if_changed "$tmp/$wat.wasm" "$wat.wasm"
done

# libc.c must not have its own loops recognised as memset/memcpy calls.
"$CLANG" $CFLAGS -fno-builtin -c c/libc.c -o "$tmp/libc.o"
for k in $KERNELS; do
    "$CLANG" $CFLAGS -c "c/$k.c" -o "$tmp/$k.o"
    "$CLANG" --target=wasm32 $LDFLAGS "$tmp/$k.o" "$tmp/libc.o" -o "$tmp/$k.wasm"
    install_if_changed "$tmp/$k.wasm" "$k.wasm"
done
for k in $SIMD_KERNELS; do
    "$CLANG" $CFLAGS -msimd128 -c "c/$k.c" -o "$tmp/$k.o"
    "$CLANG" --target=wasm32 $LDFLAGS "$tmp/$k.o" "$tmp/libc.o" -o "$tmp/$k.wasm"
    install_if_changed "$tmp/$k.wasm" "$k.wasm"
done

for wasm in fibonacci sum_to_n multiply $KERNELS $SIMD_KERNELS; do
    wasm-validate "$wasm.wasm"
done
echo "all samples valid"

# The transformer workload (a WASI program: needs wasi-libc).
"$here/wasi/llama/build.sh"
