//! A real network on 127.0.0.1: the four `local` authorities and a full node, libp2p gossip and
//! sync, authority round with finality. Each test waits on conditions with deadlines.

use crate::common::net::*;
use crate::common::*;
use aitbc_primitives::crypto::dev_pair;

const AUTHORITIES: [&str; 4] = ["alice", "bob", "charlie", "dave"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_authorities_and_a_full_node_agree_and_carry_transfers() {
    let spec = local_spec();
    let nodes = start_network(&spec, &AUTHORITIES, 1).await;
    wait_nodes(&nodes, 30, "finality at 3 everywhere", |n| {
        all_finalized(n, 3)
    })
    .await;

    // A transfer sent to the full node lands on every node.
    let full = &nodes[4];
    let mut rpc = http(full.node());
    let to = dev_pair("ferdie").public();
    let before = balance(&mut rpc, &to).await.0;
    let xt = transfer(
        &dev_pair("eve"),
        &to,
        12_345,
        0,
        full.client().genesis_hash(),
    );
    let sent = rpc.post_ok("/rpc/sendTx", &tx_body(&xt)).await.unwrap();
    let hash = sent["txHash"].as_str().unwrap().to_string();
    let landed = wait_tx(&mut rpc, &hash, "finalized").await;
    let height = landed["block_height"].as_u64().unwrap();
    wait_nodes(&nodes, 30, "the transfer finalized everywhere", |n| {
        all_finalized(n, height)
    })
    .await;
    for node in &nodes {
        let mut rpc = http(node.node());
        assert_eq!(
            balance(&mut rpc, &to).await.0,
            before + 12_345,
            "{}",
            node.name
        );
    }
    let running: Vec<&TestNode> = nodes.iter().collect();
    assert_finality_consistent(&running);
    for mut n in nodes {
        n.stop().await;
    }
}

/// A fresh full node joins a chain of 2,000+ blocks (authored fast into the authority's database
/// before it starts) and catches up over the network, then follows the head.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fresh_node_catches_up_a_long_chain() {
    use std::time::Instant;
    const BLOCKS: u64 = 2_100;
    let spec = spec(true);
    let dir = tempfile::tempdir().unwrap();
    // The chain, authored directly on the authority's database: a transfer every 10th block.
    author_offline(&spec, dir.path(), SLOT_MS, BLOCKS, |i| {
        u64::from(i % 10 == 0)
    });
    let mut authority = TestNode {
        name: "alice".into(),
        config: net_config(&spec, dir.path(), Some("alice"), vec![]),
        dir,
        handle: None,
    };
    authority.start().await;
    let fdir = tempfile::tempdir().unwrap();
    let mut full = TestNode {
        name: "full".into(),
        config: net_config(&spec, fdir.path(), None, vec![authority.p2p_addr()]),
        dir: fdir,
        handle: None,
    };
    let started = Instant::now();
    full.start().await;
    let nodes = [authority, full];
    wait_nodes(&nodes, 90, "the full node catches up", |n| {
        n[1].best().number >= BLOCKS
    })
    .await;
    eprintln!("synced {BLOCKS} blocks in {:?}", started.elapsed());
    // Then it follows the head: the same block at a height both have.
    let h = nodes[0].best().number + 2;
    wait_nodes(&nodes, 30, "the full node follows", |n| {
        n.iter().all(|x| x.best().number >= h)
            && n[0].client().hash_at(h).unwrap() == n[1].client().hash_at(h).unwrap()
    })
    .await;
    let [mut a, mut b] = nodes;
    b.stop().await;
    a.stop().await;
}

/// Peers that send undecodable blocks, blocks with a bad seal, or forged votes are disconnected
/// and banned; the honest network keeps finalizing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn misbehaving_peers_are_banned() {
    use aitbc_network::Topic;
    use aitbc_node::workers::voting::VoteMessage;
    use aitbc_primitives::{SignedVote, SigningContext, VoteKind, VoteTarget};
    use codec::Encode;
    let spec = local_spec();
    let mut nodes = start_network(&spec, &["alice", "bob", "charlie"], 0).await;
    wait_nodes(&nodes, 30, "finality at 2", |n| all_finalized(n, 2)).await;
    let genesis = nodes[0].client().genesis_hash();
    let honest = nodes[0].node().network.clone().unwrap();

    for kind in ["undecodable", "bad seal", "forged vote"] {
        let r = rogue(genesis, &nodes[0]).await;
        let id = r.net.local_peer_id();
        let mut i = 0u64;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !honest.is_banned(&id) {
            assert!(std::time::Instant::now() < deadline, "{kind}: not banned");
            i += 1;
            let (topic, data) = match kind {
                "undecodable" => (Topic::Blocks, format!("garbage {i}").into_bytes()),
                "bad seal" => {
                    let slot = next_slot_of(3).await;
                    let (block, _) = nodes[0]
                        .client()
                        .build_block(
                            slot,
                            std::time::Instant::now(),
                            aitbc_client::Import::ByDeadline,
                        )
                        .unwrap();
                    // Sealed by eve, who is no authority.
                    let seal =
                        dev_pair("eve").sign(SigningContext::Block, block.header.hash().as_bytes());
                    let signed = aitbc_primitives::SignedBlock {
                        block,
                        seal,
                        justification: None,
                    };
                    (Topic::Blocks, signed.encode())
                }
                _ => {
                    // Votes of rounds before the previous one are dropped unchecked (cheaply),
                    // and the network's round moves faster than a test can follow; a round far
                    // ahead is always checked.
                    let best = nodes[0].best();
                    // The current set (each epoch is a new one): an old set's vote is stale.
                    let set_id = nodes[0].client().voter_set().id;
                    let mut vote = SignedVote::sign(
                        &dev_pair("alice"),
                        VoteKind::Prevote,
                        VoteTarget {
                            hash: best.hash,
                            number: best.number,
                        },
                        1_000_000 + i,
                        set_id,
                        &genesis,
                    );
                    vote.signature = dev_pair("eve").sign(SigningContext::Vote, b"forged");
                    (
                        Topic::Votes,
                        VoteMessage {
                            vote,
                            resend: i as u32,
                        }
                        .encode(),
                    )
                }
            };
            let _ = r.net.publish(topic, data);
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        wait_until(10, "the banned peer is disconnected", || {
            let gone = honest.peers().iter().all(|p| p.peer_id != id);
            async move { gone.then_some(()) }
        })
        .await;
        r.net.shutdown();
    }
    wait_finality_goes_on(&nodes).await;
    for n in &mut nodes {
        n.stop().await;
    }
}

/// An authority that seals two blocks for one slot is caught: the proof (both headers) is kept,
/// exposed by the equivocations route and counted in the metrics, also when finality outran the
/// second block; the second block (invalid here) is never followed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn equivocation_is_detected_and_exposed() {
    use aitbc_network::Topic;
    use aitbc_primitives::{DigestItem, SignedBlock, SigningContext};
    use codec::Encode;
    let spec = local_spec();
    let mut nodes = start_network(&spec, &["alice", "bob", "charlie"], 0).await;
    wait_nodes(&nodes, 30, "finality at 2", |n| all_finalized(n, 2)).await;
    let genesis = nodes[0].client().genesis_hash();
    // Dave (authority index 3) is the rogue.
    let r = rogue(genesis, &nodes[1]).await;
    let dave = dev_pair("dave");
    let seal = |b: &aitbc_primitives::Block<_>| {
        dave.sign(SigningContext::Block, b.header.hash().as_bytes())
    };
    // Dave's block is built on bob's best when its slot begins, then gossiped until the others
    // import it. A try can miss (the block lost while the rogue's mesh forms, or beaten to
    // finality by a fork): then the next of dave's slots is tried.
    let mut first = None;
    for _ in 0..5 {
        let slot = await_slot_of(3).await;
        let (block, _) = nodes[1]
            .client()
            .build_block(
                slot,
                std::time::Instant::now(),
                aitbc_client::Import::ByDeadline,
            )
            .unwrap();
        let signed = SignedBlock {
            seal: seal(&block),
            block,
            justification: None,
        };
        let hash = signed.hash();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
        while std::time::Instant::now() < deadline {
            if nodes[0].client().header(&hash).unwrap().is_some() {
                first = Some(signed);
                break;
            }
            let _ = r.net.publish(Topic::Blocks, signed.encode());
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        if first.is_some() {
            break;
        }
    }
    let first = first.expect("one of dave's blocks is imported");
    let slot = first.block.header.slot;
    let first_hash = first.hash();
    let mut twin_block = first.block.clone();
    twin_block
        .header
        .digest
        .try_push(DigestItem::Other(Default::default()))
        .unwrap();
    let twin = SignedBlock {
        seal: seal(&twin_block),
        block: twin_block,
        justification: None,
    };
    let _ = r.net.publish(Topic::Blocks, twin.encode());
    // Bob, the rogue's peer, sees both blocks: the twin imported, or (when finality outran it)
    // refused as below the finalized block; either way the pair is recorded.
    let mut rpc = http(nodes[1].node());
    let proof = wait_until(10, "the equivocation is exposed", || {
        let url = rpc.base_url();
        async move {
            let mut c = aitbc_rpc::http_client::HttpClient::new(&url).unwrap();
            let v = c.get_ok("/rpc/getEquivocations").await.ok()?;
            (!v.as_array()?.is_empty()).then_some(v)
        }
    })
    .await;
    assert_eq!(proof[0]["author"], dave.public().to_string());
    assert_eq!(proof[0]["slot"], slot);
    assert_eq!(proof[0]["first"]["hash"], first_hash.to_string());
    assert_eq!(proof[0]["second"]["hash"], twin.hash().to_string());
    let (_, metrics) = rpc.get("/metrics").await.unwrap();
    let metrics = metrics.as_str().unwrap();
    assert!(metrics.contains("aitbc_equivocations_total 1"), "{metrics}");
    // The twin is never the best block anywhere.
    for n in &nodes {
        assert_ne!(n.best().hash, twin.hash());
    }
    r.net.shutdown();
    for n in &mut nodes {
        n.stop().await;
    }
}

/// Signs `call` wrapped in `sudo` by //alice (the local chain's sudo key), sends it to `node` and
/// waits until it is finalized there; returns the `getTx` answer.
async fn root_call(node: &TestNode, call: aitbc_runtime::Call) -> serde_json::Value {
    use aitbc_primitives::extrinsic::TxParams;
    use aitbc_primitives::Extrinsic;
    let mut rpc = http(node.node());
    let nonce = balance(&mut rpc, &dev_pair("alice").public()).await.2;
    let xt = Extrinsic::sign(
        &dev_pair("alice"),
        aitbc_runtime::Call::sudo(call),
        TxParams {
            nonce,
            ..TxParams::default()
        },
        node.client().genesis_hash(),
    );
    let sent = rpc.post_ok("/rpc/sendTx", &tx_body(&xt)).await.unwrap();
    let tx = wait_tx(&mut rpc, sent["txHash"].as_str().unwrap(), "finalized").await;
    assert_eq!(tx["success"], true, "{tx}");
    tx
}

/// Charlie and dave are gone for good: finality stalls (2 of 4). Root forces the set to alice
/// and bob; once the change block is buried on the best chain, the new set finalizes alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forced_authority_set_change_revives_finality() {
    use aitbc_primitives::BoundedVec;
    use aitbc_runtime::Call;
    let spec = local_spec();
    let mut nodes = start_network(&spec, &AUTHORITIES, 0).await;
    wait_nodes(&nodes, 30, "finality at 2", |n| all_finalized(n, 2)).await;
    nodes[2].stop().await;
    nodes[3].stop().await;
    let new_set =
        BoundedVec::try_from_vec(vec![dev_pair("alice").public(), dev_pair("bob").public()])
            .unwrap();
    let tx = root_call(&nodes[0], Call::force_set_authorities(new_set)).await;
    let change_at = tx["block_height"].as_u64().unwrap();
    wait_nodes(
        &nodes,
        30,
        "alice and bob finalize with the forced set",
        |n| n.iter().all(|x| x.client().voter_set().id == 1) && all_finalized(n, change_at + 3),
    )
    .await;
    for n in &mut nodes {
        n.stop().await;
    }
}
