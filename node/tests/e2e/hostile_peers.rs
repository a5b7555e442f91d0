//! Hostile peers against a real network on 127.0.0.1 (150 ms slots): a gossip flood of
//! transactions, badly signed transactions, blocks with a bad state root or by the wrong author,
//! oversized gossip, and a sync request for a million blocks. Each abuser is dropped, charged and (where it is misbehaviour)
//! banned while the honest nodes keep finalizing; each test prints the process's peak RSS.

use crate::common::net::*;
use crate::common::*;
use aitbc_network::{SyncRequest, SyncResponse, Topic};
use aitbc_primitives::crypto::dev_pair;
use aitbc_primitives::{SignedBlock, SigningContext};
use codec::{Decode, Encode};
use std::time::{Duration, Instant};

async fn stop_all(nodes: &mut [TestNode]) {
    for n in nodes {
        n.stop().await;
    }
}

/// Waits until `honest` has banned the rogue and dropped its connection.
async fn wait_banned(honest: &aitbc_network::NetworkHandle, rogue: &Rogue, secs: u64) {
    let id = rogue.net.local_peer_id();
    wait_until(secs, "the rogue to be banned", || {
        let done = honest.is_banned(&id) && honest.peers().iter().all(|p| p.peer_id != id);
        async move { done.then_some(()) }
    })
    .await;
}

/// A peer publishing a flood of distinct, well-formed transaction batches (re-sends of a spent
/// nonce, each new to gossipsub's duplicate filter, each merely `Ignore`d by validation) goes over
/// the per-peer gossip rate: the excess is dropped before validation, the peer is charged
/// `Flood` and banned; the honest nodes keep finalizing and carrying transactions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gossip_flood_of_duplicate_transactions_is_dropped_and_banned() {
    let spec = local_spec();
    let mut nodes = start_network_with(&spec, &["alice", "bob", "charlie"], 0, |c| {
        if let Some(net) = c.network.libp2p_mut() {
            net.max_gossip_per_sec = 200;
        }
    })
    .await;
    wait_nodes(&nodes, 30, "finality at 2", |n| all_finalized(n, 2)).await;
    let genesis = nodes[0].client().genesis_hash();
    let honest = nodes[0].node().network.clone().unwrap();
    let (eve, ferdie) = (dev_pair("eve"), dev_pair("ferdie").public());
    let mut rpc = http(nodes[0].node());
    let spent = rpc
        .post_ok(
            "/rpc/sendTx",
            &tx_body(&transfer(&eve, &ferdie, 1, 0, genesis)),
        )
        .await
        .unwrap();
    wait_tx(&mut rpc, spent["txHash"].as_str().unwrap(), "finalized").await;

    let r = rogue(genesis, &nodes[0]).await;
    // Distinct batches of re-sent nonce-0 transfers (all stale now): new message ids, valid
    // signatures, nothing to reject. Published in rounds of 2,000 (the first may go out before
    // the rogue has learnt who subscribes) until the ban.
    let started = Instant::now();
    let deadline = started + Duration::from_secs(40);
    let id = r.net.local_peer_id();
    let mut sent = 0u128;
    while !honest.is_banned(&id) {
        assert!(
            Instant::now() < deadline,
            "not banned after {sent} messages"
        );
        for _ in 0..2_000 {
            let xt = transfer(&eve, &ferdie, 2 + sent, 0, genesis).encode();
            let batch = aitbc_node::workers::sync::TxBatch::try_from_vec(vec![xt]).unwrap();
            let _ = r.net.publish(Topic::Txs, batch.encode());
            sent += 1;
            if sent.is_multiple_of(100) {
                tokio::task::yield_now().await;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!(
        "gossip flood: banned after {sent} messages published in {:?}",
        started.elapsed()
    );
    wait_banned(&honest, &r, 10).await;
    r.net.shutdown();
    // The honest network goes on: a new transfer is finalized everywhere.
    let (_, _, nonce) = balance(&mut rpc, &eve.public()).await;
    let h = rpc
        .post_ok(
            "/rpc/sendTx",
            &tx_body(&transfer(&eve, &ferdie, 5, nonce, genesis)),
        )
        .await
        .unwrap();
    wait_tx(&mut rpc, h["txHash"].as_str().unwrap(), "finalized").await;
    wait_finality_goes_on(&nodes).await;
    report_rss("a gossip flood", 2048.0);
    stop_all(&mut nodes).await;
}

/// Blocks that pass decoding but not import: a bad state root sealed by the slot's rightful
/// author, and a block sealed by an authority whose slot it is not. Each costs the peer
/// `InvalidBlock` (two ban); the honest nodes never adopt them and keep finalizing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocks_with_a_bad_state_root_or_the_wrong_author_ban_the_peer() {
    let spec = local_spec();
    let mut nodes = start_network(&spec, &["alice", "bob", "charlie"], 0).await;
    wait_nodes(&nodes, 30, "finality at 2", |n| all_finalized(n, 2)).await;
    let genesis = nodes[0].client().genesis_hash();
    let honest = nodes[0].node().network.clone().unwrap();
    let mut bad_hashes = Vec::new();
    for kind in ["bad state root", "wrong author"] {
        let r = rogue(genesis, &nodes[0]).await;
        let id = r.net.local_peer_id();
        let deadline = Instant::now() + Duration::from_secs(40);
        while !honest.is_banned(&id) {
            assert!(Instant::now() < deadline, "{kind}: not banned");
            // Dave's slot (dave is not running), built when it starts so it extends the best
            // block and is executed at import.
            let slot = await_slot_of(3).await;
            let (mut block, _) = nodes[0]
                .client()
                .build_block(slot, Instant::now(), aitbc_client::Import::ByDeadline)
                .unwrap();
            let signer = match kind {
                "bad state root" => {
                    block.header.state_root = aitbc_primitives::Hash::of(b"not the state");
                    dev_pair("dave") // the slot's author: the seal is right, the root is not
                }
                _ => dev_pair("bob"), // an authority, but not this slot's
            };
            let seal = signer.sign(SigningContext::Block, block.header.hash().as_bytes());
            bad_hashes.push((block.header.number, block.header.hash()));
            let signed = SignedBlock {
                block,
                seal,
                justification: None,
            };
            let _ = r.net.publish(Topic::Blocks, signed.encode());
            tokio::time::sleep(Duration::from_millis(NET_SLOT_MS)).await;
        }
        wait_banned(&honest, &r, 10).await;
        r.net.shutdown();
    }
    wait_finality_goes_on(&nodes).await;
    for n in &nodes {
        for (number, hash) in &bad_hashes {
            let on_chain = n.client().hash_at(*number).unwrap();
            assert_ne!(on_chain, Some(*hash), "{}: adopted a bad block", n.name);
        }
    }
    report_rss("invalid blocks", 2048.0);
    stop_all(&mut nodes).await;
}

/// A gossip message over gossipsub's max transmit size (8 MiB + framing) is read at most up to
/// that size, refused and never reaches the node; large junk within the limit costs `Undecodable`
/// (four ban). The network keeps finalizing and memory stays bounded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_and_junk_gossip_is_refused() {
    let spec = local_spec();
    let mut nodes = start_network(&spec, &["alice", "bob", "charlie"], 0).await;
    wait_nodes(&nodes, 30, "finality at 2", |n| all_finalized(n, 2)).await;
    let genesis = nodes[0].client().genesis_hash();
    let honest = nodes[0].node().network.clone().unwrap();
    let r = rogue_with(genesis, &nodes[0], |c| {
        c.max_message_bytes = 32 * 1024 * 1024
    })
    .await;
    let before = rss_mib();
    for i in 0..4u8 {
        let mut huge = vec![i; 12 * 1024 * 1024];
        huge[0] = 0xff;
        r.net.publish(Topic::Blocks, huge).unwrap();
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    wait_finality_goes_on(&nodes).await;
    eprintln!(
        "after four 12 MiB gossip messages: RSS {:?} -> {:?} MiB",
        before,
        rss_mib()
    );
    r.net.shutdown();

    // Junk of 1 MiB (within the limit, not a block): charged until banned.
    let r = rogue(genesis, &nodes[0]).await;
    let id = r.net.local_peer_id();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut i = 0u32;
    while !honest.is_banned(&id) {
        assert!(Instant::now() < deadline, "junk sender not banned");
        let mut junk = vec![0xffu8; 1024 * 1024];
        junk[..4].copy_from_slice(&i.to_le_bytes());
        let _ = r.net.publish(Topic::Blocks, junk);
        i += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    wait_banned(&honest, &r, 10).await;
    r.net.shutdown();
    wait_finality_goes_on(&nodes).await;
    report_rss("oversized and junk gossip", 2048.0);
    stop_all(&mut nodes).await;
}

/// A peer asking for a million blocks gets at most 128 of them within the response budget (here
/// 64 KiB, to make the byte cap bite on a short chain), nothing past the head or for a range that
/// would overflow, and once it makes more than 200 requests in 10 s it is answered "rate
/// limited" and charged. The node keeps authoring and serving RPC.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_request_for_a_million_blocks_gets_the_cap() {
    const EMPTY: u64 = 200;
    const FULL: u64 = 60;
    let spec = spec(true);
    let dir = tempfile::tempdir().unwrap();
    // 200 empty blocks, then 60 of 20 transfers each, authored on past slots.
    author_offline(&spec, dir.path(), SLOT_MS, EMPTY + FULL, |i| {
        if i >= EMPTY {
            20
        } else {
            0
        }
    });
    let mut config = net_config(&spec, dir.path(), Some("alice"), vec![]);
    if let Some(net) = config.network.libp2p_mut() {
        net.max_response_bytes = 64 * 1024;
    }
    let mut node = TestNode {
        name: "alice".into(),
        config,
        dir,
        handle: None,
    };
    node.start().await;
    let genesis = node.client().genesis_hash();
    let server = node.node().network.clone().unwrap();
    let server_id = server.local_peer_id();
    let r = rogue(genesis, &node).await;
    let ask = |from: u64, count: u32| {
        r.net
            .request(server_id, SyncRequest::BlocksByRange { from, count })
    };
    let blocks = |resp: SyncResponse| match resp {
        SyncResponse::Blocks(b) => b,
        other => panic!("not blocks: {other:?}"),
    };
    let numbers = |bs: &[Vec<u8>]| -> Vec<u64> {
        bs.iter()
            .map(|b| {
                SignedBlock::<aitbc_primitives::Extrinsic<aitbc_runtime::Call>>::decode(&mut &b[..])
                    .unwrap()
                    .block
                    .header
                    .number
            })
            .collect()
    };

    // Small blocks: the count cap.
    let got = blocks(ask(1, 1_000_000).await.unwrap());
    assert_eq!(numbers(&got), (1..=128).collect::<Vec<_>>());
    let bytes: usize = got.iter().map(Vec::len).sum();
    eprintln!(
        "1,000,000 asked from 1: {} blocks, {bytes} bytes",
        got.len()
    );
    // Large blocks: the byte budget (every block but the first must fit in it).
    let got = blocks(ask(EMPTY + 1, u32::MAX).await.unwrap());
    let bytes: usize = got.iter().map(Vec::len).sum();
    eprintln!(
        "u32::MAX asked from {}: {} blocks, {bytes} bytes",
        EMPTY + 1,
        got.len()
    );
    assert!(got.len() > 1 && got.len() < FULL as usize, "{}", got.len());
    assert!(bytes <= 64 * 1024, "{bytes} bytes");
    assert_eq!(numbers(&got)[0], EMPTY + 1);
    // Past the head, and a range that would overflow: nothing.
    assert!(blocks(ask(10_000_000, 1_000_000).await.unwrap()).is_empty());
    assert!(blocks(ask(u64::MAX - 5, u32::MAX).await.unwrap()).is_empty());

    // A request flood: "rate limited" past 200 in the window, and the peer is charged.
    let mut limited = 0;
    for _ in 0..220 {
        if let Err(aitbc_network::RequestError::Remote(reason)) =
            r.net.request(server_id, SyncRequest::Status).await
        {
            assert_eq!(reason, "rate limited");
            limited += 1;
        }
    }
    assert!(limited >= 10, "{limited} refused");
    let rogue_id = r.net.local_peer_id();
    let score = server
        .peers()
        .iter()
        .find(|p| p.peer_id == rogue_id)
        .map(|p| p.reputation);
    assert!(score.is_some_and(|s| s < 0), "score {score:?}");

    // The node is healthy: it keeps authoring and answering RPC.
    let best = node.best().number;
    let mut rpc = http(node.node());
    wait_height(&mut rpc, best + 3).await;
    report_rss("a million-block sync request and a request flood", 2048.0);
    r.net.shutdown();
    node.stop().await;
}

/// Transaction batches with a forged signature cost the forwarding peer `InvalidTx` each (four
/// ban, before gossipsub's graylist at -80 would stop charging it); the network goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn badly_signed_transactions_ban_the_peer() {
    let spec = local_spec();
    let mut nodes = start_network(&spec, &["alice", "bob", "charlie"], 0).await;
    wait_nodes(&nodes, 30, "finality at 2", |n| all_finalized(n, 2)).await;
    let genesis = nodes[0].client().genesis_hash();
    let honest = nodes[0].node().network.clone().unwrap();
    let r = rogue(genesis, &nodes[0]).await;
    let id = r.net.local_peer_id();
    let (eve, ferdie) = (dev_pair("eve"), dev_pair("ferdie").public());
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut i = 0u128;
    while !honest.is_banned(&id) {
        assert!(
            Instant::now() < deadline,
            "not banned after {i} forged batches"
        );
        let mut xt = transfer(&eve, &ferdie, 1 + i, 0, genesis);
        xt.signature = dev_pair("ferdie").sign(SigningContext::Transaction, b"forged");
        let batch = aitbc_node::workers::sync::TxBatch::try_from_vec(vec![xt.encode()]).unwrap();
        let _ = r.net.publish(Topic::Txs, batch.encode());
        i += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    wait_banned(&honest, &r, 10).await;
    r.net.shutdown();
    wait_finality_goes_on(&nodes).await;
    report_rss("badly signed transactions", 2048.0);
    stop_all(&mut nodes).await;
}

/// A peer claiming a best block it does not have (#1,000,000) and answering every range request
/// with nothing does not hold sync: a full node that boots from it and then meets alice asks the
/// peers ahead in turn (not always the highest claim), so it catches up from alice; the liar's
/// claim is lowered to what it served (and it is charged `FalseStatus` each time it fails).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_lying_about_its_best_block_does_not_stall_sync() {
    let spec = local_spec();
    let mut nodes = start_network(&spec, &["alice", "bob", "charlie"], 0).await;
    wait_nodes(&nodes, 30, "finality at 5", |n| all_finalized(n, 5)).await;
    let genesis = nodes[0].client().genesis_hash();
    let liar = rogue_claiming(genesis, &nodes[0], 1_000_000, |_| {}).await;
    let liar_id = liar.net.local_peer_id();

    let dir = tempfile::tempdir().unwrap();
    let config = net_config(&spec, dir.path(), None, vec![liar.p2p_addr()]);
    let mut full = TestNode {
        name: "full".into(),
        dir,
        config,
        handle: None,
    };
    full.start().await;
    // The liar first (its claim known), then alice.
    let net = full.node().network.clone().unwrap();
    wait_until(20, "the full node to hear the liar's claim", || {
        // Listed once its status (the claim) arrived.
        let heard = net.peers().iter().any(|p| p.peer_id == liar_id);
        async move { heard.then_some(()) }
    })
    .await;
    net.add_peer(nodes[0].p2p_addr()).await.unwrap();
    let target = nodes[0].best().number;
    wait_until(30, "the full node to catch up past the liar", || {
        let done = full.best().number >= target;
        async move { done.then_some(()) }
    })
    .await;
    wait_until(20, "the liar's claim to be lowered", || {
        let lowered = net
            .peers()
            .iter()
            .any(|p| p.peer_id == liar_id && p.best_height < 1_000_000);
        async move { lowered.then_some(()) }
    })
    .await;
    full.stop().await;
    stop_all(&mut nodes).await;
}

/// An authority whose clock runs fast: its blocks arrive from slots ahead of ours (3 to 6 slots,
/// past the 2 a header may be ahead). Each is held until its slot is acceptable and imported
/// then; none is charged, so the sender stays connected and is never banned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocks_from_a_fast_clock_are_held_until_their_slot_not_charged() {
    let spec = local_spec();
    // Two of four authorities: blocks but no finality, so a held fork block stays above the
    // finalized one until it is imported.
    let mut nodes = start_network(&spec, &["alice", "bob"], 0).await;
    wait_nodes(&nodes, 30, "blocks", |n| {
        n.iter().all(|x| x.best().number >= 2)
    })
    .await;
    let genesis = nodes[0].client().genesis_hash();
    let honest = nodes[0].node().network.clone().unwrap();
    let r = rogue(genesis, &nodes[0]).await;
    let id = r.net.local_peer_id();
    let mut sent = Vec::new();
    let mut last = 0;
    for _ in 0..6 {
        // Dave's first slot at least 3 ahead of the clock (dave is not running), and after the
        // last one: two blocks for one slot would be an equivocation, and dave slashed for it.
        let now = aitbc_consensus::Clock::now_ms(&aitbc_consensus::SystemClock) / NET_SLOT_MS;
        let slot = (now + 3..).find(|s| s % 4 == 3 && *s > last).unwrap();
        last = slot;
        let (block, _) = nodes[0]
            .client()
            .build_block(slot, Instant::now(), aitbc_client::Import::ByDeadline)
            .unwrap();
        let hash = block.header.hash();
        let seal = dev_pair("dave").sign(SigningContext::Block, hash.as_bytes());
        let signed = SignedBlock {
            block,
            seal,
            justification: None,
        };
        let _ = r.net.publish(Topic::Blocks, signed.encode());
        sent.push(hash);
        tokio::time::sleep(Duration::from_millis(3 * NET_SLOT_MS)).await;
    }
    // Held, then imported once their slots came (gossip may lose the first while the mesh forms).
    let client = nodes[0].client();
    wait_until(10, "the held blocks to be imported", || {
        let imported = sent
            .iter()
            .filter(|h| client.header(h).unwrap().is_some())
            .count();
        async move { (imported >= 3).then_some(()) }
    })
    .await;
    assert!(!honest.is_banned(&id), "a fast clock is not misbehaviour");
    assert!(
        honest.peers().iter().any(|p| p.peer_id == id),
        "still connected"
    );
    r.net.shutdown();
    stop_all(&mut nodes).await;
}
