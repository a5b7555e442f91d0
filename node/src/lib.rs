//! # aitbc-node
//!
//! The node binary's library: the CLI ([`cli`]), the service that wires the crates under
//! `node/crates/` together for a state machine ([`service`]), and the workers it runs
//! ([`workers`]: authoring, finality voting, sync, pruning, the informant). `main.rs` only
//! parses arguments and calls into here; see ARCHITECTURE.md for the crate graph, the path of
//! a transaction and of a block.

pub mod cli;
pub mod dev_keys;
// The fuzz targets: for node/fuzz, and for the unit tests that replay the committed corpora.
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
pub mod service;
#[cfg(any(test, feature = "simulator"))]
pub mod sim;
pub mod workers;

#[cfg(test)]
mod architecture_tests;
#[cfg(test)]
mod crash_tests;
