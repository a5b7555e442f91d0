#!/usr/bin/env bash
# A running AITBC devnet on this machine: a dev chain node, the mock coordinator, a miner loop
# that opens jobs (as //bob) and claims their receipts (as //ferdie), and a client loop that sends
# transfers. Prints the URLs; Ctrl-C stops everything.
#
# This release has no peer-to-peer yet, so the devnet is the single-authority `dev` chain; the
# four-authority `local` network arrives with networking.
#
#   scripts/devnet_up.sh [--base-path DIR] [--rpc-port 9080] [--coordinator-port 8090]
set -euo pipefail
cd "$(dirname "$0")/.."

base="" rpc_port=9080 coord_port=8090
while [ $# -gt 0 ]; do
  case "$1" in
    --base-path) base="$2"; shift 2 ;;
    --rpc-port) rpc_port="$2"; shift 2 ;;
    --coordinator-port) coord_port="$2"; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "devnet_up.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$base" ] || base=$(mktemp -d)

cargo build --release -q -p aitbc-node
bin=./target/release/aitbc-node
rpc="http://127.0.0.1:$rpc_port"
coord="http://127.0.0.1:$coord_port"
pids=()
stop() { trap - EXIT INT TERM; kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; echo "devnet stopped"; }
trap stop EXIT INT TERM

$bin --dev --base-path "$base" --rpc-addr "127.0.0.1:$rpc_port" --admin-token devtoken --log info,informant=info &
pids+=($!)
for _ in $(seq 100); do curl -sf "$rpc/health" >/dev/null 2>&1 && break; sleep 0.1; done
$bin mock-coordinator --addr "127.0.0.1:$coord_port" --rpc "$rpc" &
pids+=($!)

field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
bob=$($bin key inspect //bob --json | field address)
dave=$($bin key inspect //dave --json | field address)

miner_loop() {
  trap - EXIT INT TERM
  local job=$(( $(date +%s) % 100000 * 10 ))
  while true; do
    job=$((job + 1))
    $bin tx open-job --client //bob --job "$job" --price 1000 --rpc "$rpc" --wait finalized >/dev/null 2>&1 &&
      $bin tx claim-receipt --miner //ferdie --client "$bob" --job "$job" --units 5 --coordinator "$coord" \
        --rpc "$rpc" --wait finalized >/dev/null 2>&1 &&
      echo "miner: claimed job $job"
    sleep 1
  done
}
client_loop() {
  trap - EXIT INT TERM
  while true; do
    $bin tx transfer --from //charlie --to "$dave" --amount 1000 --rpc "$rpc" >/dev/null 2>&1 || true
    sleep 1
  done
}
miner_loop & pids+=($!)
client_loop & pids+=($!)

cat <<INFO
devnet up (base path $base)
  node RPC:         $rpc        (admin token: devtoken)
  mock coordinator: $coord
  metrics:          $rpc/metrics
Ctrl-C stops everything.
INFO
wait
