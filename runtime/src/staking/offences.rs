//! Offence reports: checking a proof against the state, and the punishment (see the module docs
//! of [`crate::staking`]).
//!
//! Consensus-critical: every node must reach the same verdict on a report whatever order
//! reports arrive in. The verdict depends only on the proof and the state: the proof's own
//! check, the offender's membership in the current or previous set, and two records written by
//! the punishment (the offence's key, and the offender's slash in this epoch's span).

use super::{storage, OffenceRecord, StakingError};
use crate::arith::ppm_of;
use crate::error::{DispatchError, DispatchResult};
use crate::storage::Storage;
use crate::{balances, params};
use aitbc_primitives::codec_util::BoundedVec;
use aitbc_primitives::{AccountId, Hash, OffenceProof};

/// Checks a report before dispatch (and again at dispatch).
pub fn check_report<S: Storage>(
    s: &S,
    proof: &OffenceProof,
    genesis: &Hash,
) -> Result<(), StakingError> {
    proof.check(genesis)?;
    let info = storage::EPOCH.get(s).unwrap_or_default();
    let offender = proof.offender();
    let member =
        info.validators.iter().any(|e| e.who == offender) || info.previous.contains(&offender);
    if !member {
        return Err(StakingError::OffenderNotInSet);
    }
    if storage::REPORTED.contains(s, &proof.key()) {
        return Err(StakingError::OffenceAlreadyReported);
    }
    if storage::SPAN_SLASHED.contains(s, &(offender, info.index)) {
        return Err(StakingError::OffenderAlreadySlashed);
    }
    Ok(())
}

/// Punishes the offence `proof` shows, reported by `reporter` (checked by the caller).
pub fn punish<S: Storage>(
    s: &mut S,
    events: &mut Vec<crate::Event>,
    reporter: &AccountId,
    proof: &OffenceProof,
) -> DispatchResult {
    let p = params::current(s);
    let mut info = storage::EPOCH.get(s).unwrap_or_default();
    let offender = proof.offender();
    let mut ledger = super::ledger(s, &offender);
    let amount = ppm_of(ledger.total(), p.slash_ppm);
    // The bond first, then the unlocking chunks, latest first.
    let mut left = amount;
    let from_bond = left.min(ledger.bonded);
    ledger.bonded -= from_bond;
    left -= from_bond;
    for chunk in ledger.unlocking.iter_mut().rev() {
        let take = left.min(chunk.amount);
        chunk.amount -= take;
        left -= take;
    }
    let slashed = amount - left;
    storage::LEDGER.insert(s, &offender, &ledger);
    let to_reporter = ppm_of(slashed, p.reporter_share_ppm);
    balances::deposit(s, reporter, to_reporter)?;
    balances::to_treasury_or_burn(s, slashed - to_reporter)?;
    storage::REPORTED.insert(s, &proof.key(), &());
    storage::SPAN_SLASHED.insert(s, &(offender, info.index), &slashed);
    let disabled = info.validators.iter().filter(|e| e.disabled).count();
    let may_disable = disabled < info.validators.len().saturating_sub(1) / 3;
    if let Some(e) = info.validators.iter_mut().find(|e| e.who == offender) {
        if may_disable {
            e.disabled = true;
            storage::EPOCH.put(s, &info);
        }
    }
    super::remove_candidate(s, &offender)?;
    storage::JAILED_UNTIL.insert(
        s,
        &offender,
        &info.index.saturating_add(p.ban_epochs.max(1)),
    );
    let mut list = storage::OFFENCES
        .get(s)
        .map(BoundedVec::into_inner)
        .unwrap_or_default();
    if list.len() >= super::MAX_OFFENCE_RECORDS {
        list.remove(0);
    }
    list.push(OffenceRecord {
        kind: proof.kind(),
        offender,
        slot_or_round: proof.slot_or_round(),
        slashed,
        block_height: crate::system::block_number(s),
    });
    storage::OFFENCES.put(
        s,
        &BoundedVec::try_from_vec(list).map_err(|_| DispatchError::AmountOverflow)?,
    );
    events.push(crate::Event::Staking(super::Event::Slashed {
        offender,
        kind: proof.kind(),
        slot_or_round: proof.slot_or_round(),
        amount: slashed,
        reporter: *reporter,
        to_reporter,
    }));
    Ok(())
}
