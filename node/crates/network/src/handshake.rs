//! The handshake: on a new connection each side asks the other's `Status`, and connected peers
//! are asked again every [`STATUS_REFRESH`](super::STATUS_REFRESH).
//!
//! A peer becomes ready (reported with [`NetworkEvent::PeerConnected`], saved in the peer store,
//! asked for its peers) only once its genesis hash equals ours. A peer whose genesis differs
//! (from its `Status`, its identify protocol version `/aitbc/<genesis-hex>`, or because it does
//! not speak our sync protocol) is refused: disconnected, logged at warn with the reason,
//! forgotten and banned by peer id for the ban duration.

use aitbc_primitives::DecodeError;
use codec::Encode;
use libp2p::{identify, PeerId};

use super::peers::check_dialable;
use super::protocol;
use super::reputation::Misbehaviour;
use super::requests::Pending;
use super::service::Worker;
use super::store::MAX_ADDRS_PER_PEER;
use super::{NetworkEvent, RequestError, Status, SyncRequest, SyncResponse, LOG};

impl Worker {
    pub(crate) fn ask_status(&mut self, peer: PeerId) {
        let id = self
            .swarm
            .behaviour_mut()
            .sync
            .send_request(&peer, SyncRequest::Status.encode());
        self.requests.insert(id, (peer, Pending::Status));
        if let Some(state) = self.peers.get_mut(&peer) {
            state.asking_status = true;
        }
    }

    /// Asks every connected peer without a `Status` request in flight for its status again.
    pub(crate) fn refresh_statuses(&mut self) {
        let peers: Vec<PeerId> = self
            .peers
            .iter()
            .filter(|(_, p)| !p.asking_status)
            .map(|(id, _)| *id)
            .collect();
        for peer in peers {
            self.ask_status(peer);
        }
    }

    /// The answer to our `Status` request.
    pub(crate) fn status_answered(
        &mut self,
        peer: PeerId,
        decoded: Result<SyncResponse, DecodeError>,
    ) {
        if let Some(state) = self.peers.get_mut(&peer) {
            state.asking_status = false;
        }
        match decoded {
            Ok(SyncResponse::Status(status)) => self.on_status(peer, status),
            Ok(SyncResponse::Error(reason)) => {
                tracing::debug!(target: LOG, %peer, reason, "status refused");
            }
            Ok(_) => self.report(peer, Misbehaviour::BadResponse),
            Err(_) => {}
        }
    }

    /// Our `Status` request failed: a peer that does not speak our sync protocol is refused.
    pub(crate) fn status_failed(&mut self, peer: PeerId, error: &RequestError) {
        if let Some(state) = self.peers.get_mut(&peer) {
            state.asking_status = false;
        }
        if *error == RequestError::UnsupportedProtocol {
            let reason = format!(
                "genesis mismatch: it does not speak {} (another chain or version)",
                protocol::sync_protocol(&self.config.genesis_hash)
            );
            self.refuse(peer, &reason);
        } else {
            tracing::debug!(target: LOG, %peer, %error, "status request failed");
        }
    }

    pub(crate) fn on_identify(&mut self, event: identify::Event) {
        let identify::Event::Received { peer_id, info, .. } = event else {
            return;
        };
        if info.protocol_version != self.chain_id {
            let reason = format!(
                "genesis mismatch: it announces chain {}, ours is {} (genesis {})",
                info.protocol_version, self.chain_id, self.config.genesis_hash
            );
            self.refuse(peer_id, &reason);
            return;
        }
        let Some(state) = self.peers.get_mut(&peer_id) else {
            return;
        };
        state.listen_addrs = info
            .listen_addrs
            .into_iter()
            .filter(|a| check_dialable(a).is_ok())
            .take(MAX_ADDRS_PER_PEER)
            .collect();
        if state.ready {
            self.remember(peer_id);
        }
    }

    pub(crate) fn on_status(&mut self, peer: PeerId, status: Status) {
        if status.genesis != self.config.genesis_hash {
            let reason = format!(
                "genesis mismatch: its genesis is {}, ours is {}",
                status.genesis, self.config.genesis_hash
            );
            self.refuse(peer, &reason);
            return;
        }
        let Some(state) = self.peers.get_mut(&peer) else {
            return;
        };
        state.status = Some(status);
        if status.best.0 >= state.best_height {
            state.best_height = status.best.0;
            state.best_hash = status.best.1;
        }
        self.dirty = true;
        if !state.ready {
            state.ready = true;
            tracing::info!(target: LOG, %peer, best = status.best.0, "peer connected");
            self.remember(peer);
            self.ask_peers(peer);
            self.emit_peer_event(NetworkEvent::PeerConnected { peer, status });
        }
    }
}
