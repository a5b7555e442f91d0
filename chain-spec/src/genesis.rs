//! The genesis block: state, header and hash built from a [`GenesisConfig`].
//!
//! - state: the runtime's `GenesisConfig::build` writes, applied to an empty [`MemoryState`] as
//!   tree version 0;
//! - header: `parent_hash = 0x00…00`, `number = 0`, `slot = 0`, `state_root` = the state's root,
//!   `extrinsics_root = extrinsics_root(&[])`, and one digest item, `Other(b"chain-id:" ++ id)`
//!   with the spec's `id`;
//! - hash: the header's hash. It identifies the chain: nodes refuse databases and peers with
//!   another one, and every signature over a transaction, receipt or vote covers it. Because it
//!   covers the chain id, two networks launched from one genesis configuration under different
//!   ids do not accept each other's transactions, receipts, votes or peers.

use crate::error::ChainSpecError;
use aitbc_primitives::commitment::MemoryState;
use aitbc_primitives::{BoundedVec, DigestItem, Hash, Header};
use aitbc_runtime::GenesisConfig;

/// What the genesis digest item that names the chain starts with.
pub const CHAIN_ID_PREFIX: &[u8] = b"chain-id:";

/// A chain's genesis: its configuration, state, header and hash.
#[derive(Debug, Clone)]
pub struct Genesis {
    /// The chain spec's `id` (bound into the header).
    pub chain_id: String,
    pub config: GenesisConfig,
    /// The genesis state, committed as tree version 0.
    pub state: MemoryState,
    pub header: Header,
    pub hash: Hash,
}

impl Genesis {
    /// Validates `config` (through the runtime) and builds the genesis block of chain
    /// `chain_id` (a valid spec id: see [`crate::ChainSpec`]).
    pub fn build(chain_id: &str, config: GenesisConfig) -> Result<Genesis, ChainSpecError> {
        let changes = config.build()?;
        let mut state = MemoryState::new();
        let state_root = state.apply(&changes)?;
        let mut header = Header::genesis(state_root);
        let id_item = BoundedVec::try_from_vec([CHAIN_ID_PREFIX, chain_id.as_bytes()].concat())
            .map_err(|_| ChainSpecError::InvalidId(chain_id.to_string()))?;
        header
            .digest
            .try_push(DigestItem::Other(id_item))
            .map_err(|_| ChainSpecError::InvalidId(chain_id.to_string()))?;
        let hash = header.hash();
        Ok(Genesis {
            chain_id: chain_id.to_string(),
            config,
            state,
            header,
            hash,
        })
    }
}
