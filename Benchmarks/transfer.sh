#!/usr/bin/env bash
# Transfer throughput against the usual tools, interleaved in one run, from a loopback nginx:
#   10,000 × 4 KiB files: curl -K (one connection), wget -i, aria2c -j16, and bgcopy run --once on
#     one durable group (one file at a time as BITS did, the defaults — 8 of the group in flight —,
#     and 16 and 64 in flight);
#   a 1 GiB file: curl -o, curl -o then sync, aria2c -x1, bgcopy download, bgcopy download --sha256.
# Each round runs every contender once, in the same order; the table shows the median of the rounds
# for wall time, throughput, CPU seconds (user + system) per file and peak RSS.
# Needs nginx, curl, wget and aria2 (apt-get install nginx-light curl wget aria2); a missing
# contender is skipped. Builds bgcopy in release mode.
#   Benchmarks/transfer.sh [--small-files N] [--big-mib N] [--rounds N]   (0 files or MiB skips that part)
set -euo pipefail
cd "$(dirname "$0")/.."
small=10000
big_mib=1024
rounds=3
while [ $# -gt 0 ]; do
    case "$1" in
        --small-files) small=$2; shift 2 ;;
        --big-mib) big_mib=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        *) echo "usage: $0 [--small-files N] [--big-mib N] [--rounds N]" >&2; exit 2 ;;
    esac
done

# Built in the benchmarks' folder (Benchmarks/.build, or BGCOPY_BENCH_BUILD) with their manifest, as run.sh does.
build=(env ENABLE_BENCHMARKS=1 swift build -c release --scratch-path "${BGCOPY_BENCH_BUILD:-$PWD/Benchmarks/.build}")
"${build[@]}" --product bgcopy >/dev/null
bgcopy="$("${build[@]}" --show-bin-path)/bgcopy"
work=$(mktemp -d /tmp/bgcopy-transfer-XXXXXX)
# SIGTERM, not SIGKILL: the master then stops its worker, which SIGKILL would leave running.
trap 'kill $(cat "$work/nginx/nginx.pid" 2>/dev/null) 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/www/small" "$work/nginx" "$work/out"
chmod 755 "$work"  # nginx's workers (not root) must reach www/ inside mktemp's private folder
results="$work/results.txt"
: > "$results"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$work/nginx/nginx.conf" <<CONF
daemon on; worker_processes 1; pid $work/nginx/nginx.pid; error_log $work/nginx/error.log;
events { worker_connections 256; }
http { access_log off; sendfile on; keepalive_requests 100000;
  client_body_temp_path $work/nginx/b; proxy_temp_path $work/nginx/p; fastcgi_temp_path $work/nginx/f;
  uwsgi_temp_path $work/nginx/u; scgi_temp_path $work/nginx/s;
  server { listen 127.0.0.1:$port; root $work/www; } }
CONF
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf"
base="http://127.0.0.1:$port"

# measure PART LABEL COMMAND...: runs the command (output discarded) and appends
# "PART|LABEL|status|wall s|cpu s|peak RSS KiB" — CPU and RSS of the command and its children only.
measure() {
    python3 - "$@" >> "$results" <<'PY'
import resource, subprocess, sys, time
part, label, command = sys.argv[1], sys.argv[2], sys.argv[3:]
start = time.monotonic()
status = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
wall = time.monotonic() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{part}|{label}|{status}|{wall}|{usage.ru_utime + usage.ru_stime}|{usage.ru_maxrss}")
PY
}
have() { command -v "$1" >/dev/null 2>&1; }
fresh() { rm -rf "$work/out"; mkdir -p "$work/out"; sync; }
# Before a small-file contender: the last one's output is moved aside, not deleted, until the end.
# On ext4 without a journal (as on the machine of the README's figures) a new file's inode is not
# taken from those freed in the last 60-360 s: each creation steps over every one of them
# (recently_deleted in a kernel profile). After 10,000 deletions that doubled the system time of
# whichever contender ran next.
retired=0
retire() { retired=$((retired + 1)); mv "$work/out" "$work/retired-$retired"; mkdir -p "$work/out"; sync; }

if [ "$small" -gt 0 ]; then
    python3 - "$work/www/small" "$small" <<'PY'
import os, sys
root, count = sys.argv[1], int(sys.argv[2])
for i in range(count):
    with open(os.path.join(root, f"f{i:05d}.bin"), "wb") as f:
        f.write(os.urandom(4096))
PY
    names=$(cd "$work/www/small" && ls)
    for name in $names; do printf 'url = "%s"\noutput = "%s"\n' "$base/small/$name" "$work/out/$name"; done > "$work/curl.cfg"
    for name in $names; do echo "$base/small/$name"; done > "$work/urls.txt"
    for name in $names; do echo "$base/small/$name $work/out/$name"; done > "$work/bgcopy.list"
    # bgcopy's contenders: one file at a time, the defaults, then more files of the group in flight.
    variants=("--files-per-group 1" "" "--files-per-group 16 --max-concurrent 16" "--files-per-group 64 --max-concurrent 64")
    for round in $(seq "$rounds"); do
        echo "== $small × 4 KiB files, round $round of $rounds ($(date +%T), load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
        retire; measure small "curl -K (1 connection)" curl -sf -K "$work/curl.cfg"
        if have wget; then retire; measure small "wget -i" wget -q -i "$work/urls.txt" -P "$work/out"; fi
        if have aria2c; then
            retire; measure small "aria2c -j16" aria2c -q -j16 -i "$work/urls.txt" -d "$work/out" --allow-overwrite=true
            # aria2's defaults preallocate each file and save a session file: without both it is several times faster.
            retire; measure small "aria2c -j16 (no prealloc, no autosave)" aria2c -q -j16 -i "$work/urls.txt" -d "$work/out" \
                --allow-overwrite=true --file-allocation=none --auto-save-interval=0
        fi
        for variant in "${variants[@]}"; do
            retire
            db="$work/q.sqlite"; rm -f "$db"*
            group=$("$bgcopy" create --db "$db" small --foreground)
            "$bgcopy" add --db "$db" "$group" --from "$work/bgcopy.list" >/dev/null
            "$bgcopy" resume --db "$db" "$group" >/dev/null
            # shellcheck disable=SC2086 # the variant is a list of options
            measure small "bgcopy run --once $variant" "$bgcopy" run --db "$db" --once $variant
            written=$(find "$work/out" -type f | wc -l)
            [ "$written" -eq "$small" ] || { echo "bgcopy $variant wrote $written of $small files" >&2; exit 1; }
        done
    done
fi

if [ "$big_mib" -gt 0 ]; then
    head -c $((big_mib << 20)) /dev/urandom > "$work/www/big.bin"
    digest=$(sha256sum "$work/www/big.bin" | cut -d' ' -f1)
    for round in $(seq "$rounds"); do
        echo "== $big_mib MiB file, round $round of $rounds ($(date +%T), load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
        fresh; measure big "curl -o" curl -sf -o "$work/out/big.bin" "$base/big.bin"
        fresh; measure big "curl -o; sync" sh -c 'curl -sf -o "$1" "$2" && sync "$1"' - "$work/out/big.bin" "$base/big.bin"
        if have aria2c; then
            fresh; measure big "aria2c -x1" aria2c -q -x1 --file-allocation=none -d "$work/out" -o big.bin "$base/big.bin"
        fi
        fresh; rm -f "$work/d.sqlite"*
        measure big "bgcopy download" "$bgcopy" download --db "$work/d.sqlite" "$base/big.bin" --to "$work/out"
        cmp -s "$work/out/big.bin" "$work/www/big.bin" || { echo "bgcopy's copy differs" >&2; exit 1; }
        fresh; rm -f "$work/d.sqlite"*
        measure big "bgcopy download --sha256" "$bgcopy" download --db "$work/d.sqlite" "$base/big.bin" --to "$work/out" --sha256 "$digest"
    done
fi

python3 - "$results" "$small" "$big_mib" <<'PY'
import statistics, sys
path, small, big_mib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
runs = {}
for line in open(path):
    part, label, status, wall, cpu, rss = line.rstrip("\n").split("|")
    if int(status) != 0:
        print(f"{label}: exited {status}", file=sys.stderr)
        continue
    runs.setdefault((part, label), []).append((float(wall), float(cpu), int(rss)))
def med(values): return statistics.median(values)
for part, count, unit in (("small", small, "files/s"), ("big", big_mib, "MiB/s")):
    rows = [(label, r) for (p, label), r in runs.items() if p == part]
    if not rows: continue
    print(f"\n{'10,000 × 4 KiB files' if part == 'small' and small == 10000 else f'{small} small files' if part == 'small' else f'{big_mib} MiB file'} (median of {len(rows[0][1])})")
    print(f"| {'contender':<58} | {'wall s':>7} | {unit:>8} | {'CPU ms/file' if part == 'small' else 'CPU s':>11} | {'peak RSS MiB':>12} |")
    print(f"|{'-' * 60}|{'-' * 9}:|{'-' * 10}:|{'-' * 13}:|{'-' * 14}:|")
    for label, r in rows:
        wall, cpu, rss = med([x[0] for x in r]), med([x[1] for x in r]), max(x[2] for x in r)
        cpu_shown = cpu / count * 1000 if part == "small" else cpu
        print(f"| {label:<58} | {wall:7.2f} | {count / wall:8.1f} | {cpu_shown:11.2f} | {rss / 1024:12.1f} |")
PY
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
