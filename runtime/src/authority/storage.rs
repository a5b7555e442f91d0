//! Storage of the authority module (prefix `twox128("Authority")`).

use super::AuthoritySet;
use crate::storage::StorageValue;

pub const MODULE: &str = "Authority";

/// The current authority set.
pub const AUTHORITIES: StorageValue<AuthoritySet> = StorageValue::new(MODULE, "Authorities");
/// A set scheduled by `set_authorities` in the current block; moved to `AUTHORITIES` (and
/// signalled in the digest) by `finalize_block`.
pub const PENDING: StorageValue<AuthoritySet> = StorageValue::new(MODULE, "Pending");
/// Whether the pending set is forced (`force_set_authorities`).
pub const PENDING_FORCED: StorageValue<bool> = StorageValue::new(MODULE, "PendingForced");
