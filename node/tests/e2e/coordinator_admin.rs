//! Coordinators managed by root through the admin routes (`/admin/coordinatorRemove`,
//! `/admin/coordinatorAdd`), and a claim's settlement read back per block (`getBlockEvents`).

use crate::common::*;
use aitbc_primitives::crypto::dev_pair;
use aitbc_rpc::http_client::HttpClient;
use aitbc_runtime::Call;
use serde_json::{json, Value};

/// Posts an admin action with the test token; returns status and body.
async fn admin(rpc: &HttpClient, path: &str, address: &str) -> (u16, Value) {
    HttpClient::new(&rpc.base_url())
        .unwrap()
        .with_bearer(TOKEN)
        .post(path, &json!({ "address": address }))
        .await
        .unwrap()
}

/// The `Receipts` event named `name` among a transaction's events.
fn receipts_event<'a>(events: &'a Value, name: &str) -> Option<&'a Value> {
    events
        .as_array()?
        .iter()
        .find_map(|e| e.pointer(&format!("/Receipts/{name}")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removed_coordinator_is_refused_until_added_back() {
    let dir = tempfile::tempdir().unwrap();
    let node = start(config(spec(true), dir.path(), true)).await;
    let mut rpc = http(&node);
    let genesis = node.client.genesis_hash();
    let (bob, charlie) = (dev_pair("bob"), dev_pair("charlie"));
    let coordinator = dev_pair("coordinator").public().to_string();

    // //bob escrows job 1 with //coordinator while it is registered.
    let open = sign(
        &bob,
        Call::open_job(1, dev_pair("coordinator").public(), 5_000, 10_000),
        0,
        genesis,
    );
    let h = rpc.post_ok("/rpc/sendTx", &tx_body(&open)).await.unwrap();
    let tx = wait_tx(&mut rpc, h["txHash"].as_str().unwrap(), "finalized").await;
    assert_eq!(tx["success"], true, "{tx}");

    // Adding a registered coordinator, or removing an unregistered one, is refused outright.
    let (status, v) = admin(&rpc, "/admin/coordinatorAdd", &coordinator).await;
    assert_eq!((status, error_code(&v)), (409, "coordinator_exists"), "{v}");
    let bob_addr = bob.public().to_string();
    let (status, v) = admin(&rpc, "/admin/coordinatorRemove", &bob_addr).await;
    assert_eq!(
        (status, error_code(&v)),
        (404, "unknown_coordinator"),
        "{v}"
    );
    let (status, v) = admin(&rpc, "/admin/coordinatorRemove", "ait1nope").await;
    assert_eq!((status, error_code(&v)), (400, "invalid_address"), "{v}");
    let (status, _) = http(&node)
        .with_bearer("wrong")
        .post(
            "/admin/coordinatorRemove",
            &json!({ "address": coordinator }),
        )
        .await
        .unwrap();
    assert_eq!(status, 401);

    // Root removes //coordinator.
    let (status, v) = admin(&rpc, "/admin/coordinatorRemove", &coordinator).await;
    assert_eq!(status, 200, "{v}");
    let tx = wait_tx(&mut rpc, v["txHash"].as_str().unwrap(), "finalized").await;
    assert_eq!(tx["success"], true, "{tx}");
    assert_eq!(
        receipts_event(&tx["events"], "CoordinatorRemoved").unwrap()["who"],
        coordinator.as_str()
    );

    // A claim it attested is refused at submission and nothing lands.
    let claim = receipt_claim(&bob.public(), 1, &charlie, 3, 4_000, genesis);
    let xt = sign(&charlie, Call::claim(claim), 0, genesis);
    let (status, v) = rpc.post("/rpc/submitReceipt", &tx_body(&xt)).await.unwrap();
    assert_eq!(
        (status, error_code(&v)),
        (400, "unknown_coordinator"),
        "{v}"
    );
    let (status, _) = rpc.get(&format!("/rpc/getTx/{}", xt.hash())).await.unwrap();
    assert_eq!(status, 404);
    let at = height(&mut rpc).await;
    wait_height(&mut rpc, at + 2).await;
    let job = rpc
        .get_ok(&format!("/rpc/getJob/{bob_addr}/1"))
        .await
        .unwrap();
    assert_eq!(job["status"], "open");
    assert_eq!(balance(&mut rpc, &charlie.public()).await.1, 0);

    // Root adds it back: the same claim now settles.
    let (status, v) = admin(&rpc, "/admin/coordinatorAdd", &coordinator).await;
    assert_eq!(status, 200, "{v}");
    let tx = wait_tx(&mut rpc, v["txHash"].as_str().unwrap(), "finalized").await;
    assert_eq!(tx["success"], true, "{tx}");
    assert!(receipts_event(&tx["events"], "CoordinatorAdded").is_some());
    let h = rpc
        .post_ok("/rpc/submitReceipt", &tx_body(&xt))
        .await
        .unwrap();
    let tx = wait_tx(&mut rpc, h["txHash"].as_str().unwrap(), "finalized").await;
    assert_eq!(tx["success"], true, "{tx}");
    let job = rpc
        .get_ok(&format!("/rpc/getJob/{bob_addr}/1"))
        .await
        .unwrap();
    assert_eq!(job["status"], "claimed");
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn block_events_list_the_claim_with_every_amount() {
    let dir = tempfile::tempdir().unwrap();
    // A treasury share too, so every amount of the settlement is non-zero.
    let mut spec = spec(true);
    spec.genesis.params.treasury_ratio_ppm = 100_000;
    let node = start(config(spec, dir.path(), true)).await;
    let mut rpc = http(&node);
    let genesis = node.client.genesis_hash();

    // //bob escrows 5000, //charlie claims 3 units at price 4000 (common::open_and_claim).
    let (receipt_id, submitted) = open_and_claim(&mut rpc, 9, genesis).await;
    let hash = submitted["txHash"].as_str().unwrap();
    let tx = rpc.get_ok(&format!("/rpc/getTx/{hash}")).await.unwrap();
    let height = tx["block_height"].as_u64().unwrap();

    let by_height = rpc
        .get_ok(&format!("/rpc/getBlockEvents/{height}"))
        .await
        .unwrap();
    let block_hash = tx["block_hash"].as_str().unwrap();
    assert_eq!(by_height["height"], height);
    assert_eq!(by_height["hash"], block_hash);
    let by_hash = rpc
        .get_ok(&format!("/rpc/getBlockEvents/{block_hash}"))
        .await
        .unwrap();
    assert_eq!(by_hash, by_height);

    // One entry per transaction of the block, in order.
    let block = rpc
        .get_ok(&format!("/rpc/getBlock/{height}"))
        .await
        .unwrap();
    let entries = by_height["events"].as_array().unwrap();
    let listed: Vec<&Value> = entries.iter().map(|e| &e["tx_hash"]).collect();
    let in_block: Vec<&Value> = block["transactions"].as_array().unwrap().iter().collect();
    assert_eq!(listed, in_block);
    let entry = entries.iter().find(|e| e["tx_hash"] == hash).unwrap();
    assert_eq!(entry["index"], tx["index"]);
    assert_eq!(entry["success"], true);
    assert_eq!(entry["events"], tx["events"]);

    let mint = 3 * 1_000u128;
    let claimed = receipts_event(&entry["events"], "ReceiptClaimed").expect("ReceiptClaimed");
    assert_eq!(
        claimed,
        &json!({
            "receipt_id": receipt_id,
            "client": dev_pair("bob").public(),
            "job_id": 9,
            "miner": dev_pair("charlie").public(),
            "coordinator": dev_pair("coordinator").public(),
            "compute_units": 3,
            "paid": "4000",
            "returned": "1000",
            "minted": mint.to_string(),
            "to_coordinator": (mint * 50_000 / 1_000_000).to_string(),
            "to_treasury": (mint * 100_000 / 1_000_000).to_string(),
        })
    );

    // JSON-RPC answers the same; genesis has no transactions; unknown and malformed ids fail.
    let v = rpc
        .post_ok(
            "/rpc",
            &json!({"jsonrpc": "2.0", "id": 1, "method": "getBlockEvents", "params": [height]}),
        )
        .await
        .unwrap();
    assert_eq!(v["result"], by_height);
    let genesis_events = rpc.get_ok("/rpc/getBlockEvents/0").await.unwrap();
    assert_eq!(genesis_events["events"], json!([]));
    assert_eq!(rpc.get("/rpc/getBlockEvents/999999").await.unwrap().0, 404);
    assert_eq!(rpc.get("/rpc/getBlockEvents/xyz").await.unwrap().0, 400);
    node.stop().await;
}
