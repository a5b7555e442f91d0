//! Storage of the authority module (prefix `twox128("Authority")`).

use super::{AuthoritySet, Weights};
use crate::storage::StorageValue;
use aitbc_primitives::AccountId;

pub const MODULE: &str = "Authority";

/// The current authority set.
pub const AUTHORITIES: StorageValue<AuthoritySet> = StorageValue::new(MODULE, "Authorities");
/// Slots per cycle of each authority (absent: equal weights).
pub const WEIGHTS: StorageValue<Weights> = StorageValue::new(MODULE, "Weights");
/// The author of the current block, from the schedule and the block's slot.
pub const AUTHOR: StorageValue<AccountId> = StorageValue::new(MODULE, "Author");
/// A set scheduled by `set_authorities` in the current block; moved to `AUTHORITIES` (and
/// signalled in the digest) by `finalize_block`.
pub const PENDING: StorageValue<AuthoritySet> = StorageValue::new(MODULE, "Pending");
/// Whether the pending set is forced (`force_set_authorities`).
pub const PENDING_FORCED: StorageValue<bool> = StorageValue::new(MODULE, "PendingForced");
