# shellcheck shell=bash
# lab/lib.sh - helpers shared by lab/up.sh, lab/seed.sh and lab/down.sh.
# Sourced, not executed. Everything here only looks at pids read from the
# pidfiles the lab itself wrote, and double-checks each pid's command line
# before anyone signals it (pids get reused).

# Constants below are used by the scripts that source this file.
# shellcheck disable=SC2034

# The lab's ssh user and the group that owns each lab dockerd's socket.
LAB_USER=fplab
LAB_GROUP=fplab
LAB_HOME=/var/lib/fleetprune-lab
# The user a rootless engine host runs its engine as and is reached over ssh as; its subordinate
# uid/gid range (/etc/subuid, /etc/subgid in the engine rootfs).
LAB_ROOTLESS_USER=fplab-rootless
LAB_ROOTLESS_HOME=/var/lib/fleetprune-lab-rootless
LAB_SUBID_START=200000
LAB_SUBID_COUNT=65536
# Marker file that says "this directory was created by lab/up.sh".
LAB_MARKER=.fleetprune-lab
LAB_DEFAULT_DIR=${FLEETPRUNE_LAB_DIR:-/tmp/fleetprune-lab}
# Debian 12's 20.10 client, for 20.10 hosts (26 hosts use the client in their own rootfs).
DOCKER_BIN=/usr/bin/docker
# Where lab/install-deps.sh caches engine root filesystems (docker-26/rootfs, docker-28/rootfs,
# podman-5/rootfs).
LAB_ENGINE_ROOT=/var/cache/fleetprune-lab/engines
# A clean PATH for everything the lab starts (no /usr/local/bin first).
LAB_PATH=/usr/sbin:/usr/bin:/sbin:/bin

# lab_engine_rootfs ENGINE -> the root filesystem a host of ENGINE runs chrooted in (none for
# 20.10, which is this machine's own dockerd).
lab_engine_rootfs() {
    case $1 in
        26 | 28) printf '%s\n' "$LAB_ENGINE_ROOT/docker-$1/rootfs" ;;
        podman | podman-rootless) printf '%s\n' "$LAB_ENGINE_ROOT/podman-5/rootfs" ;;
        *) return 1 ;;
    esac
}

lab_log() { printf '%s\n' "$*" >&2; }
lab_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# lab_become_root SCRIPT ARGS...: the lab needs root (namespaces, mounts, a system user). As
# root, return; otherwise run the script again through sudo, keeping the lab's variables. The
# invoking user stays known through SUDO_UID/SUDO_GID, so files meant for them are theirs.
lab_become_root() {
    local script=$1
    shift
    ((EUID == 0)) && return 0
    command -v sudo >/dev/null ||
        lab_die "$script needs root, and there is no sudo on this machine: run it as root"
    exec sudo --preserve-env=FLEETPRUNE_LAB_DIR,FLEETPRUNE_LAB_STORAGE_DRIVER,FLEETPRUNE_LAB_STOP_TIMEOUT \
        -- bash "$script" "$@"
}

# lab_give_to_invoker PATH...: under sudo, hand PATHs to the user who ran the script.
lab_give_to_invoker() {
    [[ -n ${SUDO_UID:-} && ${SUDO_UID} != 0 ]] || return 0
    chown "$SUDO_UID:${SUDO_GID:-$SUDO_UID}" "$@"
}

# Seconds since the epoch with microseconds (bash 5).
lab_now() { printf '%s' "$EPOCHREALTIME"; }
# lab_elapsed START -> "12.3"
lab_elapsed() { awk -v s="$1" -v e="$EPOCHREALTIME" 'BEGIN { printf "%.1f", e - s }'; }

# Normalise a lab directory path and refuse anything we could not safely
# write into sshd_config / YAML / a unix socket path.
lab_check_dir() {
    local dir=$1
    [[ $dir == /* ]] || lab_die "lab dir must be an absolute path: $dir"
    [[ $dir =~ ^/[A-Za-z0-9._/-]+$ ]] || lab_die "lab dir may only contain [A-Za-z0-9._/-]: $dir"
    case $dir in
        / | /bin | /boot | /dev | /etc | /home | /lib | /proc | /root | /run | /sbin | /sys | /tmp | /usr | /var | /var/run | /var/lib)
            lab_die "refusing to use $dir as a lab dir" ;;
    esac
}

# lab_proc_alive PID -> 0 if PID exists and is not a zombie.
lab_proc_alive() {
    local pid=$1 stat
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat%% *} != Z ]]
}

# lab_pid_matches PID NEEDLE -> 0 if PID is alive and its command line
# (NUL separators turned into spaces, plus a trailing space) contains NEEDLE.
lab_pid_matches() {
    local pid=$1 needle=$2 cmd
    lab_proc_alive "$pid" || return 1
    cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
    [[ "$cmd " == *"$needle"* ]]
}

# lab_pid_from PIDFILE NEEDLE -> prints the pid stored in PIDFILE if that
# process is alive and its command line contains NEEDLE.
lab_pid_from() {
    local pidfile=$1 needle=$2 pid
    [[ -r $pidfile ]] || return 1
    pid=$(head -n1 "$pidfile" 2>/dev/null) || return 1
    pid=${pid//[^0-9]/}
    [[ -n $pid ]] || return 1
    lab_pid_matches "$pid" "$needle" || return 1
    printf '%s\n' "$pid"
}

# What each lab process looks like on its command line. Used both to find
# "is a lab running here" and to make sure a pidfile still names our process.
lab_needle_holder() { printf 'fleetprune-lab-holder:%s infinity ' "$1"; }
# The engine daemon's pid is in HOSTDIR/dockerd.pid for every engine; a Podman host's service is
# started as `podman --root HOSTDIR/data system service`.
lab_needle_dockerd() {
    case $(lab_host_var "$1" ENGINE) in
        podman*) printf -- '--root %s/data system service ' "$1" ;;
        *) printf -- '--pidfile %s/dockerd.pid ' "$1" ;;
    esac
}
lab_needle_sshd() { printf -- '-f %s/sshd_config ' "$1"; }
lab_needle_sshd_private() { printf -- '-f %s/sshd_config.private ' "$1"; }

# lab_wait_gone PID TIMEOUT_SECONDS -> 0 once PID is gone (or a zombie).
lab_wait_gone() {
    local pid=$1 timeout=$2 i
    for ((i = 0; i < timeout * 10; i++)); do
        lab_proc_alive "$pid" || return 0
        sleep 0.1
    done
    ! lab_proc_alive "$pid"
}

# lab_stop_pid PID NEEDLE TIMEOUT LABEL: SIGTERM, wait, then SIGKILL. The
# command line is re-checked right before each signal.
lab_stop_pid() {
    local pid=$1 needle=$2 timeout=$3 label=$4
    lab_pid_matches "$pid" "$needle" || return 0
    kill -TERM "$pid" 2>/dev/null || true
    if ! lab_wait_gone "$pid" "$timeout"; then
        if lab_pid_matches "$pid" "$needle"; then
            lab_log "$label (pid $pid) still running after ${timeout}s, sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            lab_wait_gone "$pid" 5 || lab_log "warning: $label (pid $pid) did not exit after SIGKILL"
        fi
    fi
}

# lab_proc_start PID -> the process start time (clock ticks since boot);
# together with the pid it identifies one process even if pids get reused.
lab_proc_start() {
    local stat f
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    # fields after "comm": 3=state ... 22=starttime -> index 19 here
    read -r -a f <<<"$stat"
    printf '%s\n' "${f[19]}"
}

# lab_descendants PID -> prints "PID STARTTIME" for every descendant of PID
# (children first seen, then theirs), from /proc/PID/task/*/children.
lab_descendants() {
    local queue=("$1") pid task child kids
    while ((${#queue[@]} > 0)); do
        pid=${queue[0]}
        queue=("${queue[@]:1}")
        for task in /proc/"$pid"/task/*/children; do
            [[ -r $task ]] || continue
            read -r -a kids <"$task" 2>/dev/null || true
            for child in "${kids[@]}"; do
                printf '%s %s\n' "$child" "$(lab_proc_start "$child" || echo 0)"
                queue+=("$child")
            done
        done
    done
}

# lab_stop_snapshot TIMEOUT < "PID STARTTIME" lines: SIGTERM each process
# that still has that start time, wait, then SIGKILL the survivors.
lab_stop_snapshot() {
    local timeout=$1 pid start live=() i
    while read -r pid start; do
        [[ -n $pid && $(lab_proc_start "$pid" 2>/dev/null) == "$start" ]] || continue
        kill -TERM "$pid" 2>/dev/null || true
        live+=("$pid:$start")
    done
    for ((i = 0; i < timeout * 10; i++)); do
        local survivors=()
        for pid in "${live[@]}"; do
            if lab_proc_alive "${pid%%:*}" && [[ $(lab_proc_start "${pid%%:*}") == "${pid##*:}" ]]; then
                survivors+=("$pid")
            fi
        done
        live=("${survivors[@]}")
        ((${#live[@]} > 0)) || return 0
        sleep 0.1
    done
    for pid in "${live[@]}"; do
        if [[ $(lab_proc_start "${pid%%:*}" 2>/dev/null) == "${pid##*:}" ]]; then
            kill -KILL "${pid%%:*}" 2>/dev/null || true
        fi
    done
}

# lab_running_pids DIR -> prints "NAME ROLE PID" for every live lab process
# recorded under DIR/hosts/*/.
lab_running_pids() {
    local dir=$1 hostdir name pid
    [[ -d $dir/hosts ]] || return 0
    for hostdir in "$dir"/hosts/*/; do
        [[ -d $hostdir ]] || continue
        hostdir=${hostdir%/}
        name=${hostdir##*/}
        if pid=$(lab_pid_from "$hostdir/holder.pid" "$(lab_needle_holder "$hostdir")"); then
            printf '%s holder %s\n' "$name" "$pid"
        fi
        if pid=$(lab_pid_from "$hostdir/dockerd.pid" "$(lab_needle_dockerd "$hostdir")"); then
            printf '%s dockerd %s\n' "$name" "$pid"
        fi
        if pid=$(lab_pid_from "$hostdir/sshd.pid" "$(lab_needle_sshd "$hostdir")"); then
            printf '%s sshd %s\n' "$name" "$pid"
        fi
        if pid=$(lab_pid_from "$hostdir/sshd-private.pid" "$(lab_needle_sshd_private "$hostdir")"); then
            printf '%s private-sshd %s\n' "$name" "$pid"
        fi
    done
}

# lab_host_var HOSTDIR KEY -> a value from HOSTDIR/host.env (ENGINE, IMAGE_STORE, ...).
lab_host_var() { sed -n "s/^$2=//p" "$1/host.env" 2>/dev/null | tail -n1; }

# lab_podman_command HOSTDIR COMMAND... -> LAB_PODMAN_COMMAND: COMMAND from a Podman host's
# rootfs, to run in the host's namespaces as the engine's user (root, or the rootless user with
# its runtime dir and home). Not chrooted: the kernel refuses a user namespace to a chrooted
# process ("cannot clone: Operation not permitted"), so a mount namespace of its own pivots into
# the host's rootfs overlay (HOSTDIR/root, with /proc, /sys, /dev, /run and the lab dir inside)
# instead. Every step execs the next, so the command keeps the pid it is started with.
lab_podman_command() {
    local hostdir=$1 holder uid gid
    shift
    holder=$(lab_pid_from "$hostdir/holder.pid" "$(lab_needle_holder "$hostdir")") ||
        { echo "lab_podman_command: the namespace holder of $hostdir is not running" >&2; return 1; }
    local user=(env) user_env=(HOME=/root)
    if [[ $(lab_host_var "$hostdir" ENGINE) == podman-rootless ]]; then
        uid=$(lab_host_var "$hostdir" ENGINE_UID)
        gid=$(lab_host_var "$hostdir" ENGINE_GID)
        user=(setpriv --reuid="$uid" --regid="$gid" --clear-groups)
        user_env=(XDG_RUNTIME_DIR="/run/user/$uid" HOME="$hostdir/home")
    fi
    # shellcheck disable=SC2016 # $1 is expanded by the inner sh
    LAB_PODMAN_COMMAND=(
        nsenter --mount="/proc/$holder/ns/mnt" --net="/proc/$holder/ns/net" --uts="/proc/$holder/ns/uts" --
        env -i PATH="$LAB_PATH" LANG=C.UTF-8 TMPDIR="$hostdir/tmp" PODMAN_IGNORE_CGROUPSV1_WARNING=1
        "${user_env[@]}" unshare --mount --propagation private -- /bin/sh -c '
            cd "$1" && /usr/sbin/pivot_root . .lab-oldroot && cd / && umount -l /.lab-oldroot &&
            mount --make-rshared / && shift && exec "$@"' pivot "$hostdir/root" "${user[@]}" -- "$@"
    )
}

# lab_docker HOSTDIR ARGS... -> the host's own engine's client against its socket, with a
# private client config so root's ~/.docker never matters. A 20.10 host gets Debian 12's
# client; a 26 or 28 host the client of its rootfs, run inside the host's mount namespace, where
# the lab directory is at the same path. DOCKER_BUILDKIT is passed on. A Podman host gets its
# rootfs's own `podman` (local, on the same storage as the service; as the engine's user on a
# rootless host), which takes most of docker's arguments.
lab_docker() {
    local hostdir=$1 holder engine uid
    shift
    engine=$(lab_host_var "$hostdir" ENGINE)
    if [[ $engine == podman* ]]; then
        lab_podman_command "$hostdir" /usr/bin/podman --root "$hostdir/data" "$@" || return 1
        "${LAB_PODMAN_COMMAND[@]}"
    elif [[ $engine == 26 || $engine == 28 ]]; then
        holder=$(lab_pid_from "$hostdir/holder.pid" "$(lab_needle_holder "$hostdir")") ||
            { echo "lab_docker: the namespace holder of $hostdir is not running" >&2; return 1; }
        nsenter --mount="/proc/$holder/ns/mnt" -- env -i PATH="$LAB_PATH" HOME=/root LANG=C.UTF-8 \
            ${DOCKER_BUILDKIT:+DOCKER_BUILDKIT=$DOCKER_BUILDKIT} DOCKER_CONFIG="$hostdir/client-config" \
            chroot "$hostdir/root" /usr/bin/docker "$@"
    else
        env -u DOCKER_CONTEXT -u DOCKER_TLS_VERIFY -u DOCKER_CERT_PATH -u DOCKER_HOST \
            DOCKER_CONFIG="$hostdir/client-config" \
            "$DOCKER_BIN" -H "unix://$hostdir/run/docker.sock" "$@"
    fi
}

# lab_docker_t SECONDS HOSTDIR ARGS... -> lab_docker with a time limit.
lab_docker_t() {
    local secs=$1 hostdir=$2
    shift 2
    timeout --kill-after=5 "$secs" bash "$LAB_SRC/docker.sh" "${hostdir%/hosts/*}" "${hostdir##*/}" "$@"
}
