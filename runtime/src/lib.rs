//! # aitbc-runtime
//!
//! The deterministic AITBC state machine: runtime modules and the executive that drives them.
//! [`Runtime`] implements [`aitbc_primitives::StateMachine`] with [`Call`] and [`Event`].
//!
//! - [`storage`]: the [`storage::Storage`] trait, nested transactional layers and the key scheme.
//! - Modules, one folder each: [`system`] (nonces, block number/slot), [`balances`] (balances,
//!   fees, faucet), [`receipts`] (job escrows, compute receipts, minting), [`params`] (bounded
//!   on-chain parameters), [`sudo`] (root access), [`authority`] (the authority set and its
//!   author schedule), [`staking`] (bonds, elections, work-weighted authorship, slashing).
//! - [`executive`]: validation, block building and import; [`dispatch`]: origins and routing.
//! - [`genesis`]: the genesis state from a [`GenesisConfig`].
//! - [`api`]: this chain's queries beyond the node's seam ([`api::ComputeApi`],
//!   [`api::AdminApi`]); [`invariants`]: the whole-state checks behind `try_state`.
//!
//! Determinism: no I/O, clocks, randomness, floats or hash-map iteration (enforced in part by
//! `clippy.toml`); block time comes from the header's slot. Arithmetic is checked or saturating
//! and the apply path never panics once a transaction passed its checks.
//!
//! Invariants (asserted after every block in tests): total issuance == sum of balances + open
//! escrows + bonded + unlocking, changing only by mints, claw-backs and burned fees; nonces only grow; an escrow settles at most once; a failed
//! call pays its fee and changes nothing else; an invalid transaction changes nothing.

pub mod api;
pub mod arith;
pub mod authority;
pub mod balances;
pub mod call;
pub mod dispatch;
pub mod error;
pub mod executive;
pub mod genesis;
pub mod invariants;
pub mod params;
pub mod receipts;
pub mod staking;
pub mod storage;
pub mod sudo;
pub mod system;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod weight;
pub mod weights;

pub use api::{AdminAction, AdminApi, AdminError, ComputeApi, StakingApi};
pub use call::{Call, CallJsonError, Event, JsonCall};
pub use dispatch::Origin;
pub use error::{DispatchError, DispatchResult};
pub use executive::Runtime;
pub use genesis::{GenesisConfig, GenesisError};
pub use params::{Param, Params, ParamsError};
