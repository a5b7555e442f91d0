#!/usr/bin/env bash
# Lints a node's Prometheus metrics: fetches URL (a node's /metrics; `file://PATH` works too) with
# curl, runs `promtool check metrics` on it and fails on any lint except the allow-listed ones
# (Substrate-named metrics keep Substrate's names for compatibility with the Substrate Grafana
# dashboards, so they may break Prometheus naming conventions), then fails if a metric the node
# should export is missing (a `# TYPE` line or a sample counts: a labelled counter with no samples
# yet is present). Prints the problems; exits 0 only if there are none. Needs curl and promtool
# (Debian: `apt-get install prometheus`).
#
#   scripts/check_metrics.sh URL [--allow-missing]
#
#   URL              e.g. http://127.0.0.1:9080/metrics
#   --allow-missing  skip the required-names check (e.g. against an older node)
#
# The metrics are described in scripts/grafana/README.md.
set -euo pipefail

url="" allow_missing=0
while [ $# -gt 0 ]; do
  case "$1" in
    --allow-missing) allow_missing=1; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    -*) echo "check_metrics.sh: unknown argument $1" >&2; exit 2 ;;
    *)
      [ -z "$url" ] || { echo "check_metrics.sh: one URL only" >&2; exit 2; }
      url="$1"; shift ;;
  esac
done
[ -n "$url" ] || { echo "usage: scripts/check_metrics.sh URL [--allow-missing]" >&2; exit 2; }
command -v promtool >/dev/null || { echo "check_metrics.sh: promtool not found (apt-get install prometheus)" >&2; exit 2; }

# Lints allowed, as `metric_name<TAB>promtool's message` (promtool prints `NAME MESSAGE`, one per
# line). Only the Substrate-compatibility names belong here.
allowed=(
  $'substrate_sub_libp2p_peers_count\tnon-histogram and non-summary metrics should not have "_count" suffix'
)

# Metrics the node must export (GET /metrics on its RPC port). The indexer's
# (`aitbc-node index --metrics-addr`) are not listed: it is another process.
required=(
  # gauges
  substrate_block_height
  substrate_ready_transactions_number
  substrate_sub_libp2p_peers_count
  substrate_finality_grandpa_round
  substrate_sync_is_major_syncing
  substrate_build_info
  aitbc_future_transactions_number
  aitbc_txpool_bytes
  aitbc_rpc_ws_connections
  aitbc_validators
  aitbc_finality_lag_blocks
  # histograms
  substrate_block_verification_and_import_time
  substrate_proposer_block_constructed
  aitbc_rpc_request_duration_seconds
  # counters
  substrate_rpc_requests_total
  substrate_sync_blocks_imported_total
  aitbc_blocks_imported_total
  aitbc_blocks_authored_total
  aitbc_transactions_included_total
  aitbc_receipts_claimed_total
  aitbc_compute_units_total
  aitbc_minted_total
  aitbc_escrow_paid_total
  aitbc_offences_total
  aitbc_slashed_total
  aitbc_equivocations_total
  aitbc_reorgs_total
  aitbc_jsonrpc_calls_total
  # process
  process_cpu_seconds_total
  process_resident_memory_bytes
  process_virtual_memory_bytes
  process_open_fds
  process_max_fds
  process_start_time_seconds
  process_threads
)

tmp=$(mktemp -d -t aitbc-check-metrics.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

if ! curl -sSf --max-time 10 -o "$tmp/metrics" "$url"; then
  echo "check_metrics.sh: could not fetch $url" >&2
  exit 1
fi
if ! [ -s "$tmp/metrics" ]; then
  echo "check_metrics.sh: $url answered nothing" >&2
  exit 1
fi

ok=1

# promtool: exit 0 = clean, 3 = lint problems (listed), anything else = it could not parse.
rc=0
promtool check metrics <"$tmp/metrics" >"$tmp/lint" 2>&1 || rc=$?
if [ "$rc" != 0 ] && [ "$rc" != 3 ]; then
  echo "FAIL: promtool check metrics (exit $rc):"
  sed 's/^/  /' "$tmp/lint"
  exit 1
fi
allowed_hits=0
while IFS= read -r line; do
  [ -n "$line" ] || continue
  name=${line%% *} msg=${line#* }
  hit=0
  for a in "${allowed[@]}"; do
    if [ "$name" = "${a%%$'\t'*}" ] && [ "$msg" = "${a#*$'\t'}" ]; then hit=1; break; fi
  done
  if [ "$hit" = 1 ]; then
    allowed_hits=$((allowed_hits + 1))
    echo "allowed lint: $line"
  else
    echo "FAIL lint:    $line"
    ok=0
  fi
done <"$tmp/lint"

families=$(grep -c '^# TYPE ' "$tmp/metrics" || true)
if [ "$allow_missing" = 0 ]; then
  missing=0
  for m in "${required[@]}"; do
    if ! grep -qE "^# TYPE $m |^$m[{ ]" "$tmp/metrics"; then
      echo "FAIL missing: $m"
      missing=$((missing + 1))
      ok=0
    fi
  done
  echo "required metrics: $((${#required[@]} - missing)) of ${#required[@]} present"
fi

if [ "$ok" = 1 ]; then
  echo "ok: $url ($families metric families, $allowed_hits allowed lints)"
else
  echo "check_metrics.sh: $url failed" >&2
  exit 1
fi
