#!/usr/bin/env bash
# Runs the cargo-fuzz targets of node/fuzz (libFuzzer, nightly Rust) for a while each and prints
# the executions per target and a summary table. Exits non-zero when a target crashed (its input
# is in node/fuzz/artifacts/<target>/; fix the bug, add a regression test next to the fix and copy
# the input into node/fuzz/corpus/<target>/, which the stable test suite replays).
#
#   scripts/fuzz.sh [--seconds N] [--sanitizer none|address] [--update-corpus] [TARGET...]
#
#   --seconds N        fuzz each target for N seconds (default 60)
#   --sanitizer S      cargo fuzz's sanitizer (default none: the node forbids unsafe code, and
#                      without AddressSanitizer a run executes several times more inputs)
#   --update-corpus    afterwards, merge what the run found into node/fuzz/corpus/<target>/ and
#                      minimise it (cargo fuzz cmin); otherwise new inputs stay in
#                      node/fuzz/target/new-corpus/<target>/ (ignored by git)
#   TARGET...          some of: extrinsic_decode block_decode block_import network_message
#                      rpc_request (default: all)
#
# Needs nightly and cargo-fuzz: rustup toolchain install nightly; cargo install cargo-fuzz --locked
set -uo pipefail
self="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
cd "$(dirname "$0")/../node"

ALL=(extrinsic_decode block_decode block_import network_message rpc_request)
secs=60
sanitizer=none
update=0
targets=()

usage() { sed -n '2,18p' "$self" | sed 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --seconds) secs="${2:-}"; shift 2 ;;
    --seconds=*) secs="${1#*=}"; shift ;;
    --sanitizer) sanitizer="${2:-}"; shift 2 ;;
    --sanitizer=*) sanitizer="${1#*=}"; shift ;;
    --update-corpus) update=1; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
if ! [[ "$secs" =~ ^[1-9][0-9]*$ ]]; then
  echo "fuzz.sh: --seconds takes a positive number, got '$secs'" >&2
  exit 2
fi
[[ ${#targets[@]} -eq 0 ]] && targets=("${ALL[@]}")
for t in "${targets[@]}"; do
  if [[ ! " ${ALL[*]} " =~ " $t " ]]; then
    echo "fuzz.sh: unknown target '$t' (targets: ${ALL[*]})" >&2
    exit 2
  fi
done
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "fuzz.sh: needs nightly Rust and cargo-fuzz (rustup toolchain install nightly;" \
    "cargo install cargo-fuzz --locked)" >&2
  exit 2
fi

# The fuzz crate has its own target directory (node/fuzz/target), whatever CARGO_TARGET_DIR says.
unset CARGO_TARGET_DIR
export CARGO_INCREMENTAL=0

echo "building the fuzz targets (nightly, sanitizer: $sanitizer)"
# `cargo fuzz build` takes at most one target; without one it builds them all.
one=()
[[ ${#targets[@]} -eq 1 ]] && one=("${targets[0]}")
if ! cargo +nightly fuzz build -s "$sanitizer" "${one[@]}"; then
  echo "fuzz.sh: build failed" >&2
  exit 2
fi

logs=fuzz/target/fuzz-logs
mkdir -p "$logs"
declare -A execs rate corpus status
failed=0
for t in "${targets[@]}"; do
  new=fuzz/target/new-corpus/$t
  mkdir -p "$new" "fuzz/corpus/$t" "fuzz/artifacts/$t"
  log=$logs/$t.log
  echo
  echo "== $t: ${secs}s"
  # New inputs go to the first corpus directory; the committed corpus is only read.
  cargo +nightly fuzz run -s "$sanitizer" "$t" "$new" "fuzz/corpus/$t" -- \
    -max_total_time="$secs" -print_final_stats=1 >"$log" 2>&1
  rc=$?
  # libFuzzer ends with "Done N runs in S second(s)" (and stat::number_of_executed_units); a
  # crashed run ends earlier, so fall back to its last "#N" status line.
  n=$(grep -oE '^Done [0-9]+ runs' "$log" | tail -1 | awk '{print $2}')
  [[ -z "$n" ]] && n=$(grep -oE '^stat::number_of_executed_units: [0-9]+' "$log" | tail -1 | awk '{print $2}')
  [[ -z "$n" ]] && n=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
  execs[$t]=${n:-0}
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  rate[$t]=$(sed -nE 's/.*exec\/s: ([0-9]+).*/\1/p' <<<"$last")
  corpus[$t]=$(sed -nE 's/.*corp: ([0-9]+\/[0-9A-Za-z]+).*/\1/p' <<<"$last")
  if [[ $rc -eq 0 ]]; then
    status[$t]=ok
  else
    status[$t]="CRASH (exit $rc)"
    failed=1
    grep -E 'panicked at|ERROR: libFuzzer|SUMMARY' "$log" | head -5
    grep -E 'Test unit written to' "$log" | sed 's/^/  /'
    echo "  full log: node/$log"
  fi
  echo "$t: ${execs[$t]} executions (${rate[$t]:-?} exec/s), corpus ${corpus[$t]:-?}, ${status[$t]}"
  if [[ $update -eq 1 && $rc -eq 0 ]]; then
    cp -n "$new"/* "fuzz/corpus/$t/" 2>/dev/null || true
    cargo +nightly fuzz cmin -s "$sanitizer" "$t" >>"$log" 2>&1 ||
      echo "  cmin failed, see node/$log"
    echo "  corpus now $(find "fuzz/corpus/$t" -type f | wc -l) files"
  fi
done

echo
printf '%-18s %14s %10s %14s  %s\n' target executions exec/s corpus status
for t in "${targets[@]}"; do
  printf '%-18s %14s %10s %14s  %s\n' "$t" "${execs[$t]}" "${rate[$t]:--}" "${corpus[$t]:--}" "${status[$t]}"
done
exit $failed
