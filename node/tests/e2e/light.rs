//! The light client against a real dev node, and against a proxy that forwards to it and lies
//! in one way each time: every forgery is refused with its own error.

use crate::common::*;
use aitbc_light::{Checkpoint, LightClient, LightError};
use aitbc_primitives::commitment::{ReadProof, StateProof};
use aitbc_primitives::crypto::dev_pair;
use aitbc_primitives::warp::{FinalityProof, WarpError};
use aitbc_primitives::{
    decode_exact, BoundedVec, Hash, Header, JustificationError, StateMachine, TxProof,
};
use aitbc_rpc::http_client::HttpClient;
use codec::Encode;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

fn genesis_checkpoint() -> Checkpoint {
    let genesis = spec(false).genesis().unwrap();
    let runtime = aitbc_runtime::Runtime::new(genesis.hash);
    Checkpoint::genesis(genesis.header, runtime.authorities(&genesis.state))
}

/// A dev node with one finalized transfer from alice to bob, at least two blocks below the
/// justified head; returns the node, the transfer's hash and bob's balance.
async fn node_with_a_transfer(dir: &std::path::Path) -> (service::NodeHandle, Hash, u128) {
    let node = start(config(spec(false), dir, true)).await;
    let mut rpc = http(&node);
    let bob = dev_pair("bob").public();
    let (before, _, _) = balance(&mut rpc, &bob).await;
    let xt = transfer(
        &dev_pair("alice"),
        &bob,
        12_345,
        0,
        node.client.genesis_hash(),
    );
    let hash = xt.hash();
    rpc.post_ok("/rpc/sendTx", &tx_body(&xt)).await.unwrap();
    let tx = wait_tx(&mut rpc, &hash.to_string(), "finalized").await;
    wait_height(&mut rpc, tx["block_height"].as_u64().unwrap() + 2).await;
    (node, hash, before + 12_345)
}

use aitbc_node::service;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_light_client_verifies_balances_transactions_and_receipts_of_a_dev_chain() {
    let dir = tempfile::tempdir().unwrap();
    let (node, hash, bob_balance) = node_with_a_transfer(dir.path()).await;
    let url = format!("http://{}", node.rpc_addr);
    let mut light = LightClient::new(&url, genesis_checkpoint()).unwrap();
    let head = light.sync().await.unwrap().header.number;
    let mut rpc = http(&node);
    let tx = rpc.get_ok(&format!("/rpc/getTx/{hash}")).await.unwrap();
    assert!(
        head >= tx["block_height"].as_u64().unwrap() + 2,
        "head #{head}"
    );

    let bob = dev_pair("bob").public();
    let info = light.balance(&bob).await.unwrap();
    assert_eq!((info.balance, info.nonce), (bob_balance, 0));
    let alice = light.balance(&dev_pair("alice").public()).await.unwrap();
    assert_eq!(alice.nonce, 1);
    let included = light.tx(&hash).await.unwrap();
    assert_eq!(
        (included.block_number, included.block_hash.to_string()),
        (
            tx["block_height"].as_u64().unwrap(),
            tx["block_hash"].as_str().unwrap().to_string()
        )
    );
    assert_eq!(
        light.receipt(&Hash::of(b"no such receipt")).await.unwrap(),
        None
    );
    assert_eq!(light.job(&bob, 7).await.unwrap(), None);

    // The command line: the same answers, as JSON; a checkpoint file resumes from the head.
    let spec_file = dir.path().join("spec.json");
    std::fs::write(&spec_file, spec(false).to_json(false).unwrap()).unwrap();
    let chain = spec_file.to_str().unwrap();
    let cli = |args: &[&str]| {
        let args: Vec<String> = ["aitbc-light", "--rpc", &url]
            .iter()
            .chain(args)
            .map(|s| s.to_string())
            .collect();
        aitbc_light::cli::run_args(args)
    };
    let err = cli(&["head"]).await.unwrap_err();
    assert!(err.to_string().contains("another chain"), "{err}");
    let out = cli(&["--chain", chain, "--json", "balance", &bob.to_string()])
        .await
        .unwrap();
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["balance"].as_str().unwrap(), bob_balance.to_string());
    let checkpoint = cli(&["--chain", chain, "checkpoint"]).await.unwrap();
    let file = dir.path().join("checkpoint.json");
    std::fs::write(&file, checkpoint).unwrap();
    let file = file.to_str().unwrap();
    let out = cli(&["--checkpoint", file, "--json", "head"])
        .await
        .unwrap();
    let v: Value = serde_json::from_str(&out).unwrap();
    assert!(v["number"].as_u64().unwrap() >= head, "{out}");
    // A transaction below the checkpoint is linked up to it by the headers in between.
    let out = cli(&["--checkpoint", file, "tx", &hash.to_string()])
        .await
        .unwrap();
    assert!(out.contains("is in finalized block"), "{out}");
    let out = cli(&["--chain", chain, "tx", &hash.to_string()])
        .await
        .unwrap();
    assert!(out.contains("is in finalized block"), "{out}");
    node.stop().await;
}

/// How the proxy lies.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Lie {
    Value,
    Proof,
    OtherRoot,
    NotFinalized,
    ShortJustification,
    WrongSetId,
    Tx,
    Ancestry,
}

fn hex_of(v: &Value, field: &str) -> Vec<u8> {
    hex::decode(v[field].as_str().unwrap().trim_start_matches("0x")).unwrap()
}

fn set_hex(v: &mut Value, field: &str, bytes: &[u8]) {
    v[field] = Value::String(format!("0x{}", hex::encode(bytes)));
}

/// Rewrites a request (path, body) before it is forwarded.
fn lie_in_request(lie: Lie, path: &str, body: &mut Value) {
    if lie == Lie::OtherRoot && path == "/rpc/getReadProof" {
        // A real proof, against the block before the one asked.
        body["at"] = (body["at"].as_u64().unwrap() - 1).into();
    }
}

/// Rewrites an answer before it is returned.
fn lie_in_answer(lie: Lie, path: &str, v: &mut Value) {
    match (lie, path) {
        (Lie::Value, "/rpc/getReadProof") => {
            let entry = v["entries"]
                .as_array_mut()
                .unwrap()
                .iter_mut()
                .find(|e| !e["value"].is_null())
                .unwrap();
            let mut value = hex_of(entry, "value");
            value[0] ^= 1;
            set_hex(entry, "value", &value);
        }
        (Lie::Proof, "/rpc/getReadProof") => {
            let mut proof: ReadProof = decode_exact(&hex_of(v, "proof")).unwrap();
            let bytes = &mut proof[0].0;
            let last = bytes.len() - 1;
            bytes[last] ^= 1;
            proof[0] = StateProof(bytes.clone());
            set_hex(v, "proof", &proof.encode());
        }
        (Lie::NotFinalized, "/rpc/getReadProof") => {
            v["at"]["number"] = (v["at"]["number"].as_u64().unwrap() + 1).into();
        }
        (Lie::ShortJustification | Lie::WrongSetId, p)
            if p.starts_with("/rpc/getFinalityProof/") =>
        {
            let proof: FinalityProof = decode_exact(&hex_of(v, "proof")).unwrap();
            let mut fragments = proof.fragments.to_vec();
            if let Some(j) = fragments.last_mut().and_then(|f| f.justification.as_mut()) {
                if lie == Lie::ShortJustification {
                    j.precommits = BoundedVec::new();
                } else {
                    j.set_id += 1;
                }
            }
            let forged = FinalityProof {
                fragments: BoundedVec::try_from_vec(fragments).unwrap(),
                complete: proof.complete,
            };
            set_hex(v, "proof", &forged.encode());
        }
        (Lie::Tx, p) if p.starts_with("/rpc/getTxProof/") => {
            let mut proof: TxProof = decode_exact(&hex_of(v, "proof")).unwrap();
            let last = proof.extrinsic.len() - 1;
            proof.extrinsic[last] ^= 1;
            set_hex(v, "proof", &proof.encode());
        }
        (Lie::Ancestry, p) if p.starts_with("/rpc/getTxProof/") => {
            let mut ancestry: Vec<Header> = decode_exact(&hex_of(v, "ancestry")).unwrap();
            ancestry.remove(0);
            set_hex(v, "ancestry", &ancestry.encode());
        }
        _ => {}
    }
}

/// A proxy in front of the node at `upstream` that lies with `lie`; returns its URL.
async fn lying_proxy(upstream: String, lie: Lie) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let upstream = upstream.clone();
            tokio::spawn(async move {
                let mut node = HttpClient::new(&upstream).unwrap();
                let mut stream = BufReader::new(stream);
                loop {
                    let mut line = String::new();
                    if stream.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let mut parts = line.split_whitespace();
                    let (method, path) = (
                        parts.next().unwrap_or("").to_string(),
                        parts.next().unwrap_or("").to_string(),
                    );
                    let mut length = 0;
                    loop {
                        let mut header = String::new();
                        stream.read_line(&mut header).await.unwrap();
                        if header.trim().is_empty() {
                            break;
                        }
                        if let Some((name, value)) = header.split_once(':') {
                            if name.eq_ignore_ascii_case("content-length") {
                                length = value.trim().parse().unwrap();
                            }
                        }
                    }
                    let mut body = vec![0; length];
                    stream.read_exact(&mut body).await.unwrap();
                    let (status, mut answer) = if method == "POST" {
                        let mut request: Value = serde_json::from_slice(&body).unwrap();
                        lie_in_request(lie, &path, &mut request);
                        node.post(&path, &request).await.unwrap()
                    } else {
                        node.get(&path).await.unwrap()
                    };
                    if status == 200 {
                        lie_in_answer(lie, &path, &mut answer);
                    }
                    let body = answer.to_string();
                    let response = format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if stream
                        .get_mut()
                        .write_all(response.as_bytes())
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lying_node_is_refused_for_each_forgery() {
    let dir = tempfile::tempdir().unwrap();
    let (node, hash, _) = node_with_a_transfer(dir.path()).await;
    let upstream = format!("http://{}", node.rpc_addr);
    let bob = dev_pair("bob").public();
    let spec_file = dir.path().join("spec.json");
    std::fs::write(&spec_file, spec(false).to_json(false).unwrap()).unwrap();
    let chain = spec_file.to_str().unwrap().to_string();
    let mut messages = std::collections::BTreeSet::new();
    for lie in [
        Lie::Value,
        Lie::Proof,
        Lie::OtherRoot,
        Lie::NotFinalized,
        Lie::ShortJustification,
        Lie::WrongSetId,
        Lie::Tx,
        Lie::Ancestry,
    ] {
        let url = lying_proxy(upstream.clone(), lie).await;
        let mut light = LightClient::new(&url, genesis_checkpoint()).unwrap();
        let refused = match light.sync().await {
            Err(e) => e,
            Ok(_) if matches!(lie, Lie::Tx | Lie::Ancestry) => light.tx(&hash).await.unwrap_err(),
            Ok(_) => light.balance(&bob).await.unwrap_err(),
        };
        match (lie, &refused) {
            (Lie::Value, LightError::ForgedValue { .. })
            | (Lie::Proof, LightError::ForgedProof { .. })
            | (Lie::OtherRoot, LightError::OtherRoot { .. })
            | (Lie::NotFinalized, LightError::NotFinalized { .. })
            | (Lie::Tx, LightError::ForgedTx)
            | (Lie::Ancestry, LightError::OffFinalizedChain { .. }) => {}
            (
                Lie::ShortJustification,
                LightError::Finality(WarpError::Justification {
                    source: JustificationError::TooFewVotes { got: 0, needed: 1 },
                    ..
                }),
            )
            | (
                Lie::WrongSetId,
                LightError::Finality(WarpError::Justification {
                    source:
                        JustificationError::WrongSet {
                            expected: 0,
                            found: 1,
                        },
                    ..
                }),
            ) => {}
            _ => panic!("{lie:?} refused with {refused:?}"),
        }
        let message = refused.to_string();
        assert!(!message.contains('\n'), "{message}");
        // Each forgery class has its own message (numbers aside).
        messages.insert(
            message
                .chars()
                .filter(|c| !c.is_ascii_hexdigit())
                .collect::<String>(),
        );
        // The command line refuses the same way.
        let out = aitbc_light::cli::run_args([
            "aitbc-light",
            "--chain",
            &chain,
            "--rpc",
            &url,
            "balance",
            &bob.to_string(),
        ])
        .await;
        match out {
            Ok(_) => assert!(matches!(lie, Lie::Tx | Lie::Ancestry), "{lie:?}: {out:?}"),
            Err(e) => assert!(!e.to_string().contains("another chain"), "{e}"),
        }
    }
    assert_eq!(messages.len(), 8, "{messages:#?}");
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn elections_that_keep_the_set_are_not_set_changes_a_light_client_must_cross() {
    // Epochs of 3 blocks: //alice is re-elected each time (new weights, same set).
    let dir = tempfile::tempdir().unwrap();
    let mut chain = spec(false);
    chain.genesis.params.epoch_length = 3;
    let node = start(config(chain.clone(), dir.path(), true)).await;
    let mut rpc = http(&node);
    wait_height(&mut rpc, 10).await;
    let proof = node.client.finality_proof(0).unwrap();
    assert_eq!(
        proof.fragments.len(),
        1,
        "an election that kept the set is listed as a change"
    );
    let genesis = chain.genesis().unwrap();
    let checkpoint = Checkpoint::genesis(genesis.header, vec![dev_pair("alice").public()]);
    let mut light = LightClient::new(&format!("http://{}", node.rpc_addr), checkpoint).unwrap();
    let head = light.sync().await.unwrap();
    assert!(head.header.number >= 9);
    assert_eq!(head.set_id, 0);
    node.stop().await;
}
