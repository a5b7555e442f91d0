//! Peers and bans: the dial targets and their backoff, the state of each connected peer, the
//! peer store's writer, and the worker's handling of connections, reputation and bans.
//!
//! Boot nodes and added peers are redialed forever while disconnected; stored and learned peers
//! are given up after [`MAX_STORED_PEER_FAILURES`] failed dials in a row. Redials back off from
//! [`MIN_BACKOFF`] to [`MAX_BACKOFF`]; due targets are dialed only below the peer cap, and never
//! a banned peer.
//! A peer whose score reaches the ban threshold is disconnected and banned by peer id and by
//! its IPs (loopback excepted); a peer of another chain is refused by peer id only. Either way it
//! is forgotten: removed from the store and from the dial targets (unless a boot node or added).

use std::time::{Duration, Instant};

use aitbc_primitives::Hash;
use libp2p::core::ConnectedPoint;
use libp2p::multiaddr::Protocol;
use libp2p::swarm::dial_opts::DialOpts;
use libp2p::swarm::{ConnectionError, ConnectionId, DialError};
use libp2p::{Multiaddr, PeerId};

use super::gate::ip_of;
use super::reputation::Misbehaviour;
use super::service::Worker;
use super::store::{PeerStore, MAX_ADDRS_PER_PEER};
use super::{NetworkError, NetworkEvent, Status, LOG};

/// Dial backoff bounds. The cap is short so that a network split heals within seconds of the
/// link coming back (a few dials per peer a minute while a peer is down).
const MIN_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(4);
/// A peer from the store (or learned from peers) is given up after this many failed dials in a
/// row: with the backoff capped at 4 s, after about four minutes unreachable. A partition or an
/// outage shorter than that heals by itself (every known peer is dialed again), a longer one
/// through peer exchange.
const MAX_STORED_PEER_FAILURES: u32 = 64;

pub(crate) enum StoreOp {
    Save(PeerId, Vec<Multiaddr>),
    Remove(PeerId),
}

/// The peer store's writes run on their own thread (each is a durable redb commit).
pub(crate) fn spawn_store_writer(
    store: PeerStore,
) -> (
    std::sync::mpsc::Sender<StoreOp>,
    std::thread::JoinHandle<()>,
) {
    let (tx, rx) = std::sync::mpsc::channel::<StoreOp>();
    let thread = std::thread::spawn(move || {
        for op in rx {
            let result = match op {
                StoreOp::Save(peer, addrs) => store.save(&peer, &addrs),
                StoreOp::Remove(peer) => store.remove(&peer),
            };
            if let Err(e) = result {
                tracing::warn!(target: LOG, error = %e, "peer store write failed");
            }
        }
    });
    (tx, thread)
}

/// A peer or address to keep connected to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Target {
    Peer(PeerId),
    /// A boot node given without its peer id.
    Addr(Multiaddr),
}

#[derive(Debug)]
pub(crate) struct DialTarget {
    /// Known or learned on the first connection.
    peer: Option<PeerId>,
    addrs: Vec<Multiaddr>,
    /// Boot nodes and added peers are redialed forever; stored peers are given up.
    persistent: bool,
    failures: u32,
    next: Instant,
}

impl DialTarget {
    /// A peer known from the store, a connection or peer exchange: dialed now, given up after
    /// [`MAX_STORED_PEER_FAILURES`].
    pub(crate) fn known_peer(peer: PeerId, addrs: Vec<Multiaddr>) -> DialTarget {
        DialTarget {
            peer: Some(peer),
            addrs,
            persistent: false,
            failures: 0,
            next: Instant::now(),
        }
    }
}

fn backoff(failures: u32) -> Duration {
    MIN_BACKOFF
        .saturating_mul(1u32 << failures.min(6))
        .min(MAX_BACKOFF)
}

/// Splits `/…/p2p/<id>` into the address without the suffix and the peer id.
pub(crate) fn split_peer(addr: &Multiaddr) -> (Multiaddr, Option<PeerId>) {
    let mut addr = addr.clone();
    match addr.iter().last() {
        Some(Protocol::P2p(peer)) => {
            addr.pop();
            (addr, Some(peer))
        }
        _ => (addr, None),
    }
}

pub(crate) fn check_dialable(addr: &Multiaddr) -> Result<(), NetworkError> {
    let has_ip = ip_of(addr).is_some();
    let has_tcp = addr.iter().any(|p| matches!(p, Protocol::Tcp(_)));
    if has_ip && has_tcp {
        Ok(())
    } else {
        Err(NetworkError::BadAddress {
            addr: addr.clone(),
            reason: "expected /ip4|ip6/…/tcp/PORT[/ws][/p2p/<peer-id>] (no DNS)".into(),
        })
    }
}

#[derive(Debug)]
pub(crate) struct PeerState {
    pub(crate) addr: Multiaddr,
    pub(crate) inbound: bool,
    /// Handshake done: genesis matched, `PeerConnected` sent.
    pub(crate) ready: bool,
    pub(crate) status: Option<Status>,
    pub(crate) best_height: u64,
    pub(crate) best_hash: Hash,
    /// A Status request is in flight.
    pub(crate) asking_status: bool,
    pub(crate) listen_addrs: Vec<Multiaddr>,
}

/// Addresses to redial a peer at: the one we dialed (an inbound connection's port is ephemeral)
/// and those it listens on.
pub(crate) fn dial_addrs(state: &PeerState) -> Vec<Multiaddr> {
    let mut addrs = Vec::new();
    if !state.inbound {
        addrs.push(split_peer(&state.addr).0);
    }
    for a in &state.listen_addrs {
        if !addrs.contains(a) {
            addrs.push(a.clone());
        }
    }
    addrs.truncate(MAX_ADDRS_PER_PEER);
    addrs
}

impl Worker {
    // ---- dialing ----

    pub(crate) fn add_peer(&mut self, addr: Multiaddr) -> Result<(), NetworkError> {
        check_dialable(&addr)?;
        let (_, peer) = split_peer(&addr);
        let now = Instant::now();
        let bans = &self.swarm.behaviour().gate.bans;
        if let Some(peer) = peer {
            if bans.is_peer_banned(&peer, now) {
                return Err(NetworkError::Banned(peer));
            }
        }
        if let Some(ip) = ip_of(&addr) {
            if bans.is_ip_banned(&ip, now) {
                return Err(NetworkError::Dial {
                    addr,
                    reason: format!("IP {ip} is banned"),
                });
            }
        }
        let key = self.add_target(addr.clone(), true);
        match self.dial(&key) {
            Ok(()) | Err(DialError::DialPeerConditionFalse(_)) => Ok(()),
            Err(e) => Err(NetworkError::Dial {
                addr,
                reason: e.to_string(),
            }),
        }
    }

    /// Adds a dial target for `addr` (keyed by its peer id when it has one).
    pub(crate) fn add_target(&mut self, addr: Multiaddr, persistent: bool) -> Target {
        let (bare, peer) = split_peer(&addr);
        let key = match peer {
            Some(peer) => Target::Peer(peer),
            None => Target::Addr(bare.clone()),
        };
        if peer == Some(self.local_peer_id) {
            return key;
        }
        let target = self.targets.entry(key.clone()).or_insert(DialTarget {
            peer,
            addrs: Vec::new(),
            persistent,
            failures: 0,
            next: Instant::now(),
        });
        target.persistent |= persistent;
        target.failures = 0;
        target.next = Instant::now();
        if !target.addrs.contains(&bare) {
            target.addrs.insert(0, bare);
            target.addrs.truncate(MAX_ADDRS_PER_PEER);
        }
        key
    }

    fn dial(&mut self, key: &Target) -> Result<(), DialError> {
        let Some(target) = self.targets.get(key) else {
            return Ok(());
        };
        let opts = match target.peer {
            Some(peer) => DialOpts::peer_id(peer)
                .addresses(target.addrs.clone())
                .build(),
            None => match target.addrs.first() {
                Some(addr) => DialOpts::unknown_peer_id().address(addr.clone()).build(),
                None => return Ok(()),
            },
        };
        let id = opts.connection_id();
        self.swarm.dial(opts)?;
        self.dialing.insert(id, key.clone());
        Ok(())
    }

    /// Dials the targets that are due, not connected, not being dialed and not banned.
    pub(crate) fn dial_due(&mut self) {
        let now = Instant::now();
        if self.swarm.behaviour().gate.peer_count() >= self.config.max_peers {
            return;
        }
        let in_flight: Vec<&Target> = self.dialing.values().collect();
        let due: Vec<Target> = self
            .targets
            .iter()
            .filter(|(key, t)| {
                t.next <= now
                    && !in_flight.contains(key)
                    && t.peer.is_none_or(|p| {
                        !self.swarm.is_connected(&p)
                            && !self.swarm.behaviour().gate.bans.is_peer_banned(&p, now)
                    })
            })
            .map(|(key, _)| key.clone())
            .collect();
        for key in due {
            if let Err(e) = self.dial(&key) {
                tracing::debug!(target: LOG, ?key, error = %e, "dial failed");
                self.dial_failed(&key);
            }
        }
    }

    fn dial_failed(&mut self, key: &Target) {
        let Some(target) = self.targets.get_mut(key) else {
            return;
        };
        target.failures += 1;
        target.next = Instant::now() + backoff(target.failures);
        if !target.persistent && target.failures >= MAX_STORED_PEER_FAILURES {
            self.targets.remove(key);
        }
    }

    /// Saves a peer of our chain in the store and keeps it as a dial target (given up after
    /// failed dials unless it is a boot node or was added by hand).
    pub(crate) fn remember(&mut self, peer: PeerId) {
        let Some(state) = self.peers.get(&peer) else {
            return;
        };
        let addrs = dial_addrs(state);
        let _ = self.store.send(StoreOp::Save(peer, addrs.clone()));
        if addrs.is_empty() {
            return;
        }
        let target = self
            .targets
            .entry(Target::Peer(peer))
            .or_insert_with(|| DialTarget::known_peer(peer, Vec::new()));
        for addr in addrs {
            if !target.addrs.contains(&addr) {
                target.addrs.push(addr);
            }
        }
        target.addrs.truncate(MAX_ADDRS_PER_PEER);
    }

    // ---- connections ----

    pub(crate) fn on_connection_established(
        &mut self,
        peer_id: PeerId,
        connection_id: ConnectionId,
        endpoint: &ConnectedPoint,
        first: bool,
    ) {
        if let Some(key) = self.dialing.remove(&connection_id) {
            if let Some(target) = self.targets.get_mut(&key) {
                target.peer = Some(peer_id);
            }
        }
        for target in self.targets.values_mut() {
            if target.peer == Some(peer_id) {
                target.failures = 0;
            }
        }
        tracing::debug!(target: LOG, peer = %peer_id, addr = %endpoint.get_remote_address(), "connected");
        if first {
            self.peers.insert(
                peer_id,
                PeerState {
                    addr: split_peer(endpoint.get_remote_address()).0,
                    inbound: endpoint.is_listener(),
                    ready: false,
                    status: None,
                    best_height: 0,
                    best_hash: Hash::ZERO,
                    asking_status: false,
                    listen_addrs: Vec::new(),
                },
            );
            self.ask_status(peer_id);
        }
        self.dirty = true;
    }

    pub(crate) fn on_connection_closed(
        &mut self,
        peer: PeerId,
        remaining: u32,
        cause: Option<&ConnectionError>,
    ) {
        if remaining == 0 {
            tracing::debug!(target: LOG, %peer, ?cause, "disconnected");
            if let Some(state) = self.peers.remove(&peer) {
                if state.ready {
                    self.emit_peer_event(NetworkEvent::PeerDisconnected(peer));
                }
            }
            self.rates.remove(&peer);
            self.gossip_rates.remove(&peer);
            let now = Instant::now();
            for target in self.targets.values_mut() {
                if target.peer == Some(peer) {
                    target.next = now + backoff(target.failures);
                }
            }
        }
        self.dirty = true;
    }

    pub(crate) fn on_dial_error(
        &mut self,
        connection_id: ConnectionId,
        peer: Option<PeerId>,
        error: &DialError,
    ) {
        tracing::debug!(target: LOG, ?peer, %error, "dial failed");
        if let Some(key) = self.dialing.remove(&connection_id) {
            if matches!(error, DialError::LocalPeerId { .. }) {
                // A boot node address that turned out to be this node.
                self.targets.remove(&key);
            } else {
                self.dial_failed(&key);
            }
        }
        self.dirty = true;
    }

    /// Records that `peer` has block `number` (`hash`), unless it claimed a higher one.
    pub(crate) fn note_best(&mut self, peer: PeerId, number: u64, hash: Hash) {
        if let Some(state) = self.peers.get_mut(&peer) {
            if number >= state.best_height {
                state.best_height = number;
                state.best_hash = hash;
                self.dirty = true;
            }
        }
    }

    /// Records that `peer` could not serve block `number`: its best height drops below it.
    pub(crate) fn lower_best(&mut self, peer: PeerId, number: u64) {
        if let Some(state) = self.peers.get_mut(&peer) {
            let served = number.saturating_sub(1);
            if served < state.best_height {
                state.best_height = served;
                self.dirty = true;
            }
        }
    }

    // ---- reputation and bans ----

    pub(crate) fn report(&mut self, peer: PeerId, what: Misbehaviour) {
        let (score, ban) = self.reputations.report(peer, what);
        tracing::debug!(target: LOG, %peer, ?what, score, "peer penalised");
        self.swarm
            .behaviour_mut()
            .gossipsub
            .set_application_score(&peer, f64::from(score));
        self.dirty = true;
        if ban {
            self.ban(peer, &format!("score {score} after {what:?}"));
        }
    }

    /// Lets every connected peer's score recover a step, in gossipsub's scoring too.
    pub(crate) fn decay_scores(&mut self) {
        self.reputations.decay();
        let connected: Vec<PeerId> = self.peers.keys().copied().collect();
        for peer in connected {
            let score = self.reputations.score(&peer);
            self.swarm
                .behaviour_mut()
                .gossipsub
                .set_application_score(&peer, f64::from(score));
        }
    }

    /// Bans a misbehaving peer by id and by the IPs it is connected from.
    pub(crate) fn ban(&mut self, peer: PeerId, reason: &str) {
        let until = Instant::now() + self.config.ban_duration;
        let gate = &mut self.swarm.behaviour_mut().gate;
        // Loopback is never banned by IP: local nodes of a devnet share it, and a local
        // attacker has other means.
        let ips: Vec<_> = gate
            .ips_of(&peer)
            .into_iter()
            .filter(|ip| !ip.is_loopback())
            .collect();
        gate.bans.ban_peer(peer, until);
        for ip in &ips {
            gate.bans.ban_ip(*ip, until);
        }
        tracing::warn!(
            target: LOG, %peer, ?ips, reason, ban_secs = self.config.ban_duration.as_secs(),
            "banned misbehaving peer"
        );
        self.reputations.forget(&peer);
        self.swarm
            .behaviour_mut()
            .gossipsub
            .set_application_score(&peer, 0.0);
        self.forget_peer(peer);
    }

    /// Refuses a peer of another chain: banned by peer id only (its IP may host honest peers).
    pub(crate) fn refuse(&mut self, peer: PeerId, reason: &str) {
        let now = Instant::now();
        if self.swarm.behaviour().gate.bans.is_peer_banned(&peer, now) {
            return;
        }
        tracing::warn!(target: LOG, %peer, "refusing peer: {reason}");
        let until = now + self.config.ban_duration;
        self.swarm.behaviour_mut().gate.bans.ban_peer(peer, until);
        self.forget_peer(peer);
    }

    fn forget_peer(&mut self, peer: PeerId) {
        let _ = self.swarm.disconnect_peer_id(peer);
        let _ = self.store.send(StoreOp::Remove(peer));
        self.targets
            .retain(|_, t| t.persistent || t.peer != Some(peer));
        self.dirty = true;
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_four_seconds() {
        assert_eq!(backoff(0), Duration::from_secs(1));
        assert_eq!(backoff(1), Duration::from_secs(2));
        assert_eq!(backoff(2), Duration::from_secs(4));
        assert_eq!(backoff(6), Duration::from_secs(4));
        assert_eq!(backoff(100), Duration::from_secs(4));
    }

    #[test]
    fn peer_suffix_is_split_and_addresses_checked() {
        let peer = PeerId::random();
        let addr: Multiaddr = format!("/ip4/1.2.3.4/tcp/7070/p2p/{peer}")
            .parse()
            .expect("valid");
        let (bare, id) = split_peer(&addr);
        assert_eq!(id, Some(peer));
        assert_eq!(bare.to_string(), "/ip4/1.2.3.4/tcp/7070");
        assert!(check_dialable(&bare).is_ok());
        assert!(check_dialable(&"/ip4/1.2.3.4/udp/1".parse().expect("valid")).is_err());
        assert!(check_dialable(&"/dns4/a.b/tcp/1".parse().expect("valid")).is_err());
    }
}
