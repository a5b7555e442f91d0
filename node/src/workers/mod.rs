//! The node's long-running tasks, each driving a pure part from a crate below with the node's
//! clock, network (through the `aitbc_network::Network` seam: libp2p or in memory) and storage:
//!
//! - [`author`]: wakes every slot and, when it is this node's turn, builds, seals and imports a
//!   block (rules: `aitbc_consensus::slots`);
//! - [`signed_slots`]: the durable record of the slots and rounds this authority signed; it
//!   never signs one twice, even after a crash;
//! - [`voting`]: runs the finality voter (`aitbc_consensus::finality`) over gossip;
//! - [`sync`]: block and transaction gossip, catch-up from peers, held future blocks;
//! - [`reporter`]: submits proofs of the equivocations this node sees (authority nodes);
//! - [`warp`]: before the others, on an empty database: joins at the latest finalized state
//!   (finality proof, then the state in proof-checked chunks) instead of replaying the chain;
//! - [`revalidate`]: checks the pool against the new state after blocks, off the import path;
//! - [`pruner`]: drops old finalized states; [`informant`]: the periodic status line.

pub mod author;
pub mod blocking;
pub mod informant;
pub mod pruner;
pub mod reporter;
pub mod revalidate;
#[cfg(test)]
mod seam_tests;
pub mod signed_slots;
pub mod sync;
pub mod voting;
pub mod warp;
