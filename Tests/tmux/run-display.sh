#!/usr/bin/env bash
# The live display of `bgcopy run` in a real terminal: runs it in a detached tmux pane of a fixed
# size, reads the screen with capture-pane and checks that
#   1. the header, a bar for the group and a bar for the transferring file (with rate and ETA) are drawn,
#   2. the frame is redrawn in place (one header on screen, not one per refresh),
#   3. Ctrl-C (send-keys C-c) stops the engine with exit status 130 and an "interrupted" summary,
#   4. the next `bgcopy run --once` resumes, draws the group complete at 100 % and prints its summary,
#      and the copy equals the source.
# Usage: Tests/tmux/run-display.sh [path/to/bgcopy] [scratch directory]
# Exits 0 when every check holds, 1 otherwise (printing the screen it saw).
set -euo pipefail

bgcopy=${1:-.build/debug/bgcopy}
bgcopy="$(cd "$(dirname "$bgcopy")" && pwd)/$(basename "$bgcopy")"
[ -x "$bgcopy" ] || { echo "FAIL: no bgcopy executable at $bgcopy (build it first: swift build)"; exit 1; }
command -v tmux >/dev/null || { echo "FAIL: tmux is not installed (apt-get install tmux)"; exit 1; }
work=${2:-$(mktemp -d)}
mkdir -p "$work"
db="$work/display.sqlite"
socket="bgcopy-display-$$"

tmuxc() { tmux -L "$socket" -f /dev/null "$@"; }
screen() { tmuxc capture-pane -p -t display; }
cleanup() { tmuxc kill-server >/dev/null 2>&1 || true; }
trap cleanup EXIT
fail() {
    echo "FAIL: $*"
    echo "--- screen:"
    screen 2>/dev/null || true
    exit 1
}
# wait_for REGEX SECONDS: until the screen shows a line matching REGEX.
wait_for() {
    local deadline=$((SECONDS + $2))
    while ((SECONDS < deadline)); do
        if screen | grep -Eq -- "$1"; then return 0; fi
        sleep 0.2
    done
    screen | grep -Eq -- "$1"
}

head -c $((3 * 1024 * 1024)) /dev/urandom >"$work/source.bin"
id=$("$bgcopy" create "display test" --db "$db")
"$bgcopy" add "$id" "file://$work/source.bin" "$work/copy.bin" --db "$db" >/dev/null
"$bgcopy" resume "$id" --db "$db" >/dev/null

tmuxc new-session -d -s display -x 120 -y 20 "bash --norc --noprofile"
tmuxc send-keys -t display "PS1='$ '; clear" Enter
tmuxc send-keys -t display "'$bgcopy' run --db '$db' --limit 512K; echo EXIT=\$?" Enter

wait_for '^bgcopy run: 1 group active' 20 || fail "no header line"
wait_for '^display test +transferring +\[#*\.*\] +[0-9]+%' 20 || fail "no bar for the group"
wait_for '^  copy\.bin +\[#*\.*\] +[0-9]+% .*[KM]iB/s +ETA [0-9]+:[0-9]{2}' 20 || fail "no bar for the file with its rate and ETA"
headers=$(screen | grep -c '^bgcopy run: ' || true)
[ "$headers" -eq 1 ] || fail "the frame is not redrawn in place ($headers headers on screen)"

tmuxc send-keys -t display C-c
wait_for '^EXIT=130$' 10 || fail "Ctrl-C did not stop bgcopy run with exit status 130"
wait_for '^bgcopy: interrupted after .* transferred' 1 || fail "no summary after Ctrl-C"
[ ! -e "$work/copy.bin" ] || fail "the file was complete before Ctrl-C; the test needs a slower transfer"

tmuxc send-keys -t display "clear; '$bgcopy' run --once --db '$db'; echo EXIT=\$?" Enter
wait_for '^EXIT=0$' 30 || fail "bgcopy run --once did not finish with exit status 0"
wait_for '^display test +complete +\[#{20}\] +100%' 1 || fail "no complete bar at 100 %"
wait_for '^bgcopy: done in .*1 file complete, 1 group complete, 0 in error' 1 || fail "no final summary"
cmp -s "$work/source.bin" "$work/copy.bin" || fail "the copy differs from the source"
echo "run-display.sh: every check passed"
screen
