//! Call weights: what a call costs a node to import, in nanoseconds of one core of the reference
//! machine, and what follows from them.
//!
//! The figures are measured, not guessed: `aitbc-node benchmark runtime` imports blocks of each
//! call in its worst case through the node's real import path (signature check, execution, state
//! root, durable redb commit), fits `time = base + n * per_call` over several block sizes and
//! writes [`crate::weights`]. A call's weight is its fitted per-call cost; calls that were not
//! measured on their own are mapped to the measured call they resemble most (see
//! [`call_weight`]); a `sudo` wrapper weighs what its inner call weighs.
//!
//! Weights are used twice, deterministically (they are constants of the runtime, the same on
//! every machine):
//! - **Block limit**: the extrinsics of a block weigh at most [`max_block_weight`], which is
//!   [`BLOCK_WEIGHT_SHARE_PPM`] (3/4) of the slot duration. A full block's extrinsics therefore
//!   import within 3/4 of its slot on the reference machine on one core; the fixed per-block
//!   cost ([`crate::weights::BLOCK_BASE`]: commit, empty root) fits the last quarter of a 1000 ms
//!   slot, and the node checks a block's signatures on the second core while it executes, which
//!   brings a full block's import to about half its slot. `apply_extrinsic`
//!   refuses an extrinsic that would pass the limit with `ExhaustsResources`, and an imported
//!   block over it is invalid.
//! - **Fees**: `weight_fee = weight_ns * weight_fee_per_ms / 10^6` is part of every fee
//!   ([`crate::executive::compute_fee`]), so a call pays for the time it costs every node.

use crate::{authority, balances, params, receipts, staking, sudo, weights, Call};

/// Weight: nanoseconds of import time on one core of the reference machine.
pub type Weight = u64;

/// The share of a slot that a full block's extrinsics may weigh, in parts per million: 3/4 of
/// single-core import time (see the module docs).
pub const BLOCK_WEIGHT_SHARE_PPM: u64 = 750_000;

// The fixed per-block cost fits the quarter of a 1000 ms slot that the limit leaves.
const _: () = assert!(weights::BLOCK_BASE < 250_000_000);

/// The weight a block of `slot_duration_ms` slots may spend on extrinsics.
pub fn max_block_weight(slot_duration_ms: u64) -> Weight {
    slot_duration_ms
        .saturating_mul(1_000_000)
        .saturating_mul(BLOCK_WEIGHT_SHARE_PPM)
        / 1_000_000
}

/// The weight of one extrinsic carrying `call`: its call's measured import cost.
pub fn call_weight(call: &Call) -> Weight {
    match call {
        Call::Balances(balances::Call::Transfer { .. } | balances::Call::Mint { .. }) => {
            weights::TRANSFER
        }
        Call::Receipts(c) => match c {
            receipts::Call::OpenJob { .. } => weights::OPEN_JOB,
            receipts::Call::Claim { .. } => weights::CLAIM,
            receipts::Call::Refund { .. } | receipts::Call::Revoke { .. } => weights::REFUND,
            receipts::Call::AddCoordinator { .. } | receipts::Call::RemoveCoordinator { .. } => {
                weights::PARAM_SET
            }
        },
        Call::Params(params::Call::Set { .. }) => weights::PARAM_SET,
        // Not measured on their own: a report checks four signatures like a claim does; the
        // other staking calls touch a few entries, like a parameter change.
        Call::Staking(staking::Call::Report { .. }) => weights::CLAIM,
        Call::Staking(_) => weights::PARAM_SET,
        Call::Sudo(sudo::Call::Sudo { call }) => call_weight(call),
        Call::Sudo(sudo::Call::SetKey { .. }) => weights::PARAM_SET,
        Call::Authority(
            authority::Call::SetAuthorities { .. } | authority::Call::ForceSetAuthorities { .. },
        ) => weights::PARAM_SET,
    }
}
