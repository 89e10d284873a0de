#!/usr/bin/env bash
# bench/fuzz.sh - runs each cargo-fuzz target (fuzz/) for SECS seconds on the nightly toolchain and
# prints one line per target: runs, coverage and crashes. Needs `cargo install cargo-fuzz`.
#
# Usage: bench/fuzz.sh [SECS]   (default 60)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SECS=${1:-60}
for target in inventory limit filter; do
    log=$(mktemp)
    status=0
    cargo +nightly fuzz run --sanitizer none "$target" -- -max_total_time="$SECS" -max_len=4096 >"$log" 2>&1 || status=$?
    runs=$(grep -oE '#[0-9]+' "$log" | tail -1 | tr -d '#')
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1)
    crashes=$(grep -c 'ERROR: libFuzzer\|panicked' "$log" || true)
    echo "fuzz: target=$target seconds=$SECS runs=${runs:-0} ${cov:-cov: ?} crashes=$crashes exit=$status"
    rm -f "$log"
done
