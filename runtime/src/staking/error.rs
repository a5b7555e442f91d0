//! Why a staking call (or a receipt revocation, or an offence report) is invalid: checked before
//! dispatch, so such a transaction never enters a block. The node sees it as
//! [`InvalidTransaction::Custom`] with this error's code, message and permanence.

use aitbc_primitives::{CustomInvalid, InvalidTransaction, ProofError};
use codec::{Decode, Encode};

/// Why a staking call is invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode, thiserror::Error)]
pub enum StakingError {
    #[error("the amount is zero")]
    ZeroAmount,
    #[error("the bond and the fee exceed the free balance")]
    BondExceedsFree,
    #[error("the amount exceeds the bond")]
    UnbondExceedsBond,
    #[error("at most 32 unlocking chunks: withdraw the unlocked ones first")]
    TooManyUnlockingChunks,
    #[error("nothing is unlocked yet: unbonded funds stay locked for bonding_duration epochs")]
    NothingToWithdraw,
    #[error("the bond is below min_validator_bond")]
    BondBelowMinimum,
    #[error("the account already validates")]
    AlreadyValidating,
    #[error("the account does not validate")]
    NotValidating,
    #[error("the account was slashed and may not validate until its ban ends")]
    Jailed,
    #[error("the candidate list is full")]
    TooManyCandidates,
    #[error("the backed account is not a validator candidate")]
    NotAValidator,
    #[error("no settled receipt with this id")]
    UnknownReceipt,
    #[error("only the receipt's coordinator may revoke it")]
    NotReceiptCoordinator,
    #[error("the receipt's challenge window has passed")]
    ChallengeWindowPassed,
    #[error("the receipt is already revoked")]
    AlreadyRevoked,
    #[error("the proof shows one header or vote twice: no equivocation")]
    NotAnEquivocation,
    #[error("the two headers are for different slots")]
    DifferentSlots,
    #[error("the two votes are by different voters, or for different sets, rounds or steps")]
    DifferentRounds,
    #[error("a signature in the proof is not the offender's")]
    BadProofSignature,
    #[error("the offender is not in the current or the previous validator set")]
    OffenderNotInSet,
    #[error("this offence was already reported and slashed")]
    OffenceAlreadyReported,
    #[error("the offender was already slashed in this epoch (a span is slashed once)")]
    OffenderAlreadySlashed,
}

impl StakingError {
    /// Stable snake_case code for RPC errors and failed-call outcomes.
    pub fn code(&self) -> &'static str {
        match self {
            StakingError::ZeroAmount => "zero_amount",
            StakingError::BondExceedsFree => "bond_exceeds_free",
            StakingError::UnbondExceedsBond => "unbond_exceeds_bond",
            StakingError::TooManyUnlockingChunks => "too_many_unlocking_chunks",
            StakingError::NothingToWithdraw => "nothing_to_withdraw",
            StakingError::BondBelowMinimum => "bond_below_minimum",
            StakingError::AlreadyValidating => "already_validating",
            StakingError::NotValidating => "not_validating",
            StakingError::Jailed => "validator_jailed",
            StakingError::TooManyCandidates => "too_many_candidates",
            StakingError::NotAValidator => "not_a_validator",
            StakingError::UnknownReceipt => "unknown_receipt",
            StakingError::NotReceiptCoordinator => "not_receipt_coordinator",
            StakingError::ChallengeWindowPassed => "challenge_window_passed",
            StakingError::AlreadyRevoked => "already_revoked",
            StakingError::NotAnEquivocation => "not_an_equivocation",
            StakingError::DifferentSlots => "different_slots",
            StakingError::DifferentRounds => "different_rounds",
            StakingError::BadProofSignature => "bad_proof_signature",
            StakingError::OffenderNotInSet => "offender_not_in_set",
            StakingError::OffenceAlreadyReported => "offence_already_reported",
            StakingError::OffenderAlreadySlashed => "offender_already_slashed",
        }
    }

    /// Whether the transaction can never become valid: a bad proof, a passed window, a done
    /// revocation or punishment. Balances, bonds and candidacies can change.
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            StakingError::ZeroAmount
                | StakingError::NotReceiptCoordinator
                | StakingError::ChallengeWindowPassed
                | StakingError::AlreadyRevoked
                | StakingError::NotAnEquivocation
                | StakingError::DifferentSlots
                | StakingError::DifferentRounds
                | StakingError::BadProofSignature
                | StakingError::OffenceAlreadyReported
        )
    }
}

impl From<ProofError> for StakingError {
    fn from(e: ProofError) -> Self {
        match e {
            ProofError::Same => StakingError::NotAnEquivocation,
            ProofError::DifferentSlots => StakingError::DifferentSlots,
            ProofError::DifferentRounds => StakingError::DifferentRounds,
            ProofError::BadSignature => StakingError::BadProofSignature,
        }
    }
}

impl From<StakingError> for InvalidTransaction {
    fn from(e: StakingError) -> Self {
        InvalidTransaction::Custom(CustomInvalid {
            code: e.code(),
            message: e.to_string(),
            permanent: e.is_permanent(),
        })
    }
}
