#!/usr/bin/env bash
# lab/down.sh - tear down a lab made by lab/up.sh and remove its directory.
#
# Per host (in parallel): stop sshd, then dockerd or the Podman service
# (SIGTERM, wait up to 20 s, then SIGKILL), then whatever dockerd left behind
# (its containerd, container shims and container processes) or rootless
# Podman's pause process, all found through pidfiles under the host dir, then
# the namespace holder. Then unmount anything still mounted under
# DIR in this mount namespace and remove DIR. Only pids read from the lab's
# own pidfiles are signalled, and each one's command line (or namespace /
# cgroup) is checked first. Safe to run twice and on a half-created lab.
# Prints one summary line; -v also prints each process it stops.
#
# Usage: lab/down.sh [-v] [DIR]     (default ${FLEETPRUNE_LAB_DIR:-/tmp/fleetprune-lab})
set -euo pipefail

LAB_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$LAB_SRC/lib.sh"

ARGS=("$@")
VERBOSE=0
case ${1:-} in
    -h | --help) echo "Usage: lab/down.sh [-v] [DIR]   (default $LAB_DEFAULT_DIR)"; exit 0 ;;
    -v | --verbose) VERBOSE=1; shift ;;
esac
(($# <= 1)) || lab_die "usage: lab/down.sh [-v] [DIR]"
lab_become_root "$0" "${ARGS[@]}"

DIR=$(realpath -m -- "${1:-$LAB_DEFAULT_DIR}")
lab_check_dir "$DIR"
STOP_TIMEOUT=${FLEETPRUNE_LAB_STOP_TIMEOUT:-20}

if [[ ! -e $DIR ]]; then
    echo "lab/down.sh: $DIR does not exist, nothing to do"
    exit 0
fi
[[ -d $DIR ]] || lab_die "$DIR is not a directory"
if [[ ! -e $DIR/$LAB_MARKER && -n $(ls -A "$DIR") ]]; then
    lab_die "$DIR has no $LAB_MARKER marker, so it was not made by lab/up.sh; refusing to touch it"
fi

T_START=$(lab_now)

# kill_leftovers HOSTDIR: after dockerd is gone, stop what it may have left
# running (only if it was SIGKILLed or crashed): its containerd, the
# container processes and their shims.
kill_leftovers() {
    local hostdir=$1 mntns="" pid f id shim
    [[ -r $hostdir/holder.mntns ]] && mntns=$(<"$hostdir/holder.mntns")
    local cdir=$hostdir/run/docker/containerd
    if [[ -r $cdir/containerd.pid && -n $mntns ]]; then
        pid=$(head -n1 "$cdir/containerd.pid" 2>/dev/null || true)
        if lab_pid_matches "$pid" "containerd --config /var/run/docker/containerd/containerd.toml" &&
            [[ $(readlink "/proc/$pid/ns/mnt" 2>/dev/null) == "$mntns" ]]; then
            echo "stopping leftover containerd pid $pid"
            kill -KILL "$pid" 2>/dev/null || true
            lab_wait_gone "$pid" 5 || true
        fi
    fi
    for f in "$cdir"/daemon/io.containerd.runtime.v2.task/*/*/init.pid; do
        [[ -r $f ]] || continue
        id=$(basename "$(dirname "$f")")
        pid=$(head -n1 "$f" 2>/dev/null || true)
        lab_proc_alive "$pid" || continue
        # The container's init is in cgroups named after the container id.
        grep -q -- "$id" "/proc/$pid/cgroup" 2>/dev/null || continue
        shim=$(awk '{ sub(/.*\) /, ""); print $2 }' "/proc/$pid/stat" 2>/dev/null || true)
        echo "stopping leftover container ${id:0:12} (pid $pid)"
        kill -KILL "$pid" 2>/dev/null || true
        lab_wait_gone "$pid" 5 || true
        if lab_pid_matches "$shim" "containerd-shim" && lab_pid_matches "$shim" "-id $id "; then
            echo "stopping leftover shim pid $shim"
            kill -KILL "$shim" 2>/dev/null || true
            lab_wait_gone "$shim" 5 || true
        fi
    done
}

host_down() {
    local hostdir=$1 pid
    local name=${hostdir##*/}

    # sshd: take a snapshot of the listener's process tree (per-connection
    # monitors, user sessions and the commands they run), stop the listener
    # so no new logins arrive, then stop that tree. Open sessions or
    # forwardings would otherwise outlive the lab and keep its namespace.
    if pid=$(lab_pid_from "$hostdir/sshd.pid" "$(lab_needle_sshd "$hostdir")"); then
        local tree
        tree=$(lab_descendants "$pid")
        echo "$name: stopping sshd pid $pid${tree:+ and $(wc -l <<<"$tree") session process(es)}"
        lab_stop_pid "$pid" "$(lab_needle_sshd "$hostdir")" 5 "$name sshd"
        [[ -z $tree ]] || lab_stop_snapshot 3 <<<"$tree"
    fi
    # The second sshd lab/bastion.sh starts inside the host's own netns.
    if pid=$(lab_pid_from "$hostdir/sshd-private.pid" "$(lab_needle_sshd_private "$hostdir")"); then
        local tree
        tree=$(lab_descendants "$pid")
        echo "$name: stopping private sshd pid $pid"
        lab_stop_pid "$pid" "$(lab_needle_sshd_private "$hostdir")" 5 "$name private sshd"
        [[ -z $tree ]] || lab_stop_snapshot 3 <<<"$tree"
    fi

    # dockerd: kill running containers first so the daemon's own shutdown
    # does not wait out each container's stop timeout.
    if pid=$(lab_pid_from "$hostdir/dockerd.pid" "$(lab_needle_dockerd "$hostdir")"); then
        local running=""
        running=$(lab_docker_t 10 "$hostdir" ps -q 2>/dev/null || true)
        if [[ -n $running ]]; then
            # shellcheck disable=SC2086 # one id per word
            lab_docker_t 15 "$hostdir" kill $running >/dev/null 2>&1 || true
        fi
        echo "$name: stopping dockerd pid $pid"
        lab_stop_pid "$pid" "$(lab_needle_dockerd "$hostdir")" "$STOP_TIMEOUT" "$name dockerd"
    fi
    kill_leftovers "$hostdir"
    # Rootless Podman: the pause process that holds the engine user's namespaces outlives the
    # service; its pidfile is in the user's runtime dir inside the host.
    if [[ $(lab_host_var "$hostdir" ENGINE) == podman-rootless ]]; then
        local uid
        uid=$(lab_host_var "$hostdir" ENGINE_UID)
        if pid=$(lab_pid_from "$hostdir/run/user/$uid/libpod/tmp/pause.pid" "catatonit -P") &&
            [[ $(stat -c %u "/proc/$pid") == "$uid" ]]; then
            echo "$name: stopping rootless Podman's pause process pid $pid"
            lab_stop_pid "$pid" "catatonit -P" 5 "$name pause process"
        fi
    fi

    # The namespace holder last: once it and everything above are gone, the
    # host's mount, network and UTS namespaces (and the mounts inside them,
    # overlay2 layers included) disappear with them.
    if pid=$(lab_pid_from "$hostdir/holder.pid" "$(lab_needle_holder "$hostdir")"); then
        echo "$name: stopping namespace holder pid $pid"
        lab_stop_pid "$pid" "$(lab_needle_holder "$hostdir")" 5 "$name holder"
    fi
}

pids=()
names=()
if [[ -d $DIR/hosts ]]; then
    for hostdir in "$DIR"/hosts/*/; do
        [[ -d $hostdir ]] || continue
        hostdir=${hostdir%/}
        if ((VERBOSE)); then
            host_down "$hostdir" 2>&1 | sed "s|^|  |" &
        else
            # Warnings (lab_log) still reach stderr.
            host_down "$hostdir" >/dev/null &
        fi
        pids+=("$!")
        names+=("${hostdir##*/}")
    done
fi
for pid in "${pids[@]}"; do
    wait "$pid" || true
done

still=$(lab_running_pids "$DIR")
if [[ -n $still ]]; then
    lab_log "error: lab processes still running, not removing $DIR:"
    printf '  %s\n' "${still//$'\n'/$'\n'  }" >&2
    exit 1
fi

# The hosts' mounts live in their private namespaces, so normally nothing is
# mounted under DIR here. If something is (e.g. a hand-made mount), unmount
# it, deepest first, and only under DIR.
mapfile -t mounts < <(findmnt -rn -o TARGET | awk -v d="$DIR" '$0 == d || index($0, d "/") == 1' | sort -r)
for m in "${mounts[@]}"; do
    ((VERBOSE)) && echo "  unmounting $m"
    umount -R "$m" 2>/dev/null || umount -R -l "$m" || lab_log "warning: could not unmount $m"
done
if findmnt -rn -o TARGET | awk -v d="$DIR" '$0 == d || index($0, d "/") == 1' | grep -q .; then
    lab_die "mounts remain under $DIR; not removing it"
fi

# lab/bastion.sh's link and route on this machine (the rest went with the
# hosts' namespaces).
if [[ -r $DIR/bastion/links ]]; then
    root_if=$(sed -n 's/^ROOT_IF=//p' "$DIR/bastion/links")
    route=$(sed -n 's/^ROUTE=//p' "$DIR/bastion/links")
    [[ -n $root_if ]] && ip link show "$root_if" >/dev/null 2>&1 && ip link del "$root_if"
    [[ -n $route ]] && ip route show type unreachable "$route" | grep -q . && ip route del unreachable "$route"
fi

rm -rf --one-file-system -- "$DIR"
echo "lab down: ${#names[@]} host(s) stopped, $DIR removed in $(lab_elapsed "$T_START")s"
