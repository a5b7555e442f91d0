//! The swarm task: owns the libp2p swarm and every piece of mutable network state, reacts to
//! swarm events, handle commands, served responses and a one-second tick.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aitbc_primitives::{BoundedVec, Hash};
use codec::Encode;
use libp2p::core::upgrade;
use libp2p::futures::StreamExt;
use libp2p::gossipsub::{self, MessageAcceptance, TopicHash};
use libp2p::multiaddr::Protocol;
use libp2p::request_response::{self, OutboundRequestId, ProtocolSupport, ResponseChannel};
use libp2p::swarm::dial_opts::DialOpts;
use libp2p::swarm::{ConnectionId, DialError, NetworkBehaviour, SwarmEvent};
use libp2p::Transport as _;
use libp2p::{identify, identity::Keypair, noise, ping, tcp, yamux, Multiaddr, PeerId, Swarm};
use tokio::sync::{mpsc, oneshot, Semaphore};
use tokio::task::JoinHandle;

use super::gate::{ip_of, Gate};
use super::protocol::{
    self, is_too_large, trim_to_budget, PeerRecord, SyncCodec, MAX_BLOCKS_PER_REQUEST,
    MAX_PEER_RECORDS, MAX_RECORD_ADDRS, MAX_REQUEST_BYTES, RESPONSE_FRAMING_BYTES,
};
use super::reputation::{Misbehaviour, Reputations, DECAY_INTERVAL};
use super::store::{PeerStore, MAX_ADDRS_PER_PEER};
use super::{
    key, Command, HandleInner, NetworkConfig, NetworkError, NetworkEvent, NetworkHandle,
    NetworkStats, PeerInfo, RequestError, SharedState, Status, SyncProvider, SyncRequest,
    SyncResponse, Topic, Validation, MAX_CONCURRENT_SERVES, MAX_REQUESTS_PER_WINDOW,
    STATUS_REFRESH,
};
use parking_lot::Mutex;

const LOG: &str = "net";
/// Votes in one response at most.
const MAX_VOTES_PER_RESPONSE: usize = 4096;
/// Window of the per-peer request rate limit.
const REQUEST_WINDOW: Duration = Duration::from_secs(10);
/// Window of the per-peer gossip rate limit.
const GOSSIP_WINDOW: Duration = Duration::from_secs(1);
/// A connection with nothing to do is closed after this long.
const IDLE_TIMEOUT: Duration = Duration::from_secs(120);
/// Dial backoff bounds. The cap is short so that a network split heals within seconds of the
/// link coming back (a few dials per peer a minute while a peer is down).
const MIN_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(4);
/// A TCP connection whose sent data stays unacknowledged this long is closed by the kernel.
const TCP_USER_TIMEOUT: Duration = Duration::from_secs(5);
/// A dial (TCP connect and the noise and yamux upgrades) gives up after this long.
const DIAL_TIMEOUT: Duration = Duration::from_secs(5);
/// Every connection is pinged this often; a ping unanswered within [`PING_TIMEOUT`] closes it.
const PING_INTERVAL: Duration = Duration::from_secs(1);
const PING_TIMEOUT: Duration = Duration::from_secs(3);
/// A peer from the store (or learned from peers) is given up after this many failed dials in a
/// row: with the backoff capped at 4 s, after about four minutes unreachable. A partition or an
/// outage shorter than that heals by itself (every known peer is dialed again), a longer one
/// through peer exchange.
const MAX_STORED_PEER_FAILURES: u32 = 64;
/// Start-up gives up waiting for the listeners after this long.
const LISTEN_TIMEOUT: Duration = Duration::from_secs(10);
/// How often one ready peer is asked for its peers (peer exchange).
const PEER_EXCHANGE_EVERY: Duration = Duration::from_secs(5);
/// Dial targets at most (boot nodes, stored and learned peers).
const MAX_LEARNED_TARGETS: usize = 512;

#[derive(NetworkBehaviour)]
#[behaviour(prelude = "libp2p::swarm::derive_prelude")]
pub(crate) struct Behaviour {
    gate: Gate,
    identify: identify::Behaviour,
    gossipsub: gossipsub::Behaviour,
    sync: request_response::Behaviour<SyncCodec>,
    ping: ping::Behaviour,
}

/// Starts the network service: loads or creates the node key, binds `config.listen` (returning
/// an error for an address in use or an unsupported one), opens the peer store, dials the boot
/// nodes and known peers, and spawns the service task on the current tokio runtime.
pub async fn start(
    config: NetworkConfig,
    provider: Arc<dyn SyncProvider>,
) -> Result<(NetworkHandle, mpsc::Receiver<NetworkEvent>, JoinHandle<()>), NetworkError> {
    config.validate()?;
    let dir = config.dir();
    let keypair = key::load_or_create(&dir, config.node_key.as_deref())?;
    let local_peer_id = keypair.public().to_peer_id();
    let store = PeerStore::open(&dir)?;
    let known = store.load().unwrap_or_else(|e| {
        tracing::warn!(target: LOG, error = %e, "cannot read known peers");
        Vec::new()
    });

    let mut swarm = build_swarm(&keypair, &config).await?;
    for topic in Topic::ALL {
        swarm
            .behaviour_mut()
            .gossipsub
            .subscribe(&topic.ident(&config.genesis_hash))
            .map_err(|e| NetworkError::Transport(format!("gossipsub subscribe: {e}")))?;
    }
    let listen_addrs = listen(&mut swarm, &config.listen).await?;
    for addr in &listen_addrs {
        tracing::info!(target: LOG, "listening on {addr}/p2p/{local_peer_id}");
    }

    let shared = Arc::new(Mutex::new(SharedState {
        listen_addrs,
        ..SharedState::default()
    }));
    let (commands_tx, commands) = mpsc::unbounded_channel();
    let (events, events_rx) = mpsc::channel(config.event_buffer);
    let (served_tx, served) = mpsc::unbounded_channel();
    let (store_tx, store_thread) = spawn_store_writer(store);

    let topics = Topic::ALL
        .iter()
        .map(|t| (t.ident(&config.genesis_hash).hash(), *t))
        .collect();
    let handle = NetworkHandle {
        inner: Arc::new(HandleInner {
            commands: commands_tx,
            shared: shared.clone(),
            local_peer_id,
            max_message_bytes: config.max_message_bytes,
            request_timeout: config.request_timeout,
        }),
    };
    let mut worker = Worker {
        swarm,
        chain_id: protocol::chain_id(&config.genesis_hash),
        provider,
        shared,
        commands,
        events,
        pending_events: VecDeque::new(),
        served_tx,
        served,
        serving: Arc::new(Semaphore::new(MAX_CONCURRENT_SERVES)),
        requests: HashMap::new(),
        peers: HashMap::new(),
        reputations: Reputations::default(),
        targets: HashMap::new(),
        exchange_turn: 0,
        last_exchange: Instant::now(),
        dialing: HashMap::new(),
        rates: HashMap::new(),
        gossip_rates: HashMap::new(),
        topics,
        store: store_tx,
        local_peer_id,
        last_decay: Instant::now(),
        last_refresh: Instant::now(),
        dirty: true,
        config,
    };
    for addr in worker.config.bootnodes.clone() {
        worker.add_target(addr, true);
    }
    for known in known {
        if known.peer == local_peer_id || known.addrs.is_empty() {
            continue;
        }
        worker
            .targets
            .entry(Target::Peer(known.peer))
            .or_insert_with(|| DialTarget::known_peer(known.peer, known.addrs));
    }
    worker.dial_due();
    let task = tokio::spawn(async move {
        worker.run().await;
        drop(worker);
        // Wait for the store's last writes so the file is closed when the task ends.
        let _ = tokio::task::spawn_blocking(move || store_thread.join()).await;
    });
    Ok((handle, events_rx, task))
}

async fn build_swarm(
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
async fn listen(
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

enum StoreOp {
    Save(PeerId, Vec<Multiaddr>),
    Remove(PeerId),
}

/// The peer store's writes run on their own thread (each is a durable redb commit).
fn spawn_store_writer(
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
enum Target {
    Peer(PeerId),
    /// A boot node given without its peer id.
    Addr(Multiaddr),
}

#[derive(Debug)]
struct DialTarget {
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
    fn known_peer(peer: PeerId, addrs: Vec<Multiaddr>) -> DialTarget {
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
fn split_peer(addr: &Multiaddr) -> (Multiaddr, Option<PeerId>) {
    let mut addr = addr.clone();
    match addr.iter().last() {
        Some(Protocol::P2p(peer)) => {
            addr.pop();
            (addr, Some(peer))
        }
        _ => (addr, None),
    }
}

fn check_dialable(addr: &Multiaddr) -> Result<(), NetworkError> {
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
struct PeerState {
    addr: Multiaddr,
    inbound: bool,
    /// Handshake done: genesis matched, `PeerConnected` sent.
    ready: bool,
    status: Option<Status>,
    best_height: u64,
    best_hash: Hash,
    /// A Status request is in flight.
    asking_status: bool,
    listen_addrs: Vec<Multiaddr>,
}

/// What an outbound request is for.
enum Pending {
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

struct Worker {
    swarm: Swarm<Behaviour>,
    config: NetworkConfig,
    chain_id: String,
    provider: Arc<dyn SyncProvider>,
    shared: Arc<Mutex<SharedState>>,
    commands: mpsc::UnboundedReceiver<Command>,
    events: mpsc::Sender<NetworkEvent>,
    /// Peer events waiting for room in the event channel (never dropped, kept in order).
    pending_events: VecDeque<NetworkEvent>,
    served_tx: mpsc::UnboundedSender<(ResponseChannel<Vec<u8>>, Vec<u8>)>,
    served: mpsc::UnboundedReceiver<(ResponseChannel<Vec<u8>>, Vec<u8>)>,
    serving: Arc<Semaphore>,
    requests: HashMap<OutboundRequestId, (PeerId, Pending)>,
    peers: HashMap<PeerId, PeerState>,
    reputations: Reputations,
    targets: HashMap<Target, DialTarget>,
    /// Whose turn it is to be asked for its peers, and when one was last asked.
    exchange_turn: usize,
    last_exchange: Instant,
    dialing: HashMap<ConnectionId, Target>,
    /// Per-peer inbound request window: start, count, charged already.
    rates: HashMap<PeerId, (Instant, u32, bool)>,
    /// Per-peer gossip window: start, new messages received in it.
    gossip_rates: HashMap<PeerId, (Instant, u32)>,
    topics: HashMap<TopicHash, Topic>,
    store: std::sync::mpsc::Sender<StoreOp>,
    local_peer_id: PeerId,
    last_decay: Instant,
    last_refresh: Instant,
    /// The shared snapshot needs rebuilding.
    dirty: bool,
}

impl Worker {
    async fn run(&mut self) {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let has_pending = !self.pending_events.is_empty();
            let events = self.events.clone();
            tokio::select! {
                event = self.swarm.select_next_some() => self.on_swarm_event(event),
                command = self.commands.recv() => match command {
                    Some(Command::Shutdown) | None => break,
                    Some(command) => self.on_command(command),
                },
                Some((channel, bytes)) = self.served.recv() => {
                    // Fails only if the connection closed meanwhile.
                    let _ = self.swarm.behaviour_mut().sync.send_response(channel, bytes);
                }
                permit = events.reserve(), if has_pending => match permit {
                    Ok(permit) => {
                        if let Some(event) = self.pending_events.pop_front() {
                            permit.send(event);
                        }
                    }
                    Err(_) => self.pending_events.clear(),
                },
                _ = tick.tick() => self.on_tick(),
            }
            if self.dirty {
                self.publish_state();
            }
        }
        tracing::debug!(target: LOG, "network service stopped");
    }

    fn publish_state(&mut self) {
        self.dirty = false;
        let mut peers: Vec<PeerInfo> = self
            .peers
            .iter()
            .filter(|(_, p)| p.ready)
            .map(|(id, p)| PeerInfo {
                peer_id: *id,
                addr: p.addr.clone(),
                inbound: p.inbound,
                best_height: p.best_height,
                best_hash: p.best_hash,
                finalized_height: p.status.map_or(0, |s| s.finalized.0),
                reputation: self.reputations.score(id),
            })
            .collect();
        peers.sort_by_key(|p| p.peer_id.to_bytes());
        let gate = &self.swarm.behaviour().gate;
        let now = Instant::now();
        let banned: Vec<PeerId> = gate
            .bans
            .banned_peers()
            .filter(|p| gate.bans.is_peer_banned(p, now))
            .copied()
            .collect();
        let stats = NetworkStats {
            peers: peers.len(),
            connected: gate.peer_count(),
            connections: gate.connection_count(),
            banned: banned.len(),
            denied_connections: gate.denied,
        };
        let mut shared = self.shared.lock();
        shared.peers = peers;
        shared.banned = banned;
        shared.stats = stats;
    }

    fn emit_peer_event(&mut self, event: NetworkEvent) {
        if !self.pending_events.is_empty() {
            self.pending_events.push_back(event);
            return;
        }
        match self.events.try_send(event) {
            Ok(()) | Err(mpsc::error::TrySendError::Closed(_)) => {}
            Err(mpsc::error::TrySendError::Full(event)) => self.pending_events.push_back(event),
        }
    }

    // ---- commands ----

    fn on_command(&mut self, command: Command) {
        match command {
            Command::Publish { topic, data } => {
                let ident = topic.ident(&self.config.genesis_hash);
                if let Err(e) = self.swarm.behaviour_mut().gossipsub.publish(ident, data) {
                    tracing::debug!(target: LOG, topic = topic.name(), error = %e, "not published");
                }
            }
            Command::Validation {
                message_id,
                peer,
                result,
            } => self.validate(&message_id, peer, result),
            Command::Report { peer, what } => self.report(peer, what),
            Command::NoteBest { peer, number, hash } => {
                if let Some(state) = self.peers.get_mut(&peer) {
                    if number >= state.best_height {
                        state.best_height = number;
                        state.best_hash = hash;
                        self.dirty = true;
                    }
                }
            }
            Command::LowerBest { peer, number } => {
                if let Some(state) = self.peers.get_mut(&peer) {
                    let served = number.saturating_sub(1);
                    if served < state.best_height {
                        state.best_height = served;
                        self.dirty = true;
                    }
                }
            }
            Command::Request {
                peer,
                bytes,
                request,
                reply,
            } => {
                if !self.swarm.is_connected(&peer) {
                    let _ = reply.send(Err(RequestError::NotConnected));
                    return;
                }
                let id = self.swarm.behaviour_mut().sync.send_request(&peer, bytes);
                self.requests
                    .insert(id, (peer, Pending::User { request, reply }));
            }
            Command::AddPeer { addr, reply } => {
                let _ = reply.send(self.add_peer(addr));
            }
            Command::Shutdown => {}
        }
    }

    fn add_peer(&mut self, addr: Multiaddr) -> Result<(), NetworkError> {
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
    fn add_target(&mut self, addr: Multiaddr, persistent: bool) -> Target {
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
    fn dial_due(&mut self) {
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

    // ---- reputation ----

    /// Tells gossipsub the verdict on a message (forward, drop, or drop and charge `peer`).
    fn validate(&mut self, message_id: &gossipsub::MessageId, peer: PeerId, result: Validation) {
        let acceptance = match result {
            Validation::Accept => MessageAcceptance::Accept,
            Validation::Ignore => MessageAcceptance::Ignore,
            Validation::Reject(_) => MessageAcceptance::Reject,
        };
        self.swarm
            .behaviour_mut()
            .gossipsub
            .report_message_validation_result(message_id, &peer, acceptance);
        if let Validation::Reject(what) = result {
            self.report(peer, what);
        }
    }

    fn report(&mut self, peer: PeerId, what: Misbehaviour) {
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

    /// Bans a misbehaving peer by id and by the IPs it is connected from.
    fn ban(&mut self, peer: PeerId, reason: &str) {
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
    fn refuse(&mut self, peer: PeerId, reason: &str) {
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

    // ---- ticks ----

    fn on_tick(&mut self) {
        let now = Instant::now();
        if self.swarm.behaviour_mut().gate.bans.prune(now) {
            self.dirty = true;
        }
        if now.duration_since(self.last_decay) >= DECAY_INTERVAL {
            self.last_decay = now;
            self.reputations.decay();
            let connected: Vec<PeerId> = self.peers.keys().copied().collect();
            for peer in connected {
                let score = self.reputations.score(&peer);
                self.swarm
                    .behaviour_mut()
                    .gossipsub
                    .set_application_score(&peer, f64::from(score));
            }
            self.rates
                .retain(|_, (start, _, _)| now.duration_since(*start) < REQUEST_WINDOW);
            self.gossip_rates
                .retain(|_, (start, _)| now.duration_since(*start) < GOSSIP_WINDOW);
            self.dirty = true;
        }
        if now.duration_since(self.last_refresh) >= STATUS_REFRESH {
            self.last_refresh = now;
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
        if now.duration_since(self.last_exchange) >= PEER_EXCHANGE_EVERY {
            self.last_exchange = now;
            // Peer exchange: one ready peer at a time, in turn.
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
        self.dial_due();
    }

    fn ask_status(&mut self, peer: PeerId) {
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

    // ---- swarm events ----

    fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(e)) => self.on_gossip(e),
            SwarmEvent::Behaviour(BehaviourEvent::Sync(e)) => self.on_sync(e),
            SwarmEvent::Behaviour(BehaviourEvent::Identify(e)) => self.on_identify(e),
            SwarmEvent::Behaviour(BehaviourEvent::Ping(ping::Event {
                peer,
                connection,
                result: Err(error),
            })) => {
                // A connection that stopped carrying anything (a partition, a dead link): close
                // it rather than wait out TCP's retransmission backoff, which after a long cut
                // delays traffic for many seconds past the heal. The peer is redialed.
                tracing::debug!(target: LOG, %peer, %error, "ping failed; closing the connection");
                self.swarm.close_connection(connection);
            }
            SwarmEvent::Behaviour(BehaviourEvent::Ping(_)) => {}
            SwarmEvent::Behaviour(BehaviourEvent::Gate(e)) => match e {},
            SwarmEvent::ConnectionEstablished {
                peer_id,
                connection_id,
                endpoint,
                num_established,
                ..
            } => {
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
                if num_established.get() == 1 {
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
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established,
                cause,
                ..
            } => {
                if num_established == 0 {
                    tracing::debug!(target: LOG, peer = %peer_id, cause = ?cause, "disconnected");
                    if let Some(state) = self.peers.remove(&peer_id) {
                        if state.ready {
                            self.emit_peer_event(NetworkEvent::PeerDisconnected(peer_id));
                        }
                    }
                    self.rates.remove(&peer_id);
                    self.gossip_rates.remove(&peer_id);
                    let now = Instant::now();
                    for target in self.targets.values_mut() {
                        if target.peer == Some(peer_id) {
                            target.next = now + backoff(target.failures);
                        }
                    }
                }
                self.dirty = true;
            }
            SwarmEvent::OutgoingConnectionError {
                connection_id,
                peer_id,
                error,
            } => {
                tracing::debug!(target: LOG, peer = ?peer_id, error = %error, "dial failed");
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
            SwarmEvent::IncomingConnectionError {
                send_back_addr,
                error,
                ..
            } => {
                tracing::debug!(target: LOG, addr = %send_back_addr, error = %error, "incoming connection failed");
                self.dirty = true;
            }
            SwarmEvent::NewListenAddr { address, .. } => {
                let mut shared = self.shared.lock();
                if !shared.listen_addrs.contains(&address) {
                    shared.listen_addrs.push(address);
                }
            }
            SwarmEvent::ExpiredListenAddr { address, .. } => {
                self.shared.lock().listen_addrs.retain(|a| a != &address);
            }
            SwarmEvent::ListenerError { error, .. } => {
                tracing::warn!(target: LOG, error = %error, "listener error");
            }
            _ => {}
        }
    }

    fn on_gossip(&mut self, event: gossipsub::Event) {
        let gossipsub::Event::Message {
            propagation_source,
            message_id,
            message,
        } = event
        else {
            return;
        };
        if !self.gossip_within_rate(propagation_source) {
            self.validate(&message_id, propagation_source, Validation::Ignore);
            return;
        }
        let Some(topic) = self.topics.get(&message.topic).copied() else {
            self.validate(&message_id, propagation_source, Validation::Ignore);
            return;
        };
        let event = NetworkEvent::Gossip {
            topic,
            peer: propagation_source,
            message_id: message_id.clone(),
            data: message.data,
        };
        if self.events.try_send(event).is_err() {
            tracing::debug!(target: LOG, "event channel full: gossip message dropped");
            self.validate(&message_id, propagation_source, Validation::Ignore);
        }
    }

    /// Counts a new gossip message from `peer` against [`NetworkConfig::max_gossip_per_sec`];
    /// `false` when it is over: the message is dropped unread. The first excess message of a
    /// window charges `Flood`; an excess of half the limit in one window (a peer at 1.5 times the
    /// rate) bans at once. Small charges alone could not get a gossip flooder banned: at -80
    /// gossipsub graylists the peer (its messages no longer reach us, so nothing more is charged)
    /// and the score decays back before it reaches -100.
    fn gossip_within_rate(&mut self, peer: PeerId) -> bool {
        let limit = u32::try_from(self.config.max_gossip_per_sec).unwrap_or(u32::MAX);
        let now = Instant::now();
        let window = self.gossip_rates.entry(peer).or_insert((now, 0));
        if now.duration_since(window.0) >= GOSSIP_WINDOW {
            *window = (now, 0);
        }
        window.1 = window.1.saturating_add(1);
        let Some(excess) = window.1.checked_sub(limit).filter(|e| *e > 0) else {
            return true;
        };
        if excess == 1 {
            tracing::debug!(target: LOG, %peer, limit, "gossip over the rate: dropped");
            self.report(peer, Misbehaviour::Flood);
        } else if excess == (limit / 2).max(2) {
            self.gossip_rates.remove(&peer);
            self.ban(
                peer,
                &format!("gossip flood: over 1.5 x {limit} new messages in a second"),
            );
        }
        false
    }

    /// Asks `peer` for the peers it is connected to (peer exchange).
    fn ask_peers(&mut self, peer: PeerId) {
        let id = self
            .swarm
            .behaviour_mut()
            .sync
            .send_request(&peer, SyncRequest::Peers.encode());
        self.requests.insert(id, (peer, Pending::Peers));
    }

    /// Our ready peers, for a `Peers` request from `asker` (not itself).
    fn peer_records(&self, asker: &PeerId) -> Vec<PeerRecord> {
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

    fn on_identify(&mut self, event: identify::Event) {
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

    /// Saves a peer of our chain in the store and keeps it as a dial target (given up after
    /// failed dials unless it is a boot node or was added by hand).
    fn remember(&mut self, peer: PeerId) {
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

    fn on_status(&mut self, peer: PeerId, status: Status) {
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

    fn on_sync(&mut self, event: request_response::Event<Vec<u8>, Vec<u8>>) {
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
                    Pending::Status => {
                        if let Some(state) = self.peers.get_mut(&peer) {
                            state.asking_status = false;
                        }
                        if error == RequestError::UnsupportedProtocol {
                            let reason = format!(
                                "genesis mismatch: it does not speak {} (another chain or version)",
                                protocol::sync_protocol(&self.config.genesis_hash)
                            );
                            self.refuse(peer, &reason);
                        } else {
                            tracing::debug!(target: LOG, %peer, %error, "status request failed");
                        }
                    }
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
            Pending::Peers => match decoded {
                Ok(SyncResponse::Peers(records)) => self.learn_peers(&records),
                Ok(SyncResponse::Error(_)) | Err(_) => {}
                Ok(_) => self.report(peer, Misbehaviour::BadResponse),
            },
            Pending::Status => {
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

/// Addresses to redial a peer at: the one we dialed (an inbound connection's port is ephemeral)
/// and those it listens on.
fn dial_addrs(state: &PeerState) -> Vec<Multiaddr> {
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
