#!/usr/bin/env bash
# Runs the queue benchmarks (ordo-one/package-benchmark: QueueOperations, QueueScaling,
# QueueConcurrency) and prints one table — every operation's ops/s, p50, p99 and ratio to the
# raw-SQLite ceiling — then the scaling summary, with the machine it ran on.
# Builds in Benchmarks/.build (release; BGCOPY_BENCH_BUILD names another folder); databases and
# results go to that folder too.
#   Benchmarks/run.sh [--max-files N]   largest backlog for QueueScaling (default 1000000; 100000 skips 1M)
#   Benchmarks/run.sh --filter REGEX    only the benchmarks whose names match
#   Benchmarks/run.sh --fleet [--seconds N] [--files N]
#                                       only FleetClaims (an executable, not a package-benchmark
#                                       target): claim→complete cycles/s on PostgreSQL with 1, 4 and
#                                       16 engines beside raw SKIP LOCKED SQL and SQLite, one table
set -euo pipefail
cd "$(dirname "$0")/.."
max_files=1000000
filter=()
fleet=0
fleet_options=()
while [ $# -gt 0 ]; do
    case "$1" in
        --max-files) max_files=$2; shift 2 ;;
        --filter) filter=(--filter "$2"); shift 2 ;;
        --fleet) fleet=1; shift ;;
        --seconds|--files) fleet_options+=("$1" "$2"); shift 2 ;;
        *) echo "usage: $0 [--max-files N] [--filter REGEX] | --fleet [--seconds N] [--files N]" >&2; exit 2 ;;
    esac
done

export ENABLE_BENCHMARKS=1
build="${BGCOPY_BENCH_BUILD:-$PWD/Benchmarks/.build}"
machine() {
    echo "Machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(uname -sr)," \
         "$(swift --version 2>&1 | head -1 | sed 's/ (.*//'), SQLite $(pkg-config --modversion sqlite3)," \
         "databases on $(df -T "$1" | awk 'NR == 2 { print $2 }')"
}

if [ $fleet = 1 ]; then
    mkdir -p "$build"
    if ! swift build -c release --scratch-path "$build" --product FleetClaims > "$build/fleet-build.log" 2>&1; then
        tail -40 "$build/fleet-build.log" >&2
        exit 1
    fi
    machine "${TMPDIR:-/tmp}"
    "$build/release/FleetClaims" "${fleet_options[@]}"
    exit 0
fi
export BGCOPY_BENCH_DIR="$build/databases"
export BGCOPY_BENCH_MAX_FILES=$max_files
results="$build/results"
rm -rf "$BGCOPY_BENCH_DIR" "$results"
mkdir -p "$BGCOPY_BENCH_DIR" "$results"

if ! swift package --scratch-path "$build" --allow-writing-to-directory "$results" \
        benchmark --format jmh --path "$results" --no-progress "${filter[@]}" > "$results/run.log" 2>&1; then
    tail -40 "$results/run.log" >&2
    exit 1
fi
rm -rf "$BGCOPY_BENCH_DIR"

machine "$results"
python3 Benchmarks/summarize.py "$results"
