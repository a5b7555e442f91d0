#!/usr/bin/env bash
# Network partitions with real processes: the four `local` authorities (//alice..//dave), each in
# its own network namespace on one bridge, under transfer load; partitions are made by moving
# bridge ports to a second bridge and healed by moving them back. Checked all along:
#   - safety: no two nodes ever report different finalized blocks at one height (every
#     finalized head seen is checked against every node that has finalized that far);
#   - liveness: after every heal, every node finalizes above the highest block finalized
#     anywhere before the heal within --resume-slots slots (default 10);
#   - the mesh: after every heal every node is connected to all three others again (known
#     peers are redialed; peers beyond the boot node are learned by peer exchange).
# Each node boots from alice only. The last line is `partitions: N of N healed in time`; exits 0
# only if every check held.
#
#   scripts/partition.sh [--short] [--schedule LIST] [--split S] [--debug | --bin PATH]
#                        [--senders N] [--resume-slots K] [--keep]
#
#   --schedule LIST  comma-separated splits, each `A+B|C+D` by name initials (a b c d), e.g.
#                    `ab|cd,abc|d,ac|bd,bcd|a,abd|c` (the default: 2|2, then 3|1, then repeated
#                    splits with other sides)
#   --short          CI's form: `ab|cd,abc|d` with 8 s splits
#   --split S        seconds each partition lasts (default 20)
#   --debug          use the debug binary (built by the test run in CI); --bin PATH: that binary
#   --senders N      transfer loops spread over the nodes (default 4)
#   --resume-slots K slots after a heal within which finality must pass the pre-heal maximum
#   --keep           keep the base path and logs
#   --log FILTER     the nodes' log filter (default info; e.g. info,finality=debug)
#
# Needs root (ip netns, veth, bridges); all traffic stays inside the namespaces and bridges it
# creates, which are removed on exit. Builds into $CARGO_TARGET_DIR when set (default ./target).
set -euo pipefail
cd "$(dirname "$0")/.."

schedule="ab|cd,abc|d,ac|bd,bcd|a,abd|c" split=20 profile=release bin="" senders=4 resume=10 keep=0
log=info
while [ $# -gt 0 ]; do
  case "$1" in
    --short) schedule="ab|cd,abc|d"; split=8; shift ;;
    --schedule) schedule="$2"; shift 2 ;;
    --split) split="$2"; shift 2 ;;
    --debug) profile=debug; shift ;;
    --bin) bin="$2"; shift 2 ;;
    --senders) senders="$2"; shift 2 ;;
    --resume-slots) resume="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    --log) log="$2"; shift 2 ;;
    -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
    *) echo "partition.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
for n in "$split" "$senders" "$resume"; do
  [[ "$n" =~ ^[0-9]+$ ]] || { echo "partition.sh: not a number: $n" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "partition.sh: needs root (network namespaces)" >&2; exit 2; }
command -v ip >/dev/null || { echo "partition.sh: needs iproute2 (ip)" >&2; exit 2; }

if [ -z "$bin" ]; then
  if [ "$profile" = release ]; then cargo build --release -q -p aitbc-node; else cargo build -q -p aitbc-node; fi
  bin="${CARGO_TARGET_DIR:-target}/$profile/aitbc-node"
fi
[ -x "$bin" ] || { echo "partition.sh: no binary at $bin" >&2; exit 2; }
bin=$(realpath "$bin")
base=$(mktemp -d -t aitbc-partition.XXXXXX)

# Interface and namespace names carry a tag of this run (interface names: at most 15 bytes).
tag=$(( $$ % 100000 ))
names=(alice bob charlie dave)
bridge_a="apa$tag" bridge_b="apb$tag"
ns() { echo "aitbc-p$tag-$1"; }
data_if() { echo "ap${tag}d$1"; }
mgmt_if() { echo "ap${tag}m$1"; }
data_ip() { echo "10.77.0.$((11 + $1))"; }
mgmt_ip() { echo "10.78.$1.2"; }

set -m
node_pid=() load_pids=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  for p in "${load_pids[@]}" "${node_pid[@]}"; do [ -n "$p" ] && kill -KILL -- "-$p" 2>/dev/null; done
  wait 2>/dev/null
  for i in "${!names[@]}"; do
    ip netns del "$(ns "$i")" 2>/dev/null
    ip link del "$(data_if "$i")" 2>/dev/null
    ip link del "$(mgmt_if "$i")" 2>/dev/null
  done
  ip link del "$bridge_a" 2>/dev/null
  ip link del "$bridge_b" 2>/dev/null
  if [ "$keep" = 1 ] || [ "$rc" != 0 ]; then echo "partition.sh: logs and databases kept in $base" >&2
  else rm -rf "$base"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the network ----------------------------------------------------------------------------
# Data: every node's eth0 on bridge A (a partition moves some host ends to bridge B). Management:
# a point-to-point veth per node to the host (10.78.i.0/30) for the RPC checks and the load, so
# the host can reach every node whatever the partition; nodes never route through it.
for br in "$bridge_a" "$bridge_b"; do
  ip link add "$br" type bridge
  ip link set "$br" up
done
for i in "${!names[@]}"; do
  n=$(ns "$i")
  ip netns add "$n"
  ip netns exec "$n" ip link set lo up
  ip link add "$(data_if "$i")" type veth peer name eth0 netns "$n"
  ip link set "$(data_if "$i")" master "$bridge_a" up
  ip netns exec "$n" ip addr add "$(data_ip "$i")/24" dev eth0
  ip netns exec "$n" ip link set eth0 up
  ip link add "$(mgmt_if "$i")" type veth peer name mgmt0 netns "$n"
  ip addr add "10.78.$i.1/30" dev "$(mgmt_if "$i")"
  ip link set "$(mgmt_if "$i")" up
  ip netns exec "$n" ip addr add "$(mgmt_ip "$i")/30" dev mgmt0
  ip netns exec "$n" ip link set mgmt0 up
done

rpc() { echo "http://$(mgmt_ip "$1"):9080"; }

start_node() {
  local i=$1 args=()
  if [ "$i" != 0 ]; then
    args=(--bootnodes "/ip4/$(data_ip 0)/tcp/7070/p2p/$alice_id")
  fi
  ip netns exec "$(ns "$i")" "$bin" --chain local "--${names[$i]}" --base-path "$base/${names[$i]}" \
    --rpc-addr 0.0.0.0:9080 --p2p-addr "/ip4/$(data_ip "$i")/tcp/7070" --name "${names[$i]}" \
    --log "$log" "${args[@]}" >>"$base/${names[$i]}.log" 2>&1 </dev/null &
  node_pid[$i]=$!
  for _ in $(seq 300); do
    curl -sf "$(rpc "$i")/health" >/dev/null 2>&1 && return 0
    kill -0 "${node_pid[$i]}" 2>/dev/null || break
    sleep 0.1
  done
  echo "partition.sh: ${names[$i]} did not come up" >&2
  tail -n 20 "$base/${names[$i]}.log" >&2
  exit 1
}

start_node 0
alice_id=$(curl -sf "$(rpc 0)/health" | python3 -c 'import json,sys; print(json.load(sys.stdin)["peer_id"])')
for i in 1 2 3; do start_node "$i"; done

# --- load -----------------------------------------------------------------------------------
all_senders=(bob charlie eve ferdie dave alice)
recipient=$("$bin" key inspect //partition-recipient --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["address"])')
load_loop() { # sender, node index
  trap - EXIT INT TERM
  set +e
  local who=$1 i=$2
  while true; do
    "$bin" tx transfer --from "//$who" --to "$recipient" --amount 1 --rpc "$(rpc "$i")" \
      --timeout 5 >/dev/null 2>&1 || sleep 0.3
  done
}
[ "$senders" -le ${#all_senders[@]} ] || senders=${#all_senders[@]}
for s in $(seq 0 $((senders - 1))); do
  load_loop "${all_senders[$s]}" $((s % 4)) </dev/null >/dev/null 2>&1 &
  load_pids+=($!)
done

echo "partition: schedule $schedule, ${split} s splits, $senders senders, $bin, base $base"
rpcs=()
for i in "${!names[@]}"; do rpcs+=("$(rpc "$i")"); done
ifs=()
for i in "${!names[@]}"; do ifs+=("$(data_if "$i")"); done
python3 - "$schedule" "$split" "$resume" "$bridge_a" "$bridge_b" "${rpcs[*]}" "${ifs[*]}" <<'EOF'
import json, subprocess, sys, time, urllib.request

schedule, split, resume, bridge_a, bridge_b = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
rpcs, ifs = sys.argv[6].split(), sys.argv[7].split()
names = ["alice", "bob", "charlie", "dave"]
SLOT_S = 1.0  # the local chain's slot

def get(i, path):
    try:
        with urllib.request.urlopen(rpcs[i] + path, timeout=3) as r:
            return json.load(r)
    except Exception:
        return None

finalized = {}   # height -> (hash, who reported it first)
violations = []

def observe():
    """Every node's finalized head; each is checked against every other node that has
    finalized that far, and remembered."""
    heads = {}
    for i in range(4):
        h = get(i, "/rpc/getHead")
        if h:
            heads[i] = h
    for i, h in heads.items():
        height, block = h["finalized_height"], h["finalized_hash"]
        seen = finalized.get(height)
        if seen is None:
            finalized[height] = (block, names[i])
            for j, other in heads.items():
                if j != i and other["finalized_height"] >= height:
                    b = get(j, "/rpc/getBlock/%d" % height)
                    if b and b.get("hash") != block:
                        violations.append("#%d finalized as %s by %s but %s on %s" % (height, block, names[i], b.get("hash"), names[j]))
        elif seen[0] != block:
            violations.append("#%d finalized as %s by %s and %s by %s" % (height, seen[0], seen[1], block, names[i]))
    return heads

def fin(heads):
    return {i: h["finalized_height"] for i, h in heads.items()}

def wait_all(cond, secs):
    end = time.time() + secs
    while time.time() < end:
        heads = observe()
        if len(heads) == 4 and cond(heads):
            return heads
        time.sleep(0.25)
    return None

def place(side_b):
    for i, ifname in enumerate(ifs):
        bridge = bridge_b if i in side_b else bridge_a
        subprocess.run(["ip", "link", "set", "dev", ifname, "master", bridge], check=True)

def status(heads):
    return " ".join("%s #%s/%s p%s" % (names[i][0], h["height"], h["finalized_height"], (get(i, "/health") or {}).get("peers", "?")) for i, h in sorted(heads.items()))

started = time.time()
if not wait_all(lambda hs: min(fin(hs).values()) >= 2, 90):
    print("partition.sh: FAIL: no finality on every node within 90 s of the start")
    sys.exit(1)
if not wait_all(lambda hs: all((get(i, "/health") or {}).get("peers", 0) >= 3 for i in range(4)), 60):
    print("partition.sh: FAIL: the nodes never all connected to each other (peer exchange)")
    sys.exit(1)
healed_in_time, splits = 0, [s for s in schedule.split(",") if s]
for k, spec in enumerate(splits, 1):
    left, right = spec.split("|")
    side_b = {"abcd".index(c) for c in right}
    place(side_b)
    t0 = time.time()
    while time.time() - t0 < split:
        heads = observe()
        time.sleep(0.5)
    before = max(fin(observe()).values())
    print("split %d (%s | %s, %d s): %s" % (k, left, right, split, status(observe())))
    place(set())
    healed = time.time()
    heads = wait_all(lambda hs: min(fin(hs).values()) > before, resume * SLOT_S)
    took = time.time() - healed
    if heads is None:
        heads = wait_all(lambda hs: min(fin(hs).values()) > before, 60)
        took = time.time() - healed
        print("  heal %d: FAIL: finality passed #%d on every node only after %s" % (k, before, "%.1f s" % took if heads else "more than 60 s"))
    else:
        healed_in_time += 1
        print("  heal %d: every node finalized past #%d %.1f s after the heal" % (k, before, took))
    mesh = wait_all(lambda hs: all((get(i, "/health") or {}).get("peers", 0) >= 3 for i in range(4)), 30)
    print("  mesh %s: %s" % ("whole again" if mesh else "FAIL: not whole 30 s after the heal", status(observe())))
    if not mesh:
        violations.append("heal %d: the mesh did not recover" % k)
    if violations:
        break
for v in violations:
    print("partition.sh: SAFETY: " + v)
print("checked %d finalized heights in %.0f s" % (len(finalized), time.time() - started))
print("partitions: %d of %d healed in time" % (healed_in_time, len(splits)))
sys.exit(0 if healed_in_time == len(splits) and not violations else 1)
EOF
