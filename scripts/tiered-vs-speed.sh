#!/usr/bin/env bash
# Whole-process time of `bareflow run` in tiered vs jit-speed mode on the bundled samples
# (each hot loop runs in a function called once from the host: OSR decides tiered's time).
# Usage: scripts/tiered-vs-speed.sh [RUNS]   (default 5; median per cell, in ms)
# Needs a release build: cargo build --release -p bareflow-compiler --bin bareflow
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BAREFLOW:-target/release/bareflow}
RUNS=${1:-5}
S=wasm-samples
rows=(
  "sum_to_n $S/sum_to_n.wasm sum_to_n 30000000"
  "multiply $S/multiply.wasm multiply 7 40000000"
  "fib(35) $S/fibonacci.wasm fib 35"
  "sha256 $S/sha256.wasm run 600"
  "crc32 $S/crc32.wasm run 300"
  "matmul $S/matmul.wasm run 300"
  "nbody $S/nbody.wasm run 100000"
  "sieve $S/sieve.wasm run 8000000"
  "quicksort $S/quicksort.wasm run 300000"
  "minivm $S/minivm.wasm run 2000"
)
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time_ms() { # mode file func args...
  local mode=$1 file=$2 func=$3; shift 3
  for _ in $(seq "$RUNS"); do
    local t0 t1
    t0=$(date +%s%N)
    "$BIN" run --mode "$mode" --invoke "$func" "$file" "$@" >/dev/null
    t1=$(date +%s%N)
    echo $(( (t1 - t0) / 1000 ))
  done | median | awk '{printf "%.1f", $1 / 1000}'
}
printf "| workload | jit-speed ms | tiered ms | tiered / jit-speed |\n|---|---:|---:|---:|\n"
logsum=0; n=0
for row in "${rows[@]}"; do
  read -r name file func args <<<"$row"
  # shellcheck disable=SC2086
  s=$(time_ms jit-speed "$file" "$func" $args)
  # shellcheck disable=SC2086
  t=$(time_ms tiered "$file" "$func" $args)
  r=$(awk -v a="$t" -v b="$s" 'BEGIN {printf "%.2f", a / b}')
  printf "| %s | %s | %s | %sx |\n" "$name" "$s" "$t" "$r"
  logsum=$(awk -v l="$logsum" -v r="$r" 'BEGIN {print l + log(r)}'); n=$((n + 1))
done
awk -v l="$logsum" -v n="$n" 'BEGIN {printf "| geometric mean | | | %.2fx |\n", exp(l / n)}'
# A short run (startup-dominated), outside the mean: tiered should not pay for the JIT here.
s=$(time_ms jit-speed $S/fibonacci.wasm fib 10)
t=$(time_ms tiered $S/fibonacci.wasm fib 10)
printf "| fib(10), not in the mean | %s | %s | %sx |\n" "$s" "$t" \
  "$(awk -v a="$t" -v b="$s" 'BEGIN {printf "%.2f", a / b}')"
