#!/usr/bin/env bash
# Rebuilds the snapshot seeds of the `snapshot_load` fuzz target (after a snapshot format
# change) with the workspace's CLI. The other seeds are plain files.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q -p bareflow --bin bareflow
bf=target/debug/bareflow
out=fuzz/corpus/snapshot_load
"$bf" compile fuzz/corpus/parse/small.wat -o "$out/small.snap"
"$bf" compile fuzz/corpus/parse/small.wat --xip -o "$out/small-xip.snap"
"$bf" compile wasm-samples/fibonacci.wat --memory guard -o "$out/fib-guard.snap"
