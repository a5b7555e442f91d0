//! An in-memory network: the node's workers run on it through the [`Network`] seam, without
//! sockets or libp2p's swarm. Every member of one [`MemoryNetwork`] is connected to every
//! other. What a member publishes reaches each other member at once as a gossip event from the
//! publisher (nobody forwards, so the verdicts change nothing); a sync request is answered from
//! the target's [`SyncProvider`] by the same [`serve`] the libp2p service uses. A peer's best
//! block in [`Network::peers`] is its provider's live status. Reports are recorded, not scored.
//!
//! No delays, drops or partitions yet: a seeded simulator adds them on top of this.

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
}

/// The members and what they reported.
#[derive(Default)]
pub struct MemoryNetwork {
    members: Mutex<Vec<Member>>,
    reports: Mutex<Vec<(PeerId, PeerId, Misbehaviour)>>,
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
        let status = provider.status();
        for other in members.iter() {
            let _ = other
                .events
                .try_send(NetworkEvent::PeerConnected { peer: me, status });
            let _ = events.try_send(NetworkEvent::PeerConnected {
                peer: other.peer,
                status: other.provider.status(),
            });
        }
        members.push(Member {
            peer: me,
            events,
            provider,
        });
        let peer = MemoryPeer {
            net: self.clone(),
            me,
        };
        (peer, received)
    }

    /// `(reporter, peer, what)` for every report made, in order.
    pub fn reports(&self) -> Vec<(PeerId, PeerId, Misbehaviour)> {
        self.reports.lock().clone()
    }
}

impl MemoryPeer {
    /// This member's peer id.
    pub fn peer_id(&self) -> PeerId {
        self.me
    }
}

impl Network for MemoryPeer {
    fn publish(&self, topic: Topic, data: Vec<u8>) -> Result<(), NetworkError> {
        let message_id = MessageId::new(&blake2_256(&data));
        for other in self.net.members.lock().iter().filter(|m| m.peer != self.me) {
            let _ = other.events.try_send(NetworkEvent::Gossip {
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
            .members
            .lock()
            .iter()
            .find(|m| m.peer == peer)
            .map(|m| m.provider.clone());
        Box::pin(async move {
            let provider = provider.ok_or(RequestError::Stopped)?;
            tokio::task::spawn_blocking(move || serve(&*provider, request, RESPONSE_BUDGET))
                .await
                .map_err(|_| RequestError::Stopped)
        })
    }

    fn peers(&self) -> Vec<PeerInfo> {
        self.net
            .members
            .lock()
            .iter()
            .filter(|m| m.peer != self.me)
            .map(|m| {
                let status = m.provider.status();
                PeerInfo {
                    peer_id: m.peer,
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
        self.net.members.lock().len().saturating_sub(1)
    }
}
