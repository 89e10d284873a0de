#!/usr/bin/env bash
# lab/docker.sh - run a lab host's own docker client against that host's daemon: Debian 12's
# 20.10 client for a 20.10 host, the 26 client from the engine rootfs for a 26 host (inside the
# host's mount namespace). Tests and people use it alike; it never goes through SSH.
#
# Usage: lab/docker.sh DIR NAME DOCKER-ARGS...     e.g. lab/docker.sh /tmp/fleetprune-lab host03 system df
set -euo pipefail

LAB_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$LAB_SRC/lib.sh"

if (($# < 2)) || [[ $1 == -h || $1 == --help ]]; then
    echo "Usage: lab/docker.sh DIR NAME DOCKER-ARGS..." >&2
    exit 2
fi
lab_become_root "$0" "$@"
dir=$(realpath -m -- "$1")
hostdir=$dir/hosts/$2
shift 2
[[ -e $dir/$LAB_MARKER && -r $hostdir/host.env ]] || lab_die "no lab host $hostdir"
lab_docker "$hostdir" "$@"
