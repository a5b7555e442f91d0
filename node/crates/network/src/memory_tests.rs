//! The in-memory network's rules: seeded ids, loss and duplication, splits, crashes and
//! rejoins, muting, and the libp2p-like view of peers' chains. Paused tokio time.

use super::memory::{Conditions, MemoryNetwork, MemoryPeer, REQUEST_TIMEOUT};
use super::seam::Network;
use super::*;
use aitbc_primitives::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;

/// A provider whose best height the test moves.
#[derive(Default)]
struct Chain {
    best: AtomicU64,
}

impl SyncProvider for Chain {
    fn status(&self) -> Status {
        let best = self.best.load(Ordering::SeqCst);
        Status {
            genesis: Hash::ZERO,
            best: (best, Hash([best as u8; 32])),
            finalized: (best / 2, Hash::ZERO),
        }
    }
    fn blocks_by_range(&self, from: u64, count: u32, _: usize) -> Vec<Vec<u8>> {
        (from..from + u64::from(count))
            .map(|n| vec![n as u8])
            .collect()
    }
    fn blocks_by_hash(&self, _: &[Hash], _: usize) -> Vec<Vec<u8>> {
        Vec::new()
    }
    fn votes(&self, _: u64, _: usize) -> Vec<Vec<u8>> {
        Vec::new()
    }
}

fn member(net: &Arc<MemoryNetwork>) -> (MemoryPeer, mpsc::Receiver<NetworkEvent>, Arc<Chain>) {
    let chain = Arc::new(Chain::default());
    let (peer, events) = net.join(chain.clone());
    (peer, events, chain)
}

/// Gossip events received so far (other events dropped).
fn gossip(events: &mut mpsc::Receiver<NetworkEvent>) -> usize {
    let mut n = 0;
    while let Ok(e) = events.try_recv() {
        n += usize::from(matches!(e, NetworkEvent::Gossip { .. }));
    }
    n
}

#[tokio::test(start_paused = true)]
async fn ids_follow_the_seed_and_deliveries_follow_the_conditions() {
    let (a, b) = (MemoryNetwork::seeded(1), MemoryNetwork::seeded(1));
    let (pa, _ea, _) = member(&a);
    let (pb, _eb, _) = member(&b);
    assert_eq!(pa.peer_id(), pb.peer_id(), "one seed, one id");
    assert_ne!(pa.peer_id(), member(&MemoryNetwork::seeded(2)).0.peer_id());

    let net = MemoryNetwork::seeded(7);
    let (sender, _, _) = member(&net);
    let (_, mut inbox, _) = member(&net);
    net.set_conditions(Conditions {
        loss_ppm: 1_000_000,
        ..Conditions::default()
    });
    sender.publish(Topic::Blocks, vec![1]).unwrap();
    assert_eq!(gossip(&mut inbox), 0, "everything lost");
    net.set_conditions(Conditions {
        duplicate_ppm: 1_000_000,
        delay_ms: 100..=100,
        ..Conditions::default()
    });
    sender.publish(Topic::Blocks, vec![2]).unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(gossip(&mut inbox), 0, "not before its delay");
    tokio::time::sleep(Duration::from_millis(60)).await;
    assert_eq!(gossip(&mut inbox), 2, "twice, after the delay");
    let stats = net.stats();
    assert_eq!((stats.lost, stats.duplicated, stats.delayed), (1, 1, 2));

    // A lost request times out; a muted member's publications reach nobody.
    net.set_conditions(Conditions {
        loss_ppm: 1_000_000,
        ..Conditions::default()
    });
    let target = net.members()[1];
    let started = tokio::time::Instant::now();
    let answer = sender.request(target, SyncRequest::Status).await;
    assert!(matches!(answer, Err(RequestError::Timeout)), "{answer:?}");
    assert_eq!(started.elapsed(), REQUEST_TIMEOUT);
    net.set_conditions(Conditions::default());
    net.mute(sender.peer_id(), &[Topic::Blocks]);
    sender.publish(Topic::Blocks, vec![3]).unwrap();
    sender.publish(Topic::Votes, vec![3]).unwrap();
    assert_eq!(gossip(&mut inbox), 1, "only the vote");
    net.mute(sender.peer_id(), &[]);
    net.deafen(target, &[Topic::Votes]);
    sender.publish(Topic::Votes, vec![4]).unwrap();
    sender.publish(Topic::Blocks, vec![4]).unwrap();
    assert_eq!(gossip(&mut inbox), 1, "only the block");
}

#[tokio::test(start_paused = true)]
async fn splits_crashes_and_rejoins_cut_and_restore_links() {
    let net = MemoryNetwork::new();
    let (a, _ea, _) = member(&net);
    let (b, mut eb, chain_b) = member(&net);
    net.split(&[a.peer_id()]);
    a.publish(Topic::Blocks, vec![1]).unwrap();
    assert_eq!(gossip(&mut eb), 0, "across the split");
    assert!(matches!(
        a.request(b.peer_id(), SyncRequest::Status).await,
        Err(RequestError::NotConnected)
    ));
    net.heal();
    assert!(a.request(b.peer_id(), SyncRequest::Status).await.is_ok());

    // b crashes: nobody reaches it; it rejoins under its id; its old handle reaches nobody.
    net.leave(b.peer_id());
    assert_eq!(a.peer_count(), 0);
    let (b2, _eb2) = net.rejoin(b.peer_id(), chain_b).expect("a member");
    assert_eq!(b2.peer_id(), b.peer_id());
    assert_eq!(a.peer_count(), 1);
    assert_eq!(b.peer_count(), 0, "the handle of the crashed start");
    assert_eq!(b2.peer_count(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_peers_claimed_best_moves_as_the_libp2p_service_keeps_it() {
    let net = MemoryNetwork::new();
    let (a, _ea, _) = member(&net);
    let (b, _eb, chain_b) = member(&net);
    chain_b.best.store(10, Ordering::SeqCst);
    let best = |a: &MemoryPeer| a.peers()[0].best_height;
    assert_eq!(best(&a), 10, "its status when first seen");
    chain_b.best.store(20, Ordering::SeqCst);
    assert_eq!(best(&a), 10, "not refreshed yet");
    a.note_best(b.peer_id(), 12, Hash::ZERO);
    assert_eq!(best(&a), 12, "raised by a block it showed");
    a.lower_best(b.peer_id(), 5);
    assert_eq!(best(&a), 4, "lowered to what it served");
    tokio::time::sleep(STATUS_REFRESH).await;
    assert_eq!(best(&a), 20, "refreshed");
    assert_eq!(a.peers()[0].finalized_height, 10);
}
