//! The raw form of a genesis: its whole key-value state, state root and hash, as written by
//! `build-spec --raw` in a top-level `genesis_raw` section:
//!
//! ```json
//! "genesis_raw": {
//!   "state": { "0x<key>": "0x<value>", … },
//!   "state_root": "0x…",
//!   "genesis_hash": "0x…"
//! }
//! ```
//!
//! Keys and values are `0x`-prefixed lowercase hex; the map is sorted by key. The raw section is
//! a published statement of what the genesis is, never an input to it: loading a raw spec builds
//! the genesis from the human-readable part and refuses the spec
//! ([`ChainSpecError::RawGenesisMismatch`]) unless state, root and hash are all equal.

use crate::error::ChainSpecError;
use crate::genesis::Genesis;
use aitbc_primitives::Hash;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The `genesis_raw` section of a raw chain spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGenesis {
    /// Every genesis state entry, `0x<key>` -> `0x<value>`.
    pub state: BTreeMap<String, String>,
    pub state_root: Hash,
    pub genesis_hash: Hash,
}

fn to_hex(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

fn from_hex(what: &str, text: &str) -> Result<Vec<u8>, ChainSpecError> {
    text.strip_prefix("0x")
        .and_then(|digits| hex::decode(digits).ok())
        .ok_or_else(|| {
            ChainSpecError::InvalidRawGenesis(format!("{what} {text:?} is not 0x-prefixed hex"))
        })
}

impl RawGenesis {
    /// The raw form of `genesis`.
    pub fn of(genesis: &Genesis) -> RawGenesis {
        RawGenesis {
            state: genesis
                .state
                .entries()
                .iter()
                .map(|e| (to_hex(&e.key), to_hex(&e.value)))
                .collect(),
            state_root: genesis.header.state_root,
            genesis_hash: genesis.hash,
        }
    }

    /// Checks that this raw section describes exactly `genesis`.
    pub fn check(&self, genesis: &Genesis) -> Result<(), ChainSpecError> {
        let mut claimed = BTreeMap::new();
        for (k, v) in &self.state {
            let key = from_hex("state key", k)?;
            let value = from_hex("state value", v)?;
            if claimed.insert(key, value).is_some() {
                return Err(ChainSpecError::InvalidRawGenesis(format!(
                    "state key {k} appears twice"
                )));
            }
        }
        let built: BTreeMap<&[u8], &[u8]> = genesis
            .state
            .entries()
            .iter()
            .map(|e| (e.key.as_slice(), e.value.as_slice()))
            .collect();
        let mismatch = |what: String| Err(ChainSpecError::RawGenesisMismatch(what));
        if let Some(k) = claimed.keys().find(|k| !built.contains_key(k.as_slice())) {
            return mismatch(format!(
                "state key {} is not in the genesis state",
                to_hex(k)
            ));
        }
        for (k, v) in built {
            match claimed.get(k) {
                None => return mismatch(format!("state key {} is missing", to_hex(k))),
                Some(c) if c.as_slice() != v => {
                    return mismatch(format!("the value of state key {} differs", to_hex(k)))
                }
                Some(_) => {}
            }
        }
        if self.state_root != genesis.header.state_root {
            return mismatch(format!(
                "state_root {} differs from the built {}",
                self.state_root, genesis.header.state_root
            ));
        }
        if self.genesis_hash != genesis.hash {
            return mismatch(format!(
                "genesis_hash {} differs from the built {}",
                self.genesis_hash, genesis.hash
            ));
        }
        Ok(())
    }
}
