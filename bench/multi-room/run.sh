#!/usr/bin/env bash
# Measures the two ways a broadcast to several rooms can cross nodes
# (cluster.multi_room = rooms | namespace) on the same machine, in one run,
# on two layouts: many small rooms, and two big rooms.
#
#   bench/multi-room/run.sh            prints one JSON line per run, then the ratios
#
# Needs what scripts/test installs (nats-server, node, the npm clients in tests/).
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --quiet -p switchyard-node
target="${CARGO_TARGET_DIR:-target}"
bin="$target/release/switchyard"
nats=$(command -v nats-server || echo /usr/sbin/nats-server)
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

run() {
  local mode=$1 layout=$2 broadcasts=$3 per_node=$4
  local nats_port; nats_port=$(free_port)
  "$nats" -a 127.0.0.1 -p "$nats_port" >"$work/nats.log" 2>&1 &
  local nats_pid=$!
  local pids=() urls=()
  for i in 0 1 2; do
    local port; port=$(free_port)
    SWITCHYARD_LISTEN="127.0.0.1:$port" SWITCHYARD_NATS__URL="nats://127.0.0.1:$nats_port" \
      SWITCHYARD_NODE_ID="bench$i" SWITCHYARD_CLUSTER__MULTI_ROOM="$mode" RUST_LOG=warn \
      "$bin" >"$work/node$i.log" 2>&1 &
    pids+=($!); urls+=("\"http://127.0.0.1:$port\"")
  done
  for url in "${urls[@]}"; do
    until curl -sf "${url//\"/}/ready" >/dev/null; do sleep 0.1; done
  done
  local before=0 after=0
  for pid in "${pids[@]}"; do before=$((before + $(cpu_ticks "$pid"))); done
  local plan="{\"nodes\":[$(IFS=,; echo "${urls[*]}")],\"perNode\":$per_node,\"rooms\":$per_node,\"roomsPerBroadcast\":4,\"broadcasts\":$broadcasts,\"layout\":\"$layout\"}"
  local result; result=$(node bench/multi-room/drive.mjs "$plan")
  for pid in "${pids[@]}"; do after=$((after + $(cpu_ticks "$pid"))); done
  kill "${pids[@]}" "$nats_pid"; wait "${pids[@]}" "$nats_pid" 2>/dev/null || true
  local cpu; cpu=$(python3 -c "print(($after - $before) / $(getconf CLK_TCK))")
  echo "{\"mode\":\"$mode\",\"layout\":\"$layout\",\"node_cpu_seconds\":$cpu,\"result\":$result}"
}

# Small rooms: 300 sockets per node, 300 rooms of 3 (one member per node);
# each broadcast reaches 4 rooms. Big rooms: each broadcast reaches everyone
# through two rooms; fewer of them, so that the node.js clients keep up.
for mode in rooms namespace; do run "$mode" small 5000 300; done
for mode in rooms namespace; do run "$mode" big 300 100; done
