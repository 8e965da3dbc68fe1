#!/bin/sh
# Builds the tiny snapshot loader exactly as shipped (no std, min-size profile: opt-level z,
# LTO, panic=abort, stripped) and prints its size in bytes. Fails if it exceeds the budget.
#   scripts/loader-size.sh            # build + measure (budget 65536 bytes)
#   BUDGET=70000 scripts/loader-size.sh
#   FEATURES=sign BUDGET=200000 scripts/loader-size.sh   # with the signature verifier (--pubkey)
set -eu
cd "$(dirname "$0")/.."
BUDGET="${BUDGET:-65536}"
cargo build -q -p runtime-loader --bin bareflow-load --profile min-size \
    --no-default-features --features "alloc,unix${FEATURES:+,$FEATURES}"
BIN="${CARGO_TARGET_DIR:-target}/min-size/bareflow-load"
SIZE=$(wc -c < "$BIN")
echo "bareflow-load (no_std, min-size, stripped${FEATURES:+, +$FEATURES}): $SIZE bytes (budget $BUDGET)"
[ "$SIZE" -le "$BUDGET" ]
