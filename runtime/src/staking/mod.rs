//! The staking module: bonds, validator candidacy, work backing, epochs with elections, and the
//! punishment of equivocations. Anyone can bond AIT and validate; block authorship follows bond
//! and verified compute ([`weights`]); an equivocating authority loses part of its bond.
//!
//! ## Bonds
//! - `bond{amount}` locks `amount` of the signer's free balance in its ledger (the amount and
//!   the fee must be free). `unbond{amount}` moves bonded funds into an unlocking chunk released
//!   at epoch `current + bonding_duration` (chunks released in the same epoch merge; at most
//!   [`MAX_UNLOCKING_CHUNKS`]). `withdraw_unbonded{}` frees every released chunk.
//! - Bonded and unlocking funds are part of the total issuance (free balances, open escrows,
//!   bonded and unlocking funds sum to it: [`crate::invariants`]). Only mints raise it; only
//!   receipt claw-backs (and fees burned on a chain without treasury) lower it. A slash moves
//!   funds from a ledger to the reporter and the treasury.
//!
//! ## Validators and backing
//! - `validate{}`: the signer (its account key is its authority key) becomes a candidate; it
//!   needs a bond of at least `min_validator_bond` and must not be jailed. `chill{}` withdraws
//!   the candidacy (it stays in the current set until the epoch ends).
//! - `back{validator}`: a miner names the candidate its work backs, effective from the next
//!   epoch (until then its claims credit the validator it backed before, if any).
//!
//! ## Epochs and elections
//! An epoch lasts `epoch_length` blocks. At the end of its last block the next set is elected
//! from the state of that block: candidates with a bond of at least `min_validator_bond` that
//! are not jailed, weighted by [`weights::weights`], the top `max_validators` by weight (ties:
//! lower address), listed by address. Their slots per cycle ([`weights::slots`]) fix the
//! author schedule ([`aitbc_primitives::AuthorSchedule`], CometBFT's proposer priority). The
//! block's digest carries `DigestItem::EpochChange` (the set, its slots, the schedule hash, and
//! whether the members changed): authors follow the new schedule from the next block; when the
//! members changed it is a set change for finality, enacted once this block is final (votes
//! stay one per elected validator); when only the weights changed, finality goes on with the
//! same set. With no eligible candidate the current set carries on. Genesis bonds each spec authority
//! `min_validator_bond` (created with the genesis issuance) and makes it a candidate.
//!
//! ## Work score
//! A validator's work score is the compute units of receipts claimed by miners backing it,
//! smoothed per epoch: `score = (score * (k - 1) + units_this_epoch) / k` with
//! `k = work_ema_epochs`, folded lazily when the validator is next touched. A revoked receipt's
//! units leave the score it raised (see [`crate::receipts`]); a miner with `max_revocations`
//! revocations within `revocation_window` epochs may not claim for `ban_epochs` epochs.
//!
//! ## Offences ([`offences`])
//! `report{proof}` by anyone: a block or vote equivocation ([`aitbc_primitives::OffenceProof`])
//! by a member of the current or previous set. Checked before dispatch (signatures included);
//! slashes `slash_ppm` of the offender's bond once per offence and once per slashing span (the
//! epoch it is reported in: the span's slash is the max of its offences, not their sum), pays
//! `reporter_share_ppm` of it to the reporter and the rest to the treasury, disables the
//! offender for the rest of the epoch (its blocks are invalid), removes its candidacy and jails
//! it for `ban_epochs` epochs. At most `(n - 1) / 3` of the `n` validators of the epoch are
//! disabled at once (as Substrate's disabling limit): past that the offender is slashed, chilled
//! and jailed but keeps authoring, so offences can never leave an epoch without authors (a
//! single validator is never disabled).

mod error;
pub mod offences;
pub mod storage;
#[cfg(test)]
mod tests;
pub mod weights;

pub use error::StakingError;

use crate::error::{DispatchError, DispatchResult};
use crate::storage::Storage;
use crate::{balances, params, Params};
use aitbc_primitives::codec_util::BoundedVec;
use aitbc_primitives::{
    serde_balance, AccountId, AuthorSchedule, Balance, BlockNumber, EpochChange, Hash, OffenceKind,
    OffenceProof, StateView,
};
use codec::{Decode, Encode};
use serde::Serialize;
use weights::{Standing, WeightParams};

/// Most unlocking chunks per ledger.
pub const MAX_UNLOCKING_CHUNKS: usize = 32;
/// Most validator candidates.
pub const MAX_CANDIDATES: usize = 1024;
/// Offences kept for queries (the oldest are dropped).
pub const MAX_OFFENCE_RECORDS: usize = 256;
/// Revocations remembered per miner.
const MAX_REVOCATION_RECORDS: usize = 64;

/// A bonded amount on its way out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode, Serialize)]
pub struct Unlocking {
    #[codec(compact)]
    #[serde(with = "serde_balance")]
    pub amount: Balance,
    /// The epoch from which it may be withdrawn.
    pub epoch: u64,
}

/// A staker's bond.
#[derive(Debug, Clone, PartialEq, Eq, Default, Encode, Decode)]
pub struct Ledger {
    #[codec(compact)]
    pub bonded: Balance,
    /// At most [`MAX_UNLOCKING_CHUNKS`] (checked before each unbond), oldest first.
    pub unlocking: Vec<Unlocking>,
}

impl Ledger {
    /// Bonded plus unlocking: what a slash can reach.
    pub fn total(&self) -> Balance {
        self.unlocking
            .iter()
            .fold(self.bonded, |a, c| a.saturating_add(c.amount))
    }
}

/// The validator a miner's work backs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
pub struct Backing {
    pub validator: AccountId,
    /// The epoch from which claims credit `validator`.
    pub from_epoch: u64,
    /// Who claims credit before that epoch.
    pub before: Option<AccountId>,
}

impl Backing {
    /// The validator credited in `epoch`.
    pub fn credited(&self, epoch: u64) -> Option<AccountId> {
        if epoch >= self.from_epoch {
            Some(self.validator)
        } else {
            self.before
        }
    }
}

/// A validator's work score, folded up to `epoch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Encode, Decode)]
pub struct Work {
    pub score: u128,
    pub this_epoch: u128,
    pub epoch: u64,
}

impl Work {
    /// This score folded into `epoch` (see the module docs). Decay stops after 64 empty epochs
    /// (the score is then a small fraction of what it was, or zero).
    pub fn folded(mut self, epoch: u64, k: u32) -> Work {
        let k = u128::from(k.max(1));
        let mut steps = 0;
        while self.epoch < epoch && steps < 64 {
            self.score = (self.score.saturating_mul(k - 1)).saturating_add(self.this_epoch) / k;
            self.this_epoch = 0;
            self.epoch += 1;
            steps += 1;
        }
        if self.epoch < epoch {
            self.epoch = epoch;
        }
        self
    }
}

/// An elected validator of the current epoch.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct Elected {
    pub who: AccountId,
    pub weight_ppm: u32,
    /// Slots per cycle of the schedule.
    pub slots: u32,
    pub authored: u64,
    pub disabled: bool,
}

/// The current epoch.
#[derive(Debug, Clone, PartialEq, Eq, Default, Encode, Decode)]
pub struct EpochInfo {
    pub index: u64,
    /// Its first block.
    pub start: BlockNumber,
    pub validators: Vec<Elected>,
    /// The previous epoch's validators (offences by them are still punished).
    pub previous: Vec<AccountId>,
    pub schedule_hash: Hash,
}

/// A punished offence, for queries.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize)]
pub struct OffenceRecord {
    pub kind: OffenceKind,
    pub offender: AccountId,
    pub slot_or_round: u64,
    #[serde(with = "serde_balance")]
    pub slashed: Balance,
    pub block_height: BlockNumber,
}

/// A miner's revocations (epochs, oldest first) and ban.
#[derive(Debug, Clone, PartialEq, Eq, Default, Encode, Decode)]
pub struct MinerRecord {
    pub revocations: BoundedVec<u64, MAX_REVOCATION_RECORDS>,
    /// The first epoch in which it may claim again.
    pub banned_until: u64,
}

/// Calls of the staking module.
#[allow(clippy::large_enum_variant)] // a report carries two headers; reports are rare
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub enum Call {
    Bond {
        #[codec(compact)]
        amount: Balance,
    },
    Unbond {
        #[codec(compact)]
        amount: Balance,
    },
    WithdrawUnbonded,
    Validate,
    Chill,
    Back {
        validator: AccountId,
    },
    Report {
        proof: OffenceProof,
    },
}

/// Events of the staking module.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize)]
pub enum Event {
    Bonded {
        who: AccountId,
        #[serde(with = "serde_balance")]
        amount: Balance,
    },
    Unbonded {
        who: AccountId,
        #[serde(with = "serde_balance")]
        amount: Balance,
        withdrawable_at_epoch: u64,
    },
    Withdrawn {
        who: AccountId,
        #[serde(with = "serde_balance")]
        amount: Balance,
    },
    Validating {
        who: AccountId,
    },
    Chilled {
        who: AccountId,
    },
    Backed {
        miner: AccountId,
        validator: AccountId,
        from_epoch: u64,
    },
    Slashed {
        offender: AccountId,
        kind: OffenceKind,
        slot_or_round: u64,
        #[serde(with = "serde_balance")]
        amount: Balance,
        reporter: AccountId,
        #[serde(with = "serde_balance")]
        to_reporter: Balance,
    },
    MinerBanned {
        miner: AccountId,
        until_epoch: u64,
    },
}

/// The current epoch's index (0 before the first election).
pub fn current_epoch<S: Storage>(s: &S) -> u64 {
    storage::EPOCH.get(s).map_or(0, |e| e.index)
}

pub fn ledger<S: Storage>(s: &S, who: &AccountId) -> Ledger {
    storage::LEDGER.get(s, who).unwrap_or_default()
}

fn candidates<S: Storage>(s: &S) -> Vec<AccountId> {
    storage::CANDIDATES
        .get(s)
        .map(BoundedVec::into_inner)
        .unwrap_or_default()
}

fn is_candidate<S: Storage>(s: &S, who: &AccountId) -> bool {
    candidates(s).binary_search(who).is_ok()
}

fn jailed<S: Storage>(s: &S, who: &AccountId) -> bool {
    storage::JAILED_UNTIL
        .get(s, who)
        .is_some_and(|until| current_epoch(s) < until)
}

/// Checks a staking call by `who`, who pays `fee` for it (0 at dispatch: already paid), before
/// dispatch. `genesis` is for offence proofs' signatures.
pub fn check<S: Storage>(
    s: &S,
    who: &AccountId,
    call: &Call,
    fee: Balance,
    genesis: &Hash,
) -> Result<(), StakingError> {
    let epoch = current_epoch(s);
    let l = ledger(s, who);
    match call {
        Call::Bond { amount } => {
            if *amount == 0 {
                return Err(StakingError::ZeroAmount);
            }
            if amount
                .checked_add(fee)
                .is_none_or(|need| balances::balance(s, who) < need)
            {
                return Err(StakingError::BondExceedsFree);
            }
        }
        Call::Unbond { amount } => {
            if *amount == 0 {
                return Err(StakingError::ZeroAmount);
            }
            if *amount > l.bonded {
                return Err(StakingError::UnbondExceedsBond);
            }
            let release = epoch.saturating_add(params::current(s).bonding_duration);
            let merges = l.unlocking.last().is_some_and(|c| c.epoch == release);
            if !merges && l.unlocking.len() >= MAX_UNLOCKING_CHUNKS {
                return Err(StakingError::TooManyUnlockingChunks);
            }
        }
        Call::WithdrawUnbonded => {
            if !l.unlocking.iter().any(|c| c.epoch <= epoch) {
                return Err(StakingError::NothingToWithdraw);
            }
        }
        Call::Validate => {
            if is_candidate(s, who) {
                return Err(StakingError::AlreadyValidating);
            }
            if jailed(s, who) {
                return Err(StakingError::Jailed);
            }
            if l.bonded < params::current(s).min_validator_bond || l.bonded == 0 {
                return Err(StakingError::BondBelowMinimum);
            }
            if candidates(s).len() >= MAX_CANDIDATES {
                return Err(StakingError::TooManyCandidates);
            }
        }
        Call::Chill => {
            if !is_candidate(s, who) {
                return Err(StakingError::NotValidating);
            }
        }
        Call::Back { validator } => {
            if !is_candidate(s, validator) {
                return Err(StakingError::NotAValidator);
            }
        }
        Call::Report { proof } => offences::check_report(s, proof, genesis)?,
    }
    Ok(())
}

/// Dispatches a staking call signed by `who` (re-checking it first).
pub fn dispatch<S: Storage>(
    s: &mut S,
    events: &mut Vec<crate::Event>,
    who: &AccountId,
    call: &Call,
    genesis: &Hash,
) -> DispatchResult {
    check(s, who, call, 0, genesis).map_err(DispatchError::Staking)?;
    let epoch = current_epoch(s);
    let mut l = ledger(s, who);
    let event = match call {
        Call::Bond { amount } => {
            balances::withdraw(s, who, *amount)?;
            l.bonded = l
                .bonded
                .checked_add(*amount)
                .ok_or(DispatchError::AmountOverflow)?;
            storage::LEDGER.insert(s, who, &l);
            Event::Bonded {
                who: *who,
                amount: *amount,
            }
        }
        Call::Unbond { amount } => {
            let release = epoch.saturating_add(params::current(s).bonding_duration);
            l.bonded -= *amount;
            match l.unlocking.last_mut() {
                Some(c) if c.epoch == release => c.amount = c.amount.saturating_add(*amount),
                _ => l.unlocking.push(Unlocking {
                    amount: *amount,
                    epoch: release,
                }),
            }
            storage::LEDGER.insert(s, who, &l);
            Event::Unbonded {
                who: *who,
                amount: *amount,
                withdrawable_at_epoch: release,
            }
        }
        Call::WithdrawUnbonded => {
            let (free, kept): (Vec<Unlocking>, Vec<Unlocking>) =
                l.unlocking.iter().partition(|c| c.epoch <= epoch);
            let amount = free.iter().fold(0u128, |a, c| a.saturating_add(c.amount));
            l.unlocking = kept;
            balances::deposit(s, who, amount)?;
            if l == Ledger::default() {
                storage::LEDGER.remove(s, who);
            } else {
                storage::LEDGER.insert(s, who, &l);
            }
            Event::Withdrawn { who: *who, amount }
        }
        Call::Validate => {
            let mut list = candidates(s);
            if let Err(at) = list.binary_search(who) {
                list.insert(at, *who);
            }
            put_candidates(s, list)?;
            Event::Validating { who: *who }
        }
        Call::Chill => {
            remove_candidate(s, who)?;
            Event::Chilled { who: *who }
        }
        Call::Back { validator } => {
            let before = storage::BACKING.get(s, who).and_then(|b| b.credited(epoch));
            let from_epoch = epoch.saturating_add(1);
            storage::BACKING.insert(
                s,
                who,
                &Backing {
                    validator: *validator,
                    from_epoch,
                    before,
                },
            );
            Event::Backed {
                miner: *who,
                validator: *validator,
                from_epoch,
            }
        }
        Call::Report { proof } => return offences::punish(s, events, who, proof),
    };
    events.push(crate::Event::Staking(event));
    Ok(())
}

fn put_candidates<S: Storage>(s: &mut S, list: Vec<AccountId>) -> DispatchResult {
    let list = BoundedVec::try_from_vec(list)
        .map_err(|_| DispatchError::Staking(StakingError::TooManyCandidates))?;
    storage::CANDIDATES.put(s, &list);
    Ok(())
}

/// Removes `who` from the candidates (nothing if it is not one).
pub(crate) fn remove_candidate<S: Storage>(s: &mut S, who: &AccountId) -> DispatchResult {
    let mut list = candidates(s);
    if let Ok(at) = list.binary_search(who) {
        list.remove(at);
        put_candidates(s, list)?;
    }
    Ok(())
}

/// Whether `miner` is banned from claiming now.
pub fn miner_banned<S: Storage>(s: &S, miner: &AccountId) -> bool {
    storage::MINERS
        .get(s, miner)
        .is_some_and(|m| current_epoch(s) < m.banned_until)
}

/// Credits a claim's `units` to the validator `miner` backs this epoch; returns it with the
/// epoch (what a revocation needs to take the units back).
pub fn credit_work<S: Storage>(
    s: &mut S,
    miner: &AccountId,
    units: u64,
) -> (Option<AccountId>, u64) {
    let epoch = current_epoch(s);
    let validator = storage::BACKING
        .get(s, miner)
        .and_then(|b| b.credited(epoch));
    if let Some(v) = validator {
        let k = params::current(s).work_ema_epochs;
        let mut w = storage::WORK
            .get(s, &v)
            .unwrap_or_default()
            .folded(epoch, k);
        w.this_epoch = w.this_epoch.saturating_add(u128::from(units));
        storage::WORK.insert(s, &v, &w);
    }
    (validator, epoch)
}

/// Takes a revoked claim's `units` (credited to `validator` in `epoch`) back out of its score,
/// and counts the revocation against `miner` (banning it at `max_revocations`).
pub fn revoke_work<S: Storage>(
    s: &mut S,
    events: &mut Vec<crate::Event>,
    miner: &AccountId,
    validator: Option<AccountId>,
    epoch: u64,
    units: u64,
) {
    let now = current_epoch(s);
    let p = params::current(s);
    if let Some(v) = validator {
        let mut w = storage::WORK
            .get(s, &v)
            .unwrap_or_default()
            .folded(now, p.work_ema_epochs);
        let units = u128::from(units);
        if epoch == now {
            w.this_epoch = w.this_epoch.saturating_sub(units);
        } else {
            w.score = w.score.saturating_sub(units);
        }
        storage::WORK.insert(s, &v, &w);
    }
    let mut record = storage::MINERS.get(s, miner).unwrap_or_default();
    let window_start = now.saturating_sub(p.revocation_window);
    let mut recent: Vec<u64> = record
        .revocations
        .iter()
        .copied()
        .filter(|e| *e >= window_start)
        .collect();
    if recent.len() >= MAX_REVOCATION_RECORDS {
        recent.remove(0);
    }
    recent.push(now);
    if recent.len() >= p.max_revocations as usize {
        record.banned_until = now.saturating_add(p.ban_epochs).saturating_add(1);
        events.push(crate::Event::Staking(Event::MinerBanned {
            miner: *miner,
            until_epoch: record.banned_until,
        }));
    }
    record.revocations = BoundedVec::try_from_vec(recent).unwrap_or_default();
    storage::MINERS.insert(s, miner, &record);
}

/// Start of block: counts the block for its author.
pub fn note_author<S: Storage>(s: &mut S, author: &AccountId) {
    let Some(mut info) = storage::EPOCH.get(s) else {
        return;
    };
    if let Some(e) = info.validators.iter_mut().find(|e| e.who == *author) {
        e.authored = e.authored.saturating_add(1);
        storage::EPOCH.put(s, &info);
    }
}

/// `author` if it was disabled for an offence in `parent`, the state the block starts from (its
/// block is then invalid). Disabling during the block does not count: a report included in a
/// block its offender authored leaves that block valid.
pub fn disabled_at_start(parent: &dyn StateView, author: AccountId) -> Option<AccountId> {
    read_disabled(parent).contains(&author).then_some(author)
}

/// The elected set of the epoch after `epoch` from the current state (see the module docs):
/// each validator with its weight and slots, listed by address. Empty without an eligible
/// candidate.
fn elect<S: Storage>(s: &S, next_epoch: u64, p: &Params) -> Vec<Elected> {
    let wp = WeightParams {
        floor_ppm: p.weight_floor_ppm,
        mix_ppm: p.work_stake_mix_ppm,
        cap_ppm: p.weight_cap_ppm,
    };
    let standing = |who: AccountId| Standing {
        who,
        bond: ledger(s, &who).bonded,
        work: storage::WORK
            .get(s, &who)
            .unwrap_or_default()
            .folded(next_epoch, p.work_ema_epochs)
            .score,
    };
    let mut eligible: Vec<Standing> = candidates(s)
        .into_iter()
        .filter(|who| !jailed(s, who))
        .map(standing)
        .filter(|st| st.bond >= p.min_validator_bond && st.bond > 0)
        .collect();
    let first = weights::weights(&eligible, wp);
    let mut ranked: Vec<(u32, Standing)> = first.into_iter().zip(eligible.drain(..)).collect();
    ranked.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.who.cmp(&b.1.who)));
    ranked.truncate(p.max_validators as usize);
    let mut chosen: Vec<Standing> = ranked.into_iter().map(|(_, st)| st).collect();
    chosen.sort_by_key(|st| st.who);
    let w = weights::weights(&chosen, wp);
    let slots = weights::slots(&w, p.weight_cap_ppm);
    chosen
        .into_iter()
        .zip(w.into_iter().zip(slots))
        .map(|(st, (weight_ppm, slots))| Elected {
            who: st.who,
            weight_ppm,
            slots,
            authored: 0,
            disabled: false,
        })
        .collect()
}

/// End of block `number`: when it ends the epoch, elects the next set, makes it the authority
/// set with its slots, and returns the digest item's content.
pub fn on_finalize<S: Storage>(s: &mut S, number: BlockNumber) -> Option<EpochChange> {
    let info = storage::EPOCH.get(s)?;
    let p = params::current(s);
    if number.saturating_add(1) < info.start.saturating_add(p.epoch_length) {
        return None;
    }
    let next = info.index.saturating_add(1);
    let mut validators = elect(s, next, &p);
    if validators.is_empty() {
        validators = info
            .validators
            .iter()
            .map(|e| Elected {
                authored: 0,
                disabled: false,
                ..e.clone()
            })
            .collect();
    }
    let authorities: Vec<AccountId> = validators.iter().map(|e| e.who).collect();
    let slots: Vec<u32> = validators.iter().map(|e| e.slots).collect();
    let schedule = AuthorSchedule::new(authorities.clone(), slots.clone());
    let mut before = crate::authority::authorities(s);
    before.sort();
    let mut after = authorities.clone();
    after.sort();
    let change = EpochChange {
        new_members: before != after,
        epoch: next,
        authorities: BoundedVec::try_from_vec(authorities).ok()?,
        weights: BoundedVec::try_from_vec(slots).ok()?,
        schedule_hash: schedule.hash(),
    };
    crate::authority::set_weighted(s, change.authorities.clone(), change.weights.clone());
    storage::EPOCH.put(
        s,
        &EpochInfo {
            index: next,
            start: number.saturating_add(1),
            previous: info.validators.iter().map(|e| e.who).collect(),
            validators,
            schedule_hash: change.schedule_hash,
        },
    );
    Some(change)
}

/// Genesis: bonds each authority `bond` (added to the issuance by the caller), makes it a
/// candidate, and opens epoch 0 with them at equal weight.
pub fn genesis<S: Storage>(s: &mut S, authorities: &[AccountId], bond: Balance) -> DispatchResult {
    for a in authorities {
        storage::LEDGER.insert(
            s,
            a,
            &Ledger {
                bonded: bond,
                unlocking: Vec::new(),
            },
        );
    }
    let mut sorted = authorities.to_vec();
    sorted.sort();
    put_candidates(s, sorted)?;
    let n = u32::try_from(authorities.len().max(1)).unwrap_or(u32::MAX);
    storage::EPOCH.put(
        s,
        &EpochInfo {
            index: 0,
            start: 1,
            validators: authorities
                .iter()
                .map(|who| Elected {
                    who: *who,
                    weight_ppm: 1_000_000 / n,
                    slots: 1,
                    authored: 0,
                    disabled: false,
                })
                .collect(),
            previous: Vec::new(),
            schedule_hash: AuthorSchedule::equal(authorities.to_vec()).hash(),
        },
    );
    Ok(())
}

/// The staking view of one account, for queries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StakingInfo {
    pub address: AccountId,
    #[serde(with = "serde_balance")]
    pub bonded: Balance,
    pub unlocking: Vec<Unlocking>,
    pub validating: bool,
    pub backs: Option<AccountId>,
}

/// One validator in [`ValidatorsInfo`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidatorInfo {
    pub address: AccountId,
    #[serde(with = "serde_balance")]
    pub bonded: Balance,
    /// The smoothed score, folded to the current epoch (decimal string: it is a `u128`).
    pub work_score: String,
    pub weight_ppm: u32,
    pub authored_this_epoch: u64,
    pub disabled: bool,
}

/// The current epoch and set, for queries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidatorsInfo {
    pub epoch: u64,
    pub epoch_start: BlockNumber,
    pub epoch_length: u64,
    /// The first block of the next epoch.
    pub next_epoch_at: BlockNumber,
    pub schedule_hash: Hash,
    pub validators: Vec<ValidatorInfo>,
    /// Every candidate with its bond (elected or not).
    pub candidates: Vec<ValidatorInfo>,
}

/// Reads the current epoch and set from a state.
pub fn read_validators(state: &dyn StateView) -> ValidatorsInfo {
    let info = storage::EPOCH.read(state).unwrap_or_default();
    let p = params::read(state);
    let info_of = |who: AccountId, elected: Option<&Elected>| ValidatorInfo {
        address: who,
        bonded: storage::LEDGER.read(state, &who).unwrap_or_default().bonded,
        work_score: storage::WORK
            .read(state, &who)
            .unwrap_or_default()
            .folded(info.index, p.work_ema_epochs)
            .score
            .to_string(),
        weight_ppm: elected.map_or(0, |e| e.weight_ppm),
        authored_this_epoch: elected.map_or(0, |e| e.authored),
        disabled: elected.is_some_and(|e| e.disabled),
    };
    ValidatorsInfo {
        epoch: info.index,
        epoch_start: info.start,
        epoch_length: p.epoch_length,
        next_epoch_at: info.start.saturating_add(p.epoch_length),
        schedule_hash: info.schedule_hash,
        validators: info
            .validators
            .iter()
            .map(|e| info_of(e.who, Some(e)))
            .collect(),
        candidates: storage::CANDIDATES
            .read(state)
            .map(BoundedVec::into_inner)
            .unwrap_or_default()
            .into_iter()
            .map(|who| info_of(who, info.validators.iter().find(|e| e.who == who)))
            .collect(),
    }
}

/// Reads one account's staking from a state.
pub fn read_staking(state: &dyn StateView, who: &AccountId) -> StakingInfo {
    let l = storage::LEDGER.read(state, who).unwrap_or_default();
    StakingInfo {
        address: *who,
        bonded: l.bonded,
        unlocking: l.unlocking,
        validating: storage::CANDIDATES
            .read(state)
            .is_some_and(|c| c.binary_search(who).is_ok()),
        backs: storage::BACKING.read(state, who).map(|b| b.validator),
    }
}

/// Reads the validators disabled for an offence this epoch.
pub fn read_disabled(state: &dyn StateView) -> Vec<AccountId> {
    storage::EPOCH
        .read(state)
        .map(|info| {
            info.validators
                .into_iter()
                .filter(|e| e.disabled)
                .map(|e| e.who)
                .collect()
        })
        .unwrap_or_default()
}

/// Reads the recent offences from a state, oldest first.
pub fn read_offences(state: &dyn StateView) -> Vec<OffenceRecord> {
    storage::OFFENCES
        .read(state)
        .map(BoundedVec::into_inner)
        .unwrap_or_default()
}
