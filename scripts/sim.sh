#!/usr/bin/env bash
# The seeded whole-network simulator: N real nodes in one process, on one thread each run, in
# virtual time, faults drawn from the seed, invariants checked after every step (see
# node/src/sim/mod.rs). Prints seeds run, slots simulated, slots per second, faults injected by
# kind and every violation with the one-line command that replays it; exits non-zero on a
# violation (or, with --check-determinism, on a seed whose two runs differ).
#
#   scripts/sim.sh [--seeds N] [--first-seed S] [--nodes K] [--slots N] [--faults LIST]
#                  [--epoch-length B]
#                  [--jobs J] [--check-determinism] [--debug]
#   scripts/sim.sh --seed S [--nodes K] [--slots N] [--faults LIST] [--log FILTER]
#
#   --seeds N            seeds to run, from --first-seed (default 1 seed, from 1)
#   --seed S             run one seed and print its trace hash (replay a failure)
#   --nodes K            authorities (default 4; a Byzantine one needs 4 or more)
#   --slots N            slots per run, the 30 fault-free slots at the end included (default 80)
#   --faults LIST        all (default), none, or a comma-separated list of delay, reorder, drop,
#                        dup, partition, crash, skew, byzantine, authorities
#   --epoch-length B     blocks per staking epoch (default 20): each boundary re-elects the set
#   --jobs J             seeds run side by side (default 2; each run is single-threaded)
#   --check-determinism  run every seed twice and compare the trace hashes
#   --log FILTER         node logs, e.g. finality=debug,sync=debug (one seed at a time)
#   --debug              use the debug build (CI: on top of the test run's build)
#
# Builds into $CARGO_TARGET_DIR when set (default ./target).
set -euo pipefail
cd "$(dirname "$0")/.."

profile=release
args=()
for arg in "$@"; do
  if [ "$arg" = --debug ]; then profile=debug; else args+=("$arg"); fi
done
if [ "$profile" = release ]; then
  cargo build --release --quiet -p aitbc-node --features simulator --bin aitbc-sim
else
  cargo build --quiet -p aitbc-node --features simulator --bin aitbc-sim
fi
exec "${CARGO_TARGET_DIR:-target}/$profile/aitbc-sim" "${args[@]}"
