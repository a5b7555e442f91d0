//! Building the swarm and binding its listeners: the TCP and websocket transports (noise, yamux),
//! the behaviours (connection gate, identify, gossipsub with its peer scoring, the sync
//! request-response protocol, ping) and the listen addresses.
//!
//! Every dial gives up after [`DIAL_TIMEOUT`]; every connection is pinged each
//! [`PING_INTERVAL`] and its socket has `TCP_USER_TIMEOUT` ([`TCP_USER_TIMEOUT`]), so a connection
//! a partition cut dies within seconds. [`listen`] waits until every address is bound (or fails),
//! and reports a port held by another process as [`NetworkError::AddrInUse`] although libp2p
//! binds with `SO_REUSEPORT`.

use std::collections::HashMap;
use std::time::Duration;

use aitbc_primitives::Hash;
use libp2p::core::upgrade;
use libp2p::futures::StreamExt;
use libp2p::gossipsub;
use libp2p::multiaddr::Protocol;
use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::Transport as _;
use libp2p::{identify, identity::Keypair, noise, ping, tcp, yamux, Multiaddr, Swarm};

use super::gate::{ip_of, Gate};
use super::protocol::{self, SyncCodec, MAX_REQUEST_BYTES, RESPONSE_FRAMING_BYTES};
use super::{NetworkConfig, NetworkError, Topic, LOG};

/// A connection with nothing to do is closed after this long.
const IDLE_TIMEOUT: Duration = Duration::from_secs(120);
/// A TCP connection whose sent data stays unacknowledged this long is closed by the kernel.
const TCP_USER_TIMEOUT: Duration = Duration::from_secs(5);
/// A dial (TCP connect and the noise and yamux upgrades) gives up after this long.
const DIAL_TIMEOUT: Duration = Duration::from_secs(5);
/// Every connection is pinged this often; a ping unanswered within [`PING_TIMEOUT`] closes it.
const PING_INTERVAL: Duration = Duration::from_secs(1);
const PING_TIMEOUT: Duration = Duration::from_secs(3);
/// Start-up gives up waiting for the listeners after this long.
const LISTEN_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(NetworkBehaviour)]
#[behaviour(prelude = "libp2p::swarm::derive_prelude")]
pub(crate) struct Behaviour {
    pub(crate) gate: Gate,
    identify: identify::Behaviour,
    pub(crate) gossipsub: gossipsub::Behaviour,
    pub(crate) sync: request_response::Behaviour<SyncCodec>,
    ping: ping::Behaviour,
}

pub(crate) async fn build_swarm(
    keypair: &Keypair,
    config: &NetworkConfig,
) -> Result<Swarm<Behaviour>, NetworkError> {
    let transport = |e: &dyn std::fmt::Display| NetworkError::Transport(e.to_string());
    let genesis = config.genesis_hash;
    let max_transmit = config.max_message_bytes + RESPONSE_FRAMING_BYTES;
    let max_response =
        config.max_response_bytes.max(config.max_message_bytes) + RESPONSE_FRAMING_BYTES;
    let request_timeout = config.request_timeout;
    let swarm = libp2p::SwarmBuilder::with_existing_identity(keypair.clone())
        .with_tokio()
        // TCP and websocket, each with a timeout on the whole dial (connect, noise, yamux): a
        // dial into a partition would otherwise hang in the kernel's SYN retries for minutes
        // and hold back the redial once the network heals.
        .with_other_transport(
            |key| -> Result<_, Box<dyn std::error::Error + Send + Sync>> {
                Ok(tcp_transport()
                    .upgrade(upgrade::Version::V1)
                    .authenticate(noise::Config::new(key)?)
                    .multiplex(yamux::Config::default())
                    .timeout(DIAL_TIMEOUT))
            },
        )
        .map_err(|e| transport(&e))?
        .with_other_transport(
            |key| -> Result<_, Box<dyn std::error::Error + Send + Sync>> {
                Ok(libp2p_websocket::Config::new(tcp_transport())
                    .upgrade(upgrade::Version::V1)
                    .authenticate(noise::Config::new(key)?)
                    .multiplex(yamux::Config::default())
                    .timeout(DIAL_TIMEOUT))
            },
        )
        .map_err(|e| transport(&e))?
        .with_behaviour(
            |key| -> Result<Behaviour, Box<dyn std::error::Error + Send + Sync>> {
                let gossip_config = gossipsub::ConfigBuilder::default()
                    .validation_mode(gossipsub::ValidationMode::Strict)
                    .validate_messages()
                    .message_id_fn(protocol::message_id)
                    .max_transmit_size(max_transmit)
                    .heartbeat_interval(Duration::from_secs(1))
                    .build()?;
                let mut gossipsub = gossipsub::Behaviour::new(
                    gossipsub::MessageAuthenticity::Signed(key.clone()),
                    gossip_config,
                )?;
                gossipsub.with_peer_score(peer_score_params(&genesis), Default::default())?;
                let identify = identify::Behaviour::new(
                    identify::Config::new(protocol::chain_id(&genesis), key.public())
                        .with_agent_version(format!("aitbc-node/{}", env!("CARGO_PKG_VERSION"))),
                );
                let sync = request_response::Behaviour::with_codec(
                    SyncCodec {
                        max_request_bytes: MAX_REQUEST_BYTES,
                        max_response_bytes: max_response,
                    },
                    [(protocol::sync_protocol(&genesis), ProtocolSupport::Full)],
                    request_response::Config::default()
                        .with_request_timeout(request_timeout)
                        .with_max_concurrent_streams(64),
                );
                Ok(Behaviour {
                    gate: Gate::new(config.max_peers, config.max_per_ip),
                    identify,
                    gossipsub,
                    sync,
                    ping: ping::Behaviour::new(
                        ping::Config::new()
                            .with_interval(PING_INTERVAL)
                            .with_timeout(PING_TIMEOUT),
                    ),
                })
            },
        )
        .map_err(|e| transport(&e))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(IDLE_TIMEOUT))
        .build();
    Ok(swarm)
}

/// The TCP transport under both the plain and the websocket transport: no Nagle delay, and
/// [`bound_unacknowledged`] on every connection.
type TcpTransport = libp2p::core::transport::map::Map<
    tcp::tokio::Transport,
    fn(tcp::tokio::TcpStream, libp2p::core::ConnectedPoint) -> tcp::tokio::TcpStream,
>;

fn tcp_transport() -> TcpTransport {
    tcp::tokio::Transport::new(tcp::Config::default().nodelay(true)).map(bound_unacknowledged)
}

/// Sets `TCP_USER_TIMEOUT` on a new connection's socket: data unacknowledged for
/// [`TCP_USER_TIMEOUT`] closes the connection at once. Without it a connection across a
/// partition stays open, its retransmissions backing off for minutes, and even a close waits on
/// them: after the heal traffic resumed only 10 s and more later. With the pings every second
/// there is always data in flight, so a cut connection dies within seconds and is redialed.
fn bound_unacknowledged(
    stream: tcp::tokio::TcpStream,
    _: libp2p::core::ConnectedPoint,
) -> tcp::tokio::TcpStream {
    #[cfg(target_os = "linux")]
    if let Err(e) = socket2::SockRef::from(&stream.0).set_tcp_user_timeout(Some(TCP_USER_TIMEOUT)) {
        tracing::debug!(target: LOG, error = %e, "cannot set TCP_USER_TIMEOUT");
    }
    stream
}

/// gossipsub's own scoring: our reputation is the application score (weight 1, so -50 stops our
/// publications to the peer and -80 graylists it); an invalid message costs 10 × count² per
/// topic; delivery-rate penalties are off (our topics are quiet between blocks).
fn peer_score_params(genesis: &Hash) -> gossipsub::PeerScoreParams {
    let mut params = gossipsub::PeerScoreParams {
        app_specific_weight: 1.0,
        ..Default::default()
    };
    for topic in Topic::ALL {
        let topic_params = gossipsub::TopicScoreParams {
            topic_weight: 1.0,
            time_in_mesh_weight: 0.01,
            time_in_mesh_quantum: Duration::from_secs(1),
            mesh_message_deliveries_weight: 0.0,
            mesh_failure_penalty_weight: 0.0,
            invalid_message_deliveries_weight: -10.0,
            ..Default::default()
        };
        params
            .topics
            .insert(topic.ident(genesis).hash(), topic_params);
    }
    params
}

/// Binds every address and waits until each reports its actual address.
pub(crate) async fn listen(
    swarm: &mut Swarm<Behaviour>,
    addrs: &[Multiaddr],
) -> Result<Vec<Multiaddr>, NetworkError> {
    use libp2p::TransportError;
    let mut pending = HashMap::new();
    for addr in addrs {
        probe_port(addr)?;
        match swarm.listen_on(addr.clone()) {
            Ok(id) => {
                pending.insert(id, addr.clone());
            }
            Err(TransportError::MultiaddrNotSupported(_)) => {
                return Err(NetworkError::BadAddress {
                    addr: addr.clone(),
                    reason: "expected /ip4|ip6/…/tcp/PORT or /ip4|ip6/…/tcp/PORT/ws".into(),
                })
            }
            Err(TransportError::Other(e)) => return Err(listen_error(addr, &e)),
        }
    }
    let mut bound = Vec::new();
    let deadline = tokio::time::Instant::now() + LISTEN_TIMEOUT;
    while !pending.is_empty() {
        let Ok(event) = tokio::time::timeout_at(deadline, swarm.select_next_some()).await else {
            let addr = pending
                .values()
                .next()
                .cloned()
                .unwrap_or_else(Multiaddr::empty);
            return Err(NetworkError::Listen {
                addr,
                reason: "no address reported in time".into(),
            });
        };
        match event {
            SwarmEvent::NewListenAddr {
                listener_id,
                address,
            } => {
                pending.remove(&listener_id);
                bound.push(address);
            }
            SwarmEvent::ListenerError { listener_id, error }
            | SwarmEvent::ListenerClosed {
                listener_id,
                reason: Err(error),
                ..
            } => {
                if let Some(addr) = pending.get(&listener_id) {
                    return Err(listen_error(addr, &error));
                }
            }
            _ => {}
        }
    }
    Ok(bound)
}

/// libp2p binds its listeners with `SO_REUSEPORT` (to dial from the listening port), so a port
/// held by another node would be shared silently: bind it once without that option to find out.
fn probe_port(addr: &Multiaddr) -> Result<(), NetworkError> {
    let port = addr.iter().find_map(|p| match p {
        Protocol::Tcp(port) => Some(port),
        _ => None,
    });
    let (Some(ip), Some(port)) = (ip_of(addr), port) else {
        return Ok(());
    };
    if port == 0 {
        return Ok(());
    }
    std::net::TcpListener::bind((ip, port))
        .map(drop)
        .map_err(|e| listen_error(addr, &e))
}

fn listen_error(addr: &Multiaddr, e: &std::io::Error) -> NetworkError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::AddrInUse {
                return NetworkError::AddrInUse(addr.clone());
            }
        }
        source = err.source();
    }
    NetworkError::Listen {
        addr: addr.clone(),
        reason: e.to_string(),
    }
}
