//! Why a receipt claim (or an escrow refund) is invalid: the runtime's own transaction error,
//! checked before dispatch. The node sees it as [`InvalidTransaction::Custom`] with this
//! error's code, message and permanence.

use aitbc_primitives::{CustomInvalid, InvalidTransaction};
use codec::{Decode, Encode};

/// Why a receipt claim is invalid (all checked before dispatch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode, thiserror::Error)]
pub enum ClaimError {
    #[error("no escrow for this (client, job_id)")]
    UnknownJob,
    #[error("the escrow is already settled")]
    AlreadySettled,
    #[error("the escrow has expired")]
    JobExpired,
    #[error("the coordinator is not registered")]
    UnknownCoordinator,
    #[error("the attesting coordinator is not the escrow's coordinator")]
    WrongCoordinator,
    #[error("the miner is the client")]
    MinerIsClient,
    #[error("the miner's signature is invalid")]
    BadMinerSignature,
    #[error("the coordinator's attestation is invalid")]
    BadAttestation,
    #[error("compute units exceed max_units_per_receipt")]
    TooManyUnits,
    #[error("the receipt price exceeds the escrowed price")]
    PriceAboveEscrow,
    #[error("the coordinator's mint cap for this epoch would be exceeded")]
    MintCapExceeded,
    #[error("the mint would overflow the total issuance")]
    IssuanceOverflow,
    #[error("the escrow has not expired yet: it can be refunded from its expiry block on")]
    NotExpired,
    #[error("the miner is banned from claiming (too many revoked receipts)")]
    MinerBanned,
}

impl ClaimError {
    /// Stable snake_case code for RPC errors.
    pub fn code(&self) -> &'static str {
        match self {
            ClaimError::UnknownJob => "unknown_job",
            ClaimError::AlreadySettled => "job_already_settled",
            ClaimError::JobExpired => "job_expired",
            ClaimError::UnknownCoordinator => "unknown_coordinator",
            ClaimError::WrongCoordinator => "wrong_coordinator",
            ClaimError::MinerIsClient => "miner_is_client",
            ClaimError::BadMinerSignature => "bad_miner_signature",
            ClaimError::BadAttestation => "bad_attestation",
            ClaimError::TooManyUnits => "too_many_units",
            ClaimError::PriceAboveEscrow => "price_above_escrow",
            ClaimError::MintCapExceeded => "mint_cap_exceeded",
            ClaimError::IssuanceOverflow => "issuance_overflow",
            ClaimError::NotExpired => "not_expired",
            ClaimError::MinerBanned => "miner_banned",
        }
    }

    /// Whether the claim can never become valid (the escrow is settled, a signature is wrong):
    /// the pool bans it. An unknown job or coordinator, a mint cap or an unexpired escrow can
    /// change.
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            ClaimError::AlreadySettled
                | ClaimError::JobExpired
                | ClaimError::MinerIsClient
                | ClaimError::BadMinerSignature
                | ClaimError::BadAttestation
                | ClaimError::WrongCoordinator
                | ClaimError::PriceAboveEscrow
        )
    }
}

impl From<ClaimError> for InvalidTransaction {
    fn from(e: ClaimError) -> Self {
        InvalidTransaction::Custom(CustomInvalid {
            code: e.code(),
            message: format!("receipt claim refused: {e}"),
            permanent: e.is_permanent(),
        })
    }
}
