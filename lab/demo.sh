#!/usr/bin/env bash
# lab/demo.sh - the main job on a local lab fleet: bring up N seeded lab hosts (real sshd +
# dockerd), show their disk usage, run a plan-free `fleetprune prune` (kinds on the command
# line), print the table, and tear the lab down again (unless --keep).
#
# Usage: sudo lab/demo.sh [-n N] [--keep]      (default N=16; the lab dir is /tmp/fleetprune-demo)
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

cargo build --release --locked --manifest-path "$repo/Cargo.toml" >&2
fleetprune=$repo/target/release/fleetprune

"$here/up.sh" -n "$hosts" -d "$dir" -p 22600 --no-streamlocal "host$(printf %02d "$hosts")"
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
    echo "lab kept in $dir; stop it with: sudo lab/down.sh $dir"
fi
exit "$status"
