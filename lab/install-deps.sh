#!/usr/bin/env bash
# lab/install-deps.sh - install what the lab fleet and the tests need on Debian:
# real Docker Engine (docker.io: dockerd, containerd, runc), OpenSSH server and client,
# busybox-static (the lab's offline base image), iproute2 and util-linux (namespaces).
# Run as root. Safe to run again.
set -euo pipefail

packages=(docker.io openssh-server openssh-client busybox-static iproute2 util-linux procps)
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
for command in dockerd containerd runc sshd ssh-keygen busybox unshare nsenter; do
    command -v "$command" >/dev/null || PATH=$PATH:/usr/sbin:/sbin command -v "$command" >/dev/null \
        || { echo "error: $command is still missing after install" >&2; exit 1; }
done
echo "lab dependencies present: dockerd $(/usr/sbin/dockerd --version | awk '{print $3}' | tr -d ,), $(/usr/sbin/sshd -V 2>&1 | head -1 || true)" >&2

# The inventory parity test's oracle: ansible-core (ansible-inventory, ansible) from PyPI.
if ! command -v ansible-inventory >/dev/null; then
    echo "installing: ansible-core 2.18 (pip)" >&2
    python3 -m pip install --quiet 'ansible-core==2.18.*' 2>/dev/null \
        || python3 -m pip install --quiet --break-system-packages 'ansible-core==2.18.*'
fi
command -v ansible-inventory >/dev/null || { echo "error: ansible-inventory is still missing after install" >&2; exit 1; }
