#!/bin/sh
# Cost of bounded execution (issue #18): instruction counts (callgrind, whole
# `bareflow-load` process) of the ten bench kernels compiled without checks, with
# `--interruptible` and with `--fuel`, at the bench arguments (bench/src/lib.rs), as the
# README's table (millions, % over no checks, geometric means). The deciding figure: wall
# time (`cargo bench -p bench`, columns `+int`/`+fuel`) is too noisy on a shared machine.
#   bench/bounds-cost.sh            # needs valgrind; builds bareflow and bareflow-load
set -eu
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "bounds-cost: valgrind not found" >&2; exit 1; }
cargo build -q -p bareflow --bin bareflow
cargo build -q -p runtime-loader --bin bareflow-load --profile min-size \
    --no-default-features --features alloc,unix
T="${CARGO_TARGET_DIR:-target}"
BF="$T/debug/bareflow"
LD="$T/min-size/bareflow-load"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
echo "| workload | no checks | \`--interruptible\` | \`--fuel\` |"
echo "|---|---:|---:|---:|"
while read -r name export args; do
    row=""
    for mode in base int fuel; do
        case $mode in base) flag="" ;; int) flag="--interruptible" ;; fuel) flag="--fuel" ;; esac
        # shellcheck disable=SC2086
        "$BF" compile $flag -o "$TMP/$name.$mode.snap" "wasm-samples/$name.wasm" >/dev/null 2>&1
        # shellcheck disable=SC2086
        valgrind --tool=callgrind --callgrind-out-file="$TMP/cg" \
            "$LD" --invoke "$export" "$TMP/$name.$mode.snap" $args >"$TMP/$mode.out" 2>"$TMP/vg"
        ir=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$TMP/vg")
        row="$row $ir"
    done
    # Every variant must compute the same result.
    cmp -s "$TMP/base.out" "$TMP/int.out" && cmp -s "$TMP/base.out" "$TMP/fuel.out" || {
        echo "bounds-cost: $name: results differ between variants" >&2
        exit 1
    }
    echo "$name($(echo "$args" | tr " " ","))$row"
done <<'ROWS' | awk '
    { b = $2; i = $3; f = $4
      printf "| %s | %.1f | %.1f (%+.1f%%) | %.1f (%+.1f%%) |\n", $1, b / 1e6, i / 1e6, 100 * (i / b - 1), f / 1e6, 100 * (f / b - 1)
      li += log(i / b); lf += log(f / b); n++ }
    END { printf "| geometric mean | | %+.1f%% | %+.1f%% |\n", 100 * (exp(li / n) - 1), 100 * (exp(lf / n) - 1) }'
fibonacci fib 32
sum_to_n sum_to_n 30000000
multiply multiply 7 40000000
sha256 run 600
crc32 run 300
matmul run 300
nbody run 100000
sieve run 8000000
quicksort run 300000
minivm run 2000
ROWS
