//! The JSON chain spec: its types, loading and writing.
//!
//! Every struct refuses unknown fields, so a typo (`"sloot_duration_ms"`) is an error instead of
//! a silently defaulted value. Amounts are decimal strings (numbers are accepted on input, since
//! JSON numbers cannot hold every u128); addresses are `ait1…` text, parsed only when the spec is
//! turned into a [`GenesisConfig`] so that a bad one is reported with the field it sits in.

use crate::error::ChainSpecError;
use crate::genesis::Genesis;
use crate::presets;
use crate::raw::RawGenesis;
use aitbc_primitives::Hash;
use aitbc_primitives::{address, serde_balance, serde_u64_lenient, AccountId, Balance};
use aitbc_runtime::{GenesisConfig, Params};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// The longest spec `id`, in bytes.
pub const MAX_ID_LEN: usize = 64;

/// A chain spec: the identity of a chain and the configuration of its genesis block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainSpec {
    /// Human-readable name, e.g. `Development`.
    pub name: String,
    /// Short machine id, e.g. `dev`; ASCII letters, digits, `-` and `_` (used in file paths).
    pub id: String,
    pub chain_type: ChainType,
    /// Multiaddrs of peers to dial at start-up (checked by the node, not here).
    #[serde(default)]
    pub boot_nodes: Vec<String>,
    #[serde(default)]
    pub properties: Properties,
    pub genesis: GenesisSpec,
    /// The genesis state and hash, present in a raw spec (`build-spec --raw`). It is never
    /// trusted: loading checks it against what [`ChainSpec::genesis`] builds. [`ChainSpec::to_json`]
    /// recomputes it rather than copying this field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub genesis_raw: Option<RawGenesis>,
    /// The genesis that loading built to validate the spec, kept for the first
    /// [`ChainSpec::genesis`] call (a node builds it once per start, not twice).
    #[serde(skip)]
    pub(crate) loaded: LoadedGenesis,
}

/// A genesis kept from loading; at most one taker gets it. Clones of a spec share it. Not part
/// of the spec's value: every two are equal.
#[derive(Clone, Default)]
pub(crate) struct LoadedGenesis(Arc<Mutex<Option<(Hash, Genesis)>>>);

impl LoadedGenesis {
    /// Keeps `genesis`, built from the spec whose [`ChainSpec::genesis_fingerprint`] is given.
    pub(crate) fn keep(&self, fingerprint: Hash, genesis: Genesis) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some((fingerprint, genesis));
    }

    pub(crate) fn take(&self) -> Option<(Hash, Genesis)> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

impl PartialEq for LoadedGenesis {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for LoadedGenesis {}

impl std::fmt::Debug for LoadedGenesis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LoadedGenesis")
    }
}

/// What kind of network a spec describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChainType {
    /// A single-node development chain with well-known keys.
    Development,
    /// A local multi-node test network with well-known keys.
    Local,
    /// A network meant to hold value: never use dev keys in one.
    Live,
}

/// Token metadata for wallets and explorers; not part of the genesis state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Properties {
    pub token_symbol: String,
    pub token_decimals: u8,
}

impl Default for Properties {
    fn default() -> Self {
        Properties {
            token_symbol: "AIT".into(),
            token_decimals: 18,
        }
    }
}

/// The human-readable genesis configuration, mirroring [`GenesisConfig`] with text addresses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisSpec {
    /// Length of a consensus slot; greater than zero.
    #[serde(with = "serde_u64_lenient")]
    pub slot_duration_ms: u64,
    /// Initial balances, `[address, amount]`; each account at most once.
    #[serde(default)]
    pub balances: Vec<Endowment>,
    /// The initial authority set, in slot order; non-empty, no duplicates.
    pub authorities: Vec<String>,
    /// Coordinators whose attestations may settle receipts.
    #[serde(default)]
    pub coordinators: Vec<String>,
    /// The root key; absent or `null` for a chain without sudo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sudo: Option<String>,
    /// The account that receives the treasury's share of fees and mints.
    pub treasury: String,
    /// Whether root may mint (`balances.mint`, the admin faucet).
    #[serde(default)]
    pub faucet: bool,
    /// Chain parameters; missing fields take [`Params::default`], unknown ones are an error.
    #[serde(default)]
    pub params: Params,
}

/// One initial balance: `[address, amount]` in JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endowment(pub String, #[serde(with = "serde_balance")] pub Balance);

impl ChainSpec {
    /// The `dev` preset (see [`presets`]).
    pub fn dev() -> ChainSpec {
        presets::dev()
    }

    /// The `local` preset (see [`presets`]).
    pub fn local() -> ChainSpec {
        presets::local()
    }

    /// Loads `dev`, `local` (the presets win over files of those names) or a JSON file at the
    /// path `arg`, fully validated: the genesis is built, and a raw section must match it.
    pub fn load(arg: &str) -> Result<ChainSpec, ChainSpecError> {
        match arg {
            "dev" => Ok(presets::dev()),
            "local" => Ok(presets::local()),
            path => ChainSpec::from_file(Path::new(path)),
        }
    }

    /// Reads and validates a JSON spec file.
    pub fn from_file(path: &Path) -> Result<ChainSpec, ChainSpecError> {
        let spec = {
            let text = std::fs::read_to_string(path).map_err(|source| match source.kind() {
                std::io::ErrorKind::NotFound => ChainSpecError::NotFound {
                    path: path.to_path_buf(),
                },
                _ => ChainSpecError::Read {
                    path: path.to_path_buf(),
                    source,
                },
            })?;
            serde_json::from_str(&text).map_err(|e| json_error(&path.display().to_string(), &e))?
            // The text goes before the genesis is built (a 1M-account spec is 112 MB).
        };
        ChainSpec::validated(spec)
    }

    /// Parses and validates a JSON spec held in memory.
    pub fn from_json_str(text: &str) -> Result<ChainSpec, ChainSpecError> {
        ChainSpec::validated(serde_json::from_str(text).map_err(|e| json_error("<string>", &e))?)
    }

    /// `spec` once its genesis builds (and matches its `genesis_raw`, if any).
    fn validated(spec: ChainSpec) -> Result<ChainSpec, ChainSpecError> {
        let genesis = spec.genesis()?;
        if let Some(raw) = &spec.genesis_raw {
            raw.check(&genesis)?;
        }
        spec.loaded.keep(spec.genesis_fingerprint(), genesis);
        Ok(spec)
    }

    /// A hash of what the genesis is built from (the id and the genesis section), streamed:
    /// comparing it is cheaper than building the configuration again (1M endowments: a second
    /// and 48 MB).
    fn genesis_fingerprint(&self) -> Hash {
        struct Hasher(aitbc_primitives::hashing::Blake2b256);
        impl std::io::Write for Hasher {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                blake2::Digest::update(&mut self.0, buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut h = Hasher(Default::default());
        serde_json::to_writer(&mut h, &(&self.id, &self.genesis))
            .expect("a chain spec has only string keys and plain values; qed");
        Hash(blake2::Digest::finalize(h.0).into())
    }

    /// The spec as pretty JSON. With `raw`, a `genesis_raw` section holding the genesis state,
    /// state root and hash is added, which needs a valid genesis.
    pub fn to_json(&self, raw: bool) -> Result<String, ChainSpecError> {
        let genesis_raw = if raw {
            Some(RawGenesis::of(&self.genesis()?))
        } else {
            None
        };
        let doc = ChainSpec {
            genesis_raw,
            ..self.clone()
        };
        Ok(serde_json::to_string_pretty(&doc)
            .expect("a chain spec has only string keys and plain values; qed"))
    }

    /// The runtime's genesis configuration. Checks the JSON-level facts (the id, every address);
    /// the rest is checked by `GenesisConfig::build`, which [`ChainSpec::genesis`] runs.
    /// (The id is at most [`MAX_ID_LEN`] bytes: it is bound into the genesis header.)
    pub fn genesis_config(&self) -> Result<GenesisConfig, ChainSpecError> {
        if self.id.is_empty()
            || self.id.len() > MAX_ID_LEN
            || !self
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(ChainSpecError::InvalidId(self.id.clone()));
        }
        let g = &self.genesis;
        // On all cores: a 1M-account spec has 1M addresses to decode.
        let balances =
            aitbc_primitives::parallel::try_map(&g.balances, 4096, |i, Endowment(who, amount)| {
                let account = parse_address_in(|| format!("genesis.balances[{i}][0]"), who)?;
                Ok::<_, ChainSpecError>((account, *amount))
            })?;
        let list = |name: &str, items: &[String]| {
            items
                .iter()
                .enumerate()
                .map(|(i, a)| parse_address(&format!("genesis.{name}[{i}]"), a))
                .collect::<Result<Vec<_>, ChainSpecError>>()
        };
        Ok(GenesisConfig {
            slot_duration_ms: g.slot_duration_ms,
            balances,
            authorities: list("authorities", &g.authorities)?,
            coordinators: list("coordinators", &g.coordinators)?,
            sudo: g
                .sudo
                .as_deref()
                .map(|s| parse_address("genesis.sudo", s))
                .transpose()?,
            treasury: parse_address("genesis.treasury", &g.treasury)?,
            faucet: g.faucet,
            params: g.params.clone(),
        })
    }

    /// Validates the spec and builds its genesis state, header and hash. The first call after
    /// loading a file returns the genesis that loading built, if the spec's genesis section is
    /// still the one it was built from.
    pub fn genesis(&self) -> Result<Genesis, ChainSpecError> {
        match self.loaded.take() {
            Some((fingerprint, genesis)) if fingerprint == self.genesis_fingerprint() => {
                Ok(genesis)
            }
            _ => Genesis::build(&self.id, self.genesis_config()?),
        }
    }
}

fn parse_address(field: &str, text: &str) -> Result<AccountId, ChainSpecError> {
    parse_address_in(|| field.to_string(), text)
}

/// [`parse_address`] naming the field only if the address is bad.
fn parse_address_in(
    field: impl FnOnce() -> String,
    text: &str,
) -> Result<AccountId, ChainSpecError> {
    address::decode(text).map_err(|source| ChainSpecError::BadAddress {
        field: field(),
        address: text.to_string(),
        source,
    })
}

fn json_error(origin: &str, e: &serde_json::Error) -> ChainSpecError {
    let (line, column) = (e.line(), e.column());
    let text = e.to_string();
    let message = text
        .strip_suffix(&format!(" at line {line} column {column}"))
        .unwrap_or(&text)
        .to_string();
    let kind = match e.classify() {
        serde_json::error::Category::Data => "invalid chain spec",
        _ => "invalid JSON",
    };
    ChainSpecError::Json {
        origin: origin.to_string(),
        kind,
        line,
        column,
        message,
    }
}
