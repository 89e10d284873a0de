#!/usr/bin/env bash
# bench/stream-memory.sh: peak RSS of the controller for a fleet of N hosts at the default
# --forks, in every output format (and with --report and --metrics-file), against
# fleetprune-sim, a SIMULATOR of SSH + Docker Engine hosts (bench/simulator/; never in place of
# the real-daemon tests). With --baseline BINARY, the same runs with that binary too,
# interleaved (baseline, current, baseline, ...), so both figures come from the same minutes
# of a shared machine. Prints medians and the ratio, beside issue 16's target
# (10,000 hosts <= 40 MB at the default forks).
#
#   bench/stream-memory.sh                                    # N=10000, every format, 1 run each
#   bench/stream-memory.sh --baseline /tmp/old/fleetprune --runs 3
#   bench/stream-memory.sh --hosts 2000 --formats json,table  # quicker
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HOSTS=10000
RUNS=1
FORMATS="json,table,markdown,ndjson,csv,json+report+metrics"
LATENCY=100ms           # the simulated prune latency; memory depends on hosts in flight, not on it
BASELINE=""
BUILD=1
TARGET_MB=40

usage() {
    cat <<USAGE
usage: bench/stream-memory.sh [--hosts N] [--runs R] [--formats LIST] [--latency D]
                              [--baseline BINARY] [--no-build]
  --formats LIST  comma-separated: json, table, markdown, ndjson, csv, and json+report+metrics
                  (json on stdout plus --report FILE and --metrics-file FILE); default $FORMATS
USAGE
}

ORIGINAL_ARGS=("$@")
while [ $# -gt 0 ]; do
    case "$1" in
        --hosts) HOSTS="$2"; shift ;;
        --runs) RUNS="$2"; shift ;;
        --formats) FORMATS="$2"; shift ;;
        --latency) LATENCY="$2"; shift ;;
        --baseline) BASELINE="$2"; shift ;;
        --no-build) BUILD=0 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "stream-memory.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done

TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
FP="$TARGET_DIR/release/fleetprune"
SIM="$TARGET_DIR/release/fleetprune-sim"
if [ "$BUILD" = 1 ]; then
    echo "building fleetprune and fleetprune-sim (release)..." >&2
    (cd "$ROOT" && cargo build --release --locked --quiet)
    (cd "$ROOT/bench/simulator" && cargo build --release --locked --quiet --target-dir "$TARGET_DIR")
fi
for binary in "$FP" "$SIM" ${BASELINE:+"$BASELINE"} /usr/bin/time ssh-keygen python3; do
    command -v "$binary" >/dev/null || { echo "stream-memory.sh: $binary is missing" >&2; exit 1; }
done

# A private network namespace whose only interface is lo, when we may make one (root): one
# shared listener serves every simulated host and nothing is reachable from outside.
if [ -z "${FP_STREAM_NETNS:-}" ] && [ "$(id -u)" = 0 ] && unshare --net true 2>/dev/null; then
    export FP_STREAM_NETNS=1
    exec unshare --net -- bash "${BASH_SOURCE[0]}" "${ORIGINAL_ARGS[@]}" --no-build
fi
if [ -n "${FP_STREAM_NETNS:-}" ]; then
    ip link set lo up
    LISTEN=shared
else
    LISTEN=per-host
fi

OUTDIR="$(mktemp -d /tmp/fp-stream.XXXXXX)"
mkdir -p "$OUTDIR/keys" "$OUTDIR/home" "$OUTDIR/runs"
cp "$FP" "$OUTDIR/fleetprune"; FP="$OUTDIR/fleetprune"
cp "$SIM" "$OUTDIR/fleetprune-sim"; SIM="$OUTDIR/fleetprune-sim"
[ -z "$BASELINE" ] || { cp "$BASELINE" "$OUTDIR/baseline"; BASELINE="$OUTDIR/baseline"; }
ssh-keygen -q -t ed25519 -N '' -C sim-host -f "$OUTDIR/keys/host_ed25519"
ssh-keygen -q -t ed25519 -N '' -C sim-client -f "$OUTDIR/keys/id_ed25519"
ulimit -Hn 1048576 2>/dev/null || true
ulimit -n "$(ulimit -Hn)"
SIM_PID=""
cleanup() { [ -z "$SIM_PID" ] || kill -TERM "$SIM_PID" 2>/dev/null || true; }
trap cleanup EXIT

RESULTS="$OUTDIR/results.tsv"
printf 'binary\tformat\trun\trc\twall_s\tmax_rss_kb\tok\n' > "$RESULTS"

# run_point BINARY_LABEL BINARY FORMAT RUN
run_point() {
    local label="$1" binary="$2" format="$3" run="$4"
    local dir="$OUTDIR/runs/$label-${format//+/_}-r$run"
    mkdir -p "$dir"
    "$SIM" --hosts "$HOSTS" --out "$dir" --host-key "$OUTDIR/keys/host_ed25519" \
        --client-key "$OUTDIR/keys/id_ed25519" --prune-latency "$LATENCY" --listen "$LISTEN" \
        > "$dir/sim.out" 2> "$dir/sim.err" &
    SIM_PID=$!
    until grep -q '^ready' "$dir/sim.out" 2>/dev/null; do
        kill -0 "$SIM_PID" 2>/dev/null || { echo "stream-memory.sh: the simulator exited: $(cat "$dir/sim.err")" >&2; exit 1; }
        sleep 0.1
    done
    local args=(-o "${format%%+*}")
    if [ "$format" = "json+report+metrics" ]; then
        args+=(--report "$dir/report.json" --metrics-file "$dir/fleetprune.prom")
    fi
    local rc=0
    env -i PATH="$PATH" HOME="$OUTDIR/home" LANG=C.UTF-8 /usr/bin/time -f '%e %M' -o "$dir/time" \
        "$binary" prune --images -a --yes "${args[@]}" -i "$dir/inventory.yaml" \
        --known-hosts "$dir/known_hosts" --host-key-checking strict > "$dir/stdout" 2> "$dir/stderr" || rc=$?
    kill -TERM "$SIM_PID"; wait "$SIM_PID" || true; SIM_PID=""
    local wall rss ok
    read -r wall rss < <(tail -n 1 "$dir/time")
    # Hosts reported ok, counted in what the format wrote (a check that the output is whole).
    case "$format" in
        json*) ok="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["totals"]["succeeded"])' "$dir/stdout" 2>/dev/null || echo 0)" ;;
        ndjson) ok="$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().splitlines()[-1])["totals"]["succeeded"])' "$dir/stdout" 2>/dev/null || echo 0)" ;;
        csv) ok="$(awk -F, 'NR > 1 && $3 == "ok" { hosts[$1] = 1 } END { print length(hosts) }' "$dir/stdout")" ;;
        *) ok="$(grep -Eo 'TOTAL +\| *[0-9]+/[0-9]+ ok|TOTAL +[0-9]+/[0-9]+ ok' "$dir/stdout" | grep -Eo '[0-9]+/' | tr -d /)" ;;
    esac
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$format" "$run" "$rc" "$wall" "$rss" "${ok:-0}" >> "$RESULTS"
    printf '  %-8s %-20s run %s: wall %6.2fs peak RSS %6.1f MB, %s ok (exit %s)\n' \
        "$label" "$format" "$run" "$wall" "$(echo "scale=1; $rss / 1024" | bc)" "${ok:-0}" "$rc" >&2
}

echo "fleetprune $("$FP" --version) ($(git -C "$ROOT" rev-parse --short HEAD)); $HOSTS simulated hosts, default --forks, prune latency $LATENCY; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); started $(date -u '+%Y-%m-%d %H:%M UTC')" | tee "$OUTDIR/facts.txt" >&2
IFS=',' read -r -a FORMAT_LIST <<<"$FORMATS"
for run in $(seq 1 "$RUNS"); do
    for format in "${FORMAT_LIST[@]}"; do
        [ -z "$BASELINE" ] || run_point baseline "$BASELINE" "$format" "$run"
        run_point current "$FP" "$format" "$run"
    done
done

python3 - "$RESULTS" "$HOSTS" "$TARGET_MB" <<'PY' | tee "$OUTDIR/summary.txt"
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
hosts, target = int(sys.argv[2]), float(sys.argv[3])
formats = list(dict.fromkeys(r["format"] for r in rows))
med = lambda rs, k: statistics.median(float(r[k]) for r in rs)
print(f"STREAM MEMORY: fleetprune prune --images -a --yes against fleetprune-sim (a simulator), {hosts} hosts, default --forks, medians")
print(f"{'format':<22} {'runs':>4} {'baseline MB':>11} {'current MB':>10} {'ratio':>6} {'wall s':>7} {'ok':>6}  target <= {target:.0f} MB")
for f in formats:
    cur = [r for r in rows if r["format"] == f and r["binary"] == "current"]
    base = [r for r in rows if r["format"] == f and r["binary"] == "baseline"]
    c = med(cur, "max_rss_kb") / 1024
    b = med(base, "max_rss_kb") / 1024 if base else None
    ratio = f"{c / b:6.2f}" if b else "     -"
    bs = f"{b:11.1f}" if b else f"{'-':>11}"
    ok = med(cur, "ok")
    verdict = "MET" if c <= target and ok == hosts else "NOT MET"
    print(f"{f:<22} {len(cur):>4} {bs} {c:>10.1f} {ratio} {med(cur, 'wall_s'):>7.1f} {ok:>6.0f}  {verdict}")
PY
echo "raw figures: $RESULTS" >&2
