#!/usr/bin/env bash
# lab/seed.sh - fill lab hosts with realistic Docker content for fleetprune.
#
# Works offline: the base image lab/busybox:latest is `docker import`ed from
# a rootfs made of busybox-static; everything else is built FROM it with
# random (incompressible) layer bytes. A host is first reset to empty, so
# re-seeding always gives the same structure (same names, same sizes).
# Hosts are seeded in parallel; each host's log is DIR/hosts/NAME/seed.log.
#
# Usage: lab/seed.sh DIR [NAME...]
#
# Per host, afterwards:
#   images   lab/busybox:latest (imported base)
#            lab/app:1 = lab/app:latest = lab/app-alias:1 (one image, 3 tags)
#            lab/web:1, lab/worker:1, lab/old:1
#            lab/keep:1 (LABEL keep=true), lab/ci:1 (LABEL tier=ci)
#            lab/inuse-running:1, lab/inuse-stopped:1
#            lab/rebuild:1 + 2 dangling images (--no-cache rebuilds)
#            lab/buildkit:1 (BuildKit build, leaves build cache)
#   containers  lab-running     running, lab/inuse-running:1, volume lab-inuse
#               lab-exited      exited (0), lab/inuse-stopped:1, 256 KiB written
#               lab-failed      exited (3), lab/old:1
#               lab-created     created, never started, lab/web:1
#               lab-keep-stopped  exited, label keep=true, lab/worker:1
#   volumes  lab-data (300 KiB, unused), lab-keep (label keep=true, 200 KiB),
#            lab-inuse (used by lab-running), one anonymous volume (150 KiB)
#   networks lab-net-a, lab-net-b (label keep=true), bridge, unused
#   build cache from the BuildKit build
#
# On a Podman host the same structure is made with podman's own CLI (`podman import`,
# `podman build`, volumes, networks, containers), except the build cache: Podman has no BuildKit
# and no build cache, so lab/buildkit:1 is built by `podman build` like the others and leaves
# its builder stage as an untagged image instead.
set -euo pipefail

LAB_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$LAB_SRC/lib.sh"

usage() { echo "Usage: lab/seed.sh DIR [NAME...]"; }
case ${1:-} in
    -h | --help) usage; exit 0 ;;
    '') usage >&2; exit 2 ;;
esac
lab_become_root "$0" "$@"
DIR=$(realpath -m -- "$1")
shift
lab_check_dir "$DIR"
[[ -e $DIR/$LAB_MARKER ]] || lab_die "$DIR is not a lab directory (run lab/up.sh first)"
[[ -x /usr/bin/busybox ]] || lab_die "/usr/bin/busybox missing (apt-get install busybox-static)"

HOSTS=()
if (($# > 0)); then
    HOSTS=("$@")
else
    for hostdir in "$DIR"/hosts/*/; do
        [[ -d $hostdir ]] && HOSTS+=("$(basename "$hostdir")")
    done
fi
((${#HOSTS[@]} > 0)) || lab_die "no hosts in $DIR/hosts"
for name in "${HOSTS[@]}"; do
    socket=$(lab_host_var "$DIR/hosts/$name" SOCKET)
    socket=${socket:-/run/docker.sock}
    [[ -S $DIR/hosts/$name/run${socket#/run} ]] || lab_die "no lab host '$name' with an engine socket in $DIR/hosts"
done

T_START=$(lab_now)
SEED=$DIR/seed
rm -rf -- "$SEED"
install -d -m 0755 "$SEED" "$SEED/ctx"

# ------------------------------------------------------- base image rootfs
# /bin/busybox plus every applet as a symlink at its usual path, a minimal
# /etc/passwd and /etc/group, and the usual empty mount points.
make_rootfs() {
    local root=$SEED/rootfs p
    install -d -m 0755 "$root"/{bin,sbin,usr/bin,usr/sbin,etc,root,dev,proc,sys,var}
    install -d -m 1777 "$root/tmp"
    install -m 0755 /usr/bin/busybox "$root/bin/busybox"
    while read -r p; do
        [[ -n $p && ! -e $root/$p && ! -L $root/$p ]] || continue
        install -d -m 0755 "$root/$(dirname "$p")"
        ln -s /bin/busybox "$root/$p"
    done < <(/usr/bin/busybox --list-full)
    [[ -L $root/bin/sh ]] || ln -s /bin/busybox "$root/bin/sh"
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
    tar --numeric-owner --owner=0 --group=0 --mtime=@0 --sort=name -C "$root" -cf "$SEED/busybox-rootfs.tar" .
    rm -rf -- "$root"
}
make_rootfs

# ------------------------------------------------------ build contexts
# mkctx NAME DOCKERFILE-LINES...: a context dir holding just a Dockerfile.
mkctx() {
    local name=$1
    shift
    install -d -m 0755 "$SEED/ctx/$name"
    printf '%s\n' "FROM lab/busybox:latest" "$@" >"$SEED/ctx/$name/Dockerfile"
}
# blob PATH MIB: a RUN line writing MIB MiB of random bytes.
blob() { printf 'RUN mkdir -p %s && dd if=/dev/urandom of=%s bs=1M count=%s 2>/dev/null' "${1%/*}" "$1" "$2"; }

mkctx app "$(blob /app/bin 4)" "$(blob /app/assets 2)" 'LABEL org.opencontainers.image.title=app' \
    'CMD ["/bin/sh"]'
mkctx web "$(blob /srv/www 3)" 'EXPOSE 8080' 'CMD ["httpd", "-f", "-p", "8080"]'
mkctx worker "$(blob /opt/worker 2)" 'CMD ["/bin/sh"]'
mkctx old "$(blob /opt/old 2)" 'LABEL tier=legacy'
mkctx keep "$(blob /opt/keep 1)" 'LABEL keep=true'
mkctx ci "$(blob /opt/ci 1)" 'LABEL tier=ci'
mkctx inuse-running "$(blob /opt/running 2)" \
    "CMD [\"/bin/sh\", \"-c\", \"trap 'exit 0' TERM INT; sleep 2147483647 & wait \$!\"]"
mkctx inuse-stopped "$(blob /opt/stopped 1)" 'CMD ["/bin/sh"]'
mkctx rebuild "$(blob /opt/rebuild 1)"
# Multi-stage: the builder stage's 2 MiB layer ends up only in the build
# cache (no image uses it), so the cache has real reclaimable bytes.
install -d -m 0755 "$SEED/ctx/buildkit"
cat >"$SEED/ctx/buildkit/Dockerfile" <<'EOF'
FROM lab/busybox:latest AS builder
RUN mkdir -p /work && dd if=/dev/urandom of=/work/big bs=1M count=2 2>/dev/null && head -c 65536 /work/big >/work/artifact
FROM lab/busybox:latest
COPY --from=builder /work/artifact /opt/artifact
RUN mkdir -p /opt && dd if=/dev/urandom of=/opt/bk-base bs=1M count=1 2>/dev/null
LABEL built-by=buildkit
EOF

# ---------------------------------------------------------------- per host
# run CMD...: log the command, run it, and on failure name it and stop.
run() {
    local rc=0 shown
    shown=$(printf ' %q' "$@")
    printf '+%s\n' "$shown"
    local t0=$EPOCHREALTIME
    "$@" || rc=$?
    if ((rc != 0)); then
        printf 'FAILED (exit %s):%s\n' "$rc" "$shown"
        exit "$rc"
    fi
    printf '  (%ss)\n' "$(lab_elapsed "$t0")"
}

seed_host() {
    local name=$1
    local hostdir=$DIR/hosts/$name t0 podman=0
    t0=$(lab_now)
    [[ $(lab_host_var "$hostdir" ENGINE) != podman* ]] || podman=1
    # Every docker call below goes to this host's daemon with its engine's own client.
    # shellcheck disable=SC2317 # called through run
    dk() { lab_docker "$hostdir" "$@"; }
    # shellcheck disable=SC2317 # called through run
    classic() { DOCKER_BUILDKIT=0 lab_docker "$hostdir" build --network none -q "$@"; }

    echo "== $name: reset to empty"
    local ids
    ids=$(dk ps -aq)
    # shellcheck disable=SC2086 # one id per word
    [[ -z $ids ]] || run dk rm -f -v $ids
    run dk system prune -af --volumes
    ((podman)) || run dk builder prune -af
    # Docker 23+ keeps named volumes in a system prune: remove every volume by name.
    ids=$(dk volume ls -q)
    # shellcheck disable=SC2086 # one name per word
    [[ -z $ids ]] || run dk volume rm $ids
    ids=$(dk image ls -aq)
    [[ -z $ids ]] || { echo "images left after reset: $ids"; exit 1; }
    ids=$(dk volume ls -q)
    [[ -z $ids ]] || { echo "volumes left after reset: $ids"; exit 1; }

    echo "== $name: base image"
    run dk import --change 'CMD ["/bin/sh"]' --message 'lab base: busybox-static' \
        "$SEED/busybox-rootfs.tar" lab/busybox:latest

    echo "== $name: images (classic builder)"
    run classic -t lab/app:1 -t lab/app:latest -t lab/app-alias:1 "$SEED/ctx/app"
    run classic -t lab/web:1 "$SEED/ctx/web"
    run classic -t lab/worker:1 "$SEED/ctx/worker"
    run classic -t lab/old:1 "$SEED/ctx/old"
    run classic -t lab/keep:1 "$SEED/ctx/keep"
    run classic -t lab/ci:1 "$SEED/ctx/ci"
    run classic -t lab/inuse-running:1 "$SEED/ctx/inuse-running"
    run classic -t lab/inuse-stopped:1 "$SEED/ctx/inuse-stopped"
    # Three --no-cache builds of one tag: the first two become dangling.
    run classic --no-cache -t lab/rebuild:1 "$SEED/ctx/rebuild"
    run classic --no-cache -t lab/rebuild:1 "$SEED/ctx/rebuild"
    run classic --no-cache -t lab/rebuild:1 "$SEED/ctx/rebuild"

    if ((podman)); then
        echo "== $name: multi-stage build (Podman: no BuildKit, no build cache)"
        run dk build --network none -t lab/buildkit:1 "$SEED/ctx/buildkit"
    else
        echo "== $name: BuildKit build (build cache)"
        # The engine's own client: 20.10's built-in BuildKit, buildx on 26 and 28.
        # shellcheck disable=SC2317 # called through run
        buildkit() { DOCKER_BUILDKIT=1 lab_docker "$hostdir" build --network none --progress plain "$@"; }
        run buildkit -t lab/buildkit:1 "$SEED/ctx/buildkit"
    fi

    echo "== $name: volumes"
    run dk volume create lab-data
    run dk volume create --label keep=true lab-keep
    run dk volume create lab-inuse
    run dk run --rm --network none -v lab-data:/data lab/busybox:latest \
        dd if=/dev/urandom of=/data/blob bs=1k count=300
    run dk run --rm --network none -v lab-keep:/data lab/busybox:latest \
        dd if=/dev/urandom of=/data/blob bs=1k count=200
    run dk run --rm --network none -v lab-inuse:/data lab/busybox:latest \
        dd if=/dev/urandom of=/data/state bs=1k count=100
    # Anonymous volume: container removed without -v leaves it behind.
    run dk run --name lab-anon-writer --network none -v /data lab/busybox:latest \
        dd if=/dev/urandom of=/data/blob bs=1k count=150
    run dk rm lab-anon-writer

    echo "== $name: networks"
    run dk network create --driver bridge lab-net-a
    run dk network create --driver bridge --label keep=true lab-net-b

    echo "== $name: containers"
    run dk run -d --name lab-running --network none --restart no -v lab-inuse:/state \
        lab/inuse-running:1
    run dk run --name lab-exited --network none --restart no lab/inuse-stopped:1 \
        dd if=/dev/urandom of=/scratch bs=1k count=256
    run dk create --name lab-created --network none --restart no lab/web:1
    run dk run --name lab-keep-stopped --label keep=true --network none --restart no \
        lab/worker:1 true
    # `run` stops on non-zero, so expect the failure explicitly.
    printf '+ %s\n' "docker run --name lab-failed ... lab/old:1 sh -c 'exit 3'"
    if dk run --name lab-failed --network none --restart no lab/old:1 sh -c 'exit 3'; then
        echo "FAILED: lab-failed was expected to exit 3"
        exit 1
    fi

    echo "== $name: check"
    local dangling running cache
    dangling=$(dk image ls -q --filter dangling=true | wc -l)
    running=$(dk ps -q | wc -l)
    if ((podman)); then
        cache=none
    else
        cache=$(dk system df --format '{{.Type}} {{.TotalCount}}' | awk '/^Build Cache/ { print $3 }')
    fi
    echo "dangling=$dangling running=$running buildcache=$cache"
    ((dangling >= 2)) || { echo "FAILED: expected >= 2 dangling images, got $dangling"; exit 1; }
    ((running == 1)) || { echo "FAILED: expected 1 running container, got $running"; exit 1; }
    ((podman)) || ((cache > 0)) || { echo "FAILED: expected build cache entries, got ${cache:-none}"; exit 1; }
    run dk system df
    echo "== $name: seeded in $(lab_elapsed "$t0")s"
}

echo "seeding ${#HOSTS[@]} host(s) in $DIR: ${HOSTS[*]}"
pids=()
for name in "${HOSTS[@]}"; do
    seed_host "$name" >"$DIR/hosts/$name/seed.log" 2>&1 &
    pids+=("$!")
done
failed=()
for i in "${!HOSTS[@]}"; do
    wait "${pids[i]}" || failed+=("${HOSTS[i]}")
done
if ((${#failed[@]} > 0)); then
    for name in "${failed[@]}"; do
        log=$DIR/hosts/$name/seed.log
        lab_log "---- $name: seeding failed; $(grep -m1 '^FAILED' "$log" || echo 'see log')"
        lab_log "---- last 25 lines of $log:"
        tail -n 25 "$log" | sed 's/^/  /' >&2
    done
    lab_die "seeding failed on ${#failed[@]} host(s): ${failed[*]}"
fi

printf '%-10s %7s %10s %8s %8s %10s %9s\n' HOST IMAGES CONTAINERS VOLUMES NETWORKS BUILDCACHE DATA-ROOT
for name in "${HOSTS[@]}"; do
    hostdir=$DIR/hosts/$name
    declare -A count=()
    # Podman's `system df` has no build cache row and calls the count .Total; its default
    # network is "podman".
    if [[ $(lab_host_var "$hostdir" ENGINE) == podman* ]]; then
        df_format='{{.Type}} {{.Total}}'
        count[BuildCache]=none
        nets=$(lab_docker "$hostdir" network ls --format '{{.Name}}' | grep -cvx podman || true)
    else
        df_format='{{.Type}} {{.TotalCount}}'
        nets=$(lab_docker "$hostdir" network ls -q --filter type=custom | wc -l)
    fi
    while read -r type total; do
        count[$type]=$total
    done < <(lab_docker "$hostdir" system df --format "$df_format" |
        sed -e 's/^Local Volumes/Volumes/' -e 's/^Build Cache/BuildCache/')
    size=$(du -sh "$hostdir/data" | cut -f1)
    printf '%-10s %7s %10s %8s %8s %10s %9s\n' "$name" "${count[Images]:-?}" \
        "${count[Containers]:-?}" "${count[Volumes]:-?}" "$nets" "${count[BuildCache]:-?}" "$size"
    unset count
done
echo "seeded ${#HOSTS[@]} host(s) in $(lab_elapsed "$T_START")s"
