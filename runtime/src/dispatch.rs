//! Origins, the pre-dispatch origin check, and dispatch of a [`Call`] to its module.
//!
//! Origin rules (checked before dispatch by [`check_origin`]: a violation makes the transaction
//! *invalid*, `bad_origin`, so it never enters a block):
//! - a signed account may submit `transfer`, `open_job`, `claim`, `refund`, `revoke` (the
//!   receipt's coordinator) and every `staking.*` call;
//! - root-only calls (`mint`, `add/remove_coordinator`, `params.set`, `set_authorities`) only
//!   arrive through `sudo.sudo`, which dispatches its inner call as [`Origin::Root`];
//! - `sudo.sudo` and `sudo.set_key` only from the sudo key;
//! - under root, calls that act for an account (`transfer`, `open_job`, `refund`) are refused:
//!   root has no balance. `claim` is fine under root (anyone may submit a claim).
//!
//! Nesting of `sudo` is bounded by [`MAX_CALL_DEPTH`] (and by the decoder's depth limit).

use crate::error::{DispatchError, DispatchResult};
use crate::storage::Storage;
use crate::{authority, balances, params, receipts, staking, sudo, Call, Event};
use aitbc_primitives::{AccountId, Hash, InvalidTransaction, ReceiptClaim};

/// Most `sudo` wrappers around one call.
pub const MAX_CALL_DEPTH: usize = 4;

/// Who dispatches a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The chain itself (via the sudo key).
    Root,
    /// A transaction signer.
    Signed(AccountId),
}

fn origin_ok(call: &Call, origin: &Origin, sudo_key: Option<&AccountId>, depth: usize) -> bool {
    if depth > MAX_CALL_DEPTH {
        return false;
    }
    let signed = matches!(origin, Origin::Signed(_));
    match call {
        Call::Balances(balances::Call::Transfer { .. })
        | Call::Receipts(receipts::Call::OpenJob { .. })
        | Call::Receipts(receipts::Call::Refund { .. })
        | Call::Receipts(receipts::Call::Revoke { .. })
        | Call::Staking(_) => signed,
        Call::Receipts(receipts::Call::Claim { .. }) => true,
        Call::Balances(balances::Call::Mint { .. })
        | Call::Receipts(receipts::Call::AddCoordinator { .. })
        | Call::Receipts(receipts::Call::RemoveCoordinator { .. })
        | Call::Params(_)
        | Call::Authority(_) => !signed,
        Call::Sudo(inner) => {
            let allowed = match origin {
                Origin::Root => true,
                Origin::Signed(who) => sudo_key == Some(who),
            };
            allowed
                && match inner {
                    sudo::Call::Sudo { call } => {
                        origin_ok(call, &Origin::Root, sudo_key, depth + 1)
                    }
                    sudo::Call::SetKey { .. } => true,
                }
        }
    }
}

/// Checks the origin rules of the module docs before dispatch.
pub fn check_origin(
    call: &Call,
    origin: &Origin,
    sudo_key: Option<&AccountId>,
) -> Result<(), InvalidTransaction> {
    if origin_ok(call, origin, sudo_key, 0) {
        Ok(())
    } else {
        Err(InvalidTransaction::BadOrigin)
    }
}

/// Every receipt claim a call carries (through `sudo` wrappers too), outermost first.
pub fn claims_in(call: &Call) -> Vec<&ReceiptClaim> {
    let mut out = Vec::new();
    let mut current = call;
    for _ in 0..=MAX_CALL_DEPTH {
        match current {
            Call::Receipts(receipts::Call::Claim { claim }) => {
                out.push(claim);
                break;
            }
            Call::Sudo(sudo::Call::Sudo { call }) => current = call,
            _ => break,
        }
    }
    out
}

fn signer(origin: &Origin) -> Result<&AccountId, DispatchError> {
    match origin {
        Origin::Signed(who) => Ok(who),
        Origin::Root => Err(DispatchError::BadOrigin),
    }
}

fn ensure_root(origin: &Origin) -> DispatchResult {
    match origin {
        Origin::Root => Ok(()),
        Origin::Signed(_) => Err(DispatchError::BadOrigin),
    }
}

/// Dispatches `call` from `origin`, appending its events. The executive runs this in its own
/// transactional layer and rolls the writes back on `Err`. Origins are re-checked here so a
/// caller that skipped [`check_origin`] still cannot escalate.
pub fn dispatch<S: Storage>(
    s: &mut S,
    events: &mut Vec<Event>,
    call: &Call,
    origin: Origin,
    genesis_hash: &Hash,
) -> DispatchResult {
    match call {
        Call::Balances(balances::Call::Transfer { dest, amount }) => {
            balances::transfer(s, events, signer(&origin)?, dest, *amount)
        }
        Call::Balances(balances::Call::Mint { dest, amount }) => {
            ensure_root(&origin)?;
            balances::mint(s, events, dest, *amount)
        }
        Call::Receipts(receipts::Call::OpenJob {
            job_id,
            coordinator,
            price,
            lifetime,
        }) => receipts::open_job(
            s,
            events,
            signer(&origin)?,
            *job_id,
            coordinator,
            *price,
            *lifetime,
        ),
        Call::Receipts(receipts::Call::Claim { claim }) => {
            receipts::claim(s, events, claim, genesis_hash)
        }
        Call::Receipts(receipts::Call::Refund { job_id }) => {
            receipts::refund(s, events, signer(&origin)?, *job_id)
        }
        Call::Receipts(receipts::Call::Revoke { receipt_id }) => {
            receipts::revoke(s, events, signer(&origin)?, receipt_id)
        }
        Call::Staking(call) => staking::dispatch(s, events, signer(&origin)?, call, genesis_hash),
        Call::Receipts(receipts::Call::AddCoordinator { who }) => {
            ensure_root(&origin)?;
            receipts::add_coordinator(s, events, who)
        }
        Call::Receipts(receipts::Call::RemoveCoordinator { who }) => {
            ensure_root(&origin)?;
            receipts::remove_coordinator(s, events, who)
        }
        Call::Params(params::Call::Set { param }) => {
            ensure_root(&origin)?;
            params::set(s, events, param.clone())
        }
        Call::Authority(authority::Call::SetAuthorities { authorities }) => {
            ensure_root(&origin)?;
            authority::set_authorities(s, events, authorities.clone(), false)
        }
        Call::Authority(authority::Call::ForceSetAuthorities { authorities }) => {
            ensure_root(&origin)?;
            authority::set_authorities(s, events, authorities.clone(), true)
        }
        Call::Sudo(inner) => {
            let key = sudo::key(s);
            let allowed = match &origin {
                Origin::Root => true,
                Origin::Signed(who) => key.as_ref() == Some(who),
            };
            if !allowed {
                return Err(DispatchError::BadOrigin);
            }
            match inner {
                sudo::Call::Sudo { call } => {
                    dispatch(s, events, call, Origin::Root, genesis_hash)?;
                    events.push(Event::Sudo(sudo::Event::Sudid { success: true }));
                    Ok(())
                }
                sudo::Call::SetKey { new } => sudo::set_key(s, events, *new),
            }
        }
    }
}
