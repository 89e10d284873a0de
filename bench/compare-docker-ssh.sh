#!/usr/bin/env bash
# bench/compare-docker-ssh.sh - wall time of pruning a freshly seeded lab fleet
# with fleetprune versus the docker CLI over ssh:// in a shell loop.
#
# Variants, all on the SAME lab hosts, each run starting from a freshly
# re-seeded fleet (lab/seed.sh before every single run; seeding is not timed):
#   fleetprune  target/release/fleetprune prune --images -a --yes
#                 -i DIR/inventory.yaml --known-hosts DIR/known_hosts
#   docker-seq  for each host: docker -H ssh://fplab@127.0.0.1:PORT image prune -af
#   docker-par  the same commands through xargs -P PAR (default 16)
# Rounds interleave the variants (fp, seq, par, fp, seq, par, ...) so slow
# drift on the machine hits all of them alike.
#
# After every run it checks, per host through the local socket
# DIR/hosts/NAME/run/docker.sock, that the images left (sorted repo:tag list
# and `docker images -a` count) are the same for every run and variant, and
# compares reclaimed space: fleetprune's per-host RECLAIMED column and
# "Total reclaimed space" (or JSON reclaimed_bytes with --fp-json) against
# docker's per-host "Total reclaimed space" lines.
#
# The docker CLI's ssh:// helper runs `ssh` from PATH with no options of its
# own, and OpenSSH takes ~/.ssh from the passwd entry, not $HOME, so pointing
# HOME at a temp dir does NOT change which ssh config is read. Instead the
# loops run with PATH starting at a temp bin/ holding an `ssh` wrapper that
# execs /usr/bin/ssh -F <temp ssh_config> (lab key, lab known_hosts,
# StrictHostKeyChecking yes, BatchMode). A preflight proves the wrapper is
# used and that a wrong or missing host key makes docker fail. Root's real
# ~/.ssh and ~/.docker are never read or written.
#
# Needs root (the lab does). Network traffic stays on 127.0.0.1.
# Usage: see usage() below, or bench/README.md.
set -euo pipefail

BENCH_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_SRC/.." && pwd)
LAB=$REPO/lab
# shellcheck source-path=SCRIPTDIR source=../lab/lib.sh
. "$LAB/lib.sh"

usage() {
    cat <<EOF
Usage: bench/compare-docker-ssh.sh [-n N] [-r R] [options]

  -n N              lab hosts (default 16)
  -r R              timed runs per variant (default 3); the fleet is re-seeded
                    before every single run
  -P PAR            parallelism of the docker-par variant (xargs -P, default 16)
  -d DIR            lab directory of this benchmark (default /tmp/fp-bench);
                    must not hold a running lab; removed again on exit
  -p PORT_BASE      host i listens on 127.0.0.1:PORT_BASE+i (default 23000)
  -o OUTDIR         where logs and per-run outputs go (default: a new
                    /tmp/fp-bench-results.XXXXXX, kept after exit)
  --docker PATH     docker client for the baselines (default /usr/bin/docker,
                    the Debian 20.10 client; /usr/local/bin/docker also works)
  --variants LIST   comma-separated subset of fleetprune,docker-seq,docker-par
                    (default all three)
  --fp-json         run fleetprune with -o json instead of the table and use
                    its exact reclaimed_bytes (the table is then not printed)
  --fp-bin PATH     fleetprune binary (default REPO/target/release/fleetprune,
                    rebuilt with 'cargo build --release' when cargo is in PATH)
  -h, --help        this help
EOF
}

N=16
R=3
PAR=16
DIR=/tmp/fp-bench
PORT_BASE=23000
OUTDIR=""
DOCKER=/usr/bin/docker
VARIANTS=fleetprune,docker-seq,docker-par
FP_JSON=0
FP_BIN=$REPO/target/release/fleetprune

die() { printf 'compare-docker-ssh: error: %s\n' "$*" >&2; exit 1; }
say() { printf '%s\n' "$*"; }
hr() { printf '%s\n' "------------------------------------------------------------------------"; }

while (($# > 0)); do
    case $1 in
        -n) N=${2:?-n needs a value}; shift 2 ;;
        -r) R=${2:?-r needs a value}; shift 2 ;;
        -P) PAR=${2:?-P needs a value}; shift 2 ;;
        -d) DIR=${2:?-d needs a value}; shift 2 ;;
        -p) PORT_BASE=${2:?-p needs a value}; shift 2 ;;
        -o) OUTDIR=${2:?-o needs a value}; shift 2 ;;
        --docker) DOCKER=${2:?--docker needs a value}; shift 2 ;;
        --variants) VARIANTS=${2:?--variants needs a value}; shift 2 ;;
        --fp-json) FP_JSON=1; shift ;;
        --fp-bin) FP_BIN=${2:?--fp-bin needs a value}; shift 2 ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
done

[[ $EUID -eq 0 ]] || die "must run as root (the lab needs it): sudo $0 $*"
if ! [[ $N =~ ^[0-9]+$ ]] || ((N < 1 || N > 99)); then die "-n must be 1..99"; fi
if ! [[ $R =~ ^[0-9]+$ ]] || ((R < 1)); then die "-r must be >= 1"; fi
if ! [[ $PAR =~ ^[0-9]+$ ]] || ((PAR < 1)); then die "-P must be >= 1"; fi
[[ $PORT_BASE =~ ^[0-9]+$ ]] || die "-p must be a number"
[[ -x $DOCKER ]] || die "docker client $DOCKER not found"
IFS=, read -r -a VARS <<<"$VARIANTS"
for v in "${VARS[@]}"; do
    case $v in fleetprune | docker-seq | docker-par) ;; *) die "unknown variant '$v'" ;; esac
done
((${#VARS[@]} > 0)) || die "--variants is empty"
DIR=$(realpath -m -- "$DIR")
for cmd in jq awk sort xargs ssh /usr/bin/ssh; do
    command -v "$cmd" >/dev/null || die "missing command: $cmd"
done

# ------------------------------------------------------------ fleetprune binary
# The default binary is rebuilt from the working tree (a no-op when it is up to date), so the
# figures always belong to the code being looked at.
if [[ $FP_BIN == "$REPO/target/release/fleetprune" ]] && command -v cargo >/dev/null; then
    say "building fleetprune: cargo build --release"
    (cd "$REPO" && cargo build --release --locked)
fi
[[ -x $FP_BIN ]] ||
    die "$FP_BIN is not executable (without cargo in PATH, build first with 'cargo build --release')"

# ------------------------------------------------------------ results directory
if [[ -z $OUTDIR ]]; then
    OUTDIR=$(mktemp -d /tmp/fp-bench-results.XXXXXX)
else
    mkdir -p "$OUTDIR"
fi
OUTDIR=$(realpath -- "$OUTDIR")
case $OUTDIR/ in "$DIR"/*) die "-o must not be inside the lab dir $DIR (down.sh removes it)" ;; esac
# Everything printed from here on also goes to OUTDIR/console.log.
exec > >(tee -a "$OUTDIR/console.log") 2>&1
SSHTMP=$(mktemp -d /tmp/fp-bench-ssh.XXXXXX)
# Others may rebuild target/release while we run: time one fixed copy.
cp -- "$FP_BIN" "$OUTDIR/fleetprune"
FP_SRC_BIN=$FP_BIN
FP_BIN=$OUTDIR/fleetprune

LAB_UP=0
# shellcheck disable=SC2317 # called through trap
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if ((LAB_UP)); then
        say "tearing the lab down: lab/down.sh $DIR"
        "$LAB/down.sh" "$DIR" >"$OUTDIR/down.log" 2>&1 ||
            printf 'compare-docker-ssh: warning: lab/down.sh failed, see %s\n' "$OUTDIR/down.log" >&2
        tail -n 1 "$OUTDIR/down.log" || true
    fi
    rm -rf -- "$SSHTMP"
    say "results and logs: $OUTDIR"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ROOT_SSH_BEFORE=$(ls -la /root/.ssh 2>&1 || true)

# ------------------------------------------------------------ facts
{
    echo "date:        $(date -u +%FT%TZ)"
    echo "machine:     $(uname -srm), $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM"
    echo "load avg:    $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "repo:        $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$REPO" diff --quiet HEAD 2>/dev/null || echo ' (working tree modified)')"
    echo "fleetprune:  $FP_SRC_BIN ($("$FP_BIN" --version), built $(date -u -r "$FP_SRC_BIN" +%FT%TZ), sha256 $(sha256sum "$FP_BIN" | cut -c1-12)), timed as the copy $FP_BIN"
    echo "docker CLI:  $DOCKER ($("$DOCKER" --version))"
    echo "ssh:         $(/usr/bin/ssh -V 2>&1)"
    echo "hosts:       $N (ports $((PORT_BASE + 1))..$((PORT_BASE + N))), runs per variant: $R, docker-par -P $PAR"
    echo "lab dir:     $DIR"
} | tee "$OUTDIR/facts.txt"
hr

# ------------------------------------------------------------ lab up + first seed
say "lab/up.sh -n $N -d $DIR -p $PORT_BASE"
LAB_UP=1 # up.sh tears a half-started lab down itself; down.sh is safe to re-run
if ! "$LAB/up.sh" -n "$N" -d "$DIR" -p "$PORT_BASE" >"$OUTDIR/up.log" 2>&1; then
    # up.sh refuses a dir that already holds a running lab: never tear down
    # a lab that is not ours.
    if grep -q 'already holds a running lab' "$OUTDIR/up.log"; then LAB_UP=0; fi
    tail -n 20 "$OUTDIR/up.log" >&2
    die "lab/up.sh failed (log $OUTDIR/up.log)"
fi
grep -E '^lab up:' "$OUTDIR/up.log" || true

NAMES=()
PORTS=()
for ((i = 1; i <= N; i++)); do
    NAMES+=("$(printf 'host%02d' "$i")")
    PORTS+=("$((PORT_BASE + i))")
done

# Local docker (20.10 client, unix socket) for checks, never timed.
ldocker() {
    local name=$1
    shift
    lab_docker "$DIR/hosts/$name" "$@"
}

# ------------------------------------------------------------ ssh for the docker CLI
mkdir -p "$SSHTMP/bin" "$SSHTMP/home" "$SSHTMP/docker-config"
chmod 0700 "$SSHTMP"
# write_ssh_config FILE KNOWN_HOSTS
write_ssh_config() {
    cat >"$1" <<EOF
# written by bench/compare-docker-ssh.sh; used through the ssh wrapper only
Host 127.0.0.1
    User fplab
    IdentityFile $DIR/client/id_ed25519
    IdentitiesOnly yes
    UserKnownHostsFile $2
    GlobalKnownHostsFile /dev/null
    StrictHostKeyChecking yes
    UpdateHostKeys no
    BatchMode yes
    ConnectTimeout 10
    LogLevel ERROR
Host *
    UserKnownHostsFile $2
    GlobalKnownHostsFile /dev/null
    StrictHostKeyChecking yes
    BatchMode yes
EOF
    chmod 0600 "$1"
}
write_ssh_config "$SSHTMP/ssh_config" "$DIR/known_hosts"
cat >"$SSHTMP/bin/ssh" <<EOF
#!/bin/sh
# The docker CLI's ssh:// helper runs plain "ssh ARGS"; add our config.
exec /usr/bin/ssh -F "\${FPBENCH_SSH_CONFIG:-$SSHTMP/ssh_config}" "\$@"
EOF
chmod 0755 "$SSHTMP/bin/ssh"

# The environment both docker loops run in: no DOCKER_HOST/context from the
# caller, a private DOCKER_CONFIG and HOME, our ssh first in PATH.
DOCKER_ENV=(env -i "PATH=$SSHTMP/bin:/usr/sbin:/usr/bin:/sbin:/bin" "HOME=$SSHTMP/home"
    "DOCKER_CONFIG=$SSHTMP/docker-config" "LANG=C.UTF-8")
# The same, set up inside a subshell, so the timed loops pay no extra exec.
docker_env() {
    unset DOCKER_HOST DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH FPBENCH_SSH_CONFIG
    export PATH=$SSHTMP/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=$SSHTMP/home \
        DOCKER_CONFIG=$SSHTMP/docker-config LANG=C.UTF-8
}

say "preflight: docker CLI over ssh:// (wrapper $SSHTMP/bin/ssh)"
port1=${PORTS[0]}
v=$("${DOCKER_ENV[@]}" "$DOCKER" -H "ssh://fplab@127.0.0.1:$port1" version --format '{{.Server.Version}}' 2>&1) ||
    die "docker over ssh to ${NAMES[0]} failed: $v"
say "  ok: ${NAMES[0]} answers over ssh:// (server $v)"
got=$("${DOCKER_ENV[@]}" ssh -G -p "$port1" 127.0.0.1 | awk '$1 == "identityfile" || $1 == "userknownhostsfile" || $1 == "stricthostkeychecking" {print $1 "=" $2}' | sort | tr '\n' ' ')
say "  ssh -G through the wrapper: $got"
[[ $got == *"identityfile=$DIR/client/id_ed25519"* && $got == *"userknownhostsfile=$DIR/known_hosts"* &&
    $got == *"stricthostkeychecking=true"* ]] || die "the ssh wrapper does not apply the lab settings"
# Negative checks: an empty known_hosts, and one whose key for host01 is
# another host's key, must both make docker fail with a host key error.
: >"$SSHTMP/known_hosts.empty"
write_ssh_config "$SSHTMP/ssh_config.empty" "$SSHTMP/known_hosts.empty"
if ((N >= 2)); then
    other_key=$(cut -d' ' -f1,2 "$DIR/hosts/${NAMES[1]}/ssh_host_ed25519_key.pub")
else
    ssh-keygen -q -t ed25519 -N '' -f "$SSHTMP/bogus_key"
    other_key=$(cut -d' ' -f1,2 "$SSHTMP/bogus_key.pub")
fi
printf '[127.0.0.1]:%s %s\n' "$port1" "$other_key" >"$SSHTMP/known_hosts.wrong"
write_ssh_config "$SSHTMP/ssh_config.wrong" "$SSHTMP/known_hosts.wrong"
for bad in empty wrong; do # "wrong": host01's port with host02's key
    if out=$("${DOCKER_ENV[@]}" FPBENCH_SSH_CONFIG="$SSHTMP/ssh_config.$bad" \
        "$DOCKER" -H "ssh://fplab@127.0.0.1:$port1" version --format '{{.Server.Version}}' 2>&1); then
        die "docker over ssh succeeded with a $bad known_hosts: host keys are NOT verified"
    fi
    if ! grep -qiE 'host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|No .* host key is known' <<<"$out"; then
        die "docker over ssh with a $bad known_hosts failed, but not with a host key error: $out"
    fi
    say "  ok: with the $bad known_hosts docker refuses: $(grep -m1 -oiE 'host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED' <<<"$out")"
done
hr

# ------------------------------------------------------------ helpers
now() { date +%s.%N; }
elapsed() { awk -v s="$1" -v e="$2" 'BEGIN { printf "%.3f", e - s }'; }
# to_bytes "26.21MB" -> bytes (docker/go-units HumanSize: decimal units)
to_bytes() {
    awk -v s="$1" 'BEGIN {
        if (match(s, /^[0-9.]+/) == 0) { print "NaN"; exit }
        n = substr(s, 1, RLENGTH); u = substr(s, RLENGTH + 1)
        m["B"] = 1; m["kB"] = 1e3; m["KB"] = 1e3; m["MB"] = 1e6; m["GB"] = 1e9; m["TB"] = 1e12
        if (!(u in m)) { print "NaN"; exit }
        printf "%.0f", n * m[u] }'
}
human() { awk -v b="$1" 'BEGIN { if (b == "" || b == "NaN") { print "?"; exit }
    split("B kB MB GB TB", u, " "); i = 1; while (b >= 1000 && i < 5) { b /= 1000; i++ }
    printf "%.4g%s", b, u[i] }'; }

seed() { # seed LABEL
    local t0 t1
    t0=$(now)
    if ! "$LAB/seed.sh" "$DIR" >"$OUTDIR/seed-$1.log" 2>&1; then
        tail -n 30 "$OUTDIR/seed-$1.log" >&2
        die "lab/seed.sh failed before $1 (log $OUTDIR/seed-$1.log)"
    fi
    t1=$(now)
    say "  seeded $N host(s) in $(elapsed "$t0" "$t1")s (not timed)"
}

# image_state FILE: per host "NAME COUNT HASH" where COUNT is `docker images
# -a` rows and HASH a digest of the sorted repo:tag list (ids change with
# every seed, names do not).
image_state() {
    local name count tags
    for name in "${NAMES[@]}"; do
        count=$(ldocker "$name" images -a -q | wc -l)
        tags=$(ldocker "$name" images --format '{{.Repository}}:{{.Tag}}' | sort | md5sum | cut -c1-8)
        printf '%s %s %s\n' "$name" "$count" "$tags"
    done >"$1"
}

# Per-run results: RESULT[variant,run]=seconds, RECL[variant,run]=bytes (approx
# for docker), OK[variant,run]=ok|FAIL..., HOSTRECL[variant,run]="h1=.. h2=.."
declare -A RESULT=() RECL=() RECLNOTE=() OK=() HOSTRECL=() AFTER=() BEFORE=()

run_fleetprune() { # run_fleetprune RUNDIR -> sets T, RC
    local rundir=$1 t0 t1
    local args=(prune --images -a --yes -i "$DIR/inventory.yaml" --known-hosts "$DIR/known_hosts")
    if ((FP_JSON)); then args+=(-o json); fi
    say "  \$ fleetprune ${args[*]}"
    sync
    RC=0
    t0=$(now)
    "$FP_BIN" "${args[@]}" >"$rundir/stdout" 2>"$rundir/stderr" || RC=$?
    t1=$(now)
    T=$(elapsed "$t0" "$t1")
}

run_docker_seq() { # run_docker_seq RUNDIR -> sets T, RC
    local rundir=$1 t0 t1 i
    say "  \$ for port in $((PORT_BASE + 1))..$((PORT_BASE + N)); do $DOCKER -H ssh://fplab@127.0.0.1:\$port image prune -af; done"
    sync
    RC=0
    t0=$(now)
    (
        docker_env
        for i in "${!NAMES[@]}"; do
            "$DOCKER" -H "ssh://fplab@127.0.0.1:${PORTS[i]}" image prune -af \
                >"$rundir/${NAMES[i]}.out" 2>&1 || echo "$?" >"$rundir/${NAMES[i]}.rc"
        done
    )
    t1=$(now)
    T=$(elapsed "$t0" "$t1")
    ! compgen -G "$rundir/*.rc" >/dev/null || RC=1
}

run_docker_par() { # run_docker_par RUNDIR -> sets T, RC
    local rundir=$1 t0 t1 i
    say "  \$ printf 'NAME PORT\\n'... | xargs -P $PAR -n 2 sh -c '$DOCKER -H ssh://fplab@127.0.0.1:\$PORT image prune -af >\$NAME.out'"
    sync
    RC=0
    t0=$(now)
    # xargs appends NAME PORT: in sh, $0=docker $1=rundir $2=NAME $3=PORT
    # shellcheck disable=SC2016 # expanded by sh, not here
    (
        docker_env
        for i in "${!NAMES[@]}"; do printf '%s %s\n' "${NAMES[i]}" "${PORTS[i]}"; done |
            xargs -P "$PAR" -n 2 sh -c \
                '"$0" -H "ssh://fplab@127.0.0.1:$3" image prune -af >"$1/$2.out" 2>&1 || echo "$?" >"$1/$2.rc"' \
                "$DOCKER" "$rundir"
    ) || RC=$?
    t1=$(now)
    T=$(elapsed "$t0" "$t1")
    ! compgen -G "$rundir/*.rc" >/dev/null || RC=1
}

# ------------------------------------------------------------ the runs
say "runs: $R per variant, order per round: ${VARS[*]}"
for ((run = 1; run <= R; run++)); do
    for v in "${VARS[@]}"; do
        hr
        say "round $run/$R, $v"
        rundir=$OUTDIR/$v-$run
        mkdir -p "$rundir"
        seed "$v-$run"
        image_state "$rundir/before.txt"
        BEFORE[$v,$run]=$(awk '{ s += $2 } END { print s }' "$rundir/before.txt")
        case $v in
            fleetprune) run_fleetprune "$rundir" ;;
            docker-seq) run_docker_seq "$rundir" ;;
            docker-par) run_docker_par "$rundir" ;;
        esac
        RESULT[$v,$run]=$T
        image_state "$rundir/after.txt"
        AFTER[$v,$run]=$(awk '{ s += $2 } END { print s }' "$rundir/after.txt")
        OK[$v,$run]=ok
        ((RC == 0)) || OK[$v,$run]="FAILED (exit $RC)"

        # reclaimed space, per host and total
        hostrecl=""
        if [[ $v == fleetprune ]]; then
            if ((FP_JSON)); then
                jq -r '.hosts[] | "\(.name) \(.reclaimed_bytes)"' "$rundir/stdout" >"$rundir/reclaimed.txt" 2>/dev/null || : >"$rundir/reclaimed.txt"
                RECL[$v,$run]=$(jq -r '.totals.reclaimed_bytes' "$rundir/stdout" 2>/dev/null || echo NaN)
                RECLNOTE[$v,$run]="exact (JSON totals.reclaimed_bytes)"
                while read -r h b; do hostrecl+="$h=$(human "$b") "; done <"$rundir/reclaimed.txt"
                jq -r '.hosts[] | "  \(.name)  \(.status)  \(.reclaimed_bytes) B  \(.duration_ms) ms"' "$rundir/stdout" 2>/dev/null || cat "$rundir/stdout"
            else
                cat "$rundir/stdout"
                # host rows: NAME STATUS ... RECLAIMED TIME
                for name in "${NAMES[@]}"; do
                    h=$(awk -v n="$name" '$1 == n { print $(NF - 1); exit }' "$rundir/stdout")
                    hostrecl+="$name=${h:-?} "
                done
                tot=$(sed -n 's/^Total reclaimed space: *//p' "$rundir/stdout" | tail -n 1)
                RECL[$v,$run]=$(to_bytes "${tot:-?}")
                RECLNOTE[$v,$run]="table 'Total reclaimed space: ${tot:-?}'"
            fi
            if [[ -s $rundir/stderr ]]; then say "  stderr:"; sed 's/^/    /' "$rundir/stderr"; fi
        else
            sum=0 bad=0
            for name in "${NAMES[@]}"; do
                h=$(sed -n 's/^Total reclaimed space: *//p' "$rundir/$name.out" | tail -n 1)
                hostrecl+="$name=${h:-?} "
                b=$(to_bytes "${h:-?}")
                if [[ $b == NaN ]]; then bad=1; else sum=$((sum + b)); fi
                if [[ -e $rundir/$name.rc ]]; then
                    say "  $name FAILED (exit $(cat "$rundir/$name.rc")): $(tail -n 3 "$rundir/$name.out" | tr '\n' ' ')"
                fi
            done
            if ((bad)); then RECL[$v,$run]=NaN; else RECL[$v,$run]=$sum; fi
            RECLNOTE[$v,$run]="sum of $N rounded 'Total reclaimed space' lines"
            say "  per host: ${hostrecl% }"
        fi
        HOSTRECL[$v,$run]=${hostrecl% }
        say "  => $v run $run: ${RESULT[$v,$run]} s, ${OK[$v,$run]}, images ${BEFORE[$v,$run]} -> ${AFTER[$v,$run]}, reclaimed ~$(human "${RECL[$v,$run]}")"
    done
done
hr

# ------------------------------------------------------------ checks across runs
say "checks"
CHECK_FAIL=0
ref_v=${VARS[0]}
ref_after=$OUTDIR/$ref_v-1/after.txt
ref_before=$OUTDIR/$ref_v-1/before.txt
say "  images per host before / after $ref_v run 1 (docker images -a count):"
say "    before: $(awk '{ printf "%s:%s ", $1, $2 }' "$ref_before")"
say "    after:  $(awk '{ printf "%s:%s ", $1, $2 }' "$ref_after")"
say "    tags left: $(ldocker "${NAMES[0]}" images --format '{{.Repository}}:{{.Tag}}' | sort | paste -sd' ') (${NAMES[0]}, now)"
for v in "${VARS[@]}"; do
    for ((run = 1; run <= R; run++)); do
        d=$OUTDIR/$v-$run
        if ! cmp -s "$d/before.txt" "$ref_before"; then
            say "  MISMATCH: seeded state before $v run $run differs from $ref_v run 1:"
            diff "$ref_before" "$d/before.txt" | sed 's/^/    /' || true
            CHECK_FAIL=1
        fi
        if ! cmp -s "$d/after.txt" "$ref_after"; then
            say "  MISMATCH: images left after $v run $run differ from $ref_v run 1:"
            diff "$ref_after" "$d/after.txt" | sed 's/^/    /' || true
            CHECK_FAIL=1
        fi
    done
done
((CHECK_FAIL)) || say "  ok: every run started from the same seeded image set ($(awk '{ s += $2 } END { print s }' "$ref_before") images on $N hosts) and left the same image set ($(awk '{ s += $2 } END { print s }' "$ref_after") images) on every host"

# Per-host reclaimed strings: fleetprune's table uses the same go-units
# HumanSize formatting as docker, so with identical seeds they should match.
declare -A HS=()
for v in "${VARS[@]}"; do
    for ((run = 1; run <= R; run++)); do HS[${HOSTRECL[$v,$run]}]+="$v#$run "; done
done
if ((${#HS[@]} == 1)); then
    say "  ok: per-host reclaimed space identical in every run and variant: ${!HS[*]}"
else
    say "  per-host reclaimed space differs between runs/variants (${#HS[@]} distinct sets):"
    for k in "${!HS[@]}"; do say "    [${HS[$k]% }] $k"; done
fi
# Totals: docker's per-host values are rounded to 4 significant digits, so
# allow 0.1 % between the fleetprune total and docker's summed lines.
fp_ref=""
[[ " ${VARS[*]} " == *" fleetprune "* ]] && fp_ref=${RECL[fleetprune,1]}
for v in "${VARS[@]}"; do
    for ((run = 1; run <= R; run++)); do
        b=${RECL[$v,$run]}
        line="    $v run $run: $(human "$b") ($b B, ${RECLNOTE[$v,$run]})"
        if [[ -n $fp_ref && $fp_ref != NaN && $b != NaN ]]; then
            dev=$(awk -v a="$b" -v r="$fp_ref" 'BEGIN { if (r == 0) { print (a == 0 ? 0 : 100) } else { d = (a - r) / r * 100; printf "%.3f", (d < 0 ? -d : d) } }')
            line+=", differs from fleetprune run 1 by ${dev} %"
            if awk -v d="$dev" 'BEGIN { exit !(d > 0.1) }'; then
                line+="  <-- MORE THAN 0.1 %"
                CHECK_FAIL=1
            fi
        fi
        say "$line"
    done
done
for v in "${VARS[@]}"; do
    for ((run = 1; run <= R; run++)); do
        [[ ${OK[$v,$run]} == ok ]] || { say "  $v run $run: ${OK[$v,$run]}"; CHECK_FAIL=1; }
    done
done
ROOT_SSH_AFTER=$(ls -la /root/.ssh 2>&1 || true)
if [[ $ROOT_SSH_BEFORE == "$ROOT_SSH_AFTER" ]]; then
    say "  ok: /root/.ssh unchanged"
else
    say "  WARNING: /root/.ssh changed during the benchmark"
fi
hr

# ------------------------------------------------------------ summary
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) printf "%.3f", a[(NR + 1) / 2]; else printf "%.3f", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
declare -A MED=()
for v in "${VARS[@]}"; do
    times=()
    for ((run = 1; run <= R; run++)); do times+=("${RESULT[$v,$run]}"); done
    MED[$v]=$(median "${times[@]}")
done
label() {
    case $1 in
        fleetprune) echo "fleetprune (--forks 32)" ;;
        docker-seq) echo "docker loop, sequential" ;;
        docker-par) echo "docker loop, xargs -P $PAR" ;;
    esac
}
{
    echo "SUMMARY: prune all unused images on $N freshly seeded lab hosts over ssh, wall seconds"
    echo "docker client: $DOCKER ($("$DOCKER" --version | sed 's/^Docker version //'))"
    printf '%-28s' VARIANT
    for ((run = 1; run <= R; run++)); do printf ' %8s' "run$run"; done
    printf ' %8s %12s\n' median "vs fleetprune"
    for v in "${VARS[@]}"; do
        printf '%-28s' "$(label "$v")"
        for ((run = 1; run <= R; run++)); do printf ' %8s' "${RESULT[$v,$run]}"; done
        if [[ -n ${MED[fleetprune]:-} ]]; then
            ratio=$(awk -v a="${MED[$v]}" -v f="${MED[fleetprune]}" 'BEGIN { printf "%.2fx", a / f }')
        else
            ratio=n/a
        fi
        printf ' %8s %12s\n' "${MED[$v]}" "$ratio"
    done
    if ((CHECK_FAIL)); then
        echo "checks: SOME CHECKS FAILED (see above)"
    else
        echo "checks: all runs ok, same images left on every host, reclaimed space agrees"
    fi
} | tee "$OUTDIR/summary.txt"
exit "$CHECK_FAIL"
