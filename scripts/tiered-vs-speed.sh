#!/usr/bin/env bash
# Whole-process time of `bareflow run` in tiered vs jit-speed mode, one table:
#   * the C kernels built as WASI programs (clang --target=wasm32-wasi -O2; wasm-samples/c
#     plus C versions of sum_to_n, multiply, fib and a memcpy-heavy kernel): `bareflow run
#     --mode M prog.wasm N`, the hot loop in a function called once from `main`;
#   * outside the mean: the first call of sum_to_n(3e7) (`--invoke` on sum_to_n.wasm) and
#     fib(10) (startup-dominated: tiered should not pay for the JIT there).
# Each cell: hyperfine (-N), RUNS runs after 1 warm-up; `wall` is the median wall time,
# `cpu` the mean user+system time. The process is single-threaded (tiered compiles
# synchronously), so with an idle machine the two agree; on a loaded machine wall time
# mostly measures the scheduler, and the ratios are taken from `cpu` (both are printed).
# Usage: scripts/tiered-vs-speed.sh [RUNS]   (default 7). Prints the load average first.
# Needs: a release build (cargo build --release -p bareflow-compiler --bin bareflow),
# clang with wasi-libc (Debian: clang, wasi-libc, libclang-rt-dev-wasm32), hyperfine, jq.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BAREFLOW:-target/release/bareflow}
RUNS=${1:-7}
S=wasm-samples
for tool in clang hyperfine jq; do
  command -v "$tool" >/dev/null || { echo "tiered-vs-speed.sh: '$tool' not found" >&2; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ---- the WASI programs ---------------------------------------------------------------------
cat >"$tmp/extra.h" <<'EOF'
#include <stdint.h>
#include <string.h>
/* As bench/native/trio.c: the empty asm keeps one iteration per term (no closed form). */
static int64_t sum_to_n_run(int32_t n) {
    uint64_t acc = 0;
    for (int32_t i = 1; i <= n; i++) { acc += (uint64_t)(int64_t)i; __asm__ volatile("" : "+r"(acc)); }
    return (int64_t)acc;
}
static int64_t multiply_run(int32_t b) {
    uint32_t acc = 0;
    for (; b > 0; b--) { acc += 7u; __asm__ volatile("" : "+r"(acc)); }
    return (int32_t)acc;
}
static int32_t fib(int32_t n) { return n < 2 ? n : (int32_t)((uint32_t)fib(n - 1) + (uint32_t)fib(n - 2)); }
static int64_t fib_run(int32_t n) { return fib(n); }
/* Copies 64 KiB back and forth n times (memcpy from wasi-libc / memory.copy). */
static uint8_t mc_a[1 << 16], mc_b[1 << 16];
static int64_t memcpy_heavy_run(int32_t n) {
    uint64_t s = 0;
    for (int i = 0; i < (1 << 16); i++) mc_a[i] = (uint8_t)(i * 7);
    for (int32_t r = 0; r < n; r++) {
        memcpy(mc_b, mc_a, sizeof mc_a);
        mc_b[r & 0xffff] ^= 1;
        memcpy(mc_a, mc_b, sizeof mc_b);
        s += mc_a[(r * 31) & 0xffff];
    }
    return (int64_t)s;
}
EOF
# name  source (kernel .c, or "extra")  argument
kernels=(
  "sum_to_n extra 30000000"
  "multiply extra 40000000"
  "fib extra 35"
  "memcpy_heavy extra 3000"
  "sha256 sha256 600"
  "crc32 crc32 300"
  "matmul matmul 300"
  "nbody nbody 100000"
  "sieve sieve 8000000"
  "quicksort quicksort 300000"
  "minivm minivm 2000"
)
for k in "${kernels[@]}"; do
  read -r name src _ <<<"$k"
  inc="$src.c"
  [ "$src" = extra ] && inc=extra.h
  printf '#include <stdio.h>\n#include <stdlib.h>\n#include "%s"\nint main(int argc, char **argv) {\n  int n = argc > 1 ? atoi(argv[1]) : 1;\n  printf("%%lld\\n", (long long)%s_run(n));\n  return 0;\n}\n' \
    "$inc" "$name" >"$tmp/main_$name.c"
  clang --target=wasm32-wasi -O2 -ffp-contract=off -fno-math-errno -I"$S/c" -I"$tmp" \
    "$tmp/main_$name.c" -o "$tmp/$name.wasm"
done

# ---- timing ----------------------------------------------------------------------------------
cell() { # mode args... -> "wall_ms cpu_ms"
  local mode=$1; shift
  hyperfine -N -w 1 -r "$RUNS" --export-json "$tmp/h.json" \
    "$BIN run --mode $mode $*" >/dev/null 2>&1
  jq -r '.results[0] | "\(.median * 1000) \((.user + .system) * 1000)"' "$tmp/h.json"
}
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (before the run), $(nproc) cores"
printf "| workload | jit-speed wall ms | tiered wall ms | jit-speed cpu ms | tiered cpu ms | tiered / jit-speed (cpu) | (wall) |\n"
printf "|---|---:|---:|---:|---:|---:|---:|\n"
logsum=0; n=0; worst=0; worst_name=
row() { # label in_mean args...
  local label=$1 in_mean=$2; shift 2
  local sw sc tw tc rc rw
  read -r sw sc <<<"$(cell jit-speed "$@")"
  read -r tw tc <<<"$(cell tiered "$@")"
  rc=$(awk -v a="$tc" -v b="$sc" 'BEGIN {printf "%.2f", a / b}')
  rw=$(awk -v a="$tw" -v b="$sw" 'BEGIN {printf "%.2f", a / b}')
  printf "| %s | %.1f | %.1f | %.1f | %.1f | %sx | %sx |\n" "$label" "$sw" "$tw" "$sc" "$tc" "$rc" "$rw"
  if [ "$in_mean" = 1 ]; then
    logsum=$(awk -v l="$logsum" -v r="$rc" 'BEGIN {print l + log(r)}'); n=$((n + 1))
    if awk -v r="$rc" -v w="$worst" 'BEGIN {exit !(r > w)}'; then worst=$rc; worst_name=$label; fi
  fi
}
for k in "${kernels[@]}"; do
  read -r name _ arg <<<"$k"
  row "$name ($arg, WASI)" 1 "$tmp/$name.wasm" "$arg"
done
awk -v l="$logsum" -v n="$n" -v w="$worst" -v wn="$worst_name" \
  'BEGIN {printf "| geometric mean (cpu), WASI kernels | | | | | %.2fx | |\n| worst kernel (cpu) | | | | | %sx (%s) | |\n", exp(l / n), w, wn}'
row "first call of sum_to_n(3e7), --invoke, not in the mean" 0 \
  --invoke sum_to_n "$S/sum_to_n.wasm" 30000000
row "fib(10), --invoke, not in the mean" 0 --invoke fib "$S/fibonacci.wasm" 10
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (after the run)"
