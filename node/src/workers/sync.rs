//! The bridge between the network and the client: gossip in, blocks and transactions out, and
//! catching up with peers.
//!
//! - Gossiped blocks are decoded and imported; the verdict goes back to gossipsub: `Accept`
//!   (imported), `Ignore` (already known, below finality, or a parent we do not have yet, which
//!   starts a catch-up from that peer) or `Reject(InvalidBlock)` (bad seal, wrong author, bad
//!   roots, failed execution), which charges the forwarding peer. Bytes that do not decode are
//!   `Reject(Undecodable)`; a third block of one author for one slot is
//!   `Reject(ExcessEquivocation)` (not forwarded). A block from a slot ahead of our clock is no
//!   offence: up to [`MAX_HELD_SLOTS`] ahead it is held until its slot is acceptable
//!   ([`MAX_FUTURE_SLOTS`] ahead) and imported then, further ahead it is dropped (`Ignore`).
//! - Transactions travel in batches ([`TxBatch`]: the encoded transactions submitted to this
//!   node in the last [`TX_BATCH_EVERY`], at most [`TX_BATCH_MAX`] or [`TX_BATCH_BYTES`] a
//!   message), so a flood of transactions is a few messages a second per node and cannot crowd
//!   blocks and votes out of the peers' send queues. Each gossiped transaction goes through the
//!   same admission as an RPC submission; only a bad signature or undecodable bytes are the
//!   sender's fault (a stale nonce is ordinary gossip lag and is ignored).
//! - Finality votes and justifications are handed to the finality worker.
//! - Catch-up: whenever peers report a best block above ours, one catch-up task at a time asks
//!   one of them for `BlocksByRange` from our best block + 1 (from the finalized block + 1 when
//!   its chain forks below our best), imports them in order (signatures of the next blocks are
//!   verified on another thread while one executes) and passes on their justifications, until
//!   it has the peer's best block (a peer at our height on a fork we do not know is fetched
//!   from our finalized block on). The peers ahead are taken in turn (not always the highest
//!   claim), so one peer's false claim cannot hold sync. A peer that sends an invalid block is
//!   charged and the round ends; a peer whose answer stops short of the best block it claimed
//!   is charged `FalseStatus` and its claim lowered to what it served.
//! - Finality catch-up: when a peer's finalized block is more than [`FINALITY_LAG`] blocks
//!   ahead of ours (or ahead at all once our finality has not moved for a while), a second
//!   catch-up task fetches the blocks in between for the justifications they carry (passed on
//!   for blocks we have too). Its own task: peers' block claims, true or not, cannot keep it
//!   waiting.
//! - [`ClientProvider`] answers peers' sync requests from the database.

use super::blocking;
use super::voting::{round_votes, SharedVoter};
use aitbc_client::{Client, ImportError, SignedBlockOf};
use aitbc_consensus::slots::{HeaderError, MAX_FUTURE_SLOTS};
use aitbc_network::{
    Misbehaviour, NetworkEvent, PeerId, PeerInfo, SharedNetwork, Status, SyncProvider, SyncRequest,
    SyncResponse, Topic, Validation, MAX_BLOCKS_PER_REQUEST,
};
use aitbc_primitives::{decode_exact, BoundedVec, Hash, Justification, StateMachine};
use aitbc_storage::BlockRef;
use aitbc_txpool::PoolError;
use codec::Encode;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tracing::Instrument;

/// A gossiped block whose slot is at most this many slots ahead of our clock is held until it
/// is acceptable (within [`MAX_FUTURE_SLOTS`] of our clock) and imported then; one further ahead
/// is dropped. Neither is charged: a clock off by a few seconds is not misbehaviour.
pub const MAX_HELD_SLOTS: u64 = 10;

/// How often peers' best blocks are compared with ours.
const SYNC_TICK: Duration = Duration::from_millis(250);

/// How far a peer's finalized block may be ahead of ours before this node fetches the blocks in
/// between for their justifications instead of waiting for votes.
pub const FINALITY_LAG: u64 = 8;
/// Sync ticks without a new finalized block after which this node fetches the justifications
/// of any peer whose finalized block is ahead of ours, however little.
const FINALITY_STALL_TICKS: u64 = 16;
/// Sync ticks between two such fetches.
const FINALITY_FETCH_EVERY: u64 = 8;

/// Transactions in one gossip message at most.
pub const TX_BATCH_MAX: usize = 2048;
/// Bytes of transactions in one gossip message at most.
pub const TX_BATCH_BYTES: usize = 1024 * 1024;
/// How often the transactions submitted here are published.
pub const TX_BATCH_EVERY: Duration = Duration::from_millis(50);

/// A message of the transactions topic: SCALE-encoded extrinsics.
pub type TxBatch = BoundedVec<Vec<u8>, TX_BATCH_MAX>;

/// Collects the encoded transactions submitted to this node until the next batch is published.
#[derive(Debug, Default)]
pub struct TxBatcher {
    pending: Mutex<Vec<Vec<u8>>>,
}

impl TxBatcher {
    pub fn push(&self, tx: Vec<u8>) {
        self.pending.lock().push(tx);
    }

    /// Splits what is pending into messages within the batch limits.
    fn take_batches(&self) -> Vec<Vec<u8>> {
        let txs = std::mem::take(&mut *self.pending.lock());
        let mut out = Vec::new();
        let mut batch = Vec::new();
        let mut bytes = 0;
        for tx in txs {
            if !batch.is_empty()
                && (batch.len() == TX_BATCH_MAX || bytes + tx.len() > TX_BATCH_BYTES)
            {
                out.push(std::mem::take(&mut batch).encode());
                bytes = 0;
            }
            bytes += tx.len();
            batch.push(tx);
        }
        if !batch.is_empty() {
            out.push(batch.encode());
        }
        out
    }
}

/// Publishes the batched transactions every [`TX_BATCH_EVERY`] until `shutdown` turns true.
pub async fn publish_transactions(
    batcher: Arc<TxBatcher>,
    net: SharedNetwork,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(TX_BATCH_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            biased;
            _ = shutdown.changed() => return,
            _ = tick.tick() => {
                for message in batcher.take_batches() {
                    if let Err(e) = net.publish(Topic::Txs, message) {
                        tracing::debug!(target: "sync", error = %e, "cannot publish transactions");
                    }
                }
            }
        }
    }
}

/// What the finality worker gets from the network.
#[derive(Debug)]
pub enum FinalityInput {
    /// A gossiped vote, to be validated (the worker answers gossipsub).
    Vote {
        peer: PeerId,
        message_id: aitbc_network::MessageId,
        data: Vec<u8>,
    },
    /// A justification that came with an imported block (its target names the block).
    Justification {
        peer: Option<PeerId>,
        justification: Justification,
    },
}

/// Answers peers' sync requests from the client's database (and finality rounds from the
/// voter, once the node has one: [`ClientProvider::set_voter`]).
pub struct ClientProvider<S: StateMachine> {
    pub client: Arc<Client<S>>,
    voter: Mutex<Option<SharedVoter>>,
}

impl<S: StateMachine> ClientProvider<S> {
    pub fn new(client: Arc<Client<S>>) -> Self {
        ClientProvider {
            client,
            voter: Mutex::new(None),
        }
    }

    /// The voter whose rounds `Votes` requests are answered from.
    pub fn set_voter(&self, voter: Option<SharedVoter>) {
        *self.voter.lock() = voter;
    }

    fn encoded_block(&self, hash: &Hash) -> Option<Vec<u8>> {
        match self.client.block(hash) {
            Ok(Some((block, _))) => Some(block.encode()),
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(target: "sync", error = %e, "cannot read a block for a peer");
                None
            }
        }
    }
}

fn take_within(blocks: impl Iterator<Item = Vec<u8>>, max_bytes: usize) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut total = 0;
    for b in blocks {
        if !out.is_empty() && total + b.len() > max_bytes {
            break;
        }
        total += b.len();
        out.push(b);
    }
    out
}

impl<S: StateMachine> SyncProvider for ClientProvider<S> {
    fn status(&self) -> Status {
        let best = self.client.best();
        let fin = self.client.finalized();
        Status {
            genesis: self.client.genesis_hash(),
            best: (best.number, best.hash),
            finalized: (fin.number, fin.hash),
        }
    }

    fn blocks_by_range(&self, from: u64, count: u32, max_bytes: usize) -> Vec<Vec<u8>> {
        let client = &self.client;
        let blocks = (from..from.saturating_add(count as u64))
            .map_while(|n| client.hash_at(n).ok().flatten())
            .map_while(|h| self.encoded_block(&h));
        take_within(blocks, max_bytes)
    }

    fn blocks_by_hash(&self, hashes: &[Hash], max_bytes: usize) -> Vec<Vec<u8>> {
        take_within(
            hashes.iter().filter_map(|h| self.encoded_block(h)),
            max_bytes,
        )
    }

    fn votes(&self, round: u64, max_bytes: usize) -> Vec<Vec<u8>> {
        let voter = self.voter.lock().clone();
        let votes = voter.map(|v| round_votes(&v, round)).unwrap_or_default();
        take_within(votes.into_iter(), max_bytes)
    }

    fn finality_proof(&self, from: u64) -> Result<Vec<u8>, String> {
        self.client
            .finality_proof(from)
            .map(|p| p.encode())
            .map_err(|e| e.to_string())
    }

    fn state_chunk(
        &self,
        number: u64,
        start: [u8; 32],
        max_bytes: usize,
    ) -> Result<Vec<u8>, String> {
        // Only final states: a block above it may still be replaced, and its state would not
        // match the root the asker proved.
        let finalized = self.client.finalized().number;
        if number > finalized {
            return Err(format!(
                "block #{number} is not final here (finalized #{finalized})"
            ));
        }
        self.client
            .state_chunk(number, start, max_bytes)
            .map(|c| c.encode())
            .map_err(|e| e.to_string())
    }
}

/// The verdict on a block a peer sent.
fn verdict(result: &Result<BlockRef, ImportError>) -> Validation {
    match result {
        Ok(_) => Validation::Accept,
        Err(e) => offence(e).map_or(Validation::Ignore, Validation::Reject),
    }
}

/// What the peer that sent a block is charged when its import failed with `e`, gossiped or
/// synced alike (`None`: not its fault, e.g. a parent we lack or a slot ahead of our clock).
fn offence(e: &ImportError) -> Option<Misbehaviour> {
    match e {
        ImportError::ExcessEquivocation { .. } => Some(Misbehaviour::ExcessEquivocation),
        e if e.is_bad_block() => Some(Misbehaviour::InvalidBlock),
        _ => None,
    }
}

/// Runs the bridge until `shutdown` turns true.
pub async fn run<S: StateMachine>(
    client: Arc<Client<S>>,
    net: SharedNetwork,
    mut events: mpsc::Receiver<NetworkEvent>,
    finality: mpsc::Sender<FinalityInput>,
    mut shutdown: watch::Receiver<bool>,
) {
    let syncing = Arc::new(CatchUp::default());
    // Finality catch-up has its own round, so peers' block claims (true or not) cannot keep it
    // waiting.
    let fetching_finality = Arc::new(CatchUp::default());
    let mut tick = tokio::time::interval(SYNC_TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut ticks = 0u64;
    // Our finalized height and the tick it was first seen at.
    let mut finalized_since = (client.finalized().number, 0u64);
    loop {
        tokio::select! {
            biased;
            _ = shutdown.changed() => return,
            _ = tick.tick() => {
                ticks += 1;
                client.metrics().set_peers(net.peer_count());
                maybe_catch_up(&client, &net, &finality, &syncing);
                let finalized = client.finalized().number;
                if finalized != finalized_since.0 {
                    finalized_since = (finalized, ticks);
                }
                if ticks.is_multiple_of(FINALITY_FETCH_EVERY) {
                    let lag = if ticks - finalized_since.1 >= FINALITY_STALL_TICKS {
                        0
                    } else {
                        FINALITY_LAG
                    };
                    maybe_fetch_finality(&client, &net, &finality, &fetching_finality, lag);
                }
            }
            event = events.recv() => {
                let Some(event) = event else { return };
                match event {
                    NetworkEvent::Gossip { topic: Topic::Blocks, peer, message_id, data } => {
                        let (c, n, f, s) = (client.clone(), net.clone(), finality.clone(), syncing.clone());
                        tokio::spawn(async move {
                            let v = on_gossip_block(&c, &n, &f, peer, data).await;
                            n.validation(message_id, peer, v);
                            if v == Validation::Ignore {
                                maybe_catch_up(&c, &n, &f, &s);
                            }
                        }.in_current_span());
                    }
                    NetworkEvent::Gossip { topic: Topic::Txs, peer, message_id, data } => {
                        let (c, n) = (client.clone(), net.clone());
                        tokio::spawn(async move {
                            let v = blocking::run(move || on_gossip_txs(&c, &data))
                                .await
                                .unwrap_or(Validation::Ignore);
                            n.validation(message_id, peer, v);
                        }.in_current_span());
                    }
                    NetworkEvent::Gossip { topic: Topic::Votes, peer, message_id, data } => {
                        if finality.try_send(FinalityInput::Vote { peer, message_id: message_id.clone(), data }).is_err() {
                            net.validation(message_id, peer, Validation::Ignore);
                        }
                    }
                    NetworkEvent::PeerConnected { peer, status } => {
                        tracing::debug!(target: "sync", %peer, best = status.best.0, finalized = status.finalized.0, "peer ready");
                        client.metrics().set_peers(net.peer_count());
                        maybe_catch_up(&client, &net, &finality, &syncing);
                    }
                    NetworkEvent::PeerDisconnected(peer) => {
                        tracing::debug!(target: "sync", %peer, "peer gone");
                        client.metrics().set_peers(net.peer_count());
                    }
                }
            }
        }
    }
}

async fn on_gossip_block<S: StateMachine>(
    client: &Arc<Client<S>>,
    net: &SharedNetwork,
    finality: &mpsc::Sender<FinalityInput>,
    peer: PeerId,
    data: Vec<u8>,
) -> Validation {
    let block: SignedBlockOf<S> = match decode_exact(&data) {
        Ok(b) => b,
        Err(_) => return Validation::Reject(Misbehaviour::Undecodable),
    };
    let Some((mut result, mut block)) = import_one(client, block).await else {
        return Validation::Ignore;
    };
    // A block from a slot a little ahead of our clock (its author's clock runs fast, or ours
    // slow) is held until its slot is acceptable here, then imported: never an offence.
    if let Err(ImportError::Header(HeaderError::SlotInFuture { now, got })) = &result {
        if got.saturating_sub(*now) > MAX_HELD_SLOTS {
            return Validation::Ignore;
        }
        let Ok(state) = client.state() else {
            return Validation::Ignore;
        };
        let slot_ms = client.runtime().slot_duration_ms(&state);
        drop(state);
        let due_ms = got.saturating_sub(MAX_FUTURE_SLOTS).saturating_mul(slot_ms);
        let wait = due_ms.saturating_sub(client.clock().now_ms());
        tracing::debug!(target: "sync", %peer, slot = got, now, wait_ms = wait,
            "holding a block from a slot ahead of our clock");
        tokio::time::sleep(Duration::from_millis(wait)).await;
        let Some(retried) = import_one(client, block).await else {
            return Validation::Ignore;
        };
        (result, block) = retried;
    }
    match &result {
        Ok(at) => {
            net.note_best(peer, at.number, at.hash);
            pass_justification::<S>(finality, Some(peer), block);
        }
        Err(ImportError::AlreadyKnown(_)) => {}
        Err(e @ ImportError::UnknownParent { .. }) => {
            // The peer has a chain we lack (after a partition, another side's fork): record the
            // block as its best so the catch-up that follows fetches that chain, even when it
            // is no longer than ours.
            let header = &block.block.header;
            net.note_best(peer, header.number, header.hash());
            tracing::debug!(target: "sync", %peer, error = %e, "gossiped block not imported");
        }
        Err(e) => tracing::debug!(target: "sync", %peer, error = %e, "gossiped block not imported"),
    }
    verdict(&result)
}

/// Imports one block as blocking work; `None` if the import task failed.
async fn import_one<S: StateMachine>(
    client: &Arc<Client<S>>,
    block: SignedBlockOf<S>,
) -> Option<(Result<BlockRef, ImportError>, SignedBlockOf<S>)> {
    let c = client.clone();
    blocking::run(move || {
        let r = c.import_block(&block, None);
        (r, block)
    })
    .await
}

fn pass_justification<S: StateMachine>(
    finality: &mpsc::Sender<FinalityInput>,
    peer: Option<PeerId>,
    signed: SignedBlockOf<S>,
) {
    if let Some(justification) = signed.justification {
        let _ = finality.try_send(FinalityInput::Justification {
            peer,
            justification,
        });
    }
}

/// Admits a gossiped batch: `Accept` (forward it) when a transaction was new and valid here,
/// `Reject` when anything in it is undecodable or badly signed, else `Ignore`.
pub(crate) fn on_gossip_txs<S: StateMachine>(client: &Client<S>, data: &[u8]) -> Validation {
    let Ok(batch) = decode_exact::<TxBatch>(data) else {
        return Validation::Reject(Misbehaviour::Undecodable);
    };
    let mut txs = Vec::with_capacity(batch.len());
    for bytes in batch.iter() {
        let Ok(xt) = decode_exact(bytes) else {
            return Validation::Reject(Misbehaviour::Undecodable);
        };
        txs.push((xt, bytes.len()));
    }
    // One signature batch for the whole message.
    let mut verdict = Validation::Ignore;
    for result in client.submit_batch(txs, false) {
        match result {
            Ok(_) => verdict = Validation::Accept,
            Err(aitbc_client::SubmitError::Pool(PoolError::Invalid(
                aitbc_primitives::InvalidTransaction::BadSignature,
            ))) => return Validation::Reject(Misbehaviour::InvalidTx),
            Err(_) => {}
        }
    }
    verdict
}

/// The catch-up task's state: whether a round runs, and whose turn is next.
#[derive(Debug, Default)]
struct CatchUp {
    running: AtomicBool,
    turn: AtomicUsize,
}

impl CatchUp {
    /// Marks a round running and picks its peer from `candidates`, taking them in turn (not
    /// always the highest claim, so one peer's false claim cannot hold sync); `None` if there
    /// is none or a round runs already.
    fn take_turn(&self, mut candidates: Vec<PeerInfo>) -> Option<PeerInfo> {
        if candidates.is_empty() || self.running.swap(true, Ordering::AcqRel) {
            return None;
        }
        candidates.sort_by_key(|p| p.peer_id);
        let turn = self.turn.fetch_add(1, Ordering::Relaxed);
        Some(candidates.swap_remove(turn % candidates.len()))
    }
}

/// Starts a catch-up round when a peer is ahead and none is running.
fn maybe_catch_up<S: StateMachine>(
    client: &Arc<Client<S>>,
    net: &SharedNetwork,
    finality: &mpsc::Sender<FinalityInput>,
    syncing: &Arc<CatchUp>,
) {
    let best = client.best();
    // Peers ahead of us, and peers at our height on a fork we have not seen (after a partition
    // the two sides may end at one height: fork choice needs both to agree on the head).
    let unknown = |hash: &Hash| matches!(client.header(hash), Ok(None));
    let ahead: Vec<_> = net
        .peers()
        .into_iter()
        .filter(|p| {
            p.best_height > best.number
                || (p.best_height == best.number
                    && p.best_hash != best.hash
                    && unknown(&p.best_hash))
        })
        .collect();
    let Some(peer) = syncing.take_turn(ahead) else {
        return;
    };
    let mut from = best.number + 1;
    if from > peer.best_height {
        // A fork at our height: fetch it from where it may branch off.
        from = client.finalized().number + 1;
    }
    spawn_catch_up(
        client,
        net,
        finality,
        syncing,
        peer.peer_id,
        from,
        peer.best_height,
    );
}

/// Starts a catch-up round for finality when peers finalized more than `lag` blocks beyond ours
/// ([`FINALITY_LAG`], or none once our finality has stalled for [`FINALITY_STALL_TICKS`]) and
/// none is running: the blocks from our finalized one to theirs are fetched for the
/// justifications they carry. Votes do not bring a node back that missed the rounds that changed
/// the authority set (the new set's votes mean nothing to its voter, and the old set votes no
/// more): the justification of a block of the old set does (found by the simulator).
fn maybe_fetch_finality<S: StateMachine>(
    client: &Arc<Client<S>>,
    net: &SharedNetwork,
    finality: &mpsc::Sender<FinalityInput>,
    syncing: &Arc<CatchUp>,
    lag: u64,
) {
    let finalized = client.finalized().number;
    let ahead: Vec<_> = net
        .peers()
        .into_iter()
        .filter(|p| p.finalized_height > finalized + lag)
        .collect();
    let Some(peer) = syncing.take_turn(ahead) else {
        return;
    };
    let (from, to) = (finalized + 1, peer.finalized_height);
    spawn_catch_up(client, net, finality, syncing, peer.peer_id, from, to);
}

/// Runs [`catch_up`] from `peer` for blocks `from..=target` as the one catch-up task.
fn spawn_catch_up<S: StateMachine>(
    client: &Arc<Client<S>>,
    net: &SharedNetwork,
    finality: &mpsc::Sender<FinalityInput>,
    syncing: &Arc<CatchUp>,
    peer: PeerId,
    from: u64,
    target: u64,
) {
    let (c, n, f, s) = (
        client.clone(),
        net.clone(),
        finality.clone(),
        syncing.clone(),
    );
    tokio::spawn(
        async move {
            // More than one request's worth behind: catching up in batches.
            let major = target.saturating_sub(from) >= u64::from(MAX_BLOCKS_PER_REQUEST);
            c.metrics().set_major_syncing(major);
            catch_up(&c, &n, &f, peer, from, target).await;
            c.metrics().set_major_syncing(false);
            s.running.store(false, Ordering::Release);
        }
        .in_current_span(),
    );
}

/// Downloads and imports blocks `from..=target` from `peer` (see the module docs); the
/// justifications they carry go to the finality worker, also for blocks known already.
async fn catch_up<S: StateMachine>(
    client: &Arc<Client<S>>,
    net: &SharedNetwork,
    finality: &mpsc::Sender<FinalityInput>,
    peer: PeerId,
    mut from: u64,
    target: u64,
) {
    // From the finalized block on there is nowhere further back to look for a fork.
    let mut backtracked = from <= client.finalized().number + 1;
    while from <= target {
        let request = SyncRequest::BlocksByRange {
            from,
            count: MAX_BLOCKS_PER_REQUEST,
        };
        let blocks = match net.request(peer, request).await {
            Ok(SyncResponse::Blocks(b)) if !b.is_empty() => b,
            Ok(_) => {
                // It claimed `target` but has nothing at `from`.
                tracing::debug!(target: "sync", %peer, from, target,
                    "peer's best block claim did not pan out");
                net.report(peer, Misbehaviour::FalseStatus);
                net.lower_best(peer, from);
                return;
            }
            Err(e) => {
                tracing::debug!(target: "sync", %peer, error = %e, "sync request failed");
                return;
            }
        };
        let mut decoded = Vec::with_capacity(blocks.len());
        for bytes in &blocks {
            match decode_exact::<SignedBlockOf<S>>(bytes) {
                Ok(b) => decoded.push(b),
                Err(_) => {
                    net.report(peer, Misbehaviour::Undecodable);
                    return;
                }
            }
        }
        let c = client.clone();
        let Some(results) = blocking::run(move || {
            let results = c.import_blocks(&decoded);
            (results, decoded)
        })
        .await
        else {
            return;
        };
        let (results, decoded) = results;
        client
            .metrics()
            .sync_imported(results.iter().filter(|r| r.is_ok()).count());
        let mut last = from;
        for (result, block) in results.into_iter().zip(decoded) {
            last = block.block.header.number;
            match result {
                Ok(_) | Err(ImportError::AlreadyKnown(_)) => {
                    pass_justification::<S>(finality, Some(peer), block)
                }
                Err(ImportError::BelowFinalized { .. }) => {}
                Err(ImportError::UnknownParent { .. }) if !backtracked => {
                    // The peer's chain forks below our best: fetch from our finalized block.
                    backtracked = true;
                    last = client.finalized().number;
                    break;
                }
                Err(e) => {
                    match offence(&e) {
                        Some(what) => {
                            tracing::warn!(target: "sync", %peer, error = %e,
                                "peer sent an invalid block");
                            net.report(peer, what);
                        }
                        None => {
                            tracing::debug!(target: "sync", %peer, error = %e, "sync import stopped")
                        }
                    }
                    return;
                }
            }
        }
        from = last + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Gossip and sync charge the same offences: a bad block, a third block for one slot; never
    /// an early slot, a missing parent or an author set that cannot be checked yet.
    #[test]
    fn a_block_costs_its_sender_the_same_whichever_way_it_came() {
        let author = aitbc_primitives::crypto::dev_pair("alice").public();
        let excess = ImportError::ExcessEquivocation { author, slot: 7 };
        assert_eq!(offence(&excess), Some(Misbehaviour::ExcessEquivocation));
        assert_eq!(
            offence(&ImportError::BadSeal),
            Some(Misbehaviour::InvalidBlock)
        );
        let not_offences = [
            ImportError::Header(HeaderError::SlotInFuture { now: 10, got: 13 }),
            ImportError::UnknownParent {
                parent: Hash::ZERO,
                best: Hash::ZERO,
            },
            ImportError::UnverifiedAuthorities(Hash::ZERO),
            ImportError::AlreadyKnown(Hash::ZERO),
        ];
        for e in not_offences {
            assert_eq!(offence(&e), None, "{e}");
            assert_eq!(verdict(&Err(e)), Validation::Ignore);
        }
        assert_eq!(
            verdict(&Err(ImportError::BadSeal)),
            Validation::Reject(Misbehaviour::InvalidBlock)
        );
    }

    #[test]
    fn batches_keep_to_their_limits_and_decode() {
        let b = TxBatcher::default();
        assert!(b.take_batches().is_empty());
        for i in 0..(TX_BATCH_MAX + 10) {
            b.push(vec![i as u8; 100]);
        }
        let out = b.take_batches();
        assert_eq!(out.len(), 2, "split at the count limit");
        let first = decode_exact::<TxBatch>(&out[0]).unwrap();
        assert_eq!(first.len(), TX_BATCH_MAX);
        assert_eq!(decode_exact::<TxBatch>(&out[1]).unwrap().len(), 10);
        // The byte limit: three transactions of 400 KiB do not fit in one 1 MiB message.
        for _ in 0..3 {
            b.push(vec![7; 400 * 1024]);
        }
        assert_eq!(b.take_batches().len(), 2);
        assert!(b.take_batches().is_empty(), "taken once");
    }
}
