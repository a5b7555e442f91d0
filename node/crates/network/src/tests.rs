//! The network service over real sockets on 127.0.0.1: every wait has a deadline.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use aitbc_primitives::{BoundedVec, Hash};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::timeout;

use super::*;

const DEADLINE: Duration = Duration::from_secs(20);

fn genesis(b: u8) -> Hash {
    Hash([b; 32])
}

/// A chain of `len` blocks; block n is `size(n)` bytes of `n as u8`.
struct TestProvider {
    genesis: Hash,
    len: u64,
    big_from: u64,
}

impl TestProvider {
    fn block(&self, n: u64) -> Vec<u8> {
        let size = if n >= self.big_from { 20_000 } else { 100 };
        vec![n as u8; size]
    }
}

impl SyncProvider for TestProvider {
    fn status(&self) -> Status {
        Status {
            genesis: self.genesis,
            best: (self.len - 1, Hash([0xbb; 32])),
            finalized: (self.len / 2, Hash([0xff; 32])),
        }
    }
    fn blocks_by_range(&self, from: u64, count: u32, _max_bytes: usize) -> Vec<Vec<u8>> {
        // Ignores the budget on purpose: the service must trim.
        (from..self.len.min(from + u64::from(count)))
            .map(|n| self.block(n))
            .collect()
    }
    fn blocks_by_hash(&self, hashes: &[Hash], _max_bytes: usize) -> Vec<Vec<u8>> {
        hashes
            .iter()
            .map(|h| u64::from(h.0[0]))
            .filter(|n| *n < self.len)
            .map(|n| self.block(n))
            .collect()
    }
    fn votes(&self, round: u64, _max_bytes: usize) -> Vec<Vec<u8>> {
        vec![round.to_le_bytes().to_vec()]
    }
}

struct Node {
    handle: NetworkHandle,
    events: mpsc::Receiver<NetworkEvent>,
    task: JoinHandle<()>,
}

impl Node {
    fn id(&self) -> PeerId {
        self.handle.local_peer_id()
    }

    /// The first listen address with `/p2p/<id>`.
    fn addr(&self) -> Multiaddr {
        let addr = self.handle.listen_addrs()[0].clone();
        addr.with(libp2p::multiaddr::Protocol::P2p(self.id()))
    }

    /// Waits for the first event `pick` selects, accepting every gossip message it passes over
    /// (so this node forwards gossip like a node that validated it).
    async fn next<T>(&mut self, mut pick: impl FnMut(&NetworkEvent) -> Option<T>) -> T {
        let wait = async {
            loop {
                let event = self.events.recv().await.expect("service running");
                if let Some(found) = pick(&event) {
                    return found;
                }
                if let NetworkEvent::Gossip {
                    peer, message_id, ..
                } = event
                {
                    self.handle.validation(message_id, peer, Validation::Accept);
                }
            }
        };
        timeout(DEADLINE, wait)
            .await
            .expect("event before the deadline")
    }

    async fn connected_to(&mut self, peer: PeerId) -> Status {
        self.next(|e| match e {
            NetworkEvent::PeerConnected { peer: p, status } if *p == peer => Some(*status),
            _ => None,
        })
        .await
    }

    async fn stop(self) {
        self.handle.shutdown();
        timeout(DEADLINE, self.task)
            .await
            .expect("stops in time")
            .expect("no panic");
    }
}

fn temp_dirs<const N: usize>() -> [tempfile::TempDir; N] {
    std::array::from_fn(|_| tempfile::tempdir().expect("temp dir"))
}

fn config(dir: &Path, genesis_hash: Hash, bootnodes: Vec<Multiaddr>) -> NetworkConfig {
    let mut config = NetworkConfig::new(dir, genesis_hash);
    config.listen = vec!["/ip4/127.0.0.1/tcp/0".parse().expect("valid")];
    config.bootnodes = bootnodes;
    config.ban_duration = Duration::from_secs(120);
    config.max_response_bytes = 64 * 1024;
    config.request_timeout = Duration::from_secs(5);
    config
}

async fn spawn_with(config: NetworkConfig) -> Node {
    let provider = Arc::new(TestProvider {
        genesis: config.genesis_hash,
        len: 1000,
        big_from: 500,
    });
    let (handle, events, task) = start(config, provider).await.expect("service starts");
    Node {
        handle,
        events,
        task,
    }
}

async fn spawn(dir: &Path, genesis_hash: Hash, bootnodes: Vec<Multiaddr>) -> Node {
    spawn_with(config(dir, genesis_hash, bootnodes)).await
}

/// Polls `cond` until it holds or the deadline passes.
async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let poll = async {
        while !cond() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    timeout(DEADLINE, poll)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting until {what}"));
}

async fn within<T>(f: impl Future<Output = T>) -> T {
    timeout(DEADLINE, f).await.expect("before the deadline")
}

fn reputation_of(node: &Node, peer: PeerId) -> Option<i32> {
    node.handle
        .peers()
        .iter()
        .find(|p| p.peer_id == peer)
        .map(|p| p.reputation)
}

/// Publishes `data` from `from` until `to` sees it (the first attempts may find no subscribed
/// peer yet), accepting it at `to`.
async fn publish_until_received(from: &Node, to: &mut Node, topic: Topic, data: &[u8]) -> PeerId {
    let attempt = async {
        loop {
            from.handle
                .publish(topic, data.to_vec())
                .expect("publish accepted");
            let seen = timeout(
                Duration::from_millis(300),
                to.next(|e| match e {
                    NetworkEvent::Gossip {
                        topic: t,
                        data: d,
                        peer,
                        message_id,
                    } if *t == topic && d == data => Some((*peer, message_id.clone())),
                    _ => None,
                }),
            )
            .await;
            if let Ok((peer, id)) = seen {
                to.handle.validation(id, peer, Validation::Accept);
                return peer;
            }
        }
    };
    within(attempt).await
}

async fn receive(node: &mut Node, topic: Topic, data: &[u8]) -> PeerId {
    let (peer, id) = node
        .next(|e| match e {
            NetworkEvent::Gossip {
                topic: t,
                data: d,
                peer,
                message_id,
            } if *t == topic && d == data => Some((*peer, message_id.clone())),
            _ => None,
        })
        .await;
    node.handle.validation(id, peer, Validation::Accept);
    peer
}

#[tokio::test]
async fn two_nodes_connect_through_a_bootnode_and_exchange_status() {
    let [da, db] = temp_dirs();
    let mut a = spawn(da.path(), genesis(1), vec![]).await;
    let mut b = spawn(db.path(), genesis(1), vec![a.addr()]).await;
    let status = b.connected_to(a.id()).await;
    assert_eq!(status.genesis, genesis(1));
    assert_eq!(status.best.0, 999);
    a.connected_to(b.id()).await;
    let peers = a.handle.peers();
    assert_eq!(peers.len(), 1);
    assert_eq!(peers[0].peer_id, b.id());
    assert_eq!(peers[0].best_height, 999);
    assert_eq!(peers[0].finalized_height, 500);
    assert!(peers[0].inbound);
    assert_eq!(a.handle.peer_count(), 1);
    assert_eq!(b.handle.peers()[0].addr, a.handle.listen_addrs()[0]);

    // A block announcement the node imported raises the peer's best height.
    b.handle.note_best(a.id(), 1200, Hash([7; 32]));
    wait_until("best height noted", || {
        b.handle.peers()[0].best_height == 1200
    })
    .await;

    let b_id = b.id();
    b.stop().await;
    a.next(|e| matches!(e, NetworkEvent::PeerDisconnected(p) if *p == b_id).then_some(()))
        .await;
    assert_eq!(a.handle.peer_count(), 0);
    a.stop().await;
}

#[tokio::test]
async fn gossip_on_every_topic_reaches_the_other_peers() {
    let dirs: [_; 3] = temp_dirs();
    let mut a = spawn(dirs[0].path(), genesis(1), vec![]).await;
    let mut b = spawn(dirs[1].path(), genesis(1), vec![a.addr()]).await;
    let mut c = spawn(dirs[2].path(), genesis(1), vec![a.addr()]).await;
    b.connected_to(a.id()).await;
    c.connected_to(a.id()).await;
    wait_until("a has both peers", || a.handle.peer_count() == 2).await;

    for (i, topic) in Topic::ALL.into_iter().enumerate() {
        // b -> a directly, then c through a, which forwards it once it accepted it.
        let data = format!("from b on {} #{i}", topic.name()).into_bytes();
        assert_eq!(
            publish_until_received(&b, &mut a, topic, &data).await,
            b.id()
        );
        assert_eq!(receive(&mut c, topic, &data).await, a.id());
        // a -> b and c.
        let data = format!("from a on {} #{i}", topic.name()).into_bytes();
        publish_until_received(&a, &mut b, topic, &data).await;
        receive(&mut c, topic, &data).await;
    }
    for node in [a, b, c] {
        node.stop().await;
    }
}

#[tokio::test]
async fn a_rejected_message_lowers_the_senders_score() {
    let [da, db] = temp_dirs();
    let mut a = spawn(da.path(), genesis(1), vec![]).await;
    let mut b = spawn(db.path(), genesis(1), vec![a.addr()]).await;
    b.connected_to(a.id()).await;
    a.connected_to(b.id()).await;
    assert_eq!(reputation_of(&a, b.id()), Some(0));

    let data = b"an invalid block".to_vec();
    let attempt = async {
        loop {
            b.handle
                .publish(Topic::Blocks, data.clone())
                .expect("accepted");
            let seen = timeout(
                Duration::from_millis(300),
                a.next(|e| match e {
                    NetworkEvent::Gossip {
                        peer, message_id, ..
                    } => Some((*peer, message_id.clone())),
                    _ => None,
                }),
            )
            .await;
            if let Ok(seen) = seen {
                return seen;
            }
        }
    };
    let (peer, id) = within(attempt).await;
    assert_eq!(peer, b.id());
    a.handle
        .validation(id, peer, Validation::Reject(Misbehaviour::InvalidBlock));
    wait_until("the score drops", || {
        reputation_of(&a, b.id()).is_some_and(|s| s < 0)
    })
    .await;
    assert!(!a.handle.is_banned(&b.id()), "one strike is not a ban");
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn a_peer_reported_enough_is_disconnected_and_refused_while_banned() {
    let [da, db] = temp_dirs();
    let mut a = spawn(da.path(), genesis(1), vec![]).await;
    let mut b = spawn(db.path(), genesis(1), vec![a.addr()]).await;
    b.connected_to(a.id()).await;
    a.connected_to(b.id()).await;

    a.handle.report(b.id(), Misbehaviour::InvalidBlock);
    a.handle.report(b.id(), Misbehaviour::InvalidBlock);
    let gone = b.id();
    a.next(|e| matches!(e, NetworkEvent::PeerDisconnected(p) if *p == gone).then_some(()))
        .await;
    assert!(a.handle.is_banned(&b.id()));
    assert_eq!(a.handle.stats().banned, 1);

    // Our own dial to it is refused ...
    let err = a.handle.add_peer(b.addr()).await.expect_err("banned");
    assert!(
        matches!(err, NetworkError::Banned(p) if p == b.id()),
        "{err}"
    );
    // ... and so are its redials (b keeps redialing its boot node with backoff).
    let denied = a.handle.stats().denied_connections;
    wait_until("b's redial is refused", || {
        a.handle.stats().denied_connections > denied
    })
    .await;
    assert_eq!(a.handle.peer_count(), 0);
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn a_peer_of_another_chain_is_refused() {
    let [da, db] = temp_dirs();
    let mut a = spawn(da.path(), genesis(1), vec![]).await;
    let mut b = spawn(db.path(), genesis(2), vec![a.addr()]).await;
    let (ida, idb) = (a.id(), b.id());
    // Whichever side notices first (its identify, or the sync protocol it lacks) refuses the
    // other and closes the connection; the dialer then stops redialing.
    wait_until("one refuses the other", || {
        a.handle.is_banned(&idb) || b.handle.is_banned(&ida)
    })
    .await;
    wait_until("disconnected", || {
        a.handle.stats().connections == 0 && b.handle.stats().connections == 0
    })
    .await;
    assert!(a.handle.peers().is_empty());
    assert!(b.handle.peers().is_empty());
    for node in [&mut a, &mut b] {
        while let Ok(event) = node.events.try_recv() {
            assert!(
                !matches!(event, NetworkEvent::PeerConnected { .. }),
                "{event:?}"
            );
        }
    }
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn sync_requests_are_answered_from_the_provider_within_the_caps() {
    let [da, db] = temp_dirs();
    let a = spawn(da.path(), genesis(1), vec![]).await;
    let mut b = spawn(db.path(), genesis(1), vec![a.addr()]).await;
    b.connected_to(a.id()).await;
    let request = |r| b.handle.request(a.id(), r);

    let SyncResponse::Status(status) = within(request(SyncRequest::Status)).await.expect("ok")
    else {
        panic!("a status")
    };
    assert_eq!(status.best.0, 999);

    let blocks = within(request(SyncRequest::BlocksByRange { from: 5, count: 3 }))
        .await
        .expect("ok");
    assert_eq!(
        blocks,
        SyncResponse::Blocks(vec![vec![5; 100], vec![6; 100], vec![7; 100]])
    );

    // The count cap: 1000 asked, 128 sent.
    let SyncResponse::Blocks(blocks) = within(request(SyncRequest::BlocksByRange {
        from: 0,
        count: 1000,
    }))
    .await
    .expect("ok") else {
        panic!("blocks")
    };
    assert_eq!(blocks.len(), MAX_BLOCKS_PER_REQUEST as usize);
    assert_eq!(blocks[127], vec![127; 100]);

    // The byte budget (64 KiB here): three 20 kB blocks fit, the fourth does not.
    let SyncResponse::Blocks(blocks) = within(request(SyncRequest::BlocksByRange {
        from: 500,
        count: 100,
    }))
    .await
    .expect("ok") else {
        panic!("blocks")
    };
    assert_eq!(blocks.len(), 3);

    let hashes = BoundedVec::try_from_vec(vec![Hash([9; 32]), Hash([3; 32])]).expect("fits");
    let blocks = within(request(SyncRequest::BlocksByHash(hashes)))
        .await
        .expect("ok");
    assert_eq!(
        blocks,
        SyncResponse::Blocks(vec![vec![9; 100], vec![3; 100]])
    );

    let votes = within(request(SyncRequest::Votes { round: 4 }))
        .await
        .expect("ok");
    assert_eq!(
        votes,
        SyncResponse::Votes(vec![4u64.to_le_bytes().to_vec()])
    );

    // Not connected: an error at once.
    let stranger = PeerId::random();
    assert_eq!(
        within(b.handle.request(stranger, SyncRequest::Status)).await,
        Err(RequestError::NotConnected)
    );
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn an_undecodable_request_gets_an_error_and_costs_the_sender() {
    let [da, db] = temp_dirs();
    let mut a = spawn(da.path(), genesis(1), vec![]).await;
    let mut b = spawn(db.path(), genesis(1), vec![a.addr()]).await;
    b.connected_to(a.id()).await;
    a.connected_to(b.id()).await;

    let answer = within(b.handle.request_raw(a.id(), vec![0xff, 1, 2])).await;
    match answer {
        Err(RequestError::Remote(reason)) => assert!(reason.starts_with("undecodable"), "{reason}"),
        other => panic!("expected an error response, got {other:?}"),
    }
    wait_until("the sender is charged", || {
        reputation_of(&a, b.id()).is_some_and(|s| s < 0)
    })
    .await;
    // Trailing bytes after a valid request are refused too; the service keeps serving.
    let answer = within(b.handle.request_raw(a.id(), vec![0, 0])).await;
    assert!(matches!(answer, Err(RequestError::Remote(_))), "{answer:?}");
    let status = within(b.handle.request(a.id(), SyncRequest::Status)).await;
    assert!(matches!(status, Ok(SyncResponse::Status(_))));
    a.stop().await;
    b.stop().await;
}

/// A request cut short (a prefix of a valid encoding, as when a partition ends the stream early)
/// is refused without charging the sender; malformed bytes still cost `Undecodable`.
#[tokio::test]
async fn a_request_cut_short_is_refused_without_charge() {
    let [da, db] = temp_dirs();
    let mut a = spawn(da.path(), genesis(1), vec![]).await;
    let mut b = spawn(db.path(), genesis(1), vec![a.addr()]).await;
    b.connected_to(a.id()).await;
    a.connected_to(b.id()).await;
    let whole = codec::Encode::encode(&SyncRequest::BlocksByHash(
        BoundedVec::try_from_vec(vec![Hash::of(b"x"), Hash::of(b"y")]).expect("2 hashes"),
    ));
    for cut in 1..whole.len() {
        let answer = within(b.handle.request_raw(a.id(), whole[..cut].to_vec())).await;
        assert!(matches!(answer, Err(RequestError::Remote(_))), "{answer:?}");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        reputation_of(&a, b.id()),
        Some(0),
        "cut short is no offence"
    );
    // Malformed bytes: charged once.
    let answer = within(b.handle.request_raw(a.id(), vec![0xff, 1, 2])).await;
    assert!(matches!(answer, Err(RequestError::Remote(_))), "{answer:?}");
    wait_until("the sender is charged", || {
        reputation_of(&a, b.id()) == Some(-Misbehaviour::Undecodable.cost())
    })
    .await;
    a.stop().await;
    b.stop().await;
}

/// Peer exchange: b and c each know only a; they learn each other from a and connect, so the
/// network is a mesh, not a star around its boot node.
#[tokio::test]
async fn peers_beyond_the_boot_node_are_learned_by_exchange() {
    let [da, db, dc] = temp_dirs();
    let a = spawn(da.path(), genesis(1), vec![]).await;
    let mut b = spawn(db.path(), genesis(1), vec![a.addr()]).await;
    b.connected_to(a.id()).await;
    let mut c = spawn(dc.path(), genesis(1), vec![a.addr()]).await;
    c.connected_to(a.id()).await;
    let (bid, cid) = (b.id(), c.id());
    wait_until("b and c to meet", || {
        b.handle.peers().iter().any(|p| p.peer_id == cid)
            && c.handle.peers().iter().any(|p| p.peer_id == bid)
    })
    .await;
    a.stop().await;
    b.stop().await;
    c.stop().await;
}

/// A request over the 16 KiB limit is cut off at the limit (never buffered whole) and costs the
/// sender `TooLarge`; four ban it, while another peer's requests are answered throughout.
#[tokio::test]
async fn oversized_requests_are_cut_off_and_ban_the_sender() {
    let [da, db, dc] = temp_dirs();
    let mut a = spawn(da.path(), genesis(1), vec![]).await;
    let mut b = spawn(db.path(), genesis(1), vec![a.addr()]).await;
    let mut c = spawn(dc.path(), genesis(1), vec![a.addr()]).await;
    b.connected_to(a.id()).await;
    c.connected_to(a.id()).await;
    a.connected_to(b.id()).await;
    let big = vec![0u8; protocol::MAX_REQUEST_BYTES + 4096];
    let answer = within(b.handle.request_raw(a.id(), big.clone())).await;
    assert_eq!(
        answer,
        Err(RequestError::Remote("request too large".into()))
    );
    wait_until("the sender is charged", || {
        reputation_of(&a, b.id()).is_some_and(|s| s < 0)
    })
    .await;
    // The honest peer is served while the abuser keeps going.
    let status = within(c.handle.request(a.id(), SyncRequest::Status)).await;
    assert!(matches!(status, Ok(SyncResponse::Status(_))), "{status:?}");
    for _ in 0..10 {
        if a.handle.is_banned(&b.id()) {
            break;
        }
        let _ = within(b.handle.request_raw(a.id(), big.clone())).await;
    }
    wait_until("the sender is banned", || a.handle.is_banned(&b.id())).await;
    let status = within(c.handle.request(a.id(), SyncRequest::Status)).await;
    assert!(matches!(status, Ok(SyncResponse::Status(_))), "{status:?}");
    for node in [a, b, c] {
        node.stop().await;
    }
}

/// A peer forwarding more new gossip messages a second than `max_gossip_per_sec` has the excess
/// dropped before the node sees it, is charged `Flood` and soon banned; within the rate nothing
/// is charged.
#[tokio::test]
async fn a_gossip_flood_is_dropped_and_bans_the_sender() {
    let [da, db] = temp_dirs();
    let mut cfg = config(da.path(), genesis(1), vec![]);
    cfg.max_gossip_per_sec = 50;
    let mut a = spawn_with(cfg).await;
    let mut b = spawn(db.path(), genesis(1), vec![a.addr()]).await;
    b.connected_to(a.id()).await;
    a.connected_to(b.id()).await;
    // Within the rate: delivered, not charged.
    publish_until_received(&b, &mut a, Topic::Txs, b"first").await;
    assert_eq!(reputation_of(&a, b.id()), Some(0));
    // The node answers every message it is given (Ignore: not forwarded, not charged).
    let seen = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (handle, counter) = (a.handle.clone(), seen.clone());
    let mut events = std::mem::replace(&mut a.events, mpsc::channel(1).1);
    let drain = tokio::spawn(async move {
        while let Some(e) = events.recv().await {
            if let NetworkEvent::Gossip {
                peer, message_id, ..
            } = e
            {
                counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                handle.validation(message_id, peer, Validation::Ignore);
            }
        }
    });
    let mut sent = 0u32;
    within(async {
        while !a.handle.is_banned(&b.id()) {
            for _ in 0..100 {
                let _ = b.handle.publish(Topic::Txs, sent.to_le_bytes().to_vec());
                sent += 1;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    let seen = seen.load(std::sync::atomic::Ordering::Relaxed);
    assert!(seen < sent as usize, "{seen} of {sent} reached the node");
    drain.abort();
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn known_peers_and_the_node_key_survive_a_restart() {
    let [da, db] = temp_dirs();
    let mut b = spawn(db.path(), genesis(1), vec![]).await;
    let mut a = spawn(da.path(), genesis(1), vec![b.addr()]).await;
    let a_id = a.id();
    a.connected_to(b.id()).await;
    b.connected_to(a_id).await;
    a.stop().await;
    b.next(|e| matches!(e, NetworkEvent::PeerDisconnected(p) if *p == a_id).then_some(()))
        .await;

    // No boot nodes this time: b comes from the peer store.
    let mut a = spawn(da.path(), genesis(1), vec![]).await;
    assert_eq!(a.id(), a_id, "the node key file gives the same identity");
    a.connected_to(b.id()).await;
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn incoming_connections_are_capped_per_ip() {
    let dirs: [_; 3] = temp_dirs();
    let mut cfg = config(dirs[0].path(), genesis(1), vec![]);
    cfg.max_per_ip = 1;
    let a = spawn_with(cfg).await;
    let mut b = spawn(dirs[1].path(), genesis(1), vec![a.addr()]).await;
    b.connected_to(a.id()).await;
    let c = spawn(dirs[2].path(), genesis(1), vec![a.addr()]).await;
    wait_until("c is refused", || a.handle.stats().denied_connections > 0).await;
    assert_eq!(a.handle.peer_count(), 1);
    for node in [a, b, c] {
        node.stop().await;
    }
}

#[tokio::test]
async fn listen_errors_are_clear() {
    let [da, db] = temp_dirs();
    let a = spawn(da.path(), genesis(1), vec![]).await;
    let mut cfg = config(db.path(), genesis(1), vec![]);
    cfg.listen = a.handle.listen_addrs();
    let err = start(
        cfg.clone(),
        Arc::new(TestProvider {
            genesis: genesis(1),
            len: 1,
            big_from: 1,
        }),
    )
    .await
    .expect_err("in use");
    assert!(matches!(err, NetworkError::AddrInUse(_)), "{err}");
    cfg.listen = vec!["/ip4/127.0.0.1/udp/0".parse().expect("valid")];
    let err = start(
        cfg,
        Arc::new(TestProvider {
            genesis: genesis(1),
            len: 1,
            big_from: 1,
        }),
    )
    .await
    .expect_err("unsupported");
    assert!(matches!(err, NetworkError::BadAddress { .. }), "{err}");
    a.stop().await;
}

#[tokio::test]
async fn peers_connect_over_websocket() {
    let [da, db] = temp_dirs();
    let mut cfg = config(da.path(), genesis(1), vec![]);
    cfg.listen = vec!["/ip4/127.0.0.1/tcp/0/ws".parse().expect("valid")];
    let mut a = spawn_with(cfg).await;
    assert!(a.addr().to_string().contains("/ws/p2p/"), "{}", a.addr());
    let mut b = spawn(db.path(), genesis(1), vec![a.addr()]).await;
    b.connected_to(a.id()).await;
    a.connected_to(b.id()).await;
    let data = b"over websocket".to_vec();
    publish_until_received(&b, &mut a, Topic::Txs, &data).await;

    // Gossip larger than the configured limit is refused before it reaches the service.
    let limit = NetworkConfig::new(da.path(), genesis(1)).max_message_bytes;
    let err = b
        .handle
        .publish(Topic::Blocks, vec![0; limit + 1])
        .expect_err("too large");
    assert!(matches!(err, NetworkError::MessageTooLarge { .. }), "{err}");
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn a_full_block_travels_by_gossip() {
    let [da, db] = temp_dirs();
    let mut a = spawn(da.path(), genesis(1), vec![]).await;
    let mut b = spawn(db.path(), genesis(1), vec![a.addr()]).await;
    b.connected_to(a.id()).await;
    a.connected_to(b.id()).await;
    // 5 MiB: over gossipsub's default 64 KiB, within the default 8 MiB limit.
    let block: Vec<u8> = (0..5 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    publish_until_received(&b, &mut a, Topic::Blocks, &block).await;
    a.stop().await;
    b.stop().await;
}
