//! The registry's calls and events, and their checks and effects.
//!
//! SCALE: [`Call`] variants in declaration order (`claim` = 0, `set_value` = 1, `transfer` = 2,
//! `release` = 3). JSON: internally tagged by `call`, e.g.
//! `{"call": "claim", "name": "alice"}`, `{"call": "set_value", "name": "alice", "value": "…"}`,
//! `{"call": "transfer", "name": "alice", "to": "ait1…"}`, `{"call": "release", "name": "alice"}`.

use crate::error::RegistryError;
use crate::state::{self, valid_name, NameRecord, Reader, MAX_VALUE_LEN};
use aitbc_primitives::commitment::StateChanges;
use aitbc_primitives::{AccountId, StateView};
use codec::{Decode, Encode};
use serde::{Deserialize, Serialize};

/// Every call of the registry.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[serde(tag = "call", rename_all = "snake_case", deny_unknown_fields)]
pub enum Call {
    /// Claims a free name for the signer, pointing at nothing.
    Claim { name: String },
    /// Points the signer's name at `value`.
    SetValue { name: String, value: String },
    /// Gives the signer's name to `to`.
    Transfer { name: String, to: AccountId },
    /// Frees the signer's name.
    Release { name: String },
}

/// What an included call did.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    Claimed {
        name: String,
        owner: AccountId,
    },
    ValueSet {
        name: String,
        value: String,
    },
    Transferred {
        name: String,
        from: AccountId,
        to: AccountId,
    },
    Released {
        name: String,
    },
}

impl Call {
    /// The name the call is about.
    pub fn name(&self) -> &str {
        match self {
            Call::Claim { name }
            | Call::SetValue { name, .. }
            | Call::Transfer { name, .. }
            | Call::Release { name } => name,
        }
    }

    /// The registry rules for `signer` making this call on `r`'s state.
    pub(crate) fn check(&self, r: &Reader<'_>, signer: &AccountId) -> Result<(), RegistryError> {
        let name = self.name().as_bytes();
        if !valid_name(name) {
            return Err(RegistryError::BadName);
        }
        let record = r.name(name);
        if let Call::Claim { .. } = self {
            return match record {
                Some(_) => Err(RegistryError::NameTaken),
                None => Ok(()),
            };
        }
        let record = record.ok_or(RegistryError::UnknownName)?;
        if record.owner != *signer {
            return Err(RegistryError::NotOwner);
        }
        match self {
            Call::SetValue { value, .. } if value.len() > MAX_VALUE_LEN => {
                Err(RegistryError::ValueTooLong)
            }
            Call::Transfer { to, .. } if to == signer => Err(RegistryError::SelfTransfer),
            _ => Ok(()),
        }
    }

    /// Applies a checked call to the pending writes; returns its event.
    pub(crate) fn apply(
        &self,
        state: &dyn StateView,
        changes: &mut StateChanges,
        signer: &AccountId,
    ) -> Event {
        let key = self.name().as_bytes();
        let current = Reader::new(state, changes).name(key);
        match self {
            Call::Claim { name } => {
                let record = NameRecord {
                    owner: *signer,
                    value: Vec::new(),
                };
                state::write_name(changes, key, Some(&record));
                Event::Claimed {
                    name: name.clone(),
                    owner: *signer,
                }
            }
            Call::SetValue { name, value } => {
                let record = NameRecord {
                    owner: *signer,
                    value: value.as_bytes().to_vec(),
                };
                state::write_name(changes, key, Some(&record));
                Event::ValueSet {
                    name: name.clone(),
                    value: value.clone(),
                }
            }
            Call::Transfer { name, to } => {
                let record = NameRecord {
                    owner: *to,
                    value: current.map(|r| r.value).unwrap_or_default(),
                };
                state::write_name(changes, key, Some(&record));
                Event::Transferred {
                    name: name.clone(),
                    from: *signer,
                    to: *to,
                }
            }
            Call::Release { name } => {
                state::write_name(changes, key, None);
                Event::Released { name: name.clone() }
            }
        }
    }
}
