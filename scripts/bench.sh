#!/usr/bin/env bash
# End-to-end throughput benchmark (CONTRACT.md): against its own fresh dev node, with --network
# against its own fresh four-authority `local` network (alice, bob, charlie, dave on this
# machine, 1000 ms slots, finality by votes; submissions spread over the four RPCs), or with
# --rpc against a running node. Prints a table, then as its last line one JSON object with stps,
# p50_ms, p99_ms, rss_mib (the largest node's), first_block, last_block. --claims measures
# compute-receipt claims instead of transfers (escrows opened first; the JSON adds mode and
# claims_per_s). Builds into $CARGO_TARGET_DIR when set. Node logs: BENCH_NODE_LOG sets their
# filter (default warn), BENCH_KEEP_LOGS=1 keeps them (the path is printed).
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
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ "$network" = 1 ] && [ -n "$rpc" ]; then
  echo "bench.sh: --network starts its own network; it does not take --rpc" >&2
  exit 2
fi

cargo build --release -q -p aitbc-node -p aitbc-benches
bin="${CARGO_TARGET_DIR:-target}/release"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pids=()
base=""
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ -n "$base" ]; then
    if [ -n "${BENCH_KEEP_LOGS:-}" ]; then echo "node logs kept in $base" >&2; else rm -rf "$base"; fi
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
wait_health() { # URL PID LOG
  for _ in $(seq 300); do
    curl -sf "$1/health" >/dev/null 2>&1 && return 0
    if ! kill -0 "$2" 2>/dev/null; then
      echo "bench.sh: node exited while starting:" >&2
      tail -n 20 "$3" >&2
      exit 1
    fi
    sleep 0.1
  done
  echo "bench.sh: no answer from $1/health" >&2
  exit 1
}
# start NAME ARGS...: a node on fresh ports; appends its RPC URL to rpcs and its PID to pids.
rpcs=()
start() {
  local name=$1 port
  shift
  port=$(free_port)
  "$bin/aitbc-node" --base-path "$base/$name" --rpc-addr "127.0.0.1:$port" \
    --log "${BENCH_NODE_LOG:-warn}" --pool-max-per-sender 512 "$@" >"$base/$name.log" 2>&1 &
  pids+=($!)
  rpcs+=("http://127.0.0.1:$port")
  wait_health "http://127.0.0.1:$port" "$!" "$base/$name.log"
}
if [ -z "$rpc" ]; then
  base=$(mktemp -d)
  if [ "$network" = 1 ]; then
    # The four `local` authorities (1000 ms slots); bob, charlie and dave boot from alice and
    # the others started before them (a mesh, as scripts/devnet_up.sh).
    boot=""
    for who in alice bob charlie dave; do
      p2p=$(free_port)
      start "$who" --chain local "--$who" --p2p-addr "/ip4/127.0.0.1/tcp/$p2p" ${boot:+--bootnodes "$boot"}
      peer=$(curl -sf "${rpcs[-1]}/health" | python3 -c 'import json,sys; print(json.load(sys.stdin)["peer_id"])')
      boot="${boot:+$boot,}/ip4/127.0.0.1/tcp/$p2p/p2p/$peer"
    done
    # Wait until every node has a finalized block.
    for _ in $(seq 120); do
      ok=1
      for u in "${rpcs[@]}"; do
        f=$(curl -sf "$u/rpc/getHead" | python3 -c 'import json,sys; print(json.load(sys.stdin)["finalized_height"])' 2>/dev/null || echo 0)
        [ "$f" -ge 1 ] || ok=0
      done
      [ "$ok" = 1 ] && break
      sleep 0.5
    done
    if [ "$ok" != 1 ]; then
      echo "bench.sh: the network did not finalize a block in 60 s" >&2
      for who in alice bob charlie dave; do tail -n 10 "$base/$who.log" >&2; done
      exit 1
    fi
    echo "network up: ${rpcs[*]} (logs in $base)" >&2
  else
    start dev --dev --no-p2p
  fi
  rpc=$(IFS=,; echo "${rpcs[*]}")
fi
pid_list=$(IFS=,; echo "${pids[*]}")
"$bin/aitbc-load" --mode "$mode" --rpc "$rpc" --duration "$duration" \
  ${accounts:+--accounts "$accounts"} ${pid_list:+--node-pid "$pid_list"}
