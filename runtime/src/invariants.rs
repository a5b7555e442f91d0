//! Invariants of a whole AITBC state, checked by [`aitbc_primitives::StateMachine::try_state`]:
//! the one copy that `aitbc-node check-db` and the runtime's tests both run.
//!
//! - **Issuance**: the total issuance equals the sum of every balance plus every open job
//!   escrow plus every bond and unlocking chunk. Transfers, fees, escrows, claims, refunds,
//!   bonds and slashes move value; only a receipt claim (and root's faucet) mints, a mint raises
//!   the total issuance by the same amount, and a revoked receipt's claw-back lowers it.

use crate::balances::storage::{ACCOUNT, TOTAL_ISSUANCE};
use crate::receipts::storage::JOBS;
use crate::staking::storage::LEDGER;
use aitbc_primitives::{Balance, JobStatus};
use codec::Decode;

/// The sums the issuance invariant compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Issuance {
    pub total_issuance: Balance,
    pub balances: Balance,
    pub open_escrows: Balance,
    /// Bonded plus unlocking.
    pub staked: Balance,
}

/// Sums the state's balances, open escrows and recorded total issuance.
pub fn issuance(entries: &mut dyn Iterator<Item = (&[u8], &[u8])>) -> Result<Issuance, String> {
    let total_key = TOTAL_ISSUANCE.key();
    let mut sums = Issuance::default();
    for (k, v) in entries {
        if k == total_key.as_slice() {
            sums.total_issuance = Balance::decode(&mut &v[..])
                .map_err(|_| "the total issuance does not decode".to_string())?;
        } else if let Some((_, b)) = ACCOUNT.decode_entry(k, v) {
            sums.balances = sums
                .balances
                .checked_add(b)
                .ok_or("the sum of balances overflows")?;
        } else if let Some((_, ledger)) = LEDGER.decode_entry(k, v) {
            sums.staked = sums
                .staked
                .checked_add(ledger.total())
                .ok_or("the sum of bonds overflows")?;
        } else if let Some((_, job)) = JOBS.decode_entry(k, v) {
            if job.status == JobStatus::Open {
                sums.open_escrows = sums
                    .open_escrows
                    .checked_add(job.price)
                    .ok_or("the sum of open escrows overflows")?;
            }
        }
    }
    Ok(sums)
}

/// `total issuance == sum of balances + open escrows + bonded + unlocking`.
pub fn check_issuance(entries: &mut dyn Iterator<Item = (&[u8], &[u8])>) -> Result<(), String> {
    let s = issuance(entries)?;
    let sum = s
        .balances
        .checked_add(s.open_escrows)
        .and_then(|x| x.checked_add(s.staked));
    if sum != Some(s.total_issuance) {
        return Err(format!(
            "total issuance {} != balances {} + open escrows {} + staked {}",
            s.total_issuance, s.balances, s.open_escrows, s.staked
        ));
    }
    Ok(())
}
