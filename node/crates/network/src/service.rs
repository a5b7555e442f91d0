//! The swarm task: [`start`] sets the service up, and the [`Worker`] it spawns owns the libp2p
//! swarm and every piece of mutable network state. Its event loop reacts to swarm events, handle
//! commands, served responses and a one-second tick, and dispatches them to the modules that
//! handle them (gossip, sync requests, the handshake, peer exchange, peers and bans).
//!
//! After each event the shared snapshot read by the handle is rebuilt if anything changed. Peer
//! events wait in order for room in the event channel and are never dropped (gossip messages
//! are, when the channel is full).

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use libp2p::futures::StreamExt;
use libp2p::gossipsub::TopicHash;
use libp2p::request_response::{OutboundRequestId, ResponseChannel};
use libp2p::swarm::{ConnectionId, SwarmEvent};
use libp2p::{ping, PeerId, Swarm};
use parking_lot::Mutex;
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinHandle;

use super::peers::{spawn_store_writer, DialTarget, PeerState, StoreOp, Target};
use super::reputation::{Reputations, DECAY_INTERVAL};
use super::requests::Pending;
use super::store::PeerStore;
use super::swarm::{build_swarm, listen, Behaviour, BehaviourEvent};
use super::{
    key, protocol, Command, HandleInner, NetworkConfig, NetworkError, NetworkEvent, NetworkHandle,
    NetworkStats, PeerInfo, SharedState, SyncProvider, Topic, LOG, MAX_CONCURRENT_SERVES,
    STATUS_REFRESH,
};

/// How often one ready peer is asked for its peers (peer exchange).
const PEER_EXCHANGE_EVERY: Duration = Duration::from_secs(5);

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

pub(crate) struct Worker {
    pub(crate) swarm: Swarm<Behaviour>,
    pub(crate) config: NetworkConfig,
    pub(crate) chain_id: String,
    pub(crate) provider: Arc<dyn SyncProvider>,
    shared: Arc<Mutex<SharedState>>,
    commands: mpsc::UnboundedReceiver<Command>,
    pub(crate) events: mpsc::Sender<NetworkEvent>,
    /// Peer events waiting for room in the event channel (never dropped, kept in order).
    pending_events: VecDeque<NetworkEvent>,
    pub(crate) served_tx: mpsc::UnboundedSender<(ResponseChannel<Vec<u8>>, Vec<u8>)>,
    served: mpsc::UnboundedReceiver<(ResponseChannel<Vec<u8>>, Vec<u8>)>,
    pub(crate) serving: Arc<Semaphore>,
    pub(crate) requests: HashMap<OutboundRequestId, (PeerId, Pending)>,
    pub(crate) peers: HashMap<PeerId, PeerState>,
    pub(crate) reputations: Reputations,
    pub(crate) targets: HashMap<Target, DialTarget>,
    /// Whose turn it is to be asked for its peers, and when one was last asked.
    pub(crate) exchange_turn: usize,
    last_exchange: Instant,
    pub(crate) dialing: HashMap<ConnectionId, Target>,
    /// Per-peer inbound request window: start, count, charged already.
    pub(crate) rates: HashMap<PeerId, (Instant, u32, bool)>,
    /// Per-peer gossip window: start, new messages received in it.
    pub(crate) gossip_rates: HashMap<PeerId, (Instant, u32)>,
    pub(crate) topics: HashMap<TopicHash, Topic>,
    pub(crate) store: std::sync::mpsc::Sender<StoreOp>,
    pub(crate) local_peer_id: PeerId,
    last_decay: Instant,
    last_refresh: Instant,
    /// The shared snapshot needs rebuilding.
    pub(crate) dirty: bool,
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

    pub(crate) fn emit_peer_event(&mut self, event: NetworkEvent) {
        if !self.pending_events.is_empty() {
            self.pending_events.push_back(event);
            return;
        }
        match self.events.try_send(event) {
            Ok(()) | Err(mpsc::error::TrySendError::Closed(_)) => {}
            Err(mpsc::error::TrySendError::Full(event)) => self.pending_events.push_back(event),
        }
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::Publish { topic, data } => self.publish(topic, data),
            Command::Validation {
                message_id,
                peer,
                result,
            } => self.validate(&message_id, peer, result),
            Command::Report { peer, what } => self.report(peer, what),
            Command::NoteBest { peer, number, hash } => self.note_best(peer, number, hash),
            Command::LowerBest { peer, number } => self.lower_best(peer, number),
            Command::Request {
                peer,
                bytes,
                request,
                reply,
            } => self.request(peer, bytes, request, reply),
            Command::AddPeer { addr, reply } => {
                let _ = reply.send(self.add_peer(addr));
            }
            Command::Shutdown => {}
        }
    }

    fn on_tick(&mut self) {
        let now = Instant::now();
        if self.swarm.behaviour_mut().gate.bans.prune(now) {
            self.dirty = true;
        }
        if now.duration_since(self.last_decay) >= DECAY_INTERVAL {
            self.last_decay = now;
            self.decay_scores();
            self.prune_request_windows(now);
            self.prune_gossip_windows(now);
            self.dirty = true;
        }
        if now.duration_since(self.last_refresh) >= STATUS_REFRESH {
            self.last_refresh = now;
            self.refresh_statuses();
        }
        if now.duration_since(self.last_exchange) >= PEER_EXCHANGE_EVERY {
            self.last_exchange = now;
            self.ask_next_for_peers();
        }
        self.dial_due();
    }

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
            } => self.on_connection_established(
                peer_id,
                connection_id,
                &endpoint,
                num_established.get() == 1,
            ),
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established,
                cause,
                ..
            } => self.on_connection_closed(peer_id, num_established, cause.as_ref()),
            SwarmEvent::OutgoingConnectionError {
                connection_id,
                peer_id,
                error,
            } => self.on_dial_error(connection_id, peer_id, &error),
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
}
