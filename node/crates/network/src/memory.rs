//! An in-memory network: the node's workers run on it through the [`Network`] seam, without
//! sockets or libp2p's swarm. Every member of one [`MemoryNetwork`] is connected to every
//! other. What a member publishes reaches each other member at once as a gossip event from the
//! publisher (nobody forwards, so the verdicts change nothing); a sync request is answered from
//! the target's [`SyncProvider`] by the same [`serve`] the libp2p service uses. A peer's best
//! block in [`Network::peers`] is its provider's live status. Reports are recorded, not scored.
//!
//! Partitions: [`MemoryNetwork::split`] cuts the members into two sides (each side's members
//! see `PeerDisconnected` for the other's; gossip and requests stop at the cut) and
//! [`MemoryNetwork::heal`] joins them again (`PeerConnected` both ways, so sync catches up).
//! Loss: [`MemoryNetwork::drop_gossip`] loses each gossip delivery with a given probability, drawn
//! from a seeded generator (the seed fixes the draws, not the order in which threads make them).
//! No delays yet: a seeded simulator adds them on top of this.

use crate::requests::serve;
use crate::seam::{Answer, Network};
use crate::{
    Misbehaviour, NetworkError, NetworkEvent, PeerInfo, RequestError, SyncProvider, SyncRequest,
    Topic, Validation,
};
use aitbc_primitives::{blake2_256, Hash};
use libp2p::gossipsub::MessageId;
use libp2p::{Multiaddr, PeerId};
use parking_lot::Mutex;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::sync::Arc;
use tokio::sync::mpsc;

/// Events queued per member before gossip to it is dropped (gossip is lossy; a member that
/// falls behind catches up by sync requests).
pub const EVENT_QUEUE: usize = 4096;
/// The response budget of a request (as the libp2p service's default).
const RESPONSE_BUDGET: usize = 4 * 1024 * 1024;

struct Member {
    peer: PeerId,
    events: mpsc::Sender<NetworkEvent>,
    provider: Arc<dyn SyncProvider>,
    /// The side of a split it is on (all 0 when whole).
    side: u8,
}

impl Member {
    fn connected_event(&self) -> NetworkEvent {
        NetworkEvent::PeerConnected {
            peer: self.peer,
            status: self.provider.status(),
        }
    }
}

/// The members and what they reported.
#[derive(Default)]
pub struct MemoryNetwork {
    members: Mutex<Vec<Member>>,
    reports: Mutex<Vec<(PeerId, PeerId, Misbehaviour)>>,
    loss: Mutex<Option<Loss>>,
}

/// Gossip loss: each delivery is dropped with probability `per_million / 10^6`.
struct Loss {
    per_million: u32,
    rng: StdRng,
    dropped: u64,
}

impl std::fmt::Debug for MemoryNetwork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MemoryNetwork({} members)", self.members.lock().len())
    }
}

/// One member's view of a [`MemoryNetwork`].
#[derive(Debug, Clone)]
pub struct MemoryPeer {
    net: Arc<MemoryNetwork>,
    me: PeerId,
}

impl MemoryNetwork {
    pub fn new() -> Arc<Self> {
        Arc::new(MemoryNetwork::default())
    }

    /// Adds a member answering requests from `provider`: it and every earlier member learn of
    /// each other (`PeerConnected`). Returns its handle and the events it receives.
    pub fn join(
        self: &Arc<Self>,
        provider: Arc<dyn SyncProvider>,
    ) -> (MemoryPeer, mpsc::Receiver<NetworkEvent>) {
        let (events, received) = mpsc::channel(EVENT_QUEUE);
        let me = PeerId::random();
        let mut members = self.members.lock();
        let member = Member {
            peer: me,
            events,
            provider,
            side: 0,
        };
        for other in members.iter().filter(|m| m.side == 0) {
            let _ = other.events.try_send(member.connected_event());
            let _ = member.events.try_send(other.connected_event());
        }
        members.push(member);
        let peer = MemoryPeer {
            net: self.clone(),
            me,
        };
        (peer, received)
    }

    /// The members' peer ids, in the order they joined.
    pub fn members(&self) -> Vec<PeerId> {
        self.members.lock().iter().map(|m| m.peer).collect()
    }

    /// Cuts the network in two: `side` against everyone else (a heal first, if split).
    pub fn split(&self, side: &[PeerId]) {
        self.heal();
        let mut members = self.members.lock();
        for m in members.iter_mut() {
            m.side = u8::from(side.contains(&m.peer));
        }
        Self::announce(
            &members,
            |a, b| a.side != b.side,
            |m| NetworkEvent::PeerDisconnected(m.peer),
        );
    }

    /// Joins the sides of a split again.
    pub fn heal(&self) {
        let mut members = self.members.lock();
        Self::announce(&members, |a, b| a.side != b.side, Member::connected_event);
        for m in members.iter_mut() {
            m.side = 0;
        }
    }

    /// Sends each member, for each other member `pair` selects, the event `event` makes of it.
    fn announce(
        members: &[Member],
        pair: impl Fn(&Member, &Member) -> bool,
        event: impl Fn(&Member) -> NetworkEvent,
    ) {
        for a in members {
            for b in members.iter().filter(|b| b.peer != a.peer && pair(a, b)) {
                let _ = a.events.try_send(event(b));
            }
        }
    }

    /// From now on, loses each gossip delivery with probability `per_million / 10^6`, drawn
    /// from a generator seeded with `seed` (0 stops the loss).
    pub fn drop_gossip(&self, per_million: u32, seed: u64) {
        *self.loss.lock() = (per_million > 0).then(|| Loss {
            per_million,
            rng: StdRng::seed_from_u64(seed),
            dropped: 0,
        });
    }

    /// Gossip deliveries lost so far (since the last [`MemoryNetwork::drop_gossip`]).
    pub fn dropped(&self) -> u64 {
        self.loss.lock().as_ref().map_or(0, |l| l.dropped)
    }

    /// Whether the next gossip delivery is lost.
    fn lose_one(&self) -> bool {
        let mut loss = self.loss.lock();
        let Some(loss) = loss.as_mut() else {
            return false;
        };
        let lost = loss.rng.gen_range(0..1_000_000) < loss.per_million;
        loss.dropped += u64::from(lost);
        lost
    }

    /// `(reporter, peer, what)` for every report made, in order.
    pub fn reports(&self) -> Vec<(PeerId, PeerId, Misbehaviour)> {
        self.reports.lock().clone()
    }
}

impl MemoryNetwork {
    /// The members `me` reaches (on its side of a split): peer id, events and provider, taken
    /// out of the lock so no member is called while it is held.
    fn reachable(
        &self,
        me: PeerId,
    ) -> Vec<(PeerId, mpsc::Sender<NetworkEvent>, Arc<dyn SyncProvider>)> {
        let members = self.members.lock();
        let side = members.iter().find(|m| m.peer == me).map_or(0, |m| m.side);
        members
            .iter()
            .filter(|m| m.peer != me && m.side == side)
            .map(|m| (m.peer, m.events.clone(), m.provider.clone()))
            .collect()
    }
}

impl Network for MemoryPeer {
    fn publish(&self, topic: Topic, data: Vec<u8>) -> Result<(), NetworkError> {
        let message_id = MessageId::new(&blake2_256(&data));
        for (_, events, _) in self.net.reachable(self.me) {
            if self.net.lose_one() {
                continue;
            }
            let _ = events.try_send(NetworkEvent::Gossip {
                topic,
                peer: self.me,
                message_id: message_id.clone(),
                data: data.clone(),
            });
        }
        Ok(())
    }

    fn validation(&self, _: MessageId, _: PeerId, _: Validation) {}

    fn report(&self, peer: PeerId, what: Misbehaviour) {
        self.net.reports.lock().push((self.me, peer, what));
    }

    fn note_best(&self, _: PeerId, _: u64, _: Hash) {}

    fn lower_best(&self, _: PeerId, _: u64) {}

    fn request(&self, peer: PeerId, request: SyncRequest) -> Answer {
        let provider = self
            .net
            .reachable(self.me)
            .into_iter()
            .find(|m| m.0 == peer)
            .map(|m| m.2);
        Box::pin(async move {
            let provider = provider.ok_or(RequestError::NotConnected)?;
            tokio::task::spawn_blocking(move || serve(&*provider, request, RESPONSE_BUDGET))
                .await
                .map_err(|_| RequestError::Stopped)
        })
    }

    fn peers(&self) -> Vec<PeerInfo> {
        self.net
            .reachable(self.me)
            .into_iter()
            .map(|(peer, _, provider)| {
                let status = provider.status();
                PeerInfo {
                    peer_id: peer,
                    addr: Multiaddr::empty(),
                    inbound: false,
                    best_height: status.best.0,
                    best_hash: status.best.1,
                    finalized_height: status.finalized.0,
                    reputation: 0,
                }
            })
            .collect()
    }

    fn peer_count(&self) -> usize {
        self.net.reachable(self.me).len()
    }
}
