//! Peer-to-peer views and actions over RPC: `/p2p/peers`, the network fields of `/health`,
//! `POST /admin/peers/add` and `/rpc/getEquivocations`.

use crate::error::ApiError;
use aitbc_client::Client;
use aitbc_network::{Multiaddr, NetworkHandle};
use aitbc_primitives::StateMachine;
use serde::Deserialize;
use serde_json::{json, Value};

/// `[{peer_id, addr, best_height, finalized_height, inbound, reputation}]`.
pub fn peers(net: Option<&NetworkHandle>) -> Result<Value, ApiError> {
    let list: Vec<Value> = net
        .map(|n| n.peers())
        .unwrap_or_default()
        .into_iter()
        .map(|p| {
            json!({
                "peer_id": p.peer_id.to_string(),
                "addr": p.addr.to_string(),
                "best_height": p.best_height,
                "finalized_height": p.finalized_height,
                "inbound": p.inbound,
                "reputation": p.reputation,
            })
        })
        .collect();
    Ok(Value::Array(list))
}

/// The network part of `/health`: `{peer_id, listen_addrs, peers, syncing}`. Syncing means a
/// peer reports a best block more than one block above ours.
pub fn health_fields(net: Option<&NetworkHandle>, best: u64) -> Value {
    match net {
        None => json!({ "peer_id": null, "listen_addrs": [], "peers": 0, "syncing": false }),
        Some(n) => {
            let peers = n.peers();
            let top = peers.iter().map(|p| p.best_height).max().unwrap_or(0);
            json!({
                "peer_id": n.local_peer_id().to_string(),
                "listen_addrs": n.listen_addrs().iter().map(ToString::to_string).collect::<Vec<_>>(),
                "peers": peers.len(),
                "syncing": top > best + 1,
            })
        }
    }
}

#[derive(Deserialize)]
struct AddPeerBody {
    addr: String,
}

/// `POST /admin/peers/add` `{addr: MULTIADDR}` -> `{ok: true}`.
pub async fn add_peer(net: Option<&NetworkHandle>, body: &Value) -> Result<Value, ApiError> {
    let body: AddPeerBody = serde_json::from_value(body.clone())
        .map_err(|e| ApiError::bad_request("invalid_body", e.to_string()))?;
    let addr: Multiaddr = body
        .addr
        .parse()
        .map_err(|e| ApiError::bad_request("invalid_multiaddr", format!("{:?}: {e}", body.addr)))?;
    let net = net.ok_or_else(|| {
        ApiError::new(
            409,
            "p2p_disabled",
            "this node runs without peer-to-peer networking",
        )
    })?;
    net.add_peer(addr)
        .await
        .map_err(|e| ApiError::bad_request("peer_refused", e.to_string()))?;
    Ok(json!({ "ok": true }))
}

/// `GET /rpc/getEquivocations`: blocks sealed twice for one slot by one author, with both
/// headers (the proof), most recent last.
pub fn equivocations<S: StateMachine>(client: &Client<S>) -> Result<Value, ApiError> {
    let list: Vec<Value> = client
        .equivocations()
        .into_iter()
        .map(|e| {
            json!({
                "author": e.author,
                "slot": e.slot,
                "first": header_json(&e.first),
                "second": header_json(&e.second),
            })
        })
        .collect();
    Ok(Value::Array(list))
}

fn header_json(h: &aitbc_primitives::Header) -> Value {
    json!({
        "hash": h.hash(),
        "parent_hash": h.parent_hash,
        "height": h.number,
        "slot": h.slot,
        "state_root": h.state_root,
        "extrinsics_root": h.extrinsics_root,
        "encoded": format!("0x{}", hex::encode(codec::Encode::encode(h))),
    })
}
