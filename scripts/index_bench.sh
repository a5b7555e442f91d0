#!/usr/bin/env bash
# Benchmark of the PostgreSQL indexer (`aitbc-node index`), node, indexer and PostgreSQL on this
# machine:
#
# 1. catch-up: a release dev node whose chain holds at least --txs transactions (built on first
#    use with aitbc-load: transfers, then a short run of receipt claims; kept in --base-path for
#    later runs), indexed from genesis into a fresh database with `--until` its finalized head:
#    transactions/s and blocks/s, the indexer's peak RSS, the database's size;
# 2. follow (--follow SECS, 0 = skip): on a fresh dev node, an indexer follows from genesis
#    while aitbc-load floods the node (the load scripts/bench.sh makes) for SECS seconds: the
#    flood's sTPS, the indexer's lag behind the finalized head, sampled every second, and the lag
#    5 s after the flood.
#
# Needs a local PostgreSQL (scripts/postgres_up.sh, as root). Prints a table, then one JSON line.
#
#   scripts/index_bench.sh [--txs N] [--base-path DIR] [--follow SECS] [--no-build]
#
#   --txs N          transactions the chain must hold (default 1000000)
#   --base-path DIR  the node's chain (default /tmp/aitbc-index-bench; reused when it holds enough)
#   --follow SECS    seconds of flood for the follow phase (default 60)
#   --no-build       use the binaries already in $CARGO_TARGET_DIR/release
set -euo pipefail
cd "$(dirname "$0")/.."

txs=1000000 base=/tmp/aitbc-index-bench follow=60 no_build=0
while [ $# -gt 0 ]; do
  case "$1" in
    --txs) txs="$2"; shift 2 ;;
    --base-path) base="$2"; shift 2 ;;
    --follow) follow="$2"; shift 2 ;;
    --no-build) no_build=1; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "index_bench.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

[ "$no_build" = 1 ] || cargo build --release -q -p aitbc-node -p aitbc-benches
bin="${CARGO_TARGET_DIR:-target}/release"
mkdir -p "$base"
base=$(cd "$base" && pwd)
db="aitbc_index_bench_$$"
pg="host=/var/run/postgresql dbname=$db"
psql -h /var/run/postgresql -d postgres -qAtc 'SELECT 1' >/dev/null \
  || { echo "index_bench.sh: no PostgreSQL on /var/run/postgresql (scripts/postgres_up.sh)" >&2; exit 2; }

pids=()
stop() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  for d in "$db" "${db}_follow"; do
    psql -h /var/run/postgresql -d postgres -qc "DROP DATABASE IF EXISTS $d WITH (FORCE)" >/dev/null 2>&1
  done
  [ -z "${fresh:-}" ] || rm -rf "$fresh"
  exit "$rc"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start_dev BASE: a release dev node on free ports with its chain in BASE; sets $started_rpc.
start_dev() {
  local dir=$1 port p2p pid
  read -r port p2p < <(python3 -c '
import socket
a, b = socket.socket(), socket.socket()
a.bind(("127.0.0.1", 0)); b.bind(("127.0.0.1", 0))
print(a.getsockname()[1], b.getsockname()[1])')
  started_rpc="http://127.0.0.1:$port"
  "$bin/aitbc-node" --dev --base-path "$dir" --rpc-addr "127.0.0.1:$port" \
    --p2p-addr "/ip4/127.0.0.1/tcp/$p2p" --log warn >"$dir/node.log" 2>&1 &
  pid=$!
  pids+=("$pid")
  until curl -sf "$started_rpc/health" >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || { echo "index_bench.sh: the node exited (see $dir/node.log)" >&2; exit 1; }
    sleep 0.2
  done
}

start_dev "$base"
rpc=$started_rpc
# finalized URL: the node's finalized height.
finalized() { curl -sf "$1/rpc/getHead" | python3 -c "import json,sys; print(json.load(sys.stdin)['finalized_height'])"; }

# The chain's transactions so far (kept beside it: counting them would take a pass over it).
count_file="$base/bench-txs"
have=$(cat "$count_file" 2>/dev/null || echo 0)
if [ "$have" -lt "$txs" ]; then
  secs=$(( (txs - have) / 7000 + 10 ))
  echo "building the chain: ~$((txs - have)) more transfers (${secs} s of aitbc-load), then claims"
  "$bin/aitbc-load" --rpc "$rpc" --duration "$secs" >"$base/load.json" 2>"$base/load.log"
  "$bin/aitbc-load" --rpc "$rpc" --mode claims --duration 10 >"$base/claims.json" 2>"$base/claims.log"
  # Every transaction of the chain, from the blocks (one JSON-RPC batch of getBlock per 500).
  have=$(python3 - "$rpc" "$(finalized "$rpc")" <<'EOF'
import json, sys, urllib.request
rpc, top = sys.argv[1], int(sys.argv[2])
total = 0
for start in range(0, top + 1, 500):
    calls = [{"jsonrpc": "2.0", "id": h, "method": "getBlock", "params": [str(h)]}
             for h in range(start, min(top, start + 499) + 1)]
    req = urllib.request.Request(rpc + "/rpc", json.dumps(calls).encode(),
                                 {"Content-Type": "application/json"})
    for answer in json.load(urllib.request.urlopen(req)):
        total += answer["result"]["tx_count"]
print(total)
EOF
)
  echo "$have" >"$count_file"
fi
top=$(finalized "$rpc")
echo "chain: $have transactions in $top finalized blocks"

psql -h /var/run/postgresql -d postgres -qc "CREATE DATABASE $db" >/dev/null
start=$(date +%s.%N)
/usr/bin/time -f '%M' -o "$base/index.rss" \
  "$bin/aitbc-node" index --rpc "$rpc" --postgres "$pg" --until "$top" --log warn
end=$(date +%s.%N)
q() { psql -h /var/run/postgresql -d "$db" -qAtc "$1"; }
rows_tx=$(q "SELECT count(*) FROM transactions")
rows_ev=$(q "SELECT count(*) FROM events")
rows_bl=$(q "SELECT count(*) FROM blocks")
size=$(q "SELECT pg_database_size(current_database())")
rss_kib=$(cat "$base/index.rss")
read -r secs tps bps < <(python3 -c "
s = $end - $start
print(f'{s:.1f}', f'{$rows_tx / s:.0f}', f'{$rows_bl / s:.0f}')")

# Follow: a fresh dev node (as scripts/bench.sh floods one), its indexer following into a
# database of its own from the start.
lag_max=0 lag_after=0 follow_txs=0 follow_stps=0
if [ "$follow" -gt 0 ]; then
  fresh=$(mktemp -d -t aitbc-index-follow.XXXXXX)
  start_dev "$fresh"
  frpc=$started_rpc
  fdb="${db}_follow"
  psql -h /var/run/postgresql -d postgres -qc "CREATE DATABASE $fdb" >/dev/null
  fq() { psql -h /var/run/postgresql -d "$fdb" -qAtc "$1"; }
  "$bin/aitbc-node" index --rpc "$frpc" --postgres "host=/var/run/postgresql dbname=$fdb" --log warn &
  pids+=("$!")
  until [ "$(fq "SELECT height FROM indexer_state" 2>/dev/null || echo -1)" -ge 0 ] 2>/dev/null; do sleep 0.2; done
  "$bin/aitbc-load" --rpc "$frpc" --duration "$follow" >"$base/follow-load.json" 2>"$base/follow-load.log" &
  load=$!
  while kill -0 "$load" 2>/dev/null; do
    lag=$(( $(finalized "$frpc") - $(fq "SELECT height FROM indexer_state") ))
    [ "$lag" -le "$lag_max" ] || lag_max=$lag
    sleep 1
  done
  wait "$load"
  sleep 5
  lag_after=$(( $(finalized "$frpc") - $(fq "SELECT height FROM indexer_state") ))
  [ "$lag_after" -ge 0 ] || lag_after=0  # the head was read before the indexer's last write
  follow_txs=$(fq "SELECT count(*) FROM transactions")
  follow_stps=$(tail -n 1 "$base/follow-load.json" | python3 -c 'import json,sys; print(round(json.load(sys.stdin)["stps"]))')
fi

printf '%-34s %s\n' \
  "transactions indexed" "$rows_tx (events $rows_ev, blocks $rows_bl)" \
  "catch-up" "$secs s: $tps tx/s, $bps blocks/s" \
  "indexer peak RSS" "$((rss_kib / 1024)) MiB" \
  "database size" "$((size / 1048576)) MiB ($((size / (rows_tx > 0 ? rows_tx : 1))) B/tx)" \
  "follow: flood of a fresh dev node" "${follow} s at $follow_stps sTPS, $follow_txs transactions indexed" \
  "follow: lag (max during, 5 s after)" "$lag_max, $lag_after blocks"
printf '{"transactions":%s,"events":%s,"blocks":%s,"catch_up_s":%s,"tx_per_s":%s,"blocks_per_s":%s,"rss_mib":%s,"db_bytes":%s,"follow_s":%s,"follow_stps":%s,"follow_txs":%s,"lag_max":%s,"lag_after":%s}\n' \
  "$rows_tx" "$rows_ev" "$rows_bl" "$secs" "$tps" "$bps" "$((rss_kib / 1024))" "$size" "$follow" "$follow_stps" "$follow_txs" "$lag_max" "$lag_after"
