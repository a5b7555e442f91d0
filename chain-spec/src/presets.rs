//! The built-in `dev` and `local` specs.
//!
//! Both use the public dev keys (`//name`, see `aitbc_primitives::crypto`), so they must never
//! hold real value:
//! - balances: //alice, //bob, //charlie, //dave, //eve and //ferdie get [`DEV_ENDOWMENT`]
//!   (10^18 base units) each;
//! - //coordinator is a registered coordinator (the mock coordinator's default key);
//! - //alice is sudo;
//! - the treasury is the account of //treasury (a dev key too, so tests can spend from it);
//! - parameters are [`Params::default`] except `epoch_length`: [`PRESET_EPOCH_LENGTH`] blocks,
//!   so validator elections come every 20 s;
//! - each authority is bonded `min_validator_bond` at genesis; //eve and //ferdie can bond and
//!   validate (`aitbc-node tx bond`, `tx validate`).
//!
//! `dev` has the single authority //alice and the faucet on; `local` has the four authorities
//! //alice, //bob, //charlie and //dave (so one may fail and finality continues) and the faucet
//! off. Both use 1000 ms slots.

use crate::spec::{ChainSpec, ChainType, Endowment, GenesisSpec, Properties};
use aitbc_primitives::crypto::dev_pair;
use aitbc_primitives::Balance;
use aitbc_runtime::Params;

/// What each endowed dev account starts with: 10^18 base units.
pub const DEV_ENDOWMENT: Balance = 1_000_000_000_000_000_000;

/// The endowed dev accounts, by secret-URI name.
pub const ENDOWED: [&str; 6] = ["alice", "bob", "charlie", "dave", "eve", "ferdie"];

/// Slot duration of both presets.
pub const PRESET_SLOT_DURATION_MS: u64 = 1000;

/// Blocks per epoch of both presets.
pub const PRESET_EPOCH_LENGTH: u64 = 20;

/// The `ait1…` address of the dev key `//name`.
pub fn dev_address(name: &str) -> String {
    dev_pair(name).public().to_string()
}

fn preset(
    name: &str,
    id: &str,
    chain_type: ChainType,
    authorities: &[&str],
    faucet: bool,
) -> ChainSpec {
    ChainSpec {
        name: name.into(),
        id: id.into(),
        chain_type,
        boot_nodes: Vec::new(),
        properties: Properties::default(),
        genesis: GenesisSpec {
            slot_duration_ms: PRESET_SLOT_DURATION_MS,
            balances: ENDOWED
                .iter()
                .map(|n| Endowment(dev_address(n), DEV_ENDOWMENT))
                .collect(),
            authorities: authorities.iter().map(|n| dev_address(n)).collect(),
            coordinators: vec![dev_address("coordinator")],
            sudo: Some(dev_address("alice")),
            treasury: dev_address("treasury"),
            faucet,
            params: Params {
                epoch_length: PRESET_EPOCH_LENGTH,
                ..Params::default()
            },
        },
        genesis_raw: None,
        loaded: Default::default(),
    }
}

/// The single-authority development chain (`--dev`).
pub fn dev() -> ChainSpec {
    preset(
        "Development",
        "dev",
        ChainType::Development,
        &["alice"],
        true,
    )
}

/// The four-authority local test network (`scripts/devnet_up.sh`).
pub fn local() -> ChainSpec {
    preset(
        "Local Testnet",
        "local",
        ChainType::Local,
        &["alice", "bob", "charlie", "dave"],
        false,
    )
}
