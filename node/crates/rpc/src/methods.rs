//! The RPC methods, independent of transport: each takes parsed arguments and returns JSON or an
//! [`ApiError`]. REST routes, JSON-RPC and websocket notifications all call these.

use crate::error::ApiError;
use aitbc_client::{Admission, Client, IncludedTx, SubmitError, TxStatus, Xt};
use aitbc_primitives::{
    serde_balance, AccountId, Balance, Extrinsic, Hash, Header, Nonce, Signature, StateMachine,
    StateView,
};
use codec::Encode;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

pub fn parse_hash(s: &str) -> Result<Hash, ApiError> {
    Hash::from_hex(s)
        .map_err(|e| ApiError::bad_request("invalid_hash", format!("invalid hash {s:?}: {e}")))
}

pub fn parse_address(s: &str) -> Result<AccountId, ApiError> {
    s.parse().map_err(|e| {
        ApiError::bad_request("invalid_address", format!("invalid address {s:?}: {e}"))
    })
}

/// Decodes `0x…` hex.
pub fn parse_hex(s: &str) -> Result<Vec<u8>, ApiError> {
    let digits = s.strip_prefix("0x").unwrap_or(s);
    hex::decode(digits)
        .map_err(|_| ApiError::bad_request("invalid_hex", "expected 0x-prefixed hex"))
}

fn timestamp_ms<S: StateMachine>(client: &Client<S>, state: &dyn StateView, slot: u64) -> u64 {
    slot.saturating_mul(client.runtime().slot_duration_ms(state))
}

pub fn get_head<S: StateMachine>(client: &Client<S>) -> Result<Value, ApiError> {
    // Finalized first: an import between the reads can only move best ahead of it.
    let fin = client.finalized();
    let best = client.best_header();
    let state = client.state()?;
    Ok(json!({
        "height": best.number,
        "hash": best.hash(),
        "slot": best.slot,
        "timestamp_ms": timestamp_ms(client, &state, best.slot),
        "finalized_height": fin.number,
        "finalized_hash": fin.hash,
    }))
}

/// The hash of the block `id` names: a decimal height (on the best chain) or a `0x` block hash.
fn block_hash<S: StateMachine>(client: &Client<S>, id: &str) -> Result<Hash, ApiError> {
    if id.starts_with("0x") {
        return parse_hash(id);
    }
    let height: u64 = id.parse().map_err(|_| {
        ApiError::bad_request(
            "invalid_block_id",
            format!("{id:?} is neither a height nor a 0x hash"),
        )
    })?;
    client
        .hash_at(height)?
        .ok_or_else(|| ApiError::not_found("block"))
}

/// `id`: a decimal height or a `0x` block hash.
pub fn get_block<S: StateMachine>(client: &Client<S>, id: &str) -> Result<Value, ApiError> {
    let hash = block_hash(client, id)?;
    let (block, finalized) = client
        .block(&hash)?
        .ok_or_else(|| ApiError::not_found("block"))?;
    let txs: Vec<Hash> = block.block.extrinsics.iter().map(|x| x.hash()).collect();
    let mut v = head_json(client, &block.block.header, hash, &txs)?;
    v["author"] = json!(client.block_author(&hash)?);
    v["finalized"] = json!(finalized);
    Ok(v)
}

/// `getBlockEvents`: every transaction of block `id` (a height or a `0x` hash) in order, with
/// what it was and its outcome: `{height, hash, events: [{tx_hash, index, signer, nonce, call,
/// fee, success, error, events}]}` (what an indexer needs, one request per block). Outcomes are
/// stored for the best chain's blocks only: for any other block the answer is 404. A typed
/// answer: the REST route serializes it straight to bytes (a block can hold 10,000
/// transactions), JSON-RPC and the explorer through a `Value`.
pub fn get_block_events<S: StateMachine>(
    client: &Client<S>,
    id: &str,
) -> Result<BlockEvents<S>, ApiError> {
    let hash = block_hash(client, id)?;
    let (block, _) = client
        .block(&hash)?
        .ok_or_else(|| ApiError::not_found("block"))?;
    let height = block.block.header.number;
    let mut events = Vec::with_capacity(block.block.extrinsics.len());
    for (index, xt) in block.block.extrinsics.into_iter().enumerate() {
        let tx_hash = xt.hash();
        let outcome = client
            .tx_outcome(&tx_hash)?
            .filter(|(record, _)| record.block.hash == hash)
            .map(|(_, outcome)| outcome);
        let Some(outcome) = outcome else {
            return Err(ApiError::new(
                404,
                "not_found",
                format!("events of block {hash} not found (it is not on the best chain)"),
            ));
        };
        events.push(TxEvents {
            tx_hash,
            index,
            signer: xt.signer,
            nonce: xt.nonce,
            call: xt.call,
            fee: outcome.fee,
            success: outcome.success,
            error: outcome.error,
            events: outcome.events,
        });
    }
    Ok(BlockEvents {
        height,
        hash,
        events,
    })
}

/// The `getBlockEvents` answer.
#[derive(Debug, Serialize)]
#[serde(bound(serialize = ""))]
pub struct BlockEvents<S: StateMachine> {
    height: u64,
    hash: Hash,
    events: Vec<TxEvents<S>>,
}

/// One transaction of a [`BlockEvents`].
#[derive(Debug, Serialize)]
#[serde(bound(serialize = ""))]
struct TxEvents<S: StateMachine> {
    tx_hash: Hash,
    index: usize,
    signer: AccountId,
    nonce: Nonce,
    call: S::Call,
    #[serde(with = "serde_balance")]
    fee: Balance,
    success: bool,
    error: Option<String>,
    events: Vec<S::Event>,
}

/// The head JSON of a block announced by a chain event: `getHead`-like fields of the block itself
/// (websocket `newHeads` / `finalizedHeads` notifications).
pub fn head_json<S: StateMachine>(
    client: &Client<S>,
    header: &Header,
    hash: Hash,
    tx_hashes: &[Hash],
) -> Result<Value, ApiError> {
    let state = client.state()?;
    Ok(json!({
        "height": header.number,
        "hash": hash,
        "parent_hash": header.parent_hash,
        "slot": header.slot,
        "timestamp_ms": timestamp_ms(client, &state, header.slot),
        "state_root": header.state_root,
        "extrinsics_root": header.extrinsics_root,
        "tx_count": tx_hashes.len(),
        "transactions": tx_hashes,
    }))
}

pub fn get_tx<S: StateMachine>(client: &Client<S>, hash: &str) -> Result<Value, ApiError> {
    let hash = parse_hash(hash)?;
    tx_json(client, &hash)?.ok_or_else(|| ApiError::not_found("transaction"))
}

/// The `getTx` JSON of a transaction, `None` if the node does not know it.
pub fn tx_json<S: StateMachine>(
    client: &Client<S>,
    hash: &Hash,
) -> Result<Option<Value>, ApiError> {
    let hash = *hash;
    let Some(status) = client.tx_status(&hash)? else {
        return Ok(None);
    };
    let describe = |xt: &Xt<S>| {
        (
            xt.signer,
            xt.nonce,
            serde_json::to_value(&xt.call).unwrap_or(Value::Null),
        )
    };
    Ok(Some(match status {
        TxStatus::Pending(xt) => {
            let (signer, nonce, call) = describe(&xt);
            json!({ "hash": hash, "status": "pending", "block_height": null, "block_hash": null,
                    "signer": signer, "nonce": nonce, "call": call, "fee": null,
                    "success": null, "error": null, "events": [] })
        }
        TxStatus::Included(inc) => {
            let IncludedTx {
                record,
                xt,
                outcome,
                finalized,
            } = *inc;
            let (signer, nonce, call) = describe(&xt);
            json!({ "hash": hash, "status": if finalized { "finalized" } else { "included" },
                    "block_height": record.block.number, "block_hash": record.block.hash, "index": record.index,
                    "signer": signer, "nonce": nonce, "call": call, "fee": outcome.fee.to_string(),
                    "success": outcome.success, "error": outcome.error, "events": outcome.events })
        }
        TxStatus::Dropped(reason) => {
            json!({ "hash": hash, "status": "dropped", "block_height": null,
            "block_hash": null, "signer": null, "nonce": null, "call": null, "fee": null,
            "success": null, "error": reason, "events": [] })
        }
    }))
}

pub fn get_balance<S: StateMachine>(client: &Client<S>, address: &str) -> Result<Value, ApiError> {
    let who = parse_address(address)?;
    let state = client.state()?;
    let info = client.runtime().account(&state, &who);
    state.check()?;
    let next = client.next_nonce(&who, info.nonce);
    Ok(
        json!({ "address": who, "balance": info.balance.to_string(), "nonce": info.nonce, "next_nonce": next }),
    )
}

/// The JSON transaction form: the call as `{type, payload}` plus the signing fields.
#[derive(Debug, Deserialize)]
struct JsonTx {
    #[serde(rename = "type")]
    kind: String,
    sender: AccountId,
    #[serde(with = "aitbc_primitives::types::serde_u64_lenient")]
    nonce: Nonce,
    #[serde(default, with = "serde_balance")]
    tip: Balance,
    #[serde(default)]
    valid_until: Option<u64>,
    #[serde(default)]
    payload: Value,
    sig: String,
}

/// A `sendTx` body: `{"tx": "0x…"}` or the JSON form. Returns the decoded extrinsic and its
/// encoded length.
pub fn parse_tx_body<S: StateMachine>(body: &Value) -> Result<(Xt<S>, usize), ApiError> {
    if let Some(hex_tx) = body.get("tx") {
        let s = hex_tx.as_str().ok_or_else(|| {
            ApiError::bad_request("invalid_request", "\"tx\" must be a 0x hex string")
        })?;
        let bytes = parse_hex(s)?;
        let xt: Xt<S> = aitbc_primitives::decode_exact(&bytes).map_err(|e| {
            ApiError::bad_request(
                "invalid_encoding",
                format!("cannot decode transaction: {e}"),
            )
        })?;
        return Ok((xt, bytes.len()));
    }
    let tx: JsonTx = serde_json::from_value(body.clone()).map_err(|e| {
        ApiError::bad_request(
            "invalid_request",
            format!("expected {{\"tx\": \"0x…\"}} or the JSON form: {e}"),
        )
    })?;
    let call: S::Call = serde_json::from_value(json!({ "type": tx.kind, "payload": tx.payload }))
        .map_err(|e| {
        ApiError::bad_request("invalid_call", format!("invalid {} payload: {e}", tx.kind))
    })?;
    let signature = Signature::from_hex(&tx.sig).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_signature_encoding",
            "sig must be 0x + 128 hex digits",
        )
    })?;
    let xt = Extrinsic {
        signer: tx.sender,
        nonce: tx.nonce,
        tip: tx.tip,
        valid_until: tx.valid_until,
        call,
        signature,
    };
    let len = xt.encoded_size();
    Ok((xt, len))
}

/// The JSON form of a signed extrinsic (what `tx … --print-json` prints).
pub fn json_tx<S: StateMachine>(xt: &Xt<S>) -> Value {
    let call = serde_json::to_value(&xt.call).unwrap_or(Value::Null);
    let mut out = json!({
        "type": call.get("type").cloned().unwrap_or(Value::Null),
        "sender": xt.signer,
        "nonce": xt.nonce,
        "tip": xt.tip.to_string(),
        "payload": call.get("payload").cloned().unwrap_or(Value::Null),
        "sig": xt.signature.to_hex(),
    });
    if let Some(v) = xt.valid_until {
        out["valid_until"] = json!(v);
    }
    out
}

/// Parses a `sendTx`/`submitReceipt` body and queues it for batched admission
/// ([`Admission`]); the answer arrives on the returned receiver ([`tx_answer`]).
pub fn queue_tx<S: StateMachine>(
    admission: &Admission<S>,
    body: &Value,
) -> Result<TxReceiver, ApiError> {
    let (xt, len) = parse_tx_body::<S>(body)?;
    queue_decoded(admission, xt, len)
}

/// Queues a parsed transaction of `len` encoded bytes for batched admission.
pub fn queue_decoded<S: StateMachine>(
    admission: &Admission<S>,
    xt: Xt<S>,
    len: usize,
) -> Result<TxReceiver, ApiError> {
    Ok(admission.submit(xt, len)?)
}

/// Where a queued transaction's admission answer arrives.
pub type TxReceiver = tokio::sync::oneshot::Receiver<Result<Hash, SubmitError>>;

/// The answer to `sendTx`/`submitReceipt` once admission decided.
pub fn tx_answer(
    decided: Result<Result<Hash, SubmitError>, tokio::sync::oneshot::error::RecvError>,
) -> Result<Value, ApiError> {
    let hash = decided.map_err(|_| ApiError::internal("transaction admission stopped"))??;
    Ok(json!({ "txHash": hash }))
}

pub fn estimate_fee<S: StateMachine>(client: &Client<S>, body: &Value) -> Result<Value, ApiError> {
    let (xt, _) = parse_tx_body::<S>(body)?;
    let state = client.state()?;
    Ok(json!({ "fee": client.runtime().fee(&state, &xt).to_string() }))
}

/// `/health`.
pub fn health<S: StateMachine>(
    client: &Client<S>,
    chain: &str,
    network: Option<&aitbc_network::NetworkHandle>,
) -> Result<Value, ApiError> {
    let best = client.best_header();
    let mut v = json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "chain": chain,
        "genesis_hash": client.genesis_hash(),
        "best": best.number,
        "finalized": client.finalized().number,
    });
    if let (Some(obj), Value::Object(net)) = (
        v.as_object_mut(),
        crate::p2p::health_fields(network, best.number),
    ) {
        obj.extend(net);
    }
    Ok(v)
}
