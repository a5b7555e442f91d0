//! End to end on an in-process dev node: blocks, transfers, fees, statuses, admin routes.

use crate::common::*;
use aitbc_primitives::crypto::dev_pair;
use aitbc_runtime::Runtime;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfers_change_balances_nonces_and_pay_fees() {
    let dir = tempfile::tempdir().unwrap();
    let node = start(config(spec(true), dir.path(), true)).await;
    let mut rpc = http(&node);
    wait_height(&mut rpc, 1).await;
    let genesis = node.client.genesis_hash();

    let (eve, ferdie) = (dev_pair("eve"), dev_pair("ferdie"));
    let alice = dev_pair("alice").public();
    let treasury = dev_pair("treasury").public();
    let (eve0, n0, _) = balance(&mut rpc, &eve.public()).await;
    let (ferdie0, _, _) = balance(&mut rpc, &ferdie.public()).await;
    let (alice0, _, _) = balance(&mut rpc, &alice).await;
    let (treasury0, _, _) = balance(&mut rpc, &treasury).await;

    let xt = transfer(&eve, &ferdie.public(), 1_000, n0, genesis);
    let sent = rpc.post_ok("/rpc/sendTx", &tx_body(&xt)).await.unwrap();
    let hash = sent["txHash"].as_str().unwrap().to_string();
    assert_eq!(hash, xt.hash().to_string());
    // Pending until the next block; next_nonce counts it.
    let (_, nonce, next) = balance(&mut rpc, &eve.public()).await;
    let pending = rpc.get_ok(&format!("/rpc/getTx/{hash}")).await.unwrap();
    if pending["status"] == "pending" {
        assert_eq!((nonce, next), (n0, n0 + 1));
    }
    let tx = wait_tx(&mut rpc, &hash, "finalized").await;
    assert_eq!(tx["success"], true);
    assert_eq!(tx["signer"], eve.public().to_string());
    assert_eq!(tx["call"]["type"], "TRANSFER");
    let fee: u128 = tx["fee"].as_str().unwrap().parse().unwrap();
    assert!(fee > 0);

    let (eve1, n1, _) = balance(&mut rpc, &eve.public()).await;
    let (ferdie1, _, _) = balance(&mut rpc, &ferdie.public()).await;
    let (alice1, _, _) = balance(&mut rpc, &alice).await;
    let (treasury1, _, _) = balance(&mut rpc, &treasury).await;
    assert_eq!(n1, n0 + 1);
    assert_eq!(eve1, eve0 - 1_000 - fee);
    assert_eq!(ferdie1, ferdie0 + 1_000);
    // DESIGN: 20% of the fee to the block's author (//alice), the rest to the treasury.
    let to_author = fee * 200_000 / 1_000_000;
    assert_eq!(alice1 - alice0, to_author);
    assert_eq!(treasury1 - treasury0, fee - to_author);

    let block = rpc
        .get_ok(&format!("/rpc/getBlock/{}", tx["block_height"]))
        .await
        .unwrap();
    assert_eq!(block["transactions"][0], hash);
    assert_eq!(block["author"], alice.to_string());
    assert_eq!(block["finalized"], true);
    let by_hash = rpc
        .get_ok(&format!(
            "/rpc/getBlock/{}",
            block["hash"].as_str().unwrap()
        ))
        .await
        .unwrap();
    assert_eq!(by_hash, block);
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_form_and_admin_routes() {
    let dir = tempfile::tempdir().unwrap();
    let node = start(config(spec(true), dir.path(), true)).await;
    let mut rpc = http(&node);
    let genesis = node.client.genesis_hash();
    let eve = dev_pair("eve");
    let fresh = dev_pair("fresh-account").public();

    // The JSON form signs the same payload as the binary form.
    let xt = transfer(&eve, &fresh, 5_000, 0, genesis);
    let body = aitbc_rpc::methods::json_tx::<Runtime>(&xt);
    assert_eq!(body["type"], "TRANSFER");
    let sent = rpc.post_ok("/rpc/sendTx", &body).await.unwrap();
    assert_eq!(sent["txHash"], xt.hash().to_string());
    wait_tx(&mut rpc, &xt.hash().to_string(), "finalized").await;
    assert_eq!(balance(&mut rpc, &fresh).await.0, 5_000);

    // Faucet: a root extrinsic signed by the node's sudo key.
    let mut admin = http(&node).with_bearer(TOKEN);
    let minted = admin
        .post_ok(
            "/admin/mintFaucet",
            &json!({"address": fresh.to_string(), "amount": "777"}),
        )
        .await
        .unwrap();
    let tx = wait_tx(&mut rpc, minted["txHash"].as_str().unwrap(), "finalized").await;
    assert_eq!(tx["success"], true, "{tx}");
    assert_eq!(balance(&mut rpc, &fresh).await.0, 5_777);

    // Concurrent faucet requests each get their own nonce.
    let url = admin.base_url();
    let mints: Vec<_> = (0..4)
        .map(|i| {
            let url = url.clone();
            let body = json!({"address": fresh.to_string(), "amount": (i + 1).to_string()});
            tokio::spawn(async move {
                let mut c = aitbc_rpc::http_client::HttpClient::new(&url)
                    .unwrap()
                    .with_bearer(TOKEN);
                c.post_ok("/admin/mintFaucet", &body).await.unwrap()["txHash"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
        })
        .collect();
    for m in mints {
        let tx = wait_tx(&mut rpc, &m.await.unwrap(), "finalized").await;
        assert_eq!(tx["success"], true, "{tx}");
    }
    assert_eq!(balance(&mut rpc, &fresh).await.0, 5_777 + 1 + 2 + 3 + 4);

    // Two admin actions in a row get consecutive nonces (pending txs counted).
    let a = admin
        .post_ok("/admin/paramSet", &json!({"key": "base_fee", "value": 11}))
        .await
        .unwrap();
    let b = admin
        .post_ok(
            "/admin/paramSet",
            &json!({"key": "fee_per_byte", "value": "2"}),
        )
        .await
        .unwrap();
    for h in [&a, &b] {
        let tx = wait_tx(&mut rpc, h["txHash"].as_str().unwrap(), "finalized").await;
        assert_eq!(tx["success"], true, "{tx}");
    }
    let est = rpc
        .post_ok(
            "/rpc/estimateFee",
            &tx_body(&transfer(&eve, &fresh, 1, 1, genesis)),
        )
        .await
        .unwrap();
    let len = codec::Encode::encoded_size(&transfer(&eve, &fresh, 1, 1, genesis)) as u128;
    // base_fee + fee_per_byte * len + the transfer's weight fee (weight_fee_per_ms = 1000).
    let weight_fee = u128::from(aitbc_runtime::weights::TRANSFER) / 1_000;
    assert_eq!(est["fee"], (11 + 2 * len + weight_fee).to_string());

    let (status, v) = admin
        .post("/admin/paramSet", &json!({"key": "nope", "value": 1}))
        .await
        .unwrap();
    assert_eq!((status, error_code(&v)), (400, "unknown_param"));
    let (status, v) = admin
        .post(
            "/admin/paramSet",
            &json!({"key": "coordinator_ratio_ppm", "value": 2_000_000}),
        )
        .await
        .unwrap();
    assert_eq!((status, error_code(&v)), (400, "param_out_of_bounds"));

    let health = rpc.get_ok("/health").await.unwrap();
    assert_eq!(health["genesis_hash"], genesis.to_string());
    let (status, metrics) = rpc.get("/metrics").await.unwrap();
    assert_eq!(status, 200);
    let text = metrics.as_str().unwrap();
    assert!(text.contains("substrate_block_height{status=\"finalized\"}"));
    assert!(text.contains("substrate_rpc_requests_total{method=\"sendTx\",status=\"200\"}"));
    assert!(text.contains("substrate_block_verification_and_import_time_count"));
    node.stop().await;
}
