#!/usr/bin/env bash
# lab/demo.sh - the main job on a local lab fleet: bring up N seeded lab hosts (real sshd +
# engine), a mixed fleet of Docker 20.10, Docker 26 and 28 (overlay2 and the containerd image
# store), rootful Podman and rootless Podman, show their disk usage, run a plan-free
# `fleetprune prune` (kinds on the command line), print the table, and tear the lab down again
# (unless --keep).
#
# Run it as yourself: fleetprune is built and run as you, and the lab scripts it calls become
# root themselves (through sudo when you are not root).
#
# Usage: lab/demo.sh [-n N] [--keep]      (default N=16, at least 7; the lab dir is /tmp/fleetprune-demo)
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
[[ $hosts =~ ^[0-9]+$ ]] && ((hosts >= 7 && hosts <= 99)) || { echo "$0: -n must be 7..99" >&2; exit 2; }

cargo build --release --locked --manifest-path "$repo/Cargo.toml" >&2
fleetprune=$repo/target/release/fleetprune

# Host i runs engine i mod 7: 20.10, 26, 26 with the containerd store, 28, 28 with the
# containerd store, Podman, rootless Podman; the last host's sshd refuses stream-local
# forwarding (dial-stdio fallback).
flags=()
for ((i = 1; i <= hosts; i++)); do
    name=$(printf 'host%02d' "$i")
    case $(((i - 1) % 7)) in
        1) flags+=(--engine-26 "$name") ;;
        2) flags+=(--engine-26 "$name" --containerd-store "$name") ;;
        3) flags+=(--engine-28 "$name") ;;
        4) flags+=(--engine-28 "$name" --containerd-store "$name") ;;
        5) flags+=(--engine-podman "$name") ;;
        6) flags+=(--engine-podman-rootless "$name") ;;
    esac
done
"$here/up.sh" -n "$hosts" -d "$dir" -p 22600 --no-streamlocal "host$(printf %02d "$hosts")" "${flags[@]}"
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
