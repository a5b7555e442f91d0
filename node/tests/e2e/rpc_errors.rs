//! Bad input over the RPC: each case answers its status and error code, and nothing panics.

use crate::common::*;
use aitbc_primitives::crypto::dev_pair;
use aitbc_primitives::Hash;
use codec::Encode;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_transactions_and_unknowns() {
    let dir = tempfile::tempdir().unwrap();
    // No authority: nothing drains the pool, so pool and nonce states stay put.
    let node = start(config(spec(false), dir.path(), false)).await;
    let mut rpc = http(&node);
    let genesis = node.client.genesis_hash();
    let eve = dev_pair("eve");
    let bob = dev_pair("bob").public();

    let (status, v) = rpc
        .request(hyper::Method::POST, "/rpc/sendTx", None)
        .await
        .unwrap();
    assert_eq!((status, error_code(&v)), (400, "invalid_json"));
    let cases = [
        (json!({"tx": "0xzz"}), "invalid_hex"),
        (json!({"tx": 5}), "invalid_request"),
        (json!({"nope": 1}), "invalid_request"),
    ];
    for (body, code) in cases {
        let (status, v) = rpc.post("/rpc/sendTx", &body).await.unwrap();
        assert_eq!((status, error_code(&v)), (400, code), "{body}");
    }
    let good = transfer(&eve, &bob, 10, 0, genesis).encode();
    let truncated = json!({ "tx": format!("0x{}", hex::encode(&good[..good.len() - 3])) });
    let (status, v) = rpc.post("/rpc/sendTx", &truncated).await.unwrap();
    assert_eq!((status, error_code(&v)), (400, "invalid_encoding"));
    let mut trailing = good.clone();
    trailing.push(0);
    let (status, v) = rpc
        .post(
            "/rpc/sendTx",
            &json!({ "tx": format!("0x{}", hex::encode(trailing)) }),
        )
        .await
        .unwrap();
    assert_eq!((status, error_code(&v)), (400, "invalid_encoding"));
    assert!(v["error"]["message"].as_str().unwrap().contains("trailing"));

    let mut forged = transfer(&eve, &bob, 10, 0, genesis);
    forged.call = transfer(&eve, &bob, 11, 0, genesis).call;
    let (status, v) = rpc.post("/rpc/sendTx", &tx_body(&forged)).await.unwrap();
    assert_eq!((status, error_code(&v)), (400, "bad_signature"));
    let other_chain = transfer(&eve, &bob, 10, 0, Hash::of(b"another chain"));
    let (status, v) = rpc
        .post("/rpc/sendTx", &tx_body(&other_chain))
        .await
        .unwrap();
    assert_eq!((status, error_code(&v)), (400, "bad_signature"));

    let broke = dev_pair("nobody");
    let (status, v) = rpc
        .post(
            "/rpc/sendTx",
            &tx_body(&transfer(&broke, &bob, 1, 0, genesis)),
        )
        .await
        .unwrap();
    assert_eq!((status, error_code(&v)), (400, "insufficient_fee_balance"));

    // Accepted once, then the same bytes again are a conflict.
    let ok = transfer(&eve, &bob, 10, 0, genesis);
    rpc.post_ok("/rpc/sendTx", &tx_body(&ok)).await.unwrap();
    let (status, v) = rpc.post("/rpc/sendTx", &tx_body(&ok)).await.unwrap();
    assert_eq!((status, error_code(&v)), (409, "already_imported"));

    let unknown = Hash::of(b"x");
    let (status, v) = rpc.get(&format!("/rpc/getTx/{unknown}")).await.unwrap();
    assert_eq!((status, error_code(&v)), (404, "not_found"));
    let (status, _) = rpc.get(&format!("/rpc/getBlock/{unknown}")).await.unwrap();
    assert_eq!(status, 404);
    let (status, _) = rpc.get("/rpc/getBlock/99999").await.unwrap();
    assert_eq!(status, 404);
    let (status, v) = rpc.get("/rpc/getBlock/abc").await.unwrap();
    assert_eq!((status, error_code(&v)), (400, "invalid_block_id"));
    let (status, v) = rpc.get("/rpc/getBalance/ait1notanaddress").await.unwrap();
    assert_eq!((status, error_code(&v)), (400, "invalid_address"));
    let (status, v) = rpc.get("/rpc/nothing").await.unwrap();
    assert_eq!((status, error_code(&v)), (404, "unknown_route"));

    // Admin auth and the faucet switch.
    let body = json!({"address": bob.to_string(), "amount": "1"});
    let (status, v) = rpc.post("/admin/mintFaucet", &body).await.unwrap();
    assert_eq!((status, error_code(&v)), (401, "unauthorized"));
    let mut wrong = http(&node).with_bearer("wrong");
    let (status, _) = wrong.post("/admin/mintFaucet", &body).await.unwrap();
    assert_eq!(status, 401);
    let mut admin = http(&node).with_bearer(TOKEN);
    let (status, v) = admin.post("/admin/mintFaucet", &body).await.unwrap();
    assert_eq!((status, error_code(&v)), (403, "faucet_disabled"));

    // An oversized body is refused before it is read.
    let big = json!({ "tx": format!("0x{}", "00".repeat(40 * 1024)) });
    let (status, v) = rpc.post("/rpc/sendTx", &big).await.unwrap();
    assert_eq!((status, error_code(&v)), (413, "body_too_large"));
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_nonce_and_full_pool() {
    let dir = tempfile::tempdir().unwrap();
    let node = start(config(spec(true), dir.path(), true)).await;
    let mut rpc = http(&node);
    let genesis = node.client.genesis_hash();
    let eve = dev_pair("eve");
    let bob = dev_pair("bob").public();
    let first = transfer(&eve, &bob, 10, 0, genesis);
    let h = rpc.post_ok("/rpc/sendTx", &tx_body(&first)).await.unwrap();
    wait_tx(&mut rpc, h["txHash"].as_str().unwrap(), "finalized").await;
    let (status, v) = rpc
        .post(
            "/rpc/sendTx",
            &tx_body(&transfer(&eve, &bob, 11, 0, genesis)),
        )
        .await
        .unwrap();
    assert_eq!((status, error_code(&v)), (400, "stale_nonce"));
    node.stop().await;

    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(spec(true), dir.path(), false);
    cfg.pool.max_txs = 2;
    let node = start(cfg).await;
    let mut rpc = http(&node);
    for (i, who) in ["alice", "bob"].iter().enumerate() {
        rpc.post_ok(
            "/rpc/sendTx",
            &tx_body(&transfer(&dev_pair(who), &bob, 1 + i as u128, 0, genesis)),
        )
        .await
        .unwrap();
    }
    let (status, v) = rpc
        .post(
            "/rpc/sendTx",
            &tx_body(&transfer(&dev_pair("charlie"), &bob, 3, 0, genesis)),
        )
        .await
        .unwrap();
    assert_eq!((status, error_code(&v)), (503, "pool_full"));
    node.stop().await;
}
