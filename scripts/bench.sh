#!/usr/bin/env bash
# End-to-end throughput benchmark (CONTRACT.md): against its own fresh dev node, or with --rpc
# against a running one. Prints a table, then as its last line one JSON object with stps, p50_ms,
# p99_ms, rss_mib, first_block, last_block. --claims measures compute-receipt claims instead of
# transfers (escrows opened first; the JSON adds mode and claims_per_s). Builds into
# $CARGO_TARGET_DIR when set.
#
#   scripts/bench.sh [--claims] [--duration S] [--accounts N] [--network] [--rpc URL --admin-token T]
set -euo pipefail
cd "$(dirname "$0")/.."

duration=30 accounts="" rpc="" network=0 mode=transfers
while [ $# -gt 0 ]; do
  case "$1" in
    --claims) mode=claims; shift ;;
    --duration) duration="$2"; shift 2 ;;
    --accounts) accounts="$2"; shift 2 ;;
    --rpc) rpc="$2"; shift 2 ;;
    --admin-token) shift 2 ;; # funding uses dev-account transfers; no admin call is needed
    --network) network=1; shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ "$network" = 1 ]; then
  echo "bench.sh: --network needs peer-to-peer, which this release does not have yet" >&2
  exit 2
fi

cargo build --release -q -p aitbc-node -p aitbc-benches
bin="${CARGO_TARGET_DIR:-target}/release"
node_pid=""
if [ -z "$rpc" ]; then
  base=$(mktemp -d)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  rpc="http://127.0.0.1:$port"
  "$bin/aitbc-node" --dev --base-path "$base" --rpc-addr "127.0.0.1:$port" --log warn \
    --pool-max-per-sender 512 &
  node_pid=$!
  trap 'kill $node_pid 2>/dev/null; wait $node_pid 2>/dev/null; rm -rf "$base"' EXIT
  for _ in $(seq 100); do
    curl -sf "$rpc/health" >/dev/null 2>&1 && break
    sleep 0.1
  done
fi
"$bin/aitbc-load" --mode "$mode" --rpc "$rpc" --duration "$duration" \
  ${accounts:+--accounts "$accounts"} ${node_pid:+--node-pid "$node_pid"}
