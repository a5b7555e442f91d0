#!/usr/bin/env bash
# A running AITBC devnet on this machine: the four `local` authorities (//alice, //bob,
# //charlie, //dave; RPC 9080..9083, P2P 7070..7073) and a full node (RPC 9084, P2P 7074), each
# booting from alice's multiaddr and the nodes started before it; the mock coordinator (8090,
# attesting for the chain alice serves); a miner loop that opens jobs (as //bob) and claims their
# receipts (as //ferdie); a client loop that sends transfers (from //charlie) to random nodes.
# With --metrics, a Prometheus scraping every node's /metrics. Prints the URLs; Ctrl-C (or
# SIGTERM, or a failure while starting) stops everything. Node logs: BASE/<name>.log.
#
#   scripts/devnet_up.sh [--dev] [--base-path DIR] [--keep] [--no-loops] [--check SECS]
#                        [--rpc-port 9080] [--p2p-port 7070] [--coordinator-port 8090]
#                        [--metrics [PORT]]
#
#   --dev         the old single-node devnet: one `--dev` node (RPC 9080), coordinator, loops
#   --base-path   keep the chains in DIR (default: a temporary directory, deleted at exit
#                 unless --keep)
#   --no-loops    no miner or client loop
#   --check SECS  smoke test: run SECS seconds, then exit 0 only if finality advanced on every
#                 node and a claim and a transfer landed (not part of CI)
#   --rpc-port, --p2p-port  the first of five consecutive ports (alice, bob, charlie, dave, full)
#   --metrics [PORT]  if `prometheus` is on PATH (Debian: apt-get install prometheus), run one on
#                 127.0.0.1:PORT (default 9090) scraping every node's RPC /metrics every 5 s (job
#                 aitbc-node, label node=<name>; config BASE/prometheus.yml, data BASE/prometheus,
#                 log BASE/prometheus.log); point Grafana at it and import
#                 scripts/grafana/aitbc-node.json. Without prometheus: a warning, no metrics.
#
# Builds into $CARGO_TARGET_DIR when set (default ./target).
set -euo pipefail
cd "$(dirname "$0")/.."

dev=0 base="" keep=0 loops=1 check="" rpc_port=9080 p2p_port=7070 coord_port=8090 metrics_port=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dev) dev=1; shift ;;
    --base-path) base="$2"; keep=1; shift 2 ;;
    --keep) keep=1; shift ;;
    --no-loops) loops=0; shift ;;
    --check) check="$2"; shift 2 ;;
    --rpc-port) rpc_port="$2"; shift 2 ;;
    --p2p-port) p2p_port="$2"; shift 2 ;;
    --coordinator-port) coord_port="$2"; shift 2 ;;
    --metrics)
      metrics_port=9090
      if [[ "${2:-}" =~ ^[0-9]+$ ]]; then metrics_port="$2"; shift; fi
      shift ;;
    -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
    *) echo "devnet_up.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ -n "$check" ] && ! [ "$check" -gt 0 ] 2>/dev/null; then
  echo "devnet_up.sh: --check needs a number of seconds" >&2
  exit 2
fi
if [ -n "$metrics_port" ] && ! command -v prometheus >/dev/null; then
  echo "devnet_up.sh: warning: prometheus not found on PATH, going on without --metrics" >&2
  metrics_port=""
fi

cargo build --release -q -p aitbc-node
bin="${CARGO_TARGET_DIR:-target}/release/aitbc-node"
[ -n "$base" ] || base=$(mktemp -d -t aitbc-devnet.XXXXXX)
mkdir -p "$base"
base=$(cd "$base" && pwd)
coord="http://127.0.0.1:$coord_port"

# Every child runs in its own process group (job control on), so stopping a group also stops
# whatever it started (a loop's running `tx` command).
set -m
pids=()
stop() {
  local rc=$?
  trap - EXIT INT TERM
  set +e +m
  for p in "${pids[@]}"; do kill -TERM -- "-$p" 2>/dev/null; done
  for _ in $(seq 100); do
    local alive=0
    for p in "${pids[@]}"; do kill -0 -- "-$p" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for p in "${pids[@]}"; do kill -KILL -- "-$p" 2>/dev/null; done
  wait 2>/dev/null
  if [ "$keep" = 0 ]; then rm -rf "$base"; else echo "chains and logs kept in $base"; fi
  echo "devnet stopped"
  exit "$rc"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
  echo "devnet_up.sh: $*" >&2
  for log in "$base"/*.log; do
    [ -f "$log" ] || continue
    echo "--- last lines of $log" >&2
    tail -n 15 "$log" >&2
  done
  exit 1
}

json() { python3 -c "import json,sys; v=json.load(sys.stdin)$1; print(v)"; }

# start NAME RPC_PORT ARGS...: starts a node logging to BASE/NAME.log.
names=() rpcs=()
start() {
  local name=$1 port=$2
  shift 2
  "$bin" --base-path "$base/$name" --rpc-addr "127.0.0.1:$port" --admin-token devtoken \
    --name "$name" "$@" >"$base/$name.log" 2>&1 </dev/null &
  pids+=($!)
  names+=("$name")
  rpcs+=("http://127.0.0.1:$port")
}

# wait_health I: waits until node I answers /health (fails if it died).
wait_health() {
  local i=$1
  for _ in $(seq 300); do
    curl -sf "${rpcs[$i]}/health" >/dev/null 2>&1 && return 0
    kill -0 "${pids[$i]}" 2>/dev/null || fail "${names[$i]} exited while starting"
    sleep 0.1
  done
  fail "${names[$i]} did not answer on ${rpcs[$i]}/health"
}

finalized() { curl -sf "$1/rpc/getHead" | json '["finalized_height"]'; }

ports=("$coord_port" "$rpc_port")
[ "$dev" = 1 ] || for i in 0 1 2 3 4; do ports+=($((rpc_port + i)) $((p2p_port + i))); done
[ -z "$metrics_port" ] || ports+=("$metrics_port")
for port in "${ports[@]}"; do
  if (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    fail "port $port is in use (another devnet?)"
  fi
done

if [ "$dev" = 1 ]; then
  start dev "$rpc_port" --dev --no-p2p
  wait_health 0
else
  # Alice first; every later node boots from alice's multiaddr (and from the nodes started
  # before it, so the peers form a mesh rather than a star around alice: the network has no
  # peer discovery beyond its boot nodes).
  boot=""
  i=0
  for who in alice bob charlie dave full; do
    flags=(--chain local --p2p-addr "/ip4/127.0.0.1/tcp/$((p2p_port + i))")
    [ "$who" = full ] || flags+=("--$who")
    [ -z "$boot" ] || flags+=(--bootnodes "$boot")
    start "$who" $((rpc_port + i)) "${flags[@]}"
    wait_health "$i"
    peer_id=$(curl -sf "${rpcs[$i]}/health" | json '["peer_id"]')
    boot="${boot:+$boot,}/ip4/127.0.0.1/tcp/$((p2p_port + i))/p2p/$peer_id"
    i=$((i + 1))
  done
fi

"$bin" mock-coordinator --addr "127.0.0.1:$coord_port" --rpc "${rpcs[0]}" --base-path "$base" \
  >"$base/coordinator.log" 2>&1 </dev/null &
pids+=($!)
for _ in $(seq 100); do
  curl -s -o /dev/null "$coord" 2>/dev/null && break
  kill -0 "${pids[-1]}" 2>/dev/null || fail "the mock coordinator exited while starting"
  sleep 0.1
done

# --metrics: a Prometheus scraping every node's /metrics (its own process group like the rest).
if [ -n "$metrics_port" ]; then
  {
    echo "# Written by scripts/devnet_up.sh --metrics"
    echo "global:"
    echo "  scrape_interval: 5s"
    echo "  evaluation_interval: 5s"
    echo "scrape_configs:"
    echo "  - job_name: aitbc-node"
    echo "    metrics_path: /metrics"
    echo "    static_configs:"
    for i in "${!names[@]}"; do
      echo "      - targets: ['${rpcs[$i]#http://}']"
      echo "        labels: {node: '${names[$i]}'}"
    done
  } >"$base/prometheus.yml"
  if command -v promtool >/dev/null && ! out=$(promtool check config "$base/prometheus.yml" 2>&1); then
    echo "$out" >&2
    fail "promtool rejects $base/prometheus.yml"
  fi
  prometheus --config.file="$base/prometheus.yml" --storage.tsdb.path="$base/prometheus" \
    --web.listen-address="127.0.0.1:$metrics_port" >"$base/prometheus.log" 2>&1 </dev/null &
  pids+=($!)
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$metrics_port/-/ready" >/dev/null 2>&1 && break
    kill -0 "${pids[-1]}" 2>/dev/null || fail "prometheus exited while starting"
    sleep 0.1
  done
  curl -sf "http://127.0.0.1:$metrics_port/-/ready" >/dev/null 2>&1 ||
    fail "prometheus did not answer on http://127.0.0.1:$metrics_port/-/ready"
fi

# Wait until every node has a finalized block (the authorities found each other and vote).
echo "waiting for finality on every node…"
for _ in $(seq 120); do
  ok=1
  for r in "${rpcs[@]}"; do
    f=$(finalized "$r" 2>/dev/null || echo 0)
    [ "$f" -ge 1 ] || ok=0
  done
  [ "$ok" = 1 ] && break
  for i in "${!pids[@]}"; do kill -0 "${pids[$i]}" 2>/dev/null || fail "a process exited"; done
  sleep 0.5
done
[ "$ok" = 1 ] || fail "no finalized block on every node after 60 s"

random_rpc() { echo "${rpcs[$((RANDOM % ${#rpcs[@]}))]}"; }
bob=$("$bin" key inspect //bob --json | json '["address"]')
recipients=()
for who in dave eve ferdie; do recipients+=("$("$bin" key inspect "//$who" --json | json '["address"]')"); done

miner_loop() {
  trap - EXIT INT TERM
  set +e
  local job=$(($(date +%s) % 100000 * 10)) rpc out
  while true; do
    job=$((job + 1))
    rpc=$(random_rpc)
    if "$bin" tx open-job --client //bob --job "$job" --price 1000 --rpc "$rpc" \
      --wait finalized >/dev/null 2>&1 &&
      out=$("$bin" tx claim-receipt --miner //ferdie --client "$bob" --job "$job" --units 5 \
        --coordinator "$coord" --rpc "$rpc" --wait finalized 2>&1); then
      echo "miner: claimed job $job via $rpc (block $(echo "$out" | json '["block_height"]' 2>/dev/null || echo '?'))"
    else
      echo "miner: job $job failed: $(echo "${out:-open-job failed}" | tail -n 1)"
    fi
    out=""
    sleep 1
  done
}
client_loop() {
  trap - EXIT INT TERM
  set +e
  local rpc to out
  while true; do
    rpc=$(random_rpc)
    to=${recipients[$((RANDOM % ${#recipients[@]}))]}
    if out=$("$bin" tx transfer --from //charlie --to "$to" --amount 1000 --rpc "$rpc" \
      --wait included --timeout 30 2>&1); then
      echo "client: transfer $(echo "$out" | json '["hash"]' 2>/dev/null || echo '?') included via $rpc (block $(echo "$out" | json '["block_height"]' 2>/dev/null || echo '?'))"
    else
      echo "client: transfer via $rpc failed: $(echo "$out" | tail -n 1)"
    fi
    sleep 1
  done
}
if [ "$loops" = 1 ]; then
  if [ -n "$check" ]; then
    miner_loop >"$base/miner.log" 2>&1 </dev/null &
    pids+=($!)
    client_loop >"$base/client.log" 2>&1 </dev/null &
    pids+=($!)
  else
    miner_loop </dev/null &
    pids+=($!)
    client_loop </dev/null &
    pids+=($!)
  fi
fi

echo "devnet up (base path $base)"
for i in "${!names[@]}"; do
  printf '  %-8s RPC %s   log %s\n' "${names[$i]}" "${rpcs[$i]}" "$base/${names[$i]}.log"
done
echo "  mock coordinator: $coord   (admin token of every node: devtoken)"
if [ -n "$metrics_port" ]; then
  echo "  prometheus: http://127.0.0.1:$metrics_port   (config $base/prometheus.yml, log $base/prometheus.log)"
  echo "  grafana: add a Prometheus data source at http://127.0.0.1:$metrics_port, then import"
  echo "           scripts/grafana/aitbc-node.json (Dashboards > New > Import); see scripts/grafana/README.md"
fi

if [ -z "$check" ]; then
  echo "Ctrl-C stops everything."
  # Returns when a child exits (then stop everything: the devnet is broken) or on a signal.
  wait -n || true
  fail "a devnet process exited"
fi

# --check: finality must advance on every node, a claim and a transfer must land.
declare -a start_fin
for i in "${!rpcs[@]}"; do start_fin[$i]=$(finalized "${rpcs[$i]}"); done
sleep "$check"
ok=1
for i in "${!rpcs[@]}"; do
  f=$(finalized "${rpcs[$i]}" 2>/dev/null || echo 0)
  if [ "$f" -gt "${start_fin[$i]}" ]; then
    echo "ok:   ${names[$i]} finalized #${start_fin[$i]} -> #$f"
  else
    echo "FAIL: ${names[$i]} finalized #${start_fin[$i]} -> #$f"
    ok=0
  fi
done
if [ "$loops" = 1 ]; then
  claims=$(grep -c '^miner: claimed' "$base/miner.log" || true)
  transfers=$(grep -c '^client: transfer .* included' "$base/client.log" || true)
  [ "$claims" -ge 1 ] && echo "ok:   $claims claims finalized" || { echo "FAIL: no claim finalized"; ok=0; }
  [ "$transfers" -ge 1 ] && echo "ok:   $transfers transfers included" ||
    { echo "FAIL: no transfer included"; ok=0; }
fi
[ "$ok" = 1 ] || fail "devnet check failed"
echo "devnet check passed"
