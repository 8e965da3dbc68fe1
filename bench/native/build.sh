#!/bin/sh
# Builds the native benchmark driver: the C sample kernels of wasm-samples/c plus
# trio.c (native versions of the .wat samples), each compiled with `clang -O2` for the
# host, linked with driver.c. Usage: build.sh <output-path>. Needs clang.
# NATIVE_EXTRA_CFLAGS (e.g. -march=native) is appended to the kernels' flags.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build.sh <output-path>}
CLANG=${CLANG:-clang}
if ! command -v "$CLANG" >/dev/null 2>&1; then
    echo "native/build.sh: '$CLANG' not found" >&2
    exit 1
fi

src="$here/../../wasm-samples/c"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Same code-generation choices as the wasm build: -O2, no FMA contraction, baseline x86-64.
CFLAGS="-O2 -ffp-contract=off -fno-math-errno -Wall -Wextra -Werror"
for k in sha256 crc32 matmul nbody sieve quicksort minivm dotf32; do
    "$CLANG" $CFLAGS ${NATIVE_EXTRA_CFLAGS:-} -c "$src/$k.c" -o "$tmp/$k.o"
done
"$CLANG" $CFLAGS -c "$here/trio.c" -o "$tmp/trio.o"
"$CLANG" $CFLAGS -c "$here/driver.c" -o "$tmp/driver.o"
mkdir -p "$(dirname "$out")"
"$CLANG" "$tmp"/*.o -o "$out.tmp"
mv "$out.tmp" "$out"
