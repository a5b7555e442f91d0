//! Compute receipts end to end: a client escrows a job with the CLI, the mock coordinator (a real
//! HTTP service with a real key) attests the miner's receipt, the miner claims it and is paid and
//! minted; a second claim is refused; an expired escrow is refunded.

use crate::common::*;
use aitbc_coordinator::{self as coordinator, Coordinator};
use aitbc_primitives::crypto::dev_pair;
use aitbc_rpc::http_client::HttpClient;
use serde_json::Value;
use std::process::Command;

async fn cli(args: Vec<String>) -> std::process::Output {
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_aitbc-node"))
            .args(&args)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn args(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| s.to_string()).collect()
}

fn ok_json(out: &std::process::Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escrow_attest_claim_and_refund() {
    let dir = tempfile::tempdir().unwrap();
    let node = start(config(spec(true), dir.path(), true)).await;
    let rpc_url = format!("http://{}", node.rpc_addr);
    let (_stop, rx) = tokio::sync::watch::channel(false);
    // The coordinator asks the node which escrows exist (`mock-coordinator --rpc`).
    let coord = coordinator::serve(
        Coordinator::new(dev_pair("coordinator"), node.client.genesis_hash()).with_chain(&rpc_url),
        "127.0.0.1:0".parse().unwrap(),
        rx,
    )
    .await
    .unwrap();
    let coord_url = format!("http://{}", coord.local_addr);
    let bob = dev_pair("bob").public().to_string();
    let ferdie = dev_pair("ferdie").public();
    let mut rpc = http(&node);
    let ferdie0 = balance(&mut rpc, &ferdie).await.0;

    let opened = cli(args(&[
        "tx",
        "open-job",
        "--client",
        "//bob",
        "--job",
        "42",
        "--price",
        "1000",
        "--lifetime",
        "100",
        "--rpc",
        &rpc_url,
        "--wait",
        "finalized",
    ]))
    .await;
    assert_eq!(ok_json(&opened)["success"], true);
    let job = rpc.get_ok(&format!("/rpc/getJob/{bob}/42")).await.unwrap();
    assert_eq!(job["status"], "open");
    assert_eq!(job["price"], "1000");

    // Asked directly, the coordinator attests only the open escrow of the chain that names it,
    // within its price and the chain's unit cap.
    let mut coordinator = HttpClient::new(&coord_url).unwrap();
    let attest = |job: u64, units: u64, price: &str| {
        serde_json::json!({"job_id": job, "client": bob, "miner": ferdie.to_string(),
            "coordinator": dev_pair("coordinator").public().to_string(), "compute_units": units,
            "price": price, "output_hash": format!("{}", aitbc_primitives::Hash::of(b"out"))})
    };
    let (status, none) = coordinator
        .post("/attest/receipt", &attest(7, 3, "800"))
        .await
        .unwrap();
    assert_eq!(status, 200, "{none}");
    assert_eq!(
        (none["exists"].as_bool(), none["attestation"].is_null()),
        (Some(false), true)
    );
    let (status, dear) = coordinator
        .post("/attest/receipt", &attest(42, 3, "1001"))
        .await
        .unwrap();
    assert_eq!(
        (status, dear["error"]["code"].as_str()),
        (409, Some("price_exceeds_escrow"))
    );
    let (status, big) = coordinator
        .post("/attest/receipt", &attest(42, 1_000_001, "800"))
        .await
        .unwrap();
    assert_eq!(
        (status, big["error"]["code"].as_str()),
        (400, Some("too_many_units"))
    );

    let claim = |job: &str| {
        args(&[
            "tx",
            "claim-receipt",
            "--miner",
            "//ferdie",
            "--client",
            &bob,
            "--job",
            job,
            "--units",
            "3",
            "--price",
            "800",
            "--coordinator",
            &coord_url,
            "--rpc",
            &rpc_url,
            "--wait",
            "finalized",
        ])
    };
    let claimed = ok_json(&cli(claim("42")).await);
    assert_eq!(claimed["success"], true, "{claimed}");
    let fee: u128 = claimed["fee"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        rpc.get_ok(&format!("/rpc/getJob/{bob}/42")).await.unwrap()["status"],
        "claimed"
    );
    // Paid 800 of the escrow, minted 3 units * 1000 per unit.
    assert_eq!(
        balance(&mut rpc, &ferdie).await.0,
        ferdie0 + 800 + 3_000 - fee
    );
    let receipt_id = claimed["events"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|e| {
            e.pointer("/Receipts/ReceiptClaimed/receipt_id")
                .and_then(Value::as_str)
        })
        .expect("a ReceiptClaimed event")
        .to_string();
    let receipt = rpc
        .get_ok(&format!("/rpc/getReceipt/{receipt_id}"))
        .await
        .unwrap();
    assert_eq!(receipt["miner"], ferdie.to_string());
    assert_eq!(receipt["minted"], "3000");
    assert_eq!(receipt["tx_hash"], claimed["hash"]);

    // The same job again: the coordinator has already attested a receipt for it.
    let again = cli(claim("42")).await;
    assert!(!again.status.success());
    // A job nobody opened: the node refuses before the coordinator is asked.
    let unknown = cli(claim("7")).await;
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("404"),
        "{}",
        String::from_utf8_lossy(&unknown.stderr)
    );

    // An escrow past its lifetime goes back to the client.
    let opened = cli(args(&[
        "tx",
        "open-job",
        "--client",
        "//bob",
        "--job",
        "43",
        "--price",
        "500",
        "--lifetime",
        "1",
        "--rpc",
        &rpc_url,
        "--wait",
        "finalized",
    ]))
    .await;
    let at = ok_json(&opened)["block_height"].as_u64().unwrap();
    wait_height(&mut rpc, at + 1).await;
    let refunded = ok_json(
        &cli(args(&[
            "tx",
            "refund",
            "--client",
            "//bob",
            "--job",
            "43",
            "--rpc",
            &rpc_url,
            "--wait",
            "finalized",
        ]))
        .await,
    );
    assert_eq!(refunded["success"], true, "{refunded}");
    assert_eq!(
        rpc.get_ok(&format!("/rpc/getJob/{bob}/43")).await.unwrap()["status"],
        "refunded"
    );
    node.stop().await;
    // With its node gone the coordinator cannot tell whether an escrow is open: 503, nothing
    // attested.
    let (status, down) = coordinator
        .post("/attest/receipt", &attest(44, 1, "1"))
        .await
        .unwrap();
    assert_eq!(
        (status, down["error"]["code"].as_str()),
        (503, Some("chain_unavailable")),
        "{down}"
    );
}
