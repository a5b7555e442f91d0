//! The genesis block: state, header and hash built from a [`GenesisConfig`].
//!
//! - state: the runtime's `GenesisConfig::build` writes, sorted by key hash with the root of
//!   their tree (version 0) ([`SortedState`]: built in one pass, written to the database the
//!   same way);
//! - header: [`Header::genesis`] of the state's root and the spec's `id` (one digest item,
//!   `Other(b"chain-id:" ++ id)`);
//! - hash: the header's hash. It identifies the chain: nodes refuse databases and peers with
//!   another one, and every signature over a transaction, receipt or vote covers it. Because it
//!   covers the chain id, two networks launched from one genesis configuration under different
//!   ids do not accept each other's transactions, receipts, votes or peers.

use crate::error::ChainSpecError;
use aitbc_primitives::bulk::SortedState;
use aitbc_primitives::{Hash, Header};
use aitbc_runtime::GenesisConfig;

/// A chain's genesis: its state, header and hash.
#[derive(Debug, Clone)]
pub struct Genesis {
    /// The genesis state, committed as tree version 0.
    pub state: SortedState,
    pub header: Header,
    pub hash: Hash,
}

impl Genesis {
    /// Validates `config` (through the runtime) and builds the genesis block of chain
    /// `chain_id` (a valid spec id: see [`crate::ChainSpec`]).
    pub fn build(chain_id: &str, config: GenesisConfig) -> Result<Genesis, ChainSpecError> {
        let state = config.into_sorted()?;
        let header = Header::genesis(state.root(), chain_id)
            .ok_or_else(|| ChainSpecError::InvalidId(chain_id.to_string()))?;
        let hash = header.hash();
        Ok(Genesis {
            state,
            header,
            hash,
        })
    }
}
