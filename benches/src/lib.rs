//! Benchmarks (criterion, in `benches/`) and the end-to-end load tool (`aitbc-load`, driven by
//! `scripts/bench.sh`).
