#!/usr/bin/env bash
# Frame time of the dashboard on a long run: writes a 10,000-step run directory with the fake trainer, opens
# `r1lab dash` on it inside a detached tmux (COLS x ROWS), lets it load, then draws FRAMES full frames back to
# back (R1LAB_DASH_BENCH_FRAMES) and prints the mean and worst frame time. Needs tmux; run after `make`.
#   bash bench/dash.sh [STEPS] [COLS] [ROWS] [FRAMES]
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS=${1:-10000} COLS=${2:-200} ROWS=${3:-60} FRAMES=${4:-300}
BUILD=${BUILD:-build/rel}
make -s r1lab "$BUILD/tests/fake-trainer"
tmp=$(mktemp -d)
sock=$(tmux -L r1lab-bench -f /dev/null start-server \; display -p '#{socket_path}' 2>/dev/null || true)
trap 'tmux -L r1lab-bench kill-server 2>/dev/null || true; rm -rf "$tmp"; [ -n "$sock" ] && rm -f "$sock"' EXIT
"$BUILD/tests/fake-trainer" "$tmp/run" --steps "$STEPS" --interval-ms 0 >/dev/null
echo "run: $STEPS steps, $(du -sh "$tmp/run" | cut -f1) on disk"
tmux -L r1lab-bench -f /dev/null new-session -d -x "$COLS" -y "$ROWS" -s b \
    "LANG=C.UTF-8 R1LAB_DASH_BENCH_FRAMES=$FRAMES ./r1lab dash '$tmp/run' 2>'$tmp/bench.txt'; sleep 30"
for _ in $(seq 1 300); do
    [ -s "$tmp/bench.txt" ] && break
    sleep 0.1
done
cat "$tmp/bench.txt"
