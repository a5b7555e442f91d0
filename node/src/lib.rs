//! # aitbc-node
//!
//! The node: chain storage (redb), the transaction pool, authority-round block production, the
//! RPC server, metrics and the CLI. `main.rs` only parses arguments and calls into here; see
//! ARCHITECTURE.md for the path of a transaction and of a block.

pub mod cli;
pub mod client;
pub mod consensus;
pub mod coordinator;
pub mod dev_keys;
#[doc(hidden)]
pub mod fuzzing;
pub mod informant;
pub mod metrics;
pub mod network;
pub mod pool;
pub mod pruner;
pub mod rpc;
pub mod service;
pub mod storage;
pub mod sync;
pub mod util;
