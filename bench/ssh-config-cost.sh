#!/usr/bin/env bash
# bench/ssh-config-cost.sh: what resolving OpenSSH client configuration costs per host, with
# fleetprune's own reader (one `fleetprune inventory` over N hosts) beside running `ssh -G` once
# per host (the alternative: OpenSSH itself as the resolver). Same config, same hosts, same run;
# medians of R runs. Prints ms per host for each and the ratio.
#
#   bench/ssh-config-cost.sh [-n HOSTS] [-r RUNS]     (defaults: 1000 hosts, 3 runs)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
N=1000
RUNS=3
while [ $# -gt 0 ]; do
    case "$1" in
        -n) N="$2"; shift ;;
        -r) RUNS="$2"; shift ;;
        *) echo "usage: bench/ssh-config-cost.sh [-n HOSTS] [-r RUNS]" >&2; exit 2 ;;
    esac
    shift
done

FP="${CARGO_TARGET_DIR:-$ROOT/target}/release/fleetprune"
(cd "$ROOT" && cargo build --release --locked --quiet)
WORK="$(mktemp -d /tmp/fp-sshcfg.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

# A config shaped like a real one: an Include, Host globs and negations, Match blocks, tokens.
cat >"$WORK/included.conf" <<'EOF'
Host db-*
    User dba
    Port 2200
EOF
cat >"$WORK/config" <<EOF
Include $WORK/included.conf
Host web-* !web-9*
    User farm
    IdentityFile ~/.ssh/id_farm
Host build-*
    HostName %h.ci.example.net
Match host *.ci.example.net
    User ci
    UserKnownHostsFile ~/.ssh/known_hosts.d/%h
Host *
    ServerAliveInterval 30
    HashKnownHosts yes
EOF
hosts=()
for ((i = 0; i < N; i++)); do
    case $((i % 4)) in
        0) hosts+=("web-$i") ;;
        1) hosts+=("build-$i") ;;
        2) hosts+=("db-$i") ;;
        3) hosts+=("plain-$i") ;;
    esac
done
inline="$(IFS=,; echo "${hosts[*]}"),"

now() { date +%s.%N; }
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

fp_times=() ssh_times=()
for ((run = 1; run <= RUNS; run++)); do
    t0=$(now)
    "$FP" inventory -F "$WORK/config" -i "$inline" -o json --known-hosts /dev/null >"$WORK/inventory.json"
    t1=$(now)
    [ "$(jq ".hosts | length" "$WORK/inventory.json")" = "$N" ] || { echo "fleetprune resolved a different host count" >&2; exit 1; }
    t1b=$(now)
    for host in "${hosts[@]}"; do
        ssh -G -T -F "$WORK/config" "$host" >/dev/null </dev/null
    done
    t2=$(now)
    fp_times+=("$(echo "$t1 - $t0" | bc)")
    ssh_times+=("$(echo "$t2 - $t1b" | bc)")
done
fp=$(printf '%s\n' "${fp_times[@]}" | median)
ssh=$(printf '%s\n' "${ssh_times[@]}" | median)
echo "ssh config resolution, $N hosts, median of $RUNS runs ($(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)):"
printf '  fleetprune inventory (own reader, all hosts): %7.3f s  %6.3f ms/host\n' "$fp" "$(echo "1000 * $fp / $N" | bc -l)"
printf '  ssh -G once per host:                         %7.3f s  %6.3f ms/host\n' "$ssh" "$(echo "1000 * $ssh / $N" | bc -l)"
printf '  ratio ssh -G / fleetprune: %.0fx\n' "$(echo "$ssh / $fp" | bc -l)"
