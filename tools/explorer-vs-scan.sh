#!/usr/bin/env bash
# The explorer's time to "every region done" against the headless scan's, in one run, on one
# simulator: `guardkey sim --seed generated:REGIONS:PER_REGION` with no latency, every Bedrock
# region of both, the explorer in a tmux pane whose header is polled every 100 ms, the scan
# written as JSON. Use the release binary.
# Usage: tools/explorer-vs-scan.sh [target/release/guardkey] [generated:20:5000]
set -euo pipefail
guardkey=${1:-target/release/guardkey}
seed=${2:-generated:20:5000}
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$guardkey" sim --port "$port" --seed "$seed" >"$work/sim.log" 2>&1 &
sim=$!
trap 'kill $sim 2>/dev/null; tmux kill-session -t gk-bench 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1200); do grep -q "Press Ctrl-C" "$work/sim.log" && break; sleep 0.1; done
creds="AWS_ACCESS_KEY_ID=$(sed -n 's/.*AWS_ACCESS_KEY_ID=//p' "$work/sim.log") \
AWS_SECRET_ACCESS_KEY=$(sed -n 's/.*AWS_SECRET_ACCESS_KEY=//p' "$work/sim.log") \
AWS_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null"
endpoint="http://127.0.0.1:$port"
now() { date +%s.%N; }

start=$(now)
env $creds "$guardkey" scan --endpoint-url "$endpoint" --format json --output "$work/scan.json" 2>/dev/null || true
scan=$(python3 -c "print($(now) - $start)")

start=$(now)
tmux new-session -d -s gk-bench -x 200 -y 50 "env $creds $guardkey --endpoint-url $endpoint"
until tmux capture-pane -t gk-bench -p | grep -Eq "regions ([0-9]+)/\1 done"; do sleep 0.1; done
explorer=$(python3 -c "print($(now) - $start)")
header=$(tmux capture-pane -t gk-bench -p | sed -n 2p | tr -s ' ')
python3 -c "print(f'scan {$scan:.1f} s, explorer {$explorer:.1f} s to every region done ({$explorer/$scan:.2f}x the scan); header: $header')"
