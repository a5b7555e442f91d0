//! Storage of the params module (prefix `twox128("Params")`).

use super::Params;
use crate::storage::StorageValue;

pub const MODULE: &str = "Params";

/// All parameters, one value.
pub const CURRENT: StorageValue<Params> = StorageValue::new(MODULE, "Current");
