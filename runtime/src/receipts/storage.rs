//! Storage of the receipts module (prefix `twox128("Receipts")`).

use super::{EpochMints, Job, ReceiptRecord};
use crate::storage::StorageMap;
use aitbc_primitives::{AccountId, Hash, JobId};

pub const MODULE: &str = "Receipts";

/// Job escrows by `(client, job_id)`.
pub const JOBS: StorageMap<(AccountId, JobId), Job> = StorageMap::new(MODULE, "Jobs");
/// Registered coordinators.
pub const COORDINATORS: StorageMap<AccountId, ()> = StorageMap::new(MODULE, "Coordinators");
/// Each coordinator's base mints in its latest epoch with a claim (one entry per coordinator).
pub const EPOCH_MINTS: StorageMap<AccountId, EpochMints> = StorageMap::new(MODULE, "EpochMints");
/// Settled receipts by receipt id.
pub const RECEIPTS: StorageMap<Hash, ReceiptRecord> = StorageMap::new(MODULE, "Receipts");
