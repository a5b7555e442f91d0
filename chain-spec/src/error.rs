//! Why a chain spec was refused.
//!
//! One enum for loading, validating and building a spec. Checks that only make sense on the JSON
//! (syntax, unknown fields, address text, the spec id, the raw section) have their own variants
//! here; every semantic check of the genesis itself (duplicates, slot duration, ratios, the
//! existential deposit, …) lives in the runtime's `GenesisConfig::build` and arrives as
//! [`ChainSpecError::Genesis`], so there is one place of truth for what a valid genesis is.

use aitbc_primitives::commitment::CommitmentError;
use aitbc_primitives::AddressError;
use aitbc_runtime::GenesisError;
use std::path::PathBuf;

/// Why a chain spec could not be loaded, validated or turned into a genesis block.
#[derive(Debug, thiserror::Error)]
pub enum ChainSpecError {
    /// `--chain` named neither a preset nor an existing file.
    #[error(
        "chain spec file {path:?} not found (expected `dev`, `local` or a path to a JSON file)"
    )]
    NotFound { path: PathBuf },
    /// The file exists but could not be read.
    #[error("cannot read chain spec file {path:?}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The text is not JSON, or not JSON of a chain spec (a missing, unknown or mistyped field).
    #[error("chain spec {origin}: {kind} at line {line}, column {column}: {message}")]
    Json {
        /// Where the text came from (a path, or `<string>`).
        origin: String,
        /// `invalid JSON` (syntax) or `invalid chain spec` (shape).
        kind: &'static str,
        line: usize,
        column: usize,
        message: String,
    },
    /// The spec `id` is empty, longer than 64 bytes or holds characters other than ASCII
    /// letters, digits, `-` and `_` (nodes use it in file paths; the genesis hash covers it).
    #[error("chain spec id {0:?} is invalid: use 1 to 64 ASCII letters, digits, '-' and '_'")]
    InvalidId(String),
    /// An address field does not hold a valid `ait1…` address.
    #[error("chain spec field `{field}`: bad address {address:?}: {source}")]
    BadAddress {
        /// The JSON path of the field, e.g. `genesis.balances[2][0]`.
        field: String,
        address: String,
        #[source]
        source: AddressError,
    },
    /// The genesis configuration was refused by the runtime.
    #[error("invalid genesis: {0}")]
    Genesis(#[from] GenesisError),
    /// Computing the genesis state root failed (never for valid input; a bug if seen).
    #[error(transparent)]
    Commitment(#[from] CommitmentError),
    /// The `genesis_raw` section is malformed (e.g. a key that is not `0x`-prefixed hex).
    #[error("chain spec `genesis_raw` is malformed: {0}")]
    InvalidRawGenesis(String),
    /// The `genesis_raw` section differs from the genesis the human-readable part builds: the spec
    /// was tampered with or written by an incompatible version.
    #[error("chain spec `genesis_raw` does not match the genesis built from the spec: {0}")]
    RawGenesisMismatch(String),
}
