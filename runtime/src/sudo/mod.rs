//! The sudo module: one key that may dispatch root calls.
//!
//! - `sudo{call}`: only the sudo key may submit it (anyone else: the transaction is invalid,
//!   `bad_origin`, and never enters a block). The inner call is dispatched with the root origin.
//!   If the inner call fails, the whole transaction fails with the inner call's error code (so
//!   `TxOutcome::error` says *why*, e.g. `faucet_disabled`), its writes are rolled back and the
//!   fee stays paid. On success it emits `Sudid { success: true }` after the inner call's events.
//! - `set_key{new}`: only the sudo key (or root); hands the key to `new`.
//! - A chain whose genesis has no sudo key has no root access at all.

pub mod storage;
#[cfg(test)]
mod tests;

use crate::error::DispatchResult;
use crate::storage::Storage;
use aitbc_primitives::{AccountId, StateView};
use codec::{Decode, Encode};
use serde::Serialize;

/// Calls of the sudo module.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub enum Call {
    /// Dispatches `call` with the root origin.
    Sudo { call: Box<crate::Call> },
    /// Hands the sudo key to `new`.
    SetKey { new: AccountId },
}

/// Events of the sudo module.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize)]
pub enum Event {
    /// A root call was dispatched.
    Sudid { success: bool },
    /// The sudo key changed.
    KeyChanged { new: AccountId },
}

/// The sudo key, if any.
pub fn key<S: Storage>(s: &S) -> Option<AccountId> {
    storage::KEY.get(s)
}

/// Reads the sudo key from a state.
pub fn read_key(state: &dyn StateView) -> Option<AccountId> {
    storage::KEY.read(state)
}

/// `sudo.set_key`: the caller has checked the origin.
pub fn set_key<S: Storage>(
    s: &mut S,
    events: &mut Vec<crate::Event>,
    new: AccountId,
) -> DispatchResult {
    storage::KEY.put(s, &new);
    events.push(crate::Event::Sudo(Event::KeyChanged { new }));
    Ok(())
}
