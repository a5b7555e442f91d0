//! Staking on the `local` network: a new validator bonds, validates, is elected at an epoch
//! boundary, authors and votes; an authority key run on two nodes equivocates and is slashed
//! once, alike on every node, and left out of the next set.

use crate::common::net::*;
use crate::common::*;
use aitbc_primitives::crypto::dev_pair;
use aitbc_runtime::{staking, Call};
use serde_json::Value;

/// Signs a staking call by `who` at `nonce` and submits it to `node` over the RPC.
async fn stake(node: &TestNode, who: &str, call: staking::Call, nonce: u64) -> String {
    let genesis = node.client().genesis_hash();
    let xt = sign(&dev_pair(who), Call::staking(call), nonce, genesis);
    let mut rpc = http(node.node());
    let sent = rpc.post_ok("/rpc/sendTx", &tx_body(&xt)).await.unwrap();
    sent["txHash"].as_str().unwrap().to_string()
}

fn elected(v: &Value) -> Vec<String> {
    v["validators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["address"].as_str().unwrap().to_string())
        .collect()
}

/// Waits until `node`'s getValidators answer satisfies `cond`, and returns it.
async fn wait_validators(node: &TestNode, what: &str, cond: impl Fn(&Value) -> bool) -> Value {
    let url = http(node.node()).base_url();
    let cond = &cond;
    wait_until(60, what, || {
        let url = url.clone();
        async move {
            let mut rpc = aitbc_rpc::http_client::HttpClient::new(&url).unwrap();
            let v = rpc.get_ok("/rpc/getValidators").await.ok()?;
            cond(&v).then_some(v)
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_validator_bonds_is_elected_authors_and_votes() {
    let spec = local_spec();
    let mut nodes = start_network(&spec, &["alice", "bob", "charlie", "dave", "ferdie"], 0).await;
    wait_nodes(&nodes, 30, "finality at 2", |n| all_finalized(n, 2)).await;
    let ferdie = dev_pair("ferdie").public().to_string();
    let bond = spec.genesis.params.min_validator_bond;
    // Validate right behind the bond: the pool checks it once the bond is in.
    stake(&nodes[4], "ferdie", staking::Call::Bond { amount: bond }, 0).await;
    let tx = stake(&nodes[4], "ferdie", staking::Call::Validate, 1).await;
    wait_tx(&mut http(nodes[0].node()), &tx, "finalized").await;
    let staked = http(nodes[0].node())
        .get_ok(&format!("/rpc/getStaking/{ferdie}"))
        .await
        .unwrap();
    assert_eq!(staked["bonded"], bond.to_string());
    // Elected at the next boundary, on every node alike.
    let v = wait_validators(&nodes[0], "ferdie elected", |v| {
        elected(v).contains(&ferdie)
    })
    .await;
    assert_eq!(elected(&v).len(), 5);
    for node in &nodes[1..] {
        let other = wait_validators(node, "ferdie elected here too", |o| {
            o["epoch"] == v["epoch"]
        })
        .await;
        assert_eq!(other["schedule_hash"], v["schedule_hash"]);
    }
    // It authors: a block sealed by ferdie lands on the finalized chain.
    let me = dev_pair("ferdie").public();
    let from = nodes[0].finalized().number;
    wait_until(30, "a finalized block by ferdie", || {
        let c = nodes[0].client();
        let fin = c.finalized().number;
        let found = (from..=fin).any(|n| {
            let hash = c.hash_at(n).unwrap();
            hash.and_then(|h| c.block_author(&h).unwrap()) == Some(me)
        });
        async move { found.then_some(()) }
    })
    .await;
    // It votes: with dave stopped, four of the five must vote for finality to go on.
    nodes[3].stop().await;
    wait_finality_goes_on(&nodes).await;
    let running: Vec<&TestNode> = nodes.iter().filter(|n| n.handle.is_some()).collect();
    assert_finality_consistent(&running);
    for node in &mut nodes {
        node.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_authority_key_on_two_nodes_is_slashed_once_and_left_out() {
    let spec = local_spec();
    // Dave's key runs on two nodes: the classic operator mistake.
    let mut nodes = start_network(&spec, &["alice", "bob", "charlie", "dave", "dave"], 0).await;
    wait_nodes(&nodes, 30, "finality at 2", |n| all_finalized(n, 2)).await;
    let genesis = nodes[0].client().genesis_hash();
    let dave = dev_pair("dave").public();
    // Each twin gets its own stream of transfers, so at dave's slots their blocks differ.
    let (eve, ferdie) = (dev_pair("eve"), dev_pair("ferdie"));
    let mut offences = Value::Null;
    for nonce in 0..400u64 {
        for (twin, from) in [(3, &eve), (4, &ferdie)] {
            let xt = transfer(from, &dev_pair("alice").public(), 1_000, nonce, genesis);
            let _ = http(nodes[twin].node())
                .post("/rpc/sendTx", &tx_body(&xt))
                .await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let v = http(nodes[0].node())
            .get_ok("/rpc/getOffences")
            .await
            .unwrap();
        if !v.as_array().unwrap().is_empty() {
            offences = v;
            break;
        }
    }
    assert_eq!(offences.as_array().map(Vec::len), Some(1), "{offences}");
    assert_eq!(offences[0]["offender"], dave.to_string());
    // Out of the next set, and finality goes on without it.
    let v = wait_validators(&nodes[0], "dave out of the set", |v| {
        !elected(v).contains(&dave.to_string())
    })
    .await;
    assert_eq!(elected(&v).len(), 3);
    wait_finality_goes_on(&nodes[..3]).await;
    // Slashed exactly once, alike on every honest node: one offence, one bond, one state root
    // at a common finalized height.
    let height = nodes[..3]
        .iter()
        .map(|n| n.finalized().number)
        .min()
        .unwrap();
    let root = |n: &TestNode| {
        let c = n.client();
        c.header(&c.hash_at(height).unwrap().unwrap())
            .unwrap()
            .unwrap()
            .state_root
    };
    let slashed = spec.genesis.params.min_validator_bond
        - spec.genesis.params.min_validator_bond * u128::from(spec.genesis.params.slash_ppm)
            / 1_000_000;
    for node in &nodes[..3] {
        assert_eq!(root(node), root(&nodes[0]), "{} differs", node.name);
        let mut rpc = http(node.node());
        let o = rpc.get_ok("/rpc/getOffences").await.unwrap();
        assert_eq!(o.as_array().unwrap().len(), 1, "{}: {o}", node.name);
        let s = rpc
            .get_ok(&format!("/rpc/getStaking/{dave}"))
            .await
            .unwrap();
        assert_eq!(s["bonded"], slashed.to_string(), "{}", node.name);
        assert_eq!(s["validating"], false);
    }
    for node in &mut nodes {
        node.stop().await;
    }
}
