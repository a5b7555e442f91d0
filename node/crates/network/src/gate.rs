//! The connection gate: a behaviour with no protocol of its own that refuses connections from
//! banned peers and IPs, beyond the per-IP cap, and from new peers beyond the peer cap.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::IpAddr;
use std::task::{Context, Poll};
use std::time::Instant;

use libp2p::core::transport::PortUse;
use libp2p::core::Endpoint;
use libp2p::multiaddr::Protocol;
use libp2p::swarm::{
    dummy, ConnectionDenied, ConnectionId, FromSwarm, NetworkBehaviour, THandler, THandlerInEvent,
    THandlerOutEvent, ToSwarm,
};
use libp2p::{Multiaddr, PeerId};

use super::reputation::Bans;

/// Why the gate refused a connection.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("peer is banned")]
    PeerBanned,
    #[error("IP {0} is banned")]
    IpBanned(IpAddr),
    #[error("too many connections from IP {0}")]
    TooManyFromIp(IpAddr),
    #[error("peer limit reached")]
    TooManyPeers,
}

/// The first IP address of a multiaddr, if it starts with one.
pub fn ip_of(addr: &Multiaddr) -> Option<IpAddr> {
    addr.iter().find_map(|p| match p {
        Protocol::Ip4(ip) => Some(IpAddr::V4(ip)),
        Protocol::Ip6(ip) => Some(IpAddr::V6(ip)),
        _ => None,
    })
}

#[derive(Debug)]
pub struct Gate {
    pub bans: Bans,
    max_peers: usize,
    max_per_ip: usize,
    connections: HashMap<ConnectionId, (PeerId, Option<IpAddr>)>,
    per_ip: HashMap<IpAddr, usize>,
    per_peer: HashMap<PeerId, usize>,
    /// Connections refused so far.
    pub denied: u64,
}

impl Gate {
    pub fn new(max_peers: usize, max_per_ip: usize) -> Gate {
        Gate {
            bans: Bans::default(),
            max_peers,
            max_per_ip,
            connections: HashMap::new(),
            per_ip: HashMap::new(),
            per_peer: HashMap::new(),
            denied: 0,
        }
    }

    /// Connected peers (with at least one established connection).
    pub fn peer_count(&self) -> usize {
        self.per_peer.len()
    }

    pub fn connection_count(&self) -> usize {
        self.connections.len()
    }

    /// The IPs `peer` is connected from.
    pub fn ips_of(&self, peer: &PeerId) -> Vec<IpAddr> {
        let mut ips: Vec<IpAddr> = self
            .connections
            .values()
            .filter(|(p, _)| p == peer)
            .filter_map(|(_, ip)| *ip)
            .collect();
        ips.sort();
        ips.dedup();
        ips
    }

    fn deny(&mut self, why: Refused) -> ConnectionDenied {
        self.denied += 1;
        tracing::debug!(target: "net", reason = %why, "connection refused");
        ConnectionDenied::new(why)
    }

    fn check_ip(&mut self, ip: Option<IpAddr>, inbound: bool) -> Result<(), ConnectionDenied> {
        let Some(ip) = ip else { return Ok(()) };
        if self.bans.is_ip_banned(&ip, Instant::now()) {
            return Err(self.deny(Refused::IpBanned(ip)));
        }
        if inbound && self.per_ip.get(&ip).copied().unwrap_or(0) >= self.max_per_ip {
            return Err(self.deny(Refused::TooManyFromIp(ip)));
        }
        Ok(())
    }

    fn check_peer(&mut self, peer: &PeerId) -> Result<(), ConnectionDenied> {
        if self.bans.is_peer_banned(peer, Instant::now()) {
            return Err(self.deny(Refused::PeerBanned));
        }
        if !self.per_peer.contains_key(peer) && self.per_peer.len() >= self.max_peers {
            return Err(self.deny(Refused::TooManyPeers));
        }
        Ok(())
    }
}

impl NetworkBehaviour for Gate {
    type ConnectionHandler = dummy::ConnectionHandler;
    type ToSwarm = Infallible;

    fn handle_pending_inbound_connection(
        &mut self,
        _: ConnectionId,
        _local: &Multiaddr,
        remote: &Multiaddr,
    ) -> Result<(), ConnectionDenied> {
        self.check_ip(ip_of(remote), true)
    }

    fn handle_established_inbound_connection(
        &mut self,
        _: ConnectionId,
        peer: PeerId,
        _local: &Multiaddr,
        remote: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        self.check_peer(&peer)?;
        self.check_ip(ip_of(remote), true)?;
        Ok(dummy::ConnectionHandler)
    }

    fn handle_pending_outbound_connection(
        &mut self,
        _: ConnectionId,
        peer: Option<PeerId>,
        _: &[Multiaddr],
        _: Endpoint,
    ) -> Result<Vec<Multiaddr>, ConnectionDenied> {
        if let Some(peer) = peer {
            if self.bans.is_peer_banned(&peer, Instant::now()) {
                return Err(self.deny(Refused::PeerBanned));
            }
        }
        Ok(vec![])
    }

    fn handle_established_outbound_connection(
        &mut self,
        _: ConnectionId,
        peer: PeerId,
        addr: &Multiaddr,
        _: Endpoint,
        _: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        self.check_peer(&peer)?;
        self.check_ip(ip_of(addr), false)?;
        Ok(dummy::ConnectionHandler)
    }

    fn on_swarm_event(&mut self, event: FromSwarm) {
        match event {
            FromSwarm::ConnectionEstablished(e) => {
                let ip = ip_of(e.endpoint.get_remote_address());
                self.connections.insert(e.connection_id, (e.peer_id, ip));
                if let Some(ip) = ip {
                    *self.per_ip.entry(ip).or_insert(0) += 1;
                }
                *self.per_peer.entry(e.peer_id).or_insert(0) += 1;
            }
            FromSwarm::ConnectionClosed(e) => {
                if let Some((peer, ip)) = self.connections.remove(&e.connection_id) {
                    if let Some(ip) = ip {
                        decrement(&mut self.per_ip, &ip);
                    }
                    decrement(&mut self.per_peer, &peer);
                }
            }
            _ => {}
        }
    }

    fn on_connection_handler_event(
        &mut self,
        _: PeerId,
        _: ConnectionId,
        event: THandlerOutEvent<Self>,
    ) {
        match event {}
    }

    fn poll(&mut self, _: &mut Context<'_>) -> Poll<ToSwarm<Infallible, THandlerInEvent<Self>>> {
        Poll::Pending
    }
}

fn decrement<K: std::hash::Hash + Eq>(map: &mut HashMap<K, usize>, key: &K) {
    if let Some(n) = map.get_mut(key) {
        *n -= 1;
        if *n == 0 {
            map.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_is_read_from_tcp_and_ws_addresses() {
        let a: Multiaddr = "/ip4/10.1.2.3/tcp/7070/ws".parse().expect("valid");
        assert_eq!(ip_of(&a), Some(IpAddr::from([10, 1, 2, 3])));
        let b: Multiaddr = "/ip6/::1/tcp/1".parse().expect("valid");
        assert_eq!(ip_of(&b), Some("::1".parse().expect("valid")));
        let c: Multiaddr = "/dns4/example.org/tcp/1".parse().expect("valid");
        assert_eq!(ip_of(&c), None);
    }

    #[test]
    fn banned_and_crowded_ips_are_refused() {
        let mut g = Gate::new(10, 1);
        let ip = IpAddr::from([10, 0, 0, 1]);
        assert!(g.check_ip(Some(ip), true).is_ok());
        g.per_ip.insert(ip, 1);
        assert!(g.check_ip(Some(ip), true).is_err(), "over the per-IP cap");
        assert!(
            g.check_ip(Some(ip), false).is_ok(),
            "our own dials are not capped"
        );
        let other = IpAddr::from([10, 0, 0, 2]);
        g.bans
            .ban_ip(other, Instant::now() + std::time::Duration::from_secs(60));
        assert!(g.check_ip(Some(other), false).is_err());
        let peer = PeerId::random();
        g.bans
            .ban_peer(peer, Instant::now() + std::time::Duration::from_secs(60));
        assert!(g.check_peer(&peer).is_err());
        assert_eq!(g.denied, 3);
    }
}
