#!/usr/bin/env bash
# bench/soak.sh - repeated prunes against a lab fleet with a random fault injected on one host
# each run (tests/fault_proxy: endless body, huge Content-Length, connection cut mid-prune,
# 409, hostile strings, or none), checking after each run that the host's state matches its
# report. Prints: soak: runs=N faults=F mismatches=M
#
# Usage: bench/soak.sh [RUNS]   (default 25; needs root for the lab, like cargo test)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
RUNS=${1:-25}
FLEETPRUNE_SOAK_RUNS=$RUNS cargo test --locked --test faults soak_random_faults -- --nocapture 2>&1 |
    tee /dev/stderr | grep -E '^soak: runs=' || { echo "soak: no figures (see output above)" >&2; exit 1; }
