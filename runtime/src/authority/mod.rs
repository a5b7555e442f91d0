//! The authority module: the set of block authors.
//!
//! - The author of slot `s` is `authorities[s % n]` ([`slot_author`]); the runtime uses it to
//!   pay the author's share of fees, the node to check seals.
//! - `set_authorities{authorities}` (root only) stores a non-empty, duplicate-free set as
//!   *pending*. At the end of the block, `finalize_block` makes it the current set and signals it
//!   with `DigestItem::AuthoritiesChange(new_set)` in the header digest; the new set authors from
//!   the next block on. (The node may additionally wait for finality before trusting it for
//!   consensus; the runtime's view changes at the next block.) Several changes in one block: the
//!   last wins.
//! - `force_set_authorities{authorities}` (root only) does the same but signals
//!   `DigestItem::ForcedAuthoritiesChange`: for when more than 1/3 of the voters are gone for good
//!   and the change could never be finalized. The node enacts it for finality once the block is
//!   buried on the best chain (see the node's `client::import`).

pub mod storage;
#[cfg(test)]
mod tests;

use crate::error::{DispatchError, DispatchResult};
use crate::storage::Storage;
use aitbc_primitives::block::MAX_AUTHORITIES;
use aitbc_primitives::codec_util::BoundedVec;
use aitbc_primitives::{AccountId, Slot, StateView};
use codec::{Decode, Encode};
use serde::Serialize;
use std::collections::BTreeSet;

/// A bounded authority set.
pub type AuthoritySet = BoundedVec<AccountId, MAX_AUTHORITIES>;

/// Calls of the authority module.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub enum Call {
    /// Root only: the set that authors from the next block on.
    SetAuthorities { authorities: AuthoritySet },
    /// Root only: like `SetAuthorities`, but the change is forced (see the module docs).
    ForceSetAuthorities { authorities: AuthoritySet },
}

/// Events of the authority module.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize)]
pub enum Event {
    /// A new set was scheduled; it is active from the next block.
    AuthoritiesChanged { authorities: Vec<AccountId> },
}

/// The author of `slot` under `authorities` (`None` for an empty set).
pub fn slot_author(authorities: &[AccountId], slot: Slot) -> Option<&AccountId> {
    let n = u64::try_from(authorities.len()).ok().filter(|n| *n > 0)?;
    let index = usize::try_from(slot % n).ok()?;
    authorities.get(index)
}

/// Checks a set: non-empty, without duplicates or the all-zero key.
pub fn check_set(authorities: &[AccountId]) -> DispatchResult {
    if authorities.is_empty() {
        return Err(DispatchError::EmptyAuthoritySet);
    }
    if authorities.iter().any(AccountId::is_identity) {
        return Err(DispatchError::IdentityKey);
    }
    let mut seen = BTreeSet::new();
    if !authorities.iter().all(|a| seen.insert(a)) {
        return Err(DispatchError::DuplicateAuthority);
    }
    Ok(())
}

/// The current set.
pub fn authorities<S: Storage>(s: &S) -> Vec<AccountId> {
    storage::AUTHORITIES
        .get(s)
        .map(BoundedVec::into_inner)
        .unwrap_or_default()
}

/// Reads the current set from a state.
pub fn read_authorities(state: &dyn StateView) -> Vec<AccountId> {
    storage::AUTHORITIES
        .read(state)
        .map(BoundedVec::into_inner)
        .unwrap_or_default()
}

/// The author of the block being built.
pub fn current_author<S: Storage>(s: &S) -> Option<AccountId> {
    let set = authorities(s);
    slot_author(&set, crate::system::slot(s)).copied()
}

/// `authority.set_authorities` (`forced`: `force_set_authorities`): the caller has checked the
/// origin is root.
pub fn set_authorities<S: Storage>(
    s: &mut S,
    events: &mut Vec<crate::Event>,
    authorities: AuthoritySet,
    forced: bool,
) -> DispatchResult {
    check_set(&authorities)?;
    storage::PENDING.put(s, &authorities);
    if forced {
        storage::PENDING_FORCED.put(s, &true);
    } else {
        storage::PENDING_FORCED.kill(s);
    }
    events.push(crate::Event::Authority(Event::AuthoritiesChanged {
        authorities: authorities.to_vec(),
    }));
    Ok(())
}

/// End of block: makes a pending set current and returns it with whether it is forced (for the
/// header digest).
pub fn on_finalize<S: Storage>(s: &mut S) -> Option<(AuthoritySet, bool)> {
    let pending = storage::PENDING.get(s)?;
    let forced = storage::PENDING_FORCED.get(s).unwrap_or(false);
    storage::PENDING.kill(s);
    storage::PENDING_FORCED.kill(s);
    storage::AUTHORITIES.put(s, &pending);
    Some((pending, forced))
}
