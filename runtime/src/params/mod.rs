//! On-chain parameters: a typed enum of known parameters, each with bounds; set only by root.
//!
//! All parameters live in one [`Params`] value (`Params.Current`). `params.set{param}` (root
//! only) replaces one of them. A new value is accepted only if the whole [`Params`] stays within
//! bounds ([`Params::validate`]); otherwise the call fails with `param_out_of_bounds` and nothing
//! changes. The bounds keep every later computation in range:
//! - ratios are parts per million: each `<= 1_000_000`, and `coordinator_ratio_ppm +
//!   treasury_ratio_ppm <= 1_000_000` (a receipt never mints more than twice its base mint);
//! - `base_fee`, `fee_per_byte`, `weight_fee_per_ms` and `mint_per_unit` are at most 10^24, and
//!   `max_units_per_receipt` at most 10^12, so fees and mints fit a `u128` with room to spare;
//! - `1 <= base_fee` (no transaction is free), `1 <= existential_deposit`,
//!   `1 <= min_job_lifetime <= max_job_lifetime`,
//!   `epoch_length >= 1`;
//! - `256 <= max_tx_bytes <= max_block_bytes`, `max_block_txs >= 1`.
//!
//! Names: a parameter's name is the snake_case name of its [`Params`] field (`mint_per_unit`, …);
//! values are written as decimal strings ([`Param::parse`], [`Params::to_pairs`]).

pub mod storage;
#[cfg(test)]
mod tests;

use crate::error::{DispatchError, DispatchResult};
use crate::storage::Storage;
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
    /// Fee per millisecond of a call's weight (its measured import cost, [`crate::weight`]).
    #[serde(with = "serde_balance")]
    pub weight_fee_per_ms: Balance,
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
            weight_fee_per_ms: 1000,
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
    WeightFeePerMs(#[serde(with = "serde_balance")] Balance),
}

/// 100% in parts per million.
pub const MAX_PPM: u32 = crate::arith::PPM;
/// Upper bound of `base_fee` and `fee_per_byte`.
pub const MAX_FEE_COMPONENT: Balance = 1_000_000_000_000_000_000_000_000;
/// Upper bound of `mint_per_unit`.
pub const MAX_MINT_PER_UNIT: Balance = 1_000_000_000_000_000_000_000_000;
/// Upper bound of `max_units_per_receipt`.
pub const MAX_UNITS_PER_RECEIPT: u64 = 1_000_000_000_000;
/// Upper bound of `existential_deposit`.
pub const MAX_EXISTENTIAL_DEPOSIT: Balance = 1_000_000_000_000_000_000_000_000_000_000;
/// Upper bound of job lifetimes and the epoch length, in blocks.
pub const MAX_BLOCKS_PARAM: u64 = 1_000_000_000;
/// Lower bound of `max_tx_bytes` (a parameter-setting transaction must still fit).
pub const MIN_TX_BYTES: u64 = 256;
/// Upper bound of `max_block_bytes`.
pub const MAX_BLOCK_BYTES: u64 = 256 * 1024 * 1024;
/// Upper bound of `max_block_txs`.
pub const MAX_BLOCK_TXS: u32 = 1_000_000;

/// Every parameter name, in [`Params`] field order.
pub const PARAM_NAMES: [&str; 16] = [
    "mint_per_unit",
    "coordinator_ratio_ppm",
    "treasury_ratio_ppm",
    "base_fee",
    "fee_per_byte",
    "fee_to_author_ppm",
    "max_units_per_receipt",
    "existential_deposit",
    "min_job_lifetime",
    "max_job_lifetime",
    "coordinator_mint_cap_per_epoch",
    "epoch_length",
    "max_block_txs",
    "max_block_bytes",
    "max_tx_bytes",
    "weight_fee_per_ms",
];

/// Why a [`Params`] value is out of bounds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamsError {
    #[error("{0} exceeds 1000000 ppm (100%)")]
    RatioAbove100Percent(&'static str),
    #[error("coordinator_ratio_ppm + treasury_ratio_ppm exceeds 1000000 ppm (100%)")]
    RatioSumAbove100Percent,
    #[error("{name} = {value} is outside {min}..={max}")]
    OutOfRange {
        name: &'static str,
        value: u128,
        min: u128,
        max: u128,
    },
    #[error("min_job_lifetime exceeds max_job_lifetime")]
    LifetimeBoundsInverted,
    #[error("max_tx_bytes exceeds max_block_bytes")]
    TxLargerThanBlock,
}

/// Why a parameter name or value did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamParseError {
    #[error("unknown parameter {0:?}")]
    UnknownParam(String),
    #[error("invalid value for {key}: {reason}")]
    BadValue { key: String, reason: String },
}

fn range(name: &'static str, value: u128, min: u128, max: u128) -> Result<(), ParamsError> {
    if value < min || value > max {
        return Err(ParamsError::OutOfRange {
            name,
            value,
            min,
            max,
        });
    }
    Ok(())
}

fn ratio(name: &'static str, value: u32) -> Result<(), ParamsError> {
    if value > MAX_PPM {
        return Err(ParamsError::RatioAbove100Percent(name));
    }
    Ok(())
}

impl Params {
    /// Checks every bound listed in the module docs.
    pub fn validate(&self) -> Result<(), ParamsError> {
        ratio("coordinator_ratio_ppm", self.coordinator_ratio_ppm)?;
        ratio("treasury_ratio_ppm", self.treasury_ratio_ppm)?;
        ratio("fee_to_author_ppm", self.fee_to_author_ppm)?;
        if self
            .coordinator_ratio_ppm
            .saturating_add(self.treasury_ratio_ppm)
            > MAX_PPM
        {
            return Err(ParamsError::RatioSumAbove100Percent);
        }
        range("mint_per_unit", self.mint_per_unit, 0, MAX_MINT_PER_UNIT)?;
        // At least 1: a transaction is never free, so an empty account cannot write state.
        range("base_fee", self.base_fee, 1, MAX_FEE_COMPONENT)?;
        range("fee_per_byte", self.fee_per_byte, 0, MAX_FEE_COMPONENT)?;
        range(
            "weight_fee_per_ms",
            self.weight_fee_per_ms,
            0,
            MAX_FEE_COMPONENT,
        )?;
        range(
            "max_units_per_receipt",
            self.max_units_per_receipt.into(),
            1,
            MAX_UNITS_PER_RECEIPT.into(),
        )?;
        range(
            "existential_deposit",
            self.existential_deposit,
            1,
            MAX_EXISTENTIAL_DEPOSIT,
        )?;
        range(
            "min_job_lifetime",
            self.min_job_lifetime.into(),
            1,
            MAX_BLOCKS_PARAM.into(),
        )?;
        range(
            "max_job_lifetime",
            self.max_job_lifetime.into(),
            1,
            MAX_BLOCKS_PARAM.into(),
        )?;
        if self.min_job_lifetime > self.max_job_lifetime {
            return Err(ParamsError::LifetimeBoundsInverted);
        }
        range(
            "epoch_length",
            self.epoch_length.into(),
            1,
            MAX_BLOCKS_PARAM.into(),
        )?;
        range(
            "max_block_txs",
            self.max_block_txs.into(),
            1,
            MAX_BLOCK_TXS.into(),
        )?;
        range(
            "max_tx_bytes",
            self.max_tx_bytes.into(),
            MIN_TX_BYTES.into(),
            MAX_BLOCK_BYTES.into(),
        )?;
        range(
            "max_block_bytes",
            self.max_block_bytes.into(),
            MIN_TX_BYTES.into(),
            MAX_BLOCK_BYTES.into(),
        )?;
        if self.max_tx_bytes > self.max_block_bytes {
            return Err(ParamsError::TxLargerThanBlock);
        }
        Ok(())
    }

    /// Sets one parameter (unchecked).
    pub fn set(&mut self, param: &Param) {
        match *param {
            Param::MintPerUnit(v) => self.mint_per_unit = v,
            Param::CoordinatorRatioPpm(v) => self.coordinator_ratio_ppm = v,
            Param::TreasuryRatioPpm(v) => self.treasury_ratio_ppm = v,
            Param::BaseFee(v) => self.base_fee = v,
            Param::FeePerByte(v) => self.fee_per_byte = v,
            Param::FeeToAuthorPpm(v) => self.fee_to_author_ppm = v,
            Param::MaxUnitsPerReceipt(v) => self.max_units_per_receipt = v,
            Param::ExistentialDeposit(v) => self.existential_deposit = v,
            Param::MinJobLifetime(v) => self.min_job_lifetime = v,
            Param::MaxJobLifetime(v) => self.max_job_lifetime = v,
            Param::CoordinatorMintCapPerEpoch(v) => self.coordinator_mint_cap_per_epoch = v,
            Param::EpochLength(v) => self.epoch_length = v,
            Param::MaxBlockTxs(v) => self.max_block_txs = v,
            Param::MaxBlockBytes(v) => self.max_block_bytes = v,
            Param::MaxTxBytes(v) => self.max_tx_bytes = v,
            Param::WeightFeePerMs(v) => self.weight_fee_per_ms = v,
        }
    }

    /// These parameters with `param` set, if the result is within bounds.
    pub fn with(&self, param: &Param) -> Result<Params, ParamsError> {
        let mut next = self.clone();
        next.set(param);
        next.validate()?;
        Ok(next)
    }

    /// Every parameter as a [`Param`], in field order.
    pub fn to_params(&self) -> Vec<Param> {
        vec![
            Param::MintPerUnit(self.mint_per_unit),
            Param::CoordinatorRatioPpm(self.coordinator_ratio_ppm),
            Param::TreasuryRatioPpm(self.treasury_ratio_ppm),
            Param::BaseFee(self.base_fee),
            Param::FeePerByte(self.fee_per_byte),
            Param::FeeToAuthorPpm(self.fee_to_author_ppm),
            Param::MaxUnitsPerReceipt(self.max_units_per_receipt),
            Param::ExistentialDeposit(self.existential_deposit),
            Param::MinJobLifetime(self.min_job_lifetime),
            Param::MaxJobLifetime(self.max_job_lifetime),
            Param::CoordinatorMintCapPerEpoch(self.coordinator_mint_cap_per_epoch),
            Param::EpochLength(self.epoch_length),
            Param::MaxBlockTxs(self.max_block_txs),
            Param::MaxBlockBytes(self.max_block_bytes),
            Param::MaxTxBytes(self.max_tx_bytes),
            Param::WeightFeePerMs(self.weight_fee_per_ms),
        ]
    }

    /// `(name, decimal value)` pairs, in field order.
    pub fn to_pairs(&self) -> Vec<(String, String)> {
        self.to_params()
            .iter()
            .map(|p| (p.name().to_string(), p.value_string()))
            .collect()
    }
}

fn parse_num<T: std::str::FromStr>(key: &str, value: &str) -> Result<T, ParamParseError> {
    let v = value.trim();
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParamParseError::BadValue {
            key: key.to_string(),
            reason: format!("{value:?} is not a non-negative decimal integer"),
        });
    }
    v.parse::<T>().map_err(|_| ParamParseError::BadValue {
        key: key.to_string(),
        reason: format!("{value:?} does not fit the parameter's type"),
    })
}

impl Param {
    /// The snake_case name (the [`Params`] field it sets).
    pub fn name(&self) -> &'static str {
        PARAM_NAMES[self.index()]
    }

    fn index(&self) -> usize {
        match self {
            Param::MintPerUnit(_) => 0,
            Param::CoordinatorRatioPpm(_) => 1,
            Param::TreasuryRatioPpm(_) => 2,
            Param::BaseFee(_) => 3,
            Param::FeePerByte(_) => 4,
            Param::FeeToAuthorPpm(_) => 5,
            Param::MaxUnitsPerReceipt(_) => 6,
            Param::ExistentialDeposit(_) => 7,
            Param::MinJobLifetime(_) => 8,
            Param::MaxJobLifetime(_) => 9,
            Param::CoordinatorMintCapPerEpoch(_) => 10,
            Param::EpochLength(_) => 11,
            Param::MaxBlockTxs(_) => 12,
            Param::MaxBlockBytes(_) => 13,
            Param::MaxTxBytes(_) => 14,
            Param::WeightFeePerMs(_) => 15,
        }
    }

    /// The value as a decimal string.
    pub fn value_string(&self) -> String {
        match *self {
            Param::MintPerUnit(v)
            | Param::BaseFee(v)
            | Param::FeePerByte(v)
            | Param::ExistentialDeposit(v)
            | Param::CoordinatorMintCapPerEpoch(v)
            | Param::WeightFeePerMs(v) => v.to_string(),
            Param::CoordinatorRatioPpm(v)
            | Param::TreasuryRatioPpm(v)
            | Param::FeeToAuthorPpm(v)
            | Param::MaxBlockTxs(v) => v.to_string(),
            Param::MaxUnitsPerReceipt(v)
            | Param::MinJobLifetime(v)
            | Param::MaxJobLifetime(v)
            | Param::EpochLength(v)
            | Param::MaxBlockBytes(v)
            | Param::MaxTxBytes(v) => v.to_string(),
        }
    }

    /// Parses a snake_case name and a decimal value. Bounds are not checked here
    /// ([`Params::with`] does).
    pub fn parse(key: &str, value: &str) -> Result<Param, ParamParseError> {
        let p = match key {
            "mint_per_unit" => Param::MintPerUnit(parse_num(key, value)?),
            "coordinator_ratio_ppm" => Param::CoordinatorRatioPpm(parse_num(key, value)?),
            "treasury_ratio_ppm" => Param::TreasuryRatioPpm(parse_num(key, value)?),
            "base_fee" => Param::BaseFee(parse_num(key, value)?),
            "fee_per_byte" => Param::FeePerByte(parse_num(key, value)?),
            "fee_to_author_ppm" => Param::FeeToAuthorPpm(parse_num(key, value)?),
            "max_units_per_receipt" => Param::MaxUnitsPerReceipt(parse_num(key, value)?),
            "existential_deposit" => Param::ExistentialDeposit(parse_num(key, value)?),
            "min_job_lifetime" => Param::MinJobLifetime(parse_num(key, value)?),
            "max_job_lifetime" => Param::MaxJobLifetime(parse_num(key, value)?),
            "coordinator_mint_cap_per_epoch" => {
                Param::CoordinatorMintCapPerEpoch(parse_num(key, value)?)
            }
            "epoch_length" => Param::EpochLength(parse_num(key, value)?),
            "max_block_txs" => Param::MaxBlockTxs(parse_num(key, value)?),
            "max_block_bytes" => Param::MaxBlockBytes(parse_num(key, value)?),
            "max_tx_bytes" => Param::MaxTxBytes(parse_num(key, value)?),
            "weight_fee_per_ms" => Param::WeightFeePerMs(parse_num(key, value)?),
            other => return Err(ParamParseError::UnknownParam(other.to_string())),
        };
        Ok(p)
    }
}

/// Calls of the params module.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub enum Call {
    /// Root only: set one parameter (fails with `param_out_of_bounds` if out of bounds).
    Set { param: Param },
}

/// Events of the params module.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize)]
pub enum Event {
    ParamSet { param: Param },
}

/// The current parameters (defaults if genesis wrote none).
pub fn current<S: Storage>(s: &S) -> Params {
    storage::CURRENT.get(s).unwrap_or_default()
}

/// Reads the current parameters from a state.
pub fn read(state: &dyn aitbc_primitives::StateView) -> Params {
    storage::CURRENT.read(state).unwrap_or_default()
}

/// `params.set`: the caller has checked the origin is root.
pub fn set<S: Storage>(s: &mut S, events: &mut Vec<crate::Event>, param: Param) -> DispatchResult {
    let next = current(s)
        .with(&param)
        .map_err(|_| DispatchError::ParamOutOfBounds)?;
    storage::CURRENT.put(s, &next);
    events.push(crate::Event::Params(Event::ParamSet { param }));
    Ok(())
}
