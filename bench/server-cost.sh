#!/usr/bin/env bash
# bench/server-cost.sh - what one session costs a lab host's servers (issue 10's "server CPU per
# host no more than one OpenSSH login plus the daemon's own work"), measured where nothing is
# undercounted: K sessions one after another against one lab host, then a pause so sshd has
# reaped every session process, and the CPU its listener (with its reaped sessions), dockerd
# and containerd used in between, per session. Methods, interleaved, R rounds, medians:
#   ssh-true      `ssh HOST true`: one OpenSSH login (curve25519) and nothing else
#   ssh-ping      `ssh HOST curl --unix-socket /var/run/docker.sock http://docker/_ping`
#   fleetprune    `fleetprune ping`: handshake, host key, auth, tunnel, `/_ping`
#   baseline      `fleetprune ping` with another build, given with -b (a same-run comparison)
# The per-session figure of fleetprune minus ssh-ping is what fleetprune costs the host beyond
# an OpenSSH login asking the daemon the same thing.
#
# Usage: bench/server-cost.sh [-k SESSIONS] [-r ROUNDS] [-d DIR] [-p PORT_BASE] [-b BIN]  (20, 3)
# (the lab host listens on PORT_BASE+1, as lab/up.sh's host 1 does)
set -euo pipefail

BENCH_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_SRC/.." && pwd)
LAB=$REPO/lab
# shellcheck source-path=SCRIPTDIR source=../lab/lib.sh
source "$LAB/lib.sh"

SESSIONS=20
ROUNDS=3
DIR=/tmp/fp-server-cost
PORT=24600
BASELINE=""
while (($#)); do
    case $1 in
        -k) SESSIONS=$2; shift 2 ;;
        -r) ROUNDS=$2; shift 2 ;;
        -d) DIR=$2; shift 2 ;;
        -p) PORT=$2; shift 2 ;;
        -b) BASELINE=$(realpath "$2"); shift 2 ;;
        *) echo "usage: bench/server-cost.sh [-k SESSIONS] [-r ROUNDS] [-d DIR] [-p PORT_BASE] [-b BIN]" >&2; exit 2 ;;
    esac
done
lab_become_root "$0" "$@"

(cd "$REPO" && cargo build --release --locked -q)
FP=${CARGO_TARGET_DIR:-$REPO/target}/release/fleetprune

"$LAB/down.sh" "$DIR" >/dev/null 2>&1 || true
"$LAB/up.sh" -n 1 -d "$DIR" -p "$PORT" >"$DIR.up.log" 2>&1 || { cat "$DIR.up.log"; lab_die "lab/up.sh failed"; }
trap '"$LAB/down.sh" "$DIR" >/dev/null 2>&1 || true' EXIT
host=$DIR/hosts/host01
servers=(
    "$(lab_pid_from "$host/sshd.pid" "$(lab_needle_sshd "$host")")"
    "$(lab_pid_from "$host/dockerd.pid" "$(lab_needle_dockerd "$host")")"
    "$(head -n1 "$host/run/docker/containerd/containerd.pid")"
)
TICK=$(getconf CLK_TCK)

# cpu_ticks PID... -> utime+stime+cutime+cstime of the PIDs, in clock ticks.
cpu_ticks() {
    local pid total=0 f
    for pid in "$@"; do
        f=$(cat "/proc/$pid/stat")
        f=${f##*) }
        read -r -a f <<<"$f"
        total=$((total + f[11] + f[12] + f[13] + f[14]))
    done
    echo "$total"
}

ssh_options=(-F /dev/null -i "$DIR/client/id_ed25519" -o IdentitiesOnly=yes -o BatchMode=yes
    -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$DIR/known_hosts"
    -o GlobalKnownHostsFile=/dev/null -o KexAlgorithms=curve25519-sha256 -o LogLevel=ERROR
    -p $((PORT + 1)) fplab@127.0.0.1)
one_session() {
    case $1 in
        ssh-true) /usr/bin/ssh "${ssh_options[@]}" true ;;
        ssh-ping) /usr/bin/ssh "${ssh_options[@]}" \
            "curl -s --unix-socket /var/run/docker.sock http://docker/_ping" >/dev/null ;;
        fleetprune | baseline)
            local bin=$FP
            [[ $1 == baseline ]] && bin=$BASELINE
            "$bin" -i "$DIR/inventory.yaml" --known-hosts "$DIR/known_hosts" ping -o json \
                >/dev/null 2>&1 ;;
    esac
}

METHODS=(ssh-true ssh-ping fleetprune)
[[ -n $BASELINE ]] && METHODS+=(baseline)
results=$(mktemp)
echo "server CPU per session: $SESSIONS sessions per method and round, $ROUNDS rounds, one lab host"
for ((round = 1; round <= ROUNDS; round++)); do
    for method in "${METHODS[@]}"; do
        one_session "$method" # warm caches outside the measurement
        sleep 1
        before=$(cpu_ticks "${servers[@]}")
        for ((i = 0; i < SESSIONS; i++)); do one_session "$method"; done
        sleep 2 # every session process reaped by the listener
        after=$(cpu_ticks "${servers[@]}")
        ms=$(awk -v d=$((after - before)) -v t="$TICK" -v k="$SESSIONS" 'BEGIN { printf "%.1f", d / t * 1000 / k }')
        printf '  round %d  %-11s %6s ms per session\n' "$round" "$method" "$ms"
        echo "$method $ms" >>"$results"
    done
done
echo "medians (ms of sshd + dockerd + containerd CPU per session; ${TICK} Hz clock ticks):"
for method in "${METHODS[@]}"; do
    median=$(awk -v m="$method" '$1 == m { print $2 }' "$results" | sort -n |
        awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
    printf '  %-11s %6s\n' "$method" "$median"
done
rm -f "$results"
