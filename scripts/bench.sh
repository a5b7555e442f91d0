#!/usr/bin/env bash
# End-to-end throughput benchmark (finalized transfers per second): against its own fresh dev
# node, with --network against its own fresh four-authority `local` network (alice, bob,
# charlie, dave on this machine, 1000 ms slots, finality by votes; submissions spread over the
# four RPCs), or with --rpc against a running node. --claims measures compute-receipt claims
# instead of transfers (escrows opened first; the JSON adds mode and claims_per_s).
#
# Each run: the write phase (aitbc-load: sustained finalized sTPS, submit->finalized p50/p99,
# finalized blocks/s, the nodes' CPU % of one core from /proc/PID/stat over the flood, peak RSS),
# then the size of the node's database files (*.redb under its base path) divided by the
# transfers (or claims) finalized on its chain, then a short reads phase (aitbc-load --mode reads:
# getBalance req/s over --read-connections keep-alive connections for --read-duration s).
# --runs N repeats the whole measurement on fresh nodes and reports the median of each figure.
# Prints a table, then as its last line one JSON object with stps, p50_ms, p99_ms, rss_mib (the
# largest node's), first_block, last_block, blocks_per_s, cpu_pct, db_bytes_per_tx,
# get_balance_rps (and runs; with --runs > 1 the figures are medians and "per_run" lists each
# run's). Builds into $CARGO_TARGET_DIR when set. Node logs: BENCH_NODE_LOG sets their filter
# (default warn), BENCH_KEEP_LOGS=1 keeps them (the path is printed).
#
#   scripts/bench.sh [--claims] [--duration S] [--accounts N] [--runs N] [--network]
#                    [--rpc URL --admin-token T] [--read-duration S] [--read-connections C]
#                    [--no-build]   (use the binaries already in $CARGO_TARGET_DIR/release)
set -euo pipefail
cd "$(dirname "$0")/.."

duration=30 accounts="" rpc="" network=0 mode=transfers runs=1 read_duration=5 read_connections=64 no_build=0
while [ $# -gt 0 ]; do
  case "$1" in
    --claims) mode=claims; shift ;;
    --runs) runs="$2"; shift 2 ;;
    --read-duration) read_duration="$2"; shift 2 ;;
    --read-connections) read_connections="$2"; shift 2 ;;
    --no-build) no_build=1; shift ;;
    --duration) duration="$2"; shift 2 ;;
    --accounts) accounts="$2"; shift 2 ;;
    --rpc) rpc="$2"; shift 2 ;;
    --admin-token) shift 2 ;; # funding uses dev-account transfers; no admin call is needed
    --network) network=1; shift ;;
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
case "$runs" in ''|*[!0-9]*|0) echo "bench.sh: --runs takes a positive number" >&2; exit 2 ;; esac
if [ "$runs" -gt 1 ] && [ -n "$rpc" ]; then
  echo "bench.sh: --runs needs fresh nodes; it does not take --rpc" >&2
  exit 2
fi
if [ "$network" = 1 ] && [ -n "$rpc" ]; then
  echo "bench.sh: --network starts its own network; it does not take --rpc" >&2
  exit 2
fi
# A network block holds under half of a dev block (votes, gossip and import share the
# slot): 6,000 senders keep about two blocks in its pools, as 20,000 (aitbc-load's default)
# do for a dev node.
if [ "$network" = 1 ] && [ "$mode" = transfers ] && [ -z "$accounts" ]; then accounts=6000; fi

[ "$no_build" = 1 ] || cargo build --release -q -p aitbc-node -p aitbc-benches
bin="${CARGO_TARGET_DIR:-target}/release"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pids=()
base=""
out=$(mktemp -d)
# Stops this run's nodes and removes their directory.
stop_nodes() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
  if [ -n "$base" ]; then
    if [ -n "${BENCH_KEEP_LOGS:-}" ]; then echo "node logs kept in $base" >&2; else rm -rf "$base"; fi
  fi
  base=""
}
cleanup() {
  stop_nodes
  rm -rf "$out"
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
# The database files' bytes: every *.redb under the nodes' base path (the largest node's).
db_bytes() {
  [ -n "$base" ] || { echo 0; return; }
  local best=0 dir sum
  for dir in "$base"/*/; do
    sum=$(find "$dir" -name '*.redb' -type f -printf '%s\n' 2>/dev/null | awk '{s+=$1} END {print s+0}')
    [ "$sum" -gt "$best" ] && best=$sum
  done
  echo "$best"
}

# run N: one whole measurement (fresh nodes unless --rpc); its JSON goes to $out/run-N.json.
run() {
  local n=$1 url=$rpc
  if [ -z "$rpc" ]; then
    rpcs=()
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
    url=$(IFS=,; echo "${rpcs[*]}")
  fi
  local pid_list
  pid_list=$(IFS=,; echo "${pids[*]}")
  echo "== run $n/$runs: write phase ($mode, $duration s)" >&2
  "$bin/aitbc-load" --mode "$mode" --rpc "$url" --duration "$duration" \
    ${accounts:+--accounts "$accounts"} ${pid_list:+--node-pid "$pid_list"} | tee "$out/write-$n.txt" >&2
  local db
  db=$(db_bytes)
  echo "== run $n/$runs: reads phase (getBalance, $read_duration s, $read_connections connections)" >&2
  "$bin/aitbc-load" --mode reads --rpc "${url%%,*}" --duration "$read_duration" \
    --connections "$read_connections" ${accounts:+--accounts "$accounts"} \
    ${pids[0]:+--node-pid "${pids[0]}"} | tee "$out/reads-$n.txt" >&2
  python3 - "$out/write-$n.txt" "$out/reads-$n.txt" "$db" "$mode" >"$out/run-$n.json" <<'PY'
import json, sys
w = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
r = json.loads(open(sys.argv[2]).read().strip().splitlines()[-1])
db, mode = int(sys.argv[3]), sys.argv[4]
# Every transaction finalized on the chain: the funding transfers (one per account) and ours.
total = w["accounts"] + w.get("finalized_total", 0) + w.get("escrows_opened", 0)
w["db_bytes"] = db if db > 0 else None
w["db_bytes_per_tx"] = round(db / total) if db > 0 and total else None
w["get_balance_rps"] = r["get_balance_rps"]
w["get_balance_p50_ms"] = r["p50_ms"]
w["get_balance_p99_ms"] = r["p99_ms"]
w["get_balance_cpu_pct"] = r["cpu_pct"]
print(json.dumps(w))
PY
  stop_nodes
}

for n in $(seq "$runs"); do run "$n"; done

python3 - "$out" "$runs" "$mode" "$network" <<'PY'
import json, statistics, sys
out, runs, mode, network = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4] == "1"
per_run = [json.loads(open(f"{out}/run-{n}.json").read()) for n in range(1, runs + 1)]
def med(key):
    vals = [r[key] for r in per_run if r.get(key) is not None]
    if not vals:
        return None
    return statistics.median(vals)
keys = ["stps", "p50_ms", "p99_ms", "rss_mib", "blocks_per_s", "cpu_pct", "db_bytes_per_tx",
        "get_balance_rps", "get_balance_p50_ms", "get_balance_p99_ms", "txs", "node_cpu_s", "flood_s"]
res = {k: med(k) for k in keys}
# The window of the median run (by sTPS).
mid = sorted(per_run, key=lambda r: r["stps"])[(len(per_run) - 1) // 2]
res["first_block"], res["last_block"] = mid["first_block"], mid["last_block"]
res["accounts"] = per_run[0]["accounts"]
res["runs"] = runs
if mode == "claims":
    res["mode"] = "claims"
    res["claims_per_s"] = res["stps"]
if runs > 1:
    res["per_run"] = [{k: r.get(k) for k in ["stps", "p50_ms", "p99_ms", "blocks_per_s", "cpu_pct",
                       "rss_mib", "db_bytes_per_tx", "get_balance_rps"]} for r in per_run]
rate = "sustained finalized claims/s" if mode == "claims" else "sustained finalized sTPS"
label = f"median of {runs} runs" if runs > 1 else "value"
def f(v, fmt="{:.0f}"):
    return "n/a" if v is None else fmt.format(v)
cpu_note = " (sum of the 4 nodes)" if network else ""
print(f"| metric | {label} |")
print("|---|---|")
print(f"| accounts | {res['accounts']} |")
print(f"| {rate} | {f(res['stps'])} |")
print(f"| submit->finalized p50 / p99 | {f(res['p50_ms'])} ms / {f(res['p99_ms'])} ms |")
print(f"| finalized blocks/s | {f(res['blocks_per_s'], '{:.2f}')} |")
print(f"| node CPU during the flood{cpu_note} | {f(res['cpu_pct'])}% of one core |")
print(f"| node RSS (peak{', largest node' if network else ''}) | {f(res['rss_mib'])} MiB |")
print(f"| DB bytes per finalized transaction (db files / all txs on chain, funding included) | {f(res['db_bytes_per_tx'])} |")
print(f"| getBalance req/s (keep-alive, after the flood) | {f(res['get_balance_rps'])} |")
print(f"| getBalance p50 / p99 | {f(res['get_balance_p50_ms'], '{:.2f}')} ms / {f(res['get_balance_p99_ms'], '{:.2f}')} ms |")
print(f"| window (median run) | #{res['first_block']} .. #{res['last_block']} |")
if runs > 1:
    print("| per run: sTPS | " + ", ".join(f(r["stps"]) for r in per_run) + " |")
    print("| per run: getBalance req/s | " + ", ".join(f(r["get_balance_rps"]) for r in per_run) + " |")
print(json.dumps(res))
PY
