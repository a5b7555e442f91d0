//! Compute jobs and receipts over the RPC: `getReceipt`, `getJob` and `submitReceipt` (a
//! `sendTx` that takes only a receipt claim).

use aitbc_client::Client;
use aitbc_primitives::JobId;
use aitbc_rpc::error::ApiError;
use aitbc_rpc::methods::{self, parse_address, parse_hash, TxReceiver};
use aitbc_rpc::RpcContext;
use aitbc_runtime::ComputeApi;
use serde_json::{json, Value};

/// `POST /rpc/submitReceipt`: parses the transaction as `sendTx` does, refuses anything but a
/// receipt claim (400 `not_a_receipt_claim`), and queues it for admission.
pub fn submit_receipt<S: ComputeApi>(
    ctx: &RpcContext<S>,
    body: &Value,
) -> Result<TxReceiver, ApiError> {
    let (xt, len) = methods::parse_tx_body::<S>(body)?;
    if ctx.client.runtime().claimed_receipt(&xt.call).is_none() {
        return Err(ApiError::bad_request(
            "not_a_receipt_claim",
            "submitReceipt takes a receipts.claim transaction",
        ));
    }
    methods::queue_decoded(&ctx.admission, xt, len)
}

/// `GET /rpc/getReceipt/{receiptId}`: a settled receipt and the transaction that claimed it.
pub fn get_receipt<S: ComputeApi>(client: &Client<S>, id: &str) -> Result<Value, ApiError> {
    let id = parse_hash(id)?;
    let state = client.state()?;
    let r = client
        .runtime()
        .receipt(&state, &id)
        .ok_or_else(|| ApiError::not_found("receipt"))?;
    // The claiming transaction is in the block the receipt records.
    let block = match client.hash_at(r.block_height)? {
        Some(hash) => client.block(&hash)?.map(|(b, _)| b),
        None => None,
    };
    let tx_hash = block
        .and_then(|b| {
            b.block
                .extrinsics
                .iter()
                .find(|xt| client.runtime().claimed_receipt(&xt.call) == Some(id))
                .map(|xt| xt.hash())
        })
        .ok_or_else(|| ApiError::internal(format!("the transaction of receipt {id} is missing")))?;
    Ok(json!({
        "receipt_id": r.receipt_id, "job_id": r.job_id, "client": r.client, "miner": r.miner,
        "coordinator": r.coordinator, "compute_units": r.compute_units, "minted": r.minted.to_string(),
        "block_height": r.block_height, "tx_hash": tx_hash, "revoked": r.revoked,
    }))
}

/// `GET /rpc/getJob/{clientAddress}/{jobId}`: a job escrow.
pub fn get_job<S: ComputeApi>(
    client: &Client<S>,
    address: &str,
    job_id: &str,
) -> Result<Value, ApiError> {
    let who = parse_address(address)?;
    let job_id: JobId = job_id.parse().map_err(|_| {
        ApiError::bad_request("invalid_job_id", format!("job id {job_id:?} is not a u64"))
    })?;
    let state = client.state()?;
    let job = client
        .runtime()
        .job(&state, &who, job_id)
        .ok_or_else(|| ApiError::not_found("job"))?;
    serde_json::to_value(job).map_err(ApiError::internal)
}
