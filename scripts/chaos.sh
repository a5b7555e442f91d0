#!/usr/bin/env bash
# Crash test: kill -9 a dev node under load N times, restart it on the same base path, and check
# that nothing finalized was lost or changed and that it keeps producing. Exits 0 only if every
# restart passed; the last line says how many kills were survived.
#
#   scripts/chaos.sh [--kills N] [--network]
set -euo pipefail
cd "$(dirname "$0")/.."

kills=5 network=0
while [ $# -gt 0 ]; do
  case "$1" in
    --kills) kills="$2"; shift 2 ;;
    --network) network=1; shift ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) echo "chaos.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ "$network" = 1 ]; then
  echo "chaos.sh: --network (killing authorities of the local network in turn) is not written yet" >&2
  exit 2
fi

cargo build --release -q -p aitbc-node
bin="${CARGO_TARGET_DIR:-target}/release/aitbc-node"
base=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
rpc="http://127.0.0.1:$port"
node_pid="" load_pid=""
cleanup() { { kill -9 $node_pid $load_pid; wait $node_pid $load_pid; } 2>/dev/null || true; rm -rf "$base"; }
trap cleanup EXIT

start_node() {
  $bin --dev --no-p2p --base-path "$base" --rpc-addr "127.0.0.1:$port" --log warn &
  node_pid=$!
  for _ in $(seq 100); do curl -sf "$rpc/health" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "node did not start" >&2; exit 1
}
field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

bob=$($bin key inspect //bob --json | field address)
load() { while true; do $bin tx transfer --from //alice --to "$bob" --amount 1 --rpc "$rpc" >/dev/null 2>&1 || sleep 0.2; done; }

start_node
load & load_pid=$!
survived=0
for i in $(seq "$kills"); do
  sleep "$(python3 -c 'import random; print(round(random.uniform(1.5, 4), 2))')"
  head=$(curl -sf "$rpc/rpc/getHead")
  fin=$(echo "$head" | field finalized_height)
  fin_hash=$(echo "$head" | field finalized_hash)
  { kill -9 "$node_pid"; wait "$node_pid"; } 2>/dev/null || true
  start_node
  got=$(curl -sf "$rpc/rpc/getBlock/$fin" | field hash)
  if [ "$got" != "$fin_hash" ]; then
    echo "kill $i: finalized block #$fin changed or lost ($fin_hash -> $got)" >&2; exit 1
  fi
  for _ in $(seq 50); do
    now=$(curl -sf "$rpc/rpc/getHead" | field finalized_height)
    [ "$now" -gt "$fin" ] && break
    sleep 0.2
  done
  if [ "$now" -le "$fin" ]; then echo "kill $i: no progress after restart" >&2; exit 1; fi
  survived=$((survived + 1))
  echo "kill $i: finalized #$fin intact, now at #$now"
done
echo "survived $survived of $kills kills"
