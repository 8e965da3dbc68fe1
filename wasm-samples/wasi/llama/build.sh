#!/bin/sh
# Builds the transformer workload for wasm32-wasi (clang --target=wasm32-wasi -O2; Debian:
# clang, lld, wasi-libc, libclang-rt-dev-wasm32):
#   llama.c -> llama.wasm (scalar) and llama_simd.wasm (-msimd128: wasm_simd128.h dot product)
#   gen.c   -> gen.wasm   (writes the deterministic checkpoints and tokenizers)
# then checks them with wasm-validate. Idempotent: a .wasm is only replaced when its bytes
# change. Called by ../../build.sh. The checkpoints themselves are never committed: tests
# and scripts/llama-bench.sh generate them into target/ (same bytes every time).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
CLANG=${CLANG:-clang}
# -ffp-contract=off: no fused multiply-add, so every build rounds the same way.
CFLAGS="--target=wasm32-wasi -O2 -ffp-contract=off -fno-math-errno -Wall -Wextra -Werror"
# --strip-debug, not --strip-all: the name section stays, so `bareflow profile show` names
# the hot functions.
LDFLAGS="-Wl,--strip-debug"
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

# Compile and link separately: given -O at link time, clang runs binaryen's wasm-opt when it
# is on PATH (without the SIMD feature flag, which fails), so the output would depend on it.
build() { # <source> <output name> [extra flags]
    src=$1 name=$2
    shift 2
    "$CLANG" $CFLAGS "$@" -c "$src" -o "$tmp/$name.o"
    "$CLANG" --target=wasm32-wasi $LDFLAGS "$tmp/$name.o" -o "$tmp/$name.wasm"
}
build llama.c llama
build llama.c llama_simd -msimd128
build gen.c gen
for w in llama llama_simd gen; do
    wasm-validate "$tmp/$w.wasm"
    install_if_changed "$tmp/$w.wasm" "$w.wasm"
done
