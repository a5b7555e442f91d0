//! The genesis block: state, header and hash built from a [`GenesisConfig`].
//!
//! - state: the runtime's `GenesisConfig::build` writes, applied to an empty [`MemoryState`] as
//!   tree version 0;
//! - header: `parent_hash = 0x00…00`, `number = 0`, `slot = 0`, `state_root` = the state's root,
//!   `extrinsics_root = extrinsics_root(&[])`, empty digest;
//! - hash: the header's hash. It identifies the chain: nodes refuse databases and peers with
//!   another one, and every signature over a transaction, receipt or vote covers it.

use crate::error::ChainSpecError;
use aitbc_primitives::commitment::MemoryState;
use aitbc_primitives::{Hash, Header};
use aitbc_runtime::GenesisConfig;

/// A chain's genesis: its configuration, state, header and hash.
#[derive(Debug, Clone)]
pub struct Genesis {
    pub config: GenesisConfig,
    /// The genesis state, committed as tree version 0.
    pub state: MemoryState,
    pub header: Header,
    pub hash: Hash,
}

impl Genesis {
    /// Validates `config` (through the runtime) and builds the genesis block.
    pub fn build(config: GenesisConfig) -> Result<Genesis, ChainSpecError> {
        let changes = config.build()?;
        let mut state = MemoryState::new();
        let state_root = state.apply(&changes)?;
        let header = Header::genesis(state_root);
        let hash = header.hash();
        Ok(Genesis {
            config,
            state,
            header,
            hash,
        })
    }
}
