//! Peer reputation and bans: pure bookkeeping, driven by the service with explicit times.
//!
//! A peer starts at 0. Each [`Misbehaviour`] lowers its score by its [`Misbehaviour::cost`]; the
//! score recovers by a tenth toward 0 every [`DECAY_INTERVAL`]. At or below [`BAN_THRESHOLD`] the
//! peer is disconnected and banned, by peer id and by the non-loopback IPs it was connected from,
//! for the configured ban duration; its score starts again at 0 after the ban.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use libp2p::PeerId;

/// Score at or below which a peer is banned.
pub const BAN_THRESHOLD: i32 = -100;
/// How often scores recover a tenth of the way toward 0.
pub const DECAY_INTERVAL: Duration = Duration::from_secs(10);

/// What a peer did wrong. Reported by the node with [`super::NetworkHandle::report`] or with a
/// gossip rejection ([`super::Validation::Reject`]), and by the service itself (undecodable or
/// oversized requests and responses, request floods).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Misbehaviour {
    /// A block that failed import checks (seal, parent, state root, …). 2 strikes ban.
    InvalidBlock,
    /// A vote with a bad signature, an unknown voter or an equivocation. 4 strikes ban.
    BadVote,
    /// A transaction with a bad signature or malformed content (not a merely stale nonce).
    /// 4 strikes ban.
    InvalidTx,
    /// Bytes that do not decode. 4 strikes ban.
    Undecodable,
    /// A message or response over the protocol's size limits. 4 strikes ban.
    TooLarge,
    /// Too many requests or messages. 10 strikes ban.
    Flood,
    /// A response that does not answer the request (wrong kind, too many items). 5 strikes ban.
    BadResponse,
    /// A third block by one author for one slot (only the first and one extra are kept and
    /// forwarded). Light, as an honest node may forward its own first extra while we keep
    /// another: 10 strikes ban.
    ExcessEquivocation,
    /// A finality proof or state chunk that fails its check (warp sync): nothing an honest node
    /// serves. Banned at once.
    BadProof,
    /// A best block claimed (status or announcement) but not served when asked for: the sync
    /// answer stopped short. Light, as an honest peer may reorganise to a shorter chain while
    /// we ask: 10 strikes ban.
    FalseStatus,
}

impl Misbehaviour {
    /// Points taken off the peer's score.
    pub fn cost(self) -> i32 {
        match self {
            Misbehaviour::InvalidBlock => 50,
            Misbehaviour::BadProof => -BAN_THRESHOLD,
            Misbehaviour::BadVote => 25,
            Misbehaviour::InvalidTx => 25,
            Misbehaviour::Undecodable => 25,
            Misbehaviour::TooLarge => 25,
            Misbehaviour::Flood => 10,
            Misbehaviour::BadResponse => 20,
            Misbehaviour::ExcessEquivocation => 10,
            Misbehaviour::FalseStatus => 10,
        }
    }
}

/// Scores of the peers that misbehaved recently (a peer absent from the map scores 0).
#[derive(Debug, Default)]
pub struct Reputations {
    scores: HashMap<PeerId, i32>,
}

impl Reputations {
    pub fn score(&self, peer: &PeerId) -> i32 {
        self.scores.get(peer).copied().unwrap_or(0)
    }

    /// Charges `what` to `peer`; returns the new score and whether the peer must now be banned.
    pub fn report(&mut self, peer: PeerId, what: Misbehaviour) -> (i32, bool) {
        let score = self.scores.entry(peer).or_insert(0);
        *score = score.saturating_sub(what.cost());
        (*score, *score <= BAN_THRESHOLD)
    }

    /// Forgets a peer's score (after it is banned: it starts again at 0 when the ban ends).
    pub fn forget(&mut self, peer: &PeerId) {
        self.scores.remove(peer);
    }

    /// One decay step: every score moves a tenth (at least 1) toward 0; zeros are dropped.
    pub fn decay(&mut self) {
        for score in self.scores.values_mut() {
            let step = (*score / 10).min(-1);
            *score = (*score - step).min(0);
        }
        self.scores.retain(|_, s| *s < 0);
    }
}

/// Bans by peer id and by IP, each with its end time.
#[derive(Debug, Default)]
pub struct Bans {
    peers: HashMap<PeerId, Instant>,
    ips: HashMap<IpAddr, Instant>,
}

impl Bans {
    pub fn ban_peer(&mut self, peer: PeerId, until: Instant) {
        let end = self.peers.entry(peer).or_insert(until);
        *end = (*end).max(until);
    }

    pub fn ban_ip(&mut self, ip: IpAddr, until: Instant) {
        let end = self.ips.entry(ip).or_insert(until);
        *end = (*end).max(until);
    }

    pub fn is_peer_banned(&self, peer: &PeerId, now: Instant) -> bool {
        self.peers.get(peer).is_some_and(|end| *end > now)
    }

    pub fn is_ip_banned(&self, ip: &IpAddr, now: Instant) -> bool {
        self.ips.get(ip).is_some_and(|end| *end > now)
    }

    /// Drops ended bans; returns whether any ended.
    pub fn prune(&mut self, now: Instant) -> bool {
        let before = self.peers.len() + self.ips.len();
        self.peers.retain(|_, end| *end > now);
        self.ips.retain(|_, end| *end > now);
        before != self.peers.len() + self.ips.len()
    }

    pub fn banned_peers(&self) -> impl Iterator<Item = &PeerId> {
        self.peers.keys()
    }

    pub fn len(&self) -> usize {
        self.peers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.peers.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_invalid_blocks_ban_and_scores_recover() {
        let peer = PeerId::random();
        let mut r = Reputations::default();
        assert_eq!(r.report(peer, Misbehaviour::InvalidBlock), (-50, false));
        assert_eq!(r.report(peer, Misbehaviour::InvalidBlock), (-100, true));
        r.forget(&peer);
        assert_eq!(r.score(&peer), 0);
        r.report(peer, Misbehaviour::Flood);
        r.decay();
        assert_eq!(r.score(&peer), -9);
        for _ in 0..9 {
            r.decay();
        }
        assert_eq!(r.score(&peer), 0);
        assert!(r.scores.is_empty());
    }

    #[test]
    fn strikes_to_ban_match_the_docs() {
        let strikes = |m: Misbehaviour| (-BAN_THRESHOLD + m.cost() - 1) / m.cost();
        assert_eq!(strikes(Misbehaviour::InvalidBlock), 2);
        assert_eq!(strikes(Misbehaviour::BadVote), 4);
        assert_eq!(strikes(Misbehaviour::InvalidTx), 4);
        assert_eq!(strikes(Misbehaviour::Undecodable), 4);
        assert_eq!(strikes(Misbehaviour::TooLarge), 4);
        assert_eq!(strikes(Misbehaviour::Flood), 10);
        assert_eq!(strikes(Misbehaviour::BadResponse), 5);
        assert_eq!(strikes(Misbehaviour::ExcessEquivocation), 10);
        assert_eq!(strikes(Misbehaviour::FalseStatus), 10);
    }

    /// gossipsub graylists a peer at -80 (our score is its application score): its messages stop
    /// reaching the node, so nothing more is charged. Repeated charges for a gossip offence must
    /// therefore jump from above -80 to the ban, never stop in between (floods have their own
    /// ban, in the service's gossip rate).
    #[test]
    fn gossip_offences_ban_before_the_graylist() {
        const GRAYLIST: i32 = -80;
        for m in [
            Misbehaviour::InvalidBlock,
            Misbehaviour::BadVote,
            Misbehaviour::InvalidTx,
            Misbehaviour::Undecodable,
        ] {
            let peer = PeerId::random();
            let mut r = Reputations::default();
            loop {
                let (score, ban) = r.report(peer, m);
                if ban {
                    break;
                }
                assert!(
                    score > GRAYLIST,
                    "{m:?} stops at {score}, graylisted but not banned"
                );
            }
        }
    }

    #[test]
    fn bans_end() {
        let now = Instant::now();
        let peer = PeerId::random();
        let ip: IpAddr = [10, 0, 0, 1].into();
        let mut b = Bans::default();
        b.ban_peer(peer, now + Duration::from_secs(5));
        b.ban_ip(ip, now + Duration::from_secs(5));
        assert!(b.is_peer_banned(&peer, now));
        assert!(b.is_ip_banned(&ip, now));
        assert!(!b.prune(now));
        let later = now + Duration::from_secs(6);
        assert!(!b.is_peer_banned(&peer, later));
        assert!(b.prune(later));
        assert!(b.is_empty());
    }
}
