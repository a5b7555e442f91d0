//! Storage of the staking module (prefix `twox128("Staking")`).

use super::{Backing, EpochInfo, Ledger, MinerRecord, OffenceRecord, Work, MAX_CANDIDATES};
use crate::storage::{StorageMap, StorageValue};
use aitbc_primitives::codec_util::BoundedVec;
use aitbc_primitives::{AccountId, Balance, OffenceKind};

pub const MODULE: &str = "Staking";

/// Each staker's bond and unlocking chunks.
pub const LEDGER: StorageMap<AccountId, Ledger> = StorageMap::new(MODULE, "Ledger");
/// Accounts that asked to validate, sorted (a value, not a map: the election reads them all and
/// the runtime never iterates a map).
pub const CANDIDATES: StorageValue<BoundedVec<AccountId, MAX_CANDIDATES>> =
    StorageValue::new(MODULE, "Candidates");
/// The validator each miner's work backs.
pub const BACKING: StorageMap<AccountId, Backing> = StorageMap::new(MODULE, "Backing");
/// Each validator's work score.
pub const WORK: StorageMap<AccountId, Work> = StorageMap::new(MODULE, "Work");
/// The current epoch and its elected validators.
pub const EPOCH: StorageValue<EpochInfo> = StorageValue::new(MODULE, "Epoch");
/// Validators that may not validate before an epoch (slashed ones), by account.
pub const JAILED_UNTIL: StorageMap<AccountId, u64> = StorageMap::new(MODULE, "JailedUntil");
/// Offences already punished, by `OffenceProof::key`.
pub const REPORTED: StorageMap<(OffenceKind, AccountId, u64, u64), ()> =
    StorageMap::new(MODULE, "Reported");
/// What an offender was slashed in an epoch (its slashing span).
pub const SPAN_SLASHED: StorageMap<(AccountId, u64), Balance> =
    StorageMap::new(MODULE, "SpanSlashed");
/// The most recent offences, oldest first.
pub const OFFENCES: StorageValue<BoundedVec<OffenceRecord, { super::MAX_OFFENCE_RECORDS }>> =
    StorageValue::new(MODULE, "Offences");
/// Each miner's revocations and ban.
pub const MINERS: StorageMap<AccountId, MinerRecord> = StorageMap::new(MODULE, "Miners");
