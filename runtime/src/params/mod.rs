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
//! - `256 <= max_tx_bytes <= max_block_bytes`, `max_block_txs >= 1`;
//! - staking: `slash_ppm`, `reporter_share_ppm`, `work_stake_mix_ppm`, `weight_floor_ppm` are
//!   ratios; `1 <= max_validators <= MAX_AUTHORITIES`; `1 <= work_ema_epochs <= 1000`;
//!   `weight_cap_ppm * max(max_validators, 3)` need not reach 100% (the election then gives
//!   equal weights), but `weight_cap_ppm >= 1`; `1 <= max_revocations`; epoch counts
//!   (`bonding_duration`, `revocation_window`, `ban_epochs`) and `challenge_window` at most 10^9;
//!   `min_validator_bond` at most 10^30.
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

/// Defines [`Params`], its [`Default`], the one-parameter [`Param`] enum and [`PARAM_NAMES`]
/// from one list, so a parameter is declared once: `name / Variant: type = default`, with its
/// docs and optional serde attributes (amounts are decimal strings).
macro_rules! params {
    ($(
        $(#[doc = $doc:literal])*
        $name:ident / $variant:ident : $ty:ty = $default:expr $(, serde($($serde:tt)*))?;
    )*) => {
        /// Every chain parameter with its current value. Stored as one value; defaults from the
        /// original design.
        #[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct Params {
            $(
                $(#[doc = $doc])*
                $(#[serde($($serde)*)])?
                pub $name: $ty,
            )*
        }

        impl Default for Params {
            fn default() -> Self {
                Params { $($name: $default,)* }
            }
        }

        /// One parameter with its new value: the argument of `params.set`.
        #[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
        #[serde(tag = "key", content = "value", rename_all = "snake_case")]
        pub enum Param {
            $($variant($(#[serde($($serde)*)])? $ty),)*
        }

        /// Every parameter name, in [`Params`] field order.
        pub const PARAM_NAMES: &[&str] = &[$(stringify!($name)),*];

        impl Params {
            /// Sets one parameter (unchecked).
            pub fn set(&mut self, param: &Param) {
                match *param {
                    $(Param::$variant(v) => self.$name = v,)*
                }
            }

            /// Every parameter as a [`Param`], in field order.
            pub fn to_params(&self) -> Vec<Param> {
                vec![$(Param::$variant(self.$name)),*]
            }
        }

        impl Param {
            /// The snake_case name (the [`Params`] field it sets).
            pub fn name(&self) -> &'static str {
                match self {
                    $(Param::$variant(_) => stringify!($name),)*
                }
            }

            /// The value as a decimal string.
            pub fn value_string(&self) -> String {
                match self {
                    $(Param::$variant(v) => v.to_string(),)*
                }
            }

            /// Parses a snake_case name and a decimal value. Bounds are not checked here
            /// ([`Params::with`] does).
            pub fn parse(key: &str, value: &str) -> Result<Param, ParamParseError> {
                match key {
                    $(stringify!($name) => Ok(Param::$variant(parse_num(key, value)?)),)*
                    other => Err(ParamParseError::UnknownParam(other.to_string())),
                }
            }
        }
    };
}

params! {
    /// AIT minted per compute unit of a settled receipt.
    mint_per_unit / MintPerUnit: Balance = 1000, serde(with = "serde_balance");
    /// Share of a receipt's mint paid to its coordinator, parts per million.
    coordinator_ratio_ppm / CoordinatorRatioPpm: u32 = 50_000;
    /// Share of a receipt's mint paid to the treasury, parts per million.
    treasury_ratio_ppm / TreasuryRatioPpm: u32 = 0;
    /// Fixed part of every transaction fee.
    base_fee / BaseFee: Balance = 10, serde(with = "serde_balance");
    /// Fee per encoded byte of a transaction.
    fee_per_byte / FeePerByte: Balance = 1, serde(with = "serde_balance");
    /// Share of each fee paid to the block author, parts per million; the rest to the treasury.
    fee_to_author_ppm / FeeToAuthorPpm: u32 = 200_000;
    /// Most compute units one receipt may claim.
    max_units_per_receipt / MaxUnitsPerReceipt: u64 = 1_000_000;
    /// Least amount that may create an account.
    existential_deposit / ExistentialDeposit: Balance = 1, serde(with = "serde_balance");
    /// Shortest job lifetime, in blocks.
    min_job_lifetime / MinJobLifetime: u64 = 1;
    /// Longest job lifetime, in blocks.
    max_job_lifetime / MaxJobLifetime: u64 = 100_000;
    /// Most AIT one coordinator's receipts may mint per epoch.
    coordinator_mint_cap_per_epoch / CoordinatorMintCapPerEpoch: Balance =
        1_000_000_000_000_000, serde(with = "serde_balance");
    /// Blocks per epoch: validators are elected at every multiple of it.
    epoch_length / EpochLength: u64 = 600;
    /// Most transactions per block.
    max_block_txs / MaxBlockTxs: u32 = 20_000;
    /// Most encoded bytes of transactions per block.
    max_block_bytes / MaxBlockBytes: u64 = 4 * 1024 * 1024;
    /// Most encoded bytes of one transaction.
    max_tx_bytes / MaxTxBytes: u64 = 64 * 1024;
    /// Fee per millisecond of a call's weight (its measured import cost, [`crate::weight`]).
    weight_fee_per_ms / WeightFeePerMs: Balance = 1000, serde(with = "serde_balance");
    /// Epochs an unbonded amount stays locked before `withdraw_unbonded` frees it.
    bonding_duration / BondingDuration: u64 = 4;
    /// Least bond of a validator candidate.
    min_validator_bond / MinValidatorBond: Balance = 1_000_000_000_000, serde(with = "serde_balance");
    /// Most validators elected per epoch.
    max_validators / MaxValidators: u32 = 100;
    /// Share of the bond an offence slashes, parts per million.
    slash_ppm / SlashPpm: u32 = 100_000;
    /// Share of a slash paid to the first reporter, parts per million; the rest to the treasury.
    reporter_share_ppm / ReporterSharePpm: u32 = 100_000;
    /// Epochs over which a validator's work score is smoothed (integer EMA weight).
    work_ema_epochs / WorkEmaEpochs: u32 = 4;
    /// Share of a validator's weight that follows its work share (the rest follows its stake
    /// share), parts per million.
    work_stake_mix_ppm / WorkStakeMixPpm: u32 = 500_000;
    /// Most weight any one validator may have, parts per million (one third).
    weight_cap_ppm / WeightCapPpm: u32 = 333_333;
    /// Weight every elected validator gets before stake and work, parts per million.
    weight_floor_ppm / WeightFloorPpm: u32 = 50_000;
    /// Blocks after a claim during which its coordinator may revoke it.
    challenge_window / ChallengeWindow: u64 = 100;
    /// Revocations within `revocation_window` epochs that ban a miner.
    max_revocations / MaxRevocations: u32 = 3;
    /// Epochs over which a miner's revocations are counted.
    revocation_window / RevocationWindow: u64 = 10;
    /// Epochs a banned miner may not claim (and a slashed validator may not validate).
    ban_epochs / BanEpochs: u64 = 10;
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
        ratio("slash_ppm", self.slash_ppm)?;
        ratio("reporter_share_ppm", self.reporter_share_ppm)?;
        ratio("work_stake_mix_ppm", self.work_stake_mix_ppm)?;
        ratio("weight_floor_ppm", self.weight_floor_ppm)?;
        range(
            "weight_cap_ppm",
            self.weight_cap_ppm.into(),
            1,
            MAX_PPM.into(),
        )?;
        range(
            "max_validators",
            self.max_validators.into(),
            1,
            aitbc_primitives::MAX_AUTHORITIES as u128,
        )?;
        range("work_ema_epochs", self.work_ema_epochs.into(), 1, 1000)?;
        range(
            "max_revocations",
            self.max_revocations.into(),
            1,
            u32::MAX.into(),
        )?;
        range(
            "min_validator_bond",
            self.min_validator_bond,
            0,
            MAX_EXISTENTIAL_DEPOSIT,
        )?;
        for (name, value) in [
            ("bonding_duration", self.bonding_duration),
            ("revocation_window", self.revocation_window),
            ("ban_epochs", self.ban_epochs),
            ("challenge_window", self.challenge_window),
        ] {
            range(name, value.into(), 0, MAX_BLOCKS_PARAM.into())?;
        }
        Ok(())
    }

    /// These parameters with `param` set, if the result is within bounds.
    pub fn with(&self, param: &Param) -> Result<Params, ParamsError> {
        let mut next = self.clone();
        next.set(param);
        next.validate()?;
        Ok(next)
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
