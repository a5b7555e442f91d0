//! JSON-RPC 2.0 at `POST /rpc` on an in-process dev node: every method, batches, notifications
//! and the standard error codes.

use crate::common::*;
use aitbc_primitives::crypto::dev_pair;
use aitbc_primitives::Hash;
use aitbc_rpc::http_client::HttpClient;
use aitbc_runtime::{Call, Runtime};
use hyper::Method;
use serde_json::{json, Value};

/// One call; returns the whole response object.
async fn call(rpc: &mut HttpClient, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params});
    let (status, v) = rpc.post("/rpc", &body).await.unwrap();
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["jsonrpc"], "2.0");
    assert_eq!(v["id"], 7);
    v
}

async fn result(rpc: &mut HttpClient, method: &str, params: Value) -> Value {
    let v = call(rpc, method, params.clone()).await;
    assert!(v.get("error").is_none(), "{method} {params}: {v}");
    v["result"].clone()
}

/// The error's `(code, data)`.
async fn error(rpc: &mut HttpClient, method: &str, params: Value) -> (i64, String) {
    let v = call(rpc, method, params.clone()).await;
    assert!(v.get("result").is_none(), "{method} {params}: {v}");
    (
        v["error"]["code"].as_i64().unwrap(),
        v["error"]["data"].as_str().unwrap().to_string(),
    )
}

async fn wait_finalized(rpc: &mut HttpClient, hash: &str) -> Value {
    let url = rpc.base_url();
    let hash = hash.to_string();
    wait_until(30, &format!("tx {hash} finalized"), || {
        let (url, hash) = (url.clone(), hash.clone());
        async move {
            let mut c = HttpClient::new(&url).unwrap();
            let v = result(&mut c, "getTx", json!([hash])).await;
            (v["status"] == "finalized").then_some(v)
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_method() {
    let dir = tempfile::tempdir().unwrap();
    let node = start(config(spec(true), dir.path(), true)).await;
    let mut rpc = http(&node);
    wait_height(&mut rpc, 1).await;
    let genesis = node.client.genesis_hash();
    let (bob, charlie) = (dev_pair("bob"), dev_pair("charlie"));
    let coordinator = dev_pair("coordinator");

    // Reads match the REST answers.
    let head = result(&mut rpc, "getHead", json!([])).await;
    assert!(head["height"].as_u64().unwrap() >= 1);
    let block = result(&mut rpc, "getBlock", json!([1])).await;
    assert_eq!(block, rpc.get_ok("/rpc/getBlock/1").await.unwrap());
    assert_eq!(result(&mut rpc, "getBlock", json!(["1"])).await, block);
    assert_eq!(
        result(&mut rpc, "getBlock", json!([block["hash"]])).await,
        block
    );
    let balance = result(&mut rpc, "getBalance", json!([bob.public().to_string()])).await;
    assert_eq!(balance["address"], bob.public().to_string());
    let nonce = balance["next_nonce"].as_u64().unwrap();

    // sendTx (binary and JSON form), estimateFee, getTx.
    let xt = transfer(&bob, &charlie.public(), 1_000, nonce, genesis);
    let fee = result(&mut rpc, "estimateFee", json!([hex_tx(&xt)])).await;
    assert!(fee["fee"].as_str().unwrap().parse::<u128>().unwrap() > 0);
    let sent = result(&mut rpc, "sendTx", json!([hex_tx(&xt)])).await;
    assert_eq!(sent["txHash"], xt.hash().to_string());
    let tx = wait_finalized(&mut rpc, &xt.hash().to_string()).await;
    assert_eq!(tx["success"], true);
    let json_form = aitbc_rpc::methods::json_tx::<Runtime>(&transfer(
        &bob,
        &charlie.public(),
        5,
        nonce + 1,
        genesis,
    ));
    let sent = result(&mut rpc, "sendTx", json!([json_form])).await;
    wait_finalized(&mut rpc, sent["txHash"].as_str().unwrap()).await;

    // A job escrow, a receipt claim through submitReceipt, then getJob and getReceipt.
    let job_id = 42u64;
    let open = sign(
        &bob,
        Call::open_job(job_id, coordinator.public(), 5_000, 10_000),
        nonce + 2,
        genesis,
    );
    let sent = result(&mut rpc, "sendTx", json!([hex_tx(&open)])).await;
    wait_finalized(&mut rpc, sent["txHash"].as_str().unwrap()).await;
    let job = result(
        &mut rpc,
        "getJob",
        json!([bob.public().to_string(), job_id]),
    )
    .await;
    assert_eq!(
        (job["status"].as_str(), job["price"].as_str()),
        (Some("open"), Some("5000"))
    );
    assert_eq!(
        result(&mut rpc, "getJob", json!([bob.public().to_string(), "42"])).await,
        job
    );

    let claim = receipt_claim(&bob.public(), job_id, &charlie, 3, 4_000, genesis);
    let receipt = claim.receipt.clone();
    let charlie_nonce = result(
        &mut rpc,
        "getBalance",
        json!([charlie.public().to_string()]),
    )
    .await["next_nonce"]
        .as_u64()
        .unwrap();
    // A transfer is not a claim.
    let not_claim = transfer(&charlie, &bob.public(), 1, charlie_nonce, genesis);
    assert_eq!(
        error(&mut rpc, "submitReceipt", json!([hex_tx(&not_claim)])).await,
        (-32000, "not_a_receipt_claim".to_string())
    );
    let claim_xt = sign(&charlie, Call::claim(claim), charlie_nonce, genesis);
    let sent = result(&mut rpc, "submitReceipt", json!([hex_tx(&claim_xt)])).await;
    let tx = wait_finalized(&mut rpc, sent["txHash"].as_str().unwrap()).await;
    assert_eq!(tx["success"], true, "{tx}");
    let r = result(&mut rpc, "getReceipt", json!([receipt.id().to_string()])).await;
    assert_eq!(r["receipt_id"], receipt.id().to_string());
    assert_eq!(r["compute_units"], 3);
    assert_eq!(
        result(
            &mut rpc,
            "getJob",
            json!([bob.public().to_string(), job_id])
        )
        .await["status"],
        "claimed"
    );

    // Method errors carry the REST code in `data` and a code from the HTTP status.
    let unknown = Hash::of(b"nothing").to_string();
    assert_eq!(
        error(&mut rpc, "getTx", json!([unknown])).await,
        (-32004, "not_found".into())
    );
    assert_eq!(
        error(&mut rpc, "getReceipt", json!([unknown])).await,
        (-32004, "not_found".into())
    );
    assert_eq!(
        error(&mut rpc, "getJob", json!([bob.public().to_string(), 999])).await,
        (-32004, "not_found".into())
    );
    assert_eq!(
        error(&mut rpc, "getBalance", json!(["ait1nope"])).await,
        (-32000, "invalid_address".into())
    );
    // The same transaction again conflicts with the chain (stale nonce) or the pool.
    let (code, data) = error(&mut rpc, "sendTx", json!([hex_tx(&xt)])).await;
    assert_eq!((code, data.as_str()), (-32000, "stale_nonce"));

    let metrics = metrics_text(&node).await;
    assert!(metrics.contains("aitbc_jsonrpc_calls_total{method=\"getHead\",outcome=\"ok\"}"));
    assert!(metrics.contains("aitbc_jsonrpc_calls_total{method=\"getTx\",outcome=\"error\"}"));
    assert!(metrics.contains("substrate_rpc_requests_total{method=\"jsonrpc\",status=\"200\"}"));
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protocol_errors_batches_and_notifications() {
    let dir = tempfile::tempdir().unwrap();
    // No authority: the pool keeps what it gets.
    let node = start(config(spec(false), dir.path(), false)).await;
    let mut rpc = http(&node);
    let genesis = node.client.genesis_hash();
    let eve = dev_pair("eve");
    let post_raw =
        |body: &str| http_raw(&node, Method::POST, "/rpc", Some(body.as_bytes().to_vec()));

    // Parse error: id null.
    let (status, v) = post_raw(r#"{"jsonrpc": "2.0", "method": "getHead""#).await;
    assert_eq!(status, 200);
    assert_eq!(v["error"]["code"], -32700);
    assert_eq!(v["error"]["data"], "parse_error");
    assert_eq!(v["id"], Value::Null);

    // Invalid requests.
    for (body, id) in [
        (json!({"jsonrpc": "2.0", "id": 1}), json!(1)),
        (
            json!({"jsonrpc": "1.0", "method": "getHead", "id": "a"}),
            json!("a"),
        ),
        (
            json!({"jsonrpc": "2.0", "method": "getHead", "params": 5, "id": 2}),
            json!(2),
        ),
        (
            json!({"jsonrpc": "2.0", "method": "getHead", "id": {"x": 1}}),
            Value::Null,
        ),
        (json!("getHead"), Value::Null),
        (json!([]), Value::Null),
    ] {
        let (status, v) = rpc.post("/rpc", &body).await.unwrap();
        assert_eq!(status, 200);
        assert_eq!(v["error"]["code"], -32600, "{body}: {v}");
        assert_eq!(v["error"]["data"], "invalid_request");
        assert_eq!(v["id"], id, "{body}");
    }

    // Unknown method and invalid params.
    let (status, v) = rpc
        .post(
            "/rpc",
            &json!({"jsonrpc": "2.0", "id": 3, "method": "getNothing"}),
        )
        .await
        .unwrap();
    assert_eq!(status, 200);
    assert_eq!(
        (v["error"]["code"].as_i64(), v["error"]["data"].as_str()),
        (Some(-32601), Some("method_not_found"))
    );
    for params in [
        json!([]),
        json!([5]),
        json!(["0x01", "extra"]),
        json!({"hash": "0x01"}),
    ] {
        let (code, data) = error(&mut rpc, "getTx", params.clone()).await;
        assert_eq!(
            (code, data.as_str()),
            (-32602, "invalid_params"),
            "{params}"
        );
    }
    assert_eq!(error(&mut rpc, "getHead", json!([1])).await.0, -32602);
    assert_eq!(error(&mut rpc, "sendTx", json!([17])).await.0, -32602);

    // A batch mixing good and bad calls: answered in order, the notification left out.
    let bob = dev_pair("bob").public().to_string();
    let batch = json!([
        {"jsonrpc": "2.0", "id": 1, "method": "getHead", "params": []},
        {"jsonrpc": "2.0", "id": 2, "method": "nope"},
        {"jsonrpc": "2.0", "id": 3, "method": "getTx", "params": []},
        {"jsonrpc": "2.0", "method": "getHead"},
        5,
        {"jsonrpc": "2.0", "id": "b", "method": "getBalance", "params": [bob]},
        {"jsonrpc": "2.0", "id": 4, "method": "getBalance", "params": ["bad"]},
    ]);
    let (status, v) = rpc.post("/rpc", &batch).await.unwrap();
    assert_eq!(status, 200);
    let answers = v.as_array().unwrap();
    assert_eq!(answers.len(), 6, "{v}");
    assert_eq!(answers[0]["id"], 1);
    assert_eq!(answers[0]["result"]["height"], 0);
    assert_eq!(
        (
            answers[1]["id"].clone(),
            answers[1]["error"]["code"].clone()
        ),
        (json!(2), json!(-32601))
    );
    assert_eq!(
        (
            answers[2]["id"].clone(),
            answers[2]["error"]["code"].clone()
        ),
        (json!(3), json!(-32602))
    );
    assert_eq!(
        (
            answers[3]["id"].clone(),
            answers[3]["error"]["code"].clone()
        ),
        (Value::Null, json!(-32600))
    );
    assert_eq!(answers[4]["id"], "b");
    assert_eq!(answers[4]["result"]["address"], bob);
    assert_eq!(answers[5]["error"]["data"], "invalid_address");

    // Notifications: run, but nothing to answer (204, empty body).
    let xt = transfer(&eve, &dev_pair("bob").public(), 10, 0, genesis);
    let note = json!({"jsonrpc": "2.0", "method": "sendTx", "params": [hex_tx(&xt)]});
    let (status, v) = rpc.post("/rpc", &note).await.unwrap();
    assert_eq!((status, v), (204, Value::String(String::new())));
    assert_eq!(
        rpc.get_ok(&format!("/rpc/getTx/{}", xt.hash()))
            .await
            .unwrap()["status"],
        "pending"
    );
    let (status, v) = rpc
        .post(
            "/rpc",
            &json!([
                {"jsonrpc": "2.0", "method": "getHead"},
                {"jsonrpc": "2.0", "method": "nope", "params": []},
            ]),
        )
        .await
        .unwrap();
    assert_eq!((status, v), (204, Value::String(String::new())));

    // A batch over the cap is one invalid-request error.
    let big: Vec<Value> = (0..=aitbc_rpc::jsonrpc::MAX_BATCH)
        .map(|i| json!({"jsonrpc": "2.0", "id": i, "method": "getHead"}))
        .collect();
    let (_, v) = rpc.post("/rpc", &Value::Array(big)).await.unwrap();
    assert_eq!(v["error"]["code"], -32600);
    node.stop().await;
}
