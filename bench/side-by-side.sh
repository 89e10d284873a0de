#!/usr/bin/env bash
# bench/side-by-side.sh - fleetprune beside the daemons' own floor and today's tools, on the real
# lab, in one run (issue 10, section 1).
#
# The same seeded work every run (lab/seed.sh before each single run, not timed): prune all unused
# images (`image prune -a`) on N lab hosts, for each N, by each method:
#   socket   the daemons' own prune, `curl --unix-socket` straight on each host's socket, all hosts
#            at once (the floor nothing can beat)
#   ssh      the same request through one OpenSSH login per host (`ssh HOST curl --unix-socket`,
#            curve25519-sha256 key exchange), all hosts at once (the floor for anything over SSH)
#   fleetprune  `fleetprune prune --images -a --yes -o json --forks N`
#   docker-seq  `docker -H ssh://HOST image prune -af`, one host after another
#   docker-par  the same through `xargs -P 16`
#   ansible-5, ansible-16  `ansible all -m community.docker.docker_prune` at forks 5 and 16
# Per method: wall time, CPU of the client process tree (user+sys of everything it waited for),
# peak RSS of its largest process, CPU of the servers (each host's sshd with its finished
# sessions, dockerd and containerd, from /proc/PID/stat utime+stime+cutime+cstime), bytes
# reclaimed (must equal the socket floor's), and the ratios fleetprune/floor and tool/fleetprune.
# A run during which other processes used more than a core is repeated (up to 3 times; never
# Ansible's, whose own ssh masters count as other load); the figure is shown either way. Part of it is the method's own: sshd sessions reaped by their
# listener after the run, and the detached ssh masters of Ansible's ControlPersist. Rounds interleave the methods so drift hits all of them alike.
#
# Usage: bench/side-by-side.sh [-n "4 16 32"] [-r 3] [--methods LIST] [--engine 20.10|26]
#                              [-d DIR] [-p PORT_BASE]
#        bench/side-by-side.sh --table RESULTS_DIR...   # the table again, from earlier runs' results
# Needs root (or sudo): the lab does, and the Ansible method installs python3-venv and a venv
# with ansible and the docker SDK under /var/cache/fleetprune-lab/bench-ansible (once).
set -euo pipefail

BENCH_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_SRC/.." && pwd)
LAB=$REPO/lab
# shellcheck source-path=SCRIPTDIR source=../lab/lib.sh
source "$LAB/lib.sh"

# ssh_opts DIR: OpenSSH options for the lab in DIR (its key and known_hosts only, curve25519).
ssh_opts() {
    printf '%s\n' -F /dev/null -i "$1/client/id_ed25519" -o IdentitiesOnly=yes -o BatchMode=yes \
        -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$1/known_hosts" \
        -o GlobalKnownHostsFile=/dev/null -o KexAlgorithms=curve25519-sha256 -o LogLevel=ERROR
}

# run_method METHOD N LOG: the timed command of one method (run as `--run-one`, under
# /usr/bin/time, so that its whole process tree is measured).
run_method() {
    local method=$1 n=$2 log=$3 query='filters=%7B%22dangling%22%3A%5B%22false%22%5D%7D'
    local -a ssh_options
    mapfile -t ssh_options < <(ssh_opts "$DIR")
    case $method in
        socket)
            local hostdir
            for hostdir in "$DIR"/hosts/*; do
                curl -s --unix-socket "$hostdir/run/docker.sock" -X POST "http://docker/images/prune?$query" &
            done >"$log"
            wait ;;
        ssh)
            local port
            for port in $(seq $((PORT_BASE + 1)) $((PORT_BASE + n))); do
                /usr/bin/ssh "${ssh_options[@]}" -p "$port" fplab@127.0.0.1 \
                    "curl -s --unix-socket /var/run/docker.sock -X POST 'http://docker/images/prune?$query'" &
            done >"$log"
            wait ;;
        fleetprune)
            "$REPO/target/release/fleetprune" -i "$DIR/inventory.yaml" --known-hosts "$DIR/known_hosts" \
                prune --images -a --yes -o json --forks "$n" >"$log" ;;
        docker-seq | docker-par)
            local par=1
            [[ $method == docker-par ]] && par=16
            seq $((PORT_BASE + 1)) $((PORT_BASE + n)) |
                PATH=$DIR/bench-bin:$PATH xargs -P "$par" -I{} "$DOCKER_BIN" -H "ssh://fplab@127.0.0.1:{}" \
                    image prune -af >"$log" ;;
        ansible-*)
            ANSIBLE_CONFIG=$DIR/bench-ansible.cfg ANSIBLE_STDOUT_CALLBACK=json ANSIBLE_LOAD_CALLBACK_PLUGINS=1 \
                "$ANSIBLE_VENV/bin/ansible" all -i "$DIR/bench-hosts.ini" --forks "${method#ansible-}" \
                -m community.docker.docker_prune -a '{"images": true, "images_filters": {"dangling": false}}' \
                >"$log" ;;
        *) lab_die "unknown method $method" ;;
    esac
}

ANSIBLE_VENV=/var/cache/fleetprune-lab/bench-ansible
if [[ ${1:-} == --run-one ]]; then
    DIR=$2 PORT_BASE=$3
    run_method "$4" "$5" "$6"
    exit
fi

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# print_table RUNS_FILE: the medians per N and method, from `N method wall cpu rss server bytes
# other attempt` lines.
print_table() {
    local runs=$1 n method rows wall cpu server rss bytes load ratio floor_ssh fp_wall sizes
    sizes=$(awk '{ print $1 }' "$runs" | sort -nu)
    echo
    echo "Machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -r); medians of the runs per N and method ($(awk '{ c[$1" "$2]++ } END { m = 0; for (k in c) if (!m || c[k] < m) m = c[k]; print m }' "$runs") or more)"
    for n in $sizes; do
        floor_ssh=$(awk -v n="$n" '$1 == n && $2 == "ssh" { print $3 }' "$runs" | median)
        fp_wall=$(awk -v n="$n" '$1 == n && $2 == "fleetprune" { print $3 }' "$runs" | median)
        echo
        printf '| N=%s | wall s | vs fleetprune | client CPU ms/host | server CPU ms/host | peak RSS MB | bytes reclaimed | other load (cores) |\n' "$n"
        echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
        for method in socket ssh fleetprune docker-seq docker-par ansible-5 ansible-16; do
            rows=$(awk -v n="$n" -v m="$method" '$1 == n && $2 == m' "$runs")
            [[ -n $rows ]] || continue
            wall=$(awk '{ print $3 }' <<<"$rows" | median)
            cpu=$(awk -v n="$n" '{ print $4 * 1000 / n }' <<<"$rows" | median)
            server=$(awk -v n="$n" '{ print $6 * 1000 / n }' <<<"$rows" | median)
            rss=$(awk '{ print $5 / 1024 }' <<<"$rows" | median)
            bytes=$(awk '{ print $7 }' <<<"$rows" | sort -u | paste -sd/)
            load=$(awk '{ print $8 }' <<<"$rows" | median)
            ratio=$(awk -v w="$wall" -v f="$fp_wall" 'BEGIN { if (f > 0) printf "%.2fx", w / f; else print "-" }')
            printf '| %s | %.3f | %s | %.1f | %.1f | %.1f | %s | %s |\n' "$method" "$wall" "$ratio" "$cpu" \
                "$server" "$rss" "$bytes" "$load"
        done
        awk -v f="$fp_wall" -v s="$floor_ssh" 'BEGIN { if (s > 0) printf "fleetprune / SSH floor: %.2fx (target <= 1.00x)\n", f / s }'
    done
    echo
    echo "targets: wall <= the SSH floor at N=16 and 32; faster than every other method; bytes equal to the"
    echo "socket floor's; controller CPU <= 2 ms per host; server CPU per host <= one OpenSSH login + the daemon's work"
}

if [[ ${1:-} == --table ]]; then
    shift
    merged=$(mktemp)
    for results in "$@"; do cat "$results/runs.txt"; done >"$merged"
    print_table "$merged"
    rm -f "$merged"
    exit
fi

SIZES="4 16 32"
ROUNDS=3
METHODS=socket,ssh,fleetprune,docker-seq,docker-par,ansible-5,ansible-16
ENGINE=20.10
DIR=/tmp/fp-side-by-side
PORT_BASE=23500
while (($#)); do
    case $1 in
        -n) SIZES=${2:?}; shift 2 ;;
        -r) ROUNDS=${2:?}; shift 2 ;;
        --methods) METHODS=${2:?}; shift 2 ;;
        --engine) ENGINE=${2:?}; shift 2 ;;
        -d) DIR=${2:?}; shift 2 ;;
        -p) PORT_BASE=${2:?}; shift 2 ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) lab_die "unknown argument: $1 (see --help)" ;;
    esac
done
lab_become_root "$0" "$@"
IFS=, read -r -a METHOD_LIST <<<"$METHODS"
OUT=$(mktemp -d /tmp/fp-side-by-side-results.XXXXXX)
echo "results and logs: $OUT"

# ------------------------------------------------------------------ tools
if command -v cargo >/dev/null; then
    (cd "$REPO" && cargo build --release --locked -q)
fi
FP=$REPO/target/release/fleetprune
[[ -x $FP ]] || lab_die "no $FP: build it with cargo build --release"
if [[ ,$METHODS, == *,ansible-* ]] && [[ ! -x $ANSIBLE_VENV/bin/ansible ]]; then
    echo "installing ansible and the docker SDK in $ANSIBLE_VENV (once)..."
    dpkg-query -W -f='${Status}' python3-venv 2>/dev/null | grep -q "install ok installed" ||
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
    /usr/bin/python3 -m venv "$ANSIBLE_VENV"
    "$ANSIBLE_VENV/bin/pip" install -q 'ansible>=9,<12' 'docker>=7'
    chmod -R a+rX "$ANSIBLE_VENV"
fi

# ------------------------------------------------------------------ measuring
# cpu_ticks PID... -> utime+stime+cutime+cstime of the live PIDs, in clock ticks.
cpu_ticks() {
    local pid total=0 f
    for pid in "$@"; do
        f=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
        f=${f##*) }
        read -r -a f <<<"$f"
        total=$((total + f[11] + f[12] + f[13] + f[14]))
    done
    echo "$total"
}
# busy_ticks -> all CPUs' non-idle ticks since boot.
busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
TICK=$(getconf CLK_TCK)

# server_pids: every lab host's sshd listener, dockerd and containerd.
server_pids() {
    local hostdir
    for hostdir in "$DIR"/hosts/*; do
        lab_pid_from "$hostdir/sshd.pid" "$(lab_needle_sshd "$hostdir")" || true
        lab_pid_from "$hostdir/dockerd.pid" "$(lab_needle_dockerd "$hostdir")" || true
        head -n1 "$hostdir/run/docker/containerd/containerd.pid" 2>/dev/null || true
    done
}

# reclaimed METHOD LOG -> bytes reclaimed over all hosts, from the method's own output.
reclaimed() {
    case $1 in
        socket | ssh) jq -s 'map(.SpaceReclaimed) | add' "$2" ;;
        fleetprune) jq '.totals.reclaimed_bytes' "$2" ;;
        docker-*)
            # docker prints human sizes ("Total reclaimed space: 11.53MB"): decimal units.
            awk '/^Total reclaimed space:/ {
                v = $4; u = v; sub(/[0-9.]+/, "", u); sub(/[kMGT]?B$/, "", v)
                m = (u == "kB") ? 1e3 : (u == "MB") ? 1e6 : (u == "GB") ? 1e9 : 1
                s += v * m } END { printf "~%.0f\n", s }' "$2" ;;
        ansible-*) jq '[.plays[0].tasks[0].hosts[] | .images_space_reclaimed] | add' "$2" ;;
    esac
}


# ------------------------------------------------------------------ runs
for n in $SIZES; do
    echo "== N=$n: lab up and seed"
    "$LAB/down.sh" "$DIR" >/dev/null 2>&1 || true
    "$LAB/up.sh" -n "$n" -d "$DIR" -p "$PORT_BASE" --engine "$ENGINE" >"$OUT/up-$n.log" 2>&1 ||
        { cat "$OUT/up-$n.log"; lab_die "lab/up.sh failed"; }
    trap '"$LAB/down.sh" "$DIR" >/dev/null 2>&1 || true' EXIT
    # docker's ssh:// helper runs `ssh` from PATH: a wrapper gives it the lab's key and known_hosts.
    install -d "$DIR/bench-bin"
    mapfile -t options < <(ssh_opts "$DIR")
    printf '#!/bin/sh\nexec /usr/bin/ssh %s "$@"\n' "$(printf '%q ' "${options[@]}")" >"$DIR/bench-bin/ssh"
    chmod +x "$DIR/bench-bin/ssh"
    {
        echo "[lab]"
        for ((i = 1; i <= n; i++)); do
            printf 'host%02d ansible_host=127.0.0.1 ansible_port=%d\n' "$i" $((PORT_BASE + i))
        done
        echo "[lab:vars]"
        echo "ansible_user=fplab"
        echo "ansible_ssh_private_key_file=$DIR/client/id_ed25519"
        echo "ansible_python_interpreter=$ANSIBLE_VENV/bin/python"
        echo "ansible_ssh_common_args='-F /dev/null -o UserKnownHostsFile=$DIR/known_hosts -o StrictHostKeyChecking=yes -o GlobalKnownHostsFile=/dev/null'"
    } >"$DIR/bench-hosts.ini"
    printf '[defaults]\nhost_key_checking = True\ngathering = explicit\n' >"$DIR/bench-ansible.cfg"

    for ((round = 1; round <= ROUNDS; round++)); do
        for method in "${METHOD_LIST[@]}"; do
            for attempt in 1 2 3; do
                "$LAB/seed.sh" "$DIR" >"$OUT/seed.log" 2>&1 || { tail "$OUT/seed.log"; lab_die "seed failed"; }
                # Write the seeded layers back now, not during the timed run (the kernel's
                # writeback of dirty pages otherwise lands in it as "other load").
                sync
                sleep 1
                mapfile -t servers < <(server_pids)
                log=$OUT/$method-$n-$round.out
                s0=$(cpu_ticks "${servers[@]}")
                b0=$(busy_ticks)
                /usr/bin/time -f '%e %U %S %M' -o "$OUT/time" \
                    bash "$BENCH_SRC/side-by-side.sh" --run-one "$DIR" "$PORT_BASE" "$method" "$n" "$log" \
                    2>"$log.err" || echo "  ($method exited non-zero: $log.err)"
                b1=$(busy_ticks)
                s1=$(cpu_ticks "${servers[@]}")
                read -r wall user sys rss <"$OUT/time"
                client_ticks=$(awk -v u="$user" -v s="$sys" -v t="$TICK" 'BEGIN { printf "%d", (u + s) * t }')
                other=$(((b1 - b0) - client_ticks - (s1 - s0)))
                busy_share=$(awk -v o="$other" -v w="$wall" -v t="$TICK" 'BEGIN { printf "%.2f", o / t / (w > 0 ? w : 1) }')
                # Ansible's own detached ControlPersist masters count as other load, so its
                # runs are never repeated: a repeat would only cost another reseed.
                if [[ $method != ansible-* ]] && ((attempt < 3)) &&
                    awk -v b="$busy_share" 'BEGIN { exit !(b > 1.0) }'; then
                    echo "  N=$n $method round $round: other processes used $busy_share cores, repeating"
                    continue
                fi
                bytes=$(reclaimed "$method" "$log")
                printf '%s %s %s %s %s %s %s %s %s\n' "$n" "$method" "$wall" \
                    "$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')" "$rss" \
                    "$(awk -v d=$((s1 - s0)) -v t="$TICK" 'BEGIN { print d / t }')" "$bytes" \
                    "$busy_share" "$attempt" >>"$OUT/runs.txt"
                printf '  N=%-3s %-11s round %s: %6ss wall, client %ss CPU, servers %ss CPU, %s bytes%s\n' \
                    "$n" "$method" "$round" "$wall" "$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')" \
                    "$(awk -v d=$((s1 - s0)) -v t="$TICK" 'BEGIN { print d / t }')" "$bytes" \
                    "$([[ $busy_share != 0.00 ]] && echo ", other load $busy_share cores")"
                break
            done
        done
    done
    "$LAB/down.sh" "$DIR" >/dev/null
    trap - EXIT
done

# ------------------------------------------------------------------ table
print_table "$OUT/runs.txt"
