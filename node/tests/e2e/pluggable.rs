//! The node is pluggable: the name registry (`aitbc-name-registry`), a state machine with no
//! balances, no fees and calls of its own, runs on the real node service. Two authorities author
//! and finalize it by votes, gossip its blocks and transactions over libp2p, a third node syncs
//! it from genesis, and the generic RPC serves it (`getHead`, `getBlock`, `sendTx`, `getTx`,
//! `/health`, `/metrics`, websocket heads); the AITBC routes are absent.

use crate::common::net::NET_SLOT_MS;
use crate::common::*;
use aitbc_consensus::SystemClock;
use aitbc_name_registry::{Call, Genesis, NameRegistry};
use aitbc_network::{Multiaddr, NetworkConfig};
use aitbc_node::service::{self, Networking, NodeConfig, NodeHandle};
use aitbc_primitives::crypto::dev_pair;
use aitbc_primitives::extrinsic::TxParams;
use aitbc_primitives::{Extrinsic, Hash, Pair};
use aitbc_rpc::RpcConfig;
use aitbc_txpool::PoolLimits;
use codec::Encode;
use serde_json::json;
use std::path::Path;
use std::time::Duration;

fn genesis() -> Genesis {
    Genesis {
        chain_id: "names-e2e".into(),
        authorities: vec![dev_pair("alice").public(), dev_pair("bob").public()],
        slot_duration_ms: NET_SLOT_MS,
        names: vec![("root".into(), dev_pair("alice").public())],
    }
}

/// A registry node with authority `key` (`None`: a full node), booting from `boot`.
async fn start_node(
    base: &Path,
    key: Option<&str>,
    boot: Vec<Multiaddr>,
) -> NodeHandle<NameRegistry> {
    let mut network = NetworkConfig::new(base, Hash::ZERO);
    network.listen = vec!["/ip4/127.0.0.1/tcp/0".parse().unwrap()];
    network.bootnodes = boot;
    network.max_per_ip = 64;
    let config = NodeConfig {
        chain: registry_chain(&genesis()),
        base_path: base.to_path_buf(),
        authority: key.map(dev_pair),
        rpc: RpcConfig {
            addr: "127.0.0.1:0".parse().unwrap(),
            timeout: Duration::from_secs(10),
            chain_name: "names-e2e".into(),
            ..RpcConfig::default()
        },
        pool: PoolLimits::default(),
        name: key.unwrap_or("full").into(),
        network: Networking::Libp2p(network),
        clock: SystemClock::shared(),
        pruning: aitbc_storage::Pruning::DEFAULT,
        blocks_pruning: aitbc_storage::Pruning::Archive,
        sync: aitbc_node::workers::warp::SyncMode::Full,
    };
    service::start_chain(config).await.expect("node starts")
}

fn p2p_addr(node: &NodeHandle<NameRegistry>) -> Multiaddr {
    let net = node.network.as_ref().unwrap();
    format!("{}/p2p/{}", net.listen_addrs()[0], net.local_peer_id())
        .parse()
        .unwrap()
}

fn claim(who: &Pair, name: &str, nonce: u64, genesis: Hash) -> Extrinsic<Call> {
    let params = TxParams {
        nonce,
        ..TxParams::default()
    };
    let call = Call::Claim { name: name.into() };
    Extrinsic::sign(who, call, params, genesis)
}

fn hex_body(xt: &Extrinsic<Call>) -> serde_json::Value {
    json!({ "tx": format!("0x{}", hex::encode(xt.encode())) })
}

/// Finalized height as `/rpc/getHead` reports it.
async fn finalized(rpc: &mut aitbc_rpc::http_client::HttpClient) -> u64 {
    rpc.get_ok("/rpc/getHead").await.unwrap()["finalized_height"]
        .as_u64()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pluggable_name_registry_runs_on_the_real_node_service() {
    let (dir_a, dir_b, dir_c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let a = start_node(dir_a.path(), Some("alice"), Vec::new()).await;
    let b = start_node(dir_b.path(), Some("bob"), vec![p2p_addr(&a)]).await;
    let genesis = a.client.genesis_hash();
    assert_eq!(genesis, b.client.genesis_hash());
    let (mut rpc_a, mut rpc_b) = (http(&a), http(&b));

    // The websocket serves the registry's heads.
    let mut ws = ws_connect(&b).await.unwrap();
    let heads = ws_subscribe(&mut ws, json!({"subscribe": "newHeads"})).await;

    // Transactions submitted to either node are gossiped, authored by either and finalized by
    // both authorities' votes.
    let (alice, bob) = (dev_pair("alice"), dev_pair("bob"));
    let to_b = claim(&bob, "bob", 0, genesis);
    let to_a = claim(&alice, "alice", 0, genesis);
    let hash_b = rpc_b
        .post_ok("/rpc/sendTx", &hex_body(&to_b))
        .await
        .unwrap()["txHash"]
        .as_str()
        .unwrap()
        .to_string();
    let hash_a = rpc_a
        .post_ok("/rpc/sendTx", &hex_body(&to_a))
        .await
        .unwrap()["txHash"]
        .as_str()
        .unwrap()
        .to_string();
    for rpc in [&mut rpc_a, &mut rpc_b] {
        for hash in [&hash_a, &hash_b] {
            let tx = wait_tx(rpc, hash, "finalized").await;
            assert_eq!(tx["success"], true, "{tx}");
        }
    }
    let note = ws_next_of(&mut ws, heads, 10).await;
    assert!(note["height"].as_u64().unwrap() >= 1, "{note}");

    // Both nodes executed the registry's rules alike: same owners, same finalized blocks.
    let fin = finalized(&mut rpc_a).await.min(finalized(&mut rpc_b).await);
    assert!(fin >= 1);
    let block_a = rpc_a.get_ok(&format!("/rpc/getBlock/{fin}")).await.unwrap();
    let block_b = rpc_b.get_ok(&format!("/rpc/getBlock/{fin}")).await.unwrap();
    assert_eq!(block_a["hash"], block_b["hash"]);
    for node in [&a, &b] {
        let state = node.client.state().unwrap();
        let registry = node.client.runtime();
        assert_eq!(registry.name(&state, "bob").unwrap().owner, bob.public());
        assert_eq!(
            registry.name(&state, "alice").unwrap().owner,
            alice.public()
        );
    }

    // The registry's own refusal reaches the RPC as its own code.
    let taken = claim(&alice, "bob", 1, genesis);
    let (status, v) = rpc_a.post("/rpc/sendTx", &hex_body(&taken)).await.unwrap();
    assert_eq!((status, error_code(&v)), (400, "name_taken"), "{v}");
    // Accounts are only nonces here.
    let account = rpc_a
        .get_ok(&format!("/rpc/getBalance/{}", bob.public()))
        .await
        .unwrap();
    assert_eq!(
        (account["balance"].as_str(), account["nonce"].as_u64()),
        (Some("0"), Some(1))
    );

    // The generic routes serve it; the AITBC routes do not exist on this chain.
    let (status, health) = rpc_b.get("/health").await.unwrap();
    assert_eq!(status, 200, "{health}");
    assert!(health["peers"].as_u64().unwrap() >= 1, "{health}");
    assert!(metrics_text(&b).await.contains("substrate_block_height"));
    let (status, v) = rpc_a
        .get(&format!("/rpc/getJob/{}/1", bob.public()))
        .await
        .unwrap();
    assert_eq!((status, error_code(&v)), (404, "unknown_route"));
    let (status, v) = rpc_a
        .post(
            "/rpc",
            &json!({"jsonrpc": "2.0", "id": 1, "method": "getJob", "params": []}),
        )
        .await
        .unwrap();
    assert_eq!(
        (status, v["error"]["code"].as_i64()),
        (200, Some(-32601)),
        "{v}"
    );
    let (status, _) = rpc_a.get("/rpc/openapi.json").await.unwrap();
    assert_eq!(status, 404);

    // Both authorities author (slot s belongs to authorities[s % 2]) and every block is final.
    let url = rpc_a.base_url();
    wait_until(30, "six finalized blocks", || {
        let url = url.clone();
        async move {
            let mut rpc = aitbc_rpc::http_client::HttpClient::new(&url).unwrap();
            (finalized(&mut rpc).await >= 6).then_some(())
        }
    })
    .await;
    let mut parities = std::collections::BTreeSet::new();
    for h in 1..=6 {
        let block = rpc_a.get_ok(&format!("/rpc/getBlock/{h}")).await.unwrap();
        parities.insert(block["slot"].as_u64().unwrap() % 2);
    }
    assert_eq!(parities.len(), 2, "one authority authored every block");

    // A third node joins later and syncs the registry chain from genesis.
    let target = finalized(&mut rpc_a).await;
    let c = start_node(dir_c.path(), None, vec![p2p_addr(&a)]).await;
    let mut rpc_c = http(&c);
    let url = rpc_c.base_url();
    wait_until(30, "the new node to sync the finalized chain", || {
        let url = url.clone();
        async move {
            let mut rpc = aitbc_rpc::http_client::HttpClient::new(&url).unwrap();
            (finalized(&mut rpc).await >= target).then_some(())
        }
    })
    .await;
    let synced = rpc_c.get_ok(&format!("/rpc/getBlock/{fin}")).await.unwrap();
    assert_eq!(synced["hash"], block_a["hash"]);
    let state = c.client.state().unwrap();
    assert_eq!(
        c.client.runtime().name(&state, "bob").unwrap().owner,
        bob.public()
    );
    wait_tx(&mut rpc_c, &hash_b, "finalized").await;

    for node in [a, b, c] {
        node.stop().await;
    }
}
