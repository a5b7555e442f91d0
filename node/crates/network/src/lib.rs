//! # Network: the libp2p service
//!
//! One task owns the libp2p swarm; the node talks to it through a cheaply cloneable
//! [`NetworkHandle`] (commands, and snapshots readable from sync code) and receives
//! [`NetworkEvent`]s on an mpsc channel. [`start`] binds the listen addresses (errors such as
//! an address in use are reported before it returns), dials the boot nodes and the peers known
//! from the last run, and spawns the task.
//!
//! ## Transport and identity
//! TCP and websocket (`/ip4/…/tcp/PORT` and `/ip4/…/tcp/PORT/ws`), noise, yamux; no DNS
//! resolution, mDNS or QUIC. The identity is an ed25519 key: `--node-key HEX` (32-byte secret),
//! else `<base>/network/node_key` (64 hex digits, created once with mode 0600).
//!
//! ## Gossip
//! gossipsub, topics `/aitbc/<genesis-hex>/blocks`, `…/txs`, `…/votes` (64 hex digits, no `0x`),
//! so different chains never share one. Message id: blake2b-256 of the message data (the same
//! payload has one id whoever publishes it). Messages are signed by their publisher (strict
//! validation) and validated by the node: every [`NetworkEvent::Gossip`] must be answered with
//! [`NetworkHandle::validation`] (`Accept` forwards it, `Ignore` drops it, `Reject(kind)` drops it,
//! charges the propagating peer `kind` and counts against it in gossipsub's own scoring).
//! **Full blocks travel by gossip**: the size limit is deliberately raised to
//! [`NetworkConfig::max_message_bytes`] (8 MiB by default, twice the default `max_block_bytes`);
//! request-response is for catching up.
//!
//! ## Sync requests
//! Request-response protocol `/aitbc/<genesis-hex>/sync/1`: one SCALE [`SyncRequest`] per stream,
//! answered by one SCALE [`SyncResponse`], each read to the end of the stream with a size limit
//! ([`protocol::MAX_REQUEST_BYTES`]; a response at most `max(max_response_bytes,
//! max_message_bytes)` plus framing) and decoded with `decode_exact` (bounded vectors, no trailing
//! bytes). `BlocksByRange` is clamped to [`MAX_BLOCKS_PER_REQUEST`] blocks, `BlocksByHash` holds
//! at most 128 hashes, and blocks/votes are added to a response while they fit in
//! `max_response_bytes` (the first always). Requests are answered by the node's
//! [`SyncProvider`] on the blocking pool (at most [`MAX_CONCURRENT_SERVES`] at a time, else
//! `Error("busy")`). A peer may make [`MAX_REQUESTS_PER_WINDOW`] requests per 10 s; beyond that it
//! is answered `Error("rate limited")` and charged `Flood` once per window. An undecodable request
//! is answered `Error(..)` and charged `Undecodable` (unless it is only cut short, a prefix of a
//! valid encoding or its connection gone: a stream cut by a closed connection or a partition is no
//! offence; likewise for responses); an over-long one is cut off one byte past
//! the limit, answered `Error("request too large")` and charged `TooLarge`. A response of the wrong kind or with more items than asked is refused and charged
//! `BadResponse`.
//!
//! ## Gossip floods
//! gossipsub drops repeats of a message id itself. New messages are counted per forwarding peer
//! in one-second windows: past [`NetworkConfig::max_gossip_per_sec`] they are dropped before
//! they reach the node (`Ignore`); the first excess message of a window charges `Flood`, and an
//! excess of half the limit in one window (1.5 times the rate) bans the peer at once (small
//! charges alone would only get it graylisted by gossipsub at -80, where its messages stop
//! reaching us and its score decays back). Junk is cheaper still: each undecodable message costs `Undecodable`. A
//! gossip frame over gossipsub's max transmit size is read at most up to that size, then
//! refused and its stream closed, so one costs at most that much memory for a moment
//! (gossipsub reports nothing to charge it for).
//!
//! ## Handshake
//! On a new connection each side asks the other's `Status`. A peer is reported with
//! [`NetworkEvent::PeerConnected`] (and listed by [`NetworkHandle::peers`]) only once its genesis
//! hash equals ours. A peer whose genesis differs (from its `Status`, its identify protocol
//! version `/aitbc/<genesis-hex>`, or because it does not speak our sync protocol) is
//! disconnected, logged at warn (with both hashes when it told us its own), forgotten, and
//! refused by peer id for the ban duration. Connected peers are asked their `Status` again every
//! [`STATUS_REFRESH`].
//!
//! ## Peer exchange
//! `SyncRequest::Peers` asks a peer for the peers of our chain it is connected to (at most
//! [`protocol::MAX_PEER_RECORDS`], each a peer id and up to four dialable addresses); the service
//! answers it itself. A node asks each new peer once it is ready, and one ready peer in turn
//! every 5 s; peers it learns become dial targets like stored peers. So a node that knows only
//! its boot nodes meets the whole network, and a mesh that a partition broke is whole again
//! after the heal, not a star around the boot nodes.
//!
//! ## Peers, scores and bans
//! Boot nodes (`/…/p2p/<peer-id>` or without a peer id) and peers added with
//! [`NetworkHandle::add_peer`] are dialed at start and redialed with exponential backoff (1 s to
//! 4 s) whenever disconnected; a dial gives up after 5 s. Every connection is pinged each second
//! and its socket has `TCP_USER_TIMEOUT` 5 s, so a connection a partition cut dies within
//! seconds (a failed ping closes it too) and is redialed as soon as the link is back, instead of
//! waiting out TCP's retransmission backoff. Peers that completed the handshake are saved in
//! `<base>/network/peers.redb` (peer id -> up to 8 addresses: the one we dialed and those its
//! identify announces; last seen; 512 peers) and redialed when disconnected and after a restart
//! (given up after 64 failed dials in a row, about four minutes; peer exchange finds it again
//! later). Incoming connections are capped per IP
//! ([`NetworkConfig::max_per_ip`]) and connected peers overall ([`NetworkConfig::max_peers`]:
//! the connection gate refuses one more; scheduled dials stop at the cap too).
//! Each [`Misbehaviour`] costs points ([`Misbehaviour::cost`]); the score recovers 10 % toward 0
//! every 10 s; at [`reputation::BAN_THRESHOLD`] (-100) the peer is disconnected and banned by peer
//! id and by the IPs it was connected from (loopback excepted: the nodes of a local devnet share
//! it) for [`NetworkConfig::ban_duration`]: its dials and incoming connections are refused, and it
//! is removed from the peer store. The score is also
//! gossipsub's application score, so a low-scored peer stops receiving our publications (-50) and
//! is graylisted (-80) before the ban.
//!
//! ## Layout
//! `service` holds [`start`] and the worker task's event loop; `swarm` builds the swarm
//! (transports, behaviours, gossipsub scoring) and binds the listeners. The worker's handling is
//! split by concern: `gossip` (publishing, validation, gossip rate), `requests` (sync requests
//! both ways, request rate), `handshake` (`Status` and identify checks), `peer_exchange`, and
//! `peers` (dial targets and backoff, the peer store's writer, connections, reputation and bans).
//! `gate` refuses connections, `protocol` is the wire format, `reputation` keeps scores and bans,
//! `store` the known peers and `key` the node key.

mod gate;
mod gossip;
mod handshake;
pub mod key;
pub mod memory;
#[cfg(test)]
mod memory_tests;
mod peer_exchange;
mod peers;
pub mod protocol;
pub mod reputation;
mod requests;
mod seam;
mod service;
pub mod store;
mod swarm;
#[cfg(test)]
mod tests;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use aitbc_primitives::Hash;
use tokio::sync::{mpsc, oneshot};

pub use libp2p::gossipsub::MessageId;
pub use libp2p::{Multiaddr, PeerId};
pub use protocol::{
    Status, SyncRequest, SyncResponse, Topic, MAX_BLOCKS_PER_REQUEST, MAX_HASHES_PER_REQUEST,
};
pub use reputation::Misbehaviour;
/// The request side of sync without a swarm, for the node's fuzz harness.
#[cfg(feature = "fuzzing")]
pub use requests::{answers, serve};
pub use seam::{Answer, Network, SharedNetwork};
pub use service::start;

/// The target of the network's log lines.
const LOG: &str = "net";

/// Ready peers are asked their `Status` again this often.
pub const STATUS_REFRESH: Duration = Duration::from_secs(15);
/// Sync requests served at the same time at most (provider calls on the blocking pool).
pub const MAX_CONCURRENT_SERVES: usize = 32;
/// Requests one peer may make per 10 s window.
pub const MAX_REQUESTS_PER_WINDOW: u32 = 200;

/// Answers peers' sync requests from the node's storage. Called on the blocking pool, never on
/// the swarm's task, so it may read the database. Implementations return what they have: fewer
/// blocks than asked (or none) is a valid answer. `max_bytes` is the response budget: return
/// blocks while their total stays within it (the service trims any excess and enforces the count
/// cap anyway).
pub trait SyncProvider: Send + Sync + 'static {
    /// The local chain's genesis, best and finalized blocks.
    fn status(&self) -> Status;
    /// Encoded `SignedBlock`s of the canonical chain from number `from`, at most `count`
    /// (already clamped to [`MAX_BLOCKS_PER_REQUEST`]), in ascending order, stopping at the first
    /// missing number.
    fn blocks_by_range(&self, from: u64, count: u32, max_bytes: usize) -> Vec<Vec<u8>>;
    /// Encoded `SignedBlock`s for the known `hashes`, in the order asked (unknown ones skipped).
    fn blocks_by_hash(&self, hashes: &[Hash], max_bytes: usize) -> Vec<Vec<u8>>;
    /// Encoded votes held for finality round `round`.
    fn votes(&self, round: u64, max_bytes: usize) -> Vec<Vec<u8>>;
    /// The encoded finality proof from block `from`; `Err`: a short reason it cannot be served.
    /// Default: not served.
    fn finality_proof(&self, from: u64) -> Result<Vec<u8>, String> {
        let _ = from;
        Err("finality proofs are not served".into())
    }
    /// The encoded state chunk of block `number` from key hash `start`, within `max_bytes`;
    /// `Err`: a short reason (the state is pruned, …). Default: not served.
    fn state_chunk(
        &self,
        number: u64,
        start: [u8; 32],
        max_bytes: usize,
    ) -> Result<Vec<u8>, String> {
        let _ = (number, start, max_bytes);
        Err("state is not served".into())
    }
}

/// Network settings, validated by [`start`].
#[derive(Clone, Debug)]
pub struct NetworkConfig {
    /// Addresses to listen on (`--p2p-addr`); port 0 picks a free port
    /// ([`NetworkHandle::listen_addrs`] tells which).
    pub listen: Vec<Multiaddr>,
    /// Boot nodes (`--bootnodes` and the chain spec's), with or without `/p2p/<peer-id>`.
    pub bootnodes: Vec<Multiaddr>,
    /// `--node-key`: 64 hex digits; `None` uses (or creates) `<base_dir>/network/node_key`.
    pub node_key: Option<String>,
    /// The node's base path; the network keeps its files in `<base_dir>/network/`.
    pub base_dir: PathBuf,
    /// Genesis hash of the chain: scopes the topics and protocols, checked on every peer.
    pub genesis_hash: Hash,
    /// Connected peers at most (default 50).
    pub max_peers: usize,
    /// Incoming connections from one IP at most (default 8).
    pub max_per_ip: usize,
    /// How long a misbehaving peer (and its IPs) or a peer of another chain is refused
    /// (default 1 h).
    pub ban_duration: Duration,
    /// Bytes of one gossip message's data at most: must fit a full encoded block
    /// (default 8 MiB).
    pub max_message_bytes: usize,
    /// Byte budget of one sync response (default 8 MiB, the gossip message limit, so a peer with
    /// the defaults reads whatever it asks for; a single larger block is still sent). A state
    /// chunk fills it: the bigger, the fewer writes a warp sync makes.
    pub max_response_bytes: usize,
    /// How long a sync request may take (default 20 s).
    pub request_timeout: Duration,
    /// Capacity of the event channel (default 1024); gossip beyond it is dropped (`Ignore`).
    pub event_buffer: usize,
    /// New gossip messages one peer may forward per second (default 1000: an honest peer
    /// forwards about 20 transaction batches a second per publishing node, plus blocks and
    /// votes); beyond it they are dropped before validation and the peer is charged `Flood`,
    /// and banned at 1.5 times the rate.
    pub max_gossip_per_sec: usize,
}

impl NetworkConfig {
    /// Defaults for a node with base path `base_dir` on the chain `genesis_hash`, listening on
    /// `127.0.0.1:7070`.
    pub fn new(base_dir: impl Into<PathBuf>, genesis_hash: Hash) -> NetworkConfig {
        NetworkConfig {
            listen: vec!["/ip4/127.0.0.1/tcp/7070"
                .parse()
                .expect("a valid multiaddr; qed")],
            bootnodes: Vec::new(),
            node_key: None,
            base_dir: base_dir.into(),
            genesis_hash,
            max_peers: 50,
            max_per_ip: 8,
            ban_duration: Duration::from_secs(3600),
            max_message_bytes: 8 * 1024 * 1024,
            max_response_bytes: 8 * 1024 * 1024,
            request_timeout: Duration::from_secs(20),
            event_buffer: 1024,
            max_gossip_per_sec: 1000,
        }
    }

    /// The directory of the network's files: `<base_dir>/network`.
    pub fn dir(&self) -> PathBuf {
        self.base_dir.join("network")
    }

    pub fn validate(&self) -> Result<(), NetworkError> {
        let bad = |what: &'static str| Err(NetworkError::BadConfig(what));
        if self.max_peers == 0 {
            return bad("max_peers must be at least 1");
        }
        if self.max_per_ip == 0 {
            return bad("max_per_ip must be at least 1");
        }
        if self.max_message_bytes < 64 * 1024 {
            return bad("max_message_bytes must be at least 64 KiB");
        }
        if self.max_response_bytes < 64 * 1024 {
            return bad("max_response_bytes must be at least 64 KiB");
        }
        if self.request_timeout.is_zero() {
            return bad("request_timeout must not be zero");
        }
        if self.event_buffer == 0 {
            return bad("event_buffer must be at least 1");
        }
        if self.max_gossip_per_sec == 0 {
            return bad("max_gossip_per_sec must be at least 1");
        }
        Ok(())
    }
}

/// A network failure reported to the node.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    #[error("invalid network config: {0}")]
    BadConfig(&'static str),
    #[error("invalid node key: expected 64 hex digits (a 32-byte ed25519 secret)")]
    BadNodeKey,
    #[error("node key file {0} does not hold 64 hex digits; fix or delete it")]
    BadNodeKeyFile(PathBuf),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("peer database: {0}")]
    PeerDb(String),
    #[error("cannot listen on {0}: address already in use")]
    AddrInUse(Multiaddr),
    #[error("cannot listen on {addr}: {reason}")]
    Listen { addr: Multiaddr, reason: String },
    #[error("unsupported address {addr}: {reason}")]
    BadAddress { addr: Multiaddr, reason: String },
    #[error("peer {0} is banned")]
    Banned(PeerId),
    #[error("cannot dial {addr}: {reason}")]
    Dial { addr: Multiaddr, reason: String },
    #[error("message of {size} bytes exceeds the limit of {limit}")]
    MessageTooLarge { size: usize, limit: usize },
    #[error("transport setup: {0}")]
    Transport(String),
    #[error("the network service has stopped")]
    Stopped,
}

impl NetworkError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> NetworkError {
        NetworkError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Why a sync request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("peer is not connected")]
    NotConnected,
    #[error("request timed out")]
    Timeout,
    #[error("connection closed before the response")]
    ConnectionClosed,
    #[error("peer does not speak our sync protocol")]
    UnsupportedProtocol,
    #[error("response exceeds the size limit")]
    TooLarge,
    #[error("bad response: {0}")]
    BadResponse(String),
    #[error("peer refused the request: {0}")]
    Remote(String),
    #[error("stream error: {0}")]
    Io(String),
    #[error("the network service has stopped")]
    Stopped,
}

/// The node's verdict on a gossip message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Validation {
    /// Valid: forward it to other peers.
    Accept,
    /// Not forwarded, nobody penalised (a duplicate, a stale transaction, a block we cannot
    /// check yet).
    Ignore,
    /// Invalid: not forwarded, and the propagating peer is charged.
    Reject(Misbehaviour),
}

/// What the service tells the node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NetworkEvent {
    /// A gossip message to check; answer with [`NetworkHandle::validation`].
    Gossip {
        topic: Topic,
        /// The peer that forwarded it (the one to penalise).
        peer: PeerId,
        message_id: MessageId,
        data: Vec<u8>,
    },
    /// A peer of our chain completed the handshake.
    PeerConnected { peer: PeerId, status: Status },
    /// A peer reported by `PeerConnected` is gone.
    PeerDisconnected(PeerId),
}

/// A connected peer of our chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerInfo {
    pub peer_id: PeerId,
    /// The remote address of its first connection.
    pub addr: Multiaddr,
    /// Whether it dialed us.
    pub inbound: bool,
    /// Best block number: from its `Status` or a block it announced ([`NetworkHandle::note_best`]).
    pub best_height: u64,
    pub best_hash: Hash,
    pub finalized_height: u64,
    /// Its score (0 is clean, banned at -100).
    pub reputation: i32,
}

/// Counters for metrics and `/health`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NetworkStats {
    /// Peers of our chain (handshake done): `substrate_sub_libp2p_peers_count`.
    pub peers: usize,
    /// Peers with an open connection, handshake done or not.
    pub connected: usize,
    pub connections: usize,
    /// Peer ids currently banned.
    pub banned: usize,
    /// Connections refused (bans, per-IP cap, peer cap) since start.
    pub denied_connections: u64,
}

#[derive(Debug, Default)]
pub(crate) struct SharedState {
    pub listen_addrs: Vec<Multiaddr>,
    pub peers: Vec<PeerInfo>,
    pub banned: Vec<PeerId>,
    pub stats: NetworkStats,
}

pub(crate) enum Command {
    Publish {
        topic: Topic,
        data: Vec<u8>,
    },
    Validation {
        message_id: MessageId,
        peer: PeerId,
        result: Validation,
    },
    Report {
        peer: PeerId,
        what: Misbehaviour,
    },
    NoteBest {
        peer: PeerId,
        number: u64,
        hash: Hash,
    },
    LowerBest {
        peer: PeerId,
        number: u64,
    },
    Request {
        peer: PeerId,
        /// The encoded request and what a valid answer looks like (`None`: raw test bytes).
        bytes: Vec<u8>,
        request: Option<SyncRequest>,
        reply: oneshot::Sender<Result<SyncResponse, RequestError>>,
    },
    AddPeer {
        addr: Multiaddr,
        reply: oneshot::Sender<Result<(), NetworkError>>,
    },
    Shutdown,
}

struct HandleInner {
    commands: mpsc::UnboundedSender<Command>,
    shared: Arc<parking_lot::Mutex<SharedState>>,
    local_peer_id: PeerId,
    max_message_bytes: usize,
    request_timeout: Duration,
}

/// The node's side of the network service. Cheap to clone; every method is usable from sync
/// code except the two that wait for an answer ([`request`](Self::request),
/// [`add_peer`](Self::add_peer)). The service stops when every handle is dropped or on
/// [`shutdown`](Self::shutdown).
#[derive(Clone)]
pub struct NetworkHandle {
    inner: Arc<HandleInner>,
}

impl std::fmt::Debug for NetworkHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetworkHandle")
            .field("local_peer_id", &self.inner.local_peer_id)
            .finish()
    }
}

impl NetworkHandle {
    fn send(&self, command: Command) -> Result<(), NetworkError> {
        self.inner
            .commands
            .send(command)
            .map_err(|_| NetworkError::Stopped)
    }

    pub fn local_peer_id(&self) -> PeerId {
        self.inner.local_peer_id
    }

    /// The addresses the service listens on (actual ports, without `/p2p/<id>`).
    pub fn listen_addrs(&self) -> Vec<Multiaddr> {
        self.inner.shared.lock().listen_addrs.clone()
    }

    /// Peers of our chain that completed the handshake.
    pub fn peers(&self) -> Vec<PeerInfo> {
        self.inner.shared.lock().peers.clone()
    }

    /// Number of [`peers`](Self::peers): the `substrate_sub_libp2p_peers_count` gauge.
    pub fn peer_count(&self) -> usize {
        self.inner.shared.lock().peers.len()
    }

    pub fn stats(&self) -> NetworkStats {
        self.inner.shared.lock().stats.clone()
    }

    /// Whether `peer` is currently refused (misbehaviour or another chain).
    pub fn is_banned(&self, peer: &PeerId) -> bool {
        self.inner.shared.lock().banned.contains(peer)
    }

    /// Publishes `data` on `topic` (fire and forget: with no subscribed peer, or when the same
    /// data was published before, nothing is sent; logged at debug).
    pub fn publish(&self, topic: Topic, data: Vec<u8>) -> Result<(), NetworkError> {
        if data.len() > self.inner.max_message_bytes {
            return Err(NetworkError::MessageTooLarge {
                size: data.len(),
                limit: self.inner.max_message_bytes,
            });
        }
        self.send(Command::Publish { topic, data })
    }

    /// The node's verdict on a [`NetworkEvent::Gossip`] message (required for every one).
    pub fn validation(&self, message_id: MessageId, peer: PeerId, result: Validation) {
        let _ = self.send(Command::Validation {
            message_id,
            peer,
            result,
        });
    }

    /// Charges `peer` for `what` (see [`Misbehaviour::cost`]); at -100 it is banned.
    pub fn report(&self, peer: PeerId, what: Misbehaviour) {
        let _ = self.send(Command::Report { peer, what });
    }

    /// Records that `peer` has block `number` (`hash`), e.g. after it announced a block: its
    /// best block becomes that one unless it claimed a higher one (never lowered).
    pub fn note_best(&self, peer: PeerId, number: u64, hash: Hash) {
        let _ = self.send(Command::NoteBest { peer, number, hash });
    }

    /// Records that `peer` could not serve block `number` although it claimed a best block at
    /// or above it: its `best_height` drops to `number - 1` (a later status or announcement
    /// raises it again).
    pub fn lower_best(&self, peer: PeerId, number: u64) {
        let _ = self.send(Command::LowerBest { peer, number });
    }

    /// Sends a sync request to a connected peer and waits for its answer (at most the
    /// configured request timeout). `SyncResponse::Error` comes back as
    /// [`RequestError::Remote`]; a response of the wrong kind or with more items than asked is
    /// refused ([`RequestError::BadResponse`]) and the peer charged.
    pub fn request(
        &self,
        peer: PeerId,
        request: SyncRequest,
    ) -> impl Future<Output = Result<SyncResponse, RequestError>> + Send + 'static {
        use codec::Encode;
        let bytes = request.encode();
        self.request_inner(peer, bytes, Some(request))
    }

    /// Sends raw request bytes (tests of hostile input).
    #[cfg(test)]
    pub(crate) fn request_raw(
        &self,
        peer: PeerId,
        bytes: Vec<u8>,
    ) -> impl Future<Output = Result<SyncResponse, RequestError>> + Send + 'static {
        self.request_inner(peer, bytes, None)
    }

    fn request_inner(
        &self,
        peer: PeerId,
        bytes: Vec<u8>,
        request: Option<SyncRequest>,
    ) -> impl Future<Output = Result<SyncResponse, RequestError>> + Send + 'static {
        let (reply, answer) = oneshot::channel();
        let sent = self.send(Command::Request {
            peer,
            bytes,
            request,
            reply,
        });
        // The service times requests out itself; this guard only covers a stalled service.
        let guard = self.inner.request_timeout + Duration::from_secs(5);
        async move {
            sent.map_err(|_| RequestError::Stopped)?;
            match tokio::time::timeout(guard, answer).await {
                Ok(Ok(result)) => result,
                Ok(Err(_)) => Err(RequestError::Stopped),
                Err(_) => Err(RequestError::Timeout),
            }
        }
    }

    /// Dials `addr` (`/ip4|ip6/…/tcp/PORT[/ws][/p2p/<peer-id>]`) and keeps redialing it with
    /// backoff while disconnected. Fails at once for an unsupported address, a banned peer or
    /// IP, or a dial that cannot start; the connection itself is established in the background.
    pub async fn add_peer(&self, addr: Multiaddr) -> Result<(), NetworkError> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::AddPeer { addr, reply })?;
        answer.await.map_err(|_| NetworkError::Stopped)?
    }

    /// Stops the service (it closes its connections and the peer store).
    pub fn shutdown(&self) {
        let _ = self.send(Command::Shutdown);
    }
}
