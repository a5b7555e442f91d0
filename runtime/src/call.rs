//! The runtime's [`Call`] and [`Event`] enums and the JSON transaction form.
//!
//! SCALE: `Call` is an enum of module calls (`Balances` = 0, `Receipts` = 1, `Params` = 2,
//! `Sudo` = 3, `Authority` = 4, `Staking` = 5), each a module enum in declaration order. Indices are pinned
//! with `#[codec(index)]` and by golden vectors (`tests/golden.rs`).
//!
//! JSON: `Call`'s serde form is the flat [`JsonCall`]: `{"type": "TRANSFER", "payload": {…}}`.
//!
//! | `type` | payload | call |
//! |---|---|---|
//! | `TRANSFER` | `to`, `amount` | `balances.transfer` |
//! | `MINT` | `to`, `amount` | `balances.mint` (root) |
//! | `OPEN_JOB` | `job_id`, `coordinator`, `price`, `lifetime` | `receipts.open_job` |
//! | `RECEIPT_CLAIM` | `receipt`, `miner_sig`, `attestation` | `receipts.claim` |
//! | `REFUND` | `job_id` | `receipts.refund` |
//! | `REVOKE` | `receipt_id` | `receipts.revoke` (the receipt's coordinator) |
//! | `BOND` / `UNBOND` | `amount` | `staking.bond` / `staking.unbond` |
//! | `WITHDRAW_UNBONDED` / `VALIDATE` / `CHILL` | none (`{}`) | `staking.*` |
//! | `BACK` | `validator` | `staking.back` |
//! | `REPORT_OFFENCE` | `proof` (`0x` + SCALE of an `OffenceProof`) | `staking.report` |
//! | `ADD_COORDINATOR` / `REMOVE_COORDINATOR` | `who` | root |
//! | `PARAM_SET` | `key` (snake_case name), `value` (decimal) | `params.set` (root) |
//! | `SET_AUTHORITIES` | `authorities` (list) | `authority.set_authorities` (root) |
//! | `FORCE_SET_AUTHORITIES` | `authorities` (list) | `authority.force_set_authorities` (root) |
//! | `SUDO` | `call` (a nested JSON call) | `sudo.sudo` |
//! | `SET_SUDO_KEY` | `new` | `sudo.set_key` |
//!
//! Amounts are decimal strings (numbers are accepted), addresses `ait1…`, signatures `0x` + 128
//! hex digits, job ids and lifetimes numbers (decimal strings accepted).

use crate::authority::AuthoritySet;
use crate::params::{Param, ParamParseError};
use crate::{authority, balances, params, receipts, staking, sudo};
use aitbc_primitives::types::serde_u64_lenient;
use aitbc_primitives::{
    serde_balance, AccountId, Balance, ComputeReceipt, Hash, JobId, OffenceProof, ReceiptClaim,
    Signature,
};
use codec::{Decode, Encode};
use serde::{Deserialize, Serialize};

/// Every call the runtime dispatches.
#[allow(clippy::large_enum_variant)] // the claim variant: see `receipts::Call`
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[serde(into = "JsonCall", try_from = "JsonCall")]
pub enum Call {
    #[codec(index = 0)]
    Balances(balances::Call),
    #[codec(index = 1)]
    Receipts(receipts::Call),
    #[codec(index = 2)]
    Params(params::Call),
    #[codec(index = 3)]
    Sudo(sudo::Call),
    #[codec(index = 4)]
    Authority(authority::Call),
    #[codec(index = 5)]
    Staking(staking::Call),
}

/// Every event the runtime emits. Serialized externally tagged, e.g.
/// `{"Balances": {"Transfer": {"from": "ait1…", "to": "ait1…", "amount": "5"}}}`.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize)]
pub enum Event {
    #[codec(index = 0)]
    Balances(balances::Event),
    #[codec(index = 1)]
    Receipts(receipts::Event),
    #[codec(index = 2)]
    Params(params::Event),
    #[codec(index = 3)]
    Sudo(sudo::Event),
    #[codec(index = 4)]
    Authority(authority::Event),
    #[codec(index = 5)]
    Staking(staking::Event),
}

impl Call {
    pub fn transfer(dest: AccountId, amount: Balance) -> Call {
        Call::Balances(balances::Call::Transfer { dest, amount })
    }
    pub fn mint(dest: AccountId, amount: Balance) -> Call {
        Call::Balances(balances::Call::Mint { dest, amount })
    }
    pub fn open_job(job_id: JobId, coordinator: AccountId, price: Balance, lifetime: u64) -> Call {
        Call::Receipts(receipts::Call::OpenJob {
            job_id,
            coordinator,
            price,
            lifetime,
        })
    }
    pub fn claim(claim: ReceiptClaim) -> Call {
        Call::Receipts(receipts::Call::Claim { claim })
    }
    pub fn refund(job_id: JobId) -> Call {
        Call::Receipts(receipts::Call::Refund { job_id })
    }
    pub fn revoke(receipt_id: Hash) -> Call {
        Call::Receipts(receipts::Call::Revoke { receipt_id })
    }
    pub fn staking(call: staking::Call) -> Call {
        Call::Staking(call)
    }
    pub fn add_coordinator(who: AccountId) -> Call {
        Call::Receipts(receipts::Call::AddCoordinator { who })
    }
    pub fn remove_coordinator(who: AccountId) -> Call {
        Call::Receipts(receipts::Call::RemoveCoordinator { who })
    }
    pub fn set_param(param: Param) -> Call {
        Call::Params(params::Call::Set { param })
    }
    pub fn set_authorities(authorities: AuthoritySet) -> Call {
        Call::Authority(authority::Call::SetAuthorities { authorities })
    }
    pub fn force_set_authorities(authorities: AuthoritySet) -> Call {
        Call::Authority(authority::Call::ForceSetAuthorities { authorities })
    }
    /// `sudo.sudo{call}`: dispatch `call` as root.
    pub fn sudo(call: Call) -> Call {
        Call::Sudo(sudo::Call::Sudo {
            call: Box::new(call),
        })
    }
    pub fn set_sudo_key(new: AccountId) -> Call {
        Call::Sudo(sudo::Call::SetKey { new })
    }
}

/// Serde for a [`Signature`] as `0x` + 128 hex digits.
mod serde_sig {
    use aitbc_primitives::Signature;
    use serde::{de, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Signature, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_hex())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Signature, D::Error> {
        let s = String::deserialize(d)?;
        if !s.starts_with("0x") {
            return Err(de::Error::custom(
                "a signature is 0x followed by 128 hex digits",
            ));
        }
        Signature::from_hex(&s)
            .ok_or_else(|| de::Error::custom("a signature is 0x followed by 128 hex digits"))
    }
}

/// Serde for an offence proof as `0x` + the hex of its SCALE encoding.
mod serde_proof {
    use aitbc_primitives::{decode_exact, OffenceProof};
    use codec::Encode;
    use serde::{de, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &OffenceProof, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("0x{}", hex::encode(v.encode())))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OffenceProof, D::Error> {
        let s = String::deserialize(d)?;
        let bytes = s
            .strip_prefix("0x")
            .and_then(|h| hex::decode(h).ok())
            .ok_or_else(|| de::Error::custom("a proof is 0x followed by hex"))?;
        decode_exact(&bytes).map_err(|e| de::Error::custom(format!("bad offence proof: {e}")))
    }
}

/// Serde for a decimal value kept as text: written as a string, read from a string or a number.
mod serde_decimal {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &str, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(v)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            S(String),
            N(u64),
        }
        Ok(match Raw::deserialize(d)? {
            Raw::S(s) => s,
            Raw::N(n) => n.to_string(),
        })
    }
}

/// The JSON transaction form of a [`Call`] (see the module docs).
#[allow(clippy::large_enum_variant)] // the claim variant: see `receipts::Call`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JsonCall {
    Transfer {
        to: AccountId,
        #[serde(with = "serde_balance")]
        amount: Balance,
    },
    Mint {
        to: AccountId,
        #[serde(with = "serde_balance")]
        amount: Balance,
    },
    OpenJob {
        #[serde(with = "serde_u64_lenient")]
        job_id: JobId,
        coordinator: AccountId,
        #[serde(with = "serde_balance")]
        price: Balance,
        #[serde(with = "serde_u64_lenient")]
        lifetime: u64,
    },
    ReceiptClaim {
        receipt: ComputeReceipt,
        #[serde(with = "serde_sig")]
        miner_sig: Signature,
        #[serde(with = "serde_sig")]
        attestation: Signature,
    },
    Refund {
        #[serde(with = "serde_u64_lenient")]
        job_id: JobId,
    },
    Revoke {
        receipt_id: Hash,
    },
    Bond {
        #[serde(with = "serde_balance")]
        amount: Balance,
    },
    Unbond {
        #[serde(with = "serde_balance")]
        amount: Balance,
    },
    WithdrawUnbonded {},
    Validate {},
    Chill {},
    Back {
        validator: AccountId,
    },
    ReportOffence {
        #[serde(with = "serde_proof")]
        proof: OffenceProof,
    },
    AddCoordinator {
        who: AccountId,
    },
    RemoveCoordinator {
        who: AccountId,
    },
    ParamSet {
        key: String,
        #[serde(with = "serde_decimal")]
        value: String,
    },
    SetAuthorities {
        authorities: Vec<AccountId>,
    },
    ForceSetAuthorities {
        authorities: Vec<AccountId>,
    },
    Sudo {
        call: Box<JsonCall>,
    },
    SetSudoKey {
        new: AccountId,
    },
}

/// Why a JSON call does not convert to a [`Call`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallJsonError {
    #[error(transparent)]
    Param(#[from] ParamParseError),
    #[error("too many authorities: {0}")]
    TooManyAuthorities(#[from] aitbc_primitives::codec_util::BoundExceeded),
}

impl From<Call> for JsonCall {
    fn from(call: Call) -> JsonCall {
        match call {
            Call::Balances(balances::Call::Transfer { dest, amount }) => {
                JsonCall::Transfer { to: dest, amount }
            }
            Call::Balances(balances::Call::Mint { dest, amount }) => {
                JsonCall::Mint { to: dest, amount }
            }
            Call::Receipts(receipts::Call::OpenJob {
                job_id,
                coordinator,
                price,
                lifetime,
            }) => JsonCall::OpenJob {
                job_id,
                coordinator,
                price,
                lifetime,
            },
            Call::Receipts(receipts::Call::Claim { claim }) => JsonCall::ReceiptClaim {
                receipt: claim.receipt,
                miner_sig: claim.miner_sig,
                attestation: claim.attestation,
            },
            Call::Receipts(receipts::Call::Refund { job_id }) => JsonCall::Refund { job_id },
            Call::Receipts(receipts::Call::Revoke { receipt_id }) => {
                JsonCall::Revoke { receipt_id }
            }
            Call::Staking(c) => match c {
                staking::Call::Bond { amount } => JsonCall::Bond { amount },
                staking::Call::Unbond { amount } => JsonCall::Unbond { amount },
                staking::Call::WithdrawUnbonded => JsonCall::WithdrawUnbonded {},
                staking::Call::Validate => JsonCall::Validate {},
                staking::Call::Chill => JsonCall::Chill {},
                staking::Call::Back { validator } => JsonCall::Back { validator },
                staking::Call::Report { proof } => JsonCall::ReportOffence { proof },
            },
            Call::Receipts(receipts::Call::AddCoordinator { who }) => {
                JsonCall::AddCoordinator { who }
            }
            Call::Receipts(receipts::Call::RemoveCoordinator { who }) => {
                JsonCall::RemoveCoordinator { who }
            }
            Call::Params(params::Call::Set { param }) => JsonCall::ParamSet {
                key: param.name().to_string(),
                value: param.value_string(),
            },
            Call::Authority(authority::Call::SetAuthorities { authorities }) => {
                JsonCall::SetAuthorities {
                    authorities: authorities.into_inner(),
                }
            }
            Call::Authority(authority::Call::ForceSetAuthorities { authorities }) => {
                JsonCall::ForceSetAuthorities {
                    authorities: authorities.into_inner(),
                }
            }
            Call::Sudo(sudo::Call::Sudo { call }) => JsonCall::Sudo {
                call: Box::new(JsonCall::from(*call)),
            },
            Call::Sudo(sudo::Call::SetKey { new }) => JsonCall::SetSudoKey { new },
        }
    }
}

impl TryFrom<JsonCall> for Call {
    type Error = CallJsonError;

    fn try_from(json: JsonCall) -> Result<Call, CallJsonError> {
        Ok(match json {
            JsonCall::Transfer { to, amount } => Call::transfer(to, amount),
            JsonCall::Mint { to, amount } => Call::mint(to, amount),
            JsonCall::OpenJob {
                job_id,
                coordinator,
                price,
                lifetime,
            } => Call::open_job(job_id, coordinator, price, lifetime),
            JsonCall::ReceiptClaim {
                receipt,
                miner_sig,
                attestation,
            } => Call::claim(ReceiptClaim {
                receipt,
                miner_sig,
                attestation,
            }),
            JsonCall::Refund { job_id } => Call::refund(job_id),
            JsonCall::Revoke { receipt_id } => Call::revoke(receipt_id),
            JsonCall::Bond { amount } => Call::staking(staking::Call::Bond { amount }),
            JsonCall::Unbond { amount } => Call::staking(staking::Call::Unbond { amount }),
            JsonCall::WithdrawUnbonded {} => Call::staking(staking::Call::WithdrawUnbonded),
            JsonCall::Validate {} => Call::staking(staking::Call::Validate),
            JsonCall::Chill {} => Call::staking(staking::Call::Chill),
            JsonCall::Back { validator } => Call::staking(staking::Call::Back { validator }),
            JsonCall::ReportOffence { proof } => Call::staking(staking::Call::Report { proof }),
            JsonCall::AddCoordinator { who } => Call::add_coordinator(who),
            JsonCall::RemoveCoordinator { who } => Call::remove_coordinator(who),
            JsonCall::ParamSet { key, value } => Call::set_param(Param::parse(&key, &value)?),
            JsonCall::SetAuthorities { authorities } => {
                Call::set_authorities(AuthoritySet::try_from_vec(authorities)?)
            }
            JsonCall::ForceSetAuthorities { authorities } => {
                Call::force_set_authorities(AuthoritySet::try_from_vec(authorities)?)
            }
            JsonCall::Sudo { call } => Call::sudo(Call::try_from(*call)?),
            JsonCall::SetSudoKey { new } => Call::set_sudo_key(new),
        })
    }
}
