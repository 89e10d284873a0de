#!/usr/bin/env bash
# bench/release-profile.sh - two builds of fleetprune side by side, in the same run, for choosing
# Cargo.toml's [profile.release]: binary size (as built, and stripped as packaging/deb.sh ships
# it), cold start (`fleetprune --version`, hyperfine), loading the 5,000-host / 200-group
# inventory of bench/inventory-scale.sh (best of 5, wall and CPU), and the controller's CPU
# (user + sys, /usr/bin/time) for `fleetprune ping` of 64 sessions (16 inventory aliases of each of
# 4 lab hosts), R rounds interleaved, medians.
#
# Usage: bench/release-profile.sh BEFORE AFTER [-r ROUNDS] [-p PORT_BASE]   (ROUNDS 10)
#   e.g. build with the old profile, cp target/release/fleetprune /tmp/fp-before, build with the
#   new one, then: bench/release-profile.sh /tmp/fp-before target/release/fleetprune
set -euo pipefail

BENCH_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_SRC/.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../lab/lib.sh
source "$REPO/lab/lib.sh"

(($# >= 2)) || { echo "usage: bench/release-profile.sh BEFORE AFTER [-r ROUNDS] [-p PORT_BASE]" >&2; exit 2; }
work=$(mktemp -d /tmp/fp-release-profile.XXXXXX)
chmod 0755 "$work" # the lab user must reach the lab dir inside
cp "$1" "$work/before"
cp "$2" "$work/after"
shift 2
ROUNDS=10
PORT=24700
while (($#)); do
    case $1 in
        -r) ROUNDS=$2; shift 2 ;;
        -p) PORT=$2; shift 2 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done
for command in hyperfine /usr/bin/time strip python3; do
    command -v "$command" >/dev/null || lab_die "$command is missing (apt-get install hyperfine time binutils)"
done
lab=$work/lab
trap 'bash "$REPO/lab/down.sh" "$lab" >/dev/null 2>&1 || true; rm -rf -- "$work"' EXIT

echo "== size (bytes): as built / stripped (strip --strip-unneeded, as packaging/deb.sh)"
for build in before after; do
    cp "$work/$build" "$work/$build.stripped"
    strip --strip-unneeded "$work/$build.stripped"
    printf '%-6s %10d / %10d\n' "$build" "$(stat -c %s "$work/$build")" "$(stat -c %s "$work/$build.stripped")"
done

echo "== cold start: fleetprune --version"
hyperfine -N --warmup 3 --runs 50 --style basic "$work/before --version" "$work/after --version" 2>&1 |
    grep -E 'Time|±|faster|Benchmark'

echo "== fleetprune inventory on 5,000 hosts / 200 groups (bench/inventory-scale.sh)"
for build in before after; do
    printf '%-6s ' "$build"
    bash "$BENCH_SRC/inventory-scale.sh" --fp-bin "$work/$build" | sed 's/^inventory of //'
done

echo "== controller CPU: fleetprune ping (handshake, auth, tunnel, /_ping), 64 sessions to 4 lab hosts, $ROUNDS rounds interleaved"
bash "$REPO/lab/up.sh" -n 4 -d "$lab" -p "$PORT" >"$work/up.log" 2>&1 || { cat "$work/up.log"; lab_die "lab/up.sh failed"; }
{
    printf 'all:\n  vars:\n    ansible_user: %s\n    ansible_ssh_private_key_file: %s\n  hosts:\n' \
        "$LAB_USER" "$lab/client/id_ed25519"
    for ((alias = 1; alias <= 16; alias++)); do
        for ((host = 1; host <= 4; host++)); do
            printf '    h%02d-%02d: { ansible_host: 127.0.0.1, ansible_port: %d }\n' "$host" "$alias" $((PORT + host))
        done
    done
} >"$work/sessions.yaml"
for ((round = 1; round <= ROUNDS; round++)); do
    for build in before after; do
        /usr/bin/time -a -o "$work/$build.times" -f '%U %S %e' "$work/$build" ping -q \
            -i "$work/sessions.yaml" --known-hosts "$lab/known_hosts" >/dev/null ||
            lab_die "$build ping failed"
    done
done
python3 - "$work" <<'PY'
import statistics, sys
for build in ("before", "after"):
    rows = [list(map(float, line.split())) for line in open(f"{sys.argv[1]}/{build}.times") if line[0].isdigit()]
    cpu = statistics.median(u + s for u, s, _ in rows) * 1000
    wall = statistics.median(e for _, _, e in rows) * 1000
    print(f"{build:<6} median of {len(rows)}: {cpu:.0f} ms CPU (user+sys), {wall:.0f} ms wall")
PY
echo "(load average $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs)"
