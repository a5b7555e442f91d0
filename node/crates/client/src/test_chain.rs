//! A chain for the client's tests: the name registry, a state machine that is not AITBC's (the
//! client is generic), with alice as its one authority and 1 s slots.

use crate::metrics::Metrics;
use crate::{Client, GenesisBlock};
use aitbc_name_registry::{Genesis, NameRegistry};
use aitbc_primitives::crypto::dev_pair;
use aitbc_txpool::{PoolLimits, TxPool};
use std::path::Path;
use std::sync::Arc;

/// The slot duration of the test chain.
pub const SLOT_MS: u64 = 1_000;

/// A client of the test chain with its database at `db`.
pub fn client(db: &Path) -> Client<NameRegistry> {
    let genesis = Genesis {
        chain_id: "client-test".into(),
        authorities: vec![dev_pair("alice").public()],
        slot_duration_ms: SLOT_MS,
        names: Vec::new(),
    };
    let (state, header) = genesis.build().expect("genesis");
    let registry = Arc::new(NameRegistry::new(header.hash()));
    Client::open(
        registry,
        &GenesisBlock {
            header,
            state,
            state_policy: aitbc_storage::GenesisState::IfNew,
        },
        db,
        TxPool::new(PoolLimits::default()),
        Arc::new(Metrics::default()),
    )
    .expect("client")
}
