//! The proof routes: what a light client or a warp-syncing node checks instead of trusting this
//! node. Each answer carries SCALE bytes as `0x` hex for the verifier, and readable fields
//! beside them.
//!
//! - `GET /rpc/getFinalityProof/{fromHeight}`: `primitives::warp::FinalityProof` from that
//!   height (the set changes above it, then the latest justified block).
//! - `POST /rpc/getReadProof` `{keys: ["0x…"] | accounts: ["ait1…"], at?: height}`: the values
//!   and a `ReadProof` (one proof per key, in order) against block `at`'s state root (default:
//!   the finalized block). `accounts` proves the keys the state machine reads for each account's
//!   balance and nonce.
//! - `GET /rpc/getTxProof/{txHash}`: `primitives::TxProof` (header, transaction bytes, path to
//!   the extrinsics root) of a transaction on the best chain, and `ancestry`: the headers from
//!   its block's child up to the latest justified block (at most [`MAX_ANCESTRY`]), which link
//!   the block to a head a light client verified.

use crate::error::ApiError;
use crate::methods::{parse_address, parse_hash, parse_hex};
use aitbc_client::Client;
use aitbc_primitives::commitment::{CommitmentError, CommitmentUpdate, StateChanges};
use aitbc_primitives::{StateMachine, StateView};
use codec::Encode;
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::BTreeSet;

/// Keys one read proof covers at most.
pub const MAX_PROOF_KEYS: usize = 256;
/// Headers linking a transaction's block to the justified head at most (about 600 KB).
pub const MAX_ANCESTRY: u64 = 4096;

fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

pub fn get_finality_proof<S: StateMachine>(
    client: &Client<S>,
    from: &str,
) -> Result<Value, ApiError> {
    let from: u64 = from.parse().map_err(|_| {
        ApiError::bad_request("invalid_height", format!("{from:?} is not a block height"))
    })?;
    let proof = client.finality_proof(from)?;
    let last = proof
        .fragments
        .last()
        .map(|f| json!({ "number": f.header.number, "hash": f.header.hash() }));
    Ok(json!({
        "from": from,
        "fragments": proof.fragments.len(),
        "complete": proof.complete,
        "last": last,
        "proof": hex0x(&proof.encode()),
    }))
}

pub fn get_tx_proof<S: StateMachine>(client: &Client<S>, hash: &str) -> Result<Value, ApiError> {
    let hash = parse_hash(hash)?;
    let proof = client
        .tx_proof(&hash)?
        .ok_or_else(|| ApiError::not_found("transaction"))?;
    let number = proof.header.number;
    let block = proof.header.hash();
    let finalized = number <= client.finalized().number && client.hash_at(number)? == Some(block);
    let head = client.latest_justified()?.map_or(number, |at| at.number);
    let mut ancestry = Vec::new();
    for n in number + 1..=head.min(number + MAX_ANCESTRY) {
        let header = client
            .hash_at(n)?
            .map(|h| client.header(&h))
            .transpose()?
            .flatten()
            .ok_or_else(|| ApiError::internal(format!("no canonical header #{n}")))?;
        ancestry.push(header);
    }
    Ok(json!({
        "hash": hash,
        "block_height": number,
        "block_hash": block,
        "index": proof.proof.index,
        "finalized": finalized,
        "proof": hex0x(&proof.encode()),
        "ancestry": hex0x(&ancestry.encode()),
    }))
}

/// A state view that remembers every key read through it.
struct Recording<'a> {
    inner: &'a dyn StateView,
    keys: RefCell<BTreeSet<Vec<u8>>>,
}

impl StateView for Recording<'_> {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.keys.borrow_mut().insert(key.to_vec());
        self.inner.get(key)
    }
    fn commit(&self, _: &StateChanges) -> Result<CommitmentUpdate, CommitmentError> {
        Err(CommitmentError("a read proof commits nothing".into()))
    }
}

fn string_list<'a>(body: &'a Value, field: &str) -> Result<Vec<&'a str>, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str().ok_or_else(|| {
                    ApiError::bad_request("invalid_request", format!("{field} must be strings"))
                })
            })
            .collect(),
        Some(_) => Err(ApiError::bad_request(
            "invalid_request",
            format!("{field} must be an array"),
        )),
    }
}

pub fn get_read_proof<S: StateMachine>(
    client: &Client<S>,
    body: &Value,
) -> Result<Value, ApiError> {
    let keys = string_list(body, "keys")?
        .into_iter()
        .map(parse_hex)
        .collect::<Result<Vec<_>, _>>()?;
    let accounts = string_list(body, "accounts")?
        .into_iter()
        .map(parse_address)
        .collect::<Result<Vec<_>, _>>()?;
    if keys.is_empty() && accounts.is_empty() {
        return Err(ApiError::bad_request(
            "invalid_request",
            "give keys (0x hex) or accounts (ait1 addresses) to prove",
        ));
    }
    if keys.len() + accounts.len() > MAX_PROOF_KEYS {
        return Err(ApiError::bad_request(
            "too_many_keys",
            format!("at most {MAX_PROOF_KEYS} keys and accounts per proof"),
        ));
    }
    let at = match body.get("at") {
        None | Some(Value::Null) => client.finalized().number,
        Some(v) => v
            .as_u64()
            .ok_or_else(|| ApiError::bad_request("invalid_height", "at must be a block height"))?,
    };
    let state = client.state_at(at)?;
    let header = client
        .header(&state.at().hash)?
        .ok_or_else(|| ApiError::not_found("block"))?;
    let recording = Recording {
        inner: &state,
        keys: RefCell::new(keys.iter().cloned().collect()),
    };
    let account_info: Vec<Value> = accounts
        .iter()
        .map(|who| {
            let info = client.runtime().account(&recording, who);
            json!({ "address": who, "balance": info.balance.to_string(), "nonce": info.nonce })
        })
        .collect();
    let mut entries = Vec::new();
    let mut proofs = Vec::new();
    for key in recording.keys.into_inner() {
        let (value, proof) = state
            .prove(&key)
            .map_err(|e| ApiError::internal(format!("proof: {e}")))?;
        entries.push(json!({ "key": hex0x(&key), "value": value.as_deref().map(hex0x) }));
        proofs.push(proof);
    }
    state.check()?;
    Ok(json!({
        "at": { "number": at, "hash": state.at().hash },
        "state_root": header.state_root,
        "entries": entries,
        "accounts": account_info,
        "proof": hex0x(&proofs.encode()),
    }))
}
