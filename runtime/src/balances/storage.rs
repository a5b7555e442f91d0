//! Storage of the balances module (prefix `twox128("Balances")`).

use crate::storage::{StorageMap, StorageValue};
use aitbc_primitives::{AccountId, Balance};

pub const MODULE: &str = "Balances";

/// The free balance of every existing account (an entry means the account exists).
pub const ACCOUNT: StorageMap<AccountId, Balance> = StorageMap::new(MODULE, "Account");
/// Sum of all balances and open escrows.
pub const TOTAL_ISSUANCE: StorageValue<Balance> = StorageValue::new(MODULE, "TotalIssuance");
/// The treasury account (fee remainder, receipt treasury share).
pub const TREASURY: StorageValue<AccountId> = StorageValue::new(MODULE, "Treasury");
/// Whether root may mint (`balances.mint`); fixed at genesis.
pub const FAUCET: StorageValue<bool> = StorageValue::new(MODULE, "Faucet");
