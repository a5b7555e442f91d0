#!/usr/bin/env bash
# Crash test: SIGKILL nodes under transfer load at random moments, restart them on the same base
# path, and check after every restart that
#   - the database opens (the node answers),
#   - the finalized head never moved back (same hash at the old finalized height, height not lower),
#   - every transaction seen finalized before the kill is still finalized in the same block,
#   - the chain moves on (finality advances past the old head);
# and, every --check-every kills and at the end, stop the node cleanly and run
# `aitbc-node check-db` on its database (re-execution of the whole chain, txs index, issuance).
# The last line is `survived K of N kills`; exits 0 only if every kill was survived.
#
#   scripts/chaos.sh [--kills N] [--network] [--debug | --bin PATH] [--senders N]
#                    [--check-every K] [--seed S] [--keep]
#
#   --kills N        kills (default 5)
#   --network        the 4-authority `local` network on this machine; authorities are killed in
#                    turn, one at a time (3 of 4 keep finalizing); after each restart the
#                    finalized chain must agree on every node; check-db on every killed node's
#                    database at the end
#   --debug          use the debug binary (`cargo build -p aitbc-node`, already built by the test
#                    run in CI) instead of a release build; --bin PATH uses that binary as is
#   --senders N      parallel transfer loops (default 4, from //bob //charlie //eve //ferdie …)
#   --check-every K  check-db every K kills (default 5; 0: only at the end)
#   --seed S         seed of the kill timing (default: random, printed)
#   --keep           keep the base path and logs
#
# Builds into $CARGO_TARGET_DIR when set (default ./target).
set -euo pipefail
cd "$(dirname "$0")/.."

kills=5 network=0 profile=release bin="" senders=4 check_every=5 seed="" keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --kills) kills="$2"; shift 2 ;;
    --network) network=1; shift ;;
    --debug) profile=debug; shift ;;
    --bin) bin="$2"; shift 2 ;;
    --senders) senders="$2"; shift 2 ;;
    --check-every) check_every="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
    *) echo "chaos.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
for n in "$kills" "$senders" "$check_every"; do
  [[ "$n" =~ ^[0-9]+$ ]] || { echo "chaos.sh: not a number: $n" >&2; exit 2; }
done
[ -n "$seed" ] || seed=$((RANDOM * 32768 + RANDOM))
RANDOM=$seed

if [ -z "$bin" ]; then
  if [ "$profile" = release ]; then
    cargo build --release -q -p aitbc-node
  else
    cargo build -q -p aitbc-node
  fi
  bin="${CARGO_TARGET_DIR:-target}/$profile/aitbc-node"
fi
[ -x "$bin" ] || { echo "chaos.sh: no binary at $bin" >&2; exit 2; }
base=$(mktemp -d -t aitbc-chaos.XXXXXX)
started=$(date +%s)

set -m # every child in its own process group, so a loop and its running `tx` stop together
node_pid=() load_pids=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  for p in "${load_pids[@]}" "${node_pid[@]}"; do [ -n "$p" ] && kill -KILL -- "-$p" 2>/dev/null; done
  wait 2>/dev/null
  if [ "$keep" = 1 ] || [ "$rc" != 0 ]; then echo "chaos.sh: logs and databases kept in $base" >&2
  else rm -rf "$base"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# JSON checks in one Python process each (many getTx calls are cheap there).
helper="$base/chaos.py"
cat >"$helper" <<'EOF'
import json, sys, urllib.request

def get(url, path):
    try:
        with urllib.request.urlopen(url + path, timeout=5) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        return {"http_status": e.code}

cmd, url = sys.argv[1], sys.argv[2]
if cmd == "head":  # finalized height and hash, best height
    h = get(url, "/rpc/getHead")
    print(h["finalized_height"], h["finalized_hash"], h["height"])
elif cmd == "block":  # hash at a height
    print(get(url, "/rpc/getBlock/" + sys.argv[3]).get("hash", "missing"))
elif cmd == "record":  # record finalized txs among the last sent ones: "hash block_hash height"
    out, sent = sys.argv[3], sys.argv[4:]
    known = set()
    try:
        known = {l.split()[0] for l in open(out)}
    except FileNotFoundError:
        pass
    with open(out, "a") as f:
        for path in sent:
            try:
                # The newest are still pending: sample the last 120 sent, every 6th.
                hashes = [l.strip() for l in open(path) if l.strip()][-120::6]
            except FileNotFoundError:
                continue
            for h in hashes:
                if h in known:
                    continue
                t = get(url, "/rpc/getTx/" + h)
                if t.get("status") == "finalized":
                    f.write("%s %s %s\n" % (h, t["block_hash"], t["block_height"]))
elif cmd == "agree":  # agree FILE URL...: the nodes agree on every recorded finalized block
    path, urls = sys.argv[3], [url] + sys.argv[4:]
    low = min(get(u, "/rpc/getHead")["finalized_height"] for u in urls)
    seen = {int(h): b for h, b in (l.split() for l in open(path))}
    seen.setdefault(low, get(urls[0], "/rpc/getBlock/%d" % low).get("hash"))
    for h, b in sorted(seen.items()):
        for u in urls:
            got = get(u, "/rpc/getBlock/%d" % h).get("hash")
            if got != b:
                print("%s: finalized block #%d was %s, now %s" % (u, h, b, got))
                sys.exit(1)
    with open(path, "a") as f:
        f.write("%d %s\n" % (low, seen[low]))
    print(low)
elif cmd == "verify":  # every recorded tx still finalized in the same block
    n = 0
    for line in open(sys.argv[3]):
        h, block, height = line.split()
        t = get(url, "/rpc/getTx/" + h)
        if t.get("status") != "finalized" or t.get("block_hash") != block:
            print("tx %s was finalized in #%s %s, now %s %s" % (h, height, block,
                  t.get("status", t.get("http_status")), t.get("block_hash")))
            sys.exit(1)
        n += 1
    print(n)
EOF
py() { python3 "$helper" "$@"; }

# --- nodes ------------------------------------------------------------------------------------
# Node i: name, RPC URL, base path, start flags.
names=() rpcs=() bases=() p2p=()
if [ "$network" = 1 ]; then
  chain=local
  for who in alice bob charlie dave; do
    i=${#names[@]}
    names+=("$who"); rpcs+=("http://127.0.0.1:$(free_port)"); bases+=("$base/$who")
    p2p[$i]=$(free_port)
  done
else
  chain=dev
  names=(dev); rpcs=("http://127.0.0.1:$(free_port)"); bases=("$base/dev")
fi
peer_ids=()

start_node() {
  local i=$1 port=${rpcs[$1]##*:} args=()
  if [ "$network" = 1 ]; then
    args=(--chain local "--${names[$i]}" --p2p-addr "/ip4/127.0.0.1/tcp/${p2p[$i]}")
    local boot="" j
    for j in "${!names[@]}"; do
      [ "$j" != "$i" ] && [ -n "${peer_ids[$j]:-}" ] &&
        boot="${boot:+$boot,}/ip4/127.0.0.1/tcp/${p2p[$j]}/p2p/${peer_ids[$j]}"
    done
    [ -z "$boot" ] || args+=(--bootnodes "$boot")
  else
    args=(--dev --no-p2p)
  fi
  "$bin" "${args[@]}" --base-path "${bases[$i]}" --rpc-addr "127.0.0.1:$port" \
    --name "${names[$i]}" --log warn >>"$base/${names[$i]}.log" 2>&1 </dev/null &
  node_pid[$i]=$!
  for _ in $(seq 300); do
    if curl -sf "${rpcs[$i]}/health" >/dev/null 2>&1; then
      [ "$network" = 0 ] || peer_ids[$i]=$(curl -sf "${rpcs[$i]}/health" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["peer_id"])')
      return 0
    fi
    kill -0 "${node_pid[$i]}" 2>/dev/null || break
    sleep 0.1
  done
  fail "${names[$i]} did not come up (database did not open?)"
}

stop_node() { # SIGTERM and wait: a clean stop
  local i=$1
  kill -TERM -- "-${node_pid[$i]}" 2>/dev/null || true
  wait "${node_pid[$i]}" 2>/dev/null || true
  node_pid[$i]=""
}

kill_node() {
  local i=$1
  kill -KILL -- "-${node_pid[$i]}" 2>/dev/null || true
  wait "${node_pid[$i]}" 2>/dev/null || true
  node_pid[$i]=""
}

fail() {
  echo "chaos.sh: FAIL: $*" >&2
  for n in "${names[@]}"; do
    [ -f "$base/$n.log" ] && { echo "--- last lines of $n.log" >&2; tail -n 8 "$base/$n.log" >&2; }
  done
  echo "survived $survived of $kills kills"
  exit 1
}

check_db() {
  local i=$1 out
  if out=$("$bin" check-db --chain "$chain" --base-path "${bases[$i]}" 2>&1); then
    echo "  check-db ${names[$i]}: $out"
  else
    fail "check-db ${names[$i]}: $out"
  fi
}

# Waits (up to $2 s) until node $1 finalizes above height $3.
wait_finalized_above() {
  local i=$1 secs=$2 above=$3 f
  for _ in $(seq $((secs * 5))); do
    f=$(py head "${rpcs[$i]}" 2>/dev/null | cut -d' ' -f1) || f=""
    [ -n "$f" ] && [ "$f" -gt "$above" ] && return 0
    sleep 0.2
  done
  return 1
}

# --- load -------------------------------------------------------------------------------------
all_senders=(bob charlie eve ferdie dave alice)
recipient=$("$bin" key inspect //chaos-recipient --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["address"])')
load_loop() { # sender, node index
  trap - EXIT INT TERM
  set +e
  local who=$1 i=$2 out
  while true; do
    if out=$("$bin" tx transfer --from "//$who" --to "$recipient" --amount 1 --rpc "${rpcs[$i]}" \
      --timeout 5 2>/dev/null); then
      out=${out##*\"txHash\":\"}
      echo "${out%%\"*}" >>"$base/sent.$who"
    else
      sleep 0.2
    fi
  done
}

survived=0 low=""
for i in "${!names[@]}"; do start_node "$i"; done
if [ "$network" = 1 ]; then
  # Later nodes booted from the earlier ones; wait until every node finalizes.
  for i in "${!names[@]}"; do
    wait_finalized_above "$i" 90 0 || fail "${names[$i]}: no finality after 90 s"
  done
fi
[ "$senders" -le ${#all_senders[@]} ] || senders=${#all_senders[@]}
for s in $(seq 0 $((senders - 1))); do
  load_loop "${all_senders[$s]}" $((s % ${#names[@]})) </dev/null >/dev/null 2>&1 &
  load_pids+=($!)
done
echo "chaos: $kills kills, chain $chain (${#names[@]} node(s)), $senders senders, $bin, seed $seed, base $base"

txs_sent() { cat "$base"/sent.* 2>/dev/null | wc -l; }

# Every finalized (height, hash) seen: must hold on every node for good.
finalized_seen="$base/finalized-blocks"
: >"$finalized_seen"

for k in $(seq "$kills"); do
  victim=$(( (k - 1) % ${#names[@]} ))
  sleep "$((1 + RANDOM % 3)).$((RANDOM % 10))"
  # Just before the kill: what the victim reports finalized (head and some transactions).
  read -r fin fin_hash best < <(py head "${rpcs[$victim]}") || fail "kill $k: ${names[$victim]} does not answer"
  echo "$fin $fin_hash" >>"$finalized_seen"
  py record "${rpcs[$victim]}" "$base/finalized-txs" "$base"/sent.* || true
  sent_before=$(txs_sent)
  kill_node "$victim"
  if [ "$network" = 1 ]; then
    # The others keep finalizing while it is down.
    other=$(( (victim + 1) % ${#names[@]} ))
    read -r ofin _ _ < <(py head "${rpcs[$other]}")
    wait_finalized_above "$other" 30 "$ofin" ||
      fail "kill $k: finality stopped on ${names[$other]} with ${names[$victim]} down"
  fi
  start_node "$victim"
  read -r fin2 _ best2 < <(py head "${rpcs[$victim]}")
  [ "$fin2" -ge "$fin" ] || fail "kill $k: finalized height moved back #$fin -> #$fin2"
  got=$(py block "${rpcs[$victim]}" "$fin")
  [ "$got" = "$fin_hash" ] || fail "kill $k: finalized block #$fin was $fin_hash, now $got"
  touch "$base/finalized-txs"
  ntx=$(py verify "${rpcs[$victim]}" "$base/finalized-txs") || fail "kill $k: $ntx"
  wait_finalized_above "$victim" 60 "$fin" || fail "kill $k: ${names[$victim]} does not finalize past #$fin after the restart"
  if [ "$network" = 1 ]; then
    # Every node agrees on the finalized chain: each finalized block recorded so far, and the
    # lowest finalized head now.
    low=$(py agree "${rpcs[@]:0:1}" "$finalized_seen" "${rpcs[@]:1}") || fail "kill $k: $low"
  fi
  survived=$((survived + 1))
  echo "kill $k: ${names[$victim]} killed at best #$best finalized #$fin; restarted at best #$best2, finalized #$fin2 intact; $ntx finalized txs intact${low:+, all nodes agree up to #$low}; $sent_before txs sent so far"
  if [ "$network" = 0 ] && [ "$check_every" -gt 0 ] && [ $((k % check_every)) = 0 ] && [ "$k" != "$kills" ]; then
    stop_node 0
    check_db 0
    start_node 0
  fi
done

{
  for p in "${load_pids[@]}"; do kill -KILL -- "-$p" || true; done
  wait "${load_pids[@]}" || true
} 2>/dev/null
load_pids=()
for i in "${!names[@]}"; do stop_node "$i"; done
for i in "${!names[@]}"; do
  if [ "$network" = 0 ] || [ "$i" -lt "$kills" ]; then check_db "$i"; fi
done
echo "$(txs_sent) transfers sent, $(wc -l <"$base/finalized-txs") recorded finalized and checked, $(($(date +%s) - started)) s"
echo "survived $survived of $kills kills"
[ "$survived" = "$kills" ]
