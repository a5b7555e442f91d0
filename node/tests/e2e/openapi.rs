//! The OpenAPI document (`node/openapi.json`) against the server: the router and the document
//! list the same routes, every route documents the statuses the server's limits can give, and
//! real answers (successes and errors) of every route match the document's schemas.
//!
//! The schema check below implements the subset of JSON Schema the document uses (`$ref`,
//! `type` (also as a list), `enum`, `const`, `properties`, `required`, `additionalProperties`,
//! `items`, `minItems`, `minimum`, `oneOf`) and rejects any other keyword, so the document
//! cannot silently use something unchecked.

use crate::common::*;
use aitbc_rpc::routes::{Handler, RouteSpec, Router};
use aitbc_runtime_rpc::OPENAPI;

/// Every API route an AITBC node serves: the core table and the AITBC extension's. The
/// explorer's pages are HTML for people, not API: the document leaves them out.
fn routes() -> Vec<&'static RouteSpec> {
    Router::new(aitbc_runtime_rpc::ROUTES)
        .routes()
        .filter(|r| r.handler != Handler::Explorer)
        .collect()
}
use aitbc_primitives::crypto::dev_pair;
use aitbc_primitives::Hash;
use serde_json::{json, Value};
use std::collections::BTreeSet;

fn doc() -> Value {
    serde_json::from_str(OPENAPI).unwrap()
}

/// Follows a local `$ref`.
fn deref<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let target = doc
                .pointer(r.strip_prefix('#').expect("local $ref"))
                .unwrap_or_else(|| panic!("dangling $ref {r}"));
            deref(doc, target)
        }
        None => v,
    }
}

fn type_ok(t: &str, v: &Value) -> bool {
    match t {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        other => panic!("unknown type {other}"),
    }
}

/// Checks `value` against `schema`; `Err` says where and why.
fn check(doc: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    let schema = deref(doc, schema);
    let obj = schema
        .as_object()
        .ok_or(format!("{at}: schema is not an object"))?;
    for (k, s) in obj {
        match k.as_str() {
            "description" | "title" | "format" | "example" => {}
            "type" => {
                let types: Vec<&str> = match s {
                    Value::String(t) => vec![t.as_str()],
                    Value::Array(ts) => ts.iter().map(|t| t.as_str().unwrap()).collect(),
                    _ => return Err(format!("{at}: bad type keyword")),
                };
                if !types.iter().any(|t| type_ok(t, value)) {
                    return Err(format!("{at}: {value} is not of type {types:?}"));
                }
            }
            "enum" => {
                if !s.as_array().unwrap().contains(value) {
                    return Err(format!("{at}: {value} is not one of {s}"));
                }
            }
            "const" => {
                if s != value {
                    return Err(format!("{at}: {value} is not {s}"));
                }
            }
            "minimum" => {
                if value.as_f64().is_some_and(|n| n < s.as_f64().unwrap()) {
                    return Err(format!("{at}: {value} < {s}"));
                }
            }
            "minItems" => {
                if value
                    .as_array()
                    .is_some_and(|a| (a.len() as u64) < s.as_u64().unwrap())
                {
                    return Err(format!("{at}: fewer than {s} items"));
                }
            }
            "required" => {
                if let Some(o) = value.as_object() {
                    for name in s.as_array().unwrap() {
                        if !o.contains_key(name.as_str().unwrap()) {
                            return Err(format!("{at}: missing {name}"));
                        }
                    }
                }
            }
            "properties" => {
                if let Some(o) = value.as_object() {
                    for (name, sub) in s.as_object().unwrap() {
                        if let Some(v) = o.get(name) {
                            check(doc, sub, v, &format!("{at}.{name}"))?;
                        }
                    }
                }
            }
            "additionalProperties" => {
                if let Some(o) = value.as_object() {
                    let known = obj.get("properties").and_then(Value::as_object);
                    for (name, v) in o {
                        if known.is_some_and(|k| k.contains_key(name)) {
                            continue;
                        }
                        match s {
                            Value::Bool(false) => {
                                return Err(format!("{at}: unexpected property {name}"))
                            }
                            Value::Bool(true) => {}
                            sub => check(doc, sub, v, &format!("{at}.{name}"))?,
                        }
                    }
                }
            }
            "items" => {
                if let Some(a) = value.as_array() {
                    for (i, v) in a.iter().enumerate() {
                        check(doc, s, v, &format!("{at}[{i}]"))?;
                    }
                }
            }
            "oneOf" => {
                let matching = s
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|sub| check(doc, sub, value, at).is_ok())
                    .count();
                if matching != 1 {
                    return Err(format!("{at}: {value} matches {matching} of oneOf {s}"));
                }
            }
            other => panic!("{at}: the schema check does not support {other:?}"),
        }
    }
    Ok(())
}

#[test]
fn the_schema_check_checks() {
    let d = doc();
    let err = json!({"$ref": "#/components/schemas/Error"});
    assert!(check(
        &d,
        &err,
        &json!({"error": {"code": "x", "message": "y"}}),
        "$"
    )
    .is_ok());
    assert!(check(&d, &err, &json!({"error": {"code": "x"}}), "$").is_err());
    assert!(check(
        &d,
        &err,
        &json!({"error": {"code": 1, "message": "y"}}),
        "$"
    )
    .is_err());
    assert!(check(
        &d,
        &err,
        &json!({"error": {"code": "x", "message": "y"}, "z": 1}),
        "$"
    )
    .is_err());
    let tx = json!({"$ref": "#/components/schemas/Tx"});
    let mut pending = json!({"hash": "0x", "status": "pending", "block_height": null,
        "block_hash": null, "signer": "ait1", "nonce": 0, "call": {}, "fee": null,
        "success": null, "error": null, "events": []});
    assert!(check(&d, &tx, &pending, "$").is_ok());
    pending["status"] = json!("lost");
    assert!(check(&d, &tx, &pending, "$").is_err());
}

/// `(path template, method)` of every route in the router and in the document.
#[test]
fn router_and_document_list_the_same_routes() {
    let d = doc();
    let routed: BTreeSet<(String, String)> = routes()
        .into_iter()
        .map(|r| (r.path.to_string(), r.method.as_str().to_string()))
        .collect();
    let mut documented = BTreeSet::new();
    for (path, item) in d["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            documented.insert((path.clone(), method.clone()));
            let responses = op["responses"].as_object().unwrap();
            // What the server's limits can answer on any route.
            for status in ["408", "413", "429", "500", "503"] {
                assert!(
                    responses.contains_key(status),
                    "{method} {path}: no {status}"
                );
            }
            let admin = routes()
                .into_iter()
                .any(|r| r.admin && r.path == path && r.method.as_str() == method);
            if admin {
                for status in ["401", "403"] {
                    assert!(
                        responses.contains_key(status),
                        "{method} {path}: no {status}"
                    );
                }
                assert!(op.get("security").is_some(), "{method} {path}: no security");
            }
            // Every error answer has the error body.
            for (status, r) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    let schema = &deref(&d, r)["content"]["application/json"]["schema"];
                    assert_eq!(
                        schema["$ref"], "#/components/schemas/Error",
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }
    assert_eq!(routed, documented);
}

/// Collects real answers, then checks each against the document.
struct Answers {
    doc: Value,
    seen: Vec<(String, String, u16, Value)>,
}

impl Answers {
    fn add(&mut self, method: &str, template: &str, status: u16, body: Value) {
        self.seen
            .push((method.to_string(), template.to_string(), status, body));
    }

    fn check_all(&self) {
        for (method, template, status, body) in &self.seen {
            let op = &self.doc["paths"][template.as_str()][method.as_str()];
            assert!(op.is_object(), "{method} {template} is not documented");
            let response = op["responses"]
                .get(status.to_string())
                .unwrap_or_else(|| panic!("{method} {template}: status {status} not documented"));
            let response = deref(&self.doc, response);
            match response.get("content") {
                None => assert!(
                    body.is_null() || body == &json!(""),
                    "{method} {template} {status}: unexpected body {body}"
                ),
                Some(content) => {
                    if let Some(media) = content.get("application/json") {
                        check(&self.doc, &media["schema"], body, "$").unwrap_or_else(|e| {
                            panic!("{method} {template} {status}: {e}\n{body}")
                        });
                    } else {
                        assert!(content.get("text/plain").is_some() && body.is_string());
                    }
                }
            }
        }
        // Every route had a real success answer checked.
        for r in routes() {
            let ok = self.seen.iter().any(|(m, t, s, _)| {
                t == r.path && ((m == r.method.as_str() && (200..300).contains(s)) || *s == 101)
            });
            assert!(
                ok,
                "no success answer checked for {} {}",
                r.method.as_str(),
                r.path
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_answers_match_the_document() {
    let mut seen = Answers {
        doc: doc(),
        seen: Vec::new(),
    };
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(spec(true), dir.path(), true);
    // With a network, so the peer routes answer for real.
    let mut net = aitbc_network::NetworkConfig::new(dir.path(), Hash::ZERO);
    net.listen = vec!["/ip4/127.0.0.1/tcp/0".parse().unwrap()];
    cfg.network = aitbc_node::service::Networking::Libp2p(net);
    let node = start(cfg).await;
    let mut rpc = http(&node);
    wait_height(&mut rpc, 1).await;
    let genesis = node.client.genesis_hash();
    let (bob, eve) = (dev_pair("bob").public(), dev_pair("eve"));
    let unknown = Hash::of(b"unknown").to_string();

    // The document is served as is.
    let served = rpc.get_ok("/rpc/openapi.json").await.unwrap();
    assert_eq!(served, doc());
    seen.add("get", "/rpc/openapi.json", 200, json!({}));

    let (receipt, submitted) = open_and_claim(&mut rpc, 77, genesis).await;
    let claim_tx = rpc
        .get_ok(&format!(
            "/rpc/getTx/{}",
            submitted["txHash"].as_str().unwrap()
        ))
        .await
        .unwrap();
    let claim_height = claim_tx["block_height"].as_u64().unwrap();
    seen.add("post", "/rpc/submitReceipt", 200, submitted);
    let xt = transfer(&eve, &bob, 10, 0, genesis);
    let sent = rpc.post("/rpc/sendTx", &tx_body(&xt)).await.unwrap();
    seen.add("post", "/rpc/sendTx", sent.0, sent.1);
    let hash = xt.hash().to_string();
    wait_tx(&mut rpc, &hash, "finalized").await;

    let gets: Vec<(&str, String)> = vec![
        ("/rpc/getHead", "/rpc/getHead".into()),
        ("/rpc/getBlock/{heightOrHash}", "/rpc/getBlock/0".into()),
        ("/rpc/getBlock/{heightOrHash}", "/rpc/getBlock/1".into()),
        ("/rpc/getBlock/{heightOrHash}", "/rpc/getBlock/99999".into()),
        ("/rpc/getBlock/{heightOrHash}", "/rpc/getBlock/xyz".into()),
        (
            "/rpc/getBlockEvents/{heightOrHash}",
            format!("/rpc/getBlockEvents/{claim_height}"),
        ),
        (
            "/rpc/getBlockEvents/{heightOrHash}",
            "/rpc/getBlockEvents/99999".into(),
        ),
        (
            "/rpc/getBlockEvents/{heightOrHash}",
            "/rpc/getBlockEvents/xyz".into(),
        ),
        ("/rpc/getTx/{txHash}", format!("/rpc/getTx/{hash}")),
        ("/rpc/getTx/{txHash}", format!("/rpc/getTx/{unknown}")),
        ("/rpc/getTx/{txHash}", "/rpc/getTx/0x12".into()),
        (
            "/rpc/getBalance/{address}",
            format!("/rpc/getBalance/{bob}"),
        ),
        (
            "/rpc/getBalance/{address}",
            "/rpc/getBalance/ait1bad".into(),
        ),
        (
            "/rpc/getReceipt/{receiptId}",
            format!("/rpc/getReceipt/{receipt}"),
        ),
        (
            "/rpc/getReceipt/{receiptId}",
            format!("/rpc/getReceipt/{unknown}"),
        ),
        ("/rpc/getReceipt/{receiptId}", "/rpc/getReceipt/0xzz".into()),
        (
            "/rpc/getJob/{clientAddress}/{jobId}",
            format!("/rpc/getJob/{bob}/77"),
        ),
        (
            "/rpc/getJob/{clientAddress}/{jobId}",
            format!("/rpc/getJob/{bob}/78"),
        ),
        (
            "/rpc/getJob/{clientAddress}/{jobId}",
            format!("/rpc/getJob/{bob}/x"),
        ),
        ("/health", "/health".into()),
        ("/metrics", "/metrics".into()),
        ("/rpc/metrics", "/rpc/metrics".into()),
        ("/p2p/peers", "/p2p/peers".into()),
        ("/rpc/getEquivocations", "/rpc/getEquivocations".into()),
        ("/rpc/getParams", "/rpc/getParams".into()),
        ("/rpc/getValidators", "/rpc/getValidators".into()),
        (
            "/rpc/getStaking/{address}",
            format!("/rpc/getStaking/{bob}"),
        ),
        ("/rpc/getStaking/{address}", "/rpc/getStaking/nope".into()),
        ("/rpc/getOffences", "/rpc/getOffences".into()),
        (
            "/rpc/getFinalityProof/{fromHeight}",
            "/rpc/getFinalityProof/0".into(),
        ),
        (
            "/rpc/getFinalityProof/{fromHeight}",
            "/rpc/getFinalityProof/x".into(),
        ),
        (
            "/rpc/getTxProof/{txHash}",
            format!("/rpc/getTxProof/{hash}"),
        ),
        (
            "/rpc/getTxProof/{txHash}",
            format!("/rpc/getTxProof/{unknown}"),
        ),
        ("/rpc/getTxProof/{txHash}", "/rpc/getTxProof/0x12".into()),
        ("/rpc/ws", "/rpc/ws".into()),
    ];
    let mut statuses = BTreeSet::new();
    for (template, path) in gets {
        let (status, body) = rpc.get(&path).await.unwrap();
        statuses.insert(status);
        seen.add("get", template, status, body);
    }
    assert_eq!(statuses, BTreeSet::from([200, 400, 404]));
    assert_eq!(rpc.get_ok("/p2p/peers").await.unwrap(), json!([]));
    // The websocket upgrade.
    let ws = ws_connect(&node).await.unwrap();
    drop(ws);
    seen.add("get", "/rpc/ws", 101, Value::Null);

    let posts: Vec<(&str, Value)> = vec![
        ("/rpc/sendTx", tx_body(&xt)), // 400 stale nonce
        ("/rpc/sendTx", json!({"tx": "0xzz"})),
        (
            "/rpc/submitReceipt",
            tx_body(&transfer(&eve, &bob, 1, 1, genesis)),
        ),
        ("/rpc/estimateFee", tx_body(&xt)),
        ("/rpc/estimateFee", json!({"tx": 1})),
        (
            "/rpc",
            json!({"jsonrpc": "2.0", "id": 1, "method": "getHead"}),
        ),
        (
            "/rpc",
            json!({"jsonrpc": "2.0", "id": 2, "method": "getTx", "params": [unknown]}),
        ),
        (
            "/rpc",
            json!([{"jsonrpc": "2.0", "id": 1, "method": "getHead"}, {"jsonrpc": "2.0", "id": 2, "method": "x"}]),
        ),
        ("/rpc", json!({"jsonrpc": "2.0", "method": "getHead"})),
        (
            "/rpc/getReadProof",
            json!({"accounts": [bob.to_string()], "keys": ["0x00"]}),
        ),
        ("/rpc/getReadProof", json!({"keys": ["0x00"], "at": 99999})),
        ("/rpc/getReadProof", json!({"accounts": ["ait1bad"]})),
    ];
    for (template, body) in posts {
        let (status, v) = rpc.post(template, &body).await.unwrap();
        seen.add("post", template, status, v);
    }
    // 409: the same transaction twice in the pool (no room to include it: a future nonce).
    let future = transfer(&eve, &bob, 10, 5, genesis);
    for _ in 0..2 {
        let (status, v) = rpc.post("/rpc/sendTx", &tx_body(&future)).await.unwrap();
        seen.add("post", "/rpc/sendTx", status, v);
    }
    // 413.
    let big = json!({"tx": format!("0x{}", "00".repeat(40 * 1024))});
    let (status, v) = rpc.post("/rpc/sendTx", &big).await.unwrap();
    assert_eq!(status, 413);
    seen.add("post", "/rpc/sendTx", status, v);

    // Admin routes: 200, 400, 401.
    let mint = json!({"address": bob.to_string(), "amount": "5"});
    for (token, path, body) in [
        (TOKEN, "/admin/mintFaucet", mint.clone()),
        (
            TOKEN,
            "/admin/mintFaucet",
            json!({"address": "x", "amount": "5"}),
        ),
        ("nope", "/admin/mintFaucet", mint.clone()),
        (
            TOKEN,
            "/admin/paramSet",
            json!({"key": "base_fee", "value": 3}),
        ),
        (TOKEN, "/admin/paramSet", json!({"key": "nope", "value": 3})),
        (
            "nope",
            "/admin/paramSet",
            json!({"key": "base_fee", "value": 3}),
        ),
        // 409 (already registered), 404 (not registered), 200, 400, 401.
        (
            TOKEN,
            "/admin/coordinatorAdd",
            json!({"address": dev_pair("coordinator").public().to_string()}),
        ),
        (
            TOKEN,
            "/admin/coordinatorRemove",
            json!({"address": bob.to_string()}),
        ),
        (
            TOKEN,
            "/admin/coordinatorAdd",
            json!({"address": bob.to_string()}),
        ),
        (
            TOKEN,
            "/admin/coordinatorRemove",
            json!({"address": dev_pair("coordinator").public().to_string()}),
        ),
        (TOKEN, "/admin/coordinatorRemove", json!({"address": "x"})),
        (
            "nope",
            "/admin/coordinatorAdd",
            json!({"address": bob.to_string()}),
        ),
        // 200 (a dial starts), 400.
        (
            TOKEN,
            "/admin/peers/add",
            json!({"addr": "/ip4/127.0.0.1/tcp/9"}),
        ),
        (
            TOKEN,
            "/admin/peers/add",
            json!({"addr": "not a multiaddr"}),
        ),
        (
            "nope",
            "/admin/peers/add",
            json!({"addr": "/ip4/127.0.0.1/tcp/9"}),
        ),
    ] {
        let (status, v) = http(&node)
            .with_bearer(token)
            .post(path, &body)
            .await
            .unwrap();
        seen.add("post", path, status, v);
    }
    node.stop().await;

    // 403 (no faucet on this chain) and 429 (a strict rate limit, loopback included).
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(spec(false), dir.path(), false);
    cfg.rpc.rate_limit = 1;
    cfg.rpc.rate_limit_loopback = true;
    let node = start(cfg).await;
    let (status, v) = http(&node)
        .with_bearer(TOKEN)
        .post("/admin/mintFaucet", &mint)
        .await
        .unwrap();
    assert_eq!((status, error_code(&v)), (403, "faucet_disabled"));
    seen.add("post", "/admin/mintFaucet", status, v);
    let (status, v) = http(&node).get("/rpc/getHead").await.unwrap();
    assert_eq!((status, error_code(&v)), (429, "rate_limited"));
    seen.add("get", "/rpc/getHead", status, v);
    node.stop().await;

    let statuses: BTreeSet<u16> = seen.seen.iter().map(|s| s.2).collect();
    for s in [101, 200, 204, 400, 401, 403, 404, 409, 413, 429] {
        assert!(statuses.contains(&s), "no {s} answer was checked");
    }
    seen.check_all();
}
