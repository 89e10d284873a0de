#!/usr/bin/env bash
# bench/plan-agreement.sh - how exactly `fleetprune plan` predicts `fleetprune prune` (issue 6).
#
# Brings up a seeded lab fleet with N hosts of each engine (Docker 20.10, 26 and 28 on overlay2
# and on the containerd image store, rootful and rootless Podman), then for a sequence of option sets runs `fleetprune plan` (read-only)
# and right after `fleetprune prune --yes` with the same options on the whole fleet, and compares
# per host and kind the planned objects with the daemon's own answer:
#   objects  deleted IDs/names (containers, networks, volumes, images and freed layers, build
#            cache records) and untagged references; on the containerd store the daemon lists
#            freed blobs, so only the image (manifest) IDs among them are compared
#   bytes    predicted bytes vs SpaceReclaimed
# and prints per engine: objects matched / planned / actual, bytes predicted / reclaimed. A host
# that fails a scenario (Podman's 404 on /build/prune fails --build-cache today) adds no row for
# it, and the run's failures are listed after the table.
#
# Usage: bench/plan-agreement.sh [-n HOSTS_PER_ENGINE] [-e ENGINE[,ENGINE...]] [-d DIR] [-p PORT_BASE]
#   -e   only these engines (labels 20.10 26 26c 28 28c podman podman-rootless; default all)
# Needs root (or sudo) for the lab; builds fleetprune (release) with cargo unless FLEETPRUNE_BIN
# names a binary.
set -euo pipefail

BENCH_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_SRC/.." && pwd)
N=1
DIR=/tmp/fleetprune-plan-agreement
PORT_BASE=26600
ONLY=()
while (($#)); do
    case $1 in
        -n) N=$2; shift 2 ;;
        -d) DIR=$2; shift 2 ;;
        -p) PORT_BASE=$2; shift 2 ;;
        -e) IFS=, read -r -a ONLY <<<"$2"; shift 2 ;;
        -h | --help) sed -n '2,19p' "$0"; exit 0 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
command -v jq >/dev/null || { echo "jq is needed" >&2; exit 2; }

# FLEETPRUNE_BIN: a fleetprune binary already built (e.g. target/debug/fleetprune), instead of
# a release build.
if [[ -n ${FLEETPRUNE_BIN:-} ]]; then
    FP=$FLEETPRUNE_BIN
else
    cargo build --release --locked --quiet --manifest-path "$REPO/Cargo.toml"
    FP=${CARGO_TARGET_DIR:-$REPO/target}/release/fleetprune
fi

# Hosts come in blocks of N per engine; ENGINE_OF maps each host to its lab engine's label.
ENGINES=(20.10 26 26c 28 28c podman podman-rootless)
if ((${#ONLY[@]})); then
    for engine in "${ONLY[@]}"; do
        [[ " ${ENGINES[*]} " == *" $engine "* ]] || { echo "unknown engine $engine" >&2; exit 2; }
    done
    ENGINES=("${ONLY[@]}")
fi
flags=()
ENGINE_OF={}
for ((e = 0; e < ${#ENGINES[@]}; e++)); do
    for ((i = 1; i <= N; i++)); do
        name=$(printf 'host%02d' $((e * N + i)))
        ENGINE_OF=$(jq -c --arg h "$name" --arg e "${ENGINES[e]}" '. + {($h): $e}' <<<"$ENGINE_OF")
        case ${ENGINES[e]} in
            26 | 28) flags+=("--engine-${ENGINES[e]}" "$name") ;;
            26c | 28c) flags+=("--engine-${ENGINES[e]%c}" "$name" --containerd-store "$name") ;;
            podman | podman-rootless) flags+=("--engine-${ENGINES[e]}" "$name") ;;
        esac
    done
done
bash "$REPO/lab/up.sh" -n $((${#ENGINES[@]} * N)) -d "$DIR" -p "$PORT_BASE" "${flags[@]}" >/dev/null
trap 'bash "$REPO/lab/down.sh" "$DIR" >/dev/null 2>&1 || true' EXIT
bash "$REPO/lab/seed.sh" "$DIR" >/dev/null

fp() { "$FP" -i "$DIR/inventory.yaml" --known-hosts "$DIR/known_hosts" "$@"; }

# compare PLAN.json PRUNE.json: one TSV line per host and kind:
# engine matched planned actual predicted reclaimed exact
compare() {
    jq -r --slurpfile prune "$2" --argjson engine_of "$ENGINE_OF" '
      .hosts[] as $p
      | ($prune[0].hosts[] | select(.name == $p.name)) as $a
      | ($p.engine_version | split(".")[0:2] | join(".")) as $version
      | (if ($engine_of[$p.name] | startswith("podman")) then $engine_of[$p.name] + " " + $version
         else $version + " " + $p.facts.image_store end) as $engine
      | select($p.status == "ok" and $a.status == "ok")
      | $a.kinds | to_entries[] | .key as $kind | .value as $actual
      | $p.kinds[$kind] as $plan
      | ([$plan.doomed[] | select(.action == "delete") | .reported // .id] + ($plan.freed_layers // [])
         + [$plan.doomed[].untagged[]? | "untag " + .]) as $planned
      | ([$plan.doomed[].id] + [$plan.kept[]?.id]) as $known
      | (if $kind == "images" and $p.facts.image_store == "containerd"
         then [$actual.deleted[] | select(. as $d | $known | index($d))]
         else $actual.deleted end
         + [($actual.untagged // [])[] | "untag " + .]) as $got
      | [$engine, ([$planned[] | select(. as $x | $got | index($x))] | length),
         ($planned | length), ($got | length), $plan.predicted_bytes,
         $actual.reclaimed_bytes, $plan.exact] | @tsv' "$1"
}

work=$(mktemp -d)
trap 'rm -rf "$work"; bash "$REPO/lab/down.sh" "$DIR" >/dev/null 2>&1 || true' EXIT
SCENARIOS=(
    "--images"
    "--containers --filter label!=keep"
    "--networks"
    "--images -a --filter label!=keep=true"
    "--volumes"
    "--build-cache"
    "--system --volumes --build-cache -a"
)
i=0
for scenario in "${SCENARIOS[@]}"; do
    i=$((i + 1))
    # shellcheck disable=SC2086 # one option per word
    fp plan $scenario --show-kept -o json >"$work/plan$i.json" || true
    # shellcheck disable=SC2086
    fp prune $scenario --yes -o json >"$work/prune$i.json" || true
    jq -r --arg s "$scenario" '.hosts[] | select(.status != "ok")
        | "\(.name) [\($s)]: \(.status) at \(.error.stage // "?"): \(.error.message // "" | .[0:100])"' \
        "$work/plan$i.json" "$work/prune$i.json" | sort -u >>"$work/failures.txt"
    compare "$work/plan$i.json" "$work/prune$i.json" >>"$work/rows.tsv"
done

printf '%-16s %8s %8s %8s %9s %14s %14s %s\n' ENGINE MATCHED PLANNED ACTUAL AGREEMENT \
    PREDICTED-B RECLAIMED-B BYTES
sort "$work/rows.tsv" | awk -F'\t' '
    { e = $1; m[e] += $2; p[e] += $3; a[e] += $4; pb[e] += $5; rb[e] += $6
      if ($7 == "false") approx[e] = 1 }
    END {
      for (e in m) {
        agree = (p[e] == a[e] && m[e] == p[e]) ? "100 %" : sprintf("%.1f %%", 100 * m[e] / (p[e] > a[e] ? p[e] : a[e]))
        bytes = (pb[e] == rb[e]) ? "exact" : sprintf("%+.2f %%%s", 100 * (pb[e] - rb[e]) / (rb[e] ? rb[e] : 1), approx[e] ? " (≈ estimate)" : "")
        printf "%-16s %8d %8d %8d %9s %14d %14d %s\n", e, m[e], p[e], a[e], agree, pb[e], rb[e], bytes
      }
    }' | sort
printf '(%s host(s) per engine; option sets, in order: %s)\n' "$N" "$(printf '[%s] ' "${SCENARIOS[@]}")"
if [[ -s $work/failures.txt ]]; then
    echo "hosts that failed an option set (no row for it):"
    sed 's/^/  /' "$work/failures.txt"
fi
