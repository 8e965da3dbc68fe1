#!/bin/sh
# Builds the tiny snapshot loader exactly as shipped (no std, min-size profile: opt-level z,
# LTO, panic=abort, stripped) and prints its size in bytes. Fails if it exceeds the budget
# (BAREFLOW_LOAD_BUDGET, scripts/budgets.env).
#   scripts/loader-size.sh
#   BAREFLOW_LOAD_BUDGET=70000 scripts/loader-size.sh
#   FEATURES=sign BAREFLOW_LOAD_BUDGET=200000 scripts/loader-size.sh   # with the signature verifier (--pubkey)
# scripts/sizes.sh measures this and every other size the docs quote.
set -eu
cd "$(dirname "$0")/.."
. scripts/budgets.env
BUDGET="${BUDGET:-$BAREFLOW_LOAD_BUDGET}"
cargo build -q -p runtime-loader --bin bareflow-load --profile min-size \
    --no-default-features --features "alloc,unix${FEATURES:+,$FEATURES}"
BIN="${CARGO_TARGET_DIR:-target}/min-size/bareflow-load"
SIZE=$(wc -c < "$BIN")
echo "bareflow-load (no_std, min-size, stripped${FEATURES:+, +$FEATURES}): $SIZE bytes (budget $BUDGET)"
if [ "$SIZE" -gt "$BUDGET" ]; then
    echo "error: bareflow-load is $SIZE bytes, over its budget of $BUDGET" >&2
    exit 1
fi
