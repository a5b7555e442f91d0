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
# --spec FILE: the dev node starts with `--chain FILE --alice` instead of `--dev` (FILE: a chain
# spec JSON such as `scripts/big_spec.py BINARY N OUT.json` writes, N more endowed accounts and
# the dev accounts; the JSON adds spec). The node then gets up to 10 minutes to answer (a big
# genesis state is built first). Not with --network or --rpc.
# --recipients N (transfers): each transfer goes to a uniformly random one of the first N
# accounts big_spec.py endows (aitbc-load --recipients; without a spec endowing them the
# transfers create them). The table and the JSON add recipients.
# --soak MINUTES: one long transfer flood (aitbc-load --duration MINUTES*60) of one fresh dev (or
# --spec) node, no reads phase; not with --duration, --network, --rpc, --runs > 1 or --claims.
# While it floods, every 60 s from the flood's start, samples the node's finalized height, DB
# size and RSS (/proc/PID/status VmRSS), and once more after it. Then reads every finalized
# block once and prints a per-minute table counted from the blocks of aitbc-load's window
# (first_block..last_block; minute i = the blocks whose slot falls in the i-th 60 s of slot time
# from the first one): finalized txs, sTPS (txs / 60 s, or / the slot time of the last, partial
# minute), blocks, and DB size and RSS from the sample closest to the minute's end. Then the
# sTPS of the first and of the last min(5, MINUTES) whole minutes and their ratio (last/first),
# RSS at the flood's start and after it, DB size after it and DB bytes per finalized
# transaction (all the chain's). Last line, one JSON object: soak_minutes, per_minute
# [{minute, txs, stps, blocks, db_mib, rss_mib, secs}], first5_stps, last5_stps, ratio,
# rss_start_mib, rss_end_mib, db_bytes, db_bytes_per_tx, aitbc-load's stps, p50_ms, p99_ms,
# accounts, first_block, last_block, slot_ms, chain_txs and samples [{t_s (from the flood's
# start), finalized_height, db_mib, rss_mib}].
#
#   scripts/bench.sh [--claims] [--duration S] [--accounts N] [--runs N] [--network]
#                    [--rpc URL --admin-token T] [--read-duration S] [--read-connections C]
#                    [--spec FILE] [--recipients N] [--soak MINUTES]
#                    [--no-build]   (use the binaries already in $CARGO_TARGET_DIR/release)
set -euo pipefail
here=$PWD
cd "$(dirname "$0")/.."

duration=30 accounts="" rpc="" network=0 mode=transfers runs=1 read_duration=5 read_connections=64 no_build=0
spec="" recipients="" soak="" duration_given=0
while [ $# -gt 0 ]; do
  case "$1" in
    --claims) mode=claims; shift ;;
    --runs) runs="$2"; shift 2 ;;
    --read-duration) read_duration="$2"; shift 2 ;;
    --read-connections) read_connections="$2"; shift 2 ;;
    --no-build) no_build=1; shift ;;
    --duration) duration="$2"; duration_given=1; shift 2 ;;
    --accounts) accounts="$2"; shift 2 ;;
    --rpc) rpc="$2"; shift 2 ;;
    --admin-token) shift 2 ;; # funding uses dev-account transfers; no admin call is needed
    --network) network=1; shift ;;
    --spec) spec="$2"; shift 2 ;;
    --recipients) recipients="$2"; shift 2 ;;
    --soak) soak="$2"; shift 2 ;;
    -h|--help) sed -n '2,46p' "$0"; exit 0 ;;
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
if [ -n "$spec" ]; then
  if [ "$network" = 1 ] || [ -n "$rpc" ]; then
    echo "bench.sh: --spec starts the dev node on its own chain spec; it does not take --network or --rpc" >&2
    exit 2
  fi
  case "$spec" in /*) ;; *) spec="$here/$spec" ;; esac
  [ -f "$spec" ] || { echo "bench.sh: --spec: no file $spec" >&2; exit 2; }
fi
if [ -n "$recipients" ]; then
  case "$recipients" in *[!0-9]*|0) echo "bench.sh: --recipients takes a positive number" >&2; exit 2 ;; esac
  if [ "$mode" = claims ]; then
    echo "bench.sh: --recipients is for transfers; it does not take --claims" >&2
    exit 2
  fi
fi
if [ -n "$soak" ]; then
  case "$soak" in *[!0-9]*|0) echo "bench.sh: --soak takes a positive number of minutes" >&2; exit 2 ;; esac
  if [ "$network" = 1 ] || [ -n "$rpc" ] || [ "$runs" -gt 1 ] || [ "$mode" = claims ] || [ "$duration_given" = 1 ]; then
    echo "bench.sh: --soak floods one fresh dev node for MINUTES; it does not take --network, --rpc, --runs > 1, --claims or --duration" >&2
    exit 2
  fi
  duration=$((soak * 60))
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
sampler_pid=""
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
  if [ -n "$sampler_pid" ]; then kill "$sampler_pid" 2>/dev/null || true; fi
  stop_nodes
  rm -rf "$out"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# Tries of wait_health, 0.1 s apart: 30 s, or 10 minutes for a --spec node (a big spec's
# genesis state is built before the RPC answers: ~6 s for 1M accounts, much longer for 10M).
health_tries=300
if [ -n "$spec" ]; then health_tries=6000; fi
wait_health() { # URL PID LOG
  for _ in $(seq "$health_tries"); do
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
# The dev node: --dev, or with --spec that chain authored by //alice.
start_dev() {
  if [ -n "$spec" ]; then
    echo "starting the node on $spec (it may take up to 10 minutes to answer)" >&2
    start dev --chain "$spec" --alice --no-p2p
  else
    start dev --dev --no-p2p
  fi
}
# The database files' bytes: every *.redb under the nodes' base path (the largest node's).
db_bytes() {
  [ -n "$base" ] || { echo 0; return; }
  local best=0 dir sum
  for dir in "$base"/*/; do
    sum=$(find "$dir" -name '*.redb' -type f -printf '%s\n' 2>/dev/null | awk '{s+=$1} END {printf "%.0f\n", s}')
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
      start_dev
    fi
    url=$(IFS=,; echo "${rpcs[*]}")
  fi
  local pid_list
  pid_list=$(IFS=,; echo "${pids[*]}")
  echo "== run $n/$runs: write phase ($mode, $duration s)" >&2
  "$bin/aitbc-load" --mode "$mode" --rpc "$url" --duration "$duration" \
    ${accounts:+--accounts "$accounts"} ${recipients:+--recipients "$recipients"} \
    ${pid_list:+--node-pid "$pid_list"} | tee "$out/write-$n.txt" >&2
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

# sample URL PID: one line "unix_ms finalized_height db_bytes rss_kib" (null when unknown).
sample() {
  local t fin rss
  t=$(date +%s%3N)
  fin=$(curl -sf --max-time 20 "$1/rpc/getHead" | python3 -c 'import json,sys; print(json.load(sys.stdin)["finalized_height"])' 2>/dev/null) || fin=""
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$2/status" 2>/dev/null) || rss=""
  echo "$t ${fin:-null} $(db_bytes) ${rss:-null}"
}
# sampler URL PID LOAD_STDERR SAMPLES STOP: waits for aitbc-load's "flooding for" line (on its
# stderr), then samples at once and every 60 s after it until the file STOP exists.
sampler() {
  local t0 k=0
  until grep -q 'flooding for' "$3" 2>/dev/null; do
    [ -e "$5" ] && return 0
    sleep 0.2
  done
  t0=$(date +%s%3N)
  while :; do
    sample "$1" "$2" >>"$4"
    k=$((k + 1))
    while [ "$(date +%s%3N)" -lt $((t0 + 60000 * k)) ]; do
      [ -e "$5" ] && return 0
      sleep 1
    done
  done
}

# --soak: one long flood of a fresh node, sampled; then the per-minute table from its blocks.
soak_run() {
  rpcs=()
  base=$(mktemp -d)
  start_dev
  local url=${rpcs[0]} pid=${pids[0]}
  echo "== soak: write phase (transfers, $soak min)" >&2
  sampler "$url" "$pid" "$out/load-stderr.txt" "$out/samples.txt" "$out/soak-stop" &
  sampler_pid=$!
  "$bin/aitbc-load" --mode transfers --rpc "$url" --duration "$duration" \
    ${accounts:+--accounts "$accounts"} ${recipients:+--recipients "$recipients"} --node-pid "$pid" \
    2> >(tee "$out/load-stderr.txt" >&2) | tee "$out/write.txt" >&2
  touch "$out/soak-stop"
  wait "$sampler_pid" || true
  sampler_pid=""
  sample "$url" "$pid" >>"$out/samples.txt" # after the flood
  echo "== soak: reading the finalized blocks" >&2
  python3 - "$out/write.txt" "$out/samples.txt" "$url" "$soak" "$recipients" "$spec" <<'PY'
import http.client, json, sys, urllib.parse
write, samples_path, url, minutes, recipients, spec = sys.argv[1:7]
minutes = int(minutes)
w = json.loads(open(write).read().strip().splitlines()[-1])
def num(v):
    return None if v == "null" else int(v)
samples = [dict(zip(("t_ms", "finalized_height", "db_bytes", "rss_kib"), map(num, line.split())))
           for line in open(samples_path) if line.strip()]
# At the flood's start (the first sample) and after the flood (the last one).
start, end = samples[0], samples[-1]
first, last = w["first_block"], w["last_block"]
if not first:
    sys.exit("bench.sh: the flood finalized no block")
top = max(last, end["finalized_height"] or 0)

# Every finalized block, once, over one keep-alive connection (a full block is MBs of JSON).
u = urllib.parse.urlsplit(url)
conn = None
def get(path):
    global conn
    for attempt in range(3):
        try:
            if conn is None:
                conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
            conn.request("GET", path)
            r = conn.getresponse()
            body = r.read()
        except (http.client.HTTPException, OSError):
            if conn is not None:
                conn.close()
            conn = None
            if attempt == 2:
                raise
            continue
        if r.status != 200:
            sys.exit(f"bench.sh: GET {path}: HTTP {r.status}: {body[:200]!r}")
        return json.loads(body)
window = []  # (slot, timestamp_ms, txs) of the flood window's blocks
chain_txs = 0  # every transaction finalized on the chain (funding included), for DB bytes per tx
for n in range(1, top + 1):
    b = get(f"/rpc/getBlock/{n}")
    txs = len(b["transactions"])
    chain_txs += txs
    if first <= n <= last:
        window.append((b["slot"], b["timestamp_ms"], txs))
if conn is not None:
    conn.close()

# Minute i: the blocks whose slot falls in [s0 + i min, s0 + (i+1) min) of slot time, a block
# standing for its slot; the last minute ends with the window's last slot.
s0, t0 = window[0][0], window[0][1]
slot_ms = max(t0 // s0, 1) if s0 else 1000
span_ms = (window[-1][0] - s0 + 1) * slot_ms
per = [{"txs": 0, "blocks": 0} for _ in range(-(-span_ms // 60000))]
for slot, _, txs in window:
    m = per[(slot - s0) * slot_ms // 60000]
    m["txs"] += txs
    m["blocks"] += 1
def mib(b):
    return None if b is None else round(b / 2**20, 1)
def rss_mib(s):
    return None if s["rss_kib"] is None else round(s["rss_kib"] / 1024, 1)
per_minute = []
for i, m in enumerate(per):
    ms = min(60000, span_ms - i * 60000)
    # Block timestamps are slot times on the wall clock the samples were taken with.
    s = min(samples, key=lambda s: abs(s["t_ms"] - (t0 + i * 60000 + ms)))
    per_minute.append({"minute": i + 1, "txs": m["txs"], "stps": round(m["txs"] * 1000 / ms),
                       "blocks": m["blocks"], "db_mib": mib(s["db_bytes"]), "rss_mib": rss_mib(s),
                       "secs": ms / 1000})
whole = [m for m in per_minute if m["secs"] == 60]
k = min(5, minutes, len(whole))
first5 = round(sum(m["txs"] for m in whole[:k]) / (60 * k)) if k else None
last5 = round(sum(m["txs"] for m in whole[-k:]) / (60 * k)) if k else None
ratio = round(last5 / first5, 3) if first5 else None
db_end = end["db_bytes"]
res = {"soak_minutes": minutes, "per_minute": per_minute, "first5_stps": first5,
       "last5_stps": last5, "ratio": ratio, "rss_start_mib": rss_mib(start),
       "rss_end_mib": rss_mib(end), "db_bytes": db_end,
       "db_bytes_per_tx": round(db_end / chain_txs) if db_end and chain_txs else None,
       "stps": w["stps"], "p50_ms": w["p50_ms"], "p99_ms": w["p99_ms"],
       "accounts": w["accounts"], "first_block": first, "last_block": last, "slot_ms": slot_ms,
       "chain_txs": chain_txs,
       "samples": [{"t_s": round((s["t_ms"] - start["t_ms"]) / 1000, 1),
                    "finalized_height": s["finalized_height"], "db_mib": mib(s["db_bytes"]),
                    "rss_mib": rss_mib(s)} for s in samples]}
if recipients:
    res["recipients"] = w.get("recipients")
if spec:
    res["spec"] = spec

def f(v, fmt="{:.0f}"):
    return "n/a" if v is None else fmt.format(v)
print("| minute | finalized txs | sTPS | blocks | DB (MiB) | RSS (MiB) |")
print("|---|---|---|---|---|---|")
for m in per_minute:
    label = str(m["minute"]) if m["secs"] == 60 else f"{m['minute']} ({m['secs']:.0f} s)"
    print(f"| {label} | {m['txs']} | {m['stps']} | {m['blocks']} | {f(m['db_mib'], '{:.1f}')} | {f(m['rss_mib'])} |")
print()
def minutes_of(ms):
    return f"minute {ms[0]['minute']}" if len(ms) == 1 else f"minutes {ms[0]['minute']}..{ms[-1]['minute']}"
print("| metric | value |")
print("|---|---|")
print(f"| accounts | {res['accounts']} |")
if recipients:
    print(f"| recipients (uniformly random of big_spec.py's first N accounts) | {res['recipients']} |")
if spec:
    print(f"| chain spec | {spec} |")
print(f"| window | #{first} .. #{last} ({span_ms // slot_ms} slots of {slot_ms} ms) |")
print(f"| first {k} whole minutes' sTPS{' (' + minutes_of(whole[:k]) + ')' if k else ''} | {f(first5)} |")
print(f"| last {k} whole minutes' sTPS{' (' + minutes_of(whole[-k:]) + ')' if k else ''} | {f(last5)} |")
print(f"| ratio last / first | {f(ratio, '{:.3f}')} |")
print(f"| node RSS at the flood's start / after it | {f(res['rss_start_mib'])} MiB / {f(res['rss_end_mib'])} MiB |")
print(f"| DB size after the flood | {f(mib(db_end), '{:.1f}')} MiB |")
print(f"| DB bytes per finalized transaction (db files / all {chain_txs} txs on chain, funding included) | {f(res['db_bytes_per_tx'])} |")
print(f"| aitbc-load: sustained finalized sTPS | {f(res['stps'])} |")
print(f"| aitbc-load: submit->finalized p50 / p99 | {f(res['p50_ms'])} ms / {f(res['p99_ms'])} ms |")
print(json.dumps(res))
PY
  stop_nodes
}

if [ -n "$soak" ]; then
  soak_run
  exit 0
fi

for n in $(seq "$runs"); do run "$n"; done

python3 - "$out" "$runs" "$mode" "$network" "$recipients" "$spec" <<'PY'
import json, statistics, sys
out, runs, mode, network = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4] == "1"
recipients, spec = sys.argv[5], sys.argv[6]
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
if recipients:
    res["recipients"] = per_run[0].get("recipients")
if spec:
    res["spec"] = spec
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
if recipients:
    print(f"| recipients (uniformly random of big_spec.py's first N accounts) | {res['recipients']} |")
if spec:
    print(f"| chain spec | {spec} |")
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
