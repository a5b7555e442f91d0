//! The system module: account nonces and the block being built (number, parent hash, slot).
//!
//! - A nonce counts the transactions an account has had included; it starts at 0 and only grows
//!   (accounts are never reaped, so it never resets). The executive increments it when it charges
//!   a transaction's fee, so a failed call still uses up its nonce.
//! - `initialize_block` records the block's number, parent hash and slot; block time is derived
//!   from the slot (`slot * slot_duration_ms`), never from a clock.
//! - Events are not stored in state: each transaction's events are returned in its
//!   [`aitbc_primitives::TxOutcome`].
//!
//! This module has no calls.

pub mod storage;
#[cfg(test)]
mod tests;

use crate::storage::Storage;
use aitbc_primitives::{AccountId, BlockContext, BlockNumber, Nonce, Slot, StateView};

/// The next nonce of `who`.
pub fn nonce<S: Storage>(s: &S, who: &AccountId) -> Nonce {
    storage::NONCE.get(s, who).unwrap_or(0)
}

/// Increments the nonce of `who` (saturating: 2^64 transactions never happen).
pub fn inc_nonce<S: Storage>(s: &mut S, who: &AccountId) {
    let next = nonce(s, who).saturating_add(1);
    storage::NONCE.insert(s, who, &next);
}

/// The number of the block being built (or of the last block, outside a block).
pub fn block_number<S: Storage>(s: &S) -> BlockNumber {
    storage::NUMBER.get(s).unwrap_or(0)
}

/// The slot of the block being built (or of the last block).
pub fn slot<S: Storage>(s: &S) -> Slot {
    storage::SLOT.get(s).unwrap_or(0)
}

/// Records a new block's context.
pub fn initialize<S: Storage>(s: &mut S, context: &BlockContext) {
    storage::NUMBER.put(s, &context.number);
    storage::PARENT_HASH.put(s, &context.parent_hash);
    storage::SLOT.put(s, &context.slot);
}

/// Reads the number of the last block from a state.
pub fn read_block_number(state: &dyn StateView) -> BlockNumber {
    storage::NUMBER.read(state).unwrap_or(0)
}

/// Reads an account's nonce from a state.
pub fn read_nonce(state: &dyn StateView, who: &AccountId) -> Nonce {
    storage::NONCE.read(state, who).unwrap_or(0)
}

/// Reads the slot duration (set at genesis) from a state.
pub fn read_slot_duration_ms(state: &dyn StateView) -> u64 {
    storage::SLOT_DURATION_MS.read(state).unwrap_or(0)
}
