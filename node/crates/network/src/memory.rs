//! An in-memory network: the node's workers run on it through the [`Network`] seam, without
//! sockets or libp2p's swarm. It is the network of the seeded simulator and of the in-process
//! multi-node tests.
//!
//! - Members: every member of one [`MemoryNetwork`] that is up and on the same side of a split
//!   is connected to every other. What a member publishes reaches each of them as a gossip event
//!   from the publisher (nobody forwards, so the verdicts change nothing); a sync request is
//!   answered from the target's [`SyncProvider`] by the same [`serve`] the libp2p service uses,
//!   and the answer is checked by the same [`answers`] (a bad one charges the peer
//!   `BadResponse`). What a member believes of a peer's chain ([`Network::peers`]) follows the
//!   libp2p service's rules: the peer's status when first seen and every [`STATUS_REFRESH`]
//!   after, raised by [`Network::note_best`], lowered by [`Network::lower_best`]. Reports are
//!   recorded, not scored.
//! - Peer ids are derived from the network's seed and the order of joining, so a seeded run
//!   names its members alike every time. [`MemoryNetwork::leave`] takes a member down (a crash:
//!   the others see `PeerDisconnected`); [`MemoryNetwork::rejoin`] brings it back under its id,
//!   and handles of the earlier start (tasks that outlived the crash) reach nobody from then on.
//!   [`MemoryNetwork::mute`] makes a member's publications on some topics reach nobody (a
//!   Byzantine member withholding its blocks); [`MemoryNetwork::deafen`] keeps gossip on some
//!   topics from reaching a member (one that loses every vote).
//! - Partitions: [`MemoryNetwork::split`] cuts the members into two sides (each side's members
//!   see `PeerDisconnected` for the other's; gossip and requests stop at the cut) and
//!   [`MemoryNetwork::heal`] joins them again (`PeerConnected` both ways, so sync catches up).
//! - [`Conditions`]: each delivery (a gossip message to one member, a request, an answer) may be
//!   lost, duplicated, or delayed by a time drawn from a range, which also reorders them. The
//!   draws come from one generator seeded with the network's seed; a run on one thread (the
//!   simulator's) makes them in the same order every time. A delayed delivery waits on tokio's
//!   timer, which the simulator runs on virtual time. A lost request ends in
//!   [`RequestError::Timeout`] after [`REQUEST_TIMEOUT`]; a request to a member that is down or
//!   across a split fails at once with [`RequestError::NotConnected`].
//!
//! What it does not model: bandwidth, connection churn without a crash, gossip forwarding and
//! scoring (see ARCHITECTURE.md, "limits").

use crate::requests::{answers, serve};
use crate::seam::{Answer, Network};
use crate::{
    Misbehaviour, NetworkError, NetworkEvent, PeerInfo, RequestError, SyncProvider, SyncRequest,
    SyncResponse, Topic, Validation, STATUS_REFRESH,
};
use aitbc_primitives::{blake2_256, Hash};
use codec::Encode;
use libp2p::gossipsub::MessageId;
use libp2p::{Multiaddr, PeerId};
use parking_lot::Mutex;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;
use std::ops::RangeInclusive;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tracing::Instrument;

/// Events queued per member before gossip to it is dropped (gossip is lossy; a member that
/// falls behind catches up by sync requests).
pub const EVENT_QUEUE: usize = 4096;
/// The response budget of a request (as the libp2p service's default).
const RESPONSE_BUDGET: usize = 4 * 1024 * 1024;
/// How long a lost request takes to fail.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);

/// What happens to deliveries: probabilities in parts per million, delays in milliseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conditions {
    /// Chance that a delivery is lost.
    pub loss_ppm: u32,
    /// Chance that a gossip delivery arrives twice (each copy with its own delay).
    pub duplicate_ppm: u32,
    /// The delay of each delivery, drawn uniformly from this range.
    pub delay_ms: RangeInclusive<u64>,
}

impl Default for Conditions {
    /// A perfect network: nothing lost, nothing repeated, no delay.
    fn default() -> Self {
        Conditions {
            loss_ppm: 0,
            duplicate_ppm: 0,
            delay_ms: 0..=0,
        }
    }
}

/// What the network did to deliveries so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Gossip deliveries and request legs that arrived.
    pub delivered: u64,
    pub lost: u64,
    pub duplicated: u64,
    /// Deliveries that waited (and so may have been overtaken).
    pub delayed: u64,
}

struct Member {
    peer: PeerId,
    events: mpsc::Sender<NetworkEvent>,
    provider: Arc<dyn SyncProvider>,
    /// The side of a split it is on (all 0 when whole).
    side: u8,
    up: bool,
    /// Topics it publishes nothing on (a member withholding its blocks or votes).
    muted: Vec<Topic>,
    /// Topics whose gossip does not reach it (a member that loses every vote, say).
    deaf: Vec<Topic>,
    /// Counts the member's starts: a handle of an earlier one (a task that outlived a crash)
    /// reaches nobody.
    incarnation: u64,
}

impl Member {
    fn connected_event(&self) -> NetworkEvent {
        NetworkEvent::PeerConnected {
            peer: self.peer,
            status: self.provider.status(),
        }
    }

    fn reaches(&self, other: &Member) -> bool {
        self.peer != other.peer && self.up && other.up && self.side == other.side
    }
}

/// The network's mutable state, under one lock.
struct Inner {
    seed: u64,
    members: Vec<Member>,
    conditions: Conditions,
    rng: StdRng,
    stats: Stats,
}

/// The members, their links and what they reported (see the module docs).
pub struct MemoryNetwork {
    inner: Mutex<Inner>,
    reports: Mutex<Vec<(PeerId, PeerId, Misbehaviour)>>,
}

impl std::fmt::Debug for MemoryNetwork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "MemoryNetwork({} members)",
            self.inner.lock().members.len()
        )
    }
}

/// One member's view of a [`MemoryNetwork`].
#[derive(Debug, Clone)]
pub struct MemoryPeer {
    net: Arc<MemoryNetwork>,
    me: PeerId,
    incarnation: u64,
    views: Arc<Mutex<BTreeMap<PeerId, View>>>,
}

/// What a member believes of a peer's chain (see the module docs).
#[derive(Debug, Clone, Copy)]
struct View {
    best: (u64, Hash),
    finalized: u64,
    refreshed: tokio::time::Instant,
}

/// How one delivery goes: lost, or the delays of its copies.
enum Fate {
    Lost,
    Arrives(Vec<u64>),
}

impl MemoryNetwork {
    /// A perfect network whose peer ids and draws follow seed 0.
    pub fn new() -> Arc<Self> {
        Self::seeded(0)
    }

    /// A perfect network whose peer ids and draws follow `seed`.
    pub fn seeded(seed: u64) -> Arc<Self> {
        Arc::new(MemoryNetwork {
            inner: Mutex::new(Inner {
                seed,
                members: Vec::new(),
                conditions: Conditions::default(),
                rng: StdRng::seed_from_u64(seed),
                stats: Stats::default(),
            }),
            reports: Mutex::new(Vec::new()),
        })
    }

    /// Adds a member answering requests from `provider`: it and every member it reaches learn
    /// of each other (`PeerConnected`). Returns its handle and the events it receives.
    pub fn join(
        self: &Arc<Self>,
        provider: Arc<dyn SyncProvider>,
    ) -> (MemoryPeer, mpsc::Receiver<NetworkEvent>) {
        let (events, received) = mpsc::channel(EVENT_QUEUE);
        let mut inner = self.inner.lock();
        let me = member_id(inner.seed, inner.members.len());
        inner.members.push(Member {
            peer: me,
            events,
            provider,
            side: 0,
            up: false,
            muted: Vec::new(),
            deaf: Vec::new(),
            incarnation: 0,
        });
        drop(inner);
        self.bring_up(me);
        let peer = MemoryPeer::new(self.clone(), me, 0);
        (peer, received)
    }

    /// Brings member `peer` back after [`MemoryNetwork::leave`] (a restart), with a fresh
    /// provider and event queue. `None` if `peer` never joined.
    pub fn rejoin(
        self: &Arc<Self>,
        peer: PeerId,
        provider: Arc<dyn SyncProvider>,
    ) -> Option<(MemoryPeer, mpsc::Receiver<NetworkEvent>)> {
        let (events, received) = mpsc::channel(EVENT_QUEUE);
        let incarnation = {
            let mut inner = self.inner.lock();
            let member = inner.members.iter_mut().find(|m| m.peer == peer)?;
            member.events = events;
            member.provider = provider;
            member.incarnation += 1;
            member.incarnation
        };
        self.bring_up(peer);
        let handle = MemoryPeer::new(self.clone(), peer, incarnation);
        Some((handle, received))
    }

    /// Marks `peer` up and tells it and the members it reaches of each other.
    fn bring_up(&self, peer: PeerId) {
        let mut inner = self.inner.lock();
        let Some(i) = inner.members.iter().position(|m| m.peer == peer) else {
            return;
        };
        inner.members[i].up = true;
        let member = &inner.members[i];
        for other in inner.members.iter().filter(|o| member.reaches(o)) {
            let _ = other.events.try_send(member.connected_event());
            let _ = member.events.try_send(other.connected_event());
        }
    }

    /// Takes `peer` down (a crash): the members it reached see it disconnect; nothing reaches
    /// it until [`MemoryNetwork::rejoin`].
    pub fn leave(&self, peer: PeerId) {
        let mut inner = self.inner.lock();
        let Some(i) = inner.members.iter().position(|m| m.peer == peer) else {
            return;
        };
        let member = &inner.members[i];
        for other in inner.members.iter().filter(|o| member.reaches(o)) {
            let _ = other.events.try_send(NetworkEvent::PeerDisconnected(peer));
        }
        inner.members[i].up = false;
    }

    /// The members' peer ids, in the order they joined.
    pub fn members(&self) -> Vec<PeerId> {
        self.inner.lock().members.iter().map(|m| m.peer).collect()
    }

    /// Cuts the network in two: `side` against everyone else (a heal first, if split).
    pub fn split(&self, side: &[PeerId]) {
        self.heal();
        let mut inner = self.inner.lock();
        for m in inner.members.iter_mut() {
            m.side = u8::from(side.contains(&m.peer));
        }
        Self::announce(&inner.members, |m| NetworkEvent::PeerDisconnected(m.peer));
    }

    /// Joins the sides of a split again.
    pub fn heal(&self) {
        let mut inner = self.inner.lock();
        Self::announce(&inner.members, Member::connected_event);
        for m in inner.members.iter_mut() {
            m.side = 0;
        }
    }

    /// Sends each member that is up, for each other member up on the other side, the event
    /// `event` makes of it.
    fn announce(members: &[Member], event: impl Fn(&Member) -> NetworkEvent) {
        for a in members.iter().filter(|m| m.up) {
            for b in members.iter().filter(|b| b.up && b.side != a.side) {
                let _ = a.events.try_send(event(b));
            }
        }
    }

    /// From now on, what `peer` publishes on `topics` reaches nobody (a member withholding what
    /// it authors or votes); an empty list lifts it.
    pub fn mute(&self, peer: PeerId, topics: &[Topic]) {
        let mut inner = self.inner.lock();
        if let Some(m) = inner.members.iter_mut().find(|m| m.peer == peer) {
            m.muted = topics.to_vec();
        }
    }

    /// From now on, gossip on `topics` does not reach `peer` (an empty list lifts it).
    pub fn deafen(&self, peer: PeerId, topics: &[Topic]) {
        let mut inner = self.inner.lock();
        if let Some(m) = inner.members.iter_mut().find(|m| m.peer == peer) {
            m.deaf = topics.to_vec();
        }
    }

    /// Whether the handle `me` is current and has not muted `topic`.
    fn may_publish(&self, me: &MemoryPeer, topic: Topic) -> bool {
        let inner = self.inner.lock();
        inner.members.iter().any(|m| {
            m.peer == me.me && m.incarnation == me.incarnation && !m.muted.contains(&topic)
        })
    }

    /// From now on, deliveries go as `conditions` say.
    pub fn set_conditions(&self, conditions: Conditions) {
        self.inner.lock().conditions = conditions;
    }

    /// What the network did to deliveries so far.
    pub fn stats(&self) -> Stats {
        self.inner.lock().stats
    }

    /// `(reporter, peer, what)` for every report made, in order.
    pub fn reports(&self) -> Vec<(PeerId, PeerId, Misbehaviour)> {
        self.reports.lock().clone()
    }

    /// Draws the fate of one delivery (`copies`: whether it may be duplicated).
    fn fate(&self, copies: bool) -> Fate {
        let mut inner = self.inner.lock();
        let Inner {
            conditions,
            rng,
            stats,
            ..
        } = &mut *inner;
        if rng.gen_range(0..1_000_000) < conditions.loss_ppm {
            stats.lost += 1;
            return Fate::Lost;
        }
        let twice = copies && rng.gen_range(0..1_000_000) < conditions.duplicate_ppm;
        stats.duplicated += u64::from(twice);
        let delays: Vec<u64> = (0..1 + usize::from(twice))
            .map(|_| rng.gen_range(conditions.delay_ms.clone()))
            .collect();
        stats.delivered += delays.len() as u64;
        stats.delayed += delays.iter().filter(|d| **d > 0).count() as u64;
        Fate::Arrives(delays)
    }

    /// What `take` gives of each member the handle `me` reaches and `keep` selects, taken out
    /// of the lock so no member is called while it is held (nothing if the handle is not its
    /// member's current start).
    fn reached<T>(
        &self,
        me: &MemoryPeer,
        keep: impl Fn(&Member) -> bool,
        take: impl Fn(&Member) -> T,
    ) -> Vec<T> {
        let inner = self.inner.lock();
        let Some(from) = inner
            .members
            .iter()
            .find(|m| m.peer == me.me && m.incarnation == me.incarnation)
        else {
            return Vec::new();
        };
        inner
            .members
            .iter()
            .filter(|m| from.reaches(m) && keep(m))
            .map(take)
            .collect()
    }

    /// The members the handle `me` reaches: peer id, events and provider.
    fn reachable(
        &self,
        me: &MemoryPeer,
    ) -> Vec<(PeerId, mpsc::Sender<NetworkEvent>, Arc<dyn SyncProvider>)> {
        self.reached(
            me,
            |_| true,
            |m| (m.peer, m.events.clone(), m.provider.clone()),
        )
    }

    /// The event queues of the members `me` reaches that hear gossip on `topic`.
    fn listeners(&self, me: &MemoryPeer, topic: Topic) -> Vec<mpsc::Sender<NetworkEvent>> {
        self.reached(me, |m| !m.deaf.contains(&topic), |m| m.events.clone())
    }

    /// Whether `a` and `b` are connected now.
    fn linked(&self, a: &MemoryPeer, b: PeerId) -> bool {
        self.reachable(a).iter().any(|m| m.0 == b)
    }
}

/// The peer id of the `index`-th member of a network seeded with `seed`.
fn member_id(seed: u64, index: usize) -> PeerId {
    let secret = blake2_256(&(b"aitbc-memory-peer", seed, index as u64).encode());
    libp2p::identity::Keypair::ed25519_from_bytes(secret)
        .expect("32 bytes are an ed25519 secret; qed")
        .public()
        .to_peer_id()
}

impl MemoryPeer {
    fn new(net: Arc<MemoryNetwork>, me: PeerId, incarnation: u64) -> Self {
        MemoryPeer {
            net,
            me,
            incarnation,
            views: Arc::default(),
        }
    }

    /// The member's peer id.
    pub fn peer_id(&self) -> PeerId {
        self.me
    }

    /// Our view of `peer`, refreshed from `provider`'s status when it is stale.
    fn view(&self, peer: PeerId, provider: &dyn SyncProvider) -> View {
        let now = tokio::time::Instant::now();
        let mut views = self.views.lock();
        let view = views.entry(peer).or_insert_with(|| {
            let status = provider.status();
            View {
                best: status.best,
                finalized: status.finalized.0,
                refreshed: now,
            }
        });
        if now.duration_since(view.refreshed) >= STATUS_REFRESH {
            let status = provider.status();
            if status.best.0 >= view.best.0 {
                view.best = status.best;
            }
            view.finalized = status.finalized.0;
            view.refreshed = now;
        }
        *view
    }
}

/// Waits `ms` of tokio time (virtual in the simulator), if any.
async fn delay(ms: u64) {
    if ms > 0 {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
}

impl Network for MemoryPeer {
    fn publish(&self, topic: Topic, data: Vec<u8>) -> Result<(), NetworkError> {
        if !self.net.may_publish(self, topic) {
            return Ok(());
        }
        let message_id = MessageId::new(&blake2_256(&data));
        for events in self.net.listeners(self, topic) {
            let Fate::Arrives(delays) = self.net.fate(true) else {
                continue;
            };
            for ms in delays {
                let event = NetworkEvent::Gossip {
                    topic,
                    peer: self.me,
                    message_id: message_id.clone(),
                    data: data.clone(),
                };
                if ms == 0 {
                    let _ = events.try_send(event);
                } else {
                    let events = events.clone();
                    tokio::spawn(
                        async move {
                            delay(ms).await;
                            let _ = events.try_send(event);
                        }
                        .in_current_span(),
                    );
                }
            }
        }
        Ok(())
    }

    fn validation(&self, _: MessageId, _: PeerId, _: Validation) {}

    fn report(&self, peer: PeerId, what: Misbehaviour) {
        self.net.reports.lock().push((self.me, peer, what));
    }

    fn note_best(&self, peer: PeerId, number: u64, hash: Hash) {
        if let Some(view) = self.views.lock().get_mut(&peer) {
            if number >= view.best.0 {
                view.best = (number, hash);
            }
        }
    }

    fn lower_best(&self, peer: PeerId, number: u64) {
        if let Some(view) = self.views.lock().get_mut(&peer) {
            view.best.0 = view.best.0.min(number.saturating_sub(1));
        }
    }

    fn request(&self, peer: PeerId, request: SyncRequest) -> Answer {
        let this = self.clone();
        Box::pin(async move {
            let provider = this
                .net
                .reachable(&this)
                .into_iter()
                .find(|m| m.0 == peer)
                .map(|m| m.2)
                .ok_or(RequestError::NotConnected)?;
            // There and back: either leg may be lost or late; a cut while it travels loses it.
            let mut legs = Vec::with_capacity(2);
            for _ in 0..2 {
                match this.net.fate(false) {
                    Fate::Arrives(delays) => legs.push(delays[0]),
                    Fate::Lost => {
                        tokio::time::sleep(REQUEST_TIMEOUT).await;
                        return Err(RequestError::Timeout);
                    }
                }
            }
            delay(legs[0]).await;
            if !this.net.linked(&this, peer) {
                return Err(RequestError::ConnectionClosed);
            }
            let response = serve(&*provider, request.clone(), RESPONSE_BUDGET);
            delay(legs[1]).await;
            if !this.net.linked(&this, peer) {
                return Err(RequestError::ConnectionClosed);
            }
            match response {
                SyncResponse::Error(reason) => Err(RequestError::Remote(reason)),
                response => match answers(&request, &response) {
                    Ok(()) => Ok(response),
                    Err(why) => {
                        this.report(peer, Misbehaviour::BadResponse);
                        Err(RequestError::BadResponse(why.into()))
                    }
                },
            }
        })
    }

    fn peers(&self) -> Vec<PeerInfo> {
        self.net
            .reachable(self)
            .into_iter()
            .map(|(peer, _, provider)| {
                let view = self.view(peer, &*provider);
                PeerInfo {
                    peer_id: peer,
                    addr: Multiaddr::empty(),
                    inbound: false,
                    best_height: view.best.0,
                    best_hash: view.best.1,
                    finalized_height: view.finalized,
                    reputation: 0,
                }
            })
            .collect()
    }

    fn peer_count(&self) -> usize {
        self.net.reachable(self).len()
    }
}
