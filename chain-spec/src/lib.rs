//! # aitbc-chain-spec
//!
//! Chain specs: the JSON document that names a chain and configures its genesis, the built-in
//! `dev` and `local` presets, and the genesis block (state, header, hash) built from a spec.
//!
//! ## Format
//! ```json
//! {
//!   "name": "Development", "id": "dev", "chain_type": "Development" | "Local" | "Live",
//!   "boot_nodes": ["/ip4/…/tcp/7070/p2p/…"],
//!   "properties": { "token_symbol": "AIT", "token_decimals": 18 },
//!   "genesis": {
//!     "slot_duration_ms": 1000,
//!     "balances": [["ait1…", "1000000000000000000"]],
//!     "authorities": ["ait1…"],
//!     "coordinators": ["ait1…"],
//!     "sudo": "ait1…",
//!     "treasury": "ait1…",
//!     "faucet": true,
//!     "params": { "mint_per_unit": "1000", "coordinator_ratio_ppm": 50000, … }
//!   },
//!   "genesis_raw": { "state": {"0x…": "0x…"}, "state_root": "0x…", "genesis_hash": "0x…" }
//! }
//! ```
//! - Amounts are decimal strings of base units; numbers are accepted on input.
//! - Addresses are `ait1…` (bech32m); a bad one is reported with its JSON path.
//! - Unknown fields are errors at every level. `boot_nodes`, `properties`, `coordinators`,
//!   `faucet` (false), `sudo` (none) and `params` may be left out; so may any single parameter,
//!   which then takes its `Params::default()` value.
//! - `genesis_raw` (only in `build-spec --raw` output, see [`raw`]) is checked, never trusted.
//!
//! ## Invariants
//! - A spec that loads builds a genesis: [`ChainSpec::load`] runs the runtime's
//!   `GenesisConfig::build`, the single place where the genesis rules (non-empty authority set
//!   without duplicates, slot duration > 0, ratios ≤ 1 000 000 ppm, endowments ≥ the existential
//!   deposit, no account endowed twice, …) are checked; this crate adds only JSON-level checks.
//!   The genesis built there is kept for the spec's first [`ChainSpec::genesis`] call (if the
//!   `genesis` section is unchanged), so a node builds a large genesis once per start.
//! - The genesis is a pure function of the `genesis` section: `name`, `id`, `boot_nodes` and
//!   `properties` do not change the genesis hash.
//! - JSON -> spec -> JSON is the identity on specs this crate writes.
//! - The `dev` genesis hash is pinned by a golden test; changing it (a new state layout,
//!   header format, preset or parameter default) is a consensus-visible change.

pub mod error;
pub mod genesis;
pub mod presets;
pub mod raw;
pub mod spec;

#[cfg(test)]
mod tests;

pub use error::ChainSpecError;
pub use genesis::Genesis;
pub use raw::RawGenesis;
pub use spec::{ChainSpec, ChainType, Endowment, GenesisSpec, Properties};
