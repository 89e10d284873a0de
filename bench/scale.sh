#!/usr/bin/env bash
# bench/scale.sh: the fleetprune controller against fleetprune-sim, a SIMULATOR of N SSH + Docker
# Engine hosts in one async process (bench/simulator/), at N = 100, 1000, 5000, 10000 hosts, with
# --forks N and at the default forks. Measures the controller's wall time, user+sys CPU
# (getrusage through /usr/bin/time), peak RSS, sessions/s, hosts ok/failed, and the simulator's
# own CPU, and prints them beside the targets of issue 10. The simulator is used for scale only,
# never in place of the real-daemon tests. See bench/README.md, "Scale against a simulator".
#
#   bench/scale.sh                 # the full benchmark (~16 minutes on 2 CPUs, most of it the default-forks points)
#   bench/scale.sh --quick         # smoke check: N=50, one run, one fault run
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SIZES="100,1000,5000,10000"
RUNS=3                  # runs per point for N <= 1000 (median); larger N run once
DEFAULT_FORKS=32        # fleetprune's default --forks
PRUNE_LATENCY=1s
FAULT_SIZE=1000         # one extra run with faulty hosts at this N (0: none)
FAULT_SPEC="refused=1,blackhole=1,auth=1,conflict=1,slow=1,exec=1"
FAULT_CONNECT_TIMEOUT=5
INVENTORY_HOSTS=5000
INVENTORY_GROUPS=200
OUTDIR=""
BUILD=1
PROFILE_SIZE=0          # perf profile of one run at this N with --forks N (0: none)
HEAPTRACK_SIZE=0        # heaptrack of one run at this N with --forks N (0: none)
CONNECT_TIMEOUT=""      # --connect-timeout for the clean runs (empty: fleetprune's default, 15 s)
WITH_DEFAULT_FORKS=1    # also run each N at the default --forks
COMPARE_HANDSHAKES=""   # also run each --forks N point with --handshakes H (a same-run baseline)
COMPARE_KEX=""          # also run each --forks N point with KexAlgorithms K (ssh config)

usage() {
    cat <<USAGE
usage: bench/scale.sh [options]
  --quick              smoke check: --sizes 50 --runs 1 --fault-size 50 --inventory-hosts 500
  --sizes LIST         host counts, comma-separated (default $SIZES)
  --runs R             runs per point for N <= 1000, median reported (default $RUNS)
  --prune-latency D    simulated daemon latency per prune (default $PRUNE_LATENCY)
  --fault-size N       one run at N hosts with faults (default $FAULT_SIZE; 0 = none)
  --faults SPEC        fault shares in percent (default $FAULT_SPEC)
  --inventory-hosts N  'fleetprune inventory' on N hosts / $INVENTORY_GROUPS groups (default $INVENTORY_HOSTS; 0 = skip)
  --profile N          also record a perf profile of one --forks N run at N hosts
  --heaptrack N        also run one --forks N run at N hosts under heaptrack and print the
                       peak memory consumers (where the memory per host goes)
  --connect-timeout S  fleetprune --connect-timeout for the clean runs (default: fleetprune's, 15 s)
  --no-default-forks   only run --forks N, not also the default --forks $DEFAULT_FORKS
  --compare-handshakes H  also run each --forks N point with --handshakes H, interleaved
                       with the default runs (e.g. H = N: no handshake limit)
  --compare-kex K      also run each --forks N point with 'KexAlgorithms K' in an ssh config
                       (-F), interleaved with the default runs (default kex: mlkem768x25519-sha256)
  -o DIR               output directory (default: a new /tmp/fp-scale.XXXXXX)
  --no-build           use the existing release binaries
USAGE
}

ORIGINAL_ARGS=("$@")
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) SIZES=50; RUNS=1; FAULT_SIZE=50; INVENTORY_HOSTS=500; INVENTORY_GROUPS=20 ;;
        --sizes) SIZES="$2"; shift ;;
        --runs) RUNS="$2"; shift ;;
        --prune-latency) PRUNE_LATENCY="$2"; shift ;;
        --fault-size) FAULT_SIZE="$2"; shift ;;
        --faults) FAULT_SPEC="$2"; shift ;;
        --inventory-hosts) INVENTORY_HOSTS="$2"; shift ;;
        --profile) PROFILE_SIZE="$2"; shift ;;
        --heaptrack) HEAPTRACK_SIZE="$2"; shift ;;
        --connect-timeout) CONNECT_TIMEOUT="$2"; shift ;;
        --no-default-forks) WITH_DEFAULT_FORKS=0 ;;
        --compare-handshakes) COMPARE_HANDSHAKES="$2"; shift ;;
        --compare-kex) COMPARE_KEX="$2"; shift ;;
        -o) OUTDIR="$2"; shift ;;
        --no-build) BUILD=0 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "scale.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
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
for binary in "$FP" "$SIM" /usr/bin/time ssh-keygen jq python3 bc; do
    command -v "$binary" >/dev/null || { echo "scale.sh: $binary is missing" >&2; exit 1; }
done

# The rest runs in a private network namespace whose only interface is lo, when we may make one
# (root): the simulator can then serve every host from one wildcard listener (N descriptors
# instead of 2N, so 10,000 hosts fit a hard RLIMIT_NOFILE of 20,000), and nothing it binds is
# reachable from outside. Without one, each host gets its own listener on 127.NET.B.C.
if [ -z "${FP_SCALE_NETNS:-}" ] && [ "$(id -u)" = 0 ] && unshare --net true 2>/dev/null; then
    export FP_SCALE_NETNS=1
    exec unshare --net -- bash "${BASH_SOURCE[0]}" "${ORIGINAL_ARGS[@]}" --no-build
fi
if [ -n "${FP_SCALE_NETNS:-}" ]; then
    ip link set lo up
    LISTEN=shared; NETWORK="private network namespace (lo only), one shared listener"
else
    LISTEN=per-host; NETWORK="host network namespace, one listener per host on 127.77.B.C"
fi

[ -n "$OUTDIR" ] || OUTDIR="$(mktemp -d /tmp/fp-scale.XXXXXX)"
mkdir -p "$OUTDIR/keys" "$OUTDIR/home" "$OUTDIR/runs"
cp "$FP" "$SIM" "$OUTDIR/"      # a concurrent cargo build cannot change them mid-run
FP="$OUTDIR/fleetprune"; SIM="$OUTDIR/fleetprune-sim"
ssh-keygen -q -t ed25519 -N '' -C sim-host -f "$OUTDIR/keys/host_ed25519"
ssh-keygen -q -t ed25519 -N '' -C sim-client -f "$OUTDIR/keys/id_ed25519"

# Both processes get the highest file limit we may set: root can raise the hard limit; N hosts
# cost the simulator 2N descriptors (listener + connection) and the controller about N.
ulimit -Hn 1048576 2>/dev/null || true
ulimit -n "$(ulimit -Hn)"
NOFILE="$(ulimit -n)"

# Simulator and controller on different CPUs when there are two or more.
CPUS="$(nproc)"
if [ "$CPUS" -ge 2 ] && command -v taskset >/dev/null; then
    CTL_PIN=(taskset -c 0); SIM_PIN=(taskset -c 1); PINNING="controller on CPU 0, simulator on CPU 1"
else
    CTL_PIN=(); SIM_PIN=(); PINNING="not pinned (1 CPU)"
fi

RESULTS="$OUTDIR/results.tsv"
printf 'label\tn\tforks\trun\tload1\trc\twall_s\tuser_s\tsys_s\tmax_rss_kb\tok\tfailed\treclaimed_bytes\tsim_user_s\tsim_sys_s\tsim_rss_kb\n' > "$RESULTS"
SIM_PID=""
cleanup() { [ -z "$SIM_PID" ] || kill -TERM "$SIM_PID" 2>/dev/null || true; }
trap cleanup EXIT

# start_simulator DIR N [extra simulator options...]: starts it and waits for its ready line.
start_simulator() {
    local dir="$1" n="$2"; shift 2
    "${SIM_PIN[@]}" "$SIM" --hosts "$n" --out "$dir" --host-key "$OUTDIR/keys/host_ed25519" \
        --client-key "$OUTDIR/keys/id_ed25519" --prune-latency "$PRUNE_LATENCY" --listen "$LISTEN" "$@" \
        > "$dir/sim.out" 2> "$dir/sim.err" &
    SIM_PID=$!
    local waited=0
    until grep -q '^ready' "$dir/sim.out" 2>/dev/null; do
        if ! kill -0 "$SIM_PID" 2>/dev/null; then
            echo "scale.sh: the simulator exited: $(cat "$dir/sim.err")" >&2; exit 1
        fi
        sleep 0.1; waited=$((waited + 1))
        [ "$waited" -lt 1200 ] || { echo "scale.sh: the simulator never got ready" >&2; exit 1; }
    done
}

# stop_simulator DIR: SIGTERM, wait (in this shell, never in a $(...) subshell, which cannot
# wait for it), then check that it printed its usage line.
stop_simulator() {
    local dir="$1"
    kill -TERM "$SIM_PID"; wait "$SIM_PID" || true; SIM_PID=""
    grep -q '^usage' "$dir/sim.out" || { echo "scale.sh: no usage line from the simulator in $dir" >&2; exit 1; }
}

# run_point LABEL N FORKS RUN [controller options...] [-- simulator options...]
run_point() {
    local label="$1" n="$2" forks="$3" run="$4"; shift 4
    local controller_args=() simulator_args=()
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do controller_args+=("$1"); shift; done
    [ $# -eq 0 ] || { shift; simulator_args=("$@"); }
    local dir="$OUTDIR/runs/$label-n$n-f$forks-r$run"
    mkdir -p "$dir"
    start_simulator "$dir" "$n" "${simulator_args[@]}"
    sync
    # Other processes' load: the 1-minute load average when the controller starts.
    local load1; load1="$(cut -d' ' -f1 /proc/loadavg)"
    local rc=0
    env -i PATH="$PATH" HOME="$OUTDIR/home" LANG=C.UTF-8 \
        /usr/bin/time -f '%e %U %S %M' -o "$dir/time" \
        "${CTL_PIN[@]}" "$FP" prune --images -a --yes -o json --forks "$forks" \
        -i "$dir/inventory.yaml" --known-hosts "$dir/known_hosts" --host-key-checking strict \
        "${controller_args[@]}" > "$dir/report.json" 2> "$dir/stderr" || rc=$?
    stop_simulator "$dir"
    local usage_line; usage_line="$(grep '^usage' "$dir/sim.out")"
    local wall user sys rss
    read -r wall user sys rss < <(tail -n 1 "$dir/time")
    local ok failed reclaimed
    read -r ok failed reclaimed < <(jq -r '.totals | "\(.succeeded) \(.failed) \(.reclaimed_bytes)"' "$dir/report.json" 2>/dev/null || echo "0 $n 0")
    local sim_user sim_sys sim_rss
    sim_user="$(sed -n 's/.*user_s=\([^ ]*\).*/\1/p' <<<"$usage_line")"
    sim_sys="$(sed -n 's/.*sys_s=\([^ ]*\).*/\1/p' <<<"$usage_line")"
    sim_rss="$(sed -n 's/.*max_rss_kb=\([^ ]*\).*/\1/p' <<<"$usage_line")"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$n" "$forks" "$run" "$load1" "$rc" \
        "$wall" "$user" "$sys" "$rss" "$ok" "$failed" "$reclaimed" "$sim_user" "$sim_sys" "$sim_rss" >> "$RESULTS"
    printf '  load %5s  %-7s N=%-6s forks=%-6s run %s: wall %6.2fs cpu %6.2fs rss %7d kB ok %s failed %s (exit %s); simulator cpu %ss\n' \
        "$load1" "$label" "$n" "$forks" "$run" "$wall" "$(echo "$user + $sys" | bc)" "$rss" "$ok" "$failed" "$rc" \
        "$(echo "$sim_user + $sim_sys" | bc)" >&2
}

{
    echo "machine: $(uname -srm), $CPUS CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, load before start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "fleetprune: $("$FP" --version) ($(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- src Cargo.toml Cargo.lock || echo ', modified'))"
    echo "RLIMIT_NOFILE: $NOFILE for both; $PINNING; $NETWORK"
    echo "simulated prune latency $PRUNE_LATENCY; started $(date -u '+%Y-%m-%d %H:%M UTC')"
} > "$OUTDIR/facts.txt"
cat "$OUTDIR/facts.txt" >&2

clean_args=(); [ -z "$CONNECT_TIMEOUT" ] || clean_args=(--connect-timeout "$CONNECT_TIMEOUT")
IFS=',' read -r -a NS <<<"$SIZES"
for n in "${NS[@]}"; do
    runs=1; [ "$n" -gt 1000 ] || runs="$RUNS"
    forks_list=("$n")
    [ "$WITH_DEFAULT_FORKS" = 0 ] || [ "$n" -le "$DEFAULT_FORKS" ] || forks_list+=("$DEFAULT_FORKS")
    for forks in "${forks_list[@]}"; do
        if [ "$forks" -gt $((NOFILE - 64)) ]; then
            echo "  note: --forks $forks exceeds RLIMIT_NOFILE $NOFILE; expect descriptor errors" >&2
        fi
        for run in $(seq 1 "$runs"); do
            run_point clean "$n" "$forks" "$run" "${clean_args[@]}"
            if [ -n "$COMPARE_HANDSHAKES" ] && [ "$forks" = "$n" ]; then
                run_point "handshakes=$COMPARE_HANDSHAKES" "$n" "$forks" "$run" "${clean_args[@]}" \
                    --handshakes "$COMPARE_HANDSHAKES"
            fi
            if [ -n "$COMPARE_KEX" ] && [ "$forks" = "$n" ]; then
                printf 'Host *\n    KexAlgorithms %s\n' "$COMPARE_KEX" > "$OUTDIR/kex_config"
                run_point "kex=$COMPARE_KEX" "$n" "$forks" "$run" "${clean_args[@]}" \
                    -F "$OUTDIR/kex_config"
            fi
        done
    done
done

if [ "$FAULT_SIZE" -gt 0 ]; then
    echo "fault run: N=$FAULT_SIZE, faults $FAULT_SPEC, --connect-timeout $FAULT_CONNECT_TIMEOUT" >&2
    run_point faults "$FAULT_SIZE" "$FAULT_SIZE" 1 --connect-timeout "$FAULT_CONNECT_TIMEOUT" -- --faults "$FAULT_SPEC"
fi

INVENTORY_LINE=""
if [ "$INVENTORY_HOSTS" -gt 0 ]; then
    dir="$OUTDIR/runs/inventory"; mkdir -p "$dir"
    "$SIM" --hosts "$INVENTORY_HOSTS" --groups "$INVENTORY_GROUPS" --out "$dir" --inventory-only \
        --host-key "$OUTDIR/keys/host_ed25519" --client-key "$OUTDIR/keys/id_ed25519" > /dev/null
    best=""
    for _ in 1 2 3; do
        env -i PATH="$PATH" HOME="$OUTDIR/home" /usr/bin/time -f '%e %M' -o "$dir/time" \
            "${CTL_PIN[@]}" "$FP" inventory -i "$dir/inventory.yaml" --known-hosts "$dir/known_hosts" > "$dir/out.txt" 2>&1
        t="$(cut -d' ' -f1 "$dir/time")"
        if [ -z "$best" ] || [ "$(echo "$t < $best" | bc)" = 1 ]; then best="$t"; fi
    done
    INVENTORY_LINE="$INVENTORY_HOSTS hosts / $INVENTORY_GROUPS groups: best of 3 $best s (target <= 0.1 s), output $(wc -l < "$dir/out.txt") lines"
fi

if [ "$PROFILE_SIZE" -gt 0 ] && command -v perf >/dev/null; then
    dir="$OUTDIR/runs/profile"; mkdir -p "$dir"
    start_simulator "$dir" "$PROFILE_SIZE"
    env -i PATH="$PATH" HOME="$OUTDIR/home" "${CTL_PIN[@]}" perf record -q -e cpu-clock -F 4999 -g -o "$dir/perf.data" \
        "$FP" prune --images -a --yes -o json --forks "$PROFILE_SIZE" \
        -i "$dir/inventory.yaml" --known-hosts "$dir/known_hosts" "${clean_args[@]}" > "$dir/report.json" 2> "$dir/stderr" || true
    stop_simulator "$dir"
    perf report -i "$dir/perf.data" --no-children --sort dso,symbol --stdio 2>/dev/null | grep -v '^$' | head -n 400 > "$dir/report.txt" || true
    echo "profile: $dir/report.txt" >&2
fi

if [ "$HEAPTRACK_SIZE" -gt 0 ]; then
    command -v heaptrack >/dev/null || { echo "scale.sh: --heaptrack needs heaptrack (apt-get install heaptrack)" >&2; exit 1; }
    dir="$OUTDIR/runs/heaptrack"; mkdir -p "$dir"
    start_simulator "$dir" "$HEAPTRACK_SIZE"
    env -i PATH="$PATH" HOME="$OUTDIR/home" "${CTL_PIN[@]}" heaptrack -o "$dir/heaptrack" \
        "$FP" prune --images -a --yes -o json --forks "$HEAPTRACK_SIZE" \
        -i "$dir/inventory.yaml" --known-hosts "$dir/known_hosts" "${clean_args[@]}" > "$dir/report.json" 2> "$dir/stderr" || true
    stop_simulator "$dir"
    heaptrack_print -f "$dir"/heaptrack.*zst --print-peaks 1 --print-allocators 0 --print-temporary 0 \
        --print-leaks 0 -n 30 > "$dir/peaks.txt" 2>/dev/null || true
    {
        echo "HEAPTRACK: $HEAPTRACK_SIZE hosts, --forks $HEAPTRACK_SIZE: peak consumers (per host = total / hosts)"
        grep -A1 'peak memory consumed over' "$dir/peaks.txt" | grep -v '^--' | paste - - |
            awk -v n="$HEAPTRACK_SIZE" '{ size = $1; unit = substr(size, length(size)); v = substr(size, 1, length(size) - 1)
                m = (unit == "M") ? 1024 : (unit == "K") ? 1 : 1 / 1024
                printf "  %8s  %6.1f kB/host  %s\n", size, v * m / n, $NF }' |
            sed 's/::h[0-9a-f]\{16\}//' | head -n 16
        grep -E 'peak heap memory|peak RSS' "$dir/peaks.txt" | sed 's/^/  /'
    } | tee "$dir/summary.txt" >&2
fi

python3 - "$RESULTS" "$DEFAULT_FORKS" "$INVENTORY_LINE" <<'PY' | tee "$OUTDIR/summary.txt"
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
default_forks = int(sys.argv[2]); inventory = sys.argv[3]
points = {}
for r in rows:
    points.setdefault((r["label"], int(r["n"]), int(r["forks"])), []).append(r)
med = lambda rs, k: statistics.median(float(r[k]) for r in rs)
print("SCALE: fleetprune prune --images -a --yes -o json against fleetprune-sim (a simulator), medians")
print(f"{'hosts':>6} {'forks':>6} {'runs':>4} {'load':>5} {'wall s':>7} {'hosts/s':>8} {'cpu s':>7} {'ms/host':>8} {'rss MB':>7} {'kB/host*':>8} {'ok':>6} {'failed':>6} {'sim cpu s':>9}  {'':<}")
for (label, n, forks), rs in sorted(points.items(), key=lambda p: (p[0][0] != "clean", p[0][1], -p[0][2])):
    wall = med(rs, "wall_s"); cpu = statistics.median(float(r["user_s"]) + float(r["sys_s"]) for r in rs)
    rss = med(rs, "max_rss_kb"); ok = med(rs, "ok"); failed = med(rs, "failed")
    sim = statistics.median(float(r["sim_user_s"]) + float(r["sim_sys_s"]) for r in rs)
    in_flight = min(n, forks)
    note = "faulty hosts mixed in" if label == "faults" else ("--forks N" if forks == n else "default forks")
    if label.startswith("handshakes="):
        note = f"--forks N, --{label}"
    elif label.startswith("kex="):
        note = f"--forks N, KexAlgorithms {label[4:]}"
    elif label == "clean" and forks == n:
        note = "--forks N, --handshakes 128 (default)"
    load = max(float(r["load1"]) for r in rs)
    print(f"{n:>6} {forks:>6} {len(rs):>4} {load:>5.1f} {wall:>7.2f} {n / wall:>8.0f} {cpu:>7.2f} {1000 * cpu / n:>8.2f} {rss / 1024:>7.1f} {rss / in_flight:>8.1f} {ok:>6.0f} {failed:>6.0f} {sim:>9.2f}  {note}")
print("* kB/host = peak RSS / hosts in flight (min(N, forks)), an upper bound that includes the fixed base")
print("  load = highest 1-minute load average at the start of a run; with 2 CPUs, above ~2 means other processes took CPU")
clean = {(n, f): rs for (l, n, f), rs in points.items() if l == "clean"}
ns = sorted({n for n, f in clean if f == n})
if len(ns) >= 2:
    print("growth with N (--forks N), per extra host between successive sizes:")
    for a, b in zip(ns, ns[1:]):
        ra, rb = clean[(a, a)], clean[(b, b)]
        d_rss = (med(rb, "max_rss_kb") - med(ra, "max_rss_kb")) / (b - a)
        cpu = lambda rs: statistics.median(float(r["user_s"]) + float(r["sys_s"]) for r in rs)
        d_cpu = 1000 * (cpu(rb) - cpu(ra)) / (b - a)
        d_wall = 1000 * (med(rb, "wall_s") - med(ra, "wall_s")) / (b - a)
        print(f"  {a:>5} -> {b:>5}: rss +{d_rss:.1f} kB/host, cpu +{d_cpu:.2f} ms/host, wall +{d_wall:.2f} ms/host")
print("TARGETS (issues 10 and 16):")
def verdict(ok): return "MET" if ok else "NOT MET"
if (1000, 1000) in clean:
    rs = clean[(1000, 1000)]
    print(f"  1000 hosts, 1 s latency, --forks 1000: wall <= 3 s        -> {med(rs, 'wall_s'):.2f} s  {verdict(med(rs, 'wall_s') <= 3)}")
    print(f"  1000 hosts, --forks 1000: peak RSS <= 64 MB               -> {med(rs, 'max_rss_kb') / 1024:.1f} MB  {verdict(med(rs, 'max_rss_kb') <= 65536)}")
if (10000, 10000) in clean:
    rs = clean[(10000, 10000)]
    complete = med(rs, "ok") == 10000
    print(f"  10000 hosts complete, <= 40 kB per host in flight         -> {med(rs, 'ok'):.0f} ok, {med(rs, 'max_rss_kb') / 10000:.1f} kB/host  {verdict(complete and med(rs, 'max_rss_kb') / 10000 <= 40)}")
if (10000, default_forks) in clean:
    rs = clean[(10000, default_forks)]
    rss = med(rs, "max_rss_kb") / 1024
    print(f"  10000 hosts, default --forks {default_forks}: peak RSS <= 40 MB (issue 16)  -> {rss:.1f} MB (98.1 MB before outcomes streamed)  {verdict(rss <= 40 and med(rs, 'ok') == 10000)}")
worst = max(((1000 * statistics.median(float(r['user_s']) + float(r['sys_s']) for r in rs) / n), n, f) for (n, f), rs in clean.items())
print(f"  controller CPU <= 2 ms per host (worst point)            -> {worst[0]:.2f} ms at N={worst[1]} forks={worst[2]}  {verdict(worst[0] <= 2)}")
if inventory:
    print(f"  inventory resolution: {inventory}")
PY
echo "results: $OUTDIR (facts.txt, results.tsv, summary.txt, runs/*)" >&2
