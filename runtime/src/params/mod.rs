//! On-chain parameters: a typed enum of known parameters, each with bounds; set only by root.

use aitbc_primitives::{serde_balance, Balance};
use codec::{Decode, Encode};
use serde::{Deserialize, Serialize};

/// Every chain parameter with its current value. Stored as one value; defaults from the original
/// design.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Params {
    /// AIT minted per compute unit of a settled receipt.
    #[serde(with = "serde_balance")]
    pub mint_per_unit: Balance,
    /// Share of a receipt's mint paid to its coordinator, parts per million.
    pub coordinator_ratio_ppm: u32,
    /// Share of a receipt's mint paid to the treasury, parts per million.
    pub treasury_ratio_ppm: u32,
    /// Fixed part of every transaction fee.
    #[serde(with = "serde_balance")]
    pub base_fee: Balance,
    /// Fee per encoded byte of a transaction.
    #[serde(with = "serde_balance")]
    pub fee_per_byte: Balance,
    /// Share of each fee paid to the block author, parts per million; the rest to the treasury.
    pub fee_to_author_ppm: u32,
    /// Most compute units one receipt may claim.
    pub max_units_per_receipt: u64,
    /// Least amount that may create an account.
    #[serde(with = "serde_balance")]
    pub existential_deposit: Balance,
    /// Shortest and longest job lifetime, in blocks.
    pub min_job_lifetime: u64,
    pub max_job_lifetime: u64,
    /// Most AIT one coordinator's receipts may mint per epoch.
    #[serde(with = "serde_balance")]
    pub coordinator_mint_cap_per_epoch: Balance,
    /// Blocks per epoch.
    pub epoch_length: u64,
    /// Block limits.
    pub max_block_txs: u32,
    pub max_block_bytes: u64,
    pub max_tx_bytes: u64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            mint_per_unit: 1000,
            coordinator_ratio_ppm: 50_000,
            treasury_ratio_ppm: 0,
            base_fee: 10,
            fee_per_byte: 1,
            fee_to_author_ppm: 200_000,
            max_units_per_receipt: 1_000_000,
            existential_deposit: 1,
            min_job_lifetime: 1,
            max_job_lifetime: 100_000,
            coordinator_mint_cap_per_epoch: 1_000_000_000_000_000,
            epoch_length: 600,
            max_block_txs: 20_000,
            max_block_bytes: 4 * 1024 * 1024,
            max_tx_bytes: 64 * 1024,
        }
    }
}

/// One parameter with its new value: the argument of `params.set`.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[serde(tag = "key", content = "value", rename_all = "snake_case")]
pub enum Param {
    MintPerUnit(#[serde(with = "serde_balance")] Balance),
    CoordinatorRatioPpm(u32),
    TreasuryRatioPpm(u32),
    BaseFee(#[serde(with = "serde_balance")] Balance),
    FeePerByte(#[serde(with = "serde_balance")] Balance),
    FeeToAuthorPpm(u32),
    MaxUnitsPerReceipt(u64),
    ExistentialDeposit(#[serde(with = "serde_balance")] Balance),
    MinJobLifetime(u64),
    MaxJobLifetime(u64),
    CoordinatorMintCapPerEpoch(#[serde(with = "serde_balance")] Balance),
    EpochLength(u64),
    MaxBlockTxs(u32),
    MaxBlockBytes(u64),
    MaxTxBytes(u64),
}
