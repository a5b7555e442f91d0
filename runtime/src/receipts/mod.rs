//! The receipts module: job escrows, compute receipts and the mint they trigger.
//!
//! ## Protocol
//! - `open_job{job_id, coordinator, price, lifetime}`: the signer (the *client*) locks `price`
//!   from its balance in an escrow keyed by `(client, job_id)` (job ids are the client's own, so
//!   nobody can squat another client's id; an id is never reused). The escrow names the one
//!   coordinator whose attestation may settle it (registered now) and expires at
//!   `block_number + lifetime`, with `min_job_lifetime <= lifetime <= max_job_lifetime`.
//! - `claim{claim}`: anyone may submit a [`ReceiptClaim`] (the miner's signature protects it).
//!   Every rule below is checked *before dispatch* ([`check_claim`]) by both the pool and block
//!   building/import, so an invalid claim is an invalid transaction that never enters a block:
//!   1. the escrow `(receipt.client, receipt.job_id)` exists and is open;
//!   2. block number `< expires_at`;
//!   3. the attesting coordinator (`receipt.coordinator`) is the escrow's coordinator,
//!   4. and is still registered;
//!   5. `miner != client`;
//!   6. the miner's signature and the coordinator's attestation are valid over
//!      `receipt.signed_message(genesis_hash)` (so no receipt is valid on another chain);
//!   7. `compute_units <= max_units_per_receipt`;
//!   8. `receipt.price <= escrowed price`;
//!   9. everything issued through the coordinator's receipts this epoch (`epoch = block_number /
//!      epoch_length`: base mints plus coordinator and treasury shares), plus what this receipt
//!      issues, stays within `coordinator_mint_cap_per_epoch`.
//! - Effects of a claim: `receipt.price` of the escrow to the miner, the rest back to the
//!   client; a base mint of `compute_units * mint_per_unit` to the miner, plus
//!   `floor(mint * coordinator_ratio_ppm / 10^6)` to the coordinator and
//!   `floor(mint * treasury_ratio_ppm / 10^6)` to the treasury; the escrow becomes `Claimed`
//!   (one claim per escrow); a receipt record (`receipt_id -> ReceiptRecord` with the block
//!   height) is stored; the total issuance grows by everything minted.
//!   10. the miner is not banned for revoked receipts ([`crate::staking`]).
//! - A claim credits its units to the work score of the validator its miner backs
//!   ([`crate::staking::credit_work`]).
//! - `refund{job_id}`: the client takes an open escrow back at or after `expires_at`.
//! - `revoke{receipt_id}`: the receipt's coordinator withdraws its attestation within
//!   `challenge_window` blocks of the claim: the units leave the backed validator's score, the
//!   miner's base mint is clawed back (up to its free balance) and burned, lowering the total
//!   issuance, and the revocation counts towards the miner's ban. Checked before dispatch
//!   ([`check_revoke`]): unknown or revoked receipt, another coordinator, a passed window.
//! - `add_coordinator{who}` / `remove_coordinator{who}`: root only.
//!
//! ## Invariants
//! - Open escrows are part of the total issuance (`TotalIssuance == balances + open escrows`).
//! - An escrow settles at most once (claimed or refunded), so a receipt id is claimed at most
//!   once and no escrow pays out twice.
//! - A compromised coordinator key can cause at most `coordinator_mint_cap_per_epoch` of new
//!   AIT per epoch; root can remove it.

mod claim_error;
pub mod storage;
#[cfg(test)]
mod tests;

pub use claim_error::ClaimError;

use crate::arith::ppm_of;
use crate::error::{DispatchError, DispatchResult};
use crate::staking::StakingError;
use crate::storage::Storage;
use crate::{balances, params, system};
use aitbc_primitives::{
    serde_balance, AccountId, Balance, BlockNumber, Hash, JobId, JobInfo, JobStatus, ReceiptClaim,
    ReceiptInfo, SigningContext, StateView,
};
use codec::{Decode, Encode};
use serde::Serialize;

/// Calls of the receipts module.
// A claim carries a whole receipt with two signatures (~400 bytes); boxing it would change
// the field type others match on, for no measurable gain.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub enum Call {
    /// Escrows `price` from the signer for a job that `coordinator` will attest.
    OpenJob {
        job_id: JobId,
        coordinator: AccountId,
        #[codec(compact)]
        price: Balance,
        lifetime: u64,
    },
    /// Settles an escrow with a signed and attested receipt, minting to the miner.
    Claim { claim: ReceiptClaim },
    /// The client takes back its expired escrow.
    Refund { job_id: JobId },
    /// Root only: registers a coordinator.
    AddCoordinator { who: AccountId },
    /// The receipt's coordinator revokes a claimed receipt (within the challenge window).
    Revoke { receipt_id: Hash },
    /// Root only: unregisters a coordinator (its open escrows can only be refunded).
    RemoveCoordinator { who: AccountId },
}

/// Events of the receipts module.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize)]
pub enum Event {
    JobOpened {
        client: AccountId,
        job_id: JobId,
        coordinator: AccountId,
        #[serde(with = "serde_balance")]
        price: Balance,
        expires_at: BlockNumber,
    },
    ReceiptClaimed {
        receipt_id: Hash,
        client: AccountId,
        job_id: JobId,
        miner: AccountId,
        coordinator: AccountId,
        /// Compute units the receipt settles.
        compute_units: u64,
        /// Escrow paid to the miner.
        #[serde(with = "serde_balance")]
        paid: Balance,
        /// Escrow returned to the client.
        #[serde(with = "serde_balance")]
        returned: Balance,
        /// Base mint to the miner.
        #[serde(with = "serde_balance")]
        minted: Balance,
        /// Minted to the coordinator (its cut).
        #[serde(with = "serde_balance")]
        to_coordinator: Balance,
        /// Minted to the treasury (0 without a treasury).
        #[serde(with = "serde_balance")]
        to_treasury: Balance,
    },
    Refunded {
        client: AccountId,
        job_id: JobId,
        #[serde(with = "serde_balance")]
        amount: Balance,
    },
    CoordinatorAdded {
        who: AccountId,
    },
    Revoked {
        receipt_id: Hash,
        miner: AccountId,
        compute_units: u64,
        /// Base mint taken back from the miner and burned.
        #[serde(with = "serde_balance")]
        clawed_back: Balance,
    },
    CoordinatorRemoved {
        who: AccountId,
    },
}

/// A job escrow as stored.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct Job {
    pub coordinator: AccountId,
    #[codec(compact)]
    pub price: Balance,
    pub expires_at: BlockNumber,
    pub status: JobStatus,
}

/// A settled receipt as stored under its id.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct ReceiptRecord {
    pub job_id: JobId,
    pub client: AccountId,
    pub miner: AccountId,
    pub coordinator: AccountId,
    pub compute_units: u64,
    /// Base mint to the miner (`compute_units * mint_per_unit`).
    pub minted: Balance,
    pub block_height: BlockNumber,
    /// The validator whose work score the units raised, and the staking epoch they count in.
    pub backed: Option<AccountId>,
    pub staking_epoch: u64,
    pub revoked: bool,
}

/// AIT issued through one coordinator's receipts in one epoch (all shares).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode, Default)]
pub struct EpochMints {
    pub epoch: u64,
    pub minted: Balance,
}

/// What a valid claim will do, computed by [`check_claim`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimPlan {
    pub job: Job,
    pub epoch: u64,
    /// AIT issued through the coordinator's receipts this epoch, including this claim.
    pub epoch_minted: Balance,
    pub mint: Balance,
    pub to_coordinator: Balance,
    pub to_treasury: Balance,
}

pub fn is_coordinator<S: Storage>(s: &S, who: &AccountId) -> bool {
    storage::COORDINATORS.contains(s, who)
}

/// Checks every claim rule (see the module docs) against the state of block `number`.
/// Signatures are verified unless `signatures_checked`.
pub fn check_claim<S: Storage>(
    s: &S,
    claim: &ReceiptClaim,
    number: BlockNumber,
    genesis_hash: &Hash,
    signatures_checked: bool,
) -> Result<ClaimPlan, ClaimError> {
    let r = &claim.receipt;
    let job = storage::JOBS
        .get(s, &(r.client, r.job_id))
        .ok_or(ClaimError::UnknownJob)?;
    if job.status != JobStatus::Open {
        return Err(ClaimError::AlreadySettled);
    }
    if number >= job.expires_at {
        return Err(ClaimError::JobExpired);
    }
    if r.coordinator != job.coordinator {
        return Err(ClaimError::WrongCoordinator);
    }
    if !is_coordinator(s, &r.coordinator) {
        return Err(ClaimError::UnknownCoordinator);
    }
    if r.miner == r.client {
        return Err(ClaimError::MinerIsClient);
    }
    if crate::staking::miner_banned(s, &r.miner) {
        return Err(ClaimError::MinerBanned);
    }
    if !signatures_checked {
        let msg = r.signed_message(genesis_hash);
        if !claim
            .miner_sig
            .verify(SigningContext::ReceiptMiner, &msg, &r.miner)
        {
            return Err(ClaimError::BadMinerSignature);
        }
        if !claim
            .attestation
            .verify(SigningContext::ReceiptAttest, &msg, &r.coordinator)
        {
            return Err(ClaimError::BadAttestation);
        }
    }
    let p = params::current(s);
    if r.compute_units > p.max_units_per_receipt {
        return Err(ClaimError::TooManyUnits);
    }
    if r.price > job.price {
        return Err(ClaimError::PriceAboveEscrow);
    }
    let epoch = number.checked_div(p.epoch_length).unwrap_or(0);
    let mint = Balance::from(r.compute_units)
        .checked_mul(p.mint_per_unit)
        .ok_or(ClaimError::MintCapExceeded)?;
    let to_coordinator = ppm_of(mint, p.coordinator_ratio_ppm);
    let to_treasury = ppm_of(mint, p.treasury_ratio_ppm);
    // Everything this receipt creates counts against its coordinator's cap.
    let issued = mint
        .checked_add(to_coordinator)
        .and_then(|m| m.checked_add(to_treasury))
        .ok_or(ClaimError::MintCapExceeded)?;
    let before = storage::EPOCH_MINTS
        .get(s, &r.coordinator)
        .filter(|m| m.epoch == epoch)
        .map_or(0, |m| m.minted);
    let epoch_minted = before
        .checked_add(issued)
        .ok_or(ClaimError::MintCapExceeded)?;
    if epoch_minted > p.coordinator_mint_cap_per_epoch {
        return Err(ClaimError::MintCapExceeded);
    }
    // Checked here, not at dispatch: a claim that passes must be able to settle.
    if crate::balances::total_issuance(s)
        .checked_add(issued)
        .is_none()
    {
        return Err(ClaimError::IssuanceOverflow);
    }
    Ok(ClaimPlan {
        job,
        epoch,
        epoch_minted,
        mint,
        to_coordinator,
        to_treasury,
    })
}

/// `receipts.open_job` by `client`.
#[allow(clippy::too_many_arguments)]
pub fn open_job<S: Storage>(
    s: &mut S,
    events: &mut Vec<crate::Event>,
    client: &AccountId,
    job_id: JobId,
    coordinator: &AccountId,
    price: Balance,
    lifetime: u64,
) -> DispatchResult {
    let key = (*client, job_id);
    if storage::JOBS.contains(s, &key) {
        return Err(DispatchError::JobExists);
    }
    if !is_coordinator(s, coordinator) {
        return Err(DispatchError::UnknownCoordinator);
    }
    let p = params::current(s);
    if lifetime < p.min_job_lifetime || lifetime > p.max_job_lifetime {
        return Err(DispatchError::LifetimeOutOfBounds);
    }
    let expires_at = system::block_number(s)
        .checked_add(lifetime)
        .ok_or(DispatchError::LifetimeOutOfBounds)?;
    balances::withdraw(s, client, price)?;
    let job = Job {
        coordinator: *coordinator,
        price,
        expires_at,
        status: JobStatus::Open,
    };
    storage::JOBS.insert(s, &key, &job);
    events.push(crate::Event::Receipts(Event::JobOpened {
        client: *client,
        job_id,
        coordinator: *coordinator,
        price,
        expires_at,
    }));
    Ok(())
}

/// `receipts.claim`. Re-checks the claim rules except signatures (verified before dispatch).
pub fn claim<S: Storage>(
    s: &mut S,
    events: &mut Vec<crate::Event>,
    claim: &ReceiptClaim,
    genesis_hash: &Hash,
) -> DispatchResult {
    let number = system::block_number(s);
    let plan = check_claim(s, claim, number, genesis_hash, true)
        .map_err(|_| DispatchError::InvalidClaim)?;
    let r = &claim.receipt;
    let returned = plan.job.price.saturating_sub(r.price);
    let treasury = balances::treasury(s);
    let to_treasury = if treasury.is_some() {
        plan.to_treasury
    } else {
        0
    };
    let issued = plan
        .mint
        .checked_add(plan.to_coordinator)
        .and_then(|x| x.checked_add(to_treasury))
        .ok_or(DispatchError::AmountOverflow)?;

    // Settle the escrow (already counted in the issuance), then mint.
    balances::deposit(s, &r.miner, r.price)?;
    balances::deposit(s, &r.client, returned)?;
    balances::issue(s, issued)?;
    balances::deposit(s, &r.miner, plan.mint)?;
    balances::deposit(s, &r.coordinator, plan.to_coordinator)?;
    if let Some(t) = treasury {
        balances::deposit(s, &t, to_treasury)?;
    }
    storage::JOBS.insert(
        s,
        &(r.client, r.job_id),
        &Job {
            status: JobStatus::Claimed,
            ..plan.job
        },
    );
    storage::EPOCH_MINTS.insert(
        s,
        &r.coordinator,
        &EpochMints {
            epoch: plan.epoch,
            minted: plan.epoch_minted,
        },
    );
    let receipt_id = r.id();
    let (backed, staking_epoch) = crate::staking::credit_work(s, &r.miner, r.compute_units);
    storage::RECEIPTS.insert(
        s,
        &receipt_id,
        &ReceiptRecord {
            job_id: r.job_id,
            client: r.client,
            miner: r.miner,
            coordinator: r.coordinator,
            compute_units: r.compute_units,
            minted: plan.mint,
            block_height: number,
            backed,
            staking_epoch,
            revoked: false,
        },
    );
    events.push(crate::Event::Receipts(Event::ReceiptClaimed {
        receipt_id,
        client: r.client,
        job_id: r.job_id,
        miner: r.miner,
        coordinator: r.coordinator,
        compute_units: r.compute_units,
        paid: r.price,
        returned,
        minted: plan.mint,
        to_coordinator: plan.to_coordinator,
        to_treasury,
    }));
    Ok(())
}

/// Checks a refund of `client`'s escrow `job_id` in block `number`: the escrow exists, is open
/// and has expired. Run before dispatch (an invalid refund never enters a block or pays a fee)
/// and again by the dispatch itself.
pub fn check_refund<S: Storage>(
    s: &S,
    client: &AccountId,
    job_id: JobId,
    number: BlockNumber,
) -> Result<Job, ClaimError> {
    let job = storage::JOBS
        .get(s, &(*client, job_id))
        .ok_or(ClaimError::UnknownJob)?;
    if job.status != JobStatus::Open {
        return Err(ClaimError::AlreadySettled);
    }
    if number < job.expires_at {
        return Err(ClaimError::NotExpired);
    }
    Ok(job)
}

/// `receipts.refund` by `client`.
pub fn refund<S: Storage>(
    s: &mut S,
    events: &mut Vec<crate::Event>,
    client: &AccountId,
    job_id: JobId,
) -> DispatchResult {
    let key = (*client, job_id);
    let job = check_refund(s, client, job_id, system::block_number(s)).map_err(|e| match e {
        ClaimError::UnknownJob => DispatchError::UnknownJob,
        ClaimError::NotExpired => DispatchError::NotExpired,
        _ => DispatchError::JobNotOpen,
    })?;
    balances::deposit(s, client, job.price)?;
    let amount = job.price;
    storage::JOBS.insert(
        s,
        &key,
        &Job {
            status: JobStatus::Refunded,
            ..job
        },
    );
    events.push(crate::Event::Receipts(Event::Refunded {
        client: *client,
        job_id,
        amount,
    }));
    Ok(())
}

/// `receipts.add_coordinator`: the caller has checked the origin is root.
pub fn add_coordinator<S: Storage>(
    s: &mut S,
    events: &mut Vec<crate::Event>,
    who: &AccountId,
) -> DispatchResult {
    if is_coordinator(s, who) {
        return Err(DispatchError::CoordinatorExists);
    }
    storage::COORDINATORS.insert(s, who, &());
    events.push(crate::Event::Receipts(Event::CoordinatorAdded {
        who: *who,
    }));
    Ok(())
}

/// `receipts.remove_coordinator`: the caller has checked the origin is root.
pub fn remove_coordinator<S: Storage>(
    s: &mut S,
    events: &mut Vec<crate::Event>,
    who: &AccountId,
) -> DispatchResult {
    if !is_coordinator(s, who) {
        return Err(DispatchError::UnknownCoordinator);
    }
    storage::COORDINATORS.remove(s, who);
    events.push(crate::Event::Receipts(Event::CoordinatorRemoved {
        who: *who,
    }));
    Ok(())
}

/// Whether `who` is a registered coordinator in a state.
pub fn read_is_coordinator(state: &dyn StateView, who: &AccountId) -> bool {
    storage::COORDINATORS.read(state, who).is_some()
}

/// Reads a job escrow from a state.
pub fn read_job(state: &dyn StateView, client: &AccountId, job_id: JobId) -> Option<JobInfo> {
    let job = storage::JOBS.read(state, &(*client, job_id))?;
    Some(JobInfo {
        job_id,
        client: *client,
        coordinator: job.coordinator,
        price: job.price,
        expires_at: job.expires_at,
        status: job.status,
    })
}

/// Reads a settled receipt from a state.
pub fn read_receipt(state: &dyn StateView, receipt_id: &Hash) -> Option<ReceiptInfo> {
    let r = storage::RECEIPTS.read(state, receipt_id)?;
    Some(ReceiptInfo {
        receipt_id: *receipt_id,
        job_id: r.job_id,
        client: r.client,
        miner: r.miner,
        coordinator: r.coordinator,
        compute_units: r.compute_units,
        minted: r.minted,
        block_height: r.block_height,
        revoked: r.revoked,
    })
}

/// Checks a revocation of `receipt_id` by `who` in block `number` (see the module docs).
pub fn check_revoke<S: Storage>(
    s: &S,
    who: &AccountId,
    receipt_id: &Hash,
    number: BlockNumber,
) -> Result<ReceiptRecord, StakingError> {
    let r = storage::RECEIPTS
        .get(s, receipt_id)
        .ok_or(StakingError::UnknownReceipt)?;
    if r.revoked {
        return Err(StakingError::AlreadyRevoked);
    }
    if r.coordinator != *who {
        return Err(StakingError::NotReceiptCoordinator);
    }
    let window = params::current(s).challenge_window;
    if number > r.block_height.saturating_add(window) {
        return Err(StakingError::ChallengeWindowPassed);
    }
    Ok(r)
}

/// `receipts.revoke` by `who` (see the module docs).
pub fn revoke<S: Storage>(
    s: &mut S,
    events: &mut Vec<crate::Event>,
    who: &AccountId,
    receipt_id: &Hash,
) -> DispatchResult {
    let number = system::block_number(s);
    let mut r = check_revoke(s, who, receipt_id, number).map_err(DispatchError::Staking)?;
    let clawed_back = r.minted.min(balances::balance(s, &r.miner));
    balances::withdraw(s, &r.miner, clawed_back)?;
    balances::burn(s, clawed_back);
    crate::staking::revoke_work(
        s,
        events,
        &r.miner,
        r.backed,
        r.staking_epoch,
        r.compute_units,
    );
    r.revoked = true;
    storage::RECEIPTS.insert(s, receipt_id, &r);
    events.push(crate::Event::Receipts(Event::Revoked {
        receipt_id: *receipt_id,
        miner: r.miner,
        compute_units: r.compute_units,
        clawed_back,
    }));
    Ok(())
}
