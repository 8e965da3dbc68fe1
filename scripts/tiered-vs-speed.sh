#!/usr/bin/env bash
# Whole-process time of `bareflow run` in tiered vs jit-speed mode, one table:
#   * the C kernels built as WASI programs (clang --target=wasm32-wasi -O2; wasm-samples/c
#     plus C versions of sum_to_n, multiply, fib and a memcpy-heavy kernel): `bareflow run
#     --mode M prog.wasm N`, the hot loop in a function called once from `main`;
#   * the bundled samples (wasm-samples/*.wasm, no libc) called once with `--invoke`: a
#     second mean, stricter (jit-speed's eager compile of the whole module is small there,
#     while in the WASI programs it compiles all of the linked libc before `main`); its
#     first row is the first call of sum_to_n(3e7);
#   * outside both means: fib(10) (startup-dominated: tiered should not pay for the JIT).
# Every program's output is compared between the two modes before timing.
# Each cell: hyperfine (-N), RUNS runs after 1 warm-up; `wall` is the median wall time,
# `cpu` the mean user+system time. The process is single-threaded (tiered compiles
# synchronously), so with an idle machine the two agree; on a loaded machine wall time
# mostly measures the scheduler, and the ratios are taken from `cpu` (both are printed).
# Usage: scripts/tiered-vs-speed.sh [RUNS]   (default 7). Prints the load average first.
# Needs: a release build (cargo build --release -p bareflow --bin bareflow),
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
same_output() { # args...: tiered and jit-speed print the same
  local a b
  a=$("$BIN" run --mode jit-speed "$@")
  b=$("$BIN" run --mode tiered "$@")
  [ "$a" = "$b" ] || { echo "tiered-vs-speed.sh: outputs differ for $*: $a vs $b" >&2; exit 1; }
}
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
  same_output "$@"
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
summary() { # title
  awk -v l="$logsum" -v n="$n" -v w="$worst" -v wn="$worst_name" -v t="$1" \
    'BEGIN {printf "| geometric mean (cpu), %s | | | | | %.2fx | |\n| worst (cpu), %s | | | | | %sx (%s) | |\n", t, exp(l / n), t, w, wn}'
  logsum=0; n=0; worst=0; worst_name=
}
summary "WASI kernels"
invoke_rows=(
  "sum_to_n(3e7), first call|$S/sum_to_n.wasm sum_to_n 30000000"
  "multiply|$S/multiply.wasm multiply 7 40000000"
  "fib(35)|$S/fibonacci.wasm fib 35"
  "sha256|$S/sha256.wasm run 600"
  "crc32|$S/crc32.wasm run 300"
  "matmul|$S/matmul.wasm run 300"
  "nbody|$S/nbody.wasm run 100000"
  "sieve|$S/sieve.wasm run 8000000"
  "quicksort|$S/quicksort.wasm run 300000"
  "minivm|$S/minivm.wasm run 2000"
)
for r in "${invoke_rows[@]}"; do
  label=${r%%|*}
  read -r file fn args <<<"${r#*|}"
  # shellcheck disable=SC2086
  row "$label (--invoke)" 1 --invoke "$fn" "$file" $args
done
summary "--invoke samples"
row "fib(10) (--invoke), in neither mean" 0 --invoke fib "$S/fibonacci.wasm" 10
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (after the run)"
