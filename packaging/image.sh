#!/usr/bin/env bash
# packaging/image.sh - build the container image fleetprune:<version> from packaging/Containerfile
# into a Docker engine: the default one, or DOCKER_HOST given as the first argument
# (unix:///path/docker.sock, ssh://host, tcp://...). The build context is a temporary directory
# holding the Containerfile and a stripped release binary (cargo build --release --locked, or
# --binary PATH). When the engine has no image of the Containerfile's base (debian:bookworm-slim),
# it is made there without a registry: packaging/debian-rootfs.sh's Debian 12 minbase tarball
# (mmdebstrap, needs root) `docker import`ed under that name. The build itself needs no network
# (--network none). Prints the image's name on stdout. See packaging/README.md.
#
# Usage: packaging/image.sh [DOCKER_HOST] [--binary PATH] [--tag NAME:TAG]
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BINARY=""
TAG=""
while (($#)); do
    case $1 in
        --binary) BINARY=$(realpath -- "$2"); shift 2 ;;
        --tag) TAG=$2; shift 2 ;;
        -h | --help) sed -n '2,12s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
        -*) echo "image.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
        *) export DOCKER_HOST=$1; shift ;;
    esac
done
die() { echo "image.sh: error: $*" >&2; exit 1; }
command -v docker >/dev/null || die "no docker client on PATH"

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$REPO/Cargo.toml" | head -n1)
[[ -n $version ]] || die "no version in $REPO/Cargo.toml"
TAG=${TAG:-fleetprune:$version}
base=$(sed -n 's/^ARG BASE=//p' "$REPO/packaging/Containerfile")
[[ -n $base ]] || die "packaging/Containerfile names no ARG BASE"
docker version --format '{{.Server.Version}}' >/dev/null ||
    die "cannot reach the Docker engine at ${DOCKER_HOST:-the default socket}"

if [[ -z $BINARY ]]; then
    echo "building fleetprune: cargo build --release --locked" >&2
    (cd "$REPO" && cargo build --release --locked >&2)
    BINARY=${CARGO_TARGET_DIR:-$REPO/target}/release/fleetprune
fi
[[ -x $BINARY ]] || die "$BINARY is not an executable"
binary_version=$("$BINARY" --version)
[[ $binary_version == "fleetprune $version" || $binary_version == "fleetprune $version "* ]] ||
    die "$BINARY says '$binary_version', the crate is $version (a stale build?)"

if ! docker image inspect "$base" >/dev/null 2>&1; then
    echo "the engine has no $base: importing a Debian 12 minbase made by mmdebstrap" >&2
    bash "$REPO/packaging/debian-rootfs.sh" slim
    docker import --change 'CMD ["bash"]' --message "Debian 12 minbase (mmdebstrap), packaging/debian-rootfs.sh" \
        /var/cache/fleetprune-lab/rootfs/slim/rootfs.tar "$base" >/dev/null
fi

context=$(mktemp -d)
trap 'rm -rf -- "$context"' EXIT
install -m 0755 "$BINARY" "$context/fleetprune"
strip --strip-unneeded --remove-section=.comment "$context/fleetprune"
cp "$REPO/packaging/Containerfile" "$context/Containerfile"
docker build --quiet --network none -f "$context/Containerfile" -t "$TAG" "$context" >&2
echo "$TAG: $(docker image inspect --format '{{.Size}}' "$TAG" |
    awk '{ printf "%.1f MB", $1 / 1e6 }') (base $base: $(docker image inspect --format '{{.Size}}' "$base" |
    awk '{ printf "%.1f MB", $1 / 1e6 }'))" >&2
echo "$TAG"
