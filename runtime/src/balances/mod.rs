//! The balances module: AIT balances, total issuance, fees and the faucet.
//!
//! Protocol:
//! - An account exists once it holds a balance entry; accounts are never reaped, so an entry (and
//!   its nonce) stays even at zero balance.
//! - The existential deposit (`Params::existential_deposit`) is the least amount that may create
//!   an account: a `transfer` (or faucet `mint`) of less to an account that does not exist fails
//!   with `below_existential_deposit`. Protocol payouts (fee shares, receipt settlement and mints)
//!   create their recipient whatever the amount, except that a zero payout creates nothing.
//! - `mint{dest, amount}` is root only and fails with `faucet_disabled` unless the chain's
//!   genesis enabled the faucet.
//! - Fees: the executive withdraws a transaction's whole fee before dispatch and splits it:
//!   `floor(fee * fee_to_author_ppm / 10^6)` to the block's author (recorded at the block's
//!   start from the header slot and the author schedule in state: [`crate::authority`]), the
//!   rest to the treasury account set at genesis.
//!
//! Invariant (checked after every block in tests): `TotalIssuance == sum of all balances + all
//! open escrows`, and it changes only by mints (faucet and receipt mints). Every write here is
//! checked arithmetic; preconditions are checked before any write.

pub mod storage;
#[cfg(test)]
mod tests;

use crate::arith::ppm_of;
use crate::error::{DispatchError, DispatchResult};
use crate::storage::Storage;
use aitbc_primitives::{serde_balance, AccountId, Balance, StateView};
use codec::{Decode, Encode};
use serde::Serialize;

/// Calls of the balances module.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub enum Call {
    /// Moves `amount` from the signer to `dest`.
    Transfer {
        dest: AccountId,
        #[codec(compact)]
        amount: Balance,
    },
    /// Root only, faucet chains only: creates `amount` new AIT in `dest`.
    Mint {
        dest: AccountId,
        #[codec(compact)]
        amount: Balance,
    },
}

/// Events of the balances module.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize)]
pub enum Event {
    Transfer {
        from: AccountId,
        to: AccountId,
        #[serde(with = "serde_balance")]
        amount: Balance,
    },
    Minted {
        to: AccountId,
        #[serde(with = "serde_balance")]
        amount: Balance,
    },
    FeePaid {
        who: AccountId,
        #[serde(with = "serde_balance")]
        fee: Balance,
        #[serde(with = "serde_balance")]
        to_author: Balance,
        #[serde(with = "serde_balance")]
        to_treasury: Balance,
    },
}

/// The balance of `who` (0 if the account does not exist).
pub fn balance<S: Storage>(s: &S, who: &AccountId) -> Balance {
    storage::ACCOUNT.get(s, who).unwrap_or(0)
}

/// Whether `who` exists.
pub fn exists<S: Storage>(s: &S, who: &AccountId) -> bool {
    storage::ACCOUNT.contains(s, who)
}

pub fn total_issuance<S: Storage>(s: &S) -> Balance {
    storage::TOTAL_ISSUANCE.get(s).unwrap_or(0)
}

pub fn treasury<S: Storage>(s: &S) -> Option<AccountId> {
    storage::TREASURY.get(s)
}

pub fn faucet_enabled<S: Storage>(s: &S) -> bool {
    storage::FAUCET.get(s).unwrap_or(false)
}

/// Reads a balance from a state.
pub fn read_balance(state: &dyn StateView, who: &AccountId) -> Balance {
    storage::ACCOUNT.read(state, who).unwrap_or(0)
}

/// Reads the faucet flag from a state.
pub fn read_faucet_enabled(state: &dyn StateView) -> bool {
    storage::FAUCET.read(state).unwrap_or(false)
}

/// Takes `amount` from `who`.
pub fn withdraw<S: Storage>(s: &mut S, who: &AccountId, amount: Balance) -> DispatchResult {
    let current = balance(s, who);
    let next = current
        .checked_sub(amount)
        .ok_or(DispatchError::InsufficientBalance)?;
    if amount > 0 {
        storage::ACCOUNT.insert(s, who, &next);
    }
    Ok(())
}

/// Adds `amount` to `who`, creating the account (a zero amount creates nothing).
pub fn deposit<S: Storage>(s: &mut S, who: &AccountId, amount: Balance) -> DispatchResult {
    if amount == 0 {
        return Ok(());
    }
    let next = balance(s, who)
        .checked_add(amount)
        .ok_or(DispatchError::AmountOverflow)?;
    storage::ACCOUNT.insert(s, who, &next);
    Ok(())
}

/// Checks that `amount` may be deposited to `who` by a user-chosen transfer or faucet mint.
fn ensure_can_receive<S: Storage>(s: &S, who: &AccountId, amount: Balance) -> DispatchResult {
    match storage::ACCOUNT.get(s, who) {
        Some(b) => b
            .checked_add(amount)
            .map(|_| ())
            .ok_or(DispatchError::AmountOverflow),
        None if amount < crate::params::current(s).existential_deposit => {
            Err(DispatchError::BelowExistentialDeposit)
        }
        None => Ok(()),
    }
}

/// Removes `amount` (already taken from its holder) from the total issuance.
pub fn burn<S: Storage>(s: &mut S, amount: Balance) {
    let next = total_issuance(s).saturating_sub(amount);
    storage::TOTAL_ISSUANCE.put(s, &next);
}

/// Pays `amount` (already taken from its holder) to the treasury, or burns it on a chain
/// without one.
pub fn to_treasury_or_burn<S: Storage>(s: &mut S, amount: Balance) -> DispatchResult {
    match treasury(s) {
        Some(t) => deposit(s, &t, amount),
        None => {
            burn(s, amount);
            Ok(())
        }
    }
}

/// Adds `amount` to the total issuance.
pub fn issue<S: Storage>(s: &mut S, amount: Balance) -> DispatchResult {
    let next = total_issuance(s)
        .checked_add(amount)
        .ok_or(DispatchError::AmountOverflow)?;
    storage::TOTAL_ISSUANCE.put(s, &next);
    Ok(())
}

/// `balances.transfer` by `from`.
pub fn transfer<S: Storage>(
    s: &mut S,
    events: &mut Vec<crate::Event>,
    from: &AccountId,
    dest: &AccountId,
    amount: Balance,
) -> DispatchResult {
    if balance(s, from) < amount {
        return Err(DispatchError::InsufficientBalance);
    }
    if from != dest {
        ensure_can_receive(s, dest, amount)?;
    }
    withdraw(s, from, amount)?;
    deposit(s, dest, amount)?;
    events.push(crate::Event::Balances(Event::Transfer {
        from: *from,
        to: *dest,
        amount,
    }));
    Ok(())
}

/// `balances.mint`: the caller has checked the origin is root.
pub fn mint<S: Storage>(
    s: &mut S,
    events: &mut Vec<crate::Event>,
    dest: &AccountId,
    amount: Balance,
) -> DispatchResult {
    if !faucet_enabled(s) {
        return Err(DispatchError::FaucetDisabled);
    }
    ensure_can_receive(s, dest, amount)?;
    total_issuance(s)
        .checked_add(amount)
        .ok_or(DispatchError::AmountOverflow)?;
    issue(s, amount)?;
    deposit(s, dest, amount)?;
    events.push(crate::Event::Balances(Event::Minted { to: *dest, amount }));
    Ok(())
}

/// Whether `who` can pay `fee` now.
pub fn can_pay<S: Storage>(s: &S, who: &AccountId, fee: Balance) -> bool {
    balance(s, who) >= fee
}

/// Withdraws `fee` from `who` and pays it out: the author's share to `author` (all to the
/// treasury if there is none), the rest to the treasury (burned, reducing the total issuance, if
/// the chain has no treasury). Returns the `FeePaid` event.
pub fn charge_fee<S: Storage>(
    s: &mut S,
    who: &AccountId,
    fee: Balance,
    author: Option<&AccountId>,
) -> Result<crate::Event, DispatchError> {
    withdraw(s, who, fee)?;
    let to_author = match author {
        Some(_) => ppm_of(fee, crate::params::current(s).fee_to_author_ppm),
        None => 0,
    };
    let to_treasury = fee.saturating_sub(to_author);
    if let Some(author) = author {
        deposit(s, author, to_author)?;
    }
    to_treasury_or_burn(s, to_treasury)?;
    Ok(crate::Event::Balances(Event::FeePaid {
        who: *who,
        fee,
        to_author,
        to_treasury,
    }))
}
