//! End-to-end tests of the node: real nodes on 127.0.0.1 with ephemeral ports, real redb files,
//! real signatures. One test binary (one link, one copy of the node on disk); each module is one
//! area. nextest runs them one at a time (`.config/nextest.toml`), so 2 cores are not
//! oversubscribed by several nodes' slots.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

mod archive;
mod check_db;
mod cli;
mod consensus_safety;
mod coordinator_admin;
mod dev_chain;
mod forks;
mod hostile_peers;
mod indexer;
mod jsonrpc;
mod keys_and_admin;
mod light;
mod memory_network;
mod network;
mod openapi;
mod pluggable;
mod pruning;
mod receipt_accounting;
mod receipt_attacks;
mod receipts;
mod restart;
mod rpc_abuse;
mod rpc_errors;
mod staking;
mod warp;
mod websocket;
