//! The registry's genesis: its authorities, slot duration and pre-claimed names, built into a
//! genesis state and header (the same header rule as every chain here: [`Header::genesis`]
//! with the chain id).

use crate::state::{self, valid_name, NameRecord};
use aitbc_primitives::bulk::SortedState;
use aitbc_primitives::commitment::StateChanges;
use aitbc_primitives::{AccountId, Hash, Header};
use std::collections::BTreeSet;

/// A registry chain's genesis configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Genesis {
    pub chain_id: String,
    pub authorities: Vec<AccountId>,
    pub slot_duration_ms: u64,
    /// Names claimed at genesis, with their owners.
    pub names: Vec<(String, AccountId)>,
}

/// Why a genesis configuration is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenesisError {
    #[error("the authority set is empty")]
    NoAuthorities,
    #[error("authority {0} is listed twice")]
    DuplicateAuthority(AccountId),
    #[error("slot duration must be greater than zero")]
    ZeroSlotDuration,
    #[error("invalid name {0:?}")]
    BadName(String),
    #[error("name {0:?} is listed twice")]
    DuplicateName(String),
    #[error("chain id {0:?} is too long")]
    BadChainId(String),
}

impl Genesis {
    /// The genesis state and header.
    pub fn build(&self) -> Result<(SortedState, Header), GenesisError> {
        if self.authorities.is_empty() {
            return Err(GenesisError::NoAuthorities);
        }
        let mut seen = BTreeSet::new();
        if let Some(dup) = self.authorities.iter().find(|a| !seen.insert(**a)) {
            return Err(GenesisError::DuplicateAuthority(*dup));
        }
        if self.slot_duration_ms == 0 {
            return Err(GenesisError::ZeroSlotDuration);
        }
        let mut changes = StateChanges::new();
        state::write_genesis(&mut changes, &self.authorities, self.slot_duration_ms);
        let mut names = BTreeSet::new();
        for (name, owner) in &self.names {
            if !valid_name(name.as_bytes()) {
                return Err(GenesisError::BadName(name.clone()));
            }
            if !names.insert(name) {
                return Err(GenesisError::DuplicateName(name.clone()));
            }
            let record = NameRecord {
                owner: *owner,
                value: Vec::new(),
            };
            state::write_name(&mut changes, name.as_bytes(), Some(&record));
        }
        let state = SortedState::from_changes(changes);
        let header = Header::genesis(state.root(), &self.chain_id)
            .ok_or_else(|| GenesisError::BadChainId(self.chain_id.clone()))?;
        Ok((state, header))
    }

    /// The genesis hash (builds the state).
    pub fn hash(&self) -> Result<Hash, GenesisError> {
        Ok(self.build()?.1.hash())
    }
}
