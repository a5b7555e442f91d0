//! Dispatch errors: why an included call failed after its fee was charged.
//!
//! Unit-like and SCALE-encodable; each has a stable snake_case [`DispatchError::code`] that goes
//! into [`aitbc_primitives::TxOutcome::error`]. Anything checkable before dispatch is an
//! [`aitbc_primitives::InvalidTransaction`] instead and never reaches here.

use codec::{Decode, Encode};

/// Why a dispatched call failed. Its writes were rolled back; its fee stays paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode, thiserror::Error)]
pub enum DispatchError {
    #[error("the balance is too low")]
    InsufficientBalance,
    #[error("the amount would create an account below the existential deposit")]
    BelowExistentialDeposit,
    #[error("the amount overflows a balance or the total issuance")]
    AmountOverflow,
    #[error("this chain's genesis did not enable the faucet")]
    FaucetDisabled,
    #[error("the parameter value is outside its bounds")]
    ParamOutOfBounds,
    #[error("the job has not expired yet")]
    NotExpired,
    #[error("no job with this id for this client")]
    UnknownJob,
    #[error("the job is not open")]
    JobNotOpen,
    #[error("the job lifetime is outside min/max_job_lifetime")]
    LifetimeOutOfBounds,
    #[error("the client already has a job with this id")]
    JobExists,
    #[error("the coordinator is not registered")]
    UnknownCoordinator,
    #[error("the coordinator is already registered")]
    CoordinatorExists,
    #[error("the authority set lists an account twice")]
    DuplicateAuthority,
    #[error("the authority set is empty")]
    EmptyAuthoritySet,
    #[error("the origin may not make this call")]
    BadOrigin,
    /// A claim that passed the pre-dispatch checks failed them at dispatch. Unreachable while the
    /// executive re-checks claims right before dispatch; kept so dispatch never trusts its caller.
    #[error("the receipt claim is invalid")]
    InvalidClaim,
    #[error(
        "the all-zero key cannot be an authority, sudo key or coordinator (nobody can sign for it)"
    )]
    IdentityKey,
    /// A staking call, revocation or offence report that passed its pre-dispatch checks failed
    /// them at dispatch (as with claims, unreachable while the executive re-checks them).
    #[error("{0}")]
    Staking(crate::staking::StakingError),
}

impl DispatchError {
    /// Stable snake_case code (RPC, receipts).
    pub fn code(&self) -> &'static str {
        match self {
            DispatchError::InsufficientBalance => "insufficient_balance",
            DispatchError::BelowExistentialDeposit => "below_existential_deposit",
            DispatchError::AmountOverflow => "amount_overflow",
            DispatchError::FaucetDisabled => "faucet_disabled",
            DispatchError::ParamOutOfBounds => "param_out_of_bounds",
            DispatchError::NotExpired => "not_expired",
            DispatchError::UnknownJob => "unknown_job",
            DispatchError::JobNotOpen => "job_not_open",
            DispatchError::LifetimeOutOfBounds => "lifetime_out_of_bounds",
            DispatchError::JobExists => "job_exists",
            DispatchError::UnknownCoordinator => "unknown_coordinator",
            DispatchError::CoordinatorExists => "coordinator_exists",
            DispatchError::DuplicateAuthority => "duplicate_authority",
            DispatchError::EmptyAuthoritySet => "empty_authority_set",
            DispatchError::BadOrigin => "bad_origin",
            DispatchError::InvalidClaim => "invalid_claim",
            DispatchError::IdentityKey => "identity_key",
            DispatchError::Staking(e) => e.code(),
        }
    }
}

/// The result of dispatching a call.
pub type DispatchResult = Result<(), DispatchError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_snake_case() {
        use DispatchError::*;
        let all = [
            InsufficientBalance,
            BelowExistentialDeposit,
            AmountOverflow,
            FaucetDisabled,
            ParamOutOfBounds,
            NotExpired,
            UnknownJob,
            JobNotOpen,
            LifetimeOutOfBounds,
            JobExists,
            UnknownCoordinator,
            CoordinatorExists,
            DuplicateAuthority,
            EmptyAuthoritySet,
            BadOrigin,
            InvalidClaim,
            IdentityKey,
        ];
        let codes: std::collections::BTreeSet<_> = all.iter().map(|e| e.code()).collect();
        assert_eq!(codes.len(), all.len());
        assert!(codes
            .iter()
            .all(|c| c.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_')));
    }
}
