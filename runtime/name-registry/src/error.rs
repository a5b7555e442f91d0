//! Why a registry transaction is invalid, beyond the node's common reasons: the registry's own
//! error type, carried to the node as [`InvalidTransaction::Custom`].

use aitbc_primitives::{CustomInvalid, InvalidTransaction};

/// A registry rule a transaction breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    #[error("a name is 1 to 32 bytes of a-z, 0-9 and '-'")]
    BadName,
    #[error("a value is at most 256 bytes")]
    ValueTooLong,
    #[error("the name is already claimed")]
    NameTaken,
    #[error("the name is not claimed")]
    UnknownName,
    #[error("the signer does not own the name")]
    NotOwner,
    #[error("the name already belongs to that account")]
    SelfTransfer,
    #[error("transactions are free on this chain: the tip must be 0")]
    TipNotAllowed,
}

impl RegistryError {
    /// Stable snake_case code for RPC errors.
    pub fn code(&self) -> &'static str {
        match self {
            RegistryError::BadName => "bad_name",
            RegistryError::ValueTooLong => "value_too_long",
            RegistryError::NameTaken => "name_taken",
            RegistryError::UnknownName => "unknown_name",
            RegistryError::NotOwner => "not_owner",
            RegistryError::SelfTransfer => "self_transfer",
            RegistryError::TipNotAllowed => "tip_not_allowed",
        }
    }

    /// A malformed transaction never becomes valid; ownership can change.
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            RegistryError::BadName | RegistryError::ValueTooLong | RegistryError::TipNotAllowed
        )
    }
}

impl From<RegistryError> for InvalidTransaction {
    fn from(e: RegistryError) -> Self {
        InvalidTransaction::Custom(CustomInvalid {
            code: e.code(),
            message: e.to_string(),
            permanent: e.is_permanent(),
        })
    }
}
