//! Genesis configuration: the initial state of a chain, built from a chain spec.

use crate::params::Params;
use aitbc_primitives::{AccountId, Balance};

/// Everything the genesis state is built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenesisConfig {
    pub slot_duration_ms: u64,
    pub balances: Vec<(AccountId, Balance)>,
    pub authorities: Vec<AccountId>,
    pub coordinators: Vec<AccountId>,
    pub sudo: Option<AccountId>,
    pub treasury: AccountId,
    pub faucet: bool,
    pub params: Params,
}

/// Why a genesis configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenesisError {
    #[error("slot duration must be greater than zero")]
    ZeroSlotDuration,
    #[error("the authority set is empty")]
    NoAuthorities,
}
