#!/usr/bin/env bash
# lab/demo.sh - the main job on a local lab fleet: bring up N seeded lab hosts (real sshd +
# dockerd), a mixed fleet of Docker 20.10, Docker 26 (overlay2) and Docker 26 with the containerd
# image store, show their disk usage, run a plan-free `fleetprune prune` (kinds on the command
# line), print the table, and tear the lab down again (unless --keep).
#
# Run it as yourself: fleetprune is built and run as you, and the lab scripts it calls become
# root themselves (through sudo when you are not root).
#
# Usage: lab/demo.sh [-n N] [--keep]      (default N=16, at least 3; the lab dir is /tmp/fleetprune-demo)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
hosts=16
keep=0
dir=/tmp/fleetprune-demo
while (($#)); do
    case $1 in
        -n) hosts=${2:?-n needs a number}; shift 2 ;;
        --keep) keep=1; shift ;;
        *) echo "usage: $0 [-n N] [--keep]" >&2; exit 2 ;;
    esac
done
[[ $hosts =~ ^[0-9]+$ ]] && ((hosts >= 3 && hosts <= 99)) || { echo "$0: -n must be 3..99" >&2; exit 2; }

cargo build --release --locked --manifest-path "$repo/Cargo.toml" >&2
fleetprune=$repo/target/release/fleetprune

# The first third of the hosts run 20.10, the second third 26, the rest 26 with the containerd
# image store; the last host's sshd refuses stream-local forwarding (dial-stdio fallback).
names() { local i; for ((i = $1; i <= $2; i++)); do printf 'host%02d,' "$i"; done; }
third=$((hosts / 3))
"$here/up.sh" -n "$hosts" -d "$dir" -p 22600 --no-streamlocal "host$(printf %02d "$hosts")" \
    --engine-26 "$(names $((third + 1)) $((2 * third)))" \
    --containerd-store "$(names $((2 * third + 1)) "$hosts")"
if ((keep == 0)); then
    trap '"$here/down.sh" "$dir"' EXIT
fi
"$here/seed.sh" "$dir"

export FLEETPRUNE_INVENTORY=$dir/inventory.yaml FLEETPRUNE_KNOWN_HOSTS=$dir/known_hosts
echo
echo "\$ fleetprune df"
"$fleetprune" df
echo
echo "\$ fleetprune prune --system --volumes --build-cache -a --yes"
start=$EPOCHREALTIME
status=0
"$fleetprune" prune --system --volumes --build-cache -a --yes || status=$?
echo "(fleetprune wall time: $(awk -v s="$start" -v e="$EPOCHREALTIME" 'BEGIN { printf "%.2f", e - s }')s, exit code $status)"
if ((keep)); then
    echo "lab kept in $dir; stop it with: lab/down.sh $dir"
fi
exit "$status"
