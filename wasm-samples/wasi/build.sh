#!/usr/bin/env bash
# Builds the WASI test programs and their reference outputs.
#
#   *.c            → *.wasm          clang --target=wasm32-wasi -O2 (Debian: clang, wasi-libc,
#                                    libclang-rt-dev-wasm32)
#   *.c            → native binary   clang -O2 (in a scratch directory, not committed)
#   cases.txt      → expected/NAME.{stdout,stderr,status} from the native binary, run with an
#                    empty environment plus the case's variables (env -i), so CI needs no clang.
#
# escape.c is the exception: natively it *can* read ../secret and /etc/passwd, so its
# expected output (expected/escape.stdout: every attempt refused, the raw WASI calls failing
# with ENOTCAPABLE = 76 or ELOOP = 32) is written by hand and checked by compiler/tests/wasi.rs.
set -euo pipefail
cd "$(dirname "$0")"
here=$(pwd)
native=$(mktemp -d)
trap 'rm -rf "$native"' EXIT

for src in *.c; do
    name=${src%.c}
    clang --target=wasm32-wasi -O2 -o "$name.wasm" "$src"
    clang -O2 -o "$native/$name" "$src" -lm
done

grep -v '^#' cases.txt | while IFS='|' read -r case prog args envs stdin setup; do
    [ -n "$case" ] || continue
    input=/dev/null
    [ "$stdin" = "-" ] || input="$here/data/$stdin"
    work=$(mktemp -d)
    if [ "$setup" = copy ]; then
        cp data/input.txt "$work/input.txt"
    fi
    # shellcheck disable=SC2086 # ARGS/ENV are space-separated lists by design.
    set +e
    (cd "$work" && env -i $envs "$native/$prog" $args <"$input" \
        >"$here/expected/$case.stdout" 2>"$here/expected/$case.stderr")
    echo $? >"expected/$case.status"
    set -e
    rm -rf "$work"
    echo "$case: status $(cat "expected/$case.status")"
done
