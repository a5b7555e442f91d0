//! The network seam: what consensus, finality, gossip and sync need from the network, as a
//! trait. [`NetworkHandle`] (libp2p) implements it; a simulated network can too, so those parts
//! run unchanged on either. The node's workers hold a [`SharedNetwork`].
//!
//! The contract is the handle's: every gossiped message the node receives is answered once with
//! [`Network::validation`]; [`Network::report`] charges a peer; [`Network::note_best`] and
//! [`Network::lower_best`] keep the peer's claimed best block that sync reads in
//! [`Network::peers`]; [`Network::request`] resolves with the peer's answer, an error, or a
//! timeout, never hangs.

use crate::{
    Misbehaviour, NetworkError, NetworkHandle, PeerInfo, RequestError, SyncRequest, SyncResponse,
    Topic, Validation,
};
use aitbc_primitives::Hash;
use libp2p::gossipsub::MessageId;
use libp2p::PeerId;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// The answer to a sync request, once it arrives.
pub type Answer = Pin<Box<dyn Future<Output = Result<SyncResponse, RequestError>> + Send>>;

/// The network, as the node's workers use it (see the module docs).
pub trait Network: Send + Sync + 'static {
    /// Publishes `data` on `topic` to the peers.
    fn publish(&self, topic: Topic, data: Vec<u8>) -> Result<(), NetworkError>;
    /// The node's verdict on a gossiped message from `peer`.
    fn validation(&self, message_id: MessageId, peer: PeerId, result: Validation);
    /// Charges `peer` for `what`.
    fn report(&self, peer: PeerId, what: Misbehaviour);
    /// `peer` has shown a block at `number` (its best is at least that).
    fn note_best(&self, peer: PeerId, number: u64, hash: Hash);
    /// `peer`'s claimed best is at most `number` (it could not serve more).
    fn lower_best(&self, peer: PeerId, number: u64);
    /// Asks `peer` a sync request.
    fn request(&self, peer: PeerId, request: SyncRequest) -> Answer;
    /// The connected peers of our chain.
    fn peers(&self) -> Vec<PeerInfo>;
    /// How many peers [`Network::peers`] lists.
    fn peer_count(&self) -> usize;
}

/// A network shared by the node's workers.
pub type SharedNetwork = Arc<dyn Network>;

impl Network for NetworkHandle {
    fn publish(&self, topic: Topic, data: Vec<u8>) -> Result<(), NetworkError> {
        NetworkHandle::publish(self, topic, data)
    }

    fn validation(&self, message_id: MessageId, peer: PeerId, result: Validation) {
        NetworkHandle::validation(self, message_id, peer, result)
    }

    fn report(&self, peer: PeerId, what: Misbehaviour) {
        NetworkHandle::report(self, peer, what)
    }

    fn note_best(&self, peer: PeerId, number: u64, hash: Hash) {
        NetworkHandle::note_best(self, peer, number, hash)
    }

    fn lower_best(&self, peer: PeerId, number: u64) {
        NetworkHandle::lower_best(self, peer, number)
    }

    fn request(&self, peer: PeerId, request: SyncRequest) -> Answer {
        Box::pin(NetworkHandle::request(self, peer, request))
    }

    fn peers(&self) -> Vec<PeerInfo> {
        NetworkHandle::peers(self)
    }

    fn peer_count(&self) -> usize {
        NetworkHandle::peer_count(self)
    }
}
