#!/usr/bin/env bash
# Real-browser test of the node's block explorer: starts a `--dev` node on free ports with a
# temporary base path, waits for /health, then runs scripts/explorer_test.py (Playwright for Python
# driving Debian's Chromium, /usr/bin/chromium; never `playwright install`) against it: dashboard
# heights equal getHead's, a finalized transfer shows on the dashboard within 2 s and on the account
# page, a receipt claim shows in the recent claims, search lands on the right pages (404 page for
# garbage), every page renders with JavaScript off, first contentful paint < 1 s, the throughput
# charts plot their blocks/s and tx/s lines (and keep up with new heads). Full-page
# screenshots go to $CARGO_TARGET_DIR/explorer-screenshots/ (default target/). Then the same
# node's /metrics goes through scripts/check_metrics.sh (promtool). The node is stopped at exit;
# exits non-zero on any failure.
#
#   scripts/explorer_test.sh [--debug | --bin PATH] [--keep] [--no-claim]
#
#   --debug     use the debug binary (`cargo build -p aitbc-node`) instead of a release build
#   --bin PATH  use that aitbc-node binary as is (no build)
#   --keep      keep the node's base path and log
#   --no-claim  skip the job + receipt claim (no mock coordinator)
#
# Installs the `playwright` Python package with pip when it is missing (and Debian's chromium
# with apt-get when /usr/bin/chromium is missing and we are root). Builds into $CARGO_TARGET_DIR
# when set (default ./target).
set -euo pipefail
cd "$(dirname "$0")/.."

profile=release bin="" keep=0 extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --debug) profile=debug; shift ;;
    --bin) bin="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    --no-claim) extra+=(--no-claim); shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "explorer_test.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

target="${CARGO_TARGET_DIR:-target}"
if [ -z "$bin" ]; then
  if [ "$profile" = release ]; then
    cargo build --release -q -p aitbc-node
  else
    cargo build -q -p aitbc-node
  fi
  bin="$target/$profile/aitbc-node"
fi
[ -x "$bin" ] || { echo "explorer_test.sh: no binary at $bin" >&2; exit 2; }
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && apt-get install -y -qq chromium >/dev/null
  else
    echo "explorer_test.sh: /usr/bin/chromium is missing (apt-get install chromium)" >&2
    exit 2
  fi
fi
if ! python3 -c 'import playwright.sync_api' 2>/dev/null; then
  python3 -m pip install -q playwright==1.65.3
fi
if ! command -v promtool >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  else
    echo "explorer_test.sh: promtool is missing (apt-get install prometheus)" >&2
    exit 2
  fi
fi

shots="$target/explorer-screenshots"
mkdir -p "$shots"
rm -f "$shots"/*.png
base=$(mktemp -d -t aitbc-explorer.XXXXXX)
node_pid=""

stop() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  if [ -n "$node_pid" ]; then
    kill -TERM "$node_pid" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$node_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$node_pid" 2>/dev/null
    wait "$node_pid" 2>/dev/null
  fi
  if [ "$rc" != 0 ] && [ -f "$base/node.log" ]; then
    echo "--- last lines of $base/node.log" >&2
    tail -n 20 "$base/node.log" >&2
  fi
  if [ "$keep" = 0 ]; then rm -rf "$base"; else echo "base path and log kept in $base"; fi
  exit "$rc"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Two free ephemeral ports (bound together so they differ), for RPC and P2P.
read -r rpc_port p2p_port < <(python3 -c '
import socket
a, b = socket.socket(), socket.socket()
a.bind(("127.0.0.1", 0)); b.bind(("127.0.0.1", 0))
print(a.getsockname()[1], b.getsockname()[1])')
rpc="http://127.0.0.1:$rpc_port"

"$bin" --dev --base-path "$base/chain" --rpc-addr "127.0.0.1:$rpc_port" \
  --p2p-addr "/ip4/127.0.0.1/tcp/$p2p_port" >"$base/node.log" 2>&1 </dev/null &
node_pid=$!
deadline=$((SECONDS + 30))
until curl -sf "$rpc/health" >/dev/null 2>&1; do
  kill -0 "$node_pid" 2>/dev/null || { echo "explorer_test.sh: the node exited while starting" >&2; exit 1; }
  [ "$SECONDS" -lt "$deadline" ] || { echo "explorer_test.sh: no answer on $rpc/health within 30 s" >&2; exit 1; }
  sleep 0.1
done
# A couple of blocks first, so the dashboard has something to show.
until [ "$(curl -sf "$rpc/rpc/getHead" | python3 -c 'import json,sys; print(json.load(sys.stdin)["finalized_height"])')" -ge 2 ]; do
  [ "$SECONDS" -lt "$deadline" ] || { echo "explorer_test.sh: no finalized block within 30 s" >&2; exit 1; }
  sleep 0.2
done
echo "dev node on $rpc (log: $base/node.log)"

python3 scripts/explorer_test.py --rpc "$rpc" --node-bin "$bin" --screenshots "$shots" "${extra[@]}"
echo "screenshots in $shots"
# The same node, after its transfers and claims: its /metrics through promtool's lint, with every
# metric the Grafana dashboard reads present.
scripts/check_metrics.sh "$rpc/metrics"
