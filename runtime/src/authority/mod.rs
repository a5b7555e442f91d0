//! The authority module: the set of block authors.
//!
//! - The author of slot `s` follows the [`AuthorSchedule`] of the set and its weights (slots per
//!   cycle; equal weights, i.e. `authorities[s % n]`, unless an epoch election set them:
//!   [`crate::staking`]). `initialize_block` records the block's author ([`on_initialize`]);
//!   the runtime pays it the author's share of fees, the node checks seals against the same
//!   schedule ([`aitbc_primitives::StateMachine::author_schedule`]).
//! - `set_authorities{authorities}` (root only) stores a non-empty, duplicate-free set as
//!   *pending*, at equal weights (an election at the next epoch boundary replaces it). At the
//!   end of the block, `finalize_block` makes it the current set and signals it with
//!   `DigestItem::AuthoritiesChange(new_set)` in the header digest; the new set authors from
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
use aitbc_primitives::{AccountId, AuthorSchedule, StateView};
use codec::{Decode, Encode};
use serde::Serialize;
use std::collections::BTreeSet;

/// A bounded authority set.
pub type AuthoritySet = BoundedVec<AccountId, MAX_AUTHORITIES>;
/// Slots per cycle, one per authority of the set.
pub type Weights = BoundedVec<u32, MAX_AUTHORITIES>;

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

/// The schedule of a set with its stored weights (none: equal weights).
fn schedule(authorities: Vec<AccountId>, weights: Option<Weights>) -> AuthorSchedule {
    AuthorSchedule::new(
        authorities,
        weights.map(BoundedVec::into_inner).unwrap_or_default(),
    )
}

/// The author schedule in a state.
pub fn read_schedule(state: &dyn StateView) -> AuthorSchedule {
    schedule(read_authorities(state), storage::WEIGHTS.read(state))
}

/// Start of block: records the author of the block's slot.
pub fn on_initialize<S: Storage>(s: &mut S) -> Option<AccountId> {
    let schedule = schedule(authorities(s), storage::WEIGHTS.get(s));
    let author = schedule.author(crate::system::slot(s)).copied();
    match author {
        Some(a) => storage::AUTHOR.put(s, &a),
        None => storage::AUTHOR.kill(s),
    }
    author
}

/// The author of the block being built.
pub fn current_author<S: Storage>(s: &S) -> Option<AccountId> {
    storage::AUTHOR.get(s)
}

/// Makes `authorities` with `weights` the current set (an epoch election: the caller signals
/// it in the digest). A root change pending in the same block still wins.
pub fn set_weighted<S: Storage>(s: &mut S, authorities: AuthoritySet, weights: Weights) {
    storage::AUTHORITIES.put(s, &authorities);
    storage::WEIGHTS.put(s, &weights);
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
    storage::WEIGHTS.kill(s);
    Some((pending, forced))
}
