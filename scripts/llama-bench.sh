#!/usr/bin/env bash
# The transformer workload (wasm-samples/wasi/llama) as whole processes: tokens/s of native
# vs every BareFlow mode, bareflow-load and node's V8 on the bench checkpoint (dim 288,
# 6 layers, 6 heads, vocab 32,000: llama2.c's stories15M shape, deterministic weights);
# the profile -> snapshot story; the grow-to-shrink table. Every run's stdout (generated
# text + logits hash) must equal native's, or the script fails.
#
#   scripts/llama-bench.sh [STEPS [REPS]]      defaults: 64 tokens, 3 runs per row (median)
#   INTERP_STEPS=8      tokens for the interpreter rows (they are ~50x slower)
#   LOADER=path         the WASI-capable bareflow-load to measure (default: the std build,
#                       `cargo build --release -p runtime-loader --bin bareflow-load --features wasi`)
#   NICE=10             niceness of the measured processes
#
# tokens/s is the program's own figure (stderr): the steps after the first, so checkpoint
# loading and compilation are not in it. Writes target/llama/RESULTS.md and prints it
# (bench/RESULTS-llama.md is a copy of one run).
# Needs clang (native builds and the generator) and a release build (built here).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
STEPS=${1:-64}
REPS=${2:-3}
INTERP_STEPS=${INTERP_STEPS:-8}
NICE=${NICE:-10}
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
src=wasm-samples/wasi/llama
out=target/llama
mkdir -p "$out"

cargo build -q --release -p bareflow --bin bareflow
BF=$root/target/release/bareflow
if [ -z "${LOADER:-}" ]; then
    cargo build -q --release -p runtime-loader --bin bareflow-load --features wasi
    LOADER=$root/target/release/bareflow-load
    loader_what="std build with the wasi feature (release)"
else
    loader_what="$LOADER"
fi

CFLAGS="-O2 -ffp-contract=off -fno-math-errno"
clang $CFLAGS -o "$out/gen" "$src/gen.c"
clang $CFLAGS -o "$out/llama-native" "$src/llama.c"
clang $CFLAGS -march=native -o "$out/llama-native-march" "$src/llama.c"
(cd "$out" && ./gen bench bench.bin bench.tok)

ARGS=(bench.bin bench.tok)
# Reference outputs.
(cd "$out" && ./llama-native "${ARGS[@]}" -n "$STEPS" >ref-"$STEPS".txt 2>/dev/null)
(cd "$out" && ./llama-native "${ARGS[@]}" -n "$INTERP_STEPS" >ref-"$INTERP_STEPS".txt 2>/dev/null)

report=$out/RESULTS.md
: >"$report.rows"

# measure NAME STEPS CMD...: runs CMD (in $out) REPS times, checks stdout, records the
# median tokens/s.
measure() {
    local name=$1 steps=$2
    shift 2
    local rates=()
    for _ in $(seq "$REPS"); do
        local status=0
        (cd "$out" && nice -n "$NICE" "$@" -n "$steps" >run.out 2>run.err) || status=$?
        if [ "$status" != 0 ]; then
            echo "llama-bench: $name failed (exit status $status):" >&2
            tail -5 "$out/run.err" >&2
            if [ -n "${PEER:-}" ]; then # a peer's crash is reported, not fatal
                echo "$name|$steps|failed (exit status $status)" >>"$report.rows"
                return 0
            fi
            exit 1
        fi
        if ! cmp -s "$out/run.out" "$out/ref-$steps.txt"; then
            echo "llama-bench: $name: stdout differs from native" >&2
            diff "$out/run.out" "$out/ref-$steps.txt" >&2 || true
            exit 1
        fi
        rates+=("$(sed -n 's/.*achieved tok\/s: //p' "$out/run.err" | tail -1)")
    done
    local med
    med=$(printf '%s\n' "${rates[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    echo "$name|$steps|$med" >>"$report.rows"
    echo "llama-bench: $name: ${rates[*]} tok/s (median $med)" >&2
}

measure "native clang -O2" "$STEPS" ./llama-native "${ARGS[@]}"
measure "native clang -O2 -march=native" "$STEPS" ./llama-native-march "${ARGS[@]}"
for prog in llama llama_simd; do
    wasm=$root/$src/$prog.wasm
    run=("$BF" run --dir .::.)
    measure "$prog interp" "$INTERP_STEPS" "${run[@]}" --mode interp "$wasm" "${ARGS[@]}"
    for mode in jit-none jit-speed tiered snapshot snapshot-xip; do
        measure "$prog $mode" "$STEPS" "${run[@]}" --mode "$mode" "$wasm" "${ARGS[@]}"
    done
    measure "$prog jit-speed-guard" "$STEPS" "${run[@]}" --mode jit-speed --memory guard "$wasm" "${ARGS[@]}"
    measure "$prog snapshot-guard" "$STEPS" "${run[@]}" --mode snapshot --memory guard "$wasm" "${ARGS[@]}"
    "$BF" compile "$wasm" -o "$out/$prog.snap" >"$out/$prog.compile.txt" 2>&1
    "$BF" compile --target-cpu native "$wasm" -o "$out/$prog-native.snap" >/dev/null 2>&1
    measure "$prog bareflow-load" "$STEPS" "$LOADER" "$prog.snap" --dir .::. -- "${ARGS[@]}"
    measure "$prog bareflow-load --target-cpu native" "$STEPS" "$LOADER" "$prog-native.snap" --dir .::. -- "${ARGS[@]}"
    if command -v node >/dev/null 2>&1; then
        PEER=1 measure "$prog node-v8 $(node --version)" "$STEPS" node --no-warnings "$root/bench/peers/wasi.mjs" "$wasm" . "${ARGS[@]}"
    fi
done

# Profile -> snapshot: a profile from a short interpreted run, then compile with it.
prog=llama
wasm=$root/$src/$prog.wasm
rm -f "$out/llama.prof"
(cd "$out" && "$BF" run --mode interp --profile-out llama.prof --dir .::. "$wasm" "${ARGS[@]}" -n 4 >/dev/null 2>&1)
"$BF" profile show "$out/llama.prof" >"$out/profile.txt"
"$BF" compile --profile "$out/llama.prof" "$wasm" -o "$out/llama-prof.snap" >"$out/llama-prof.compile.txt" 2>&1
measure "llama bareflow-load, profiled snapshot" "$STEPS" "$LOADER" llama-prof.snap --dir .::. -- "${ARGS[@]}"

size() { wc -c <"$1" | tr -d ' '; }
rate() { awk -F'|' -v n="$1" '$1 == n {print $3}' "$report.rows"; }
native_rate=$(rate "native clang -O2")
{
    echo "# Transformer workload (scripts/llama-bench.sh)"
    echo
    echo "* date: $(date -u '+%Y-%m-%d %H:%M UTC'); CPU: $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1); cores: $(nproc)"
    echo "* load average before/after: $LOAD_BEFORE / $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "* checkpoint: dim 288, hidden 768, 6 layers, 6 heads, vocab 32000, seq 256 ($(size "$out/bench.bin") bytes, written by gen.c)"
    echo "* greedy generation, $STEPS tokens ($INTERP_STEPS for interp), median of $REPS runs of the program's own tokens/s (steps after the first); every stdout equal to native's"
    echo "* loader: $loader_what"
    echo
    echo "| runner | tokens | tokens/s | native / runner |"
    echo "|---|---:|---:|---:|"
    while IFS='|' read -r name steps r; do
        case $r in
        failed*) echo "| $name | $steps | $r | |" ;;
        *) echo "| $name | $steps | $r | $(awk -v a="$native_rate" -v b="$r" 'BEGIN {printf "%.2fx", a / b}') |" ;;
        esac
    done <"$report.rows"
    echo
    echo "## Profile -> snapshot"
    echo
    echo "Profile: \`bareflow run --mode interp --profile-out llama.prof\` (4 tokens); hottest functions (\`bareflow profile show\`):"
    echo
    echo '```'
    head -12 "$out/profile.txt"
    echo '```'
    echo
    echo "* \`bareflow compile\`: $(grep '^compiled' "$out/llama.compile.txt")"
    echo "* \`bareflow compile --profile\`: $(grep '^compiled' "$out/llama-prof.compile.txt")"
    echo "* tokens/s via bareflow-load: unprofiled $(rate "llama bareflow-load"), profiled $(rate "llama bareflow-load, profiled snapshot")"
    echo
    echo "## Grow to shrink"
    echo
    bf=$(size "$BF")
    strip -o "$out/bareflow-load.stripped" "$LOADER" 2>/dev/null || cp "$LOADER" "$out/bareflow-load.stripped"
    ld=$(size "$out/bareflow-load.stripped")
    echo "Bytes; \`bareflow\` as built (release, not stripped), \`bareflow-load\` stripped; snapshots at the baseline (SSE2)."
    echo
    echo "| program | \`bareflow\` | \`bareflow-load\` | .wasm | snapshot | loader + snapshot | snapshot tok/s | native tok/s |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|"
    for p in llama llama_simd; do
        sn=$(size "$out/$p.snap")
        echo "| $p | $bf | $ld | $(size "$src/$p.wasm") | $sn | $((ld + sn)) | $(rate "$p bareflow-load") | $native_rate |"
    done
} >"$report"
rm -f "$report.rows" "$out/run.out" "$out/run.err"
cat "$report"
