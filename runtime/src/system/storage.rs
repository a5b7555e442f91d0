//! Storage of the system module (prefix `twox128("System")`).

use crate::storage::{StorageMap, StorageValue};
use aitbc_primitives::{AccountId, BlockNumber, Hash, Nonce, Slot};

pub const MODULE: &str = "System";

/// The next nonce of each account that has sent a transaction.
pub const NONCE: StorageMap<AccountId, Nonce> = StorageMap::new(MODULE, "Nonce");
/// The number of the current (or last) block; 0 at genesis.
pub const NUMBER: StorageValue<BlockNumber> = StorageValue::new(MODULE, "Number");
/// The parent hash of the current (or last) block.
pub const PARENT_HASH: StorageValue<Hash> = StorageValue::new(MODULE, "ParentHash");
/// The slot of the current (or last) block.
pub const SLOT: StorageValue<Slot> = StorageValue::new(MODULE, "Slot");
/// Slot duration in milliseconds, fixed at genesis.
pub const SLOT_DURATION_MS: StorageValue<u64> = StorageValue::new(MODULE, "SlotDurationMs");
