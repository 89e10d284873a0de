#!/usr/bin/env bash
# packaging/debian-rootfs.sh - the two Debian 12 root filesystems packaging needs, each built once
# with mmdebstrap from the Debian mirror this machine's apt already uses (apt-get indextargets:
# the repo names no mirror) and cached under /var/cache/fleetprune-lab/rootfs with a stamp naming
# its recipe (change a recipe and it is rebuilt on the next run):
#   clean     bookworm, --variant=apt plus man-db and bash-completion: a clean Debian 12 machine
#             to install the .deb into (tests/packaging.rs mounts an overlay of it, never writes it)
#   slim.tar  bookworm, --variant=minbase without docs, man pages and locales: a tarball that
#             packaging/image.sh `docker import`s as debian:bookworm-slim into an engine that has
#             no such image and no registry to pull it from
# Usage: packaging/debian-rootfs.sh [clean|slim]...   (default: both). Prints nothing on stdout.
# Root (or a user with sudo); lab/install-deps.sh runs it.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../lab/lib.sh
source "$REPO/lab/lib.sh"
lab_become_root "$0" "$@"

CACHE=/var/cache/fleetprune-lab/rootfs
SUITE=bookworm

# The URI of the machine's own Debian archive for $SUITE (not -security, not -updates).
debian_mirror() {
    # shellcheck disable=SC2016 # $(...) are apt's format fields, not the shell's
    apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 'Identifier: Packages' |
        awk -v suite="$SUITE" '$2 == suite { print $1; exit }' | grep .
}

# build NAME TARGET CHECK RECIPE-OPTION...: $CACHE/NAME/TARGET unless its stamp matches.
build() {
    local name=$1 target=$2 check=$3
    shift 3
    local dir=$CACHE/$name recipe="suite=$SUITE $*" mirror started
    if [[ -r $dir/.stamp && $(head -n1 "$dir/.stamp") == "$recipe" && -e $dir/$target$check ]]; then
        echo "Debian 12 rootfs '$name' cached in $dir/$target ($(sed -n 2p "$dir/.stamp"))" >&2
        return 0
    fi
    mirror=$(debian_mirror) || lab_die "no $SUITE archive in this machine's apt sources: cannot build the '$name' rootfs"
    echo "building the Debian 12 rootfs '$name' in $dir from $mirror..." >&2
    started=$EPOCHREALTIME
    rm -rf -- "$dir.new"
    install -d -m 0755 "$dir.new"
    if ! mmdebstrap --quiet --mode=root "$@" "$SUITE" "$dir.new/$target" "$mirror" \
        >"$dir.new/mmdebstrap.log" 2>&1; then
        tail -n 30 "$dir.new/mmdebstrap.log" >&2
        lab_die "mmdebstrap could not build the '$name' rootfs (log: $dir.new/mmdebstrap.log)"
    fi
    printf '%s\nbuilt %s in %ss from %s\n' "$recipe" "$(date -u +%FT%TZ)" "$(lab_elapsed "$started")" \
        "$mirror" >"$dir.new/.stamp"
    rm -rf -- "$dir"
    mv -- "$dir.new" "$dir"
    echo "Debian 12 rootfs '$name' ready in $dir/$target (built in $(lab_elapsed "$started")s)" >&2
}

(($#)) || set -- clean slim
for what in "$@"; do
    case $what in
        clean) build clean rootfs /usr/bin/man --variant=apt --include=man-db,bash-completion ;;
        slim) build slim rootfs.tar "" --variant=minbase --format=tar \
            --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
            --dpkgopt='path-include=/usr/share/doc/*/copyright' \
            --dpkgopt='path-exclude=/usr/share/locale/*' ;;
        *) lab_die "usage: packaging/debian-rootfs.sh [clean|slim]..." ;;
    esac
done
