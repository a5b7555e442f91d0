//! Sync requests, both ways: serving peers' requests from the node's [`SyncProvider`] and
//! sending ours (the handle's, the handshake's `Status`, peer exchange's `Peers`).
//!
//! Served: a peer may make [`MAX_REQUESTS_PER_WINDOW`] requests per [`REQUEST_WINDOW`]; beyond
//! that it is answered `Error("rate limited")` and charged `Flood` once per window. An over-long
//! request is answered `Error("request too large")` and charged `TooLarge`; an undecodable one is
//! answered `Error(..)` and charged `Undecodable` unless it was only cut short. `Peers` is
//! answered by the service itself; the rest by the provider on the blocking pool, at most
//! [`MAX_CONCURRENT_SERVES`] at a time (else `Error("busy")`), and [`serve`] enforces the count
//! caps and the byte budget whatever the provider returns.
//!
//! Sent: a response that [`answers`] refuses (wrong kind, more items than asked) is charged
//! `BadResponse`, an undecodable one `Undecodable` (unless cut short), one over the size limit
//! `TooLarge`.
//!
//! [`MAX_CONCURRENT_SERVES`]: super::MAX_CONCURRENT_SERVES

use std::time::{Duration, Instant};

use aitbc_primitives::BoundedVec;
use codec::Encode;
use libp2p::request_response::{self, ResponseChannel};
use libp2p::{PeerId, Swarm};
use tokio::sync::oneshot;

use super::protocol::{is_too_large, trim_to_budget, MAX_BLOCKS_PER_REQUEST, MAX_REQUEST_BYTES};
use super::reputation::Misbehaviour;
use super::service::Worker;
use super::swarm::Behaviour;
use super::{RequestError, SyncProvider, SyncRequest, SyncResponse, LOG, MAX_REQUESTS_PER_WINDOW};

/// Votes in one response at most.
const MAX_VOTES_PER_RESPONSE: usize = 4096;
/// Window of the per-peer request rate limit.
const REQUEST_WINDOW: Duration = Duration::from_secs(10);

/// What an outbound request is for.
pub(crate) enum Pending {
    /// The handshake or a periodic refresh of the peer's status.
    Status,
    /// Peer exchange: the peers it is connected to.
    Peers,
    /// A request from the handle.
    User {
        request: Option<SyncRequest>,
        reply: oneshot::Sender<Result<SyncResponse, RequestError>>,
    },
}

impl Worker {
    /// Sends a request from the handle (`request` is what a valid answer answers).
    pub(crate) fn request(
        &mut self,
        peer: PeerId,
        bytes: Vec<u8>,
        request: Option<SyncRequest>,
        reply: oneshot::Sender<Result<SyncResponse, RequestError>>,
    ) {
        if !self.swarm.is_connected(&peer) {
            let _ = reply.send(Err(RequestError::NotConnected));
            return;
        }
        let id = self.swarm.behaviour_mut().sync.send_request(&peer, bytes);
        self.requests
            .insert(id, (peer, Pending::User { request, reply }));
    }

    /// Forgets the request windows that have ended.
    pub(crate) fn prune_request_windows(&mut self, now: Instant) {
        self.rates
            .retain(|_, (start, _, _)| now.duration_since(*start) < REQUEST_WINDOW);
    }

    pub(crate) fn on_sync(&mut self, event: request_response::Event<Vec<u8>, Vec<u8>>) {
        use request_response::{Event, Message};
        match event {
            Event::Message {
                peer,
                message:
                    Message::Request {
                        request, channel, ..
                    },
                ..
            } => self.on_inbound_request(peer, request, channel),
            Event::Message {
                peer,
                message:
                    Message::Response {
                        request_id,
                        response,
                    },
                ..
            } => {
                let Some((_, pending)) = self.requests.remove(&request_id) else {
                    return;
                };
                self.on_response(peer, pending, &response);
            }
            Event::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                let Some((_, pending)) = self.requests.remove(&request_id) else {
                    return;
                };
                let error = match error {
                    request_response::OutboundFailure::Timeout => RequestError::Timeout,
                    request_response::OutboundFailure::ConnectionClosed
                    | request_response::OutboundFailure::DialFailure => {
                        RequestError::ConnectionClosed
                    }
                    request_response::OutboundFailure::UnsupportedProtocols => {
                        RequestError::UnsupportedProtocol
                    }
                    request_response::OutboundFailure::Io(e) if is_too_large(&e) => {
                        self.report(peer, Misbehaviour::TooLarge);
                        RequestError::TooLarge
                    }
                    request_response::OutboundFailure::Io(e) => RequestError::Io(e.to_string()),
                };
                match pending {
                    Pending::User { reply, .. } => {
                        let _ = reply.send(Err(error));
                    }
                    Pending::Peers => {
                        tracing::debug!(target: LOG, %peer, %error, "peers request failed");
                    }
                    Pending::Status => self.status_failed(peer, &error),
                }
            }
            Event::InboundFailure { peer, error, .. } => {
                if let request_response::InboundFailure::Io(e) = &error {
                    if is_too_large(e) {
                        self.report(peer, Misbehaviour::TooLarge);
                    }
                }
                tracing::debug!(target: LOG, %peer, %error, "inbound request failed");
            }
            Event::ResponseSent { .. } => {}
        }
    }

    fn on_response(&mut self, peer: PeerId, pending: Pending, bytes: &[u8]) {
        let decoded = SyncResponse::decode_bytes(bytes);
        // A response cut short by a closed connection is no offence; malformed bytes are.
        if decoded.is_err() && !aitbc_primitives::is_truncated::<SyncResponse>(bytes) {
            self.report(peer, Misbehaviour::Undecodable);
        }
        match pending {
            Pending::Peers => self.peers_answered(peer, decoded),
            Pending::Status => self.status_answered(peer, decoded),
            Pending::User { request, reply } => {
                let result = match decoded {
                    Err(e) => Err(RequestError::BadResponse(e.to_string())),
                    Ok(SyncResponse::Error(reason)) => Err(RequestError::Remote(reason)),
                    Ok(response) => match request.as_ref().map(|r| answers(r, &response)) {
                        Some(Err(why)) => {
                            self.report(peer, Misbehaviour::BadResponse);
                            Err(RequestError::BadResponse(why.into()))
                        }
                        Some(Ok(())) | None => {
                            if let SyncResponse::Status(status) = &response {
                                self.on_status(peer, *status);
                            }
                            Ok(response)
                        }
                    },
                };
                let _ = reply.send(result);
            }
        }
    }

    fn on_inbound_request(
        &mut self,
        peer: PeerId,
        bytes: Vec<u8>,
        channel: ResponseChannel<Vec<u8>>,
    ) {
        let refuse = |swarm: &mut Swarm<Behaviour>, channel, reason: &str| {
            let bytes = SyncResponse::error(reason).encode();
            let _ = swarm.behaviour_mut().sync.send_response(channel, bytes);
        };
        let now = Instant::now();
        let window = self.rates.entry(peer).or_insert((now, 0, false));
        if now.duration_since(window.0) >= REQUEST_WINDOW {
            *window = (now, 0, false);
        }
        window.1 += 1;
        if window.1 > MAX_REQUESTS_PER_WINDOW {
            let charge = !window.2;
            window.2 = true;
            refuse(&mut self.swarm, channel, "rate limited");
            if charge {
                self.report(peer, Misbehaviour::Flood);
            }
            return;
        }
        if bytes.len() > MAX_REQUEST_BYTES {
            tracing::debug!(target: LOG, %peer, "over-long request cut off");
            refuse(&mut self.swarm, channel, "request too large");
            self.report(peer, Misbehaviour::TooLarge);
            return;
        }
        let request = match SyncRequest::decode_bytes(&bytes) {
            Ok(request) => request,
            Err(e) => {
                // A request cut short (its stream ended early: a closed connection, a partition)
                // is no offence; malformed bytes are.
                let cut_short =
                    !channel.is_open() || aitbc_primitives::is_truncated::<SyncRequest>(&bytes);
                tracing::debug!(target: LOG, %peer, error = %e, cut_short, "undecodable request");
                refuse(
                    &mut self.swarm,
                    channel,
                    &format!("undecodable request: {e}"),
                );
                if !cut_short {
                    self.report(peer, Misbehaviour::Undecodable);
                }
                return;
            }
        };
        if request == SyncRequest::Peers {
            let records = self.peer_records(&peer);
            let response = SyncResponse::Peers(
                BoundedVec::try_from_vec(records).unwrap_or_else(|_| BoundedVec::new()),
            );
            let _ = self
                .swarm
                .behaviour_mut()
                .sync
                .send_response(channel, response.encode());
            return;
        }
        let Ok(permit) = self.serving.clone().try_acquire_owned() else {
            refuse(&mut self.swarm, channel, "busy");
            return;
        };
        let provider = self.provider.clone();
        let served = self.served_tx.clone();
        let budget = self.config.max_response_bytes;
        tokio::task::spawn_blocking(move || {
            let response = serve(provider.as_ref(), request, budget);
            drop(permit);
            let _ = served.send((channel, response.encode()));
        });
    }
}

/// Answers a decoded request from the provider, enforcing the count caps and the byte budget
/// whatever the provider returns.
pub fn serve(provider: &dyn SyncProvider, request: SyncRequest, budget: usize) -> SyncResponse {
    match request {
        SyncRequest::Status => SyncResponse::Status(provider.status()),
        SyncRequest::BlocksByRange { from, count } => {
            let count = count.min(MAX_BLOCKS_PER_REQUEST);
            let mut blocks = provider.blocks_by_range(from, count, budget);
            trim_to_budget(&mut blocks, count as usize, budget);
            SyncResponse::Blocks(blocks)
        }
        SyncRequest::BlocksByHash(hashes) => {
            let mut blocks = provider.blocks_by_hash(&hashes, budget);
            trim_to_budget(&mut blocks, hashes.len(), budget);
            SyncResponse::Blocks(blocks)
        }
        SyncRequest::Votes { round } => {
            let mut votes = provider.votes(round, budget);
            trim_to_budget(&mut votes, MAX_VOTES_PER_RESPONSE, budget);
            SyncResponse::Votes(votes)
        }
        // The network service answers this itself (it knows the peers); the provider has none.
        SyncRequest::Peers => SyncResponse::Peers(BoundedVec::new()),
        SyncRequest::FinalityProof { from } => match provider.finality_proof(from) {
            Ok(proof) if proof.len() <= budget => SyncResponse::FinalityProof(proof),
            Ok(_) => SyncResponse::error("finality proof over the response budget"),
            Err(e) => SyncResponse::error(e),
        },
        // The entries are cut to the budget, less room for the proof (at most 256 siblings of
        // 33 bytes) and the framing.
        SyncRequest::StateChunk { number, start } => {
            match provider.state_chunk(number, start, budget.saturating_sub(16 * 1024)) {
                Ok(chunk) if chunk.len() <= budget => SyncResponse::StateChunk(chunk),
                Ok(_) => SyncResponse::error("state chunk over the response budget"),
                Err(e) => SyncResponse::error(e),
            }
        }
    }
}

/// Whether `response` is a valid answer to `request` (kind and item count).
pub fn answers(request: &SyncRequest, response: &SyncResponse) -> Result<(), &'static str> {
    match (request, response) {
        (SyncRequest::Status, SyncResponse::Status(_)) => Ok(()),
        (SyncRequest::BlocksByRange { count, .. }, SyncResponse::Blocks(b)) => {
            if b.len() as u64 > u64::from((*count).min(MAX_BLOCKS_PER_REQUEST)) {
                Err("more blocks than asked")
            } else {
                Ok(())
            }
        }
        (SyncRequest::BlocksByHash(h), SyncResponse::Blocks(b)) => {
            if b.len() > h.len() {
                Err("more blocks than asked")
            } else {
                Ok(())
            }
        }
        (SyncRequest::Peers, SyncResponse::Peers(_)) => Ok(()),
        (SyncRequest::FinalityProof { .. }, SyncResponse::FinalityProof(_))
        | (SyncRequest::StateChunk { .. }, SyncResponse::StateChunk(_)) => Ok(()),
        (SyncRequest::Votes { .. }, SyncResponse::Votes(v)) => {
            if v.len() > MAX_VOTES_PER_RESPONSE {
                Err("too many votes")
            } else {
                Ok(())
            }
        }
        _ => Err("response of the wrong kind"),
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn responses_must_answer_their_request() {
        let range = SyncRequest::BlocksByRange { from: 0, count: 2 };
        assert!(answers(&range, &SyncResponse::Blocks(vec![vec![]; 2])).is_ok());
        assert!(answers(&range, &SyncResponse::Blocks(vec![vec![]; 3])).is_err());
        assert!(answers(&range, &SyncResponse::Votes(vec![])).is_err());
        let huge = SyncRequest::BlocksByRange {
            from: 0,
            count: 1000,
        };
        assert!(answers(&huge, &SyncResponse::Blocks(vec![vec![]; 129])).is_err());
        assert!(answers(&SyncRequest::Status, &SyncResponse::Blocks(vec![])).is_err());
    }
}
