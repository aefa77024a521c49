#!/usr/bin/env bash
# Transfer throughput against the raw tool: a 1 GiB file from a loopback nginx, `bgcopy download`
# vs `curl -o` (median of 3 each), and 10,000 × 4 KiB files, `bgcopy run --once` vs a shell loop
# of curl. Needs nginx and curl (apt-get install nginx-light curl). Builds bgcopy in release mode.
#   Benchmarks/transfer.sh [--small-files N] [--big-mib N]   (--small-files 0 skips the small files)
set -euo pipefail
cd "$(dirname "$0")/.."
small=10000
big_mib=1024
while [ $# -gt 0 ]; do
    case "$1" in
        --small-files) small=$2; shift 2 ;;
        --big-mib) big_mib=$2; shift 2 ;;
        *) echo "usage: $0 [--small-files N] [--big-mib N]" >&2; exit 2 ;;
    esac
done

# Built in the benchmarks' folder (Benchmarks/.build, or BGCOPY_BENCH_BUILD) with their manifest, as run.sh does.
build=(env ENABLE_BENCHMARKS=1 swift build -c release --scratch-path "${BGCOPY_BENCH_BUILD:-$PWD/Benchmarks/.build}")
"${build[@]}" --product bgcopy >/dev/null
bgcopy="$("${build[@]}" --show-bin-path)/bgcopy"
work=$(mktemp -d /tmp/bgcopy-transfer-XXXXXX)
trap 'kill -9 $(cat "$work/nginx/nginx.pid" 2>/dev/null) 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/www/small" "$work/nginx" "$work/out"
chmod 755 "$work"  # nginx's workers (not root) must reach www/ inside mktemp's private folder

head -c $((big_mib << 20)) /dev/urandom > "$work/www/big.bin"
python3 - "$work/www/small" "$small" <<'PY'
import os, sys
root, count = sys.argv[1], int(sys.argv[2])
for i in range(count):
    with open(os.path.join(root, f"f{i:05d}.bin"), "wb") as f:
        f.write(os.urandom(4096))
PY

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

seconds() { python3 -c 'import time; print(time.monotonic())'; }
median() { printf '%s\n' "$@" | sort -g | sed -n 2p; }

echo "== ${big_mib} MiB file from loopback nginx (median of 3)"
curl_runs=(); synced_runs=(); lib_runs=()
for run in 1 2 3; do
    rm -f "$work/out/big.bin"; sync
    t0=$(seconds); curl -sf -o "$work/out/big.bin" "$base/big.bin"; t1=$(seconds)
    curl_runs+=("$(python3 -c "print($t1 - $t0)")")
    # The same download made durable as bgcopy's is (the file fsynced before it counts as done).
    rm -f "$work/out/big.bin"; sync
    t0=$(seconds); curl -sf -o "$work/out/big.bin" "$base/big.bin"; sync "$work/out/big.bin"; t1=$(seconds)
    synced_runs+=("$(python3 -c "print($t1 - $t0)")")
    rm -rf "$work/out/big.bin" "$work/q$run.sqlite"*; sync
    t0=$(seconds); "$bgcopy" download --db "$work/q$run.sqlite" "$base/big.bin" --to "$work/out" >/dev/null; t1=$(seconds)
    lib_runs+=("$(python3 -c "print($t1 - $t0)")")
    cmp -s "$work/out/big.bin" "$work/www/big.bin" || { echo "bgcopy copy differs" >&2; exit 1; }
done
c=$(median "${curl_runs[@]}"); s=$(median "${synced_runs[@]}"); l=$(median "${lib_runs[@]}")
python3 - "$big_mib" "$c" "$s" "$l" <<'PY'
import sys
mib, c, s, l = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
print(f"curl -o        {c:7.2f} s  {mib / c:8.1f} MiB/s")
print(f"curl -o; sync  {s:7.2f} s  {mib / s:8.1f} MiB/s")
print(f"bgcopy         {l:7.2f} s  {mib / l:8.1f} MiB/s")
print(f"ratio bgcopy/curl throughput: {c / l:.2f} (to curl with sync: {s / l:.2f})")
PY
[ "$small" -gt 0 ] || exit 0

echo "== $small × 4 KiB files"
t0=$(seconds)
for f in "$work"/www/small/*.bin; do n=$(basename "$f"); curl -sf -o "$work/out/c-$n" "$base/small/$n"; done
t1=$(seconds)
curl_small=$(python3 -c "print($t1 - $t0)")
list="$work/list.txt"
for f in "$work"/www/small/*.bin; do n=$(basename "$f"); echo "$base/small/$n $work/out/b-$n"; done > "$list"
db="$work/small.sqlite"
group=$("$bgcopy" create --db "$db" small --foreground)
"$bgcopy" add --db "$db" "$group" --from "$list" >/dev/null
"$bgcopy" resume --db "$db" "$group" >/dev/null
t0=$(seconds); "$bgcopy" run --db "$db" --once >/dev/null; t1=$(seconds)
lib_small=$(python3 -c "print($t1 - $t0)")
done_count=$(ls "$work"/out/b-* | wc -l)
python3 - "$small" "$curl_small" "$lib_small" "$done_count" <<'PY'
import sys
n, c, l, done = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
print(f"curl loop      {c:7.2f} s  {n / c:8.1f} files/s")
print(f"bgcopy         {l:7.2f} s  {n / l:8.1f} files/s  ({done} files written)")
print(f"ratio bgcopy/curl files per second: {c / l:.2f}")
PY
