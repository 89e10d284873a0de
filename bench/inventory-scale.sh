#!/usr/bin/env bash
# bench/inventory-scale.sh - how long fleetprune takes to load and resolve a large inventory
# (nothing is contacted): HOSTS hosts in GROUPS groups nested as a lattice (shared ancestors,
# several paths to `all`), with group_vars/ and host_vars/ files, resolved by
# `fleetprune inventory --output json`.
# Prints the best wall time of RUNS runs. The target is <= 0.1 s for 5000 hosts / 200 groups.
#
# usage: bench/inventory-scale.sh [--hosts N] [--groups N] [--runs N] [--fp-bin PATH]
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HOSTS=5000
GROUPS_COUNT=200
RUNS=5
FP_BIN=""
while (($#)); do
    case $1 in
        --hosts) HOSTS=$2; shift 2 ;;
        --groups) GROUPS_COUNT=$2; shift 2 ;;
        --runs) RUNS=$2; shift 2 ;;
        --fp-bin) FP_BIN=$2; shift 2 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done
if [[ -z $FP_BIN ]]; then
    echo "building fleetprune: cargo build --release" >&2
    (cd "$REPO" && cargo build --release --locked >&2)
    FP_BIN=${CARGO_TARGET_DIR:-$REPO/target}/release/fleetprune
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Groups g0..gN-1; the children of group g are 2g+1, 2g+2 and 3g+1 (a lattice: most groups
# have two parents, so there are many paths to `all`); hosts spread round-robin over the groups,
# a variable at each group.
python3 - "$work/hosts.yaml" "$HOSTS" "$GROUPS_COUNT" <<'PY'
import sys
path, hosts, groups = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(path, "w") as out:
    out.write("all:\n  vars:\n    ansible_user: ops\n")
    for g in range(groups):
        out.write(f"g{g}:\n  vars:\n    ansible_port: {2000 + g}\n")
        children = sorted({c for c in (2 * g + 1, 2 * g + 2, 3 * g + 1) if c < groups and c != g})
        if children:
            out.write("  children:\n")
            for c in children:
                out.write(f"    g{c}:\n")
        members = [h for h in range(g, hosts, groups)]
        if members:
            out.write("  hosts:\n")
            for h in members:
                out.write(f"    host-{h:05d}:\n")
PY
mkdir -p "$work/group_vars" "$work/host_vars"
for g in $(seq 0 10 $((GROUPS_COUNT - 1))); do
    echo "ansible_ssh_user: user-g$g" > "$work/group_vars/g$g.yml"
done
echo "ansible_host: 10.0.0.1" > "$work/host_vars/host-00001.yml"

# Wall time and CPU time (user + sys) of each run, best of RUNS: on a busy shared machine the
# wall time waits for a core, the CPU time does not.
best_wall="" best_cpu=""
TIMEFORMAT='%R %U %S'
for _ in $(seq "$RUNS"); do
    read -r wall user sys < <({ time ANSIBLE_CONFIG=/dev/null "$FP_BIN" inventory -i "$work/hosts.yaml" \
        --output json > "$work/out.json"; } 2>&1)
    wall_ms=$(awk -v w="$wall" 'BEGIN { printf "%d", w * 1000 }')
    cpu_ms=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%d", (u + s) * 1000 }')
    if [[ -z $best_wall || $wall_ms -lt $best_wall ]]; then best_wall=$wall_ms; fi
    if [[ -z $best_cpu || $cpu_ms -lt $best_cpu ]]; then best_cpu=$cpu_ms; fi
done
resolved=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["hosts"]))' "$work/out.json")
echo "inventory of $HOSTS hosts / $GROUPS_COUNT groups: $resolved hosts resolved; best of $RUNS runs: ${best_wall} ms wall, ${best_cpu} ms CPU (load average $(cut -d' ' -f1 /proc/loadavg))"
