//! Restarts: a clean stop and a SIGKILL while authoring both come back with head, balances and
//! state root intact, continue producing, and never sign a slot twice.

use crate::common::*;
use aitbc_node::workers::signed_slots::SignedSlots;
use aitbc_primitives::crypto::dev_pair;
use aitbc_rpc::http_client::HttpClient;
use serde_json::Value;
use std::process::{Child, Command, Stdio};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clean_restart_keeps_head_and_state() {
    let dir = tempfile::tempdir().unwrap();
    let node = start(config(spec(true), dir.path(), true)).await;
    let mut rpc = http(&node);
    let genesis = node.client.genesis_hash();
    let xt = transfer(&dev_pair("eve"), &dev_pair("dave").public(), 42, 0, genesis);
    let h = rpc.post_ok("/rpc/sendTx", &tx_body(&xt)).await.unwrap();
    wait_tx(&mut rpc, h["txHash"].as_str().unwrap(), "finalized").await;
    let dave = balance(&mut rpc, &dev_pair("dave").public()).await;
    node.stop().await;
    let stopped = {
        let c = start(config(spec(true), dir.path(), false)).await;
        let head = c.client.best_header();
        c.stop().await;
        head
    };

    let node = start(config(spec(true), dir.path(), true)).await;
    let mut rpc = http(&node);
    assert_eq!(
        node.client.best_header(),
        stopped,
        "same head and state root after restart"
    );
    assert_eq!(balance(&mut rpc, &dev_pair("dave").public()).await, dave);
    wait_height(&mut rpc, stopped.number + 2).await;
    let tx = rpc
        .get_ok(&format!("/rpc/getTx/{}", h["txHash"].as_str().unwrap()))
        .await
        .unwrap();
    assert_eq!(tx["status"], "finalized");
    node.stop().await;
}

fn spawn_node(spec_path: &std::path::Path, base: &std::path::Path, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_aitbc-node"))
        .args([
            "--chain",
            spec_path.to_str().unwrap(),
            "--base-path",
            base.to_str().unwrap(),
        ])
        .args([
            "--rpc-addr",
            &format!("127.0.0.1:{port}"),
            "--alice",
            "--log",
            "warn",
            "--p2p-addr",
            "/ip4/127.0.0.1/tcp/0",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn aitbc-node")
}

async fn head(url: &str) -> Option<Value> {
    HttpClient::new(url).ok()?.get_ok("/rpc/getHead").await.ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_while_authoring_loses_nothing_finalized() {
    let dir = tempfile::tempdir().unwrap();
    let spec_path = dir.path().join("spec.json");
    let chain = spec(true);
    std::fs::write(&spec_path, chain.to_json(false).unwrap()).unwrap();
    let base = dir.path().join("base");
    let mut last_finalized = 0;
    let mut last_hash = Value::Null;
    for round in 0..3 {
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}");
        let mut child = spawn_node(&spec_path, &base, port);
        let target = last_finalized + 3;
        let h = wait_until(60, &format!("round {round} reaches #{target}"), || {
            let url = url.clone();
            async move {
                head(&url)
                    .await
                    .filter(|h| h["finalized_height"].as_u64() >= Some(target))
            }
        })
        .await;
        // What was finalized before the kill is still there, unchanged.
        if round > 0 {
            let mut c = HttpClient::new(&url).unwrap();
            let b = c
                .get_ok(&format!("/rpc/getBlock/{last_finalized}"))
                .await
                .unwrap();
            assert_eq!(
                b["hash"], last_hash,
                "finalized block #{last_finalized} changed"
            );
        }
        last_finalized = h["finalized_height"].as_u64().unwrap();
        last_hash = h["finalized_hash"].clone();
        child.kill().unwrap(); // SIGKILL, in the middle of authoring
        child.wait().unwrap();
    }

    // Every block's slot is strictly after its parent's, and the authoring record is ahead of
    // the chain: no slot was signed twice.
    let chain_dir = aitbc_node::service::chain_dir(&base, &chain.id);
    let slots = SignedSlots::open(
        &chain_dir.join(aitbc_node::service::AUTHORING_FILE),
        chain.genesis().unwrap().hash,
    )
    .unwrap();
    let recorded = slots
        .last_signed(&dev_pair("alice").public())
        .unwrap()
        .unwrap();
    drop(slots);
    let node = start(config(spec(true), &base, false)).await;
    let best = node.client.best_header();
    assert!(best.number >= last_finalized);
    assert!(recorded >= best.slot);
    let mut prev_slot = 0;
    for n in 1..=best.number {
        let hash = node.client.hash_at(n).unwrap().unwrap();
        let (block, _) = node.client.block(&hash).unwrap().unwrap();
        assert!(
            block.block.header.slot > prev_slot,
            "slot of #{n} not after its parent's"
        );
        assert!(block.seal_is_valid(&dev_pair("alice").public()));
        prev_slot = block.block.header.slot;
    }
    node.stop().await;
}
