#!/usr/bin/env bash
# lab/up.sh - bring up N fake "Docker hosts" on this machine for fleetprune.
#
# Each lab host is a real dockerd (with its own managed containerd) plus a
# real OpenSSH sshd, sharing a private mount namespace in which
# DIR/hosts/NAME/run is bind-mounted over /run, so the host's socket is at
# /var/run/docker.sock exactly as on a real machine. dockerd also gets its
# own network and UTS namespaces; sshd stays in the machine's network
# namespace and listens on 127.0.0.1:PORT only. The engine is Debian 12's
# dockerd 20.10, or dockerd 26 or 28 from the engine root filesystems
# lab/install-deps.sh builds (run chrooted in a per-host overlay of one),
# with the overlay2 or the containerd image store. See lab/README.md.
#
# Usage: lab/up.sh [-n N] [-d DIR] [-p PORT_BASE] [--no-streamlocal NAME[,NAME...]]
#                  [--engine 20.10|26|28|podman|podman-rootless] [--engine-20.10 L]
#                  [--engine-26 L] [--engine-28 L] [--engine-podman L] [--engine-podman-rootless L]
#                  [--image-store overlay2|containerd] [--containerd-store L]
#                  [--small-root NAME=SIZE] [--small-containerd-root NAME=SIZE]
#                  [--prefix PREFIX] [--keep-on-failure]
set -euo pipefail

LAB_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$LAB_SRC/lib.sh"
lab_become_root "$0" "$@"

usage() {
    cat <<EOF
Usage: lab/up.sh [-n N] [-d DIR] [-p PORT_BASE] [--no-streamlocal NAME[,NAME...]]
                 [--engine 20.10|26|28|podman|podman-rootless] [--engine-20.10 L]
                 [--engine-26 L] [--engine-28 L] [--engine-podman L] [--engine-podman-rootless L]
                 [--image-store overlay2|containerd] [--containerd-store L]
                 [--small-root NAME=SIZE] [--small-containerd-root NAME=SIZE]
                 [--prefix PREFIX] [--keep-on-failure]

  -n N                 number of hosts, 1..99 (default 4)
  -d DIR               lab directory (default \${FLEETPRUNE_LAB_DIR:-/tmp/fleetprune-lab})
  -p PORT_BASE         host i listens on 127.0.0.1:PORT_BASE+i (default 22200)
  --no-streamlocal L   comma-separated host names whose sshd has
                       AllowStreamLocalForwarding no (may be repeated)
  --engine E           engine of every host: 20.10 (Debian 12's dockerd, API
                       1.41; the default), 26 (dockerd 26.1, API 1.45) or 28
                       (dockerd 28.5 with containerd 2.1, API 1.51), podman
                       (Podman 5.8 as root: podman system service on
                       /run/podman/podman.sock, usable by the lab user) or
                       podman-rootless (Podman 5.8 as $LAB_ROOTLESS_USER, its
                       socket /run/user/UID/podman/podman.sock, reached over
                       ssh as that user)
  --engine-20.10 L, --engine-26 L, --engine-28 L, --engine-podman L,
  --engine-podman-rootless L
                       the engine of the comma-separated hosts L (repeatable;
                       overrides --engine for them)
  --image-store S      image store of every 26 and 28 host: overlay2 (the
                       classic graphdriver store; default) or containerd
                       (daemon.json features.containerd-snapshotter)
  --containerd-store L hosts L use the containerd image store: a 26 or 28
                       host keeps its engine, any other one runs 26
  --small-root NAME=SIZE
                       host NAME's docker root (its --data-root, overlay2 layers
                       and containerd store included) is a filesystem of its
                       own: a tmpfs of SIZE (e.g. 96m) mounted in the host's
                       private mount namespace, so df there is small and
                       exact; it goes with the namespace (repeatable)
  --small-containerd-root NAME=SIZE
                       the same for the root of the containerd dockerd runs
                       (DATA-ROOT/containerd, where a containerd-store host
                       keeps its images): a tmpfs of SIZE of its own, inside
                       the --small-root one if both are given; the data root
                       is made 0711 (dockerd's is 0710) so the host's ssh
                       user can df it (repeatable)
  --prefix PREFIX      host names are PREFIX01..PREFIXNN (default host)
  --keep-on-failure    do not tear the lab down when a host fails to start

Environment: FLEETPRUNE_LAB_STORAGE_DRIVER forces a storage driver
(default: try overlay2, fall back to vfs).
EOF
}

N=4
DIR=$LAB_DEFAULT_DIR
PORT_BASE=22200
PREFIX=host
KEEP_ON_FAILURE=0
NO_STREAMLOCAL=()
ENGINE_ALL=20.10
IMAGE_STORE_ALL=overlay2
ENGINE_20_LIST=()
ENGINE_26_LIST=()
ENGINE_28_LIST=()
PODMAN_LIST=()
ROOTLESS_LIST=()
CONTAINERD_LIST=()
SMALL_ROOT_LIST=()
SMALL_CONTAINERD_LIST=()
DOCKERD_READY_TIMEOUT=${DOCKERD_READY_TIMEOUT:-60}
SSHD_READY_TIMEOUT=20

while (($# > 0)); do
    case $1 in
        -n) N=${2:?-n needs a value}; shift 2 ;;
        -d) DIR=${2:?-d needs a value}; shift 2 ;;
        -p) PORT_BASE=${2:?-p needs a value}; shift 2 ;;
        --no-streamlocal)
            IFS=, read -r -a more <<<"${2:?--no-streamlocal needs a value}"
            NO_STREAMLOCAL+=("${more[@]}")
            shift 2 ;;
        --no-streamlocal=*)
            IFS=, read -r -a more <<<"${1#*=}"
            NO_STREAMLOCAL+=("${more[@]}")
            shift ;;
        --engine) ENGINE_ALL=${2:?--engine needs 20.10, 26, 28, podman or podman-rootless}; shift 2 ;;
        --engine=*) ENGINE_ALL=${1#*=}; shift ;;
        --engine-20.10 | --engine-26 | --engine-28 | --engine-podman | --engine-podman-rootless | --containerd-store)
            IFS=, read -r -a more <<<"${2:?$1 needs a list of host names}"
            case $1 in
                --engine-20.10) ENGINE_20_LIST+=("${more[@]}") ;;
                --engine-26) ENGINE_26_LIST+=("${more[@]}") ;;
                --engine-28) ENGINE_28_LIST+=("${more[@]}") ;;
                --engine-podman) PODMAN_LIST+=("${more[@]}") ;;
                --engine-podman-rootless) ROOTLESS_LIST+=("${more[@]}") ;;
                *) CONTAINERD_LIST+=("${more[@]}") ;;
            esac
            shift 2 ;;
        --image-store) IMAGE_STORE_ALL=${2:?--image-store needs overlay2 or containerd}; shift 2 ;;
        --image-store=*) IMAGE_STORE_ALL=${1#*=}; shift ;;
        --small-root) SMALL_ROOT_LIST+=("${2:?--small-root needs NAME=SIZE}"); shift 2 ;;
        --small-root=*) SMALL_ROOT_LIST+=("${1#*=}"); shift ;;
        --small-containerd-root) SMALL_CONTAINERD_LIST+=("${2:?--small-containerd-root needs NAME=SIZE}"); shift 2 ;;
        --small-containerd-root=*) SMALL_CONTAINERD_LIST+=("${1#*=}"); shift ;;
        --prefix) PREFIX=${2:?--prefix needs a value}; shift 2 ;;
        --prefix=*) PREFIX=${1#*=}; shift ;;
        --keep-on-failure) KEEP_ON_FAILURE=1; shift ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; lab_die "unknown argument: $1" ;;
    esac
done

# ---------------------------------------------------------------- checks
if ! [[ $N =~ ^[0-9]+$ ]] || ((N < 1 || N > 99)); then
    lab_die "-n must be 1..99, got '$N'"
fi
if ! [[ $PORT_BASE =~ ^[0-9]+$ ]] || ((PORT_BASE < 1024 || PORT_BASE + N > 65535)); then
    lab_die "-p must leave PORT_BASE+1..PORT_BASE+N inside 1025..65535, got '$PORT_BASE'"
fi
[[ $PREFIX =~ ^[a-z][a-z0-9-]{0,20}$ ]] || lab_die "--prefix must match [a-z][a-z0-9-]{0,20}, got '$PREFIX'"
[[ $ENGINE_ALL =~ ^(20\.10|26|28|podman|podman-rootless)$ ]] ||
    lab_die "--engine must be 20.10, 26, 28, podman or podman-rootless, got '$ENGINE_ALL'"
[[ $IMAGE_STORE_ALL == overlay2 || $IMAGE_STORE_ALL == containerd ]] ||
    lab_die "--image-store must be overlay2 or containerd, got '$IMAGE_STORE_ALL'"
DIR=$(realpath -m -- "$DIR")
lab_check_dir "$DIR"

for cmd in unshare nsenter setsid ip ss ssh ssh-keygen useradd groupadd usermod runuser \
    /usr/sbin/sshd /usr/sbin/dockerd "$DOCKER_BIN" containerd runc; do
    command -v "$cmd" >/dev/null || lab_die "missing required command: $cmd"
done

NAMES=()
PORTS=()
for ((i = 1; i <= N; i++)); do
    NAMES+=("$(printf '%s%02d' "$PREFIX" "$i")")
    PORTS+=("$((PORT_BASE + i))")
done

declare -A STREAMLOCAL=()
for name in "${NAMES[@]}"; do STREAMLOCAL[$name]=yes; done
for name in "${NO_STREAMLOCAL[@]}"; do
    [[ -n $name ]] || continue
    [[ -n ${STREAMLOCAL[$name]:-} ]] || lab_die "--no-streamlocal: no host named '$name' (hosts: ${NAMES[*]})"
    STREAMLOCAL[$name]=no
done

# Engine and image store per host: --engine and --image-store for all, then the per-host lists.
declare -A ENGINE=() IMAGE_STORE=()
for name in "${NAMES[@]}"; do ENGINE[$name]=$ENGINE_ALL; done
# set_hosts FLAG ARRAY VALUE NAME...: ARRAY[NAME]=VALUE for each named host.
set_hosts() {
    local flag=$1 array=$2 value=$3 name
    shift 3
    for name in "$@"; do
        [[ -n $name ]] || continue
        [[ -n ${STREAMLOCAL[$name]:-} ]] || lab_die "$flag: no host named '$name' (hosts: ${NAMES[*]})"
        eval "$array[\$name]=\$value"
    done
}
set_hosts --engine-20.10 ENGINE 20.10 "${ENGINE_20_LIST[@]}"
set_hosts --engine-26 ENGINE 26 "${ENGINE_26_LIST[@]}"
set_hosts --engine-28 ENGINE 28 "${ENGINE_28_LIST[@]}"
set_hosts --engine-podman ENGINE podman "${PODMAN_LIST[@]}"
set_hosts --engine-podman-rootless ENGINE podman-rootless "${ROOTLESS_LIST[@]}"
# The containerd store is a 26/28 feature: a host named by --containerd-store keeps 26 or 28 and
# runs 26 otherwise.
for name in "${CONTAINERD_LIST[@]}"; do
    [[ ${ENGINE[$name]:-} != podman* ]] || lab_die "--containerd-store: $name runs Podman"
    [[ -z $name || ${ENGINE[$name]:-} == 2[68] ]] || set_hosts --containerd-store ENGINE 26 "$name"
done
for name in "${NAMES[@]}"; do
    if [[ ${ENGINE[$name]} == 2[68] ]]; then IMAGE_STORE[$name]=$IMAGE_STORE_ALL; else IMAGE_STORE[$name]=overlay2; fi
done
set_hosts --containerd-store IMAGE_STORE containerd "${CONTAINERD_LIST[@]}"
# --small-root NAME=SIZE: the tmpfs size of NAME's docker root.
declare -A SMALL_ROOT=()
for entry in "${SMALL_ROOT_LIST[@]}"; do
    [[ $entry =~ ^([a-z][a-z0-9-]*)=([1-9][0-9]*[kmgKMG])$ ]] ||
        lab_die "--small-root needs NAME=SIZE with SIZE like 96m or 1G, got '$entry'"
    set_hosts --small-root SMALL_ROOT "${BASH_REMATCH[2]}" "${BASH_REMATCH[1]}"
done
# --small-containerd-root NAME=SIZE: the tmpfs size of NAME's DATA-ROOT/containerd.
declare -A SMALL_CONTAINERD=()
for entry in "${SMALL_CONTAINERD_LIST[@]}"; do
    [[ $entry =~ ^([a-z][a-z0-9-]*)=([1-9][0-9]*[kmgKMG])$ ]] ||
        lab_die "--small-containerd-root needs NAME=SIZE with SIZE like 96m or 1G, got '$entry'"
    set_hosts --small-containerd-root SMALL_CONTAINERD "${BASH_REMATCH[2]}" "${BASH_REMATCH[1]}"
done
if [[ $IMAGE_STORE_ALL == containerd && " ${ENGINE[*]} " != *" 26 "* && " ${ENGINE[*]} " != *" 28 "* ]]; then
    lab_die "--image-store containerd needs Docker 26 or 28 hosts (--engine 26|28 or --engine-26/28 L)"
fi
for engine in $(printf '%s\n' "${ENGINE[@]}" | sort -u); do
    rootfs=$(lab_engine_rootfs "$engine") || continue
    [[ -d $rootfs/usr ]] || lab_die "no $engine engine in $rootfs: run lab/install-deps.sh first"
done

# The longest unix socket path we create must fit in sun_path (108 bytes).
sock="$DIR/hosts/${NAMES[-1]}/run/docker.sock"
((${#sock} <= 100)) || lab_die "lab dir path too long for a unix socket path: $sock"

# --------------------------------------------------------- the lab directory
if [[ -e $DIR ]]; then
    [[ -d $DIR ]] || lab_die "$DIR exists and is not a directory"
    running=$(lab_running_pids "$DIR")
    if [[ -n $running ]]; then
        lab_log "error: $DIR already holds a running lab:"
        printf '  %s\n' "${running//$'\n'/$'\n'  }" >&2
        lab_die "run 'lab/down.sh $DIR' first (or pick another -d DIR)"
    fi
    if [[ -e $DIR/$LAB_MARKER ]]; then
        lab_log "removing stale (not running) lab in $DIR"
        "$LAB_SRC/down.sh" "$DIR" >&2
    elif [[ -n $(ls -A "$DIR") ]]; then
        lab_die "$DIR exists, is not empty and is not a lab directory; refusing to touch it"
    fi
fi

for port in "${PORTS[@]}"; do
    if ss -Hltn "sport = :$port" | grep -q .; then
        lab_die "port $port is already in use (choose another -p PORT_BASE)"
    fi
done

# ------------------------------------------------------------- the ssh user
if ! getent group "$LAB_GROUP" >/dev/null; then
    groupadd --system "$LAB_GROUP"
fi
if ! getent passwd "$LAB_USER" >/dev/null; then
    useradd --system --gid "$LAB_GROUP" --home-dir "$LAB_HOME" --no-create-home \
        --shell /bin/sh --comment 'fleetprune lab ssh user' "$LAB_USER"
fi
# '*' = no password but not locked: with UsePAM no, sshd refuses locked ('!')
# accounts even for public-key logins.
usermod --password '*' --shell /bin/sh "$LAB_USER"
lab_home=$(getent passwd "$LAB_USER" | cut -d: -f6)
# By number: a 26 host's rootfs has no such group name.
LAB_GID=$(getent group "$LAB_GROUP" | cut -d: -f3)
# An empty home: no .profile/.bashrc, so ssh sessions do no extra work.
install -d -o "$LAB_USER" -g "$LAB_GROUP" -m 0755 "$lab_home"
# A rootless engine host's user (its own group; its subordinate ids live in the engine rootfs).
if [[ " ${ENGINE[*]} " == *" podman-rootless "* ]]; then
    if ! getent passwd "$LAB_ROOTLESS_USER" >/dev/null; then
        useradd --system --user-group --home-dir "$LAB_ROOTLESS_HOME" --no-create-home \
            --shell /bin/sh --comment 'fleetprune lab rootless engine user' "$LAB_ROOTLESS_USER"
    fi
    usermod --password '*' --shell /bin/sh "$LAB_ROOTLESS_USER"
    install -d -o "$LAB_ROOTLESS_USER" -g "$(id -g "$LAB_ROOTLESS_USER")" -m 0755 "$LAB_ROOTLESS_HOME"
fi

# --------------------------------------------------------------- fresh DIR
T_START=$(lab_now)
install -d -m 0755 "$DIR" "$DIR/hosts" "$DIR/client"
printf 'created by lab/up.sh on %s\n' "$(date -u +%FT%TZ)" >"$DIR/$LAB_MARKER"
ssh-keygen -q -t ed25519 -N '' -C "fleetprune-lab-client" -f "$DIR/client/id_ed25519"
install -m 0644 "$DIR/client/id_ed25519.pub" "$DIR/client/authorized_keys"
if ! runuser -u "$LAB_USER" -- test -r "$DIR/client/authorized_keys"; then
    lab_die "user $LAB_USER cannot read $DIR/client/authorized_keys (is a parent of $DIR not world-searchable?)"
fi

# ssh options used for our own readiness checks (never reads ~/.ssh/config).
ssh_check_opts() {
    local port=$1 known=$2
    printf '%s\n' -F /dev/null -i "$DIR/client/id_ed25519" -o IdentitiesOnly=yes \
        -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$known" \
        -o GlobalKnownHostsFile=/dev/null -o ConnectTimeout=5 -o LogLevel=ERROR -p "$port"
}

# start_dockerd HOSTDIR HOLDER ENGINE DRIVER -> prints dockerd's pid. DRIVER
# "containerd" means the containerd image store (its default snapshotter).
start_dockerd() {
    local hostdir=$1 holder=$2 engine=$3 driver=$4
    local args=(
        --pidfile "$hostdir/dockerd.pid"
        --config-file "$hostdir/daemon.json"
        --data-root "$hostdir/data"
        --exec-root /var/run/docker
        -H unix:///var/run/docker.sock
        --group "$LAB_GID"
        --bridge=none --iptables=false --ip6tables=false
        --ip-forward=false --ip-masq=false --userland-proxy=false
    )
    [[ $driver == containerd ]] || args+=(--storage-driver "$driver")
    # A 26 or 28 host runs the rootfs's dockerd chrooted into its own overlay
    # of the rootfs (mounted by the holder), where DIR is at the same path.
    local chroot=()
    [[ $engine == 20.10 ]] || chroot=(chroot "$hostdir/root")
    printf '=== %s: starting dockerd %s with storage driver %s\n' "$(date -u +%T)" "$engine" "$driver" >>"$hostdir/dockerd.log"
    # setsid does not fork here (we are not a group leader), and nsenter/env/
    # chroot exec, so $! is dockerd itself.
    (cd / && exec setsid nsenter --mount="/proc/$holder/ns/mnt" --net="/proc/$holder/ns/net" \
        --uts="/proc/$holder/ns/uts" -- env -i PATH="$LAB_PATH" HOME=/root LANG=C.UTF-8 \
        TMPDIR="$hostdir/tmp" \
        "${chroot[@]}" /usr/sbin/dockerd "${args[@]}") </dev/null >>"$hostdir/dockerd.log" 2>&1 &
    printf '%s\n' "$!"
}

# wait_dockerd HOSTDIR PID -> 0 ready, 1 dockerd exited, 2 timed out
wait_dockerd() {
    local hostdir=$1 pid=$2 deadline=$((SECONDS + DOCKERD_READY_TIMEOUT))
    while ((SECONDS < deadline)); do
        if lab_docker_t 10 "$hostdir" version >/dev/null 2>&1; then
            return 0
        fi
        lab_proc_alive "$pid" || return 1
        sleep 0.5
    done
    return 2
}

# podman_config HOSTDIR ENGINE: before the holder mounts the host's overlay of the Podman rootfs,
# put into its upper layer what makes Podman run here: no systemd (cgroupfs, file events), and on
# a rootless host the engine's user with its subordinate uid/gid range.
podman_config() {
    local hostdir=$1 engine=$2 upper=$1/rootfs-upper rootfs file
    rootfs=$(lab_engine_rootfs "$engine")
    [[ -n $hostdir && -d $upper ]] || { echo "podman_config: no $upper"; return 1; }
    # lab_podman_exec pivots into the rootfs and leaves the old root here.
    install -d -m 0755 "$upper/etc/containers" "$upper/.lab-oldroot"
    # No systemd on a lab host; containers get this machine's hard open-files and process limits
    # (rootful Podman's defaults, 1048576, are above them here and crun's setrlimit fails).
    printf '%s\n' '# written by lab/up.sh' '[containers]' \
        "default_ulimits = [\"nofile=$(ulimit -Hn):$(ulimit -Hn)\", \"nproc=$(ulimit -Hu):$(ulimit -Hu)\"]" '[engine]' \
        'cgroup_manager = "cgroupfs"' 'events_logger = "file"' >"$upper/etc/containers/containers.conf"
    [[ $engine == podman-rootless ]] || return 0
    for file in passwd group; do
        { cat "$rootfs/etc/$file"; getent "$file" "$LAB_ROOTLESS_USER"; } >"$upper/etc/$file"
    done
    for file in subuid subgid; do
        printf '%s:%s:%s\n' "$LAB_ROOTLESS_USER" "$LAB_SUBID_START" "$LAB_SUBID_COUNT" >"$upper/etc/$file"
    done
}

# podman_up HOSTDIR HOLDER ENGINE T0: the Podman service (`podman system service`, its Docker-
# compatible API) on the host's socket, rootful or as the rootless user; the service's pid goes
# to HOSTDIR/dockerd.pid like a dockerd's. The lab user may use a rootful socket (group
# $LAB_GROUP), as on the docker hosts.
podman_up() {
    local hostdir=$1 holder=$2 engine=$3 t0=$4 uid="" gid="" socket=/run/podman/podman.sock pid driver
    install -d -m 0755 "$hostdir/run/podman"
    if [[ $engine == podman-rootless ]]; then
        uid=$(id -u "$LAB_ROOTLESS_USER")
        gid=$(id -g "$LAB_ROOTLESS_USER")
        socket=/run/user/$uid/podman/podman.sock
        install -d -m 0755 "$hostdir/run/user"
        install -d -o "$uid" -g "$gid" -m 0700 "$hostdir/run/user/$uid" "$hostdir/run/user/$uid/podman" "$hostdir/home"
        chown "$uid:$gid" "$hostdir/data"
    fi
    printf 'ENGINE_UID=%s\nENGINE_GID=%s\nSOCKET=%s\n' "$uid" "$gid" "$socket" >>"$hostdir/host.env"
    printf '=== %s: starting podman system service (%s)\n' "$(date -u +%T)" "$engine" >>"$hostdir/podman.log"
    lab_podman_command "$hostdir" /usr/bin/podman --root "$hostdir/data" system service --time=0 \
        "unix://$socket" || return 1
    # setsid and every step of the command exec, so $! is podman itself.
    (cd / && exec setsid "${LAB_PODMAN_COMMAND[@]}") </dev/null >>"$hostdir/podman.log" 2>&1 &
    pid=$!
    printf '%s\n' "$pid" >"$hostdir/dockerd.pid"
    local deadline=$((SECONDS + DOCKERD_READY_TIMEOUT))
    # Ready when its Docker-compatible API answers Debian 12's docker client.
    until env -u DOCKER_CONTEXT -u DOCKER_HOST DOCKER_CONFIG="$hostdir/client-config" \
        timeout 10 "$DOCKER_BIN" -H "unix://$hostdir/run${socket#/run}" version >/dev/null 2>&1; do
        if ! lab_proc_alive "$pid" || ((SECONDS >= deadline)); then
            echo "$name: podman system service (pid $pid) did not answer on $socket; last 30 lines of $hostdir/podman.log:"
            tail -n 30 "$hostdir/podman.log" || true
            return 1
        fi
        sleep 0.3
    done
    if [[ -z $uid ]]; then
        chgrp "$LAB_GID" "$hostdir/run${socket#/run}"
        chmod 0660 "$hostdir/run${socket#/run}"
        chmod 0755 "$hostdir/run/podman"
    fi
    driver=$(lab_docker "$hostdir" info --format '{{.Store.GraphDriverName}}')
    printf 'DRIVER=%s\n' "$driver" >>"$hostdir/host.env"
    echo "$name: podman $engine pid $pid ready after $(lab_elapsed "$t0")s on $socket, storage driver $driver"
}

# host_up INDEX: everything for one host. Runs in the background with its
# output in DIR/hosts/NAME/up.log.
host_up() {
    local idx=$1
    local name=${NAMES[idx]} port=${PORTS[idx]} streamlocal=${STREAMLOCAL[${NAMES[idx]}]}
    local engine=${ENGINE[${NAMES[idx]}]} store=${IMAGE_STORE[${NAMES[idx]}]}
    local small_root=${SMALL_ROOT[${NAMES[idx]}]:-}
    local small_containerd=${SMALL_CONTAINERD[${NAMES[idx]}]:-}
    local hostdir=$DIR/hosts/$name
    local t0 holder pid driver rc i rootfs=""
    t0=$(lab_now)
    install -d -m 0755 "$hostdir" "$hostdir/run" "$hostdir/data" "$hostdir/run/sshd"
    install -d -m 1777 "$hostdir/tmp"
    install -d -m 0700 "$hostdir/client-config"
    printf 'NAME=%s\nPORT=%s\nSTREAMLOCAL=%s\nENGINE=%s\nIMAGE_STORE=%s\nSMALL_ROOT=%s\n' "$name" \
        "$port" "$streamlocal" "$engine" "$store" "$small_root" >"$hostdir/host.env"
    if [[ $engine != 20.10 ]]; then
        rootfs=$(lab_engine_rootfs "$engine")
        install -d -m 0755 "$hostdir/root" "$hostdir/rootfs-upper" "$hostdir/rootfs-work"
    fi
    if [[ $engine == podman* ]]; then podman_config "$hostdir" "$engine" || return 1; fi

    # 1. The namespace holder: private mount ns with /run replaced, plus the
    #    network and UTS namespaces dockerd will join. It writes its own pid.
    #    For a 26 or 28 host it also mounts the host's own overlay of the engine
    #    rootfs at HOSTDIR/root, with /proc, /sys, /dev, this /run and DIR
    #    (at the same path) inside, for the chrooted dockerd and its client.
    #    With --small-root, HOSTDIR/data is a tmpfs of that size (seen at the
    #    same path inside the chroot too); it goes with the namespace.
    # shellcheck disable=SC2016 # $1.. are expanded by the inner bash
    (cd / && exec setsid unshare --mount --propagation private --net --uts -- /bin/bash -c '
        set -e
        mount --bind "$1" /run
        if [[ -n $7 ]]; then
            mount -t tmpfs -o "size=$7,mode=0755" fleetprune-lab-root "$4/data"
        fi
        if [[ -n $9 ]]; then
            mkdir -p "$4/data/containerd"
            mount -t tmpfs -o "size=$9,mode=0711" fleetprune-lab-containerd "$4/data/containerd"
        fi
        if [[ -n $5 ]]; then
            root=$4/root
            mount -t overlay overlay -o "lowerdir=$5,upperdir=$4/rootfs-upper,workdir=$4/rootfs-work" "$root"
            mount --rbind /proc "$root/proc"
            mount --rbind /sys "$root/sys"
            # crun refuses a hybrid cgroup layout (v1 controllers plus a cgroup2 "unified"
            # hierarchy with controllers, as on this machine): a Podman host sees only v1.
            if [[ $8 == podman* ]] && mountpoint -q "$root/sys/fs/cgroup/unified"; then
                umount -l "$root/sys/fs/cgroup/unified"
            fi
            mount --rbind /dev "$root/dev"
            mount --bind "$1" "$root/run"
            mkdir -p "$root$6"
            mount --bind "$6" "$root$6"
            if [[ -n $7 ]]; then
                mount --bind "$4/data" "$root$4/data"
            fi
            if [[ -n $9 ]]; then
                mount --bind "$4/data/containerd" "$root$4/data/containerd"
            fi
        fi
        ip link set lo up
        # only inside this private netns; keeps "docker info" free of the
        # "IPv4 forwarding is disabled" warning a real host would not show
        echo 1 >/proc/sys/net/ipv4/ip_forward
        hostname "$2"
        echo "$$" >"$3.tmp" && mv "$3.tmp" "$3"
        exec -a "fleetprune-lab-holder:$4" sleep infinity' \
        holder "$hostdir/run" "$name" "$hostdir/holder.pid" "$hostdir" "$rootfs" "$DIR" "$small_root" \
        "$engine" "$small_containerd") \
        </dev/null >>"$hostdir/holder.log" 2>&1 &
    for ((i = 0; i < 100; i++)); do
        holder=$(lab_pid_from "$hostdir/holder.pid" "$(lab_needle_holder "$hostdir")") && break
        sleep 0.1
    done
    if [[ -z ${holder:-} ]]; then
        echo "$name: namespace holder did not start; holder.log:"
        cat "$hostdir/holder.log" || true
        return 1
    fi
    readlink "/proc/$holder/ns/mnt" >"$hostdir/holder.mntns"
    echo "$name: holder pid $holder ($(cat "$hostdir/holder.mntns"))"

    # 2. The engine. A 20.10 daemon's ID comes from key.json, per host; 26 and 28
    #    keep their ID in the data root and enable the containerd store in daemon.json.
    #    A Podman host runs `podman system service` instead.
    if [[ $engine == podman* ]]; then
        podman_up "$hostdir" "$holder" "$engine" "$t0" || return 1
    else
        if [[ $engine == 20.10 ]]; then
            printf '{\n  "deprecated-key-path": "%s/key.json"\n}\n' "$hostdir" >"$hostdir/daemon.json"
        elif [[ $store == containerd ]]; then
            printf '{\n  "features": { "containerd-snapshotter": true }\n}\n' >"$hostdir/daemon.json"
        else
            printf '{}\n' >"$hostdir/daemon.json"
        fi
        driver=${FLEETPRUNE_LAB_STORAGE_DRIVER:-overlay2}
        [[ $store == containerd ]] && driver=containerd
        pid=$(start_dockerd "$hostdir" "$holder" "$engine" "$driver")
        rc=0
        wait_dockerd "$hostdir" "$pid" || rc=$?
        if ((rc == 1)) && [[ $driver == overlay2 && -z ${FLEETPRUNE_LAB_STORAGE_DRIVER:-} ]] &&
            grep -Eqi 'graphdriver|storage.driver|overlay' "$hostdir/dockerd.log"; then
            echo "$name: dockerd failed with overlay2, falling back to vfs:"
            grep -iE 'graphdriver|storage.driver|overlay' "$hostdir/dockerd.log" | tail -n 5
            driver=vfs
            pid=$(start_dockerd "$hostdir" "$holder" "$engine" "$driver")
            rc=0
            wait_dockerd "$hostdir" "$pid" || rc=$?
        fi
        if ((rc != 0)); then
            if ((rc == 1)); then
                echo "$name: dockerd (pid $pid) exited before answering; last 30 lines of $hostdir/dockerd.log:"
            else
                echo "$name: dockerd (pid $pid) did not answer within ${DOCKERD_READY_TIMEOUT}s; last 30 lines of $hostdir/dockerd.log:"
            fi
            tail -n 30 "$hostdir/dockerd.log" || true
            return 1
        fi
        # dockerd keeps its data root 0710 root:root, so a non-root login cannot reach
        # anything under it: with a containerd root of its own, open the data root for
        # traversal (0711), as an admin lets a monitoring user df such a mount.
        if [[ -n $small_containerd ]]; then
            nsenter --mount="/proc/$holder/ns/mnt" -- chmod 0711 "$hostdir/data" || return 1
        fi
        driver=$(lab_docker "$hostdir" info --format '{{.Driver}}')
        printf 'DRIVER=%s\n' "$driver" >>"$hostdir/host.env"
        echo "$name: dockerd $engine pid $pid ready after $(lab_elapsed "$t0")s, storage driver $driver"
    fi

    # 3. sshd, in the same mount (and UTS) namespace but the machine's network. The login
    #    check runs Debian 12's docker client on the engine's socket as the host's ssh user.
    local ssh_user=$LAB_USER socket
    socket=$(lab_host_var "$hostdir" SOCKET)
    [[ $engine == podman-rootless ]] && ssh_user=$LAB_ROOTLESS_USER
    ssh-keygen -q -t ed25519 -N '' -C "$name.fleetprune-lab" -f "$hostdir/ssh_host_ed25519_key"
    printf '[127.0.0.1]:%s %s\n' "$port" "$(cut -d' ' -f1,2 "$hostdir/ssh_host_ed25519_key.pub")" \
        >"$hostdir/known_hosts"
    cat >"$hostdir/sshd_config" <<EOF
# sshd_config for lab host $name, generated by lab/up.sh
Port $port
ListenAddress 127.0.0.1
HostKey $hostdir/ssh_host_ed25519_key
PidFile $hostdir/sshd.pid
AuthorizedKeysFile $DIR/client/authorized_keys
AllowUsers $ssh_user
PermitRootLogin no
UsePAM no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes no
# -L to a remote unix socket needs local forwarding permitted in general
# (AllowTcpForwarding) and then unix-socket forwarding specifically.
AllowTcpForwarding local
AllowStreamLocalForwarding $streamlocal
AllowAgentForwarding no
X11Forwarding no
PermitTunnel no
PermitUserEnvironment no
PrintMotd no
PrintLastLog no
UseDNS no
# Stock environment: the matching 20.10 client (/usr/bin/docker) comes first.
SetEnv PATH=/usr/bin:/bin:/usr/sbin:/sbin
MaxStartups 64:30:256
MaxSessions 64
LogLevel INFO
Subsystem sftp internal-sftp
EOF
    nsenter --mount="/proc/$holder/ns/mnt" -- /usr/sbin/sshd -t -f "$hostdir/sshd_config"
    (cd / && exec setsid nsenter --mount="/proc/$holder/ns/mnt" --uts="/proc/$holder/ns/uts" -- \
        env -i PATH="$LAB_PATH" LANG=C.UTF-8 \
        /usr/sbin/sshd -D -f "$hostdir/sshd_config" -E "$hostdir/sshd.log") \
        </dev/null >>"$hostdir/sshd.out" 2>&1 &
    pid=$!
    local deadline=$((SECONDS + SSHD_READY_TIMEOUT)) out="" ok=0
    local -a opts
    mapfile -t opts < <(ssh_check_opts "$port" "$hostdir/known_hosts")
    while ((SECONDS < deadline)); do
        # A real login as the lab user that also proves it can use the socket.
        if out=$(ssh "${opts[@]}" "$ssh_user@127.0.0.1" \
            "${socket:+DOCKER_HOST=unix://$socket }docker version --format '{{.Server.Version}}'" 2>&1); then
            ok=1
            break
        fi
        lab_proc_alive "$pid" || break
        sleep 0.3
    done
    if ((!ok)); then
        echo "$name: sshd (pid $pid) on 127.0.0.1:$port not usable: $out"
        echo "last 30 lines of $hostdir/sshd.log:"
        tail -n 30 "$hostdir/sshd.log" || true
        return 1
    fi
    lab_pid_from "$hostdir/sshd.pid" "$(lab_needle_sshd "$hostdir")" >/dev/null ||
        { echo "$name: sshd pidfile $hostdir/sshd.pid does not name a live sshd"; return 1; }
    echo "$name: sshd pid $pid on 127.0.0.1:$port ok (engine $out over ssh as $ssh_user), total $(lab_elapsed "$t0")s"
}

# ---------------------------------------------------------- start in parallel
lab_log "starting ${N} lab hosts in $DIR (ports $((PORT_BASE + 1))..$((PORT_BASE + N)))"
pids=()
for ((i = 0; i < N; i++)); do
    install -d -m 0755 "$DIR/hosts/${NAMES[i]}"
    host_up "$i" >"$DIR/hosts/${NAMES[i]}/up.log" 2>&1 &
    pids+=("$!")
done
failed=()
for ((i = 0; i < N; i++)); do
    wait "${pids[i]}" || failed+=("${NAMES[i]}")
done

if ((${#failed[@]} > 0)); then
    for name in "${failed[@]}"; do
        lab_log "---- $name failed to come up ($DIR/hosts/$name/up.log):"
        sed 's/^/  /' "$DIR/hosts/$name/up.log" >&2 || true
    done
    if ((KEEP_ON_FAILURE)); then
        lab_die "${#failed[@]} host(s) failed: ${failed[*]}; lab left in $DIR (lab/down.sh $DIR removes it)"
    fi
    lab_log "tearing the partial lab down (use --keep-on-failure to inspect it instead)"
    "$LAB_SRC/down.sh" "$DIR" >&2 || true
    lab_die "${#failed[@]} host(s) failed: ${failed[*]}"
fi

# ------------------------------------------------------ generated client files
: >"$DIR/known_hosts"
for name in "${NAMES[@]}"; do cat "$DIR/hosts/$name/known_hosts" >>"$DIR/known_hosts"; done
chmod 0644 "$DIR/known_hosts"

{
    echo "# generated by lab/up.sh"
    echo "all:"
    echo "  vars:"
    echo "    ansible_user: $LAB_USER"
    echo "    ansible_ssh_private_key_file: $DIR/client/id_ed25519"
    echo "  children:"
    echo "    lab:"
    echo "      hosts:"
    for ((i = 0; i < N; i++)); do
        echo "        ${NAMES[i]}:"
        echo "          ansible_host: 127.0.0.1"
        echo "          ansible_port: ${PORTS[i]}"
        [[ ${ENGINE[${NAMES[i]}]} != podman-rootless ]] || echo "          ansible_user: $LAB_ROOTLESS_USER"
        socket=$(lab_host_var "$DIR/hosts/${NAMES[i]}" SOCKET)
        if [[ -n $socket ]]; then
            echo "          fleetprune:"
            echo "            docker_socket: $socket"
        fi
    done
} >"$DIR/inventory.yaml"

{
    echo "# generated by lab/up.sh; source it: . $DIR/env"
    printf 'export FLEETPRUNE_LAB_DIR=%q\n' "$DIR"
    printf 'export FLEETPRUNE_INVENTORY=%q\n' "$DIR/inventory.yaml"
    printf 'export FLEETPRUNE_KNOWN_HOSTS=%q\n' "$DIR/known_hosts"
} >"$DIR/env"

# ------------------------------------------------------------------ summary
# Under sudo, what a user needs to run fleetprune and tests against the lab is theirs.
lab_give_to_invoker "$DIR" "$DIR/known_hosts" "$DIR/inventory.yaml" "$DIR/env"
lab_give_to_invoker -R "$DIR/client"

echo "lab up: $N host(s) in $(lab_elapsed "$T_START")s, dir $DIR"
printf '  %-10s %-16s %-15s %-11s %-11s %-8s %-8s %s\n' NAME SSH ENGINE DRIVER STREAMLOCAL HOLDER ENGINED SSHD
for ((i = 0; i < N; i++)); do
    name=${NAMES[i]}
    hostdir=$DIR/hosts/$name
    driver=$(lab_host_var "$hostdir" DRIVER)
    printf '  %-10s %-16s %-15s %-11s %-11s %-8s %-8s %s\n' "$name" "127.0.0.1:${PORTS[i]}" \
        "${ENGINE[$name]}" "$driver" "${STREAMLOCAL[$name]}" "$(head -n1 "$hostdir/holder.pid")" \
        "$(head -n1 "$hostdir/dockerd.pid")" "$(head -n1 "$hostdir/sshd.pid")"
done
echo "ssh user:    $LAB_USER (key $DIR/client/id_ed25519)"
echo "inventory:   $DIR/inventory.yaml"
echo "known_hosts: $DIR/known_hosts"
echo "env:         . $DIR/env"
echo "stop with:   lab/down.sh $DIR"
