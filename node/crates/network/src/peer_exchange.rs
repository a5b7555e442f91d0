//! Peer exchange: `SyncRequest::Peers` asks a peer for the peers of our chain it is connected to
//! (at most [`MAX_PEER_RECORDS`], each a peer id and up to [`MAX_RECORD_ADDRS`] dialable
//! addresses); the service answers it itself, from its ready peers other than the asker.
//!
//! A node asks each new peer once it is ready, and one ready peer in turn on a timer; peers it
//! learns become dial targets like stored peers (given up after failed dials) while there are
//! fewer than [`MAX_LEARNED_TARGETS`] targets. So a node that knows only its boot nodes meets the
//! whole network, and a mesh that a partition broke is whole again after the heal.

use std::time::Instant;

use aitbc_primitives::{BoundedVec, DecodeError};
use codec::Encode;
use libp2p::{Multiaddr, PeerId};

use super::peers::{check_dialable, dial_addrs, split_peer, DialTarget, Target};
use super::protocol::{PeerRecord, MAX_PEER_RECORDS, MAX_RECORD_ADDRS};
use super::reputation::Misbehaviour;
use super::requests::Pending;
use super::service::Worker;
use super::{SyncRequest, SyncResponse, LOG};

/// Dial targets at most (boot nodes, stored and learned peers).
const MAX_LEARNED_TARGETS: usize = 512;

impl Worker {
    /// Asks `peer` for the peers it is connected to (peer exchange).
    pub(crate) fn ask_peers(&mut self, peer: PeerId) {
        let id = self
            .swarm
            .behaviour_mut()
            .sync
            .send_request(&peer, SyncRequest::Peers.encode());
        self.requests.insert(id, (peer, Pending::Peers));
    }

    /// Asks the next ready peer in turn for its peers.
    pub(crate) fn ask_next_for_peers(&mut self) {
        let mut ready: Vec<PeerId> = self
            .peers
            .iter()
            .filter(|(_, s)| s.ready)
            .map(|(id, _)| *id)
            .collect();
        if !ready.is_empty() {
            ready.sort();
            self.exchange_turn = self.exchange_turn.wrapping_add(1);
            self.ask_peers(ready[self.exchange_turn % ready.len()]);
        }
    }

    /// Our ready peers, for a `Peers` request from `asker` (not itself).
    pub(crate) fn peer_records(&self, asker: &PeerId) -> Vec<PeerRecord> {
        self.peers
            .iter()
            .filter(|(id, state)| *id != asker && state.ready)
            .filter_map(|(id, state)| {
                let addrs: Vec<BoundedVec<u8, 256>> = dial_addrs(state)
                    .iter()
                    .filter_map(|a| BoundedVec::try_from_vec(a.to_vec()).ok())
                    .take(MAX_RECORD_ADDRS)
                    .collect();
                Some(PeerRecord {
                    peer_id: BoundedVec::try_from_vec(id.to_bytes()).ok()?,
                    addrs: BoundedVec::try_from_vec(addrs).ok()?,
                })
            })
            .take(MAX_PEER_RECORDS)
            .collect()
    }

    /// The answer to our `Peers` request.
    pub(crate) fn peers_answered(
        &mut self,
        peer: PeerId,
        decoded: Result<SyncResponse, DecodeError>,
    ) {
        match decoded {
            Ok(SyncResponse::Peers(records)) => self.learn_peers(&records),
            Ok(SyncResponse::Error(_)) | Err(_) => {}
            Ok(_) => self.report(peer, Misbehaviour::BadResponse),
        }
    }

    /// Peers learned from a `Peers` answer become dial targets (given up like stored peers), so
    /// a node that knows only its boot nodes meets the rest of the network, and a mesh broken
    /// by a partition is whole again after it heals.
    fn learn_peers(&mut self, records: &[PeerRecord]) {
        let now = Instant::now();
        for record in records {
            if self.targets.len() >= MAX_LEARNED_TARGETS {
                return;
            }
            let Ok(peer) = PeerId::from_bytes(&record.peer_id) else {
                continue;
            };
            let known = peer == self.local_peer_id
                || self.swarm.is_connected(&peer)
                || self.targets.contains_key(&Target::Peer(peer))
                || self.swarm.behaviour().gate.bans.is_peer_banned(&peer, now);
            if known {
                continue;
            }
            let addrs: Vec<Multiaddr> = record
                .addrs
                .iter()
                .filter_map(|a| Multiaddr::try_from(a.to_vec()).ok())
                .filter(|a| check_dialable(a).is_ok())
                .map(|a| split_peer(&a).0)
                .collect();
            if addrs.is_empty() {
                continue;
            }
            tracing::debug!(target: LOG, %peer, "learned a peer");
            self.targets
                .insert(Target::Peer(peer), DialTarget::known_peer(peer, addrs));
        }
    }
}
