#!/usr/bin/env bash
# lab/install-deps.sh - install what the lab fleet and the tests need on Debian 12:
# - Debian's Docker Engine 20.10 (docker.io: dockerd, containerd, runc), OpenSSH server and client,
#   busybox-static (the lab's offline base image), iproute2 and util-linux (namespaces);
# - ansible-core from PyPI (the oracle of the inventory parity test, and the examples' playbook
#   check);
# - Debian's prometheus for promtool (the oracle of --metrics-file), bsdutils for script (the
#   pseudo-terminal of the live-output tests), systemd for systemd-analyze (the examples' units);
# - for tests/packaging.rs: dpkg-dev, binutils and lintian (packaging/deb.sh and its check), and
#   packaging/debian-rootfs.sh's two cached Debian 12 root filesystems (a clean one to install
#   the .deb into, a minbase tarball the image's base is imported from);
# - the lab's other engines, each a root filesystem built once with mmdebstrap from the Debian
#   mirror this machine's apt sources already use and cached under $LAB_ENGINE_ROOT with a
#   version stamp: Docker 26.1 (Debian 13: docker.io, its containerd, runc, CLI and buildx),
#   Docker 28.5 with containerd 2.1 and Podman 5 (Debian testing).
# Root or a user with sudo; safe to run again (a cached engine is reused).
set -euo pipefail

LAB_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$LAB_SRC/lib.sh"
lab_become_root "$0" "$@"

packages=(docker.io openssh-server openssh-client busybox-static iproute2 util-linux procps mmdebstrap
    prometheus bsdutils systemd dpkg-dev binutils lintian)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$package")
done
if ((${#missing[@]})); then
    echo "installing: ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
for command in dockerd containerd runc sshd ssh-keygen busybox unshare nsenter mmdebstrap promtool script systemd-analyze \
    dpkg-deb dpkg-shlibdeps strip lintian; do
    command -v "$command" >/dev/null || PATH=$PATH:/usr/sbin:/sbin command -v "$command" >/dev/null \
        || { echo "error: $command is still missing after install" >&2; exit 1; }
done
echo "lab dependencies present: dockerd $(/usr/sbin/dockerd --version | awk '{print $3}' | tr -d ,), $(/usr/sbin/sshd -V 2>&1 | head -1 || true)" >&2

# The inventory parity test's oracle: ansible-core (ansible-inventory, ansible) from PyPI, into the
# python3 on PATH, or Debian's python3 (with Debian's pip) when that one has no pip.
if ! command -v ansible-inventory >/dev/null; then
    echo "installing: ansible-core 2.18 (pip)" >&2
    if ! python3 -m pip --version >/dev/null 2>&1; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-pip >/dev/null
    fi
    python3 -m pip install --quiet 'ansible-core==2.18.*' 2>/dev/null ||
        python3 -m pip install --quiet --break-system-packages 'ansible-core==2.18.*'
fi
command -v ansible-inventory >/dev/null || lab_die "ansible-inventory is still missing after install"

bash "$LAB_SRC/../packaging/debian-rootfs.sh" clean slim

# ------------------------------------------------------------ engine root filesystems
# debian_mirror: the URI of the machine's own Debian archive (not -security), read from apt's
# sources (deb822 .sources files or one-line sources.list), so the repo names no mirror.
debian_mirror() {
    local codename file
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
    for file in /etc/apt/sources.list.d/*.sources; do
        [[ -r $file ]] || continue
        awk -v codename="$codename" '
            function flush() {
                if (types ~ /(^| )deb( |$)/ && enabled != "no" && (" " suites " ") ~ (" " codename " ") && uris != "") {
                    split(uris, u, " "); print u[1]; found = 1; exit
                }
                types = suites = uris = enabled = ""
            }
            /^[[:space:]]*$/ { flush(); next }
            /^#/ { next }
            tolower($1) == "types:" { $1 = ""; types = $0 }
            tolower($1) == "uris:" { $1 = ""; uris = $0; sub(/^ +/, "", uris) }
            tolower($1) == "suites:" { $1 = ""; suites = $0; sub(/^ +/, "", suites) }
            tolower($1) == "enabled:" { enabled = tolower($2) }
            END { if (!found) flush() }' "$file"
    done | head -n1 | grep . && return 0
    for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -r $file ]] || continue
        sed -e 's/\[[^]]*\]//' "$file" | awk -v codename="$codename" '$1 == "deb" && $3 == codename { print $2; exit }'
    done | head -n1 | grep .
}

# build_engine NAME SUITE PACKAGES BINARY CHECK-COMMAND EXPECTED-PREFIX [MMDEBSTRAP-OPTION...]: the engine
# root filesystem NAME (docker-26, docker-28, podman-5) under $LAB_ENGINE_ROOT, built once with
# mmdebstrap from SUITE of this machine's Debian mirror and reused while its recipe (suite,
# packages, options: the first line of its .stamp) is unchanged and BINARY is in it. CHECK-COMMAND,
# run in the rootfs (chrooted, no /proc), must print a version starting with EXPECTED-PREFIX.
build_engine() {
    local name=$1 suite=$2 packages=$3 binary=$4 check=$5 expected=$6
    shift 6
    local recipe="suite=$suite packages=$packages exclude-docs=1${*:+ options=$*}"
    local engine_dir=$LAB_ENGINE_ROOT/$name mirror started version
    if [[ -r $engine_dir/.stamp && $(head -n1 "$engine_dir/.stamp") == "$recipe" &&
        -x $engine_dir/rootfs$binary ]]; then
        echo "$name engine cached in $engine_dir/rootfs ($(sed -n 2p "$engine_dir/.stamp"))" >&2
        return 0
    fi
    mirror=$(debian_mirror) || lab_die "cannot find this machine's Debian mirror in /etc/apt/sources.list{,.d}: the $name engine rootfs cannot be built"
    echo "building the $name engine ($suite: $packages) in $engine_dir from this machine's Debian mirror..." >&2
    started=$EPOCHREALTIME
    rm -rf -- "$engine_dir.new"
    install -d -m 0755 "$LAB_ENGINE_ROOT" "$engine_dir.new"
    if ! mmdebstrap --quiet --mode=root --variant=apt --include="$packages" \
        --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
        --dpkgopt='path-exclude=/usr/share/locale/*' "$@" \
        "$suite" "$engine_dir.new/rootfs" "$mirror" >"$engine_dir.new/mmdebstrap.log" 2>&1; then
        tail -n 30 "$engine_dir.new/mmdebstrap.log" >&2
        lab_die "mmdebstrap could not build the $name engine rootfs (log: $engine_dir.new/mmdebstrap.log)"
    fi
    # shellcheck disable=SC2086 # the check is a command and its arguments
    version=$(chroot "$engine_dir.new/rootfs" $check)
    [[ $version == "$expected"* ]] || lab_die "the $suite rootfs has '$version', not $expected*"
    printf '%s\n%s; built %s in %ss\n' "$recipe" "$version" "$(date -u +%FT%TZ)" \
        "$(lab_elapsed "$started")" >"$engine_dir.new/.stamp"
    rm -rf -- "$engine_dir"
    mv "$engine_dir.new" "$engine_dir"
    echo "$name engine ready in $engine_dir/rootfs: $version (built in $(lab_elapsed "$started")s)" >&2
}

# The recipes: change one and every machine rebuilds that engine on its next run.
# Docker 26.1 (API 1.45) from Debian 13.
build_engine docker-26 trixie docker.io,docker-cli,docker-buildx,containerd,runc \
    /usr/sbin/dockerd "/usr/sbin/dockerd --version" "Docker version 26."
# Docker 28.5 (API 1.51) with containerd 2.1 from Debian testing, whose Release file on the
# mirror can be past its Valid-Until date.
build_engine docker-28 forky docker.io,docker-cli,docker-buildx,containerd,runc \
    /usr/sbin/dockerd "/usr/sbin/dockerd --version" "Docker version 28." --aptopt='Acquire::Check-Valid-Until "false"'
# Podman 5 (its Docker-compatible API on a socket) from Debian testing, with what rootless
# Podman needs too: newuidmap/newgidmap (uidmap), pasta (passt) and fuse-overlayfs. (podman
# --version needs /proc, so the version comes from dpkg.)
build_engine podman-5 forky podman,crun,conmon,catatonit,netavark,aardvark-dns,uidmap,passt,fuse-overlayfs \
    /usr/bin/podman "/usr/bin/dpkg-query -W -f=podman_\${Version} podman" "podman_5." --aptopt='Acquire::Check-Valid-Until "false"'
