//! `--state-pruning N` and `--blocks-pruning N` on a dev node: history older than the window
//! goes (a proof at an old height is 404 `state_unavailable`, an old block or transaction 404),
//! the recent window and finality proofs stay, and the node restarts on its pruned database.

use crate::common::*;
use aitbc_primitives::crypto::dev_pair;
use aitbc_storage::Pruning;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pruned_history_goes_and_the_window_and_finality_proofs_stay() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(spec(false), dir.path(), true);
    cfg.pruning = Pruning::Keep(4);
    cfg.blocks_pruning = Pruning::Keep(4);
    let node = start(cfg.clone()).await;
    let mut rpc = http(&node);
    let xt = transfer(
        &dev_pair("alice"),
        &dev_pair("bob").public(),
        5,
        0,
        node.client.genesis_hash(),
    );
    let hash = xt.hash().to_string();
    rpc.post_ok("/rpc/sendTx", &tx_body(&xt)).await.unwrap();
    let old = wait_tx(&mut rpc, &hash, "finalized").await["block_height"]
        .as_u64()
        .unwrap();
    wait_height(&mut rpc, old + 12).await;
    let client = node.client.clone();
    wait_until(10, "the old block pruned", || {
        let gone = client
            .hash_at(old)
            .unwrap()
            .and_then(|h| client.block(&h).unwrap())
            .is_none();
        async move { gone.then_some(()) }
    })
    .await;

    let (status, v) = rpc.get(&format!("/rpc/getBlock/{old}")).await.unwrap();
    assert_eq!((status, error_code(&v)), (404, "not_found"), "{v}");
    let (status, _) = rpc.get(&format!("/rpc/getTx/{hash}")).await.unwrap();
    assert_eq!(status, 404);
    let fin = client.finalized().number;
    let (status, _) = rpc.get(&format!("/rpc/getBlock/{fin}")).await.unwrap();
    assert_eq!(status, 200);
    let (status, v) = rpc
        .post(
            "/rpc/getReadProof",
            &json!({"accounts": [dev_pair("bob").public().to_string()], "at": old}),
        )
        .await
        .unwrap();
    assert_eq!((status, error_code(&v)), (404, "state_unavailable"), "{v}");
    let (status, v) = rpc
        .post(
            "/rpc/getReadProof",
            &json!({"accounts": [dev_pair("bob").public().to_string()], "at": fin - 2}),
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{v}");
    // A light client still follows finality from genesis.
    let genesis = spec(false).genesis().unwrap();
    let authorities = vec![dev_pair("alice").public()];
    let checkpoint = aitbc_light::Checkpoint::genesis(genesis.header, authorities);
    let mut light =
        aitbc_light::LightClient::new(&format!("http://{}", node.rpc_addr), checkpoint).unwrap();
    assert!(light.sync().await.unwrap().header.number >= fin);
    drop(client);
    node.stop().await;

    // Restart on the pruned database.
    let node = start(cfg).await;
    let mut rpc = http(&node);
    wait_height(&mut rpc, fin + 3).await;
    node.stop().await;
}
