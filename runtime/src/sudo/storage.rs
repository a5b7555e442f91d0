//! Storage of the sudo module (prefix `twox128("Sudo")`).

use crate::storage::StorageValue;
use aitbc_primitives::AccountId;

pub const MODULE: &str = "Sudo";

/// The sudo key; absent on chains without root access.
pub const KEY: StorageValue<AccountId> = StorageValue::new(MODULE, "Key");
